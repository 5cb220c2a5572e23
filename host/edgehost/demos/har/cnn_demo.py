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

from . import cnn_int8 as C
from .data import hapt_split
from .demo import pick_windows


def run(board_name: str = "mps2-an386", per_class: int | None = 100, port: str | None = None,
        plot: str | None = "har_confusion.png", progress: bool = True, log=print) -> dict:
    from ... import boards as boards_mod
    from .windows_on_device import report, run_windows

    board = boards_mod.get(board_name)
    m = C.load()
    meta = m["meta"]
    split = hapt_split()
    test_raw = split.test_raw
    idx = pick_windows(test_raw.y, per_class)
    X, y = test_raw.X[idx], test_raw.y[idx]
    blob = C.blob(m["q"], *m["norm"])
    pred_float = C.float_forward(m["float"], C.normalize(*m["norm"], X)).argmax(1)
    run_ = run_windows(board, port, blob, [C.window_input(x) for x in X], "HAR windows on the device (int8 CNN)",
                       progress)
    return report(board, run_, y, pred_float, list(meta["classes"]), blob,
                  f"{meta['steps']} steps x {meta['channels']} channels at 20 Hz (2 s)", plot, "int8 CNN",
                  model_name="cnn-int8", number_format="int8",
                  model_description="int8 1-D CNN (conv 6->16 k5 s2, conv 16->32 k3 s2, ReLU, dense 320->6; "
                                    "conv1d_s8, fc_s8)",
                  dataset=meta["dataset"], param_bytes=C.param_bytes(m["q"]), macs_per_window=C.macs(),
                  full_test_set={"windows": int(len(test_raw.y)), "accuracy_int8": meta.get("accuracy_test_int8"),
                                 "accuracy_float": meta.get("accuracy_test_float"),
                                 "calibration_percentile": meta["calibration"]["percentile"]})
