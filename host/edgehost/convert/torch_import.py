"""The PyTorch / snnTorch importer (`.pt`, `.pth`) -> a float `Graph`.

Two kinds of file, told apart by what `torch.save` wrote:

1. A whole module (`torch.save(model, "net.pt")`): an nn.Sequential, or any nn.Module whose
   forward calls its layers in the order they were assigned in __init__ (the module is read as
   the chain of its sub-modules in registration order; containers are walked into). Reading it
   unpickles Python objects, which runs code named by the file (`torch.load(weights_only=False)`):
   it is done only with `trust=True` (`edgehost convert --trust`), for files you trust.
2. A state dict (`torch.save(model.state_dict(), "net.pt")`): read safely with
   `torch.load(weights_only=True)` (tensors only, no code). The tensors do not say which layer
   kinds they belong to, so the layer list is given with `arch` (`--arch`): a comma-separated list
   of kinds in forward order, e.g. `linear,leaky,linear,leaky`. Parameterised kinds take the
   state dict's modules (key prefixes, in the saved order) one after another: linear takes
   `<prefix>.weight` [n_out, n_in] and `<prefix>.bias` (optional); leaky takes `beta`,
   `threshold`; synaptic takes `alpha`, `beta`, `threshold`. relu, flatten, identity and dropout
   take none. Without `arch` the error lists the modules found and the arch they suggest.
   Spiking CNNs (issue 14): conv2d takes `<prefix>.weight` [C_out, C_in / groups, kH, kW] and
   `<prefix>.bias` (optional); avgpool2d takes none. A state dict holds no geometry, so it is
   written in the arch, `kind:key=value:...` (a value is N, HxW, or for padding also same / valid):
   `conv2d:stride=2:padding=1` (stride 1, padding 0, dilation 1 by default, PyTorch's; groups
   inferred from the weight, C_in / weight.shape[1], unless given), `avgpool2d:2` or
   `avgpool2d:kernel=2:stride=1:padding=0` (kernel required, stride = kernel by default), and the
   input's (C, H, W) with `input_shape` (`--input-shape C,H,W`, required when the arch has conv2d
   or avgpool2d). The layers are then built as the live nn.Conv2d / nn.AvgPool2d modules of that
   geometry and converted by from_torch's code: both routes give the same blob.

Layers: nn.Linear -> Fc; snntorch.Leaky -> Lif; snntorch.Synaptic -> CubaLif; snntorch.RLeaky /
RSynaptic (recurrent: `recurrent` is an nn.Linear with all_to_all=True, or a one-to-one V) -> the
neuron with its recurrent dense layer on a delayed edge (a graph, docs/graphs.md; state-dict kinds
`rleaky`, `rsynaptic`; RLeaky's reset to zero zeroes the whole new membrane, as a CuBa-LIF with
alpha = 0 computes it); nn.ReLU -> Relu;
nn.Flatten, nn.Identity, nn.Dropout (inference) -> nothing. The graph is the one the NIR importer
builds from snnTorch's NIR export: snnTorch's own discrete step (beta, alpha as trained, clamped
to [0, 1] as snnTorch does in its forward; no dt needed: it is what the NIR importer gets back with
snnTorch's dt = 1e-4), spike = v > threshold, the reset from the previous step's spike.

Reset. Unlike NIR, snnTorch records the reset: `reset_mechanism` on a module,
`reset_mechanism_val` (0 subtract, 1 zero, 2 none) in a state dict; it is used. `reset` (`--reset`)
is needed only when the file does not say, and is an error when it contradicts the file.
"subtract" and "zero" reset from the previous step's spike (snnTorch's default `reset_delay=True`);
"none" never resets (v = beta v + x, spikes on v > threshold).

Reset timing. `reset_delay` is a plain attribute of snnTorch's modules (not in a state dict): a live
module says it, a state dict takes `timing` (`--reset-timing`: "next" = reset_delay=True, the
default; "same-snntorch" = reset_delay=False). snnTorch's reset_delay=False subtracts
(s - r) thr right after the spike, r being the delayed reset it already applied (r = v_prev > thr):
    w = beta v + x - r thr;  s = w > thr;  v = w + (r - s) thr
which is the blob's reset 5 (timing "same-snntorch", format 1.6). With reset to zero r is always 0
(a membrane is 0 after a spike and <= thr otherwise), so it is NIR's same-step reset to 0 (timing
"same"). snnTorch 1.0's RSynaptic does not apply reset_delay=False (its forward writes the
same-step reset into a local variable and drops it, or fails when called without states): refused.

Every other constructor option of Leaky / Synaptic / RLeaky / RSynaptic is honoured or refused by
name (docs/graphs.md, "snnTorch options"): learn_beta / learn_alpha / learn_threshold /
learn_recurrent, init_hidden, output, spike_grad and surrogate_disable (training only; the
forward's spike function is checked to be the step v > thr) are honoured; inhibition, state_quant,
graded_spikes_factor != 1 and a conv2d recurrence are refused.
"""
from __future__ import annotations

import numpy as np

from . import graph as G
from .lower import ConvertError

