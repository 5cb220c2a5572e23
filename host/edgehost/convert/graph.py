"""The float layer graph every importer produces and `lower.build` turns into a blob.

A graph is a chain: input vector of `n_in` floats -> layers in order. Parameters are float
arrays; per-neuron parameters have 1 entry (shared) or n entries. The discrete-time semantics
are those of the kernels (kernels_c/include/eh_lif.h, eh_basic.h), i.e. snnTorch's:

    Norm:      y = (x - offset[c]) * gain[c], c = index % len(offset)
    Fc:        y = W x + b                        W: (n_out, n_in)
    Lif:       v = beta v + x - s_prev thr  (reset "subtract") | v = (s_prev ? 0 : beta v) + x ("zero")
               s = v > thr
    CubaLif:   i = alpha i + x; v = beta v + i - s_prev thr | v = s_prev ? 0 : beta v + i; s = v > thr
    Li:        y = beta y + x                     (leaky readout; beta = 1: integrator)
    Relu, Argmax, SpikeCount (counts += s)
    BinFc:     binary dense (XNOR/popcount, eh_binary.h): the input is a vector b in {-1, +1}
               (spikes map to b = 1 - 2 s: a spike is -1, the kernels' packing), weight in
               {-1, +1} (n_out, n_in), dot = sum w b; output dot * scale + bias (float32) or,
               with `threshold`, binary: -1 where dot < threshold, else +1
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _vec(a, name) -> np.ndarray:
    v = np.atleast_1d(np.asarray(a, dtype=np.float64)).ravel()
    if v.size == 0:
        raise ValueError(f"{name} is empty")
    return v


@dataclass
class Norm:
    offset: np.ndarray
    gain: np.ndarray
    kind = "norm"


@dataclass
class Fc:
    weight: np.ndarray          # (n_out, n_in)
    bias: np.ndarray | None = None
    kind = "fc"


@dataclass
class Lif:
    beta: np.ndarray
    threshold: np.ndarray
    reset: str = "subtract"
    kind = "lif"


@dataclass
class CubaLif:
    alpha: np.ndarray
    beta: np.ndarray
    threshold: np.ndarray
    reset: str = "subtract"
    kind = "cubalif"


@dataclass
class Li:
    beta: np.ndarray
    kind = "li"


@dataclass
class BinFc:
    weight: np.ndarray                  # (n_out, n_in) of -1 / +1
    scale: np.ndarray | None = None     # float output: dot * scale + bias
    bias: np.ndarray | None = None
    threshold: np.ndarray | None = None  # binary output: -1 where dot < threshold
    kind = "fc_b1"


@dataclass
class Relu:
    kind = "relu"


@dataclass
class Argmax:
    kind = "argmax"


@dataclass
class SpikeCount:
    kind = "spike_count"


KINDS = ("norm", "fc", "lif", "cubalif", "li", "relu", "argmax", "spike_count", "fc_b1")


@dataclass
class Graph:
    n_in: int
    layers: list = field(default_factory=list)
    notes: list = field(default_factory=list)     # what the importer decided (dt, reset, ...)

    def sizes(self) -> list[int]:
        """Output size of every layer; checks that the chain is consistent."""
        n = self.n_in
        out = []
        for i, l in enumerate(self.layers):
            if isinstance(l, Norm):
                if i != 0:
                    raise ValueError(f"layer {i} (norm): input normalisation must be the first layer")
                c = _vec(l.offset, "norm offset").size
                if _vec(l.gain, "norm gain").size != c or n % c:
                    raise ValueError(f"layer {i} (norm): offset and gain need the same length, "
                                     f"a divisor of {n}")
            elif isinstance(l, Fc):
                w = np.asarray(l.weight)
                if w.ndim != 2 or w.shape[1] != n:
                    raise ValueError(f"layer {i} (fc): weight shape {w.shape}, expected (n_out, {n})")
                if l.bias is not None and np.asarray(l.bias).size != w.shape[0]:
                    raise ValueError(f"layer {i} (fc): bias has {np.asarray(l.bias).size} entries, "
                                     f"expected {w.shape[0]}")
                n = int(w.shape[0])
            elif isinstance(l, BinFc):
                w = np.asarray(l.weight)
                if w.ndim != 2 or w.shape[1] != n:
                    raise ValueError(f"layer {i} (fc_b1): weight shape {w.shape}, expected (n_out, {n})")
                if not np.all(np.abs(w) == 1):
                    raise ValueError(f"layer {i} (fc_b1): weights must be -1 or +1")
                m = int(w.shape[0])
                if (l.threshold is None) == (l.scale is None):
                    raise ValueError(f"layer {i} (fc_b1): give scale (float output) or threshold "
                                     f"(binary output), not both")
                if l.threshold is not None:
                    t = np.atleast_1d(np.asarray(l.threshold)).ravel()
                    if t.size != m or np.any(t != np.round(t)) or np.any((t < -n) | (t > n + 1)):
                        raise ValueError(f"layer {i} (fc_b1): threshold needs {m} integers in "
                                         f"[-{n}, {n + 1}]")
                else:
                    for nm in ("scale", "bias"):
                        v = getattr(l, nm)
                        if v is not None and (np.asarray(v).size != m or not np.all(np.isfinite(v))):
                            raise ValueError(f"layer {i} (fc_b1): {nm} needs {m} finite values")
                n = m
            elif isinstance(l, (Lif, CubaLif, Li)):
                names = {"lif": ("beta", "threshold"), "cubalif": ("alpha", "beta", "threshold"),
                         "li": ("beta",)}[l.kind]
                for nm in names:
                    v = _vec(getattr(l, nm), nm)
                    if v.size not in (1, n):
                        raise ValueError(f"layer {i} ({l.kind}): {nm} has {v.size} entries, "
                                         f"expected 1 or {n}")
                    if nm in ("alpha", "beta") and not np.all((v >= 0) & (v <= 1)):
                        raise ValueError(f"layer {i} ({l.kind}): {nm} outside [0, 1]")
                    if nm == "threshold" and not np.all(np.isfinite(v) & (v > 0)):
                        raise ValueError(f"layer {i} ({l.kind}): threshold must be > 0 and finite")
                if getattr(l, "reset", "subtract") not in ("subtract", "zero"):
                    raise ValueError(f"layer {i} ({l.kind}): reset must be subtract or zero")
            elif isinstance(l, Argmax):
                if i != len(self.layers) - 1:
                    raise ValueError(f"layer {i} (argmax) must be the last layer")
                n = 1
            elif not isinstance(l, (Relu, SpikeCount)):
                raise ValueError(f"layer {i}: unknown layer {l!r}")
            out.append(n)
        return out
