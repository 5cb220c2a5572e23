"""Export a trained L2MU (edgehost.train.l2mu) to the L2MU kernel's cell (kernels_c/include/eh_lmu.h):
float32 as trained, or Q15 with scales calibrated on training data.

The per-channel input normalisation x_n = (x - offset) / scale is folded into the first layer,
so the device takes raw samples: Q15 input x_q = round(x_raw * input_scale) (input_scale counts
per unit, 4096 by default: +-8 g and +-8 rad/s in int16, like a typical IMU setting).

Q15 scales. Each population p holds its membrane as v_q = v * S_p. S_p is the largest scale at
which the calibration data's membranes, currents and the threshold (times `headroom`) fit in
int16. A weight matrix W feeding p is stored as round(W * S_p * 2^s) with the largest shift
s in [0, 31] that keeps it in int16; the kernel's rounding shift R(., s) brings the sum back to
S_p. Thresholds round(thr * S_p) (at least 1), biases round(b * S_p) (int32), decays
round(beta * 32768).
"""
from __future__ import annotations

import numpy as np

I16 = 32767


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float64)


def _beta(lif) -> np.ndarray:
    return np.clip(_np(lif.beta), 0.0, 1.0)


def _fold_input(model, norm):
    """w_in, b_in acting on raw samples (the normalisation folded in)."""
    w_in, b_in = _np(model.w_in), _np(model.b_in)  # [ch, pop]
    if norm is None:
        return w_in, b_in
    off = np.asarray(norm.offset, np.float64)[:, None]
    sc = np.asarray(norm.scale, np.float64)[:, None]
    return w_in / sc, b_in - w_in * off / sc


def cell_f32(model, norm=None) -> dict:
    """The float32 cell (edgehost.sim/kernels l2mu_*_f32) of a trained model."""
    w_in, b_in = _fold_input(model, norm)
    f = lambda a: np.asarray(a, np.float32)  # noqa: E731
    pop = lambda lif: {"beta": f(_beta(lif)), "threshold": f(np.maximum(_np(lif.threshold), 1e-6))}  # noqa: E731
    return {
        "w_in": f(w_in), "b_in": f(b_in),
        "enc": [{"w": f(_np(model.enc.weight)), "b": f(_np(model.enc.bias)), "pop": pop(model.lif_enc)}],
        "e_x": f(_np(model.e_x.weight)), "e_h": f(_np(model.e_h.weight)), "e_m": f(_np(model.e_m.weight)),
        "a": f(_np(model.A)), "b": f(_np(model.B)),
        "w_x": f(_np(model.w_x.weight)), "w_h": f(_np(model.w_h.weight)), "w_m": f(_np(model.w_m.weight)),
        "w_o": f(_np(model.out.weight)), "b_o": f(_np(model.out.bias)),
        "readout": "li",
        "pop_in": pop(model.lif_in), "pop_u": pop(model.lif_u), "pop_m": pop(model.lif_m),
        "pop_h": pop(model.lif_h),
        "pop_o": {"beta": f([float(np.clip(_np(model.beta_o), 0, 1))]), "threshold": f([1.0])},
    }


def _shift_for(w: np.ndarray, scale: float) -> int:
    """Largest s in [0, 31] with max|w| * scale * 2^s <= 32767."""
    m = float(np.max(np.abs(w))) * scale if w.size else 0.0
    if m == 0.0:
        return 0
    s = int(np.floor(np.log2(I16 / m)))
    return max(0, min(31, s))


def _wq(w: np.ndarray, scale: float, s: int) -> np.ndarray:
    q = np.round(w * scale * 2.0 ** s)
    if np.max(np.abs(q), initial=0) > I16:
        raise ValueError("weights do not fit int16 at this scale")
    return q.astype(np.int16)


def _scale(ranges: list[float], headroom: float) -> float:
    r = max(max(ranges), 1e-9) * headroom
    return I16 / r


def calibrate(model, X: np.ndarray, percentile: float = 100.0, batch: int = 256) -> dict:
    """Per population, the `percentile` of |membrane| over calibration windows (float model);
    100 is the largest value seen. Membranes beyond it saturate on the device."""
    import torch
    vals: dict[str, list] = {}
    with torch.no_grad():
        for k in range(0, len(X), batch):
            y, rec = model(torch.tensor(X[k:k + batch], dtype=torch.float32), record=True)
            for name in ("in", "enc", "u", "m", "h"):
                vals.setdefault(name, []).append(rec[f"v_{name}"].abs().reshape(-1).numpy())
            vals.setdefault("o", []).append(rec["y"].abs().reshape(-1).numpy())
    return {k: float(np.percentile(np.concatenate(v), percentile)) for k, v in vals.items()}


