"""Numpy reference of the shift-and-add kernels (see kernels_c/include/eh_shiftadd.h).

Written from the header's equations, not from the C:

    power-of-two code c (uint8): c & 0x1F == 0 -> weight 0; else p = (c & 0x1F) - 16 in
        [-15, 15], sign bit 7 (1 = negative); bits 6..5 must be 0.
    shiftadd_fc_q15: acc = b[o]; for each nonzero weight in index order
        acc = sat32(acc +- (x * 2^p if p >= 0 else rshift(x, -p)));  y = sat16(rshift(acc, shift))
    bcq_fc_q15: S_k = sum_i B_k[m, i] x[i] with B = -1 where the bit is set, +1 where clear;
        acc = b[m] + sum_k (S_k * 2^e if e >= 0 else rshift(S_k, -e));  y = sat16(rshift(acc, shift))
    bcq_tables_q15: T_g[i] = sum_j (bit j of i ? -x[8g+j] : +x[8g+j]), zero-padded inputs.

rshift(a, s) = floor((a + 2^(s-1)) / 2^s), rshift(a, 0) = a.
"""
from __future__ import annotations

import numpy as np

from . import _checks as c
from .basic import I32_MAX, I32_MIN, _bias, _matrix, _sat, _shift, rshift_round

POW2_BIAS = 16
POW2_P_MIN, POW2_P_MAX = -15, 15
BCQ_MAX_IN = 65535
BCQ_MAX_Q = 8
BCQ_EXP_MAX = 24


def decode_pow2(codes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nonzero, negative, p) of power-of-two weight codes; ValueError on reserved bits."""
    cd = np.asarray(codes)
    if cd.dtype.kind not in "iub" or (cd.size and (cd.min() < 0 or cd.max() > 255)):
        raise ValueError("power-of-two codes must be uint8 values")
    cd = cd.astype(np.int64)
    if np.any(cd & 0x60):
        raise ValueError("power-of-two code with reserved bits 6..5 set")
    e = cd & 0x1F
    return e != 0, (cd & 0x80) != 0, e - POW2_BIAS


def shiftadd_fc_q15(x, w, b=None, shift=0):
    """Power-of-two weight dense layer (shifts and saturating adds only)."""
    x = c.vector("x", x, np.int16)
    w = _matrix("w", w, np.uint8, x.size)
    acc = _bias(b, np.int32, w.shape[0]).astype(np.int64)
    sh = _shift(shift)
    nz, neg, p = decode_pow2(w)
    xx = np.broadcast_to(x.astype(np.int64), w.shape)
    left = xx * (np.int64(1) << np.maximum(p, 0))
    k = np.maximum(-p, 0)
    right = (xx + ((np.int64(1) << k) >> 1)) >> k  # rshift(x, k), rshift(x, 0) = x
    t = np.where(p >= 0, left, right)
    t = np.where(nz, np.where(neg, -t, t), 0)
    if np.all(np.abs(acc) + np.abs(t).sum(axis=1) <= I32_MAX):
        acc = acc + t.sum(axis=1)  # no partial sum can reach a limit: nothing saturates
    else:
        for i in range(t.shape[1]):
            acc = np.clip(acc + t[:, i], I32_MIN, I32_MAX)
    return _sat(rshift_round(acc, sh), -32768, 32767, np.int16)


def bcq_table_len(n_in: int) -> int:
    """int32 entries of table scratch for n_in inputs: 256 * ceil(n_in / 8); 0 if unsupported."""
    n_in = int(n_in)
    if n_in <= 0 or n_in > BCQ_MAX_IN:
        return 0
    return 256 * ((n_in + 7) // 8)


def _bcq_x(x):
    x = c.vector("x", x, np.int16)
    if x.size > BCQ_MAX_IN:
        raise ValueError(f"n_in must be at most {BCQ_MAX_IN}")
    return x


def bcq_tables_q15(x):
    """The G = ceil(n_in/8) partial-sum tables of x, shape (G, 256), int32."""
    x = _bcq_x(x)
    g = (x.size + 7) // 8
    xs = np.zeros(8 * g, np.int64)
    xs[:x.size] = x
    xs = xs.reshape(g, 8)
    bits = (np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1  # (256, 8)
    signs = 1 - 2 * bits
    return (xs @ signs.T).astype(np.int32)


def unpack_bcq_bits(w, n_in: int) -> np.ndarray:
    """Words [n_out, q, n_words] (uint32) -> signs [n_out, q, n_in] in {-1, +1} (set bit = -1)."""
    w = np.asarray(w)
    if w.ndim != 3:
        raise ValueError(f"w must be [n_out, q, n_words] uint32 words, got shape {w.shape}")
    if w.dtype.kind not in "iu" or (w.size and (w.min() < 0 or w.max() > 0xFFFFFFFF)):
        raise ValueError("w must hold uint32 values")
    n_words = (n_in + 31) // 32
    if w.shape[2] != n_words:
        raise ValueError(f"w has {w.shape[2]} words per row, expected {n_words} for n_in={n_in}")
    bits = (w.astype(np.uint64)[..., None] >> np.arange(32, dtype=np.uint64)) & np.uint64(1)
    bits = bits.reshape(w.shape[0], w.shape[1], 32 * n_words)[..., :n_in]
    return (1 - 2 * bits.astype(np.int64))


def bcq_fc_q15(x, w, alpha_exp, b=None, shift=0):
    """Binary-coding-quantised dense layer: y = sat16(rshift(b + sum_k 2^e_k (B_k x), shift)).

    w: uint32 words [n_out, q, ceil(n_in/32)]; alpha_exp: int8 [n_out, q] in [-24, 24].
    """
    x = _bcq_x(x)
    n_in = x.size
    wa = np.asarray(w)
    if wa.ndim != 3 or wa.shape[0] == 0:
        raise ValueError(f"w must be [n_out, q, n_words] uint32 words, got shape {wa.shape}")
    n_out, q = wa.shape[0], wa.shape[1]
    if not 1 <= q <= BCQ_MAX_Q:
        raise ValueError(f"q must lie in [1, {BCQ_MAX_Q}], got {q}")
    signs = unpack_bcq_bits(wa, n_in)
    e = np.asarray(alpha_exp)
    if e.shape != (n_out, q):
        raise ValueError(f"alpha_exp must have shape {(n_out, q)}, got {e.shape}")
    e = c.vector("alpha_exp", e.ravel(), np.int8).astype(np.int64).reshape(n_out, q)
    if np.any(np.abs(e) > BCQ_EXP_MAX):
        raise ValueError(f"alpha_exp must lie in [-{BCQ_EXP_MAX}, {BCQ_EXP_MAX}]")
    acc = _bias(b, np.int32, n_out).astype(np.int64)
    sh = _shift(shift, 62)
    s = np.einsum("mki,i->mk", signs, x.astype(np.int64))
    k = np.maximum(-e, 0)
    terms = np.where(e >= 0, s * (np.int64(1) << np.maximum(e, 0)), (s + ((np.int64(1) << k) >> 1)) >> k)
    acc = acc + terms.sum(axis=1)
    return _sat(rshift_round(acc, sh), -32768, 32767, np.int16)
