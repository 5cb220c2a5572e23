"""The LMU family: the Legendre delay system, the LMU cell and the L2MU (spiking LMU).

C == numpy bit for bit on Q15 and on float32 (both round once per operation in the same order,
-ffp-contract=off), and the maths is checked on its own: the ZOH matrices against scipy, the
float LMU memory against a delayed input, the L2MU wiring against an independent float64
reference on exactly representable numbers.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from scipy.signal import cont2discrete

import edgehost.kernels as K
import edgehost.sim as S

i16 = st.integers(-32768, 32767)
f32 = st.floats(-64, 64, width=32, allow_subnormal=False)


def assert_same(a, b):
    if isinstance(a, dict):
        assert set(a) == set(b), (set(a), set(b))
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# The Legendre delay system


def test_continuous_matrices_from_the_formula():
    a, b = S.lmu_matrices(3)
    np.testing.assert_array_equal(a, [[-1, -1, -1], [3, -3, -3], [-5, 5, -5]])
    np.testing.assert_array_equal(b, [1, -3, 5])


@pytest.mark.parametrize("order", range(1, 17))
@pytest.mark.parametrize("theta", [0.5, 1.0, 3.7, 10.0, 64.0, 1000.0])
def test_zoh_matches_scipy_cont2discrete(order, theta):
    a, b = S.lmu_matrices(order)
    ad, bd, *_ = cont2discrete((a / theta, b[:, None] / theta, np.eye(order), np.zeros((order, 1))),
                               dt=1, method="zoh")
    abar, bbar = S.lmu_zoh(order, theta)
    np.testing.assert_allclose(abar, ad, rtol=0, atol=1e-11 * max(1.0, np.abs(ad).max()))
    np.testing.assert_allclose(bbar, bd[:, 0], rtol=0, atol=1e-11 * max(1.0, np.abs(bd).max()))


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_order_rejected(bad):
    with pytest.raises(ValueError):
        S.lmu_zoh(bad, 10.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan])
def test_bad_theta_rejected(bad):
    with pytest.raises(ValueError):
        S.lmu_zoh(4, bad)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 9)),
                  elements=st.floats(-1, 1)),
       st.floats(1e-6, 3000.0))
def test_quantize_q15_fits_and_reports_its_error(m, scale):
    m = m * scale
    if not np.any(m):
        m[0, 0] = scale
    q, frac, err = S.quantize_q15(m)
    assert q.dtype == np.int16 and 0 <= frac <= 31
    deq = q.astype(np.float64) / 2.0 ** frac
    assert err == pytest.approx(np.abs(deq - m).max())
    assert err <= 2.0 ** -(frac + 1) * (1 + 1e-12)
    if frac < 31:  # one more fractional bit would not fit
        assert np.round(np.abs(m).max() * 2.0 ** (frac + 1)) > 32767


def test_quantize_q15_entries_above_one():
    a, _ = S.lmu_matrices(8)  # entries up to 15 in magnitude
    q, frac, err = S.quantize_q15(a)
    assert frac == 11 and err == 0.0  # integers: exact with 11 fractional bits (15 * 2^11 < 2^15)
    z = S.lmu_quantize_q15(*S.lmu_zoh(8, 20.0))
    assert z["a_frac"] >= 14 and z["a_err"] < 2.0 ** -15 and z["b_err"] < 2.0 ** -15
    with pytest.raises(ValueError):
        S.quantize_q15([[40000.0]])


# ---------------------------------------------------------------------------------------------
# The LMU memory holds a delayed copy of its input: u(t - r theta) ~= P(2r - 1) . m(t)


def _run_memory(step, order, theta, xs, q15=None):
    abar, bbar = S.lmu_zoh(order, theta)
    if q15 is None:
        a, b = abar.astype(np.float32), bbar.astype(np.float32)
        m, h = np.zeros((1, order), np.float32), np.zeros(1, np.float32)
        e_x, w_m = np.ones((1, 1), np.float32), np.zeros((1, order), np.float32)
        kw = {}
    else:
        z = S.lmu_quantize_q15(abar, bbar)
        a, b = z["a"], z["b"]
        m, h = np.zeros((1, order), np.int16), np.zeros(1, np.int16)
        e_x, w_m = np.ones((1, 1), np.int16), np.zeros((1, order), np.int16)
        kw = dict(s_a=z["a_frac"], s_b=z["b_frac"])  # u and m on the same scale
    trace = []
    for x in xs:
        m, h = step(np.array([x]), m, h, e_x, a, b, w_m, **kw)
        trace.append(m[0].copy())
    return np.array(trace, dtype=np.float64)


@pytest.mark.parametrize("order,theta,period", [(6, 20, 120), (8, 40, 200), (12, 100, 400)])
def test_float_lmu_memory_decodes_the_delayed_input(order, theta, period):
    t = np.arange(4 * period)
    xs = (0.7 * np.sin(2 * np.pi * t / period) + 0.2 * np.cos(2 * np.pi * t / (1.7 * period))).astype(np.float32)
    ms = _run_memory(K.lmu_step_f32, order, theta, xs)
    warm = 2 * theta
    for r in (0.0, 0.25, 0.5, 1.0):
        lag = int(round(r * theta))
        y = ms @ S.lmu_delay_decoder(order, r)
        err = np.abs(y[warm:] - xs[warm - lag:len(xs) - lag]).max()
        assert err < 0.03, (r, err)
    # and the decoder really measures the delay: the undelayed input is a worse fit for r = 1
    y = ms @ S.lmu_delay_decoder(order, 1.0)
    assert np.abs(y[warm:] - xs[warm:]).max() > 10 * 0.03


def test_q15_lmu_memory_tracks_the_float_one():
    order, theta, period = 8, 40, 200
    t = np.arange(3 * period)
    xf = 0.7 * np.sin(2 * np.pi * t / period)
    xq = np.round(xf * 2 ** 12).astype(np.int16)  # Q12 input, memory on the same scale
    mq = _run_memory(K.lmu_step_q15, order, theta, xq, q15=True)
    mq_np = _run_memory(S.lmu_step_q15, order, theta, xq, q15=True)
    np.testing.assert_array_equal(mq, mq_np)
    y = (mq / 2 ** 12) @ S.lmu_delay_decoder(order, 1.0)
    err = np.abs(y[2 * theta:] - xf[theta:len(xf) - theta]).max()
    assert err < 0.05, err


def test_rational_tanh_is_close_to_tanh():
    x = np.linspace(-12, 12, 20001).astype(np.float32)
    y = S.tanh_f32(x)
    assert np.abs(y - np.tanh(x.astype(np.float64))).max() < 1e-4
    assert np.all(np.diff(y) >= 0) and y.min() == -1 and y.max() == 1
    assert np.isnan(S.tanh_f32(np.float32(np.nan)))


# ---------------------------------------------------------------------------------------------
# LMU cell: C == numpy


@st.composite
def lmu_case(draw, q15):
    n_x = draw(st.integers(1, 9))
    n_h = draw(st.integers(1, 11))
    n_u = draw(st.integers(1, 4))
    order = draw(st.integers(1, 12))
    n_m = n_u * order
    dt = np.int16 if q15 else np.float32
    el = i16 if q15 else f32
    if q15 and draw(st.booleans()):  # small weights as well as extreme ones
        el = st.integers(-300, 300)

    def arr(shape):
        return draw(hnp.arrays(dt, shape, elements=el))

    case = dict(x=arr(n_x), m=arr((n_u, order)), h=arr(n_h), e_x=arr((n_u, n_x)),
                a=arr((order, order)), b=arr(order), w_m=arr((n_h, n_m)))
    for name, shape in (("e_h", (n_u, n_h)), ("e_m", (n_u, n_m)), ("w_x", (n_h, n_x)), ("w_h", (n_h, n_h))):
        if draw(st.booleans()):
            case[name] = arr(shape)
    if draw(st.booleans()):
        case["b_h"] = draw(hnp.arrays(np.int32 if q15 else np.float32, n_h,
                                      elements=st.integers(-2**31, 2**31 - 1) if q15 else f32))
    if q15:
        for s in ("s_ex", "s_eh", "s_em", "s_a", "s_b", "s_wx", "s_wh", "s_wm"):
            case[s] = draw(st.integers(0, 31))
        case["act"] = draw(st.sampled_from(["identity", "relu", "hardtanh"]))
        case["clamp"] = draw(st.integers(1, 32767))
    else:
        case["act"] = draw(st.sampled_from(["identity", "relu", "hardtanh", "tanh"]))
    return case


@settings(max_examples=200, deadline=None)
@given(lmu_case(q15=True))
def test_lmu_q15_bit_exact(case):
    assert_same(K.lmu_step_q15(**case), S.lmu_step_q15(**case))


# float32 tolerance: none. Both sides sum sequentially over the input index with one rounding
# per multiply and per add (numpy loops over columns; C built with -ffp-contract=off).
@settings(max_examples=200, deadline=None)
@given(lmu_case(q15=False))
def test_lmu_f32_bit_exact(case):
    assert_same(K.lmu_step_f32(**case), S.lmu_step_f32(**case))


def test_lmu_q15_saturates_and_clamps():
    n = 3
    big = np.full((n, n), 32767, np.int16)
    case = dict(x=np.full(n, 32767, np.int16), m=np.full((1, n), -32768, np.int16),
                h=np.zeros(n, np.int16), e_x=big[:1], a=big, b=np.full(n, 32767, np.int16),
                w_m=np.full((n, n), -32768, np.int16))
    for impl in (K, S):
        m, h = impl.lmu_step_q15(**case)
        # u = sat16(3 * 32767^2) = 32767; m = sat16(-3 * 32767 * 32768 + 32767^2) = -32768
        np.testing.assert_array_equal(m, -32768)
        np.testing.assert_array_equal(h, 32767)  # -32768 * -32768 * 3 saturates high
        m, h = impl.lmu_step_q15(**case, act="hardtanh", clamp=4096)
        np.testing.assert_array_equal(h, 4096)
        m, h = impl.lmu_step_q15(**dict(case, w_m=np.full((n, n), 32767, np.int16)), act="relu")
        np.testing.assert_array_equal(h, 0)


def test_lmu_q15_rounding_is_half_up():
    one = np.ones((1, 1), np.int16)
    for impl in (K, S):
        # u = R(3 * 1, 1) = floor(4/2) = 2 ; R(-3, 1) = floor(-2/2) = -1
        m, _ = impl.lmu_step_q15(np.array([3], np.int16), np.zeros((1, 1), np.int16), np.zeros(1, np.int16),
                                 one, np.zeros((1, 1), np.int16), np.ones(1, np.int16), one, s_ex=1)
        assert m[0, 0] == 2
        m, _ = impl.lmu_step_q15(np.array([-3], np.int16), np.zeros((1, 1), np.int16), np.zeros(1, np.int16),
                                 one, np.zeros((1, 1), np.int16), np.ones(1, np.int16), one, s_ex=1)
        assert m[0, 0] == -1


def _small_lmu(dt):
    return dict(x=np.zeros(2, dt), m=np.zeros((2, 3), dt), h=np.zeros(4, dt), e_x=np.ones((2, 2), dt),
                a=np.eye(3, dtype=dt), b=np.ones(3, dt), w_m=np.ones((4, 6), dt))


@pytest.mark.parametrize("kw", [dict(s_a=32), dict(s_wm=40), dict(act="tanh"), dict(act="sigmoid"),
                                dict(act="hardtanh", clamp=0), dict(act="hardtanh", clamp=-5),
                                dict(b=np.ones(2, np.int16)), dict(w_m=np.ones((4, 5), np.int16)),
                                dict(e_h=np.ones((2, 3), np.int16)), dict(m=np.zeros((3, 2), np.int16)),
                                dict(x=np.zeros(3, np.int16))])
def test_bad_lmu_q15_arguments_rejected_by_both(kw):
    case = dict(_small_lmu(np.int16), **kw)
    with pytest.raises(ValueError):
        K.lmu_step_q15(**case)
    with pytest.raises(ValueError):
        S.lmu_step_q15(**case)


@pytest.mark.parametrize("kw", [dict(act="softsign"), dict(a=np.ones((3, 2), np.float32)),
                                dict(e_m=np.ones((2, 5), np.float32))])
def test_bad_lmu_f32_arguments_rejected_by_both(kw):
    case = dict(_small_lmu(np.float32), **kw)
    with pytest.raises(ValueError):
        K.lmu_step_f32(**case)
    with pytest.raises(ValueError):
        S.lmu_step_f32(**case)


def test_lmu_memory_too_large_rejected_by_both():
    n_u, order = 4097, 16  # n_u * order > 65535
    case = dict(x=np.zeros(1, np.int16), m=np.zeros((n_u, order), np.int16), h=np.zeros(1, np.int16),
                e_x=np.zeros((n_u, 1), np.int16), a=np.zeros((order, order), np.int16),
                b=np.zeros(order, np.int16), w_m=np.zeros((1, n_u * order), np.int16))
    with pytest.raises(K.KernelError) as info:
        K.lmu_step_q15(**case)
    assert info.value.status == -2
    with pytest.raises(ValueError):
        S.lmu_step_q15(**case)


# ---------------------------------------------------------------------------------------------
# L2MU


def _pop(draw, q15, n):
    def per(elements, dtype):
        return draw(st.one_of(hnp.arrays(dtype, 1, elements=elements), hnp.arrays(dtype, n, elements=elements)))

    reset = draw(st.sampled_from(["subtract", "zero"]))
    cuba = draw(st.booleans())
    if q15:
        p = dict(threshold=per(st.integers(1, 32767), np.int16), reset=reset)
        for pre in ([""] + (["syn_"] if cuba else [])):
            if draw(st.booleans()):
                p[pre + "decay"] = per(st.integers(0, 32768), np.uint16)
            else:
                p[pre + "shift"] = per(st.integers(1, 15), np.uint8)
    else:
        p = dict(beta=per(st.floats(0, 1, width=32), np.float32),
                 threshold=per(st.floats(0.0625, 64, width=32), np.float32), reset=reset)
        if cuba:
            p["alpha"] = per(st.floats(0, 1, width=32), np.float32)
    return p


@st.composite
def l2mu_case(draw, q15):
    dt = np.int16 if q15 else np.float32
    wel = (st.integers(-32768, 32767) if draw(st.booleans()) else st.integers(-2000, 4000)) if q15 else f32
    bel = st.integers(-2**31, 2**31 - 1) if q15 else f32
    bdt = np.int32 if q15 else np.float32

    def arr(shape, el=wel, dtype=dt):
        return draw(hnp.arrays(dtype, shape, elements=el))

    n_ch = draw(st.integers(1, 6))
    pop = draw(st.integers(1, 5))
    n_enc = draw(st.integers(0, 2))
    n_u = draw(st.integers(1, 4))
    order = draw(st.integers(1, 7))
    n_h = draw(st.integers(1, 13))
    n_o = draw(st.integers(1, 5))
    n_m = n_u * order
    cell = dict(w_in=arr((n_ch, pop)), pop_in=_pop(draw, q15, n_ch * pop), enc=[])
    if draw(st.booleans()):
        cell["b_in"] = arr((n_ch, pop), bel, bdt)
    fan_in = n_ch * pop
    for _ in range(n_enc):
        n = draw(st.integers(1, 17))
        layer = dict(w=arr((n, fan_in)), pop=_pop(draw, q15, n))
        if draw(st.booleans()):
            layer["b"] = arr(n, bel, bdt)
        if q15:
            layer["shift"] = draw(st.integers(0, 31))
        cell["enc"].append(layer)
        fan_in = n
    cell.update(e_x=arr((n_u, fan_in)), a=arr((order, order)), b=arr(order), w_m=arr((n_h, n_m)),
                w_o=arr((n_o, n_h)), pop_u=_pop(draw, q15, n_u), pop_m=_pop(draw, q15, n_m),
                pop_h=_pop(draw, q15, n_h))
    for name, shape in (("e_h", (n_u, n_h)), ("e_m", (n_u, n_m)), ("w_x", (n_h, fan_in)), ("w_h", (n_h, n_h))):
        if draw(st.booleans()):
            cell[name] = arr(shape)
    if draw(st.booleans()):
        cell["b_o"] = arr(n_o, bel, bdt)
    cell["readout"] = draw(st.sampled_from(["lif", "li"]))
    cell["pop_o"] = _pop(draw, q15, n_o)
    if cell["readout"] == "li":
        for k in ("alpha", "syn_decay", "syn_shift", "threshold"):
            cell["pop_o"].pop(k, None)
    if q15:
        for s in ("s_in", "s_ex", "s_eh", "s_em", "s_a", "s_b", "s_wx", "s_wh", "s_wm", "s_o"):
            cell[s] = draw(st.integers(0, 31) if draw(st.booleans()) else st.integers(0, 4))
    t = draw(st.integers(1, 6))
    xs = arr((t, n_ch), i16 if q15 else f32)
    return cell, xs


@settings(max_examples=150, deadline=None)
@given(l2mu_case(q15=True))
def test_l2mu_q15_bit_exact(case):
    cell, xs = case
    sk, tk = K.l2mu_run_q15(cell, xs)
    ss, ts = S.l2mu_run_q15(cell, xs)
    assert_same(tk, ts)
    assert_same(sk, ss)


# float32 tolerance: none (sequential sums over the present spikes in increasing index, one
# rounding per add, the LIF family's own float kernels on both sides).
@settings(max_examples=150, deadline=None)
@given(l2mu_case(q15=False))
def test_l2mu_f32_bit_exact(case):
    cell, xs = case
    sk, tk = K.l2mu_run_f32(cell, xs)
    ss, ts = S.l2mu_run_f32(cell, xs)
    assert_same(tk, ts)
    assert_same(sk, ss)


def _dyadic(rng, shape, scale=1 / 16):
    """Small multiples of 1/16: every sum below is exact in float32 and float64."""
    return (rng.integers(-24, 25, size=shape) * scale).astype(np.float32)


def _reference_l2mu(cell, xs):
    """An independent float64 L2MU from the paper's equations (matrix products with 0/1 spike
    vectors, snnTorch's LIF with reset by subtraction), for cells whose numbers are exact."""
    def lif(v, s, i, beta, thr):
        v = beta * v + i - s * thr
        return v, (v > thr).astype(np.float64)

    def zero(n):
        return np.zeros(n), np.zeros(n)

    n_ch, pop = cell["w_in"].shape
    n_u, order = cell["e_x"].shape[0], cell["a"].shape[0]
    n_h = cell["w_m"].shape[0]
    enc = cell["enc"][0]
    P = {k: (cell[f"pop_{k}"]["beta"], cell[f"pop_{k}"]["threshold"]) for k in ("in", "u", "m", "h", "o")}
    (vi, si), (ve, se), (vu, su), (vm, sm), (vh, sh), (vo, so) = (
        zero(n_ch * pop), zero(enc["w"].shape[0]), zero(n_u), zero(n_u * order), zero(n_h),
        zero(cell["w_o"].shape[0]))
    out = []
    for x in xs.astype(np.float64):
        vi, si = lif(vi, si, (cell["w_in"] * x[:, None] + cell["b_in"]).ravel(), *P["in"])
        ve, se = lif(ve, se, enc["w"] @ si + enc["b"], enc["pop"]["beta"], enc["pop"]["threshold"])
        iu = cell["e_x"] @ se + cell["e_h"] @ sh + cell["e_m"] @ sm
        vu, su_new = lif(vu, su, iu, *P["u"])
        im = sm.reshape(n_u, order) @ cell["a"].T + su_new[:, None] * cell["b"][None, :]
        vm, sm_new = lif(vm, sm, im.ravel(), *P["m"])
        ih = cell["w_x"] @ se + cell["w_h"] @ sh + cell["w_m"] @ sm_new
        vh, sh = lif(vh, sh, ih, *P["h"])
        su, sm = su_new, sm_new
        vo, so = lif(vo, so, cell["w_o"] @ sh + cell["b_o"], *P["o"])
        out.append(so.copy())
    return np.array(out), (vi, ve, vu, vm, vh, vo)


