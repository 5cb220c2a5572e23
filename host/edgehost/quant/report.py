"""Quantisation error report shared by the quantisers."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ErrorReport:
    """Error of an approximation `approx` of `ref`: max |err|, RMS err, SQNR in dB.

    sqnr_db = 10 log10(sum ref^2 / sum err^2); +inf when the error is zero, -inf when the
    reference is all zero but the error is not.
    """
    max_abs: float
    rms: float
    sqnr_db: float

    @staticmethod
    def of(ref, approx) -> "ErrorReport":
        r = np.asarray(ref, np.float64)
        e = np.asarray(approx, np.float64) - r
        if e.size == 0:
            raise ValueError("empty array")
        se, sr = float(np.sum(e * e)), float(np.sum(r * r))
        if se == 0.0:
            sqnr = float("inf")
        elif sr == 0.0:
            sqnr = float("-inf")
        else:
            sqnr = 10.0 * np.log10(sr / se)
        return ErrorReport(float(np.max(np.abs(e))), float(np.sqrt(se / e.size)), float(sqnr))