SUPPORTED_MODULES = ("torch.nn.Linear", "snntorch.Leaky", "snntorch.Synaptic", "snntorch.RLeaky",
                     "snntorch.RSynaptic", "torch.nn.ReLU", "torch.nn.Conv2d and torch.nn.AvgPool2d (with the input's "
                     "(C, H, W): from_torch's example or --input-shape)",
                     "torch.nn.Flatten", "torch.nn.Identity", "torch.nn.Dropout",
                     "torch.nn.Sequential / ModuleList / a module of these (walked in registration order)")
ARCH_KINDS = {"linear": ("weight",), "leaky": ("beta", "threshold"), "synaptic": ("alpha", "beta", "threshold"),
              "rleaky": ("beta", "threshold"), "rsynaptic": ("alpha", "beta", "threshold"),
              "relu": (), "flatten": (), "identity": (), "dropout": (), "conv2d": ("weight",), "avgpool2d": ()}
#: the geometry each kind takes in the arch string (`conv2d:stride=2:padding=1`, `avgpool2d:2`)
GEOMETRY = {"conv2d": ("stride", "padding", "dilation", "groups"), "avgpool2d": ("kernel", "stride", "padding")}
RECURRENT = ("rleaky", "rsynaptic")
RESETS = {0: "subtract", 1: "zero", 2: "none"}
TIMINGS = ("next", "same-snntorch")      # snnTorch's reset_delay True / False


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the install
        raise ConvertError("reading .pt/.pth files needs PyTorch: pip install torch (CPU wheel), then "
                           "'edgehost[train]' for snnTorch models") from None
    return torch


def _np(t) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "detach") else t, dtype=np.float64)


def _reset_of(val, given, where):
    r = RESETS.get(int(val), f"code {int(val)}") if val is not None else None
    if r is None:
        if given is None:
            return "subtract", "reset: subtract (the file does not say; snnTorch's default; choose with --reset)"
        return given, f"reset: {given} (--reset)"
    if r not in ("subtract", "zero", "none"):
        raise ConvertError(f"{where}: reset mechanism {r!r} is not supported (subtract, zero or none)")
    if given is not None and given != r:
        raise ConvertError(f"{where}: --reset {given} contradicts the model's reset mechanism {r!r}")
    return r, None


def _timing_of(kind, reset, timing, what):
    """The graph's reset timing of a neuron: "next" (reset_delay=True), or for reset_delay=False
    "same-snntorch" (subtract) / "same" (zero: identical); none has no timing."""
    if reset == "none" or timing == "next":
        return "next"
    if kind == "rsynaptic":
        raise ConvertError(f"{what}: reset_delay=False is not supported on RSynaptic: snnTorch 1.0's RSynaptic does "
                           f"not apply it (its forward writes the same-step reset into a local variable and drops "
                           f"it, or fails when called without states); use reset_delay=True, what it computes")
    return "same-snntorch" if reset == "subtract" else "same"


