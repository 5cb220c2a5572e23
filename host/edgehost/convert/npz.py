"""The `.npz` importer: raw weights plus a small layer list.

Schema (every key is a numpy array in the archive):
  layers   a JSON string (0-d str array): a list of layers, in order, each a dict with "type":
             {"type": "norm", "offset": P, "gain": P}             input normalisation, first only
             {"type": "fc", "weight": P, "bias": P | null}          weight (n_out, n_in)
             {"type": "lif", "beta": P, "threshold": P, "reset": "subtract" | "zero"}
             {"type": "cubalif", "alpha": P, "beta": P, "threshold": P, "reset": ...}
             {"type": "li", "beta": P}                              leaky readout (beta = 1: integrator)
             {"type": "relu"} | {"type": "argmax"} | {"type": "spike_count"}
             {"type": "fc_b1", "weight": P, "scale": P, "bias": P | null}   binary dense, float out
             {"type": "fc_b1", "weight": P, "threshold": P}                 binary dense, binary out
             {"type": "fc_b1", "weight": P, "bn": {"gamma": P, "beta": P, "mean": P, "var": P,
                                                   "eps": 1e-3}}   binary dense, batch norm, sign:
               folded into integer thresholds (edgehost.sim.binary.fold_bn_sign; rows with a
               negative gamma are flipped), binary out
               (weight of -1/+1; input spikes or binary, a spike being -1: edgehost.convert.graph)
           P is the name of another array in the archive, or a number or list given inline.
           "reset" defaults to "subtract".
  n_in     the input size (an integer array); optional when the first layer is fc or norm with
           the size implied by a later fc.
Semantics are the kernels' discrete-time equations (see edgehost.convert.graph): no dt here.
"""
from __future__ import annotations

import json

import numpy as np

from . import graph as G
from .lower import ConvertError

_FIELDS = {
    "norm": ("offset", "gain"), "fc": ("weight", "bias"), "lif": ("beta", "threshold"),
    "cubalif": ("alpha", "beta", "threshold"), "li": ("beta",), "relu": (), "argmax": (),
    "spike_count": (), "fc_b1": ("weight", "scale", "bias", "threshold", "bn"),
}


def load_npz(path) -> G.Graph:
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:
        raise ConvertError(f"{path}: not a readable .npz archive ({e})") from None
    if "layers" not in z.files:
        raise ConvertError(f"{path}: no 'layers' entry (a JSON list of layers; see edgehost.convert.npz)")
    try:
        spec = json.loads(str(z["layers"]))
    except ValueError as e:
        raise ConvertError(f"{path}: 'layers' is not valid JSON ({e})") from None
    if not isinstance(spec, list) or not spec:
        raise ConvertError(f"{path}: 'layers' must be a non-empty JSON list")

    def param(i, d, name, optional=False):
        v = d.get(name)
        if v is None:
            if optional:
                return None
            raise ConvertError(f"{path}: layer {i} ({d['type']}): missing {name!r}")
        if isinstance(v, str):
            if v not in z.files:
                raise ConvertError(f"{path}: layer {i} ({d['type']}): {name} refers to {v!r}, not in the archive")
            a = z[v]
        else:
            a = np.asarray(v)
        if a.dtype.kind not in "fiub":
            raise ConvertError(f"{path}: layer {i} ({d['type']}): {name} is not numeric")
        return np.asarray(a, dtype=np.float64)

    layers = []
    for i, d in enumerate(spec):
        if not isinstance(d, dict) or d.get("type") not in _FIELDS:
            raise ConvertError(f"{path}: layer {i}: type {d.get('type') if isinstance(d, dict) else d!r} "
                               f"unsupported; supported: {', '.join(_FIELDS)}")
        extra = set(d) - set(_FIELDS[d["type"]]) - {"type", "reset", "name"}
        if extra:
            raise ConvertError(f"{path}: layer {i} ({d['type']}): unknown fields {sorted(extra)}")
        t = d["type"]
        reset = d.get("reset", "subtract")
        if t in ("lif", "cubalif") and reset not in ("subtract", "zero"):
            raise ConvertError(f"{path}: layer {i} ({t}): reset must be subtract or zero, got {reset!r}")
        if t == "norm":
            layers.append(G.Norm(param(i, d, "offset"), param(i, d, "gain")))
        elif t == "fc":
            layers.append(G.Fc(param(i, d, "weight"), param(i, d, "bias", optional=True)))
        elif t == "lif":
            layers.append(G.Lif(param(i, d, "beta"), param(i, d, "threshold"), reset))
        elif t == "cubalif":
            layers.append(G.CubaLif(param(i, d, "alpha"), param(i, d, "beta"), param(i, d, "threshold"), reset))
        elif t == "li":
            layers.append(G.Li(param(i, d, "beta")))
        elif t == "relu":
            layers.append(G.Relu())
        elif t == "fc_b1" and d.get("bn") is not None:
            layers.append(_bn_sign(path, i, d, param))
        elif t == "fc_b1":
            layers.append(G.BinFc(param(i, d, "weight"), param(i, d, "scale", optional=True),
                                  param(i, d, "bias", optional=True), param(i, d, "threshold", optional=True)))
        elif t == "argmax":
            layers.append(G.Argmax())
        else:
            layers.append(G.SpikeCount())
    if "n_in" in z.files:
        n_in = int(np.asarray(z["n_in"]).ravel()[0])
    else:
        fc = next((l for l in layers if isinstance(l, (G.Fc, G.BinFc))), None)
        if fc is None or any(not isinstance(l, G.Norm) for l in layers[:layers.index(fc)]):
            raise ConvertError(f"{path}: give 'n_in' (the input size): it cannot be inferred")
        n_in = int(np.asarray(fc.weight).shape[1])
    g = G.Graph(n_in, layers, [f"npz: {len(layers)} layers, n_in {n_in}"])
    try:
        g.sizes()
    except ValueError as e:
        raise ConvertError(f"{path}: {e}") from None
    return g


