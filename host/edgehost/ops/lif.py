"""Leaky integrate-and-fire: lif_f32 (6), lif_q15 (7); and the resets of the spiking layers
(shared with cubalif_*).

Per step (`eh_lif_step_*`, kernels_c/include/eh_lif.h), s_prev being the output tensor's spikes
of the step before (the output is a state tensor):
    v = leak(v) + x - s_prev thr   (reset bit 0 clear: subtract)
    v = (s_prev ? 0 : leak(v)) + x (reset bit 0 set: to zero)
    s = v > thr
lif_f32: beta f32 [1 or n] in [0, 1], threshold f32 [1 or n] > 0; lif_q15: a Q15 leak (u16 decay,
or with leak bit 0 a u8 shift), threshold i16 [1 or n] in [1, 32767]. State 0: v.

Format 1.5 (docs/model-format.md, "Graphs"): reset bit 1 (same step) clears the output spikes
before the kernel, so the kernel applies no reset, then resets the membrane of every neuron that
spiked in this step: v = v - thr (bit 0 clear; q15 sat16, f32 one float32 subtraction) or
v = v_reset (bit 0 set; param "v_reset" [1 or n], f32 finite / i16, absent = 0). v_reset is
allowed only with reset 3 (both bits): checked when present, after its placement and length,
before its count.

Format 1.6: reset 4, no reset (snnTorch reset_mechanism="none"; the kernels' EH_RESET_NONE), and
reset 5, reset by subtraction in the step that spiked as snnTorch computes it with
reset_delay=False (EH_RESET_SUBTRACT_NOW: a membrane still above the threshold on entry needs
leak(v) + x - thr above it to spike, then v = leak(v) + x - s thr). The valid values are 0 to 5.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from ..sim._checks import RESETS_LIF, reset_mode
from .base import Op, Prep, leak_arg

RESET_3 = F.RESET_ZERO | F.RESET_SAME_STEP


def kernel_reset(layer) -> str:
    """The kernels' reset mode of a spiking layer (eh_lif.h): the same-step timing of format 1.5
    runs the kernel's subtract / zero on cleared spikes (SpikingOp.prepared)."""
    if layer.reset == "none":
        return "none"
    if layer.reset_timing == "same-snntorch":
        return "subtract_now"
    return layer.reset


def same_step_reset(q15: bool, reset: str, v: np.ndarray, s: np.ndarray, threshold, v_reset) -> np.ndarray:
    """The membrane after the same-step reset of the neurons that spiked (s != 0)."""
    n = v.size
    hit = np.asarray(s).ravel() != 0
    dt = np.int16 if q15 else np.float32
    v = np.asarray(v, dt).ravel()
    if reset == "subtract":
        t = np.broadcast_to(np.asarray(threshold).ravel(), (n,))
        if q15:
            new = np.clip(v.astype(np.int32) - t.astype(np.int32), -32768, 32767).astype(np.int16)
        else:
            new = (v - t.astype(np.float32)).astype(np.float32)
    else:
        vr = np.zeros(1, dt) if v_reset is None else np.asarray(v_reset, dt).ravel()
        new = np.broadcast_to(vr, (n,))
    return np.where(hit, new, v).astype(dt)


