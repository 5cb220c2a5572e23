"""Current-based LIF: cubalif_f32 (8), cubalif_q15 (9).

Per step (`eh_cubalif_step_*`, kernels_c/include/eh_lif.h): i = syn_leak(i) + x, then as LIF with
i as the input: v = leak(v) + i - s_prev thr (subtract) or s_prev ? 0 : leak(v) + i (zero);
s = v > thr. cubalif_f32: alpha, beta in [0, 1], threshold > 0 (1 or n each); cubalif_q15: syn
leak (leak bit 0), mem leak (leak bit 1), threshold i16 in [1, 32767]. States: 0 i, 1 v.
Format 1.5: the same-step reset and v_reset (param 3) of edgehost/ops/lif.py; the reset touches v
only. Format 1.6: resets 4 (none) and 5 (snnTorch's same step), as lif_*.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from ..sim._checks import RESETS_LIF, reset_mode
from .base import Prep, leak_arg
from .lif import SpikingOp, kernel_reset


class CubaLif(SpikingOp):
    def step(self, hm, layer, x):
        T, L, p, st = hm.t, hm.k.lif, layer.params, layer.states
        s_prev = self.spikes_in(hm, layer)
        if layer.type == "cubalif_f32":
            i, v, y = L.cubalif_step_f32(x, T[st[0]], T[st[1]], s_prev, p[0], p[1], p[2], kernel_reset(layer))
        else:
            ls, lm = leak_arg(layer, 0, 0), leak_arg(layer, 1, 1)
            i, v, y = L.cubalif_step_q15(x, T[st[0]], T[st[1]], s_prev, p[2],
                                         syn_decay=ls.get("decay"), syn_shift=ls.get("shift"),
                                         mem_decay=lm.get("decay"), mem_shift=lm.get("shift"),
                                         reset=kernel_reset(layer))
        T[st[0]] = i
        T[st[1]] = self.reset_after(layer, v, y)
        return y

    def prepare(self, hm, layer):
        c = Prep(hm, "lif")
        n, p, st, rc = layer.n_out, layer.params, layer.states, reset_mode(kernel_reset(layer), RESETS_LIF)
        dt = np.float32 if layer.type == "cubalif_f32" else np.int16
        x, _ = c.t(layer.input, dt, n)
        i, _ = c.t(st[0], dt, n)
        v, _ = c.t(st[1], dt, n)
        s, _ = c.t(layer.output, np.uint8, n)
        if layer.type == "cubalif_f32":
            (a, na), (b, nb), (thr, nt) = (c.p(p[k], np.float32, (1, n)) for k in range(3))
            f = c.lib.eh_cubalif_step_f32

            def kernel():
                r = f(n, x, i, v, s, a, na, b, nb, thr, nt, rc)
                if r:
                    c.fail("eh_cubalif_step_f32", r)
        else:
            ls, lm = c.leak(layer, 0, 0, n), c.leak(layer, 1, 1, n)
            thr, nt = c.p(p[2], np.int16, (1, n))
            c.check("eh_cubalif_check_q15", c.lib.eh_cubalif_check_q15(n, ls, lm, thr, nt, rc))
            f = c.lib.eh_cubalif_step_q15_unchecked

            def kernel():
                f(n, x, i, v, s, ls, lm, thr, nt, rc)
        return self.prepared(hm, layer, kernel, st[1])


OPS = [
    CubaLif(8, F.Spec("cubalif_f32", (F.DT_F32,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_F32, F.DT_F32],
                      [("alpha", "pn", F.F32, "unit"), ("beta", "pn", F.F32, "unit"),
                       ("threshold", "pn", F.F32, "pos"), ("v_reset", "pn_opt", F.F32, "finite")],
                      reset=True, reset_bits=7, reset_max=5), 2, 3),
    CubaLif(9, F.Spec("cubalif_q15", (F.DT_Q15,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_Q15, F.DT_Q15],
                      [("syn_leak", "leak", None, None), ("mem_leak", "leak", None, None),
                       ("threshold", "pn", "<i2", "thr15"), ("v_reset", "pn_opt", "<i2", None)],
                      reset=True, leaks=2, reset_bits=7, reset_max=5), 2, 3),
]
