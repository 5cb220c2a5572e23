"""Lower a float `Graph` with branches, fan-in or recurrence (`graph.inputs` set) to a blob
`Model` (format 1.5: add_* and delay layers, docs/model-format.md "Graphs").

The layers are emitted in the graph's schedule order. For layer i with edges e_1..e_k:
  - a dense layer (Fc) with k > 1 edges is distributed: one dense layer per edge (the bias on the
    first), their outputs added (add_f32 / add_q15), so spikes stay spikes (fc_spike_q15);
  - any other layer gets the sum of its edges' values (add layers), then runs on it;
  - a delayed edge reads a state tensor that a `delay` layer at the end of the schedule fills with
    its source's value: the layers before it read the previous step's value (zero at reset).

Q15 scales. Values that are added share one scale, and so do the input and output of a leaky
readout (li) and of a ReLU: the converter groups tensors into classes (union-find) and gives each
class one scale, the largest any member needs:
  - the input of a LIF / CuBa-LIF: max(threshold) / (32767 / headroom), or, with calibration data,
    1.25 x the largest summed input or state seen, if larger (lower.py's rule for chains);
  - the input of a readout (li): 1.25 x its calibrated range, else the bound of its input (sum
    |W| x input range + |b| over its edges) / (1 - beta);
  - otherwise (no neuron, no readout in the class): the bound (or calibrated range) of its
    producers; the model input's class is never smaller than input_range / 32767.
A spike edge into a layer that takes values (a neuron fed by spikes directly, a spike added to
currents) goes through an identity fc_spike_q15 to the class's scale. Fixed-point arithmetic of
each layer as in lower.py.
"""
from __future__ import annotations

import math

import numpy as np

from ..blob.model import Model
from . import graph as G

Q15_MAX = 32767
SPIKING = (G.Lif, G.CubaLif)


class _UF:
    def __init__(self):
        self.p: dict = {}

    def find(self, a):
        self.p.setdefault(a, a)
        while self.p[a] != a:
            self.p[a] = self.p[self.p[a]]
            a = self.p[a]
        return a

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.p[rb] = ra


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).astype(np.float32).ravel()


def _pn(a) -> np.ndarray:
    v = _f32(a)
    return v[:1] if v.size > 1 and np.all(v == v[0]) else v


def _timing(l) -> str:
    return getattr(l, "timing", "next")


def _v_reset(l):
    vr = getattr(l, "v_reset", None)
    if vr is None or _timing(l) != "same" or l.reset != "zero":
        return None
    v = np.asarray(vr, np.float64).ravel()
    return None if np.all(v == 0) else v


class _Emit:
    """Tensors and layers of the model being built, with the graph's bookkeeping."""

    def __init__(self, graph, builder):
        self.g = graph
        self.b = builder
        self.sizes = graph.sizes()
        self.out: dict = {}        # graph layer (or -1) -> tensor of its value
        self.dstate: dict = {}     # graph layer -> the state tensor its delayed edges read
        self.xsum: dict = {}       # graph layer -> tensor of its summed input (non-dense layers)
        self.states: dict = {}     # graph layer -> its state tensors
        self.blob_of: dict = {}    # graph layer -> blob layer that writes its value
        self.cache: dict = {}      # (tensor, what) -> converted tensor

    def layer(self, *a, **kw) -> int:
        return self.b.layer(*a, **kw)

    def delayed(self, src, dtype, scale=1.0) -> int:
        if src not in self.dstate:
            self.dstate[src] = self.b.tensor(dtype, self.sizes[src], "state", scale)
        return self.dstate[src]

    def add_all(self, ts, kind):
        acc = ts[0]
        for t in ts[1:]:
            n = self.b.tensors[acc].n
            o = self.b.tensor(self.b.tensors[acc].dtype, n, scale=self.b.tensors[acc].scale)
            self.layer(kind, acc, o, input2=t)
            acc = o
        return acc

    def finish(self, t_in) -> Model:
        for src, d in sorted(self.dstate.items()):
            self.layer("delay", self.out[src], d)
        return Model(self.b.layers, self.b.tensors, t_in, self.out[self.g.out_index], 0)


def _geom(l) -> np.ndarray:
    """The geom parameter (u32) of a Conv2d / Pool2d layer (edgehost.ops.conv2d / pool2d)."""
    from ..ops import conv2d as OC, pool2d as OP
    c, h, w = (int(v) for v in l.in_shape)
    if isinstance(l, G.Conv2d):
        wt = np.asarray(l.weight)
        return OC.make_geom(c, h, w, wt.shape[0], wt.shape[2], wt.shape[3], l.stride, l.padding, l.dilation,
                            int(l.groups))
    return OP.make_geom(c, h, w, int(l.kernel[0]), int(l.kernel[1]), l.stride, l.padding)


