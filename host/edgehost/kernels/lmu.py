"""The C LMU / L2MU kernels (kernels_c/src/lmu) on numpy arrays; twins of edgehost.sim.lmu.

The same signatures and dictionaries as the numpy reference; the shapes are read from the
arrays and passed to C as they are, so the C kernels' own checks (sizes, ranges, NULLs) decide
what is rejected, raising KernelError.
"""
from __future__ import annotations

import numpy as np

from ._util import arr, check, load, out, params, ptr
from ..sim._checks import reset_mode
from ..sim.lmu import ACTS, READOUTS, l2mu_state_f32, l2mu_state_q15  # noqa: F401

ffi, lib = load("lmu")


def _act(act: str) -> int:
    try:
        return ACTS[act]
    except KeyError:
        raise ValueError(f"act must be one of {sorted(ACTS)}, got {act!r}") from None


def _m2(name, a, dtype) -> np.ndarray:
    x = arr(a, dtype)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {x.shape}")
    return x


def _m1(name, a, dtype) -> np.ndarray:
    x = arr(a, dtype)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {x.shape}")
    return x


def _need(name, a, shape):
    if a is not None and a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}, expected {shape}")


def _shift(name, s) -> int:
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not (0 <= int(s) <= 255):
        raise ValueError(f"{name} must be a small non-negative integer, got {s!r}")
    return int(s)


# ---------------------------------------------------------------------------------------------
# LMU


def _lmu_common(cell, x, m, h, e_x, a, b, w_m, e_h, e_m, w_x, w_h, b_h, dtype, bdtype, ctype, keep):
    e_x = _m2("e_x", e_x, dtype)
    a = _m2("a", a, dtype)
    b = _m1("b", b, dtype)
    w_m = _m2("w_m", w_m, dtype)
    n_u, n_x = e_x.shape
    order = a.shape[0]
    n_h = w_m.shape[0]
    n_m = n_u * order
    if a.shape != (order, order) or b.shape != (order,) or w_m.shape[1] != n_m:
        raise ValueError("a must be [order, order], b [order], w_m [n_h, n_u * order]")
    opt = {}
    for name, v, shape, dt in (("e_h", e_h, (n_u, n_h), dtype), ("e_m", e_m, (n_u, n_m), dtype),
                               ("w_x", w_x, (n_h, n_x), dtype), ("w_h", w_h, (n_h, n_h), dtype),
                               ("b_h", b_h, (n_h,), bdtype)):
        opt[name] = None if v is None else arr(v, dt)
        _need(name, opt[name], shape)
    x = _m1("x", x, dtype)
    m = out(m, dtype)
    h = out(h, dtype)
    if x.shape != (n_x,) or m.shape != (n_u, order) or h.shape != (n_h,):
        raise ValueError(f"x must be [{n_x}], m [{n_u}, {order}], h [{n_h}]")
    cell.n_x, cell.n_h, cell.n_u, cell.order = n_x, n_h, n_u, order
    for name, v in (("e_x", e_x), ("a", a), ("b", b), ("w_m", w_m), ("e_h", opt["e_h"]),
                    ("e_m", opt["e_m"]), ("w_x", opt["w_x"]), ("w_h", opt["w_h"])):
        setattr(cell, name, ptr(ffi, v, ctype))
    cell.b_h = ptr(ffi, opt["b_h"], "float" if ctype == "float" else "int32_t")
    keep += [e_x, a, b, w_m, *opt.values()]
    scratch = np.zeros(n_u + order + n_h, dtype)
    return x, m, h, scratch


def lmu_step_f32(x, m, h, e_x, a, b, w_m, e_h=None, e_m=None, w_x=None, w_h=None, b_h=None,
                 act="identity"):
    keep: list = []
    cell = ffi.new("eh_lmu_f32 *")
    x, m, h, scratch = _lmu_common(cell, x, m, h, e_x, a, b, w_m, e_h, e_m, w_x, w_h, b_h,
                                   np.float32, np.float32, "float", keep)
    cell.act = _act(act)
    check("eh_lmu_step_f32", lib.eh_lmu_step_f32(
        cell, ptr(ffi, x, "float"), ptr(ffi, m, "float"), ptr(ffi, h, "float"),
        ptr(ffi, scratch, "float"), scratch.size))
    return m, h


