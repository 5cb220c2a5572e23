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
    from .spikes import spike_rates
    from .windows_on_device import report, run_windows

    board = boards_mod.get(board_name)
    meta, cell_f, cell_q = load_model()
    split = hapt_split()
    test_raw = split.test_raw
    idx = pick_windows(test_raw.y, per_class)
    X, y = test_raw.X[idx], test_raw.y[idx]
    input_scale = float(meta["input_scale"])
    # The device takes raw samples as int16 counts (x * input_scale, like an IMU's registers);
    # the normalisation is folded into the cell's first layer.
    blob = l2mu_blob(cell_q, input_scale, output_scale=1.0 / meta["calibration"]["scales"]["o"], input="q15")
    run_ = run_windows(board, port, blob, [quantize_input(x, input_scale) for x in X], "HAR windows on the device",
                       progress)
    pred_float = np.array([int(np.argmax(l2mu_run_f32(cell_f, x.astype(np.float32))[1][-1])) for x in X])
    return report(board, run_, y, pred_float, list(meta["classes"]), blob,
                  f"{meta['steps']} steps x {meta['channels']} channels at 20 Hz (2 s)", plot, "L2MU",
                  dataset=meta["dataset"],
                  spike_rates=spike_rates(cell_q, X, input_scale),        # the same windows, Q15 on the host
                  full_test_set={"windows": int(len(test_raw.y)), "accuracy_q15": meta.get("accuracy_test_q15"),
                                 "accuracy_float": meta.get("accuracy_test_float_torch")})
