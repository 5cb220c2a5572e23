"""Numpy reference of the binary (XNOR/popcount) kernels (see kernels_c/include/eh_binary.h).

Packing: K values of {-1, +1} in ceil(K/32) uint32 words along the last axis, value i at bit
i % 32 of word i // 32, bit 1 = -1, bit 0 = +1, padding bits 0 (and ignored by every kernel).

    dot = K - 2 * popcount((x XOR w) over the K real bits)
    _s32: y = dot
    _f32: y = float32(float32(dot) * scale[o]) + bias[o]   (two roundings)
    _s8:  y = sat8(floor((dot * mult[o] + bias[o] + 2**(shift-1)) / 2**shift))   (shift 0: no rounding)
    _bits: bit o = dot < thr[o], thr in [-N, N + 1] (N = K for fc, taps * K for conv1d), packed
conv1d: x [t_in][W], w [n_out][taps][W], y [t_out][n_out], with `pad` all-+1 frames on each side.
"""
from __future__ import annotations

import numpy as np

MAX_K = 1 << 24


# --- packing -------------------------------------------------------------------------------

def nwords(k: int) -> int:
    return (int(k) + 31) // 32


def pack_bits(values) -> np.ndarray:
    """Pack along the last axis: bit = value < 0 (so -1 -> 1, +1 and 0 -> 0). Returns uint32."""
    a = np.asarray(values)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError("pack_bits needs at least one value along the last axis")
    if a.dtype.kind not in "iubf":
        raise ValueError("pack_bits needs numeric values")
    k = a.shape[-1]
    bits = (a < 0).astype(np.uint8)
    pad = nwords(k) * 32 - k
    if pad:
        bits = np.concatenate([bits, np.zeros(a.shape[:-1] + (pad,), np.uint8)], axis=-1)
    by = np.packbits(bits, axis=-1, bitorder="little")
    return np.ascontiguousarray(by).view("<u4").astype(np.uint32)


def unpack_bits(words, k: int) -> np.ndarray:
    """The int8 +-1 values of packed words (last axis), the K real positions only."""
    w = np.ascontiguousarray(np.asarray(words, dtype=np.uint32))
    if w.ndim == 0 or w.shape[-1] != nwords(k) or k < 1:
        raise ValueError(f"expected {nwords(k)} words along the last axis for k={k}")
    bits = np.unpackbits(w.astype("<u4").view(np.uint8), axis=-1, bitorder="little")[..., :k]
    return (1 - 2 * bits.astype(np.int8)).astype(np.int8)


def tail_mask(k: int) -> int:
    return (1 << (k % 32)) - 1 if k % 32 else 0xFFFFFFFF


def _clear_padding(words: np.ndarray, k: int) -> np.ndarray:
    out = np.array(words, dtype=np.uint32, copy=True)
    out[..., -1] &= np.uint32(tail_mask(k))
    return out


def pack_spikes_b1(s) -> np.ndarray:
    """Twin of eh_pack_spikes_b1: bit i = s[i] (0 or 1)."""
    s = np.asarray(s)
    if s.ndim != 1 or s.size == 0 or s.size > MAX_K:
        raise ValueError("spikes must be a non-empty 1-D array")
    if s.dtype.kind not in "iub" or s.min() < 0 or s.max() > 1:
        raise ValueError("spikes must hold 0 or 1")
    return pack_bits(-s.astype(np.int8))


def pack_signs_b1(v) -> np.ndarray:
    """Twin of eh_pack_signs_b1: bit i = v[i] < 0 (int8 values)."""
    v = np.asarray(v)
    if v.ndim != 1 or v.size == 0 or v.size > MAX_K:
        raise ValueError("values must be a non-empty 1-D array")
    if v.dtype.kind not in "iub" or v.min() < -128 or v.max() > 127:
        raise ValueError("values must be int8")
    return pack_bits(v)


# --- argument checks ---------------------------------------------------------------------

def _k(n_in) -> int:
    k = int(n_in)
    if k < 1 or k > MAX_K:
        raise ValueError(f"n_in must lie in [1, {MAX_K}], got {k}")
    return k


def _words(name, a, shape) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold uint32 words")
    if arr.size and (arr.min() < 0 or arr.max() > 0xFFFFFFFF):
        raise ValueError(f"{name} must hold uint32 words")
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} has shape {arr.shape}, expected {tuple(shape)}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr.astype(np.uint32)


