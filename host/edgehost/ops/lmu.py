"""Float LMU over a whole sequence per step (format 1.6): lmu_f32 (52).

f32 [t n_x] (position-major) -> f32 [n_h]: the hidden state after t steps of `eh_lmu_step_f32`
from m = 0, h = 0, every matrix present. Params: "dims" s32 [5]: n_x (in [1, 65535], divides
n_in), n_u, order (each in [1, 65535], n_u order <= 65535), n_h (in [1, 65535], = n_out), act in
[0, 3] (eh_lmu_act, 3 tanh); "weight" f32 finite: e_x [n_u n_x], e_h [n_u n_h], e_m [n_u n_m],
a [order order], b [order], w_x [n_h n_x], w_h [n_h n_h], w_m [n_h n_m] one after the other
(n_m = n_u order); "bias" f32 [n_h] finite or absent. State 0: scratch, an s32 activation of
n_m + n_u + order + n_h elements. The C twin: firmware/model/ops/eh_op_lmu.c.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, check_scratch

ACTS = ("identity", "relu", "hardtanh", "tanh")
_NAMES = ("n_x", "n_u", "order", "n_h", "act")


def weight_count(n_x: int, n_u: int, order: int, n_h: int) -> int:
    n_m = n_u * order
    return n_u * n_x + n_u * n_h + n_u * n_m + order * order + order + n_h * n_x + n_h * n_h + n_h * n_m


def pack(e_x, e_h, e_m, a, b, w_x, w_h, w_m) -> np.ndarray:
    """The "weight" parameter from the cell's matrices (eh_lmu.h layouts)."""
    return np.concatenate([np.asarray(v, np.float32).ravel() for v in (e_x, e_h, e_m, a, b, w_x, w_h, w_m)])


def unpack(dims, w) -> dict:
    n_x, n_u, order, n_h = (int(v) for v in dims[:4])
    n_m = n_u * order
    shapes = dict(e_x=(n_u, n_x), e_h=(n_u, n_h), e_m=(n_u, n_m), a=(order, order), b=(order,), w_x=(n_h, n_x),
                  w_h=(n_h, n_h), w_m=(n_h, n_m))
    out, o = {}, 0
    for k, s in shapes.items():
        n = int(np.prod(s))
        out[k] = np.asarray(w[o:o + n], np.float32).reshape(s)
        o += n
    return out


class LmuF32(Op):
    minor = 6

    def optional(self, ctx, k, kind):
        return kind == "lmubias"

    def count(self, ctx, k, kind, cnt):
        if kind == "lmudims":
            return cnt == 5, "5"
        if kind == "lmuw":
            n = weight_count(*(int(v) for v in ctx.params[0][:4]))
            return cnt == n, str(n)
        if kind == "lmubias":
            return cnt == ctx.n_out, f"{ctx.n_out} or 0"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "lmudims":
            v = [int(a) for a in vals]
            if not 1 <= v[0] <= 65535 or ctx.n_in % v[0]:
                ctx.param_fail(k, f"entry 0 (n_x {v[0]}) must be in [1, 65535] and divide n_in {ctx.n_in}")
            for i in (1, 2):
                if not 1 <= v[i] <= 65535:
                    ctx.param_fail(k, f"entry {i} ({_NAMES[i]} {v[i]}) outside [1, 65535]")
            if v[1] * v[2] > 65535:
                ctx.param_fail(k, f"n_u {v[1]} x order {v[2]} > 65535")
            if not 1 <= v[3] <= 65535 or v[3] != ctx.n_out:
                ctx.param_fail(k, f"entry 3 (n_h {v[3]}) must be in [1, 65535] and equal n_out {ctx.n_out}")
            if not 0 <= v[4] <= 3:
                ctx.param_fail(k, f"entry 4 (act {v[4]}) outside [0, 3]")
        else:
            super().values(ctx, k, kind, "finite", vals)

    def check(self, ctx):
        n_x, n_u, order, n_h = (int(v) for v in ctx.params[0][:4])
        check_scratch(ctx, n_u * order + n_u + order + n_h)

    def step(self, hm, layer, x):
        d = layer.params[0]
        n_x, n_u, order, n_h = (int(v) for v in d[:4])
        cell = unpack(d, layer.params[1])
        m = np.zeros((n_u, order), np.float32)
        h = np.zeros(n_h, np.float32)
        act = ACTS[int(d[4])]
        L = hm.k.lmu
        for row in np.asarray(x, np.float32).reshape(-1, n_x):
            m, h = L.lmu_step_f32(row, m, h, cell["e_x"], cell["a"], cell["b"], cell["w_m"], e_h=cell["e_h"],
                                  e_m=cell["e_m"], w_x=cell["w_x"], w_h=cell["w_h"], b_h=layer.params[2], act=act)
        return h

    def prepare(self, hm, layer):
        c = Prep(hm, "lmu")
        d = layer.params[0]
        n_x, n_u, order, n_h = (int(v) for v in d[:4])
        n_m = n_u * order
        T = layer.n_in // n_x
        xp, _ = c.t(layer.input, np.float32, layer.n_in)
        hp, h = c.t(layer.output, np.float32, n_h)
        cell = c.ffi.new("eh_lmu_f32 *")
        c.keep.append(cell)
        cell.n_x, cell.n_u, cell.order, cell.n_h = n_x, n_u, order, n_h
        for k, v in unpack(d, layer.params[1]).items():
            setattr(cell, k, c.p(v, np.float32)[0])
        cell.b_h = c.p(layer.params[2], np.float32, n_h)[0]
        cell.act = int(d[4])
        mp, m = c.buf(n_m, np.float32)
        sp, s = c.buf(n_u + order + n_h, np.float32)
        f = c.lib.eh_lmu_step_f32

        def run():
            m[:] = 0
            h[:] = 0
            for t in range(T):
                st = f(cell, xp + t * n_x, mp, hp, sp, s.size)
                if st:
                    c.fail("eh_lmu_step_f32", st)
        return run


OPS = [LmuF32(52, F.Spec("lmu_f32", (F.DT_F32,), F.DT_F32, F.KIND_ACT, False, [F.DT_S32],
                         [("dims", "lmudims", "<i4", None), ("weight", "lmuw", F.F32, None),
                          ("bias", "lmubias", F.F32, None)], scratch=True))]
