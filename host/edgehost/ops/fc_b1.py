"""Binary dense layers: fc_b1_f32 (32), fc_b1_bits (35).

Input b1 [n_in] (values in {-1, +1}, bit 1 = -1, eh_binary.h); weight u32 [n_out ceil(n_in/32)]
packed rows; dot[o] = sum_i w[o][i] x[i]. fc_b1_f32: y = (float)dot x scale[o] + bias[o] (scale
f32 [n_out] finite, bias or absent); fc_b1_bits: bit o = dot < threshold[o] (s32 [n_out] in
[-n_in, n_in + 1]) (`eh_fc_b1_f32`, `eh_fc_b1_bits`).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep


class FcB1(Op):
    def count(self, ctx, k, kind, cnt):
        if kind == "wb1":
            n = ctx.n_out * ctx.W
            return cnt == n, str(n)
        return super().count(ctx, k, kind, cnt)

    def step(self, hm, layer, x):
        w = layer.params[0].reshape(layer.n_out, -1)
        if layer.type == "fc_b1_f32":
            return hm.k.binary.fc_b1_f32(layer.n_in, x, w, layer.params[1], layer.params[2])
        return hm.k.binary.fc_b1_bits(layer.n_in, x, w, layer.params[1])

    def prepare(self, hm, layer):
        c = Prep(hm, "binary")
        n_in, n_out = layer.n_in, layer.n_out
        W = (n_in + 31) // 32
        x, _ = c.t(layer.input, np.uint32, W)
        w, _ = c.p(layer.params[0], np.uint32, n_out * W)
        if layer.type == "fc_b1_f32":
            y, _ = c.t(layer.output, np.float32, n_out)
            sc, _ = c.p(layer.params[1], np.float32, n_out)
            b, _ = c.p(layer.params[2], np.float32, n_out)
            f = c.lib.eh_fc_b1_f32

            def run():
                st = f(n_in, n_out, x, w, sc, b, y)
                if st:
                    c.fail("eh_fc_b1_f32", st)
            return run
        y, _ = c.t(layer.output, np.uint32, (n_out + 31) // 32)
        thr, _ = c.p(layer.params[1], np.int32, n_out)
        f = c.lib.eh_fc_b1_bits

        def run():
            st = f(n_in, n_out, x, w, thr, y)
            if st:
                c.fail("eh_fc_b1_bits", st)
        return run


OPS = [
    FcB1(32, F.Spec("fc_b1_f32", (F.DT_B1,), F.DT_F32, F.KIND_ACT, False, [],
                    [("weight", "wb1", "<u4", None), ("scale", "vec", F.F32, "finite"),
                     ("bias", "bias", F.F32, None)])),
    FcB1(35, F.Spec("fc_b1_bits", (F.DT_B1,), F.DT_B1, F.KIND_ACT, False, [],
                    [("weight", "wb1", "<u4", None), ("threshold", "vec", "<i4", "thrb1")])),
]
