"""int8 2-D convolution, channel-last (TFLite / LiteRT CONV_2D and DEPTHWISE_CONV_2D, NHWC batch 1):
conv2d_s8 (53), format 1.6.

Input s8 x [h_in][w_in][c_in] (n_in = h_in w_in c_in), output s8 y [h_out][w_out][c_out]
(n_out = h_out w_out c_out). Params (the record has four slots, so the quantisation scalars
follow the requantisation):
  0 "geom" u32 [15]: conv2d's (edgehost/ops/conv2d.py: c_in, h_in, w_in, c_out, k_h, k_w,
     stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dil_h, dil_w, groups), with its
     checks and messages (`geom_error`), then (c_in / groups) k_h k_w <= 65536;
  1 "weight" i8 [c_out][k_h][k_w][c_in / groups] (TFLite's OHWI filter; a depthwise filter is
     groups = c_in);
  2 "bias" s32 [c_out] or absent;
  3 "requant" s32 [2C + 4]: mult[C] (>= 0) then shift[C] (in [-31, 30]), C = 1 (per tensor) or
     c_out (per channel: C = c_out > 1), then x_offset in [-127, 128], y_offset in [-128, 127],
     act_min in [-128, 127], act_max in [act_min, 127].
Step: `eh_conv2d_s8` (kernels_c/include/eh_conv2d.h: padded taps skipped, per-channel
requantisation as eh_fc_s8, the fused clamp). The C twin: firmware/model/ops/eh_op_conv2d_s8.c
(same checks, same order, same messages).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep
from .conv2d import GEOM_NAMES, geom_error, geom_kwargs
from .fc_s8 import check_requant

MAX_ROW = 65536
_Q8 = ("x_offset", "y_offset", "act_min", "act_max")


def quant_error(q, base: int = 0) -> str | None:
    """The first of x_offset, y_offset, act_min, act_max outside its range ("entry i (name v)
    outside [lo, hi]", i counted from `base`), or None."""
    v = [int(a) for a in q]
    for i in range(4):
        lo = -127 if i == 0 else v[2] if i == 3 else -128
        hi = 128 if i == 0 else 127
        if not lo <= v[i] <= hi:
            return f"entry {base + i} ({_Q8[i]} {v[i]}) outside [{lo}, {hi}]"
    return None


class Conv2dS8(Op):
    minor = 6

    def optional(self, ctx, k, kind):
        return kind == "c2s8bias"

    def count(self, ctx, k, kind, cnt):
        if kind == "c2s8geom":
            return cnt == 15, "15"
        g = [int(v) for v in ctx.params[0]]
        c_in, c_out, k_h, k_w, groups = g[0], g[3], g[4], g[5], g[14]
        if kind == "c2s8w":
            n = c_out * k_h * k_w * (c_in // groups)
            return cnt == n, str(n)
        if kind == "c2s8bias":
            return cnt == c_out, f"{c_out} or 0"
        if kind == "c2s8rq":
            n = 2 * c_out + 4
            return cnt == 6 or cnt == n, (f"6 or {n} (mult then shift, per tensor or per channel, then x_offset, "
                                          f"y_offset, act_min, act_max)")
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "c2s8geom":
            err = geom_error(vals, ctx.n_in, ctx.n_out)
            if err:
                ctx.param_fail(k, err)
            g = [int(v) for v in vals]
            cg = g[0] // g[14]
            if cg * g[4] * g[5] > MAX_ROW:
                ctx.param_fail(k, f"(c_in / groups) x k_h x k_w = {cg} x {g[4]} x {g[5]} = {cg * g[4] * g[5]} "
                                  f"> {MAX_ROW}")
        elif kind == "c2s8rq":
            n = vals.size - 4
            check_requant(ctx, k, vals[:n])
            err = quant_error(vals[n:], n)
            if err:
                ctx.param_fail(k, err)
        elif kind in ("c2s8w", "c2s8bias"):
            pass
        else:
            super().values(ctx, k, kind, check, vals)

    @staticmethod
    def geometry(layer) -> dict:
        """The kernel's arguments from the record: shapes, geometry and quantisation (a dict)."""
        g = [int(v) for v in layer.params[0]]
        rq = np.asarray(layer.params[3]).ravel()
        nc = (rq.size - 4) // 2
        c_out = g[3]
        x_off, y_off, lo, hi = (int(v) for v in rq[2 * nc:])
        return dict(geom=g, x_shape=(g[1], g[2], g[0]), w_shape=(c_out, g[4], g[5], g[0] // g[14]),
                    mult=rq[:nc], shift=rq[nc:2 * nc], per_channel=nc == c_out and c_out > 1,
                    x_offset=x_off, y_offset=y_off, act_min=lo, act_max=hi)

    def step(self, hm, layer, x):
        q = self.geometry(layer)
        p = layer.params
        y = hm.k.conv2d.conv2d_s8(np.asarray(x).reshape(q["x_shape"]), p[1].reshape(q["w_shape"]), q["mult"],
                                  q["shift"], p[2], x_offset=q["x_offset"], y_offset=q["y_offset"],
                                  act_min=q["act_min"], act_max=q["act_max"], per_channel=q["per_channel"],
                                  **geom_kwargs(q["geom"]))
        return np.asarray(y).ravel()

    def prepare(self, hm, layer):
        c = Prep(hm, "conv2d")
        q = self.geometry(layer)
        g, p = q["geom"], layer.params
        d = c.ffi.new("eh_conv2d_dims *")
        c.keep.append(d)
        for name, v in zip(GEOM_NAMES, g):
            setattr(d, name, v)
        pc = 1 if q["per_channel"] else 0
        nq = g[3] if pc else 1
        x, _ = c.t(layer.input, np.int8, layer.n_in)
        y, _ = c.t(layer.output, np.int8, layer.n_out)
        w, _ = c.p(p[1], np.int8, int(np.prod(q["w_shape"])))
        b, _ = c.p(p[2], np.int32, g[3])
        mult, _ = c.p(q["mult"], np.int32, nq)
        shift, _ = c.p(q["shift"], np.int32, nq)
        args = (d, x, q["x_offset"], w, b, mult, shift, pc, q["y_offset"], q["act_min"], q["act_max"], y)
        f = c.lib.eh_conv2d_s8

        def run():
            st = f(*args)
            if st:
                c.fail("eh_conv2d_s8", st)
        return run


OPS = [Conv2dS8(53, F.Spec("conv2d_s8", (F.DT_S8,), F.DT_S8, F.KIND_ACT, False, [],
                           [("geom", "c2s8geom", "<u4", None), ("weight", "c2s8w", "i1", None),
                            ("bias", "c2s8bias", "<i4", None), ("requant", "c2s8rq", "<i4", None)]))]
