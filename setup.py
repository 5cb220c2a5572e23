"""Compiles the C kernels into the package with cffi; everything else is in pyproject.toml."""
import glob
import os

from setuptools import setup

fams = [os.path.basename(h)[3:-2] for h in sorted(glob.glob("kernels_c/include/eh_*.h"))]
fams = [f for f in fams if f != "common" and os.path.isdir(os.path.join("kernels_c", "src", f))]

setup(cffi_modules=[f"host/edgehost/kernels/_build.py:ffi_{f}" for f in fams])