def _fc_args(n_in, x, w):
    k = _k(n_in)
    nw = nwords(k)
    w = np.asarray(w)
    if w.ndim != 2 or w.shape[0] == 0:
        raise ValueError("w must be [n_out][words]")
    x = _words("x", x, (nw,))
    w = _words("w", w, (w.shape[0], nw))
    return k, x, w


def _per_out(name, a, dtype, n):
    arr = np.asarray(a)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} must have {n} entries")
    if np.issubdtype(np.dtype(dtype), np.integer):
        info = np.iinfo(dtype)
        if arr.dtype.kind not in "iub" or arr.min() < info.min or arr.max() > info.max:
            raise ValueError(f"{name} must hold {np.dtype(dtype).name} values")
    return arr.astype(dtype)


def _shift(shift) -> int:
    s = int(shift)
    if s < 0 or s > 62:
        raise ValueError("shift must lie in [0, 62]")
    return s


def _thr(thr, n, k):
    t = _per_out("thr", thr, np.int32, n).astype(np.int64)
    if np.any((t < -k) | (t > k + 1)):
        raise ValueError(f"thr must lie in [-K, K + 1] = [{-k}, {k + 1}]")
    return t


# --- output stages ----------------------------------------------------------------------

def _popcount(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.uint32)
    return np.unpackbits(a.view(np.uint8), axis=-1).reshape(a.shape + (32,)).sum(-1, dtype=np.int64)


def _counts(k, x, w):
    """Mismatch counts of x [..., W] against rows w [n, W], padding masked."""
    xm = _clear_padding(x, k)
    wm = _clear_padding(w, k)
    return _popcount(xm[..., None, :] ^ wm).sum(-1)


def _out_f32(dot, scale, bias):
    y = dot.astype(np.float32) * scale
    if bias is not None:
        y = y + bias
    return y.astype(np.float32)


def _out_s8(dot, mult, bias, shift):
    a = dot.astype(np.int64) * mult.astype(np.int64)
    if bias is not None:
        a = a + bias.astype(np.int64)
    if shift:
        a = (a + (np.int64(1) << (shift - 1))) >> shift
    return np.clip(a, -128, 127).astype(np.int8)


def _out_bits(dot, thr):
    return pack_bits(np.where(dot < thr, -1, 1).astype(np.int8))


def fc_b1_s32(n_in, x, w) -> np.ndarray:
    k, x, w = _fc_args(n_in, x, w)
    return (k - 2 * _counts(k, x, w)).astype(np.int32)


def fc_b1_f32(n_in, x, w, scale, bias=None) -> np.ndarray:
    dot = fc_b1_s32(n_in, x, w)
    n = dot.size
    scale = _per_out("scale", scale, np.float32, n)
    bias = None if bias is None else _per_out("bias", bias, np.float32, n)
    return _out_f32(dot, scale, bias)


def fc_b1_s8(n_in, x, w, mult, bias=None, shift=0) -> np.ndarray:
    dot = fc_b1_s32(n_in, x, w)
    n = dot.size
    mult = _per_out("mult", mult, np.int32, n)
    bias = None if bias is None else _per_out("bias", bias, np.int32, n)
    return _out_s8(dot, mult, bias, _shift(shift))


def fc_b1_bits(n_in, x, w, thr) -> np.ndarray:
    dot = fc_b1_s32(n_in, x, w)
    return _out_bits(dot.astype(np.int64), _thr(thr, dot.size, int(n_in)))


# --- conv1d ---------------------------------------------------------------------------------

def conv1d_b1_out_len(t_in, taps, stride=1, pad=0) -> int:
    t_in, taps, stride, pad = int(t_in), int(taps), int(stride), int(pad)
    if t_in < 1 or taps < 1 or stride < 1:
        raise ValueError("t_in, taps and stride must be >= 1")
    if pad < 0 or pad >= taps:
        raise ValueError("pad must lie in [0, taps - 1]")
    if t_in + 2 * pad < taps:
        raise ValueError("the padded input is shorter than the kernel")
    return (t_in + 2 * pad - taps) // stride + 1


def _conv_args(n_in, x, w, stride, pad):
    k = _k(n_in)
    nw = nwords(k)
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim != 2 or w.ndim != 3 or x.shape[0] == 0 or w.shape[0] == 0 or w.shape[1] == 0:
        raise ValueError("x must be [t_in][words] and w [n_out][taps][words]")
    x = _words("x", x, (x.shape[0], nw))
    w = _words("w", w, (w.shape[0], w.shape[1], nw))
    if w.shape[1] * k > MAX_K:
        raise ValueError(f"taps * n_in must be <= {MAX_K}")
    t_out = conv1d_b1_out_len(x.shape[0], w.shape[1], stride, pad)
    return k, x, w, int(stride), int(pad), t_out