def _spike_pool(graph, i) -> bool:
    """Layer i pools spikes (every edge into it comes from a spiking layer): on the Q15 path its
    output is the count (sum) or the Q15 fraction of the window (avg), of a fixed scale."""
    l = graph.layers[i]
    return isinstance(l, G.Pool2d) and all(ed.src >= 0 and isinstance(graph.layers[ed.src], SPIKING)
                                           for ed in graph.edges(i))


def _spike_pool_scale(l) -> float:
    return 1.0 if l.mode == "sum" else 1.0 / 32768


def _neuron_params_f32(l, n):
    """(type, params, n_states, reset kwargs) of a spiking layer, f32."""
    vr = _v_reset(l)
    kw = {"reset": l.reset, "reset_timing": _timing(l)}
    if isinstance(l, G.Lif):
        ps = [_pn(l.beta), _pn(l.threshold)] + ([_pn(vr)] if vr is not None else [])
        return "lif_f32", ps, 1, kw
    ps = [_pn(l.alpha), _pn(l.beta), _pn(l.threshold)] + ([_pn(vr)] if vr is not None else [])
    return "cubalif_f32", ps, 2, kw


def _spikes_in(graph) -> bool:
    return getattr(graph, "input_kind", "values") == "spikes"


def _spike_input(graph, b):
    """A spike input: the model takes b1 words (1 bit per input, a set bit is a spike: an event
    camera's pixels x polarities in n / 8 bytes a step) and unpack_spikes_b1 makes them spikes."""
    t_in = b.tensor("b1", graph.n_in)
    sp = b.tensor("spike", graph.n_in)
    b.layer("unpack_spikes_b1", t_in, sp)
    return t_in, sp


def build_f32(graph, builder):
    """The float32 model of a graph; returns (model, emit)."""
    b = builder
    e = _Emit(graph, b)
    t_in, e.out[-1] = _spike_input(graph, b) if _spikes_in(graph) else (b.tensor("f32", graph.n_in),) * 2

    def dtype_of(i):
        return "spike" if isinstance(graph.layers[i], SPIKING) else "f32"

    def value(ed):
        return e.delayed(ed.src, dtype_of(ed.src)) if ed.delayed else e.out[ed.src]

    def as_f32(t):
        if b.tensors[t].dtype != "spike":
            return t
        if (t, "f32") not in e.cache:
            o = b.tensor("f32", b.tensors[t].n)
            b.layer("spike_f32", t, o)
            e.cache[(t, "f32")] = o
        return e.cache[(t, "f32")]

    for i, l in enumerate(graph.layers):
        es = graph.edges(i)
        if isinstance(l, G.Fc):
            w = np.asarray(l.weight)
            parts = []
            for k, ed in enumerate(es):
                o = b.tensor("f32", w.shape[0])
                b.layer("fc_f32", as_f32(value(ed)), o,
                        [_f32(w), None if (l.bias is None or k) else _f32(l.bias)])
                parts.append(o)
            y = e.add_all(parts, "add_f32")
        elif isinstance(l, G.Conv2d):
            geom, parts = _geom(l), []
            for k, ed in enumerate(es):
                o = b.tensor("f32", e.sizes[i])
                b.layer("conv2d_f32", as_f32(value(ed)), o,
                        [geom, _f32(l.weight), None if (l.bias is None or k) else _f32(l.bias)])
                parts.append(o)
            y = e.add_all(parts, "add_f32")
        else:
            x = e.add_all([as_f32(value(ed)) for ed in es], "add_f32")
            e.xsum[i] = x
            n = b.tensors[x].n
            if isinstance(l, SPIKING):
                typ, ps, ns, kw = _neuron_params_f32(l, n)
                st = [b.tensor("f32", n, "state") for _ in range(ns)]
                y = b.tensor("spike", n, "state")
                b.layer(typ, x, y, ps, st, **kw)
                e.states[i] = st
            elif isinstance(l, G.Li):
                y = b.tensor("f32", n, "state")
                b.layer("li_f32", x, y, [_pn(l.beta)])
            elif isinstance(l, G.Relu):
                y = b.tensor("f32", n)
                b.layer("relu_f32", x, y)
            elif isinstance(l, G.Pool2d):
                y = b.tensor("f32", e.sizes[i])
                b.layer(f"{l.mode}pool2d_f32", x, y, [_geom(l)])
            else:   # pragma: no cover - graph.sizes() refuses it
                raise ValueError(f"{graph.name(i)}: {l.kind} in a graph")
        e.out[i] = y
        e.blob_of[i] = len(b.layers) - 1
    return e.finish(t_in), e


