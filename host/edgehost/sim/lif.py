"""Numpy reference of the LIF and current-based LIF neurons (see kernels_c/include/eh_lif.h).

Written from the equations, not from the C: this is what the C kernels are checked against.

    LIF, subtract:  v = leak(v) + x - s_prev * thr
    LIF, zero:      v = (0 if s_prev else leak(v)) + x
    CuBa:           i = leak_syn(i) + x
    CuBa, subtract: v = leak_mem(v) + i - s_prev * thr
    CuBa, zero:     v = 0 if s_prev else leak_mem(v) + i
    spike:          s = v > thr

float32 rounds after every operation, like the C kernels built with -ffp-contract=off.
Q15: leak(v) = (decay * v + 2**14) >> 15 with decay in [0, 32768], or v - (v >> shift) with
shift in [1, 15]; sums in int32, saturated to int16 once per state update.
"""
from __future__ import annotations

import numpy as np

from . import _checks as c

Q15_ONE = 32768


def _sat16(a: np.ndarray) -> np.ndarray:
    return np.clip(a, -32768, 32767).astype(np.int16)


def _decay_f32(name, a, n):
    arr = c.per_neuron(name, a, np.float32, n)
    if not np.all((arr >= 0) & (arr <= 1)):
        raise ValueError(f"{name} must lie in [0, 1]")
    return arr


def _thr_f32(a, n):
    arr = c.per_neuron("threshold", a, np.float32, n)
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise ValueError("threshold must be > 0 and finite")
    return arr


def _thr_q15(a, n):
    arr = c.per_neuron("threshold", a, np.int16, n)
    if np.any(arr < 1):
        raise ValueError("threshold must lie in [1, 32767]")
    return arr.astype(np.int32)


def leak_q15(v: np.ndarray, n: int, decay=None, shift=None, name="leak") -> np.ndarray:
    """Apply a Q15 leak to int32 values: a Q15 multiply by `decay` or a shift by `shift`."""
    if (decay is None) == (shift is None):
        raise ValueError(f"{name}: give exactly one of decay (Q15 multiply) or shift")
    v = v.astype(np.int32)
    if decay is not None:
        d = c.per_neuron(f"{name} decay", decay, np.int32, n)
        if np.any((d < 0) | (d > Q15_ONE)):
            raise ValueError(f"{name} decay must lie in [0, 32768]")
        return (v * d + (1 << 14)) >> 15
    s = c.per_neuron(f"{name} shift", shift, np.int32, n)
    if np.any((s < 1) | (s > 15)):
        raise ValueError(f"{name} shift must lie in [1, 15]")
    return v - (v >> s)


def lif_step_f32(x, v, spikes, beta, threshold, reset="subtract"):
    """One LIF step in float32. Returns (v, spikes); the inputs are not modified.
    reset: "subtract", "zero", "none" or "subtract_now" (eh_lif.h)."""
    mode = c.reset_mode(reset, c.RESETS_LIF)
    x = c.vector("x", x, np.float32)
    n = x.size
    v = c.vector("v", v, np.float32, n)
    s = c.spikes("spikes", spikes, n).astype(bool)
    b = _decay_f32("beta", beta, n)
    t = _thr_f32(threshold, n)
    t = np.broadcast_to(t, (n,))
    if mode >= 2:
        return _now_f32((b * v + x).astype(np.float32), v, t, mode)
    if mode == 0:
        u = b * v
        u = u + x
        u = np.where(s, u - t, u)
    else:
        u = np.where(s, np.float32(0), b * v)
        u = u + x
    u = u.astype(np.float32)
    return u, (u > t).astype(np.uint8)


def _now_f32(u, v, t, mode):
    """Modes none (2) and subtract_now (3) from u = leak(v) + input, float32 (eh_lif.h)."""
    if mode == 2:
        return u, (u > t).astype(np.uint8)
    r = v > t
    w = np.where(r, u - t, u).astype(np.float32)
    s = w > t
    out = np.where(s & ~r, w - t, np.where(r & ~s, w + t, w)).astype(np.float32)
    return out, s.astype(np.uint8)


