"""The C 2-D pooling kernels (eh_conv2d.h, "2-D pooling") equal their numpy twins bit for bit
(float32 too: both add in the order ky, kx and divide once); the float32 ones agree with PyTorch's
avg_pool2d / a sum written with torch (to rounding: torch sums in another order); the spike kernels
equal the Q15 ones on 0/1 inputs (sum) and the Q15 fraction of the count (avg); every bad
argument is rejected by both twins, and the C codes are the header's."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import edgehost.kernels as K
import edgehost.sim as S
from edgehost.kernels import KernelError

EX = settings(max_examples=150, deadline=None)
POOLS = ["sumpool2d_f32", "avgpool2d_f32", "sumpool2d_q15", "avgpool2d_q15", "sumpool2d_spike_q15",
         "avgpool2d_spike_q15"]


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype == np.float32:
        np.testing.assert_array_equal(a.view(np.int32), b.view(np.int32))
    else:
        np.testing.assert_array_equal(a, b)


@st.composite
def geometry(draw):
    k_h, k_w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    pad = tuple(draw(st.integers(0, k - 1)) for k in (k_h, k_w, k_h, k_w))
    c = draw(st.integers(1, 4))
    h = draw(st.integers(max(1, k_h - pad[0] - pad[2]), k_h + 11))
    w = draw(st.integers(max(1, k_w - pad[1] - pad[3]), k_w + 11))
    return (c, h, w), (k_h, k_w), stride, pad


def data(name, shape, seed, extreme):
    r = np.random.default_rng(seed)
    if "spike" in name:
        return (r.random(shape) < r.random()).astype(np.uint8)
    if name.endswith("q15"):
        if extreme:
            return r.choice(np.array([-32768, 32767, -1, 0, 1], np.int16), shape)
        return r.integers(-32768, 32768, shape).astype(np.int16)
    x = (r.standard_normal(shape) * 10 ** r.uniform(-3, 3)).astype(np.float32)
    return x


@EX
@given(geometry(), st.sampled_from(POOLS), st.integers(0, 2**32 - 1), st.booleans())
def test_pool2d_bit_exact(geo, name, seed, extreme):
    shape, k, stride, pad = geo
    x = data(name, shape, seed, extreme)
    c = getattr(K, name)(x, k, stride, pad)
    s = getattr(S, name)(x, k, stride, pad)
    same(c, s)
    assert c.shape[1:] == K.pool2d_out_size(*shape, *k, stride, pad) == S.pool2d_out_size(*shape, *k, stride, pad)


@EX
@given(geometry(), st.integers(0, 2**32 - 1))
def test_pool2d_semantics(geo, seed):
    """Against torch (PyTorch's AvgPool2d with count_include_pad, and a sum of the same windows),
    and the spike kernels against the integer ones."""
    shape, k, stride, pad = geo
    r = np.random.default_rng(seed)
    x = r.integers(-300, 300, shape).astype(np.int16)
    st_ = k if stride is None else stride
    # torch pads symmetrically: pad explicitly with zeros
    xp = np.pad(x.astype(np.float64), ((0, 0), (pad[0], pad[2]), (pad[1], pad[3])))
    t = torch.nn.functional.avg_pool2d(torch.tensor(xp)[None], k, st_, 0)[0].numpy()
    ref_sum = np.rint(t * k[0] * k[1]).astype(np.int64)
    np.testing.assert_array_equal(S.sumpool2d_q15(x, k, stride, pad), np.clip(ref_sum, -32768, 32767))
    mean = ref_sum / (k[0] * k[1])
    np.testing.assert_array_equal(K.avgpool2d_q15(x, k, stride, pad), np.floor(mean + 0.5).astype(np.int16))
    xf = x.astype(np.float32) / 7
    ptf = torch.nn.functional.avg_pool2d(torch.tensor(np.pad(xf, ((0, 0), (pad[0], pad[2]), (pad[1], pad[3]))))[None],
                                         k, st_, 0)[0].numpy()
    np.testing.assert_allclose(K.avgpool2d_f32(xf, k, stride, pad), ptf, rtol=1e-5, atol=1e-4)
    s = (r.random(shape) < 0.4).astype(np.uint8)
    cnt = K.sumpool2d_spike_q15(s, k, stride, pad)
    same(cnt, K.sumpool2d_q15(s.astype(np.int16), k, stride, pad))
    frac = K.avgpool2d_spike_q15(s, k, stride, pad)
    want = np.minimum(np.floor(cnt.astype(np.float64) * 32768 / (k[0] * k[1]) + 0.5), 32767).astype(np.int16)
    same(frac, want)


def test_saturation_and_rounding():
    x = np.full((1, 4, 4), 32767, np.int16)
    assert (K.sumpool2d_q15(x, 2) == 32767).all() and (S.sumpool2d_q15(x, 2) == 32767).all()
    assert (K.sumpool2d_q15(-x - 1, 2) == -32768).all()
    assert (K.avgpool2d_q15(x, 2) == 32767).all() and (K.avgpool2d_q15(-x - 1, 2) == -32768).all()
    # half up: mean -0.5 -> 0, 0.5 -> 1, -1.5 -> -1
    for vals, want in (([-1, 0], 0), ([1, 0], 1), ([-2, -1], -1)):
        x = np.array(vals, np.int16).reshape(1, 1, 2)
        assert int(K.avgpool2d_q15(x, (1, 2))[0, 0, 0]) == want == int(S.avgpool2d_q15(x, (1, 2))[0, 0, 0])
    s = np.ones((2, 3, 3), np.uint8)
    assert (K.avgpool2d_spike_q15(s, 3) == 32767).all() and (S.avgpool2d_spike_q15(s, 3) == 32767).all()
    # 1 spike in 3: 32768 / 3 = 10922.67 -> 10923
    s = np.array([[[1, 0, 0]]], np.uint8)
    assert int(K.avgpool2d_spike_q15(s, (1, 3))[0, 0, 0]) == 10923
    # a 300 x 300 window of spikes: counts saturate at 32767
    s = np.ones((1, 300, 300), np.uint8)
    assert int(K.sumpool2d_spike_q15(s, 300)[0, 0, 0]) == 32767 == int(S.sumpool2d_spike_q15(s, 300)[0, 0, 0])
    assert int(K.avgpool2d_spike_q15(s, 300)[0, 0, 0]) == 32767


BAD = [  # (shape, kernel, stride, padding, C status)
    ((1, 4, 4), (0, 2), None, 0, -2),
    ((1, 4, 4), (2, 2), (0, 1), 0, -3),
    ((1, 4, 4), (2, 2), 1, (2, 0, 0, 0), -3),
    ((1, 4, 4), (2, 2), 1, (0, 0, 0, 2), -3),
    ((1, 2, 4), (4, 2), 1, (1, 0, 0, 0), -2),      # padded input 3 rows < 4
    ((1, 4, 4), (2, 70000), 1, 0, -2),
]


@pytest.mark.parametrize("name", POOLS)
@pytest.mark.parametrize("bad", BAD)
def test_bad_arguments_rejected(name, bad):
    shape, k, stride, pad, code = bad
    x = np.zeros(shape, np.uint8 if "spike" in name else np.int16 if "q15" in name else np.float32)
    with pytest.raises(KernelError) as e:
        getattr(K, name)(x, k, stride, pad)
    assert e.value.status == code
    with pytest.raises(ValueError):
        getattr(S, name)(x, k, stride, pad)


@pytest.mark.parametrize("name", ["sumpool2d_spike_q15", "avgpool2d_spike_q15"])
def test_non_spikes_rejected(name):
    s = np.zeros((2, 3, 5), np.uint8)
    s[1, 2, 4] = 2
    with pytest.raises(KernelError) as e:
        getattr(K, name)(s, 2)
    assert e.value.status == -3
    with pytest.raises(ValueError, match="0 or 1"):
        getattr(S, name)(s, 2)


def test_bad_padding_forms():
    for mod in (K, S):
        with pytest.raises(ValueError, match="padding"):
            mod.sumpool2d_q15(np.zeros((1, 4, 4), np.int16), 2, 2, "same")
        with pytest.raises(ValueError):
            mod.sumpool2d_q15(np.zeros((4, 4), np.int16), 2)
