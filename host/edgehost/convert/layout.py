"""The weight layout of the converter's spike-driven dense layers: fc_spike_q15 (5, weights
row-major [n_out][n_in], `eh_fc_spike_q15`) or fc_spike_t_q15 (57, format 1.6, the same weights
input-major [n_in][n_out], `eh_fc_spike_t_q15`: each input spike adds one contiguous row to the
outputs' accumulators, eight at a time in registers on the microcontrollers). Both compute the same
outputs bit for bit (kernels_c/include/eh_basic.h), so the choice is speed only.

The rule: fc_spike_t_q15 when n_out >= SPIKE_T_MIN_OUT (8), else fc_spike_q15. Measured with
`edgehost bench` (QEMU instruction counts, both kernels on the same random weights and spikes,
activities 5 / 15 / 30 / 50 %; docs/model-format.md, "fc_spike_t_q15"): on mps2-an386
(Cortex-M4) the input-major kernel is faster at every size with n_out >= 8 that was measured
(16x8 to 1024x256, 0.50 to 0.97 of fc_spike_q15's count; 1024x256 at 15 %: 147,495 vs 183,653),
except 256x32 at 5 % activity (1.04) and 64x64 at 5 % (1.00); with n_out < 8 it is slower (64x4:
1.00 to 1.25, 256x6: 0.99 to 1.07: a partial chunk of accumulators walks the spike masks for
fewer outputs). virt-rv32 (RV32IMC) agrees (0.42 to 0.99 for n_out >= 8, 64x4 1.05 to 1.32).
The converter does not know the activity of a layer on the target's data, so the rule uses the
sizes only.
"""
from __future__ import annotations

import numpy as np

from ..blob.model import Model

SPIKE_T_MIN_OUT = 8


def spike_t_faster(n_in: int, n_out: int) -> bool:
    """Does fc_spike_t_q15 run faster than fc_spike_q15 for this layer (the module's rule)?"""
    return n_out >= SPIKE_T_MIN_OUT


def choose_spike_fc_layout(model: Model) -> list[int]:
    """Rewrite, in place, each fc_spike_q15 layer for which spike_t_faster holds as
    fc_spike_t_q15 (its weights transposed to input-major; bias, shift, tensors unchanged).
    Returns the indices of the layers rewritten."""
    done = []
    for i, l in enumerate(model.layers):
        if l.type != "fc_spike_q15" or not spike_t_faster(l.n_in, l.n_out):
            continue
        w = np.asarray(l.params[0], np.int16).reshape(l.n_out, l.n_in)
        l.params[0] = np.ascontiguousarray(w.T).ravel()
        l.type = "fc_spike_t_q15"
        done.append(i)
    return done
