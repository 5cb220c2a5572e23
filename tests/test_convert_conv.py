"""The Toeplitz lowering of 1-D convolutions (edgehost.convert.conv): the dense matrix equals a
direct convolution for random shapes, strides, paddings, dilations and groups, in both layouts;
bad parameters and oversize expansions are refused."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from edgehost.convert import conv as C


@st.composite
def convs(draw):
    groups = draw(st.integers(1, 4))
    cin_g = draw(st.integers(1, 3))
    cout_g = draw(st.integers(1, 3))
    k = draw(st.integers(1, 6))
    dil = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 4))
    pad = draw(st.one_of(st.integers(0, 4), st.tuples(st.integers(0, 4), st.integers(0, 4)),
                         st.sampled_from(["valid", "same"])))
    extent = (k - 1) * dil + 1
    if isinstance(pad, str):
        padded = 0 if pad == "valid" else extent
    else:
        padded = 2 * pad if isinstance(pad, int) else sum(pad)
    lo = max(1, extent - padded)        # the shortest input that has an output position
    length = draw(st.integers(lo, lo + 13))
    seed = draw(st.integers(0, 2 ** 31))
    return groups, cin_g * groups, cout_g * groups, k, length, stride, pad, dil, seed


@settings(max_examples=200, deadline=None)
@given(convs())
def test_toeplitz_equals_direct_convolution(p):
    groups, c_in, c_out, k, length, stride, pad, dil, seed = p
    rng = np.random.default_rng(seed)
    s = C.spec((c_out, c_in // groups, k), length, stride, pad, dil, groups)
    w = rng.normal(size=(c_out, c_in // groups, k))
    b = rng.normal(size=c_out)
    x = rng.normal(size=(c_in, length))
    ref = C.conv1d_direct(x, w, s, b)                     # (C_out, L_out)
    assert ref.shape == (c_out, s.l_out)
    m, bd = C.toeplitz(w, s, b, "cl")
    assert m.shape == (c_out * s.l_out, c_in * length)
    np.testing.assert_allclose(m @ x.ravel() + bd, ref.ravel(), rtol=1e-12, atol=1e-12)
    # position-major (NHWC) layout: the same map on the transposed vectors
    m2, bd2 = C.toeplitz(w, s, b, "lc")
    np.testing.assert_allclose(m2 @ x.T.ravel() + bd2, ref.T.ravel(), rtol=1e-12, atol=1e-12)
    # every kernel tap lands at most once per row and the matrix holds nothing else
    nz_per_row = np.count_nonzero(m, axis=1)
    assert nz_per_row.max() <= (c_in // groups) * k
    assert np.count_nonzero(m) <= w.size * s.l_out
    # int8 weights keep their dtype and values exactly
    wq = rng.integers(-127, 128, size=w.shape).astype(np.int8)
    mq, _ = C.toeplitz(wq, s, None, "lc")
    assert mq.dtype == np.int8
    np.testing.assert_array_equal(mq.astype(np.int64) @ x.T.ravel().round().astype(np.int64),
                                  np.round(C.conv1d_direct(x.round(), wq, s).T.ravel()).astype(np.int64))
    np.testing.assert_array_equal(C.per_row(np.arange(c_out), s, "cl"), np.repeat(np.arange(c_out), s.l_out))
    np.testing.assert_array_equal(C.per_row(np.arange(c_out), s, "lc"), np.tile(np.arange(c_out), s.l_out))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 5), st.integers(1, 4))
def test_same_padding_keeps_ceil_length(length, k, stride, dil):
    left, right = C.same_padding(length, k, stride, dil)
    assert 0 <= right - left <= 1
    s = C.spec((1, 1, k), length, stride, "same", dil)
    assert s.l_out == -(-length // stride)


def test_matches_torch_conv1d():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for groups, c_in, c_out, k, length, stride, pad, dil in [(1, 3, 5, 3, 17, 1, 1, 1), (2, 4, 6, 5, 20, 2, 3, 2),
                                                             (4, 4, 8, 3, 9, 3, 0, 1), (1, 1, 2, 1, 5, 1, 0, 1),
                                                             (1, 2, 3, 4, 11, 1, "same", 2)]:
        w = rng.normal(size=(c_out, c_in // groups, k))
        b = rng.normal(size=c_out)
        x = rng.normal(size=(c_in, length))
        s = C.spec(w.shape, length, stride, pad, dil, groups)
        m, bd = C.toeplitz(w, s, b)
        ref = torch.nn.functional.conv1d(torch.tensor(x)[None], torch.tensor(w), torch.tensor(b), stride, pad,
                                         dil, groups)[0].numpy()
        np.testing.assert_allclose(m @ x.ravel() + bd, ref.ravel(), rtol=1e-10, atol=1e-10)


def test_bad_parameters_refused():
    with pytest.raises(C.ConvParamError, match="does not divide C_out"):
        C.spec((3, 1, 2), 8, groups=2)
    with pytest.raises(C.ConvParamError, match="stride 0 < 1"):
        C.spec((2, 1, 2), 8, stride=0)
    with pytest.raises(C.ConvParamError, match="dilation 0 < 1"):
        C.spec((2, 1, 2), 8, dilation=0)
    with pytest.raises(C.ConvParamError, match="padding -1 < 0"):
        C.spec((2, 1, 2), 8, padding=-1)
    with pytest.raises(C.ConvParamError, match="padding 'full'"):
        C.spec((2, 1, 2), 8, padding="full")
    with pytest.raises(C.ConvParamError, match="a 1-D convolution takes one value"):
        C.spec((2, 1, 2), 8, stride=(1, 2))
    with pytest.raises(C.ConvParamError, match="no output position"):
        C.spec((2, 1, 5), 3, dilation=2)
    with pytest.raises(C.ConvParamError, match="expected \\(C_out, C_in / groups, kernel\\)"):
        C.spec((2, 3), 8)
    with pytest.raises(C.ConvParamError, match="not an integer"):
        C.spec((2, 1, 2), 8.5)
    s = C.spec((2, 1, 3), 8)
    with pytest.raises(C.ConvParamError, match="bias has 3 entries"):
        C.toeplitz(np.ones((2, 1, 3)), s, np.ones(3))
    with pytest.raises(C.ConvParamError, match="weight shape"):
        C.toeplitz(np.ones((2, 2, 3)), s)


def test_size_limit_names_the_layer():
    s = C.spec((64, 16, 5), 128)
    assert C.dense_bytes(s, 1) == 64 * 124 * 16 * 128
    with pytest.raises(C.ConvParamError, match=r"conv7: .* dense 7936 x 2048 matrix of 16252928 bytes "
                                               r"\(1 B per weight\), above the limit of 262144 bytes"):
        C.check_size(s, 1, "conv7")
    small = C.spec((4, 2, 3), 10)
    assert C.check_size(small, 4, "c") == 4 * 8 * 2 * 10 * 4
