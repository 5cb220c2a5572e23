"""Binary-coding quantisation (BCQ, ShiftAddLLM) for eh_bcq_fc_q15.

Each output row m is approximated by q binary planes, W[m] ~= sum_k alpha[m, k] B[m, k],
B in {-1, +1}, alpha >= 0, fitted by alternating least squares:

1. greedy residual init: r = W[m]; for k: B_k = sign(r) (sign(0) = +1), alpha_k = mean |r|,
   r -= alpha_k B_k;
2. repeat `iters` times: fix B, solve alpha by least squares (per row, q unknowns); fix alpha,
   choose each column's sign pattern (B[m, :, i] in {-1, +1}^q) to minimise
   (W[m, i] - alpha . b)^2, by exhaustive search over the 2^q patterns (`search="exhaustive"`)
   or by one sweep of coordinate descent over the planes (`search="greedy"`). Both steps are
   minimisations over one block of variables, so the error never increases (within float noise).
3. alphas rounded to powers of two (nearest in the log domain, exponents clipped to
   [exp_min, exp_max]); `error_before` and `error_after` report the approximation error with
   the real and with the rounded alphas.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .report import ErrorReport

Q_MAX = 8
EXP_MIN, EXP_MAX = -24, 24


@dataclass(frozen=True)
class BcqQuant:
    signs: np.ndarray        # int8 [n_out, q, n_in] in {-1, +1}
    alphas: np.ndarray       # float64 [n_out, q], >= 0 (least-squares fit)
    alpha_exp: np.ndarray    # int8 [n_out, q]: alphas rounded to 2^alpha_exp
    error_before: ErrorReport  # with the real alphas
    error_after: ErrorReport   # with the power-of-two alphas
    history: list = field(default_factory=list)  # squared error after init and each iteration

    def reconstruct(self, pow2: bool = True) -> np.ndarray:
        a = np.ldexp(1.0, self.alpha_exp.astype(np.int64)) if pow2 else self.alphas
        return np.einsum("mk,mki->mi", a, self.signs.astype(np.float64))

    def packed(self) -> np.ndarray:
        return pack_bcq_bits(self.signs)


def _sign(v):
    return np.where(v < 0, -1.0, 1.0)


def _patterns(q: int) -> np.ndarray:
    """All 2^q sign patterns, [2^q, q]."""
    idx = np.arange(1 << q)[:, None] >> np.arange(q)[None, :]
    return 1.0 - 2.0 * (idx & 1)


def _fit_alphas(w, B):
    """Least-squares alphas per row (B fixed), made non-negative by flipping planes."""
    n_out, q, _ = B.shape
    a = np.empty((n_out, q))
    for m in range(n_out):
        a[m] = np.linalg.lstsq(B[m].T, w[m], rcond=None)[0]
    neg = a < 0
    a = np.abs(a)
    B = np.where(neg[:, :, None], -B, B)
    return a, B


def _pick_signs(w, a, B, search):
    n_out, q, n_in = B.shape
    if search == "exhaustive":
        P = _patterns(q)                          # [2^q, q]
        vals = a @ P.T                            # [n_out, 2^q]
        order = np.argsort(vals, axis=1)
        sv = np.take_along_axis(vals, order, axis=1)
        out = np.empty_like(B)
        for m in range(n_out):
            j = np.clip(np.searchsorted(sv[m], w[m]), 1, sv.shape[1] - 1)
            lo, hi = sv[m, j - 1], sv[m, j]
            pick = np.where(np.abs(w[m] - lo) <= np.abs(hi - w[m]), j - 1, j)
            # nearest representable value; ties keep the lower index: deterministic
            out[m] = P[order[m, pick]].T
        # keep the old pattern where it was already as good (no change within float noise)
        old = np.einsum("mk,mki->mi", a, B)
        new = np.einsum("mk,mki->mi", a, out)
        keep = np.abs(w - old) <= np.abs(w - new)
        return np.where(keep[:, None, :], B, out)
    B = B.copy()
    for k in range(q):  # coordinate descent: plane k is the sign of what the others leave
        rest = w - np.einsum("mj,mji->mi", a, B) + a[:, k:k + 1] * B[:, k]
        B[:, k] = np.where(a[:, k:k + 1] > 0, _sign(rest), B[:, k])
    return B


def _sq_err(w, a, B) -> float:
    return float(np.sum((w - np.einsum("mk,mki->mi", a, B)) ** 2))


def round_alphas_pow2(alphas, exp_min: int = EXP_MIN, exp_max: int = EXP_MAX) -> np.ndarray:
    """Nearest power of two in the log domain, exponent clipped; alpha 0 -> exp_min."""
    a = np.asarray(alphas, np.float64)
    with np.errstate(divide="ignore"):
        e = np.round(np.log2(np.where(a > 0, a, 1.0)))
    e = np.where(a > 0, e, exp_min)
    return np.clip(e, exp_min, exp_max).astype(np.int8)


def greedy_init(w, q: int):
    """Greedy residual binary coding: (alphas [n_out, q], signs [n_out, q, n_in] float)."""
    r = np.array(w, np.float64, copy=True)
    n_out, n_in = r.shape
    a = np.zeros((n_out, q))
    B = np.empty((n_out, q, n_in))
    for k in range(q):
        B[:, k] = _sign(r)
        a[:, k] = np.mean(np.abs(r), axis=1)
        r -= a[:, k:k + 1] * B[:, k]
    return a, B


def fit_bcq(w, q: int, iters: int = 10, search: str = "exhaustive",
            exp_min: int = EXP_MIN, exp_max: int = EXP_MAX) -> BcqQuant:
    """Fit W [n_out, n_in] with q binary planes per row (see the module docstring)."""
    w = np.asarray(w, np.float64)
    if w.ndim != 2 or w.size == 0:
        raise ValueError("w must be a non-empty 2-D [n_out, n_in] matrix")
    if not np.all(np.isfinite(w)):
        raise ValueError("w must be finite")
    if not isinstance(q, (int, np.integer)) or not 1 <= q <= Q_MAX:
        raise ValueError(f"q must be an integer in [1, {Q_MAX}]")
    if search not in ("exhaustive", "greedy"):
        raise ValueError("search must be 'exhaustive' or 'greedy'")
    if iters < 0:
        raise ValueError("iters must be >= 0")
    if not EXP_MIN <= exp_min <= exp_max <= EXP_MAX:
        raise ValueError(f"need {EXP_MIN} <= exp_min <= exp_max <= {EXP_MAX}")
    a, B = greedy_init(w, q)
    history = [_sq_err(w, a, B)]
    for _ in range(iters):
        a, B = _fit_alphas(w, B)
        B = _pick_signs(w, a, B, search)
        history.append(_sq_err(w, a, B))
    e = round_alphas_pow2(a, exp_min, exp_max)
    before = ErrorReport.of(w, np.einsum("mk,mki->mi", a, B))
    after = ErrorReport.of(w, np.einsum("mk,mki->mi", np.ldexp(1.0, e.astype(np.int64)), B))
    return BcqQuant(B.astype(np.int8), a, e, before, after, history)


def pack_bcq_bits(signs) -> np.ndarray:
    """Signs [n_out, q, n_in] in {-1, +1} -> uint32 words [n_out, q, ceil(n_in/32)]: bit t of
    word j is 1 iff sign[32 j + t] == -1; padding bits are 0."""
    s = np.asarray(signs)
    if s.ndim != 3 or s.size == 0:
        raise ValueError("signs must be a non-empty [n_out, q, n_in] array")
    if not np.all((s == 1) | (s == -1)):
        raise ValueError("signs must hold -1 or +1")
    n_out, q, n_in = s.shape
    n_words = (n_in + 31) // 32
    bits = np.zeros((n_out, q, 32 * n_words), np.uint64)
    bits[..., :n_in] = (s < 0)
    bits = bits.reshape(n_out, q, n_words, 32) << np.arange(32, dtype=np.uint64)
    return bits.sum(axis=3).astype(np.uint32)


def unpack_bcq_bits(words, n_in: int) -> np.ndarray:
    """The inverse of pack_bcq_bits: int8 signs [n_out, q, n_in]."""
    w = np.asarray(words)
    if w.ndim != 3 or w.shape[2] != (n_in + 31) // 32:
        raise ValueError("words must be [n_out, q, ceil(n_in/32)]")
    bits = (w.astype(np.uint64)[..., None] >> np.arange(32, dtype=np.uint64)) & np.uint64(1)
    bits = bits.reshape(w.shape[0], w.shape[1], -1)[..., :n_in]
    return (1 - 2 * bits.astype(np.int64)).astype(np.int8)