class _Builder:
    def __init__(self, where, reset, timing=None):
        self.where = where
        self.reset = reset
        self.timing = timing
        self.layers: list = []
        self.n_in = None
        self.n = None
        self.notes: list = []
        self.resets: set = set()
        self.inputs: list = []          # per layer: its G.Edge list
        self.recurrent = False
        self.pending_rec = None         # (weight or V, bias) of the next recurrent neuron
        self.shape = None               # (C, H, W) of the current value (2-D convolutions), None: flat

    def size(self, n, what):
        if self.n is None:
            raise ConvertError(f"{self.where}: {what} comes before any Linear layer: the input size is unknown "
                               f"(the chain must start with a Linear)")
        if n not in (1, self.n):
            raise ConvertError(f"{self.where}: {what} has {n} entries, expected 1 or {self.n}")

    def linear(self, w, b, what):
        w = _np(w)
        if w.ndim != 2:
            raise ConvertError(f"{self.where}: {what}: weight of shape {w.shape}, expected [n_out, n_in]")
        if self.n is None:
            self.n_in = self.n = int(w.shape[1])
        if w.shape[1] != self.n:
            raise ConvertError(f"{self.where}: {what}: weight [{w.shape[0]}, {w.shape[1]}] takes {w.shape[1]} "
                               f"inputs, the previous layer gives {self.n}")
        bias = None if b is None else _np(b).ravel()
        if bias is not None and bias.size != w.shape[0]:
            raise ConvertError(f"{self.where}: {what}: bias of {bias.size} entries, expected {w.shape[0]}")
        self._add(G.Fc(w, bias))
        self.n = int(w.shape[0])

    def _add(self, layer, edges=None):
        self.inputs.append(edges if edges is not None else [G.Edge(len(self.layers) - 1)])
        self.layers.append(layer)

    def _spread(self, t) -> np.ndarray:
        """A neuron parameter, flat; on a (C, H, W) value one that broadcasts to it (per channel:
        (C, 1, 1), as torch broadcasts it in snnTorch's forward) is expanded to every neuron."""
        a = _np(t)
        if self.shape is not None and a.size not in (1, self.n) and 0 < a.ndim <= 3:
            try:
                return np.ascontiguousarray(np.broadcast_to(a, self.shape)).ravel()
            except ValueError:
                pass
        return a.ravel()

    def neuron(self, kind, alpha, beta, thr, reset_val, gsf, what, timing=None):
        vals = {"beta": np.clip(self._spread(beta), 0.0, 1.0), "threshold": self._spread(thr)}
        if alpha is not None:
            vals["alpha"] = np.clip(self._spread(alpha), 0.0, 1.0)
        for k, v in vals.items():
            self.size(v.size, f"{what} {k}")
        if np.any(~(vals["threshold"] > 0)) or not np.all(np.isfinite(vals["threshold"])):
            raise ConvertError(f"{self.where}: {what}: threshold must be > 0 and finite (the kernels spike on v > thr)")
        if gsf is not None and float(_np(gsf).ravel()[0]) != 1.0:
            raise ConvertError(f"{self.where}: {what}: graded_spikes_factor {float(_np(gsf).ravel()[0]):g} != 1 "
                               f"is not supported (spikes are 0/1)")
        reset, note = _reset_of(reset_val, self.reset, f"{self.where}: {what}")
        if note and note not in self.notes:
            self.notes.append(note)
        if timing is not None and self.timing is not None and timing != self.timing:
            raise ConvertError(f"{self.where}: {what}: --reset-timing {self.timing} contradicts the module's "
                               f"reset_delay={timing == 'next'} (timing {timing})")
        tm = _timing_of(kind, reset, timing or self.timing or "next", f"{self.where}: {what}")
        self.resets.add(reset if tm == "next" else f"{reset} (reset_delay=False: timing {tm})")
        if tm != "next":
            layer = (G.CubaLif(vals["alpha"], vals["beta"], vals["threshold"], reset, tm) if kind == "synaptic"
                     else G.Lif(vals["beta"], vals["threshold"], reset, tm))
        elif kind == "leaky":
            layer = G.Lif(vals["beta"], vals["threshold"], reset)
        elif kind == "rleaky" and reset == "zero":
            # snnTorch's RLeaky with reset to zero: mem = (1 - s_prev)(beta mem + x + rec), the whole new
            # membrane zeroed: exactly a CuBa-LIF with alpha = 0 and reset to zero
            layer = G.CubaLif(np.zeros(1), vals["beta"], vals["threshold"], "zero")
            self.notes.append(f"{what}: RLeaky with reset to zero zeroes the whole new membrane: run as a "
                              f"CuBa-LIF with alpha = 0")
        elif kind == "rleaky":
            layer = G.Lif(vals["beta"], vals["threshold"], reset)
        else:
            layer = G.CubaLif(vals["alpha"], vals["beta"], vals["threshold"], reset)
        if kind not in RECURRENT:
            self._add(layer)
            return
        rec = self.pending_rec
        w = _np(rec[0])
        n = self.n
        if w.ndim <= 1:          # one-to-one: x * V (V scalar or per neuron)
            v = np.broadcast_to(w.ravel() if w.size > 1 else w.ravel()[:1], (n,)) if w.size in (1, n) else None
            if v is None:
                raise ConvertError(f"{self.where}: {what}: recurrent V has {w.size} entries, expected 1 or {n}")
            w = np.diag(v)
        if w.shape != (n, n):
            raise ConvertError(f"{self.where}: {what}: recurrent weight of shape {list(w.shape)}, expected [{n}, {n}]")
        b = None if rec[1] is None else _np(rec[1]).ravel()
        prev = len(self.layers) - 1
        r = len(self.layers)
        # the recurrent dense layer reads the neuron's spikes of the previous step (a delayed edge),
        # then adds into the neuron's input with the feed-forward current
        self._add(G.Fc(w, b), [G.Edge(r + 1, delayed=True)])
        self._add(layer, [G.Edge(prev), G.Edge(r)])
        self.recurrent = True

    def graph(self) -> G.Graph:
        if not self.layers:
            raise ConvertError(f"{self.where}: no layers found")
        notes = ["discretisation: snnTorch's own step (beta, alpha as in the model; the graph the NIR "
                 "importer builds from snnTorch's export at its dt = 1e-4)"]
        if self.resets and not any(n.startswith("reset:") for n in self.notes):
            notes.append(f"reset: {', '.join(sorted(self.resets))} (from the model)")
        if self.recurrent:
            notes.append("recurrent layers: their recurrent dense layer reads the previous step's spikes "
                         "(a delayed edge), as snnTorch's RLeaky / RSynaptic do")
            gr = G.Graph(self.n_in, self.layers, notes + self.notes, self.inputs, len(self.layers) - 1)
        else:
            gr = G.Graph(self.n_in, self.layers, notes + self.notes)
        try:
            gr.sizes()
        except ValueError as e:
            raise ConvertError(f"{self.where}: {e}") from None
        return gr


