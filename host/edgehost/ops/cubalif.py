"""Current-based LIF: cubalif_f32 (8), cubalif_q15 (9).

Per step (`eh_cubalif_step_*`, kernels_c/include/eh_lif.h): i = syn_leak(i) + x, then as LIF with
i as the input: v = leak(v) + i - s_prev thr (subtract) or s_prev ? 0 : leak(v) + i (zero);
s = v > thr. cubalif_f32: alpha, beta in [0, 1], threshold > 0 (1 or n each); cubalif_q15: syn
leak (leak bit 0), mem leak (leak bit 1), threshold i16 in [1, 32767]. States: 0 i, 1 v.
Format 1.5: the same-step reset and v_reset (param 3) of edgehost/ops/lif.py; the reset touches v
only.
"""
from __future__ import annotations

from ..blob import format as F
from .base import leak_arg
from .lif import SpikingOp


class CubaLif(SpikingOp):
    def step(self, hm, layer, x):
        T, L, p, st = hm.t, hm.k.lif, layer.params, layer.states
        s_prev = self.spikes_in(hm, layer)
        if layer.type == "cubalif_f32":
            i, v, y = L.cubalif_step_f32(x, T[st[0]], T[st[1]], s_prev, p[0], p[1], p[2], layer.reset)
        else:
            ls, lm = leak_arg(layer, 0, 0), leak_arg(layer, 1, 1)
            i, v, y = L.cubalif_step_q15(x, T[st[0]], T[st[1]], s_prev, p[2],
                                         syn_decay=ls.get("decay"), syn_shift=ls.get("shift"),
                                         mem_decay=lm.get("decay"), mem_shift=lm.get("shift"),
                                         reset=layer.reset)
        T[st[0]] = i
        T[st[1]] = self.reset_after(layer, v, y)
        return y


OPS = [
    CubaLif(8, F.Spec("cubalif_f32", (F.DT_F32,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_F32, F.DT_F32],
                      [("alpha", "pn", F.F32, "unit"), ("beta", "pn", F.F32, "unit"),
                       ("threshold", "pn", F.F32, "pos"), ("v_reset", "pn_opt", F.F32, "finite")],
                      reset=True, reset_bits=3), 2, 3),
    CubaLif(9, F.Spec("cubalif_q15", (F.DT_Q15,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_Q15, F.DT_Q15],
                      [("syn_leak", "leak", None, None), ("mem_leak", "leak", None, None),
                       ("threshold", "pn", "<i2", "thr15"), ("v_reset", "pn_opt", "<i2", None)],
                      reset=True, leaks=2, reset_bits=3), 2, 3),
]
