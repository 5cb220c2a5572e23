"""Conversions between representations: input_q15 (1), input_f32 (2), dequant (16), spike_f32 (17),
input_s8 (18, format 1.2), dequant_s8 (19, format 1.2).

input_*: per-channel normalisation of the raw input, y = (x - offset[i % C]) * mul[i % C]
(params "norm": C entries, C divides n; input_q15 then quantises with eh_quantize_f32_q15 at
inv_scale 1). dequant: q15 -> f32 with the input tensor's scale. spike_f32: a spike is 1.0f.
input_s8 / dequant_s8: TFLite's QUANTIZE / DEQUANTIZE with the s8 tensor's scale and a zero point
(s32[1] in [-128, 127]); both are interpreter arithmetic (no kernel).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, check_range

_NORM = [("offset", "norm", F.F32, "finite"), ("mul", "norm", F.F32, "finite")]
_ZP = [("zero_point", "zp", "<i4", "s8")]


def quantize_s8(x, scale: float, zero_point: int) -> np.ndarray:
    """input_s8 as the C interpreter does it: q = sat8(round_half_away(x / scale) + zp), one
    float32 division (TFLite's reference AffineQuantize); NaN counts as 0, |x / scale| is clamped
    to 1000 before rounding."""
    v = (np.asarray(x, np.float32) / np.float32(scale)).astype(np.float32)
    v = np.where(np.isnan(v), np.float32(0), v)
    v = np.clip(v, -1000.0, 1000.0).astype(np.float64)
    r = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(r.astype(np.int64) + int(zero_point), -128, 127).astype(np.int8)


class Convert(Op):
    def count(self, ctx, k, kind, cnt):
        if kind == "norm":
            ok = cnt >= 1 and ctx.n_out % cnt == 0 and (k == 0 or cnt == ctx.params[0].size)
            return ok, "a divisor of n (the same for offset and mul)"
        if kind == "zp":
            return cnt == 1, "1"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if check == "s8":
            check_range(ctx, k, vals, (vals < -128) | (vals > 127), "outside [-128, 127]")
        else:
            super().values(ctx, k, kind, check, vals)

    def step(self, hm, layer, x):
        p = layer.params
        ty = layer.type
        if ty in ("input_q15", "input_f32"):
            c = p[0].size
            idx = np.arange(x.size) % c
            t = (x.astype(np.float32) - p[0][idx]).astype(np.float32)
            t = (t * p[1][idx]).astype(np.float32)
            return hm.k.basic.quantize_f32_q15(t, 1.0) if ty == "input_q15" else t
        if ty == "dequant":
            return hm.k.basic.dequantize_q15_f32(x, hm.model.tensors[layer.input].scale)
        if ty == "spike_f32":
            return (x != 0).astype(np.float32)
        if ty == "input_s8":
            return quantize_s8(x, hm.model.tensors[layer.output].scale, int(p[0][0]))
        sc = np.float32(hm.model.tensors[layer.input].scale)                 # dequant_s8
        return ((x.astype(np.int32) - int(p[0][0])).astype(np.float32) * sc).astype(np.float32)

    def prepare(self, hm, layer):
        """The kernels (quantize, dequantize) on the tensors in place; the interpreter's own
        arithmetic as in step (the per-channel parameters gathered to n entries once)."""
        p, ty = layer.params, layer.type
        x, y = hm.t[layer.input], hm.t[layer.output]
        if x.size != y.size:
            return None
        n = y.size
        if ty in ("input_q15", "input_f32"):
            idx = np.arange(n) % p[0].size
            off, mul = p[0][idx], p[1][idx]
            if ty == "input_f32":
                def run():
                    t = (x.astype(np.float32) - off).astype(np.float32)
                    y[...] = (t * mul).astype(np.float32)
                return run
            c = Prep(hm, "basic")
            tp, t = c.buf(n, np.float32)
            yp, _ = c.t(layer.output, np.int16, n)
            f = c.lib.eh_quantize_f32_q15

            def run():
                t[...] = ((x.astype(np.float32) - off).astype(np.float32) * mul).astype(np.float32)
                st = f(n, tp, 1.0, yp)
                if st:
                    c.fail("eh_quantize_f32_q15", st)
            return run
        if ty == "dequant":
            c = Prep(hm, "basic")
            xp, _ = c.t(layer.input, np.int16, n)
            yp, _ = c.t(layer.output, np.float32, n)
            sc = float(hm.model.tensors[layer.input].scale)
            f = c.lib.eh_dequantize_q15_f32

            def run():
                st = f(n, xp, sc, yp)
                if st:
                    c.fail("eh_dequantize_q15_f32", st)
            return run
        if ty == "spike_f32":
            return lambda: np.not_equal(x, 0, out=y, casting="unsafe")
        step = self.step

        def run():                                  # input_s8, dequant_s8: numpy as in step
            y[...] = np.asarray(step(hm, layer, x), dtype=y.dtype).ravel()
        return run


OPS = [
    Convert(1, F.Spec("input_q15", (F.DT_F32,), F.DT_Q15, F.KIND_ACT, True, [], _NORM)),
    Convert(2, F.Spec("input_f32", (F.DT_F32,), F.DT_F32, F.KIND_ACT, True, [], _NORM)),
    Convert(16, F.Spec("dequant", (F.DT_Q15,), F.DT_F32, F.KIND_ACT, True, [], [])),
    Convert(17, F.Spec("spike_f32", (F.DT_SPIKE,), F.DT_F32, F.KIND_ACT, True, [], [])),
    Convert(18, F.Spec("input_s8", (F.DT_F32,), F.DT_S8, F.KIND_ACT, True, [], _ZP), minor=2),
    Convert(19, F.Spec("dequant_s8", (F.DT_S8,), F.DT_F32, F.KIND_ACT, True, [], _ZP), minor=2),
]
