"""`edgehost demo scnn`: the committed spiking CNN (Sinabs, exported to NIR) converted to Q15 and
run on a board (the emulated mps2-an386 by default) over held-out event-camera digits, each
device output checked against the host simulation of the same blob.

Steps: the NIR file -> `edgehost.convert.load` (IF time step 1, Sinabs' same-step subtract
reset) -> spike input (b1: 1 bit per pixel and polarity) -> Q15, calibrated on training samples ->
a spike counter after the output neurons (the class is the neuron with the most spikes) -> build
and flash the firmware -> load the blob -> INFER every sample on the device and on the host (the
C kernels via cffi) -> compare the counts bit for bit -> accuracy (Sinabs' own float forward,
our float32 reading, Q15 host, device), activity per layer, instructions per time step, memory,
whether it fits the nRF52840.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..har.demo import confusion, instructions_from_counter, plot_confusion
from .data import SENSOR, event_digits

MODEL_DIR = Path(__file__).parent / "model"
NIR_FILE = MODEL_DIR / "scnn_digits.nir"
NRF52_HZ = 64e6
LINK_TIMEOUT = 5.0          # seconds without an answer before a frame is sent again
CALIB_SAMPLES = 64          # training samples the Q15 ranges come from
CLASSES = [str(d) for d in range(10)]


def meta() -> dict:
    return json.loads((MODEL_DIR / "scnn_digits.json").read_text())


def load_graph(path: Path = NIR_FILE):
    """The NIR graph as edgehost reads Sinabs' export: IF nodes with a unit time step, the reset
    in the step that spiked (subtract), the input taken as events."""
    from ...convert import load
    g = load(str(path), if_dt=1.0, timing="same", reset="subtract")
    g.input_kind = "spikes"
    return g


def with_spike_count(model):
    """The model with a spike_count layer after its output spikes: the output becomes the count
    of each output neuron's spikes since the last reset (an INFER resets it), i.e. the class
    scores of the whole sample."""
    from ...blob.model import Layer, Model, Tensor
    from ...convert.planner import plan
    out = model.output
    t_out = model.tensors[out]
    if t_out.dtype != "spike":
        raise ValueError(f"the model's output is {t_out.dtype}, not spikes: nothing to count")
    tensors = list(model.tensors) + [Tensor("u16", (t_out.n,), "state")]
    cnt = len(tensors) - 1
    layers = list(model.layers) + [Layer("spike_count", out, cnt, t_out.n, t_out.n)]
    return plan(Model(layers, tensors, model.input, cnt, 0))


def convert(split=None, quantize: str = "q15"):
    """(model with spike counts, conversion report) of the committed network."""
    from ...convert import build
    g = load_graph()
    if split is None:
        split = event_digits(steps=meta()["steps"], seed=meta()["seed"])
    xc = split.X_train[:CALIB_SAMPLES]
    calib = xc.reshape(len(xc), split.steps, -1).astype(np.float32)
    if quantize == "q15":
        import warnings

        from ...convert import Q15FidelityWarning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Q15FidelityWarning)     # in the report: rep["warnings"]
            model, rep = build(g, quantize="q15", calib=calib)
    else:
        model, rep = build(g, quantize="none")
    return with_spike_count(model), rep


def sinabs_net(path: Path = NIR_FILE, steps: int | None = None):
    """The Sinabs network the demo was trained as (edgehost.demos.scnn.train.build: IAF with one
    spike per step, subtract reset), its weights read back from the NIR file; None without Sinabs.
    (sinabs.from_nir would rebuild the IF nodes with Sinabs' default multi-spike IAF: another
    neuron than the one exported.)"""
    try:
        import nir
        import torch

        from .train import build, reset
    except ImportError:
        return None
    g = nir.read(str(path))
    net = build(steps or meta()["steps"])
    convs = [m for m in net if isinstance(m, torch.nn.Conv2d)]
    lins = [m for m in net if isinstance(m, torch.nn.Linear)]
    nodes = [g.nodes[k] for k in sorted((k for k in g.nodes if k.isdigit()), key=int)]
    wc = [n.weight for n in nodes if type(n).__name__ == "Conv2d"]
    wl = [n.weight for n in nodes if type(n).__name__ in ("Affine", "Linear")]
    with torch.no_grad():
        for m, w in list(zip(convs, wc)) + list(zip(lins, wl)):
            m.weight.copy_(torch.as_tensor(np.asarray(w), dtype=torch.float32))
    reset(net)
    return net


def sinabs_counts(X) -> np.ndarray | None:
    """Output spike counts of Sinabs' own forward (float32) for samples X (n, T, 2, 34, 34)."""
    net = sinabs_net()
    if net is None:
        return None
    from .train import predict
    return predict(net, X)


def pick(y: np.ndarray, per_class: int | None, seed: int = 0) -> np.ndarray:
    if per_class is None:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)]))


def layer_activity(model, X) -> list[dict]:
    """Per spiking tensor of the Q15 model (host): the fraction of its entries that spike per step,
    over the samples X (the input's too)."""
    from ...runtime import HostModel
    hm = HostModel(model, backend="kernels")
    spikes = [i for i, l in enumerate(model.layers) if model.tensors[l.output].dtype == "spike"]
    tot = np.zeros(len(spikes))
    steps = 0
    for x in X:
        _, tr = hm.run(x.reshape(len(x), -1).astype(np.uint8))
        for step in tr:
            tot += [float(np.mean(step[i])) for i in spikes]
            steps += 1
    return [{"layer": i, "type": model.layers[i].type, "n": model.tensors[model.layers[i].output].n,
             "activity": round(float(a / steps), 4)} for i, a in zip(spikes, tot)]


