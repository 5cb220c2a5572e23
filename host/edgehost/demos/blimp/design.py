"""A constructed starting point for the evolution (the paper starts from a random mean; a designed
seed lets a one-core run of minutes reach the targets).

Encoding layer: `beta_enc = 0` and the smallest threshold, so each neuron is a level detector:
with x = w e + b, a neuron spikes every step while x > 2 thr, every other step for
thr < x < 2 thr (the soft reset) and never below. Pair k with w_k > 0 fires its "+" neuron for
e > c_k and its "-" neuron for e < -c_k (c_k = (1.5 thr - b_k) / w_k): a thermometer code of
the error, fine near zero (the LiDAR's 1 cm steps fall between the levels) and coarse far out.
The last pair has w = 0 and b = 1: both neurons fire every step, a constant drive for the hidden
layer (the network has no other bias).

PD hidden layer: copies of the level detectors (beta 0) give e_k; leaky neurons of several
time constants driven by the staircase sum_k d_k (s+_k - s-_k) give low-passed errors, so a
decoder can form P + D as a e_k - b lowpass(e) (a filtered derivative). The decoder weights are
fitted to u_pd by bounded least squares on PID-labelled flights.

I hidden layer (IWTA): each neuron's threshold adaptation integrates the staircase error
(beta_th close to 1, W_th = -/+ g d_k on the + / - level detectors), and its membrane integrates
a constant drive from the bias pair (beta 1, soft reset): its rate is drive / (thr + a), a
sigma-delta code of the integral; "up" neurons (a = -g int e) and "down" neurons (a = +g int e)
with decoder weights of opposite sign give u_i, fitted by bounded least squares.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import lsq_linear

from .plant import U_MAX
from .snn import THR_FLOOR, Shape

# Level detector thresholds (m): between the LiDAR's 1 cm steps near zero, wider further out.
LEVELS = (0.005, 0.015, 0.025, 0.045, 0.075, 0.125, 0.2, 0.32, 0.5)


def encoder(levels=LEVELS, thr: float = THR_FLOOR) -> dict:
    """Encoding parameters for len(levels) level pairs plus one bias pair."""
    c = np.asarray(levels, float)
    # the largest gain that keeps b in [-1, 1]: b = 1.5 thr - w c
    w = np.minimum(2.0, (1.0 + 1.5 * thr) / c)
    b = 1.5 * thr - w * c
    pairs = len(c) + 1
    return {"w_enc": np.append(w, 0.0), "b_enc": np.append(b, 1.0),
            "beta_enc": np.zeros(2 * pairs), "thr_enc": np.full(2 * pairs, thr)}


def staircase_weights(levels=LEVELS) -> np.ndarray:
    """d_k such that sum_k d_k (s+_k - s-_k) ~ e (piecewise linear, saturating at the last level)."""
    c = np.asarray(levels, float)
    edges = np.concatenate([[0.0], c])
    mids = (edges[:-1] + edges[1:]) / 2
    nxt = np.append(mids[1:], c[-1])
    return np.diff(np.concatenate([[0.0], nxt]))


def hidden_spikes(shape: Shape, flat: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Hidden spikes [B, T, nh] of one controller (the equations of snn.run_population)."""
    p = shape.unpack(np.asarray(flat, np.float64))
    errors = np.atleast_2d(errors)
    B, T = errors.shape
    ne, nh = 2 * shape.pairs, shape.hidden
    w_e = np.concatenate([p["w_enc"], -p["w_enc"]])
    b_e = np.concatenate([p["b_enc"], p["b_enc"]])
    ve, se = np.zeros((B, ne)), np.zeros((B, ne))
    vh, sh, ah, ih = np.zeros((B, nh)), np.zeros((B, nh)), np.zeros((B, nh)), np.zeros((B, nh))
    out = np.empty((B, T, nh))
    for t in range(T):
        ve = p["beta_enc"] * ve + (w_e * errors[:, t, None] + b_e) - se * p["thr_enc"]
        se = (ve > p["thr_enc"]).astype(float)
        thr_prev = p["thr_hid"] + ah
        ih = (0.0 if shape.adaptive else p["alpha_hid"] * ih) + se @ p["w_hid"].T
        vh = p["beta_hid"] * vh + ih - sh * thr_prev
        if shape.adaptive:
            ah = p["beta_th"] * ah + se @ p["w_th"].T
        sh = (vh > p["thr_hid"] + ah).astype(float)
        out[:, t] = sh
    return out


def fit_decoder(spikes: np.ndarray, target: np.ndarray, beta_dec: float, bound: float = 1.0,
                clip: float = U_MAX) -> tuple[np.ndarray, float]:
    """Bounded least squares of y_t = beta y_{t-1} + w . s_t to the (clipped) target."""
    B, T, nh = spikes.shape
    f = np.empty_like(spikes)
    acc = np.zeros((B, nh))
    for t in range(T):
        acc = beta_dec * acc + spikes[:, t]
        f[:, t] = acc
    A = f.reshape(-1, nh)
    y = np.clip(target, -clip, clip).reshape(-1)
    res = lsq_linear(A, y, bounds=(-bound, bound))
    return res.x, float(np.mean(np.abs(A @ res.x - y)))


