"""Host quantisers: fixed point, power-of-two weights and binary-coding quantisation."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import edgehost.kernels as K
from edgehost.quant import (ErrorReport, decode_pow2, encode_pow2, fit_bcq, greedy_init, pack_bcq_bits,
                            quantize_fixed, quantize_pow2, round_alphas_pow2, unpack_bcq_bits)

EX = settings(max_examples=60, deadline=None)
mats = hnp.arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 40)),
                  elements=st.floats(-100, 100, allow_subnormal=False))


def test_error_report():
    r = ErrorReport.of([1.0, -2.0], [1.0, -1.5])
    assert r.max_abs == 0.5 and r.rms == pytest.approx(np.sqrt(0.125))
    assert r.sqnr_db == pytest.approx(10 * np.log10(5 / 0.25))
    assert ErrorReport.of([1.0], [1.0]).sqnr_db == float("inf")


@EX
@given(mats, st.sampled_from(["q15", "q7"]), st.booleans(), st.booleans())
def test_fixed_fits_and_is_finest(w, fmt, per_channel, pow2):
    r = quantize_fixed(w, fmt, per_channel=per_channel, pow2=pow2)
    qmax = 32767 if fmt == "q15" else 127
    assert r.q.dtype == (np.int16 if fmt == "q15" else np.int8)
    rows = w.reshape(w.shape[0], -1) if per_channel else w.reshape(1, -1)
    deq = r.dequantize()
    # no value saturates: the error is at most half a step everywhere
    step = r.scale.reshape(-1, 1) if per_channel else r.scale[0]
    assert np.all(np.abs(deq - w) <= 0.5 * np.broadcast_to(step, rows.shape).reshape(w.shape) * (1 + 1e-12))
    assert r.error.max_abs == pytest.approx(np.max(np.abs(deq - w)))
    if pow2:
        np.testing.assert_array_equal(r.scale, np.ldexp(1.0, -r.frac_bits))
        # one more fractional bit would saturate some non-zero channel
        for k, row in enumerate(rows):
            m = np.max(np.abs(row))
            if m > 0 and r.frac_bits[k] < 64:
                finer = np.sign(row) * np.floor(np.abs(row) * 2.0 ** (r.frac_bits[k] + 1) + 0.5)
                assert finer.max() > qmax or finer.min() < -qmax - 1


def test_fixed_round_trip_exact_values():
    w = np.array([[0.5, -0.25, 0.125], [3.0, -1.0, 0.0], [0, 0, 0]])
    r = quantize_fixed(w, "q15", per_channel=True, pow2=True)
    np.testing.assert_array_equal(r.dequantize(), w)
    assert list(r.frac_bits) == [15, 13, 0]  # +0.5 * 2^16 = 32768 would not fit int16
    assert r.error.sqnr_db == float("inf")


def test_fixed_q15_kernel_round_trip():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(1, 50))
    r = quantize_fixed(w, "q15", per_channel=False, pow2=True)
    y = K.dequantize_q15_f32(r.q.ravel(), float(r.scale[0]))
    np.testing.assert_allclose(y, w.ravel(), atol=float(r.scale[0]))


def test_fixed_bad_input():
    for bad in ([[np.nan]], [[np.inf]], np.zeros((0, 3))):
        with pytest.raises(ValueError):
            quantize_fixed(bad)
    with pytest.raises(ValueError):
        quantize_fixed([[1.0]], "q31")


@EX
@given(mats)
def test_pow2_nearest_in_log_domain(w):
    r = quantize_pow2(w)
    v = decode_pow2(r.codes)
    np.testing.assert_array_equal(v, r.values)
    nz = v != 0
    assert np.all(np.sign(v[nz]) == np.sign(w[nz]))
    a = np.abs(w[nz])
    # |log2|w| - p| <= 1/2 unless clipped to the range
    inside = (a >= 2.0 ** -15.5) & (a <= 2.0 ** 15.5)
    assert np.all(np.abs(np.log2(a[inside]) - np.log2(np.abs(v[nz][inside]))) <= 0.5 + 1e-12)
    assert np.all(np.abs(w[~nz]) < 2.0 ** -16)
    assert r.error == ErrorReport.of(w, v)


def test_pow2_codes_round_trip_and_threshold():
    p = np.arange(-15, 16)
    for sgn in (-1, 1):
        c = encode_pow2(np.full(p.size, sgn), p, np.ones(p.size, bool))
        np.testing.assert_array_equal(decode_pow2(c), sgn * np.ldexp(1.0, p))
        np.testing.assert_array_equal(quantize_pow2(sgn * np.ldexp(1.0, p)).codes, c)
    r = quantize_pow2(np.array([0.3, 0.05, -0.2]), zero_threshold=0.25)
    np.testing.assert_array_equal(r.values, [0.25, 0.0, 0.0])
    with pytest.raises(ValueError):
        decode_pow2([0x20])
    with pytest.raises(ValueError):
        encode_pow2([1], [16], [True])


def test_bcq_pack_round_trip():
    rng = np.random.default_rng(2)
    for n_in in (1, 8, 31, 32, 33, 70):
        s = np.where(rng.random((3, 4, n_in)) < 0.5, -1, 1).astype(np.int8)
        words = pack_bcq_bits(s)
        assert words.dtype == np.uint32 and words.shape == (3, 4, (n_in + 31) // 32)
        np.testing.assert_array_equal(unpack_bcq_bits(words, n_in), s)
    assert pack_bcq_bits(np.array([[[-1, 1, -1]]]))[0, 0, 0] == 0b101


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(2, 30), st.integers(1, 4),
       st.sampled_from(["exhaustive", "greedy"]))
def test_als_monotone_and_beats_greedy_init(seed, n_out, n_in, q, search):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_out, n_in))
    r = fit_bcq(w, q, iters=8, search=search)
    h = np.array(r.history)
    noise = 1e-9 * np.sum(w * w)
    assert np.all(np.diff(h) <= noise)  # never increases (float noise aside)
    a0, b0 = greedy_init(w, q)
    init = np.sum((w - np.einsum("mk,mki->mi", a0, b0)) ** 2)
    assert h[0] == pytest.approx(init)
    assert h[-1] <= init + noise


def test_als_strictly_beats_greedy_on_random_matrices():
    rng = np.random.default_rng(11)
    for q in (2, 3, 4):
        w = rng.normal(size=(32, 256))
        r = fit_bcq(w, q, iters=10)
        assert r.history[-1] < 0.97 * r.history[0]
        assert r.error_before.rms < np.sqrt(r.history[0] / w.size)


def test_bcq_recovers_an_exactly_representable_matrix():
    rng = np.random.default_rng(4)
    for q in (1, 2, 3):
        B = np.where(rng.random((6, q, 64)) < 0.5, -1.0, 1.0)
        a = np.array([1.0, 0.4, 0.15][:q]) * rng.uniform(0.5, 2, (6, 1))
        w = np.einsum("mk,mki->mi", a, B)
        r = fit_bcq(w, q, iters=30)
        assert r.error_before.max_abs < 1e-9 * np.abs(w).max()
        # power-of-two alphas: exact too when the alphas already are
        a2 = np.ldexp(1.0, rng.integers(-3, 3, (6, 1)) - 2 * np.arange(q))  # alphas 4x apart
        w2 = np.einsum("mk,mki->mi", a2, B)
        r2 = fit_bcq(w2, q, iters=30)
        assert r2.error_after.max_abs < 1e-9 and r2.error_before.max_abs < 1e-9


def test_bcq_error_reported_before_and_after_rounding():
    rng = np.random.default_rng(8)
    w = rng.normal(size=(8, 64))
    r = fit_bcq(w, 3)
    assert r.error_before == ErrorReport.of(w, r.reconstruct(pow2=False))
    assert r.error_after == ErrorReport.of(w, r.reconstruct(pow2=True))
    assert r.error_after.rms >= r.error_before.rms * (1 - 1e-9)  # LS alphas are optimal for these B
    np.testing.assert_array_equal(round_alphas_pow2([0.7, 0.75, 1.5, 0.0], -5, 5), [-1, 0, 1, -5])


def test_bcq_runs_on_the_kernel():
    """Fit, pack and run: the C kernel computes the quantised layer exactly (integer scales)."""
    rng = np.random.default_rng(9)
    w = rng.normal(size=(10, 45)) * 16
    r = fit_bcq(w, 3, exp_min=0)
    x = rng.integers(-300, 300, 45).astype(np.int16)
    y = K.bcq_fc_q15(x, r.packed(), r.alpha_exp)
    want = r.reconstruct(pow2=True) @ x.astype(np.float64)
    np.testing.assert_array_equal(y, np.clip(want, -32768, 32767).astype(np.int16))


def test_bcq_bad_arguments():
    for kw in (dict(q=0), dict(q=9), dict(search="random"), dict(iters=-1)):
        args = dict(w=np.ones((2, 3)), q=2)
        args.update(kw)
        with pytest.raises(ValueError):
            fit_bcq(**args)
    with pytest.raises(ValueError):
        fit_bcq(np.array([[np.nan, 1.0]]), 2)
    with pytest.raises(ValueError):
        pack_bcq_bits(np.zeros((1, 1, 3)))
