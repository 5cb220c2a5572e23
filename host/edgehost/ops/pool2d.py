"""2-D pooling, channel-major (C, H, W) (format 1.6; kernels_c/include/eh_conv2d.h, "2-D pooling"):
sumpool2d_f32 (29), sumpool2d_q15 (30), sumpool2d_spike_q15 (31: spikes -> counts),
avgpool2d_f32 (49), avgpool2d_q15 (50), avgpool2d_spike_q15 (51: spikes -> the Q15 fraction).

Param 0 "geom" u32 [11]: c, h_in, w_in, k_h, k_w, stride_h, stride_w, pad_top, pad_left,
pad_bottom, pad_right, checked in the C loader's order with its messages
(firmware/model/ops/eh_op_pool2d.c).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep

GEOM_NAMES = ("c", "h_in", "w_in", "k_h", "k_w", "stride_h", "stride_w", "pad_top", "pad_left", "pad_bottom",
              "pad_right")


def geom_error(g, n_in: int, n_out: int) -> str | None:
    g = [int(v) for v in g]
    if len(g) != 11:
        return f"{len(g)} entries, expected 11"
    for i in range(7):
        if not 1 <= g[i] <= 65535:
            return f"{GEOM_NAMES[i]} {g[i]} outside [1, 65535]"
    c, h_in, w_in, k_h, k_w, sh, sw, pt, pl, pb, pr = g
    for i in range(7, 11):
        kk = k_h if i % 2 else k_w
        if g[i] >= kk:
            return f"{GEOM_NAMES[i]} {g[i]} outside [0, {kk - 1}] (the window - 1)"
    ext_h, ext_w = h_in + pt + pb, w_in + pl + pr
    if ext_h < k_h or ext_w < k_w:
        return f"window {k_h} x {k_w} larger than the padded input {ext_h} x {ext_w}"
    if c * h_in * w_in != n_in:
        return f"input c x h_in x w_in = {c * h_in * w_in}, n_in is {n_in}"
    h_out, w_out = (ext_h - k_h) // sh + 1, (ext_w - k_w) // sw + 1
    if c * h_out * w_out != n_out:
        return f"output c x h_out x w_out = {c} x {h_out} x {w_out}, n_out is {n_out}"
    return None


def make_geom(c, h_in, w_in, k_h, k_w, stride=None, padding=0) -> np.ndarray:
    from ..sim.conv2d import _ints, pool2d_padding
    sh, sw = _ints("stride", (k_h, k_w) if stride is None else stride, 2)
    pt, pl, pb, pr = pool2d_padding(padding)
    return np.array([c, h_in, w_in, k_h, k_w, sh, sw, pt, pl, pb, pr], np.uint32)


def out_shape(g) -> tuple:
    g = [int(v) for v in g]
    return (g[0], (g[1] + g[7] + g[9] - g[3]) // g[5] + 1, (g[2] + g[8] + g[10] - g[4]) // g[6] + 1)


class Pool2d(Op):
    minor = 6

    def count(self, ctx, k, kind, cnt):
        return cnt == 11, "11"

    def values(self, ctx, k, kind, check, vals):
        err = geom_error(vals, ctx.n_in, ctx.n_out)
        if err:
            ctx.param_fail(k, err)

    def step(self, hm, layer, x):
        g = [int(v) for v in layer.params[0]]
        f = getattr(hm.k.conv2d, layer.type)
        return f(x.reshape(g[:3]), (g[3], g[4]), (g[5], g[6]), tuple(g[7:11])).ravel()

    def prepare(self, hm, layer):
        c = Prep(hm, "conv2d")
        g = [int(v) for v in layer.params[0]]
        d = c.ffi.new("eh_pool2d_dims *")
        c.keep.append(d)
        for name, v in zip(("c", "h_in", "w_in", "k_h", "k_w", "stride_h", "stride_w", "pad_top", "pad_left",
                            "pad_bottom", "pad_right"), g):
            setattr(d, name, v)
        ty = layer.type
        xdt = np.float32 if ty.endswith("f32") else np.uint8 if "spike" in ty else np.int16
        ydt = np.float32 if ty.endswith("f32") else np.int16
        x, _ = c.t(layer.input, xdt, layer.n_in)
        y, _ = c.t(layer.output, ydt, layer.n_out)
        f, name = getattr(c.lib, f"eh_{ty}"), f"eh_{ty}"

        def run():
            st = f(d, x, y)
            if st:
                c.fail(name, st)
        return run


def _pool(code, name, in_dt, out_dt):
    return Pool2d(code, F.Spec(name, (in_dt,), out_dt, F.KIND_ACT, False, [], [("geom", "p2geom", "<u4", None)]))


OPS = [
    _pool(29, "sumpool2d_f32", F.DT_F32, F.DT_F32),
    _pool(30, "sumpool2d_q15", F.DT_Q15, F.DT_Q15),
    _pool(31, "sumpool2d_spike_q15", F.DT_SPIKE, F.DT_Q15),
    _pool(49, "avgpool2d_f32", F.DT_F32, F.DT_F32),
    _pool(50, "avgpool2d_q15", F.DT_Q15, F.DT_Q15),
    _pool(51, "avgpool2d_spike_q15", F.DT_SPIKE, F.DT_Q15),
]