def _now_q15(u, v, t, mode):
    """Modes none (2) and subtract_now (3) from u = leak(v) + input (int32, unsaturated), Q15."""
    if mode == 2:
        u = _sat16(u)
        return u, (u.astype(np.int32) > t).astype(np.uint8)
    r = (v.astype(np.int32) > t).astype(np.int32)
    w = _sat16(u - r * t).astype(np.int32)
    s = (w > t).astype(np.int32)
    return _sat16(w + (r - s) * t), s.astype(np.uint8)


def lif_step_q15(x, v, spikes, threshold, decay=None, shift=None, reset="subtract"):
    """One LIF step in Q15 fixed point. Returns (v, spikes); the inputs are not modified."""
    mode = c.reset_mode(reset, c.RESETS_LIF)
    x = c.vector("x", x, np.int16)
    n = x.size
    v = c.vector("v", v, np.int16, n)
    s = c.spikes("spikes", spikes, n).astype(bool)
    t = _thr_q15(threshold, n)
    lv = leak_q15(v, n, decay, shift)
    if mode >= 2:
        return _now_q15(lv + x.astype(np.int32), v, t, mode)
    if mode == 0:
        u = lv + x.astype(np.int32) - np.where(s, t, 0)
    else:
        u = np.where(s, 0, lv) + x.astype(np.int32)
    u = _sat16(u)
    return u, (u.astype(np.int32) > t).astype(np.uint8)


def cubalif_step_f32(x, i_syn, v, spikes, alpha, beta, threshold, reset="subtract"):
    """One current-based LIF step in float32. Returns (i_syn, v, spikes)."""
    mode = c.reset_mode(reset, c.RESETS_LIF)
    x = c.vector("x", x, np.float32)
    n = x.size
    i_syn = c.vector("i_syn", i_syn, np.float32, n)
    v = c.vector("v", v, np.float32, n)
    s = c.spikes("spikes", spikes, n).astype(bool)
    a = _decay_f32("alpha", alpha, n)
    b = _decay_f32("beta", beta, n)
    t = np.broadcast_to(_thr_f32(threshold, n), (n,))
    i = a * i_syn
    i = (i + x).astype(np.float32)
    u = b * v
    u = u + i
    if mode >= 2:
        return (i,) + _now_f32(u.astype(np.float32), v, t, mode)
    if mode == 0:
        u = np.where(s, u - t, u)
    else:
        u = np.where(s, np.float32(0), u)
    u = u.astype(np.float32)
    return i, u, (u > t).astype(np.uint8)


def cubalif_step_q15(x, i_syn, v, spikes, threshold, syn_decay=None, syn_shift=None,
                     mem_decay=None, mem_shift=None, reset="subtract"):
    """One current-based LIF step in Q15 fixed point. Returns (i_syn, v, spikes)."""
    mode = c.reset_mode(reset, c.RESETS_LIF)
    x = c.vector("x", x, np.int16)
    n = x.size
    i_syn = c.vector("i_syn", i_syn, np.int16, n)
    v = c.vector("v", v, np.int16, n)
    s = c.spikes("spikes", spikes, n).astype(bool)
    t = _thr_q15(threshold, n)
    i = _sat16(leak_q15(i_syn, n, syn_decay, syn_shift, "syn leak") + x.astype(np.int32))
    lv = leak_q15(v, n, mem_decay, mem_shift, "mem leak")
    if mode >= 2:
        return (i,) + _now_q15(lv + i.astype(np.int32), v, t, mode)
    if mode == 0:
        u = _sat16(lv + i.astype(np.int32) - np.where(s, t, 0))
    else:
        u = np.where(s, 0, _sat16(lv + i.astype(np.int32))).astype(np.int16)
    return i, u, (u.astype(np.int32) > t).astype(np.uint8)


