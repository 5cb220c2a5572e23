"""argmax (14): f32 / q15 / s32 [n] -> u32 [1], the index of the first largest value
(`eh_argmax_*`)."""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep


class Argmax(Op):
    def step(self, hm, layer, x):
        dt = hm.model.tensors[layer.input].dtype
        return np.array([getattr(hm.k.basic, f"argmax_{dt}")(x)], np.uint32)

    def prepare(self, hm, layer):
        c = Prep(hm, "basic")
        dt = hm.model.tensors[layer.input].dtype
        n = hm.model.tensors[layer.input].n
        x, _ = c.t(layer.input, {"f32": np.float32, "q15": np.int16, "s32": np.int32}[dt], n)
        y, _ = c.t(layer.output, np.uint32, 1)
        f, name = getattr(c.lib, f"eh_argmax_{dt}"), f"eh_argmax_{dt}"

        def run():
            st = f(n, x, y)
            if st:
                c.fail(name, st)
        return run


OPS = [Argmax(14, F.Spec("argmax", (F.DT_F32, F.DT_Q15, F.DT_S32), F.DT_U32, F.KIND_ACT, False, [], [],
                          n_out_one=True))]
