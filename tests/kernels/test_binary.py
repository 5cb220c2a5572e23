"""Binary kernels: C == numpy bit for bit, and numpy == the maths on +-1 matrices."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import edgehost.kernels as K
import edgehost.sim as S

SET = settings(max_examples=120, deadline=None)


def pm1(rng, *shape):
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


def garbage_padding(rng, words, k):
    """Set random padding bits: the kernels must ignore them."""
    out = words.copy()
    if k % 32:
        out[..., -1] |= (rng.integers(0, 2**32, out.shape[:-1], dtype=np.uint32)
                         & np.uint32(~((1 << (k % 32)) - 1) & 0xFFFFFFFF))
    return out


@st.composite
def fc_case(draw):
    k = draw(st.one_of(st.integers(1, 100), st.sampled_from([31, 32, 33, 64, 95, 96, 97, 257])))
    n = draw(st.integers(1, 13))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    xv, wv = pm1(rng, k), pm1(rng, n, k)
    return k, n, rng, xv, wv


@SET
@given(fc_case())
def test_fc_b1_all_outputs_match_maths_and_c(case):
    k, n, rng, xv, wv = case
    x = garbage_padding(rng, S.pack_bits(xv), k)
    w = garbage_padding(rng, S.pack_bits(wv), k)
    dot = wv.astype(np.int64) @ xv.astype(np.int64)
    for impl in (K, S):
        np.testing.assert_array_equal(impl.fc_b1_s32(k, x, w), dot)
    scale = rng.normal(size=n).astype(np.float32)
    bias = rng.normal(size=n).astype(np.float32)
    yf = (dot.astype(np.float32) * scale + bias).astype(np.float32)
    for b in (bias, None):
        ref = yf if b is not None else (dot.astype(np.float32) * scale).astype(np.float32)
        np.testing.assert_array_equal(K.fc_b1_f32(k, x, w, scale, b), ref)
        np.testing.assert_array_equal(S.fc_b1_f32(k, x, w, scale, b), ref)
    mult = rng.integers(-2**31, 2**31, n, dtype=np.int64).astype(np.int32)
    ib = rng.integers(-2**31, 2**31, n, dtype=np.int64).astype(np.int32)
    shift = int(rng.integers(0, 63))
    a = dot * mult.astype(np.int64) + ib
    ref8 = np.array([max(-128, min(127, (int(v) + ((1 << (shift - 1)) if shift else 0)) >> shift))
                     for v in a], np.int8)
    np.testing.assert_array_equal(K.fc_b1_s8(k, x, w, mult, ib, shift), ref8)
    np.testing.assert_array_equal(S.fc_b1_s8(k, x, w, mult, ib, shift), ref8)
    thr = rng.integers(-k, k + 2, n).astype(np.int32)
    bits = K.fc_b1_bits(k, x, w, thr)
    np.testing.assert_array_equal(bits, S.fc_b1_bits(k, x, w, thr))
    np.testing.assert_array_equal(S.unpack_bits(bits, n), np.where(dot < thr, -1, 1))
    assert (bits[-1] & ~np.uint32(S.binary.tail_mask(n))) == 0  # output padding is 0


def test_s8_saturates_and_rounds_half_up():
    k = 5
    x = S.pack_bits(np.ones(k, np.int8))
    w = S.pack_bits(np.array([[1] * 5, [-1] * 5, [1, 1, 1, -1, -1]], np.int8))  # dots 5, -5, 1
    for impl in (K, S):
        np.testing.assert_array_equal(impl.fc_b1_s8(k, x, w, [100, 100, 3], None, 1), [127, -128, 2])
        np.testing.assert_array_equal(impl.fc_b1_s8(k, x, w, [1, 1, -3], [0, 0, 0], 1), [3, -2, -1])


@st.composite
def conv_case(draw):
    k = draw(st.integers(1, 70))
    taps = draw(st.integers(1, 5))
    pad = draw(st.integers(0, taps - 1))
    stride = draw(st.integers(1, 3))
    t_in = draw(st.integers(max(1, taps - 2 * pad), 12))
    n = draw(st.integers(1, 9))
    return k, taps, pad, stride, t_in, n, np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


@SET
@given(conv_case())
def test_conv1d_b1_matches_maths_and_c(case):
    k, taps, pad, stride, t_in, n, rng = case
    xv, wv = pm1(rng, t_in, k), pm1(rng, n, taps, k)
    x = garbage_padding(rng, S.pack_bits(xv), k)
    w = garbage_padding(rng, S.pack_bits(wv), k)
    xp = np.concatenate([np.ones((pad, k), np.int64), xv, np.ones((pad, k), np.int64)])
    t_out = (t_in + 2 * pad - taps) // stride + 1
    ref = np.array([[int((wv[o] * xp[t * stride: t * stride + taps]).sum()) for o in range(n)]
                    for t in range(t_out)])
    assert S.conv1d_b1_out_len(t_in, taps, stride, pad) == t_out
    for impl in (K, S):
        np.testing.assert_array_equal(impl.conv1d_b1_s32(k, x, w, stride, pad), ref)
    scale = rng.normal(size=n).astype(np.float32)
    bias = rng.normal(size=n).astype(np.float32)
    np.testing.assert_array_equal(K.conv1d_b1_f32(k, x, w, scale, bias, stride, pad),
                                  S.conv1d_b1_f32(k, x, w, scale, bias, stride, pad))
    mult = rng.integers(-2**20, 2**20, n).astype(np.int32)
    np.testing.assert_array_equal(K.conv1d_b1_s8(k, x, w, mult, None, 9, stride, pad),
                                  S.conv1d_b1_s8(k, x, w, mult, None, 9, stride, pad))
    thr = rng.integers(-k * taps, k * taps + 2, n).astype(np.int32)
    bits = K.conv1d_b1_bits(k, x, w, thr, stride, pad)
    np.testing.assert_array_equal(bits, S.conv1d_b1_bits(k, x, w, thr, stride, pad))
    np.testing.assert_array_equal(S.unpack_bits(bits, n), np.where(ref < thr, -1, 1))


@SET
@given(st.integers(1, 130), st.integers(0, 2**32 - 1))
def test_packers(n, seed):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n).astype(np.uint8)
    v = rng.integers(-128, 128, n).astype(np.int8)
    for impl in (K, S):
        ps = impl.pack_spikes_b1(s)
        np.testing.assert_array_equal(S.unpack_bits(ps, n), 1 - 2 * s.astype(np.int8))
        pv = impl.pack_signs_b1(v)
        np.testing.assert_array_equal(S.unpack_bits(pv, n), np.where(v < 0, -1, 1))
        assert (ps[-1] & ~np.uint32(S.binary.tail_mask(n))) == 0
    np.testing.assert_array_equal(K.pack_spikes_b1(s), S.pack_spikes_b1(s))
    np.testing.assert_array_equal(K.pack_signs_b1(v), S.pack_signs_b1(v))


@SET
@given(st.integers(1, 90), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_fold_bn_sign_equals_float_batchnorm_then_sign(k, n, seed):
    rng = np.random.default_rng(seed)
    xs, wv = pm1(rng, 16, k), pm1(rng, n, k)
    gamma = rng.normal(size=n) * rng.choice([0.0, 1.0], n, p=[0.1, 0.9])
    beta = rng.normal(size=n) * 3
    mean = rng.normal(size=n) * k / 4
    var = rng.uniform(0.1, k, n)
    w = S.pack_bits(wv)
    wf, thr = S.fold_bn_sign(w, k, gamma, beta, mean, var, eps=1e-3)
    for xv in xs:
        dot = (wv.astype(np.int64) @ xv).astype(np.float64)
        bn = gamma * (dot - mean) / np.sqrt(var + 1e-3) + beta
        keep = np.abs(bn) > 1e-9  # an exact tie can round either way in float64
        expect = np.where(bn < 0, -1, 1)
        got = S.unpack_bits(K.fc_b1_bits(k, S.pack_bits(xv), wf, thr), n)
        np.testing.assert_array_equal(got[keep], expect[keep])


def test_conv_padding_is_plus_one():
    k, taps = 3, 3
    x = S.pack_bits(-np.ones((1, k), np.int8))        # one frame of -1
    w = S.pack_bits(np.ones((1, taps, k), np.int8))   # all +1 weights
    for impl in (K, S):  # padding frames contribute +3 each: -3 + 3 + 3
        np.testing.assert_array_equal(impl.conv1d_b1_s32(k, x, w, 1, 1), [[3]])


def test_bad_arguments_rejected_by_both():
    k, n = 40, 3
    x, w = np.zeros(2, np.uint32), np.zeros((n, 2), np.uint32)
    calls = [
        lambda I: I.fc_b1_s32(0, x, w),
        lambda I: I.fc_b1_s32(33, x[:1], w),
        lambda I: I.fc_b1_s32(k, x, w[:, :1]),
        lambda I: I.fc_b1_s8(k, x, w, [1] * n, None, 63),
        lambda I: I.fc_b1_bits(k, x, w, [0, k + 2, 0]),
        lambda I: I.fc_b1_bits(k, x, w, [-k - 1, 0, 0]),
        lambda I: I.fc_b1_f32(k, x, w, [1.0] * (n - 1)),
        lambda I: I.conv1d_b1_s32(k, np.zeros((2, 2), np.uint32), np.zeros((n, 3, 2), np.uint32), 1, 3),
        lambda I: I.conv1d_b1_s32(k, np.zeros((1, 2), np.uint32), np.zeros((n, 3, 2), np.uint32), 1, 0),
        lambda I: I.conv1d_b1_s32(k, np.zeros((4, 2), np.uint32), np.zeros((n, 3, 2), np.uint32), 0, 0),
        lambda I: I.pack_spikes_b1(np.array([0, 2], np.uint8)),
        lambda I: I.pack_spikes_b1(np.zeros(0, np.uint8)),
    ]
    for call in calls:
        for impl in (K, S):
            with pytest.raises(ValueError):
                call(impl)


def test_c_status_codes():
    x, w = np.zeros(2, np.uint32), np.zeros((3, 2), np.uint32)
    with pytest.raises(K.KernelError) as e:
        K.fc_b1_s8(40, x, w, [1, 1, 1], None, 63)
    assert e.value.status == -3
    with pytest.raises(K.KernelError) as e:
        K.fc_b1_s32(2**24 + 1, np.zeros(2**19 + 1, np.uint32), np.zeros((1, 2**19 + 1), np.uint32))
    assert e.value.status == -2
