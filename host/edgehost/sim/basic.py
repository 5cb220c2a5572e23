"""Numpy reference of the basic kernels (see kernels_c/include/eh_basic.h).

Written from the header's equations, not from the C:

    fc_f32:        y[o] = b[o] + sum_i w[o,i] x[i], float32, summed in index order from 0, bias last
    fc_q15:        y[o] = sat16(rshift(b[o] + sum_i w[o,i] x[i], shift)), exact 64-bit sum
    fc_spike_q15:  acc = b[o]; acc = sat32(acc + w[o,i]) for each i with s[i] = 1 in order;
                   y[o] = sat16(rshift(acc, shift))
    fc_spike_t_q15: fc_spike_q15 with the weights input-major, wt[i, o] = w[o, i]: the same
                   result as fc_spike_q15(s, wt.T, b, shift)
    fc_s8:         TFLite int8 fully connected (SaturatingRoundingDoublingHighMul then
                   RoundingDivideByPOT), per tensor or per channel
    li_step:       y = beta*y + x (float32) / y = sat16(leak(y) + x) (Q15)

rshift(a, s) = floor((a + 2^(s-1)) / 2^s) (round half up), rshift(a, 0) = a.
"""
from __future__ import annotations

import numpy as np

from . import _checks as c
from .lif import _decay_f32, leak_q15

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def _sat(a: np.ndarray, lo: int, hi: int, dtype) -> np.ndarray:
    return np.clip(a, lo, hi).astype(dtype)


def rshift_round(a: np.ndarray, s: int) -> np.ndarray:
    """Round-half-up arithmetic right shift of int64 values."""
    a = np.asarray(a, np.int64)
    if s == 0:
        return a.copy()
    return (a + (np.int64(1) << np.int64(s - 1))) >> np.int64(s)


def _matrix(name, w, dtype, n_in: int):
    arr = np.asarray(w)
    if arr.ndim == 1 and arr.size % n_in == 0 and arr.size:
        arr = arr.reshape(-1, n_in)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D [n_out, n_in] matrix, got shape {arr.shape}")
    if arr.shape[1] != n_in or arr.shape[0] == 0:
        raise ValueError(f"{name} has shape {arr.shape}, expected (n_out, {n_in})")
    if arr.size >= 1 << 32:
        raise ValueError(f"{name} is too large for 32-bit indices")
    return c.vector(name, arr.ravel(), dtype).reshape(arr.shape)


def _bias(b, dtype, n_out: int):
    if b is None:
        return np.zeros(n_out, dtype)
    return c.vector("b", b, dtype, n_out)


def _shift(shift, hi=31) -> int:
    if not isinstance(shift, (int, np.integer)) or not 0 <= int(shift) <= hi:
        raise ValueError(f"shift must be an integer in [0, {hi}], got {shift!r}")
    return int(shift)


def fc_f32(x, w, b=None):
    """Dense layer in float32: one rounding per multiply and per add, index order, bias last."""
    x = c.vector("x", x, np.float32)
    w = _matrix("w", w, np.float32, x.size)
    b = None if b is None else c.vector("b", b, np.float32, w.shape[0])
    acc = np.zeros(w.shape[0], np.float32)
    for i in range(x.size):
        acc = (acc + (w[:, i] * x[i]).astype(np.float32)).astype(np.float32)
    if b is not None:
        acc = (acc + b).astype(np.float32)
    return acc


def fc_q15(x, w, b=None, shift=0):
    """Q15 dense layer with an exact 64-bit sum, one rounding shift and saturation to int16."""
    x = c.vector("x", x, np.int16)
    w = _matrix("w", w, np.int16, x.size)
    bb = _bias(b, np.int32, w.shape[0]).astype(np.int64)
    s = _shift(shift)
    acc = w.astype(np.int64) @ x.astype(np.int64) + bb
    return _sat(rshift_round(acc, s), -32768, 32767, np.int16)


def fc_spike_q15(s, w, b=None, shift=0):
    """Spike-driven dense: adds the weight columns of the inputs that spiked, saturating at
    every addition in index order."""
    sp = c.spikes("s", s, np.asarray(s).size)
    w = _matrix("w", w, np.int16, sp.size)
    acc = _bias(b, np.int32, w.shape[0]).astype(np.int64)
    sh = _shift(shift)
    cols = np.flatnonzero(sp)
    wc = w[:, cols].astype(np.int64)
    # Fast exact route when no partial sum can leave int32 (then nothing saturates).
    bound = np.abs(acc) + np.abs(wc).sum(axis=1)
    if np.all(bound <= I32_MAX):
        acc = acc + wc.sum(axis=1)
    else:
        for j in range(wc.shape[1]):
            acc = np.clip(acc + wc[:, j], I32_MIN, I32_MAX)
    return _sat(rshift_round(acc, sh), -32768, 32767, np.int16)


