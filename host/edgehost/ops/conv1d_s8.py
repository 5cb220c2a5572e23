"""int8 1-D convolution (TFLite / LiteRT CONV_2D of height 1): conv1d_s8 (56), format 1.6.

A whole sequence per step: input s8 [t_in][c_in] (n_in = t_in c_in), output s8 [t_out][c_out]
(n_out = t_out c_out), position-major (TFLite's NHWC). Params:
  "conv" s32 [9]: c_in, c_out, taps, stride, pad, x_offset, y_offset, act_min, act_max
     (c_in >= 1 divides n_in, c_out >= 1 divides n_out, taps >= 1 with taps c_in <= 65536,
     stride >= 1, pad in [0, taps - 1], (t_out - 1) stride < t_in + pad; x_offset in [-127, 128],
     y_offset in [-128, 127], act_min in [-128, 127], act_max in [act_min, 127]);
  "weight" i8 [c_out taps c_in]; "bias" s32 [c_out] or absent;
  "requant" s32 [2C]: mult[C] (>= 0) then shift[C] (in [-31, 30]), C = 1 or c_out.
Step: `eh_conv1d_s8` (padded taps skipped, per-channel requantisation, the fused clamp to
[act_min, act_max]). The C twin: firmware/model/ops/eh_op_conv1d_s8.c (same checks, same order,
same messages).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep
from .fc_s8 import check_requant

_Q8 = ("x_offset", "y_offset", "act_min", "act_max")


class Conv1dS8(Op):
    minor = 6

    def optional(self, ctx, k, kind):
        return kind == "bcv"

    def count(self, ctx, k, kind, cnt):
        e = ctx.extra
        if kind == "cv":
            return cnt == 9, "9"
        if kind == "wcv":
            n = e["c_out"] * e["row"]
            return cnt == n, str(n)
        if kind == "bcv":
            return cnt == e["c_out"], f"{e['c_out']} or 0"
        if kind == "rqcv":
            n = 2 * e["c_out"]
            return cnt == 2 or cnt == n, f"2 or {n} (mult then shift, per tensor or per channel)"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "cv":
            v = [int(a) for a in vals]
            c_in, c_out, taps, stride, pad = v[:5]
            if c_in < 1 or ctx.n_in % c_in:
                ctx.param_fail(k, f"entry 0 (c_in {c_in}) must be >= 1 and divide n_in {ctx.n_in}")
            if c_out < 1 or ctx.n_out % c_out:
                ctx.param_fail(k, f"entry 1 (c_out {c_out}) must be >= 1 and divide n_out {ctx.n_out}")
            if taps < 1 or taps * c_in > 65536:
                ctx.param_fail(k, f"entry 2 (taps {taps}) must be >= 1 with taps x c_in <= 65536")
            if stride < 1:
                ctx.param_fail(k, f"entry 3 (stride {stride}) must be >= 1")
            if not 0 <= pad < taps:
                ctx.param_fail(k, f"entry 4 (pad {pad}) outside [0, {taps - 1}]")
            t_in, t_out = ctx.n_in // c_in, ctx.n_out // c_out
            if (t_out - 1) * stride >= t_in + pad:
                ctx.param_fail(k, f"t_out {t_out} with stride {stride} starts a window past t_in {t_in} + pad {pad}")
            for i in range(5, 9):
                lo = -127 if i == 5 else v[7] if i == 8 else -128
                hi = 128 if i == 5 else 127
                if not lo <= v[i] <= hi:
                    ctx.param_fail(k, f"entry {i} ({_Q8[i - 5]} {v[i]}) outside [{lo}, {hi}]")
            ctx.extra.update(c_out=c_out, row=taps * c_in)
        elif kind == "rqcv":
            check_requant(ctx, k, vals)
        elif kind in ("wcv", "bcv"):
            pass
        else:
            super().values(ctx, k, kind, check, vals)

    @staticmethod
    def geometry(layer) -> dict:
        """The kernel's arguments from the record: dims and quantisation (a dict)."""
        cv = [int(v) for v in layer.params[0]]
        c_in, c_out, taps, stride, pad = cv[:5]
        rq = np.asarray(layer.params[3]).ravel()
        nc = rq.size // 2
        return dict(c_in=c_in, c_out=c_out, taps=taps, stride=stride, pad=pad, t_in=layer.n_in // c_in,
                    t_out=layer.n_out // c_out, x_offset=cv[5], y_offset=cv[6], act_min=cv[7], act_max=cv[8],
                    mult=rq[:nc], shift=rq[nc:], per_channel=nc == c_out and c_out > 1)

    def step(self, hm, layer, x):
        g = self.geometry(layer)
        p = layer.params
        y = hm.k.basic.conv1d_s8(np.asarray(x).reshape(g["t_in"], g["c_in"]),
                                 p[1].reshape(g["c_out"], g["taps"], g["c_in"]), g["mult"], g["shift"], p[2],
                                 x_offset=g["x_offset"], y_offset=g["y_offset"], act_min=g["act_min"],
                                 act_max=g["act_max"], stride=g["stride"], pad=g["pad"], t_out=g["t_out"],
                                 per_channel=g["per_channel"])
        return y.ravel()

    def prepare(self, hm, layer):
        c = Prep(hm, "basic")
        g = self.geometry(layer)
        p, n_in, n_out = layer.params, layer.n_in, layer.n_out
        pc = 1 if g["per_channel"] else 0
        nq = g["c_out"] if pc else 1
        x, _ = c.t(layer.input, np.int8, n_in)
        y, _ = c.t(layer.output, np.int8, n_out)
        w, _ = c.p(p[1], np.int8, g["c_out"] * g["taps"] * g["c_in"])
        b, _ = c.p(p[2], np.int32, g["c_out"])
        mult, _ = c.p(g["mult"], np.int32, nq)
        shift, _ = c.p(g["shift"], np.int32, nq)
        d = c.ffi.new("eh_conv1d_s8_dims *")
        c.keep.append(d)
        d.n_in, d.t_in, d.n_out, d.taps = g["c_in"], g["t_in"], g["c_out"], g["taps"]
        d.stride, d.pad, d.t_out = g["stride"], g["pad"], g["t_out"]
        args = (d, x, g["x_offset"], w, b, mult, shift, pc, g["y_offset"], g["act_min"], g["act_max"], y)
        f = c.lib.eh_conv1d_s8

        def run():
            st = f(*args)
            if st:
                c.fail("eh_conv1d_s8", st)
        return run


OPS = [Conv1dS8(56, F.Spec("conv1d_s8", (F.DT_S8,), F.DT_S8, F.KIND_ACT, False, [],
                           [("conv", "cv", "<i4", None), ("weight", "wcv", "i1", None), ("bias", "bcv", "<i4", None),
                            ("requant", "rqcv", "<i4", None)]))]