def test_l2mu_float_matches_an_independent_reference():
    rng = np.random.default_rng(7)
    n_ch, pop, enc, n_u, order, n_h, n_o = 6, 5, 11, 3, 4, 9, 4
    n_m = n_u * order

    def p(beta=1.0):
        # beta 1 (integrate-and-fire) or 0 keeps every membrane a multiple of 1/32: exact
        return dict(beta=np.float32(beta), threshold=np.float32(0.5), reset="subtract")

    cell = dict(w_in=_dyadic(rng, (n_ch, pop), 1 / 4), b_in=_dyadic(rng, (n_ch, pop)), pop_in=p(),
                enc=[dict(w=_dyadic(rng, (enc, n_ch * pop)), b=_dyadic(rng, enc), pop=p())],
                e_x=_dyadic(rng, (n_u, enc)), e_h=_dyadic(rng, (n_u, n_h)), e_m=_dyadic(rng, (n_u, n_m)),
                a=_dyadic(rng, (order, order)), b=_dyadic(rng, order), w_x=_dyadic(rng, (n_h, enc)),
                w_h=_dyadic(rng, (n_h, n_h)), w_m=_dyadic(rng, (n_h, n_m)), w_o=_dyadic(rng, (n_o, n_h)),
                b_o=_dyadic(rng, n_o), pop_u=p(), pop_m=p(), pop_h=p(), pop_o=p(0.0), readout="lif")
    xs = (rng.integers(-16, 17, size=(40, n_ch)) / 8).astype(np.float32)
    ref, (vi, ve, vu, vm, vh, vo) = _reference_l2mu(cell, xs)
    for impl in (K, S):
        state, trace = impl.l2mu_run_f32(cell, xs)
        np.testing.assert_array_equal(trace, ref)
        for got, want in ((state["in"]["v"], vi), (state["enc"][0]["v"], ve), (state["u"]["v"], vu),
                          (state["m"]["v"], vm), (state["h"]["v"], vh), (state["o"]["v"], vo)):
            np.testing.assert_array_equal(got, want)
    # the cell is not trivially silent
    assert 0 < state["m"]["s"].sum() + ref.sum() and 0 < state["h"]["v"].std()


