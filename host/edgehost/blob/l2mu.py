"""The L2MU layer of the `.ehm` blob (layer type 48, `l2mu_q15`; docs/model-format.md).

A whole Q15 L2MU cell (kernels_c/include/eh_lmu.h, the dict of edgehost.sim.l2mu_*) is one
layer with two parameters:

  param 0 "cell": u32[66], the descriptor (dims, readout, shifts, population flags and the entry
                  count of every array; the layout is DESC below)
  param 1 "data": u8[...], the arrays, in the order of ARRAYS, each starting 4-aligned (relative
                  to the start of the parameter, itself 8-aligned in the blob) and packed with
                  no other gap: its length is exactly `data_bytes(desc)`.

This module encodes a cell into the two parameters, decodes them back to a cell dict, checks a
descriptor and the data values exactly as the C loader does (firmware/model/eh_model.c,
`check_l2mu_*`), in the same order and with the same messages, and gives the sizes and layout
of the layer's state and scratch tensors.
"""
from __future__ import annotations

import numpy as np

MAX_DIM = 65535
MAX_SHIFT = 31

DIMS = ("n_ch", "pop", "n_enc", "enc0", "enc1", "n_u", "order", "n_h", "n_o")
W_READOUT = 9
SHIFTS = ("s_in", "s_enc0", "s_enc1", "s_ex", "s_eh", "s_em", "s_a", "s_b", "s_wx", "s_wh", "s_wm", "s_o")
W_SHIFTS = 10
POPS = ("in", "enc0", "enc1", "u", "m", "h", "o")
W_FLAGS = W_SHIFTS + len(SHIFTS)          # 22
WEIGHTS = ("w_in", "b_in", "w_enc0", "b_enc0", "w_enc1", "b_enc1", "e_x", "e_h", "e_m", "a", "b",
           "w_x", "w_h", "w_m", "w_o", "b_o")
POP_ARRAYS = ("leak", "syn_leak", "threshold")
ARRAYS = WEIGHTS + tuple(f"pop_{p}.{a}" for p in POPS for a in POP_ARRAYS)
W_COUNTS = W_FLAGS + len(POPS)            # 29
DESC_WORDS = W_COUNTS + len(ARRAYS)       # 66

# population flags
F_RESET_ZERO = 1      # reset to zero (else by subtraction)
F_LEAK_SHIFT = 2      # membrane leak is a u8 shift (else a u16 decay)
F_CUBA = 4            # current-based: has a synaptic leak
F_SYN_SHIFT = 8       # the synaptic leak is a u8 shift (else a u16 decay)
READOUTS = ("lif", "li")


class L2muError(ValueError):
    """A descriptor or data field out of its rule; `param` is 0 (cell) or 1 (data)."""

    def __init__(self, param: int, msg: str):
        super().__init__(msg)
        self.param = param


def _a4(n: int) -> int:
    return (n + 3) // 4 * 4


class Desc:
    """Named access to a descriptor (a sequence of 66 ints)."""

    def __init__(self, words):
        w = [int(v) for v in words]
        self.w = w
        for i, name in enumerate(DIMS):
            setattr(self, name, w[i])
        self.readout = w[W_READOUT]
        self.shifts = dict(zip(SHIFTS, w[W_SHIFTS:W_FLAGS]))
        self.flags = dict(zip(POPS, w[W_FLAGS:W_COUNTS]))
        self.counts = dict(zip(ARRAYS, w[W_COUNTS:DESC_WORDS]))
        self.enc = [self.enc0, self.enc1][:max(0, min(self.n_enc, 2))]

    # sizes (valid once the dims are checked)
    @property
    def n_in(self) -> int:
        return self.n_ch * self.pop

    @property
    def n_m(self) -> int:
        return self.n_u * self.order

    @property
    def n_sx(self) -> int:
        return self.enc[-1] if self.enc else self.n_in

    def pop_size(self, p: str) -> int:
        return {"in": self.n_in, "enc0": self.enc0, "enc1": self.enc1, "u": self.n_u, "m": self.n_m,
                "h": self.n_h, "o": self.n_o}[p]

    def active(self, p: str) -> bool:
        return not (p == "enc0" and self.n_enc < 1) and not (p == "enc1" and self.n_enc < 2)

    def cuba(self, p: str) -> bool:
        return bool(self.flags[p] & F_CUBA)


def elsize(d: Desc, name: str) -> int:
    """Bytes per entry of an array."""
    if name.startswith("b_"):
        return 4
    if name.endswith(".leak"):
        return 1 if d.flags[name[4:-5]] & F_LEAK_SHIFT else 2
    if name.endswith(".syn_leak"):
        return 1 if d.flags[name[4:-9]] & F_SYN_SHIFT else 2
    return 2


