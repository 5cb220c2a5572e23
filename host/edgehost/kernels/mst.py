"""The C MST kernel (kernels_c/src/mst) on numpy arrays; twin of edgehost.sim.mst.mst_fc_b1."""
from __future__ import annotations

import numpy as np

from ._util import arr, check, load, ptr
from ..sim.mst import MstLayout, mst_build, mst_cost  # noqa: F401 (host tool, re-exported)

ffi, lib = load("mst")


def mst_fc_b1(layout: MstLayout, x):
    keep = [arr(np.asarray(a).ravel(), dt) for a, dt in (
        (layout.parent, np.int32), (layout.root_w, np.uint32), (layout.diff_start, np.uint32),
        (layout.diff_word, np.uint32), (layout.diff_mask, np.uint32), (layout.diff_pbits, np.uint32))]
    par, root_w, start, dw, dm, dp = keep
    x = arr(x, np.uint32)
    n = int(layout.n_out)
    if par.size != n or start.size != n + 1 or x.ndim != 1:
        raise ValueError("parent must have n_out entries, diff_start n_out + 1, x be 1-D")
    if int(layout.n_in) >= 1 and x.size != (int(layout.n_in) + 31) // 32:
        raise ValueError("x must have ceil(n_in / 32) words")
    if root_w.size != int(np.count_nonzero(par == -1)) * x.size:
        raise ValueError("root_w must have one row per root")
    if not (dw.size == dm.size == dp.size):
        raise ValueError("diff_word, diff_mask and diff_pbits must have the same length")
    l = ffi.new("eh_mst_b1 *")
    l.n_in, l.n_out = int(layout.n_in), n
    l.n_roots = int(np.count_nonzero(par == -1))
    l.n_diff = dw.size
    l.parent = ptr(ffi, par, "int32_t")
    l.root_w = ptr(ffi, root_w, "uint32_t") if root_w.size else ffi.NULL
    l.diff_start = ptr(ffi, start, "uint32_t")
    l.diff_word = ptr(ffi, dw, "uint32_t") if dw.size else ffi.NULL
    l.diff_mask = ptr(ffi, dm, "uint32_t") if dm.size else ffi.NULL
    l.diff_pbits = ptr(ffi, dp, "uint32_t") if dp.size else ffi.NULL
    y = np.zeros(n, np.int32)
    check("eh_mst_fc_b1", lib.eh_mst_fc_b1(l, ptr(ffi, x, "uint32_t"), ptr(ffi, y, "int32_t")))
    return y
