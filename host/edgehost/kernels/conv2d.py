"""The C conv2d kernels (kernels_c/src/conv2d) on numpy arrays; twins of edgehost.sim.conv2d."""
from __future__ import annotations

import numpy as np

from ._util import arr, check, load, ptr
from ..sim.conv2d import _ints, conv2d_padding  # noqa: F401 (the same argument forms)

ffi, lib = load("conv2d")

_U32 = (1 << 32) - 1


def _u32(name, v):
    if v < 0 or v > _U32:
        raise ValueError(f"{name} must fit uint32, got {v}")
    return v


def _dims(c_in, h_in, w_in, c_out, k_h, k_w, stride, padding, dilation, groups):
    d = ffi.new("eh_conv2d_dims *")
    sh, sw = _ints("stride", stride, 2)
    dh, dw = _ints("dilation", dilation, 2)
    pt, pl, pb, pr = conv2d_padding(padding, k_h, k_w, stride, dilation)
    fields = dict(c_in=c_in, h_in=h_in, w_in=w_in, c_out=c_out, k_h=k_h, k_w=k_w, stride_h=sh,
                  stride_w=sw, pad_top=pt, pad_left=pl, pad_bottom=pb, pad_right=pr, dil_h=dh,
                  dil_w=dw, groups=_ints("groups", groups, 1)[0])
    for k, v in fields.items():
        setattr(d, k, _u32(k, int(v)))
    return d


def conv2d_out_size(c_in, h_in, w_in, c_out, k_h, k_w, stride=1, padding=0, dilation=1, groups=1):
    d = _dims(c_in, h_in, w_in, c_out, k_h, k_w, stride, padding, dilation, groups)
    h = ffi.new("uint32_t *")
    w = ffi.new("uint32_t *")
    check("eh_conv2d_out_size", lib.eh_conv2d_out_size(d, h, w))
    return int(h[0]), int(w[0])


def _tensor(name, a, dtype, ndim):
    v = arr(a, dtype)
    if v.ndim != ndim or v.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {v.shape}")
    return v


def _setup(x, w, b, stride, padding, dilation, groups, xdtype, wdtype, bdtype):
    x = _tensor("x", x, xdtype, 3)
    w = _tensor("w", w, wdtype, 4)
    g = _ints("groups", groups, 1)[0]
    if g >= 1 and w.shape[1] * g != x.shape[0]:
        raise ValueError(f"w has {w.shape[1]} input channels per group, x {x.shape[0]} channels for {g} groups")
    d = _dims(x.shape[0], x.shape[1], x.shape[2], w.shape[0], w.shape[2], w.shape[3], stride, padding,
              dilation, g)
    if b is not None:
        b = np.asarray(b)
        if b.ndim != 1 or b.size != w.shape[0]:
            raise ValueError(f"bias must have {w.shape[0]} entries")
        b = arr(b, bdtype)
    h = ffi.new("uint32_t *")
    wo = ffi.new("uint32_t *")
    st = lib.eh_conv2d_out_size(d, h, wo)
    shape = (w.shape[0], int(h[0]), int(wo[0])) if st == 0 else (1, 1, 1)
    return x, w, b, d, shape


