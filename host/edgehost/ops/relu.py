"""relu_f32 (12), relu_q15 (13): y = max(x, 0) (`eh_relu_*`)."""
from __future__ import annotations

from ..blob import format as F
from .base import Op


class Relu(Op):
    def step(self, hm, layer, x):
        return hm.k.basic.relu_f32(x) if layer.type == "relu_f32" else hm.k.basic.relu_q15(x)


OPS = [
    Relu(12, F.Spec("relu_f32", (F.DT_F32,), F.DT_F32, F.KIND_ACT, True, [], [])),
    Relu(13, F.Spec("relu_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, True, [], [])),
]
