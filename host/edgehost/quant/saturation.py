"""Saturation counts of a Q15 model on the host, per layer and per state.

A Q15 value saturates when the exact (wide) result of the operation that writes it lies outside
int16 [-32768, 32767] and the kernel clips it. Device and host clip alike (they agree bit for
bit), so a model can validate perfectly while its membranes sit on the rail: this counts it.

    from edgehost.runtime import HostModel
    from edgehost.quant.saturation import SaturationCounter
    hm = HostModel(model, backend="kernels")
    sc = SaturationCounter(model)
    for x in xs:
        sc.before(hm)          # the states of the step before
        hm.step(x)
        sc.after(hm)           # recompute each layer's wide results, count those outside int16
    sc.report()                # [{layer, type, counted, states: {name: {saturated, values}}}]

The counter never changes the interpreter's arithmetic: from the states before the step, the
outputs after it and the layer's parameters it recomputes, in int64 numpy, what each kernel sums
before it saturates (the equations of kernels_c/include/eh_lif.h and eh_basic.h), and counts the
entries outside int16. Which value a layer read: a tensor written by an earlier layer of the step
holds its new value, a state tensor written by the layer itself or by a later one (a delay, the
layer's own spikes) its value from the step before.

Counted (the state names used in reports): input_q15 "input" (the quantised input), fc_q15 /
fc_spike_q15 / fc_spike_t_q15 "weighted sum" (the rounded sum before it is clipped to int16), add_q15 "sum",
lif_q15 "membrane", cubalif_q15 "synaptic current" and "membrane", lif_adapt_q15 "membrane" and
"threshold adaptation", li_q15 "readout". Other layer types (float, binary, shift-add, BCQ,
L2MU) are reported as not counted.
"""
from __future__ import annotations

import numpy as np

LO, HI = -32768, 32767
COUNTED = ("input_q15", "fc_q15", "fc_spike_q15", "fc_spike_t_q15", "add_q15", "lif_q15", "cubalif_q15",
           "lif_adapt_q15", "li_q15")
#: the state each counted layer type reports, in order
STATES = {"input_q15": ("input",), "fc_q15": ("weighted sum",), "fc_spike_q15": ("weighted sum",),
          "fc_spike_t_q15": ("weighted sum",),
          "add_q15": ("sum",), "lif_q15": ("membrane",), "cubalif_q15": ("synaptic current", "membrane"),
          "lif_adapt_q15": ("membrane", "threshold adaptation"), "li_q15": ("readout",)}


def _out(a) -> np.ndarray:
    a = np.asarray(a, np.int64)
    return (a < LO) | (a > HI)


def _leak(v, layer, slot: int, which: int) -> np.ndarray:
    """The Q15 leak of int values as the kernels compute it (decay multiply or shift)."""
    v = np.asarray(v, np.int64)
    p = np.asarray(layer.params[slot], np.int64).ravel()
    if layer.leak[which] == "decay":
        return (v * p + (1 << 14)) >> 15
    return v - (v >> p)


def _rshift_round(a, s: int) -> np.ndarray:
    a = np.asarray(a, np.int64)
    return a if s == 0 else (a + (np.int64(1) << np.int64(s - 1))) >> np.int64(s)


def _pn(p, n) -> np.ndarray:
    return np.broadcast_to(np.asarray(p, np.int64).ravel(), (n,))


def _now(u, v_prev, thr):
    """snnTorch's same-step subtraction (reset 5, eh_lif.h EH_RESET_SUBTRACT_NOW) from the wide
    u = leak(v) + input: w = sat16(u - r thr) with r = v_prev > thr, then sat16(w + (r - s) thr)
    with s = w > thr; a neuron saturates when either sum leaves int16."""
    r = np.asarray(v_prev, np.int64) > thr
    w = u - np.where(r, thr, 0)
    ws = np.clip(w, LO, HI)
    s = ws > thr
    return _out(w) | _out(ws + (r.astype(np.int64) - s.astype(np.int64)) * thr)


def _reset_mem(u, s, thr, reset: str):
    """The membrane sum before saturation with the reset of the step before applied (the
    kernels' s_prev): subtract removes thr from the neurons that spiked, zero replaces their
    leaked membrane by 0 (returns where to ignore the sum), "none" (reset 4) leaves it."""
    if reset == "subtract":
        return u - np.where(s, thr, 0), np.zeros(u.shape, bool)
    if reset == "zero":
        return u, s
    return u, np.zeros(u.shape, bool)


