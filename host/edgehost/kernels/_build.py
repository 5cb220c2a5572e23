"""Build the C kernels into Python extension modules with cffi (API mode).

One extension module per kernel family, `edgehost.kernels._k_<family>`, compiled from
`kernels_c/src/common/*.c`, the family's own `kernels_c/src/<family>/*.c` and those of the families
it depends on. The declarations come from the public headers, run through the C preprocessor
with EH_CDEF defined so that only plain declarations reach cffi.

Used by setup.py at install time (cffi_modules) and by developers to rebuild in place:

    python host/edgehost/kernels/_build.py            # every family
    python host/edgehost/kernels/_build.py lif binary # some
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
KERNELS = os.path.join(ROOT, "kernels_c")
INCLUDE = os.path.join(KERNELS, "include")
SRC = os.path.join(KERNELS, "src")

# Families whose sources another family's kernels call (and whose types its header uses).
DEPS: dict[str, list[str]] = {
    "basic": ["lif"],
    "lmu": ["lif"],
    "mst": ["binary"],
    "conv2d": [],
}



def opt_flags() -> list[str]:
    """The project's one optimisation level (cmake/eh_flags.cmake, EH_OPT_FLAGS), the same as the
    firmware and bench images'. -O3 lets the kernels' fixed-count loops vectorise on the host
    (eh_fc_spike_t_q15's row sums, the LIF step); integer results cannot change, float ones
    neither (no -ffast-math, no contraction)."""
    text = open(os.path.join(ROOT, "cmake", "eh_flags.cmake")).read()
    m = re.search(r'^set\(EH_OPT_FLAGS\s+"([^"]*)"\)', text, re.M)
    if m is None:
        raise RuntimeError("cmake/eh_flags.cmake: no set(EH_OPT_FLAGS \"...\") line")
    return m.group(1).split()


# Appended after Python's own CFLAGS (sysconfig), so these win.
CFLAGS = ["-std=c99", *opt_flags(), "-ffp-contract=off", "-Wall", "-fno-strict-aliasing"]


def compile_flags() -> str:
    """The full flags of the host extension's kernels: Python's CFLAGS, then CFLAGS above."""
    py = sysconfig.get_config_var("CFLAGS") or ""
    return " ".join([*py.split(), *CFLAGS])


def families() -> list[str]:
    names = []
    for path in sorted(glob.glob(os.path.join(INCLUDE, "eh_*.h"))):
        fam = os.path.basename(path)[3:-2]
        if fam != "common" and os.path.isdir(os.path.join(SRC, fam)):
            names.append(fam)
    return names


def _closure(family: str) -> list[str]:
    order: list[str] = []

    def visit(f: str) -> None:
        for d in DEPS.get(f, []):
            visit(d)
        if f not in order:
            order.append(f)

    visit(family)
    return order


def _cdef(headers: list[str]) -> str:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()[0]
    src = "".join(f'#include "{os.path.basename(h)}"\n' for h in headers)
    out = subprocess.run([cc, "-E", "-P", "-DEH_CDEF", "-I", INCLUDE, "-x", "c", "-"],
                         input=src, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"preprocessing kernel headers failed:\n{out.stderr}")
    return out.stdout


def make_ffi(family: str, relative: bool = True) -> FFI:
    fams = _closure(family)
    headers = [os.path.join(INCLUDE, "eh_common.h")] + [os.path.join(INCLUDE, f"eh_{f}.h") for f in fams]
    sources = sorted(glob.glob(os.path.join(SRC, "common", "*.c")))
    for f in fams:
        sources += sorted(glob.glob(os.path.join(SRC, f, "*.c")))
    ffi = FFI()
    ffi.cdef(_cdef(headers))
    include = "".join(f'#include "{os.path.basename(h)}"\n' for h in headers)
    # setuptools wants source paths relative to the project root.
    rel = [os.path.relpath(s, ROOT) for s in sources] if relative and os.getcwd() == ROOT else sources
    ffi.set_source(f"edgehost.kernels._k_{family}", include, sources=rel,
                   include_dirs=[INCLUDE, SRC] + sorted({os.path.dirname(s) for s in sources}),
                   extra_compile_args=CFLAGS)
    return ffi


# setup.py names these as cffi_modules "host/edgehost/kernels/_build.py:ffi_<family>".
for _fam in families():
    globals()[f"ffi_{_fam}"] = make_ffi(_fam)


def build_inplace(names: list[str]) -> None:
    for fam in names:
        with tempfile.TemporaryDirectory() as tmp:
            so = make_ffi(fam, relative=False).compile(tmpdir=tmp, verbose=False)
            dest = os.path.join(HERE, os.path.basename(so))
            for old in glob.glob(os.path.join(HERE, f"_k_{fam}.*.so")):
                os.remove(old)
            shutil.copy(so, dest)
            print(f"built {os.path.relpath(dest, ROOT)}")


if __name__ == "__main__":
    build_inplace(sys.argv[1:] or families())
