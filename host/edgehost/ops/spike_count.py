"""spike_count (15): spike [n] -> u16 [n], a state tensor that accumulates the spikes
(`eh_spike_count_u16`, saturating)."""
from __future__ import annotations

from ..blob import format as F
from .base import Op


class SpikeCount(Op):
    def step(self, hm, layer, x):
        return hm.k.basic.spike_count_u16(x, hm.t[layer.output])


OPS = [SpikeCount(15, F.Spec("spike_count", (F.DT_SPIKE,), F.DT_U16, F.KIND_STATE, True, [], []))]
