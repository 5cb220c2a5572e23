"""Binary (XNOR/popcount) Conv2d: the C kernels (eh_conv2d_b1_s32 / _bits) equal their numpy twins
bit for bit over random geometries (strides, asymmetric padding, dilation, channel counts not
multiple of 32, garbage in the padding bits, both pad values); the twin equals
torch.nn.functional.conv2d on the +-1 values (zero padding, or +1 padding with F.pad); batch norm
then sign folds into thresholds and weight flips exactly; every bad argument is rejected by both."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import edgehost.kernels as K
import edgehost.sim as S

EX = settings(max_examples=100, deadline=None)


def both(name, *args, **kw):
    try:
        c = getattr(K, name)(*args, **kw)
    except ValueError:
        with pytest.raises(ValueError):
            getattr(S, name)(*args, **kw)
        return None
    s = getattr(S, name)(*args, **kw)
    assert c.dtype == s.dtype and c.shape == s.shape
    np.testing.assert_array_equal(c, s)
    return c


@st.composite
def layer(draw):
    c_in = draw(st.sampled_from([1, 3, 31, 32, 33, 64, 65, 96, 128]))
    c_out = draw(st.sampled_from([1, 2, 5, 31, 32, 33, 64, 70]))
    k_h, k_w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    span_h, span_w = dh * (k_h - 1) + 1, dw * (k_w - 1) + 1
    pad = tuple(draw(st.integers(0, s - 1)) for s in (span_h, span_w, span_h, span_w))
    h = draw(st.integers(max(1, span_h - pad[0] - pad[2]), span_h + 6))
    w = draw(st.integers(max(1, span_w - pad[1] - pad[3]), span_w + 6))
    return c_in, c_out, (h, w), (k_h, k_w), dict(stride=(sh, sw), padding=pad, dilation=(dh, dw),
                                                pad_value=draw(st.sampled_from([0, 1])))


def make(c_in, c_out, hw, kk, seed, garbage=True):
    r = np.random.default_rng(seed)
    xv = r.choice(np.array([-1, 1], np.int8), (c_in,) + hw)
    wv = r.choice(np.array([-1, 1], np.int8), (c_out, c_in) + kk)
    x, w = S.conv2d_b1_pack_input(xv), S.conv2d_b1_pack_weights(wv)
    if garbage and c_in % 32:  # padding bits must not matter, in x nor in w
        junk_x = r.integers(0, 2**32, x.shape[:-1], dtype=np.uint64).astype(np.uint32)
        junk_w = r.integers(0, 2**32, w.shape[:-1], dtype=np.uint64).astype(np.uint32)
        mask = np.uint32((0xFFFFFFFF << (c_in % 32)) & 0xFFFFFFFF)
        x[..., -1] |= junk_x & mask
        w[..., -1] |= junk_w & mask
    return xv, wv, x, w


@EX
@given(layer(), st.integers(0, 2**32 - 1))
def test_conv2d_b1_s32_bit_exact_and_equals_torch(lay, seed):
    c_in, c_out, hw, kk, kw = lay
    xv, wv, x, w = make(c_in, c_out, hw, kk, seed)
    y = both("conv2d_b1_s32", c_in, x, w, **kw)
    assert y is not None
    torch = pytest.importorskip("torch")
    pt, pl, pb, pr = kw["padding"]
    xt = torch.nn.functional.pad(torch.from_numpy(xv.astype(np.float64))[None], (pl, pr, pt, pb),
                                 value=float(kw["pad_value"]))
    t = torch.nn.functional.conv2d(xt, torch.from_numpy(wv.astype(np.float64)), stride=kw["stride"],
                                   dilation=kw["dilation"])[0]
    np.testing.assert_array_equal(t.numpy().astype(np.int64), y)


@EX
@given(layer(), st.integers(0, 2**32 - 1), st.sampled_from(["random", "edges"]))
def test_conv2d_b1_bits_bit_exact(lay, seed, kind):
    c_in, c_out, hw, kk, kw = lay
    _xv, _wv, x, w = make(c_in, c_out, hw, kk, seed)
    n = kk[0] * kk[1] * c_in
    r = np.random.default_rng(seed + 1)
    if kind == "edges":
        thr = r.choice(np.array([-n, -n + 1, 0, 1, n, n + 1]), c_out)
    else:
        thr = r.integers(-n, n + 2, c_out)
    y = both("conv2d_b1_bits", c_in, x, w, thr, **kw)
    assert y is not None
    dot = S.conv2d_b1_s32(c_in, x, w, **kw)
    bits = S.unpack_bits(y, c_out) < 0                      # (h_out, w_out, c_out)
    np.testing.assert_array_equal(bits, np.moveaxis(dot < thr[:, None, None], 0, -1))
    if c_out % 32:
        assert not np.any(y[..., -1] >> np.uint32(c_out % 32))  # padding bits 0
    if kind == "edges":
        assert not bits[..., thr == -n].any() and bits[..., thr == n + 1].all()


def test_bench_shape_and_odd_tails():
    """The benchmark's layer (3x3, 64 -> 64, same padding) and channel tails around 32."""
    for c_in, c_out in ((64, 64), (63, 65), (1, 1), (95, 33)):
        for pv in (0, 1):
            _xv, _wv, x, w = make(c_in, c_out, (9, 11), (3, 3), c_in * 7 + pv)
            y = both("conv2d_b1_s32", c_in, x, w, padding=1, pad_value=pv)
            assert y.shape == (c_out, 9, 11)
            # a corner output with zero padding sums only 4 taps: |dot| <= 4 * c_in
            if pv == 0:
                assert abs(int(y[0, 0, 0])) <= 4 * c_in


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0, 1]), st.sampled_from([5, 32, 40]))
def test_fold_bn_sign(seed, pv, c_in):
    """bits(conv2d_b1_bits(folded)) == (batch norm of the float dot < 0), channel by channel."""
    r = np.random.default_rng(seed)
    c_out = 37
    _xv, _wv, x, w = make(c_in, c_out, (6, 7), (3, 3), seed)
    gamma = r.standard_normal(c_out)
    gamma[:3] = 0.0
    beta = r.standard_normal(c_out) * 5
    mean = r.standard_normal(c_out) * 20
    var = r.random(c_out) * 4
    wf, thr = S.conv2d_b1_fold_bn_sign(w, c_in, gamma, beta, mean, var)
    y = both("conv2d_b1_bits", c_in, x, wf, thr, padding=1, pad_value=pv)
    dot = S.conv2d_b1_s32(c_in, x, w, padding=1, pad_value=pv).astype(np.float64)
    bn = gamma[:, None, None] * (dot - mean[:, None, None]) / np.sqrt(var + 1e-3)[:, None, None] + beta[:, None, None]
    np.testing.assert_array_equal(S.unpack_bits(y, c_out) < 0, np.moveaxis(bn < 0, 0, -1))