def _conv2d_module(mod, b: _Builder, what: str) -> None:
    """nn.Conv2d / nn.AvgPool2d of a live module (issue 14): the (C, H, W) of its input is the
    example's (from_torch) or the previous convolution's output."""
    torch = _torch()
    if b.shape is None:
        raise ConvertError(f"{b.where}: {what}: the (C, H, W) shape of its input is unknown (give from_torch an "
                           f"example of shape (C, H, W), or --input-shape C,H,W; a pooling or convolution after a "
                           f"Flatten has no shape)")
    shp = b.shape
    if isinstance(mod, torch.nn.Conv2d):
        if mod.padding_mode != "zeros":
            raise ConvertError(f"{b.where}: {what}: padding_mode {mod.padding_mode!r} is not supported (zeros)")
        w = _np(mod.weight)
        if w.shape[1] * mod.groups != shp[0]:
            raise ConvertError(f"{b.where}: {what}: takes {w.shape[1] * mod.groups} input channels, the previous "
                               f"layer gives {shp[0]} {shp}")
        pad = mod.padding
        if isinstance(pad, str):
            if pad == "same" and tuple(mod.stride) != (1, 1):
                raise ConvertError(f"{b.where}: {what}: padding 'same' needs stride 1")
        else:
            pad = (pad[0], pad[1], pad[0], pad[1])
        from ..sim.conv2d import conv2d_padding
        pads = conv2d_padding(pad, w.shape[2], w.shape[3], tuple(mod.stride), tuple(mod.dilation))
        layer = G.Conv2d(w, None if mod.bias is None else _np(mod.bias).ravel(), shp, tuple(mod.stride), pads,
                         tuple(mod.dilation), int(mod.groups))
    else:
        if mod.ceil_mode or not mod.count_include_pad or mod.divisor_override is not None:
            raise ConvertError(f"{b.where}: {what}: ceil_mode, count_include_pad=False and divisor_override are not "
                               f"supported")
        k = tuple(mod.kernel_size) if isinstance(mod.kernel_size, (tuple, list)) else (mod.kernel_size,) * 2
        st = mod.stride if mod.stride is not None else k
        st = tuple(st) if isinstance(st, (tuple, list)) else (st,) * 2
        p = tuple(mod.padding) if isinstance(mod.padding, (tuple, list)) else (mod.padding,) * 2
        layer = G.Pool2d("avg", shp, k, st, (p[0], p[1], p[0], p[1]))
    try:
        out = layer.out_shape()
    except ValueError as e:
        raise ConvertError(f"{b.where}: {what}: {e} (input {shp})") from None
    b._add(layer)
    b.n, b.shape = int(np.prod(out)), out


def _reset_val(mod):
    r = getattr(mod, "reset_mechanism", None)
    return {"subtract": 0, "zero": 1, "none": 2}.get(r, 99 if r is not None else None)


def _delay_timing(mod) -> str:
    return "next" if bool(getattr(mod, "reset_delay", True)) else "same-snntorch"


def _snn_options(mod, b: _Builder, what: str) -> None:
    """Refuse, by name, the snnTorch options that change what the forward computes and that the
    runtime does not compute (the others are honoured: see the module docstring)."""
    torch = _torch()
    if getattr(mod, "inhibition", False):
        raise ConvertError(f"{b.where}: {what}: inhibition=True is not supported (only the neuron with the largest "
                           f"membrane may spike: a winner-take-all across the layer the kernels do not compute)")
    if getattr(mod, "state_quant", False):
        raise ConvertError(f"{b.where}: {what}: state_quant is not supported (snnTorch quantises the states with "
                           f"its own function; convert the float model and quantise with --quantize q15)")
    fn = getattr(mod, "spike_grad", None)
    if fn is not None:
        probe = torch.tensor([-1e3, -1.0, -1e-7, 0.0, 1e-7, 0.5, 1.0, 1e3])
        try:
            with torch.no_grad():
                out = fn(probe.clone())
            ok = torch.equal(torch.as_tensor(out).float(), (probe > 0).float())
        except Exception:
            ok = False
        if not ok:
            raise ConvertError(f"{b.where}: {what}: spike_grad {getattr(fn, '__name__', type(fn).__name__)}: its "
                               f"forward is not the step (v - threshold > 0); the kernels spike on v > threshold")


