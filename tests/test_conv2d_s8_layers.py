"""The int8 channel-last 2-D CNN layers of format 1.6: conv2d_s8 (53), maxpool2d_s8 (54),
avgpool2d_s8 (55) (docs/model-format.md). The C loader (built natively with ASan+UBSan) and the
Python reader refuse the same blobs with the same code and the same message (each rule, naming
the numbers); the host backends "sim" (numpy) and "kernels" (C) agree bit for bit on single
layers of every geometry (groups, depthwise, stride, dilation, asymmetric padding, per tensor /
per channel, no bias, clamps); the C interpreter equals the host on conv2d_s8 -> maxpool2d_s8 ->
avgpool2d_s8 -> fc_s8 models."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from edgehost.blob import BlobError, Layer, Model, Tensor, read
from edgehost.blob import format as F
from edgehost.blob.model import _write
from edgehost.convert.examples_s8_2d import random_conv2d_s8_model
from edgehost.convert.planner import plan
from edgehost.runtime import HostModel
from edgehost.runtime.native import CTool, build_tool

ARENA = 1 << 16


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


def refresh(buf) -> bytes:
    """Recompute the model hash and the CRC after an edit (so it reaches the layer checks)."""
    from edgehost.blob import crc32, fnv1a32
    buf = bytearray(buf)
    total = struct.unpack_from("<I", buf, 12)[0]
    struct.pack_into("<I", buf, 20, fnv1a32(bytes(buf[24:total])))
    struct.pack_into("<I", buf, 16, crc32(bytes(buf[20:total])))
    return bytes(buf)


def py_result(blob, arena=ARENA):
    try:
        read(blob, arena_size=arena)
        return 0, ""
    except BlobError as e:
        return e.code, str(e)


def param_at(blob, li, k):
    return struct.unpack_from("<II", blob, 64 + 64 * li + 32 + 8 * k)


def set_u32(blob, li, k, entry, value, fmt="<I"):
    b = bytearray(blob)
    off, _ = param_at(blob, li, k)
    struct.pack_into(fmt, b, off + 4 * entry, value)
    return refresh(b)


def set_len(blob, li, k, n):
    b = bytearray(blob)
    struct.pack_into("<I", b, 64 + 64 * li + 36 + 8 * k, n)
    return refresh(b)


# ------------------------------------------------------------------------------ hand-built layers

def conv_model(c_in, h, w, c_out, k=(3, 3), stride=(1, 1), pad=(0, 0, 0, 0), dil=(1, 1), groups=1, per_channel=False,
               bias=True, quant=(0, 0, -128, 127), seed=0):
    """s8 [h][w][c_in] -> conv2d_s8 -> s8 [h_out][w_out][c_out] (one layer, the model's input and
    output), random weights and requantisation."""
    from edgehost.ops.conv2d import out_shape
    rng = np.random.default_rng(seed)
    g = np.array([c_in, h, w, c_out, k[0], k[1], stride[0], stride[1], *pad, dil[0], dil[1], groups], np.uint32)
    co, ho, wo = out_shape(g)
    row = (c_in // groups) * k[0] * k[1]
    nc = c_out if per_channel else 1
    sh = -int(np.ceil(np.log2(120 * np.sqrt(row)))) + rng.integers(-1, 2, nc)
    rq = np.concatenate([rng.integers(1 << 29, 1 << 31, nc), sh, quant]).astype(np.int32)
    wt = rng.integers(-128, 128, c_out * row).astype(np.int8)
    b = rng.integers(-5000, 5000, c_out).astype(np.int32) if bias else None
    T = [Tensor("s8", (h, w, c_in), scale=0.05), Tensor("s8", (ho, wo, co), scale=0.1)]
    L = [Layer("conv2d_s8", 0, 1, h * w * c_in, co * ho * wo, [g, wt, b, rq])]
    return plan(Model(L, T, 0, 1, 0))


def pool_model(kind, c, h, w, k=(2, 2), stride=(2, 2), pad=(0, 0, 0, 0), act=(-128, 127)):
    from edgehost.ops.pool2d import out_shape
    g = np.array([c, h, w, k[0], k[1], stride[0], stride[1], *pad], np.uint32)
    _, ho, wo = out_shape(g)
    T = [Tensor("s8", (h, w, c), scale=0.05), Tensor("s8", (ho, wo, c), scale=0.05)]
    L = [Layer(kind, 0, 1, h * w * c, ho * wo * c, [g, np.array(act, np.int32)])]
    return plan(Model(L, T, 0, 1, 0))


def test_format_minor_and_codes():
    assert (F.L_CONV2D_S8, F.L_MAXPOOL2D_S8, F.L_AVGPOOL2D_S8) == (53, 54, 55)
    for m in (conv_model(2, 5, 5, 3), pool_model("maxpool2d_s8", 3, 4, 4), pool_model("avgpool2d_s8", 3, 4, 4)):
        assert struct.unpack_from("<H", m.to_bytes(), 6)[0] == 6


# ------------------------------------------------------------------------- (a) validation, C == Python

def _conv_cases():
    m = conv_model(4, 6, 7, 4, k=(3, 2), stride=(1, 2), pad=(1, 0, 1, 1), per_channel=True, quant=(5, -3, -100, 90))
    blob = m.to_bytes()
    n_w, cout = 4 * 3 * 2 * 4, 4
    L = "layer 0 (conv2d_s8): "
    G = L + "param 0 (geom): "
    cases = [
        (set_u32(blob, 0, 0, 0, 0), G + "c_in 0 outside [1, 65535]"),
        (set_u32(blob, 0, 0, 4, 70000), G + "k_h 70000 outside [1, 65535]"),
        (set_u32(blob, 0, 0, 6, 0), G + "stride_h 0 outside [1, 65535]"),
        (set_u32(blob, 0, 0, 13, 0), G + "dil_w 0 outside [1, 65535]"),
        (set_u32(blob, 0, 0, 12, 40000), G + "kernel span 80001 x 2 (dilation x (k - 1) + 1) > 65535"),
        (set_u32(blob, 0, 0, 14, 0), G + "groups 0 outside [1, 65535]"),
        (set_u32(blob, 0, 0, 14, 3), G + "groups 3 does not divide c_in 4 and c_out 4"),
        (set_u32(blob, 0, 0, 8, 3), G + "pad_top 3 outside [0, 2] (the kernel span - 1)"),
        (set_u32(blob, 0, 0, 11, 2), G + "pad_right 2 outside [0, 1] (the kernel span - 1)"),
        (set_u32(blob, 0, 0, 5, 60), G + "kernel span 3 x 60 larger than the padded input 8 x 8"),
        (set_u32(blob, 0, 0, 1, 5), G + "input c_in x h_in x w_in = 140, n_in is 168"),
        (set_u32(blob, 0, 0, 7, 1), G + "output c_out x h_out x w_out = 4 x 6 x 7, n_out is 96"),
        (set_len(blob, 0, 0, 56), G + "14 entries, expected 15"),
        (set_len(blob, 0, 1, n_w - 1), L + f"param 1 (weight): {n_w - 1} entries, expected {n_w}"),
        (set_len(blob, 0, 2, 4 * (cout + 1)), L + f"param 2 (bias): {cout + 1} entries, expected {cout} or 0"),
        (set_len(blob, 0, 3, 4 * 7), L + "param 3 (requant): 7 entries, expected 6 or 12 (mult then shift, per tensor "
                                         "or per channel, then x_offset, y_offset, act_min, act_max)"),
        (set_u32(blob, 0, 3, 2, -1, "<i"), L + "param 3 (requant): entry 2 (mult -1) outside [0, 2147483647]"),
        (set_u32(blob, 0, 3, 5, 31, "<i"), L + "param 3 (requant): entry 5 (shift 31) outside [-31, 30]"),
        (set_u32(blob, 0, 3, 4, -32, "<i"), L + "param 3 (requant): entry 4 (shift -32) outside [-31, 30]"),
        (set_u32(blob, 0, 3, 8, -128, "<i"), L + "param 3 (requant): entry 8 (x_offset -128) outside [-127, 128]"),
        (set_u32(blob, 0, 3, 9, 128, "<i"), L + "param 3 (requant): entry 9 (y_offset 128) outside [-128, 127]"),
        (set_u32(blob, 0, 3, 10, -129, "<i"), L + "param 3 (requant): entry 10 (act_min -129) outside [-128, 127]"),
        (set_u32(blob, 0, 3, 11, -101, "<i"), L + "param 3 (requant): entry 11 (act_max -101) outside [-100, 127]"),
        (set_u32(blob, 0, 3, 11, 128, "<i"), L + "param 3 (requant): entry 11 (act_max 128) outside [-100, 127]"),
    ]
    # the per-tensor form: 6 entries, the offsets at 2..5
    b1 = conv_model(3, 5, 5, 2, bias=False, quant=(128, 127, -128, 127)).to_bytes()
    cases += [(set_u32(b1, 0, 3, 0, -5, "<i"), L + "param 3 (requant): entry 0 (mult -5) outside [0, 2147483647]"),
              (set_u32(b1, 0, 3, 2, 129, "<i"), L + "param 3 (requant): entry 2 (x_offset 129) outside [-127, 128]"),
              (set_len(b1, 0, 3, 4 * 5), L + "param 3 (requant): 5 entries, expected 6 or 8 (mult then shift, per "
                                             "tensor or per channel, then x_offset, y_offset, act_min, act_max)")]
    return cases


def _row_limit_blob():
    """(c_in / groups) k_h k_w = 16385 x 2 x 2 = 65540 > 65536, every other rule kept."""
    g = np.array([16385, 2, 2, 1, 2, 2, 1, 2, 0, 0, 0, 0, 1, 1, 1], np.uint32)
    T = [Tensor("s8", (65540,), scale=0.05), Tensor("s8", (1,), scale=0.1)]
    rq = np.array([1 << 30, -10, 0, 0, -128, 127], np.int32)
    L = [Layer("conv2d_s8", 0, 1, 65540, 1, [g, np.zeros(65540, np.int8), None, rq])]
    m = Model(L, T, 0, 1, 0)
    m.tensors[1].offset = 65540 + 4 - 65540 % 4
    m.arena_size = m.tensors[1].offset + 4
    return _write(m)


def _pool_cases(kind):
    blob = pool_model(kind, 3, 5, 6, k=(3, 2), stride=(2, 2), pad=(1, 0, 1, 1), act=(-20, 50)).to_bytes()
    L = f"layer 0 ({kind}): "
    G = L + "param 0 (geom): "
    return [
        (set_u32(blob, 0, 0, 0, 0), G + "c 0 outside [1, 65535]"),
        (set_u32(blob, 0, 0, 3, 0), G + "k_h 0 outside [1, 65535]"),
        (set_u32(blob, 0, 0, 6, 0), G + "stride_w 0 outside [1, 65535]"),
        (set_u32(blob, 0, 0, 7, 3), G + "pad_top 3 outside [0, 2] (the window - 1)"),
        (set_u32(blob, 0, 0, 10, 2), G + "pad_right 2 outside [0, 1] (the window - 1)"),
        (set_u32(blob, 0, 0, 3, 999), G + "window 999 x 2 larger than the padded input 7 x 7"),
        (set_u32(blob, 0, 0, 2, 7), G + "input c x h_in x w_in = 105, n_in is 90"),
        (set_u32(blob, 0, 0, 5, 1), G + "output c x h_out x w_out = 3 x 5 x 3, n_out is 27"),
        (set_len(blob, 0, 0, 40), G + "10 entries, expected 11"),
        (set_len(blob, 0, 1, 4), L + "param 1 (act): 1 entries, expected 2"),
        (set_u32(blob, 0, 1, 0, -129, "<i"), L + "param 1 (act): entry 0 (act_min -129) outside [-128, 127]"),
        (set_u32(blob, 0, 1, 0, 128, "<i"), L + "param 1 (act): entry 0 (act_min 128) outside [-128, 127]"),
        (set_u32(blob, 0, 1, 1, -21, "<i"), L + "param 1 (act): entry 1 (act_max -21) outside [-20, 127]"),
        (set_u32(blob, 0, 1, 1, 128, "<i"), L + "param 1 (act): entry 1 (act_max 128) outside [-20, 127]"),
    ]


def test_every_rule_same_message_in_c_and_python(native):
    cases = _conv_cases() + _pool_cases("maxpool2d_s8") + _pool_cases("avgpool2d_s8")
    got = native.check([c for c, _ in cases], ARENA)
    for (blob, want), (rc, *_r, err) in zip(cases, got):
        code, msg = py_result(blob)
        assert code == rc == F.E_PARAM, (want, code, rc, msg, err)
        assert msg == err == want, (want, msg, err)
    # the row limit of the int8 accumulator (a blob of 64 KiB of weights, a larger arena)
    blob = _row_limit_blob()
    code, msg = py_result(blob, 1 << 18)
    rc, *_r, err = native.check([blob], 1 << 18)[0]
    want = "layer 0 (conv2d_s8): param 0 (geom): (c_in / groups) x k_h x k_w = 16385 x 2 x 2 = 65540 > 65536"
    assert code == rc == F.E_PARAM and msg == err == want, (msg, err)


def test_random_mutations_same_in_c_and_python(native):
    """Random edits of the three layers' records and parameters of random models: the same
    decision, code and message in both loaders."""
    rng = np.random.default_rng(7)
    cases = []
    for s in range(8):
        m = random_conv2d_s8_model(np.random.default_rng(100 + s))
        blob = m.to_bytes()
        idx = [i for i, l in enumerate(m.layers) if l.type in ("conv2d_s8", "maxpool2d_s8", "avgpool2d_s8")]
        for _ in range(60):
            b = bytearray(blob)
            li = int(rng.choice(idx))
            if rng.random() < 0.7:
                k = int(rng.integers(0, 4))
                off, ln = param_at(blob, li, k)
                if ln:
                    e = int(rng.integers(0, max(1, min(ln, 64) // 4)))
                    struct.pack_into("<i", b, off + 4 * e, int(rng.choice(
                        [-2 ** 31, -200, -129, -128, -127, -32, -31, -1, 0, 1, 2, 3, 7, 30, 31, 127, 128, 129, 65535,
                         65536, 2 ** 31 - 1])))
                elif rng.random() < 0.5:
                    struct.pack_into("<I", b, 64 + 64 * li + 36 + 8 * k, 4 * int(rng.integers(1, 20)))
            else:
                b[64 + 64 * li + int(rng.integers(0, 64))] = int(rng.integers(0, 256))
            cases.append(refresh(b))
    got = native.check(cases, ARENA)
    refused = 0
    for blob, (rc, *_r, err) in zip(cases, got):
        code, msg = py_result(blob)
        assert rc == code, (rc, code, err, msg)
        if code:
            refused += 1
            assert err == msg
    assert refused > 150


# ------------------------------------------------------------------------- (b) sim == kernels

CONV_GEOMS = [  # (c_in, h, w, c_out, k, stride, pad (top, left, bottom, right), dil, groups)
    (3, 7, 6, 5, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (4, 9, 8, 4, (3, 3), (2, 2), (1, 0, 1, 1), (1, 1), 4),          # depthwise, stride 2, asymmetric
    (3, 8, 9, 6, (3, 2), (1, 2), (0, 1, 2, 0), (1, 1), 3),          # depthwise, multiplier 2
    (6, 9, 9, 4, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 2),          # groups 2, dilation 2
    (2, 10, 5, 3, (2, 3), (3, 1), (1, 2, 0, 1), (3, 1), 1),         # dilation on one axis
    (1, 5, 5, 1, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),          # a pointwise scalar layer
    (5, 4, 4, 7, (4, 4), (1, 1), (0, 0, 0, 0), (1, 1), 1),          # one output position
    (8, 6, 7, 8, (1, 1), (2, 3), (0, 0, 0, 0), (1, 1), 1),          # pointwise, strided
]


def _run_both(m, steps=4, seed=0):
    rng = np.random.default_rng(seed)
    blob = m.to_bytes()
    xs = rng.integers(-128, 128, (steps, m.input_tensor.n)).astype(np.int8)
    hs, hk = HostModel(blob, "sim"), HostModel(blob, "kernels")
    assert all(hk.prepared)
    ys, _ = hs.run(xs)
    yk, _ = hk.run(xs)
    np.testing.assert_array_equal(ys, yk)
    assert ys.dtype == yk.dtype == np.int8
    return ys


@pytest.mark.parametrize("geom", CONV_GEOMS, ids=lambda g: "x".join(map(str, g[:4])) + f"g{g[8]}")
@pytest.mark.parametrize("variant", ["per_tensor", "per_channel", "no_bias", "clamp"])
def test_conv2d_s8_sim_equals_kernels(geom, variant):
    c_in, h, w, c_out, k, stride, pad, dil, groups = geom
    kw = dict(per_channel=variant == "per_channel" and c_out > 1, bias=variant != "no_bias",
              quant=(-7, 4, -30, 60) if variant == "clamp" else (17, -5, -128, 127))
    m = conv_model(c_in, h, w, c_out, k, stride, pad, dil, groups, seed=hash(variant) % 1000, **kw)
    ys = _run_both(m)
    if variant == "clamp":
        assert ys.min() >= -30 and ys.max() <= 60
    assert len(np.unique(ys)) > 1 or ys.size == 1 or ys.size < 4


def test_conv2d_s8_equals_a_direct_reference():
    """The host step against a plain numpy loop of the documented arithmetic (eh_conv2d.h)."""
    from edgehost.sim.basic import requantize_s32
    m = conv_model(4, 6, 5, 4, (3, 2), (2, 1), (1, 0, 1, 1), (1, 2), 2, per_channel=True, quant=(3, -2, -128, 127))
    layer = m.layers[0]
    g = [int(v) for v in layer.params[0]]
    c_in, h, w, c_out, k_h, k_w, s_h, s_w, pt, pl, pb, pr, d_h, d_w, groups = g
    wt = layer.params[1].reshape(c_out, k_h, k_w, c_in // groups).astype(np.int64)
    b = layer.params[2]
    rq = layer.params[3]
    mult, shift, (xo, yo, lo, hi) = rq[:c_out], rq[c_out:2 * c_out], rq[2 * c_out:]
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (h, w, c_in)).astype(np.int8)
    _, ho, wo = (c_out, (h + pt + pb - d_h * (k_h - 1) - 1) // s_h + 1, (w + pl + pr - d_w * (k_w - 1) - 1) // s_w + 1)
    cg, og = c_in // groups, c_out // groups
    want = np.zeros((ho, wo, c_out), np.int64)
    for oy in range(ho):
        for ox in range(wo):
            for o in range(c_out):
                gi = o // og
                acc = 0
                for ky in range(k_h):
                    for kx in range(k_w):
                        iy, ix = oy * s_h - pt + ky * d_h, ox * s_w - pl + kx * d_w
                        if 0 <= iy < h and 0 <= ix < w:
                            acc += int(((x[iy, ix, gi * cg:gi * cg + cg].astype(np.int64) + xo) * wt[o, ky, kx]).sum())
                acc += int(b[o])
                want[oy, ox, o] = int(requantize_s32(acc, int(mult[o]), int(shift[o])))
    want = np.clip(np.clip(want + yo, -128, 127), lo, hi)
    for backend in ("sim", "kernels"):
        y = HostModel(m.to_bytes(), backend).step(x.ravel())
        np.testing.assert_array_equal(y, want.ravel())


POOL_GEOMS = [  # (c, h, w, k, stride, pad)
    (3, 6, 6, (2, 2), (2, 2), (0, 0, 0, 0)),
    (2, 7, 5, (3, 3), (2, 2), (1, 1, 1, 1)),        # SAME-like: padding taps not counted
    (4, 5, 8, (3, 2), (1, 3), (2, 0, 1, 1)),        # asymmetric
    (1, 4, 4, (4, 4), (1, 1), (0, 0, 0, 0)),        # global
    (5, 9, 3, (1, 3), (2, 1), (0, 2, 0, 1)),
]


@pytest.mark.parametrize("kind", ["maxpool2d_s8", "avgpool2d_s8"])
@pytest.mark.parametrize("geom", POOL_GEOMS, ids=lambda g: "x".join(map(str, g[:3])) + f"k{g[3][0]}{g[3][1]}")
@pytest.mark.parametrize("act", [(-128, 127), (-40, 33)])
def test_pool2d_s8_sim_equals_kernels_and_reference(kind, geom, act):
    c, h, w, k, stride, pad = geom
    m = pool_model(kind, c, h, w, k, stride, pad, act)
    ys = _run_both(m, seed=sum(geom[:3]))
    # the documented arithmetic (eh_conv2d.h): padding taps not counted, the mean rounded half
    # away from zero, then the clamp
    rng = np.random.default_rng(sum(geom[:3]))
    x = rng.integers(-128, 128, (4, h, w, c)).astype(np.int64)[0]
    pt, pl, pb, pr = pad
    ho, wo = (h + pt + pb - k[0]) // stride[0] + 1, (w + pl + pr - k[1]) // stride[1] + 1
    want = np.zeros((ho, wo, c), np.int64)
    for oy in range(ho):
        for ox in range(wo):
            y0, x0 = oy * stride[0] - pt, ox * stride[1] - pl
            win = x[max(y0, 0):min(y0 + k[0], h), max(x0, 0):min(x0 + k[1], w)].reshape(-1, c)
            if kind == "maxpool2d_s8":
                want[oy, ox] = win.max(0)
            else:
                s, n = win.sum(0), win.shape[0]
                want[oy, ox] = [int((v + n // 2) / n) if v > 0 else -int((-v + n // 2) / n) for v in s]
    np.testing.assert_array_equal(ys[0], np.clip(want, *act).ravel())


# ------------------------------------------------------------------------- (c) the C interpreter

@pytest.mark.parametrize("seed", range(12))
def test_c_interpreter_equals_host(seed, native):
    """f32 -> input_s8 -> conv2d_s8 -> maxpool2d_s8 / avgpool2d_s8 -> fc_s8, planned with and
    without arena reuse: the C interpreter's outputs and every layer output it still holds
    equal the host's (both backends), bit for bit."""
    rng = np.random.default_rng(seed)
    m = random_conv2d_s8_model(rng, reuse=bool(seed % 2))
    blob = m.to_bytes()
    assert struct.unpack_from("<H", blob, 6)[0] == 6
    rc, used, *_r, err = native.check([blob], ARENA)[0]
    assert rc == 0 and used == m.arena_size, err
    xs = (rng.normal(size=(5, m.input_tensor.n)) * rng.choice([0.5, 3.0, 50.0])).astype(np.float32)
    yc, tc = native.run(blob, xs)
    ys, ts = HostModel(blob, "sim").run(xs)
    yk, tk = HostModel(blob, "kernels").run(xs)
    np.testing.assert_array_equal(yc, ys)
    np.testing.assert_array_equal(yc, yk)
    for a, b, c in zip(tc, ts, tk):
        for p, q, r in zip(a, b, c):
            np.testing.assert_array_equal(q, r)
            if p is not None:
                np.testing.assert_array_equal(np.asarray(p), np.asarray(q))