def _expected(d: Desc, name: str) -> tuple[tuple[int, ...], str]:
    """Allowed entry counts of an array and their description."""
    n_sx, n_m = d.n_sx, d.n_m
    if name.startswith("pop_"):
        p, a = name[4:].split(".")
        n = d.pop_size(p)
        if not d.active(p):
            return (0,), "0"
        if a == "syn_leak" and not d.cuba(p):
            return (0,), "0"
        if a == "threshold" and p == "o" and d.readout == 1:
            return (0,), "0 (the li readout has no threshold)"
        return (1, n), f"1 or {n}"
    fan = {"w_enc0": d.n_in, "w_enc1": d.enc0}
    need = {"w_in": d.n_in, "e_x": d.n_u * n_sx, "a": d.order * d.order, "b": d.order,
            "w_m": d.n_h * n_m, "w_o": d.n_o * d.n_h}
    opt = {"b_in": d.n_in, "e_h": d.n_u * d.n_h, "e_m": d.n_u * n_m, "w_x": d.n_h * n_sx,
           "w_h": d.n_h * d.n_h, "b_o": d.n_o}
    if name in need:
        return (need[name],), str(need[name])
    if name in opt:
        return (0, opt[name]), f"0 or {opt[name]}"
    k = int(name[-1])
    if k >= d.n_enc:
        return (0,), "0"
    if name.startswith("w_enc"):
        n = d.enc[k] * fan[name]
        return (n,), str(n)
    return (0, d.enc[k]), f"0 or {d.enc[k]}"


def check_desc(words, n_in: int, n_out: int) -> Desc:
    """Validate a descriptor (param 0) against the layer's n_in / n_out; raises L2muError."""
    d = Desc(words)

    def bad(msg):
        raise L2muError(0, msg)

    for name in DIMS:
        v = getattr(d, name)
        if name == "n_enc":
            if v > 2:
                bad(f"n_enc {v} outside [0, 2]")
        elif name in ("enc0", "enc1") and int(name[-1]) >= d.n_enc:
            if v != 0:
                bad(f"{name} {v} must be 0 (n_enc {d.n_enc})")
        elif not 1 <= v <= MAX_DIM:
            bad(f"{name} {v} outside [1, {MAX_DIM}]")
    if d.n_ch * d.pop > MAX_DIM:
        bad(f"n_ch * pop {d.n_ch * d.pop} > {MAX_DIM}")
    if d.n_u * d.order > MAX_DIM:
        bad(f"n_u * order {d.n_u * d.order} > {MAX_DIM}")
    if d.n_ch != n_in:
        bad(f"n_ch {d.n_ch} but n_in is {n_in}")
    if d.n_o != n_out:
        bad(f"n_o {d.n_o} but n_out is {n_out}")
    if d.readout > 1:
        bad(f"readout {d.readout} is neither 0 (lif) nor 1 (li)")
    for name in SHIFTS:
        if d.shifts[name] > MAX_SHIFT:
            bad(f"{name} {d.shifts[name]} outside [0, {MAX_SHIFT}]")
    for p in POPS:
        f = d.flags[p]
        if f > 15:
            bad(f"pop_{p} flags 0x{f:x} has unknown bits")
        if not d.active(p) and f:
            bad(f"pop_{p} flags 0x{f:x} must be 0 (n_enc {d.n_enc})")
        if (f & F_SYN_SHIFT) and not (f & F_CUBA):
            bad(f"pop_{p} flags 0x{f:x}: a synaptic leak kind without a synaptic leak")
        if p == "o" and d.readout == 1 and (f & (F_CUBA | F_RESET_ZERO)):
            bad(f"pop_o flags 0x{f:x}: the li readout takes no synaptic leak and no reset")
    for name in ARRAYS:
        allowed, want = _expected(d, name)
        if d.counts[name] not in allowed:
            bad(f"{name} count {d.counts[name]}, expected {want}")
    return d


def data_bytes(d: Desc) -> int:
    return sum(_a4(d.counts[a] * elsize(d, a)) for a in ARRAYS)


def _arrays(d: Desc, data: np.ndarray) -> dict:
    """name -> numpy array (absent: None) of a data parameter of the right length."""
    out, pos = {}, 0
    raw = np.asarray(data, np.uint8)
    for a in ARRAYS:
        n, es = d.counts[a], elsize(d, a)
        if n == 0:
            out[a] = None
            continue
        dt = {1: "u1", 2: ("<u2" if "leak" in a else "<i2"), 4: "<i4"}[es]
        out[a] = raw[pos:pos + n * es].view(dt)
        pos += _a4(n * es)
    return out


