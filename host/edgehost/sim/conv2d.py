"""2-D convolution (kernels_c/include/eh_conv2d.h), numpy reference written from the header.

Tensors are channel-major as PyTorch and NIR store them: x (c_in, h_in, w_in), weights
(c_out, c_in / groups, k_h, k_w), output (c_out, h_out, w_out), bias (c_out,) or None.
stride and dilation: an int or (h, w). padding: an int, (h, w) (the same on both sides),
(top, left, bottom, right), "valid" (0) or "same" (stride 1 only: dilation * (k - 1) in total,
the smaller half before, as PyTorch does).
"""
from __future__ import annotations

import numpy as np

MAX_DIM = 65535
MAX_ELEMS = 1 << 28


def _ints(name, v, n):
    t = tuple(v) if isinstance(v, (tuple, list, np.ndarray)) else (v,) * n
    if len(t) != n:
        raise ValueError(f"{name} must be an int or {n} ints")
    out = []
    for a in t:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise ValueError(f"{name} must hold integers, got {a!r}")
        out.append(int(a))
    return tuple(out)


def conv2d_padding(padding, k_h, k_w, stride=1, dilation=1):
    """(top, left, bottom, right) from an int, (h, w), (top, left, bottom, right), "valid" or
    "same" (stride 1 only)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if _ints("stride", stride, 2) != (1, 1):
                raise ValueError("padding='same' needs stride 1")
            dh, dw = _ints("dilation", dilation, 2)
            th, tw = dh * (int(k_h) - 1), dw * (int(k_w) - 1)
            if th < 0 or tw < 0:
                raise ValueError("padding='same' needs kernel sizes >= 1 and dilation >= 1")
            return (th // 2, tw // 2, th - th // 2, tw - tw // 2)
        raise ValueError(f"padding must be 'valid', 'same' or integers, got {padding!r}")
    if isinstance(padding, (tuple, list, np.ndarray)) and len(padding) == 4:
        t = _ints("padding", padding, 4)
    else:
        ph, pw = _ints("padding", padding, 2)
        t = (ph, pw, ph, pw)
    return t


def conv2d_out_size(c_in, h_in, w_in, c_out, k_h, k_w, stride=1, padding=0, dilation=1, groups=1):
    """(h_out, w_out) after the header's checks, in its order; ValueError for what C rejects."""
    M = MAX_DIM
    dims = [int(v) for v in (c_in, h_in, w_in, c_out, k_h, k_w)]
    sh, sw = _ints("stride", stride, 2)
    dh, dw = _ints("dilation", dilation, 2)
    g = _ints("groups", groups, 1)[0]
    if any(v < 1 or v > M for v in dims):
        raise ValueError(f"sizes must lie in [1, {M}], got {dims}")
    c_in, h_in, w_in, c_out, k_h, k_w = dims
    if any(v < 1 or v > M for v in (sh, sw, dh, dw)):
        raise ValueError(f"stride and dilation must lie in [1, {M}]")
    span_h, span_w = dh * (k_h - 1) + 1, dw * (k_w - 1) + 1
    if span_h > M or span_w > M:
        raise ValueError(f"dilation * (k - 1) + 1 must be at most {M}")
    if g < 1:
        raise ValueError("groups must be >= 1")
    if c_in % g or c_out % g:
        raise ValueError(f"groups {g} must divide c_in {c_in} and c_out {c_out}")
    pt, pl, pb, pr = conv2d_padding(padding, k_h, k_w, (sh, sw), (dh, dw))
    if not (0 <= pt < span_h and 0 <= pb < span_h and 0 <= pl < span_w and 0 <= pr < span_w):
        raise ValueError("each padding must lie in [0, dilation * (k - 1)]")
    eh, ew = h_in + pt + pb, w_in + pl + pr
    if eh < span_h or ew < span_w:
        raise ValueError("the padded input is smaller than the kernel")
    h_out, w_out = (eh - span_h) // sh + 1, (ew - span_w) // sw + 1
    if (c_in * h_in * w_in > MAX_ELEMS or c_out * h_out * w_out > MAX_ELEMS
            or c_out * (c_in // g) * k_h * k_w > MAX_ELEMS):
        raise ValueError(f"a tensor has more than {MAX_ELEMS} elements")
    return h_out, w_out


def _tensor(name, a, dtype, ndim):
    v = np.asarray(a)
    if v.ndim != ndim or v.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {v.shape}")
    if v.dtype != dtype:
        if np.issubdtype(np.dtype(dtype), np.integer):
            info = np.iinfo(dtype)
            if v.dtype.kind not in "iub" or v.min() < info.min or v.max() > info.max:
                raise ValueError(f"{name} must hold {np.dtype(dtype).name} values")
        v = v.astype(dtype)
    return v


def _setup(x, w, b, stride, padding, dilation, groups, dtype, bdtype):
    x = _tensor("x", x, dtype, 3)
    w = _tensor("w", w, dtype, 4)
    g = _ints("groups", groups, 1)[0]
    c_in = x.shape[0]
    if g >= 1 and w.shape[1] * g != c_in:
        raise ValueError(f"w has {w.shape[1]} input channels per group, x {c_in} channels for {g} groups")
    h_out, w_out = conv2d_out_size(c_in, x.shape[1], x.shape[2], w.shape[0], w.shape[2], w.shape[3],
                                   stride, padding, dilation, g)
    if b is not None:
        b = np.asarray(b)
        if b.ndim != 1 or b.size != w.shape[0]:
            raise ValueError(f"bias must have {w.shape[0]} entries")
        b = _tensor("b", b, bdtype, 1)
    geo = dict(s=_ints("stride", stride, 2), d=_ints("dilation", dilation, 2),
               p=conv2d_padding(padding, w.shape[2], w.shape[3], stride, dilation), g=g,
               out=(h_out, w_out))
    return x, w, b, geo


def _taps(x, w, geo):
    """For each group, its output channels and, in the order ky, kx, the (cg, h_out, w_out)
    inputs each tap reads and the mask of those inside the input."""
    (sh, sw), (dh, dw), (pt, pl, pb, pr), g, (ho, wo) = geo["s"], geo["d"], geo["p"], geo["g"], geo["out"]
    c_in, h, wd = x.shape
    xp = np.zeros((c_in, h + pt + pb, wd + pl + pr), x.dtype)
    xp[:, pt:pt + h, pl:pl + wd] = x
    mp = np.zeros((h + pt + pb, wd + pl + pr), bool)
    mp[pt:pt + h, pl:pl + wd] = True
    cg, og = c_in // g, w.shape[0] // g
    for grp in range(g):
        taps = []
        for ky in range(w.shape[2]):
            for kx in range(w.shape[3]):
                ys = slice(ky * dh, ky * dh + (ho - 1) * sh + 1, sh)
                xs = slice(kx * dw, kx * dw + (wo - 1) * sw + 1, sw)
                taps.append((ky, kx, xp[grp * cg:(grp + 1) * cg, ys, xs], mp[ys, xs]))
        yield slice(grp * og, (grp + 1) * og), taps


def conv2d_f32(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """float32: per output, acc = acc + w * x over the taps inside the input in the order j, ky, kx
    (each product and sum rounded to float32), then + bias."""
    x, w, b, geo = _setup(x, w, b, stride, padding, dilation, groups, np.float32, np.float32)
    ho, wo = geo["out"]
    y = np.zeros((w.shape[0], ho, wo), np.float32)
    for osl, taps in _taps(x, w, geo):
        acc = np.zeros((osl.stop - osl.start, ho, wo), np.float32)
        for j in range(w.shape[1]):
            for ky, kx, xs, m in taps:
                p = w[osl, j, ky, kx][:, None, None] * xs[j][None]
                acc = np.where(m[None], acc + p, acc).astype(np.float32)
        y[osl] = acc
    if b is not None:
        y = (y + b[:, None, None]).astype(np.float32)
    return y


def _sum_q15(x, w, b, geo):
    ho, wo = geo["out"]
    acc = np.zeros((w.shape[0], ho, wo), np.int64)
    w64 = w.astype(np.int64)
    for osl, taps in _taps(x.astype(np.int64), w, geo):
        for ky, kx, xs, _m in taps:  # padding reads 0: exact integer sums need no mask
            acc[osl] += np.tensordot(w64[osl, :, ky, kx], xs, axes=(1, 0))
    if b is not None:
        acc += b.astype(np.int64)[:, None, None]
    return acc


def _out_q15(acc, shift):
    s = _ints("shift", shift, 1)[0]
    if s < 0 or s > 31:
        raise ValueError("shift must lie in [0, 31]")
    if s:
        acc = (acc + (1 << (s - 1))) >> s
    return np.clip(acc, -32768, 32767).astype(np.int16)


def conv2d_q15(x, w, b=None, shift=0, stride=1, padding=0, dilation=1, groups=1):
    """Q15: sat16(rshift(b + exact sum of w * x over the taps inside the input, shift))."""
    x, w, b, geo = _setup(x, w, b, stride, padding, dilation, groups, np.int16, np.int32)
    _out_q15(np.zeros(1, np.int64), shift)  # the shift is checked before the sum
    return _out_q15(_sum_q15(x, w, b, geo), shift)


def conv2d_spike_q15(s, w, b=None, shift=0, stride=1, padding=0, dilation=1, groups=1):
    """Event-driven Q15 on spikes (0/1): exactly conv2d_q15 on x = s."""
    s8 = _tensor("s", s, np.uint8, 3)
    w16 = _tensor("w", w, np.int16, 4)
    x, w, b, geo = _setup(s8.astype(np.int16), w16, b, stride, padding, dilation, groups, np.int16, np.int32)
    _out_q15(np.zeros(1, np.int64), shift)
    if s8.max() > 1:
        raise ValueError("s must hold 0 or 1")
    return _out_q15(_sum_q15(x, w, b, geo), shift)


# -- 2-D pooling (eh_conv2d.h, "2-D pooling") ------------------------------------------------------

def pool2d_padding(padding):
    """(top, left, bottom, right) from an int, (h, w) (both sides) or 4 ints."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        raise ValueError(f"pooling padding must be 'valid' or integers, got {padding!r}")
    if isinstance(padding, (tuple, list, np.ndarray)) and len(padding) == 4:
        return _ints("padding", padding, 4)
    ph, pw = _ints("padding", padding, 2)
    return (ph, pw, ph, pw)


def pool2d_out_size(c, h_in, w_in, k_h, k_w, stride=None, padding=0):
    """(h_out, w_out) after the header's checks, in its order (stride None: the kernel size)."""
    M = MAX_DIM
    dims = [int(v) for v in (c, h_in, w_in, k_h, k_w)]
    if any(v < 1 or v > M for v in dims):
        raise ValueError(f"sizes must lie in [1, {M}], got {dims}")
    c, h_in, w_in, k_h, k_w = dims
    sh, sw = _ints("stride", (k_h, k_w) if stride is None else stride, 2)
    if any(v < 1 or v > M for v in (sh, sw)):
        raise ValueError(f"stride must lie in [1, {M}]")
    pt, pl, pb, pr = pool2d_padding(padding)
    if not (0 <= pt < k_h and 0 <= pb < k_h and 0 <= pl < k_w and 0 <= pr < k_w):
        raise ValueError("each padding must lie in [0, k - 1]")
    eh, ew = h_in + pt + pb, w_in + pl + pr
    if eh < k_h or ew < k_w:
        raise ValueError("the padded input is smaller than the window")
    h_out, w_out = (eh - k_h) // sh + 1, (ew - k_w) // sw + 1
    if c * h_in * w_in > MAX_ELEMS or c * h_out * w_out > MAX_ELEMS or k_h * k_w > MAX_ELEMS:
        raise ValueError(f"a tensor has more than {MAX_ELEMS} elements")
    return h_out, w_out


def _pool_setup(x, kernel, stride, padding, dtype, name="x"):
    x = _tensor(name, x, dtype, 3)
    k_h, k_w = _ints("kernel", kernel, 2)
    h_out, w_out = pool2d_out_size(x.shape[0], x.shape[1], x.shape[2], k_h, k_w, stride, padding)
    sh, sw = _ints("stride", (k_h, k_w) if stride is None else stride, 2)
    return x, (k_h, k_w), (sh, sw), pool2d_padding(padding), (h_out, w_out)


def _windows(x, k, s, p, out):
    """The window taps in the order ky, kx: (tap values (c, h_out, w_out), mask of those inside)."""
    (kh, kw), (sh, sw), (pt, pl, pb, pr), (ho, wo) = k, s, p, out
    c, h, w = x.shape
    xp = np.zeros((c, h + pt + pb, w + pl + pr), x.dtype)
    xp[:, pt:pt + h, pl:pl + w] = x
    mp = np.zeros((h + pt + pb, w + pl + pr), bool)
    mp[pt:pt + h, pl:pl + w] = True
    for ky in range(kh):
        for kx in range(kw):
            ys = slice(ky, ky + (ho - 1) * sh + 1, sh)
            xs = slice(kx, kx + (wo - 1) * sw + 1, sw)
            yield xp[:, ys, xs], mp[ys, xs]


def _sum_f32(x, k, s, p, out):
    acc = np.zeros((x.shape[0],) + out, np.float32)
    for v, m in _windows(x, k, s, p, out):
        acc = np.where(m[None], (acc + v).astype(np.float32), acc).astype(np.float32)
    return acc


def _sum_int(x, k, s, p, out):
    acc = np.zeros((x.shape[0],) + out, np.int64)
    for v, _m in _windows(x.astype(np.int64), k, s, p, out):
        acc += v
    return acc


def _round_div(a, n):
    """floor((2 a + n) / (2 n)): a / n rounded half up."""
    return (2 * a + n) // (2 * n)


def _sat16(a):
    return np.clip(a, -32768, 32767).astype(np.int16)


def sumpool2d_f32(x, kernel, stride=None, padding=0):
    """float32 window sums, each add rounded, in the order ky, kx (padding skipped)."""
    x, k, s, p, out = _pool_setup(x, kernel, stride, padding, np.float32)
    return _sum_f32(x, k, s, p, out)


def avgpool2d_f32(x, kernel, stride=None, padding=0):
    """sumpool2d_f32 then one float32 division by k_h * k_w."""
    x, k, s, p, out = _pool_setup(x, kernel, stride, padding, np.float32)
    return (_sum_f32(x, k, s, p, out) / np.float32(k[0] * k[1])).astype(np.float32)


def sumpool2d_q15(x, kernel, stride=None, padding=0):
    """sat16(exact window sum)."""
    x, k, s, p, out = _pool_setup(x, kernel, stride, padding, np.int16)
    return _sat16(_sum_int(x, k, s, p, out))


def avgpool2d_q15(x, kernel, stride=None, padding=0):
    """sat16(the window mean rounded half up)."""
    x, k, s, p, out = _pool_setup(x, kernel, stride, padding, np.int16)
    return _sat16(_round_div(_sum_int(x, k, s, p, out), k[0] * k[1]))


def _spikes(s, kernel, stride, padding):
    s, k, st, p, out = _pool_setup(s, kernel, stride, padding, np.uint8, "s")
    if s.max() > 1:
        raise ValueError("s must hold 0 or 1")
    return _sum_int(s, k, st, p, out), k[0] * k[1]


def sumpool2d_spike_q15(s, kernel, stride=None, padding=0):
    """sat16(count of spikes in the window)."""
    cnt, _n = _spikes(s, kernel, stride, padding)
    return _sat16(cnt)


def avgpool2d_spike_q15(s, kernel, stride=None, padding=0):
    """The fraction count / n in Q15, rounded half up, saturated to 32767."""
    cnt, n = _spikes(s, kernel, stride, padding)
    return _sat16(_round_div(cnt * 32768, n))


# -- int8, channel-last (TFLite's NHWC): eh_conv2d_s8, eh_maxpool2d_s8, eh_avgpool2d_s8 ---------------

S8_MAX_ROW = 65536


def _s8_array(name, a, ndim):
    a = np.asarray(a)
    if a.ndim != ndim or 0 in a.shape:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {a.shape}")
    if a.dtype != np.int8:
        if a.dtype.kind not in "iu" or a.size and (a.min() < -128 or a.max() > 127):
            raise ValueError(f"{name} must hold int8 values")
        a = a.astype(np.int8)
    return a


def conv2d_s8(x, w, mult, shift, b=None, x_offset=0, y_offset=0, act_min=-128, act_max=127, stride=1, padding=0,
              dilation=1, groups=1, per_channel=None):
    """int8 2-D convolution, channel-last (eh_conv2d_s8): x [h_in, w_in, c_in], w [c_out, k_h, k_w,
    c_in / groups] -> y [h_out, w_out, c_out]. Padded taps are skipped (TFLite pads with the input
    zero point); requantisation exactly eh_fc_s8's (edgehost.sim.basic.requantize_s32). mult/shift:
    1 or c_out entries (per_channel None: per channel when c_out > 1 entries are given)."""
    from .basic import I32_MAX, I32_MIN, requantize_s32, s8_quant_args
    x = _s8_array("x", x, 3)
    w = _s8_array("w", w, 4)
    h_in, w_in, c_in = x.shape
    c_out, k_h, k_w, cg_w = w.shape
    g = _ints("groups", groups, 1)[0]
    pt, pl, pb, pr = conv2d_padding(padding, k_h, k_w, stride, dilation)
    h_out, w_out = conv2d_out_size(c_in, h_in, w_in, c_out, k_h, k_w, stride, (pt, pl, pb, pr), dilation, g)
    cg, og = c_in // g, c_out // g
    if cg_w != cg:
        raise ValueError(f"w must be [c_out, k_h, k_w, c_in / groups = {cg}], got {w.shape}")
    if cg * k_h * k_w > S8_MAX_ROW:
        raise ValueError(f"(c_in / groups) k_h k_w = {cg * k_h * k_w} exceeds {S8_MAX_ROW}")
    m, sh = s8_quant_args(mult, shift, per_channel, c_out, x_offset, y_offset, act_min, act_max)
    if b is None:
        bb = np.zeros(c_out, np.int64)
    else:
        bb = np.asarray(b).ravel()
        if bb.size != c_out or bb.dtype.kind not in "iu":
            raise ValueError(f"b must hold {c_out} integers")
        bb = bb.astype(np.int64)
    sh_, sw_ = _ints("stride", stride, 2)
    dh, dw = _ints("dilation", dilation, 2)
    # (x + x_offset) padded with zeros: a padded tap adds nothing, exactly as skipping it
    xo = np.zeros((pt + h_in + pb, pl + w_in + pr, c_in), np.int64)
    xo[pt:pt + h_in, pl:pl + w_in] = x.astype(np.int64) + int(x_offset)
    acc = np.zeros((h_out, w_out, g, og), np.int64)
    wg = w.astype(np.int64).reshape(g, og, k_h, k_w, cg)
    for ky in range(k_h):
        for kx in range(k_w):
            patch = xo[ky * dh:ky * dh + (h_out - 1) * sh_ + 1:sh_, kx * dw:kx * dw + (w_out - 1) * sw_ + 1:sw_]
            acc += np.einsum("hwgc,goc->hwgo", patch.reshape(h_out, w_out, g, cg), wg[:, :, ky, kx, :])
    acc = acc.reshape(h_out, w_out, c_out)
    if b is not None:
        acc = np.clip(acc + bb, I32_MIN, I32_MAX)
    acc = requantize_s32(acc, np.broadcast_to(m, (c_out,)), np.broadcast_to(sh, (c_out,)))
    y = np.clip(np.clip(acc + int(y_offset), I32_MIN, I32_MAX), -128, 127)
    return np.clip(y, int(act_min), int(act_max)).astype(np.int8)


def _pool_s8(x, kernel, stride, padding, act_min, act_max):
    x = _s8_array("x", x, 3)
    h_in, w_in, c = x.shape
    k_h, k_w = _ints("kernel", kernel, 2)
    st = (k_h, k_w) if stride is None else _ints("stride", stride, 2)
    pad = pool2d_padding(padding)
    h_out, w_out = pool2d_out_size(c, h_in, w_in, k_h, k_w, st, pad)
    if not -128 <= int(act_min) <= 127 or not int(act_min) <= int(act_max) <= 127:
        raise ValueError("need -128 <= act_min <= act_max <= 127")
    for oy in range(h_out):
        y0 = oy * st[0] - pad[0]
        ys = slice(max(y0, 0), min(y0 + k_h, h_in))
        for ox in range(w_out):
            x0 = ox * st[1] - pad[1]
            yield oy, ox, x[ys, max(x0, 0):min(x0 + k_w, w_in)].reshape(-1, c).astype(np.int64), (h_out, w_out, c)


def maxpool2d_s8(x, kernel, stride=None, padding=0, act_min=-128, act_max=127):
    """int8 max pooling, channel-last (eh_maxpool2d_s8): the maximum over the window's taps inside
    the input (padding not counted), clamped to [act_min, act_max]."""
    y = None
    for oy, ox, win, shape in _pool_s8(x, kernel, stride, padding, act_min, act_max):
        if y is None:
            y = np.zeros(shape, np.int8)
        y[oy, ox] = np.clip(win.max(axis=0), int(act_min), int(act_max))
    return y


def avgpool2d_s8(x, kernel, stride=None, padding=0, act_min=-128, act_max=127):
    """int8 average pooling, channel-last (eh_avgpool2d_s8): TFLite's rounding of the mean over the
    window's taps inside the input (n of them): (sum + n / 2) / n for sum > 0, else (sum - n / 2) / n,
    C's division truncating toward zero; clamped to [act_min, act_max]."""
    y = None
    for oy, ox, win, shape in _pool_s8(x, kernel, stride, padding, act_min, act_max):
        if y is None:
            y = np.zeros(shape, np.int8)
        n = win.shape[0]
        s = win.sum(axis=0)
        num = np.where(s > 0, s + n // 2, s - n // 2)
        q = np.sign(num) * (np.abs(num) // n)          # truncation toward zero
        y[oy, ox] = np.clip(q, int(act_min), int(act_max))
    return y