def run(board_name: str = "mps2-an386", per_class: int | None = 10, port: str | None = None,
        plot: str | None = "scnn_confusion.png", progress: bool = True) -> dict:
    from ... import boards as boards_mod
    from ..board import connect, progress as progress_bar
    from ...model_fit import Need, capacity_of_board, fit as fit_of
    from ...runtime import HostModel

    board = boards_mod.get(board_name)
    info = meta()
    t0 = time.monotonic()
    split = event_digits(steps=info["steps"], seed=info["seed"])
    model, rep = convert(split, "q15")
    fmodel, _ = convert(split, "none")
    blob = model.to_bytes()
    idx = pick(split.y_test, per_class)
    X, y = split.X_test[idx], split.y_test[idx]
    rows = [x.reshape(len(x), -1).astype(np.uint8) for x in X]

    # a step of the SCNN is ~10^5..10^6 instructions: an emulator on a loaded host needs more than
    # the link's default answer time (a real nRF52840 at 64 MHz takes milliseconds)
    link = connect(board, port, timeout=LINK_TIMEOUT)
    dev, port, fw = link.dev, link.port, link.firmware
    load = dev.load_model(blob)
    host = HostModel(blob, backend="kernels")
    hostf = HostModel(fmodel, backend="kernels")
    c_dev, c_host, c_float, exact, deltas = [], [], [], [], []
    kind = None
    try:
        with progress_bar("event samples on the device", len(X), progress) as advance:
            for r in rows:
                res = dev.infer(r)
                kind = res.counter_kind
                out_host = host.run(r)[0][-1]
                c_dev.append(np.asarray(res.output, np.int64))
                c_host.append(out_host.astype(np.int64))
                c_float.append(hostf.run(r)[0][-1].astype(np.int64))
                exact.append(bool(np.array_equal(res.output, out_host)))
                deltas.append(res.counter_delta)
                advance()
    finally:
        dev.close()
    c_dev, c_host, c_float = map(np.array, (c_dev, c_host, c_float))
    c_sinabs = sinabs_counts(X)
    pred = {k: np.argmax(v, 1) for k, v in (("device", c_dev), ("host", c_host), ("float", c_float))
            if v is not None}
    steps = int(info["steps"])
    instr, how = instructions_from_counter(int(np.median(deltas)), kind or "", board)
    fit = {}
    for bn in ("nrf52840dk", board.name):
        try:
            fit[bn] = fit_of(Need.of(blob, model), capacity_of_board(boards_mod.get(bn)))
        except Exception as e:          # noqa: BLE001 - the report says why
            fit[bn] = {"error": str(e)}
    cm = confusion(y, pred["device"], 10)
    result = {
        "dataset": info["dataset"], "board": board.name, "core": board.core, "samples": int(len(X)),
        "sample": f"{steps} time steps x 2 polarities x {SENSOR} x {SENSOR} events",
        "accuracy_device": float(np.mean(pred["device"] == y)),
        "accuracy_host_q15": float(np.mean(pred["host"] == y)),
        "accuracy_host_float32": float(np.mean(pred["float"] == y)),
        "accuracy_sinabs_float32": None if c_sinabs is None else float(np.mean(np.argmax(c_sinabs, 1) == y)),
        "sinabs_counts_equal_float32": None if c_sinabs is None else float(np.mean(np.all(c_sinabs == c_float, 1))),
        "agreement": float(np.mean(pred["device"] == pred["host"])),
        "bit_exact": float(np.mean(exact)),
        "instructions_per_sample": instr, "instructions_per_step": None if instr is None else instr / steps,
        "instructions_source": how, "counter_kind": kind, "counter_per_sample_median": int(np.median(deltas)),
        "ms_per_sample_at_64mhz": None if instr is None else round(instr / NRF52_HZ * 1e3, 3),
        "input_activity": float(X.mean()),
        "activity": layer_activity(model, X[: min(len(X), 20)]),
        "model": {"blob_bytes": len(blob), "arena_bytes": int(load.arena_used), "hash": f"{load.model_hash:08x}",
                  "input_bytes_per_step": int(model.input_tensor.nbytes)},
        "firmware": {"elf": str(fw.elf), "flash_used": fw.flash_used, "ram_used": fw.ram_used},
        "fits": fit, "confusion_matrix": cm.tolist(), "classes": CLASSES,
        "training": {"accuracy_test_float_sinabs_all": info.get("accuracy_test_float_sinabs"),
                     "test_samples": info.get("test_samples")},
        "seconds": round(time.monotonic() - t0, 1), "port": port, "started_board": link.started,
        "calibration": f"{CALIB_SAMPLES} training samples",
        "q15_warnings": list(rep.get("warnings") or []),
    }
    if plot:
        plot_confusion(cm, CLASSES, Path(plot), f"SCNN on {board.name} ({board.core}): "
                       f"{result['accuracy_device']:.1%} of {len(X)} held-out event samples", truth="true digit")
        result["confusion_png"] = str(Path(plot).resolve())
    return result
