"""Q15 fidelity: automatic calibration inputs, and the check of a Q15 model against its float
original (spike agreement, readout error, saturation per layer and state), with warnings in words.

`edgehost.convert.build(graph, quantize="q15")` without calibration data calibrates on inputs made
here (`generate`): exactly what `build(..., calib=generate(graph).xs)` gives. After the Q15 model is
built, `check` runs it and the float model on the calibration inputs (given or generated) and
returns the fidelity report; `warnings_of` turns it into sentences naming the layer, the cause and
the fix.

Generated inputs (deterministic, seed 0 by default; kind "auto" both sets below, "spikes" or
"analog" one of them: `build(calib="spikes")`, `edgehost convert --calib spikes`), `steps` each,
enough for the slowest
membrane to settle (5 time constants 1 / (1 - beta) or 1 / (1 - alpha) plus 100, at least 200,
at most 2,000):
  - spike trains (0/1) at rates 2 %, 10 %, 30 %, 60 %, 90 %, and one with a rate per input
    drawn in [0, 1] (Bernoulli per step): for spike inputs. Only when the model has no input
    normalisation (a first Norm layer means analog inputs) and R >= 1;
  - analog signals within +-R (R = --input-range, default 1.0, in the normalised units of a
    first Norm layer, mapped back to raw units): uniform white noise, a smooth random signal
    (a sum of three random sines per input), and blocks of T/4 steps holding +R or -R per input
    (sustained extremes, where membranes reach their largest values).
Ranges are then chosen from what the float model reached on them (1.25 x the largest value of
every layer's input, membrane and synaptic current, never less than headroom x threshold;
edgehost.convert.lower). A layer that never reached a value on them (a population that never
spikes) keeps the bound of its producers instead of a degenerate scale.

Fidelity criterion (stated in docs/model-format.md): a spiking layer warns when its Q15 spikes
equal the float model's on fewer than AGREEMENT (99.5 %) of its (neuron, step) entries on any
one calibration sequence (a network whose spikes cascade can stay equal on one input and not on
another: the worst sequence is the one that counts); a readout (li) or the model output warns
when it saturates on the calibration inputs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import graph as G

#: spike agreement (fraction of (neuron, step) entries) below which convert warns
AGREEMENT = 0.995
RATES = (0.02, 0.1, 0.3, 0.6, 0.9)
MIN_STEPS, MAX_STEPS = 200, 2000


class Q15FidelityWarning(UserWarning):
    """The Q15 model departs from its float original on the calibration inputs (convert's warning)."""


@dataclass
class Calibration:
    """Generated calibration inputs: xs (sequences, steps, n_in) float32 and what they are."""
    xs: np.ndarray
    info: dict = field(default_factory=dict)


def settle_steps(graph) -> int:
    """Steps for the slowest membrane / current / readout of the graph to settle."""
    tau = 1.0
    for l in graph.layers:
        for name in ("beta", "alpha"):
            p = getattr(l, name, None)
            if p is None or isinstance(l, (G.Fc,)):
                continue
            b = float(np.max(np.asarray(p, np.float64)))
            if b < 1:
                tau = max(tau, 1.0 / (1.0 - b))
            else:
                tau = math.inf
    if not math.isfinite(tau):
        return MAX_STEPS
    return int(min(MAX_STEPS, max(MIN_STEPS, math.ceil(5 * tau) + 100)))


KINDS = ("auto", "spikes", "analog")


def generate(graph, seed: int = 0, input_range: float | None = None, steps: int | None = None,
             kind: str = "auto") -> Calibration:
    """The calibration inputs convert makes when none are given (see the module docstring).
    kind: "auto" both sets, "spikes" the spike trains only (the model takes spikes), "analog"
    the analog signals only."""
    if kind not in KINDS:
        raise ValueError(f"calibration kind must be one of {', '.join(KINDS)}, got {kind!r}")
    rng = np.random.default_rng(seed)
    n = int(graph.n_in)
    T = int(steps) if steps is not None else settle_steps(graph)
    R = 1.0 if input_range is None else float(input_range)
    first = graph.layers[0] if graph.layers else None
    norm = isinstance(first, G.Norm)
    seqs, kinds = [], []
    if kind == "spikes" and (norm or R < 1):
        raise ValueError("spike calibration inputs (1.0) need a model without input normalisation and an "
                         f"input range >= 1 (got {'a Norm first layer' if norm else f'--input-range {R:g}'})")
    if not norm and R >= 1 and kind != "analog":
        for r in RATES:
            seqs.append((rng.random((T, n)) < r).astype(np.float32))
            kinds.append(f"spikes {100 * r:g} %")
        rates = rng.random(n)
        seqs.append((rng.random((T, n)) < rates).astype(np.float32))
        kinds.append("spikes, a rate per input in [0, 1]")
    u = rng.uniform(-R, R, size=(T, n))
    t = np.arange(T)[:, None]
    sm = np.zeros((T, n))
    for _ in range(3):
        per = rng.uniform(8, max(16, T / 2), size=n)
        sm += np.sin(2 * np.pi * t / per + rng.uniform(0, 2 * np.pi, size=n))
    sm = R * sm / max(np.max(np.abs(sm)), 1e-12)
    blocks = np.repeat(rng.choice([-R, R], size=(4, n)), -(-T // 4), axis=0)[:T]
    blocks[0] = R            # every input reaches +R and -R somewhere
    blocks[-1] = -R
    analog = [u, sm, blocks]
    if norm:
        off = np.asarray(first.offset, np.float64).ravel()
        gain = np.asarray(first.gain, np.float64).ravel()
        idx = np.arange(n)
        off, gain = off[idx % off.size], gain[idx % gain.size]
        gain = np.where(gain == 0, 1.0, gain)
        analog = [a / gain + off for a in analog]
    if kind != "spikes":
        seqs += [a.astype(np.float32) for a in analog]
        kinds += [f"uniform noise +-{R:g}", f"smooth random signal +-{R:g}", f"blocks of +-{R:g}"]
    xs = np.stack(seqs)
    info = {"source": "generated", "kind": kind, "seed": seed, "sequences": len(seqs), "steps": T, "input_range": R,
            "signals": kinds}
    return Calibration(xs, info)


def _owner(qmap: list, n_blob: int) -> list:
    """Graph layer owning each blob layer: the first graph layer whose value is written at or
    after it (the extra layers before a layer's own: adds, identity fc, input_q15); None past
    the last (delay layers)."""
    order = sorted((b, gi) for gi, b in enumerate(qmap))
    own = []
    for bi in range(n_blob):
        g = next((gi for b, gi in order if b >= bi), None)
        own.append(g)
    return own


def _host(model):
    from ..runtime import HostModel
    try:
        return HostModel(model, backend="kernels")
    except (ImportError, ValueError):
        return HostModel(model, backend="sim")


def check(graph, fmodel, fmap, qmodel, qmap, xs) -> dict:
    """Run the float and the Q15 model on xs ((steps, n) or (sequences, steps, n)); per graph layer:
    spike agreement (or the readout's error) and the Q15 saturation counts per state."""
    from ..quant.saturation import SaturationCounter
    fm, qm = _host(fmodel), _host(qmodel)
    sc = SaturationCounter(qmodel)
    xs = np.asarray(xs, dtype=np.float32)
    seqs = xs[None] if xs.ndim == 2 else xs
    L = len(graph.layers)
    agree = np.zeros(L)
    total = np.zeros(L)
    fsp = np.zeros(L)
    qsp = np.zeros(L)
    err = np.zeros(L)
    ref = np.zeros(L)
    se = np.zeros(L)
    cnt = np.zeros(L)
    fo = [fmodel.layers[fmap[i]].output for i in range(L)]
    qo = [qmodel.layers[qmap[i]].output for i in range(L)]
    spk = [fmodel.tensors[fo[i]].dtype in ("spike", "u32", "u16") for i in range(L)]
    worst = np.ones(L)                  # the lowest agreement of one sequence
    worst_seq = np.zeros(L, int)
    qscale = [qmodel.tensors[qo[i]].scale if qmodel.tensors[qo[i]].dtype == "q15" else None for i in range(L)]
    for k, seq in enumerate(seqs):
        fm.reset()
        qm.reset()
        sc.reset()
        fa = [[] for _ in range(L)]
        qa = [[] for _ in range(L)]
        for x in seq:
            fm.step(x)
            sc.step(qm, x)
            for i in range(L):
                fa[i].append(fm.t[fo[i]].copy())
                qa[i].append(qm.t[qo[i]].copy())
        for i in range(L):
            a = np.stack(fa[i]).astype(np.float64)
            q = np.stack(qa[i]).astype(np.float64)
            if qscale[i] is not None:
                q = q * qscale[i]
            if spk[i]:
                eq = np.sum(a == q)
                agree[i] += eq
                total[i] += a.size
                if a.size and eq / a.size < worst[i]:
                    worst[i], worst_seq[i] = eq / a.size, k
                if fmodel.tensors[fo[i]].dtype == "spike":
                    fsp[i] += np.sum(a != 0)
                    qsp[i] += np.sum(q != 0)
            elif a.size:
                d = np.abs(a - q)
                err[i] = max(err[i], float(d.max()))
                ref[i] = max(ref[i], float(np.abs(a).max()))
                se[i] += float(np.sum(d * d))
                cnt[i] += d.size
    sat = sc.report()
    own = _owner(qmap, len(qmodel.layers))
    layers = []
    for i, l in enumerate(graph.layers):
        row = {"graph_layer": i, "name": graph.name(i), "kind": l.kind,
               "inputs": [e.src for e in graph.edges(i)]}
        if total[i]:
            row["agreement"] = float(agree[i] / total[i])
            row["agreement_min"] = float(worst[i])
            row["worst_sequence"] = int(worst_seq[i])
            if fmodel.tensors[fo[i]].dtype == "spike":
                row["float_spikes"] = int(fsp[i])
                row["q15_spikes"] = int(qsp[i])
        else:
            row["max_abs_error"] = float(err[i])
            row["max_rel_error"] = float(err[i] / ref[i]) if ref[i] else 0.0
            row["rms_rel_error"] = float(math.sqrt(se[i] / cnt[i]) / ref[i]) if (ref[i] and cnt[i]) else 0.0
        states: dict = {}
        for bi, r in enumerate(sat):
            if own[bi] != i or not r["counted"]:
                continue
            for k, v in r["states"].items():
                name = "input" if qmodel.layers[bi].type == "input_q15" and k == "input" else k
                s = states.setdefault(name, {"saturated": 0, "values": 0})
                s["saturated"] += v["saturated"]
                s["values"] += v["values"]
        row["saturation"] = states
        row["saturated"] = int(sum(s["saturated"] for s in states.values()))
        layers.append(row)
    steps = int(seqs.shape[0] * seqs.shape[1])
    return {"threshold": AGREEMENT, "sequences": int(seqs.shape[0]), "steps": int(seqs.shape[1]),
            "total_steps": steps, "layers": layers, "blob_saturation": sat}


def spike_trace(graph, fmodel, fmap, xs) -> dict:
    """{graph layer: uint8 (sequences, steps, n)} of the float model's spikes on xs."""
    fm = _host(fmodel)
    xs = np.asarray(xs, dtype=np.float32)
    seqs = xs[None] if xs.ndim == 2 else xs
    out = {i: fmodel.layers[fmap[i]].output for i in range(len(graph.layers))
           if fmodel.tensors[fmodel.layers[fmap[i]].output].dtype == "spike"}
    tr = {i: np.zeros((seqs.shape[0], seqs.shape[1], fmodel.tensors[t].n), np.uint8) for i, t in out.items()}
    for k, seq in enumerate(seqs):
        fm.reset()
        got = {i: [] for i in out}
        for x in seq:
            fm.step(x)
            for i, t in out.items():
                got[i].append(fm.t[t].copy())
        for i in out:
            tr[i][k] = np.stack(got[i])
    return tr


def spike_score(qmodel, qmap, xs, trace: dict) -> float:
    """Pooled fraction of the float spikes' (neuron, step) entries that the Q15 model reproduces,
    over every spiking layer (trace: spike_trace's)."""
    if not trace:
        return 1.0
    qm = _host(qmodel)
    xs = np.asarray(xs, dtype=np.float32)
    seqs = xs[None] if xs.ndim == 2 else xs
    out = {i: qmodel.layers[qmap[i]].output for i in trace}
    agree = total = 0
    for k, seq in enumerate(seqs):
        qm.reset()
        got = {i: [] for i in out}
        for x in seq:
            qm.step(x)
            for i, t in out.items():
                got[i].append(qm.t[t].copy())
        for i in out:
            g = np.stack(got[i])
            agree += int(np.count_nonzero(g == trace[i][k]))
            total += g.size
    return agree / total if total else 1.0


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _cap_words(cap) -> str:
    return "uncapped" if cap is None else f"{cap:g} thresholds"


def _sat_words(row) -> str:
    return ", ".join(f"{k} {v['saturated']:,} of {v['values']:,} values" for k, v in row["saturation"].items()
                     if v["saturated"])


def warnings_of(fid: dict, report: dict, calibrated_by: str) -> list[dict]:
    """The warnings of a fidelity report: [{graph_layer, name, cause, message}], in schedule order.

    calibrated_by: how the calibration inputs are named in the message ("the generated
    calibration inputs", "--calib 'x.npy'")."""
    rows = fid["layers"]
    qrep = {q["graph_layer"]: q for q in report.get("layers") or []}
    cal = report.get("calibration") or {}
    hint = (" If the model takes spikes, --calib spikes (ranges for the generated spike trains only, "
            "not for negative analog inputs) often does better." if cal.get("kind") == "auto"
            and any(str(k).startswith("spikes") for k in cal.get("signals", [])) else "")
    out = []
    diverged = None               # the first spiking layer below the threshold
    out_layer = report.get("output_layer", len(rows) - 1)
    for row in rows:
        i = row["graph_layer"]
        who = (f"layer {i} ({row['kind']})" if row["name"] == f"layer {i}"
               else f"layer {i} ({row['name']}, {row['kind']})")
        if "agreement" in row and "float_spikes" in row and row["agreement_min"] < fid["threshold"]:
            sig = cal.get("signals") or []
            seq = row["worst_sequence"]
            where = f"sequence {seq}" + (f" ({sig[seq]})" if seq < len(sig) else "")
            head = (f"{who}: Q15 spikes equal the float model's on {_pct(row['agreement_min'])} of "
                    f"(neuron, step) entries on {where} of {calibrated_by} (below {_pct(fid['threshold'])}; "
                    f"{_pct(row['agreement'])} over all of them; {row['float_spikes']:,} float spikes, "
                    f"{row['q15_spikes']:,} Q15)")
            sat_here = [r for r in rows if r["graph_layer"] <= i and r["saturated"]]
            rc = report.get("range_choice") or {}
            unc = next((t["spike_agreement"] for t in rc.get("tried", []) if t["range_cap"] is None), None)
            no_range = rc.get("chosen") is not None and unc is not None and unc < fid["threshold"]
            if diverged is not None and (not sat_here or no_range):
                cause = "follows"
                msg = (f"{head}. Cause: it follows the divergence of layer {diverged} (its input spikes "
                       f"differ). Fix: see layer {diverged}.")
            elif sat_here and not no_range:
                parts = "; ".join(f"layer {r['graph_layer']} ({r['kind']}): {_sat_words(r)}" for r in sat_here)
                inp = any("input" in r["saturation"] and r["saturation"]["input"]["saturated"] for r in sat_here)
                cause = "saturation"
                capped = ""
                if rc.get("chosen") is not None:
                    tried = ", ".join(f"{_cap_words(t['range_cap'])} {_pct(t['spike_agreement'])}"
                                      for t in rc.get("tried", []))
                    capped = (f" (neuron ranges capped at {rc['chosen']:g} thresholds: of the ranges tried, the one whose "
                              f"spikes best matched the float model's, pooled over the spiking layers: {tried}; "
                              f"wider ranges cost resolution)")
                fix = ("give --calib with inputs like the real ones, or a larger --input-range" if inp else
                       "give --calib with inputs like the real ones (they set the ranges; the generated ones include "
                       "extremes real data may never reach), or convert without --quantize q15")
                msg = f"{head}. Cause: saturation of {parts}{capped}. Fix: {fix}.{hint}"
            else:
                cause = "resolution"
                q = qrep.get(i, {})
                prev = next((qrep[j] for j in row["inputs"] if j in qrep and "weight_max" in qrep[j]), {})
                bits = []
                if "threshold_q_min" in q:
                    bits.append(f"its thresholds are {q['threshold_q_min']}..{q.get('threshold_q')} counts of its "
                                f"Q15 scale" + (" (some clipped to 1 count)" if q.get("threshold_clipped") else ""))
                if "weight_max" in prev and "weight_max_error" in prev:
                    bits.append(f"the weights into it round by up to {prev['weight_max_error']:.3g} "
                                f"(largest {prev['weight_max']:.3g})")
                if "decay_max_error" in q:
                    bits.append(f"its decays round by up to {q['decay_max_error']:.2g}")
                detail = (("; ".join(bits)) if bits else "the Q15 grid of its scale") + (
                    " (a rounding difference of a count flips a spike whose membrane lands near the threshold, "
                    "and with it the spikes after it)")
                if no_range:
                    tried = ", ".join(f"{_cap_words(t['range_cap'])} {_pct(t['spike_agreement'])}"
                                      for t in rc.get("tried", []))
                    lead = (f"resolution, which no range fixes (the ranges tried, pooled spike agreement: {tried}; "
                            f"uncapped nothing saturates, the chosen {_cap_words(rc['chosen'])} saturates "
                            f"{_sat_words(row) or 'upstream'})")
                else:
                    lead = "resolution, not range (nothing saturated)"
                msg = (f"{head}. Cause: {lead}: {detail}. Fix: keep the "
                       f"thresholds of one layer within a factor of a few hundred of each other and the "
                       f"weights not far below the threshold (retrain or rescale), lower --headroom if the "
                       f"range allows, or convert without --quantize q15.{hint}")
            out.append({"graph_layer": i, "name": row["name"], "cause": cause, "message": msg})
            if diverged is None:
                diverged = i
        elif "agreement" not in row and row["saturated"] and (row["kind"] == "li" or i == out_layer):
            what = "readout" if row["kind"] == "li" else "output"
            out.append({"graph_layer": i, "name": row["name"], "cause": "saturation",
                        "message": (f"{who}: its {what} saturates on {calibrated_by} ({_sat_words(row)}; "
                                    f"largest error {_pct(row['max_rel_error'])} of its range). Fix: give --calib "
                                    f"with inputs like the real ones (they set the ranges).")})
    return out
