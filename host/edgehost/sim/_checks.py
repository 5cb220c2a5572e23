"""Argument checks shared by the numpy reference kernels.

They reject what the C kernels reject, so that a bad argument fails the same way on the host
simulation and on the device.
"""
from __future__ import annotations

import numpy as np

RESETS = {"subtract": 0, "zero": 1}
# LIF and CuBa-LIF also take these (EH_RESET_NONE, EH_RESET_SUBTRACT_NOW: kernels_c/include/eh_lif.h)
RESETS_LIF = {**RESETS, "none": 2, "subtract_now": 3}


def reset_mode(reset: str, modes: dict = RESETS) -> int:
    try:
        return modes[reset]
    except (KeyError, TypeError):
        raise ValueError(f"reset must be one of {sorted(modes)}, got {reset!r}") from None


def vector(name: str, a, dtype, n: int | None = None) -> np.ndarray:
    """A 1-D array of exactly `dtype` (values converted only when they fit), length n if given."""
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} entries, expected {n}")
    if arr.dtype != dtype:
        if np.issubdtype(np.dtype(dtype), np.integer):
            info = np.iinfo(dtype)
            if arr.dtype.kind not in "iub" or (arr.size and (arr.min() < info.min or arr.max() > info.max)):
                raise ValueError(f"{name} must hold {np.dtype(dtype).name} values")
        arr = arr.astype(dtype)
    return arr


def per_neuron(name: str, a, dtype, n: int) -> np.ndarray:
    """A parameter given once for all neurons (scalar or length 1) or once per neuron."""
    arr = np.atleast_1d(np.asarray(a))
    if arr.size not in (1, n):
        raise ValueError(f"{name} must have 1 or {n} entries, got {arr.size}")
    return vector(name, arr, dtype)


def spikes(name: str, a, n: int) -> np.ndarray:
    arr = vector(name, a, np.uint8, n)
    if arr.max() > 1:
        raise ValueError(f"{name} must hold 0 or 1")
    return arr