class SpikingOp(Op):
    """A spiking layer with the format-1.5 reset options: the parameter slots of its threshold
    and of its optional v_reset."""

    def __init__(self, code, spec, thr_slot: int, vreset_slot: int):
        super().__init__(code, spec)
        self.thr_slot = thr_slot
        self.vreset_slot = vreset_slot

    def v_reset(self, layer):
        k = self.vreset_slot
        return layer.params[k] if k < len(layer.params) else None

    def count(self, ctx, k, kind, cnt):
        if k == self.vreset_slot and ctx.reset != RESET_3:       # a present v_reset
            ctx.param_fail(k, f"only with reset to a value in the same step (reset {RESET_3})")
        return super().count(ctx, k, kind, cnt)

    def layer_minor(self, layer):
        if layer.reset == "none" or layer.reset_timing == "same-snntorch":
            return 6
        if layer.reset_timing == "same" or self.v_reset(layer) is not None:
            return 5
        return self.minor

    def spikes_in(self, hm, layer):
        """The previous step's spikes as the kernel sees them (none with a same-step reset)."""
        s = hm.t[layer.output]
        return np.zeros_like(s) if layer.reset_timing == "same" else s

    def reset_after(self, layer, v, s):
        if layer.reset_timing != "same":
            return v
        return same_step_reset(layer.type.endswith("_q15"), layer.reset, v, s,
                               layer.params[self.thr_slot], self.v_reset(layer))

    def prepared(self, hm, layer, kernel, v_state: int):
        """The prepared step around `kernel` (the C call on the tensors in place): with a
        same-step reset the kernel sees no spikes of the step before, then the neurons that
        spiked are reset (reset_after, on the membrane tensor in place)."""
        if layer.reset_timing != "same":
            return kernel
        s, v = hm.t[layer.output], hm.t[v_state]
        q15 = layer.type.endswith("_q15")
        thr, vr, reset = layer.params[self.thr_slot], self.v_reset(layer), layer.reset

        def run():
            s[...] = 0
            kernel()
            v[...] = same_step_reset(q15, reset, v, s, thr, vr)
        return run


class Lif(SpikingOp):
    def step(self, hm, layer, x):
        T, L, p, st = hm.t, hm.k.lif, layer.params, layer.states
        s_prev = self.spikes_in(hm, layer)
        if layer.type == "lif_f32":
            v, y = L.lif_step_f32(x, T[st[0]], s_prev, p[0], p[1], kernel_reset(layer))
        else:
            v, y = L.lif_step_q15(x, T[st[0]], s_prev, p[1], reset=kernel_reset(layer), **leak_arg(layer, 0, 0))
        T[st[0]] = self.reset_after(layer, v, y)
        return y

    def prepare(self, hm, layer):
        c = Prep(hm, "lif")
        n, p, rc = layer.n_out, layer.params, reset_mode(kernel_reset(layer), RESETS_LIF)
        if layer.type == "lif_f32":
            x, _ = c.t(layer.input, np.float32, n)
            v, _ = c.t(layer.states[0], np.float32, n)
            s, _ = c.t(layer.output, np.uint8, n)
            beta, nb = c.p(p[0], np.float32, (1, n))
            thr, nt = c.p(p[1], np.float32, (1, n))
            f = c.lib.eh_lif_step_f32

            def kernel():
                st = f(n, x, v, s, beta, nb, thr, nt, rc)
                if st:
                    c.fail("eh_lif_step_f32", st)
        else:
            x, _ = c.t(layer.input, np.int16, n)
            v, _ = c.t(layer.states[0], np.int16, n)
            s, _ = c.t(layer.output, np.uint8, n)
            leak = c.leak(layer, 0, 0, n)
            thr, nt = c.p(p[1], np.int16, (1, n))
            c.check("eh_lif_check_q15", c.lib.eh_lif_check_q15(n, leak, thr, nt, rc))
            f = c.lib.eh_lif_step_q15_unchecked

            def kernel():
                f(n, x, v, s, leak, thr, nt, rc)
        return self.prepared(hm, layer, kernel, layer.states[0])


OPS = [
    Lif(6, F.Spec("lif_f32", (F.DT_F32,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_F32],
                  [("beta", "pn", F.F32, "unit"), ("threshold", "pn", F.F32, "pos"),
                   ("v_reset", "pn_opt", F.F32, "finite")], reset=True, reset_bits=7, reset_max=5), 1, 2),
    Lif(7, F.Spec("lif_q15", (F.DT_Q15,), F.DT_SPIKE, F.KIND_STATE, True, [F.DT_Q15],
                  [("leak", "leak", None, None), ("threshold", "pn", "<i2", "thr15"),
                   ("v_reset", "pn_opt", "<i2", None)], reset=True, leaks=1, reset_bits=7, reset_max=5), 1, 2),
]
