"""How a bench image was compiled: the compiler's name and version and the full flags of the
kernels, read back from the build tree's compile_commands.json (CMake writes it for every board,
CMAKE_EXPORT_COMPILE_COMMANDS) rather than restated, so a report can only show what was used.

The flags are those of one kernel source (kernels_c/src/binary/eh_fc_b1_s32.c, else the first
kernel source found) without the include paths, the output and input files and the dependency-file
options: what anyone needs to rebuild the same objects with the same compiler.
"""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REFERENCE_SOURCE = "kernels_c/src/binary/eh_fc_b1_s32.c"

# options dropped from a compile line: (option, takes a separate argument)
_DROP_WITH_ARG = {"-o", "-MF", "-MT", "-MQ", "-I", "-isystem", "-iquote"}
_DROP = {"-c", "-MD", "-MMD", "-MP"}


@dataclass(frozen=True)
class BuildInfo:
    compiler: str   # "arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205": name and version
    cflags: str     # the kernels' full compile flags, in command-line order

    def to_json(self) -> dict[str, str]:
        return {"compiler": self.compiler, "cflags": self.cflags}


def compiler_version(exe: str) -> str:
    """The first line of `exe --version` (name and version), or a note when it cannot run."""
    path = shutil.which(exe) or exe
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return f"{Path(exe).name}: {e}"
    lines = out.strip().splitlines()
    return lines[0].strip() if lines else f"{Path(exe).name}: no version output"


def flags_of(command: list[str], source: str) -> str:
    out: list[str] = []
    skip = False
    for a in command[1:]:
        if skip:
            skip = False
            continue
        if a in _DROP_WITH_ARG:
            skip = True
            continue
        if a in _DROP or a == source or any(a.startswith(p) and len(a) > len(p)
                                            for p in ("-I", "-o", "-MF", "-MT", "-isystem")):
            continue
        out.append(a)
    return " ".join(out)


def from_build_dir(build_dir: str | Path) -> BuildInfo | None:
    """The build info of a CMake build tree, or None without a compile_commands.json."""
    path = Path(build_dir) / "compile_commands.json"
    if not path.is_file():
        return None
    entries = json.loads(path.read_text())
    kernels = [e for e in entries if "/kernels_c/src/" in e.get("file", "").replace("\\", "/")]
    if not kernels:
        return None
    ref = [e for e in kernels if e["file"].replace("\\", "/").endswith(REFERENCE_SOURCE)]
    e = (ref or kernels)[0]
    cmd = e["arguments"] if "arguments" in e else shlex.split(e["command"])
    return BuildInfo(compiler=compiler_version(cmd[0]), cflags=flags_of(cmd, e["file"]))


def host_extension() -> BuildInfo:
    """The host Python extension's compiler and flags (host/edgehost/kernels/_build.py)."""
    import sysconfig

    from ..kernels import _build
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return BuildInfo(compiler=compiler_version(cc), cflags=_build.compile_flags())
