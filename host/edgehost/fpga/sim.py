"""The Verilator model of the edgehost SoC (fpga/rtl, fpga/sim) and its launcher.

The model is one program, ``eh-rv32-sim`` (fpga/sim/tb.cpp), built once per set of sources and
cached under ``<repo>/build/fpga/rv32-sim-<hash>/`` (or ``$EDGEHOST_FPGA_CACHE``): the hash covers
the project's RTL and testbench, the PicoRV32 Verilog read from the installed
`pythondata-cpu-picorv32` package (never copied into the repository) and the Verilator version.

The boards ``rv32-sim`` and ``rv32-sim-base`` start it through this module
(``python3 -m edgehost.fpga.sim --elf {elf} --port {port} [--no-cfu]``), which builds the model
if needed and runs it as its child (stopping the launcher's process group stops both).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..cli import UserError

EXE_NAME = "eh-rv32-sim"
#: boards whose emulator is this model (the launcher module appears in their argv)
LAUNCHER = "edgehost.fpga.sim"


class SimBuildError(UserError):
    """The Verilator model cannot be built (tool or package missing, compile error)."""


def repo_root() -> Path:
    from ..boards import repo_root as _root
    return _root()


def picorv32_verilog() -> Path:
    """picorv32.v inside the installed pythondata-cpu-picorv32 package."""
    try:
        import pythondata_cpu_picorv32 as p  # type: ignore[import-not-found]
    except ImportError as e:
        raise SimBuildError("the PicoRV32 core comes from the PyPI package pythondata-cpu-picorv32: "
                            "pip install pythondata-cpu-picorv32 (or pip install -e '.[fpga]')") from e
    path = Path(p.data_location) / "picorv32.v"
    if not path.is_file():
        raise SimBuildError(f"{path} is missing from the pythondata-cpu-picorv32 package")
    return path


def rtl_sources() -> list[Path]:
    """The SoC's Verilog: the project's fpga/rtl/*.v and the package's picorv32.v."""
    root = repo_root()
    return sorted((root / "fpga" / "rtl").glob("*.v")) + [picorv32_verilog()]


def sim_sources() -> list[Path]:
    root = repo_root()
    return rtl_sources() + [root / "fpga" / "sim" / "eh_sim_top.v", root / "fpga" / "sim" / "tb.cpp"]


def verilator() -> str:
    exe = shutil.which("verilator")
    if exe is None:
        raise SimBuildError("verilator is not installed (Debian: apt-get install verilator; "
                            "scripts/setup.sh installs it)")
    return exe


def model_key() -> str:
    h = hashlib.sha256()
    for p in sim_sources():
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    ver = subprocess.run([verilator(), "--version"], capture_output=True, text=True).stdout.strip()
    h.update(ver.encode())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    env = os.environ.get("EDGEHOST_FPGA_CACHE")
    return Path(env) if env else repo_root() / "build" / "fpga"


def model_path() -> Path:
    return cache_dir() / f"rv32-sim-{model_key()}" / "obj_dir" / EXE_NAME


def ensure_model(quiet: bool = True, jobs: int = 2) -> Path:
    """The model's executable, built first if this set of sources has none yet (under a lock,
    so parallel callers build it once). Takes a few minutes the first time."""
    exe = model_path()
    if exe.is_file() and os.access(exe, os.X_OK):
        return exe
    work = exe.parent.parent
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if exe.is_file():
            return exe
        root = repo_root()
        srcs = sim_sources()
        cmd = ["nice", "-n", "10", verilator(), "--cc", "--exe", "--build", "-j", str(jobs),
               "-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert",
               "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-MULTIDRIVEN",
               "--top-module", "eh_sim_top", "-o", EXE_NAME, "--Mdir", str(work / "obj_dir"),
               "-CFLAGS", "-O2", *[str(s) for s in srcs]]
        log = work / "build.log"
        with open(log, "w") as lf:
            lf.write(" ".join(cmd) + "\n")
            lf.flush()
            r = subprocess.run(cmd, cwd=root, stdout=lf, stderr=subprocess.STDOUT)
        if r.returncode != 0 or not exe.is_file():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise SimBuildError(f"building the Verilator model failed (log {log}):\n{tail}")
    if not quiet:
        print(f"built {exe}", file=sys.stderr)
    return exe


def is_rtl_sim(board) -> bool:
    """True for boards run by this model (their emulator argv calls this module)."""
    return any(LAUNCHER in a for a in getattr(board, "emulator", ()))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Launcher: build the model if needed, then run it with the same arguments as a child that
    dies with this process (sessions identify the emulator by this process's argv[0], and stop
    its whole process group)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        exe = ensure_model()
    except UserError as e:
        print(f"eh_sim: {e}", file=sys.stderr)
        return 2
    sys.stderr.flush()
    proc = subprocess.Popen([str(exe), *args], preexec_fn=_die_with_parent)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
