"""The C MST kernel (kernels_c/src/mst) on numpy arrays; twin of edgehost.sim.mst."""
from __future__ import annotations

import numpy as np

from ._util import arr, check, load, ptr
from ..sim.mst import MstLayout, mst_build, mst_cost  # noqa: F401 (host tool, re-exported)

ffi, lib = load("mst")


def _layout(layout: MstLayout, keep: list):
    """The eh_mst_b1 structure of a layout (the arrays kept alive in `keep`)."""
    par, root_w, start = (arr(np.asarray(a).ravel(), dt) for a, dt in (
        (layout.parent, np.int32), (layout.root_w, np.uint32), (layout.diff_start, np.uint32)))
    diff = arr(np.asarray(layout.diff).ravel(), np.uint16)
    keep += [par, root_w, start, diff]
    n = int(layout.n_out)
    if par.size != n or start.size != n + 1:
        raise ValueError("parent must have n_out entries and diff_start n_out + 1")
    nr = int(np.count_nonzero(par == -1))
    if not 0 <= int(layout.n_in) <= 0xFFFFFFFF or not 0 <= n <= 0xFFFFFFFF:
        raise ValueError("n_in and n_out must fit uint32")
    if int(layout.n_in) >= 1 and root_w.size != nr * ((int(layout.n_in) + 31) // 32):
        raise ValueError("root_w must have one row of ceil(n_in / 32) words per root")
    l = ffi.new("eh_mst_b1 *")
    keep.append(l)
    l.n_in, l.n_out, l.n_roots, l.n_diff = int(layout.n_in), n, nr, diff.size
    l.parent = ptr(ffi, par, "int32_t")
    l.root_w = ptr(ffi, root_w, "uint32_t") if root_w.size else ffi.NULL
    l.diff_start = ptr(ffi, start, "uint32_t")
    l.diff = ptr(ffi, diff, "uint16_t") if diff.size else ffi.NULL
    return l


def mst_check_b1(layout: MstLayout, scratch_len: int | None = None) -> None:
    """eh_mst_check_b1 (KernelError when the layout would be rejected); scratch_len (bytes)
    defaults to the 2 * n_in the kernel needs."""
    keep: list = []
    n = 2 * int(layout.n_in) if scratch_len is None else int(scratch_len)
    if not 0 <= n <= 0xFFFFFFFF:
        raise ValueError("scratch_len must lie in [0, 2^32)")
    check("eh_mst_check_b1", lib.eh_mst_check_b1(_layout(layout, keep), n))


def mst_fc_b1(layout: MstLayout, x):
    keep: list = []
    l = _layout(layout, keep)
    x = arr(x, np.uint32)
    if x.ndim != 1 or (int(layout.n_in) >= 1 and x.size != (int(layout.n_in) + 31) // 32):
        raise ValueError("x must have ceil(n_in / 32) words")
    y = np.zeros(int(layout.n_out), np.int32)
    scratch = np.zeros(min(max(1, 2 * int(layout.n_in)), 65536), np.uint8)  # 2 K bytes
    check("eh_mst_fc_b1", lib.eh_mst_fc_b1(l, ptr(ffi, x, "uint32_t"), ptr(ffi, scratch, "uint8_t"),
                                           scratch.size, ptr(ffi, y, "int32_t")))
    return y


def mst_fc_b1_unchecked(layout: MstLayout, x):
    """eh_mst_fc_b1_unchecked behind eh_mst_check_b1 (no call from Python reaches undefined
    behaviour)."""
    keep: list = []
    l = _layout(layout, keep)
    check("eh_mst_check_b1", lib.eh_mst_check_b1(l, 2 * int(layout.n_in)))
    x = arr(x, np.uint32)
    if x.ndim != 1 or x.size != (int(layout.n_in) + 31) // 32:
        raise ValueError("x must have ceil(n_in / 32) words")
    y = np.zeros(int(layout.n_out), np.int32)
    scratch = np.zeros(2 * int(layout.n_in), np.uint8)
    lib.eh_mst_fc_b1_unchecked(l, ptr(ffi, x, "uint32_t"), ptr(ffi, scratch, "uint8_t"), ptr(ffi, y, "int32_t"))
    return y