def lif_adapt_step_f32(x, x_th, v, a, spikes, beta, beta_th, threshold, reset="subtract"):
    """One step of LIF with input-weighted threshold adaptation, float32. Returns (v, a, spikes)."""
    mode = c.reset_mode(reset)
    x = c.vector("x", x, np.float32)
    n = x.size
    x_th = c.vector("x_th", x_th, np.float32, n)
    v = c.vector("v", v, np.float32, n)
    a = c.vector("a", a, np.float32, n)
    s = c.spikes("spikes", spikes, n).astype(bool)
    b = _decay_f32("beta", beta, n)
    bt = _decay_f32("beta_th", beta_th, n)
    t = np.broadcast_to(_thr_f32(threshold, n), (n,))
    t_prev = (t + a).astype(np.float32)
    if mode == 0:
        u = b * v
        u = u + x
        u = np.where(s, u - t_prev, u)
    else:
        u = np.where(s, np.float32(0), b * v)
        u = u + x
    u = u.astype(np.float32)
    na = (bt * a + x_th).astype(np.float32)
    return u, na, (u > (t + na).astype(np.float32)).astype(np.uint8)


def lif_adapt_step_q15(x, x_th, v, a, spikes, threshold, mem_decay=None, mem_shift=None,
                       th_decay=None, th_shift=None, reset="subtract"):
    """One step of LIF with input-weighted threshold adaptation, Q15. Returns (v, a, spikes).
    Effective thresholds thr + a are clamped to [1, 32767]."""
    mode = c.reset_mode(reset)
    x = c.vector("x", x, np.int16)
    n = x.size
    x_th = c.vector("x_th", x_th, np.int16, n)
    v = c.vector("v", v, np.int16, n)
    a = c.vector("a", a, np.int16, n)
    s = c.spikes("spikes", spikes, n).astype(bool)
    t = _thr_q15(threshold, n)
    t_prev = np.clip(t + a.astype(np.int32), 1, 32767)
    lv = leak_q15(v, n, mem_decay, mem_shift, "mem leak")
    if mode == 0:
        u = lv + x.astype(np.int32) - np.where(s, t_prev, 0)
    else:
        u = np.where(s, 0, lv) + x.astype(np.int32)
    u = _sat16(u)
    na = _sat16(leak_q15(a, n, th_decay, th_shift, "threshold leak") + x_th.astype(np.int32))
    t_new = np.clip(t + na.astype(np.int32), 1, 32767)
    return u, na, (u.astype(np.int32) > t_new).astype(np.uint8)


# ---- prepare once, step often (eh_lif_check_q15 / eh_lif_step_q15_unchecked, ...) -------------

def lif_check_q15(n, threshold, decay=None, shift=None, reset="subtract") -> None:
    """The parameter check of lif_step_q15 alone (twin of eh_lif_check_q15): raises ValueError
    for what the step would reject for n neurons, returns None otherwise."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    leak_q15(np.zeros(n, np.int32), n, decay, shift)
    _thr_q15(threshold, n)
    c.reset_mode(reset, c.RESETS_LIF)


def lif_step_q15_unchecked(x, v, spikes, threshold, decay=None, shift=None, reset="subtract"):
    """Twin of eh_lif_step_q15_unchecked: the same arithmetic as lif_step_q15 (the C function
    skips the checks; this twin keeps them, an unchecked call with bad parameters has no
    defined result to mirror)."""
    return lif_step_q15(x, v, spikes, threshold, decay, shift, reset)


def cubalif_check_q15(n, threshold, syn_decay=None, syn_shift=None, mem_decay=None, mem_shift=None,
                      reset="subtract") -> None:
    """The parameter check of cubalif_step_q15 alone (twin of eh_cubalif_check_q15)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    leak_q15(np.zeros(n, np.int32), n, syn_decay, syn_shift, "syn leak")
    leak_q15(np.zeros(n, np.int32), n, mem_decay, mem_shift, "mem leak")
    _thr_q15(threshold, n)
    c.reset_mode(reset, c.RESETS_LIF)


def cubalif_step_q15_unchecked(x, i_syn, v, spikes, threshold, syn_decay=None, syn_shift=None,
                               mem_decay=None, mem_shift=None, reset="subtract"):
    """Twin of eh_cubalif_step_q15_unchecked (the arithmetic of cubalif_step_q15)."""
    return cubalif_step_q15(x, i_syn, v, spikes, threshold, syn_decay, syn_shift, mem_decay,
                            mem_shift, reset)
