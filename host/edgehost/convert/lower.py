"""Lower a float `Graph` to a blob `Model`: the float path or the Q15 path, then plan the arena.

Float path: every layer keeps float32 parameters; spikes feeding a float layer go through a
`spike_f32` layer (0/1 -> 0.0/1.0).

Q15 path (`quantize="q15"`), per-layer scales, real value = q * scale:
  - input: `input_q15` quantises (x - offset) * gain on scale s_in = input_range / 32767
    (input_range: the largest |normalised input| of the calibration data, else 1.0).
  - the tensor feeding a LIF / CuBa-LIF layer: scale = max(threshold) / (32767 / headroom), so the
    threshold is 32767 / headroom (4096 with the default headroom 8) and the membrane has
    headroom x threshold before it saturates; with calibration data, the larger of that and
    1.25 x the largest input, membrane or synaptic current seen / 32767 (so that they do not
    saturate).
  - the tensor feeding a leaky readout or the model output: scale = range / 32767 with range the
    calibration maximum x 1.25, or without calibration a bound (sum |W| x input range + |b|,
    divided by 1 - beta for a readout).
  - fc: y_q = sat16(rshift(sum w_q x_q + b_q, shift)); w_q = round(w s_x 2^shift / s_y) with the
    largest shift in [0, 31] that keeps |w_q| <= 32767; b_q = round(b 2^shift / s_y) (int32).
    After spikes (s_x = 1) it is fc_spike_q15, or fc_spike_t_q15 (the same weights input-major) where
    that kernel is the faster (n_out >= 8, edgehost.convert.layout; the same outputs bit for bit).
  - decay = round(beta * 32768) (alpha likewise); threshold_q = round(thr / s).
The per-layer quantisation error (parameters always; activations when calibration data are
given) is returned in the report.

Compression (`compress=Compress(...)`, `edgehost convert --binarize --shiftadd --mst-depth`):
  - binarize: an fc whose input is spikes gets binary weights, W ~= alpha sign(W) per output row
    (alpha = mean |W[o]|, the least-squares scale); with b = 1 - 2 s (a spike is -1) the layer is
    exactly alpha (sign(W) s) + bias = dot (-alpha / 2) + bias + alpha sum(sign(W)) / 2, an
    fc_b1_f32 after pack_spikes_b1 (Q15 path: scale and bias divided by the output scale, then
    input_q15 with mul 1 rounds to the q15 tensor). Other fc layers are kept (a note says so).
  - shiftadd "pow2": every fc on q15 values becomes shiftadd_fc_q15, the integer weights w k
    (same shift as fc_q15) rounded to 0 or +-2^p (edgehost.quant.pow2); "bcq:K": bcq_fc_q15 with
    K binary planes and power-of-two plane scales (edgehost.quant.bcq). Q15 path only; an fc after
    spikes is already multiplication-free and stays fc_spike_q15.
  - mst_depth N: every binary fc (the npz fc_b1 layers and the binarised ones) becomes
    mst_fc_b1_f32 / mst_fc_b1_bits (lossless: the same outputs in the same channel order) over a
    spanning forest of depth <= N chosen with the Cortex-M4 cost model (edgehost.sim.mst).
  Each compressed layer's report gets a "compress" entry: the weight error (SQNR, relative RMS)
  and the MACs / ACE of the layer before and after (edgehost.convert.analyze's definitions).
"""
from __future__ import annotations

import math

import numpy as np

from dataclasses import dataclass

from ..blob.model import Layer, Model, Tensor
from . import graph as G
from .planner import plan

Q15_MAX = 32767


@dataclass
class Compress:
    """What `build` compresses (see the module docstring)."""
    binarize: bool = False
    shiftadd: str | None = None      # None, "pow2" or "bcq:K" (K in 1..8)
    mst_depth: int | None = None     # None: binary fc layers stay fc_b1_*

    def __post_init__(self):
        if self.shiftadd is not None:
            if self.shiftadd != "pow2" and not (self.shiftadd.startswith("bcq:") and self.shiftadd[4:].isdigit()
                                                and 1 <= int(self.shiftadd[4:]) <= 8):
                raise ConvertError(f"shiftadd must be pow2 or bcq:K with K in 1..8, got {self.shiftadd!r}")
        if self.mst_depth is not None and int(self.mst_depth) < 0:
            raise ConvertError(f"mst depth must be >= 0, got {self.mst_depth}")

    @property
    def any(self) -> bool:
        return self.binarize or self.shiftadd is not None or self.mst_depth is not None


def _err(w, approx) -> dict:
    from ..quant.report import ErrorReport
    e = ErrorReport.of(w, approx)
    ref = float(np.sqrt(np.mean(np.square(np.asarray(w, np.float64))))) or 1.0
    return {"weight_sqnr_db": e.sqnr_db, "weight_rel_rms": e.rms / ref, "weight_max_abs_error": e.max_abs}


