"""The NIR importer (the `nir` package): a NIR graph -> a float `Graph`.

Any directed graph of Input, Output, Affine, Linear, Scale, Flatten, Threshold, LIF, CubaLIF, LI,
IF, I and Conv1d nodes, with nested NIRGraph subgraphs (flattened by name: `sub.node`), fan-out,
fan-in (the values of all edges into a node add, as NIR defines) and cycles (docs/graphs.md). The
structure is scheduled by `edgehost.convert.schedule`: the edge that closes a cycle carries the
value of the previous step; a cycle without a neuron is refused. A chain stays a chain.

Time step. NIR neurons are continuous-time ODEs; the kernels step in discrete time. The importer
discretises with forward Euler at the time step `dt` (default 1e-4 s, the value snnTorch 1.0
assumes when it exports):
    LIF      tau dv/dt = (v_leak - v) + r I     ->  beta = 1 - dt/tau,  input gain r dt / tau,
                                                    constant input v_leak dt / tau
    CubaLIF  tau_syn di/dt = -i + w_in I,  tau_mem dv/dt = (v_leak - v) + r i
             ->  alpha = 1 - dt/tau_syn,  beta = 1 - dt/tau_mem,
                 input gain (w_in dt / tau_syn) (r dt / tau_mem)  (the second factor rescales i)
    LI       as LIF without spikes (leaky readout)
    IF       dv/dt = r I    ->  beta = 1, input gain r dt
    I        (Integrator) dv/dt = r I  ->  readout with beta = 1, input gain r dt
    Threshold                ->  s = x > threshold (a LIF with beta = 0 and reset to zero)
snnTorch writes tau = dt / (1 - beta) and r = tau / dt (gain 1), so with its dt this gives back
its beta and its exact step. Input gains (and v_leak's constant) are folded into the rows (bias)
of the Affine/Linear layers that feed the neuron; where an edge into the neuron comes from
anything else, a diagonal dense layer carrying the gain is put on that edge. Scale becomes a
diagonal dense layer, merged into a neighbouring Affine/Linear when it is the only one on its
edge. Flatten must not change the element count.

Conv1d. A convolution over the fixed input length L (`input_shape`; inferred from the input's
element count when absent) is lowered exactly to a dense layer, its Toeplitz expansion
(edgehost.convert.conv); an expansion above `max_conv_bytes` is refused naming the node.

Reset. NIR's v_reset cannot tell reset-by-subtraction from reset-to-zero (snnTorch writes
v_reset = 0 for both), so the mechanism is explicit: `reset="subtract"` (snnTorch's default) or
"zero"; and so is its timing: `timing="next"` (snnTorch: the reset of a spike is applied at the next
step; the default, since snnTorch is the exporter most users have) or "same" (NIR's equations,
Norse, Sinabs, Rockpool, Lava: the membrane is reset in the step that spiked). v_reset != 0 is a
reset to that value in the same step (`reset="zero", timing="same"`). snnTorch's RLeaky with reset
to zero zeroes the whole new membrane (input included): its exported subgraph (input, lif, w_rec,
output) with `reset="zero", timing="next"` becomes a CuBa-LIF with alpha = 0, which computes exactly
that. A spike is v > threshold (strict).
What a NIR graph cannot say about an snnTorch model is explicit too: `reset="none"` (snnTorch's
reset_mechanism="none": never reset; v_reset and the timing do not apply) and
`timing="same-snntorch"` (snnTorch's reset_delay=False: with reset by subtraction the membrane is
reset in the step that spiked, but a membrane still above the threshold after its reset needs
leak(v) + x - thr above the threshold to spike again: edgehost/convert/torch_import.py; with reset
to zero it is timing "same").
"""
from __future__ import annotations

import numpy as np

from . import conv as C
from . import graph as G
from .lower import ConvertError
from .schedule import ScheduleError, schedule

SUPPORTED = ("Input", "Output", "Affine", "Linear", "LIF", "CubaLIF", "LI", "IF", "I (Integrator)",
             "Threshold", "Scale", "Flatten", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "NIRGraph (nested)")
NEURONS = ("LIF", "CubaLIF", "LI", "IF", "I", "Integrator")
DEFAULT_DT = 1e-4


def _arr(v, n=None, what=""):
    a = np.atleast_1d(np.asarray(v, dtype=np.float64)).ravel()
    if n is not None and a.size not in (1, n):
        raise ConvertError(f"{what}: {a.size} entries, expected 1 or {n}")
    return a


# ---- structure: flatten subgraphs, drop pass-through nodes ----------------------------------

