"""Prepared steppers: the C kernels stepped from Python with the per-call work done once.

The public wrappers of edgehost.kernels convert, check and wire every argument on every call
(new numpy copies, new cffi structures), which is right for a single call and dominates a
batch-1 time step of a small network. A stepper builds the C structures and the buffers once,
checks the parameters once with the kernels' own check functions (eh_lif_check_q15,
eh_l2mu_check_q15, ...), and then makes only the C calls of each step (the unchecked step
functions, as the firmware's interpreter does after loading a model). The arithmetic is the
kernels', so the results are bit for bit those of edgehost.kernels and edgehost.sim
(tests/test_bench_host.py).

    st = LifNetQ15([w1, w2], threshold=4096, decay=29491)   # Linear + LIF layers, spikes in
    out = st.run(spikes)                                      # [T][n_in] uint8 -> [T][n_out] uint8
    st = L2muQ15(cell_q15)                                    # the dict of edgehost.sim.l2mu_*
    ys = st.run(xs)                                           # [T][n_ch] int16 -> readout v [T][n_o]
"""
from __future__ import annotations

import numpy as np

from ..kernels._util import arr, check, params, ptr
from ..sim._checks import reset_mode


class LifNetQ15:
    """Spike-driven Linear (no bias, shift 0 by default) + Q15 LIF (eh_lif_step_q15_unchecked)
    layers; the spikes of a layer feed the next one. The weights are given [n_out][n_in] as for
    eh_fc_spike_q15 and transposed once here: each step runs eh_fc_spike_t_q15 (input-major
    weights, the same result bit for bit), whose active rows are contiguous."""

    def __init__(self, weights, threshold, decay=None, shift=None, reset="subtract", fc_shift=0):
        from ..kernels import basic as kb
        self.ffi, self.lib = kb.ffi, kb.lib
        ffi = self.ffi
        if not weights:
            raise ValueError("weights: at least one layer")
        self._keep: list = []
        self.w = [arr(w, np.int16) for w in weights]
        n_prev = None
        for k, w in enumerate(self.w):
            if w.ndim != 2 or w.size == 0:
                raise ValueError(f"weights[{k}] must be a non-empty [n_out][n_in] matrix")
            if n_prev is not None and w.shape[1] != n_prev:
                raise ValueError(f"weights[{k}] has {w.shape[1]} inputs, the layer before {n_prev} outputs")
            n_prev = w.shape[0]
        if not 0 <= int(fc_shift) <= 31:
            raise ValueError("fc_shift must lie in [0, 31]")
        self.fc_shift = int(fc_shift)
        self.n_in = self.w[0].shape[1]
        self.n_out = self.w[-1].shape[0]
        if (decay is None) == (shift is None):
            raise ValueError("give exactly one of decay (Q15 multiply) or shift")
        self.leak = ffi.new("eh_leak_q15 *")
        if decay is not None:
            d = params(decay, np.uint16)
            self.leak.decay, self.leak.len = ptr(ffi, d, "uint16_t"), d.size
        else:
            d = params(shift, np.uint8)
            self.leak.shift, self.leak.len = ptr(ffi, d, "uint8_t"), d.size
        self._keep.append(d)
        self.thr = params(threshold, np.int16)
        self.reset_code = reset_mode(reset)
        for w in self.w:
            check("eh_lif_check_q15", self.lib.eh_lif_check_q15(
                w.shape[0], self.leak, ptr(ffi, self.thr, "int16_t"), self.thr.size, self.reset_code))
        self.wt = [np.ascontiguousarray(w.T) for w in self.w]   # [n_in][n_out], built once
        self.cur = [np.zeros(w.shape[0], np.int16) for w in self.w]
        self.v = [np.zeros(w.shape[0], np.int16) for w in self.w]
        self.s = [np.zeros(w.shape[0], np.uint8) for w in self.w]
        self._p = [(w.shape[1], w.shape[0], ptr(ffi, wt, "int16_t"), ptr(ffi, c, "int16_t"),
                    ptr(ffi, v, "int16_t"), ptr(ffi, s, "uint8_t"))
                   for w, wt, c, v, s in zip(self.w, self.wt, self.cur, self.v, self.s)]
        self._thr_p = ptr(ffi, self.thr, "int16_t")

    def reset(self) -> None:
        for a in self.v + self.s:
            a[:] = 0

    def _layers(self, sp) -> None:
        lib, leak, thr_p, nthr, rc, sh = (self.lib, self.leak, self._thr_p, self.thr.size,
                                          self.reset_code, self.fc_shift)
        for n_in, n_out, wp, cp, vp, spp in self._p:
            st = lib.eh_fc_spike_t_q15(n_in, n_out, sp, wp, self.ffi.NULL, sh, cp)
            if st:
                check("eh_fc_spike_t_q15", st)
            lib.eh_lif_step_q15_unchecked(n_out, cp, vp, spp, leak, thr_p, nthr, rc)
            sp = spp

    def fc_only(self, spikes) -> None:
        """Only the eh_fc_spike_t_q15 calls of run(), without the LIF steps (a deeper layer sees
        the spike buffer as it stands): to see how much of a step's time the dense kernel takes."""
        s = arr(spikes, np.uint8)
        base = ptr(self.ffi, s, "uint8_t")
        lib, null, sh = self.lib, self.ffi.NULL, self.fc_shift
        for t in range(s.shape[0]):
            sp = base + t * self.n_in
            for n_in, n_out, wp, cp, vp, spp in self._p:
                lib.eh_fc_spike_t_q15(n_in, n_out, sp, wp, null, sh, cp)
                sp = spp

    def step(self, spikes) -> np.ndarray:
        """One time step: spikes [n_in] (0/1) -> the last layer's spikes (a copy)."""
        s = arr(spikes, np.uint8)
        if s.shape != (self.n_in,):
            raise ValueError(f"spikes must be [{self.n_in}]")
        self._layers(ptr(self.ffi, s, "uint8_t"))
        return self.s[-1].copy()

    def run(self, spikes) -> np.ndarray:
        """Every row of spikes [T][n_in] in turn (state carried over): [T][n_out] uint8."""
        s = arr(spikes, np.uint8)
        if s.ndim != 2 or s.shape[1] != self.n_in:
            raise ValueError(f"spikes must be [T][{self.n_in}]")
        out = np.empty((s.shape[0], self.n_out), np.uint8)
        base = ptr(self.ffi, s, "uint8_t")
        last = self.s[-1]
        for t in range(s.shape[0]):
            self._layers(base + t * self.n_in)
            out[t] = last
        return out


