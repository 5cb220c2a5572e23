"""Shift-add dense layer (format 1.4): shiftadd_fc_q15 (40).

q15 [n_in] -> q15 [n_out]; weight u8 [n_out n_in] power-of-two codes (sign, exponent; bits 6..5
must be clear, eh_shiftadd.h), bias i32 [n_out] or absent; the record's shift in [0, 31]
(`eh_shiftadd_fc_q15`).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, check_range


class ShiftaddFc(Op):
    minor = 4

    def count(self, ctx, k, kind, cnt):
        if kind == "pow2":
            return cnt == ctx.n_out * ctx.n_in, str(ctx.n_out * ctx.n_in)
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "pow2":
            check_range(ctx, k, vals, (vals & 0x60) != 0, "has reserved bits 6..5 set")
        else:
            super().values(ctx, k, kind, check, vals)

    def step(self, hm, layer, x):
        return hm.k.shiftadd.shiftadd_fc_q15(x, layer.params[0].reshape(layer.n_out, layer.n_in), layer.params[1],
                                             layer.shift)

    def prepare(self, hm, layer):
        c = Prep(hm, "shiftadd")
        n_in, n_out, sh = layer.n_in, layer.n_out, int(layer.shift)
        x, _ = c.t(layer.input, np.int16, n_in)
        y, _ = c.t(layer.output, np.int16, n_out)
        w, _ = c.p(layer.params[0], np.uint8, n_in * n_out)
        b, _ = c.p(layer.params[1], np.int32, n_out)
        f = c.lib.eh_shiftadd_fc_q15

        def run():
            st = f(n_in, n_out, x, w, b, sh, y)
            if st:
                c.fail("eh_shiftadd_fc_q15", st)
        return run


OPS = [ShiftaddFc(40, F.Spec("shiftadd_fc_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, False, [],
                             [("weight", "pow2", "u1", None), ("bias", "bias", "<i4", None)], shift=True))]
