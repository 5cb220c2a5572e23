"""The C LIF kernels (kernels_c/src/lif) on numpy arrays; twins of edgehost.sim.lif."""
from __future__ import annotations

import numpy as np

from ._util import arr, check, load, out, params, ptr
from ..sim._checks import RESETS_LIF, reset_mode

ffi, lib = load("lif")


def _leak(decay, shift, keep):
    if (decay is None) == (shift is None):
        raise ValueError("give exactly one of decay (Q15 multiply) or shift")
    leak = ffi.new("eh_leak_q15 *")
    if decay is not None:
        d = params(decay, np.uint16)
        keep.append(d)
        leak.decay = ptr(ffi, d, "uint16_t")
        leak.len = d.size
    else:
        s = params(shift, np.uint8)
        keep.append(s)
        leak.shift = ptr(ffi, s, "uint8_t")
        leak.len = s.size
    keep.append(leak)
    return leak


def lif_step_f32(x, v, spikes, beta, threshold, reset="subtract"):
    x = arr(x, np.float32)
    v = out(v, np.float32)
    s = out(spikes, np.uint8)
    b = params(beta, np.float32)
    t = params(threshold, np.float32)
    if v.size != x.size or s.size != x.size:
        raise ValueError("x, v and spikes must have the same length")
    check("eh_lif_step_f32", lib.eh_lif_step_f32(
        x.size, ptr(ffi, x, "float"), ptr(ffi, v, "float"), ptr(ffi, s, "uint8_t"),
        ptr(ffi, b, "float"), b.size, ptr(ffi, t, "float"), t.size, reset_mode(reset, RESETS_LIF)))
    return v, s


def lif_step_q15(x, v, spikes, threshold, decay=None, shift=None, reset="subtract"):
    keep: list = []
    x = arr(x, np.int16)
    v = out(v, np.int16)
    s = out(spikes, np.uint8)
    t = params(threshold, np.int16)
    if v.size != x.size or s.size != x.size:
        raise ValueError("x, v and spikes must have the same length")
    leak = _leak(decay, shift, keep)
    check("eh_lif_step_q15", lib.eh_lif_step_q15(
        x.size, ptr(ffi, x, "int16_t"), ptr(ffi, v, "int16_t"), ptr(ffi, s, "uint8_t"),
        leak, ptr(ffi, t, "int16_t"), t.size, reset_mode(reset, RESETS_LIF)))
    return v, s


def cubalif_step_f32(x, i_syn, v, spikes, alpha, beta, threshold, reset="subtract"):
    x = arr(x, np.float32)
    i = out(i_syn, np.float32)
    v = out(v, np.float32)
    s = out(spikes, np.uint8)
    a = params(alpha, np.float32)
    b = params(beta, np.float32)
    t = params(threshold, np.float32)
    if not (i.size == v.size == s.size == x.size):
        raise ValueError("x, i_syn, v and spikes must have the same length")
    check("eh_cubalif_step_f32", lib.eh_cubalif_step_f32(
        x.size, ptr(ffi, x, "float"), ptr(ffi, i, "float"), ptr(ffi, v, "float"),
        ptr(ffi, s, "uint8_t"), ptr(ffi, a, "float"), a.size, ptr(ffi, b, "float"), b.size,
        ptr(ffi, t, "float"), t.size, reset_mode(reset, RESETS_LIF)))
    return i, v, s


def cubalif_step_q15(x, i_syn, v, spikes, threshold, syn_decay=None, syn_shift=None,
                     mem_decay=None, mem_shift=None, reset="subtract"):
    keep: list = []
    x = arr(x, np.int16)
    i = out(i_syn, np.int16)
    v = out(v, np.int16)
    s = out(spikes, np.uint8)
    t = params(threshold, np.int16)
    if not (i.size == v.size == s.size == x.size):
        raise ValueError("x, i_syn, v and spikes must have the same length")
    ls = _leak(syn_decay, syn_shift, keep)
    lm = _leak(mem_decay, mem_shift, keep)
    check("eh_cubalif_step_q15", lib.eh_cubalif_step_q15(
        x.size, ptr(ffi, x, "int16_t"), ptr(ffi, i, "int16_t"), ptr(ffi, v, "int16_t"),
        ptr(ffi, s, "uint8_t"), ls, lm, ptr(ffi, t, "int16_t"), t.size, reset_mode(reset, RESETS_LIF)))
    return i, v, s


def lif_adapt_step_f32(x, x_th, v, a, spikes, beta, beta_th, threshold, reset="subtract"):
    x = arr(x, np.float32)
    xt = arr(x_th, np.float32)
    v = out(v, np.float32)
    a = out(a, np.float32)
    s = out(spikes, np.uint8)
    b = params(beta, np.float32)
    bt = params(beta_th, np.float32)
    t = params(threshold, np.float32)
    if not (xt.size == v.size == a.size == s.size == x.size):
        raise ValueError("x, x_th, v, a and spikes must have the same length")
    check("eh_lif_adapt_step_f32", lib.eh_lif_adapt_step_f32(
        x.size, ptr(ffi, x, "float"), ptr(ffi, xt, "float"), ptr(ffi, v, "float"),
        ptr(ffi, a, "float"), ptr(ffi, s, "uint8_t"), ptr(ffi, b, "float"), b.size,
        ptr(ffi, bt, "float"), bt.size, ptr(ffi, t, "float"), t.size, reset_mode(reset)))
    return v, a, s


