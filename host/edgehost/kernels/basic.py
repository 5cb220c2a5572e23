"""The C basic kernels (kernels_c/src/basic) on numpy arrays; twins of edgehost.sim.basic."""
from __future__ import annotations

import numpy as np

from ._util import arr, check, load, out, params, ptr

ffi, lib = load("basic")


def _vec(x, dtype):
    a = arr(x, dtype)
    if a.ndim != 1:
        raise ValueError(f"expected a 1-D array, got shape {a.shape}")
    return a


def _mat(w, dtype, n_in: int):
    a = arr(w, dtype)
    if a.ndim == 1 and a.size and n_in and a.size % n_in == 0:
        a = a.reshape(-1, n_in)
    if a.ndim != 2 or a.shape[1] != n_in:
        raise ValueError(f"w must be [n_out, {n_in}], got shape {a.shape}")
    return a


def _bias(b, dtype, n_out):
    if b is None:
        return None
    bb = _vec(b, dtype)
    if bb.size != n_out:
        raise ValueError(f"b has {bb.size} entries, expected {n_out}")
    return bb


def _u32(v, name):
    if not isinstance(v, (int, np.integer)) or not 0 <= int(v) < 1 << 32:
        raise ValueError(f"{name} must be a non-negative 32-bit integer")
    return int(v)


def fc_f32(x, w, b=None):
    x = _vec(x, np.float32)
    w = _mat(w, np.float32, x.size)
    bb = _bias(b, np.float32, w.shape[0])
    y = np.zeros(w.shape[0], np.float32)
    check("eh_fc_f32", lib.eh_fc_f32(x.size, w.shape[0], ptr(ffi, x, "float"), ptr(ffi, w, "float"),
                                     ptr(ffi, bb, "float"), ptr(ffi, y, "float")))
    return y


def fc_q15(x, w, b=None, shift=0):
    x = _vec(x, np.int16)
    w = _mat(w, np.int16, x.size)
    bb = _bias(b, np.int32, w.shape[0])
    y = np.zeros(w.shape[0], np.int16)
    check("eh_fc_q15", lib.eh_fc_q15(x.size, w.shape[0], ptr(ffi, x, "int16_t"), ptr(ffi, w, "int16_t"),
                                     ptr(ffi, bb, "int32_t"), _u32(shift, "shift"), ptr(ffi, y, "int16_t")))
    return y


def fc_spike_q15(s, w, b=None, shift=0):
    s = _vec(s, np.uint8)
    w = _mat(w, np.int16, s.size)
    bb = _bias(b, np.int32, w.shape[0])
    y = np.zeros(w.shape[0], np.int16)
    check("eh_fc_spike_q15", lib.eh_fc_spike_q15(
        s.size, w.shape[0], ptr(ffi, s, "uint8_t"), ptr(ffi, w, "int16_t"), ptr(ffi, bb, "int32_t"),
        _u32(shift, "shift"), ptr(ffi, y, "int16_t")))
    return y


def fc_spike_t_q15(s, wt, b=None, shift=0):
    s = _vec(s, np.uint8)
    wt = arr(wt, np.int16)
    if wt.ndim == 1 and wt.size and s.size and wt.size % s.size == 0:
        wt = wt.reshape(s.size, -1)
    if wt.ndim != 2 or wt.shape[0] != s.size:
        raise ValueError(f"wt must be [{s.size}, n_out], got shape {wt.shape}")
    bb = _bias(b, np.int32, wt.shape[1])
    y = np.zeros(wt.shape[1], np.int16)
    check("eh_fc_spike_t_q15", lib.eh_fc_spike_t_q15(
        s.size, wt.shape[1], ptr(ffi, s, "uint8_t"), ptr(ffi, wt, "int16_t"), ptr(ffi, bb, "int32_t"),
        _u32(shift, "shift"), ptr(ffi, y, "int16_t")))
    return y


def fc_s8(x, w, mult, shift, b=None, x_offset=0, y_offset=0, per_channel=None):
    x = _vec(x, np.int8)
    w = _mat(w, np.int8, x.size)
    m = params(mult, np.int32)
    sh = params(shift, np.int32)
    if per_channel is None:
        per_channel = m.size > 1
    pc = _u32(int(per_channel), "per_channel")  # the C kernel rejects anything but 0 / 1
    nc = w.shape[0] if pc == 1 else 1
    if pc in (0, 1) and (m.size != nc or sh.size != nc):
        raise ValueError(f"mult and shift need {nc} entries")
    bb = _bias(b, np.int32, w.shape[0])
    y = np.zeros(w.shape[0], np.int8)
    for name, v in (("x_offset", x_offset), ("y_offset", y_offset)):
        if not isinstance(v, (int, np.integer)) or not -(1 << 31) <= int(v) < 1 << 31:
            raise ValueError(f"{name} must be a 32-bit integer")
    check("eh_fc_s8", lib.eh_fc_s8(
        x.size, w.shape[0], ptr(ffi, x, "int8_t"), int(x_offset), ptr(ffi, w, "int8_t"),
        ptr(ffi, bb, "int32_t"), ptr(ffi, m, "int32_t"), ptr(ffi, sh, "int32_t"), pc,
        int(y_offset), ptr(ffi, y, "int8_t")))
    return y


def relu_f32(x):
    x = _vec(x, np.float32)
    y = np.zeros_like(x)
    check("eh_relu_f32", lib.eh_relu_f32(x.size, ptr(ffi, x, "float"), ptr(ffi, y, "float")))
    return y


def relu_q15(x):
    x = _vec(x, np.int16)
    y = np.zeros_like(x)
    check("eh_relu_q15", lib.eh_relu_q15(x.size, ptr(ffi, x, "int16_t"), ptr(ffi, y, "int16_t")))
    return y


