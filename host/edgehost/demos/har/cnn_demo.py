"""`edgehost demo har --model cnn-int8`: the int8 1-D CNN (cnn_int8.py) on a board, fed the
held-out HAPT windows, each output checked bit for bit against the host interpreter running the
same blob on the C kernels. The same report as the L2MU demo (demo.py): accuracy on the device,
the host and the float model, device = host agreement and bit-exactness, instructions per window
(the whole INFER of one window: input quantisation, both convolutions, the dense layer), blob and
arena bytes, confusion matrix. One INFER per window: the blob takes the 2-s window as one row of
240 raw f32 samples ([time][channel]) and gives the 6 int8 logits; the class is their argmax
(first on ties, numpy's and the C kernels' rule).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import cnn_int8 as C
from .data import hapt_split
from .demo import NRF52_HZ, confusion, instructions_from_counter, pick_windows, plot_confusion


def run(board_name: str = "mps2-an386", per_class: int | None = 100, port: str | None = None,
        plot: str | None = "har_confusion.png", progress: bool = True, log=print) -> dict:
    from ... import boards as boards_mod
    from ...runtime import HostModel
    from ..board import connect, progress as progress_bar

    board = boards_mod.get(board_name)
    m = C.load()
    meta = m["meta"]
    split = hapt_split()
    test_raw = split.test_raw
    idx = pick_windows(test_raw.y, per_class)
    X, y = test_raw.X[idx], test_raw.y[idx]
    names = list(meta["classes"])
    blob = C.blob(m["q"], *m["norm"])
    pred_float = C.float_forward(m["float"], C.normalize(*m["norm"], X)).argmax(1)

    t0 = time.monotonic()
    link = connect(board, port)
    dev, port, fw = link.dev, link.port, link.firmware
    load = dev.load_model(blob)
    host = HostModel(blob, backend="kernels")
    pred_dev, pred_host, exact, deltas = [], [], [], []
    kind = None
    try:
        with progress_bar("HAR windows on the device (int8 CNN)", len(X), progress) as advance:
            for k in range(len(X)):
                xw = C.window_input(X[k])
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
    pred_dev, pred_host = np.array(pred_dev), np.array(pred_host)
    instr, how = instructions_from_counter(int(np.median(deltas)), kind or "", board)
    cm = confusion(y, pred_dev, len(names))
    result = {
        "model_name": "cnn-int8", "number_format": "int8",
        "model_description": "int8 1-D CNN (conv 6->16 k5 s2, conv 16->32 k3 s2, ReLU, dense 320->6; conv1d_s8, fc_s8)",
        "dataset": meta["dataset"], "board": board.name, "core": board.core,
        "windows": int(len(X)), "window": f"{meta['steps']} steps x {meta['channels']} channels at 20 Hz (2 s)",
        "accuracy_host": float(np.mean(pred_host == y)),
        "accuracy_host_float": float(np.mean(pred_float == y)),
        "accuracy_device": float(np.mean(pred_dev == y)),
        "agreement": float(np.mean(pred_dev == pred_host)),
        "bit_exact": float(np.mean(exact)),
        "instructions_per_window": instr, "instructions_source": how,
        "counter_kind": kind, "counter_per_window_median": int(np.median(deltas)),
        "counter_per_window_range": [int(np.min(deltas)), int(np.max(deltas))],
        "ms_per_window_at_64mhz": None if instr is None else round(instr / NRF52_HZ * 1e3, 3),
        "flash_bytes": len(blob), "ram_bytes": int(load.arena_used),
        "param_bytes": C.param_bytes(m["q"]), "macs_per_window": C.macs(),
        "model": {"blob_bytes": len(blob), "arena_bytes": int(load.arena_used), "hash": f"{load.model_hash:08x}"},
        "firmware": {"elf": str(fw.elf), "flash_used": fw.flash_used, "ram_used": fw.ram_used},
        "confusion_matrix": cm.tolist(), "classes": names,
        "full_test_set": {"windows": int(len(test_raw.y)), "accuracy_int8": meta.get("accuracy_test_int8"),
                          "accuracy_float": meta.get("accuracy_test_float"),
                          "calibration_percentile": meta["calibration"]["percentile"]},
        "seconds": round(time.monotonic() - t0, 1), "port": port,
        "started_board": link.started,
    }
    if plot:
        plot_confusion(cm, names, Path(plot), f"int8 CNN on {board.name} ({board.core}): "
                       f"{result['accuracy_device']:.1%} of {len(X)} held-out windows")
        result["confusion_png"] = str(Path(plot).resolve())
    return result
