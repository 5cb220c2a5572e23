"""The C shift-and-add kernels (kernels_c/src/shiftadd) on numpy arrays; twins of
edgehost.sim.shiftadd."""
from __future__ import annotations

import numpy as np

from ._util import arr, check, load, ptr

ffi, lib = load("shiftadd")


def _vec(x, dtype):
    a = arr(x, dtype)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D array, got shape {a.shape}")
    return a


def _u32(v, name):
    if not isinstance(v, (int, np.integer)) or not 0 <= int(v) < 1 << 32:
        raise ValueError(f"{name} must be a non-negative 32-bit integer")
    return int(v)


def _bias(b, n_out):
    if b is None:
        return None
    bb = _vec(b, np.int32)
    if bb.size != n_out:
        raise ValueError(f"b has {bb.size} entries, expected {n_out}")
    return bb


def shiftadd_fc_q15(x, w, b=None, shift=0):
    x = _vec(x, np.int16)
    w = arr(w, np.uint8)
    if w.ndim == 1 and w.size and x.size and w.size % x.size == 0:
        w = w.reshape(-1, x.size)
    if w.ndim != 2 or w.shape[1] != x.size:
        raise ValueError(f"w must be [n_out, {x.size}] codes, got shape {w.shape}")
    bb = _bias(b, w.shape[0])
    y = np.zeros(w.shape[0], np.int16)
    check("eh_shiftadd_fc_q15", lib.eh_shiftadd_fc_q15(
        x.size, w.shape[0], ptr(ffi, x, "int16_t"), ptr(ffi, w, "uint8_t"), ptr(ffi, bb, "int32_t"),
        _u32(shift, "shift"), ptr(ffi, y, "int16_t")))
    return y


def bcq_table_len(n_in: int) -> int:
    return int(lib.eh_bcq_table_len(_u32(n_in, "n_in")))


def bcq_tables_q15(x):
    x = _vec(x, np.int16)
    n = max(int(lib.eh_bcq_table_len(x.size)), 256)
    t = np.zeros(n, np.int32)
    check("eh_bcq_tables_q15", lib.eh_bcq_tables_q15(x.size, ptr(ffi, x, "int16_t"),
                                                     ptr(ffi, t, "int32_t"), t.size))
    return t.reshape(-1, 256)


def bcq_fc_q15(x, w, alpha_exp, b=None, shift=0):
    x = _vec(x, np.int16)
    w = arr(w, np.uint32)
    if w.ndim != 3:
        raise ValueError(f"w must be [n_out, q, n_words] uint32 words, got shape {w.shape}")
    n_out, q, n_words = w.shape
    if n_words != (x.size + 31) // 32:
        raise ValueError(f"w has {n_words} words per row, expected {(x.size + 31) // 32}")
    e = arr(alpha_exp, np.int8)
    if e.shape != (n_out, q):
        raise ValueError(f"alpha_exp must have shape {(n_out, q)}, got {e.shape}")
    bb = _bias(b, n_out)
    t = np.zeros(max(int(lib.eh_bcq_table_len(x.size)), 1), np.int32)
    y = np.zeros(n_out, np.int16)
    check("eh_bcq_fc_q15", lib.eh_bcq_fc_q15(
        x.size, n_out, q, ptr(ffi, x, "int16_t"), ptr(ffi, w, "uint32_t"), ptr(ffi, e, "int8_t"),
        ptr(ffi, bb, "int32_t"), _u32(shift, "shift"), ptr(ffi, t, "int32_t"), t.size,
        ptr(ffi, y, "int16_t")))
    return y