def _module_chain(mod, b: _Builder, path="model"):
    torch = _torch()
    nn = torch.nn
    try:
        import snntorch as snn
    except ImportError:  # pragma: no cover - depends on the install
        snn = None
    cls = type(mod)
    name = f"{cls.__module__}.{cls.__qualname__}"
    what = f"module {path} ({cls.__name__})"
    if isinstance(mod, nn.Linear):
        b.linear(mod.weight, mod.bias, what)
    elif snn is not None and isinstance(mod, (snn.Leaky, snn.Synaptic)) and type(mod) in (snn.Leaky, snn.Synaptic):
        _snn_options(mod, b, what)
        kind = "synaptic" if isinstance(mod, snn.Synaptic) else "leaky"
        b.neuron(kind, getattr(mod, "alpha", None) if kind == "synaptic" else None, mod.beta, mod.threshold,
                 _reset_val(mod), getattr(mod, "graded_spikes_factor", None), what, _delay_timing(mod))
    elif snn is not None and type(mod) in (getattr(snn, "RLeaky", None), getattr(snn, "RSynaptic", None)):
        kind = "rsynaptic" if type(mod).__name__ == "RSynaptic" else "rleaky"
        _snn_options(mod, b, what)
        rec = getattr(mod, "recurrent", None)
        if isinstance(rec, nn.Linear):
            b.pending_rec = (rec.weight, rec.bias)
        elif rec is not None and hasattr(rec, "V"):
            b.pending_rec = (rec.V, None)
        else:
            raise ConvertError(f"{b.where}: {what}: a {type(rec).__name__} recurrence (conv2d_channels / "
                               f"kernel_size) is not supported; all_to_all=True with linear_features (nn.Linear) "
                               f"or all_to_all=False (one-to-one V) are")
        b.neuron(kind, getattr(mod, "alpha", None) if kind == "rsynaptic" else None, mod.beta, mod.threshold,
                 _reset_val(mod), getattr(mod, "graded_spikes_factor", None), what, _delay_timing(mod))
    elif isinstance(mod, (nn.Conv2d, nn.AvgPool2d)):
        _conv2d_module(mod, b, what)
    elif isinstance(mod, nn.ReLU):
        b._add(G.Relu())
    elif isinstance(mod, (nn.Flatten, nn.Identity, nn.Dropout)):
        if isinstance(mod, nn.Flatten):
            b.shape = None
        pass        # a 1-D chain per step: no-ops at inference
    elif len(list(mod.children())) and type(mod).__module__.split(".")[0] not in ("snntorch",):
        if any(True for _ in mod.named_parameters(recurse=False)):
            raise ConvertError(f"{b.where}: {what} holds parameters of its own besides its sub-modules; "
                               f"supported: {', '.join(SUPPORTED_MODULES)}")
        for cname, child in mod.named_children():
            _module_chain(child, b, f"{path}.{cname}")
    else:
        raise ConvertError(f"{b.where}: {what} [{name}] is not supported; supported: {', '.join(SUPPORTED_MODULES)}")


def _groups(sd) -> list[tuple[str, dict]]:
    out: dict = {}
    for k, v in sd.items():
        prefix, _, leaf = k.rpartition(".")
        out.setdefault(prefix, {})[leaf] = v
    return list(out.items())


def _suggest(groups) -> str:
    kinds = []
    prefixes = {p for p, _ in groups}
    for p, g in groups:
        rec = (f"{p}.recurrent" if p else "recurrent") in prefixes
        if p.endswith("recurrent") and p[:-len("recurrent")].rstrip(".") in prefixes | {""} and \
                any(k in g for k in ("weight", "V")) and (p == "recurrent" or p[:-len(".recurrent")] in prefixes):
            continue                     # the recurrent weights of the layer before: part of its kind
        if "alpha" in g and "beta" in g:
            kinds.append("rsynaptic" if rec else "synaptic")
        elif "beta" in g:
            kinds.append("rleaky" if rec else "leaky")
        elif "weight" in g and getattr(g["weight"], "ndim", 0) == 2:
            kinds.append("linear")
        elif "weight" in g and getattr(g["weight"], "ndim", 0) == 4:
            kinds.append("conv2d")
        else:
            kinds.append("?")
    return ",".join(kinds)


def _describe(groups) -> str:
    return "; ".join(f"{p or '(top)'}: " + ", ".join(f"{k} {list(getattr(v, 'shape', []))}" for k, v in g.items())
                     for p, g in groups)


