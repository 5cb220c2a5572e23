"""float -> Q15 / Q7 fixed point, per tensor or per channel (output row).

value ~= q * scale, with q = round_half_away(value / scale) saturated to the type's range.
With `pow2=True` the scale is 2^-frac_bits (a shift on the device); with `pow2=False` it is
real. Either way the scale chosen is the smallest one (the finest resolution) for which
no value saturates: max |value| / scale rounds into [qmin, qmax].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .report import ErrorReport

FORMATS = {"q15": (np.int16, -32768, 32767), "q7": (np.int8, -128, 127)}
FRAC_MIN, FRAC_MAX = -64, 64


@dataclass(frozen=True)
class FixedQuant:
    q: np.ndarray           # int16 (q15) or int8 (q7), same shape as the input
    scale: np.ndarray       # float64, one per channel (rows) or one element (per tensor)
    frac_bits: np.ndarray | None  # int, scale = 2^-frac_bits, when pow2; else None
    per_channel: bool
    error: ErrorReport

    def dequantize(self) -> np.ndarray:
        s = self.scale.reshape((-1,) + (1,) * (self.q.ndim - 1)) if self.per_channel else self.scale[0]
        return self.q.astype(np.float64) * s


def _round_half_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def _fits(m: np.ndarray, inv: np.ndarray, qmax: int) -> np.ndarray:
    """max-|value| m with inverse scale inv: does round(m * inv) stay <= qmax?"""
    return _round_half_away(m * inv) <= qmax


def quantize_fixed(w, fmt: str = "q15", per_channel: bool = True, pow2: bool = True) -> FixedQuant:
    """Quantise a float array (rows = output channels when per_channel) to Q15 or Q7."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {sorted(FORMATS)}")
    dtype, qmin, qmax = FORMATS[fmt]
    w = np.asarray(w, np.float64)
    if w.size == 0:
        raise ValueError("empty array")
    if not np.all(np.isfinite(w)):
        raise ValueError("values must be finite")
    if per_channel and w.ndim < 1:
        raise ValueError("per-channel quantisation needs at least one axis")
    rows = w.reshape(w.shape[0], -1) if per_channel else w.reshape(1, -1)
    # Positive values must round to <= qmax; negative ones to >= qmin, i.e. |v| <= -qmin.
    m = np.maximum(np.max(np.maximum(rows, 0), axis=1), np.max(np.maximum(-rows, 0), axis=1) * qmax / -qmin)
    frac = None
    if pow2:
        frac = np.zeros(m.size, np.int64)
        nz = m > 0
        f = np.full(m.size, FRAC_MAX, np.int64)
        est = np.floor(np.log2(qmax) - np.log2(m[nz])) + 1  # one too fine at most
        f[nz] = np.clip(est, FRAC_MIN, FRAC_MAX).astype(np.int64)
        # step down until the largest magnitude fits (log2 may be off by one at the edges)
        for _ in range(4):
            bad = nz & ~_fits(m, np.ldexp(1.0, f), qmax) & (f > FRAC_MIN)
            f[bad] -= 1
        if np.any(nz & ~_fits(m, np.ldexp(1.0, f), qmax)):
            raise ValueError(f"values too large for {fmt} with frac_bits >= {FRAC_MIN}")
        f[~nz] = 0  # an all-zero channel: any scale is exact; use 1.0
        frac = f
        scale = np.ldexp(1.0, -f)
    else:
        scale = np.where(m > 0, m / qmax, 1.0)
        # float rounding of m/qmax may let the largest value round past qmax: nudge up
        for _ in range(4):
            bad = (m > 0) & ~_fits(m, 1.0 / scale, qmax)
            scale[bad] = np.nextafter(scale[bad], np.inf)
    sb = scale.reshape((-1,) + (1,) * (rows.ndim - 1))
    q = np.clip(_round_half_away(rows / sb), qmin, qmax).astype(dtype).reshape(w.shape)
    deq = (q.reshape(rows.shape).astype(np.float64) * sb).reshape(w.shape)
    return FixedQuant(q, scale.astype(np.float64), frac, bool(per_channel), ErrorReport.of(w, deq))