class L2muQ15:
    """The Q15 L2MU cell (a dict as for edgehost.sim.l2mu_step_q15): step + readout per call,
    through eh_l2mu_step_q15_unchecked / eh_l2mu_readout_q15_unchecked after
    eh_l2mu_check_q15 / eh_l2mu_readout_check_q15 at construction."""

    def __init__(self, cell: dict):
        from ..kernels import lmu as kl
        from ..sim import l2mu_state_q15
        self.ffi, self.lib = kl.ffi, kl.lib
        self._keep: list = []
        self.c, self.scratch_len = kl._l2mu_cell(cell, True, self._keep)
        check("eh_l2mu_check_q15", self.lib.eh_l2mu_check_q15(self.c, self.scratch_len))
        check("eh_l2mu_readout_check_q15", self.lib.eh_l2mu_readout_check_q15(self.c, self.scratch_len))
        self.cst, self.state = kl._l2mu_state(l2mu_state_q15(cell), True, self._keep)
        kl._need_state(self.c, self.cst, False)
        kl._need_state(self.c, self.cst, True)
        self.scratch = np.zeros(self.scratch_len, np.int16)
        self._sp = ptr(self.ffi, self.scratch, "int16_t")
        self.n_ch = int(self.c.dims.n_ch)
        self.n_o = int(self.c.dims.n_o)
        self.out_v = self.state["o"]["v"]

    def _arrays(self):
        for name in ("in", "u", "m", "h", "o"):
            yield from self.state[name].values()
        for st in self.state["enc"]:
            yield from st.values()

    def reset(self) -> None:
        for a in self._arrays():
            a[:] = 0

    def run(self, xs) -> np.ndarray:
        """Step and read out every row of xs [T][n_ch] (int16): the readout v [T][n_o]."""
        x = arr(xs, np.int16)
        if x.ndim != 2 or x.shape[1] != self.n_ch:
            raise ValueError(f"xs must be [T][{self.n_ch}]")
        out = np.empty((x.shape[0], self.n_o), np.int16)
        base = ptr(self.ffi, x, "int16_t")
        lib, c, cst, sp, v = self.lib, self.c, self.cst, self._sp, self.out_v
        step, readout = lib.eh_l2mu_step_q15_unchecked, lib.eh_l2mu_readout_q15_unchecked
        n = self.n_ch
        for t in range(x.shape[0]):
            step(c, base + t * n, cst, sp)
            readout(c, cst, sp)
            out[t] = v
        return out
