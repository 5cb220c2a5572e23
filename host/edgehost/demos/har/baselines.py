"""Baselines for the HAR demo on the same subject-wise split and windows as the L2MU
(demos/har/data.py): a float LMU, a binary (XNOR) 1-D CNN and a shift-add (power-of-two weight)
1-D CNN, each run by this project's C kernels through cffi (or their numpy twins in
edgehost.sim: same function names, same bits).

  lmu_f32     eh_lmu_step_f32 (act TANH) per step, eh_fc_f32 readout, eh_argmax_f32
  bcnn_b1     thermometer code of the raw samples -> eh_pack_signs_b1 per frame ->
              eh_conv1d_b1_bits x 3 (batch norm + sign folded into integer thresholds) ->
              eh_fc_b1_f32 (per-class scale and bias) -> eh_argmax_f32
  shiftadd    raw counts minus offset, shifted (a power-of-two normalisation) ->
              eh_shiftadd_fc_q15 on im2col frames + eh_relu_q15 x 2 -> eh_shiftadd_fc_q15 ->
              eh_argmax_q15

The device-style input is the L2MU demo's: raw samples as int16 counts, x * 4096.

`python -m edgehost.demos.har.baselines --train` retrains all three (torch, one thread, a few
minutes) and writes host/edgehost/demos/har/model/baselines/; `edgehost demo har --baselines`
evaluates the committed files (see report()).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .data import STEPS, hapt_split

MODEL_DIR = Path(__file__).parent / "model" / "baselines"
INPUT_SCALE = 4096.0       # raw int16 counts per g / per rad/s, as the L2MU demo
THERMO_LEVELS = 16         # thermometer levels per channel (binary CNN input: 6 x 16 = 96 bits)
SA_F0 = 10                 # fractional bits of the shift-add CNN's normalised input
CALIB_PERCENTILE = 99.99
CALIB_HEADROOM = 1.1
MODELS = ("lmu_f32", "bcnn_b1", "shiftadd")

# Cortex-M4 instructions per unit, from docs/benchmarks.md (mps2-an386, `edgehost bench --board
# mps2-an386 ... --report docs/benchmarks.md`); tests/demos/test_har_baselines.py checks these
# against that file. Estimates for other shapes scale these per-unit figures.
M4_PER_UNIT = {
    "conv1d_b1": ("conv1d_b1", "c128t64o64k3", 0.86),       # per binary MAC
    "fc_b1": ("fc_b1", "256x64", 0.33),                     # per binary MAC
    "shiftadd_fc": ("shiftadd_fc", "256x64", 20.70),        # per shift-add
    "fc_q15": ("fc_q15", "256x64", 5.15),                   # per MAC
}
# lmu_f32 x6_u4_d8_h32: 20527 instructions per step, 2808 float MACs per step -> per MAC
M4_LMU_F32_STEP = ("lmu_f32", "x6_u4_d8_h32", 20527.0)
# the L2MU's HAR window (40 steps), measured: l2mu_q15_har, ch6x8_enc32_u8_d6_h64_o6_w40
M4_L2MU_WINDOW = ("l2mu_q15_har", "ch6x8_enc32_u8_d6_h64_o6_w40", 437793.0)
# The baselines as model blobs on the device (demos/har/baseline_blobs.py), measured: the whole
# INFER of one window (interpreter, input encoding, every layer), median of the 600 windows of
# `edgehost demo har --model X --board mps2-an386 --json` (SysTick x 40 under QEMU -icount
# shift=0); flash = the blob's bytes, RAM = the arena + the input row.
M4_MEASURED = {
    "lmu_f32": {"demo_model": "lmu-f32", "instructions": 2551120, "blob_bytes": 36456, "arena_bytes": 1920,
                "input_bytes": 960},
    "bcnn_b1": {"demo_model": "bcnn", "instructions": 1035400, "blob_bytes": 11328, "arena_bytes": 960,
                "input_bytes": 480},
    "shiftadd": {"demo_model": "shiftadd", "instructions": 562760, "blob_bytes": 4896, "arena_bytes": 1280,
                 "input_bytes": 480},
}


def lmu_step_macs(n_x: int, n_u: int, order: int, n_h: int) -> int:
    """Multiply-accumulates of one eh_lmu_step (u, m, h as in eh_lmu.h, every optional matrix)."""
    n_m = n_u * order
    return n_u * (n_x + n_h + n_m) + n_m * (order + 1) + n_h * (n_x + n_h + n_m)


M4_LMU_F32_PER_MAC = M4_LMU_F32_STEP[2] / lmu_step_macs(6, 4, 8, 32)


# ------------------------------------------------------------------------------- encodings
def raw_counts(X_raw: np.ndarray) -> np.ndarray:
    """Raw samples (g, rad/s) -> int16 counts (x * 4096, saturated), as the device takes them."""
    return np.clip(np.round(np.asarray(X_raw, np.float64) * INPUT_SCALE), -32768, 32767).astype(np.int16)


def thermometer_levels(R_train: np.ndarray, levels: int = THERMO_LEVELS) -> np.ndarray:
    """Per-channel thresholds [channels, levels] (int16 counts): the (j+1)/(levels+1) quantiles of
    the training windows."""
    flat = R_train.reshape(-1, R_train.shape[-1]).astype(np.float64)
    q = np.arange(1, levels + 1) / (levels + 1)
    return np.round(np.quantile(flat, q, axis=0).T).astype(np.int16)


def thermometer(R: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """int8 +-1 code [..., steps, channels * levels]: value c * L + j is +1 iff R[..., c] > level[c, j]."""
    R = np.asarray(R)
    if R.shape[-1] != levels.shape[0]:
        raise ValueError(f"{R.shape[-1]} channels for thresholds of {levels.shape[0]}")
    above = R.astype(np.int32)[..., :, None] > levels.astype(np.int32)
    return np.where(above, 1, -1).astype(np.int8).reshape(R.shape[:-1] + (-1,))


def pow2_norm(norm) -> tuple[np.ndarray, np.ndarray]:
    """Offsets in counts and per-channel shifts for x0 = (R - off) * 2^-shift ~= x_norm * 2^SA_F0:
    the training standard deviation rounded to a power of two, so no multiply is needed."""
    off = np.round(np.asarray(norm.offset, np.float64) * INPUT_SCALE).astype(np.int16)
    e = np.round(np.log2(np.asarray(norm.scale, np.float64))).astype(np.int64)
    sh = (int(np.log2(INPUT_SCALE)) + e - SA_F0).astype(np.int8)
    return off, sh


def pow2_normalize(R: np.ndarray, off: np.ndarray, sh: np.ndarray) -> np.ndarray:
    """int16 [..., steps, channels] at SA_F0 fractional bits: sat16(rshift(R - off, sh)) (round
    half up), or a left shift where sh < 0."""
    d = np.asarray(R).astype(np.int64) - off.astype(np.int64)
    sh = np.broadcast_to(sh.astype(np.int64), d.shape)
    right = (d + ((np.int64(1) << np.maximum(sh, 0)) >> 1)) >> np.maximum(sh, 0)
    left = d << np.maximum(-sh, 0)
    return np.clip(np.where(sh >= 0, right, left), -32768, 32767).astype(np.int16)


# --------------------------------------------------------------------------------- storage
def save_model(path: Path, arrays: dict, meta: dict) -> None:
    np.savez_compressed(path, **arrays, meta=np.array(json.dumps(meta)))


def load_model(name: str, model_dir: Path = MODEL_DIR) -> dict:
    """{'meta': dict, <array name>: array} of a committed baseline."""
    path = Path(model_dir) / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(f"no baseline model {path}; run `python -m edgehost.demos.har.baselines --train`")
    with np.load(path, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files if k != "meta"}
        out["meta"] = json.loads(str(z["meta"]))
    return out


def param_bytes(model: dict) -> int:
    """Bytes of every stored parameter array (as the device would hold them; the recorded test
    predictions and the metadata are not parameters)."""
    return int(sum(v.nbytes for k, v in model.items() if k not in ("meta", "torch_pred")))


# ------------------------------------------------------------------------------- pipelines
def lmu_logits(K, m: dict, Xn: np.ndarray) -> np.ndarray:
    """Float LMU on one normalised window [steps, channels]: K.lmu_step_f32 per step, K.fc_f32."""
    cfg = m["meta"]["config"]
    mem = np.zeros((cfg["memory"], cfg["order"]), np.float32)
    h = np.zeros(cfg["hidden"], np.float32)
    for t in range(Xn.shape[0]):
        mem, h = K.lmu_step_f32(Xn[t].astype(np.float32), mem, h, m["e_x"], m["a"], m["b"], m["w_m"],
                                e_h=m["e_h"], e_m=m["e_m"], w_x=m["w_x"], w_h=m["w_h"], b_h=m["b_h"],
                                act="tanh")
    return K.fc_f32(h, m["w_o"], m["b_o"])


def lmu_normalize(m: dict, X_raw: np.ndarray) -> np.ndarray:
    off, sc = m["offset"].astype(np.float32), m["scale"].astype(np.float32)
    return ((np.asarray(X_raw, np.float32) - off) / sc).astype(np.float32)


def bcnn_logits(K, m: dict, R: np.ndarray) -> np.ndarray:
    """Binary CNN on one window of raw counts [steps, channels] (int16)."""
    bits = thermometer(R, m["levels"])
    x = np.stack([K.pack_signs_b1(f) for f in bits])
    for i in range(int(m["n_conv"])):
        x = K.conv1d_b1_bits(int(m[f"c{i}.n_in"]), x, m[f"c{i}.w"], m[f"c{i}.thr"],
                             stride=int(m[f"c{i}.stride"]), pad=int(m[f"c{i}.pad"]))
    return K.fc_b1_f32(int(m["fc.n_in"]), x.reshape(-1), m["fc.w"], m["fc.scale"], m["fc.bias"])


def shiftadd_logits(K, m: dict, R: np.ndarray) -> np.ndarray:
    """Shift-add CNN on one window of raw counts [steps, channels] (int16): int16 logits."""
    h = pow2_normalize(R, m["off"], m["sh"])
    for i in range(int(m["n_conv"])):
        taps, stride, pad = (int(m[f"c{i}.{k}"]) for k in ("taps", "stride", "pad"))
        hp = np.concatenate([np.zeros((pad, h.shape[1]), np.int16), h, np.zeros((pad, h.shape[1]), np.int16)])
        t_out = (hp.shape[0] - taps) // stride + 1
        y = np.stack([K.shiftadd_fc_q15(hp[t * stride:t * stride + taps].reshape(-1), m[f"c{i}.w"],
                                        m[f"c{i}.b"], int(m[f"c{i}.shift"])) for t in range(t_out)])
        h = K.relu_q15(y.reshape(-1)).reshape(y.shape)
    return K.shiftadd_fc_q15(h.reshape(-1), m["fc.w"], m["fc.b"], int(m["fc.shift"]))


def predict(name: str, m: dict, X_raw: np.ndarray, K=None) -> np.ndarray:
    """Classes of raw windows [N, steps, channels] through the C kernels (K = edgehost.kernels,
    the default) or their numpy twins (K = edgehost.sim)."""
    if K is None:
        import edgehost.kernels as K
    if name == "lmu_f32":
        Xn = lmu_normalize(m, X_raw)
        return np.array([K.argmax_f32(lmu_logits(K, m, x)) for x in Xn])
    R = raw_counts(X_raw)
    if name == "bcnn_b1":
        return np.array([K.argmax_f32(bcnn_logits(K, m, r)) for r in R])
    if name == "shiftadd":
        return np.array([K.argmax_q15(shiftadd_logits(K, m, r)) for r in R])
    raise ValueError(f"unknown baseline {name!r}; known: {', '.join(MODELS)}")


# ------------------------------------------------------------------------------------ costs
def costs(name: str, m: dict) -> dict:
    """Per window: MACs, binary MACs, shift-adds, and a Cortex-M4 instruction estimate scaled
    from the per-unit figures of docs/benchmarks.md."""
    out = {"macs": 0, "binary_macs": 0, "shift_adds": 0, "instructions_m4_estimate": 0.0, "estimate_from": []}
    if name == "lmu_f32":
        c = m["meta"]["config"]
        step = lmu_step_macs(c["channels"], c["memory"], c["order"], c["hidden"])
        read = c["hidden"] * c["classes"]
        out["macs"] = STEPS * step + read
        out["instructions_m4_estimate"] = out["macs"] * M4_LMU_F32_PER_MAC
        out["estimate_from"] = [f"{M4_LMU_F32_STEP[0]} {M4_LMU_F32_STEP[1]}: "
                                f"{M4_LMU_F32_STEP[2]:.0f} per step / {lmu_step_macs(6, 4, 8, 32)} MACs "
                                f"= {M4_LMU_F32_PER_MAC:.2f} per float MAC (tanh included)"]
    elif name == "bcnn_b1":
        conv = 0
        for i in range(int(m["n_conv"])):
            w = m[f"c{i}.w"]
            n_out, taps = w.shape[0], w.shape[1]
            t_in = STEPS if i == 0 else t_out
            t_out = (t_in + 2 * int(m[f"c{i}.pad"]) - taps) // int(m[f"c{i}.stride"]) + 1
            conv += t_out * n_out * taps * int(m[f"c{i}.n_in"])
        fc = m["fc.w"].shape[0] * int(m["fc.n_in"])
        out["binary_macs"] = conv + fc
        out["instructions_m4_estimate"] = conv * M4_PER_UNIT["conv1d_b1"][2] + fc * M4_PER_UNIT["fc_b1"][2]
        out["estimate_from"] = [f"{k} {M4_PER_UNIT[k][1]}: {M4_PER_UNIT[k][2]} per binary MAC"
                                for k in ("conv1d_b1", "fc_b1")]
        out["not_counted"] = f"input thermometer code: {STEPS * m['levels'].size} comparisons"
    elif name == "shiftadd":
        n, slots, t = 0, 0, STEPS
        for i in range(int(m["n_conv"])):
            taps, stride, pad = (int(m[f"c{i}.{k}"]) for k in ("taps", "stride", "pad"))
            t = (t + 2 * pad - taps) // stride + 1
            n += t * int(np.count_nonzero(m[f"c{i}.w"] & 0x1F))
            slots += t * m[f"c{i}.w"].size
        n += int(np.count_nonzero(m["fc.w"] & 0x1F))
        slots += m["fc.w"].size
        out["shift_adds"] = n          # nonzero weights: the shifts and adds done
        out["weight_slots"] = slots    # the kernel's loop visits every weight, zero or not
        out["instructions_m4_estimate"] = slots * M4_PER_UNIT["shiftadd_fc"][2]
        out["estimate_from"] = [f"shiftadd_fc {M4_PER_UNIT['shiftadd_fc'][1]}: "
                                f"{M4_PER_UNIT['shiftadd_fc'][2]} per weight visited (that case: 1 in 8 "
                                "weights zero)"]
        out["not_counted"] = f"input normalisation: {STEPS * 6} subtract-and-shift"
    else:
        raise ValueError(f"unknown baseline {name!r}")
    return out


# --------------------------------------------------------------------------------- training
def _export_lmu(model, norm) -> dict:
    f = lambda t: t.detach().cpu().numpy().astype(np.float32)  # noqa: E731
    return {"e_x": f(model.e_x.weight), "e_h": f(model.e_h.weight), "e_m": f(model.e_m.weight),
            "a": f(model.A), "b": f(model.B), "w_x": f(model.w_x.weight), "w_h": f(model.w_h.weight),
            "w_m": f(model.w_m.weight), "b_h": f(model.w_x.bias), "w_o": f(model.out.weight),
            "b_o": f(model.out.bias), "offset": np.asarray(norm.offset, np.float32),
            "scale": np.asarray(norm.scale, np.float32)}


def _export_bcnn(model, levels: np.ndarray) -> dict:
    from ...sim.binary import fold_bn_sign, pack_bits
    out = {"levels": levels, "n_conv": np.array(len(model.convs))}
    cin = model.cfg.in_bits
    for i, (conv, bn) in enumerate(zip(model.convs, model.bns)):
        w = conv.weight.detach().numpy()                       # [out, in, taps]
        taps = w.shape[2]
        if cin % 32 or w.shape[0] % 32:
            raise ValueError("binary CNN channels must be multiples of 32 (packed frames flatten as is)")
        wp = pack_bits(np.where(w < 0, -1, 1).transpose(0, 2, 1))  # [out, taps, W]
        # dots of a conv layer span [-taps*K, taps*K]; with K a multiple of 32, folding with
        # n_in = taps*K clips thresholds to that range and flips whole words
        g = lambda t: t.detach().numpy().astype(np.float64)  # noqa: E731
        wf, thr = fold_bn_sign(wp, taps * cin, g(bn.weight), g(bn.bias), g(bn.running_mean),
                               g(bn.running_var), eps=bn.eps)
        out.update({f"c{i}.w": wf, f"c{i}.thr": thr, f"c{i}.n_in": np.array(cin),
                    f"c{i}.stride": np.array(conv.stride[0]), f"c{i}.pad": np.array((taps - 1) // 2)})
        cin = w.shape[0]
    fc = model.fc.detach().numpy()
    out.update({"fc.w": pack_bits(np.where(fc < 0, -1, 1)), "fc.n_in": np.array(fc.shape[1]),
                "fc.scale": model.scale.detach().numpy().astype(np.float32),
                "fc.bias": model.bias.detach().numpy().astype(np.float32)})
    return out


def _pow2_codes(w: np.ndarray, gain: int) -> np.ndarray:
    """uint8 power-of-two codes (eh_shiftadd.h) of w's forward-pass values, exponents + gain."""
    import torch

    from ...train.baselines import pow2_quantize
    q = pow2_quantize(torch.tensor(w, dtype=torch.float32)).numpy().astype(np.float64)
    nz = q != 0
    p = np.where(nz, np.round(np.log2(np.where(nz, np.abs(q), 1.0))), 0).astype(np.int64) + gain
    if np.any(nz & ((p < -15) | (p > 15))):
        raise ValueError("power-of-two exponent out of [-15, 15]")
    codes = np.where(nz, (p + 16) | np.where(q < 0, 0x80, 0), 0)
    return codes.astype(np.uint8)


