"""Binary-coding-quantised dense layer (format 1.4): bcq_fc_q15 (41).

q15 [n_in] -> q15 [n_out], n_in <= 65535. W[o] = sum_j 2^alpha_exp[o][j] B[o][j] with q binary
planes: "alpha_exp" i8 [n_out q] in [-24, 24] (q = entries / n_out in [1, 8]), "weight" u32
[n_out q W] (the planes, eh_binary.h packing), bias i32 [n_out] or absent; the record's shift in
[0, 62] (`eh_bcq_fc_q15`, table look-up). State 0: the look-up tables, an s32 scratch
[256 ceil(n_in / 8)], an activation of this layer.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, check_range, check_scratch


class BcqFc(Op):
    minor = 4

    def count(self, ctx, k, kind, cnt):
        n_out = ctx.n_out
        if kind == "bcq_alpha":
            return cnt % n_out == 0 and 1 <= cnt // n_out <= F.BCQ_MAX_Q, f"{n_out} x q with q in [1, {F.BCQ_MAX_Q}]"
        if kind == "bcq_w":
            q = ctx.extra["q"]
            return cnt == n_out * q * ctx.W, f"{n_out * q * ctx.W} (n_out x q x {ctx.W})"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "bcq_alpha":
            ctx.extra["q"] = vals.size // ctx.n_out
            check_range(ctx, k, vals, (vals < -24) | (vals > 24), "outside [-24, 24]")
        else:
            super().values(ctx, k, kind, check, vals)

    def scratch_elements(self, n_in, n_out):
        return 256 * ((n_in + 7) // 8)

    def check(self, ctx):
        check_scratch(ctx, self.scratch_elements(ctx.n_in, ctx.n_out))

    def step(self, hm, layer, x):
        q = layer.params[0].size // layer.n_out
        w = layer.params[1].reshape(layer.n_out, q, -1)
        return hm.k.shiftadd.bcq_fc_q15(x, w, layer.params[0].reshape(layer.n_out, q), layer.params[2], layer.shift)

    def prepare(self, hm, layer):
        """eh_bcq_fc_q15 with its own look-up table buffer (the scratch tensor's content is not
        modelled, as in step)."""
        c = Prep(hm, "shiftadd")
        n_in, n_out, sh = layer.n_in, layer.n_out, int(layer.shift)
        q = np.asarray(layer.params[0]).size // n_out
        W = (n_in + 31) // 32
        x, _ = c.t(layer.input, np.int16, n_in)
        y, _ = c.t(layer.output, np.int16, n_out)
        e, _ = c.p(layer.params[0], np.int8, n_out * q)
        w, _ = c.p(layer.params[1], np.uint32, n_out * q * W)
        b, _ = c.p(layer.params[2], np.int32, n_out)
        tl = max(int(c.lib.eh_bcq_table_len(n_in)), 1)
        table, _ = c.buf(tl, np.int32)
        f = c.lib.eh_bcq_fc_q15

        def run():
            st = f(n_in, n_out, q, x, w, e, b, sh, table, tl, y)
            if st:
                c.fail("eh_bcq_fc_q15", st)
        return run


OPS = [BcqFc(41, F.Spec("bcq_fc_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, False, [F.DT_S32],
                        [("alpha_exp", "bcq_alpha", "i1", None), ("weight", "bcq_w", "<u4", None),
                         ("bias", "bias", "<i4", None)], shift=True, shift_max=62, scratch=True,
                        max_n_in=F.BCQ_MAX_K))]
