"""The C binary kernels (kernels_c/src/binary) on numpy arrays; twins of edgehost.sim.binary."""
from __future__ import annotations

import numpy as np

from ._util import arr, check, load, ptr
from ..sim.binary import (fold_bn_sign, nwords, pack_bits, unpack_bits,  # noqa: F401 (host helpers)
                          conv1d_b1_out_len)

ffi, lib = load("binary")


def _words2(name, a, ndim):
    x = arr(a, np.uint32)
    if x.ndim != ndim or x.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array of words")
    return x


def _opt(a, dtype, n, name):
    if a is None:
        return None
    v = arr(np.asarray(a).ravel(), dtype)
    if v.size != n:
        raise ValueError(f"{name} must have {n} entries")
    return v


def pack_spikes_b1(s):
    s = arr(s, np.uint8)
    if s.ndim != 1:
        raise ValueError("spikes must be 1-D")
    out = np.zeros(max(nwords(s.size), 1), np.uint32)
    check("eh_pack_spikes_b1", lib.eh_pack_spikes_b1(s.size, ptr(ffi, s, "uint8_t"), ptr(ffi, out, "uint32_t")))
    return out


def pack_signs_b1(v):
    v = arr(v, np.int8)
    if v.ndim != 1:
        raise ValueError("values must be 1-D")
    out = np.zeros(max(nwords(v.size), 1), np.uint32)
    check("eh_pack_signs_b1", lib.eh_pack_signs_b1(v.size, ptr(ffi, v, "int8_t"), ptr(ffi, out, "uint32_t")))
    return out


def _fc(n_in, x, w):
    x = _words2("x", x, 1)
    w = _words2("w", w, 2)
    if int(n_in) < 1 or x.size != nwords(n_in) or w.shape[1] != x.size:
        raise ValueError(f"x and the rows of w must have ceil(n_in / 32) = {nwords(max(int(n_in), 1))} words")
    return int(n_in), x, w, w.shape[0]


def fc_b1_s32(n_in, x, w):
    k, x, w, n = _fc(n_in, x, w)
    y = np.zeros(n, np.int32)
    check("eh_fc_b1_s32", lib.eh_fc_b1_s32(k, n, ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                           ptr(ffi, y, "int32_t")))
    return y


def fc_b1_f32(n_in, x, w, scale, bias=None):
    k, x, w, n = _fc(n_in, x, w)
    sc = _opt(scale, np.float32, n, "scale")
    b = _opt(bias, np.float32, n, "bias")
    y = np.zeros(n, np.float32)
    check("eh_fc_b1_f32", lib.eh_fc_b1_f32(k, n, ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                           ptr(ffi, sc, "float"), ptr(ffi, b, "float"),
                                           ptr(ffi, y, "float")))
    return y


def fc_b1_s8(n_in, x, w, mult, bias=None, shift=0):
    k, x, w, n = _fc(n_in, x, w)
    m = _opt(mult, np.int32, n, "mult")
    b = _opt(bias, np.int32, n, "bias")
    if int(shift) < 0 or int(shift) > 0xFFFFFFFF:
        raise ValueError("shift must lie in [0, 62]")
    y = np.zeros(n, np.int8)
    check("eh_fc_b1_s8", lib.eh_fc_b1_s8(k, n, ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                         ptr(ffi, m, "int32_t"), ptr(ffi, b, "int32_t"), int(shift),
                                         ptr(ffi, y, "int8_t")))
    return y


def fc_b1_bits(n_in, x, w, thr):
    k, x, w, n = _fc(n_in, x, w)
    t = _opt(thr, np.int32, n, "thr")
    y = np.zeros(nwords(n), np.uint32)
    check("eh_fc_b1_bits", lib.eh_fc_b1_bits(k, n, ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                             ptr(ffi, t, "int32_t"), ptr(ffi, y, "uint32_t")))
    return y


def _conv(n_in, x, w, stride, pad):
    x = _words2("x", x, 2)
    w = _words2("w", w, 3)
    if int(n_in) < 1 or x.shape[1] != nwords(n_in) or w.shape[2] != x.shape[1]:
        raise ValueError("frames of x and w must have ceil(n_in / 32) words")
    if int(stride) < 0 or int(pad) < 0:
        raise ValueError("stride and pad must be >= 0")
    d = ffi.new("eh_conv1d_b1_dims *")
    d.n_in, d.t_in, d.n_out, d.taps = int(n_in), x.shape[0], w.shape[0], w.shape[1]
    d.stride, d.pad = int(stride), int(pad)
    span = x.shape[0] + 2 * int(pad) - w.shape[1]
    d.t_out = span // int(stride) + 1 if int(stride) > 0 and span >= 0 else 1
    return d, x, w


def conv1d_b1_s32(n_in, x, w, stride=1, pad=0):
    d, x, w = _conv(n_in, x, w, stride, pad)
    y = np.zeros((d.t_out, d.n_out), np.int32)
    check("eh_conv1d_b1_s32", lib.eh_conv1d_b1_s32(d, ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                                   ptr(ffi, y, "int32_t")))
    return y


def conv1d_b1_f32(n_in, x, w, scale, bias=None, stride=1, pad=0):
    d, x, w = _conv(n_in, x, w, stride, pad)
    sc = _opt(scale, np.float32, d.n_out, "scale")
    b = _opt(bias, np.float32, d.n_out, "bias")
    y = np.zeros((d.t_out, d.n_out), np.float32)
    check("eh_conv1d_b1_f32", lib.eh_conv1d_b1_f32(d, ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                                   ptr(ffi, sc, "float"), ptr(ffi, b, "float"),
                                                   ptr(ffi, y, "float")))
    return y


def conv1d_b1_s8(n_in, x, w, mult, bias=None, shift=0, stride=1, pad=0):
    d, x, w = _conv(n_in, x, w, stride, pad)
    m = _opt(mult, np.int32, d.n_out, "mult")
    b = _opt(bias, np.int32, d.n_out, "bias")
    if int(shift) < 0 or int(shift) > 0xFFFFFFFF:
        raise ValueError("shift must lie in [0, 62]")
    y = np.zeros((d.t_out, d.n_out), np.int8)
    check("eh_conv1d_b1_s8", lib.eh_conv1d_b1_s8(d, ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                                 ptr(ffi, m, "int32_t"), ptr(ffi, b, "int32_t"),
                                                 int(shift), ptr(ffi, y, "int8_t")))
    return y


def conv1d_b1_bits(n_in, x, w, thr, stride=1, pad=0):
    d, x, w = _conv(n_in, x, w, stride, pad)
    t = _opt(thr, np.int32, d.n_out, "thr")
    y = np.zeros((d.t_out, nwords(d.n_out)), np.uint32)
    check("eh_conv1d_b1_bits", lib.eh_conv1d_b1_bits(d, ptr(ffi, x, "uint32_t"), ptr(ffi, w, "uint32_t"),
                                                     ptr(ffi, t, "int32_t"), ptr(ffi, y, "uint32_t")))
    return y
