"""spike_count (15): spike [n] -> u16 [n], a state tensor that accumulates the spikes
(`eh_spike_count_u16`, saturating)."""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep


class SpikeCount(Op):
    def step(self, hm, layer, x):
        return hm.k.basic.spike_count_u16(x, hm.t[layer.output])

    def prepare(self, hm, layer):
        c = Prep(hm, "basic")
        n = layer.n_out
        x, _ = c.t(layer.input, np.uint8, n)
        y, _ = c.t(layer.output, np.uint16, n)
        f = c.lib.eh_spike_count_u16

        def run():
            st = f(n, x, y)
            if st:
                c.fail("eh_spike_count_u16", st)
        return run


OPS = [SpikeCount(15, F.Spec("spike_count", (F.DT_SPIKE,), F.DT_U16, F.KIND_STATE, True, [], []))]