def _bn_sign(path, i, d, param) -> G.BinFc:
    """fc_b1 + batch norm + sign -> a BinFc with integer thresholds (fold_bn_sign)."""
    from ..sim.binary import fold_bn_sign, pack_bits, unpack_bits
    bn = d["bn"]
    if not isinstance(bn, dict) or set(bn) - {"gamma", "beta", "mean", "var", "eps"} or \
            not {"gamma", "beta", "mean", "var"} <= set(bn):
        raise ConvertError(f"{path}: layer {i} (fc_b1): bn must be a dict of gamma, beta, mean, var "
                           f"(and optionally eps)")
    if any(d.get(k) is not None for k in ("scale", "bias", "threshold")):
        raise ConvertError(f"{path}: layer {i} (fc_b1): bn replaces scale, bias and threshold")
    w = param(i, d, "weight")
    if w.ndim != 2 or not np.all(np.abs(w) == 1):
        raise ConvertError(f"{path}: layer {i} (fc_b1): weight must be an (n_out, n_in) matrix of -1 / +1")
    vals = {k: param(i, {**bn, "type": "fc_b1 bn"}, k) for k in ("gamma", "beta", "mean", "var")}
    eps = float(bn.get("eps", 1e-3))
    try:
        wf, thr = fold_bn_sign(pack_bits(w), w.shape[1], vals["gamma"], vals["beta"], vals["mean"], vals["var"], eps)
    except ValueError as e:
        raise ConvertError(f"{path}: layer {i} (fc_b1): bn: {e}") from None
    return G.BinFc(unpack_bits(wf, w.shape[1]).reshape(w.shape).astype(np.float64), threshold=thr)


def save_npz(graph: G.Graph, path) -> None:
    """Write a graph in the schema above (one array per parameter)."""
    arrays = {"n_in": np.array([graph.n_in])}
    spec = []
    for i, l in enumerate(graph.layers):
        d = {"type": l.kind}
        for f in _FIELDS[l.kind]:
            if f == "bn":           # folded at load time: the graph holds thresholds
                continue
            v = getattr(l, f)
            if v is None:
                d[f] = None
                continue
            key = f"l{i}.{f}"
            arrays[key] = np.asarray(v)
            d[f] = key
        if l.kind in ("lif", "cubalif"):
            d["reset"] = l.reset
        spec.append(d)
    arrays["layers"] = np.array(json.dumps(spec))
    np.savez(path, **arrays)