def _binarized(l: G.Fc, gi: int):
    """(BinFc on spikes equal to alpha sign(W) s + b, alpha, sign(W)) of an fc after spikes."""
    w = np.asarray(l.weight, np.float64)
    sgn = np.where(w < 0, -1, 1)
    alpha = np.mean(np.abs(w), axis=1)
    bias = (np.zeros(w.shape[0]) if l.bias is None else np.asarray(l.bias, np.float64).ravel())
    return G.BinFc(sgn, scale=-alpha / 2, bias=bias + alpha * sgn.sum(axis=1) / 2), alpha, sgn


class ConvertError(ValueError):
    """The graph cannot be lowered as asked; the message names the layer and the reason."""


class FidelityError(ConvertError):
    """strict=True and the Q15 model departs from the float one on the calibration inputs;
    `report` is the build report (report["warnings"] says where and why)."""

    def __init__(self, message: str, report: dict):
        super().__init__(message)
        self.report = report


class _Builder:
    def __init__(self):
        self.tensors: list[Tensor] = []
        self.layers: list[Layer] = []

    def tensor(self, dtype, n, kind="activation", scale=1.0) -> int:
        self.tensors.append(Tensor(dtype, (int(n),), kind, 0, float(scale)))
        return len(self.tensors) - 1

    def layer(self, type_, inp, out, params=(), states=(), shift=0, reset="subtract", leak=(), **kw) -> int:
        n_in = self.tensors[inp].n
        n_out = self.tensors[out].n
        if kw.get("reset_timing", "next") == "next":
            kw.pop("reset_timing", None)     # the default: blobs without graph features stay format <= 1.4
        self.layers.append(Layer(type_, inp, out, n_in, n_out, list(params), list(states), int(shift),
                                 reset, tuple(leak), **kw))
        return len(self.layers) - 1


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).astype(np.float32).ravel()


def _pn(a) -> np.ndarray:
    """A per-neuron parameter: one shared entry when all entries are equal."""
    v = _f32(a)
    return v[:1] if v.size > 1 and np.all(v == v[0]) else v


def build(graph: G.Graph, quantize: str = "none", calib="auto", headroom: float = 8.0,
          input_range: float | None = None, reuse: bool = True,
          compress: Compress | None = None, strict: bool = False, seed: int = 0) -> tuple[Model, dict]:
    """The blob Model of `graph` and a report {layers: [...], notes: [...], ...}.

    calib: array (steps, n_in) or (sequences, steps, n_in) of representative inputs (the Q15 path
    uses it to choose scales and to measure the quantisation error); "auto" (the default): on the
    Q15 path, inputs generated by edgehost.convert.calibrate.generate(graph, seed, input_range)
    (spike trains and analog signals; report["calibration"] says which); "spikes" / "analog":
    only the generated spike trains / analog signals (a model that takes spikes gets ranges
    for spikes, not for negative analog inputs); None: no calibration
    (ranges from headroom x threshold and the weights' bounds) and no fidelity check.

    With calibration the Q15 report holds report["fidelity"] (per graph layer: spike agreement with
    the float model or the readout's error, saturation counts per state) and report["warnings"]
    (sentences naming the layer, the cause and the fix, edgehost.convert.calibrate.warnings_of);
    each warning is also issued as a Q15FidelityWarning, or with strict=True the build raises
    FidelityError (a ConvertError) instead."""
    comp = compress or Compress()
    gen_info = None
    if isinstance(calib, str):
        from .calibrate import KINDS, generate
        if calib not in KINDS:
            raise ConvertError(f"calib must be an array, None or one of {', '.join(KINDS)}, got {calib!r}")
        kind, calib = calib, None
        if quantize == "q15" and not hasattr(graph, "build_model"):
            try:
                graph.sizes()
                gen = generate(graph, seed=seed, input_range=input_range, kind=kind)
            except ValueError as e:
                raise ConvertError(str(e)) from None
            calib, gen_info = gen.xs, gen.info
    if quantize == "q15" and calib is not None and not hasattr(graph, "build_model"):
        model, report = _search(graph, calib, headroom, input_range, reuse, comp, gen_info is not None)
    else:
        model, report = _build(graph, quantize, calib, headroom, input_range, reuse, comp, gen_info is not None)
    if quantize == "q15" and isinstance(report, dict) and "fidelity_inputs" in report:
        _fidelity(graph, model, report, gen_info, strict)
    elif quantize == "q15" and isinstance(report, dict) and calib is None:
        report.setdefault("notes", []).append(
            "calib=None: Q15 ranges from headroom x threshold and the weights' bounds, not checked "
            "against the float model (no saturation count, no spike agreement)")
    if quantize == "q15":
        # the spike-driven dense layers in the faster weight layout (the same outputs bit for bit)
        from .layout import choose_spike_fc_layout
        t_layers = choose_spike_fc_layout(model)
        if t_layers and isinstance(report, dict):
            report["spike_fc_input_major"] = t_layers
    return model, report