def _state_dict_chain(sd, arch, b: _Builder):
    groups = _groups(sd)
    if not arch:
        raise ConvertError(
            f"{b.where}: a state dict (tensors only) does not say which layer kinds it holds; give them in forward "
            f"order with --arch, e.g. --arch {_suggest(groups)} (kinds: {', '.join(ARCH_KINDS)}; relu/flatten/"
            f"identity/dropout/avgpool2d take no tensors; geometry as conv2d:stride=2:padding=1, avgpool2d:2). Found modules: {_describe(groups)}. "
            f"Or save the whole module (torch.save(model, path)) and convert it with --trust.")
    items = [k.strip() for k in str(arch).split(",") if k.strip()]
    kinds = [k.split(":")[0].strip().lower() for k in items]
    bad = [k for k in kinds if k not in ARCH_KINDS]
    if bad:
        raise ConvertError(f"{b.where}: --arch kind {bad[0]!r} unknown; kinds: {', '.join(ARCH_KINDS)}")
    geos = [_geometry(i, item, kind, b.where) for i, (item, kind) in enumerate(zip(items, kinds))]
    conv = [i for i, k in enumerate(kinds) if k in GEOMETRY]
    if conv and b.shape is None:
        raise ConvertError(f"{b.where}: --arch layer {conv[0]} ({items[conv[0]]}) needs the shape of the network's "
                           f"input, which a state dict does not hold: give --input-shape C,H,W (channels, height, "
                           f"width of one input step)")
    gi = 0
    for i, kind in enumerate(kinds):
        if not ARCH_KINDS[kind]:
            if kind == "relu":
                b._add(G.Relu())
            elif kind == "flatten":
                b.shape = None
            elif kind == "avgpool2d":
                _sd_avgpool2d(geos[i], b, f"--arch layer {i} ({items[i]})")
            continue
        if gi >= len(groups):
            raise ConvertError(f"{b.where}: --arch layer {i} ({kind}) has no module left in the state dict "
                               f"(found {len(groups)}: {_describe(groups)})")
        prefix, g = groups[gi]
        gi += 1
        what = f"--arch layer {i} ({items[i]}) = state dict {prefix or '(top)'!r}"
        need = set(ARCH_KINDS[kind])
        allowed = need | {"bias"} if kind in ("linear", "conv2d") else need | {"graded_spikes_factor", "reset_mechanism_val", "V"}
        if not need <= set(g) or not set(g) <= allowed:
            raise ConvertError(f"{b.where}: {what}: has {sorted(g)}, a {kind} has {sorted(need)}"
                               f"{' (+ bias)' if kind in ('linear', 'conv2d') else ''}; the state dict suggests --arch "
                               f"{_suggest(groups)}")
        rp = f"{prefix}.recurrent" if prefix else "recurrent"
        if kind in ("leaky", "synaptic") and gi < len(groups) and groups[gi][0] == rp:
            raise ConvertError(f"{b.where}: {what}: it has recurrent weights ({rp}): an snnTorch "
                               f"R{kind[0].upper()}{kind[1:]}, kind r{kind} (a {kind} would read {rp} as a "
                               f"feed-forward layer: another network); the state dict suggests --arch "
                               f"{_suggest(groups)}")
        if kind == "linear" and prefix.rpartition(".")[2] == "recurrent" and \
                any(p == prefix[:-len("recurrent")].rstrip(".") and "beta" in gg for p, gg in groups):
            raise ConvertError(f"{b.where}: {what}: these are the recurrent weights of the neuron layer "
                               f"{prefix[:-len('recurrent')].rstrip('.') or '(top)'!r} (an RLeaky / RSynaptic: kind "
                               f"rleaky / rsynaptic), not a feed-forward linear layer; the state dict suggests --arch "
                               f"{_suggest(groups)}")
        if kind in RECURRENT:
            if gi >= len(groups) or groups[gi][0] != rp:
                raise ConvertError(f"{b.where}: {what}: no recurrent weights ({rp}.weight or {rp}.V) after it in "
                                   f"the state dict; the state dict suggests --arch {_suggest(groups)}")
            rg = groups[gi][1]
            gi += 1
            if "weight" in rg:
                b.pending_rec = (rg["weight"], rg.get("bias"))
            elif "V" in rg:
                b.pending_rec = (rg["V"], None)
            else:
                raise ConvertError(f"{b.where}: {what}: {rp} has {sorted(rg)}, expected weight (+ bias) or V")
        if kind == "linear":
            if b.shape is not None:
                raise ConvertError(f"{b.where}: {what}: its input has the shape {tuple(b.shape)}: put a flatten "
                                   f"before it (PyTorch's nn.Linear on a (C, H, W) tensor acts on its last dimension, "
                                   f"W = {b.shape[2]})")
            b.linear(g["weight"], g.get("bias"), what)
        elif kind == "conv2d":
            _sd_conv2d(g, geos[i], b, what)
        else:
            rv = g.get("reset_mechanism_val")
            b.neuron(kind, g.get("alpha"), g["beta"], g["threshold"], None if rv is None else int(rv), 
                     g.get("graded_spikes_factor"), what)
    if gi != len(groups):
        raise ConvertError(f"{b.where}: --arch uses {gi} of the state dict's {len(groups)} modules; left over: "
                           f"{', '.join(p or '(top)' for p, _ in groups[gi:])}; the state dict suggests --arch "
                           f"{_suggest(groups)}")


def _geo_value(text, key, what):
    """N -> N; HxW -> (H, W); padding also same / valid."""
    t = text.strip().lower()
    if key == "padding" and t in ("same", "valid"):
        return t
    parts = t.split("x")
    try:
        vals = tuple(int(v) for v in parts)
    except ValueError:
        vals = ()
    if len(vals) not in (1, 2) or (key == "groups" and len(vals) != 1):
        raise ConvertError(f"{what}: {key}={text!r} is not " + ("an integer" if key == "groups" else
                           "N or HxW" + (" (or same / valid)" if key == "padding" else "")))
    lo = 0 if key == "padding" else 1
    if min(vals) < lo:
        raise ConvertError(f"{what}: {key}={text} must be >= {lo}")
    return vals[0] if len(vals) == 1 else vals


