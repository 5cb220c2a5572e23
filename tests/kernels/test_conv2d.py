"""The C conv2d kernels equal their numpy twins bit for bit (integer paths and float32: both sides
round once per operation in the same order, no tolerance); the event-driven kernel equals the
dense Q15 one on spikes; the float32 twin agrees with torch.nn.functional.conv2d (to a
tolerance: torch sums in another order); every bad argument is rejected by both twins."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import edgehost.kernels as K
import edgehost.sim as S

EX = settings(max_examples=120, deadline=None)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def both(name, *args, **kw):
    """Run the C kernel and its twin; both succeed with the same result or both reject."""
    try:
        c = getattr(K, name)(*args, **kw)
    except ValueError:
        with pytest.raises(ValueError):
            getattr(S, name)(*args, **kw)
        return None
    s = getattr(S, name)(*args, **kw)
    same(c, s)
    return c


@st.composite
def geometry(draw):
    """A valid geometry: odd sizes, strides, asymmetric padding, dilation, groups/depthwise."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    depthwise = draw(st.booleans())
    cg = 1 if depthwise else draw(st.integers(1, 3))
    og = 1 if depthwise else draw(st.integers(1, 3))
    k_h, k_w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    span_h, span_w = dh * (k_h - 1) + 1, dw * (k_w - 1) + 1
    pad = tuple(draw(st.integers(0, s - 1)) for s in (span_h, span_w, span_h, span_w))
    h = draw(st.integers(max(1, span_h - pad[0] - pad[2]), span_h + 9))
    w = draw(st.integers(max(1, span_w - pad[1] - pad[3]), span_w + 9))
    kw = dict(stride=(sh, sw), padding=pad, dilation=(dh, dw), groups=groups)
    return (cg * groups, h, w), (og * groups, cg, k_h, k_w), kw


def rand(seed):
    return np.random.default_rng(seed)


@EX
@given(geometry(), st.integers(0, 2**32 - 1), st.booleans())
def test_conv2d_f32_bit_exact(geo, seed, bias):
    xs, ws, kw = geo
    r = rand(seed)
    x = r.standard_normal(xs).astype(np.float32) * 100
    w = r.standard_normal(ws).astype(np.float32)
    b = r.standard_normal(ws[0]).astype(np.float32) if bias else None
    y = both("conv2d_f32", x, w, b, **kw)
    assert y is not None
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    pt, pl, pb, pr = kw["padding"]
    xt = torch.nn.functional.pad(torch.from_numpy(x)[None], (pl, pr, pt, pb))
    t = torch.nn.functional.conv2d(xt, torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                                   stride=kw["stride"], dilation=kw["dilation"], groups=kw["groups"])[0]
    # float32 sums in another order: bound the difference by the sum of magnitudes' rounding
    mag = S.conv2d_f32(np.abs(x), np.abs(w), None if b is None else np.abs(b), **kw)
    np.testing.assert_array_less(np.abs(t.numpy() - y), mag * 1e-5 + 1e-6)


@EX
@given(geometry(), st.integers(0, 2**32 - 1), st.booleans(), st.integers(0, 31),
       st.sampled_from(["full", "small", "extreme"]))
def test_conv2d_q15_bit_exact(geo, seed, bias, shift, kind):
    xs, ws, kw = geo
    r = rand(seed)
    if kind == "extreme":  # saturation at both ends
        x = r.choice(np.array([-32768, 32767], np.int16), xs)
        w = r.choice(np.array([-32768, 32767], np.int16), ws)
    else:
        lim = 32768 if kind == "full" else 64
        x = r.integers(-lim, lim, xs).astype(np.int16)
        w = r.integers(-lim, lim, ws).astype(np.int16)
    b = r.integers(-2**31, 2**31, ws[0]).astype(np.int32) if bias else None
    assert both("conv2d_q15", x, w, b, shift, **kw) is not None


@EX
@given(geometry(), st.integers(0, 2**32 - 1), st.booleans(), st.integers(0, 31),
       st.sampled_from([0.0, 0.05, 0.3, 1.0]), st.sampled_from(["full", "small", "huge_bias"]))
def test_conv2d_spike_q15_bit_exact(geo, seed, bias, shift, rate, kind):
    xs, ws, kw = geo
    r = rand(seed)
    s = (r.random(xs) < rate).astype(np.uint8)
    lim = 32768 if kind == "full" else 256
    w = r.integers(-lim, lim, ws).astype(np.int16)
    if kind == "huge_bias":  # the 64-bit gather path (int32 sums could overflow)
        b = r.choice(np.array([-2**31, 2**31 - 1], np.int32), ws[0])
    else:
        b = r.integers(-2**20, 2**20, ws[0]).astype(np.int32) if bias else None
    y = both("conv2d_spike_q15", s, w, b, shift, **kw)
    assert y is not None
    same(y, K.conv2d_q15(s.astype(np.int16), w, b, shift, **kw))


@EX
@given(geometry())
def test_out_size(geo):
    (c_in, h, w), (c_out, _cg, k_h, k_w), kw = geo
    hw = both("conv2d_out_size", c_in, h, w, c_out, k_h, k_w, **kw)
    y = S.conv2d_q15(np.zeros((c_in, h, w), np.int16), np.zeros((c_out, _cg, k_h, k_w), np.int16), **kw)
    assert y.shape == (c_out, *hw)


