"""Power-of-two weight quantisation for eh_shiftadd_fc_q15.

Each weight becomes 0 or sign * 2^p with p in [p_min, p_max] (by default the kernel's
[-15, 15]): p = round(log2 |w|) (nearest in the log domain), clipped to the range; weights with
|w| < zero_threshold become 0. The default threshold, 2^(p_min - 1), sends to zero what is
nearer (linearly) to 0 than to 2^p_min.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .report import ErrorReport

POW2_BIAS = 16
P_MIN, P_MAX = -15, 15


@dataclass(frozen=True)
class Pow2Quant:
    codes: np.ndarray   # uint8 codes in the layout of eh_shiftadd.h
    values: np.ndarray  # the float64 weights the codes stand for
    error: ErrorReport


def encode_pow2(sign, p, nonzero) -> np.ndarray:
    """uint8 codes: 0 for zero, else (0x80 if negative) | (p + 16), p in [-15, 15]."""
    p = np.asarray(p, np.int64)
    nonzero = np.asarray(nonzero, bool)
    if np.any(nonzero & ((p < P_MIN) | (p > P_MAX))):
        raise ValueError(f"p must lie in [{P_MIN}, {P_MAX}]")
    code = np.where(nonzero, (p + POW2_BIAS) | np.where(np.asarray(sign) < 0, 0x80, 0), 0)
    return code.astype(np.uint8)


def decode_pow2(codes) -> np.ndarray:
    """The float64 weights of uint8 codes (ValueError on reserved bits)."""
    c = np.asarray(codes)
    if c.dtype.kind not in "iub" or (c.size and (c.min() < 0 or c.max() > 255)):
        raise ValueError("codes must be uint8 values")
    c = c.astype(np.int64)
    if np.any(c & 0x60):
        raise ValueError("code with reserved bits 6..5 set")
    e = c & 0x1F
    v = np.ldexp(1.0, e - POW2_BIAS) * np.where(c & 0x80, -1.0, 1.0)
    return np.where(e == 0, 0.0, v)


def quantize_pow2(w, p_min: int = P_MIN, p_max: int = P_MAX, zero_threshold: float | None = None) -> Pow2Quant:
    if not P_MIN <= p_min <= p_max <= P_MAX:
        raise ValueError(f"need {P_MIN} <= p_min <= p_max <= {P_MAX}")
    w = np.asarray(w, np.float64)
    if w.size == 0 or not np.all(np.isfinite(w)):
        raise ValueError("weights must be a non-empty finite array")
    thr = np.ldexp(1.0, p_min - 1) if zero_threshold is None else float(zero_threshold)
    if not thr >= 0:
        raise ValueError("zero_threshold must be >= 0")
    a = np.abs(w)
    nonzero = (a >= thr) & (a > 0)
    with np.errstate(divide="ignore"):
        p = np.clip(np.round(np.log2(np.where(nonzero, a, 1.0))), p_min, p_max).astype(np.int64)
    codes = encode_pow2(np.sign(w), p, nonzero)
    vals = decode_pow2(codes)
    return Pow2Quant(codes, vals, ErrorReport.of(w, vals))