def lmu_step_q15(x, m, h, e_x, a, b, w_m, e_h=None, e_m=None, w_x=None, w_h=None, b_h=None,
                 s_ex=0, s_eh=0, s_em=0, s_a=0, s_b=0, s_wx=0, s_wh=0, s_wm=0,
                 act="identity", clamp=32767):
    keep: list = []
    cell = ffi.new("eh_lmu_q15 *")
    x, m, h, scratch = _lmu_common(cell, x, m, h, e_x, a, b, w_m, e_h, e_m, w_x, w_h, b_h,
                                   np.int16, np.int32, "int16_t", keep)
    for name, v in dict(s_ex=s_ex, s_eh=s_eh, s_em=s_em, s_a=s_a, s_b=s_b, s_wx=s_wx, s_wh=s_wh,
                        s_wm=s_wm).items():
        setattr(cell, name, _shift(name, v))
    if not isinstance(clamp, (int, np.integer)) or not (-32768 <= clamp <= 32767):
        raise ValueError("clamp must be an int16 value")
    cell.clamp = int(clamp)
    cell.act = _act(act)
    check("eh_lmu_step_q15", lib.eh_lmu_step_q15(
        cell, ptr(ffi, x, "int16_t"), ptr(ffi, m, "int16_t"), ptr(ffi, h, "int16_t"),
        ptr(ffi, scratch, "int16_t"), scratch.size))
    return m, h


# ---------------------------------------------------------------------------------------------
# L2MU


def _pop_f32(cpop, pop: dict, keep):
    b = params(pop["beta"], np.float32)
    t = params(pop["threshold"], np.float32) if pop.get("threshold") is not None else None
    keep += [b, t]
    cpop.beta, cpop.beta_len = ptr(ffi, b, "float"), b.size
    cpop.thr, cpop.thr_len = ptr(ffi, t, "float"), (0 if t is None else t.size)
    if pop.get("alpha") is not None:
        a = params(pop["alpha"], np.float32)
        keep.append(a)
        cpop.alpha, cpop.alpha_len = ptr(ffi, a, "float"), a.size
    cpop.reset = reset_mode(pop.get("reset", "subtract"))


def _leak(cleak, decay, shift, keep):
    if decay is not None:
        d = params(decay, np.uint16)
        keep.append(d)
        cleak.decay, cleak.len = ptr(ffi, d, "uint16_t"), d.size
    if shift is not None:
        s = params(shift, np.uint8)
        keep.append(s)
        cleak.shift, cleak.len = ptr(ffi, s, "uint8_t"), s.size


def _pop_q15(cpop, pop: dict, keep):
    _leak(cpop.leak, pop.get("decay"), pop.get("shift"), keep)
    _leak(cpop.leak_syn, pop.get("syn_decay"), pop.get("syn_shift"), keep)
    if pop.get("threshold") is not None:
        t = params(pop["threshold"], np.int16)
        keep.append(t)
        cpop.thr, cpop.thr_len = ptr(ffi, t, "int16_t"), t.size
    cpop.reset = reset_mode(pop.get("reset", "subtract"))


def _pop_state(cst, st: dict | None, dtype, ctype, keep) -> dict:
    """Fresh copies of a population state, wired into the C struct."""
    if st is None:
        return {}
    new = {}
    for key, dt, ct in (("v", dtype, ctype), ("i_syn", dtype, ctype), ("s", np.uint8, "uint8_t")):
        if st.get(key) is not None:
            new[key] = out(st[key], dt).reshape(-1)
            keep.append(new[key])
            setattr(cst, key, ptr(ffi, new[key], ct))
    return new


