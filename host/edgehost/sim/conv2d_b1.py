"""Binary (XNOR/popcount) 2-D convolution (kernels_c/include/eh_conv2d.h, eh_conv2d_b1_*),
numpy reference written from the header.

Packing (eh_binary.h's, channels innermost): the input's c_in channels of each pixel in
CW = ceil(c_in / 32) uint32 words, x (h_in, w_in, CW); weights w (c_out, k_h, k_w, CW); bit 1 is
the value -1, bit 0 is +1; the padding bits of each pixel's last word are ignored.
pad_value: 0, padding taps contribute nothing (PyTorch zero padding of a +-1 tensor, Larq's
default pad_values=0); 1, padding taps are +1 values (Larq pad_values=1, conv1d_b1's padding).

    dot[o, oy, ox] = sum over the counted taps and channels of x * w (as +-1 values)
                   = n * c_in - 2 * (number of differing bits over them)
    conv2d_b1_s32:  y (c_out, h_out, w_out) int32 = dot
    conv2d_b1_bits: y (h_out, w_out, ceil(c_out / 32)) uint32, bit o = dot < thr[o],
                    thr in [-N, N + 1], N = k_h * k_w * c_in
stride, padding and dilation take the forms of edgehost.sim.conv2d (int, (h, w), (top, left,
bottom, right), "valid", "same"); groups are 1.
"""
from __future__ import annotations

import numpy as np

from .binary import nwords, pack_bits, tail_mask, unpack_bits
from .conv2d import MAX_DIM, _ints, conv2d_out_size, conv2d_padding

MAX_N = 1 << 24
PAD_ZERO, PAD_ONE = 0, 1


def conv2d_b1_pack_input(x) -> np.ndarray:
    """(c, h, w) values (bit = value < 0: -1 -> 1; 0 and +1 -> 0) -> (h, w, ceil(c / 32)) words."""
    a = np.asarray(x)
    if a.ndim != 3 or a.size == 0:
        raise ValueError(f"x must be a non-empty (c, h, w) array, got shape {a.shape}")
    return pack_bits(np.moveaxis(a, 0, -1))


def conv2d_b1_pack_weights(w) -> np.ndarray:
    """PyTorch's (c_out, c_in, k_h, k_w) values -> (c_out, k_h, k_w, ceil(c_in / 32)) words."""
    a = np.asarray(w)
    if a.ndim != 4 or a.size == 0:
        raise ValueError(f"w must be a non-empty (c_out, c_in, k_h, k_w) array, got shape {a.shape}")
    return pack_bits(np.moveaxis(a, 1, -1))


def _words(name, a, ndim):
    v = np.asarray(a)
    if v.ndim != ndim or v.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array of uint32 words, got shape {v.shape}")
    if v.dtype.kind not in "iu" or v.min() < 0 or v.max() > 0xFFFFFFFF:
        raise ValueError(f"{name} must hold uint32 words")
    return v.astype(np.uint32)


def _args(c_in, x, w, stride, padding, dilation, pad_value):
    c_in = int(c_in)
    if c_in < 1 or c_in > MAX_DIM:
        raise ValueError(f"c_in must lie in [1, {MAX_DIM}], got {c_in}")
    cw = nwords(c_in)
    x = _words("x", x, 3)
    w = _words("w", w, 4)
    if x.shape[2] != cw or w.shape[3] != cw:
        raise ValueError(f"x and w need {cw} words per pixel / tap for c_in={c_in}, got {x.shape[2]} and {w.shape[3]}")
    c_out, k_h, k_w = w.shape[:3]
    h_out, w_out = conv2d_out_size(c_in, x.shape[0], x.shape[1], c_out, k_h, k_w, stride, padding, dilation, 1)
    pv = _ints("pad_value", pad_value, 1)[0]
    if pv not in (PAD_ZERO, PAD_ONE):
        raise ValueError("pad_value must be 0 (padding excluded) or 1 (padding is +1)")
    n = k_h * k_w * c_in
    if n > MAX_N:
        raise ValueError(f"k_h * k_w * c_in must be at most {MAX_N}, got {n}")
    geo = dict(s=_ints("stride", stride, 2), d=_ints("dilation", dilation, 2),
               p=conv2d_padding(padding, k_h, k_w, stride, dilation), out=(h_out, w_out), pv=pv)
    return c_in, x, w, geo, n


