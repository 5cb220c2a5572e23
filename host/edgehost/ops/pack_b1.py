"""Packing into binary vectors: pack_spikes_b1 (36) and pack_signs_b1 (43, format 1.4).

pack_spikes_b1: spike [n] -> b1 [n], a spike is the value -1 (bit 1) (`eh_pack_spikes_b1`);
pack_signs_b1: s8 / q15 / f32 [n] -> b1 [n], bit = (v < 0) (`eh_pack_signs_b1` for s8; the
interpreter for q15 and f32, where NaN is +1).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op


class Pack(Op):
    def step(self, hm, layer, x):
        B = hm.k.binary
        if layer.type == "pack_spikes_b1":
            return B.pack_spikes_b1(x)
        if x.dtype == np.int8:
            return B.pack_signs_b1(x)
        return B.pack_spikes_b1((x < 0).astype(np.uint8))     # q15 / f32 (NaN is not < 0)


OPS = [
    Pack(36, F.Spec("pack_spikes_b1", (F.DT_SPIKE,), F.DT_B1, F.KIND_ACT, True, [], [])),
    Pack(43, F.Spec("pack_signs_b1", (F.DT_S8, F.DT_Q15, F.DT_F32), F.DT_B1, F.KIND_ACT, True, [], []), minor=4),
]