def check_data(d: Desc, data: np.ndarray) -> None:
    """Values of the data parameter (its length already checked): leaks and thresholds."""
    arrs = _arrays(d, data)
    for a in ARRAYS:
        v = arrs[a]
        if v is None or not a.startswith("pop_"):
            continue
        if a.endswith("threshold"):
            badm, msg = v < 1, "outside [1, 32767]"
        elif v.dtype == np.uint8:
            badm, msg = (v < 1) | (v > 15), "outside [1, 15]"
        else:
            badm, msg = v > 32768, "outside [0, 32768]"
        if badm.any():
            i = int(np.argmax(badm))
            raise L2muError(1, f"{a} entry {i} ({int(v[i])}) {msg}")


def state_sizes(d: Desc) -> tuple[int, int, int]:
    """Elements of (state 0: q15 v and i_syn, state 1: spikes, state 2: q15 scratch)."""
    nv = ns = 0
    for p in POPS:
        if not d.active(p):
            continue
        n = d.pop_size(p)
        if p != "o":
            nv += n
            ns += n
        elif d.readout == 0:
            ns += n
        if d.cuba(p):
            nv += n
    sizes = [d.n_in] + d.enc
    p_max = max(sizes + [d.n_u, d.n_m, d.n_h, d.n_o])
    return nv, ns, p_max + max(sizes) + d.n_h + d.n_m


def state_layout(d: Desc) -> list[tuple[str, str, int, int]]:
    """(population, field, start, n) in the v tensor ("v", "i_syn") and the s tensor ("s"), in
    the order the C interpreter lays them out: per population in POPS order, v then i_syn; the
    readout's v is the layer's output tensor (not listed)."""
    out, pv, ps = [], 0, 0
    for p in POPS:
        if not d.active(p):
            continue
        n = d.pop_size(p)
        if p != "o":
            out.append((p, "v", pv, n))
            pv += n
        if d.cuba(p):
            out.append((p, "i_syn", pv, n))
            pv += n
        if p != "o" or d.readout == 0:
            out.append((p, "s", ps, n))
            ps += n
    return out


# ---------------------------------------------------------------------------------------------
# cell dict <-> parameters


def _pop_of(cell: dict, p: str):
    if p.startswith("enc"):
        enc = cell.get("enc") or []
        k = int(p[-1])
        return enc[k]["pop"] if k < len(enc) else None
    return cell[f"pop_{p}"]