# ---- Q15 -------------------------------------------------------------------------------------

def fc_q15_params(w, bias, s_x: float, s_y: float):
    """(wq int16, bq int32 or None, shift, report) of y = W x + b from scale s_x to s_y:
    w_q = round(w s_x 2^shift / s_y) with the largest shift in [0, 31] keeping |w_q| <= 32767."""
    w = np.asarray(w, dtype=np.float64)
    wmax = float(np.max(np.abs(w))) if w.size else 0.0
    shift = int(math.floor(math.log2(Q15_MAX * s_y / (wmax * s_x)))) if wmax > 0 else 31
    shift = min(max(shift, 0), 31)
    k = s_x * 2.0 ** shift / s_y
    wq_f = np.round(w * k)
    wq = np.clip(wq_f, -32768, Q15_MAX).astype(np.int16)
    bq = None
    if bias is not None:
        bq = np.clip(np.round(np.asarray(bias, np.float64) * 2.0 ** shift / s_y), -2**31, 2**31 - 1).astype(np.int32)
    rep = {"shift": shift, "weight_saturated": int(np.sum(np.abs(wq_f) > Q15_MAX)),
           "weight_max_error": float(np.max(np.abs(wq / k - w))) if w.size else 0.0, "weight_max": wmax}
    return wq, bq, shift, rep


def float_ranges(graph, calib):
    """Largest |value| over `calib` of the model input, of every layer's output, summed input and
    state, from the float model of the graph."""
    from .calibrate import _host
    from .lower import _Builder
    from .planner import plan
    model, e = build_f32(graph, _Builder())
    plan(model)
    hm = _host(model)
    xs = np.asarray(calib, dtype=np.float32)
    seqs = xs[None] if xs.ndim == 2 else xs
    L = len(graph.layers)
    r = {"in": 0.0, "out": [0.0] * L, "x": [0.0] * L, "state": [0.0] * L}
    for seq in seqs:
        hm.reset()
        for x in seq:
            hm.step(x)
            r["in"] = max(r["in"], float(np.abs(x).max()))
            for i in range(L):
                r["out"][i] = max(r["out"][i], float(np.abs(hm.t[e.out[i]]).max()))
                if i in e.xsum:
                    r["x"][i] = max(r["x"][i], float(np.abs(hm.t[e.xsum[i]]).max()))
                for st in e.states.get(i, ()):
                    r["state"][i] = max(r["state"][i], float(np.abs(hm.t[st]).max()))
    return r