def _export_shiftadd(model, X0_calib: np.ndarray, off: np.ndarray, sh: np.ndarray) -> tuple[dict, dict]:
    """Integer layers: input at F_in fractional bits, weights 2^(p + g), accumulator at F_in + g,
    output at F_out = F_in + g - shift, with F_out the most that fits the calibration peaks."""
    import torch

    from ...train.baselines import P_MAX
    with torch.no_grad():
        model.eval()
        _, pre = model(torch.tensor(X0_calib, dtype=torch.float32), record=True)
    peaks = [float(np.percentile(np.abs(p.numpy()), CALIB_PERCENTILE)) * CALIB_HEADROOM for p in pre]
    out = {"off": off, "sh": sh, "n_conv": np.array(len(model.convs))}
    layers = [(f"c{i}", c.weight.detach().numpy().transpose(0, 2, 1).reshape(c.weight.shape[0], -1),
               c.bias.detach().numpy()) for i, c in enumerate(model.convs)]
    layers.append(("fc", model.fc.weight.detach().numpy(), model.fc.bias.detach().numpy()))
    f_in, report = SA_F0, {}
    for (key, w, b), peak in zip(layers, peaks):
        f_out = int(np.floor(np.log2(32767.0 / max(peak, 1e-9))))
        gain = int(np.clip(f_out + 8 - f_in, 0, 15 - P_MAX))
        f_out = min(f_out, f_in + gain)
        shift = f_in + gain - f_out
        if not 0 <= shift <= 31:
            raise ValueError(f"{key}: shift {shift} out of [0, 31]")
        out[f"{key}.w"] = _pow2_codes(w, gain)
        out[f"{key}.b"] = np.round(b.astype(np.float64) * 2.0 ** (f_in + gain)).astype(np.int32)
        out[f"{key}.shift"] = np.array(shift)
        report[key] = {"f_in": f_in, "gain": gain, "shift": shift, "f_out": f_out, "peak": peak}
        f_in = f_out
    for i, c in enumerate(model.convs):
        taps = c.kernel_size[0]
        out.update({f"c{i}.taps": np.array(taps), f"c{i}.stride": np.array(c.stride[0]),
                    f"c{i}.pad": np.array((taps - 1) // 2)})
    return out, report


def train_all(out_dir: Path = MODEL_DIR, seed: int = 0, epochs: dict | None = None, log=print) -> dict:
    """Train and export the three baselines; returns the summary written to baselines.json."""
    import torch

    from ...train import baselines as tb
    torch.set_num_threads(1)
    ep = {"lmu_f32": 20, "bcnn_b1": 30, "shiftadd": 30, **(epochs or {})}
    split = hapt_split()
    trn, tst = split.train, split.test
    R_tr, R_te = raw_counts(split.train_raw.X), raw_counts(split.test_raw.X)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"dataset": split.dataset, "classes": list(split.class_names), "seed": seed,
               "train_windows": int(len(trn.y)), "test_windows": int(len(tst.y)), "models": {}}

    def finish(name, model, Xte, arrays, extra):
        pred = tb.predict(model, Xte)
        arrays["torch_pred"] = pred.astype(np.int8)
        meta = {"name": name, "config": tb.config_dict(model), "epochs": ep[name], "seed": seed,
                "history": hist, "train_seconds": round(time.time() - t0, 1),
                "accuracy_test_torch": float(np.mean(pred == tst.y)), **extra}
        save_model(out_dir / f"{name}.npz", arrays, meta)
        m = load_model(name, out_dir)
        kp = predict(name, m, split.test_raw.X)
        meta["accuracy_test_kernels"] = float(np.mean(kp == tst.y))
        meta["agreement_kernels_torch"] = float(np.mean(kp == pred))
        save_model(out_dir / f"{name}.npz", arrays, meta)
        summary["models"][name] = {k: meta[k] for k in ("accuracy_test_torch", "accuracy_test_kernels",
                                                         "agreement_kernels_torch", "train_seconds", "epochs")}
        log(f"{name}: torch {meta['accuracy_test_torch']:.4f}, kernels {meta['accuracy_test_kernels']:.4f}, "
            f"agreement {meta['agreement_kernels_torch']:.4f}, {param_bytes(m)} B, {meta['train_seconds']} s")

    # (a) float LMU on normalised windows
    torch.manual_seed(seed)
    t0 = time.time()
    model = tb.FloatLMU()
    hist = tb.train(model, trn.X, trn.y, ep["lmu_f32"], lr=3e-3, seed=seed, name="lmu_f32", log=log)
    finish("lmu_f32", model, tst.X, _export_lmu(model, split.norm), {})

    # (b) binary CNN on thermometer codes of the raw counts
    torch.manual_seed(seed)
    t0 = time.time()
    levels = thermometer_levels(R_tr)
    Btr, Bte = thermometer(R_tr, levels).astype(np.float32), thermometer(R_te, levels).astype(np.float32)
    model = tb.BinaryCNN(tb.BinaryCNNConfig(in_bits=levels.size))
    hist = tb.train(model, Btr, trn.y, ep["bcnn_b1"], lr=3e-3, seed=seed, name="bcnn_b1", log=log,
                    after_step=model.clip_latent)
    finish("bcnn_b1", model, Bte, _export_bcnn(model, levels), {"thermometer_levels": THERMO_LEVELS})

    # (c) shift-add CNN on power-of-two-normalised counts
    torch.manual_seed(seed)
    t0 = time.time()
    off, sh = pow2_norm(split.norm)
    X0tr = pow2_normalize(R_tr, off, sh).astype(np.float32) / 2.0 ** SA_F0
    X0te = pow2_normalize(R_te, off, sh).astype(np.float32) / 2.0 ** SA_F0
    model = tb.ShiftAddCNN()
    hist = tb.train(model, X0tr, trn.y, ep["shiftadd"], lr=3e-3, seed=seed, name="shiftadd", log=log)
    arrays, rep = _export_shiftadd(model, X0tr[::5], off, sh)
    finish("shiftadd", model, X0te, arrays, {"fixed_point": rep, "input_frac_bits": SA_F0})

    (out_dir / "baselines.json").write_text(json.dumps(summary, indent=1))
    return summary


# ----------------------------------------------------------------------------------- report
def report(per_class: int | None = None, K=None, sparsities=(0.25, 0.5, 0.75), progress=None) -> dict:
    """Every committed baseline and the L2MU (Q15, and pruned + fine-tuned) on the held-out windows
    (all of them, or `per_class` per activity chosen as `edgehost demo har` does), accuracy by the C
    kernels, parameter bytes, work per window and Cortex-M4 instructions (measured: the baselines
    as blobs on mps2-an386, whole INFER, M4_MEASURED; the L2MU's kernel alone; estimates kept)."""
    from . import prune
    from .demo import pick_windows
    if K is None:
        import edgehost.kernels as K
    split = hapt_split()
    idx = pick_windows(split.test_raw.y, per_class)
    X, y = split.test_raw.X[idx], split.test_raw.y[idx]
    rows = []
    for name in MODELS:
        m = load_model(name)
        t0 = time.monotonic()
        pred = predict(name, m, X, K)
        c = costs(name, m)
        torch_pred = m["torch_pred"][idx]
        rows.append({"model": name, "kind": m["meta"].get("kind", _KIND[name]), "accuracy": float(np.mean(pred == y)),
                     "accuracy_torch": float(np.mean(torch_pred == y)),
                     "agreement_with_torch": float(np.mean(pred == torch_pred)),
                     "param_bytes": param_bytes(m), **c,
                     "instructions_m4_measured": M4_MEASURED[name]["instructions"],
                     "flash_bytes": M4_MEASURED[name]["blob_bytes"],
                     "ram_bytes": M4_MEASURED[name]["arena_bytes"] + M4_MEASURED[name]["input_bytes"],
                     "measured_by": f"edgehost demo har --model {M4_MEASURED[name]['demo_model']} --board mps2-an386",
                     "seconds": round(time.monotonic() - t0, 1)})
        if progress:
            progress(rows[-1])
    for row in prune.report_rows(X, y, sparsities, K, oneshot=False, finetuned=True):
        rows.append(row)
        if progress:
            progress(row)
    return {"dataset": split.dataset, "windows": int(len(y)), "held_out_windows": int(len(split.test_raw.y)),
            "rows": rows,
            "instructions_note": "Cortex-M4 instructions per window, measured: the baselines' as blobs on "
                                 "mps2-an386, the whole INFER (edgehost demo har --model bcnn|shiftadd|lmu-f32); "
                                 f"the L2MU's kernel only (edgehost bench, {M4_L2MU_WINDOW[0]} "
                                 f"{M4_L2MU_WINDOW[1]}). The baselines' former estimates (MAC counts times "
                                 "per-unit figures of other shapes in docs/benchmarks.md) stay in "
                                 "instructions_m4_estimate"}


_KIND = {"lmu_f32": "float LMU (float32, eh_lmu_step_f32)",
         "bcnn_b1": "binary CNN (XNOR/popcount, conv1d_b1/fc_b1)",
         "shiftadd": "shift-add CNN (power-of-two weights, shiftadd_fc_q15)"}


def print_report(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    c = Console()
    c.print(f"[bold]HAR baselines[/]: {r['dataset']}, {r['windows']} of {r['held_out_windows']} held-out windows "
            "(40 steps x 6 channels), accuracy computed by the C kernels")
    t = Table(show_header=True)
    for col in ("model", "accuracy", "= torch", "param bytes", "MACs", "binary MACs", "shift-adds",
                "M4 instr./window", "flash B", "RAM B"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for row in r["rows"]:
        instr = row["instructions_m4_measured"] or row["instructions_m4_estimate"]
        tag = " (measured)" if row["instructions_m4_measured"] else " (est.)"
        agree = f"{row['agreement_with_torch']:.2%}" if "agreement_with_torch" in row else "-"
        macs = (f"{row['macs']:,}" if row["macs"] else
                f"<= {row['spike_adds_upper_bound']:,} adds" if row.get("spike_adds_upper_bound") else "-")
        t.add_row(row["kind"], f"{row['accuracy']:.2%}", agree, f"{row['param_bytes']:,}", macs,
                  f"{row['binary_macs']:,}" if row["binary_macs"] else "-",
                  f"{row['shift_adds']:,}" if row["shift_adds"] else "-", f"{instr:,.0f}{tag}",
                  f"{row['flash_bytes']:,}" if row.get("flash_bytes") else "-",
                  f"{row['ram_bytes']:,}" if row.get("ram_bytes") else "-")
    c.print(t)
    c.print("= torch: windows where the kernels' class equals the torch model's (recorded at training). "
            "L2MU rows: spike-driven, one add per weight of a spiking input, at most every weight every step; "
            "pruned rows keep the dense layout (CSR estimate in --json).")
    c.print(r["instructions_note"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", action="store_true", help="retrain and export the three baselines")
    ap.add_argument("--out", default=str(MODEL_DIR))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, help="epochs for every model (default: 20 LMU, 30 CNNs)")
    ap.add_argument("--per-class", type=int, help="report on this many held-out windows per activity (default: all)")
    ap.add_argument("--json", action="store_true", help="report as one JSON object")
    a = ap.parse_args(argv)
    if a.train:
        ep = None if a.epochs is None else {k: a.epochs for k in MODELS}
        train_all(Path(a.out), seed=a.seed, epochs=ep)
        return 0
    r = report(a.per_class)
    print(json.dumps(r)) if a.json else print_report(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