def _l2mu_cell(cell: dict, q15: bool, keep):
    dtype, bdtype = (np.int16, np.int32) if q15 else (np.float32, np.float32)
    ctype, bctype = ("int16_t", "int32_t") if q15 else ("float", "float")
    c = ffi.new("eh_l2mu_q15 *" if q15 else "eh_l2mu_f32 *")
    keep.append(c)
    pop_fn = _pop_q15 if q15 else _pop_f32

    def mat(name, v, bias=False):
        if v is None:
            return None
        a = arr(v, bdtype if bias else dtype)
        keep.append(a)
        setattr(c, name, ptr(ffi, a, bctype if bias else ctype))
        return a

    w_in = mat("w_in", cell["w_in"])
    if w_in.ndim != 2:
        raise ValueError("w_in must be [n_ch, pop]")
    b_in = mat("b_in", cell.get("b_in"), bias=True)
    d = c.dims
    d.n_ch, d.pop = w_in.shape
    enc = cell.get("enc") or []
    if len(enc) > 2:
        raise ValueError("at most 2 encoder layers")
    d.n_enc = len(enc)
    n_sx = d.n_ch * d.pop
    for k, layer in enumerate(enc):
        w = arr(layer["w"], dtype)
        if w.ndim != 2 or w.shape[1] != n_sx:
            raise ValueError(f"enc[{k}].w must be [out, {n_sx}]")
        keep.append(w)
        c.w_enc[k] = ptr(ffi, w, ctype)
        if layer.get("b") is not None:
            bb = arr(layer["b"], bdtype)
            _need(f"enc[{k}].b", bb, (w.shape[0],))
            keep.append(bb)
            c.b_enc[k] = ptr(ffi, bb, bctype)
        d.enc[k] = w.shape[0]
        n_sx = w.shape[0]
        pop_fn(c.pop_enc[k], layer["pop"], keep)
        if q15:
            c.s_enc[k] = _shift(f"enc[{k}].shift", layer.get("shift", 0))
    e_x = mat("e_x", cell["e_x"])
    a = mat("a", cell["a"])
    b = mat("b", cell["b"])
    w_m = mat("w_m", cell["w_m"])
    w_o = mat("w_o", cell["w_o"])
    if e_x.ndim != 2 or a.ndim != 2 or b.ndim != 1 or w_m.ndim != 2 or w_o.ndim != 2:
        raise ValueError("e_x, a, w_m, w_o must be 2-D and b 1-D")
    d.n_u, d.order, d.n_h, d.n_o = e_x.shape[0], a.shape[0], w_m.shape[0], w_o.shape[0]
    n_m = d.n_u * d.order
    _need("e_x", e_x, (d.n_u, n_sx))
    _need("a", a, (d.order, d.order))
    _need("b", b, (d.order,))
    _need("w_m", w_m, (d.n_h, n_m))
    _need("w_o", w_o, (d.n_o, d.n_h))
    _need("b_in", b_in, (d.n_ch, d.pop))
    for name, shape in (("e_h", (d.n_u, d.n_h)), ("e_m", (d.n_u, n_m)), ("w_x", (d.n_h, n_sx)),
                        ("w_h", (d.n_h, d.n_h))):
        _need(name, mat(name, cell.get(name)), shape)
    _need("b_o", mat("b_o", cell.get("b_o"), bias=True), (d.n_o,))
    for name in ("in", "u", "m", "h", "o"):
        pop_fn(getattr(c, f"pop_{name}"), cell[f"pop_{name}"], keep)
    ro = cell.get("readout", "lif")
    if ro not in READOUTS:
        raise ValueError(f"readout must be one of {sorted(READOUTS)}, got {ro!r}")
    c.readout = READOUTS[ro]
    if q15:
        for name in ("s_in", "s_ex", "s_eh", "s_em", "s_a", "s_b", "s_wx", "s_wh", "s_wm", "s_o"):
            setattr(c, name, _shift(name, cell.get(name, 0)))
    sizes = [d.n_ch * d.pop] + [d.enc[k] for k in range(d.n_enc)]
    p_max = max(sizes + [d.n_u, n_m, d.n_h, d.n_o])
    q_max = max(sizes)
    scratch_len = p_max + q_max + d.n_h + n_m if q15 else p_max
    return c, scratch_len