def _fidelity(graph, model, report, gen_info, strict) -> None:
    """The fidelity check of a calibrated Q15 build (edgehost.convert.calibrate)."""
    import warnings as W
    from .calibrate import Q15FidelityWarning, check, warnings_of
    g, fmodel, fmap, qmap, xs = report.pop("fidelity_inputs")
    fid = check(g, fmodel, fmap, model, qmap, xs)
    report["calibration"] = gen_info or {"source": "given", "sequences": fid["sequences"], "steps": fid["steps"]}
    by = "the generated calibration inputs" if gen_info else "the calibration inputs"
    rows = {r["graph_layer"]: r for r in fid["layers"]}
    for q in report["layers"]:
        r = rows.get(q["graph_layer"])
        if r is None:
            continue
        for k in ("agreement", "agreement_min", "max_abs_error", "max_rel_error", "rms_rel_error", "float_spikes", "q15_spikes"):
            if k in r:
                q[k] = r[k]
        q["saturation"] = {k: v["saturated"] for k, v in r["saturation"].items()}
    report["output_layer"] = g.out_index
    ws = warnings_of(fid, report, by)
    fid["warnings"] = ws
    fid.pop("blob_saturation", None)
    report["fidelity"] = fid
    report["warnings"] = [w["message"] for w in ws]
    if ws and strict:
        raise FidelityError("Q15 loses fidelity (strict): " + " | ".join(report["warnings"]), report)
    for w in ws:
        W.warn(w["message"], Q15FidelityWarning, stacklevel=3)


#: the neuron ranges tried with calibration data, in thresholds (None: 1.25 x the largest value seen)
RANGE_CAPS = (None, 64.0, 32.0, 16.0, 8.0)


def _search(graph, calib, headroom, input_range, reuse, comp, auto):
    """The calibrated Q15 build: neuron ranges of 1.25 x what the float model reached on calib
    (no saturation), or capped at 64, 32, 16 or 8 thresholds (more counts per threshold, i.e.
    finer resolution, at the cost of saturating the rarest excursions): the candidate whose
    spikes best reproduce the float model's on calib, the uncapped one on ties."""
    from . import lower_graph as LG
    from .calibrate import spike_score, spike_trace
    try:
        graph.sizes()
    except ValueError as e:
        raise ConvertError(str(e)) from None
    g = graph if graph.is_chain else LG.prune(graph)
    if g.is_chain:
        ranges = _float_ranges(g, calib)
        fmodel, fmap = _build_f32(g)
    else:
        ranges = LG.float_ranges(g, calib)
        fmodel, fe = LG.build_f32(g, _Builder())
        fmap = [fe.blob_of[i] for i in range(len(g.layers))]
    plan(fmodel)
    trace = spike_trace(g, fmodel, fmap, calib)
    best, seen, tried = None, set(), []
    for cap in RANGE_CAPS:
        model, report = _build(graph, "q15", calib, headroom, input_range, reuse, comp, auto,
                               range_cap=cap, ranges=ranges)
        key = model.to_bytes()
        if key in seen:
            continue
        seen.add(key)
        score = spike_score(model, report["mapping"], calib, trace) if trace else 1.0
        tried.append({"range_cap": cap, "spike_agreement": score})
        if best is None or score > best[0]:
            best = (score, cap, model, report)
        if not trace:
            break
    score, cap, model, report = best
    report["range_choice"] = {"chosen": cap, "tried": tried}
    report["fidelity_inputs"] = (g, fmodel, fmap, report["mapping"], calib)
    return model, report


def _build(graph, quantize, calib, headroom, input_range, reuse, comp, auto, range_cap=None, ranges=None):
    if hasattr(graph, "build_model"):   # an already quantised import (.tflite int8): no lowering
        if comp.any:
            raise ConvertError("--binarize, --shiftadd and --mst-depth apply to float models (npz, NIR, "
                               "PyTorch), not to an already quantised .tflite")
        return graph.build_model(quantize=quantize, reuse=reuse)
    try:
        graph.sizes()
    except ValueError as e:
        raise ConvertError(str(e)) from None
    if not graph.is_chain:
        return _build_graph(graph, quantize, calib, headroom, input_range, reuse, comp, auto, range_cap, ranges)
    if quantize in (None, "none", "f32"):
        if comp.shiftadd is not None:
            raise ConvertError("--shiftadd needs --quantize q15 (the shift-add and BCQ kernels are Q15)")
        reps: dict = {}
        model, mapping = _build_f32(graph, comp, reps)
        report = {"quantize": "none", "layers": [{"graph_layer": i, "kind": l.kind, "blob_layer": mapping[i],
                                                  **reps.get(i, {})}
                                                 for i, l in enumerate(graph.layers)]}
    elif quantize == "q15":
        model, mapping, report = _build_q15(graph, calib, headroom, input_range, comp, auto, range_cap, ranges)
    else:
        raise ConvertError(f"quantize must be none or q15, got {quantize!r}")
    _finish(graph, model, mapping, report, reuse)
    if calib is not None and quantize != "q15" and comp.any:
        _activation_errors(graph, model, mapping, calib, report)
    return model, report


