"""The C basic kernels equal their numpy twins: bit for bit on every integer path and on float32
(both sides round once per operation in the same order: no tolerance)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import edgehost.kernels as K
import edgehost.sim as S

sizes = st.integers(1, 75)
i16 = st.integers(-32768, 32767)
i32 = st.integers(-(1 << 31), (1 << 31) - 1)
f32 = st.floats(-1e4, 1e4, width=32, allow_subnormal=False)
EX = settings(max_examples=150, deadline=None)


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
def dense(draw, xdtype, xel, wdtype, wel, bdtype=np.int32, bel=i32):
    n_in, n_out = draw(sizes), draw(st.integers(1, 40))
    x = draw(hnp.arrays(xdtype, n_in, elements=xel))
    w = draw(hnp.arrays(wdtype, (n_out, n_in), elements=wel))
    b = draw(st.none() | hnp.arrays(bdtype, n_out, elements=bel))
    return x, w, b


@EX
@given(dense(np.float32, f32, np.float32, f32, np.float32, f32))
def test_fc_f32_bit_exact(case):
    x, w, b = case
    both("fc_f32", x, w, b)


@EX
@given(dense(np.int16, i16, np.int16, i16), st.integers(0, 31))
def test_fc_q15_bit_exact(case, shift):
    x, w, b = case
    both("fc_q15", x, w, b, shift)


@EX
@given(dense(np.uint8, st.integers(0, 1), np.int16, i16), st.integers(0, 31))
def test_fc_spike_q15_bit_exact(case, shift):
    s, w, b = case
    both("fc_spike_q15", s, w, b, shift)


def test_fc_spike_saturates_step_by_step():
    """From b = INT32_MAX, +32767 first saturates and is lost; added last it is kept."""
    k = 65536
    s = np.ones(k + 1, np.uint8)
    w = np.full((2, k + 1), -32768, np.int16)
    w[0, 0] = 32767   # MAX -> MAX (saturated) -> MAX - 2^31 = -1
    w[1, -1] = 32767  # MAX - 2^31 = -1 -> 32766 (the exact sum)
    b = np.array([2**31 - 1, 2**31 - 1], np.int32)
    for impl in (K, S):
        np.testing.assert_array_equal(impl.fc_spike_q15(s, w, b, shift=0), [-1, 32766])
    # and the other limit
    for impl in (K, S):
        assert impl.fc_spike_q15(s, w[1:], [-(2**31)], 31)[0] == -1  # stays at INT32_MIN, then +32767


@st.composite
def spike_layer(draw):
    """Spike layers at a drawn activity (0 %, 100 % and in between), sizes across the 32-input
    blocks and the 1024-input mask cache of the C kernel, biases near the int32 limits or not."""
    n_in = draw(st.sampled_from([1, 31, 32, 33, 63, 64, 65, 97, 1023, 1024, 1025, 1057]) | st.integers(1, 200))
    n_out = draw(st.integers(1, 9))
    p = draw(st.sampled_from([0.0, 1.0, 0.1, 0.15, 0.2, 0.5]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    s = (rng.random(n_in) < p).astype(np.uint8)
    w = rng.integers(-32768, 32768, (n_out, n_in), dtype=np.int16)
    if draw(st.booleans()):
        w[:] = draw(st.sampled_from([-32768, 32767]))  # every active weight at one limit
    b = draw(st.none() | hnp.arrays(np.int32, n_out, elements=i32 | st.integers(-5000, 5000)
                                    | st.sampled_from([2**31 - 1, -(2**31), 2**31 - 32768 * 40])))
    return s, w, b


@settings(max_examples=200, deadline=None)
@given(spike_layer(), st.integers(0, 31))
def test_fc_spike_q15_activity_bit_exact(case, shift):
    s, w, b = case
    both("fc_spike_q15", s, w, b, shift)


@pytest.mark.parametrize("n_in", [1, 5, 31, 32, 33, 100, 1024, 1025, 2051])
@pytest.mark.parametrize("fill", [0, 1])
def test_fc_spike_q15_all_zero_all_one(n_in, fill):
    """All-silent inputs give R(b); all-active ones the plain row sum (checked against numpy
    sums here, not only against the twin)."""
    rng = np.random.default_rng(n_in)
    n_out = 7
    s = np.full(n_in, fill, np.uint8)
    w = rng.integers(-32768, 32768, (n_out, n_in), dtype=np.int16)
    b = rng.integers(-10000, 10000, n_out, dtype=np.int32)
    y = both("fc_spike_q15", s, w, b, 6)
    total = b.astype(np.int64) + (w.astype(np.int64).sum(axis=1) if fill else 0)
    expect = np.clip(np.floor((total + 32) / 64), -32768, 32767).astype(np.int16)
    assert np.all(np.abs(total) < 2**31)  # no int32 saturation at these sizes
    same(y, expect)


def test_fc_spike_q15_strided_spikes_and_aligned_rows():
    """Spikes from a non-contiguous view and a spike vector starting at an odd address."""
    rng = np.random.default_rng(3)
    buf = (rng.random(2 * 300 + 1) < 0.15).astype(np.uint8)
    w = rng.integers(-32768, 32768, (5, 300), dtype=np.int16)
    for s in (buf[1:301], buf[::2][:300]):
        both("fc_spike_q15", s, w, None, 3)


def spike_t(s, w, b, shift):
    """eh_fc_spike_t_q15 on w transposed (C and numpy) equals eh_fc_spike_q15 on w, bit for bit;
    all three reject the same arguments."""
    wt = np.ascontiguousarray(np.asarray(w).T)
    try:
        ref = K.fc_spike_q15(s, w, b, shift)
    except ValueError:
        for impl in (K, S):
            with pytest.raises(ValueError):
                impl.fc_spike_t_q15(s, wt, b, shift)
        return None
    same(K.fc_spike_t_q15(s, wt, b, shift), ref)
    same(S.fc_spike_t_q15(s, wt, b, shift), ref)
    return ref


@st.composite
def spike_t_layer(draw):
    """spike_layer's inputs with output counts across the transposed kernel's accumulator chunks
    (8 on the cores, 256 on 64-bit hosts): below, at and past a chunk, not multiples of it."""
    s, _, b = draw(spike_layer())
    n_out = draw(st.sampled_from([1, 7, 8, 9, 17, 255, 256, 257, 300, 513, 777]) | st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    w = rng.integers(-32768, 32768, (n_out, s.size), dtype=np.int16)
    mode = draw(st.sampled_from(["random", "max", "min", "small"]))
    if mode == "max":
        w[:] = 32767
    elif mode == "min":
        w[:] = -32768
    elif mode == "small":
        w = (w >> 8).astype(np.int16)
    if b is not None or draw(st.booleans()):
        b = rng.integers(-5000, 5000, n_out, dtype=np.int32)
        ext = rng.random(n_out) < draw(st.sampled_from([0.0, 0.1, 1.0]))   # some outputs at the limits
        b[ext] = rng.choice(np.array([2**31 - 1, -(2**31), 2**31 - 32768 * 40, -(2**31) + 1000], np.int32),
                            int(ext.sum()))
    return s, w, b


@settings(max_examples=200, deadline=None)
@given(spike_t_layer(), st.integers(0, 31))
def test_fc_spike_t_q15_equals_row_major(case, shift):
    s, w, b = case
    spike_t(s, w, b, shift)


@EX
@given(dense(np.uint8, st.integers(0, 1), np.int16, i16), st.integers(0, 31))
def test_fc_spike_t_q15_small_layers(case, shift):
    s, w, b = case
    spike_t(s, w, b, shift)


def test_fc_spike_t_q15_saturates_step_by_step():
    """More than 65535 active inputs: the accumulators leave the no-saturation bound, so the
    order of the saturating additions shows; outputs of one chunk saturate at different inputs
    (and some never), each as eh_fc_spike_q15 gives it."""
    k = 65536
    s = np.ones(k + 2, np.uint8)
    s[5] = 0                                   # 65537 active inputs, one silent among them
    n_out = 263                                # one full host chunk and a partial one
    w = np.full((n_out, k + 2), -32768, np.int16)
    w[0, 0] = 32767                            # MAX -> MAX (saturated) -> MAX - 2^31 = -1
    w[1, -1] = 32767                           # MAX - 2^31 = -1 -> 32766 (the exact sum)
    w[2:, :] = np.resize(np.array([32767, -32768, 1000, -7], np.int16), (n_out - 2, k + 2))
    w[7] = 32767
    w[260, :1000] = 32767
    b = np.zeros(n_out, np.int32)
    b[:2] = 2**31 - 1
    b[3], b[9], b[261] = -(2**31), 2**31 - 1, 123456
    y = spike_t(s, w, b, 0)
    assert y[0] == -1 and y[1] == 32766
    y31 = spike_t(s, w, b, 31)
    assert y31[0] == 0 and y31[7] == 1        # rshift(INT32_MAX, 31) = 1


@pytest.mark.parametrize("n_in", [1, 31, 32, 33, 1023, 1024, 1025, 2051])
def test_fc_spike_t_q15_all_zero_all_one(n_in):
    """All silent gives R(b); all active the plain sums (numpy, not the twins)."""
    rng = np.random.default_rng(n_in)
    n_out = 261
    w = rng.integers(-32768, 32768, (n_out, n_in), dtype=np.int16)
    b = rng.integers(-10000, 10000, n_out, dtype=np.int32)
    for fill in (0, 1):
        y = spike_t(np.full(n_in, fill, np.uint8), w, b, 6)
        total = b.astype(np.int64) + (w.astype(np.int64).sum(axis=1) if fill else 0)
        same(y, np.clip(np.floor((total + 32) / 64), -32768, 32767).astype(np.int16))


def test_fc_spike_t_q15_views_and_flat_weights():
    """Spikes from strided views and at an odd address; weights given flat [n_in * n_out]."""
    rng = np.random.default_rng(5)
    buf = (rng.random(2 * 300 + 1) < 0.15).astype(np.uint8)
    w = rng.integers(-32768, 32768, (70, 300), dtype=np.int16)
    for s in (buf[1:301], buf[::2][:300]):
        ref = spike_t(s, w, None, 3)
        flat = np.ascontiguousarray(w.T).ravel()
        same(K.fc_spike_t_q15(s, flat, None, 3), ref)
        same(S.fc_spike_t_q15(s, flat, None, 3), ref)


@pytest.mark.parametrize("args", [
    (np.array([0, 2, 1], np.uint8), np.ones((3, 2), np.int16)),              # a spike of 2
    (np.ones(3, np.uint8), np.ones((3, 2), np.int16), None, 32),             # shift > 31
    (np.ones(3, np.uint8), np.ones((3, 2), np.int16), None, -1),
    (np.ones(3, np.uint8), np.ones((2, 3), np.int16)),                       # [n_out][n_in]
    (np.ones(3, np.uint8), np.ones((3, 2), np.int16), np.ones(3, np.int32)),  # bias length
    (np.ones(3, np.uint8), np.ones((3, 0), np.int16)),                       # no output
    (np.zeros(0, np.uint8), np.zeros((0, 2), np.int16)),                     # no input
    (np.ones(3, np.uint8), np.ones((3, 2), np.int32) * 40000),               # not int16
])
def test_fc_spike_t_q15_bad_arguments(args):
    for impl in (K, S):
        with pytest.raises(ValueError):
            impl.fc_spike_t_q15(*args)
    with pytest.raises(K.KernelError) as e:
        K.fc_spike_t_q15(np.array([1, 0, 3], np.uint8), np.ones((3, 2), np.int16))
    assert e.value.status == -3


@st.composite
def s8_case(draw):
    x, w, b = draw(dense(np.int8, st.integers(-128, 127), np.int8, st.integers(-128, 127),
                         np.int32, st.integers(-(1 << 31), (1 << 31) - 1) | st.integers(-5000, 5000)))
    pc = draw(st.booleans())
    nc = w.shape[0] if pc else 1
    mult = draw(hnp.arrays(np.int32, nc, elements=st.integers(0, (1 << 31) - 1) | st.integers(1 << 30, (1 << 31) - 1)))
    shift = draw(hnp.arrays(np.int32, nc, elements=st.integers(-31, 30) | st.integers(-12, 2)))
    return dict(x=x, w=w, b=b, mult=mult, shift=shift, per_channel=pc,
                x_offset=draw(st.integers(-127, 128)), y_offset=draw(st.integers(-128, 127)))


@EX
@given(s8_case())
def test_fc_s8_bit_exact(case):
    both("fc_s8", **case)


def _tflite_reference(x, w, b, mult, shift, x_offset, y_offset):
    """An independent scalar transcription of TFLite's reference int8 FullyConnected."""
    out = []
    for o in range(w.shape[0]):
        acc = int(b[o]) + sum((int(x[i]) + x_offset) * int(w[o, i]) for i in range(x.size))
        m, s = int(mult[o]), int(shift[o])
        left, right = max(s, 0), max(-s, 0)
        a = acc * (1 << left)
        ab = a * m
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        hi = int((ab + nudge) / (1 << 31)) if abs(ab + nudge) < 2**52 else (ab + nudge) // (1 << 31)
        if ab + nudge < 0 and (ab + nudge) % (1 << 31):
            hi = -((-(ab + nudge)) // (1 << 31))
        mask = (1 << right) - 1
        rem, thr = hi & mask, (mask >> 1) + (1 if hi < 0 else 0)
        r = (hi >> right) + (1 if rem > thr else 0)
        out.append(min(127, max(-128, r + y_offset)))
    return np.array(out, np.int8)


def test_fc_s8_matches_a_scalar_tflite_transcription():
    rng = np.random.default_rng(7)
    for n_in, n_out in [(1, 1), (3, 5), (17, 9), (64, 3)]:
        x = rng.integers(-128, 128, n_in).astype(np.int8)
        w = rng.integers(-128, 128, (n_out, n_in)).astype(np.int8)
        b = rng.integers(-20000, 20000, n_out).astype(np.int32)
        mult = rng.integers(1 << 30, (1 << 31) - 1, n_out).astype(np.int32)
        shift = rng.integers(-10, 2, n_out).astype(np.int32)
        ref = _tflite_reference(x, w, b, mult, shift, 5, -3)
        same(K.fc_s8(x, w, mult, shift, b, 5, -3, per_channel=True), ref)


def test_fc_s8_extremes_saturate():
    x = np.full(33, -128, np.int8)
    w = np.full((3, 33), -128, np.int8)
    b = np.array([2**31 - 1, -(2**31), 0], np.int32)
    for impl in (K, S):
        y = impl.fc_s8(x, w, [2**31 - 1], [30], b, x_offset=-127, y_offset=127)
        np.testing.assert_array_equal(y, [127, -128, 127])
        y = impl.fc_s8(x, w, [0], [-31], b, x_offset=128, y_offset=-128)
        np.testing.assert_array_equal(y, [-128, -128, -128])


@pytest.mark.parametrize("kw", [dict(x_offset=129), dict(x_offset=-128), dict(y_offset=128),
                                dict(mult=[-1]), dict(shift=[31]), dict(shift=[-32]),
                                dict(mult=[1, 2], shift=[0, 0]), dict(per_channel=2)])
def test_fc_s8_bad_arguments(kw):
    args = dict(x=np.ones(5, np.int8), w=np.ones((3, 5), np.int8), mult=[1 << 30], shift=[0])
    args.update(kw)
    with pytest.raises(ValueError):
        K.fc_s8(**args)
    with pytest.raises(ValueError):
        S.fc_s8(**args)


@pytest.mark.parametrize("name,args", [
    ("fc_q15", (np.ones(4, np.int16), np.ones((2, 4), np.int16), None, 32)),
    ("fc_q15", (np.ones(4, np.int16), np.ones((2, 4), np.int16), None, -1)),
    ("fc_q15", (np.ones(4, np.int16), np.ones((2, 3), np.int16))),
    ("fc_q15", (np.ones(4, np.int16), np.ones((2, 4), np.int16), np.ones(3, np.int32))),
    ("fc_q15", (np.zeros(0, np.int16), np.zeros((2, 0), np.int16))),
    ("fc_spike_q15", (np.array([0, 2, 1], np.uint8), np.ones((2, 3), np.int16))),
    ("fc_spike_q15", (np.ones(3, np.uint8), np.ones((2, 3), np.int16), None, 32)),
    ("fc_f32", (np.ones(3, np.float32), np.ones((2, 4), np.float32))),
    ("quantize_f32_q15", (np.ones(3, np.float32), 0.0)),
    ("quantize_f32_q15", (np.ones(3, np.float32), np.inf)),
    ("quantize_f32_q15", (np.ones(3, np.float32), np.nan)),
    ("dequantize_q15_f32", (np.ones(3, np.int16), -1.0)),
    ("li_step_f32", (np.ones(3, np.float32), np.ones(3, np.float32), 1.5)),
    ("li_step_f32", (np.ones(3, np.float32), np.ones(3, np.float32), [0.5, 0.5])),
    ("li_step_q15", (np.ones(3, np.int16), np.ones(3, np.int16))),
    ("relu_q15", (np.zeros(0, np.int16),)),
    ("argmax_s32", (np.zeros(0, np.int32),)),
    ("spike_count_u16", (np.ones(3, np.uint8), np.ones(2, np.uint16))),
])
def test_bad_arguments_rejected_by_both(name, args):
    with pytest.raises(ValueError):
        getattr(K, name)(*args)
    with pytest.raises(ValueError):
        getattr(S, name)(*args)


def test_li_q15_bad_leaks():
    x = np.ones(3, np.int16)
    for kw in (dict(shift=0), dict(shift=16), dict(decay=40000), dict(decay=1, shift=2), dict(shift=[1, 2])):
        with pytest.raises(ValueError):
            K.li_step_q15(x, x, **kw)
        with pytest.raises(ValueError):
            S.li_step_q15(x, x, **kw)


def test_kernel_error_codes():
    with pytest.raises(K.KernelError) as e:
        K.fc_q15(np.zeros(0, np.int16), np.zeros((3, 0), np.int16))
    assert e.value.status == -2
    with pytest.raises(K.KernelError) as e:
        K.fc_q15(np.ones(2, np.int16), np.ones((3, 2), np.int16), shift=40)
    assert e.value.status == -3
    with pytest.raises(K.KernelError) as e:
        K.fc_s8(np.ones(2, np.int8), np.ones((3, 2), np.int8), [1], [0], per_channel=5)
    assert e.value.status == -4


@EX
@given(hnp.arrays(np.float32, sizes, elements=st.floats(width=32)))
def test_relu_argmax_f32(x):
    both("relu_f32", x)
    assert K.argmax_f32(x) == S.argmax_f32(x)


@EX
@given(hnp.arrays(np.int16, sizes, elements=i16), hnp.arrays(np.int32, sizes, elements=i32))
def test_relu_argmax_int(x, x32):
    both("relu_q15", x)
    assert K.argmax_q15(x) == S.argmax_q15(x) == int(np.argmax(x))
    assert K.argmax_s32(x32) == S.argmax_s32(x32) == int(np.argmax(x32))


def test_argmax_ties_and_nan():
    for impl in (K, S):
        assert impl.argmax_f32(np.array([np.nan, 1, 3, 3], np.float32)) == 2
        assert impl.argmax_f32(np.array([np.nan, np.nan], np.float32)) == 0
        assert impl.argmax_f32(np.array([-0.0, 0.0], np.float32)) == 0
        assert impl.argmax_q15(np.array([5, 7, 7], np.int16)) == 1
        np.testing.assert_array_equal(impl.relu_f32(np.array([np.nan, -0.0, -1, 2], np.float32)), [0, 0, 0, 2])


@st.composite
def li_case(draw):
    n = draw(sizes)
    x = draw(hnp.arrays(np.float32, n, elements=f32))
    y = draw(hnp.arrays(np.float32, n, elements=f32))
    beta = draw(st.one_of(hnp.arrays(np.float32, 1, elements=st.floats(0, 1, width=32)),
                          hnp.arrays(np.float32, n, elements=st.floats(0, 1, width=32))))
    return x, y, beta


@EX
@given(li_case())
def test_li_f32_bit_exact(case):
    both("li_step_f32", *case)


@EX
@given(sizes.flatmap(lambda n: st.tuples(hnp.arrays(np.int16, n, elements=i16),
                                         hnp.arrays(np.int16, n, elements=i16))),
       st.booleans(), st.data())
def test_li_q15_bit_exact(xy, use_decay, data):
    x, y = xy
    n = x.size
    if use_decay:
        kw = dict(decay=data.draw(st.one_of(hnp.arrays(np.uint16, 1, elements=st.integers(0, 32768)),
                                            hnp.arrays(np.uint16, n, elements=st.integers(0, 32768)))))
    else:
        kw = dict(shift=data.draw(st.one_of(hnp.arrays(np.uint8, 1, elements=st.integers(1, 15)),
                                            hnp.arrays(np.uint8, n, elements=st.integers(1, 15)))))
    both("li_step_q15", x, y, **kw)


@EX
@given(hnp.arrays(np.float32, sizes, elements=st.floats(width=32)),
       st.floats(1.0000000031710769e-30, 1.0000000150474662e+30, width=32) | st.sampled_from([1.0, 2.0, 32768.0, 0.5]))
def test_quantize_bit_exact(x, inv_scale):
    q = both("quantize_f32_q15", x, inv_scale)
    both("dequantize_q15_f32", q, inv_scale)


def test_quantize_rounding_edges():
    x = np.array([0.5, -0.5, 1.5, -1.5, 0.49999997, 32767.5, -32768.5, 1e9, -1e9, np.nan, np.inf, -np.inf],
                 np.float32)
    want = [1, -1, 2, -2, 0, 32767, -32768, 32767, -32768, 0, 32767, -32768]
    for impl in (K, S):
        np.testing.assert_array_equal(impl.quantize_f32_q15(x, 1.0), want)


@EX
@given(sizes.flatmap(lambda n: st.tuples(hnp.arrays(np.uint8, n), hnp.arrays(np.uint16, n))))
def test_spike_count_saturates(sc):
    s, c = sc
    r = both("spike_count_u16", s, c)
    np.testing.assert_array_equal(r, np.minimum(c.astype(np.int64) + s, 65535))


def test_fc_q15_extremes():
    x = np.full(64, -32768, np.int16)
    w = np.full((2, 64), -32768, np.int16)
    for impl in (K, S):
        np.testing.assert_array_equal(impl.fc_q15(x, w, [2**31 - 1, -(2**31)], 15), [32767, 32767])
        np.testing.assert_array_equal(impl.fc_q15(x, -w - 1, None, 0), [-32768, -32768])