class SaturationCounter:
    """Counts, per layer and state, the values a Q15 model saturates (see the module docstring).
    The values each layer read are kept for up to FLUSH steps, then counted for all of them at once."""

    FLUSH = 256

    def __init__(self, model):
        self.model = model
        L = len(model.layers)
        self.writer = {}                      # tensor -> the layer that writes it
        for i, l in enumerate(model.layers):
            self.writer.setdefault(l.output, i)
        self.counted = [i for i, l in enumerate(model.layers) if l.type in STATES]
        self.counts = [dict.fromkeys(STATES.get(l.type, ()), 0) for l in model.layers]
        self.values = [dict.fromkeys(STATES.get(l.type, ()), 0) for l in model.layers]
        self.first = [dict() for _ in range(L)]      # state -> first step it saturated
        self.steps = 0
        self._pre: dict = {}
        self._buf: list = []
        self._buf_start = 0
        self._state_ids = [k for k, t in enumerate(model.tensors) if t.kind == "state"]
        self._prm: dict = {}
        for i in self.counted:
            l = model.layers[i]
            if l.type in ("fc_q15", "fc_spike_q15", "fc_spike_t_q15"):
                w = np.asarray(l.params[0], np.int64)
                w = w.reshape(l.n_in, l.n_out).T if l.type == "fc_spike_t_q15" else w.reshape(l.n_out, l.n_in)
                b = (np.asarray(l.params[1], np.int64).ravel() if l.params[1] is not None and np.size(l.params[1])
                     else np.zeros(l.n_out, np.int64))
                self._prm[i] = (w.T.copy(), b)

    def reset(self) -> None:
        """Start of a new sequence (the model's states were zeroed)."""
        self._pre = {}

    def before(self, hm) -> None:
        """Keep the state tensors as they are before the step."""
        t = hm.t
        self._pre = {k: t[k].copy() for k in self._state_ids}

    def _read(self, hm, t: int, reader: int) -> np.ndarray:
        """Tensor t as layer `reader` read it in the step just run."""
        w = self.writer.get(t)
        if t in self._pre and (w is None or w >= reader):
            return self._pre[t]
        return hm.t[t]

    def after(self, hm) -> None:
        """Record what each counted layer read in the step just run (call `before` ahead of it)."""
        m = self.model
        rec = []
        for i in self.counted:
            l = m.layers[i]
            x = self._read(hm, l.input, i).copy()
            x2 = self._read(hm, l.input2, i).copy() if l.input2 is not None else None
            n = l.n_out
            pre = [self._pre.get(k, np.zeros(n, np.int16)) for k in l.states]
            spk = self._pre.get(l.output, np.zeros(n, np.uint8)) if l.type in ("lif_q15", "cubalif_q15",
                                                                                 "lif_adapt_q15", "li_q15") else None
            rec.append((x, x2, pre, spk))
        if not self._buf:
            self._buf_start = self.steps
        self._buf.append(rec)
        self.steps += 1
        if len(self._buf) >= self.FLUSH:
            self.flush()

    def _add(self, i: int, name: str, mask) -> None:
        mask = np.asarray(mask)
        c = int(np.count_nonzero(mask))
        self.counts[i][name] += c
        self.values[i][name] += int(mask.size)
        if c and name not in self.first[i]:
            rows = mask.reshape(mask.shape[0], -1).any(axis=1)
            self.first[i][name] = self._buf_start + int(np.argmax(rows))

    def flush(self) -> None:
        """Count the recorded steps."""
        if not self._buf:
            return
        buf, self._buf = self._buf, []
        m = self.model
        for k, i in enumerate(self.counted):
            l = m.layers[i]
            x = np.stack([r[k][0] for r in buf])
            x2 = np.stack([r[k][1] for r in buf]) if l.input2 is not None else None
            pre = [np.stack([r[k][2][j] for r in buf]) for j in range(len(l.states))]
            spk = np.stack([r[k][3] for r in buf]) if buf[0][k][3] is not None else None
            self._count(i, l, x, x2, pre, spk)

    def _count(self, i, l, x, x2, pre, spk) -> None:
        ty = l.type
        n = l.n_out
        if ty == "input_q15":
            c = l.params[0].size
            idx = np.arange(x.shape[1]) % c
            t = (x.astype(np.float32) - l.params[0][idx]).astype(np.float32)
            t = (t * l.params[1][idx]).astype(np.float32).astype(np.float64)
            with np.errstate(invalid="ignore"):
                r = np.sign(t) * np.floor(np.abs(t) + 0.5)
            r = np.nan_to_num(r, nan=0.0, posinf=np.inf, neginf=-np.inf)
            self._add(i, "input", (r > HI) | (r < LO))
        elif ty in ("fc_q15", "fc_spike_q15", "fc_spike_t_q15"):
            wt, b = self._prm[i]
            acc = np.asarray(x, np.int64) @ wt + b
            self._add(i, "weighted sum", _out(_rshift_round(acc, int(l.shift))))
        elif ty == "add_q15":
            self._add(i, "sum", _out(np.asarray(x, np.int64) + np.asarray(x2, np.int64)))
        elif ty == "li_q15":
            self._add(i, "readout", _out(_leak(spk, l, 0, 0) + np.asarray(x, np.int64)))
        else:
            s = spk.astype(bool)
            timing = getattr(l, "reset_timing", "next")
            if timing == "same":
                s = np.zeros(s.shape, bool)
            now = timing == "same-snntorch" and l.reset != "none"
            x = np.asarray(x, np.int64)
            if ty == "lif_q15":
                thr = _pn(l.params[1], n)
                if now:
                    self._add(i, "membrane", _now(_leak(pre[0], l, 0, 0) + x, pre[0], thr))
                    return
                u, zeroed = _reset_mem(_leak(pre[0], l, 0, 0) + x, s, thr, l.reset)
                if l.reset == "zero":
                    u = np.where(s, x, u)
                self._add(i, "membrane", _out(u))
            elif ty == "cubalif_q15":
                thr = _pn(l.params[2], n)
                iw = _leak(pre[0], l, 0, 0) + x
                self._add(i, "synaptic current", _out(iw))
                isat = np.clip(iw, LO, HI)
                if now:
                    self._add(i, "membrane", _now(_leak(pre[1], l, 1, 1) + isat, pre[1], thr))
                    return
                u, zeroed = _reset_mem(_leak(pre[1], l, 1, 1) + isat, s, thr, l.reset)
                self._add(i, "membrane", _out(u) & ~zeroed)
            else:                                                  # lif_adapt_q15
                x2 = np.asarray(x2, np.int64)
                thr = _pn(l.params[2], n)
                t_prev = np.clip(thr + np.asarray(pre[1], np.int64), 1, HI)
                u, zeroed = _reset_mem(_leak(pre[0], l, 0, 0) + x, s, t_prev, l.reset)
                if l.reset == "zero":
                    u = np.where(s, x, u)
                self._add(i, "membrane", _out(u))
                self._add(i, "threshold adaptation", _out(_leak(pre[1], l, 1, 1) + x2))

    def step(self, hm, x, trace=None):
        """hm.step(x) with the saturations of the step counted."""
        self.before(hm)
        y = hm.step(x, trace)
        self.after(hm)
        return y

    def report(self) -> list[dict]:
        """Per layer: {layer, type, counted, states: {name: {saturated, values, first_step}}}."""
        self.flush()
        out = []
        for i, l in enumerate(self.model.layers):
            counted = l.type in STATES
            r = {"layer": i, "type": l.type, "counted": counted}
            if counted:
                r["states"] = {k: {"saturated": self.counts[i][k], "values": self.values[i][k],
                                   **({"first_step": self.first[i][k]} if k in self.first[i] else {})}
                               for k in self.counts[i]}
                r["saturated"] = sum(self.counts[i].values())
            out.append(r)
        return out

    def total(self) -> int:
        self.flush()
        return sum(sum(c.values()) for c in self.counts)


def count_saturation(model, xs, backend: str = "sim") -> list[dict]:
    """SaturationCounter(model).report() over xs ((steps, n) or (sequences, steps, n), device
    inputs), the model's state reset at the start of each sequence."""
    from ..runtime import HostModel
    hm = HostModel(model, backend=backend)
    sc = SaturationCounter(model)
    xs = np.asarray(xs)
    seqs = xs[None] if xs.ndim == 2 else xs
    for seq in seqs:
        hm.reset()
        sc.reset()
        for x in seq:
            sc.step(hm, x)
    return sc.report()
