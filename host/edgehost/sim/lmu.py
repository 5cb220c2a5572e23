"""Numpy reference of the Legendre Memory Unit family (see kernels_c/include/eh_lmu.h).

Written from the equations, not from the C.

LMU (Voelker et al. 2019), d = order, theta in steps:
    theta m'(t) = A m(t) + B u(t),  A_ij = (2i+1) * (-1 if i < j else (-1)^(i-j+1)),
    B_i = (2i+1) (-1)^i; zero-order hold with dt = 1 step (lmu_zoh):
    Abar = expm(A/theta), Bbar = (A/theta)^-1 (Abar - I) (B/theta) = A^-1 (Abar - I) B.
    u_t = E_x x_t + E_h h_{t-1} + E_m m_{t-1};  m_t[c] = Abar m_{t-1}[c] + Bbar u_t[c];
    h_t = f(W_x x_t + W_h h_{t-1} + W_m m_t + b_h)
    u(t - r theta) ~= sum_i P_i(2r - 1) m_i(t) with P_i the Legendre polynomials (lmu_delay_decoder).

L2MU (Fra et al. 2024): the same blocks as populations of LIF / current-based LIF neurons
(edgehost.sim.lif), driven by spikes; see l2mu_step_f32 for the dictionaries that describe a cell.

float32 rounds once per operation in the order the header states (sums are sequential over the
input index, never pairwise), so the C kernels built with -ffp-contract=off agree bit for bit.
Q15 uses int64 sums, per-matrix round-half-up shifts and one saturation to int16 per value.
"""
from __future__ import annotations

import math

import numpy as np

from . import _checks as c
from . import lif as _lif

MAX_DIM = 65535
MAX_SHIFT = 31
ACTS = {"identity": 0, "relu": 1, "hardtanh": 2, "tanh": 3}
READOUTS = {"lif": 0, "li": 1}


# ---------------------------------------------------------------------------------------------
# The Legendre delay system


def lmu_matrices(order: int) -> tuple[np.ndarray, np.ndarray]:
    """The continuous-time (A [d, d], B [d]) of the Legendre delay system, float64."""
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    a = (2 * i + 1) * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    b = (2 * np.arange(order) + 1) * (-1.0) ** np.arange(order)
    return a.astype(np.float64), b.astype(np.float64)


