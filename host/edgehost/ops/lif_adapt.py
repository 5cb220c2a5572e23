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

import numpy as np

from ..blob import format as F
from ..sim._checks import reset_mode
from .base import Op, Prep, leak_arg


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

    def prepare(self, hm, layer):
        c = Prep(hm, "lif")
        n, p, st, rc = layer.n_out, layer.params, layer.states, reset_mode(layer.reset)
        dt = np.float32 if layer.type == "lif_adapt_f32" else np.int16
        x, _ = c.t(layer.input, dt, n)
        xt, _ = c.t(layer.input2, dt, n)
        v, _ = c.t(st[0], dt, n)
        a, _ = c.t(st[1], dt, n)
        s, _ = c.t(layer.output, np.uint8, n)
        if layer.type == "lif_adapt_f32":
            (b, nb), (bt, nbt), (thr, nt) = (c.p(p[k], np.float32, (1, n)) for k in range(3))
            f = c.lib.eh_lif_adapt_step_f32

            def run():
                r = f(n, x, xt, v, a, s, b, nb, bt, nbt, thr, nt, rc)
                if r:
                    c.fail("eh_lif_adapt_step_f32", r)
            return run
        lm, lt = c.leak(layer, 0, 0, n), c.leak(layer, 1, 1, n)
        thr, nt = c.p(p[2], np.int16, (1, n))
        f = c.lib.eh_lif_adapt_step_q15

        def run():
            r = f(n, x, xt, v, a, s, lm, lt, thr, nt, rc)
            if r:
                c.fail("eh_lif_adapt_step_q15", r)
        return run


OPS = [
    LifAdapt(21, F.Spec("lif_adapt_f32", (F.DT_F32,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_F32, F.DT_F32],
                        [("beta", "pn", F.F32, "unit"), ("beta_th", "pn", F.F32, "unit"),
                         ("threshold", "pn", F.F32, "pos")], reset=True, in2_dt=(F.DT_F32,))),
    LifAdapt(22, F.Spec("lif_adapt_q15", (F.DT_Q15,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_Q15, F.DT_Q15],
                        [("mem_leak", "leak", None, None), ("th_leak", "leak", None, None),
                         ("threshold", "pn", "<i2", "thr15")], reset=True, leaks=2, in2_dt=(F.DT_Q15,))),
]
