"""The C LIF kernels equal their numpy twins: bit for bit on Q15 and on float32."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import edgehost.kernels as K
import edgehost.sim as S

sizes = st.integers(1, 97)
RESETS = ["subtract", "zero", "none", "subtract_now"]   # the LIF / CuBa-LIF modes (eh_lif.h)
i16 = st.integers(-32768, 32767)
f32 = st.floats(-1e4, 1e4, width=32, allow_subnormal=False)


def per_neuron(n, elements, dtype):
    """A shared (length 1) or per-neuron (length n) parameter."""
    return st.one_of(hnp.arrays(dtype, 1, elements=elements), hnp.arrays(dtype, n, elements=elements))


@st.composite
def q15_case(draw, cuba=False):
    n = draw(sizes)
    case = dict(
        x=draw(hnp.arrays(np.int16, n, elements=i16)),
        v=draw(hnp.arrays(np.int16, n, elements=i16)),
        spikes=draw(hnp.arrays(np.uint8, n, elements=st.integers(0, 1))),
        threshold=draw(per_neuron(n, st.integers(1, 32767), np.int16)),
        reset=draw(st.sampled_from(RESETS)),
    )
    prefixes = ["syn_", "mem_"] if cuba else [""]
    for p in prefixes:
        if draw(st.booleans()):
            case[p + "decay"] = draw(per_neuron(n, st.integers(0, 32768), np.uint16))
        else:
            case[p + "shift"] = draw(per_neuron(n, st.integers(1, 15), np.uint8))
    if cuba:
        case["i_syn"] = draw(hnp.arrays(np.int16, n, elements=i16))
    return case


@st.composite
def f32_case(draw, cuba=False):
    n = draw(sizes)
    case = dict(
        x=draw(hnp.arrays(np.float32, n, elements=f32)),
        v=draw(hnp.arrays(np.float32, n, elements=f32)),
        spikes=draw(hnp.arrays(np.uint8, n, elements=st.integers(0, 1))),
        beta=draw(per_neuron(n, st.floats(0, 1, width=32), np.float32)),
        threshold=draw(per_neuron(n, st.floats(0.0009765625, 1024.0, width=32), np.float32)),
        reset=draw(st.sampled_from(RESETS)),
    )
    if cuba:
        case["i_syn"] = draw(hnp.arrays(np.float32, n, elements=f32))
        case["alpha"] = draw(per_neuron(n, st.floats(0, 1, width=32), np.float32))
    return case


def assert_same(a, b):
    for x, y in zip(a, b):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


@settings(max_examples=300, deadline=None)
@given(q15_case())
def test_lif_q15_bit_exact(case):
    assert_same(K.lif_step_q15(**case), S.lif_step_q15(**case))


@settings(max_examples=300, deadline=None)
@given(q15_case(cuba=True))
def test_cubalif_q15_bit_exact(case):
    assert_same(K.cubalif_step_q15(**case), S.cubalif_step_q15(**case))


# float32 tolerance: none. With -ffp-contract=off both sides round once per operation in the
# same order, so the float path is bit-exact as well (on the host and on the cores checked in HIL).
@settings(max_examples=300, deadline=None)
@given(f32_case())
def test_lif_f32_bit_exact(case):
    assert_same(K.lif_step_f32(**case), S.lif_step_f32(**case))


@settings(max_examples=300, deadline=None)
@given(f32_case(cuba=True))
def test_cubalif_f32_bit_exact(case):
    assert_same(K.cubalif_step_f32(**case), S.cubalif_step_f32(**case))


def test_q15_saturates_instead_of_wrapping():
    x = np.array([32767, -32768], np.int16)
    v = np.array([32767, -32768], np.int16)
    s = np.zeros(2, np.uint8)
    for impl in (K, S):
        vv, ss = impl.lif_step_q15(x, v, s, 1000, decay=32768)
        np.testing.assert_array_equal(vv, [32767, -32768])
        np.testing.assert_array_equal(ss, [1, 0])


def test_multiplier_free_leak_and_subtract_reset_over_time():
    """A constant input builds up, fires and is reset by subtraction; C and numpy agree at every
    step, and the firing rate is the one the equations give."""
    n = 37  # odd size
    v = np.zeros(n, np.int16)
    s = np.zeros(n, np.uint8)
    vr, sr = v.copy(), s.copy()
    x = np.full(n, 300, np.int16)
    fired = 0
    for _ in range(200):
        v, s = K.lif_step_q15(x, v, s, 2000, shift=3)
        vr, sr = S.lif_step_q15(x, vr, sr, 2000, shift=3)
        np.testing.assert_array_equal(v, vr)
        np.testing.assert_array_equal(s, sr)
        fired += int(s.sum())
    # v -> v - v/8 + 300 settles at 2400 > 2000, and each spike removes 2000: the neuron fires
    # regularly but not at every step.
    assert 0.05 * 200 * n < fired < 0.9 * 200 * n


def test_if_neuron_is_decay_one():
    """decay = 32768 is exactly 1.0: an integrate-and-fire neuron accumulates without loss."""
    v, s = K.lif_step_q15(np.array([7], np.int16), np.array([1000], np.int16),
                          np.array([0], np.uint8), 30000, decay=32768)
    assert v[0] == 1007 and s[0] == 0


bad_q15 = [
    dict(threshold=0, shift=3),                      # threshold out of range
    dict(threshold=-5, shift=3),
    dict(threshold=100, shift=0),                    # shift out of range
    dict(threshold=100, shift=16),
    dict(threshold=100, decay=40000),                # decay above 1.0
    dict(threshold=100),                             # no leak
    dict(threshold=100, decay=100, shift=3),         # two leaks
    dict(threshold=[1, 2], shift=3),                 # neither shared nor per neuron
    dict(threshold=100, shift=3, reset="hold"),      # unknown reset
]


@pytest.mark.parametrize("kw", bad_q15)
def test_bad_q15_arguments_rejected_by_both(kw):
    x = np.zeros(3, np.int16)
    v = np.zeros(3, np.int16)
    s = np.zeros(3, np.uint8)
    with pytest.raises(ValueError):
        K.lif_step_q15(x, v, s, **kw)
    with pytest.raises(ValueError):
        S.lif_step_q15(x, v, s, **kw)


@pytest.mark.parametrize("kw", [dict(beta=1.5, threshold=1.0), dict(beta=-0.1, threshold=1.0),
                                dict(beta=0.5, threshold=0.0), dict(beta=0.5, threshold=np.inf),
                                dict(beta=np.nan, threshold=1.0)])
def test_bad_f32_arguments_rejected_by_both(kw):
    x = np.zeros(3, np.float32)
    with pytest.raises(ValueError):
        K.lif_step_f32(x, x, np.zeros(3, np.uint8), **kw)
    with pytest.raises(ValueError):
        S.lif_step_f32(x, x, np.zeros(3, np.uint8), **kw)


def test_empty_rejected():
    e16 = np.zeros(0, np.int16)
    with pytest.raises(K.KernelError) as info:
        K.lif_step_q15(e16, e16, np.zeros(0, np.uint8), 10, shift=2)
    assert info.value.status == -2
    with pytest.raises(ValueError):
        S.lif_step_q15(e16, e16, np.zeros(0, np.uint8), 10, shift=2)


@st.composite
def adapt_q15_case(draw):
    case = draw(q15_case())
    case["reset"] = draw(st.sampled_from(RESETS[:2]))
    n = case["x"].size
    leak = {k: case.pop(k) for k in ("decay", "shift") if k in case}
    case.update({"mem_" + k: v for k, v in leak.items()})
    if draw(st.booleans()):
        case["th_decay"] = draw(per_neuron(n, st.integers(0, 32768), np.uint16))
    else:
        case["th_shift"] = draw(per_neuron(n, st.integers(1, 15), np.uint8))
    case["x_th"] = draw(hnp.arrays(np.int16, n, elements=i16))
    case["a"] = draw(hnp.arrays(np.int16, n, elements=i16))
    return case


@st.composite
def adapt_f32_case(draw):
    case = draw(f32_case())
    case["reset"] = draw(st.sampled_from(RESETS[:2]))
    n = case["x"].size
    case["beta_th"] = draw(per_neuron(n, st.floats(0, 1, width=32), np.float32))
    case["x_th"] = draw(hnp.arrays(np.float32, n, elements=st.floats(-2, 2, width=32)))
    case["a"] = draw(hnp.arrays(np.float32, n, elements=st.floats(-1, 10, width=32)))
    return case


@settings(max_examples=300, deadline=None)
@given(adapt_q15_case())
def test_lif_adapt_q15_bit_exact(case):
    assert_same(K.lif_adapt_step_q15(**case), S.lif_adapt_step_q15(**case))


@settings(max_examples=300, deadline=None)
@given(adapt_f32_case())
def test_lif_adapt_f32_bit_exact(case):
    assert_same(K.lif_adapt_step_f32(**case), S.lif_adapt_step_f32(**case))


def test_adaptation_raises_the_threshold_and_decays_back():
    """An input spike volley raises the threshold, so the same drive no longer fires; once the raise
    has decayed the neuron fires again."""
    n = 1
    x = np.array([600], np.int16)
    v = np.zeros(n, np.int16)
    a = np.zeros(n, np.int16)
    s = np.zeros(n, np.uint8)
    kw = dict(threshold=1000, mem_shift=1, th_shift=3)
    ref = (v, a, s)
    spikes = []
    for t in range(60):
        xth = np.array([4000 if t == 10 else 0], np.int16)
        v, a, s = K.lif_adapt_step_q15(x, xth, v, a, s, **kw)
        ref = S.lif_adapt_step_q15(x, xth, *ref, **kw)
        assert_same((v, a, s), ref)
        spikes.append(int(s[0]))
    spikes = np.array(spikes)
    # leak v -> v/2 + 600 settles at 1200 > 1000: it fires every 4 steps before the volley ...
    assert spikes[:10].sum() == 2
    # ... not right after it (the threshold is 5000 and decays by 1/8 per step) ...
    assert spikes[11:20].sum() == 0
    # ... and again once the raise has decayed
    assert spikes[40:].sum() >= 3


# ---- prepare once, step often: the check functions and the unchecked steps ---------------------

@settings(max_examples=200, deadline=None)
@given(q15_case())
def test_lif_q15_unchecked_bit_exact(case):
    assert_same(K.lif_step_q15_unchecked(**case), S.lif_step_q15(**case))
    assert_same(S.lif_step_q15_unchecked(**case), S.lif_step_q15(**case))


@settings(max_examples=200, deadline=None)
@given(q15_case(cuba=True))
def test_cubalif_q15_unchecked_bit_exact(case):
    assert_same(K.cubalif_step_q15_unchecked(**case), S.cubalif_step_q15(**case))
    assert_same(S.cubalif_step_q15_unchecked(**case), S.cubalif_step_q15(**case))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 70), st.integers(1, 15), st.integers(1, 32767), st.integers(0, 2**32 - 1))
def test_lif_q15_unchecked_shared_shift_saturation(n, shift, thr, seed):
    """The shape of the DSP fast path (shared shift and threshold, subtract): values at and near
    the int16 limits, spikes on negative v (states no network produces) included."""
    rng = np.random.default_rng(seed)
    pick = np.array([32767, -32768, 32766, -32767, 0, 1, -1], np.int16)
    x = np.where(rng.random(n) < 0.5, rng.choice(pick, n), rng.integers(-32768, 32768, n)).astype(np.int16)
    v = np.where(rng.random(n) < 0.5, rng.choice(pick, n), rng.integers(-32768, 32768, n)).astype(np.int16)
    s = (rng.random(n) < 0.4).astype(np.uint8)
    assert_same(K.lif_step_q15_unchecked(x, v, s, thr, shift=shift),
                S.lif_step_q15(x, v, s, thr, shift=shift))


@pytest.mark.parametrize("kw", bad_q15)
def test_lif_check_q15_rejects_what_the_step_rejects(kw):
    x = np.zeros(3, np.int16)
    with pytest.raises(ValueError):
        S.lif_check_q15(3, **kw)
    with pytest.raises(ValueError):
        K.lif_step_q15_unchecked(x, x, np.zeros(3, np.uint8), **kw)
    with pytest.raises(ValueError) as chk:
        K.lif_check_q15(3, **kw)
    with pytest.raises(ValueError) as step:
        K.lif_step_q15(x, x, np.zeros(3, np.uint8), **kw)
    # the same eh_status where C saw the call (the wrappers reject a missing / double leak and an
    # unknown reset name before C)
    assert type(chk.value) is type(step.value)
    if isinstance(chk.value, K.KernelError):
        assert chk.value.status == step.value.status


def test_lif_check_q15_accepts_and_sizes():
    assert K.lif_check_q15(5, 100, shift=3) is None
    assert S.lif_check_q15(5, 100, shift=3) is None
    assert K.lif_check_q15(2, [1, 32767], decay=[0, 32768], reset="zero") is None
    with pytest.raises(K.KernelError) as info:
        K.lif_check_q15(0, 100, shift=3)
    assert info.value.status == -2
    with pytest.raises(K.KernelError) as info:
        K.lif_check_q15(4, [100, 200], shift=3)  # neither shared nor per neuron
    assert info.value.status == -2
    with pytest.raises(ValueError):
        S.lif_check_q15(0, 100, shift=3)


@pytest.mark.parametrize("kw", [
    dict(threshold=0, syn_shift=3, mem_shift=2),
    dict(threshold=10, syn_shift=16, mem_shift=2),
    dict(threshold=10, syn_shift=3, mem_decay=40000),
    dict(threshold=[1, 2], syn_shift=3, mem_shift=2),
    dict(threshold=10, syn_shift=3, mem_shift=2, reset="hold"),
])
def test_cubalif_check_q15_rejects_what_the_step_rejects(kw):
    x = np.zeros(3, np.int16)
    s = np.zeros(3, np.uint8)
    with pytest.raises(ValueError) as chk:
        K.cubalif_check_q15(3, **kw)
    with pytest.raises(ValueError) as step:
        K.cubalif_step_q15(x, x, x, s, **kw)
    assert type(chk.value) is type(step.value)
    if isinstance(chk.value, K.KernelError):
        assert chk.value.status == step.value.status
    with pytest.raises(ValueError):
        S.cubalif_check_q15(3, **kw)
    with pytest.raises(ValueError):
        K.cubalif_step_q15_unchecked(x, x, x, s, **kw)
    assert K.cubalif_check_q15(3, 10, syn_shift=3, mem_decay=[0, 1, 32768]) is None
    assert S.cubalif_check_q15(3, 10, syn_shift=3, mem_decay=[0, 1, 32768]) is None


@pytest.mark.parametrize("reset", ["none", "subtract_now"])
def test_lif_adapt_rejects_the_lif_only_modes(reset):
    """none / subtract_now are LIF and CuBa-LIF modes: lif_adapt refuses them in both twins."""
    x = np.zeros(3, np.int16)
    for impl in (S, K):
        with pytest.raises(ValueError):
            impl.lif_adapt_step_q15(x, x, x, x, np.zeros(3, np.uint8), 10, mem_shift=3, th_shift=3, reset=reset)
        with pytest.raises(ValueError):
            impl.lif_adapt_step_f32(x.astype(np.float32), x.astype(np.float32), x.astype(np.float32),
                                    x.astype(np.float32), np.zeros(3, np.uint8), 0.5, 0.5, 1.0, reset=reset)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**32 - 1), st.sampled_from(["none", "subtract_now"]))
def test_none_and_subtract_now_follow_their_equations_over_time(n, seed, reset):
    """Over 50 steps from rest, with no leak (decay 32768): "none" never resets (v is the running
    sum of the inputs, saturated), "subtract_now" keeps v = sum - thr * (spikes so far) and a
    neuron spikes only when v - thr (v - 2 thr if it entered above thr) exceeds thr; both twins."""
    rng = np.random.default_rng(seed)
    thr = np.int16(rng.integers(50, 2000))
    xs = rng.integers(-1500, 2500, (50, n)).astype(np.int16)
    for impl in (S, K):
        v = np.zeros(n, np.int16)
        s = np.zeros(n, np.uint8)
        total = np.zeros(n, np.int64)
        fired = np.zeros(n, np.int64)
        clean = np.ones(n, bool)          # neurons whose sums never came near saturation
        for x in xs:
            entered_above = v.astype(np.int64) > thr
            v_prev = v.astype(np.int64)
            v, s = impl.lif_step_q15(x, v, s, thr, decay=32768, reset=reset)
            if reset == "none":
                total = np.clip(total + x, -32768, 32767)
                np.testing.assert_array_equal(v, total)
                np.testing.assert_array_equal(s, (total > thr).astype(np.uint8))
            else:
                u = v_prev + x
                need = np.where(entered_above, 2 * thr, thr)
                np.testing.assert_array_equal(s, (u > need).astype(np.uint8))
                fired += s
                total += x
                clean &= np.abs(u) < 30000
                np.testing.assert_array_equal(v[clean], (total - fired * thr)[clean])