def _argmax(name, x, dtype, ctype):
    x = _vec(x, dtype)
    idx = ffi.new("uint32_t *")
    check(f"eh_{name}", getattr(lib, f"eh_{name}")(x.size, ptr(ffi, x, ctype), idx))
    return int(idx[0])


def argmax_f32(x) -> int:
    return _argmax("argmax_f32", x, np.float32, "float")


def argmax_q15(x) -> int:
    return _argmax("argmax_q15", x, np.int16, "int16_t")


def argmax_s32(x) -> int:
    return _argmax("argmax_s32", x, np.int32, "int32_t")


def li_step_f32(x, y, beta):
    x = _vec(x, np.float32)
    y = out(y, np.float32)
    b = params(beta, np.float32)
    if y.size != x.size:
        raise ValueError("x and y must have the same length")
    check("eh_li_step_f32", lib.eh_li_step_f32(x.size, ptr(ffi, x, "float"), ptr(ffi, y, "float"),
                                               ptr(ffi, b, "float"), b.size))
    return y


def li_step_q15(x, y, decay=None, shift=None):
    keep: list = []
    x = _vec(x, np.int16)
    y = out(y, np.int16)
    if y.size != x.size:
        raise ValueError("x and y must have the same length")
    leak = _leak(decay, shift, keep)
    check("eh_li_step_q15", lib.eh_li_step_q15(x.size, ptr(ffi, x, "int16_t"), ptr(ffi, y, "int16_t"), leak))
    return y


def _leak(decay, shift, keep):
    """An eh_leak_q15 in this module's ffi (the struct type of eh_lif.h)."""
    if (decay is None) == (shift is None):
        raise ValueError("give exactly one of decay (Q15 multiply) or shift")
    leak = ffi.new("eh_leak_q15 *")
    if decay is not None:
        d = params(decay, np.uint16)
        keep.append(d)
        leak.decay = ptr(ffi, d, "uint16_t")
        leak.len = d.size
    else:
        sh = params(shift, np.uint8)
        keep.append(sh)
        leak.shift = ptr(ffi, sh, "uint8_t")
        leak.len = sh.size
    keep.append(leak)
    return leak


def _float(v, name):
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number") from None


def quantize_f32_q15(x, inv_scale):
    x = _vec(x, np.float32)
    q = np.zeros(x.size, np.int16)
    check("eh_quantize_f32_q15", lib.eh_quantize_f32_q15(x.size, ptr(ffi, x, "float"),
                                                         _float(inv_scale, "inv_scale"), ptr(ffi, q, "int16_t")))
    return q


def dequantize_q15_f32(q, scale):
    q = _vec(q, np.int16)
    y = np.zeros(q.size, np.float32)
    check("eh_dequantize_q15_f32", lib.eh_dequantize_q15_f32(q.size, ptr(ffi, q, "int16_t"),
                                                             _float(scale, "scale"), ptr(ffi, y, "float")))
    return y


def spike_count_u16(s, counts):
    s = _vec(s, np.uint8)
    c = out(counts, np.uint16)
    if c.size != s.size:
        raise ValueError("s and counts must have the same length")
    check("eh_spike_count_u16", lib.eh_spike_count_u16(s.size, ptr(ffi, s, "uint8_t"), ptr(ffi, c, "uint16_t")))
    return c



def conv1d_s8(x, w, mult, shift, b=None, x_offset=0, y_offset=0, act_min=-128, act_max=127, stride=1,
              pad=0, t_out=None, per_channel=None):
    """eh_conv1d_s8: x [t_in, n_in], w [n_out, taps, n_in] -> y [t_out, n_out] (edgehost.sim.conv1d_s8)."""
    x = arr(x, np.int8)
    w = arr(w, np.int8)
    if x.ndim != 2 or w.ndim != 3 or 0 in x.shape or 0 in w.shape or w.shape[2] != x.shape[1]:
        raise ValueError(f"x must be [t_in, n_in] and w [n_out, taps, n_in], got {x.shape} and {w.shape}")
    t_in, n_in = x.shape
    n_out, taps, _ = w.shape
    if t_out is None:
        from ..sim.basic import conv1d_s8_out_len
        t_out = conv1d_s8_out_len(t_in, taps, stride, pad)
    m = params(mult, np.int32)
    sh = params(shift, np.int32)
    if per_channel is None:
        per_channel = m.size > 1
    pc = _u32(int(per_channel), "per_channel")
    nc = n_out if pc == 1 else 1
    if pc in (0, 1) and (m.size != nc or sh.size != nc):
        raise ValueError(f"mult and shift need {nc} entries")
    bb = _bias(b, np.int32, n_out)
    for name, v in (("x_offset", x_offset), ("y_offset", y_offset), ("act_min", act_min), ("act_max", act_max)):
        if not isinstance(v, (int, np.integer)) or not -(1 << 31) <= int(v) < 1 << 31:
            raise ValueError(f"{name} must be a 32-bit integer")
    d = ffi.new("eh_conv1d_s8_dims *")
    d.n_in, d.t_in, d.n_out, d.taps = n_in, t_in, n_out, taps
    d.stride, d.pad, d.t_out = _u32(stride, "stride"), _u32(pad, "pad"), _u32(t_out, "t_out")
    y = np.zeros((max(int(t_out), 1), n_out), np.int8)
    check("eh_conv1d_s8", lib.eh_conv1d_s8(
        d, ptr(ffi, x, "int8_t"), int(x_offset), ptr(ffi, w, "int8_t"), ptr(ffi, bb, "int32_t"),
        ptr(ffi, m, "int32_t"), ptr(ffi, sh, "int32_t"), pc, int(y_offset), int(act_min), int(act_max),
        ptr(ffi, y, "int8_t")))
    return y
