"""The NIR importer (the `nir` package): a chain of NIR nodes -> a float `Graph`.

Time step. NIR neurons are continuous-time ODEs; the kernels step in discrete time. The importer
discretises with forward Euler at the time step `dt` (default 1e-4 s, the value snnTorch 1.0
assumes when it exports):
    LIF      tau dv/dt = (v_leak - v) + r I     ->  beta = 1 - dt/tau,  input gain r dt / tau
    CubaLIF  tau_syn di/dt = -i + w_in I,  tau_mem dv/dt = (v_leak - v) + r i
             ->  alpha = 1 - dt/tau_syn,  beta = 1 - dt/tau_mem,
                 input gain (w_in dt / tau_syn) (r dt / tau_mem)  (the second factor rescales i)
    LI       as LIF without spikes (leaky readout)
    IF       dv/dt = r I    ->  beta = 1, input gain r dt
    I        (Integrator) dv/dt = r I  ->  readout with beta = 1, input gain r dt
    Threshold                ->  s = x > threshold (a LIF with beta = 0 and reset to zero)
snnTorch writes tau = dt / (1 - beta) and r = tau / dt (gain 1), so with its dt this gives back
its beta and its exact step. Input gains are folded into the preceding Affine/Linear rows (an
error when there is none and the gain is not 1). Scale is folded into a neighbouring
Affine/Linear; Flatten must not change the element count.

Conv1d. A convolution over the fixed input length L (`input_shape`; inferred from the chain
when absent) is lowered exactly to a dense layer, its Toeplitz expansion (edgehost.convert.conv):
channel-major (C, L) layout as PyTorch flattens, stride, integer / 'same' / 'valid' padding,
dilation and groups honoured. It then runs on fc_f32 / fc_q15 / fc_spike_q15 like any Linear;
the notes state the bytes the expansion costs, and an expansion above `max_conv_bytes` (float32
weights; default 256 KB) is refused naming the node.

Reset. NIR's v_reset cannot tell reset-by-subtraction from reset-to-zero (snnTorch writes
v_reset = 0 for both), so the choice is explicit: `reset="subtract"` (snnTorch's default) or
"zero". v_reset and v_leak other than 0 are not supported. A spike is v > threshold (strict).
"""
from __future__ import annotations

import numpy as np

from . import conv as C
from . import graph as G
from .lower import ConvertError

SUPPORTED = ("Input", "Output", "Affine", "Linear", "LIF", "CubaLIF", "LI", "IF", "I (Integrator)",
             "Threshold", "Scale", "Flatten", "Conv1d")
DEFAULT_DT = 1e-4


def _arr(v, n=None, what=""):
    a = np.atleast_1d(np.asarray(v, dtype=np.float64)).ravel()
    if n is not None and a.size not in (1, n):
        raise ConvertError(f"{what}: {a.size} entries, expected 1 or {n}")
    return a


def _chain(g, where):
    import nir
    inputs = [k for k, v in g.nodes.items() if isinstance(v, nir.Input)]
    if len(inputs) != 1:
        raise ConvertError(f"{where}: the graph has {len(inputs)} Input nodes; only single-input chains "
                           f"are supported")
    succ: dict = {}
    for a, b in g.edges:
        succ.setdefault(a, []).append(b)
    order = [inputs[0]]
    seen = {inputs[0]}
    while True:
        nxt = succ.get(order[-1], [])
        if not nxt:
            break
        if len(nxt) > 1:
            raise ConvertError(f"{where}: node {order[-1]!r} feeds {len(nxt)} nodes ({', '.join(map(str, nxt))}); "
                               f"only chains (no branches, no recurrence) are supported")
        if nxt[0] in seen:
            raise ConvertError(f"{where}: node {nxt[0]!r} closes a cycle (recurrent connection); "
                               f"recurrent graphs are not supported")
        order.append(nxt[0])
        seen.add(nxt[0])
    unused = set(g.nodes) - seen
    if unused:
        raise ConvertError(f"{where}: nodes {sorted(map(str, unused))} are not on the chain from the input")
    return order


