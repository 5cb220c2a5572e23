"""Event-driven Conv2d with saturating 16-bit currents (eh_conv2d_spike_sat_q15, the arithmetic the
Cortex-M4 QADD16 path runs): the C kernel equals its numpy twin bit for bit over random geometries
(strides, asymmetric padding, dilation, groups, depthwise, odd channel counts) with weights large
enough to saturate in the middle of the sums (where the order of the spikes matters); without
saturation it equals eh_conv2d_spike_q15 at shift 0; bad arguments are rejected by both."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import edgehost.kernels as K
import edgehost.sim as S

EX = settings(max_examples=120, deadline=None)


@st.composite
def geometry(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    depthwise = draw(st.booleans())
    cg = 1 if depthwise else draw(st.integers(1, 3))
    og = 1 if depthwise else draw(st.integers(1, 5))
    k_h, k_w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    span_h, span_w = dh * (k_h - 1) + 1, dw * (k_w - 1) + 1
    pad = tuple(draw(st.integers(0, s - 1)) for s in (span_h, span_w, span_h, span_w))
    h = draw(st.integers(max(1, span_h - pad[0] - pad[2]), span_h + 9))
    w = draw(st.integers(max(1, span_w - pad[1] - pad[3]), span_w + 9))
    kw = dict(stride=(sh, sw), padding=pad, dilation=(dh, dw), groups=groups)
    return (cg * groups, h, w), (og * groups, cg, k_h, k_w), kw


@EX
@given(geometry(), st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([0.05, 0.3, 0.9]),
       st.sampled_from(["full", "small", "saturating"]))
def test_bit_exact_with_twin(geo, seed, bias, rate, kind):
    xs, ws, kw = geo
    r = np.random.default_rng(seed)
    s = (r.random(xs) < rate).astype(np.uint8)
    if kind == "full":
        w = r.integers(-32768, 32768, ws).astype(np.int16)
    elif kind == "small":
        w = r.integers(-300, 301, ws).astype(np.int16)
    else:  # same-sign heavy weights: saturates on the way, then comes back with negative ones
        w = (r.integers(9000, 32768, ws) * r.choice([-1, 1, 1], ws)).astype(np.int16)
    b = r.integers(-32768, 32768, ws[0]).astype(np.int16) if bias else None
    wt = S.conv2d_spike_sat_weights(w, kw["groups"])
    y = K.conv2d_spike_sat_q15(s, wt, b, **kw)
    np.testing.assert_array_equal(y, S.conv2d_spike_sat_q15(s, wt, b, **kw))
    assert y.dtype == np.int16 and y.shape[0] == ws[0]
    if kind == "small" and (b is None or np.all(np.abs(b.astype(np.int32)) <= 1000)):
        # no current can leave int16: the exact (int32) kernel at shift 0 gives the same
        ref = K.conv2d_spike_q15(s, w, None if b is None else b.astype(np.int32), 0, **kw)
        np.testing.assert_array_equal(y, ref)


def test_order_of_spikes_is_the_documented_one():
    """Three spikes (channels 0, 1, 2) reaching one output with weights +30000, +30000, -30000: in
    the documented order the current saturates at 32767 and ends at 2767; the exact sum is 30000."""
    s = np.zeros((3, 1, 1), np.uint8)
    s[:] = 1
    w = np.array([[[[30000]], [[30000]], [[-30000]]]], np.int16)  # (1, 3, 1, 1)
    wt = S.conv2d_spike_sat_weights(w)
    for mod in (K, S):
        np.testing.assert_array_equal(mod.conv2d_spike_sat_q15(s, wt), [[[2767]]])
    # the exact kernel sums to 30000
    np.testing.assert_array_equal(K.conv2d_spike_q15(s, w), [[[30000]]])


def test_weights_layout():
    r = np.random.default_rng(3)
    w = r.integers(-9, 9, (6, 2, 3, 4)).astype(np.int16)
    wt = S.conv2d_spike_sat_weights(w, groups=2)
    assert wt.shape == (4, 3, 4, 3)
    for ci in range(4):
        g, j = divmod(ci, 2)
        for o in range(3):
            np.testing.assert_array_equal(wt[ci, :, :, o], w[g * 3 + o, j])


GOOD = dict(s=np.zeros((2, 5, 6), np.uint8), wt=np.zeros((2, 3, 3, 4), np.int16))


@pytest.mark.parametrize("bad", [
    dict(s=np.full((2, 5, 6), 2, np.uint8)), dict(s=np.zeros((2, 5), np.uint8)),
    dict(wt=np.zeros((3, 3, 3, 4), np.int16)), dict(stride=0), dict(dilation=0), dict(padding=3),
    dict(groups=0), dict(groups=4), dict(b=np.zeros(3, np.int16)), dict(b=np.full(4, 40000)),
    dict(s=np.zeros((2, 1, 1), np.uint8)), dict(wt=np.full((2, 3, 3, 4), 40000)),
])
def test_bad_arguments_rejected(bad):
    a = {**GOOD, **bad}
    for mod in (K, S):
        with pytest.raises(ValueError):
            mod.conv2d_spike_sat_q15(**a)


def test_kernel_error_code_for_non_spikes():
    with pytest.raises(K.KernelError) as e:
        K.conv2d_spike_sat_q15(np.full((2, 5, 6), 3, np.uint8), GOOD["wt"])
    assert e.value.status == -3
