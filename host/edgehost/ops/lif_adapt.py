"""LIF with input-weighted threshold adaptation: lif_adapt_f32 (21), lif_adapt_q15 (22), format 1.3.

Two inputs of n elements: the current x (input) and the threshold input x_th (input2, record
offset 14, on the membrane's scale). Per step (`eh_lif_adapt_step_*`), s_prev the output's spikes
of the step before:
    thr_prev = clamp(threshold + a, 1, 32767)   (f32: threshold + a)
    v = mem_leak(v) + x - s_prev thr_prev (reset 0)  or  (s_prev ? 0 : mem_leak(v)) + x (reset 1)
    a = th_leak(a) + x_th
    s = v > clamp(threshold + a, 1, 32767)
States: 0 v, 1 a. The reset byte's bit 1 (same step) is not allowed.
"""
from __future__ import annotations

from ..blob import format as F
from .base import Op, leak_arg


class LifAdapt(Op):
    minor = 3

    def step(self, hm, layer, x):
        T, L, p, st = hm.t, hm.k.lif, layer.params, layer.states
        if layer.type == "lif_adapt_f32":
            T[st[0]], T[st[1]], y = L.lif_adapt_step_f32(x, T[layer.input2], T[st[0]], T[st[1]], T[layer.output],
                                                         p[0], p[1], p[2], layer.reset)
            return y
        lm, lt = leak_arg(layer, 0, 0), leak_arg(layer, 1, 1)
        T[st[0]], T[st[1]], y = L.lif_adapt_step_q15(
            x, T[layer.input2], T[st[0]], T[st[1]], T[layer.output], p[2],
            mem_decay=lm.get("decay"), mem_shift=lm.get("shift"),
            th_decay=lt.get("decay"), th_shift=lt.get("shift"), reset=layer.reset)
        return y


OPS = [
    LifAdapt(21, F.Spec("lif_adapt_f32", (F.DT_F32,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_F32, F.DT_F32],
                        [("beta", "pn", F.F32, "unit"), ("beta_th", "pn", F.F32, "unit"),
                         ("threshold", "pn", F.F32, "pos")], reset=True, in2_dt=(F.DT_F32,))),
    LifAdapt(22, F.Spec("lif_adapt_q15", (F.DT_Q15,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_Q15, F.DT_Q15],
                        [("mem_leak", "leak", None, None), ("th_leak", "leak", None, None),
                         ("threshold", "pn", "<i2", "thr15")], reset=True, leaks=2, in2_dt=(F.DT_Q15,))),
]