def _flatten(g, where, prefix=""):
    """(nodes {name: node}, edges [(a, b)], pass-through names) with nested graphs inlined."""
    import nir
    nodes: dict = {}
    edges: list = []
    passthru: set = set()
    subs: dict = {}
    for name, node in g.nodes.items():
        full = prefix + str(name)
        if isinstance(node, nir.NIRGraph):
            n2, e2, p2 = _flatten(node, where, full + ".")
            ins = [k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise ConvertError(f"{where}: subgraph {full!r} has {len(ins)} Input and {len(outs)} Output "
                                   f"nodes; a nested graph needs exactly one of each")
            subs[str(name)] = (f"{full}.{ins[0]}", f"{full}.{outs[0]}")
            nodes.update(n2)
            edges += e2
            passthru |= p2 | {f"{full}.{ins[0]}", f"{full}.{outs[0]}"}
        else:
            nodes[full] = node
    for a, b in g.edges:
        a, b = str(a), str(b)
        src = subs[a][1] if a in subs else prefix + a
        dst = subs[b][0] if b in subs else prefix + b
        for end, what in ((src, a), (dst, b)):
            if end not in nodes:
                raise ConvertError(f"{where}: edge {a!r} -> {b!r}: no node {prefix + what!r}")
        edges.append((src, dst))
    return nodes, edges, passthru


class _Node:
    """A node of the importer's working graph."""

    def __init__(self, name, kind, layer=None, gain=None, const=None, nir_kind=""):
        self.name = name
        self.kind = kind            # input, output, pass, fc, neuron
        self.layer = layer          # a G.* layer (fc, neuron)
        self.gain = gain            # neuron input gain (array) or None
        self.const = const          # neuron constant input per step (v_leak) or None
        self.nir_kind = nir_kind
        self.n = None               # output elements
        self.expect_in = None       # Flatten: the element count it declares
        self.shape = None           # (C, H, W) of its output when known (conv2d, pooling, neurons after them)
        self.in_n = None            # input elements (fc, conv, pool)


def load_nir(source, dt: float | None = None, reset: str = "subtract", timing: str = "next",
             delays=(), max_conv_bytes: int = C.MAX_DENSE_BYTES, if_dt: float | None = None) -> G.Graph:
    """Import a NIR graph (a path or a nir.NIRGraph). timing: "next" or "same" (see the module
    docstring); delays: edges (src, dst) the user wants delayed; max_conv_bytes: the largest dense
    matrix (float32 bytes) a Conv1d may expand to."""
    try:
        import nir
    except ImportError:  # pragma: no cover - depends on the install
        raise ConvertError("reading .nir files needs the 'nir' package: pip install 'edgehost[import]'") from None
    if reset not in ("subtract", "zero", "none"):
        raise ConvertError(f"reset must be subtract, zero or none, got {reset!r}")
    if timing not in ("next", "same", "same-snntorch"):
        raise ConvertError(f"reset timing must be next, same or same-snntorch, got {timing!r}")
    notes = []
    if reset == "none" and timing != "next":
        notes.append(f"reset timing {timing}: ignored with reset none (nothing is reset)")
        timing = "next"
    if reset == "zero" and timing == "same-snntorch":
        notes.append("reset timing same-snntorch with reset zero: snnTorch's reset_delay=False reset to zero is "
                     "the same-step reset to 0 (timing same)")
        timing = "same"
    if dt is None:
        dt = DEFAULT_DT
        notes.append(f"dt = {dt:g} s (default: the time step snnTorch assumes when exporting to NIR)")
    else:
        notes.append(f"dt = {dt:g} s")
    if not (isinstance(dt, (int, float)) and dt > 0 and np.isfinite(dt)):
        raise ConvertError(f"dt must be > 0 and finite, got {dt}")
    notes.append("discretisation: forward Euler (beta = 1 - dt/tau, input gain r dt/tau)")
    notes.append(f"reset: {reset}" + (" (snnTorch's default)" if reset == "subtract" else "")
                 + "; NIR's v_reset = 0 cannot tell subtract from zero: choose with --reset")
    if reset != "none":
        notes.append(f"reset timing: {timing}" + (" (snnTorch's: a spike's reset is applied at the next step; "
                                                  "NIR's equations reset in the same step: --reset-timing same)"
                                                  if timing == "next" else " (NIR's equations: reset in the step "
                                                                           "that spiked)" if timing == "same" else
                                                  " (snnTorch's reset_delay=False: reset in the step that spiked, "
                                                  "as snnTorch computes it)"))
    where = str(source) if not isinstance(source, nir.NIRGraph) else "NIR graph"
    if isinstance(source, nir.NIRGraph):
        g = source
    else:
        try:
            try:
                g = nir.read(source)
            except ValueError as e:
                if "type" not in str(e).lower():
                    raise
                # nir's own type check can be wrong (nir 1.0.8 gives a grouped Conv1d an input of
                # C_in / groups channels): read without it; the sizes are checked below
                g = nir.read(source, type_check=False)
                notes.append(f"nir's type check failed ({e}); read without it, sizes checked by the importer")
        except Exception as e:
            raise ConvertError(f"{where}: cannot read the NIR file ({type(e).__name__}: {e})") from None
    imp = _Importer(g, where, dt, reset, timing, notes, max_conv_bytes)
    if if_dt is not None:
        if not (isinstance(if_dt, (int, float)) and if_dt > 0 and np.isfinite(if_dt)):
            raise ConvertError(f"if_dt must be > 0 and finite, got {if_dt}")
        notes.append(f"IF nodes: dt = {if_dt:g} (input gain r x {if_dt:g}; Sinabs' IAF exports assume a unit time "
                     f"step: --if-dt 1)")
    imp.if_dt = dt if if_dt is None else float(if_dt)
    return imp.run(delays)


class _Importer:
    def __init__(self, g, where, dt, reset, timing, notes, max_conv_bytes):
        self.g, self.where, self.dt, self.reset, self.timing = g, where, dt, reset, timing
        self.notes, self.max_conv_bytes = notes, max_conv_bytes

    def err(self, msg):
        return ConvertError(f"{self.where}: {msg}")

    # -- 1. structure ---------------------------------------------------------------------------
    def run(self, delays) -> G.Graph:
        import nir
        raw, edges, passthru = _flatten(self.g, self.where)
        self._raw = raw
        inputs = [k for k, v in raw.items() if isinstance(v, nir.Input) and k not in passthru]
        outputs = [k for k, v in raw.items() if isinstance(v, nir.Output) and k not in passthru]
        if len(inputs) != 1:
            raise self.err(f"the graph has {len(inputs)} Input nodes ({', '.join(map(repr, inputs))}); a model "
                           f"takes one input vector: merge them into one Input (concatenated) and feed each "
                           f"consumer through an Affine that selects its part")
        if len(outputs) != 1:
            raise self.err(f"the graph has {len(outputs)} Output nodes ({', '.join(map(repr, outputs))}); a model "
                           f"gives one output vector")
        self.inp, self.out = inputs[0], outputs[0]
        self.rlif = self._snntorch_rleaky_zero(raw, edges)
        nodes = {}
        for name, node in raw.items():
            nodes[name] = self._classify(name, node, passthru)
        self.nodes = nodes
        names = list(raw)
        stateful = {k for k, v in nodes.items() if v.kind == "neuron"}
        try:
            order, delayed = schedule(names, edges, stateful, [self.inp], [tuple(d) for d in delays])
        except ScheduleError as e:
            raise self.err(str(e)) from None
        reach = self._reachable(names, edges)
        unused = [n for n in names if n not in reach]
        if unused:
            raise self.err(f"nodes {unused} are not reachable from the Input node {self.inp!r}")
        dl = [edges[k] for k in delayed]
        if dl:
            self.notes.append("delayed (recurrent) edges, carrying the previous step's value: "
                              + ", ".join(f"{a} -> {b}" for a, b in dl))
        E = [(a, b, k in set(delayed)) for k, (a, b) in enumerate(edges)]
        self._sizes(order, E)
        E = self._drop_passthrough(order, E)
        order = [n for n in order if nodes[n].kind not in ("pass",)]
        E, order = self._fold(order, E)
        return self._emit(order, E)

    def _reachable(self, names, edges):
        succ: dict = {}
        for a, b in edges:
            succ.setdefault(a, []).append(b)
        seen = {self.inp}
        stack = [self.inp]
        while stack:
            for w in succ.get(stack.pop(), ()):
                if w not in seen:
                    seen.add(w)
                    stack.append(w)
        return seen

    def _snntorch_rleaky_zero(self, raw, edges) -> set:
        """LIF nodes of snnTorch RLeaky exports (`<name>.lif` <-> `<name>.w_rec`), whose reset to zero
        zeroes the whole new membrane: with reset zero and timing next they become CuBa-LIF with
        alpha = 0 (which computes exactly that)."""
        import nir
        if self.reset != "zero" or self.timing != "next":
            return set()
        found = set()
        for name, node in raw.items():
            if not (isinstance(node, nir.LIF) and name.endswith(".lif")):
                continue
            p = name[:-len("lif")]
            pattern = {(p + "lif", p + "w_rec"), (p + "w_rec", p + "lif")}
            if pattern <= set(edges) and isinstance(raw.get(p + "w_rec"), (nir.Affine, nir.Linear)):
                found.add(name)
        if found:
            self.notes.append("snnTorch RLeaky with reset to zero (zeroes the whole new membrane, input "
                              "included): " + ", ".join(sorted(found)) + " run as CuBa-LIF with alpha = 0")
        return found

    def _classify(self, name, node, passthru) -> _Node:
        import nir
        kind = type(node).__name__
        if name in passthru:
            return _Node(name, "pass", nir_kind=kind)
        if isinstance(node, nir.Input):
            return _Node(name, "input", nir_kind=kind)
        if isinstance(node, nir.Output):
            return _Node(name, "output", nir_kind=kind)
        if kind == "Flatten":
            nd = _Node(name, "pass", nir_kind=kind)
            shp = list(node.input_type.values())[0] if node.input_type else None
            if shp is not None and np.asarray(shp).size:
                nd.expect_in = int(np.prod(np.asarray(shp).ravel()))
            return nd
        if kind in ("Affine", "Linear", "Conv1d", "Scale"):
            return _Node(name, "fc", nir_kind=kind)
        if kind == "Conv2d":
            return _Node(name, "conv", nir_kind=kind)
        if kind in ("SumPool2d", "AvgPool2d"):
            return _Node(name, "pool", nir_kind=kind)
        if kind in NEURONS:
            return _Node(name, "neuron", nir_kind=kind)
        if kind == "Threshold":
            return _Node(name, "stateless", nir_kind=kind)
        why = (" (1-D and 2-D convolutions are supported)" if kind.startswith("Conv") else
               " (2-D sum and average pooling are supported)" if "Pool" in kind else "")
        raise self.err(f"node {name!r} of type {kind} is not supported{why}; supported: {', '.join(SUPPORTED)}")

    # -- 2. sizes and layers, in schedule order ---------------------------------------------------
    def _sizes(self, order, E):
        ins: dict = {}
        for a, b, d in E:
            ins.setdefault(b, []).append((a, d))
        it = self._raw[self.inp].input_type
        shape = np.asarray(list(it.values())[0] if it else []).ravel()
        n_in = int(np.prod(shape)) if shape.size else 0
        if n_in < 1:
            raise self.err(f"Input node {self.inp!r} has no usable shape ({shape.tolist()})")
        self.n_in = n_in
        in_shape = tuple(int(v) for v in shape) if shape.size == 3 else None
        pending = list(order)
        while pending:                 # delayed edges may come from later nodes: repeat until all known
            left = []
            for name in pending:
                nd = self.nodes[name]
                if nd.kind == "input":
                    nd.n, nd.shape = n_in, in_shape
                    continue
                srcs = ins.get(name, [])
                if not srcs:
                    raise self.err(f"node {name!r} has no input edge")
                known = [(a, self.nodes[a].n) for a, d in srcs if self.nodes[a].n is not None]
                if not known:
                    w = getattr(self._raw[name], "weight", None)
                    if nd.kind == "fc" and w is not None and np.ndim(w) == 2:
                        known = [(None, int(np.shape(w)[1]))]
                    else:
                        left.append(name)
                        continue
                n = known[0][1]
                for a, m in known[1:]:
                    if m != n:
                        raise self.err(f"node {name!r}: edges into it carry {n} ({known[0][0]!r}) and {m} ({a!r}) "
                                       f"values; fan-in needs equal sizes (shape mismatch on edge {a!r} -> {name!r})")
                self._src = known[0][0]
                self._make(self.nodes[name], n)
                self._shape_after(self.nodes[name])
            if len(left) == len(pending):
                raise self.err(f"nodes {left}: their size cannot be inferred (every edge into them is delayed)")
            pending = left
        for a, b, d in E:          # delayed edges and every edge: sizes must agree
            na, nb = self.nodes[a].n, self._in_size(self.nodes[b])
            if nb is not None and na != nb:
                raise self.err(f"shape mismatch on edge {a!r} -> {b!r}: {a!r} gives {na} values, {b!r} takes {nb}")

    def _in_size(self, nd):
        if nd.kind in ("fc", "conv", "pool"):
            return nd.in_n
        return nd.n

    def _make(self, nd, n):
        """Build nd's layer for an input of n values; sets nd.n."""
        node = self._raw[nd.name]
        name, kind = nd.name, nd.nir_kind
        p = f"node {name!r} ({kind})"
        if nd.kind in ("pass", "output"):
            if nd.expect_in is not None and nd.expect_in != n:
                raise self.err(f"{p}: input of {nd.expect_in} elements, the graph gives it {n}")
            nd.n = n
            return
        if kind in ("Affine", "Linear"):
            w = np.asarray(node.weight, dtype=np.float64)
            if w.ndim != 2 or w.shape[1] != n:
                raise self.err(f"{p}: weight shape {w.shape}, expected (n_out, {n})")
            b = np.asarray(node.bias, dtype=np.float64).ravel() if kind == "Affine" else None
            nd.layer, nd.in_n, nd.n = G.Fc(w, b), n, int(w.shape[0])
            nd.diag = False
        elif kind == "Conv2d":
            self._conv2d(nd, node, n, p)
        elif kind in ("SumPool2d", "AvgPool2d"):
            self._pool2d(nd, node, n, p)
        elif kind == "Conv1d":
            w, b = self._conv(node, name, n)
            nd.layer, nd.in_n, nd.n, nd.diag = G.Fc(w, b), n, int(w.shape[0]), False
        elif kind == "Scale":
            s = np.broadcast_to(_arr(node.scale, n, f"{self.where}: {p} scale"), (n,)).copy()
            nd.layer, nd.in_n, nd.n, nd.diag = G.Fc(np.diag(s), None), n, n, True
        elif kind == "Threshold":
            thr = _arr(node.threshold, n, f"{self.where}: {p} threshold")
            if np.any(~(thr > 0)):
                raise self.err(f"{p}: threshold must be > 0 (the kernels spike on v > thr with thr > 0)")
            nd.layer, nd.n = G.Lif(np.zeros(1), thr, "zero"), n
            nd.kind = "neuron"        # a LIF with beta = 0: stateless in effect, run by the LIF kernel
        else:
            self._neuron(nd, self._broadcast(node, n, p), n, p)

    # -- 2-D convolutions and pooling (issue 14), channel-major (C, H, W) ---------------------------
    def _src_shape(self):
        src = getattr(self, "_src", None)
        return None if src is None else self.nodes[src].shape

    def _shape_after(self, nd):
        """The (C, H, W) of nd's output where known: conv and pooling outputs, and what keeps its
        input's shape (neurons, Threshold, Scale, nested Input/Output); Flatten and dense layers drop it."""
        if nd.kind in ("conv", "pool"):
            return
        keeps = nd.kind == "neuron" or nd.nir_kind in ("Scale", "Input", "Output") or \
            (nd.kind in ("pass", "output") and nd.nir_kind != "Flatten")
        src = self._src_shape()
        nd.shape = src if keeps and src is not None and int(np.prod(src)) == nd.n else None

    def _chw(self, nd, node, n, p, c_in):
        """(C, H, W) of the input of a Conv2d / pooling node: its input_shape (H, W), else the shape
        of the node feeding it, else a square image of n / c_in values."""
        src = self._src_shape()
        ish = getattr(node, "input_shape", None)
        if ish is not None:
            hw = tuple(int(v) for v in np.asarray(ish).ravel())
            if len(hw) == 3:
                hw = hw[1:]
            if len(hw) != 2 or min(hw) < 1:
                raise self.err(f"{p}: input_shape {tuple(np.asarray(ish).ravel().tolist())}, expected (H, W)")
            c = c_in if c_in is not None else (src[0] if src else n // (hw[0] * hw[1]))
            shp = (int(c), hw[0], hw[1])
            if int(np.prod(shp)) != n:
                what = f"{self._src!r} gives {n} values" + (f" {src}" if src else "")
                raise self.err(f"{p}: input_shape {hw} x {c} channels = {int(np.prod(shp))} values, but {what}")
            return shp
        if src is not None:
            if c_in is not None and src[0] != c_in:
                raise self.err(f"{p}: its weight takes {c_in} input channels, but {self._src!r} gives {src[0]} "
                               f"channels {src}")
            return src
        c = c_in if c_in is not None else None
        if c is None:
            raise self.err(f"{p}: the (C, H, W) shape of its input is unknown (no input_shape, and {self._src!r} "
                           f"gives a flat vector of {n} values): give the Input node a (C, H, W) shape")
        side = int(round((n / c) ** 0.5)) if n % c == 0 else 0
        if side * side * c != n:
            raise self.err(f"{p}: no input_shape, and {n} values from {self._src!r} are not C_in = {c} square "
                           f"images: give input_shape (H, W)")
        self.notes.append(f"{nd.name!r} (Conv2d): input_shape missing, {c} x {side} x {side} from the {n} values "
                          f"of {self._src!r}")
        return (c, side, side)

    @staticmethod
    def _pair(v, what, p, err):
        a = np.asarray(v).ravel()
        if a.size == 1:
            a = np.repeat(a, 2)
        if a.size != 2 or not np.all(a == np.round(a)):
            raise err(f"{p}: {what} {np.asarray(v).tolist()}, expected an integer or (h, w)")
        return int(a[0]), int(a[1])

    def _conv2d(self, nd, node, n, p):
        from ..sim.conv2d import conv2d_out_size, conv2d_padding
        w = np.asarray(node.weight, dtype=np.float64)
        if w.ndim != 4:
            raise self.err(f"{p}: weight shape {w.shape}, expected (C_out, C_in / groups, kH, kW)")
        groups = int(np.asarray(node.groups).ravel()[0]) if node.groups is not None else 1
        if groups < 1 or w.shape[0] % groups:
            raise self.err(f"{p}: groups {groups} must be >= 1 and divide C_out {w.shape[0]}")
        shp = self._chw(nd, node, n, p, int(w.shape[1]) * groups)
        stride = self._pair(node.stride, "stride", p, self.err)
        dil = self._pair(node.dilation, "dilation", p, self.err)
        pad = node.padding
        if isinstance(pad, str):
            if pad.lower() not in ("same", "valid"):
                raise self.err(f"{p}: padding {pad!r} is not supported (give 'same', 'valid' or integers)")
            if pad.lower() == "same" and stride != (1, 1):
                raise self.err(f"{p}: padding 'same' with stride {stride} is ambiguous (PyTorch allows 'same' only "
                               f"with stride 1); give the padding as integers")
            pad = pad.lower()
        else:
            pad = self._pair(pad, "padding", p, self.err)
        try:
            pads = conv2d_padding(pad, w.shape[2], w.shape[3], stride, dil)
        except ValueError as e:
            raise self.err(f"{p}: {e}") from None
        span = (dil[0] * (w.shape[2] - 1) + 1, dil[1] * (w.shape[3] - 1) + 1)
        ext = (shp[1] + pads[0] + pads[2], shp[2] + pads[1] + pads[3])
        if ext[0] < span[0] or ext[1] < span[1]:
            raise self.err(f"{p}: kernel {w.shape[2]} x {w.shape[3]} (span {span[0]} x {span[1]} with dilation "
                           f"{dil}) larger than its padded input {ext[0]} x {ext[1]} (input {shp}, padding "
                           f"{pads[:2]})")
        try:
            ho, wo = conv2d_out_size(shp[0], shp[1], shp[2], w.shape[0], w.shape[2], w.shape[3], stride, pads, dil,
                                     groups)
        except ValueError as e:
            raise self.err(f"{p}: {e} (input {shp}, weight {w.shape}, stride {stride}, padding {pads}, dilation "
                           f"{dil}, groups {groups})") from None
        bias = getattr(node, "bias", None)
        b = None if bias is None else np.asarray(bias, dtype=np.float64).ravel()
        if b is not None and b.size != w.shape[0]:
            raise self.err(f"{p}: bias of {b.size} entries, expected C_out = {w.shape[0]}")
        if b is not None and not np.any(b):
            b = None
        nd.layer = G.Conv2d(w, b, shp, stride, pads, dil, groups)
        nd.in_n, nd.shape = n, (int(w.shape[0]), ho, wo)
        nd.n = int(np.prod(nd.shape))

    def _pool2d(self, nd, node, n, p):
        k = self._pair(node.kernel_size, "kernel_size", p, self.err)
        st = k if getattr(node, "stride", None) is None else self._pair(node.stride, "stride", p, self.err)
        pad = getattr(node, "padding", None)
        if isinstance(pad, str):
            if pad.lower() != "valid":
                raise self.err(f"{p}: padding {pad!r} is not supported (give 'valid' or integers)")
            pad = (0, 0)
        pad = (0, 0) if pad is None else self._pair(pad, "padding", p, self.err)
        src = self._src_shape()
        if src is None:
            raise self.err(f"{p}: the (C, H, W) shape of its input is unknown ({self._src!r} gives a flat vector of "
                           f"{n} values): give the Input node a (C, H, W) shape")
        shp = src
        if pad[0] >= k[0] or pad[1] >= k[1]:
            raise self.err(f"{p}: padding {pad} must be smaller than the kernel {k}")
        if shp[1] + 2 * pad[0] < k[0] or shp[2] + 2 * pad[1] < k[1]:
            raise self.err(f"{p}: kernel {k[0]} x {k[1]} larger than its padded input {shp[1] + 2 * pad[0]} x "
                           f"{shp[2] + 2 * pad[1]} (input {shp}, padding {pad})")
        layer = G.Pool2d("sum" if nd.nir_kind == "SumPool2d" else "avg", shp, k, st, (pad[0], pad[1], pad[0], pad[1]))
        try:
            out = layer.out_shape()
        except ValueError as e:
            raise self.err(f"{p}: {e} (input {shp}, kernel {k}, stride {st}, padding {pad})") from None
        nd.layer, nd.in_n, nd.shape, nd.n = layer, n, out, int(np.prod(out))

    def _broadcast(self, node, n, p):
        """A neuron node whose parameters have the shape of a (C, H, W) input, or broadcast to it
        (per channel (C, 1, 1), ...): a copy with them flattened to n entries (or 1)."""
        import copy
        shp = self._src_shape()
        if shp is None:
            return node
        out = None
        for attr in ("tau", "r", "v_threshold", "v_leak", "v_reset", "tau_syn", "tau_mem", "w_in"):
            v = getattr(node, attr, None)
            if v is None:
                continue
            a = np.asarray(v, dtype=np.float64)
            if a.size in (1, n):
                continue
            try:
                b = np.broadcast_to(a, shp).ravel()
            except ValueError:
                raise self.err(f"{p}: {attr} of shape {a.shape} does not broadcast to its input {shp}") from None
            out = out or copy.copy(node)
            setattr(out, attr, b)
        return node if out is None else out

    def _conv(self, node, name, n):
        p = f"{self.where}: node {name!r} (Conv1d)"
        w = np.asarray(node.weight, dtype=np.float64)
        if w.ndim != 3:
            raise ConvertError(f"{p}: weight shape {w.shape}, expected (C_out, C_in / groups, kernel)")
        try:
            groups = C._int(node.groups, "groups", 1)
        except C.ConvParamError as e:
            raise ConvertError(f"{p}: {e}") from None
        c_in = w.shape[1] * groups
        length = node.input_shape
        if length is None:
            if n % c_in:
                raise ConvertError(f"{p}: no input_shape, and the chain's {n} elements are not C_in = {c_in} "
                                   f"channels")
            length = n // c_in
            self.notes.append(f"Conv1d {name!r}: input_shape missing, L = {length} from the chain")
        pad, stride = node.padding, node.stride
        if isinstance(pad, str) and pad.lower() == "same" and np.any(np.asarray(stride) != 1):
            raise ConvertError(f"{p}: padding 'same' with stride {stride} is ambiguous (PyTorch allows "
                               f"'same' only with stride 1); give the padding as an integer")
        try:
            s = C.spec(w.shape, length, stride, pad, node.dilation, groups)
            if s.c_in * s.length != n:
                raise C.ConvParamError(f"input of C_in {s.c_in} x L {s.length} = {s.c_in * s.length} elements, "
                                       f"the chain has {n}")
            nb = C.check_size(s, 4, p, self.max_conv_bytes)
            bias = getattr(node, "bias", None)
            wd, bd = C.toeplitz(w, s, None if bias is None else np.asarray(bias, np.float64), "cl")
        except C.ConvParamError as e:
            msg = str(e)
            raise ConvertError(msg if msg.startswith(p) else f"{p}: {msg}") from None
        rows, cols = s.shape
        self.notes.append(f"Conv1d {name!r}: {s.describe()} lowered to a dense {rows} x {cols} layer: "
                          f"{nb} B as float32 ({nb // 2} B as q15) for {w.size} kernel weights "
                          f"({100.0 * (1 - np.count_nonzero(wd) / wd.size):.0f} % zeros)")
        return wd, bd

    def _beta(self, tau, p, field="tau", n=None):
        tau = _arr(tau, n, f"{self.where}: {p} {field}")
        if np.any(~(tau > 0)):
            raise self.err(f"{p}: {field} must be > 0")
        beta = np.where(np.isinf(tau), 1.0, 1.0 - self.dt / np.where(np.isinf(tau), 1.0, tau))
        if np.any(beta < 0):
            raise self.err(f"{p}: {field} {float(np.min(tau)):g} < dt {self.dt:g} gives a negative decay; use a "
                           f"smaller --dt")
        return beta, tau

    def _gain(self, r, tau, p, n):
        r = _arr(r, n, f"{self.where}: {p} r")
        inf = np.isinf(tau)
        if np.any(inf & ~np.isinf(r)):
            raise self.err(f"{p}: tau = inf with finite r has no input")
        g = np.where(inf, 1.0, r * self.dt / np.where(inf, 1.0, tau))
        # snnTorch writes r = tau / dt: the gain is 1 up to the float32 rounding of tau and r; a gain
        # within 2^-20 of 1 is 1, so that its rows keep their weights exactly (the blob of the
        # export is the live module's: edgehost.convert.from_torch)
        return np.where(np.abs(g - 1.0) <= 2.0 ** -20, 1.0, g)

    def _v_reset(self, node, p, n):
        vr = getattr(node, "v_reset", None)
        if vr is None:
            return None
        v = _arr(vr, n, f"{self.where}: {p} v_reset")
        if not np.all(np.isfinite(v)):
            raise self.err(f"{p}: v_reset must be finite")
        if np.all(v == 0):
            return None
        if not (self.reset == "zero" and self.timing == "same"):
            raise self.err(f"{p}: v_reset = {v[:4].tolist()} != 0 is a reset to that value in the step that "
                           f"spiked (NIR's equations): convert with --reset zero --reset-timing same")
        return v

    def _neuron(self, nd, node, n, p):
        kind = nd.nir_kind
        thr = None if kind in ("LI", "I", "Integrator") else _arr(node.v_threshold, n, f"{self.where}: {p} threshold")
        if thr is not None and (np.any(~(thr > 0)) or not np.all(np.isfinite(thr))):
            raise self.err(f"{p}: v_threshold must be > 0 and finite (the kernels spike on v > threshold)")
        vleak = getattr(node, "v_leak", None)
        vleak = None if vleak is None or np.all(np.asarray(vleak) == 0) else _arr(vleak, n, f"{self.where}: {p} v_leak")
        if kind == "LIF":
            beta, tau = self._beta(node.tau, p, n=n)
            nd.gain = self._gain(node.r, tau, p, n)
            vr = self._v_reset(node, p, n)
            if vleak is not None:
                nd.const = np.where(np.isinf(tau), 0.0, vleak * self.dt / np.where(np.isinf(tau), 1.0, tau))
            if nd.name in self.rlif:
                nd.layer = G.CubaLif(np.zeros(1), beta, thr, "zero", "next", None)
            else:
                nd.layer = G.Lif(beta, thr, self.reset, self.timing, vr)
        elif kind == "IF":
            if_dt = getattr(self, "if_dt", self.dt)
            nd.gain = _arr(node.r, n, f"{self.where}: {p} r") * if_dt
            if if_dt != 1 and np.all(_arr(node.r, n) == 1) and not getattr(self, "_if_noted", False):
                self._if_noted = True
                self.notes.append(f"IF nodes step with dt = {if_dt:g}: input gain r dt = {if_dt:g}. Sinabs exports "
                                  f"IF (IAF) with r = 1 for a unit time step: convert its graphs with --if-dt 1")
            nd.layer = G.Lif(np.ones(1), thr, self.reset, self.timing, self._v_reset(node, p, n))
        elif kind == "CubaLIF":
            if vleak is not None:
                raise self.err(f"{p}: v_leak != 0 is not supported on CubaLIF (it is a constant input of the "
                               f"membrane, not of the synaptic current: the kernels have no membrane bias)")
            alpha, ts = self._beta(node.tau_syn, p, "tau_syn", n)
            beta, tm = self._beta(node.tau_mem, p, "tau_mem", n)
            nd.gain = self._gain(node.w_in, ts, p, n) * self._gain(node.r, tm, p, n)
            nd.layer = G.CubaLif(alpha, beta, thr, self.reset, self.timing, self._v_reset(node, p, n))
        elif kind == "LI":
            beta, tau = self._beta(node.tau, p, n=n)
            nd.gain = self._gain(node.r, tau, p, n)
            if vleak is not None:
                nd.const = np.where(np.isinf(tau), 0.0, vleak * self.dt / np.where(np.isinf(tau), 1.0, tau))
            nd.layer = G.Li(beta)
        else:   # I (Integrator)
            nd.gain = _arr(node.r, n, f"{self.where}: {p} r") * self.dt
            nd.layer = G.Li(np.ones(1))
        nd.n = n

    # -- 3. pass-through nodes out, gains folded, diagonal layers merged --------------------------
    def _drop_passthrough(self, order, E):
        """Rewire around pass-through nodes (nested Input/Output, Flatten): every edge into one
        connects to every edge out of it (values add, a delay on either side is kept)."""
        for name in order:
            if self.nodes[name].kind != "pass":
                continue
            ins = [e for e in E if e[1] == name]
            outs = [e for e in E if e[0] == name]
            E = [e for e in E if name not in (e[0], e[1])]
            for a, _, d1 in ins:
                for _, b, d2 in outs:
                    if d1 and d2:
                        raise self.err(f"node {name!r}: a delayed edge into it and another out of it would delay "
                                       f"by two steps; name one delay with --delay instead")
                    E.append((a, b, d1 or d2))
        return E

    def _fold(self, order, E):
        nodes = self.nodes
        fresh = 0

        def consumers(u):
            return [e for e in E if e[0] == u]

        def insert_diag(edge, gain, const, why):
            nonlocal fresh, E, order
            a, b, d = edge
            fresh += 1
            nm = f"{b}.gain" if fresh == 1 else f"{b}.gain{fresh}"
            nn = nodes[b].n
            nd = _Node(nm, "fc", nir_kind="(inserted)")
            g = np.broadcast_to(gain, (nn,)).astype(np.float64)
            nd.layer = G.Fc(np.diag(g), None if const is None else np.broadcast_to(const, (nn,)).astype(np.float64))
            nd.in_n, nd.n, nd.diag = nn, nn, True
            nodes[nm] = nd
            E = [e for e in E if e is not edge] + [(a, nm, d), (nm, b, False)]
            order.insert(order.index(b), nm)
            self.notes.append(f"{why}: inserted {nm!r}, a diagonal dense layer of {nn} x {nn}")
            return nm

        order = list(order)
        for name in list(order):
            nd = nodes[name]
            if nd.kind != "neuron":
                continue
            g = nd.gain if nd.gain is not None else np.ones(1)
            gain_is_one = bool(np.all(g == 1))
            const = nd.const
            for edge in [e for e in E if e[1] == name]:
                a = edge[0]
                src = nodes[a]
                if src.kind == "conv" and all(e[1] == name for e in consumers(a)) and not gain_is_one:
                    gc = np.broadcast_to(g, (src.n,)).reshape(src.shape[0], -1)
                    if np.all(gc == gc[:, :1]):      # one gain per output channel: into its weights
                        src.layer.weight = src.layer.weight * gc[:, 0][:, None, None, None]
                        if src.layer.bias is not None:
                            src.layer.bias = src.layer.bias * gc[:, 0]
                        continue
                if src.kind == "fc" and all(e[1] == name for e in consumers(a)):
                    if not gain_is_one:
                        gg = np.broadcast_to(g, (src.n,))
                        src.layer.weight = src.layer.weight * gg[:, None]
                        if src.layer.bias is not None:
                            src.layer.bias = src.layer.bias * gg
                elif not gain_is_one:
                    insert_diag(edge, g, None, f"node {name!r} ({nd.nir_kind}): input gain "
                                               f"{np.ravel(g)[:4].tolist()} on the edge from {a!r}")
            if const is not None:
                host = [e[0] for e in E if e[1] == name and nodes[e[0]].kind == "fc"
                        and all(c[1] == name for c in consumers(e[0]))]
                if host:
                    f = nodes[host[0]].layer
                    cb = np.broadcast_to(const, (nd.n,))
                    f.bias = cb.copy() if f.bias is None else f.bias + cb
                else:
                    first = [e for e in E if e[1] == name][0]
                    insert_diag(first, np.ones(1), const, f"node {name!r} ({nd.nir_kind}): v_leak's constant input")
                self.notes.append(f"node {name!r} ({nd.nir_kind}): v_leak folded into a bias "
                                  f"(v_leak dt / tau per step)")
        # merge a diagonal layer (Scale, an inserted gain) into the dense layer on its only edge
        changed = True
        while changed:
            changed = False
            for a in list(order):
                na = nodes[a]
                outs = consumers(a)
                if na.kind != "fc" or len(outs) != 1 or outs[0][2]:
                    continue
                b = outs[0][1]
                nb = nodes[b]
                ins_b = [e for e in E if e[1] == b]
                if nb.kind != "fc" or len(ins_b) != 1 or not (na.diag or nb.diag):
                    continue
                wa, ba, wb, bb = na.layer.weight, na.layer.bias, nb.layer.weight, nb.layer.bias
                if na.diag:      # b(diag(s) x + ba) = (wb * s) x + wb ba + bb
                    w = wb * np.diag(wa)[None, :]
                else:            # diag(s)(wa x + ba) + bb
                    w = wa * np.diag(wb)[:, None]
                bias = None
                if ba is not None:
                    bias = wb @ ba if not nb.diag else np.diag(wb) * ba
                if bb is not None:
                    bias = bb.copy() if bias is None else bias + bb
                nb.layer = G.Fc(w, bias)
                nb.in_n, nb.diag = na.in_n, na.diag and nb.diag
                E = [e for e in E if e[1] != a and e[0] != a] + [(e[0], b, e[2]) for e in E if e[1] == a]
                order.remove(a)
                changed = True
                break
        return E, order

    # -- 4. the Graph -------------------------------------------------------------------------
    def _emit(self, order, E) -> G.Graph:
        nodes = self.nodes
        comp = [n for n in order if nodes[n].kind in ("fc", "neuron", "conv", "pool")]
        idx = {n: i for i, n in enumerate(comp)}
        idx[self.inp] = -1
        out_edges = [e for e in E if e[1] == self.out]
        if not out_edges:
            raise self.err(f"the Output node {self.out!r} has no input edge")
        if len(out_edges) > 1 or out_edges[0][2] or out_edges[0][0] == self.inp:
            # several values add into the output, or it is delayed / the raw input: a layer computes it
            n = nodes[out_edges[0][0]].n
            nd = _Node(f"{self.out}.sum", "fc", nir_kind="(inserted)")
            nd.layer, nd.in_n, nd.n, nd.diag = G.Fc(np.eye(n), None), n, n, True
            nodes[nd.name] = nd
            idx[nd.name] = len(comp)
            comp.append(nd.name)
            E = [e for e in E if e[1] != self.out] + [(a, nd.name, d) for a, _, d in out_edges] + \
                [(nd.name, self.out, False)]
            self.notes.append(f"the Output node {self.out!r} sums {len(out_edges)} edges: inserted an identity "
                              f"dense layer to compute it")
            out_edges = [(nd.name, self.out, False)]
        if not comp:
            raise self.err("the graph has no layers")
        inputs = []
        for n in comp:
            # edges into a node in a canonical order (sources in schedule order, delayed ones last): the
            # sum is the same whatever order the NIR file lists its edges in, and so is the blob
            es = sorted((G.Edge(idx[a], d) for a, b, d in E if b == n), key=lambda e: (e.delayed, e.src))
            inputs.append(es)
        layers = [nodes[n].layer for n in comp]
        out = idx[out_edges[0][0]]
        chain = (out == len(comp) - 1 and all(len(es) == 1 and not es[0].delayed and es[0].src == i - 1
                                               for i, es in enumerate(inputs))
                 and sum(1 for es in inputs for e in es) == len(comp))
        fan_out: dict = {}
        for es in inputs:
            for e in es:
                fan_out[e.src] = fan_out.get(e.src, 0) + 1
        chain = chain and all(v == 1 for v in fan_out.values())
        gr = G.Graph(self.n_in, layers, self.notes, None if chain else inputs, None if chain else out, comp)
        try:
            gr.sizes()
        except ValueError as e:
            raise self.err(str(e)) from None
        return gr
