"""Random int8 2-D CNNs of the channel-last layers conv2d_s8, maxpool2d_s8, avgpool2d_s8 (format
1.6), built by hand as blob Layers: the tests' lockstep models (tests/test_conv2d_s8_layers.py,
tests/test_runtime.py) and the fuzzer's seeds (bench/fuzz/make_corpus.py)."""
from __future__ import annotations

import numpy as np


def random_conv2d_s8_geom(rng: np.random.Generator, c_in: int, h: int, w: int) -> np.ndarray:
    """A valid conv2d geom (u32 [15]) on an input [h][w][c_in]: groups 1, depthwise (groups =
    c_in, a multiplier 1 or 2) or a divisor of c_in; kernels 1..3, stride 1..2, dilation 1..2,
    asymmetric padding."""
    mode = int(rng.integers(0, 3))
    if mode == 0:
        groups, c_out = 1, int(rng.integers(1, 6))
    elif mode == 1:
        groups, c_out = c_in, c_in * int(rng.integers(1, 3))
    else:
        groups = int(rng.choice([d for d in range(1, c_in + 1) if c_in % d == 0]))
        c_out = groups * int(rng.integers(1, 3))
    for _ in range(100):
        k_h, k_w = (int(v) for v in rng.integers(1, 4, 2))
        d_h, d_w = (int(v) for v in rng.integers(1, 3, 2)) if rng.random() < 0.4 else (1, 1)
        s_h, s_w = (int(v) for v in rng.integers(1, 3, 2))
        sp_h, sp_w = d_h * (k_h - 1) + 1, d_w * (k_w - 1) + 1
        pt, pb = (int(v) for v in rng.integers(0, sp_h, 2))
        pl, pr = (int(v) for v in rng.integers(0, sp_w, 2))
        if h + pt + pb >= sp_h and w + pl + pr >= sp_w:
            return np.array([c_in, h, w, c_out, k_h, k_w, s_h, s_w, pt, pl, pb, pr, d_h, d_w, groups], np.uint32)
    return np.array([c_in, h, w, c_out, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, groups], np.uint32)


def random_pool2d_s8_geom(rng: np.random.Generator, c: int, h: int, w: int) -> np.ndarray:
    """A valid pool2d geom (u32 [11]) on an input [h][w][c]: windows up to 3, stride 1..3,
    asymmetric padding below the window."""
    k_h, k_w = int(rng.integers(1, min(h + 1, 3) + 1)), int(rng.integers(1, min(w + 1, 3) + 1))
    pt, pb = (int(v) for v in rng.integers(0, k_h, 2))
    pl, pr = (int(v) for v in rng.integers(0, k_w, 2))
    if h + pt + pb < k_h:
        pt = k_h - 1
    if w + pl + pr < k_w:
        pl = k_w - 1
    s_h, s_w = (int(v) for v in rng.integers(1, 4, 2))
    return np.array([c, h, w, k_h, k_w, s_h, s_w, pt, pl, pb, pr], np.uint32)


def random_quant(rng: np.random.Generator) -> list[int]:
    """x_offset, y_offset, act_min, act_max: full range or a fused clamp (RELU-like) half the time."""
    if rng.random() < 0.5:
        lo, hi = -128, 127
    else:
        lo = int(rng.integers(-128, 40))
        hi = int(rng.integers(lo, 128))
    return [int(rng.integers(-127, 129)), int(rng.integers(-128, 128)), lo, hi]


def random_requant(rng: np.random.Generator, c_out: int, row: int) -> np.ndarray:
    """mult[C] then shift[C] (C = c_out or 1) that keep a typical accumulator of `row` products
    inside the int8 range most of the time."""
    nc = c_out if (c_out > 1 and rng.random() < 0.5) else 1
    base = int(np.ceil(np.log2(max(1.0, 128.0 * 60.0 * np.sqrt(row) / 64.0))))
    mult = rng.integers(1 << 29, 1 << 31, nc)
    shift = -base + rng.integers(-2, 3, nc)
    return np.concatenate([mult, np.clip(shift, -31, 30)]).astype(np.int32)


def random_conv2d_s8_model(rng: np.random.Generator, reuse: bool | None = None):
    """f32 [h w c] -> input_s8 -> conv2d_s8 -> maxpool2d_s8 -> avgpool2d_s8 -> fc_s8 (s8 logits out),
    each with random geometry and quantisation (per tensor / per channel, bias or none, clamps).
    Returns the planned Model."""
    from ..blob.model import Layer, Model, Tensor
    from ..ops.conv2d import out_shape
    from ..ops.pool2d import out_shape as pool_out
    from .planner import plan
    c, h, w = int(rng.choice([1, 2, 3, 4, 6])), int(rng.integers(2, 9)), int(rng.integers(2, 9))
    n0 = h * w * c
    T = [Tensor("f32", (h, w, c)), Tensor("s8", (h, w, c), scale=float(rng.uniform(0.01, 0.1)))]
    L = [Layer("input_s8", 0, 1, n0, n0, [np.array([int(rng.integers(-30, 30))], np.int32)])]
    # conv2d_s8
    g = random_conv2d_s8_geom(rng, c, h, w)
    co, ho, wo = out_shape(g)
    cg, k_h, k_w = c // int(g[14]), int(g[4]), int(g[5])
    T.append(Tensor("s8", (ho, wo, co), scale=float(rng.uniform(0.02, 0.2))))
    wt = rng.integers(-128, 128, co * k_h * k_w * cg).astype(np.int8)
    bias = rng.integers(-4000, 4000, co).astype(np.int32) if rng.random() < 0.6 else None
    rq = np.concatenate([random_requant(rng, co, cg * k_h * k_w), random_quant(rng)]).astype(np.int32)
    L.append(Layer("conv2d_s8", 1, 2, n0, co * ho * wo, [g, wt, bias, rq]))
    cur, (h, w, c) = 2, (ho, wo, co)
    # the two poolings, in either order
    for kind in (("maxpool2d_s8", "avgpool2d_s8") if rng.random() < 0.7 else ("avgpool2d_s8", "maxpool2d_s8")):
        pg = random_pool2d_s8_geom(rng, c, h, w)
        _, ph, pw = pool_out(pg)
        lo = int(rng.integers(-128, 10)) if rng.random() < 0.4 else -128
        hi = int(rng.integers(lo, 128)) if rng.random() < 0.4 else 127
        T.append(Tensor("s8", (ph, pw, c), scale=T[cur].scale))
        L.append(Layer(kind, cur, len(T) - 1, h * w * c, ph * pw * c, [pg, np.array([lo, hi], np.int32)]))
        cur, h, w = len(T) - 1, ph, pw
    # fc_s8 readout
    n_in, n_out = h * w * c, int(rng.integers(1, 6))
    T.append(Tensor("s8", (n_out,), scale=0.1))
    q = random_quant(rng)
    rq = random_requant(rng, n_out, n_in)
    fb = rng.integers(-2000, 2000, n_out).astype(np.int32) if rng.random() < 0.5 else None
    L.append(Layer("fc_s8", cur, len(T) - 1, n_in, n_out,
                   [rng.integers(-128, 128, n_in * n_out).astype(np.int8), fb, rq, np.array(q, np.int32)]))
    m = Model(L, T, 0, len(T) - 1, 0)
    return plan(m, reuse=bool(rng.random() < 0.5) if reuse is None else reuse)
