"""Where each HAR model wins when it runs on a stream (issue #20 part 3).

A device reading an IMU at 20 Hz can decide every sample or every second. The two kinds of model
pay differently for that:

- the windowed models (the int8 CNN, and the L2MU run the way it was trained: reset, 40 samples,
  read) keep the last 2 s of samples in a window buffer and run a whole window per decision:
  instructions per second = decisions per second x one INFER;
- an L2MU can also run **continuously**: one STEP per sample, never reset, its readout read at
  any sample for free: instructions per second = 20 x one STEP, whatever the decision rate, and
  no window buffer. The demo's L2MU was trained on windows from a zero state and does poorly run
  this way; `l2mu_stream` (train_stream.py: the same network trained on long stretches of the
  recordings) is made for it.

Accuracy is measured on the held-out subjects' whole recordings (the same subjects as the
demo's test windows): a decision at sample t is scored when the 40 samples up to t carry one
activity label (the test windows' rule). "Every 1 s" scores the decisions at the ends of the
demo's test windows (stride 20 samples, 3,973 of them); "every sample" scores every sample
where such a window ends. The continuous L2MU reads its readout at those same samples, having
stepped through the whole recording from its start without a reset (its state carries across
activities and unlabelled stretches, as it would on a device).

Accuracy comes from the host's C kernels, which are bit-exact with the device (the demos check
it window by window); instruction counts come from the device (`--board`, default the emulated
Cortex-M4F mps2-an386): the median counter of INFERs of test windows and of STEPs along
stretches of the held-out recordings, every STEP's output compared with the host's.

    edgehost demo har --streaming [--board mps2-an386] [--json]
    python -m edgehost.demos.har.streaming [--board mps2-an386] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ...data import HAPT_6, load_hapt_pickle, make_windows, resample_recording, split_subjects
from .data import RATE_HZ, SEED, STEPS, STRIDE, TEST_FRACTION

# Measured outside the project (issue #20): Arm's CMSIS-NN int8 kernels, the same CNN shape, the
# same split, a QEMU instruction counter; no interpreter. Cited, not reproduced here.
CMSIS_NN = {"name": "int8 CNN on CMSIS-NN (measured outside the project, issue #20)",
            "instructions_per_window": 96_887, "accuracy_1s": 0.9572, "ram_bytes": 840, "input_buffer_bytes": 480,
            "param_bytes": 4_152}


def held_out_recordings(seed: int = SEED) -> list:
    """The held-out subjects' recordings at 20 Hz, each as (signals [N, 6] float32, class per sample
    (-1 unlabelled or outside the 6 activities)); the subjects are hapt_split's test subjects."""
    recs = [resample_recording(r, RATE_HZ) for r in load_hapt_pickle()]
    ws = make_windows(recs, HAPT_6, length=STEPS, stride=STRIDE)
    _, te = split_subjects(ws.subjects, test_fraction=TEST_FRACTION, seed=seed)
    lut = {lab: i for i, lab in enumerate(HAPT_6.labels)}
    out = []
    for rec in recs:
        if rec.subject not in set(te.tolist()) or rec.n_samples < STEPS:
            continue
        cls = np.full(rec.n_samples, -1, dtype=np.int64)
        for lab, s0, s1 in rec.segments:
            if int(lab) in lut:
                cls[s0:s1] = lut[int(lab)]
        out.append((np.asarray(rec.signals, dtype=np.float32), cls))
    return out


