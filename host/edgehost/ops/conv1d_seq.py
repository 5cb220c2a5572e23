"""Strided, padded 1-D convolutions over a whole sequence per step (format 1.6), the HAR
baselines' layers: conv1d_b1_seq_bits (45), shiftadd_conv1d_q15 (46).

Param 0 "conv" s32 [5]: c_in, c_out, taps, stride, pad, checked in this order, then
t_in + 2 pad >= taps and t_out = (t_in + 2 pad - taps) / stride + 1.
  conv1d_b1_seq_bits: b1 [t_in][Wi] -> b1 [t_out][Wo] (frames of whole words: Wi = ceil(c_in / 32),
    n_in = 32 Wi t_in, n_out = 32 Wo t_out), `eh_conv1d_b1_bits` with stride and pad (+1 padding
    frames); taps c_in <= 2^24. "weight" u32 [c_out taps Wi], "threshold" s32 [c_out] in
    [-taps c_in, taps c_in + 1].
  shiftadd_conv1d_q15: q15 [t_in][c_in] -> q15 [t_out][c_out] (position-major), each output frame
    `eh_shiftadd_fc_q15` on its im2col frame (zero padding frames); taps c_in <= 65536. "weight" u8
    [c_out taps c_in] power-of-two codes (bits 6..5 clear), "bias" s32 [c_out] or absent; the
    record's shift in [0, 31].
The C twin: firmware/model/ops/eh_op_conv1d_seq.c (same checks, order and messages).
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, check_range


def _words(c: int) -> int:
    return (c + 31) // 32


class _Seq(Op):
    minor = 6
    b1 = False

    def optional(self, ctx, k, kind):
        return kind == "sabias"

    def count(self, ctx, k, kind, cnt):
        e = ctx.extra
        if kind == "sqcv":
            return cnt == 5, "5"
        if kind in ("sqw", "saw"):
            n = e["c_out"] * e["row"]
            return cnt == n, str(n)
        if kind == "sqthr":
            return cnt == e["c_out"], str(e["c_out"])
        if kind == "sabias":
            return cnt == e["c_out"], f"{e['c_out']} or 0"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        b1 = self.b1
        if kind == "sqcv":
            c_in, c_out, taps, stride, pad = (int(v) for v in vals)
            gi = 1 if c_in < 1 else 32 * _words(c_in) if b1 else c_in
            go = 1 if c_out < 1 else 32 * _words(c_out) if b1 else c_out
            if c_in < 1 or ctx.n_in % gi:
                ctx.param_fail(k, f"entry 0 (c_in {c_in}) must be >= 1 with {'32 ceil(c_in / 32)' if b1 else 'c_in'} "
                                  f"dividing n_in {ctx.n_in}")
            if c_out < 1 or ctx.n_out % go:
                ctx.param_fail(k, f"entry 1 (c_out {c_out}) must be >= 1 with {'32 ceil(c_out / 32)' if b1 else 'c_out'} "
                                  f"dividing n_out {ctx.n_out}")
            lim = F.MAX_ELEMENTS if b1 else 65536
            if taps < 1 or taps * c_in > lim:
                ctx.param_fail(k, f"entry 2 (taps {taps}) must be >= 1 with taps x c_in <= {lim}")
            if stride < 1:
                ctx.param_fail(k, f"entry 3 (stride {stride}) must be >= 1")
            if not 0 <= pad < taps:
                ctx.param_fail(k, f"entry 4 (pad {pad}) outside [0, {taps - 1}]")
            t_in, t_out = ctx.n_in // gi, ctx.n_out // go
            if t_in + 2 * pad < taps:
                ctx.param_fail(k, f"t_in {t_in} + 2 pad {pad} < taps {taps}")
            want = (t_in + 2 * pad - taps) // stride + 1
            if t_out != want:
                ctx.param_fail(k, f"t_out {t_out}, expected {want} ((t_in {t_in} + 2 pad {pad} - taps {taps}) / stride "
                                  f"{stride} + 1)")
            ctx.extra.update(c_out=c_out, row=taps * (_words(c_in) if b1 else c_in), lim=taps * c_in)
        elif kind == "sqthr":
            N = ctx.extra["lim"]
            check_range(ctx, k, vals, (vals < -N) | (vals > N + 1), f"outside [-{N}, {N + 1}]")
        elif kind == "saw":
            check_range(ctx, k, vals, (vals & 0x60) != 0, "has reserved bits 6..5 set")
        elif kind not in ("sqw", "sabias"):
            super().values(ctx, k, kind, check, vals)

    @staticmethod
    def geometry(layer, b1: bool) -> dict:
        c_in, c_out, taps, stride, pad = (int(v) for v in layer.params[0])
        gi, go = (32 * _words(c_in), 32 * _words(c_out)) if b1 else (c_in, c_out)
        return dict(c_in=c_in, c_out=c_out, taps=taps, stride=stride, pad=pad, t_in=layer.n_in // gi,
                    t_out=layer.n_out // go)


class Conv1dB1Seq(_Seq):
    b1 = True

    def step(self, hm, layer, x):
        g = self.geometry(layer, True)
        wi = _words(g["c_in"])
        y = hm.k.binary.conv1d_b1_bits(g["c_in"], np.asarray(x).reshape(g["t_in"], wi),
                                       layer.params[1].reshape(g["c_out"], g["taps"], wi), layer.params[2],
                                       stride=g["stride"], pad=g["pad"])
        return y.ravel()

    def prepare(self, hm, layer):
        c = Prep(hm, "binary")
        g = self.geometry(layer, True)
        wi, wo = _words(g["c_in"]), _words(g["c_out"])
        x, _ = c.t(layer.input, np.uint32, g["t_in"] * wi)
        y, _ = c.t(layer.output, np.uint32, g["t_out"] * wo)
        w, _ = c.p(layer.params[1], np.uint32, g["c_out"] * g["taps"] * wi)
        thr, _ = c.p(layer.params[2], np.int32, g["c_out"])
        d = c.ffi.new("eh_conv1d_b1_dims *")
        c.keep.append(d)
        d.n_in, d.t_in, d.n_out, d.taps = g["c_in"], g["t_in"], g["c_out"], g["taps"]
        d.stride, d.pad, d.t_out = g["stride"], g["pad"], g["t_out"]
        f = c.lib.eh_conv1d_b1_bits

        def run():
            st = f(d, x, w, thr, y)
            if st:
                c.fail("eh_conv1d_b1_bits", st)
        return run


class ShiftaddConv1d(_Seq):
    def step(self, hm, layer, x):
        g = self.geometry(layer, False)
        ci, taps, stride, pad = g["c_in"], g["taps"], g["stride"], g["pad"]
        h = np.asarray(x, np.int16).reshape(g["t_in"], ci)
        hp = np.concatenate([np.zeros((pad, ci), np.int16), h, np.zeros((pad, ci), np.int16)])
        w = layer.params[1].reshape(g["c_out"], taps * ci)
        f = hm.k.shiftadd.shiftadd_fc_q15
        return np.concatenate([f(hp[t * stride:t * stride + taps].reshape(-1), w, layer.params[2], layer.shift)
                               for t in range(g["t_out"])]).astype(np.int16)

    def prepare(self, hm, layer):
        c = Prep(hm, "shiftadd")
        g = self.geometry(layer, False)
        ci, co, taps, stride, pad, t_in = g["c_in"], g["c_out"], g["taps"], g["stride"], g["pad"], g["t_in"]
        row, sh = taps * ci, int(layer.shift)
        xp, _ = c.t(layer.input, np.int16, t_in * ci)
        yp, _ = c.t(layer.output, np.int16, g["t_out"] * co)
        w, _ = c.p(layer.params[1], np.uint8, co * row)
        b, _ = c.p(layer.params[2], np.int32, co)
        f = c.lib.eh_shiftadd_fc_q15
        calls = []          # the C step's calls, argument for argument (see eh_op_conv1d_seq.c)
        for t in range(g["t_out"]):
            s = t * stride - pad
            k0, k1 = max(0, -s), min(taps, t_in - s)
            if k0 == 0 and k1 == taps:
                calls.append((row, co, xp + s * ci, w, b, sh, yp + t * co))
            else:
                for o in range(co):
                    calls.append(((k1 - k0) * ci, 1, xp + (s + k0) * ci, w + o * row + k0 * ci,
                                  b + o if b != c.NULL else b, sh, yp + t * co + o))

        def run():
            for a in calls:
                st = f(*a)
                if st:
                    c.fail("eh_shiftadd_fc_q15", st)
        return run


_CV = ("conv", "sqcv", "<i4", None)
OPS = [
    Conv1dB1Seq(45, F.Spec("conv1d_b1_seq_bits", (F.DT_B1,), F.DT_B1, F.KIND_ACT, False, [],
                           [_CV, ("weight", "sqw", "<u4", None), ("threshold", "sqthr", "<i4", None)])),
    ShiftaddConv1d(46, F.Spec("shiftadd_conv1d_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, False, [],
                              [_CV, ("weight", "saw", "u1", None), ("bias", "sabias", "<i4", None)], shift=True)),
]