def test_sizes_not_multiple_of_4_and_unaligned_spikes():
    """Spike rows of every width 1..37 (the word-skipping scan), views at odd offsets."""
    r = rand(1)
    for wd in range(1, 38):
        buf = (r.random(2 * 3 * wd + 1) < 0.2).astype(np.uint8)
        s = buf[1:].reshape(2, 3, wd)
        w = r.integers(-300, 300, (3, 2, 3, 3)).astype(np.int16)
        kw = dict(stride=(1, 2), padding=(1, 2, 1, 0)) if wd >= 1 else {}
        y = both("conv2d_spike_q15", s, w, None, 2, **kw)
        same(y, S.conv2d_q15(s, w, None, 2, **kw))


BAD = [
    dict(stride=0), dict(stride=(1, 0)), dict(dilation=0), dict(stride=65536), dict(dilation=(1, 65536)),
    dict(groups=0), dict(groups=4), dict(groups=-1), dict(padding=3), dict(padding=(0, 0, 0, 3)),
    dict(padding=-1), dict(padding=(1, 2, 3)), dict(padding="same", stride=2), dict(padding="full"),
    dict(stride=1.5), dict(dilation=(2, 2)), dict(shift=32), dict(shift=-1),
]


@pytest.mark.parametrize("name", ["conv2d_f32", "conv2d_q15", "conv2d_spike_q15"])
@pytest.mark.parametrize("bad", BAD)
def test_bad_arguments_rejected(name, bad):
    x = np.ones((2, 3, 3), np.uint8)
    w = np.ones((2, 2, 3, 3), np.int16)
    kw = dict(bad)
    if name == "conv2d_f32":
        kw.pop("shift", None)
        if not bad or list(bad) == ["shift"]:
            return
        x, w = x.astype(np.float32), w.astype(np.float32)
    # dilation 2 on a 3x3 kernel: span 5 > input 3
    with pytest.raises(ValueError):
        getattr(K, name)(x, w, **kw)
    with pytest.raises(ValueError):
        getattr(S, name)(x, w, **kw)


@pytest.mark.parametrize("name", ["conv2d_q15", "conv2d_spike_q15"])
def test_bad_tensors_rejected(name):
    x = np.ones((2, 3, 3), np.int16)
    w = np.ones((2, 2, 3, 3), np.int16)
    cases = [
        (x[0], w, None), (x, w[0], None), (x[:1], w, None),          # shapes
        (x, w, np.zeros(3, np.int32)),                               # bias length
        (np.zeros((2, 0, 3), np.int16), w, None),                    # empty
        (x, np.full((2, 2, 3, 3), 40000), None),                     # weights beyond int16
    ]
    for xx, ww, bb in cases:
        for m in (K, S):
            with pytest.raises(ValueError):
                getattr(m, name)(xx, ww, bb)
    if name == "conv2d_spike_q15":
        s = np.ones((2, 3, 3), np.uint8)
        s[1, 2, 2] = 2
        for m in (K, S):
            with pytest.raises(ValueError):
                m.conv2d_spike_q15(s, w)
    else:
        for m in (K, S):
            with pytest.raises(ValueError):
                m.conv2d_q15(np.full((2, 3, 3), 40000), w)


def test_kernel_error_codes():
    """The C codes of the header's checks, in its order."""
    def code(**kw):
        base = dict(c_in=2, h_in=5, w_in=5, c_out=2, k_h=3, k_w=3)
        base.update({k: kw.pop(k) for k in list(kw) if k in base})
        try:
            K.conv2d_out_size(*base.values(), **kw)
        except K.KernelError as e:
            return e.status
        return 0
    assert code() == 0
    assert code(h_in=0) == -2 and code(k_w=65536) == -2
    assert code(stride=0) == -3 and code(dilation=(40000, 1)) == -3
    assert code(groups=0) == -3 and code(groups=3) == -2
    assert code(padding=3) == -3
    assert code(h_in=1, padding=0) == -2
    assert code(c_in=65535, h_in=65535, w_in=1, c_out=1, k_h=1, k_w=1, groups=65535) == -2
    assert code(h_in=1, padding=(1, 0, 1, 0)) == 0


def test_torch_layer_shapes():
    """The issue's layers: 2x34x34 -> 8, 5x5 stride 2; 8x15x15 -> 16, 3x3 padding 1."""
    r = rand(7)
    s = (r.random((2, 34, 34)) < 0.1).astype(np.uint8)
    w = r.integers(-2000, 2000, (8, 2, 5, 5)).astype(np.int16)
    y = both("conv2d_spike_q15", s, w, r.integers(-5000, 5000, 8).astype(np.int32), 4, stride=2)
    assert y.shape == (8, 15, 15)
    s2 = (r.random((8, 15, 15)) < 0.1).astype(np.uint8)
    w2 = r.integers(-2000, 2000, (16, 8, 3, 3)).astype(np.int16)
    y2 = both("conv2d_spike_q15", s2, w2, None, 4, padding=1)
    assert y2.shape == (16, 15, 15)