class _Scales:
    """The class of every q15 value of the graph and the scale of each class."""

    def __init__(self, graph, sizes, cal, headroom, input_range, err):
        self.g, self.sizes, self.cal, self.err = graph, sizes, cal, err
        self.thr_target = Q15_MAX / headroom
        self.input_range = input_range
        self.uf = _UF()
        self.uf.find("in")
        self.members: dict = {}
        L = len(graph.layers)
        for i, l in enumerate(graph.layers):
            if isinstance(l, (G.Fc, G.Conv2d)):
                self.uf.find(i)
                continue
            if _spike_pool(graph, i):      # a fixed scale: only linear layers may read it
                self.uf.find(i)
                for j in range(L):
                    if any(ed.src == i for ed in graph.edges(j)) and not isinstance(graph.layers[j], (G.Fc, G.Conv2d)):
                        raise err(f"{graph.name(i)} (pool2d): on the Q15 path pooled spikes (counts of a fixed "
                                  f"scale) must feed an Affine/Linear or Conv2d, not {graph.name(j)} "
                                  f"({graph.layers[j].kind}); convert without --quantize q15, or pool the currents "
                                  f"before the neuron")
                continue
            self.uf.find(("x", i))
            for ed in graph.edges(i):
                s = self.slot(ed.src)
                if s is not None:
                    self.uf.union(("x", i), s)
            if isinstance(l, (G.Li, G.Relu, G.Pool2d)):
                self.uf.union(("x", i), i)
        for k in list(self.uf.p):
            self.members.setdefault(self.uf.find(k), []).append(k)
        self.fallback = False      # a calibrated range of 0 (generated inputs): the bound instead
        self.range_cap = None      # largest neuron range, in thresholds (None: what calibration saw)
        self.scale_of: dict = {}
        self.why: dict = {}
        self.busy: set = set()
        self.L = L

    def slot(self, src):
        if src < 0:
            return None if _spikes_in(self.g) else "in"
        return None if isinstance(self.g.layers[src], SPIKING) else src

    def scale(self, key) -> float:
        if isinstance(key, int) and key >= 0 and _spike_pool(self.g, key):
            return _spike_pool_scale(self.g.layers[key])
        root = self.uf.find(key)
        if root in self.scale_of:
            return self.scale_of[root]
        if root in self.busy:
            raise self.err(f"the Q15 scale of {self._name(key)} depends on itself through a cycle of non-spike "
                           f"values: give calibration data (--calib) to choose it")
        self.busy.add(root)
        strong, weak, why = [], [], "output range"
        cal = self.cal
        for m in self.members[root]:
            if m == "in":
                weak.append((cal["in"] * 1.25 if cal else self.input_range) / Q15_MAX)
            elif isinstance(m, tuple):
                i = m[1]
                l = self.g.layers[i]
                if isinstance(l, SPIKING):
                    s = float(np.max(_f32(l.threshold))) / self.thr_target
                    why = "threshold"
                    if cal:
                        r = max(cal["x"][i], cal["state"][i]) * 1.25 / Q15_MAX
                        if self.range_cap is not None:
                            r = min(r, self.range_cap * float(np.max(_f32(l.threshold))) / Q15_MAX)
                        if r > s:
                            s, why = r, "calibration range (above headroom x threshold)"
                    strong.append(s)
                elif isinstance(l, G.Li):
                    if cal and not (self.fallback and cal["out"][i] == 0):
                        r = cal["out"][i] * 1.25
                    else:
                        beta = float(np.max(_f32(l.beta)))
                        if beta >= 1:
                            raise self.err(f"{self.g.name(i)} (li): beta = 1 (an integrator) has no bound: give "
                                           f"calibration data (--calib) to choose its Q15 scale")
                        r = self.bound_in(i) / (1 - beta)
                    strong.append(max(r, 1e-30) / Q15_MAX)
                    why = "readout range"
                else:
                    weak.append(self.bound_in(i) / Q15_MAX)
            elif isinstance(self.g.layers[m], (G.Fc, G.Conv2d)):
                r = cal["out"][m] * 1.25 if cal else 0.0
                weak.append((r if r > 0 or (cal and not self.fallback) else self.bound_fc(m)) / Q15_MAX)
        s = max(strong) if strong else max(weak + [1e-30 / Q15_MAX])
        if "in" in self.members[root]:
            s = max(s, self.input_range / Q15_MAX)
        self.busy.discard(root)
        self.scale_of[root] = s
        self.why[root] = why if strong else "output range"
        return s

    def _name(self, key):
        if key == "in":
            return "the model input"
        return f"the input of {self.g.name(key[1])}" if isinstance(key, tuple) else self.g.name(key)

    def xbound(self, src) -> float:
        if src >= 0 and _spike_pool(self.g, src):     # the largest count (sum) or fraction (avg)
            l = self.g.layers[src]
            return float(l.kernel[0] * l.kernel[1]) if l.mode == "sum" else 1.0
        s = self.slot(src)
        return 1.0 if s is None else Q15_MAX * self.scale(s)

    def bound_fc(self, i) -> float:
        l = self.g.layers[i]
        w = np.abs(np.asarray(l.weight, np.float64))
        w = w.reshape(w.shape[0], -1).sum(axis=1)
        tot = sum(w * self.xbound(ed.src) for ed in self.g.edges(i))
        if l.bias is not None:
            tot = tot + np.abs(np.asarray(l.bias, np.float64))
        return float(np.max(tot))

    def bound_in(self, i) -> float:
        return float(sum(self.xbound(ed.src) if not isinstance(self.g.layers[ed.src], (G.Fc, G.Conv2d)) or ed.src < 0
                         else self.bound_fc(ed.src) for ed in self.g.edges(i)))


