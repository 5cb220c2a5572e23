"""Dense layers: fc_f32 (3), fc_q15 (4), fc_spike_q15 (5).

y = W x + b: weight [n_out n_in] (f32 / i16), bias [n_out] or absent (f32 / i32); the Q15 layers
round-shift by the record's shift (0..31) and saturate (`eh_fc_f32`, `eh_fc_q15`,
`eh_fc_spike_q15`, kernels_c/include/eh_basic.h).
"""
from __future__ import annotations

from ..blob import format as F
from .base import Op


class Fc(Op):
    def step(self, hm, layer, x):
        B = hm.k.basic
        w = layer.params[0].reshape(layer.n_out, layer.n_in)
        b = layer.params[1]
        if layer.type == "fc_f32":
            return B.fc_f32(x, w, b)
        if layer.type == "fc_q15":
            return B.fc_q15(x, w, b, layer.shift)
        return B.fc_spike_q15(x, w, b, layer.shift)


OPS = [
    Fc(3, F.Spec("fc_f32", (F.DT_F32,), F.DT_F32, F.KIND_ACT, False, [],
                 [("weight", "w", F.F32, None), ("bias", "bias", F.F32, None)])),
    Fc(4, F.Spec("fc_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, False, [],
                 [("weight", "w", "<i2", None), ("bias", "bias", "<i4", None)], shift=True)),
    Fc(5, F.Spec("fc_spike_q15", (F.DT_SPIKE,), F.DT_Q15, F.KIND_ACT, False, [],
                 [("weight", "w", "<i2", None), ("bias", "bias", "<i4", None)], shift=True)),
]
