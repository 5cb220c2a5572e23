"""Packing into binary vectors: pack_spikes_b1 (36) and pack_signs_b1 (43, format 1.4).

pack_spikes_b1: spike [n] -> b1 [n], a spike is the value -1 (bit 1) (`eh_pack_spikes_b1`);
pack_signs_b1: s8 / q15 / f32 [n] -> b1 [n], bit = (v < 0) (`eh_pack_signs_b1` for s8; the
interpreter for q15 and f32, where NaN is +1);
unpack_spikes_b1 (60, format 1.6): b1 [n] -> spike [n], a set bit is a spike (the model input
of event data: one bit per pixel and polarity on the wire).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep


class Pack(Op):
    def step(self, hm, layer, x):
        B = hm.k.binary
        if layer.type == "pack_spikes_b1":
            return B.pack_spikes_b1(x)
        if x.dtype == np.int8:
            return B.pack_signs_b1(x)
        return B.pack_spikes_b1((x < 0).astype(np.uint8))     # q15 / f32 (NaN is not < 0)

    def prepare(self, hm, layer):
        c = Prep(hm, "binary")
        n = layer.n_out
        src = hm.t[layer.input]
        y, _ = c.t(layer.output, np.uint32, (n + 31) // 32)
        f = c.lib.eh_pack_spikes_b1
        if layer.type == "pack_spikes_b1" or src.dtype == np.int8:
            if layer.type == "pack_signs_b1":
                f = c.lib.eh_pack_signs_b1
            x, _ = c.t(layer.input, np.uint8 if layer.type == "pack_spikes_b1" else np.int8, n)
            name = "eh_" + layer.type

            def run():
                st = f(n, x, y)
                if st:
                    c.fail(name, st)
            return run
        if src.size != n:
            return None
        neg_p, neg = c.buf(n, np.uint8)
        neg_b = neg.view(np.bool_)

        def run():                                  # q15 / f32: bit = v < 0 (NaN is not)
            np.less(src, 0, out=neg_b)
            st = f(n, neg_p, y)
            if st:
                c.fail("eh_pack_spikes_b1", st)
        return run


class Unpack(Op):
    def step(self, hm, layer, x):
        w = np.asarray(x, np.uint32)
        bits = (w[:, None] >> np.arange(32, dtype=np.uint32)) & 1
        return bits.ravel()[:layer.n_out].astype(np.uint8)

    def prepare(self, hm, layer):
        n = layer.n_out
        x = hm.t[layer.input]
        y = hm.t[layer.output]
        if x.dtype != np.uint32 or y.dtype != np.uint8 or y.size != n:
            return None
        xb = x.view(np.uint8)          # little-endian words: bit i of word w is bit i % 8 of byte 4w + i / 8

        def run():
            y[...] = np.unpackbits(xb, bitorder="little")[:n]
        return run


OPS = [
    Pack(36, F.Spec("pack_spikes_b1", (F.DT_SPIKE,), F.DT_B1, F.KIND_ACT, True, [], [])),
    Pack(43, F.Spec("pack_signs_b1", (F.DT_S8, F.DT_Q15, F.DT_F32), F.DT_B1, F.KIND_ACT, True, [], []), minor=4),
    Unpack(60, F.Spec("unpack_spikes_b1", (F.DT_B1,), F.DT_SPIKE, F.KIND_ACT, True, [], []), minor=6),
]