def build_q15(graph, builder, calib, headroom, input_range, err, fallback: bool = False,
              range_cap: float | None = None, ranges=None):
    """The Q15 model of a graph; returns (model, mapping, report)."""
    b = builder
    e = _Emit(graph, b)
    cal = ranges if ranges is not None else (float_ranges(graph, calib) if calib is not None else None)
    if input_range is None:
        input_range = cal["in"] if cal and cal["in"] else 1.0
    sc = _Scales(graph, e.sizes, cal, headroom, input_range, err)
    sc.fallback = fallback
    sc.range_cap = range_cap
    if _spikes_in(graph):
        s_in = 1.0
        t_in, e.out[-1] = _spike_input(graph, b)
    else:
        t_in = b.tensor("f32", graph.n_in)
        s_in = sc.scale("in")
        q_in = b.tensor("q15", graph.n_in, scale=s_in)
        b.layer("input_q15", t_in, q_in, [np.zeros(1, np.float32), np.asarray([1.0 / s_in], np.float32)])
        e.out[-1] = q_in
    reps = []

    def value(ed):
        if not ed.delayed:
            return e.out[ed.src]
        if isinstance(graph.layers[ed.src], SPIKING):
            return e.delayed(ed.src, "spike")
        return e.delayed(ed.src, "q15", sc.scale(ed.src))

    def to_scale(t, s, i):
        """t (spikes or q15 of the class) as a q15 tensor of scale s."""
        ten = b.tensors[t]
        if ten.dtype == "q15":
            if not math.isclose(ten.scale, s, rel_tol=1e-12):   # pragma: no cover - classes guarantee it
                raise err(f"{graph.name(i)}: internal: an input of scale {ten.scale:g} into a sum of scale {s:g}")
            return t
        if (t, s) not in e.cache:
            wq, _, shift, _ = fc_q15_params(np.eye(ten.n), None, 1.0, s)
            o = b.tensor("q15", ten.n, scale=s)
            b.layer("fc_spike_q15", t, o, [wq, None], shift=shift)
            e.cache[(t, s)] = o
        return e.cache[(t, s)]

    for i, l in enumerate(graph.layers):
        es = graph.edges(i)
        rep = {"graph_layer": i, "kind": l.kind, "name": graph.name(i)}
        if isinstance(l, G.Fc):
            s_y = sc.scale(i)
            w = np.asarray(l.weight, np.float64)
            parts = []
            for k, ed in enumerate(es):
                x = value(ed)
                spikes = b.tensors[x].dtype == "spike"
                s_x = 1.0 if spikes else b.tensors[x].scale
                wq, bq, shift, r = fc_q15_params(w, None if (l.bias is None or k) else l.bias, s_x, s_y)
                o = b.tensor("q15", w.shape[0], scale=s_y)
                b.layer("fc_spike_q15" if spikes else "fc_q15", x, o, [wq, bq], shift=shift)
                parts.append(o)
                if k == 0:
                    rep.update(r)
            y = e.add_all(parts, "add_q15")
            rep.update(scale=s_y, scale_from=sc.why[sc.uf.find(i)])
        elif isinstance(l, G.Conv2d):
            # dense conv2d_q15 on values, event-driven conv2d_spike_q15 on spikes; several edges: one
            # convolution each (the bias on the first), then add_q15
            s_y, geom, n_o = sc.scale(i), _geom(l), e.sizes[i]
            parts = []
            for k, ed in enumerate(es):
                x = value(ed)
                spikes = b.tensors[x].dtype == "spike"
                s_x = 1.0 if spikes else b.tensors[x].scale
                wq, bq, shift, r = fc_q15_params(l.weight, None if (l.bias is None or k) else l.bias, s_x, s_y)
                o = b.tensor("q15", n_o, scale=s_y)
                if spikes:
                    b.layer("conv2d_spike_q15", x, o, [geom, wq.ravel(), bq], [b.tensor("s32", n_o)], shift=shift)
                else:
                    b.layer("conv2d_q15", x, o, [geom, wq.ravel(), bq], shift=shift)
                parts.append(o)
                if k == 0:
                    rep.update(r)
            y = e.add_all(parts, "add_q15")
            rep.update(scale=s_y, scale_from=sc.why[sc.uf.find(i)])
        elif _spike_pool(graph, i):
            if len(es) != 1 or es[0].delayed:
                raise err(f"{graph.name(i)} (pool2d): pooling spikes takes one edge that is not delayed on the Q15 "
                          f"path, it has {len(es)}")
            s_y = _spike_pool_scale(l)
            y = b.tensor("q15", e.sizes[i], scale=s_y)
            b.layer(f"{l.mode}pool2d_spike_q15", value(es[0]), y, [_geom(l)])
            rep.update(scale=s_y, scale_from="spike counts" if l.mode == "sum" else "fraction of the window")
        else:
            s_x = sc.scale(("x", i))
            x = e.add_all([to_scale(value(ed), s_x, i) for ed in es], "add_q15")
            e.xsum[i] = x
            n = b.tensors[x].n
            if isinstance(l, SPIKING):
                thr = _pn(l.threshold).astype(np.float64)
                tq_f = np.round(thr / s_x)
                tq = np.clip(tq_f, 1, Q15_MAX).astype(np.int16)
                dec = np.round(_pn(l.beta).astype(np.float64) * 32768).astype(np.uint16)
                vr = _v_reset(l)
                extra = [] if vr is None else [np.clip(np.round(_pn(vr).astype(np.float64) / s_x),
                                                       -32768, Q15_MAX).astype(np.int16)]
                kw = {"reset": l.reset, "reset_timing": _timing(l)}
                y = b.tensor("spike", n, "state")
                if isinstance(l, G.Lif):
                    st = [b.tensor("q15", n, "state", s_x)]
                    b.layer("lif_q15", x, y, [dec, tq] + extra, st, leak=("decay",), **kw)
                else:
                    adec = np.round(_pn(l.alpha).astype(np.float64) * 32768).astype(np.uint16)
                    st = [b.tensor("q15", n, "state", s_x) for _ in range(2)]
                    b.layer("cubalif_q15", x, y, [adec, dec, tq] + extra, st, leak=("decay", "decay"), **kw)
                e.states[i] = st
                rep.update(scale=s_x, threshold_q=int(tq.max()), threshold_q_min=int(tq.min()),
                           threshold_max_rel_error=float(np.max(np.abs(tq * s_x - thr) / thr)),
                           threshold_clipped=bool(np.any((tq_f < 1) | (tq_f > Q15_MAX))),
                           scale_from=sc.why[sc.uf.find(("x", i))])
            elif isinstance(l, G.Li):
                dec = np.round(_pn(l.beta).astype(np.float64) * 32768).astype(np.uint16)
                y = b.tensor("q15", n, "state", s_x)
                b.layer("li_q15", x, y, [dec], leak=("decay",))
                rep.update(scale=s_x)
            elif isinstance(l, G.Pool2d):     # values: the input's scale
                y = b.tensor("q15", e.sizes[i], scale=s_x)
                b.layer(f"{l.mode}pool2d_q15", x, y, [_geom(l)])
                rep.update(scale=s_x)
            else:   # Relu
                y = b.tensor("q15", n, scale=s_x)
                b.layer("relu_q15", x, y)
                rep.update(scale=s_x)
        e.out[i] = y
        e.blob_of[i] = len(b.layers) - 1
        rep["blob_layer"] = e.blob_of[i]
        reps.append(rep)
    model = e.finish(t_in)
    mapping = [e.blob_of[i] for i in range(len(graph.layers))]
    return model, mapping, {"quantize": "q15", "input_scale": s_in, "input_range": input_range,
                            "headroom": headroom, "layers": reps, "compress_notes": []}


