"""What every `edgehost demo har --model X` does with its blob: one INFER per held-out window on the
board, the same window through the host interpreter on the C kernels, and the common report
(accuracy device / host / float, device = host agreement and bit-exactness, instructions per
window, blob and arena bytes, firmware size, confusion matrix and its image). Each model's module
(demo.py, cnn_demo.py, baseline_demo.py) supplies the blob, the per-window inputs and its own
extra fields."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .demo import NRF52_HZ, confusion, instructions_from_counter, plot_confusion


def run_windows(board, port, blob: bytes, inputs, label: str, progress: bool) -> dict:
    """INFER each of `inputs` (the device input of one window each) on the board and run it on the
    host interpreter; per window: both classes (argmax, first on ties), bit-exactness, counter."""
    from ...runtime import HostModel
    from ..board import connect, progress as progress_bar

    t0 = time.monotonic()
    link = connect(board, port)
    dev = link.dev
    load = dev.load_model(blob)
    host = HostModel(blob, backend="kernels")
    pred_dev, pred_host, exact, deltas = [], [], [], []
    kind = None
    try:
        with progress_bar(label, len(inputs), progress) as advance:
            for xw in inputs:
                res = dev.infer(xw)
                kind = res.counter_kind
                out_dev = np.asarray(res.output).ravel()
                out_host = np.asarray(host.run(xw)[0][-1]).ravel()
                exact.append(bool(np.array_equal(out_dev, out_host)))
                pred_dev.append(int(np.argmax(out_dev)))
                pred_host.append(int(np.argmax(out_host)))
                deltas.append(res.counter_delta)
                advance()
    finally:
        dev.close()
    return {"pred_dev": np.array(pred_dev), "pred_host": np.array(pred_host), "exact": exact, "deltas": deltas,
            "kind": kind, "load": load, "link": link, "t0": t0}


def report(board, run: dict, y: np.ndarray, pred_float: np.ndarray, names: list, blob: bytes, window: str,
           plot: str | None, title: str, **extra) -> dict:
    """The common result dict of a HAR device run (`extra` fields first), with the confusion image."""
    pred_dev, pred_host, deltas, load, link = run["pred_dev"], run["pred_host"], run["deltas"], run["load"], run["link"]
    instr, how = instructions_from_counter(int(np.median(deltas)), run["kind"] or "", board)
    cm = confusion(y, pred_dev, len(names))
    fw = link.firmware
    result = {
        **extra,
        "board": board.name, "core": board.core, "windows": int(len(y)), "window": window,
        "accuracy_host": float(np.mean(pred_host == y)),
        "accuracy_host_float": float(np.mean(pred_float == y)),
        "accuracy_device": float(np.mean(pred_dev == y)),
        "agreement": float(np.mean(pred_dev == pred_host)),
        "bit_exact": float(np.mean(run["exact"])),
        "instructions_per_window": instr, "instructions_source": how,
        "counter_kind": run["kind"], "counter_per_window_median": int(np.median(deltas)),
        "counter_per_window_range": [int(np.min(deltas)), int(np.max(deltas))],
        "ms_per_window_at_64mhz": None if instr is None else round(instr / NRF52_HZ * 1e3, 3),
        "flash_bytes": len(blob), "ram_bytes": int(load.arena_used),
        "model": {"blob_bytes": len(blob), "arena_bytes": int(load.arena_used), "hash": f"{load.model_hash:08x}"},
        "firmware": {"elf": str(fw.elf), "flash_used": fw.flash_used, "ram_used": fw.ram_used},
        "confusion_matrix": cm.tolist(), "classes": list(names),
        "seconds": round(time.monotonic() - run["t0"], 1), "port": link.port,
        "started_board": link.started,
    }
    if plot:
        plot_confusion(cm, names, Path(plot), f"{title} on {board.name} ({board.core}): "
                       f"{result['accuracy_device']:.1%} of {len(y)} held-out windows")
        result["confusion_png"] = str(Path(plot).resolve())
    return result