def _expm(m: np.ndarray) -> np.ndarray:
    """Matrix exponential by scaling and squaring of a degree-18 Taylor polynomial (float64)."""
    norm = np.abs(m).sum(axis=1).max() if m.size else 0.0
    s = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0.5 else 0
    x = m / (2.0 ** s)
    term = np.eye(m.shape[0])
    out = term.copy()
    for k in range(1, 19):
        term = term @ x / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def lmu_zoh(order: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Zero-order-hold discretisation (dt = 1 step) of the Legendre delay system over a window
    of `theta` steps: (Abar [d, d], Bbar [d]) in float64.

    Abar = expm(A/theta); Bbar = (A/theta)^-1 (Abar - I) (B/theta) = A^-1 (Abar - I) B. (The
    theta factors cancel: this is exactly scipy.signal.cont2discrete((A/theta, B/theta, ...),
    dt=1, method="zoh").)
    """
    theta = float(theta)
    if not (math.isfinite(theta) and theta > 0):
        raise ValueError(f"theta must be > 0 and finite, got {theta!r}")
    a, b = lmu_matrices(order)
    abar = _expm(a / theta)
    bbar = np.linalg.solve(a, (abar - np.eye(order)) @ b)
    return abar, bbar


def lmu_delay_decoder(order: int, r: float = 1.0) -> np.ndarray:
    """Weights w [d] such that u(t - r*theta) ~= w . m(t), for r in [0, 1]: the shifted Legendre
    polynomials P_i(2r - 1) (Bonnet's recursion)."""
    if not (0.0 <= r <= 1.0):
        raise ValueError("r must lie in [0, 1]")
    lmu_matrices(order)  # validates order
    x = 2.0 * r - 1.0
    p = np.empty(order)
    p[0] = 1.0
    if order > 1:
        p[1] = x
    for n in range(1, order - 1):
        p[n + 1] = ((2 * n + 1) * x * p[n] - n * p[n - 1]) / (n + 1)
    return p


def quantize_q15(mat, max_frac: int = MAX_SHIFT) -> tuple[np.ndarray, int, float]:
    """Quantise a float matrix to int16 with F fractional bits: q = round(mat * 2^F), F the
    largest integer in [0, max_frac] with every |q| <= 32767 (entries may exceed 1 in magnitude:
    F is then below 15). Returns (q int16, F, max |q / 2^F - mat|). Use F as the rounding shift
    of the product (e.g. s_a = F for Abar when m keeps its scale)."""
    m = np.asarray(mat, dtype=np.float64)
    if m.size == 0 or not np.all(np.isfinite(m)):
        raise ValueError("matrix must be non-empty and finite")
    if not (0 <= max_frac <= MAX_SHIFT):
        raise ValueError(f"max_frac must lie in [0, {MAX_SHIFT}]")
    peak = float(np.abs(m).max())
    frac = max_frac
    while frac > 0 and np.round(peak * 2.0 ** frac) > 32767:
        frac -= 1
    q = np.round(m * 2.0 ** frac)
    if np.abs(q).max() > 32767:
        raise ValueError(f"matrix peak {peak} does not fit int16 even with 0 fractional bits")
    q = q.astype(np.int16)
    err = float(np.abs(q.astype(np.float64) / 2.0 ** frac - m).max())
    return q, frac, err


def lmu_quantize_q15(abar, bbar, max_frac: int = MAX_SHIFT) -> dict:
    """Q15-style int16 Abar / Bbar, each with its own fractional-bit count:
    {"a", "a_frac", "a_err", "b", "b_frac", "b_err"} (errors are max absolute)."""
    a, fa, ea = quantize_q15(abar, max_frac)
    b, fb, eb = quantize_q15(bbar, max_frac)
    return {"a": a, "a_frac": fa, "a_err": ea, "b": b, "b_frac": fb, "b_err": eb}


# ---------------------------------------------------------------------------------------------
# helpers


def _sat16(a) -> np.ndarray:
    return np.clip(a, -32768, 32767).astype(np.int16)


def _rs(v, s: int) -> np.ndarray:
    """Round-half-up right shift of int64 values."""
    v = np.asarray(v, dtype=np.int64)
    if s == 0:
        return v
    return (v + (np.int64(1) << np.int64(s - 1))) >> np.int64(s)


def _shift(name: str, s) -> int:
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not (0 <= int(s) <= MAX_SHIFT):
        raise ValueError(f"{name} must be an integer in [0, {MAX_SHIFT}], got {s!r}")
    return int(s)


def _dim(name: str, n: int) -> int:
    if not (1 <= n <= MAX_DIM):
        raise ValueError(f"{name} = {n} must lie in [1, {MAX_DIM}]")
    return n


def _mat(name: str, a, dtype, shape: tuple[int, ...] | None = None, ndim: int = 2) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
    if arr.dtype != dtype:
        if np.issubdtype(np.dtype(dtype), np.integer):
            info = np.iinfo(dtype)
            if arr.dtype.kind not in "iub" or arr.min() < info.min or arr.max() > info.max:
                raise ValueError(f"{name} must hold {np.dtype(dtype).name} values")
        arr = arr.astype(dtype)
    return arr


def _opt(name, a, dtype, shape, ndim=2):
    return None if a is None else _mat(name, a, dtype, shape, ndim)


def _act(act: str) -> int:
    try:
        return ACTS[act]
    except KeyError:
        raise ValueError(f"act must be one of {sorted(ACTS)}, got {act!r}") from None


def _dot_f32(acc: np.ndarray, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """acc[o] += w[o, k] * v[k] for k = 0.., one float32 rounding per operation."""
    for k in range(v.size):
        acc = acc + w[:, k] * v[k]
    return acc


def tanh_f32(v) -> np.ndarray:
    """The kernels' rational tanh: a [7/6] Pade approximant, operation by operation in float32
    (input clamped to [-5, 5], output to [-1, 1]); max |error| vs tanh below 1e-4."""
    f = np.float32
    v = np.asarray(v, dtype=np.float32)
    v = np.where(v > f(5), f(5), v)
    v = np.where(v < f(-5), f(-5), v)
    x2 = v * v
    p = x2 + f(378)
    p = p * x2
    p = p + f(17325)
    p = p * x2
    p = p + f(135135)
    p = p * v
    q = f(28) * x2
    q = q + f(3150)
    q = q * x2
    q = q + f(62370)
    q = q * x2
    q = q + f(135135)
    y = p / q
    y = np.where(y > f(1), f(1), y)
    y = np.where(y < f(-1), f(-1), y)
    return y.astype(np.float32)


def _act_f32(code: int, v: np.ndarray) -> np.ndarray:
    f = np.float32
    if code == 1:
        return np.where(v > f(0), v, f(0)).astype(np.float32)
    if code == 2:
        return np.where(v > f(1), f(1), np.where(v < f(-1), f(-1), v)).astype(np.float32)
    if code == 3:
        return tanh_f32(v)
    return v


class _LmuShapes:
    def __init__(self, x, m, h, e_x, a, b, w_m, dtype):
        self.e_x = _mat("e_x", e_x, dtype)
        self.n_u, self.n_x = self.e_x.shape
        self.a = _mat("a", a, dtype)
        self.order = self.a.shape[0]
        if self.a.shape != (self.order, self.order):
            raise ValueError(f"a must be square, got shape {self.a.shape}")
        self.w_m = _mat("w_m", w_m, dtype)
        self.n_h = self.w_m.shape[0]
        for name, n in (("n_x", self.n_x), ("n_h", self.n_h), ("n_u", self.n_u), ("order", self.order)):
            _dim(name, n)
        self.n_m = _dim("n_u * order", self.n_u * self.order)
        if self.w_m.shape != (self.n_h, self.n_m):
            raise ValueError(f"w_m has shape {self.w_m.shape}, expected ({self.n_h}, {self.n_m})")
        self.b = _mat("b", b, dtype, (self.order,), 1)
        self.x = _mat("x", x, dtype, (self.n_x,), 1)
        self.m = _mat("m", m, dtype, (self.n_u, self.order))
        self.h = _mat("h", h, dtype, (self.n_h,), 1)

    def optional(self, dtype, e_h, e_m, w_x, w_h, b_h, b_dtype):
        return (_opt("e_h", e_h, dtype, (self.n_u, self.n_h)),
                _opt("e_m", e_m, dtype, (self.n_u, self.n_m)),
                _opt("w_x", w_x, dtype, (self.n_h, self.n_x)),
                _opt("w_h", w_h, dtype, (self.n_h, self.n_h)),
                _opt("b_h", b_h, b_dtype, (self.n_h,), 1))


# ---------------------------------------------------------------------------------------------
# LMU cell


def lmu_step_f32(x, m, h, e_x, a, b, w_m, e_h=None, e_m=None, w_x=None, w_h=None, b_h=None,
                 act="identity"):
    """One LMU step in float32. x [n_x], m [n_u, order], h [n_h]; e_x [n_u, n_x], a [d, d] (Abar),
    b [d] (Bbar), w_m [n_h, n_u*d]; optional e_h [n_u, n_h], e_m [n_u, n_u*d], w_x [n_h, n_x],
    w_h [n_h, n_h], b_h [n_h]. act: identity, relu, hardtanh, tanh (rational, tanh_f32).
    Returns (m [n_u, order], h [n_h]), new arrays."""
    f32 = np.float32
    code = _act(act)
    z = _LmuShapes(x, m, h, e_x, a, b, w_m, f32)
    e_h, e_m, w_x, w_h, b_h = z.optional(f32, e_h, e_m, w_x, w_h, b_h, f32)
    mf = z.m.reshape(-1)
    u = _dot_f32(np.zeros(z.n_u, f32), z.e_x, z.x)
    if e_h is not None:
        u = _dot_f32(u, e_h, z.h)
    if e_m is not None:
        u = _dot_f32(u, e_m, mf)
    # m'[c, r] = (sum_k a[r, k] m[c, k]) + b[r] u[c]
    acc = np.zeros((z.n_u, z.order), f32)
    for k in range(z.order):
        acc = acc + z.a[None, :, k] * z.m[:, k, None]
    m_new = (acc + z.b[None, :] * u[:, None]).astype(f32)
    hacc = np.zeros(z.n_h, f32)
    if w_x is not None:
        hacc = _dot_f32(hacc, w_x, z.x)
    if w_h is not None:
        hacc = _dot_f32(hacc, w_h, z.h)
    hacc = _dot_f32(hacc, z.w_m, m_new.reshape(-1))
    if b_h is not None:
        hacc = hacc + b_h
    return m_new, _act_f32(code, hacc.astype(f32))


def lmu_step_q15(x, m, h, e_x, a, b, w_m, e_h=None, e_m=None, w_x=None, w_h=None, b_h=None,
                 s_ex=0, s_eh=0, s_em=0, s_a=0, s_b=0, s_wx=0, s_wh=0, s_wm=0,
                 act="identity", clamp=32767):
    """One LMU step in Q15: int16 data and weights, int64 sums, per-matrix rounding shifts
    (round half up), one saturation per value (eh_lmu.h). b_h is int32 on h's scale.
    act: identity, relu, hardtanh (clamp to [-clamp, clamp], clamp in [1, 32767])."""
    code = _act(act)
    if code == 3:
        raise ValueError("act 'tanh' has no Q15 form: use 'hardtanh'")
    sh = {k: _shift(k, v) for k, v in dict(s_ex=s_ex, s_eh=s_eh, s_em=s_em, s_a=s_a, s_b=s_b,
                                           s_wx=s_wx, s_wh=s_wh, s_wm=s_wm).items()}
    if code == 2 and not (isinstance(clamp, (int, np.integer)) and 1 <= clamp <= 32767):
        raise ValueError("clamp must be an integer in [1, 32767]")
    z = _LmuShapes(x, m, h, e_x, a, b, w_m, np.int16)
    e_h, e_m, w_x, w_h, b_h = z.optional(np.int16, e_h, e_m, w_x, w_h, b_h, np.int32)
    i64 = np.int64
    x64, h64, m64 = z.x.astype(i64), z.h.astype(i64), z.m.astype(i64)
    acc = _rs(z.e_x.astype(i64) @ x64, sh["s_ex"])
    if e_h is not None:
        acc = acc + _rs(e_h.astype(i64) @ h64, sh["s_eh"])
    if e_m is not None:
        acc = acc + _rs(e_m.astype(i64) @ m64.reshape(-1), sh["s_em"])
    u = _sat16(acc).astype(i64)
    mm = _rs(m64 @ z.a.astype(i64).T, sh["s_a"]) + _rs(u[:, None] * z.b.astype(i64)[None, :], sh["s_b"])
    m_new = _sat16(mm)
    hacc = _rs(z.w_m.astype(i64) @ m_new.astype(i64).reshape(-1), sh["s_wm"])
    if w_x is not None:
        hacc = hacc + _rs(w_x.astype(i64) @ x64, sh["s_wx"])
    if w_h is not None:
        hacc = hacc + _rs(w_h.astype(i64) @ h64, sh["s_wh"])
    if b_h is not None:
        hacc = hacc + b_h.astype(i64)
    hn = _sat16(hacc)
    if code == 1:
        hn = np.maximum(hn, 0).astype(np.int16)
    elif code == 2:
        hn = np.clip(hn, -clamp, clamp).astype(np.int16)
    return m_new, hn


# ---------------------------------------------------------------------------------------------
# L2MU
#
# A cell is a dict (the same for the numpy twin and the C kernels):
#   w_in [n_ch, pop], b_in [n_ch, pop] or None       layer 1: Linear(1 -> pop) per channel
#   enc: list of 0..2 dicts {w [out, in], b [out] or None, pop: population, shift (Q15)}
#   e_x [n_u, n_sx], e_h [n_u, n_h] or None, e_m [n_u, n_u*order] or None
#   a [order, order], b [order]
#   w_x [n_h, n_sx] or None, w_h [n_h, n_h] or None, w_m [n_h, n_u*order]
#   w_o [n_o, n_h], b_o [n_o] or None, readout "lif" or "li"
#   pop_in, pop_u, pop_m, pop_h, pop_o: populations
#   Q15 shifts: s_in, s_ex, s_eh, s_em, s_a, s_b, s_wx, s_wh, s_wm, s_o (default 0)
# A population (f32): {beta, threshold, reset="subtract", alpha (CuBa, optional)}
#              (Q15): {threshold, decay | shift, syn_decay | syn_shift (CuBa, optional), reset}
#   parameters shared (scalar / length 1) or per neuron (length n), ranges of sim.lif.
# Biases are float32 (f32) or int32 on the current's scale (Q15).
# A state is a dict of population states {"in", "enc": [..], "u", "m", "h", "o"}, each
# {"v", "s", "i_syn" (CuBa)}; m's arrays are [n_u * order] (channel-major). l2mu_state_* makes a
# zero state.


class _L2muDims:
    def __init__(self, cell: dict, dtype, bias_dtype):
        self.dtype = dtype
        self.w_in = _mat("w_in", cell["w_in"], dtype)
        self.n_ch, self.pop = self.w_in.shape
        self.n_in = _dim("n_ch * pop", _dim("n_ch", self.n_ch) * _dim("pop", self.pop))
        self.b_in = _opt("b_in", cell.get("b_in"), bias_dtype, (self.n_ch, self.pop))
        enc = cell.get("enc") or []
        if len(enc) > 2:
            raise ValueError("at most 2 encoder layers")
        self.enc = []
        fan_in = self.n_in
        for k, layer in enumerate(enc):
            w = _mat(f"enc[{k}].w", layer["w"], dtype)
            if w.shape[1] != fan_in:
                raise ValueError(f"enc[{k}].w has {w.shape[1]} inputs, expected {fan_in}")
            n = _dim(f"enc[{k}] size", w.shape[0])
            bias = _opt(f"enc[{k}].b", layer.get("b"), bias_dtype, (n,), 1)
            self.enc.append((w, bias, layer.get("shift", 0), layer["pop"], n))
            fan_in = n
        self.n_sx = fan_in
        self.e_x = _mat("e_x", cell["e_x"], dtype)
        self.n_u = _dim("n_u", self.e_x.shape[0])
        if self.e_x.shape[1] != self.n_sx:
            raise ValueError(f"e_x has {self.e_x.shape[1]} inputs, expected {self.n_sx}")
        self.a = _mat("a", cell["a"], dtype)
        self.order = _dim("order", self.a.shape[0])
        if self.a.shape != (self.order, self.order):
            raise ValueError(f"a must be square, got shape {self.a.shape}")
        self.b = _mat("b", cell["b"], dtype, (self.order,), 1)
        self.n_m = _dim("n_u * order", self.n_u * self.order)
        self.w_m = _mat("w_m", cell["w_m"], dtype)
        self.n_h = _dim("n_h", self.w_m.shape[0])
        if self.w_m.shape != (self.n_h, self.n_m):
            raise ValueError(f"w_m has shape {self.w_m.shape}, expected ({self.n_h}, {self.n_m})")
        self.e_h = _opt("e_h", cell.get("e_h"), dtype, (self.n_u, self.n_h))
        self.e_m = _opt("e_m", cell.get("e_m"), dtype, (self.n_u, self.n_m))
        self.w_x = _opt("w_x", cell.get("w_x"), dtype, (self.n_h, self.n_sx))
        self.w_h = _opt("w_h", cell.get("w_h"), dtype, (self.n_h, self.n_h))
        self.w_o = _mat("w_o", cell["w_o"], dtype)
        self.n_o = _dim("n_o", self.w_o.shape[0])
        if self.w_o.shape != (self.n_o, self.n_h):
            raise ValueError(f"w_o has shape {self.w_o.shape}, expected ({self.n_o}, {self.n_h})")
        self.b_o = _opt("b_o", cell.get("b_o"), bias_dtype, (self.n_o,), 1)
        ro = cell.get("readout", "lif")
        if ro not in READOUTS:
            raise ValueError(f"readout must be one of {sorted(READOUTS)}, got {ro!r}")
        self.readout = ro

    def pop_sizes(self):
        return {"in": self.n_in, "u": self.n_u, "m": self.n_m, "h": self.n_h, "o": self.n_o}


def _is_cuba_q15(pop: dict) -> bool:
    return pop.get("syn_decay") is not None or pop.get("syn_shift") is not None


def _is_cuba_f32(pop: dict) -> bool:
    return pop.get("alpha") is not None


def _zero_pop(n: int, dtype, cuba: bool) -> dict:
    st = {"v": np.zeros(n, dtype), "s": np.zeros(n, np.uint8)}
    if cuba:
        st["i_syn"] = np.zeros(n, dtype)
    return st


def _zero_state(cell: dict, dtype, cuba) -> dict:
    d = _L2muDims(cell, dtype, np.float32 if dtype == np.float32 else np.int32)
    st = {"in": _zero_pop(d.n_in, dtype, cuba(cell["pop_in"])),
          "enc": [_zero_pop(n, dtype, cuba(pop)) for (_, _, _, pop, n) in d.enc]}
    for name, n in (("u", d.n_u), ("m", d.n_m), ("h", d.n_h), ("o", d.n_o)):
        st[name] = _zero_pop(n, dtype, cuba(cell[f"pop_{name}"]))
    return st


def l2mu_state_f32(cell: dict) -> dict:
    """A zero state for a float32 L2MU cell."""
    return _zero_state(cell, np.float32, _is_cuba_f32)


def l2mu_state_q15(cell: dict) -> dict:
    """A zero state for a Q15 L2MU cell."""
    return _zero_state(cell, np.int16, _is_cuba_q15)


def _pop_f32(pop: dict, st: dict, cur: np.ndarray) -> dict:
    reset = pop.get("reset", "subtract")
    if _is_cuba_f32(pop):
        i, v, s = _lif.cubalif_step_f32(cur, st.get("i_syn"), st["v"], st["s"], pop["alpha"], pop["beta"],
                                        pop["threshold"], reset)
        return {"v": v, "s": s, "i_syn": i}
    v, s = _lif.lif_step_f32(cur, st["v"], st["s"], pop["beta"], pop["threshold"], reset)
    return {"v": v, "s": s}


def _pop_q15(pop: dict, st: dict, cur: np.ndarray) -> dict:
    reset = pop.get("reset", "subtract")
    if _is_cuba_q15(pop):
        i, v, s = _lif.cubalif_step_q15(cur, st.get("i_syn"), st["v"], st["s"], pop["threshold"],
                                        syn_decay=pop.get("syn_decay"), syn_shift=pop.get("syn_shift"),
                                        mem_decay=pop.get("decay"), mem_shift=pop.get("shift"), reset=reset)
        return {"v": v, "s": s, "i_syn": i}
    v, s = _lif.lif_step_q15(cur, st["v"], st["s"], pop["threshold"], decay=pop.get("decay"),
                             shift=pop.get("shift"), reset=reset)
    return {"v": v, "s": s}


def _spikes(name, st: dict, n: int) -> np.ndarray:
    return c.spikes(name, st["s"], n).astype(bool)


def _spike_sum_f32(acc: np.ndarray, w: np.ndarray, s: np.ndarray) -> np.ndarray:
    """acc[o] += w[o, k] for every k with s[k], in increasing k (float32, one rounding each)."""
    for k in np.flatnonzero(s):
        acc = acc + w[:, k]
    return acc


def _check_state(state: dict, d: _L2muDims):
    if not isinstance(state, dict) or len(state.get("enc", [])) < len(d.enc):
        raise ValueError("state must be a dict with one entry per population (see l2mu_state_*)")


def l2mu_step_f32(cell: dict, state: dict, x) -> dict:
    """One L2MU step in float32 (eh_lmu.h): x [n_ch] raw samples. Returns the new state (the
    readout population is carried over unchanged; see l2mu_readout_f32)."""
    f32 = np.float32
    d = _L2muDims(cell, f32, f32)
    _check_state(state, d)
    x = _mat("x", x, f32, (d.n_ch,), 1)
    new = {"enc": [], "o": state["o"]}
    cur = d.w_in * x[:, None]
    if d.b_in is not None:
        cur = cur + d.b_in
    new["in"] = _pop_f32(cell["pop_in"], state["in"], cur.reshape(-1).astype(f32))
    prev = new["in"]["s"].astype(bool)
    for k, (w, bias, _, pop, n) in enumerate(d.enc):
        cur = _spike_sum_f32(np.zeros(n, f32), w, prev)
        if bias is not None:
            cur = cur + bias
        new["enc"].append(_pop_f32(pop, state["enc"][k], cur))
        prev = new["enc"][k]["s"].astype(bool)
    sx = prev
    sh = _spikes("h spikes", state["h"], d.n_h)
    sm = _spikes("m spikes", state["m"], d.n_m)
    cur = _spike_sum_f32(np.zeros(d.n_u, f32), d.e_x, sx)
    if d.e_h is not None:
        cur = _spike_sum_f32(cur, d.e_h, sh)
    if d.e_m is not None:
        cur = _spike_sum_f32(cur, d.e_m, sm)
    new["u"] = _pop_f32(cell["pop_u"], state["u"], cur)
    su = new["u"]["s"].astype(bool)
    # I_m[c, r] = sum over k with s_m[c, k] of A[r, k], in increasing k, then + B[r] if s_u[c]
    smc = sm.reshape(d.n_u, d.order)
    acc = np.zeros((d.n_u, d.order), f32)
    for k in range(d.order):
        acc = np.where(smc[:, k, None], acc + d.a[None, :, k], acc)
    acc = np.where(su[:, None], acc + d.b[None, :], acc).astype(f32)
    new["m"] = _pop_f32(cell["pop_m"], state["m"], acc.reshape(-1))
    sm_new = new["m"]["s"].astype(bool)
    cur = np.zeros(d.n_h, f32)
    if d.w_x is not None:
        cur = _spike_sum_f32(cur, d.w_x, sx)
    if d.w_h is not None:
        cur = _spike_sum_f32(cur, d.w_h, sh)
    cur = _spike_sum_f32(cur, d.w_m, sm_new)
    new["h"] = _pop_f32(cell["pop_h"], state["h"], cur)
    return new


def l2mu_step_q15(cell: dict, state: dict, x) -> dict:
    """One L2MU step in Q15 (eh_lmu.h): x [n_ch] int16 raw samples on the input scale."""
    i64 = np.int64
    d = _L2muDims(cell, np.int16, np.int32)
    _check_state(state, d)
    sh_ = {k: _shift(k, cell.get(k, 0)) for k in ("s_in", "s_ex", "s_eh", "s_em", "s_a", "s_b",
                                                   "s_wx", "s_wh", "s_wm")}
    enc_shifts = [_shift(f"enc[{k}].shift", e[2]) for k, e in enumerate(d.enc)]
    x = _mat("x", x, np.int16, (d.n_ch,), 1)
    new = {"enc": [], "o": state["o"]}
    acc = _rs(d.w_in.astype(i64) * x.astype(i64)[:, None], sh_["s_in"])
    if d.b_in is not None:
        acc = acc + d.b_in.astype(i64)
    new["in"] = _pop_q15(cell["pop_in"], state["in"], _sat16(acc).reshape(-1))
    prev = new["in"]["s"].astype(bool)
    for k, (w, bias, _, pop, n) in enumerate(d.enc):
        acc = _rs(w[:, prev].astype(i64).sum(axis=1), enc_shifts[k])
        if bias is not None:
            acc = acc + bias.astype(i64)
        new["enc"].append(_pop_q15(pop, state["enc"][k], _sat16(acc)))
        prev = new["enc"][k]["s"].astype(bool)
    sx = prev
    sh = _spikes("h spikes", state["h"], d.n_h)
    sm = _spikes("m spikes", state["m"], d.n_m)

    def ssum(w, s):  # sum of the weights where a spike is present, exact in int64
        return w[:, s].astype(i64).sum(axis=1)

    acc = _rs(ssum(d.e_x, sx), sh_["s_ex"])
    if d.e_h is not None:
        acc = acc + _rs(ssum(d.e_h, sh), sh_["s_eh"])
    if d.e_m is not None:
        acc = acc + _rs(ssum(d.e_m, sm), sh_["s_em"])
    new["u"] = _pop_q15(cell["pop_u"], state["u"], _sat16(acc))
    su = new["u"]["s"].astype(i64)
    smc = sm.reshape(d.n_u, d.order).astype(i64)
    acc = _rs(smc @ d.a.astype(i64).T, sh_["s_a"]) + su[:, None] * _rs(d.b.astype(i64), sh_["s_b"])[None, :]
    new["m"] = _pop_q15(cell["pop_m"], state["m"], _sat16(acc).reshape(-1))
    sm_new = new["m"]["s"].astype(bool)
    acc = _rs(ssum(d.w_m, sm_new), sh_["s_wm"])
    if d.w_x is not None:
        acc = acc + _rs(ssum(d.w_x, sx), sh_["s_wx"])
    if d.w_h is not None:
        acc = acc + _rs(ssum(d.w_h, sh), sh_["s_wh"])
    new["h"] = _pop_q15(cell["pop_h"], state["h"], _sat16(acc))
    return new


def l2mu_readout_f32(cell: dict, state: dict) -> dict:
    """The readout from state["h"]["s"]: a new state whose "o" is updated (LIF: v, s[, i_syn];
    LI: v = beta * v, then + I)."""
    f32 = np.float32
    d = _L2muDims(cell, f32, f32)
    sh = _spikes("h spikes", state["h"], d.n_h)
    cur = _spike_sum_f32(np.zeros(d.n_o, f32), d.w_o, sh)
    if d.b_o is not None:
        cur = cur + d.b_o
    new = dict(state)
    pop = cell["pop_o"]
    if d.readout == "lif":
        new["o"] = _pop_f32(pop, state["o"], cur.astype(f32))
        return new
    if _is_cuba_f32(pop):
        raise ValueError("the leaky-integrator readout takes no alpha")
    beta = c.per_neuron("beta", pop["beta"], f32, d.n_o)
    if not np.all((beta >= 0) & (beta <= 1)):
        raise ValueError("beta must lie in [0, 1]")
    v = c.vector("o v", state["o"]["v"], f32, d.n_o)
    v = beta * v
    new["o"] = dict(state["o"], v=(v + cur).astype(f32))
    return new


def l2mu_readout_q15(cell: dict, state: dict) -> dict:
    """The Q15 readout: I_o = sat16(R(sum of W_o where s_h, s_o) + b_o), then LIF_o or
    v = sat16(leak(v) + I_o)."""
    i64 = np.int64
    d = _L2muDims(cell, np.int16, np.int32)
    s_o = _shift("s_o", cell.get("s_o", 0))
    sh = _spikes("h spikes", state["h"], d.n_h)
    acc = _rs(d.w_o[:, sh].astype(i64).sum(axis=1), s_o)
    if d.b_o is not None:
        acc = acc + d.b_o.astype(i64)
    cur = _sat16(acc)
    new = dict(state)
    pop = cell["pop_o"]
    if d.readout == "lif":
        new["o"] = _pop_q15(pop, state["o"], cur)
        return new
    if _is_cuba_q15(pop):
        raise ValueError("the leaky-integrator readout takes no synaptic leak")
    v = c.vector("o v", state["o"]["v"], np.int16, d.n_o)
    lv = _lif.leak_q15(v, d.n_o, pop.get("decay"), pop.get("shift"))
    new["o"] = dict(state["o"], v=_sat16(lv.astype(i64) + cur.astype(i64)))
    return new


def _run(step, readout, cell, state, xs, dtype):
    xs = np.asarray(xs)
    if xs.ndim != 2:
        raise ValueError(f"xs must be [T, n_ch], got shape {xs.shape}")
    out = []
    for t in range(xs.shape[0]):
        state = readout(cell, step(cell, state, xs[t]))
        o = state["o"]
        out.append(o["s"].copy() if cell.get("readout", "lif") == "lif" else o["v"].copy())
    if not out:
        raise ValueError("xs has no time steps")
    return state, np.stack(out)


def l2mu_run_f32(cell: dict, xs, state: dict | None = None):
    """Run T steps (step then readout) over xs [T, n_ch]. Returns (state, trace [T, n_o]): the
    output spikes (LIF readout) or membrane (LI readout) at each step."""
    return _run(l2mu_step_f32, l2mu_readout_f32, cell,
                l2mu_state_f32(cell) if state is None else state, xs, np.float32)


def l2mu_run_q15(cell: dict, xs, state: dict | None = None):
    """Q15 twin of l2mu_run_f32."""
    return _run(l2mu_step_q15, l2mu_readout_q15, cell,
                l2mu_state_q15(cell) if state is None else state, xs, np.int16)


# ---- prepare once, step often (eh_l2mu_check_q15 / eh_l2mu_step_q15_unchecked, ...) ----------

def l2mu_check_q15(cell: dict) -> None:
    """Twin of eh_l2mu_check_q15: raises ValueError for every cell the Q15 step rejects
    (sizes, weights, shifts, the populations in, enc, u, m, h); None otherwise. It runs one step
    on a zero state and a zero input, which validates exactly what a step validates."""
    d = _L2muDims(cell, np.int16, np.int32)
    l2mu_step_q15(cell, l2mu_state_q15(cell), np.zeros(d.n_ch, np.int16))


def l2mu_step_q15_unchecked(cell: dict, state: dict, x) -> dict:
    """Twin of eh_l2mu_step_q15_unchecked: the arithmetic of l2mu_step_q15."""
    return l2mu_step_q15(cell, state, x)


def l2mu_readout_check_q15(cell: dict) -> None:
    """Twin of eh_l2mu_readout_check_q15: raises ValueError for every cell the Q15 readout
    rejects (w_o, s_o, the readout mode, pop_o); None otherwise."""
    l2mu_readout_q15(cell, l2mu_state_q15(cell))


def l2mu_readout_q15_unchecked(cell: dict, state: dict) -> dict:
    """Twin of eh_l2mu_readout_q15_unchecked: the arithmetic of l2mu_readout_q15."""
    return l2mu_readout_q15(cell, state)
