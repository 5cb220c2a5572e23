"""2-D convolutions, channel-major (C, H, W) (format 1.6): conv2d_f32 (26), conv2d_q15 (27, dense,
for analog inputs), conv2d_spike_q15 (28, event-driven, for spikes) (kernels_c/include/eh_conv2d.h).

Param 0 "geom" u32 [15]: c_in, h_in, w_in, c_out, k_h, k_w, stride_h, stride_w, pad_top, pad_left,
pad_bottom, pad_right, dil_h, dil_w, groups, checked in the C loader's order with its messages
(firmware/model/ops/eh_op_conv2d.c): each size, stride and dilation in [1, 65535], the kernel span,
groups, each padding below the span, the kernel against the padded input, then c_in h_in w_in =
n_in and c_out h_out w_out = n_out. Param 1 "weight" [c_out][c_in / groups][k_h][k_w] (f32 / i16),
param 2 "bias" [c_out] (f32 / i32) or absent; the Q15 layers use the record's shift (0..31).
conv2d_spike_q15's state 0 is the kernel's scratch: an s32 activation tensor of n_out elements.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, check_scratch

GEOM_NAMES = ("c_in", "h_in", "w_in", "c_out", "k_h", "k_w", "stride_h", "stride_w", "pad_top", "pad_left",
              "pad_bottom", "pad_right", "dil_h", "dil_w", "groups")
MAXD = 65535
MAX_ELEMS = 1 << 28


def geom_error(g, n_in: int, n_out: int) -> str | None:
    """The first rule the geometry breaks (the C loader's text after 'param 0 (geom): '), or None."""
    g = [int(v) for v in g]
    if len(g) != 15:
        return f"{len(g)} entries, expected 15"
    for f in (0, 1, 2, 3, 4, 5, 6, 7, 12, 13):
        if not 1 <= g[f] <= MAXD:
            return f"{GEOM_NAMES[f]} {g[f]} outside [1, 65535]"
    c_in, h_in, w_in, c_out, k_h, k_w, sh, sw, pt, pl, pb, pr, dh, dw, groups = g
    span_h, span_w = dh * (k_h - 1) + 1, dw * (k_w - 1) + 1
    if span_h > MAXD or span_w > MAXD:
        return f"kernel span {span_h} x {span_w} (dilation x (k - 1) + 1) > 65535"
    if not 1 <= groups <= MAXD:
        return f"groups {groups} outside [1, 65535]"
    if c_in % groups or c_out % groups:
        return f"groups {groups} does not divide c_in {c_in} and c_out {c_out}"
    for i in range(8, 12):
        span = span_w if i % 2 else span_h
        if g[i] >= span:
            return f"{GEOM_NAMES[i]} {g[i]} outside [0, {span - 1}] (the kernel span - 1)"
    ext_h, ext_w = h_in + pt + pb, w_in + pl + pr
    if ext_h < span_h or ext_w < span_w:
        return f"kernel span {span_h} x {span_w} larger than the padded input {ext_h} x {ext_w}"
    if c_in * h_in * w_in != n_in:
        return f"input c_in x h_in x w_in = {c_in * h_in * w_in}, n_in is {n_in}"
    h_out, w_out = (ext_h - span_h) // sh + 1, (ext_w - span_w) // sw + 1
    if c_out * h_out * w_out != n_out:
        return f"output c_out x h_out x w_out = {c_out} x {h_out} x {w_out}, n_out is {n_out}"
    n_w = c_out * (c_in // groups) * k_h * k_w
    if n_w > MAX_ELEMS:
        return f"{n_w} weights > 268435456"
    return None


def geom_kwargs(g) -> dict:
    """The kernels' keyword arguments (stride, padding, dilation, groups) of a geom parameter."""
    g = [int(v) for v in g]
    return dict(stride=(g[6], g[7]), padding=(g[8], g[9], g[10], g[11]), dilation=(g[12], g[13]), groups=g[14])


def make_geom(c_in, h_in, w_in, c_out, k_h, k_w, stride, padding, dilation, groups) -> np.ndarray:
    """The geom parameter (u32 [15]) from the kernels' argument forms."""
    from ..sim.conv2d import _ints, conv2d_padding
    sh, sw = _ints("stride", stride, 2)
    dh, dw = _ints("dilation", dilation, 2)
    pt, pl, pb, pr = conv2d_padding(padding, k_h, k_w, (sh, sw), (dh, dw))
    return np.array([c_in, h_in, w_in, c_out, k_h, k_w, sh, sw, pt, pl, pb, pr, dh, dw, groups], np.uint32)


def out_shape(g) -> tuple:
    """(c_out, h_out, w_out) of a valid geom."""
    g = [int(v) for v in g]
    span_h, span_w = g[12] * (g[4] - 1) + 1, g[13] * (g[5] - 1) + 1
    return (g[3], (g[1] + g[8] + g[10] - span_h) // g[6] + 1, (g[2] + g[9] + g[11] - span_w) // g[7] + 1)


class Conv2d(Op):
    minor = 6

    def count(self, ctx, k, kind, cnt):
        if kind == "c2geom":
            return cnt == 15, "15"
        g = ctx.params[0]
        c_in, c_out, k_h, k_w, groups = int(g[0]), int(g[3]), int(g[4]), int(g[5]), int(g[14])
        if kind == "c2w":
            n = c_out * (c_in // groups) * k_h * k_w
            return cnt == n, str(n)
        if kind == "c2bias":
            return cnt == c_out, f"{c_out} or 0"
        return super().count(ctx, k, kind, cnt)

    def optional(self, ctx, k, kind):
        return kind == "c2bias"

    def values(self, ctx, k, kind, check, vals):
        if kind == "c2geom":
            err = geom_error(vals, ctx.n_in, ctx.n_out)
            if err:
                ctx.param_fail(k, err)
        else:
            super().values(ctx, k, kind, check, vals)

    def check(self, ctx):
        if self.spec.scratch:
            check_scratch(ctx, ctx.n_out)

    def _args(self, layer):
        g = layer.params[0]
        c_in, h_in, w_in, c_out, k_h, k_w = (int(v) for v in g[:6])
        w = layer.params[1].reshape(c_out, c_in // int(g[14]), k_h, k_w)
        return (c_in, h_in, w_in), w, layer.params[2], geom_kwargs(g)

    def step(self, hm, layer, x):
        C = hm.k.conv2d
        shape, w, b, kw = self._args(layer)
        x = x.reshape(shape)
        if layer.type == "conv2d_f32":
            return C.conv2d_f32(x, w, b, **kw).ravel()
        if layer.type == "conv2d_q15":
            return C.conv2d_q15(x, w, b, layer.shift, **kw).ravel()
        return C.conv2d_spike_q15(x, w, b, layer.shift, **kw).ravel()

    def prepare(self, hm, layer):
        c = Prep(hm, "conv2d")
        g = [int(v) for v in layer.params[0]]
        d = c.ffi.new("eh_conv2d_dims *")
        c.keep.append(d)
        for name, v in zip(("c_in", "h_in", "w_in", "c_out", "k_h", "k_w", "stride_h", "stride_w", "pad_top",
                            "pad_left", "pad_bottom", "pad_right", "dil_h", "dil_w", "groups"), g):
            setattr(d, name, v)
        n_in, n_out, sh, ty = layer.n_in, layer.n_out, int(layer.shift), layer.type
        n_w = g[3] * (g[0] // g[14]) * g[4] * g[5]
        if ty == "conv2d_f32":
            x, _ = c.t(layer.input, np.float32, n_in)
            y, _ = c.t(layer.output, np.float32, n_out)
            args = (d, x, c.p(layer.params[1], np.float32, n_w)[0], c.p(layer.params[2], np.float32, g[3])[0], y)
        else:
            y, _ = c.t(layer.output, np.int16, n_out)
            w, _ = c.p(layer.params[1], np.int16, n_w)
            b, _ = c.p(layer.params[2], np.int32, g[3])
            if ty == "conv2d_q15":
                x, _ = c.t(layer.input, np.int16, n_in)
                args = (d, x, w, b, sh, y)
            else:
                x, _ = c.t(layer.input, np.uint8, n_in)
                scratch, _ = c.buf(n_out, np.int32)
                args = (d, x, w, b, sh, scratch, y)
        f, name = getattr(c.lib, f"eh_{ty}"), f"eh_{ty}"

        def run():
            st = f(*args)
            if st:
                c.fail(name, st)
        return run


_G = ("geom", "c2geom", "<u4", None)
OPS = [
    Conv2d(26, F.Spec("conv2d_f32", (F.DT_F32,), F.DT_F32, F.KIND_ACT, False, [],
                      [_G, ("weight", "c2w", F.F32, None), ("bias", "c2bias", F.F32, None)])),
    Conv2d(27, F.Spec("conv2d_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_ACT, False, [],
                      [_G, ("weight", "c2w", "<i2", None), ("bias", "c2bias", "<i4", None)], shift=True)),
    Conv2d(28, F.Spec("conv2d_spike_q15", (F.DT_SPIKE,), F.DT_Q15, F.KIND_ACT, False, [F.DT_S32],
                      [_G, ("weight", "c2w", "<i2", None), ("bias", "c2bias", "<i4", None)], shift=True,
                      scratch=True)),
]
