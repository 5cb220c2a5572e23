"""eh_conv1d_s8 (the int8 1-D convolution, eh_basic.h) equals its numpy twin bit for bit; both
equal a scalar transcription of TFLite's reference CONV_2D (height 1) and an eh_fc_s8 over the
im2col windows; bad arguments are rejected by both. The DSP (SMLAD) path is compared with the
portable one in tests/c/test_basic.c (emulated instructions) and on the device (HIL)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import edgehost.kernels as K
import edgehost.sim as S

EX = settings(max_examples=200, deadline=None)
i8 = st.integers(-128, 127)


def both(**kw):
    """The C kernel and its twin: the same int8 array, or both reject."""
    try:
        c = K.conv1d_s8(**kw)
    except ValueError:
        with pytest.raises(ValueError):
            S.conv1d_s8(**kw)
        return None
    s = S.conv1d_s8(**kw)
    assert c.dtype == s.dtype == np.int8 and c.shape == s.shape
    np.testing.assert_array_equal(c, s)
    return c


@st.composite
def conv_case(draw, valid=True):
    n_in, n_out = draw(st.integers(1, 13)), draw(st.integers(1, 11))
    taps, stride = draw(st.integers(1, 7)), draw(st.integers(1, 4))
    pad = draw(st.integers(0, taps - 1))
    t_in = draw(st.integers(max(1, taps - 2 * pad), 23))
    # any t_out whose last window starts before the end of the left-padded input
    t_max = (t_in + pad - 1) // stride + 1
    t_out = draw(st.integers(1, t_max)) if valid else draw(st.integers(t_max + 1, t_max + 3))
    x = draw(hnp.arrays(np.int8, (t_in, n_in), elements=i8))
    w = draw(hnp.arrays(np.int8, (n_out, taps, n_in), elements=i8 | st.sampled_from([-128, 127])))
    b = draw(st.none() | hnp.arrays(np.int32, n_out, elements=st.integers(-(1 << 31), (1 << 31) - 1)
                                    | st.integers(-20000, 20000)))
    pc = draw(st.booleans())
    nc = n_out if pc else 1
    mult = draw(hnp.arrays(np.int32, nc, elements=st.integers(0, (1 << 31) - 1) | st.integers(1 << 30, (1 << 31) - 1)))
    shift = draw(hnp.arrays(np.int32, nc, elements=st.integers(-31, 30) | st.integers(-12, 1)))
    lo = draw(i8)
    return dict(x=x, w=w, b=b, mult=mult, shift=shift, per_channel=pc, x_offset=draw(st.integers(-127, 128)),
                y_offset=draw(i8), act_min=lo, act_max=draw(st.integers(lo, 127)), stride=stride, pad=pad,
                t_out=t_out)


@EX
@given(conv_case())
def test_conv1d_s8_bit_exact(case):
    y = both(**case)
    assert y is not None and y.shape == (case["t_out"], case["w"].shape[0])
    assert y.min() >= case["act_min"] and y.max() <= case["act_max"]


@EX
@given(conv_case(valid=False))
def test_conv1d_s8_rejects_windows_past_the_input(case):
    for impl in (K, S):
        with pytest.raises(ValueError):
            impl.conv1d_s8(**case)


def _tflite_conv(x, w, b, mult, shift, x_offset, y_offset, act_min, act_max, stride, pad, t_out):
    """Scalar transcription of TFLite's reference int8 ConvPerChannel (height 1): padded taps are
    skipped, MultiplyByQuantizedMultiplier, output offset, clamp."""
    t_in, n_in = x.shape
    n_out, taps, _ = w.shape
    y = np.zeros((t_out, n_out), np.int8)
    for t in range(t_out):
        for o in range(n_out):
            acc = 0
            for k in range(taps):
                p = t * stride - pad + k
                if 0 <= p < t_in:
                    acc += sum((int(x[p, c]) + x_offset) * int(w[o, k, c]) for c in range(n_in))
            acc += int(b[o])
            m, s = int(mult[o]), int(shift[o])
            a = acc * (1 << max(s, 0))
            ab = a * m
            q = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
            hi = q >> 31 if q >= 0 else -((-q) >> 31)
            r = max(-s, 0)
            mask = (1 << r) - 1
            v = (hi >> r) + (1 if (hi & mask) > (mask >> 1) + (1 if hi < 0 else 0) else 0)
            y[t, o] = min(act_max, max(act_min, min(127, max(-128, v + y_offset))))
    return y


@pytest.mark.parametrize("shape", [(40, 6, 16, 5, 2, 2, 20), (20, 16, 32, 3, 2, 1, 10), (40, 6, 16, 5, 2, 1, 20),
                                   (7, 3, 5, 3, 1, 1, 7), (9, 1, 2, 4, 3, 0, 2), (5, 4, 7, 5, 1, 4, 5)])
def test_conv1d_s8_matches_a_scalar_tflite_transcription(shape):
    t_in, n_in, n_out, taps, stride, pad, t_out = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.integers(-128, 128, (t_in, n_in)).astype(np.int8)
    w = rng.integers(-128, 128, (n_out, taps, n_in)).astype(np.int8)
    b = rng.integers(-30000, 30000, n_out).astype(np.int32)
    mult = rng.integers(1 << 30, (1 << 31) - 1, n_out).astype(np.int32)
    shift = rng.integers(-14, -6, n_out).astype(np.int32)
    ref = _tflite_conv(x, w, b, mult, shift, 128, -128, -128, 127, stride, pad, t_out)
    for impl in (K, S):
        y = impl.conv1d_s8(x, w, mult, shift, b, x_offset=128, y_offset=-128, stride=stride, pad=pad,
                           t_out=t_out, per_channel=True)
        np.testing.assert_array_equal(y, ref)
    assert len(np.unique(ref)) > min(10, ref.size // 2)     # not saturated everywhere


def test_conv1d_s8_is_fc_s8_over_the_windows():
    """Each output is eh_fc_s8 of its window (padded taps: columns dropped)."""
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (11, 5)).astype(np.int8)
    w = rng.integers(-128, 128, (6, 3, 5)).astype(np.int8)
    b = rng.integers(-9000, 9000, 6).astype(np.int32)
    y = K.conv1d_s8(x, w, [1 << 30], [-7], b, x_offset=-3, y_offset=4, stride=2, pad=1)
    for t in range(y.shape[0]):
        ks = [k for k in range(3) if 0 <= 2 * t - 1 + k < 11]
        win = np.concatenate([x[2 * t - 1 + k] for k in ks])
        wt = np.concatenate([w[:, k, :] for k in ks], axis=1)
        np.testing.assert_array_equal(y[t], K.fc_s8(win, wt, [1 << 30], [-7], b, x_offset=-3, y_offset=4))


def test_conv1d_s8_extremes_saturate_and_clamp():
    x = np.full((9, 33), -128, np.int8)
    w = np.full((3, 5, 33), -128, np.int8)
    b = np.array([2**31 - 1, -(2**31), 0], np.int32)
    for impl in (K, S):
        y = impl.conv1d_s8(x, w, [2**31 - 1], [30], b, x_offset=-127, y_offset=127, pad=2)
        np.testing.assert_array_equal(y, np.tile([127, -128, 127], (9, 1)))
        y = impl.conv1d_s8(x, w, [0], [-31], b, x_offset=128, y_offset=-128, pad=2)
        np.testing.assert_array_equal(y, np.full((9, 3), -128))
        y = impl.conv1d_s8(x, w, [2**31 - 1], [30], b, x_offset=-127, y_offset=127, act_min=-7, act_max=5, pad=2)
        np.testing.assert_array_equal(y, np.tile([5, -7, 5], (9, 1)))
    # the largest window (taps * n_in = 65536) at the largest products fits int32 exactly
    x = np.full((4, 16384), 127, np.int8)
    w = np.full((1, 4, 16384), -128, np.int8)
    # dot = 65536 x 255 x -128 = -2,139,095,040; x 2^30 / 2^31 / 2^24 = -63.75 -> -64 (exact, not saturated)
    for impl in (K, S):
        big = impl.conv1d_s8(x, w, [1 << 30], [-24], None, x_offset=128, t_out=1)
        np.testing.assert_array_equal(big, [[-64]])
    with pytest.raises(ValueError):
        K.conv1d_s8(np.zeros((2, 16385), np.int8), np.zeros((1, 4, 16385), np.int8), [1], [0], pad=3, t_out=1)


@pytest.mark.parametrize("kw", [dict(x_offset=129), dict(x_offset=-128), dict(y_offset=128), dict(act_min=-129),
                                dict(act_max=128), dict(act_min=5, act_max=4), dict(mult=[-1]), dict(shift=[31]),
                                dict(shift=[-32]), dict(mult=[1, 2], shift=[0, 0]), dict(per_channel=2),
                                dict(stride=0), dict(pad=3), dict(t_out=0), dict(t_out=10), dict(b=np.ones(4, np.int32))])
def test_conv1d_s8_bad_arguments(kw):
    args = dict(x=np.ones((8, 5), np.int8), w=np.ones((3, 3, 5), np.int8), mult=[1 << 30], shift=[0], pad=1)
    args.update(kw)
    for impl in (K, S):
        with pytest.raises(ValueError):
            impl.conv1d_s8(**args)


def test_conv1d_s8_c_status_codes():
    """The C kernel's own codes for what the wrappers let through (KernelError carries them)."""
    x, w = np.ones((8, 5), np.int8), np.ones((3, 3, 5), np.int8)
    with pytest.raises(K.KernelError) as e:
        K.conv1d_s8(x, w, [1 << 30], [0], pad=1, t_out=10)
    assert e.value.status == -2          # EH_ERR_SIZE
    with pytest.raises(K.KernelError) as e:
        K.conv1d_s8(x, w, [1 << 30], [0], pad=1, act_min=3, act_max=2)
    assert e.value.status == -3          # EH_ERR_RANGE