def decision_points(cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(every-sample ends, every-1-s ends): the samples t at which the STEPS samples up to t carry
    one label; the 1-s ones are those on the demo's window grid (starts 0, STRIDE, 2 STRIDE, ...)."""
    n = cls.size
    if n < STEPS:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ends = np.arange(STEPS - 1, n)
    win = cls[ends[:, None] - np.arange(STEPS)[None, ::-1]]
    pure = np.all(win == win[:, :1], axis=1) & (win[:, 0] >= 0)
    every = ends[pure]
    grid = every[(every - (STEPS - 1)) % STRIDE == 0]
    return every, grid


def _windows(x: np.ndarray, ends: np.ndarray) -> np.ndarray:
    return x[ends[:, None] - np.arange(STEPS)[None, ::-1]]


def l2mu_blob_of(meta, cell_q) -> bytes:
    from ...convert.l2mu_layer import l2mu_blob
    return l2mu_blob(cell_q, float(meta["input_scale"]), output_scale=1.0 / meta["calibration"]["scales"]["o"],
                     input="q15")


def load_l2mu(prefix: str = "l2mu_hapt", model_dir=None):
    """(meta, Q15 cell) of a committed L2MU: the demo's (l2mu_hapt) or the continuous one
    (l2mu_stream, train_stream.py)."""
    from .cellio import load_cell
    from .demo import MODEL_DIR
    d = Path(model_dir) if model_dir is not None else MODEL_DIR
    return json.loads((d / f"{prefix}.json").read_text()), load_cell(d / f"{prefix}_q15.npz")


STREAM = "l2mu_stream"     # the L2MU trained for continuous operation (train_stream.py)


def accuracies(recordings=None, log=print, prefix: str = "l2mu_hapt", model_dir=None,
               stream_prefix: str | None = STREAM) -> dict:
    """Host accuracy (the blobs on the C kernels, as on the device) at a decision every sample
    ("_every") and every 1 s ("_1s"): the demo's L2MU (`prefix`) windowed ("l2mu_win") and run
    continuously ("l2mu_cont"), the L2MU trained for continuous operation (`stream_prefix`, when
    committed) run continuously ("stream_cont"), and the int8 CNN ("cnn")."""
    from ...convert.l2mu import quantize_input
    from ...runtime import HostModel
    from . import cnn_int8 as C
    recordings = held_out_recordings() if recordings is None else recordings
    meta, cell_q = load_l2mu(prefix, model_dir)
    hosts = {"l2mu": (HostModel(l2mu_blob_of(meta, cell_q), backend="kernels"), float(meta["input_scale"]))}
    if stream_prefix is not None and has_model(stream_prefix, model_dir):
        ms, cs = load_l2mu(stream_prefix, model_dir)
        hosts["stream"] = (HostModel(l2mu_blob_of(ms, cs), backend="kernels"), float(ms["input_scale"]))
    cnn = C.load()
    hits: dict = {}

    def add(key, pred, truth, on_grid):
        for k, sel in ((f"{key}_every", slice(None)), (f"{key}_1s", on_grid)):
            h = hits.setdefault(k, [0, 0])
            h[0] += int(np.sum(pred[sel] == truth[sel]))
            h[1] += int(truth[sel].size)

    t0 = time.monotonic()
    for i, (x, cls) in enumerate(recordings):
        every, grid = decision_points(cls)
        if every.size == 0:
            continue
        on_grid = np.isin(every, grid)
        truth = cls[every]
        for name, (host, scale) in hosts.items():
            xq = quantize_input(x, scale)
            # continuous: one pass over the whole recording from a fresh state, never reset
            host.reset()
            out = np.stack([host.step(r) for r in xq])
            add(f"{name}_cont", out[every].argmax(1), truth, on_grid)
            if name != "l2mu":
                continue
            # windowed (one instance per open window): reset, the 40 samples up to t, the readout
            pw = np.empty(every.size, np.int64)
            for k, w in enumerate(_windows(xq, every)):
                host.reset()
                for r in w:
                    o = host.step(r)
                pw[k] = int(np.argmax(o))
            add("l2mu_win", pw, truth, on_grid)
        # int8 CNN over the window ending at t
        add("cnn", C.int8_logits(cnn["q"], *cnn["norm"], _windows(x, every)).argmax(1), truth, on_grid)
        if log:
            log(f"  recording {i + 1}/{len(recordings)}: {every.size} decisions, {time.monotonic() - t0:.0f} s")
    return {k: {"accuracy": h[0] / h[1] if h[1] else None, "decisions": h[1]} for k, h in hits.items()}


def has_model(prefix: str, model_dir=None) -> bool:
    from .demo import MODEL_DIR
    return (Path(model_dir) if model_dir is not None else MODEL_DIR).joinpath(f"{prefix}_q15.npz").exists()


def _step_costs(dev, blob: bytes, stretches, board) -> dict:
    """Median instructions of one STEP over the stretches (each from a reset state, then never
    reset), each output compared with the host interpreter's."""
    from ...runtime import HostModel
    from .demo import instructions_from_counter
    load = dev.load_model(blob)
    host = HostModel(blob, backend="kernels")
    deltas, exact, kind = [], 0, ""
    for xq in stretches:
        dev.reset_state()
        host.reset()
        for row in xq:
            r = dev.step(row)
            kind = r.counter_kind
            deltas.append(r.counter_delta)
            exact += bool(np.array_equal(r.output, host.step(row)))
    step_i, how = instructions_from_counter(int(np.median(deltas)), kind, board)
    return {"step_instructions": step_i, "steps_bit_exact": exact / len(deltas), "steps": len(deltas),
            "blob_bytes": len(blob), "arena_bytes": int(load.arena_used), "source": how, "kind": kind}


def device_costs(board_name: str = "mps2-an386", port: str | None = None, n: int = 300, per_class: int = 10,
                 log=print, stream_prefix: str | None = STREAM) -> dict:
    """Instructions on the board: the median of one STEP of each L2MU (n continuous steps spread
    over the held-out recordings, each output compared with the host's), and the median INFER of
    one window of the demo's L2MU and of the int8 CNN (per_class test windows per activity); with
    the blobs' bytes and arenas."""
    from ... import boards as boards_mod
    from ...convert.l2mu import quantize_input
    from . import cnn_int8 as C
    from .data import hapt_split
    from .demo import instructions_from_counter, pick_windows
    from ..board import connect

    board = boards_mod.get(board_name)
    meta, cell_q = load_l2mu()
    scale = float(meta["input_scale"])
    l2mu = l2mu_blob_of(meta, cell_q)
    cnn = C.load()
    cnn_blob = C.blob(cnn["q"], *cnn["norm"])
    recs = held_out_recordings()
    per = max(1, n // len(recs))          # one continuous stretch from the middle of each recording
    stretches = [quantize_input(x[len(x) // 2: len(x) // 2 + per], scale) for x, _ in recs]
    test = hapt_split().test_raw
    idx = pick_windows(test.y, per_class)
    link = connect(board, port)
    dev = link.dev
    res = {"board": board.name, "core": board.core,
           "firmware": {"flash_used": link.firmware.flash_used, "ram_used": link.firmware.ram_used}}
    try:
        res["l2mu"] = _step_costs(dev, l2mu, stretches, board)
        win = [dev.infer(quantize_input(test.X[k], scale)).counter_delta for k in idx]
        res["l2mu"].update(window_instructions=instructions_from_counter(int(np.median(win)), res["l2mu"]["kind"], board)[0],
                           windows=len(idx))
        if stream_prefix is not None and has_model(stream_prefix):
            ms, cs = load_l2mu(stream_prefix)
            sq = [quantize_input(x[len(x) // 2: len(x) // 2 + per], float(ms["input_scale"])) for x, _ in recs]
            res["stream"] = _step_costs(dev, l2mu_blob_of(ms, cs), sq, board)
        load = dev.load_model(cnn_blob)
        win = [dev.infer(C.window_input(test.X[k])).counter_delta for k in idx]
        res["cnn_int8"] = {"window_instructions": instructions_from_counter(int(np.median(win)), res["l2mu"]["kind"], board)[0],
                           "windows": len(idx), "blob_bytes": len(cnn_blob), "arena_bytes": int(load.arena_used)}
    finally:
        dev.close()
    return res


def table(acc: dict, cost: dict) -> list[dict]:
    """One row per (model, decision rate): accuracy, instructions per second, RAM.

    RAM = the model's arena (which holds its input tensor) + the input buffering the decision
    rate needs: a windowed model keeps a ring of the last 40 raw int16 samples (480 B) to run a
    window at each decision; the continuous L2MU keeps nothing but the sample it is stepping."""
    rate = RATE_HZ
    l2, cn = cost["l2mu"], cost["cnn_int8"]
    ring = STEPS * 6 * 2       # 40 samples x 6 channels of int16 counts
    rows = []

    def row(model, when, a, ips, ram, buf, note=""):
        rows.append({"model": model, "decision": when, "accuracy": a, "instructions_per_s": ips,
                     "ram_bytes": ram + buf, "arena_bytes": ram, "input_buffer_bytes": buf, "note": note})

    for when, k, per in (("every sample", "every", rate), ("every 1 s", "1s", 1.0)):
        row("L2MU, windowed (reset, 40 steps, read)", when, acc[f"l2mu_win_{k}"]["accuracy"],
            per * l2["window_instructions"], l2["arena_bytes"], ring, "one INFER of 40 steps per decision")
        row("L2MU, windowed model run continuously", when, acc[f"l2mu_cont_{k}"]["accuracy"],
            rate * l2["step_instructions"], l2["arena_bytes"], 0, "one STEP per sample, read at will")
        if "stream" in cost and f"stream_cont_{k}" in acc:
            st = cost["stream"]
            row("L2MU trained for streaming (never reset)", when, acc[f"stream_cont_{k}"]["accuracy"],
                rate * st["step_instructions"], st["arena_bytes"], 0, "one STEP per sample, read at will")
        row("int8 CNN (edgehost conv1d_s8, fc_s8)", when, acc[f"cnn_{k}"]["accuracy"],
            per * cn["window_instructions"], cn["arena_bytes"], ring, "one INFER per decision")
        c = CMSIS_NN
        row("int8 CNN on CMSIS-NN (measured outside, issue #20)", when, c["accuracy_1s"] if k == "1s" else None,
            per * c["instructions_per_window"], c["ram_bytes"], c["input_buffer_bytes"], "cited; no interpreter")
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| model | decision | accuracy | instructions / s | % of a 64 MHz core | RAM: arena + input ring |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        a = "-" if r["accuracy"] is None else f"{100 * r['accuracy']:.2f}%"
        ips = r["instructions_per_s"]
        lines.append(f"| {r['model']} | {r['decision']} | {a} | {ips:,.0f} | {100 * ips / 64e6:.2f}% | "
                     f"{r['ram_bytes']:,} B ({r['arena_bytes']:,} + {r['input_buffer_bytes']:,}) |")
    return "\n".join(lines)


def report(board_name: str = "mps2-an386", port: str | None = None, log=print) -> dict:
    """The whole comparison: device costs, host accuracies, the table's rows."""
    cost = device_costs(board_name, port, log=log)
    acc = accuracies(log=log)
    return {"rate_hz": RATE_HZ, "window_steps": STEPS, "costs": cost, "accuracy": acc, "rows": table(acc, cost)}


def format_report(res: dict) -> str:
    c = res["costs"]
    exact = ", ".join(f"{k} {100 * c[k]['steps_bit_exact']:.0f}% of {c[k]['steps']}" for k in ("l2mu", "stream") if k in c)
    return (markdown(res["rows"]) + f"\n\n(board {c['board']}, {c['core']}; STEP outputs bit-exact with the host: "
            f"{exact}; accuracy: {res['accuracy']['cnn_every']['decisions']:,} decisions every sample, "
            f"{res['accuracy']['cnn_1s']['decisions']:,} every 1 s, held-out subjects)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m edgehost.demos.har.streaming", description=__doc__.split("\n\n")[0])
    p.add_argument("--board", default="mps2-an386")
    p.add_argument("--port")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    log = (lambda *_: None) if a.json else (lambda s: print(s, file=sys.stderr))
    res = report(a.board, a.port, log=log)
    print(json.dumps(res) if a.json else format_report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