def _finish(graph, model, mapping, report, reuse) -> None:
    """Plan the arena, validate the blob, and complete the report."""
    plan(model, reuse=reuse)
    model.to_bytes()     # validates
    report["notes"] = list(graph.notes) + report.pop("compress_notes", [])
    report["mapping"] = mapping


def _build_graph(graph, quantize, calib, headroom, input_range, reuse, comp, auto=False, range_cap=None,
                 ranges=None):
    """A graph with branches, fan-in or recurrence (edgehost.convert.lower_graph)."""
    from . import lower_graph as LG
    graph = LG.prune(graph)
    if comp.any:
        raise ConvertError("--binarize, --shiftadd and --mst-depth apply to chains; this graph has branches, "
                           "fan-in or recurrence")
    if quantize in (None, "none", "f32"):
        model, e = LG.build_f32(graph, _Builder())
        mapping = [e.blob_of[i] for i in range(len(graph.layers))]
        report = {"quantize": "none", "layers": [{"graph_layer": i, "kind": l.kind, "name": graph.name(i),
                                                  "blob_layer": mapping[i]} for i, l in enumerate(graph.layers)]}
    elif quantize == "q15":
        if not headroom >= 1:
            raise ConvertError(f"headroom must be >= 1, got {headroom}")
        model, mapping, report = LG.build_q15(graph, _Builder(), calib, headroom, input_range, ConvertError,
                                              fallback=auto, range_cap=range_cap, ranges=ranges)
    else:
        raise ConvertError(f"quantize must be none or q15, got {quantize!r}")
    _finish(graph, model, mapping, report, reuse)
    report["graph"] = LG.graph_report(graph, model)
    return model, report


def _build_f32(graph: G.Graph, comp: Compress | None = None, reps: dict | None = None):
    comp = comp or Compress()
    reps = {} if reps is None else reps
    b = _Builder()
    cur = b.tensor("f32", graph.n_in)
    inp = cur
    mapping = []

    def as_f32(t):
        if b.tensors[t].dtype == "spike":
            o = b.tensor("f32", b.tensors[t].n)
            b.layer("spike_f32", t, o)
            return o
        return t

    for l in graph.layers:
        if isinstance(l, G.Norm):
            o = b.tensor("f32", b.tensors[cur].n)
            b.layer("input_f32", cur, o, [_f32(l.offset), _f32(l.gain)])
        elif isinstance(l, G.Fc) and comp.binarize and b.tensors[cur].dtype == "spike":
            bl, alpha, sgn = _binarized(l, len(mapping))
            rep = {"to": "fc_b1_f32", **_err(l.weight, alpha[:, None] * sgn),
                   "macs_before": sgn.size, "ace_before": sgn.size * 32 * 32}
            o = _binfc(b, cur, bl, len(mapping), comp, rep)
            reps[len(mapping)] = {"compress": rep}
        elif isinstance(l, G.Fc):
            cur = as_f32(cur)
            w = np.asarray(l.weight)
            o = b.tensor("f32", w.shape[0])
            b.layer("fc_f32", cur, o, [_f32(w), None if l.bias is None else _f32(l.bias)])
        elif isinstance(l, G.Lif):
            cur = as_f32(cur)
            n = b.tensors[cur].n
            typ, ps, ns, kw = _neuron_f32(l, n)
            st = [b.tensor("f32", n, "state") for _ in range(ns)]
            o = b.tensor("spike", n, "state")
            b.layer(typ, cur, o, ps, st, **kw)
        elif isinstance(l, G.CubaLif):
            cur = as_f32(cur)
            n = b.tensors[cur].n
            typ, ps, ns, kw = _neuron_f32(l, n)
            st = [b.tensor("f32", n, "state") for _ in range(ns)]
            o = b.tensor("spike", n, "state")
            b.layer(typ, cur, o, ps, st, **kw)
        elif isinstance(l, G.Li):
            cur = as_f32(cur)
            o = b.tensor("f32", b.tensors[cur].n, "state")
            b.layer("li_f32", cur, o, [_pn(l.beta)])
        elif isinstance(l, G.Relu):
            cur = as_f32(cur)
            o = b.tensor("f32", b.tensors[cur].n)
            b.layer("relu_f32", cur, o)
        elif isinstance(l, G.BinFc):
            rep = {"to": "fc_b1"}
            o = _binfc(b, cur, l, len(mapping), comp, rep)
            if comp.mst_depth is not None:
                reps[len(mapping)] = {"compress": rep}
        elif isinstance(l, G.Argmax):
            cur = as_f32(cur)
            o = b.tensor("u32", 1)
            b.layer("argmax", cur, o)
        elif isinstance(l, G.SpikeCount):
            if b.tensors[cur].dtype != "spike":
                raise ConvertError(f"layer {len(mapping)} (spike_count): its input must be spikes")
            o = b.tensor("u16", b.tensors[cur].n, "state")
            b.layer("spike_count", cur, o)
        cur = o
        mapping.append(len(b.layers) - 1)
    return Model(b.layers, b.tensors, inp, cur, 0), mapping


