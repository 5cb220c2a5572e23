"""The float layer graph every importer produces and `lower.build` turns into a blob.

A graph is a list of layers in schedule order. Without `inputs` it is a chain: input vector of
`n_in` floats -> layers in order. With `inputs` (NIR graphs with branches, skip connections and
recurrence, `edgehost.convert.nir_graph`), layer i reads the edges `inputs[i]`: each an `Edge(src,
delayed)`, src a layer index or -1 (the graph input); the values of several edges add (NIR's
fan-in), a delayed edge carries the value its source produced at the previous step (zero after a
reset), and every edge that is not delayed comes from an earlier layer (the schedule is a
topological order of the graph without its delayed edges). `output` is the layer whose value is
the model output (default: the last). Parameters are float
arrays; per-neuron parameters have 1 entry (shared) or n entries. The discrete-time semantics
are those of the kernels (kernels_c/include/eh_lif.h, eh_basic.h), i.e. snnTorch's:

    Norm:      y = (x - offset[c]) * gain[c], c = index % len(offset)
    Fc:        y = W x + b                        W: (n_out, n_in)
    Lif:       v = beta v + x - s_prev thr  (reset "subtract") | v = (s_prev ? 0 : beta v) + x ("zero")
               s = v > thr
    CubaLif:   i = alpha i + x; v = beta v + i - s_prev thr | v = s_prev ? 0 : beta v + i; s = v > thr
               (timing "next", snnTorch's). Timing "same" (NIR's equations): v = beta v + x (CubaLif:
               i = alpha i + x, v = beta v + i); s = v > thr; then where s: v -= thr ("subtract") or
               v = v_reset ("zero"; v_reset 0 when None). Reset "none": v = beta v + x (CubaLif:
               beta v + i), never reset. Timing "same-snntorch" (snnTorch reset_delay=False, subtract):
               r = v > thr on entry; w = beta v + x - r thr; s = w > thr; v = w + (r - s) thr
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
    timing: str = "next"                # "next" (snnTorch) or "same" (NIR's equations)
    v_reset: np.ndarray | None = None   # reset value ("zero" with timing "same"); None = 0
    kind = "lif"


@dataclass
class CubaLif:
    alpha: np.ndarray
    beta: np.ndarray
    threshold: np.ndarray
    reset: str = "subtract"
    timing: str = "next"
    v_reset: np.ndarray | None = None
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
class Conv2d:
    """2-D convolution, channel-major (C, H, W) as PyTorch and NIR (kernels_c/include/eh_conv2d.h):
    the input vector is x[c][h][w] of in_shape (c_in, h_in, w_in); weight (c_out, c_in / groups,
    k_h, k_w); bias (c_out,) or None; stride and dilation (h, w); padding (top, left, bottom,
    right), zeros. The output is y[o][oy][ox], flattened the same way."""
    weight: np.ndarray
    bias: np.ndarray | None
    in_shape: tuple
    stride: tuple = (1, 1)
    padding: tuple = (0, 0, 0, 0)
    dilation: tuple = (1, 1)
    groups: int = 1
    kind = "conv2d"

    def out_shape(self) -> tuple:
        from ..sim.conv2d import conv2d_out_size
        w = np.asarray(self.weight)
        h, wo = conv2d_out_size(self.in_shape[0], self.in_shape[1], self.in_shape[2], w.shape[0], w.shape[2],
                                w.shape[3], self.stride, self.padding, self.dilation, self.groups)
        return (int(w.shape[0]), h, wo)


@dataclass
class Pool2d:
    """2-D pooling of each channel, (C, H, W) (eh_conv2d.h "2-D pooling"): mode "sum" (NIR
    SumPool2d) or "avg" (NIR AvgPool2d, divided by k_h k_w whatever the padding); kernel and stride
    (h, w); padding (top, left, bottom, right), zeros."""
    mode: str
    in_shape: tuple
    kernel: tuple
    stride: tuple
    padding: tuple = (0, 0, 0, 0)
    kind = "pool2d"

    def out_shape(self) -> tuple:
        from ..sim.conv2d import pool2d_out_size
        h, w = pool2d_out_size(self.in_shape[0], self.in_shape[1], self.in_shape[2], self.kernel[0], self.kernel[1],
                               self.stride, self.padding)
        return (int(self.in_shape[0]), h, w)


def _conv_out_size(l, n: int, where: str) -> int:
    """Output size of a Conv2d / Pool2d layer of input size n; ValueError naming the numbers."""
    shp = tuple(int(v) for v in l.in_shape)
    if len(shp) != 3 or min(shp) < 1:
        raise ValueError(f"{where} ({l.kind}): input shape {shp}, expected (C, H, W)")
    if int(np.prod(shp)) != n:
        raise ValueError(f"{where} ({l.kind}): input shape {shp} = {int(np.prod(shp))} values, its input gives {n}")
    if isinstance(l, Conv2d):
        w = np.asarray(l.weight)
        if w.ndim != 4:
            raise ValueError(f"{where} (conv2d): weight shape {w.shape}, expected (C_out, C_in / groups, kH, kW)")
        if w.shape[1] * int(l.groups) != shp[0]:
            raise ValueError(f"{where} (conv2d): weight of {w.shape[1]} input channels x groups {l.groups} != "
                             f"C_in {shp[0]} of its input {shp}")
        if l.bias is not None and np.asarray(l.bias).size != w.shape[0]:
            raise ValueError(f"{where} (conv2d): bias has {np.asarray(l.bias).size} entries, expected {w.shape[0]}")
    elif l.mode not in ("sum", "avg"):
        raise ValueError(f"{where} (pool2d): mode must be sum or avg, got {l.mode!r}")
    try:
        out = l.out_shape()
    except ValueError as e:
        raise ValueError(f"{where} ({l.kind}): {e} (input {shp})") from None
    return int(np.prod(out))


@dataclass
class Relu:
    kind = "relu"


@dataclass
class Argmax:
    kind = "argmax"


@dataclass
class SpikeCount:
    kind = "spike_count"


KINDS = ("norm", "fc", "lif", "cubalif", "li", "relu", "argmax", "spike_count", "fc_b1", "conv2d", "pool2d")


@dataclass(frozen=True)
class Edge:
    src: int                # layer index, -1 = the graph input
    delayed: bool = False   # carries the value of the previous step (zero after a reset)


@dataclass
class Graph:
    n_in: int
    layers: list = field(default_factory=list)
    notes: list = field(default_factory=list)     # what the importer decided (dt, reset, ...)
    inputs: list | None = None    # per layer: list of Edge; None = a chain
    output: int | None = None     # the layer whose value is the model output; None = the last
    names: list | None = None     # per layer: the importer's node name (messages, inspect)
    input_kind: str = "values"    # "spikes": the input is 0/1 events, sent packed (b1, 1 bit each)

    @property
    def is_chain(self) -> bool:
        """Lowered as a chain (lower.py); graphs, and chains with 2-D convolutions or pooling, are
        lowered by lower_graph.py (edges() of a chain are the previous layer)."""
        return (self.inputs is None and self.input_kind == "values"
                and not any(getattr(l, "kind", "") in ("conv2d", "pool2d") for l in self.layers))

    def edges(self, i: int) -> list:
        """The edges into layer i."""
        return [Edge(i - 1)] if self.inputs is None else list(self.inputs[i])

    def name(self, i: int) -> str:
        if i < 0:
            return "input"
        return self.names[i] if self.names else f"layer {i}"

    @property
    def out_index(self) -> int:
        return len(self.layers) - 1 if self.output is None else int(self.output)

    def consumers(self) -> dict:
        """layer (or -1) -> list of (consumer layer, Edge)."""
        c: dict = {}
        for i in range(len(self.layers)):
            for e in self.edges(i):
                c.setdefault(e.src, []).append((i, e))
        return c

    def _graph_sizes(self) -> list[int]:
        L = len(self.layers)
        if len(self.inputs) != L:
            raise ValueError(f"graph: {len(self.inputs)} input lists for {L} layers")
        if self.names is not None and len(self.names) != L:
            raise ValueError(f"graph: {len(self.names)} names for {L} layers")
        if not (0 <= self.out_index < L):
            raise ValueError(f"graph: output layer {self.output} outside [0, {L - 1}]")
        for i in range(L):
            es = self.inputs[i]
            if not es:
                raise ValueError(f"{self.name(i)}: no input edge")
            for e in es:
                if not (-1 <= e.src < L):
                    raise ValueError(f"{self.name(i)}: input edge from layer {e.src} outside [-1, {L - 1}]")
                if not e.delayed and e.src >= i:
                    raise ValueError(f"{self.name(i)}: the edge from {self.name(e.src)} is not delayed but its source "
                                     f"comes later in the schedule")
                if e.delayed and e.src < 0:
                    raise ValueError(f"{self.name(i)}: the graph input cannot be a delayed edge")
        sizes: list = [None] * L
        for _ in range(L + 1):       # delayed edges may come from later layers: iterate to a fixed point
            changed = False
            for i, l in enumerate(self.layers):
                if sizes[i] is not None:
                    continue
                known = [self.n_in if e.src < 0 else sizes[e.src] for e in self.inputs[i]]
                known = [k for k in known if k is not None]
                if not known:
                    continue
                sizes[i] = _layer_out_size(l, known[0], self.name(i))
                changed = True
            if not changed:
                break
        for i in range(L):
            if sizes[i] is None:
                raise ValueError(f"{self.name(i)}: its size cannot be inferred (no path from the input)")
            for e in self.inputs[i]:
                n_src = self.n_in if e.src < 0 else sizes[e.src]
                n_want = np.asarray(self.layers[i].weight).shape[1] if isinstance(self.layers[i], Fc) else \
                    (sizes[i] if not isinstance(self.layers[i], Fc) else None)
                if isinstance(self.layers[i], (Conv2d, Pool2d)):
                    n_want = int(np.prod(self.layers[i].in_shape))
                if n_src != n_want:
                    raise ValueError(f"edge {self.name(e.src)} -> {self.name(i)}: shape mismatch, {self.name(e.src)} "
                                     f"gives {n_src} values, {self.name(i)} takes {n_want}")
        return sizes

    def sizes(self) -> list[int]:
        """Output size of every layer; checks that the chain (or graph) is consistent."""
        if self.inputs is not None:
            return self._graph_sizes()
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
                if getattr(l, "reset", "subtract") not in RESETS:
                    raise ValueError(f"layer {i} ({l.kind}): reset must be subtract, zero or none")
                _check_reset(l, n, f"layer {i} ({l.kind})")
            elif isinstance(l, (Conv2d, Pool2d)):
                n = _conv_out_size(l, n, f"layer {i}")
            elif isinstance(l, Argmax):
                if i != len(self.layers) - 1:
                    raise ValueError(f"layer {i} (argmax) must be the last layer")
                n = 1
            elif not isinstance(l, (Relu, SpikeCount)):
                raise ValueError(f"layer {i}: unknown layer {l!r}")
            out.append(n)
        return out


RESETS = ("subtract", "zero", "none")
TIMINGS = ("next", "same", "same-snntorch")


def _check_reset(l, n: int, where: str) -> None:
    timing = getattr(l, "timing", "next")
    if timing not in TIMINGS:
        raise ValueError(f"{where}: reset timing must be next, same or same-snntorch, got {timing!r}")
    reset = getattr(l, "reset", "subtract")
    if reset == "none" and timing != "next":
        raise ValueError(f"{where}: reset none has no timing (give next)")
    if timing == "same-snntorch" and reset != "subtract":
        raise ValueError(f"{where}: timing same-snntorch is snnTorch's reset_delay=False subtraction; its reset "
                         f"to zero is timing same")
    vr = getattr(l, "v_reset", None)
    if vr is not None:
        v = _vec(vr, "v_reset")
        if v.size not in (1, n) or not np.all(np.isfinite(v)):
            raise ValueError(f"{where}: v_reset needs 1 or {n} finite entries")
        if np.any(v != 0) and not (l.reset == "zero" and timing == "same"):
            raise ValueError(f"{where}: v_reset != 0 needs reset to a value in the same step "
                             f"(reset zero, timing same)")


def _layer_out_size(l, n: int, where: str) -> int:
    """Output size of a graph layer of input size n (the kinds a graph may hold)."""
    if isinstance(l, Fc):
        w = np.asarray(l.weight)
        if w.ndim != 2 or w.shape[1] != n:
            raise ValueError(f"{where} (fc): weight shape {w.shape}, expected (n_out, {n})")
        if l.bias is not None and np.asarray(l.bias).size != w.shape[0]:
            raise ValueError(f"{where} (fc): bias has {np.asarray(l.bias).size} entries, expected {w.shape[0]}")
        return int(w.shape[0])
    if isinstance(l, (Lif, CubaLif, Li)):
        names = {"lif": ("beta", "threshold"), "cubalif": ("alpha", "beta", "threshold"), "li": ("beta",)}[l.kind]
        for nm in names:
            v = _vec(getattr(l, nm), nm)
            if v.size not in (1, n):
                raise ValueError(f"{where} ({l.kind}): {nm} has {v.size} entries, expected 1 or {n}")
            if nm in ("alpha", "beta") and not np.all((v >= 0) & (v <= 1)):
                raise ValueError(f"{where} ({l.kind}): {nm} outside [0, 1]")
            if nm == "threshold" and not np.all(np.isfinite(v) & (v > 0)):
                raise ValueError(f"{where} ({l.kind}): threshold must be > 0 and finite")
        if l.kind != "li":
            if l.reset not in RESETS:
                raise ValueError(f"{where} ({l.kind}): reset must be subtract, zero or none")
            _check_reset(l, n, f"{where} ({l.kind})")
        return n
    if isinstance(l, Relu):
        return n
    if isinstance(l, (Conv2d, Pool2d)):
        return _conv_out_size(l, n, where)
    raise ValueError(f"{where}: {getattr(l, 'kind', type(l).__name__)} layers are supported in chains only, "
                     f"not in a graph with branches or recurrence")
