"""argmax (14): f32 / q15 / s32 [n] -> u32 [1], the index of the first largest value
(`eh_argmax_*`)."""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op


class Argmax(Op):
    def step(self, hm, layer, x):
        dt = hm.model.tensors[layer.input].dtype
        return np.array([getattr(hm.k.basic, f"argmax_{dt}")(x)], np.uint32)


OPS = [Argmax(14, F.Spec("argmax", (F.DT_F32, F.DT_Q15, F.DT_S32), F.DT_U32, F.KIND_ACT, False, [], [],
                          n_out_one=True))]