def _dots(c_in, x, w, geo):
    (sh, sw), (dh, dw), (pt, pl, pb, pr), (ho, wo), pv = geo["s"], geo["d"], geo["p"], geo["out"], geo["pv"]
    xv = np.moveaxis(unpack_bits(x, c_in).astype(np.int64), -1, 0)   # (c, h, w) of +-1
    wv = unpack_bits(w, c_in).astype(np.int64)                        # (c_out, k_h, k_w, c)
    c, h, wd = xv.shape
    xp = np.full((c, h + pt + pb, wd + pl + pr), pv, np.int64)
    xp[:, pt:pt + h, pl:pl + wd] = xv
    acc = np.zeros((w.shape[0], ho, wo), np.int64)
    for ky in range(w.shape[1]):
        for kx in range(w.shape[2]):
            xs = xp[:, ky * dh: ky * dh + (ho - 1) * sh + 1: sh, kx * dw: kx * dw + (wo - 1) * sw + 1: sw]
            acc += np.tensordot(wv[:, ky, kx, :], xs, axes=(1, 0))
    return acc


def conv2d_b1_s32(c_in, x, w, stride=1, padding=0, dilation=1, pad_value=PAD_ZERO) -> np.ndarray:
    """dot (c_out, h_out, w_out) int32 of the packed input x (h, w, CW) and weights w (c_out, k_h, k_w, CW)."""
    c_in, x, w, geo, _n = _args(c_in, x, w, stride, padding, dilation, pad_value)
    return _dots(c_in, x, w, geo).astype(np.int32)


def conv2d_b1_bits(c_in, x, w, thr, stride=1, padding=0, dilation=1, pad_value=PAD_ZERO) -> np.ndarray:
    """Bits (h_out, w_out, ceil(c_out / 32)): bit o = dot < thr[o] (the value -1), padding bits 0."""
    c_in, x, w, geo, n = _args(c_in, x, w, stride, padding, dilation, pad_value)
    c_out = w.shape[0]
    t = np.asarray(thr)
    if t.ndim != 1 or t.size != c_out:
        raise ValueError(f"thr must have {c_out} entries")
    if t.dtype.kind not in "iu" or t.min() < -n or t.max() > n + 1:
        raise ValueError(f"thr must lie in [-N, N + 1] = [{-n}, {n + 1}]")
    bits = _dots(c_in, x, w, geo) < t.astype(np.int64)[:, None, None]
    return pack_bits(np.where(np.moveaxis(bits, 0, -1), -1, 1).astype(np.int8))


def conv2d_b1_fold_bn_sign(w, c_in, gamma, beta, mean, var, eps=1e-3):
    """Batch norm then sign after a binary conv2d, folded into (w_folded, thr int32) for
    conv2d_b1_bits (Larq's convention, as edgehost.sim.binary.fold_bn_sign for fc / conv1d):
    the output is sign(gamma * (dot - mean) / sqrt(var + eps) + beta) with sign(0) = +1, i.e.
    bit 1 iff that is < 0. With tau = mean - beta * sqrt(var + eps) / gamma:
      gamma > 0: bit = dot < ceil(tau)                 -> thr = ceil(tau)
      gamma < 0: the channel's weights are flipped (dot' = -dot), bit = dot' < ceil(-tau)
      gamma = 0: constant sign(beta): thr = N + 1 (always -1) if beta < 0, else -N (never).
    Thresholds are clipped to [-N, N + 1], N = k_h * k_w * c_in (|dot| <= N). float64.
    Padding taps: with pad_value 1 a flipped channel's padding taps contribute -sum(w) instead of
    sum(w), exactly -dot, so the fold holds for both pad values."""
    c_in = int(c_in)
    w = _words("w", w, 4)
    if c_in < 1 or w.shape[3] != nwords(c_in):
        raise ValueError(f"w needs {nwords(c_in)} words per tap for c_in={c_in}")
    n_out = w.shape[0]
    n = w.shape[1] * w.shape[2] * c_in
    g = np.asarray(gamma, np.float64).reshape(-1)
    b = np.asarray(beta, np.float64).reshape(-1)
    mu = np.asarray(mean, np.float64).reshape(-1)
    v = np.asarray(var, np.float64).reshape(-1)
    if not (g.size == b.size == mu.size == v.size == n_out):
        raise ValueError(f"gamma, beta, mean and var must have {n_out} entries")
    sd = np.sqrt(v + eps)
    if not np.all(np.isfinite(sd) & np.isfinite(g) & np.isfinite(b) & np.isfinite(mu)):
        raise ValueError("batch-norm parameters must be finite and var + eps > 0")
    flip = g < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = mu - b * sd / np.where(g == 0, 1.0, g)
    thr = np.where(flip, np.ceil(-tau), np.ceil(tau))
    thr = np.where(g == 0, np.where(b < 0, n + 1, -n), thr)
    thr = np.clip(thr, -n, n + 1).astype(np.int32)
    full = np.full(w.shape[-1], 0xFFFFFFFF, np.uint32)
    full[-1] = tail_mask(c_in)
    wf = w.copy()
    wf[flip] ^= full
    return wf, thr