def load_nir(source, dt: float | None = None, reset: str = "subtract",
             max_conv_bytes: int = C.MAX_DENSE_BYTES) -> G.Graph:
    """Import a NIR graph (a path or a nir.NIRGraph). max_conv_bytes: the largest dense matrix
    (float32 bytes) a Conv1d may expand to."""
    try:
        import nir
    except ImportError:  # pragma: no cover - depends on the install
        raise ConvertError("reading .nir files needs the 'nir' package: pip install 'edgehost[import]'") from None
    if reset not in ("subtract", "zero"):
        raise ConvertError(f"reset must be subtract or zero, got {reset!r}")
    notes = []
    if dt is None:
        dt = DEFAULT_DT
        notes.append(f"dt = {dt:g} s (default: the time step snnTorch assumes when exporting to NIR)")
    else:
        notes.append(f"dt = {dt:g} s")
    if not (dt > 0 and np.isfinite(dt)):
        raise ConvertError(f"dt must be > 0 and finite, got {dt}")
    notes.append("discretisation: forward Euler (beta = 1 - dt/tau, input gain r dt/tau)")
    notes.append(f"reset: {reset}" + (" (snnTorch's default)" if reset == "subtract" else "")
                 + "; NIR's v_reset = 0 cannot tell subtract from zero: choose with --reset")
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
                # C_in / groups channels): read without it; the chain's sizes are checked below
                g = nir.read(source, type_check=False)
                notes.append(f"nir's type check failed ({e}); read without it, sizes checked by the importer")
        except Exception as e:
            raise ConvertError(f"{where}: cannot read the NIR file ({type(e).__name__}: {e})") from None
    order = _chain(g, where)
    inp = g.nodes[order[0]]
    shape = np.asarray(list(inp.input_type.values())[0]).ravel()
    n = int(np.prod(shape)) if shape.size else 0
    if n < 1:
        raise ConvertError(f"{where}: Input node {order[0]!r} has no usable shape ({shape.tolist()})")
    n_in = n
    layers: list = []
    pending_scale = None      # a Scale waiting for the next Affine/Linear

    def fold_gain(gain, name, kind):
        gain = np.asarray(gain, dtype=np.float64)
        if np.all(gain == 1):
            return
        prev = layers[-1] if layers else None
        if not isinstance(prev, G.Fc):
            raise ConvertError(f"{where}: node {name!r} ({kind}): input gain {gain.ravel()[:4].tolist()} != 1 "
                               f"and no Affine/Linear before it to fold it into")
        prev.weight = prev.weight * np.broadcast_to(gain, (prev.weight.shape[0],))[:, None]
        if prev.bias is not None:
            prev.bias = prev.bias * np.broadcast_to(gain, prev.bias.shape)

    def beta_of(tau, name, kind, field="tau"):
        tau = _arr(tau, n, f"{where}: node {name!r} ({kind}) {field}")
        if np.any(~(tau > 0)):
            raise ConvertError(f"{where}: node {name!r} ({kind}): {field} must be > 0")
        beta = np.where(np.isinf(tau), 1.0, 1.0 - dt / np.where(np.isinf(tau), 1.0, tau))
        if np.any(beta < 0):
            raise ConvertError(f"{where}: node {name!r} ({kind}): {field} {float(np.min(tau)):g} < dt {dt:g} "
                               f"gives a negative decay; use a smaller --dt")
        return beta, tau

    def gain_of(r, tau, name, kind):
        r = _arr(r, n, f"{where}: node {name!r} ({kind}) r")
        inf = np.isinf(tau)
        if np.any(inf & ~np.isinf(r)):
            raise ConvertError(f"{where}: node {name!r} ({kind}): tau = inf with finite r has no input")
        return np.where(inf, 1.0, r * dt / np.where(inf, 1.0, tau))

    def zero(v, field, name, kind):
        if v is not None and np.any(np.asarray(v, dtype=np.float64) != 0):
            raise ConvertError(f"{where}: node {name!r} ({kind}): {field} != 0 is not supported")

    def conv_layer(node, name):
        p = f"{where}: node {name!r} (Conv1d)"
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
            notes.append(f"Conv1d {name!r}: input_shape missing, L = {length} from the chain")
        pad = node.padding
        stride = node.stride
        if isinstance(pad, str) and pad.lower() == "same" and np.any(np.asarray(stride) != 1):
            raise ConvertError(f"{p}: padding 'same' with stride {stride} is ambiguous (PyTorch allows "
                               f"'same' only with stride 1); give the padding as an integer")
        try:
            s = C.spec(w.shape, length, stride, pad, node.dilation, groups)
            if s.c_in * s.length != n:
                raise C.ConvParamError(f"input of C_in {s.c_in} x L {s.length} = {s.c_in * s.length} elements, "
                                       f"the chain has {n}")
            nb = C.check_size(s, 4, p, max_conv_bytes)
            bias = getattr(node, "bias", None)
            wd, bd = C.toeplitz(w, s, None if bias is None else np.asarray(bias, np.float64), "cl")
        except C.ConvParamError as e:
            msg = str(e)
            raise ConvertError(msg if msg.startswith(p) else f"{p}: {msg}") from None
        rows, cols = s.shape
        notes.append(f"Conv1d {name!r}: {s.describe()} lowered to a dense {rows} x {cols} layer: "
                     f"{nb} B as float32 ({nb // 2} B as q15) for {w.size} kernel weights "
                     f"({100.0 * (1 - np.count_nonzero(wd) / wd.size):.0f} % zeros)")
        return wd, bd

    for name in order[1:]:
        node = g.nodes[name]
        kind = type(node).__name__
        if kind not in ("Affine", "Linear", "Conv1d") and pending_scale is not None:
            raise ConvertError(f"{where}: Scale before node {name!r} ({kind}) cannot be folded: "
                               f"it needs an Affine/Linear right after it")
        if kind == "Output":
            continue
        if kind in ("Affine", "Linear"):
            w = np.asarray(node.weight, dtype=np.float64)
            if w.ndim != 2 or w.shape[1] != n:
                raise ConvertError(f"{where}: node {name!r} ({kind}): weight shape {w.shape}, expected (n_out, {n})")
            b = np.asarray(node.bias, dtype=np.float64).ravel() if kind == "Affine" else None
            if pending_scale is not None:
                w = w * pending_scale[None, :]
                pending_scale = None
            layers.append(G.Fc(w, b))
            n = w.shape[0]
        elif kind == "Conv1d":
            w, b = conv_layer(node, name)
            if pending_scale is not None:
                w = w * pending_scale[None, :]
                pending_scale = None
            layers.append(G.Fc(w, b))
            n = w.shape[0]
        elif kind == "Scale":
            s = _arr(node.scale, n, f"{where}: node {name!r} (Scale) scale")
            s = np.broadcast_to(s, (n,)).copy()
            if layers and isinstance(layers[-1], G.Fc):
                layers[-1].weight = layers[-1].weight * s[:, None]
                if layers[-1].bias is not None:
                    layers[-1].bias = layers[-1].bias * s
            else:
                pending_scale = s
        elif kind == "Flatten":
            shp = list(node.input_type.values())[0] if node.input_type else None
            m = int(np.prod(np.asarray(shp).ravel())) if shp is not None else n
            if m != n:
                raise ConvertError(f"{where}: node {name!r} (Flatten): input of {m} elements, the chain has {n}")
        elif kind == "LIF":
            zero(node.v_leak, "v_leak", name, kind)
            zero(getattr(node, "v_reset", None), "v_reset", name, kind)
            beta, tau = beta_of(node.tau, name, kind)
            fold_gain(gain_of(node.r, tau, name, kind), name, kind)
            layers.append(G.Lif(beta, _arr(node.v_threshold, n, f"{where}: node {name!r} threshold"), reset))
        elif kind == "IF":
            zero(getattr(node, "v_reset", None), "v_reset", name, kind)
            fold_gain(_arr(node.r, n, f"{where}: node {name!r} r") * dt, name, kind)
            layers.append(G.Lif(np.ones(1), _arr(node.v_threshold, n, f"{where}: node {name!r} threshold"), reset))
        elif kind == "CubaLIF":
            zero(node.v_leak, "v_leak", name, kind)
            zero(getattr(node, "v_reset", None), "v_reset", name, kind)
            alpha, ts = beta_of(node.tau_syn, name, kind, "tau_syn")
            beta, tm = beta_of(node.tau_mem, name, kind, "tau_mem")
            g_syn = gain_of(node.w_in, ts, name, kind)
            g_mem = gain_of(node.r, tm, name, kind)
            fold_gain(g_syn * g_mem, name, kind)
            layers.append(G.CubaLif(alpha, beta, _arr(node.v_threshold, n, f"{where}: node {name!r} threshold"),
                                    reset))
        elif kind == "LI":
            zero(node.v_leak, "v_leak", name, kind)
            beta, tau = beta_of(node.tau, name, kind)
            fold_gain(gain_of(node.r, tau, name, kind), name, kind)
            layers.append(G.Li(beta))
        elif kind in ("I", "Integrator"):
            fold_gain(_arr(node.r, n, f"{where}: node {name!r} r") * dt, name, kind)
            layers.append(G.Li(np.ones(1)))
        elif kind == "Threshold":
            thr = _arr(node.threshold, n, f"{where}: node {name!r} threshold")
            if np.any(~(thr > 0)):
                raise ConvertError(f"{where}: node {name!r} (Threshold): threshold must be > 0 "
                                   f"(the kernels spike on v > thr with thr > 0)")
            layers.append(G.Lif(np.zeros(1), thr, "zero"))
        else:
            why = (" (only 1-D convolutions are lowered, to dense layers)" if kind.startswith("Conv") else "")
            raise ConvertError(f"{where}: node {name!r} of type {kind} is not supported{why}; "
                               f"supported: {', '.join(SUPPORTED)}")
    if pending_scale is not None:
        raise ConvertError(f"{where}: a Scale at the end of the graph cannot be folded")
    if not layers:
        raise ConvertError(f"{where}: the graph has no layers")
    gr = G.Graph(n_in, layers, notes)
    try:
        gr.sizes()
    except ValueError as e:
        raise ConvertError(f"{where}: {e}") from None
    return gr
