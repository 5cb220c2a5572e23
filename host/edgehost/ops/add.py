"""Element-wise sums, the fan-in of a graph (format 1.5): add_f32 (23), add_q15 (24).

Two inputs of n elements, x (input) and x2 (input2, record offset 14), checked like lif_adapt's
(dtype, then elements, right after the input's), -> n elements:
    add_f32: y = x + x2, one float32 addition per element
    add_q15: y = sat16(x + x2); x, x2 and y on one scale (checked right after the input2
             checks, input2's: `input2 tensor 5 scale 0.0012 differs from input tensor 4 scale 0.0013`,
             then the output's)
Interpreter arithmetic (no kernel), the same on both host backends.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op


class Add(Op):
    minor = 5

    def check_io(self, ctx):
        if self.name != "add_q15":
            return
        s1 = ctx.tensors[ctx.input].scale
        for name, t in (("input2", ctx.input2), ("output", ctx.output)):
            s = ctx.tensors[t].scale
            if s != s1:
                ctx.fail(f"{name} tensor {t} scale {s:g} differs from input tensor {ctx.input} scale {s1:g}", F.E_LAYER)

    def step(self, hm, layer, x):
        x2 = hm.t[layer.input2]
        if layer.type == "add_f32":
            return (x.astype(np.float32) + x2.astype(np.float32)).astype(np.float32)
        return np.clip(x.astype(np.int32) + x2.astype(np.int32), -32768, 32767).astype(np.int16)

    def prepare(self, hm, layer):
        x, x2, y = hm.t[layer.input], hm.t[layer.input2], hm.t[layer.output]
        dt = np.float32 if layer.type == "add_f32" else np.int16
        if not x.dtype == x2.dtype == y.dtype == dt or not x.size == x2.size == y.size:
            return None
        if layer.type == "add_f32":
            return lambda: np.add(x, x2, out=y)
        acc = np.zeros(y.size, np.int32)

        def run():
            np.add(x, x2, out=acc, dtype=np.int32)
            np.clip(acc, -32768, 32767, out=acc)
            y[...] = acc
        return run


OPS = [
    Add(23, F.Spec("add_f32", (F.DT_F32,), F.DT_F32, F.KIND_ACT, True, [], [], in2_dt=(F.DT_F32,))),
    Add(24, F.Spec("add_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, True, [], [], in2_dt=(F.DT_Q15,))),
]