def _neuron_f32(l, n):
    from .lower_graph import _neuron_params_f32
    return _neuron_params_f32(l, n)


def _v_reset(l):
    from .lower_graph import _v_reset as vr
    return vr(l)


def _binfc(b: _Builder, cur: int, l: G.BinFc, gi: int, comp: Compress | None = None,
           rep: dict | None = None) -> int:
    """fc_b1_f32 / fc_b1_bits (after pack_spikes_b1 when the input is spikes); the same on both paths.
    With comp.mst_depth: mst_fc_b1_f32 / mst_fc_b1_bits (the same outputs)."""
    from ..sim.binary import pack_bits
    from ..sim.mst import mst_cost
    dt = b.tensors[cur].dtype
    if dt == "spike":
        p = b.tensor("b1", b.tensors[cur].n)
        b.layer("pack_spikes_b1", cur, p)
        cur = p
    elif dt != "b1":
        raise ConvertError(f"layer {gi} (fc_b1): its input must be spikes or binary, got {dt} "
                           f"(no kernel binarises {dt} values)")
    w = np.asarray(l.weight)
    n_out, n_in = w.shape
    rep = {} if rep is None else rep
    if comp is not None and comp.mst_depth is not None:
        from .b1layers import mst_params
        if n_in > 32768:
            raise ConvertError(f"layer {gi} (fc_b1): n_in {n_in} > 32768, the MST kernel's limit")
        params, lay = mst_params(w, max_depth=int(comp.mst_depth))
        sc = b.tensor("s32", n_out + (n_in + 1) // 2)
        c = mst_cost(lay)
        if l.threshold is not None:
            o = b.tensor("b1", n_out)
            b.layer("mst_fc_b1_bits", cur, o, params + [np.asarray(l.threshold).astype(np.int32).ravel()], [sc])
        else:
            o = b.tensor("f32", n_out)
            bias = np.zeros(n_out) if l.bias is None else np.asarray(l.bias, np.float64).ravel()
            b.layer("mst_fc_b1_f32", cur, o, params + [np.concatenate([_f32(l.scale), _f32(bias)])], [sc])
        rep.update(to=b.layers[-1].type, mst_roots=c["roots"], mst_children=c["children"], mst_n_diff=c["n_diff"],
                   mst_depth=c["max_depth"], mst_est_speedup=c["est_speedup"],
                   macs_after=lay.n_roots * n_in + lay.n_diff, ace_after=lay.n_roots * n_in + lay.n_diff)
        rep.setdefault("macs_before", n_out * n_in)
        rep.setdefault("ace_before", n_out * n_in)
        return o
    words = pack_bits(w).ravel()
    if l.threshold is not None:
        o = b.tensor("b1", w.shape[0])
        b.layer("fc_b1_bits", cur, o, [words, np.asarray(l.threshold).astype(np.int32).ravel()])
    else:
        o = b.tensor("f32", w.shape[0])
        b.layer("fc_b1_f32", cur, o, [words, _f32(l.scale), None if l.bias is None else _f32(l.bias)])
    if rep:
        rep.update(to=b.layers[-1].type, macs_after=n_out * n_in, ace_after=n_out * n_in)
    return o


def _float_ranges(graph: G.Graph, calib) -> tuple[float, list[float]]:
    """Largest |value| of the normalised input, of every graph layer output and of every layer's
    state over `calib`."""
    from .calibrate import _host
    model, mapping = _build_f32(graph)
    plan(model)
    hm = _host(model)
    xs = np.asarray(calib, dtype=np.float32)
    seqs = xs[None] if xs.ndim == 2 else xs
    rng = [0.0] * len(graph.layers)
    srng = [0.0] * len(graph.layers)   # largest |state| (membrane, synaptic current)
    in_rng = 0.0
    for seq in seqs:
        hm.reset()
        for x in seq:
            hm.step(x)
            if graph.layers and isinstance(graph.layers[0], G.Norm):
                in_rng = max(in_rng, float(np.abs(hm.t[model.layers[mapping[0]].output]).max()))
            else:
                in_rng = max(in_rng, float(np.abs(x).max()))
            for gi, bi in enumerate(mapping):
                a = hm.t[model.layers[bi].output]
                if a.size:
                    rng[gi] = max(rng[gi], float(np.abs(a).max()))
                for st in model.layers[bi].states:
                    if hm.t[st].size:
                        srng[gi] = max(srng[gi], float(np.abs(hm.t[st]).max()))
    return in_rng, rng, srng


def _build_q15(graph: G.Graph, calib, headroom: float, input_range, comp: Compress | None = None,
               fallback: bool = False, range_cap: float | None = None, ranges=None):
    comp = comp or Compress()
    notes: list = []
    layers = list(graph.layers)
    n_layers = len(layers)
    if not headroom >= 1:
        raise ConvertError(f"headroom must be >= 1, got {headroom}")
    thr_target = Q15_MAX / headroom
    cal_in, cal, cal_state = (None, None, None)
    if ranges is not None:
        cal_in, cal, cal_state = ranges
    elif calib is not None:
        cal_in, cal, cal_state = _float_ranges(graph, calib)
    if input_range is None:
        input_range = cal_in if cal_in else 1.0
    b = _Builder()
    t_in = b.tensor("f32", graph.n_in)
    start = 0
    if layers and isinstance(layers[0], G.Norm):
        off, gain = _f32(layers[0].offset), _f32(layers[0].gain)
        start = 1
    else:
        off, gain = np.zeros(1, np.float32), np.ones(1, np.float32)
    mapping = [] if start == 0 else [0]
    report_layers = []
    sizes = graph.sizes()

    def consumer(j):
        """The first layer from j on that is not a ReLU (ReLU keeps the scale)."""
        while j < n_layers and isinstance(layers[j], G.Relu):
            j += 1
        return layers[j] if j < n_layers else None, j

    def out_scale(j, bound):
        """Scale of the q15 tensor feeding graph layer j, whose producer is bounded by `bound`."""
        c, cj = consumer(j)
        if isinstance(c, (G.Lif, G.CubaLif)):
            s = float(np.max(_f32(c.threshold))) / thr_target
            if cal is not None and j >= 1:
                r = max(cal[j - 1], cal_state[cj]) * 1.25 / Q15_MAX
                if range_cap is not None:
                    r = min(r, range_cap * float(np.max(_f32(c.threshold))) / Q15_MAX)
                if r > s:
                    return r, "calibration range (above headroom x threshold)"
            return s, "threshold"
        if isinstance(c, G.Li):
            if cal is not None and not (fallback and cal[cj] == 0):
                r = cal[cj] * 1.25
            else:
                beta = float(np.max(_f32(c.beta)))
                if beta >= 1:
                    raise ConvertError(f"layer {cj} (li): beta = 1 (an integrator) has no bound: give "
                                       f"calibration data to choose its Q15 scale")
                r = bound / (1 - beta)
            return max(r, 1e-30) / Q15_MAX, "readout range"
        r = cal[j - 1] * 1.25 if (cal is not None and j >= 1) else bound
        if fallback and r == 0:          # never reached on generated inputs: the producers' bound
            r = bound
        return max(r, 1e-30) / Q15_MAX, "output range"

    s_in, why = (None, None)
    c0, _ = consumer(start)
    if isinstance(c0, (G.Lif, G.CubaLif)):
        s_in, why = out_scale(start, input_range)
        # the input must still fit: keep the larger of the two scales
        s_in = max(s_in, input_range / Q15_MAX)
    else:
        s_in = input_range / Q15_MAX
    cur = b.tensor("q15", graph.n_in, scale=s_in)
    b.layer("input_q15", t_in, cur, [off, (gain.astype(np.float64) / s_in).astype(np.float32)])
    if start:
        report_layers.append({"graph_layer": 0, "kind": "norm", "blob_layer": 0, "scale": s_in})

    for gi in range(start, n_layers):
        l = layers[gi]
        t = b.tensors[cur]
        rep = {"graph_layer": gi, "kind": l.kind}
        if isinstance(l, G.Fc):
            if t.dtype not in ("q15", "spike"):
                raise ConvertError(f"layer {gi} (fc): on the q15 path its input must be q15 values or spikes, "
                                   f"got {t.dtype}")
            w = np.asarray(l.weight, dtype=np.float64)
            bias = None if l.bias is None else np.asarray(l.bias, dtype=np.float64).ravel()
            spikes = t.dtype == "spike"
            s_x = 1.0 if spikes else t.scale
            xb = 1.0 if spikes else Q15_MAX * s_x
            yb = float(np.max(np.sum(np.abs(w), axis=1) * xb + (np.abs(bias) if bias is not None else 0)))
            s_y, why = out_scale(gi + 1, yb)
            if comp.binarize and spikes:
                bl, alpha, sgn = _binarized(l, gi)
                crep = {"to": "fc_b1_f32", **_err(w, alpha[:, None] * sgn),
                        "macs_before": w.size, "ace_before": w.size * 1 * 16}
                bl = G.BinFc(bl.weight, scale=bl.scale / s_y, bias=bl.bias / s_y)   # in q15 units
                f = _binfc(b, cur, bl, gi, comp, crep)
                o = b.tensor("q15", w.shape[0], scale=s_y)
                b.layer("input_q15", f, o, [np.zeros(1, np.float32), np.ones(1, np.float32)])
                rep.update(scale=s_y, scale_from=why, compress=crep)
                assert b.tensors[o].n == sizes[gi]
                cur = o
                mapping.append(len(b.layers) - 1)
                rep["blob_layer"] = mapping[-1]
                report_layers.append(rep)
                continue
            if comp.binarize:
                notes.append(f"layer {gi} (fc): --binarize keeps it (its input is q15 values, not spikes)")
            wmax = float(np.max(np.abs(w))) if w.size else 0.0
            if wmax > 0:
                shift = int(math.floor(math.log2(Q15_MAX * s_y / (wmax * s_x))))
            else:
                shift = 31
            shift = min(max(shift, 0), 31)
            k = s_x * 2.0 ** shift / s_y
            wq_f = np.round(w * k)
            sat_w = int(np.sum(np.abs(wq_f) > Q15_MAX))
            wq = np.clip(wq_f, -32768, Q15_MAX).astype(np.int16)
            bq = None
            if bias is not None:
                bq = np.clip(np.round(bias * 2.0 ** shift / s_y), -2**31, 2**31 - 1).astype(np.int32)
            o = b.tensor("q15", w.shape[0], scale=s_y)
            rep.update(scale=s_y, scale_from=why, shift=shift, weight_saturated=sat_w,
                       weight_max_error=float(np.max(np.abs(wq / k - w))) if w.size else 0.0,
                       weight_max=wmax)
            if comp.shiftadd is not None and spikes:
                notes.append(f"layer {gi} (fc): --shiftadd keeps fc_spike_q15 (after spikes it only adds)")
            if comp.shiftadd == "pow2" and not spikes:
                from ..quant.pow2 import quantize_pow2
                pq = quantize_pow2(w * k)
                b.layer("shiftadd_fc_q15", cur, o, [pq.codes.ravel(), bq], shift=shift)
                nz = int(np.count_nonzero(pq.codes & 0x1F))
                rep["compress"] = {"to": "shiftadd_fc_q15", **_err(w, pq.values / k),
                                   "macs_before": w.size, "ace_before": w.size * 16 * 16,
                                   "macs_after": nz, "ace_after": nz * 1 * 16}
            elif comp.shiftadd is not None and not spikes:
                from ..quant.bcq import fit_bcq
                qk = int(comp.shiftadd[4:])
                bz = fit_bcq(w * k, qk)
                tb = b.tensor("s32", 256 * ((w.shape[1] + 7) // 8))
                b.layer("bcq_fc_q15", cur, o, [bz.alpha_exp.astype(np.int8).ravel(), bz.packed().ravel(), bq],
                        [tb], shift=shift)
                rep["compress"] = {"to": "bcq_fc_q15", "q": qk, **_err(w, bz.reconstruct() / k),
                                   "macs_before": w.size, "ace_before": w.size * 16 * 16,
                                   "macs_after": w.size * qk, "ace_after": w.size * qk * 1 * 16}
            else:
                b.layer("fc_spike_q15" if spikes else "fc_q15", cur, o, [wq, bq], shift=shift)
        elif isinstance(l, (G.Lif, G.CubaLif)):
            if t.dtype != "q15":
                raise ConvertError(f"layer {gi} ({l.kind}): on the q15 path its input must be q15 values "
                                   f"(put an fc layer before it), got {t.dtype}")
            thr = _pn(l.threshold).astype(np.float64)
            tq_f = np.round(thr / t.scale)
            tq = np.clip(tq_f, 1, Q15_MAX).astype(np.int16)
            n = t.n
            beta = _pn(l.beta).astype(np.float64)
            dec = np.round(beta * 32768).astype(np.uint16)
            o = b.tensor("spike", n, "state")
            vr = _v_reset(l)
            extra = [] if vr is None else [np.clip(np.round(_pn(vr).astype(np.float64) / t.scale),
                                                   -32768, Q15_MAX).astype(np.int16)]
            kw = {"reset_timing": getattr(l, "timing", "next")}
            if isinstance(l, G.Lif):
                v = b.tensor("q15", n, "state", t.scale)
                b.layer("lif_q15", cur, o, [dec, tq] + extra, [v], reset=l.reset, leak=("decay",), **kw)
                rep["decay_max_error"] = float(np.max(np.abs(dec / 32768 - beta)))
            else:
                alpha = _pn(l.alpha).astype(np.float64)
                adec = np.round(alpha * 32768).astype(np.uint16)
                i = b.tensor("q15", n, "state", t.scale)
                v = b.tensor("q15", n, "state", t.scale)
                b.layer("cubalif_q15", cur, o, [adec, dec, tq] + extra, [i, v], reset=l.reset,
                        leak=("decay", "decay"), **kw)
                rep["decay_max_error"] = float(max(np.max(np.abs(dec / 32768 - beta)),
                                                   np.max(np.abs(adec / 32768 - alpha))))
            rep.update(scale=t.scale, threshold_q=int(tq.max()), threshold_q_min=int(tq.min()),
                       threshold_max_rel_error=float(np.max(np.abs(tq * t.scale - thr) / thr)),
                       threshold_clipped=bool(np.any((tq_f < 1) | (tq_f > Q15_MAX))))
        elif isinstance(l, G.Li):
            if t.dtype != "q15":
                raise ConvertError(f"layer {gi} (li): on the q15 path its input must be q15 values, got {t.dtype}")
            beta = _pn(l.beta).astype(np.float64)
            dec = np.round(beta * 32768).astype(np.uint16)
            o = b.tensor("q15", t.n, "state", t.scale)
            b.layer("li_q15", cur, o, [dec], leak=("decay",))
            rep.update(scale=t.scale, decay_max_error=float(np.max(np.abs(dec / 32768 - beta))))
        elif isinstance(l, G.Relu):
            if t.dtype != "q15":
                raise ConvertError(f"layer {gi} (relu): on the q15 path its input must be q15 values, got {t.dtype}")
            o = b.tensor("q15", t.n, scale=t.scale)
            b.layer("relu_q15", cur, o)
            rep["scale"] = t.scale
        elif isinstance(l, G.BinFc):
            crep = {"to": "fc_b1"}
            o = _binfc(b, cur, l, gi, comp, crep)
            if comp.mst_depth is not None:
                rep["compress"] = crep
        elif isinstance(l, G.Argmax):
            if t.dtype in ("spike", "b1"):
                raise ConvertError(f"layer {gi} (argmax): argmax of spikes is not supported; count them "
                                   f"(spike_count) or read out with li")
            o = b.tensor("u32", 1)
            b.layer("argmax", cur, o)
        elif isinstance(l, G.SpikeCount):
            if t.dtype != "spike":
                raise ConvertError(f"layer {gi} (spike_count): its input must be spikes")
            o = b.tensor("u16", t.n, "state")
            b.layer("spike_count", cur, o)
        elif isinstance(l, G.Norm):
            raise ConvertError(f"layer {gi} (norm): input normalisation must be the first layer")
        else:  # pragma: no cover - graph.sizes() rejects it
            raise ConvertError(f"layer {gi}: unknown layer {l!r}")
        assert b.tensors[o].n == sizes[gi]
        cur = o
        mapping.append(len(b.layers) - 1)
        rep["blob_layer"] = mapping[-1]
        report_layers.append(rep)
    model = Model(b.layers, b.tensors, t_in, cur, 0)
    return model, mapping, {"quantize": "q15", "input_scale": s_in, "input_range": input_range,
                            "headroom": headroom, "layers": report_layers, "compress_notes": notes}


def _activation_errors(graph, qmodel, qmap, calib, report):
    """Compare the q15 model with the float model layer by layer on the calibration inputs."""
    from ..runtime import HostModel
    fmodel, fmap = _build_f32(graph)
    plan(fmodel)
    _compare(graph, fmodel, fmap, qmodel, qmap, calib, report, HostModel)


def _compare(graph, fmodel, fmap, qmodel, qmap, calib, report, HostModel):
    """Run both models on calib; per graph layer: spike agreement, or the largest value error."""
    fm, qm = HostModel(fmodel, backend="sim"), HostModel(qmodel, backend="sim")
    xs = np.asarray(calib, dtype=np.float32)
    seqs = xs[None] if xs.ndim == 2 else xs
    n = len(graph.layers)
    agree = np.zeros(n)
    total = np.zeros(n)
    err = np.zeros(n)
    ref = np.zeros(n)
    for seq in seqs:
        fm.reset()
        qm.reset()
        for x in seq:
            fm.step(x)
            qm.step(x)
            for gi in range(n):
                ft = fmodel.layers[fmap[gi]].output
                qt = qmodel.layers[qmap[gi]].output
                a = fm.tensor(ft).astype(np.float64)
                q = qm.tensor(qt).astype(np.float64)
                if qmodel.tensors[qt].dtype == "q15":
                    q = q * qmodel.tensors[qt].scale
                if fmodel.tensors[ft].dtype in ("spike", "u32", "u16"):
                    agree[gi] += np.sum(a == q)
                    total[gi] += a.size
                else:
                    err[gi] = max(err[gi], float(np.max(np.abs(a - q))))
                    ref[gi] = max(ref[gi], float(np.max(np.abs(a))))
    for rep in report["layers"]:
        gi = rep["graph_layer"]
        if total[gi]:
            rep["agreement"] = float(agree[gi] / total[gi])
        else:
            rep["max_abs_error"] = float(err[gi])
            rep["max_rel_error"] = float(err[gi] / ref[gi]) if ref[gi] else 0.0
