"""Leaky integrators (the readouts): li_f32 (10), li_q15 (11).

y = leak(y) + x in the output tensor (a state tensor): li_f32 y = beta y + x (beta f32 1 or n in
[0, 1]); li_q15 with a Q15 leak (u16 decay or, with leak bit 0, u8 shift) and saturation
(`eh_li_step_*`).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, leak_arg


class Li(Op):
    def step(self, hm, layer, x):
        if layer.type == "li_f32":
            return hm.k.basic.li_step_f32(x, hm.t[layer.output], layer.params[0])
        return hm.k.basic.li_step_q15(x, hm.t[layer.output], **leak_arg(layer, 0, 0))

    def prepare(self, hm, layer):
        c = Prep(hm, "basic")
        n = layer.n_out
        if layer.type == "li_f32":
            x, _ = c.t(layer.input, np.float32, n)
            y, _ = c.t(layer.output, np.float32, n)
            beta, nb = c.p(layer.params[0], np.float32, (1, n))
            f = c.lib.eh_li_step_f32

            def run():
                st = f(n, x, y, beta, nb)
                if st:
                    c.fail("eh_li_step_f32", st)
            return run
        x, _ = c.t(layer.input, np.int16, n)
        y, _ = c.t(layer.output, np.int16, n)
        leak = c.leak(layer, 0, 0, n)
        f = c.lib.eh_li_step_q15

        def run():
            st = f(n, x, y, leak)
            if st:
                c.fail("eh_li_step_q15", st)
        return run


OPS = [
    Li(10, F.Spec("li_f32", (F.DT_F32,), F.DT_F32, F.KIND_STATE, True, [], [("beta", "pn", F.F32, "unit")])),
    Li(11, F.Spec("li_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_STATE, True, [], [("leak", "leak", None, None)],
                  leaks=1)),
]