def srdhm(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values (returned as int64)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    t = ab + nudge
    q = np.where(t >= 0, t >> 31, -((-t) >> 31))  # division by 2^31 truncating toward zero
    return np.where((a == I32_MIN) & (b == I32_MIN), np.int64(I32_MAX), q)


def rounding_divide_by_pot(x, e) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2^e to nearest, ties away from zero; e in [0, 31]."""
    x = np.asarray(x, np.int64)
    e = np.asarray(e, np.int64)
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def requantize_s32(acc, mult, shift) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier with a saturating left shift (int64 result)."""
    acc = np.asarray(acc, np.int64)
    mult = np.asarray(mult, np.int64)
    shift = np.asarray(shift, np.int64)
    left = np.clip(acc << np.maximum(shift, 0), I32_MIN, I32_MAX)
    acc = srdhm(left, mult)
    return np.where(shift < 0, rounding_divide_by_pot(acc, np.maximum(-shift, 0)), acc)


def fc_spike_t_q15(s, wt, b=None, shift=0):
    """fc_spike_q15 over input-major weights wt [n_in, n_out] (w[o, i] = wt[i, o]): the header
    defines it as the same arithmetic on the transposed matrix, so it is that, bit for bit."""
    sp = c.spikes("s", s, np.asarray(s).size)
    wt = np.asarray(wt)
    if wt.ndim == 1 and wt.size % sp.size == 0 and wt.size:
        wt = wt.reshape(sp.size, -1)
    if wt.ndim != 2 or wt.shape[0] != sp.size or wt.shape[1] == 0:
        raise ValueError(f"wt has shape {wt.shape}, expected ({sp.size}, n_out)")
    return fc_spike_q15(sp, wt.T, b, shift)


def s8_quant_args(mult, shift, per_channel, n_out: int, x_offset, y_offset, act_min=None, act_max=None):
    """The int8 kernels' quantisation arguments, checked as eh_fc_s8 / eh_conv1d_s8 / eh_conv2d_s8
    check them: (mult, shift) as int64 arrays of n_out entries per channel or 1 per tensor
    (per_channel None: per channel when more than one entry is given)."""
    m = np.atleast_1d(np.asarray(mult))
    sh = np.atleast_1d(np.asarray(shift))
    if per_channel is None:
        per_channel = m.size > 1
    if per_channel not in (0, 1, True, False):
        raise ValueError("per_channel must be a bool")
    nc = n_out if per_channel else 1
    m = c.vector("mult", m, np.int32, nc).astype(np.int64)
    sh = c.vector("shift", sh, np.int32, nc).astype(np.int64)
    if not -127 <= int(x_offset) <= 128:
        raise ValueError("x_offset must lie in [-127, 128]")
    if not -128 <= int(y_offset) <= 127:
        raise ValueError("y_offset must lie in [-128, 127]")
    if act_min is not None and not -128 <= int(act_min) <= int(act_max) <= 127:
        raise ValueError("need -128 <= act_min <= act_max <= 127")
    if np.any(m < 0):
        raise ValueError("mult must be >= 0")
    if np.any((sh < -31) | (sh > 30)):
        raise ValueError("shift must lie in [-31, 30]")
    return m, sh


def fc_s8(x, w, mult, shift, b=None, x_offset=0, y_offset=0, per_channel=None):
    """int8 dense layer with TFLite reference semantics.

    mult/shift: one entry (per tensor) or n_out entries (per channel). per_channel defaults to
    whether more than one entry was given.
    """
    x = c.vector("x", x, np.int8)
    w = _matrix("w", w, np.int8, x.size)
    n_out = w.shape[0]
    m, sh = s8_quant_args(mult, shift, per_channel, n_out, x_offset, y_offset)
    bb = _bias(b, np.int32, n_out).astype(np.int64)
    acc = w.astype(np.int64) @ (x.astype(np.int64) + int(x_offset)) + bb
    acc = np.clip(acc, I32_MIN, I32_MAX)
    acc = requantize_s32(acc, np.broadcast_to(m, (n_out,)), np.broadcast_to(sh, (n_out,)))
    return _sat(acc + int(y_offset), -128, 127, np.int8)


def relu_f32(x):
    x = c.vector("x", x, np.float32)
    return np.where(x > 0, x, np.float32(0)).astype(np.float32)


def relu_q15(x):
    x = c.vector("x", x, np.int16)
    return np.maximum(x, 0).astype(np.int16)


def argmax_f32(x) -> int:
    """Index of the largest value (first on ties); NaN skipped, 0 when all are NaN."""
    x = c.vector("x", x, np.float32)
    ok = ~np.isnan(x)
    if not ok.any():
        return 0
    return int(np.flatnonzero(ok & (x == x[ok].max()))[0])


def argmax_q15(x) -> int:
    return int(np.argmax(c.vector("x", x, np.int16)))


def argmax_s32(x) -> int:
    return int(np.argmax(c.vector("x", x, np.int32)))


def li_step_f32(x, y, beta):
    """Leaky-integrator readout in float32: y = beta * y + x, two roundings."""
    x = c.vector("x", x, np.float32)
    y = c.vector("y", y, np.float32, x.size)
    b = _decay_f32("beta", beta, x.size)
    u = (b * y).astype(np.float32)
    return (u + x).astype(np.float32)


def li_step_q15(x, y, decay=None, shift=None):
    """Leaky-integrator readout in Q15: y = sat16(leak(y) + x)."""
    x = c.vector("x", x, np.int16)
    y = c.vector("y", y, np.int16, x.size)
    u = leak_q15(y, x.size, decay, shift) + x.astype(np.int32)
    return _sat(u, -32768, 32767, np.int16)


def _scale(name, v) -> np.float32:
    f = np.float32(v)
    if not (np.isfinite(f) and f > 0):
        raise ValueError(f"{name} must be finite and > 0")
    return f


def quantize_f32_q15(x, inv_scale):
    """q = sat16(round_half_away_from_zero(float32(x * inv_scale))); NaN -> 0."""
    x = c.vector("x", x, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        v = (x * _scale("inv_scale", inv_scale)).astype(np.float32).astype(np.float64)
    with np.errstate(invalid="ignore"):
        r = np.sign(v) * np.floor(np.abs(v) + 0.5)  # exact in float64 for float32 inputs
    r = np.where(np.isnan(r), 0.0, r)
    return np.clip(r, -32768, 32767).astype(np.int16)


def dequantize_q15_f32(q, scale):
    """y = q * scale, one float32 multiply."""
    q = c.vector("q", q, np.int16)
    return (q.astype(np.float32) * _scale("scale", scale)).astype(np.float32)


def spike_count_u16(s, counts):
    """counts + s, saturating at 65535."""
    s = c.vector("s", s, np.uint8)
    counts = c.vector("counts", counts, np.uint16, s.size)
    return np.minimum(counts.astype(np.int64) + s, 65535).astype(np.uint16)


def conv1d_s8_out_len(t_in: int, taps: int, stride: int = 1, pad: int = 0) -> int:
    """Output positions of a symmetrically padded convolution (PyTorch's Conv1d padding=pad):
    (t_in + 2 pad - taps) // stride + 1."""
    t_in, taps, stride, pad = int(t_in), int(taps), int(stride), int(pad)
    if t_in < 1 or taps < 1 or stride < 1 or not 0 <= pad < taps or t_in + 2 * pad < taps:
        raise ValueError("need t_in, taps, stride >= 1, pad in [0, taps - 1], t_in + 2 pad >= taps")
    return (t_in + 2 * pad - taps) // stride + 1


def conv1d_s8(x, w, mult, shift, b=None, x_offset=0, y_offset=0, act_min=-128, act_max=127, stride=1,
              pad=0, t_out=None, per_channel=None):
    """int8 1-D convolution, eh_conv1d_s8 (eh_basic.h): x [t_in, n_in] position-major, w [n_out,
    taps, n_in]; y [t_out, n_out]. Padded positions (before 0 and from t_in on) are skipped; t_out
    defaults to conv1d_s8_out_len (symmetric padding). mult/shift: 1 or n_out entries."""
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim != 2 or w.ndim != 3 or 0 in x.shape or 0 in w.shape or w.shape[2] != x.shape[1]:
        raise ValueError(f"x must be [t_in, n_in] and w [n_out, taps, n_in], got {x.shape} and {w.shape}")
    x = c.vector("x", x.ravel(), np.int8).reshape(x.shape)
    w = c.vector("w", w.ravel(), np.int8).reshape(w.shape)
    t_in, n_in = x.shape
    n_out, taps, _ = w.shape
    stride, pad = int(stride), int(pad)
    if t_out is None:
        t_out = conv1d_s8_out_len(t_in, taps, stride, pad)
    t_out = int(t_out)
    if stride < 1 or t_out < 1 or taps * n_in > 65536 or not 0 <= pad < taps or (t_out - 1) * stride >= t_in + pad:
        raise ValueError("bad sizes: stride, t_out >= 1, taps * n_in <= 65536, pad in [0, taps - 1], "
                         "(t_out - 1) * stride < t_in + pad")
    m, sh = s8_quant_args(mult, shift, per_channel, n_out, x_offset, y_offset, act_min, act_max)
    bb = _bias(b, np.int32, n_out).astype(np.int64)
    # the input padded with positions of value -x_offset, whose (x + x_offset) term is 0: skipped
    right = max(0, (t_out - 1) * stride - pad + taps - t_in)
    xo = np.zeros((pad + t_in + right, n_in), np.int64)
    xo[pad:pad + t_in] = x.astype(np.int64) + int(x_offset)
    acc = np.zeros((t_out, n_out), np.int64)
    for k in range(taps):
        acc += xo[k:k + (t_out - 1) * stride + 1:stride] @ w[:, k, :].astype(np.int64).T
    acc = np.clip(acc + bb, I32_MIN, I32_MAX)
    acc = requantize_s32(acc, np.broadcast_to(m, (n_out,)), np.broadcast_to(sh, (n_out,)))
    y = np.clip(acc + int(y_offset), -128, 127)
    return np.clip(y, int(act_min), int(act_max)).astype(np.int8)