def _l2mu_state(state: dict, q15: bool, keep):
    dtype, ctype = (np.int16, "int16_t") if q15 else (np.float32, "float")
    cst = ffi.new("eh_l2mu_state_q15 *" if q15 else "eh_l2mu_state_f32 *")
    keep.append(cst)
    new = {"enc": []}
    for name in ("in", "u", "m", "h", "o"):
        new[name] = _pop_state(getattr(cst, name), state.get(name), dtype, ctype, keep)
    for k, st in enumerate((state.get("enc") or [])[:2]):
        new["enc"].append(_pop_state(cst.enc[k], st, dtype, ctype, keep))
    return cst, new


def _step(cell, state, x, q15):
    keep: list = []
    c, scratch_len = _l2mu_cell(cell, q15, keep)
    cst, new = _l2mu_state(state, q15, keep)
    dtype, ctype = (np.int16, "int16_t") if q15 else (np.float32, "float")
    x = _m1("x", x, dtype)
    if x.shape != (c.dims.n_ch,):
        raise ValueError(f"x must be [{c.dims.n_ch}]")
    scratch = np.zeros(scratch_len, dtype)
    name = "eh_l2mu_step_q15" if q15 else "eh_l2mu_step_f32"
    check(name, getattr(lib, name)(c, ptr(ffi, x, ctype), cst, ptr(ffi, scratch, ctype), scratch.size))
    new["enc"] = new["enc"][:c.dims.n_enc]
    new["o"] = state["o"]
    return new


def _readout(cell, state, q15):
    keep: list = []
    c, scratch_len = _l2mu_cell(cell, q15, keep)
    cst, new = _l2mu_state(state, q15, keep)
    dtype, ctype = (np.int16, "int16_t") if q15 else (np.float32, "float")
    scratch = np.zeros(scratch_len, dtype)
    name = "eh_l2mu_readout_q15" if q15 else "eh_l2mu_readout_f32"
    check(name, getattr(lib, name)(c, cst, ptr(ffi, scratch, ctype), scratch.size))
    result = dict(state)
    result["o"] = new["o"]
    return result


def l2mu_step_f32(cell: dict, state: dict, x) -> dict:
    return _step(cell, state, x, False)


def l2mu_step_q15(cell: dict, state: dict, x) -> dict:
    return _step(cell, state, x, True)


def l2mu_readout_f32(cell: dict, state: dict) -> dict:
    return _readout(cell, state, False)


def l2mu_readout_q15(cell: dict, state: dict) -> dict:
    return _readout(cell, state, True)


def _run(step, readout, cell, state, xs):
    xs = np.asarray(xs)
    if xs.ndim != 2 or xs.shape[0] == 0:
        raise ValueError(f"xs must be [T, n_ch] with T >= 1, got shape {xs.shape}")
    trace = []
    for t in range(xs.shape[0]):
        state = readout(cell, step(cell, state, xs[t]))
        o = state["o"]
        trace.append(o["s"].copy() if cell.get("readout", "lif") == "lif" else o["v"].copy())
    return state, np.stack(trace)


def l2mu_run_f32(cell: dict, xs, state: dict | None = None):
    return _run(l2mu_step_f32, l2mu_readout_f32, cell,
                l2mu_state_f32(cell) if state is None else state, xs)


def l2mu_run_q15(cell: dict, xs, state: dict | None = None):
    return _run(l2mu_step_q15, l2mu_readout_q15, cell,
                l2mu_state_q15(cell) if state is None else state, xs)


# ---- prepare once, step often (Q15 L2MU) -------------------------------------------------------