def _geometry(i, item, kind, where) -> dict:
    """The geometry of one arch item `kind:key=value:...` (avgpool2d also `avgpool2d:K`)."""
    parts = [p.strip() for p in item.split(":")][1:]
    what = f"{where}: --arch layer {i} ({item})"
    if not parts:
        if kind == "avgpool2d":
            raise ConvertError(f"{what}: avgpool2d needs its kernel size: avgpool2d:K or avgpool2d:kernel=K"
                               f"[:stride=S][:padding=P] (stride = kernel by default)")
        return {}
    if kind not in GEOMETRY:
        raise ConvertError(f"{what}: kind {kind!r} takes no geometry (only {', '.join(GEOMETRY)} do)")
    geo: dict = {}
    for j, p in enumerate(parts):
        key, eq, val = p.partition("=")
        key = key.strip().lower()
        if not eq:
            if kind == "avgpool2d" and j == 0:
                key, val = "kernel", p
            else:
                raise ConvertError(f"{what}: {p!r} is not key=value; {kind} takes {', '.join(GEOMETRY[kind])}")
        if key not in GEOMETRY[kind]:
            raise ConvertError(f"{what}: unknown geometry key {key!r}; {kind} takes {', '.join(GEOMETRY[kind])}")
        if key in geo:
            raise ConvertError(f"{what}: {key} given twice")
        geo[key] = _geo_value(val, key, what)
    if kind == "avgpool2d" and "kernel" not in geo:
        raise ConvertError(f"{what}: avgpool2d needs its kernel size: avgpool2d:K or avgpool2d:kernel=K")
    return geo


def _pair(v):
    return tuple(v) if isinstance(v, tuple) else (int(v), int(v))


def _span_check(b: _Builder, what, k, pads, dil):
    """A kernel larger than the padded input, named with the numbers (before the generic check)."""
    shp = b.shape
    span = (dil[0] * (k[0] - 1) + 1, dil[1] * (k[1] - 1) + 1)
    ext = (shp[1] + pads[0] + pads[2], shp[2] + pads[1] + pads[3])
    if ext[0] < span[0] or ext[1] < span[1]:
        raise ConvertError(f"{b.where}: {what}: kernel {k[0]} x {k[1]} (span {span[0]} x {span[1]} with dilation "
                           f"{dil}) larger than its padded input {ext[0]} x {ext[1]} (input {shp}, padding {pads})")


def _sd_shape(b: _Builder, what):
    if b.shape is None:
        raise ConvertError(f"{b.where}: {what}: the (C, H, W) shape of its input is unknown: it comes after a "
                           f"flatten or a linear layer (give --input-shape C,H,W for the network's input)")
    return b.shape


