"""eh_conv2d_s8 / eh_maxpool2d_s8 / eh_avgpool2d_s8 (int8, channel-last, eh_conv2d.h) equal their
numpy twins (edgehost.sim.conv2d) bit for bit over generated shapes, groups, strides, dilations,
paddings, quantisation and activation ranges; bad arguments are rejected by both. The DSP path
and a scalar transcription of the header are compared in tests/c/test_conv2d_s8.c; the conv
equals eh_conv1d_s8 on height-1 inputs (two kernels written apart)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import edgehost.kernels as K
import edgehost.sim as S

EX = settings(max_examples=150, deadline=None)
i8 = st.integers(-128, 127)


def both(name, *a, **kw):
    """The C kernel and its twin: the same int8 array, or both reject."""
    try:
        c = getattr(K, name)(*a, **kw)
    except ValueError:
        with pytest.raises(ValueError):
            getattr(S, name)(*a, **kw)
        return None
    s = getattr(S, name)(*a, **kw)
    assert c.dtype == s.dtype == np.int8 and c.shape == s.shape
    np.testing.assert_array_equal(c, s)
    return c


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    cg, og = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    if draw(st.integers(0, 5)) == 0:           # depthwise, multiplier 1 or 2
        groups, cg, og = draw(st.integers(1, 6)), 1, draw(st.integers(1, 2))
    c_in, c_out = groups * cg, groups * og
    k_h, k_w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span = (dil[0] * (k_h - 1) + 1, dil[1] * (k_w - 1) + 1)
    pad = tuple(draw(st.integers(0, span[i % 2] - 1)) for i in range(4))     # top, left, bottom, right
    h_in = draw(st.integers(max(1, span[0] - pad[0] - pad[2]), 10))
    w_in = draw(st.integers(max(1, span[1] - pad[1] - pad[3]), 10))
    x = draw(hnp.arrays(np.int8, (h_in, w_in, c_in), elements=i8))
    w = draw(hnp.arrays(np.int8, (c_out, k_h, k_w, cg), elements=i8 | st.sampled_from([-128, 127])))
    b = draw(st.none() | hnp.arrays(np.int32, c_out, elements=st.integers(-(1 << 31), (1 << 31) - 1)
                                    | st.integers(-20000, 20000)))
    pc = draw(st.booleans())
    nc = c_out if pc else 1
    mult = draw(hnp.arrays(np.int32, nc, elements=st.integers(0, (1 << 31) - 1) | st.integers(1 << 30, (1 << 31) - 1)))
    shift = draw(hnp.arrays(np.int32, nc, elements=st.integers(-31, 30) | st.integers(-12, 1)))
    lo = draw(i8)
    return dict(x=x, w=w, b=b, mult=mult, shift=shift, per_channel=pc, x_offset=draw(st.integers(-127, 128)),
                y_offset=draw(i8), act_min=lo, act_max=draw(st.integers(lo, 127)),
                stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))), padding=pad, dilation=dil, groups=groups)


@EX
@given(conv_case())
def test_conv2d_s8_c_equals_numpy(case):
    assert both("conv2d_s8", **case) is not None


@EX
@given(x=hnp.arrays(np.int8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 7)), elements=i8),
       k=st.tuples(st.integers(1, 4), st.integers(1, 4)), s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       p=st.tuples(*[st.integers(0, 3)] * 4), lo=i8, span=st.integers(0, 255), kind=st.sampled_from(["max", "avg"]))
def test_pool2d_s8_c_equals_numpy(x, k, s, p, lo, span, kind):
    hi = min(127, lo + span)
    pad = (min(p[0], k[0] - 1), min(p[1], k[1] - 1), min(p[2], k[0] - 1), min(p[3], k[1] - 1))
    if x.shape[0] + pad[0] + pad[2] < k[0] or x.shape[1] + pad[1] + pad[3] < k[1]:
        with pytest.raises(ValueError):
            K.maxpool2d_s8(x, k, s, pad)
        return
    y = both(f"{kind}pool2d_s8", x, k, s, pad, act_min=lo, act_max=hi)
    assert y is not None and y.min() >= lo and y.max() <= hi


def test_avgpool2d_s8_rounds_half_away_from_zero_over_the_taps_inside():
    # a 2x2 window at a corner with one padding row and column sees one input value: itself
    x = np.array([[[5], [-6]], [[7], [-3]]], np.int8)
    y = K.avgpool2d_s8(x, 2, 1, (1, 1, 0, 0))
    # (0, 1): 5 - 6 = -1 over 2 taps, (-1 - 1) / 2 = -1 (half away from zero); (1, 0): (12 + 1) / 2 = 6;
    # (1, 1): (3 + 2) / 4 = 1
    np.testing.assert_array_equal(y[..., 0], [[5, -1], [6, 1]])
    assert int(K.avgpool2d_s8(np.array([[[5], [-6]]], np.int8), (1, 2))[0, 0, 0]) == -1
    assert int(K.avgpool2d_s8(np.array([[[6], [-5]]], np.int8), (1, 2))[0, 0, 0]) == 1
    assert int(K.avgpool2d_s8(np.array([[[127], [127], [126]]], np.int8), (1, 3))[0, 0, 0]) == 127


def test_conv2d_s8_height_one_equals_conv1d_s8():
    rng = np.random.default_rng(3)
    for _ in range(30):
        t_in, c_in, c_out, taps = rng.integers(3, 20), rng.integers(1, 9), rng.integers(1, 7), rng.integers(1, 5)
        pad, stride = int(rng.integers(0, taps)), int(rng.integers(1, 3))
        x = rng.integers(-128, 128, (t_in, c_in)).astype(np.int8)
        w = rng.integers(-128, 128, (c_out, taps, c_in)).astype(np.int8)
        mult = rng.integers(1 << 30, 1 << 31, c_out)
        shift = rng.integers(-10, 1, c_out)
        b = rng.integers(-9000, 9000, c_out)
        kw = dict(x_offset=int(rng.integers(-127, 129)), y_offset=int(rng.integers(-128, 128)), act_min=-100, act_max=90)
        y1 = K.conv1d_s8(x, w, mult, shift, b, stride=stride, pad=pad, **kw)
        y2 = K.conv2d_s8(x[None], w[:, None], mult, shift, b, stride=(1, stride), padding=(0, pad, 0, pad), **kw)
        np.testing.assert_array_equal(y2[0], y1)


def test_conv2d_s8_rejects_bad_arguments_in_both():
    x = np.zeros((5, 5, 4), np.int8)
    w = np.zeros((3, 3, 3, 4), np.int8)
    good = dict(x=x, w=w, mult=[1 << 30], shift=[-2])
    assert both("conv2d_s8", **good) is not None
    for bad in (dict(x_offset=129), dict(x_offset=-128), dict(y_offset=128), dict(act_min=5, act_max=4),
                dict(act_max=128), dict(mult=[-1]), dict(shift=[31]), dict(shift=[-32]), dict(stride=0),
                dict(padding=3), dict(groups=3), dict(w=np.zeros((3, 3, 3, 3), np.int8)),
                dict(mult=[1, 2, 3], shift=[0, 0, 0], per_channel=False)):
        with pytest.raises(ValueError):
            K.conv2d_s8(**{**good, **bad})
        with pytest.raises(ValueError):
            S.conv2d_s8(**{**good, **bad})
    # (c_in / groups) k_h k_w above 65536
    big = dict(x=np.zeros((1, 1, 65537), np.int8), w=np.zeros((1, 1, 1, 65537), np.int8), mult=[1], shift=[0])
    with pytest.raises(ValueError):
        K.conv2d_s8(**big)
    with pytest.raises(ValueError):
        S.conv2d_s8(**big)
