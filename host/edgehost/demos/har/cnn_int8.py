"""The int8 1-D CNN of issue 20 ("edgehost runs the peer's model at the peer's cost"): the plain
CNN that users would run with TFLite Micro + CMSIS-NN, trained, quantised and run by edgehost.

Model (PyTorch, `CNN`): a 2-s window [40 steps][6 channels] normalised with the training
statistics (per channel (x - mean) / std; zero padding is the mean) -> Conv1d 6->16 taps 5 stride 2 padding 2 (40 -> 20 positions), ReLU -> Conv1d 16->32
taps 3 stride 2 padding 1 (20 -> 10), ReLU -> flatten position-major ([time][channel], TFLite's
NHWC order: 10 x 32 = 320 features) -> Linear 320->6. 26,880 MACs per window (9,600 + 15,360 +
1,920, padded taps included as CMSIS-NN counts them), 4,166 parameters.

Training (`edgehost.train.baselines.train`: Adam, cosine schedule, fixed epochs, seed 0, one
thread; no model selection on held-out data).

Quantisation (edgehost's own, `quantize`; TFLite's int8 scheme): weights per output channel,
symmetric (scale max|w| / 127, zero point 0); biases int32 on the accumulator's scale
(s_x s_w[o]); activations per tensor, asymmetric (scale (hi - lo) / 255, zero point -128 - lo /
scale rounded; after ReLU lo = 0, so the ReLU is the clamp at the zero point); requantisation
multipliers and shifts as TFLite's QuantizeMultiplier. The activation ranges [lo, hi] come from
training windows only: the `p`-th and (100 - p)-th percentiles of each tensor (p = 100: TFLite's
min/max). p is chosen on a validation split of the *training subjects* (`choose_percentile`: 20 %
of them held out, a model trained on the other 80 %, the p of the best validation accuracy among
CANDIDATES); the shipped model is then trained on every training subject with the same recipe and
calibrated at that p on the training windows. The held-out test windows are used only to report.

On the device (a blob of format 1.6, `blob`): raw f32 samples in -> input_f32 (the per-channel
normalisation, (x - offset) x (1 / scale) in float32) -> input_s8 -> conv1d_s8 -> conv1d_s8 -> fc_s8 (int8 logits out; the class is their argmax).
`int8_logits` computes the same integers for a batch with numpy (the blob's arithmetic,
checked bit for bit against the host interpreter by tests/test_har_cnn_int8.py).

`python -m edgehost.demos.har.cnn_int8 --train` retrains and writes
host/edgehost/demos/har/model/baselines/cnn_int8.npz; without --train it reports the committed
model on the held-out windows.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from .data import STEPS, hapt_split

MODEL_DIR = Path(__file__).parent / "model" / "baselines"
NAME = "cnn_int8"
CHANNELS = 6
CLASSES = 6
CONVS = ((16, 5, 2, 2), (32, 3, 2, 1))          # (out channels, taps, stride, pad) per layer
EPOCHS = 30
LR = 3e-3
CANDIDATES = (100.0, 99.999, 99.99, 99.9, 99.5, 99.0)
VAL_FRACTION = 0.2
VAL_SEED = 1


def conv_lengths(steps: int = STEPS) -> list[int]:
    """Positions after each conv layer (symmetric padding): 40 -> 20 -> 10."""
    out, t = [], steps
    for _, taps, stride, pad in CONVS:
        t = (t + 2 * pad - taps) // stride + 1
        out.append(t)
    return out


def macs(steps: int = STEPS) -> int:
    """Multiply-accumulates per window (every tap, padded ones included, as CMSIS-NN's count)."""
    n, cin = 0, CHANNELS
    for (cout, taps, _, _), t in zip(CONVS, conv_lengths(steps)):
        n += t * cout * taps * cin
        cin = cout
    return n + conv_lengths(steps)[-1] * cin * CLASSES


# ------------------------------------------------------------------------------- the float model
def make_model():
    import torch
    from torch import nn

    class CNN(nn.Module):
        """x [batch, steps, channels] (normalised) -> logits; flatten in [time][channel] order."""

        def __init__(self):
            super().__init__()
            layers, cin = [], CHANNELS
            for cout, taps, stride, pad in CONVS:
                layers.append(nn.Conv1d(cin, cout, taps, stride=stride, padding=pad))
                cin = cout
            self.convs = nn.ModuleList(layers)
            self.fc = nn.Linear(cin * conv_lengths()[-1], CLASSES)

        def forward(self, x, record: bool = False):
            h = x.transpose(1, 2)
            acts = [x]
            for conv in self.convs:
                h = torch.relu(conv(h))
                acts.append(h.transpose(1, 2))
            y = self.fc(h.transpose(1, 2).reshape(h.shape[0], -1))
            acts.append(y)
            return (y, acts) if record else y

    return CNN()


def float_params(model) -> dict:
    """The float model as arrays: conv weights as [out][taps][in] (the kernel's layout), the dense
    layer's columns in [time][channel] order."""
    f = lambda t: t.detach().cpu().numpy().astype(np.float32)  # noqa: E731
    out = {}
    for i, conv in enumerate(model.convs):
        out[f"c{i}.w"] = f(conv.weight).transpose(0, 2, 1).copy()
        out[f"c{i}.b"] = f(conv.bias)
    out["fc.w"], out["fc.b"] = f(model.fc.weight), f(model.fc.bias)
    return out


def float_forward(fp: dict, Xn: np.ndarray, record: bool = False):
    """The float model in numpy (float64) on normalised windows [N, steps, channels]: logits
    [N, classes] (and the activations: input, after each conv + ReLU, logits)."""
    h = np.asarray(Xn, np.float64)
    acts = [h]
    for i, (_, taps, stride, pad) in enumerate(CONVS):
        w, b = fp[f"c{i}.w"].astype(np.float64), fp[f"c{i}.b"].astype(np.float64)
        n, t_in, cin = h.shape
        t_out = (t_in + 2 * pad - taps) // stride + 1
        hp = np.zeros((n, t_in + 2 * pad, cin))
        hp[:, pad:pad + t_in] = h
        y = np.zeros((n, t_out, w.shape[0])) + b
        for k in range(taps):
            y += hp[:, k:k + (t_out - 1) * stride + 1:stride] @ w[:, k, :].T
        h = np.maximum(y, 0)
        acts.append(h)
    y = h.reshape(h.shape[0], -1) @ fp["fc.w"].astype(np.float64).T + fp["fc.b"]
    acts.append(y)
    return (y, acts) if record else y


def train_float(Xn: np.ndarray, y: np.ndarray, epochs: int = EPOCHS, seed: int = 0, log=print):
    import torch

    from ...train import baselines as tb
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = make_model()
    hist = tb.train(model, Xn, y, epochs, lr=LR, seed=seed, name=NAME, log=log)
    model.eval()
    return model, hist


# ---------------------------------------------------------------------------------- quantiser
def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier (edgehost.convert.tflite_import): real = mult 2^(shift - 31)."""
    from ...convert.tflite_import import quantize_multiplier as qm
    return qm(real)


def act_quant(lo: float, hi: float) -> tuple[float, int]:
    """(scale, zero point) of an int8 tensor covering [lo, hi] (widened to hold 0), TFLite's way:
    scale = (hi - lo) / 255, zero point = round(-128 - lo / scale) within [-128, 127]."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-9:
        hi = lo + 1e-3
    scale = (hi - lo) / 255.0
    zp = int(np.clip(round(-128 - lo / scale), -128, 127))
    return float(np.float32(scale)), zp


def ranges(fp: dict, Xn_calib: np.ndarray, percentile: float) -> list[tuple[float, float]]:
    """[lo, hi] of the input, each conv output (after ReLU) and the logits on calibration windows:
    the (100 - p)-th and p-th percentiles (p = 100: min/max)."""
    _, acts = float_forward(fp, Xn_calib, record=True)
    return [(float(np.percentile(a, 100.0 - percentile)), float(np.percentile(a, percentile))) for a in acts]


def quantize(fp: dict, rng_: list[tuple[float, float]]) -> dict:
    """The int8 model (arrays the blob layers take) from the float parameters and activation ranges."""
    q = {}
    scales = [act_quant(lo, hi) for lo, hi in rng_]
    q["in.scale"], q["in.zp"] = np.float32(scales[0][0]), np.int32(scales[0][1])
    names = [f"c{i}" for i in range(len(CONVS))] + ["fc"]
    for i, name in enumerate(names):
        s_x, z_x = scales[i]
        s_y, z_y = scales[i + 1]
        w = fp[f"{name}.w"].astype(np.float64)
        wmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        s_w = np.where(wmax > 0, wmax / 127.0, 1.0)
        wq = np.clip(np.round(w / s_w.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127).astype(np.int8)
        bq = np.clip(np.round(fp[f"{name}.b"].astype(np.float64) / (s_x * s_w)), -(2**31), 2**31 - 1).astype(np.int32)
        ms = [quantize_multiplier(s_x * sw / s_y) for sw in s_w]
        q[f"{name}.w"], q[f"{name}.b"] = wq, bq
        q[f"{name}.mult"] = np.array([m for m, _ in ms], np.int32)
        q[f"{name}.shift"] = np.array([s for _, s in ms], np.int32)
        relu = name != "fc"
        # x_offset, y_offset, act_min, act_max (after ReLU the zero point is the clamp's floor)
        q[f"{name}.quant"] = np.array([-z_x, z_y, max(z_y, -128) if relu else -128, 127], np.int32)
        q[f"{name}.scale_out"] = np.float32(s_y)
    return q


def input_norm(norm_offset, norm_scale) -> tuple[np.ndarray, np.ndarray]:
    """input_f32's per-channel offset and multiplier (float32): (x - offset) * (1 / scale)."""
    off = np.asarray(norm_offset, np.float32)
    return off, (np.float32(1.0) / np.asarray(norm_scale, np.float32)).astype(np.float32)


def normalize(norm_offset, norm_scale, X_raw: np.ndarray) -> np.ndarray:
    """Raw windows normalised exactly as the blob's input_f32 layer does (float32)."""
    off, mul = input_norm(norm_offset, norm_scale)
    return ((np.asarray(X_raw, np.float32) - off).astype(np.float32) * mul).astype(np.float32)


def int8_logits(q: dict, norm_offset, norm_scale, X_raw: np.ndarray) -> np.ndarray:
    """The blob's integers for a batch of raw windows [N, steps, channels] (numpy, vectorised):
    input_f32, input_s8, the conv1d_s8 layers, fc_s8."""
    from ...ops.convert import quantize_s8
    from ...sim.basic import requantize_s32
    xn = normalize(norm_offset, norm_scale, X_raw)
    h = quantize_s8(xn, float(q["in.scale"]), int(q["in.zp"])).astype(np.int64)      # [N, T, C]
    for i, (_, taps, stride, pad) in enumerate(CONVS):
        x_off, y_off, lo, hi = (int(v) for v in q[f"c{i}.quant"])
        w = q[f"c{i}.w"].astype(np.int64)
        n, t_in, cin = h.shape
        t_out = (t_in + 2 * pad - taps) // stride + 1
        hp = np.zeros((n, t_in + 2 * pad, cin), np.int64)           # padded taps contribute 0
        hp[:, pad:pad + t_in] = h + x_off
        acc = np.zeros((n, t_out, w.shape[0]), np.int64) + q[f"c{i}.b"].astype(np.int64)
        for k in range(taps):
            acc += hp[:, k:k + (t_out - 1) * stride + 1:stride] @ w[:, k, :].T
        acc = np.clip(acc, -(2**31), 2**31 - 1)
        r = requantize_s32(acc, q[f"c{i}.mult"].astype(np.int64), q[f"c{i}.shift"].astype(np.int64))
        h = np.clip(np.clip(r + y_off, -128, 127), lo, hi)
    x_off, y_off, lo, hi = (int(v) for v in q["fc.quant"])
    flat = h.reshape(h.shape[0], -1) + x_off
    acc = np.clip(flat @ q["fc.w"].astype(np.int64).T + q["fc.b"].astype(np.int64), -(2**31), 2**31 - 1)
    r = requantize_s32(acc, q["fc.mult"].astype(np.int64), q["fc.shift"].astype(np.int64))
    return np.clip(np.clip(r + y_off, -128, 127), lo, hi).astype(np.int8)


# ---------------------------------------------------------------------------------------- blob
def model(q: dict, norm_offset, norm_scale, reuse: bool = True):
    """The blob Model: f32 [steps x channels] raw samples in (position-major: the window's rows one
    after the other), s8 [classes] logits out."""
    from ...blob import Layer, Model, Tensor
    from ...convert.planner import plan
    n = STEPS * CHANNELS
    off, mul = input_norm(norm_offset, norm_scale)
    t = [Tensor("f32", (n,)), Tensor("f32", (n,)), Tensor("s8", (n,), scale=float(q["in.scale"]))]
    layers = [Layer("input_f32", 0, 1, n, n, [off, mul]),
              Layer("input_s8", 1, 2, n, n, [np.array([int(q["in.zp"])], np.int32)])]
    cin, t_in, cur = CHANNELS, STEPS, 2
    for i, ((cout, taps, stride, pad), t_out) in enumerate(zip(CONVS, conv_lengths())):
        t.append(Tensor("s8", (t_out * cout,), scale=float(q[f"c{i}.scale_out"])))
        x_off, y_off, lo, hi = (int(v) for v in q[f"c{i}.quant"])
        conv = np.array([cin, cout, taps, stride, pad, x_off, y_off, lo, hi], np.int32)
        rq = np.concatenate([q[f"c{i}.mult"], q[f"c{i}.shift"]]).astype(np.int32)
        layers.append(Layer("conv1d_s8", cur, len(t) - 1, t_in * cin, t_out * cout,
                            [conv, q[f"c{i}.w"].reshape(-1), q[f"c{i}.b"], rq]))
        cin, t_in, cur = cout, t_out, len(t) - 1
    t.append(Tensor("s8", (CLASSES,), scale=float(q["fc.scale_out"])))
    rq = np.concatenate([q["fc.mult"], q["fc.shift"]]).astype(np.int32)
    layers.append(Layer("fc_s8", cur, len(t) - 1, t_in * cin, CLASSES,
                        [q["fc.w"].reshape(CLASSES, -1), q["fc.b"], rq, q["fc.quant"].astype(np.int32)]))
    m = Model(layers, t, 0, len(t) - 1, 0)
    plan(m, reuse=reuse)
    return m


def blob(q: dict, norm_offset, norm_scale) -> bytes:
    return model(q, norm_offset, norm_scale).to_bytes()


def window_input(X_raw_window: np.ndarray) -> np.ndarray:
    """One raw window [steps, channels] as the blob's single input row (f32 [1, steps x channels])."""
    return np.asarray(X_raw_window, np.float32).reshape(1, -1)


# ------------------------------------------------------------------------------------ storage
def save(path: Path, fp: dict, q: dict, norm, meta: dict, torch_pred: np.ndarray) -> None:
    arrays = {f"float.{k}": v for k, v in fp.items()}
    arrays.update({f"q.{k}": np.asarray(v) for k, v in q.items()})
    arrays.update({"norm.offset": np.asarray(norm[0], np.float32), "norm.scale": np.asarray(norm[1], np.float32),
                   "torch_pred": torch_pred.astype(np.int8)})
    np.savez_compressed(path, **arrays, meta=np.array(json.dumps(meta)))


def load(path: Path | None = None) -> dict:
    """{'float': dict, 'q': dict, 'norm': (offset, scale), 'torch_pred': array, 'meta': dict}."""
    path = Path(path) if path is not None else MODEL_DIR / f"{NAME}.npz"
    if not path.exists():
        raise FileNotFoundError(f"no int8 CNN model {path}; run `python -m edgehost.demos.har.cnn_int8 --train`")
    with np.load(path, allow_pickle=False) as z:
        fp = {k[6:]: z[k] for k in z.files if k.startswith("float.")}
        q = {k[2:]: z[k] for k in z.files if k.startswith("q.")}
        return {"float": fp, "q": q, "norm": (z["norm.offset"], z["norm.scale"]), "torch_pred": z["torch_pred"],
                "meta": json.loads(str(z["meta"]))}


def param_bytes(q: dict) -> int:
    """Bytes of the int8 weights, int32 biases and int32 requantisation multipliers and shifts."""
    return int(sum(np.asarray(v).nbytes for k, v in q.items() if k.endswith((".w", ".b", ".mult", ".shift"))))


# ----------------------------------------------------------------------------------- training
def choose_percentile(split, epochs: int = EPOCHS, seed: int = 0, log=print) -> dict:
    """The calibration percentile, chosen on a validation split of the training subjects only: a
    model trained on the other training subjects, calibrated on their windows at each candidate,
    scored on the validation subjects' windows; ties go to the larger percentile."""
    from ...data import select_subjects, split_subjects
    raw = split.train_raw
    fit_ids, val_ids = split_subjects(raw.subjects, test_fraction=VAL_FRACTION, seed=VAL_SEED)
    fit, val = select_subjects(raw, fit_ids), select_subjects(raw, val_ids)
    fitn = normalize(*split.norm, fit.X)
    model, _ = train_float(fitn, fit.y, epochs, seed, log=None)
    fp = float_params(model)
    acc_float = float(np.mean(float_forward(fp, normalize(*split.norm, val.X)).argmax(1) == val.y))
    scores = {}
    for p in CANDIDATES:
        q = quantize(fp, ranges(fp, fitn, p))
        scores[p] = float(np.mean(int8_logits(q, *split.norm, val.X).argmax(1) == val.y))
        if log:
            log(f"{NAME}: calibration percentile {p}: validation accuracy {scores[p]:.4f} (float {acc_float:.4f})")
    best = max(CANDIDATES, key=lambda p: (scores[p], p))
    return {"percentile": best, "validation_accuracy": {str(k): v for k, v in scores.items()},
            "validation_accuracy_float": acc_float, "fit_subjects": fit_ids.tolist(), "val_subjects": val_ids.tolist(),
            "fit_windows": int(len(fit.y)), "val_windows": int(len(val.y))}


def train_and_export(out_dir: Path = MODEL_DIR, epochs: int = EPOCHS, seed: int = 0, log=print) -> dict:
    t0 = time.time()
    split = hapt_split()
    trn, tst = split.train_raw, split.test_raw
    calib = choose_percentile(split, epochs, seed, log)
    t1 = time.time()
    trn_n, tst_n = normalize(*split.norm, trn.X), normalize(*split.norm, tst.X)
    model, hist = train_float(trn_n, trn.y, epochs, seed, log=log)
    train_seconds = time.time() - t1
    fp = float_params(model)
    from ...train.baselines import predict
    torch_pred = predict(model, tst_n)
    q = quantize(fp, ranges(fp, trn_n, calib["percentile"]))
    q_minmax = quantize(fp, ranges(fp, trn_n, 100.0))
    meta = {"name": NAME, "dataset": split.dataset, "classes": list(split.class_names),
            "convs": [list(c) for c in CONVS], "steps": STEPS, "channels": CHANNELS,
            "epochs": epochs, "lr": LR, "seed": seed, "history": hist, "train_seconds": round(train_seconds, 1),
            "total_seconds": round(time.time() - t0, 1), "calibration": calib,
            "train_windows": int(len(trn.y)), "test_windows": int(len(tst.y)), "macs": macs(),
            "accuracy_test_torch": float(np.mean(torch_pred == tst.y)),
            "accuracy_test_float": float(np.mean(float_forward(fp, tst_n).argmax(1) == tst.y)),
            "accuracy_test_int8": float(np.mean(int8_logits(q, *split.norm, tst.X).argmax(1) == tst.y)),
            "accuracy_test_int8_minmax": float(np.mean(int8_logits(q_minmax, *split.norm, tst.X).argmax(1) == tst.y))}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save(out_dir / f"{NAME}.npz", fp, q, split.norm, meta, torch_pred)
    if log:
        log(f"{NAME}: test accuracy torch {meta['accuracy_test_torch']:.4f}, float {meta['accuracy_test_float']:.4f}, "
            f"int8 {meta['accuracy_test_int8']:.4f} (p = {calib['percentile']}; min/max "
            f"{meta['accuracy_test_int8_minmax']:.4f}); {meta['train_seconds']} s training")
    return meta


def report(per_class: int | None = None) -> dict:
    """The committed model on the held-out windows: float, int8 (numpy) and the blob on the host's
    C kernels (HostModel), with sizes."""
    from ...blob import read
    from ...runtime import HostModel
    from .demo import pick_windows
    m = load()
    split = hapt_split()
    idx = pick_windows(split.test_raw.y, per_class)
    X, y = split.test_raw.X[idx], split.test_raw.y[idx]
    b = blob(m["q"], *m["norm"])
    hm = HostModel(b, backend="kernels")
    pred_blob = np.array([int(np.argmax(hm.run(window_input(x))[0][-1])) for x in X])
    pred_np = int8_logits(m["q"], *m["norm"], X).argmax(1)
    pred_f = float_forward(m["float"], normalize(*m["norm"], X)).argmax(1)
    return {"windows": int(len(y)), "accuracy_float": float(np.mean(pred_f == y)),
            "accuracy_int8": float(np.mean(pred_np == y)), "accuracy_blob_host": float(np.mean(pred_blob == y)),
            "blob_equals_numpy": float(np.mean(pred_blob == pred_np)), "blob_bytes": len(b),
            "arena_bytes": int(read(b).arena_size), "param_bytes": param_bytes(m["q"]), "macs": macs(),
            "meta": {k: v for k, v in m["meta"].items() if k != "history"}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", action="store_true", help="retrain and export the model")
    ap.add_argument("--out", default=str(MODEL_DIR))
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-class", type=int, help="report on this many held-out windows per activity (default: all)")
    a = ap.parse_args(argv)
    if a.train:
        train_and_export(Path(a.out), a.epochs, a.seed)
        return 0
    print(json.dumps(report(a.per_class), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