def conv1d_b1_s32(n_in, x, w, stride=1, pad=0) -> np.ndarray:
    """dot[t][o] = sum_k dot(xp[t*stride + k], w[o][k]), xp = x with `pad` +1 frames each side."""
    k, x, w, stride, pad, t_out = _conv_args(n_in, x, w, stride, pad)
    taps = w.shape[1]
    zero = np.zeros((pad, x.shape[1]), np.uint32)
    xp = np.concatenate([zero, _clear_padding(x, k), zero], axis=0)
    y = np.zeros((t_out, w.shape[0]), np.int64)
    for tap in range(taps):
        frames = xp[tap: tap + (t_out - 1) * stride + 1: stride]  # [t_out][W]
        y += k - 2 * _counts(k, frames, w[:, tap, :])  # each tap is a K-long dot product
    return y.astype(np.int32)


def conv1d_b1_f32(n_in, x, w, scale, bias=None, stride=1, pad=0) -> np.ndarray:
    dot = conv1d_b1_s32(n_in, x, w, stride, pad)
    n = dot.shape[1]
    scale = _per_out("scale", scale, np.float32, n)
    bias = None if bias is None else _per_out("bias", bias, np.float32, n)
    return _out_f32(dot, scale, bias)


def conv1d_b1_s8(n_in, x, w, mult, bias=None, shift=0, stride=1, pad=0) -> np.ndarray:
    dot = conv1d_b1_s32(n_in, x, w, stride, pad)
    n = dot.shape[1]
    mult = _per_out("mult", mult, np.int32, n)
    bias = None if bias is None else _per_out("bias", bias, np.int32, n)
    return _out_s8(dot, mult, bias, _shift(shift))


def conv1d_b1_bits(n_in, x, w, thr, stride=1, pad=0) -> np.ndarray:
    dot = conv1d_b1_s32(n_in, x, w, stride, pad)
    taps = np.asarray(w).shape[1]
    return _out_bits(dot.astype(np.int64), _thr(thr, dot.shape[1], int(n_in) * taps))


# --- batch norm + sign folding -----------------------------------------------------------

def fold_bn_sign(w, n_in, gamma, beta, mean, var, eps=1e-3):
    """Fold batch norm then sign into integer thresholds for the _bits kernels (Larq convention).

    The layer computes s = sign(gamma * (dot - mean) / sqrt(var + eps) + beta) with sign(0) = +1
    (bit 1 iff the batch-norm output is < 0). Per channel, tau = mean - beta * sqrt(var + eps) / gamma:
      gamma > 0: bit = dot < tau  <=>  dot < ceil(tau)                    -> thr = ceil(tau)
      gamma < 0: bit = dot > tau; the channel's weights are flipped (dot' = -dot) and
                 bit = dot' < -tau  <=>  dot' < ceil(-tau)                -> thr = ceil(-tau)
      gamma = 0: constant output sign(beta): thr = K + 1 (always 1) if beta < 0 else -K (never).
    Thresholds are clipped to [-K, K + 1] (equivalent, since |dot| <= K). Computed in float64.
    `w` is packed weights [n_out][...][W] (fc or conv1d); returns (w_folded, thr int32).
    """
    k = _k(n_in)
    w = np.asarray(w, dtype=np.uint32)
    n = w.shape[0]
    g = np.asarray(gamma, np.float64).reshape(-1)
    b = np.asarray(beta, np.float64).reshape(-1)
    mu = np.asarray(mean, np.float64).reshape(-1)
    v = np.asarray(var, np.float64).reshape(-1)
    if not (g.size == b.size == mu.size == v.size == n):
        raise ValueError(f"gamma, beta, mean and var must have {n} entries")
    sd = np.sqrt(v + eps)
    if not np.all(np.isfinite(sd) & np.isfinite(g) & np.isfinite(b) & np.isfinite(mu)):
        raise ValueError("batch-norm parameters must be finite and var + eps > 0")
    flip = g < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = mu - b * sd / np.where(g == 0, 1.0, g)
    thr = np.where(flip, np.ceil(-tau), np.ceil(tau))
    thr = np.where(g == 0, np.where(b < 0, k + 1, -k), thr)
    thr = np.clip(thr, -k, k + 1).astype(np.int32)
    full = np.full(w.shape[-1], 0xFFFFFFFF, np.uint32)
    full[-1] = tail_mask(k)
    wf = w.copy()
    wf[flip] ^= full
    return wf, thr
