"""The delayed (recurrent) edge of a graph (format 1.5): delay (25).

Any dtype [n] -> the same dtype [n] (checked: `output tensor 9 dtype q15, expected spike (the
input's)`), a state tensor (`output tensor 9 kind activation, expected state`), n_in = n_out.
The step copies the input into the output. Unlike any other tensor, a delay's output may be read
by layers before the delay in the schedule (`Spec.read_ahead`): they read the previous step's
value (zero after a reset). Its input's lifetime ends at the delay like any other; its output, a
state tensor, shares bytes with nothing.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op


class Delay(Op):
    minor = 5

    def step(self, hm, layer, x):
        return x.copy()

    def prepare(self, hm, layer):
        x, y = hm.t[layer.input], hm.t[layer.output]
        if x.dtype != y.dtype or x.size != y.size:
            return None
        return lambda: np.copyto(y, x)


OPS = [Delay(25, F.Spec("delay", F.ALL_DTYPES, None, F.KIND_STATE, True, [], [], read_ahead=True))]