def cell_q15(model, X_calib: np.ndarray, norm=None, input_scale: float = 4096.0,
             headroom: float = 1.25, percentile: float = 100.0) -> tuple[dict, dict]:
    """The Q15 cell and a report {population: scale, shifts, ...}. X_calib: normalised training
    windows [N, T, ch] for calibration (the float model sees normalised inputs)."""
    peaks = calibrate(model, X_calib, percentile)
    w_in, b_in = _fold_input(model, norm)
    thr = {n: float(np.max(_np(getattr(model, f"lif_{l}").threshold)))
           for n, l in (("in", "in"), ("enc", "enc"), ("u", "u"), ("m", "m"), ("h", "h"))}
    S = {n: _scale([peaks[n], thr[n]], headroom) for n in ("in", "enc", "u", "m", "h")}
    S["o"] = _scale([peaks["o"]], headroom)

    def pop(lif, scale):
        t = np.clip(np.round(_np(lif.threshold) * scale), 1, I16).astype(np.int16)
        d = np.round(_beta(lif) * 32768).astype(np.uint16)
        return {"threshold": t, "decay": d}

    shifts = {}
    cell: dict = {"readout": "li"}
    # layer 1: raw int16 samples (x_raw * input_scale) times w_in -> S_in
    s_in = _shift_for(w_in, S["in"] / input_scale)
    cell["w_in"] = _wq(w_in, S["in"] / input_scale, s_in)
    cell["b_in"] = np.round(b_in * S["in"]).astype(np.int32)
    cell["s_in"] = shifts["s_in"] = s_in
    w = _np(model.enc.weight)
    s = _shift_for(w, S["enc"])
    cell["enc"] = [{"w": _wq(w, S["enc"], s), "b": np.round(_np(model.enc.bias) * S["enc"]).astype(np.int32),
                    "shift": s, "pop": pop(model.lif_enc, S["enc"])}]
    shifts["s_enc"] = s
    for key, mod, tgt in (("e_x", model.e_x, "u"), ("e_h", model.e_h, "u"), ("e_m", model.e_m, "u"),
                          ("w_x", model.w_x, "h"), ("w_h", model.w_h, "h"), ("w_m", model.w_m, "h")):
        w = _np(mod.weight)
        s = _shift_for(w, S[tgt])
        cell[key] = _wq(w, S[tgt], s)
        cell["s_" + key.replace("_", "")] = shifts[key] = s
    A, B = _np(model.A), _np(model.B)
    s_a, s_b = _shift_for(A, S["m"]), _shift_for(B, S["m"])
    cell["a"], cell["s_a"] = _wq(A, S["m"], s_a), s_a
    cell["b"], cell["s_b"] = _wq(B, S["m"], s_b), s_b
    w = _np(model.out.weight)
    s_o = _shift_for(w, S["o"])
    cell["w_o"], cell["s_o"] = _wq(w, S["o"], s_o), s_o
    cell["b_o"] = np.round(_np(model.out.bias) * S["o"]).astype(np.int32)
    for n, lif in (("in", model.lif_in), ("u", model.lif_u), ("m", model.lif_m), ("h", model.lif_h)):
        cell[f"pop_{n}"] = pop(lif, S[n])
    cell["pop_o"] = {"decay": np.array([round(float(np.clip(_np(model.beta_o), 0, 1)) * 32768)], np.uint16),
                     "threshold": np.array([I16], np.int16)}
    report = {"scales": S, "peaks": peaks, "shifts": {**shifts, "s_a": s_a, "s_b": s_b, "s_o": s_o},
              "input_scale": input_scale}
    return cell, report


def quantize_input(x_raw: np.ndarray, input_scale: float = 4096.0) -> np.ndarray:
    """Raw samples (g, rad/s) -> int16 device input."""
    return np.clip(np.round(np.asarray(x_raw, np.float64) * input_scale), -32768, I16).astype(np.int16)
