"""Streaming binary 1-D convolution over time (format 1.4): conv1d_b1_bits (33), conv1d_b1_f32 (37),
conv1d_b1_s32 (38), conv1d_b1_s8 (39).

One step is one input frame (b1 [n_in], the channels). State 0 is the window: a u32 state tensor
of taps x W words (W = ceil(n_in / 32)) holding the last taps frames, oldest first. A step shifts
the window by one frame, copies the input frame into the last slot and computes one output frame
with the kernel at t_in = taps, stride 1, no padding (`eh_conv1d_b1_*`). Weight u32
[n_out][taps][W], then the output stage: bits: threshold s32 [n_out] in [-taps n_in,
taps n_in + 1]; f32: scale [n_out] finite, bias or absent; s32: none; s8: mult s32 [n_out],
bias or absent, the record's shift in [0, 62].
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, check_range


class Conv1dB1(Op):
    minor = 4

    def check_state(self, ctx, k):
        if k != 0:
            return False
        st = ctx.states[0]
        ts = ctx.tensors[st]
        W = ctx.W
        if ts.dtype != "u32" or ts.kind != "state" or ts.n % W:
            ctx.fail(f"state 0 tensor {st} must be a u32 state tensor of taps x {W} elements (the window)", F.E_LAYER)
        taps = ts.n // W
        if taps * ctx.n_in > F.MAX_ELEMENTS:
            ctx.fail(f"taps {taps} x n_in {ctx.n_in} > {F.MAX_ELEMENTS}", F.E_LAYER)
        ctx.extra["taps"] = taps
        return True

    def count(self, ctx, k, kind, cnt):
        taps = ctx.extra["taps"]
        if kind == "wconv":
            n = ctx.n_out * taps * ctx.W
            return cnt == n, str(n)
        if kind == "thrconv":
            return cnt == ctx.n_out, str(ctx.n_out)
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "thrconv":
            N = ctx.extra["taps"] * ctx.n_in
            check_range(ctx, k, vals, (vals < -N) | (vals > N + 1), f"outside [-{N}, {N + 1}]")
        else:
            super().values(ctx, k, kind, check, vals)

    def step(self, hm, layer, x):
        B = hm.k.binary
        W = (layer.n_in + 31) // 32
        win = hm.t[layer.states[0]]
        taps = win.size // W
        win = np.concatenate([win[W:], x.astype(np.uint32)])
        hm.t[layer.states[0]] = win
        frames = win.reshape(taps, W)
        w = layer.params[0].reshape(layer.n_out, taps, W)
        p = layer.params
        ty = layer.type
        if ty == "conv1d_b1_bits":
            return B.conv1d_b1_bits(layer.n_in, frames, w, p[1]).ravel()
        if ty == "conv1d_b1_f32":
            return B.conv1d_b1_f32(layer.n_in, frames, w, p[1], p[2]).ravel()
        if ty == "conv1d_b1_s32":
            return B.conv1d_b1_s32(layer.n_in, frames, w).ravel()
        return B.conv1d_b1_s8(layer.n_in, frames, w, p[1], p[2], layer.shift).ravel()

    def prepare(self, hm, layer):
        c = Prep(hm, "binary")
        n_in, n_out, p, ty = layer.n_in, layer.n_out, layer.params, layer.type
        W = (n_in + 31) // 32
        win = hm.t[layer.states[0]]
        taps = win.size // W
        if taps < 1 or win.size != taps * W:
            return None
        xw = c.t(layer.input, np.uint32, W)[1]
        wp, _ = c.t(layer.states[0], np.uint32, taps * W)
        w, _ = c.p(p[0], np.uint32, n_out * taps * W)
        d = c.ffi.new("eh_conv1d_b1_dims *")
        c.keep.append(d)
        d.n_in, d.t_in, d.n_out, d.taps, d.stride, d.pad, d.t_out = n_in, taps, n_out, taps, 1, 0, 1
        f, name = getattr(c.lib, f"eh_{ty}"), f"eh_{ty}"
        if ty == "conv1d_b1_bits":
            y, _ = c.t(layer.output, np.uint32, (n_out + 31) // 32)
            thr, _ = c.p(p[1], np.int32, n_out)
            args = (d, wp, w, thr, y)
        elif ty == "conv1d_b1_f32":
            y, _ = c.t(layer.output, np.float32, n_out)
            args = (d, wp, w, c.p(p[1], np.float32, n_out)[0], c.p(p[2], np.float32, n_out)[0], y)
        elif ty == "conv1d_b1_s32":
            y, _ = c.t(layer.output, np.int32, n_out)
            args = (d, wp, w, y)
        else:
            y, _ = c.t(layer.output, np.int8, n_out)
            args = (d, wp, w, c.p(p[1], np.int32, n_out)[0], c.p(p[2], np.int32, n_out)[0], int(layer.shift), y)

        def run():
            win[:-W] = win[W:]          # the window moves by one frame (overlapping: numpy buffers)
            win[-W:] = xw
            st = f(*args)
            if st:
                c.fail(name, st)
        return run


_W = ("weight", "wconv", "<u4", None)
OPS = [
    Conv1dB1(33, F.Spec("conv1d_b1_bits", (F.DT_B1,), F.DT_B1, F.KIND_ACT, False, [F.DT_U32],
                        [_W, ("threshold", "thrconv", "<i4", None)], window=True)),
    Conv1dB1(37, F.Spec("conv1d_b1_f32", (F.DT_B1,), F.DT_F32, F.KIND_ACT, False, [F.DT_U32],
                        [_W, ("scale", "vec", F.F32, "finite"), ("bias", "bias", F.F32, None)], window=True)),
    Conv1dB1(38, F.Spec("conv1d_b1_s32", (F.DT_B1,), F.DT_S32, F.KIND_ACT, False, [F.DT_U32], [_W], window=True)),
    Conv1dB1(39, F.Spec("conv1d_b1_s8", (F.DT_B1,), F.DT_S8, F.KIND_ACT, False, [F.DT_U32],
                        [_W, ("mult", "vec", "<i4", None), ("bias", "bias", "<i4", None)],
                        shift=True, shift_max=62, window=True)),
]
