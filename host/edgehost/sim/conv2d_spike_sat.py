"""Event-driven Q15 convolution on spikes with saturating 16-bit currents
(kernels_c/include/eh_conv2d.h, eh_conv2d_spike_sat_q15), numpy reference written from the header.

Weights are tap-major, wt (c_in, k_h, k_w, og) with og = c_out / groups (conv2d_spike_sat_weights
converts PyTorch's (c_out, c_in / groups, k_h, k_w)); bias (c_out,) int16 or None; output
(c_out, h_out, w_out) int16. Every current starts at its bias; the spikes are taken in (ci, iy, ix)
order and each adds its taps' weights with a saturation to int16 at every addition.
stride, padding, dilation and groups as in edgehost.sim.conv2d.
"""
from __future__ import annotations

import numpy as np

from .conv2d import _ints, _tensor, conv2d_out_size, conv2d_padding


def conv2d_spike_sat_weights(w, groups=1) -> np.ndarray:
    """PyTorch's (c_out, c_in / groups, k_h, k_w) int16 weights -> tap-major (c_in, k_h, k_w, og)."""
    w = _tensor("w", w, np.int16, 4)
    g = _ints("groups", groups, 1)[0]
    if g < 1 or w.shape[0] % g:
        raise ValueError(f"groups {g} must divide c_out {w.shape[0]}")
    og, cg = w.shape[0] // g, w.shape[1]
    # wt[grp * cg + j, ky, kx, o] = w[grp * og + o, j, ky, kx]
    return np.ascontiguousarray(w.reshape(g, og, cg, w.shape[2], w.shape[3]).transpose(0, 2, 3, 4, 1)
                                .reshape(g * cg, w.shape[2], w.shape[3], og))


def conv2d_spike_sat_q15(s, wt, b=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    s = _tensor("s", s, np.uint8, 3)
    wt = _tensor("wt", wt, np.int16, 4)
    g = _ints("groups", groups, 1)[0]
    c_in, h, wd = s.shape
    if wt.shape[0] != c_in:
        raise ValueError(f"wt has {wt.shape[0]} input channels, s {c_in}")
    og, k_h, k_w = wt.shape[3], wt.shape[1], wt.shape[2]
    if g < 1:
        raise ValueError("groups must be >= 1")
    c_out = og * g
    ho, wo = conv2d_out_size(c_in, h, wd, c_out, k_h, k_w, stride, padding, dilation, g)
    if b is not None:
        b = np.asarray(b)
        if b.ndim != 1 or b.size != c_out:
            raise ValueError(f"bias must have {c_out} entries")
        b = _tensor("b", b, np.int16, 1)
    if s.max() > 1:
        raise ValueError("s must hold 0 or 1")
    sh, sw = _ints("stride", stride, 2)
    dh, dw = _ints("dilation", dilation, 2)
    pt, pl, _pb, _pr = conv2d_padding(padding, k_h, k_w, stride, dilation)
    cg = c_in // g
    acc = np.zeros((ho, wo, c_out), np.int32)
    if b is not None:
        acc += b.astype(np.int32)
    ky, kx = np.arange(k_h), np.arange(k_w)
    for ci, iy, ix in np.argwhere(s == 1):  # (ci, iy, ix) ascending: the header's order
        ty, tx = iy + pt - ky * dh, ix + pl - kx * dw
        my = (ty >= 0) & (ty % sh == 0) & (ty // sh < ho)
        mx = (tx >= 0) & (tx % sw == 0) & (tx // sw < wo)
        if not my.any() or not mx.any():
            continue
        oys, oxs = ty[my] // sh, tx[mx] // sw
        ch = np.arange((ci // cg) * og, (ci // cg + 1) * og)
        sel = np.ix_(oys, oxs, ch)
        acc[sel] = np.clip(acc[sel] + wt[ci][np.ix_(ky[my], kx[mx])].astype(np.int32), -32768, 32767)
    return np.ascontiguousarray(acc.transpose(2, 0, 1)).astype(np.int16)