def _q15_pop(n, thr=2000, shift=3):
    return dict(threshold=np.int16(thr), shift=np.uint8(shift), reset="subtract")


def test_l2mu_q15_spike_inputs_add_weights_without_multiplying():
    """One step from a known spike state: I_m and I_h are sums of the weights where spikes are,
    shifted and rounded, and each population's LIF update is the LIF kernel's."""
    n_u, order, n_h = 2, 3, 2
    a = np.array([[100, 200, 300], [-7, 9, 11], [1000, -1000, 5]], np.int16)
    b = np.array([40, 50, 60], np.int16)
    cell = dict(w_in=np.zeros((1, 1), np.int16), pop_in=_q15_pop(1), enc=[],
                e_x=np.zeros((n_u, 1), np.int16), a=a, b=b, s_a=1, s_b=2,
                w_m=np.array([[1, 2, 4, 8, 16, 32], [-1, -1, -1, -1, -1, -1]], np.int16), s_wm=0,
                w_h=np.array([[0, 1000], [0, 0]], np.int16), s_wh=3,
                w_o=np.ones((1, n_h), np.int16), pop_u=_q15_pop(n_u, thr=1), pop_m=_q15_pop(n_u * order, thr=30000),
                pop_h=_q15_pop(n_h, thr=30000), pop_o=_q15_pop(1))
    st0 = S.l2mu_state_q15(cell)
    st0["m"]["s"] = np.array([1, 0, 1, 0, 1, 1], np.uint8)
    st0["m"]["v"] = np.array([0, 0, 0, 0, 0, 0], np.int16)
    st0["u"]["v"] = np.array([5, 0], np.int16)  # channel 0's u neuron fires (5 > 1), channel 1's not
    st0["h"]["s"] = np.array([0, 1], np.uint8)
    for impl in (K, S):
        st = impl.l2mu_step_q15(cell, st0, np.array([0], np.int16))
        np.testing.assert_array_equal(st["u"]["s"], [1, 0])
        # I_m[c, r] = R(sum_{k: s_m[c, k]} a[r, k], 1) + s_u[c] R(b[r], 2)
        im0 = [(100 + 300 + 1) // 2 + 10, (-7 + 11 + 1) // 2 + 13, (1000 + 5 + 1) // 2 + 15]
        im1 = [(200 + 300 + 1) // 2, (9 + 11 + 1) // 2, (-1000 + 5 + 1) // 2]
        # the m neurons spiked last step: reset by subtraction of 30000, leak v - v>>3 of 0
        want_v = np.array(im0 + im1) - 30000 * st0["m"]["s"].astype(np.int64)
        np.testing.assert_array_equal(st["m"]["v"], want_v)
        # I_h = W_m s_m[t] (no m spike now: all below 30000) + R(W_h s_h[t-1], 3); h neuron 1
        # spiked at t-1, so its threshold is subtracted
        np.testing.assert_array_equal(st["h"]["v"], [(1000 + 4) >> 3, -30000])


def _tiny_l2mu_q15():
    return dict(w_in=np.ones((2, 3), np.int16), pop_in=_q15_pop(6), enc=[],
                e_x=np.ones((2, 6), np.int16), a=np.eye(3, dtype=np.int16), b=np.ones(3, np.int16),
                w_m=np.ones((4, 6), np.int16), w_o=np.ones((2, 4), np.int16), pop_u=_q15_pop(2),
                pop_m=_q15_pop(6), pop_h=_q15_pop(4), pop_o=_q15_pop(2))


@pytest.mark.parametrize("change", [
    dict(s_a=32), dict(s_in=99), dict(readout="spikes"),
    dict(pop_h=dict(threshold=np.int16(0), shift=np.uint8(3))),
    dict(pop_m=dict(threshold=np.int16(100), shift=np.uint8(16))),
    dict(pop_u=dict(threshold=np.int16(100))),                             # no leak
    dict(pop_u=dict(threshold=np.int16(100), shift=np.uint8(2), reset="hold")),
    dict(pop_in=dict(threshold=np.ones(5, np.int16), shift=np.uint8(2))),  # neither 1 nor n
    dict(w_m=np.ones((4, 5), np.int16)), dict(e_x=np.ones((2, 5), np.int16)),
    dict(enc=[dict(w=np.ones((3, 6), np.int16), pop=_q15_pop(3), shift=40)]),
    dict(enc=[dict(w=np.ones((3, 5), np.int16), pop=_q15_pop(3))]),
])
def test_bad_l2mu_q15_arguments_rejected_by_both(change):
    cell = dict(_tiny_l2mu_q15(), **change)
    xs = np.ones((2, 2), np.int16)
    with pytest.raises(ValueError):
        K.l2mu_run_q15(cell, xs, S.l2mu_state_q15(_tiny_l2mu_q15()) if "enc" not in change else None)
    with pytest.raises(ValueError):
        S.l2mu_run_q15(cell, xs, S.l2mu_state_q15(_tiny_l2mu_q15()) if "enc" not in change else None)


def test_li_readout_rejects_a_synaptic_leak():
    cell = dict(_tiny_l2mu_q15(), readout="li", pop_o=dict(shift=np.uint8(2), syn_shift=np.uint8(2)))
    st0 = S.l2mu_state_q15(_tiny_l2mu_q15())
    for impl in (K, S):
        with pytest.raises(ValueError):
            impl.l2mu_readout_q15(cell, st0)


def test_l2mu_har_sized_cell_runs_and_agrees():
    """The benchmark's HAR-sized Q15 cell (6 channels x 16, encoder 64, memory 10 x 7, hidden 120,
    7 outputs): C and numpy agree over 40 steps of a sine input and the cell is active."""
    rng = np.random.default_rng(3)
    n_ch, pop, enc, n_u, order, n_h, n_o = 6, 16, 64, 10, 7, 120, 7
    z = S.lmu_quantize_q15(*S.lmu_zoh(order, 10.0))

    def w(shape, lo=-700, hi=700):
        return rng.integers(lo, hi, size=shape).astype(np.int16)

    cell = dict(w_in=w((n_ch, pop), -4000, 4000), b_in=rng.integers(-500, 1500, (n_ch, pop)).astype(np.int32),
                pop_in=_q15_pop(0, 1500, 2),
                enc=[dict(w=w((enc, n_ch * pop)), pop=_q15_pop(0, 1500, 2), shift=0)],
                e_x=w((n_u, enc)), e_h=w((n_u, n_h)), a=z["a"], b=z["b"], s_a=z["a_frac"] - 11,
                s_b=z["b_frac"] - 11, w_x=w((n_h, enc)), w_h=w((n_h, n_h)), w_m=w((n_h, n_u * order)),
                w_o=w((n_o, n_h)), pop_u=_q15_pop(0, 1000, 2), pop_m=_q15_pop(0, 1000, 2),
                pop_h=_q15_pop(0, 1500, 2), pop_o=_q15_pop(0, 1500, 2), readout="li")
    t = np.arange(40)
    xs = np.stack([np.round(8000 * np.sin(2 * np.pi * t / (10 + 3 * ch))) for ch in range(n_ch)], 1).astype(np.int16)
    sk, tk = K.l2mu_run_q15(cell, xs)
    ss, ts = S.l2mu_run_q15(cell, xs)
    assert_same(tk, ts)
    assert_same(sk, ss)
    assert 0 < sk["h"]["s"].sum() < n_h and np.any(tk != 0)


# ---- prepare once, step often: eh_l2mu_check_q15 and the unchecked step / readout --------------

@settings(max_examples=100, deadline=None)
@given(l2mu_case(q15=True))
def test_l2mu_q15_unchecked_bit_exact(case):
    cell, xs = case
    K.l2mu_check_q15(cell)
    K.l2mu_readout_check_q15(cell)
    S.l2mu_check_q15(cell)
    S.l2mu_readout_check_q15(cell)
    sk = S.l2mu_state_q15(cell)
    ss = S.l2mu_state_q15(cell)
    for x in xs:
        sk = K.l2mu_readout_q15_unchecked(cell, K.l2mu_step_q15_unchecked(cell, sk, x))
        ss = S.l2mu_readout_q15(cell, S.l2mu_step_q15(cell, ss, x))
        assert_same(sk, ss)


@pytest.mark.parametrize("change", [
    dict(s_a=32), dict(s_wm=40),
    dict(pop_h=dict(threshold=np.int16(0), shift=np.uint8(3))),
    dict(pop_m=dict(threshold=np.int16(100), shift=np.uint8(16))),
    dict(pop_u=dict(threshold=np.int16(100))),
    dict(pop_in=dict(threshold=np.ones(5, np.int16), shift=np.uint8(2))),
    dict(pop_in=dict(threshold=np.int16(100), decay=np.uint16(40000))),
])
def test_l2mu_check_q15_returns_what_the_step_returns(change):
    cell = dict(_tiny_l2mu_q15(), **change)
    st0 = S.l2mu_state_q15(_tiny_l2mu_q15())
    with pytest.raises(ValueError) as chk:
        K.l2mu_check_q15(cell)
    with pytest.raises(ValueError) as step:
        K.l2mu_step_q15(cell, st0, np.ones(2, np.int16))
    assert type(chk.value) is type(step.value)
    if isinstance(chk.value, K.KernelError):
        assert chk.value.status == step.value.status
    with pytest.raises(ValueError):
        S.l2mu_check_q15(cell)
    with pytest.raises(ValueError):
        K.l2mu_step_q15_unchecked(cell, st0, np.ones(2, np.int16))


def test_l2mu_readout_check_q15():
    good = _tiny_l2mu_q15()
    assert K.l2mu_readout_check_q15(good) is None and S.l2mu_readout_check_q15(good) is None
    bad = [dict(s_o=32), dict(pop_o=dict(threshold=np.int16(0), shift=np.uint8(2))),
           dict(readout="li", pop_o=dict(shift=np.uint8(2), syn_shift=np.uint8(2)))]
    st0 = S.l2mu_state_q15(good)
    for change in bad:
        cell = dict(good, **change)
        with pytest.raises(K.KernelError) as chk:
            K.l2mu_readout_check_q15(cell)
        with pytest.raises(K.KernelError) as ro:
            K.l2mu_readout_q15(cell, st0)
        assert chk.value.status == ro.value.status
        with pytest.raises(ValueError):
            S.l2mu_readout_check_q15(cell)
        with pytest.raises(ValueError):
            K.l2mu_readout_q15_unchecked(cell, st0)
    # the readout's own problems are not the step's
    assert K.l2mu_check_q15(dict(good, s_o=32)) is None


def test_l2mu_check_q15_scratch_and_null():
    cell = _tiny_l2mu_q15()
    # P + Q + n_h + n_m = 6 + 6 + 4 + 6
    assert K.l2mu_check_q15(cell, 22) is None
    with pytest.raises(K.KernelError) as info:
        K.l2mu_check_q15(cell, 21)
    assert info.value.status == -2
    with pytest.raises(K.KernelError) as info:
        K.l2mu_readout_check_q15(cell, 2 + 4 - 1)
    assert info.value.status == -2
    lib = K.lmu.lib
    assert lib.eh_l2mu_check_q15(K.lmu.ffi.NULL, 100) == -1
    assert lib.eh_l2mu_readout_check_q15(K.lmu.ffi.NULL, 100) == -1


def test_l2mu_unchecked_refuses_a_state_without_buffers():
    cell = _tiny_l2mu_q15()
    st0 = S.l2mu_state_q15(cell)
    broken = dict(st0, h=dict(v=st0["h"]["v"]))  # no spikes buffer
    with pytest.raises(ValueError):
        K.l2mu_step_q15_unchecked(cell, broken, np.ones(2, np.int16))
    with pytest.raises(ValueError):
        K.l2mu_readout_q15_unchecked(cell, dict(st0, o={}))


@pytest.mark.parametrize("pop_x, shifts", [
    (30000, (0, 0, 0)),       # 30006 columns per hidden row: 32-bit sums, R = (S + 2^(s-1)) >> s
    (40000, (1, 0, 31)),      # 40006 columns: 32-bit total, R in the overflow-free form
    (65535, (0, 1, 0)),       # 65541 columns: the terms are added in int64
])
def test_l2mu_q15_large_sums_exact(pop_x, shifts):
    """Every input neuron spikes and the weights sit at the int16 limits, so the spike sums reach
    about 2^31: each choice of arithmetic width in the C step is exercised and must agree with
    the int64 twin."""
    rng = np.random.default_rng(pop_x)
    n_h, n_u, order, n_o = 5, 1, 1, 3
    big = lambda shape: rng.choice(np.array([32767, 32766, -32768], np.int16), size=shape)  # noqa: E731
    cell = dict(w_in=np.full((1, pop_x), 32767, np.int16), b_in=np.full((1, pop_x), 100, np.int32),
                pop_in=_q15_pop(0, 1, 1), enc=[],
                e_x=big((n_u, pop_x)), e_h=big((n_u, n_h)), a=big((order, order)), b=big(order),
                w_m=big((n_h, n_u * order)), w_x=np.full((n_h, pop_x), 32767, np.int16),
                w_h=big((n_h, n_h)), w_o=big((n_o, n_h)),
                pop_u=_q15_pop(0, 1, 1), pop_m=_q15_pop(0, 1, 1), pop_h=_q15_pop(0, 1, 1),
                pop_o=_q15_pop(0, 1, 1), readout="lif",
                s_wx=shifts[0], s_wh=shifts[1], s_wm=shifts[2])
    cell["w_x"][1] = -32768
    cell["w_x"][2, ::2] = -32768
    xs = np.full((2, 1), 32767, np.int16)
    state = S.l2mu_state_q15(cell)
    state["h"]["s"][:] = 1
    sk, tk = K.l2mu_run_q15(cell, xs, state)
    ss, ts = S.l2mu_run_q15(cell, xs, state)
    assert_same(tk, ts)
    assert_same(sk, ss)
    sk = K.l2mu_step_q15_unchecked(cell, state, xs[0])
    ss = S.l2mu_step_q15(cell, state, xs[0])
    assert_same(sk, ss)
    assert ss["in"]["s"].all()


@st.composite
def busy_l2mu_case(draw):
    """HAR-shaped Q15 cells (hidden layers of tens of neurons: spike lists over several 8-byte
    chunks, row counts with and without a remainder of four) with low thresholds, so that many
    neurons spike: every term of the step's spike sums has a list that is empty, short or long
    from one step to the next. Shifts over their whole range (s_in = 31 and the rest), biases
    present or not, weights at the int16 limits or small."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_ch, pop = draw(st.integers(1, 6)), draw(st.integers(1, 12))
    enc = draw(st.integers(1, 40))
    n_u, order = draw(st.integers(1, 9)), draw(st.integers(1, 7))
    n_h, n_o = draw(st.integers(1, 70)), draw(st.integers(1, 9))
    full = draw(st.booleans())

    def w(shape):
        if full:
            return rng.integers(-32768, 32768, size=shape).astype(np.int16)
        return rng.integers(-900, 1200, size=shape).astype(np.int16)

    def bias(n):
        return rng.integers(-(2**31), 2**31, size=n).astype(np.int32) if draw(st.booleans()) else None

    def popq(n):
        p = dict(threshold=rng.integers(1, 300, size=n).astype(np.int16), reset=draw(st.sampled_from(["subtract", "zero"])))
        if draw(st.booleans()):
            p["decay"] = rng.integers(20000, 32769, size=n).astype(np.uint16)
        else:
            p["shift"] = np.uint8(draw(st.integers(1, 15)))
        return p

    shift = st.integers(0, 6) | st.integers(0, 6) | st.sampled_from([15, 31])
    cell = dict(w_in=w((n_ch, pop)), pop_in=popq(n_ch * pop),
                enc=[dict(w=w((enc, n_ch * pop)), pop=popq(enc), shift=draw(shift))],
                e_x=w((n_u, enc)), e_h=w((n_u, n_h)), e_m=w((n_u, n_u * order)), a=w((order, order)),
                b=w(order), w_x=w((n_h, enc)), w_h=w((n_h, n_h)), w_m=w((n_h, n_u * order)),
                w_o=w((n_o, n_h)), pop_u=popq(n_u), pop_m=popq(n_u * order), pop_h=popq(n_h),
                pop_o=popq(n_o), readout=draw(st.sampled_from(["lif", "li"])))
    for name, n in (("b_in", (n_ch, pop)), ("b_o", n_o)):
        b = bias(n)
        if b is not None:
            cell[name] = b
    b = bias(enc)
    if b is not None:
        cell["enc"][0]["b"] = b
    if cell["readout"] == "li":
        cell["pop_o"].pop("threshold")
    for s in ("s_in", "s_ex", "s_eh", "s_em", "s_a", "s_b", "s_wx", "s_wh", "s_wm", "s_o"):
        cell[s] = draw(shift)
    xs = rng.integers(-32768, 32768, size=(8, n_ch)).astype(np.int16)
    return cell, xs


@settings(max_examples=60, deadline=None)
@given(busy_l2mu_case())
def test_l2mu_q15_busy_cells_bit_exact(case):
    """C == numpy over eight steps of busy cells, checked and unchecked steps."""
    cell, xs = case
    sk, tk = K.l2mu_run_q15(cell, xs)
    ss, ts = S.l2mu_run_q15(cell, xs)
    assert_same(tk, ts)
    assert_same(sk, ss)
    uk = S.l2mu_state_q15(cell)
    for x in xs:
        uk = K.l2mu_readout_q15_unchecked(cell, K.l2mu_step_q15_unchecked(cell, uk, x))
    assert_same(uk, ss)