def _sd_conv2d(g, geo, b: _Builder, what):
    """A state dict's conv2d: an nn.Conv2d of the arch's geometry holding the tensors, converted by
    from_torch's code (_conv2d_module)."""
    torch = _torch()
    shp = _sd_shape(b, what)
    w = g["weight"]
    if w.ndim != 4:
        raise ConvertError(f"{b.where}: {what}: weight of shape {list(w.shape)}, expected [C_out, C_in / groups, "
                           f"kH, kW]")
    c_out, cin_g, kh, kw = (int(v) for v in w.shape)
    c = int(shp[0])
    groups = geo.get("groups")
    if groups is None:
        if c % cin_g or c_out % (c // cin_g or 1) or c < cin_g:
            raise ConvertError(f"{b.where}: {what}: weight {list(w.shape)} takes {cin_g} input channels (per group), "
                               f"the input has {c} channels {tuple(shp)}")
        groups = c // cin_g
        if groups > 1:
            b.notes.append(f"{what}: groups {groups} (inferred: {c} input channels / weight's {cin_g} per group)")
    elif cin_g * groups != c:
        raise ConvertError(f"{b.where}: {what}: weight {list(w.shape)} with groups {groups} takes {cin_g * groups} "
                           f"input channels, the input has {c} channels {tuple(shp)}")
    elif c_out % groups:
        raise ConvertError(f"{b.where}: {what}: groups {groups} does not divide the {c_out} output channels")
    stride, dil = _pair(geo.get("stride", 1)), _pair(geo.get("dilation", 1))
    padding = geo.get("padding", 0)
    from ..sim.conv2d import conv2d_padding
    try:
        pads = conv2d_padding(padding, kh, kw, stride, dil)
    except ValueError as e:
        raise ConvertError(f"{b.where}: {what}: {e}") from None
    _span_check(b, what, (kh, kw), pads, dil)
    bias = g.get("bias")
    try:
        mod = torch.nn.Conv2d(c, c_out, (kh, kw), stride=stride, padding=padding, dilation=dil, groups=groups,
                              bias=bias is not None)
        with torch.no_grad():
            mod.weight.copy_(w)
            if bias is not None:
                mod.bias.copy_(bias.reshape(-1))
    except (ValueError, RuntimeError) as e:
        raise ConvertError(f"{b.where}: {what}: {e}") from None
    _conv2d_module(mod, b, what)


def _sd_avgpool2d(geo, b: _Builder, what):
    """A state dict's avgpool2d (no tensors): an nn.AvgPool2d of the arch's geometry, converted by
    from_torch's code."""
    torch = _torch()
    _sd_shape(b, what)
    k = _pair(geo["kernel"])
    st = _pair(geo.get("stride", k))
    p = geo.get("padding", 0)
    if isinstance(p, str):
        raise ConvertError(f"{b.where}: {what}: padding {p!r}: avgpool2d takes integer padding")
    p = _pair(p)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ConvertError(f"{b.where}: {what}: padding {p} must be at most half the kernel {k} (PyTorch's rule)")
    _span_check(b, what, k, (p[0], p[1], p[0], p[1]), (1, 1))
    _conv2d_module(torch.nn.AvgPool2d(k, st, p), b, what)


def _input_shape(input_shape, b: _Builder):
    if input_shape is None:
        return
    shp = tuple(int(v) for v in input_shape)
    if len(shp) != 3 or min(shp) < 1:
        raise ConvertError(f"{b.where}: input shape {shp}: expected (C, H, W), three integers >= 1")
    b.shape = shp
    b.n_in = b.n = int(np.prod(shp))


def _check_args(reset, timing):
    if reset not in (None, "subtract", "zero", "none"):
        raise ConvertError(f"reset must be subtract, zero or none, got {reset!r}")
    if timing == "same":
        raise ConvertError("reset timing 'same' is NIR's same-step reset; an snnTorch model's reset_delay=False is "
                           "--reset-timing same-snntorch (next: reset_delay=True, the default)")
    if timing not in (None,) + TIMINGS:
        raise ConvertError(f"reset timing must be next or same-snntorch (snnTorch's reset_delay True / False), "
                           f"got {timing!r}")


def load_torch(path, trust: bool = False, arch: str | None = None, reset: str | None = None,
               timing: str | None = None, input_shape=None) -> G.Graph:
    """Import a .pt/.pth file: a pickled module (needs trust=True) or a state dict (needs arch).
    timing: a state dict's reset_delay ("next" = True, the default; "same-snntorch" = False).
    input_shape: (C, H, W) of the input, needed by a leading conv2d / avgpool2d."""
    torch = _torch()
    where = str(path)
    _check_args(reset, timing)
    b = _Builder(where, reset, timing)
    _input_shape(input_shape, b)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        safe_err = e
        obj = None
    else:
        safe_err = None
    if obj is None:
        if not trust:
            raise ConvertError(
                f"{where}: not a plain state dict (torch.load(weights_only=True) refused it: "
                f"{type(safe_err).__name__}). "
                f"If it is a whole pickled module (torch.save(model, path)), reading it runs code from the file "
                f"(unpickling): pass --trust only for a file you trust. Safe alternative: save "
                f"model.state_dict() and convert it with --arch.")
        try:
            obj = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:
            raise ConvertError(f"{where}: cannot read the file ({type(e).__name__}: {e})") from None
    if isinstance(obj, torch.nn.Module):
        obj.eval()
        _module_chain(obj, b)
        gr = b.graph()
        gr.notes.insert(0, f"read a pickled {type(obj).__name__} module (--trust): layers in registration order")
        return gr
    if isinstance(obj, dict) and obj and all(hasattr(v, "shape") for v in obj.values()):
        _state_dict_chain(obj, arch, b)
        gr = b.graph()
        gr.notes.insert(0, f"read a state dict (weights_only) with --arch {arch}")
        return gr
    raise ConvertError(f"{where}: holds a {type(obj).__name__}, neither an nn.Module nor a state dict of tensors")


def from_torch(module, example=None, reset: str | None = None) -> G.Graph:
    """The float Graph of a live PyTorch / snnTorch module, without pickling or NIR (snnTorch's
    surrogate functions cannot be pickled, and its NIR export fails on a scalar beta):

        graph = edgehost.convert.from_torch(net, torch.zeros(n_in))
        model, report = edgehost.convert.build(graph, quantize="q15")

    The module is read as the chain of its sub-modules in registration order (what `--trust` does
    with a pickled module). `example` (one unbatched input step) is run through the module once to
    check that its output has the size the graph gives (a forward that does not follow the
    registration order fails here rather than converting to another network)."""
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise ConvertError(f"from_torch takes an nn.Module, got {type(module).__name__}")
    _check_args(reset, None)
    where = f"module {type(module).__name__}"
    b = _Builder(where, reset)
    if example is not None and np.ndim(example) == 3:       # (C, H, W): the input of a leading Conv2d
        b.shape = tuple(int(v) for v in np.shape(example))
        b.n_in = b.n = int(np.prod(b.shape))
    was_training = module.training
    module.eval()
    try:
        _module_chain(module, b)
        gr = b.graph()
        if example is not None:
            n = gr.sizes()[gr.out_index]
            x = torch.as_tensor(example, dtype=torch.float32)
            if x.numel() != gr.n_in:
                raise ConvertError(f"{where}: example has {x.numel()} values, the first layer takes {gr.n_in}")
            try:
                import snntorch.utils as su
                su.reset(module)
            except Exception:
                pass
            with torch.no_grad():
                y = module(x if x.dim() == 3 else x.reshape(-1))
            y = y[0] if isinstance(y, tuple) else y
            if int(y.numel()) != n:
                raise ConvertError(f"{where}: its forward gives {int(y.numel())} values, the chain of its "
                                   f"sub-modules in registration order gives {n}: the forward does not follow "
                                   f"the registration order (convert its NIR export or a state dict with --arch)")
            try:
                import snntorch.utils as su
                su.reset(module)
            except Exception:
                pass
    finally:
        module.train(was_training)
    gr.notes.insert(0, f"read the live {type(module).__name__} module: layers in registration order")
    return gr
