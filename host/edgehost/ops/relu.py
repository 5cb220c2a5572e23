"""relu_f32 (12), relu_q15 (13): y = max(x, 0) (`eh_relu_*`)."""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep


class Relu(Op):
    def step(self, hm, layer, x):
        return hm.k.basic.relu_f32(x) if layer.type == "relu_f32" else hm.k.basic.relu_q15(x)

    def prepare(self, hm, layer):
        c = Prep(hm, "basic")
        n = layer.n_out
        dt = np.float32 if layer.type == "relu_f32" else np.int16
        x, _ = c.t(layer.input, dt, n)
        y, _ = c.t(layer.output, dt, n)
        f, name = getattr(c.lib, f"eh_{layer.type}"), f"eh_{layer.type}"

        def run():
            st = f(n, x, y)
            if st:
                c.fail(name, st)
        return run


OPS = [
    Relu(12, F.Spec("relu_f32", (F.DT_F32,), F.DT_F32, F.KIND_ACT, True, [], [])),
    Relu(13, F.Spec("relu_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, True, [], [])),
]
