"""int8 2-D pooling, channel-last (TFLite / LiteRT MAX_POOL_2D and AVERAGE_POOL_2D, NHWC batch 1):
maxpool2d_s8 (54), avgpool2d_s8 (55), format 1.6.

Input s8 x [h_in][w_in][c], output s8 y [h_out][w_out][c] (the input's quantisation). Params:
  0 "geom" u32 [11]: pool2d's (edgehost/ops/pool2d.py: c, h_in, w_in, k_h, k_w, stride_h,
     stride_w, pad_top, pad_left, pad_bottom, pad_right), with its checks and messages;
  1 "act" s32 [2]: act_min in [-128, 127], act_max in [act_min, 127] (the fused activation).
Step: `eh_maxpool2d_s8` / `eh_avgpool2d_s8` (kernels_c/include/eh_conv2d.h: padding taps not
counted, TFLite's SAME pooling; the mean rounded half away from zero). The C twin:
firmware/model/ops/eh_op_pool2d_s8.c (same checks, same order, same messages).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep
from .pool2d import GEOM_NAMES, geom_error


class Pool2dS8(Op):
    minor = 6

    def count(self, ctx, k, kind, cnt):
        if kind == "p2s8geom":
            return cnt == 11, "11"
        if kind == "p2s8act":
            return cnt == 2, "2"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "p2s8geom":
            err = geom_error(vals, ctx.n_in, ctx.n_out)
            if err:
                ctx.param_fail(k, err)
        elif kind == "p2s8act":
            lo, hi = int(vals[0]), int(vals[1])
            if not -128 <= lo <= 127:
                ctx.param_fail(k, f"entry 0 (act_min {lo}) outside [-128, 127]")
            if not lo <= hi <= 127:
                ctx.param_fail(k, f"entry 1 (act_max {hi}) outside [{lo}, 127]")
        else:
            super().values(ctx, k, kind, check, vals)

    def step(self, hm, layer, x):
        g = [int(v) for v in layer.params[0]]
        lo, hi = (int(v) for v in layer.params[1])
        f = getattr(hm.k.conv2d, layer.type)
        y = f(np.asarray(x).reshape(g[1], g[2], g[0]), (g[3], g[4]), stride=(g[5], g[6]), padding=tuple(g[7:11]),
              act_min=lo, act_max=hi)
        return np.asarray(y).ravel()

    def prepare(self, hm, layer):
        c = Prep(hm, "conv2d")
        g = [int(v) for v in layer.params[0]]
        lo, hi = (int(v) for v in layer.params[1])
        d = c.ffi.new("eh_pool2d_dims *")
        c.keep.append(d)
        for name, v in zip(GEOM_NAMES, g):
            setattr(d, name, v)
        x, _ = c.t(layer.input, np.int8, layer.n_in)
        y, _ = c.t(layer.output, np.int8, layer.n_out)
        name = f"eh_{layer.type}"
        f = getattr(c.lib, name)

        def run():
            st = f(d, x, lo, hi, y)
            if st:
                c.fail(name, st)
        return run


def _pool(code, name):
    return Pool2dS8(code, F.Spec(name, (F.DT_S8,), F.DT_S8, F.KIND_ACT, False, [],
                                 [("geom", "p2s8geom", "<u4", None), ("act", "p2s8act", "<i4", None)]))


OPS = [_pool(54, "maxpool2d_s8"), _pool(55, "avgpool2d_s8")]