def l2mu_check_q15(cell: dict, scratch_len: int | None = None) -> None:
    """eh_l2mu_check_q15 (KernelError when the cell would be rejected by a step). scratch_len
    defaults to the step's scratch size for this cell."""
    keep: list = []
    c, need = _l2mu_cell(cell, True, keep)
    n = need if scratch_len is None else int(scratch_len)
    if not 0 <= n <= 0xFFFFFFFF:
        raise ValueError("scratch_len must lie in [0, 2^32)")
    check("eh_l2mu_check_q15", lib.eh_l2mu_check_q15(c, n))


def l2mu_readout_check_q15(cell: dict, scratch_len: int | None = None) -> None:
    """eh_l2mu_readout_check_q15 (KernelError when the readout would reject the cell)."""
    keep: list = []
    c, need = _l2mu_cell(cell, True, keep)
    n = need if scratch_len is None else int(scratch_len)
    if not 0 <= n <= 0xFFFFFFFF:
        raise ValueError("scratch_len must lie in [0, 2^32)")
    check("eh_l2mu_readout_check_q15", lib.eh_l2mu_readout_check_q15(c, n))


_POPS = ("in", "u", "m", "h")


def _need_state(c, cst, readout: bool) -> None:
    """The state buffers an unchecked call dereferences must be present (NULL is undefined
    behaviour in C): raise ValueError instead."""
    def pop_ok(p, st):
        cuba = p.leak_syn.decay != ffi.NULL or p.leak_syn.shift != ffi.NULL
        return st.v != ffi.NULL and st.s != ffi.NULL and (not cuba or st.i_syn != ffi.NULL)

    if readout:
        ok = cst.h.s != ffi.NULL and cst.o.v != ffi.NULL and (
            c.readout != READOUTS["lif"] or pop_ok(c.pop_o, cst.o))
    else:
        ok = all(pop_ok(getattr(c, f"pop_{p}"), getattr(cst, p)) for p in _POPS) and all(
            pop_ok(c.pop_enc[k], cst.enc[k]) for k in range(c.dims.n_enc))
    if not ok:
        raise ValueError("the state lacks a buffer the populations use (see l2mu_state_q15)")


def l2mu_step_q15_unchecked(cell: dict, state: dict, x) -> dict:
    """eh_l2mu_step_q15_unchecked, behind eh_l2mu_check_q15 and a check that the state holds
    every buffer the step uses (so no call from Python reaches undefined behaviour)."""
    keep: list = []
    c, scratch_len = _l2mu_cell(cell, True, keep)
    check("eh_l2mu_check_q15", lib.eh_l2mu_check_q15(c, scratch_len))
    cst, new = _l2mu_state(state, True, keep)
    _need_state(c, cst, False)
    x = _m1("x", x, np.int16)
    if x.shape != (c.dims.n_ch,):
        raise ValueError(f"x must be [{c.dims.n_ch}]")
    scratch = np.zeros(scratch_len, np.int16)
    lib.eh_l2mu_step_q15_unchecked(c, ptr(ffi, x, "int16_t"), cst, ptr(ffi, scratch, "int16_t"))
    new["enc"] = new["enc"][:c.dims.n_enc]
    new["o"] = state["o"]
    return new


def l2mu_readout_q15_unchecked(cell: dict, state: dict) -> dict:
    """eh_l2mu_readout_q15_unchecked, behind eh_l2mu_readout_check_q15 and a state check."""
    keep: list = []
    c, scratch_len = _l2mu_cell(cell, True, keep)
    check("eh_l2mu_readout_check_q15", lib.eh_l2mu_readout_check_q15(c, scratch_len))
    cst, new = _l2mu_state(state, True, keep)
    _need_state(c, cst, True)
    scratch = np.zeros(scratch_len, np.int16)
    lib.eh_l2mu_readout_q15_unchecked(c, cst, ptr(ffi, scratch, "int16_t"))
    result = dict(state)
    result["o"] = new["o"]
    return result