def conv2d_f32(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    x, w, b, d, shape = _setup(x, w, b, stride, padding, dilation, groups, np.float32, np.float32, np.float32)
    y = np.zeros(shape, np.float32)
    check("eh_conv2d_f32", lib.eh_conv2d_f32(d, ptr(ffi, x, "float"), ptr(ffi, w, "float"),
                                             ptr(ffi, b, "float"), ptr(ffi, y, "float")))
    return y


def conv2d_q15(x, w, b=None, shift=0, stride=1, padding=0, dilation=1, groups=1):
    x, w, b, d, shape = _setup(x, w, b, stride, padding, dilation, groups, np.int16, np.int16, np.int32)
    y = np.zeros(shape, np.int16)
    check("eh_conv2d_q15", lib.eh_conv2d_q15(d, ptr(ffi, x, "int16_t"), ptr(ffi, w, "int16_t"),
                                             ptr(ffi, b, "int32_t"), _u32("shift", int(shift)),
                                             ptr(ffi, y, "int16_t")))
    return y


def conv2d_spike_q15(s, w, b=None, shift=0, stride=1, padding=0, dilation=1, groups=1):
    s, w, b, d, shape = _setup(s, w, b, stride, padding, dilation, groups, np.uint8, np.int16, np.int32)
    y = np.zeros(shape, np.int16)
    scratch = np.zeros(shape, np.int32)
    check("eh_conv2d_spike_q15", lib.eh_conv2d_spike_q15(
        d, ptr(ffi, s, "uint8_t"), ptr(ffi, w, "int16_t"), ptr(ffi, b, "int32_t"),
        _u32("shift", int(shift)), ptr(ffi, scratch, "int32_t"), ptr(ffi, y, "int16_t")))
    return y


# -- 2-D pooling -------------------------------------------------------------------------------------

from ..sim.conv2d import pool2d_padding  # noqa: E402


def _pdims(c, h_in, w_in, k_h, k_w, stride, padding):
    d = ffi.new("eh_pool2d_dims *")
    sh, sw = _ints("stride", (k_h, k_w) if stride is None else stride, 2)
    pt, pl, pb, pr = pool2d_padding(padding)
    fields = dict(c=c, h_in=h_in, w_in=w_in, k_h=k_h, k_w=k_w, stride_h=sh, stride_w=sw, pad_top=pt,
                  pad_left=pl, pad_bottom=pb, pad_right=pr)
    for k, v in fields.items():
        setattr(d, k, _u32(k, int(v)))
    return d


def pool2d_out_size(c, h_in, w_in, k_h, k_w, stride=None, padding=0):
    d = _pdims(c, h_in, w_in, k_h, k_w, stride, padding)
    h = ffi.new("uint32_t *")
    w = ffi.new("uint32_t *")
    check("eh_pool2d_out_size", lib.eh_pool2d_out_size(d, h, w))
    return int(h[0]), int(w[0])


def _pool(name, x, kernel, stride, padding, xdtype, ydtype, ctype_x, ctype_y):
    x = _tensor("x", x, xdtype, 3)
    k_h, k_w = _ints("kernel", kernel, 2)
    d = _pdims(x.shape[0], x.shape[1], x.shape[2], k_h, k_w, stride, padding)
    h = ffi.new("uint32_t *")
    wo = ffi.new("uint32_t *")
    st = lib.eh_pool2d_out_size(d, h, wo)
    y = np.zeros((x.shape[0], int(h[0]), int(wo[0])) if st == 0 else (1, 1, 1), ydtype)
    check(f"eh_{name}", getattr(lib, f"eh_{name}")(d, ptr(ffi, x, ctype_x), ptr(ffi, y, ctype_y)))
    return y


def sumpool2d_f32(x, kernel, stride=None, padding=0):
    return _pool("sumpool2d_f32", x, kernel, stride, padding, np.float32, np.float32, "float", "float")


def avgpool2d_f32(x, kernel, stride=None, padding=0):
    return _pool("avgpool2d_f32", x, kernel, stride, padding, np.float32, np.float32, "float", "float")


def sumpool2d_q15(x, kernel, stride=None, padding=0):
    return _pool("sumpool2d_q15", x, kernel, stride, padding, np.int16, np.int16, "int16_t", "int16_t")


def avgpool2d_q15(x, kernel, stride=None, padding=0):
    return _pool("avgpool2d_q15", x, kernel, stride, padding, np.int16, np.int16, "int16_t", "int16_t")


def sumpool2d_spike_q15(s, kernel, stride=None, padding=0):
    return _pool("sumpool2d_spike_q15", s, kernel, stride, padding, np.uint8, np.int16, "uint8_t", "int16_t")


def avgpool2d_spike_q15(s, kernel, stride=None, padding=0):
    return _pool("avgpool2d_spike_q15", s, kernel, stride, padding, np.uint8, np.int16, "uint8_t", "int16_t")


# --- binary conv2d (eh_conv2d_b1_*): twins of edgehost.sim.conv2d_b1 -------------------------

def _b1_setup(c_in, x, w, stride, padding, dilation):
    from ..sim.binary import nwords
    c_in = int(c_in)
    if c_in < 1 or c_in > _U32:
        raise ValueError(f"c_in must lie in [1, {_U32}], got {c_in}")
    x = arr(x, np.uint32) if np.asarray(x).dtype.kind in "iu" else np.asarray(x)
    w = arr(w, np.uint32) if np.asarray(w).dtype.kind in "iu" else np.asarray(w)
    for name, a, nd in (("x", x, 3), ("w", w, 4)):
        if a.ndim != nd or a.size == 0 or a.dtype != np.uint32:
            raise ValueError(f"{name} must be a non-empty {nd}-D array of uint32 words")
    if x.shape[2] != nwords(c_in) or w.shape[3] != nwords(c_in):
        raise ValueError(f"x and w need {nwords(c_in)} words per pixel / tap for c_in={c_in}")
    d = _dims(c_in, x.shape[0], x.shape[1], w.shape[0], w.shape[1], w.shape[2], stride, padding,
              dilation, 1)
    h = ffi.new("uint32_t *")
    wo = ffi.new("uint32_t *")
    st = lib.eh_conv2d_out_size(d, h, wo)
    out = (int(h[0]), int(wo[0])) if st == 0 else (1, 1)
    return x, w, d, out


def conv2d_b1_s32(c_in, x, w, stride=1, padding=0, dilation=1, pad_value=0):
    x, w, d, (ho, wo) = _b1_setup(c_in, x, w, stride, padding, dilation)
    y = np.zeros((w.shape[0], ho, wo), np.int32)
    check("eh_conv2d_b1_s32", lib.eh_conv2d_b1_s32(d, _u32("pad_value", int(pad_value)),
                                                   ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                                   ptr(ffi, y, "int32_t")))
    return y


def conv2d_b1_bits(c_in, x, w, thr, stride=1, padding=0, dilation=1, pad_value=0):
    x, w, d, (ho, wo) = _b1_setup(c_in, x, w, stride, padding, dilation)
    t = np.asarray(thr)
    if t.ndim != 1 or t.size != w.shape[0] or t.dtype.kind not in "iu":
        raise ValueError(f"thr must have {w.shape[0]} integer entries")
    t = arr(t, np.int32)
    y = np.zeros((ho, wo, (w.shape[0] + 31) // 32), np.uint32)
    check("eh_conv2d_b1_bits", lib.eh_conv2d_b1_bits(d, _u32("pad_value", int(pad_value)),
                                                     ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                                     ptr(ffi, t, "int32_t"), ptr(ffi, y, "uint32_t")))
    return y


# --- event-driven, saturating 16-bit currents (eh_conv2d_spike_sat_q15) ----------------------

def conv2d_spike_sat_q15(s, wt, b=None, stride=1, padding=0, dilation=1, groups=1):
    s = _tensor("s", s, np.uint8, 3)
    wt = _tensor("wt", wt, np.int16, 4)
    g = _ints("groups", groups, 1)[0]
    if wt.shape[0] != s.shape[0]:
        raise ValueError(f"wt has {wt.shape[0]} input channels, s {s.shape[0]}")
    if g < 1:
        raise ValueError("groups must be >= 1")
    c_out = wt.shape[3] * g
    d = _dims(s.shape[0], s.shape[1], s.shape[2], c_out, wt.shape[1], wt.shape[2], stride, padding,
              dilation, g)
    if b is not None:
        b = np.asarray(b)
        if b.ndim != 1 or b.size != c_out:
            raise ValueError(f"bias must have {c_out} entries")
        b = arr(b, np.int16)
    h = ffi.new("uint32_t *")
    wo = ffi.new("uint32_t *")
    st = lib.eh_conv2d_out_size(d, h, wo)
    shape = (c_out, int(h[0]), int(wo[0])) if st == 0 else (1, 1, 1)
    y = np.zeros(shape, np.int16)
    scratch = np.zeros(shape, np.int16)
    check("eh_conv2d_spike_sat_q15", lib.eh_conv2d_spike_sat_q15(
        d, ptr(ffi, s, "uint8_t"), ptr(ffi, wt, "int16_t"), ptr(ffi, b, "int16_t"),
        ptr(ffi, scratch, "int16_t"), ptr(ffi, y, "int16_t")))
    return y


# -- int8, channel-last (TFLite's NHWC) ---------------------------------------------------------------

def conv2d_s8(x, w, mult, shift, b=None, x_offset=0, y_offset=0, act_min=-128, act_max=127, stride=1, padding=0,
              dilation=1, groups=1, per_channel=None):
    """eh_conv2d_s8: x [h_in, w_in, c_in] int8, w [c_out, k_h, k_w, c_in / groups] int8 ->
    y [h_out, w_out, c_out] int8 (edgehost.sim.conv2d_s8)."""
    x = _tensor("x", x, np.int8, 3)
    w = _tensor("w", w, np.int8, 4)
    g = _ints("groups", groups, 1)[0]
    if g >= 1 and w.shape[3] * g != x.shape[2]:
        raise ValueError(f"w has {w.shape[3]} input channels per group, x {x.shape[2]} channels for {g} groups")
    d = _dims(x.shape[2], x.shape[0], x.shape[1], w.shape[0], w.shape[1], w.shape[2], stride, padding, dilation, g)
    m = np.atleast_1d(np.asarray(mult))
    if per_channel is None:
        per_channel = m.size > 1
    nc = w.shape[0] if per_channel else 1
    m = arr(m, np.int32)
    sh = arr(np.atleast_1d(np.asarray(shift)), np.int32)
    if m.size != nc or sh.size != nc:
        raise ValueError(f"mult and shift must hold {nc} entries")
    if b is not None:
        b = np.asarray(b)
        if b.ndim != 1 or b.size != w.shape[0]:
            raise ValueError(f"bias must have {w.shape[0]} entries")
        b = arr(b, np.int32)
    h = ffi.new("uint32_t *")
    wo = ffi.new("uint32_t *")
    st = lib.eh_conv2d_out_size(d, h, wo)
    y = np.zeros((int(h[0]), int(wo[0]), w.shape[0]) if st == 0 else (1, 1, 1), np.int8)
    check("eh_conv2d_s8", lib.eh_conv2d_s8(d, ptr(ffi, x, "int8_t"), int(x_offset), ptr(ffi, w, "int8_t"),
                                           ptr(ffi, b, "int32_t"), ptr(ffi, m, "int32_t"), ptr(ffi, sh, "int32_t"),
                                           1 if per_channel else 0, int(y_offset), int(act_min), int(act_max),
                                           ptr(ffi, y, "int8_t")))
    return y


def _pool_s8(name, x, kernel, stride, padding, act_min, act_max):
    x = _tensor("x", x, np.int8, 3)
    k_h, k_w = _ints("kernel", kernel, 2)
    d = _pdims(x.shape[2], x.shape[0], x.shape[1], k_h, k_w, stride, padding)
    h = ffi.new("uint32_t *")
    wo = ffi.new("uint32_t *")
    st = lib.eh_pool2d_out_size(d, h, wo)
    y = np.zeros((int(h[0]), int(wo[0]), x.shape[2]) if st == 0 else (1, 1, 1), np.int8)
    check(f"eh_{name}", getattr(lib, f"eh_{name}")(d, ptr(ffi, x, "int8_t"), int(act_min), int(act_max),
                                                   ptr(ffi, y, "int8_t")))
    return y


def maxpool2d_s8(x, kernel, stride=None, padding=0, act_min=-128, act_max=127):
    """eh_maxpool2d_s8: x [h_in, w_in, c] int8 -> y [h_out, w_out, c] (edgehost.sim.maxpool2d_s8)."""
    return _pool_s8("maxpool2d_s8", x, kernel, stride, padding, act_min, act_max)


def avgpool2d_s8(x, kernel, stride=None, padding=0, act_min=-128, act_max=127):
    """eh_avgpool2d_s8: x [h_in, w_in, c] int8 -> y [h_out, w_out, c] (edgehost.sim.avgpool2d_s8)."""
    return _pool_s8("avgpool2d_s8", x, kernel, stride, padding, act_min, act_max)