def pd_seed(shape: Shape, flights, levels=LEVELS, rng=None,
            alphas=(0.7,), lp_levels=None) -> np.ndarray:
    """A PD-SNN: copies of the level detectors (e_k) and current-based neurons whose synaptic
    current low-passes the staircase error (sigma-delta coded), decoder by bounded LSQ."""
    rng = np.random.default_rng(0) if rng is None else rng
    enc = encoder(levels)
    pairs = len(levels) + 1
    if shape.pairs != pairs or shape.adaptive:
        raise ValueError(f"pd_seed needs Shape({pairs}, hidden, adaptive=False), got {shape}")
    ne, nh = 2 * pairs, shape.hidden
    d = staircase_weights(levels)
    nl = len(levels)
    w_hid = np.zeros((nh, ne))
    alpha_hid = np.zeros(nh)
    beta_hid = np.zeros(nh)
    thr_hid = np.full(nh, 0.1)
    n_copy = min(2 * nl, nh)
    for j in range(n_copy):                      # copies: + levels then - levels
        k = j % nl
        w_hid[j, k if j < nl else pairs + k] = 1.0
    # low-pass level detectors: i = a i + (1 - a)(G staircase(e) + B_j) is a low-pass of the
    # error; with beta 0 and a small threshold the neuron fires while G lp(e) + B_j > 1.5 thr
    # (a thermometer code of lp(e), levels lp_levels, + and - signs alternating)
    n_lp = nh - n_copy
    lv = np.asarray(lp_levels if lp_levels is not None else
                    np.geomspace(0.005, 0.45, max(1, n_lp // 2)), float)
    G = 2.0
    for i in range(n_lp):
        j = n_copy + i
        sign = 1.0 if i % 2 == 0 else -1.0
        a = alphas[(i // 2) % len(alphas)]
        c = lv[(i // 2) % len(lv)]
        bias = 1.5 * THR_FLOOR - G * c
        w_hid[j, :nl] = sign * (1 - a) * G * d
        w_hid[j, pairs:pairs + nl] = -sign * (1 - a) * G * d
        w_hid[j, nl] = w_hid[j, pairs + nl] = (1 - a) * bias / 2
        alpha_hid[j] = a
        beta_hid[j] = 0.0
        thr_hid[j] = THR_FLOOR
    named = {**enc, "w_hid": w_hid, "alpha_hid": alpha_hid, "beta_hid": beta_hid, "thr_hid": thr_hid,
             "w_dec": np.zeros(nh), "beta_dec": np.zeros(1)}
    flat = shape.pack(named)
    sp = hidden_spikes(shape, flat, flights.error)
    best = None
    for bd in (0.0, 0.3, 0.6):
        w, mae = fit_decoder(sp, flights.u_pd, bd)
        if best is None or mae < best[2]:
            best = (w, bd, mae)
    named["w_dec"], named["beta_dec"] = best[0], np.array([best[1]])
    return shape.pack(named)


def i_seed(shape: Shape, flights, ki_scale: float = 2.0, levels=LEVELS, rng=None,
           beta_th: float = 1.0) -> np.ndarray:
    """An I-SNN: IWTA neurons whose adaptation integrates the staircase error; decoder by LSQ."""
    rng = np.random.default_rng(1) if rng is None else rng
    enc = encoder(levels)
    pairs = len(levels) + 1
    if shape.pairs != pairs or not shape.adaptive:
        raise ValueError(f"i_seed needs Shape({pairs}, hidden, adaptive=True), got {shape}")
    ne, nh = 2 * pairs, shape.hidden
    d = staircase_weights(levels)
    w_hid = np.zeros((nh, ne))
    w_th = np.zeros((nh, ne))
    beta_hid = np.ones(nh)
    thr_hid = np.empty(nh)
    bias_p, bias_n = len(levels), pairs + len(levels)
    g = 0.1 * ki_scale
    for j in range(nh):
        sign = 1.0 if j % 2 == 0 else -1.0      # up neurons: a = -g int e (fire more for e > 0)
        w_th[j, :len(levels)] = -sign * g * d
        w_th[j, pairs:pairs + len(levels)] = sign * g * d
        drive = 0.2 + 0.6 * rng.uniform()
        w_hid[j, bias_p] = w_hid[j, bias_n] = drive / 2
        thr_hid[j] = 1.0 + 4.0 * (j // 2) / max(1, nh // 2 - 1)
    named = {**enc, "w_hid": w_hid, "beta_hid": beta_hid, "thr_hid": thr_hid, "w_th": w_th,
             "beta_th": np.full(nh, beta_th), "w_dec": np.zeros(nh), "beta_dec": np.zeros(1)}
    flat = shape.pack(named)
    sp = hidden_spikes(shape, flat, flights.error)
    best = None
    for bd in (0.0, 0.15, 0.3):
        w, mae = fit_decoder(sp, flights.u_i, bd)
        if best is None or mae < best[2]:
            best = (w, bd, mae)
    named["w_dec"], named["beta_dec"] = best[0], np.array([best[1]])
    return shape.pack(named)