def prune(graph):
    """The graph without the layers whose value never reaches the output (a blob has no tensor
    that nothing reads); a note names them."""
    L = len(graph.layers)
    live = {graph.out_index}
    stack = [graph.out_index]
    while stack:
        for e in graph.edges(stack.pop()):
            if e.src >= 0 and e.src not in live:
                live.add(e.src)
                stack.append(e.src)
    if len(live) == L:
        return graph
    keep = sorted(live)
    new = {old: k for k, old in enumerate(keep)}
    new[-1] = -1
    dead = [graph.name(i) for i in range(L) if i not in live]
    inputs = [[G.Edge(new[e.src], e.delayed) for e in graph.edges(i)] for i in keep]
    notes = list(graph.notes) + [f"dropped {len(dead)} layer(s) whose value never reaches the output: "
                                 + ", ".join(dead)]
    names = [graph.name(i) for i in keep]
    return G.Graph(graph.n_in, [graph.layers[i] for i in keep], notes, inputs, new[graph.out_index], names,
                   graph.input_kind)


def graph_report(graph, model) -> dict:
    """What inspect and the notes show: the nodes, the edges and which are delayed."""
    nodes = [{"index": i, "name": graph.name(i), "kind": l.kind} for i, l in enumerate(graph.layers)]
    edges = [{"from": graph.name(ed.src), "to": graph.name(i), "delayed": ed.delayed}
             for i in range(len(graph.layers)) for ed in graph.edges(i)]
    return {"nodes": nodes, "edges": edges, "output": graph.name(graph.out_index)}
