"""Train the demo's L2MU on HAPT and export it (`edgehost demo har --train`, or
`python -m edgehost.demos.har.train`). Needs the `train` extra (torch, snntorch).

Writes into host/edgehost/demos/har/model/ (committed, so the demo needs no training):
  l2mu_hapt_f32.npz   float32 cell (edgehost.sim.l2mu_*_f32), normalisation folded into layer 1
  l2mu_hapt_q15.npz   Q15 cell, scales calibrated on training windows
  l2mu_hapt.json      configuration, normalisation, scales, training history and accuracies
Model selection uses no test data: fixed epochs, and the Q15 calibration sees training windows only.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .cellio import save_cell
from .data import hapt_split

MODEL_DIR = Path(__file__).parent / "model"
CALIB_PERCENTILE = 99.99
CALIB_HEADROOM = 1.1
INPUT_SCALE = 4096.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(MODEL_DIR))
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)

    import torch

    from ...convert.l2mu import cell_f32, cell_q15, quantize_input
    from ...kernels import l2mu_run_q15
    from ...train.l2mu import L2MU, L2MUConfig, accuracy, train

    torch.manual_seed(a.seed)
    split = hapt_split()
    trn, test = split.train, split.test
    cfg = L2MUConfig()
    model = L2MU(cfg)
    t0 = time.time()
    hist = train(model, trn.X, trn.y, epochs=a.epochs, seed=a.seed, lr=3e-3, progress=not a.no_progress,
                 log=None if not a.no_progress else print)
    model.eval()
    acc_float = accuracy(model, test.X, test.y)
    cf = cell_f32(model, split.norm)
    cq, rep = cell_q15(model, trn.X[::5], split.norm, input_scale=INPUT_SCALE,
                       headroom=CALIB_HEADROOM, percentile=CALIB_PERCENTILE)
    pred_q = np.array([int(np.argmax(l2mu_run_q15(cq, quantize_input(x, INPUT_SCALE))[1][-1]))
                       for x in split.test_raw.X])
    acc_q15 = float(np.mean(pred_q == test.y))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    save_cell(out / "l2mu_hapt_f32.npz", cf)
    save_cell(out / "l2mu_hapt_q15.npz", cq)
    meta = {
        "dataset": split.dataset, "classes": list(split.class_names), "config": model.config(),
        "steps": int(trn.X.shape[1]), "channels": int(trn.X.shape[2]),
        "normalization": {"offset": split.norm.offset.tolist(), "scale": split.norm.scale.tolist()},
        "input_scale": INPUT_SCALE, "calibration": {"percentile": CALIB_PERCENTILE, "headroom": CALIB_HEADROOM,
                                                    **{k: v for k, v in rep.items() if k != "input_scale"}},
        "epochs": a.epochs, "seed": a.seed, "train_seconds": round(time.time() - t0, 1),
        "history": hist, "accuracy_test_float_torch": acc_float, "accuracy_test_q15": acc_q15,
        "train_windows": int(len(trn.X)), "test_windows": int(len(test.X)),
    }
    (out / "l2mu_hapt.json").write_text(json.dumps(meta, indent=1, default=float))
    print(f"test accuracy: float {acc_float:.4f}, q15 {acc_q15:.4f}; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
