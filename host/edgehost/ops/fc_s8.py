"""int8 dense layer (TFLite / LiteRT FULLY_CONNECTED): fc_s8 (20), format 1.2.

weight i8 [n_out n_in], bias i32 [n_out] or absent, "requant" s32 [2C]: mult[C] (>= 0) then
shift[C] (in [-31, 30]), C = 1 (per tensor) or n_out (per channel), "quant" s32 [4]: x_offset in
[-127, 128], y_offset, act_min in [-128, 127], act_max in [act_min, 127]. Step: `eh_fc_s8`, then
y = min(max(y, act_min), act_max) (the fused activation).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep


def check_requant(ctx, k, vals) -> None:
    """A requant record (int8 layers: fc_s8, conv1d_s8): mult[C] >= 0 then shift[C] in [-31, 30]."""
    h = vals.size // 2
    for i in range(vals.size):
        v = int(vals[i])
        if i < h and v < 0:
            ctx.param_fail(k, f"entry {i} (mult {v}) outside [0, 2147483647]")
        if i >= h and not -31 <= v <= 30:
            ctx.param_fail(k, f"entry {i} (shift {v}) outside [-31, 30]")


class FcS8(Op):
    minor = 2

    def count(self, ctx, k, kind, cnt):
        if kind == "rq":
            n = 2 * ctx.n_out
            return cnt == 2 or cnt == n, f"2 or {n} (mult then shift, per tensor or per channel)"
        if kind == "q8":
            return cnt == 4, "4"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "rq":
            check_requant(ctx, k, vals)
        elif kind == "q8":
            for i, nm in enumerate(("x_offset", "y_offset", "act_min", "act_max")):
                v = int(vals[i])
                lo = -127 if i == 0 else int(vals[2]) if i == 3 else -128
                hi = 128 if i == 0 else 127
                if not lo <= v <= hi:
                    ctx.param_fail(k, f"entry {i} ({nm} {v}) outside [{lo}, {hi}]")
        else:
            super().values(ctx, k, kind, check, vals)

    def step(self, hm, layer, x):
        p = layer.params
        c = p[2].size // 2
        q = p[3]
        y = hm.k.basic.fc_s8(x, p[0].reshape(layer.n_out, layer.n_in), p[2][:c], p[2][c:], p[1],
                             x_offset=int(q[0]), y_offset=int(q[1]), per_channel=c == layer.n_out and c > 1)
        return np.clip(y, int(q[2]), int(q[3])).astype(np.int8)   # fused activation (RELU, RELU6)

    def prepare(self, hm, layer):
        c = Prep(hm, "basic")
        p, n_in, n_out = layer.params, layer.n_in, layer.n_out
        rq = np.asarray(p[2]).ravel()
        nc = rq.size // 2
        q = [int(v) for v in np.asarray(p[3]).ravel()]
        pc = 1 if nc == n_out and nc > 1 else 0
        x, _ = c.t(layer.input, np.int8, n_in)
        out = c.t(layer.output, np.int8, n_out)[1]
        w, _ = c.p(p[0], np.int8, n_in * n_out)
        b, _ = c.p(p[1], np.int32, n_out)
        mult, _ = c.p(rq[:nc], np.int32, n_out if pc else 1)
        shift, _ = c.p(rq[nc:], np.int32, n_out if pc else 1)
        y, ybuf = c.buf(n_out, np.int8)
        x_off, y_off, lo, hi = q
        f = c.lib.eh_fc_s8

        def run():
            st = f(n_in, n_out, x, x_off, w, b, mult, shift, pc, y_off, y)
            if st:
                c.fail("eh_fc_s8", st)
            np.clip(ybuf, lo, hi, out=out)          # fused activation
        return run


OPS = [FcS8(20, F.Spec("fc_s8", (F.DT_S8,), F.DT_S8, F.KIND_ACT, False, [],
                       [("weight", "w", "i1", None), ("bias", "bias", "<i4", None),
                        ("requant", "rq", "<i4", None), ("quant", "q8", "<i4", None)]))]