def encode(cell: dict) -> tuple[np.ndarray, np.ndarray]:
    """(descriptor u32[66], data u8[...]) of a Q15 cell dict (edgehost.sim.l2mu_*_q15). The LI
    readout's threshold is dropped (the kernel ignores it). Shapes are checked by check_desc
    when the model is written; values by the blob reader."""
    def a2(x, dt):
        return None if x is None else np.ascontiguousarray(np.asarray(x)).astype(dt, copy=False)

    w_in = np.asarray(cell["w_in"])
    if w_in.ndim != 2:
        raise ValueError(f"w_in must be [n_ch, pop], got shape {w_in.shape}")
    enc = list(cell.get("enc") or [])
    if len(enc) > 2:
        raise ValueError("at most 2 encoder layers")
    readout = cell.get("readout", "lif")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    arrays = {"w_in": cell["w_in"], "b_in": cell.get("b_in"), "e_x": cell["e_x"], "e_h": cell.get("e_h"),
              "e_m": cell.get("e_m"), "a": cell["a"], "b": cell["b"], "w_x": cell.get("w_x"),
              "w_h": cell.get("w_h"), "w_m": cell["w_m"], "w_o": cell["w_o"], "b_o": cell.get("b_o")}
    for k in range(2):
        arrays[f"w_enc{k}"] = enc[k]["w"] if k < len(enc) else None
        arrays[f"b_enc{k}"] = enc[k].get("b") if k < len(enc) else None
    dims = {"n_ch": w_in.shape[0], "pop": w_in.shape[1], "n_enc": len(enc),
            "enc0": np.asarray(enc[0]["w"]).shape[0] if len(enc) > 0 else 0,
            "enc1": np.asarray(enc[1]["w"]).shape[0] if len(enc) > 1 else 0,
            "n_u": np.asarray(cell["e_x"]).shape[0], "order": np.asarray(cell["a"]).shape[0],
            "n_h": np.asarray(cell["w_m"]).shape[0], "n_o": np.asarray(cell["w_o"]).shape[0]}
    shifts = {s: cell.get(s, 0) for s in SHIFTS if not s.startswith("s_enc")}
    for k in range(2):
        shifts[f"s_enc{k}"] = enc[k].get("shift", 0) if k < len(enc) else 0
    flags = {}
    for p in POPS:
        pop = _pop_of(cell, p)
        if pop is None:
            flags[p] = 0
            arrays.update({f"pop_{p}.{a}": None for a in POP_ARRAYS})
            continue
        if (pop.get("decay") is None) == (pop.get("shift") is None):
            raise ValueError(f"pop_{p}: exactly one of decay / shift")
        if pop.get("syn_decay") is not None and pop.get("syn_shift") is not None:
            raise ValueError(f"pop_{p}: at most one of syn_decay / syn_shift")
        reset = pop.get("reset", "subtract")
        if reset not in ("subtract", "zero"):
            raise ValueError(f"pop_{p}: reset must be 'subtract' or 'zero', got {reset!r}")
        cuba = pop.get("syn_decay") is not None or pop.get("syn_shift") is not None
        f = (F_RESET_ZERO if reset == "zero" else 0) | (F_LEAK_SHIFT if pop.get("shift") is not None else 0)
        f |= (F_CUBA if cuba else 0) | (F_SYN_SHIFT if pop.get("syn_shift") is not None else 0)
        li = p == "o" and readout == "li"
        if li:
            f &= ~F_RESET_ZERO          # the li readout has no reset (the kernel ignores it)
        flags[p] = f
        arrays[f"pop_{p}.leak"] = pop["shift"] if pop.get("shift") is not None else pop["decay"]
        arrays[f"pop_{p}.syn_leak"] = pop.get("syn_shift") if pop.get("syn_shift") is not None \
            else pop.get("syn_decay")
        arrays[f"pop_{p}.threshold"] = None if li else pop.get("threshold")
    words = [int(dims[n]) for n in DIMS] + [READOUTS.index(readout)]
    words += [int(shifts[s]) for s in SHIFTS] + [flags[p] for p in POPS]
    d0 = Desc(words + [0] * len(ARRAYS))
    blobs = []
    for a in ARRAYS:
        v = arrays[a]
        if v is None:
            words.append(0)
            continue
        es = elsize(d0, a)
        dt = {1: np.uint8, 2: (np.uint16 if "leak" in a else np.int16), 4: np.int32}[es]
        x = np.atleast_1d(np.asarray(v))
        if x.size and (x.dtype.kind not in "iub" or x.min() < np.iinfo(dt).min or x.max() > np.iinfo(dt).max):
            raise ValueError(f"{a}: values do not fit {np.dtype(dt).name}")
        raw = np.ascontiguousarray(x.astype(dt).ravel()).astype(np.dtype(dt).newbyteorder("<")).tobytes()
        words.append(x.size)
        blobs.append(raw + bytes(_a4(len(raw)) - len(raw)))
    if any(not 0 <= w <= 0xFFFFFFFF for w in words):
        raise ValueError("a descriptor field does not fit u32")
    return np.array(words, np.uint32), np.frombuffer(b"".join(blobs), np.uint8).copy()


def decode(desc, data) -> dict:
    """The Q15 cell dict (edgehost.sim.l2mu_*_q15) of checked parameters."""
    d = desc if isinstance(desc, Desc) else Desc(desc)
    arrs = _arrays(d, data)

    def mat(name, rows):
        v = arrs[name]
        return None if v is None else v.reshape(rows, -1)

    def pop(p):
        f = d.flags[p]
        out = {"reset": "zero" if f & F_RESET_ZERO else "subtract"}
        out["shift" if f & F_LEAK_SHIFT else "decay"] = arrs[f"pop_{p}.leak"]
        if f & F_CUBA:
            out["syn_shift" if f & F_SYN_SHIFT else "syn_decay"] = arrs[f"pop_{p}.syn_leak"]
        if arrs[f"pop_{p}.threshold"] is not None:
            out["threshold"] = arrs[f"pop_{p}.threshold"]
        return out

    cell = {"w_in": mat("w_in", d.n_ch), "b_in": mat("b_in", d.n_ch), "enc": [],
            "e_x": mat("e_x", d.n_u), "e_h": mat("e_h", d.n_u), "e_m": mat("e_m", d.n_u),
            "a": mat("a", d.order), "b": arrs["b"], "w_x": mat("w_x", d.n_h), "w_h": mat("w_h", d.n_h),
            "w_m": mat("w_m", d.n_h), "w_o": mat("w_o", d.n_o), "b_o": arrs["b_o"],
            "readout": READOUTS[d.readout]}
    for k, n in enumerate(d.enc):
        cell["enc"].append({"w": mat(f"w_enc{k}", n), "b": arrs[f"b_enc{k}"], "pop": pop(f"enc{k}"),
                            "shift": d.shifts[f"s_enc{k}"]})
    for p in ("in", "u", "m", "h", "o"):
        cell[f"pop_{p}"] = pop(p)
    for s in SHIFTS:
        if not s.startswith("s_enc"):
            cell[s] = d.shifts[s]
    return cell
