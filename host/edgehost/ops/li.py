"""Leaky integrators (the readouts): li_f32 (10), li_q15 (11).

y = leak(y) + x in the output tensor (a state tensor): li_f32 y = beta y + x (beta f32 1 or n in
[0, 1]); li_q15 with a Q15 leak (u16 decay or, with leak bit 0, u8 shift) and saturation
(`eh_li_step_*`).
"""
from __future__ import annotations

from ..blob import format as F
from .base import Op, leak_arg


class Li(Op):
    def step(self, hm, layer, x):
        if layer.type == "li_f32":
            return hm.k.basic.li_step_f32(x, hm.t[layer.output], layer.params[0])
        return hm.k.basic.li_step_q15(x, hm.t[layer.output], **leak_arg(layer, 0, 0))


OPS = [
    Li(10, F.Spec("li_f32", (F.DT_F32,), F.DT_F32, F.KIND_STATE, True, [], [("beta", "pn", F.F32, "unit")])),
    Li(11, F.Spec("li_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_STATE, True, [], [("leak", "leak", None, None)],
                  leaks=1)),
]