GOOD = dict(c_in=40, x=np.zeros((5, 6, 2), np.uint32), w=np.zeros((3, 3, 3, 2), np.uint32))


@pytest.mark.parametrize("bad", [
    dict(c_in=0), dict(c_in=70), dict(x=np.zeros((5, 6), np.uint32)), dict(x=np.zeros((0, 6, 2), np.uint32)),
    dict(w=np.zeros((3, 3, 3, 1), np.uint32)), dict(x=np.full((5, 6, 2), -1)), dict(stride=0),
    dict(dilation=0), dict(padding=3), dict(padding=(0, 0, 0, 3)), dict(pad_value=2), dict(pad_value=-1),
    dict(x=np.zeros((1, 1, 2), np.uint32)), dict(w=np.zeros((3, 3, 3, 2), np.float32)),
    dict(c_in=40 * 3000, x=np.zeros((2, 2, 3750), np.uint32), w=np.zeros((1, 2, 2, 3750), np.uint32)),
])
@pytest.mark.parametrize("name", ["conv2d_b1_s32", "conv2d_b1_bits"])
def test_bad_arguments_rejected(name, bad):
    a = {**GOOD, **bad}
    args = [a.pop("c_in"), a.pop("x"), a.pop("w")]
    if name == "conv2d_b1_bits":
        args.append(np.zeros(args[2].shape[0] if np.asarray(args[2]).ndim == 4 else 1, np.int32))
    for mod in (K, S):
        with pytest.raises(ValueError):
            getattr(mod, name)(*args, **a)


@pytest.mark.parametrize("thr", [[0, 0], [0, 0, 0, 0], [362, 0, 0], [-361, 0, 0], [0.5, 0, 0]])
def test_bad_thresholds_rejected(thr):
    for mod in (K, S):
        with pytest.raises(ValueError):
            mod.conv2d_b1_bits(40, GOOD["x"], GOOD["w"], np.asarray(thr))
    # the limits themselves are accepted: N = 3 * 3 * 40 = 360
    both("conv2d_b1_bits", 40, GOOD["x"], GOOD["w"], np.array([-360, 361, 0]))


def test_kernel_error_codes():
    """The C codes: range for pad_value, size for N over 2^24."""
    with pytest.raises(K.KernelError) as e:
        K.conv2d_b1_s32(40, GOOD["x"], GOOD["w"], pad_value=2)
    assert e.value.status == -3
    with pytest.raises(K.KernelError) as e:
        K.conv2d_b1_s32(40 * 3000, np.zeros((2, 2, 3750), np.uint32), np.zeros((1, 2, 2, 3750), np.uint32))
    assert e.value.status == -2
