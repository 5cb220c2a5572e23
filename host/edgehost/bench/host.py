"""Host comparison: the same spiking networks stepped at batch 1 on the CPU by snnTorch and by the
public host interpreter, edgehost.runtime.HostModel, on the networks' `.ehm` blobs: backend
"kernels" (the C kernels through cffi, prepared once per model: what `HostModel(blob,
backend="kernels").step(x)` runs, the input checked at every step) and backend "sim" (the numpy
reference). An extra row, `stepper`, makes the same C calls without the interpreter
(edgehost.bench.stepper, internal: no model, no input check): what the interpreter's own
per-step work costs. Steps per second and ratios, all measured in one run on one core
(torch.set_num_threads(1)).

Networks:
  lif_256x1024  Linear(256 -> 1024, no bias) + LIF, input spikes with probability 0.1
  lif_2layer    Linear(64 -> 128) + LIF -> Linear(128 -> 10) + LIF, input spikes p = 0.2
  l2mu_har      the HAR demo's L2MU cell (host/edgehost/demos/har/model/), 6 raw channels in,
                step + leaky-integrator readout every step

snnTorch runs the float32 model (Leaky neurons, reset by subtraction, the contract of
eh_lif.h); sim, kernels and the stepper run its Q15 version (the LIF nets as fc_spike_q15 +
lif_q15 layers, `lif_blob`; the L2MU as one l2mu_q15 layer with a q15 input,
edgehost.convert.l2mu_layer) and must agree bit for bit with each other (checked in the run:
`bit_exact`). `agree_snntorch` is the fraction of output spikes
(LIF nets) or of classes (L2MU, argmax of the readout after each step) equal to snnTorch's.

Timing: every implementation runs the same input sequence, one call per step (HostModel:
`step(x)` on each row, as a user streams samples); each is timed `repeats` times,
interleaved, and the best time is kept (the machine is shared: the minimum is the least
disturbed). Wall-clock figures vary between machines; the ratios are the result. For the LIF
nets the stepper's dense calls (eh_fc_spike_t_q15: the weights transposed once, the same result
as eh_fc_spike_q15) are also timed alone (`fc_spike_share`): where its time goes once the
per-call Python overhead is gone.

`run_all()` (what `edgehost bench --host` calls) adds the converter timing (`convert_timing`)
and the stack depth per emulated board (edgehost.bench.stack).
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from . import stepper

Q15_SCALE = 4096.0  # current / membrane scale of the LIF nets: threshold 1.0 -> 4096
BETA = 0.9


@dataclass
class HostEntry:
    network: str
    shape: str
    impl: str            # snntorch, sim, kernels (HostModel backends), stepper
    steps: int           # steps per timed run
    steps_per_s: float
    us_per_step: float
    vs_snntorch: float   # steps/s ratio to snnTorch (> 1: faster)
    note: str = ""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class HostResult:
    entries: list[HostEntry]
    checks: dict = field(default_factory=dict)   # per network: bit_exact, agree_snntorch
    torch_version: str = ""
    snntorch_version: str = ""
    threads: int = 1
    load: tuple = ()             # 1-minute load average at the start and the end of the run, CPUs


# ---- the LIF networks --------------------------------------------------------------------------

@dataclass
class LifNet:
    name: str
    sizes: list[int]                 # [n_in, n_1, ..., n_L]
    w: list[np.ndarray]              # float32 [n_out][n_in] per layer
    wq: list[np.ndarray]             # int16, w * Q15_SCALE rounded
    thr_q: int
    decay_q: int
    spikes_in: np.ndarray            # uint8 [T][n_in]


def make_lif_net(name: str, sizes: list[int], p_in: float, steps: int, seed: int = 0) -> LifNet:
    """Random weights (mostly excitatory, scaled to the layer's expected input rate) quantised
    to Q15 at Q15_SCALE; snnTorch gets the same values in float32. Input spikes with rate p_in."""
    rng = np.random.default_rng(seed)
    w, wq = [], []
    p = p_in
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        g = 0.8 / (p * n_in)
        q = np.clip(np.round(rng.uniform(-0.5, 1.0, (n_out, n_in)) * g * Q15_SCALE), -32768, 32767)
        wq.append(q.astype(np.int16))
        w.append((q / Q15_SCALE).astype(np.float32))
        p = 0.1
    s = (rng.random((steps, sizes[0])) < p_in).astype(np.uint8)
    return LifNet(name, sizes, w, wq, int(Q15_SCALE), int(round(BETA * 32768)), s)


def _lif_snntorch(net: LifNet):
    import snntorch as snn
    import torch
    from torch import nn

    fcs = []
    for wf in net.w:
        fc = nn.Linear(wf.shape[1], wf.shape[0], bias=False)
        with torch.no_grad():
            fc.weight.copy_(torch.from_numpy(wf))
        fcs.append(fc)
    lifs = [snn.Leaky(beta=BETA, threshold=1.0, reset_mechanism="subtract") for _ in net.w]
    xs = torch.from_numpy(net.spikes_in.astype(np.float32))

    def run():
        outs = []
        with torch.no_grad():
            mems = [lif.init_leaky() for lif in lifs]
            for t in range(xs.shape[0]):
                h = xs[t]
                for k, (fc, lif) in enumerate(zip(fcs, lifs)):
                    h, mems[k] = lif(fc(h), mems[k])
                outs.append(h)
        return np.stack([o.numpy() for o in outs]).astype(np.uint8)
    return run


def lif_blob(net: LifNet) -> bytes:
    """The Q15 net as a `.ehm` blob: spike input, then per layer fc_spike_q15 (no bias, shift 0)
    and lif_q15 (shared decay and threshold, reset by subtraction); the last spikes out."""
    from ..blob import Layer, Model, Tensor
    from ..convert.planner import plan
    T = [Tensor("spike", (net.sizes[0],))]
    L = []
    x = 0
    for wq in net.wq:
        n_out, n_in = wq.shape
        T += [Tensor("q15", (n_out,), scale=1 / Q15_SCALE), Tensor("spike", (n_out,), "state"),
              Tensor("q15", (n_out,), "state", scale=1 / Q15_SCALE)]
        cur, s, v = len(T) - 3, len(T) - 2, len(T) - 1
        L.append(Layer("fc_spike_q15", x, cur, n_in, n_out, [wq.ravel(), None]))
        L.append(Layer("lif_q15", cur, s, n_out, n_out, [np.array([net.decay_q], np.uint16),
                                                         np.array([net.thr_q], np.int16)], [v], leak=("decay",)))
        x = s
    return plan(Model(L, T, 0, x, 0)).to_bytes()


def _host_model(blob: bytes, xs: np.ndarray, backend: str):
    """HostModel(blob, backend) stepped on every row of xs, one step() call per row (after a
    reset), as a user runs it; [T][n_out]."""
    from ..runtime import HostModel
    hm = HostModel(blob, backend)
    n_out = hm.model.output_tensor.storage_len

    def run():
        hm.reset()
        out = np.empty((xs.shape[0], n_out), hm.model.output_tensor.np_dtype)
        step = hm.step
        for t in range(xs.shape[0]):
            out[t] = step(xs[t])
        return out
    return run


def _lif_stepper(net: LifNet):
    st = stepper.LifNetQ15([w for w in net.wq], threshold=net.thr_q, decay=net.decay_q)

    def run():
        st.reset()
        return st.run(net.spikes_in)
    return run


# ---- the L2MU ----------------------------------------------------------------------------------

def _har_model():
    from ..demos.har.demo import load_model
    return load_model()


def _l2mu_torch(meta: dict, cell: dict):
    """The snnTorch L2MU of edgehost.train.l2mu with the float32 cell's weights."""
    import torch

    from ..train.l2mu import L2MU, L2MUConfig

    cfg = L2MUConfig(**{k: meta["config"][k] for k in L2MUConfig.__dataclass_fields__})
    m = L2MU(cfg)
    t = lambda a: torch.tensor(np.asarray(a, np.float32))  # noqa: E731
    enc = cell["enc"][0]
    with torch.no_grad():
        m.w_in.copy_(t(cell["w_in"]))
        m.b_in.copy_(t(cell["b_in"]))
        m.enc.weight.copy_(t(enc["w"]))
        m.enc.bias.copy_(t(enc["b"]))
        for name in ("e_x", "e_h", "e_m", "w_x", "w_h", "w_m"):
            getattr(m, name).weight.copy_(t(cell[name]))
        m.A.copy_(t(cell["a"]))
        m.B.copy_(t(cell["b"]))
        m.out.weight.copy_(t(cell["w_o"]))
        m.out.bias.copy_(t(cell["b_o"]))
        m.beta_o.copy_(t(np.asarray(cell["pop_o"]["beta"]).reshape(-1)[0]))
        for lif, pop in ((m.lif_in, cell["pop_in"]), (m.lif_enc, enc["pop"]), (m.lif_u, cell["pop_u"]),
                         (m.lif_m, cell["pop_m"]), (m.lif_h, cell["pop_h"])):
            lif.beta.copy_(t(pop["beta"]))
            lif.threshold.copy_(t(pop["threshold"]))
    m.eval()
    return m


def _l2mu_inputs(meta: dict, steps: int, seed: int):
    """A synthetic, normalised 6-channel sequence (smooth random walk, like the HAR windows)."""
    rng = np.random.default_rng(seed)
    n_ch = int(meta["channels"])
    x = np.cumsum(rng.normal(0, 0.3, (steps, n_ch)), 0)
    x = np.clip(x - x.mean(0), -4, 4).astype(np.float32)
    xq = np.clip(np.round(x * float(meta["input_scale"])), -32768, 32767).astype(np.int16)
    return x, xq


def _l2mu_snntorch(meta, cell_f32, x):
    """(timed run: the module's forward over the sequence, as a user calls it; the readout after
    every step [T][n_o] for the agreement check, from a separate recorded run)."""
    import torch
    model = _l2mu_torch(meta, cell_f32)
    xt = torch.from_numpy(x)[None]

    def run():
        with torch.no_grad():
            return model(xt)

    def record():
        with torch.no_grad():
            _, rec = model(xt, record=True)
        return rec["y"][0].numpy()
    return run, record


def _l2mu_stepper(cell_q, xq):
    st = stepper.L2muQ15(cell_q)

    def run():
        st.reset()
        return st.run(xq)
    return run


# ---- timing ------------------------------------------------------------------------------------

def _time(fns: dict[str, Callable], repeats: int) -> tuple[dict[str, float], dict]:
    best = {k: float("inf") for k in fns}
    outs = {}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter()
            o = f()
            dt = time.perf_counter() - t0
            best[k] = min(best[k], dt)
            outs[k] = o
    return best, outs


def _entries(network, shape, steps_by_impl: dict[str, int], best: dict[str, float], notes=None):
    notes = notes or {}
    ref = steps_by_impl["snntorch"] / best["snntorch"]
    out = []
    for k, dt in best.items():
        sps = steps_by_impl[k] / dt
        out.append(HostEntry(network, shape, k, steps_by_impl[k], sps, 1e6 / sps, sps / ref, notes.get(k, "")))
    return out


NOTES = {
    "snntorch": "float32, torch.no_grad, 1 thread",
    "sim": 'HostModel(blob, backend="sim").step(x): the numpy reference interpreter, Q15',
    "kernels": ('HostModel(blob, backend="kernels").step(x): the public host path (also under edgehost '
                "validate / stream checks): prepared once per model, the input checked at every step, "
                "then only the C kernels' calls"),
    "stepper": ("edgehost.bench.stepper (internal, for comparison): the same C calls with no model, "
                "no interpreter and no input check"),
}


def run_host(quick: bool = False, repeats: int | None = None, seed: int = 0) -> HostResult:
    """Measure every network with every implementation (see the module docstring)."""
    import snntorch
    import torch

    from ..convert.l2mu_layer import l2mu_blob

    torch.set_num_threads(1)
    repeats = repeats or (2 if quick else 5)
    res = HostResult([], torch_version=torch.__version__, snntorch_version=snntorch.__version__,
                     threads=torch.get_num_threads())
    load0 = _load()
    t_fast = 100 if quick else 400   # steps for the C paths
    t_slow = 20 if quick else 60     # steps for snnTorch and sim

    for name, sizes in (("lif_256x1024", [256, 1024]), ("lif_2layer", [64, 128, 10])):
        net = make_lif_net(name, sizes, 0.1 if name.endswith("1024") else 0.2, t_fast, seed)
        short = LifNet(net.name, net.sizes, net.w, net.wq, net.thr_q, net.decay_q, net.spikes_in[:t_slow])
        # "_fc": the stepper's eh_fc_spike_t_q15 calls alone (where its time goes), interleaved too
        st_fc = stepper.LifNetQ15(net.wq, threshold=net.thr_q, decay=net.decay_q)
        blob = lif_blob(net)
        fns = {"snntorch": _lif_snntorch(short), "sim": _host_model(blob, short.spikes_in, "sim"),
               "kernels": _host_model(blob, net.spikes_in, "kernels"), "stepper": _lif_stepper(net),
               "_fc": lambda: st_fc.fc_only(net.spikes_in)}
        steps = {"snntorch": t_slow, "sim": t_slow, "kernels": t_fast, "stepper": t_fast}
        best, outs = _time(fns, repeats)
        t_fc = best.pop("_fc")
        ref = outs["snntorch"]
        exact = bool(np.array_equal(outs["kernels"], outs["stepper"])
                     and np.array_equal(outs["kernels"][:t_slow], outs["sim"]))
        res.checks[name] = {"bit_exact": exact,
                            "agree_snntorch": float(np.mean(outs["sim"] == ref)),
                            "spike_rate": float(outs["sim"].mean()),
                            "fc_spike_share": t_fc / best["stepper"]}
        res.entries += _entries(name, "->".join(map(str, sizes)), steps, best, NOTES)

    meta, cell_f32, cell_q = _har_model()
    x, xq = _l2mu_inputs(meta, t_fast, seed)
    torch_run, torch_record = _l2mu_snntorch(meta, cell_f32, x[:t_slow])
    blob = l2mu_blob(cell_q, float(meta["input_scale"]), input="q15")
    fns = {"snntorch": torch_run, "sim": _host_model(blob, xq[:t_slow], "sim"),
           "kernels": _host_model(blob, xq, "kernels"), "stepper": _l2mu_stepper(cell_q, xq)}
    steps = {"snntorch": t_slow, "sim": t_slow, "kernels": t_fast, "stepper": t_fast}
    best, outs = _time(fns, repeats)
    exact = bool(np.array_equal(outs["kernels"], outs["stepper"])
                 and np.array_equal(outs["kernels"][:t_slow], outs["sim"]))
    cls_q = outs["sim"].argmax(1)
    cls_f = torch_record().argmax(1)
    res.checks["l2mu_har"] = {"bit_exact": exact, "agree_snntorch": float(np.mean(cls_q == cls_f))}
    c = meta["config"]
    shape = f"ch{c['channels']}x{c['pop']}_enc{c['enc']}_u{c['memory']}_d{c['order']}_h{c['hidden']}_o{c['classes']}"
    res.entries += _entries("l2mu_har", shape, steps, best, NOTES)
    res.load = (load0, _load(), os.cpu_count() or 0)
    return res


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this OS
        return float("nan")


def render(res: HostResult, command: str = "edgehost bench --host") -> list[str]:
    out = ["## Host: the same networks with snnTorch, numpy and the C kernels", "",
           f"Batch 1, one CPU thread (torch {res.torch_version}, snnTorch {res.snntorch_version}, "
           f"torch.set_num_threads({res.threads})), best of interleaved repeats, all in one run "
           f"(`{command}`). snnTorch runs float32; the other three run the Q15 model and agree bit "
           "for bit with each other. `kernels` is the public host path: the host interpreter "
           "`edgehost.runtime.HostModel(blob, backend=\"kernels\")` stepping the network's `.ehm` "
           "blob one `step(x)` call per time step. The ratio is steps/s over snnTorch's on the same "
           "network." + (f" Load average {res.load[0]:.1f} at the start and {res.load[1]:.1f} at the end of "
                         f"the run on {res.load[2]} CPUs (a shared machine: the wall-clock figures move "
                         "with it, the ratios less)." if res.load else ""), "",
           "| network | shape | implementation | steps/s | us/step | x snnTorch |",
           "|---|---|---|---:|---:|---:|"]
    for e in res.entries:
        out.append(f"| {e.network} | {e.shape} | {e.impl} | {e.steps_per_s:,.0f} | {e.us_per_step:.1f} | "
                   f"{e.vs_snntorch:.2f} |")
    out += ["", "| network | sim = kernels = stepper (bit-exact) | agreement with snnTorch "
                "| stepper time in eh_fc_spike_t_q15 |",
            "|---|---|---:|---:|"]
    for k, v in res.checks.items():
        what = "classes" if k.startswith("l2mu") else "spikes"
        share = f"{100 * v['fc_spike_share']:.0f} %" if "fc_spike_share" in v else "-"
        out.append(f"| {k} | {'yes' if v['bit_exact'] else 'NO'} | {v['agree_snntorch']:.3f} ({what}) | {share} |")
    out += ["", "Implementations: " + "; ".join(f"`{k}`: {v}" for k, v in NOTES.items()) + ".", ""]
    return out


# ---- converter timing --------------------------------------------------------------------------

def _best_of(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def convert_timing(quick: bool = False, seed: int = 0) -> list[dict]:
    """Time the converter on the demo models (best of a few runs, seconds).

    HAR (host/edgehost/demos/har/model/): the trained snnTorch L2MU (rebuilt from the committed
    float32 cell) -> float32 cell (convert.l2mu.cell_f32) -> Q15 cell calibrated on N windows
    (convert.l2mu.cell_q15; synthetic windows of the HAPT shape stand in for the training set) ->
    model blob with its memory plan (convert.l2mu_layer.l2mu_blob). Blimp
    (host/edgehost/demos/blimp/model/, when present): every model file there through
    `edgehost convert`'s Python path (convert.load + convert.build, Q15 when it calibrates)."""
    import torch

    from ..convert.l2mu import cell_f32, cell_q15
    from ..convert.l2mu_layer import l2mu_blob

    torch.set_num_threads(1)
    reps = 1 if quick else 3
    rows = []
    meta, cf, _ = _har_model()
    n_cal = 64 if quick else 512
    rng = np.random.default_rng(seed)
    xcal = np.cumsum(rng.normal(0, 0.3, (n_cal, int(meta["steps"]), int(meta["channels"]))), 1).astype(np.float32)
    scale = float(meta["input_scale"])
    t_model, model = _best_of(lambda: _l2mu_torch(meta, cf), reps)
    t_f32, _ = _best_of(lambda: cell_f32(model), reps)
    t_q15, (cq, rep) = _best_of(lambda: cell_q15(model, xcal, input_scale=scale), reps)
    t_blob, blob = _best_of(lambda: l2mu_blob(cq, scale, output_scale=1.0 / rep["scales"]["o"], input="q15"), reps)
    rows.append({"model": "har_l2mu", "stage": "snnTorch module from the trained weights", "seconds": t_model})
    rows.append({"model": "har_l2mu", "stage": "float32 cell (cell_f32)", "seconds": t_f32})
    rows.append({"model": "har_l2mu", "stage": f"Q15 cell, calibrated on {n_cal} windows (cell_q15)",
                 "seconds": t_q15})
    rows.append({"model": "har_l2mu", "stage": f"blob + memory plan (l2mu_blob, {len(blob)} B)", "seconds": t_blob})
    rows.append({"model": "har_l2mu", "stage": "total", "seconds": t_model + t_f32 + t_q15 + t_blob})

    from pathlib import Path
    blimp = Path(__file__).resolve().parents[1] / "demos" / "blimp" / "model"
    if blimp.is_dir():
        from ..convert import build, load
        for f in sorted(blimp.iterdir()):
            if f.suffix not in (".nir", ".npz", ".pt", ".pth", ".tflite"):
                continue
            try:
                t_load, graph = _best_of(lambda: load(str(f)), reps)
                t_build, (model_b, _) = _best_of(lambda: build(graph, quantize="q15"), reps)
                t_bytes, data = _best_of(lambda: model_b.to_bytes(), reps)
            except Exception as e:  # a file the generic converter does not take: say so
                rows.append({"model": f"blimp/{f.name}", "stage": f"not convertible: {e}", "seconds": None})
                continue
            rows.append({"model": f"blimp/{f.name}", "stage": "load (edgehost convert import)", "seconds": t_load})
            rows.append({"model": f"blimp/{f.name}", "stage": "lower + quantise Q15 + plan", "seconds": t_build})
            rows.append({"model": f"blimp/{f.name}", "stage": f"blob ({len(data)} B)", "seconds": t_bytes})
            rows.append({"model": f"blimp/{f.name}", "stage": "total", "seconds": t_load + t_build + t_bytes})
    return rows


def render_convert(rows: list[dict]) -> list[str]:
    out = ["## Converter time", "",
           "Best of repeated runs on one CPU thread (the same machine as the host comparison).", "",
           "| model | stage | seconds |", "|---|---|---:|"]
    for r in rows:
        s = "-" if r["seconds"] is None else f"{r['seconds']:.3f}"
        out.append(f"| {r['model']} | {r['stage']} | {s} |")
    out.append("")
    return out


def run_all(boards=(), quick: bool = False) -> tuple[dict, list[str]]:
    """`edgehost bench --host`: the host comparison, the converter timing and, for every
    emulated board given, the stack depth while running the HAR model. (doc, report lines)"""
    from . import stack
    from .. import boards as boards_mod

    res = run_host(quick=quick)
    conv = convert_timing(quick=quick)
    stacks, errors = [], []
    for name in boards:
        b = boards_mod.get(name)
        if not b.emulated or b.is_host:
            continue
        try:
            stacks.append(stack.measure(name))
        except Exception as e:  # report, do not lose the other figures
            errors.append(f"{name}: {e}")
    doc = {"steps": [e.to_json() for e in res.entries], "checks": res.checks,
           "torch": res.torch_version, "snntorch": res.snntorch_version, "threads": res.threads,
           "load": list(res.load),
           "convert": conv, "stack": stacks, "stack_errors": errors}
    lines = render(res) + render_convert(conv) + stack.render(stacks)
    if errors:
        lines += ["Stack measurement failed on: " + "; ".join(errors), ""]
    return doc, lines