def lif_adapt_step_q15(x, x_th, v, a, spikes, threshold, mem_decay=None, mem_shift=None,
                       th_decay=None, th_shift=None, reset="subtract"):
    keep: list = []
    x = arr(x, np.int16)
    xt = arr(x_th, np.int16)
    v = out(v, np.int16)
    a = out(a, np.int16)
    s = out(spikes, np.uint8)
    t = params(threshold, np.int16)
    if not (xt.size == v.size == a.size == s.size == x.size):
        raise ValueError("x, x_th, v, a and spikes must have the same length")
    lm = _leak(mem_decay, mem_shift, keep)
    lt = _leak(th_decay, th_shift, keep)
    check("eh_lif_adapt_step_q15", lib.eh_lif_adapt_step_q15(
        x.size, ptr(ffi, x, "int16_t"), ptr(ffi, xt, "int16_t"), ptr(ffi, v, "int16_t"),
        ptr(ffi, a, "int16_t"), ptr(ffi, s, "uint8_t"), lm, lt, ptr(ffi, t, "int16_t"), t.size,
        reset_mode(reset)))
    return v, a, s


# ---- prepare once, step often ------------------------------------------------------------------

def _count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= 0xFFFFFFFF:
        raise ValueError(f"n must be an integer in [0, 2^32), got {n!r}")
    return int(n)


def lif_check_q15(n, threshold, decay=None, shift=None, reset="subtract") -> None:
    """eh_lif_check_q15: raises KernelError for parameters the step would reject."""
    keep: list = []
    t = params(threshold, np.int16)
    leak = _leak(decay, shift, keep)
    check("eh_lif_check_q15", lib.eh_lif_check_q15(
        _count(n), leak, ptr(ffi, t, "int16_t"), t.size, reset_mode(reset, RESETS_LIF)))


def lif_step_q15_unchecked(x, v, spikes, threshold, decay=None, shift=None, reset="subtract"):
    """eh_lif_step_q15_unchecked. The C function checks nothing, so this wrapper first runs
    eh_lif_check_q15 (KernelError) and checks the buffer lengths: no call reaches undefined
    behaviour from Python."""
    keep: list = []
    x = arr(x, np.int16)
    v = out(v, np.int16)
    s = out(spikes, np.uint8)
    t = params(threshold, np.int16)
    if v.size != x.size or s.size != x.size:
        raise ValueError("x, v and spikes must have the same length")
    leak = _leak(decay, shift, keep)
    check("eh_lif_check_q15", lib.eh_lif_check_q15(x.size, leak, ptr(ffi, t, "int16_t"), t.size,
                                                   reset_mode(reset, RESETS_LIF)))
    lib.eh_lif_step_q15_unchecked(x.size, ptr(ffi, x, "int16_t"), ptr(ffi, v, "int16_t"),
                                  ptr(ffi, s, "uint8_t"), leak, ptr(ffi, t, "int16_t"), t.size,
                                  reset_mode(reset, RESETS_LIF))
    return v, s


def cubalif_check_q15(n, threshold, syn_decay=None, syn_shift=None, mem_decay=None, mem_shift=None,
                      reset="subtract") -> None:
    """eh_cubalif_check_q15: raises KernelError for parameters the step would reject."""
    keep: list = []
    t = params(threshold, np.int16)
    ls = _leak(syn_decay, syn_shift, keep)
    lm = _leak(mem_decay, mem_shift, keep)
    check("eh_cubalif_check_q15", lib.eh_cubalif_check_q15(
        _count(n), ls, lm, ptr(ffi, t, "int16_t"), t.size, reset_mode(reset, RESETS_LIF)))


def cubalif_step_q15_unchecked(x, i_syn, v, spikes, threshold, syn_decay=None, syn_shift=None,
                               mem_decay=None, mem_shift=None, reset="subtract"):
    """eh_cubalif_step_q15_unchecked, behind eh_cubalif_check_q15 and length checks."""
    keep: list = []
    x = arr(x, np.int16)
    i = out(i_syn, np.int16)
    v = out(v, np.int16)
    s = out(spikes, np.uint8)
    t = params(threshold, np.int16)
    if not (i.size == v.size == s.size == x.size):
        raise ValueError("x, i_syn, v and spikes must have the same length")
    ls = _leak(syn_decay, syn_shift, keep)
    lm = _leak(mem_decay, mem_shift, keep)
    check("eh_cubalif_check_q15", lib.eh_cubalif_check_q15(
        x.size, ls, lm, ptr(ffi, t, "int16_t"), t.size, reset_mode(reset, RESETS_LIF)))
    lib.eh_cubalif_step_q15_unchecked(
        x.size, ptr(ffi, x, "int16_t"), ptr(ffi, i, "int16_t"), ptr(ffi, v, "int16_t"),
        ptr(ffi, s, "uint8_t"), ls, lm, ptr(ffi, t, "int16_t"), t.size, reset_mode(reset, RESETS_LIF))
    return i, v, s
