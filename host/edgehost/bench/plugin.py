"""Builds the instruction-counting QEMU plugin (bench/qemu_plugin/eh_count.c) with the host gcc.

The plugin is compiled once per build directory and rebuilt only when its sources change
(a stamp file holds their hash). It needs no QEMU headers and no glib: the few plugin-API
declarations it uses are in bench/qemu_plugin/eh_qemu_plugin_api.h.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PLUGIN_DIR = ROOT / "bench" / "qemu_plugin"
HEADER = "eh_qemu_plugin_api.h"
ARGS_HEADER = "eh_plugin_args.h"  # install-time checks and arguments, shared by both plugins
SOURCES = ("eh_count.c", HEADER, ARGS_HEADER)  # the counting plugin; eh_stack.c is the stack-depth one


class PluginBuildError(RuntimeError):
    """The host C compiler is missing or the plugin failed to compile."""


def _digest(cc: str, source: str) -> str:
    h = hashlib.sha256(cc.encode())
    for name in (source, HEADER, ARGS_HEADER):
        path = PLUGIN_DIR / name
        try:
            h.update(path.read_bytes())
        except OSError as e:
            raise PluginBuildError(f"plugin source missing: {path} ({e.strerror})") from e
    return h.hexdigest()


def build_plugin(build_dir: str | Path, cc: str | None = None, source: str = "eh_count.c") -> Path:
    """Return the path of the plugin library (bench/qemu_plugin/<source>, default the counting
    plugin) in `build_dir`, compiling it if needed."""
    lib_name = "lib" + Path(source).stem + ".so"
    cc = cc or os.environ.get("CC") or "gcc"
    exe = shutil.which(cc)
    if exe is None:
        raise PluginBuildError(
            f"host C compiler '{cc}' not found: it builds the QEMU counting plugin "
            "(Debian: apt-get install gcc)"
        )
    out_dir = Path(build_dir) / "qemu_plugin"
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / lib_name
    stamp = out_dir / (lib_name + ".sha256")
    digest = _digest(cc, source)
    if lib.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return lib
    tmp = out_dir / (lib_name + f".tmp{os.getpid()}")
    cmd = [exe, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
           "-fvisibility=hidden", "-o", str(tmp), str(PLUGIN_DIR / source)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise PluginBuildError(f"building the QEMU plugin failed:\n$ {' '.join(cmd)}\n{proc.stderr}")
    os.replace(tmp, lib)  # atomic: a concurrent user sees the old or the new library
    stamp.write_text(digest + "\n")
    return lib
