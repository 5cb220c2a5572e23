"""`edgehost demo har --model bcnn|shiftadd|lmu-f32`: a HAR baseline (baselines.py) as a model blob
(baseline_blobs.py) on a board, fed held-out HAPT windows, each output checked bit for bit against
the host interpreter running the same blob on the C kernels. The same report as the L2MU and int8
CNN demos: accuracy on the device, the host and the float (torch) model, device = host agreement
and bit-exactness, instructions per window (the whole INFER of one window), blob and arena bytes,
confusion matrix. One INFER per window: the blob takes the 2-s window as one row ([time][channel]:
int16 counts x 4096 for the binary and shift-add CNNs, raw f32 samples for the LMU) and gives 6
logits; the class is their argmax (first on ties).
"""
from __future__ import annotations

import numpy as np

from . import baseline_blobs as BB
from . import baselines as B
from .data import hapt_split
from .demo import pick_windows

DESCRIPTIONS = {
    "bcnn_b1": ("binary", "binary 1-D CNN (thermometer 16 levels x 6 channels -> conv 96->64 k5 s2, 64->64 k3 s2, "
                          "64->128 k3, +-1 weights and activations, dense 1280->6 with float scale; thermometer_b1, "
                          "conv1d_b1_seq_bits, fc_b1_f32)"),
    "shiftadd": ("Q15 shift-add", "shift-add 1-D CNN (power-of-two weights: conv 6->16 k5 s2, 16->32 k3 s2, ReLU, "
                                  "dense 320->6; shiftnorm_q15, shiftadd_conv1d_q15, relu_q15, shiftadd_fc_q15)"),
    "lmu_f32": ("float32", "float LMU (8 memory channels, order 6, theta 20 steps, 64 hidden, tanh; 40 steps; "
                           "input_f32, lmu_f32, fc_f32)"),
}


def run(board_name: str = "mps2-an386", per_class: int | None = 100, port: str | None = None,
        plot: str | None = "har_confusion.png", progress: bool = True, log=print, model: str = "bcnn") -> dict:
    from ... import boards as boards_mod
    from .windows_on_device import report, run_windows

    name = BB.NAMES.get(model, model)
    board = boards_mod.get(board_name)
    m = B.load_model(name)
    meta = m["meta"]
    split = hapt_split()
    test_raw = split.test_raw
    idx = pick_windows(test_raw.y, per_class)
    X, y = test_raw.X[idx], test_raw.y[idx]
    blob = BB.model(name, m).to_bytes()
    pred_float = np.asarray(m["torch_pred"], np.int64)[idx]
    run_ = run_windows(board, port, blob, [BB.window_input(name, x) for x in X],
                       f"HAR windows on the device ({name})", progress)
    fmt, desc = DESCRIPTIONS[name]
    in_bytes = int(BB.window_input(name, X[0]).nbytes)
    return report(board, run_, y, pred_float, list(split.class_names), blob, "40 steps x 6 channels at 20 Hz (2 s)",
                  plot, name,
                  model_name={"bcnn_b1": "bcnn", "shiftadd": "shiftadd", "lmu_f32": "lmu-f32"}[name],
                  number_format=fmt, model_description=desc, dataset=split.dataset,
                  input_bytes=in_bytes, ram_with_input_bytes=int(run_["load"].arena_used) + in_bytes,
                  param_bytes=B.param_bytes(m),
                  full_test_set={"windows": int(len(test_raw.y)), "accuracy_kernels": meta.get("accuracy_test_kernels"),
                                 "accuracy_torch": meta.get("accuracy_test_torch")})
