"""`edgehost demo har`: the committed L2MU on a board (the emulated mps2-an386 by default), fed
the held-out HAPT test windows, each output checked against the host simulation of the same blob.

Steps: load the committed model (host/edgehost/demos/har/model/) -> make the blob -> build the
firmware and flash (start) the board -> load the blob over the link -> INFER every window on the
device and in the host interpreter (the C kernels via cffi) -> compare the 6 readout values bit for
bit and the classes -> accuracy, agreement, confusion matrix (text and PNG), instructions per
window, memory.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .cellio import load_cell
from .data import hapt_split

MODEL_DIR = Path(__file__).parent / "model"
NRF52_HZ = 64e6  # nRF52840 core clock, for the time a window takes there


def load_model(model_dir: Path = MODEL_DIR):
    meta = json.loads((model_dir / "l2mu_hapt.json").read_text())
    return meta, load_cell(model_dir / "l2mu_hapt_f32.npz"), load_cell(model_dir / "l2mu_hapt_q15.npz")


def pick_windows(y: np.ndarray, per_class: int | None, seed: int = 0) -> np.ndarray:
    """All windows (per_class None) or the same number per class, deterministic."""
    if per_class is None:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    idx = [rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)]
    return np.sort(np.concatenate(idx))


def instructions_from_counter(delta: int, kind: str, board) -> tuple[float | None, str]:
    """Instructions a counter delta stands for, and how that was derived."""
    if kind in ("instructions", "minstret"):
        return float(delta), "exact (instruction counter)"
    tick_hz = board.counter.emulated_tick_hz if board.emulated else None
    if kind == "systick-ticks" and tick_hz:
        per_tick = 1e9 / tick_hz  # -icount shift=0: one instruction per virtual ns
        return delta * per_tick, f"SysTick ticks x {per_tick:g} (QEMU -icount shift=0: 1 instruction per ns)"
    if kind == "systick-ticks":
        return None, (f"SysTick ticks: the rate of {board.name}'s SysTick under the emulator is not "
                      "established (board.json counter.emulated_tick_hz), so no instruction count")
    return None, f"counter '{kind}' does not count instructions"


def confusion(y_true, y_pred, n: int) -> np.ndarray:
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def plot_confusion(m: np.ndarray, names, path: Path, title: str, truth: str = "true activity") -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, str(m[i, j]), ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=9)
    short = [n.replace("walking_", "walk ").replace("_", " ") for n in names]
    ax.set_xticks(range(len(names)), short, rotation=35, ha="right")
    ax.set_yticks(range(len(names)), short)
    ax.set_xlabel("predicted on the device")
    ax.set_ylabel(truth)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def run(board_name: str = "mps2-an386", per_class: int | None = 100, port: str | None = None,
        plot: str | None = "har_confusion.png", progress: bool = True, log=print) -> dict:
    from ... import boards as boards_mod
    from ...convert.l2mu import quantize_input
    from ...convert.l2mu_layer import l2mu_blob
    from ...kernels import l2mu_run_f32
    from ...runtime import HostModel
    from ..board import connect, progress as progress_bar

    board = boards_mod.get(board_name)
    meta, cell_f, cell_q = load_model()
    split = hapt_split()
    test_raw = split.test_raw
    idx = pick_windows(test_raw.y, per_class)
    X, y = test_raw.X[idx], test_raw.y[idx]
    names = list(meta["classes"])
    input_scale = float(meta["input_scale"])
    # The device takes raw samples as int16 counts (x * input_scale, like an IMU's registers);
    # the normalisation is folded into the cell's first layer.
    blob = l2mu_blob(cell_q, input_scale, output_scale=1.0 / meta["calibration"]["scales"]["o"], input="q15")

    t0 = time.monotonic()
    link = connect(board, port)
    dev, port, fw = link.dev, link.port, link.firmware
    load = dev.load_model(blob)
    host = HostModel(blob, backend="kernels")
    pred_dev, pred_host, pred_float, exact, deltas = [], [], [], [], []
    kind = None
    try:
        with progress_bar("HAR windows on the device", len(X), progress) as advance:
            for k in range(len(X)):
                xq = quantize_input(X[k], input_scale)
                res = dev.infer(xq)
                kind = res.counter_kind
                out_dev = res.output                          # int16 (q15) array, decoded with the blob's tensors
                out_host = host.run(xq)[0][-1]
                exact.append(bool(np.array_equal(out_dev, out_host)))
                pred_dev.append(int(np.argmax(out_dev)))
                pred_host.append(int(np.argmax(out_host)))
                pred_float.append(int(np.argmax(l2mu_run_f32(cell_f, X[k].astype(np.float32))[1][-1])))
                deltas.append(res.counter_delta)
                advance()
    finally:
        dev.close()
    pred_dev, pred_host, pred_float = map(np.array, (pred_dev, pred_host, pred_float))
    instr, how = instructions_from_counter(int(np.median(deltas)), kind or "", board)
    cm = confusion(y, pred_dev, len(names))
    from .spikes import spike_rates
    rates = spike_rates(cell_q, X, input_scale)         # the same windows, Q15 on the host
    result = {
        "dataset": meta["dataset"], "board": board.name, "core": board.core,
        "windows": int(len(X)), "window": f"{meta['steps']} steps x {meta['channels']} channels at 20 Hz (2 s)",
        "accuracy_host": float(np.mean(pred_host == y)),
        "accuracy_host_float": float(np.mean(pred_float == y)),
        "accuracy_device": float(np.mean(pred_dev == y)),
        "agreement": float(np.mean(pred_dev == pred_host)),
        "bit_exact": float(np.mean(exact)),
        "instructions_per_window": instr, "instructions_source": how,
        "counter_kind": kind, "counter_per_window_median": int(np.median(deltas)),
        "ms_per_window_at_64mhz": None if instr is None else round(instr / NRF52_HZ * 1e3, 3),
        "flash_bytes": len(blob), "ram_bytes": int(load.arena_used),
        "model": {"blob_bytes": len(blob), "arena_bytes": int(load.arena_used), "hash": f"{load.model_hash:08x}"},
        "firmware": {"elf": str(fw.elf), "flash_used": fw.flash_used, "ram_used": fw.ram_used},
        "confusion_matrix": cm.tolist(), "classes": names,
        "spike_rates": rates,
        "full_test_set": {"windows": int(len(test_raw.y)), "accuracy_q15": meta.get("accuracy_test_q15"),
                          "accuracy_float": meta.get("accuracy_test_float_torch")},
        "seconds": round(time.monotonic() - t0, 1), "port": port,
        "started_board": link.started,
    }
    if plot:
        plot_confusion(cm, names, Path(plot), f"L2MU on {board.name} ({board.core}): "
                       f"{result['accuracy_device']:.1%} of {len(X)} held-out windows")
        result["confusion_png"] = str(Path(plot).resolve())
    return result
