"""Input encodings of the HAR baselines (format 1.6): thermometer_b1 (44), shiftnorm_q15 (47).

thermometer_b1: q15 [t C] (position-major) -> b1 [t 32 W], W = ceil(C L / 32). Per frame, bit
c L + j is 1 (the value -1) iff x[c] <= level[c][j], else 0 (+1: x > level); each frame fills W
whole words (padding bits 0), the binary kernels' [t][W] layout. Params: "dims" s32 [2]: channels
C (>= 1, divides n_in), levels L in [1, 4096] (n_out must be t 32 W); "levels" i16 [C L].

shiftnorm_q15: q15 [n] -> q15 [n], channel c = i % C: d = x - offset[c]; y = sat16(floor((d +
2^(s-1)) / 2^s)) for s = shift[c] > 0, d for s = 0, sat16(d 2^-s) for s < 0. Params: "offset"
i16 [C] (C divides n), "shift" s8 [C] in [-15, 31].

The C twin: firmware/model/ops/eh_op_thermometer_b1.c (same checks, order and messages).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, check_range


def thermometer_words(x: np.ndarray, channels: int, levels: np.ndarray) -> np.ndarray:
    """The layer's output words [t W] for x q15 [t channels], levels [channels, L]."""
    x = np.asarray(x, np.int32).reshape(-1, channels)
    lev = np.asarray(levels, np.int32).reshape(channels, -1)
    cl = lev.size
    W = (cl + 31) // 32
    bits = (x[:, :, None] <= lev[None]).reshape(x.shape[0], cl)
    pad = np.zeros((x.shape[0], 32 * W), np.uint64)
    pad[:, :cl] = bits
    w = (pad.reshape(x.shape[0], W, 32) << np.arange(32, dtype=np.uint64)).sum(axis=2)
    return w.astype(np.uint32).ravel()


def shiftnorm(x: np.ndarray, offset: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The layer's output (int16) for x q15 [n], offset i16 [C], shift s8 [C]."""
    C = offset.size
    d = np.asarray(x, np.int64).reshape(-1, C) - offset.astype(np.int64)
    s = np.broadcast_to(shift.astype(np.int64), d.shape)
    right = (d + ((np.int64(1) << np.maximum(s, 0)) >> 1)) >> np.maximum(s, 0)
    left = d * (np.int64(1) << np.maximum(-s, 0))
    return np.clip(np.where(s >= 0, right, left), -32768, 32767).astype(np.int16).ravel()


class Thermometer(Op):
    minor = 6

    def count(self, ctx, k, kind, cnt):
        if kind == "thdims":
            return cnt == 2, "2"
        if kind == "thlev":
            return cnt == ctx.extra["cl"], str(ctx.extra["cl"])
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "thdims":
            C, L = int(vals[0]), int(vals[1])
            if C < 1 or ctx.n_in % C:
                ctx.param_fail(k, f"entry 0 (channels {C}) must be >= 1 and divide n_in {ctx.n_in}")
            if not 1 <= L <= 4096:
                ctx.param_fail(k, f"entry 1 (levels {L}) outside [1, 4096]")
            w = (C * L + 31) // 32
            t = ctx.n_in // C
            if t * 32 * w != ctx.n_out:
                ctx.param_fail(k, f"n_out {ctx.n_out}, expected {t * 32 * w} ({t} frames of 32 x {w} words)")
            ctx.extra["cl"] = C * L
        elif kind != "thlev":
            super().values(ctx, k, kind, check, vals)

    def step(self, hm, layer, x):
        return thermometer_words(x, int(layer.params[0][0]), layer.params[1])

    def prepare(self, hm, layer):
        C, lev = int(layer.params[0][0]), np.asarray(layer.params[1]).copy()
        x, y = hm.t[layer.input], hm.t[layer.output]

        def run():
            y[:] = thermometer_words(x, C, lev)
        return run


class ShiftNorm(Op):
    minor = 6

    def count(self, ctx, k, kind, cnt):
        if kind == "snoff":
            return ctx.n_in % cnt == 0, f"a divisor of n_in {ctx.n_in}"
        if kind == "snsh":
            n = ctx.params[0].size
            return cnt == n, str(n)
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "snsh":
            check_range(ctx, k, vals, (vals < -15) | (vals > 31), "outside [-15, 31]")
        elif kind != "snoff":
            super().values(ctx, k, kind, check, vals)

    def step(self, hm, layer, x):
        return shiftnorm(x, layer.params[0], layer.params[1])

    def prepare(self, hm, layer):
        off, sh = np.asarray(layer.params[0]).copy(), np.asarray(layer.params[1]).copy()
        x, y = hm.t[layer.input], hm.t[layer.output]

        def run():
            y[:] = shiftnorm(x, off, sh)
        return run


OPS = [
    Thermometer(44, F.Spec("thermometer_b1", (F.DT_Q15,), F.DT_B1, F.KIND_ACT, False, [],
                           [("dims", "thdims", "<i4", None), ("levels", "thlev", "<i2", None)])),
    ShiftNorm(47, F.Spec("shiftnorm_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, True, [],
                         [("offset", "snoff", "<i2", None), ("shift", "snsh", "i1", None)])),
]
