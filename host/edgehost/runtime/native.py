"""The firmware's C loader and interpreter (firmware/model) built natively, for tests and checks.

`build_tool()` compiles firmware/model/eh_model_tool.c with the loader and the kernels (with
ASan+UBSan by default) using the host C compiler; `CTool` drives it:

    tool = CTool(build_tool("/tmp/x"))
    tool.check([blob1, blob2], arena=65536)  -> [(rc, arena_used, hash, in_bytes, out_bytes, n_layers, error)]
    outs, traces = tool.run(blob, xs, arena)
"""
from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess

import numpy as np

from ..blob import Model, read
from ..blob import format as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def sources() -> list[str]:
    k = os.path.join(ROOT, "kernels_c", "src")
    model = os.path.join(ROOT, "firmware", "model")
    src = [os.path.join(model, f) for f in ("eh_model.c", "eh_op_table.c", "eh_op_util.c")]
    src += sorted(glob.glob(os.path.join(model, "ops", "*.c")))
    for fam in ("common", "lif", "basic", "binary", "lmu", "mst", "shiftadd", "conv2d"):
        src += sorted(glob.glob(os.path.join(k, fam, "*.c")))
    return src


def _inputs_digest(cmd: list[str]) -> str:
    """A digest of what the tool is built from: the command line and every C source and header
    it can include (kernels_c/, firmware/model/)."""
    import hashlib
    h = hashlib.sha256("\0".join(cmd).encode())
    files = set(sources())
    for d in (os.path.join(ROOT, "kernels_c"), os.path.join(ROOT, "firmware", "model")):
        files.update(glob.glob(os.path.join(d, "**", "*.[ch]"), recursive=True))
    for f in sorted(files):
        h.update(f.encode() + b"\0")
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:20]


def _cache_dir() -> str | None:
    d = os.environ.get("EDGEHOST_NATIVE_CACHE") or os.path.join(ROOT, "build", "native")
    try:
        os.makedirs(d, exist_ok=True)
        return d
    except OSError:
        return None


def build_tool(out_dir: str, sanitize: bool = True, cc: str | None = None) -> str:
    """Compile eh_model_tool into out_dir; returns its path.

    The build is cached under build/native/ (or $EDGEHOST_NATIVE_CACHE) by a digest of the command
    and of every source and header, so the test modules that each need the tool compile it once per
    change of the C code, not once each (an ASan build of the loader and every kernel takes a
    minute on a loaded 2-core machine). A cached tool is hard-linked (or copied) into out_dir."""
    cc = cc or os.environ.get("CC") or shutil.which("cc") or "gcc"
    os.makedirs(out_dir, exist_ok=True)
    name = "eh_model_tool" + ("_san" if sanitize else "")
    exe = os.path.join(out_dir, name)
    flags = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
    if sanitize:
        flags += ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
    inc = ["-I", os.path.join(ROOT, "kernels_c", "include"), "-I", os.path.join(ROOT, "kernels_c", "src"),
           "-I", os.path.join(ROOT, "firmware", "model")]
    cmd = [cc, *flags, *inc, os.path.join(ROOT, "firmware", "model", "eh_model_tool.c"), *sources()]
    cache = _cache_dir()
    cached = os.path.join(cache, f"{name}-{_inputs_digest(cmd)}") if cache else None
    if cached and os.path.exists(cached):
        _place(cached, exe)
        return exe
    target = f"{cached}.tmp{os.getpid()}" if cached else exe
    r = subprocess.run(cmd + ["-o", target], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"building eh_model_tool failed:\n{' '.join(cmd)} -o {target}\n{r.stderr}")
    if cached:
        os.replace(target, cached)          # atomic: a concurrent build of the same inputs is equal
        _place(cached, exe)
    return exe


def _place(src: str, dst: str) -> None:
    if os.path.abspath(src) == os.path.abspath(dst):
        return
    try:
        if os.path.exists(dst):
            os.remove(dst)
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class CTool:
    def __init__(self, exe: str):
        self.exe = exe
        self.env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
                        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")

    def check(self, blobs, arena: int) -> list[tuple]:
        frames = b"".join(struct.pack("<I", len(b)) + bytes(b) for b in blobs)
        r = subprocess.run([self.exe, "check", str(arena)], input=frames, capture_output=True, env=self.env)
        if r.returncode:
            raise RuntimeError(f"eh_model_tool check crashed (exit {r.returncode}):\n"
                               f"{r.stderr.decode(errors='replace')[-4000:]}")
        out = []
        for line in r.stdout.decode().splitlines():
            parts = line.split(" ", 6)
            out.append(tuple(int(p) for p in parts[:6]) + (parts[6] if len(parts) > 6 else "",))
        if len(out) != len(blobs):
            raise RuntimeError(f"eh_model_tool answered {len(out)} of {len(blobs)} blobs")
        return out

    def run(self, blob: bytes, xs, arena: int | None = None):
        """Run every row of xs; returns (outputs, traces) where traces[t][l] is the output of layer
        l at step t, or None when the arena plan reused its bytes later in the step."""
        m: Model = read(blob)
        arena = m.arena_size if arena is None else arena
        ti, to = m.input_tensor, m.output_tensor
        xs = np.asarray(xs).astype(ti.np_dtype)
        path = os.path.join(os.path.dirname(self.exe), f"blob_{os.getpid()}.ehm")
        with open(path, "wb") as f:
            f.write(blob)
        try:
            r = subprocess.run([self.exe, "run", path, str(arena)], input=xs.tobytes(), capture_output=True,
                               env=self.env)
        finally:
            os.remove(path)
        if r.returncode:
            raise RuntimeError(f"eh_model_tool run failed (exit {r.returncode}):\n"
                               f"{r.stderr.decode(errors='replace')[-4000:]}")
        data, pos = r.stdout, 0
        outs, traces = [], []
        for _ in range(len(xs)):
            outs.append(np.frombuffer(data, to.np_dtype, to.storage_len, pos).copy())
            pos += to.nbytes
            tr = []
            for _l in m.layers:
                (n,) = struct.unpack_from("<I", data, pos)
                pos += 4
                if n == 0xFFFFFFFF:
                    tr.append(None)
                    continue
                dt = data[pos]
                pos += 1
                tr.append(np.frombuffer(data, F.NUMPY_DTYPES[dt], n // F.DTYPES[dt][1], pos).copy())
                pos += n
            traces.append(tr)
        if pos != len(data):
            raise RuntimeError(f"eh_model_tool run wrote {len(data)} bytes, expected {pos}")
        return np.array(outs), traces
