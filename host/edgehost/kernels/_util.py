"""Glue between numpy arrays and the cffi kernel modules."""
from __future__ import annotations

import importlib

import numpy as np

_STATUS = {0: "ok", -1: "null pointer", -2: "bad size", -3: "parameter out of range",
           -4: "invalid argument combination"}


class KernelError(ValueError):
    """A C kernel rejected its arguments; `status` is the eh_status code."""

    def __init__(self, kernel: str, status: int):
        self.kernel = kernel
        self.status = status
        super().__init__(f"{kernel}: {_STATUS.get(status, 'unknown status')} (eh_status {status})")


def load(family: str):
    """The (ffi, lib) of a family's extension module, with a clear error when it was not built."""
    try:
        mod = importlib.import_module(f"edgehost.kernels._k_{family}")
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError(
            f"the C kernels of family {family!r} are not built: reinstall edgehost "
            f"(pip install -e .) or run python host/edgehost/kernels/_build.py {family}") from e
    return mod.ffi, mod.lib


def check(kernel: str, status: int) -> None:
    if status != 0:
        raise KernelError(kernel, status)


def arr(a, dtype) -> np.ndarray:
    """A C-contiguous copy-or-view of `a` as `dtype`; refuses values that do not fit."""
    x = np.asarray(a)
    if x.dtype != dtype:
        if np.issubdtype(np.dtype(dtype), np.integer) and x.size:
            info = np.iinfo(dtype)
            if x.dtype.kind not in "iub" or x.min() < info.min or x.max() > info.max:
                raise ValueError(f"values must fit {np.dtype(dtype).name}")
        x = x.astype(dtype)
    return np.ascontiguousarray(x)


def out(a, dtype) -> np.ndarray:
    """A fresh writable copy (state arrays are updated in place by the C kernels)."""
    return np.array(arr(a, dtype), dtype=dtype, copy=True, order="C")


def ptr(ffi, x: np.ndarray | None, ctype: str):
    if x is None:
        return ffi.NULL
    return ffi.cast(f"{ctype} *", ffi.from_buffer(x))


def params(a, dtype) -> np.ndarray:
    """A per-neuron-or-shared parameter as a 1-D array."""
    return arr(np.atleast_1d(np.asarray(a)).ravel(), dtype)
