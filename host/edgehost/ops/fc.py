"""Dense layers: fc_f32 (3), fc_q15 (4), fc_spike_q15 (5), fc_spike_t_q15 (57, format 1.6).

y = W x + b: weight [n_out n_in] (f32 / i16), bias [n_out] or absent (f32 / i32); the Q15 layers
round-shift by the record's shift (0..31) and saturate (`eh_fc_f32`, `eh_fc_q15`,
`eh_fc_spike_q15`, kernels_c/include/eh_basic.h). The prepared step of fc_spike_q15 runs
`eh_fc_spike_t_q15` on the weights transposed once (input-major: each input spike adds one
contiguous row; the same result bit for bit, eh_basic.h). fc_spike_t_q15 is fc_spike_q15 with the
weights stored input-major in the blob, i16 [n_in n_out] (the same entry count, checks and
messages), so the device runs `eh_fc_spike_t_q15` too; the converter writes it where that kernel
is the faster one (edgehost.convert.layout).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep


class Fc(Op):
    def step(self, hm, layer, x):
        B = hm.k.basic
        w = layer.params[0].reshape(layer.n_out, layer.n_in)
        b = layer.params[1]
        if layer.type == "fc_f32":
            return B.fc_f32(x, w, b)
        if layer.type == "fc_q15":
            return B.fc_q15(x, w, b, layer.shift)
        if layer.type == "fc_spike_t_q15":
            return B.fc_spike_t_q15(x, layer.params[0].reshape(layer.n_in, layer.n_out), b, layer.shift)
        return B.fc_spike_q15(x, w, b, layer.shift)

    def prepare(self, hm, layer):
        c = Prep(hm, "basic")
        n_in, n_out, sh = layer.n_in, layer.n_out, int(layer.shift)
        w = layer.params[0]
        if layer.type == "fc_f32":
            x, _ = c.t(layer.input, np.float32, n_in)
            y, _ = c.t(layer.output, np.float32, n_out)
            wp, _ = c.p(w, np.float32, n_in * n_out)
            bp, _ = c.p(layer.params[1], np.float32, n_out)
            f = c.lib.eh_fc_f32

            def run():
                st = f(n_in, n_out, x, wp, bp, y)
                if st:
                    c.fail("eh_fc_f32", st)
            return run
        y, _ = c.t(layer.output, np.int16, n_out)
        bp, _ = c.p(layer.params[1], np.int32, n_out)
        if layer.type == "fc_q15":
            x, _ = c.t(layer.input, np.int16, n_in)
            wp, _ = c.p(w, np.int16, n_in * n_out)
            f, name = c.lib.eh_fc_q15, "eh_fc_q15"
        elif layer.type == "fc_spike_t_q15":
            x, _ = c.t(layer.input, np.uint8, n_in)
            wp, _ = c.p(w, np.int16, n_in * n_out)               # already [n_in][n_out]
            f, name = c.lib.eh_fc_spike_t_q15, "eh_fc_spike_t_q15"
        else:
            x, _ = c.t(layer.input, np.uint8, n_in)
            wt = np.asarray(w).reshape(n_out, n_in).T            # [n_in][n_out]
            wp, _ = c.p(wt, np.int16, n_in * n_out)
            f, name = c.lib.eh_fc_spike_t_q15, "eh_fc_spike_t_q15"

        def run():
            st = f(n_in, n_out, x, wp, bp, sh, y)
            if st:
                c.fail(name, st)
        return run


OPS = [
    Fc(3, F.Spec("fc_f32", (F.DT_F32,), F.DT_F32, F.KIND_ACT, False, [],
                 [("weight", "w", F.F32, None), ("bias", "bias", F.F32, None)])),
    Fc(4, F.Spec("fc_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, False, [],
                 [("weight", "w", "<i2", None), ("bias", "bias", "<i4", None)], shift=True)),
    Fc(5, F.Spec("fc_spike_q15", (F.DT_SPIKE,), F.DT_Q15, F.KIND_ACT, False, [],
                 [("weight", "w", "<i2", None), ("bias", "bias", "<i4", None)], shift=True)),
    Fc(57, F.Spec("fc_spike_t_q15", (F.DT_SPIKE,), F.DT_Q15, F.KIND_ACT, False, [],
                  [("weight", "w", "<i2", None), ("bias", "bias", "<i4", None)], shift=True), minor=6),
]
