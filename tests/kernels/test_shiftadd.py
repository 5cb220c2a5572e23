"""The C shift-and-add kernels equal their numpy twins bit for bit, and mean what they say."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import edgehost.kernels as K
import edgehost.sim as S
from edgehost.quant import pack_bcq_bits, quantize_pow2

EX = settings(max_examples=150, deadline=None)
i16 = st.integers(-32768, 32767)
i32 = st.integers(-(1 << 31), (1 << 31) - 1)
# valid codes: zero (0x00 / 0x80) or a sign with an exponent field in [1, 31]
codes = st.builds(lambda s, e: s | e, st.sampled_from([0, 0x80]), st.integers(0, 31))


def same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


@st.composite
def pow2_case(draw):
    n_in, n_out = draw(st.integers(1, 70)), draw(st.integers(1, 20))
    return dict(x=draw(hnp.arrays(np.int16, n_in, elements=i16)),
                w=draw(hnp.arrays(np.uint8, (n_out, n_in), elements=codes)),
                b=draw(st.none() | hnp.arrays(np.int32, n_out, elements=i32)),
                shift=draw(st.integers(0, 31)))


@EX
@given(pow2_case())
def test_shiftadd_bit_exact(case):
    same(K.shiftadd_fc_q15(**case), S.shiftadd_fc_q15(**case))


def test_shiftadd_shift_semantics():
    """Each code shifts as documented: left for p >= 0, rounding half up for p < 0, sign after."""
    x = np.array([-32768, -3, -1, 0, 1, 3, 5, 32767], np.int16)
    for p in range(-15, 16):
        for sign in (0, 0x80):
            code = np.full((1, 1), sign | (p + 16), np.uint8)
            for xv in x:
                t = int(xv) * 2**p if p >= 0 else (int(xv) + 2**(-p - 1)) >> -p
                want = -t if sign else t
                for impl in (K, S):
                    got = impl.shiftadd_fc_q15(np.array([xv], np.int16), code, b=[0], shift=0)
                    assert got[0] == max(-32768, min(32767, want)), (p, sign, xv)


def test_shiftadd_saturates_in_order():
    # b = INT32_MAX; + 2^30 saturates (lost), then - 2^30: MAX - 2^30; reversed: exact MAX.
    x = np.array([32767, 32767], np.int16)
    up, down = 0x1F, 0x80 | 0x1F  # +2^15, -2^15
    w = np.array([[up, down], [down, up]], np.uint8)
    b = np.array([2**31 - 1, 2**31 - 1], np.int32)
    for impl in (K, S):
        y = impl.shiftadd_fc_q15(x, w, b, shift=16)
        t = 32767 * 2**15
        assert y[0] == min(32767, (2**31 - 1 - t + 2**15) >> 16)
        assert y[1] == 32767
        y = impl.shiftadd_fc_q15(x, w, b, shift=31)
        assert list(y) == [(2**31 - 1 - t + 2**30) >> 31, 1]


def test_shiftadd_matches_float_layer_for_exact_weights():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(9, 37)) * 8
    q = quantize_pow2(w, p_min=0, p_max=15)  # integer weights: no rounding in the shifts
    x = rng.integers(-200, 200, 37).astype(np.int16)
    ref = q.values @ x.astype(np.float64)
    y = K.shiftadd_fc_q15(x, q.codes)
    np.testing.assert_array_equal(y, np.clip(ref, -32768, 32767).astype(np.int16))


@pytest.mark.parametrize("bad", [0x20, 0x40, 0x60, 0xE1, 0xBF])
def test_shiftadd_rejects_reserved_bits(bad):
    x = np.ones(5, np.int16)
    w = np.full((3, 5), 0x10, np.uint8)
    w[2, 4] = bad
    with pytest.raises(K.KernelError) as e:
        K.shiftadd_fc_q15(x, w)
    assert e.value.status == -3
    with pytest.raises(ValueError):
        S.shiftadd_fc_q15(x, w)


@pytest.mark.parametrize("kw", [dict(shift=32), dict(b=np.ones(2, np.int32)), dict(w=np.ones((3, 4), np.uint8)),
                                dict(x=np.zeros(0, np.int16), w=np.zeros((3, 0), np.uint8))])
def test_shiftadd_bad_arguments(kw):
    args = dict(x=np.ones(5, np.int16), w=np.full((3, 5), 0x10, np.uint8))
    args.update(kw)
    with pytest.raises(ValueError):
        K.shiftadd_fc_q15(**args)
    with pytest.raises(ValueError):
        S.shiftadd_fc_q15(**args)


@EX
@given(hnp.arrays(np.int16, st.integers(1, 90), elements=i16))
def test_bcq_tables_bit_exact_and_meaning(x):
    t = K.bcq_tables_q15(x)
    same(t, S.bcq_tables_q15(x))
    assert t.shape == (S.bcq_table_len(x.size) // 256, 256) and K.bcq_table_len(x.size) == t.size
    # T_g[i] = sum_j (bit j of i ? -x : +x) with zero padding
    xs = np.zeros(8 * t.shape[0], np.int64)
    xs[:x.size] = x
    for g in range(t.shape[0]):
        for i in (0, 1, 0x80, 0xA5, 255):
            want = sum(-xs[8 * g + j] if (i >> j) & 1 else xs[8 * g + j] for j in range(8))
            assert t[g, i] == want


@st.composite
def bcq_case(draw):
    n_in, n_out, q = draw(st.integers(1, 100)), draw(st.integers(1, 12)), draw(st.integers(1, 8))
    n_words = (n_in + 31) // 32
    return dict(x=draw(hnp.arrays(np.int16, n_in, elements=i16)),
                w=draw(hnp.arrays(np.uint32, (n_out, q, n_words))),
                alpha_exp=draw(hnp.arrays(np.int8, (n_out, q), elements=st.integers(-24, 24))),
                b=draw(st.none() | hnp.arrays(np.int32, n_out, elements=i32)),
                shift=draw(st.integers(0, 62)))


@EX
@given(bcq_case())
def test_bcq_bit_exact(case):
    same(K.bcq_fc_q15(**case), S.bcq_fc_q15(**case))


def test_bcq_padding_bits_are_ignored_and_match_dense():
    rng = np.random.default_rng(5)
    for n_in in (1, 7, 8, 9, 31, 32, 33, 65, 100):
        signs = np.where(rng.random((4, 2, n_in)) < 0.5, -1, 1)
        words = pack_bcq_bits(signs)
        noisy = words.copy()
        if n_in % 32:
            noisy[..., -1] |= np.uint32((0xFFFFFFFF << (n_in % 32)) & 0xFFFFFFFF)
        x = rng.integers(-1000, 1000, n_in).astype(np.int16)
        e = np.array([[2, 0]] * 4, np.int8)
        want = (signs * np.array([4, 1])[None, :, None]).sum(axis=1) @ x.astype(np.int64)
        for impl in (K, S):
            np.testing.assert_array_equal(impl.bcq_fc_q15(x, words, e), np.clip(want, -32768, 32767))
            np.testing.assert_array_equal(impl.bcq_fc_q15(x, noisy, e), np.clip(want, -32768, 32767))


def test_bcq_extremes_saturate():
    n_in = 4000
    x = np.full(n_in, -32768, np.int16)
    w = np.zeros((2, 8, (n_in + 31) // 32), np.uint32)  # all +1
    w[1] = 0xFFFFFFFF                                   # all -1
    e = np.full((2, 8), 24, np.int8)
    for impl in (K, S):
        acc = 8 * 2**24 * (-32768 * n_in)  # exact in 64 bits, far outside int32
        want = [(acc + 2**31 - 1 + 2**53) >> 54, (-acc - 2**31 + 2**53) >> 54]
        assert want == [-1, 1]
        np.testing.assert_array_equal(impl.bcq_fc_q15(x, w, e, [2**31 - 1, -(2**31)], 54), want)
        np.testing.assert_array_equal(impl.bcq_fc_q15(x, w, e, None, 0), [-32768, 32767])


@pytest.mark.parametrize("kw", [dict(shift=63), dict(alpha_exp=np.full((3, 2), 25, np.int8)),
                                dict(alpha_exp=np.full((3, 2), -25, np.int8)),
                                dict(w=np.zeros((3, 9, 1), np.uint32), alpha_exp=np.zeros((3, 9), np.int8)),
                                dict(w=np.zeros((3, 2, 2), np.uint32)), dict(b=np.zeros(4, np.int32)),
                                dict(alpha_exp=np.zeros((3, 3), np.int8))])
def test_bcq_bad_arguments(kw):
    args = dict(x=np.ones(20, np.int16), w=np.zeros((3, 2, 1), np.uint32), alpha_exp=np.zeros((3, 2), np.int8))
    args.update(kw)
    with pytest.raises(ValueError):
        K.bcq_fc_q15(**args)
    with pytest.raises(ValueError):
        S.bcq_fc_q15(**args)


def test_bcq_size_limits():
    assert K.bcq_table_len(0) == S.bcq_table_len(0) == 0
    assert K.bcq_table_len(65536) == S.bcq_table_len(65536) == 0
    assert K.bcq_table_len(65535) == S.bcq_table_len(65535) == 256 * 8192
    assert K.bcq_table_len(9) == 512
    with pytest.raises(ValueError):
        K.bcq_fc_q15(np.ones(65536, np.int16), np.zeros((1, 1, 2048), np.uint32), np.zeros((1, 1), np.int8))
    with pytest.raises(ValueError):
        S.bcq_fc_q15(np.ones(65536, np.int16), np.zeros((1, 1, 2048), np.uint32), np.zeros((1, 1), np.int8))
