"""Reader, validator and writer of `.ehm` model blobs (docs/model-format.md).

`read(data)` validates every field in the same order as the C loader (firmware/model/eh_model.c)
and raises `BlobError` naming the field and the reason; `Model.to_bytes()` writes a blob and
reads it back, so that an invalid model is never written.
"""
from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import format as F
from . import l2mu as _l2mu


class BlobError(ValueError):
    """A blob (or a model about to be written) breaks the format; `code` is the C loader's code."""

    def __init__(self, message: str, code: int = F.E_LAYOUT):
        super().__init__(message)
        self.code = code


def fnv1a32(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def align(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def dtype_size(code: int) -> int:
    return F.DTYPES[code][1]


@dataclass
class Tensor:
    """A tensor of the static memory plan: where it lives in the arena and what it holds."""
    dtype: str                      # f32, q15, spike, s8, s32, u16, u32
    shape: tuple[int, ...]
    kind: str = "activation"        # activation (arena reused) or state (persistent)
    offset: int = 0                 # byte offset in the arena
    scale: float = 1.0              # real value = stored value * scale

    @property
    def n(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return F.tensor_nbytes(F.DTYPE_CODES[self.dtype], self.n)

    @property
    def storage_len(self) -> int:
        """Entries of the numpy array that holds it (words for b1)."""
        return self.nbytes // self.np_dtype.itemsize

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(F.NUMPY_DTYPES[F.DTYPE_CODES[self.dtype]])


@dataclass
class Layer:
    """One layer: its type, tensor ids, sizes, quantisation fields and parameter arrays."""
    type: str
    input: int
    output: int
    n_in: int
    n_out: int
    params: list = field(default_factory=list)   # numpy arrays (or None) in slot order
    states: list = field(default_factory=list)   # tensor ids of the state slots
    shift: int = 0
    reset: str = "subtract"
    leak: tuple = ()                             # "decay" or "shift" for each leak parameter
    input2: int | None = None                    # second input tensor id (lif_adapt_*), else None

    @property
    def code(self) -> int:
        return F.LAYER_CODES[self.type]

    @property
    def spec(self) -> F.Spec:
        return F.SPECS[self.code]

    def param(self, name: str):
        for (pname, _, _, _), arr in zip(self.spec.params, self.params):
            if pname == name:
                return arr
        raise KeyError(name)


@dataclass
class Model:
    layers: list
    tensors: list
    input: int
    output: int
    arena_size: int
    flags: int = 0
    model_hash: int = 0     # filled in by read() / to_bytes()

    @property
    def input_tensor(self) -> Tensor:
        return self.tensors[self.input]

    @property
    def output_tensor(self) -> Tensor:
        return self.tensors[self.output]

    def param_bytes(self) -> int:
        return sum(int(p.nbytes) for l in self.layers for p in l.params if p is not None)

    def to_bytes(self) -> bytes:
        data = _write(self)
        m = read(data)          # never write what the loader would refuse
        self.model_hash = m.model_hash
        return data


# ---------------------------------------------------------------------------------------------
# writing

def _param_dtype(spec: F.Spec, slot: int, layer: Layer) -> np.dtype:
    name, kind, dt, _ = spec.params[slot]
    if kind == "leak":
        li = sum(1 for p in spec.params[:slot] if p[1] == "leak")
        if li >= len(layer.leak):
            raise BlobError(f"layer {layer.type}: leak kind missing for parameter {name}", F.E_PARAM)
        return np.dtype("<u2") if layer.leak[li] == "decay" else np.dtype("u1")
    return np.dtype(dt)


def _write(m: Model) -> bytes:
    L, T = len(m.layers), len(m.tensors)
    tensors_off = F.HEADER_SIZE + F.LAYER_SIZE * L
    weights_off = align(tensors_off + F.TENSOR_SIZE * T, F.WEIGHT_ALIGN)
    weights = bytearray()
    layer_recs = []
    for li, layer in enumerate(m.layers):
        if layer.type not in F.LAYER_CODES:
            raise BlobError(f"layer {li}: unknown type {layer.type!r}", F.E_UNSUPPORTED)
        spec = layer.spec
        if len(layer.params) > len(spec.params):
            raise BlobError(f"layer {li} ({layer.type}): {len(layer.params)} parameters, "
                            f"expected {len(spec.params)}", F.E_PARAM)
        slots = []
        for s in range(F.N_PARAMS):
            arr = layer.params[s] if s < len(layer.params) else None
            if arr is None or s >= len(spec.params):
                slots.append((0, 0))
                continue
            dt = _param_dtype(spec, s, layer)
            a = np.ascontiguousarray(np.asarray(arr).ravel())
            if a.dtype != dt:
                if dt.kind in "iu" and a.size and (a.dtype.kind not in "iub" or a.min() < np.iinfo(dt).min
                                                   or a.max() > np.iinfo(dt).max):
                    raise BlobError(f"layer {li} ({layer.type}): param {s} ({spec.params[s][0]}) "
                                    f"values do not fit {dt.name}", F.E_PARAM)
                a = a.astype(dt)
            while len(weights) % F.WEIGHT_ALIGN:
                weights.append(0)
            off = weights_off + len(weights)
            raw = a.tobytes()
            weights += raw
            slots.append((off, len(raw)) if raw else (0, 0))
        leak_bits = 0
        for i, k in enumerate(layer.leak):
            if k not in ("decay", "shift"):
                raise BlobError(f"layer {li} ({layer.type}): leak kind {k!r}", F.E_PARAM)
            leak_bits |= (1 if k == "shift" else 0) << i
        if layer.reset not in ("subtract", "zero"):
            raise BlobError(f"layer {li} ({layer.type}): reset {layer.reset!r}", F.E_LAYER)
        st = list(layer.states) + [F.NONE] * (F.N_STATES - len(layer.states))
        if bool(spec.in2_dt) != (layer.input2 is not None):
            raise BlobError(f"layer {li} ({layer.type}): " + ("needs a second input (input2)" if spec.in2_dt
                            else "takes no second input"), F.E_LAYER)
        rec = struct.pack("<BBBBHH3HHIIII", layer.code, 1 if layer.reset == "zero" else 0, leak_bits, 0,
                          layer.input, layer.output, *st[:3], layer.input2 or 0, layer.n_in, layer.n_out,
                          layer.shift, 0)
        rec += b"".join(struct.pack("<II", o, n) for o, n in slots)
        layer_recs.append(rec)
    while len(weights) % F.WEIGHT_ALIGN:
        weights.append(0)
    tensor_recs = []
    for t in m.tensors:
        dims = list(t.shape) + [0] * (4 - len(t.shape))
        tensor_recs.append(struct.pack("<BBBBII4If", F.DTYPE_CODES[t.dtype], 1 if t.kind == "state" else 0,
                                       len(t.shape), 0, t.offset, t.nbytes, *dims[:4], t.scale))
    total = weights_off + len(weights)
    body = bytearray(total)
    body[F.HEADER_SIZE:tensors_off] = b"".join(layer_recs)
    body[tensors_off:tensors_off + F.TENSOR_SIZE * T] = b"".join(tensor_recs)
    body[weights_off:] = weights
    minor = max([F.LAYER_MINOR.get(layer.code, 0) for layer in m.layers] + [0])
    struct.pack_into("<4sHHII", body, 0, F.MAGIC, F.VERSION_MAJOR, minor, m.flags, total)
    struct.pack_into("<HHHHIIIII", body, 24, L, T, m.input, m.output, F.HEADER_SIZE, tensors_off,
                     weights_off, len(weights), m.arena_size)
    struct.pack_into("<I", body, 20, fnv1a32(bytes(body[24:])))
    struct.pack_into("<I", body, 16, crc32(bytes(body[20:])))
    return bytes(body)


# ---------------------------------------------------------------------------------------------
# reading and validation (same order of checks as firmware/model/eh_model.c)

def _f32_check(vals: np.ndarray, check: str | None) -> str | None:
    if check is None:
        return None
    v = vals.astype(np.float64)
    if check == "finite":
        bad = ~np.isfinite(v)
        what = "not finite"
    elif check == "unit":
        bad = ~((v >= 0) & (v <= 1))
        what = "outside [0, 1]"
    elif check == "pos":
        bad = ~(np.isfinite(v) & (v > 0))
        what = "not > 0 and finite"
    elif check == "thr15":
        bad = v < 1
        what = "outside [1, 32767]"
    else:  # pragma: no cover
        raise AssertionError(check)
    if bad.any():
        i = int(np.argmax(bad))
        return f"entry {i} ({vals[i].item()!r}) {what}"
    return None


def _check_mst_tree(w: np.ndarray, n_in: int, n_out: int):
    """The mst_fc_b1 tree parameter, in the C loader's order. Returns (error or None,
    (n_roots, n_diff, parent, diff_start))."""
    n = n_out
    n_roots, n_diff = int(w[0]), int(w[1])
    if not 1 <= n_roots <= n:
        return f"n_roots {n_roots} outside [1, {n}]", None
    lim = (n - n_roots) * n_in
    if n_diff > lim:
        return f"n_diff {n_diff} > {lim} ((n_out - n_roots) x n_in)", None
    parent = w[2:2 + n].view(np.int32).astype(np.int64)
    channel = w[2 + n:2 + 2 * n].astype(np.int64)
    node_of = w[2 + 2 * n:2 + 3 * n].astype(np.int64)
    start = w[2 + 3 * n:3 + 4 * n].astype(np.int64)
    if start[0] != 0 or start[n] != n_diff:
        return (f"diff_start[0] {start[0]} and diff_start[{n}] {start[n]} must be 0 and n_diff "
                f"({n_diff})"), None
    p = np.arange(n)
    ch_ok = channel < n
    inv = np.where(ch_ok, node_of[np.minimum(channel, n - 1)], -1)
    fails = [start[1:] < start[:-1], (parent < -1) | (parent >= p), (parent == -1) & (start[1:] != start[:-1]),
             ~ch_ok, ch_ok & (inv != p)]
    anyf = np.logical_or.reduce(fails)
    if anyf.any():
        i = int(np.argmax(anyf))
        if fails[0][i]:
            return f"node {i}: diff_start {start[i + 1]} < {start[i]}", None
        if fails[1][i]:
            return f"node {i}: parent {parent[i]} outside [-1, {i - 1}]", None
        if fails[2][i]:
            return f"node {i}: a root owns {start[i + 1] - start[i]} codes", None
        if fails[3][i]:
            return f"node {i}: channel {channel[i]} outside [0, {n - 1}]", None
        return f"node {i}: node_of[{channel[i]}] is {inv[i]}, not {i} (channel is not a permutation)", None
    r = int(np.sum(parent == -1))
    if r != n_roots:
        return f"{r} roots, n_roots says {n_roots}", None
    return None, (n_roots, n_diff, parent, start)


def _check_mst_diff(codes: np.ndarray, mst, n_in: int):
    """The codes of every child: positions < n_in, strictly increasing within the node."""
    _, n_diff, parent, start = mst
    if n_diff == 0:
        return None
    pos = codes.astype(np.int64) >> 1
    node = np.searchsorted(start[1:], np.arange(n_diff), side="right")   # owner of each code
    first = np.zeros(n_diff, bool)
    first[start[:-1][start[:-1] < n_diff]] = True
    prev = np.concatenate([[-1], pos[:-1]])
    bad_range = pos >= n_in
    bad_order = (~first) & (pos <= prev)
    bad = bad_range | bad_order
    if bad.any():
        j = int(np.argmax(bad))
        if bad_range[j]:
            return f"node {node[j]}: code {j} (position {pos[j]}) outside [0, {n_in - 1}]"
        return f"node {node[j]}: code {j} (position {pos[j]}) not after position {prev[j]}"
    return None


def read(data, arena_size: int | None = None) -> Model:
    """Validate a blob and return its Model. `arena_size`: the arena it must fit (as on a device)."""
    data = bytes(data)
    n = len(data)
    if n < F.HEADER_SIZE:
        raise BlobError(f"blob: {n} bytes, shorter than the {F.HEADER_SIZE}-byte header", F.E_LENGTH)
    if data[:4] != F.MAGIC:
        raise BlobError(f"header: magic {data[:4]!r} is not {F.MAGIC!r}", F.E_MAGIC)
    major, minor, flags, total, crc, mhash = struct.unpack_from("<HHIIII", data, 4)
    if major != F.VERSION_MAJOR or minor > F.VERSION_MINOR:
        raise BlobError(f"header: format version {major}.{minor} not supported (this loader reads "
                        f"{F.VERSION_MAJOR}.0 to {F.VERSION_MAJOR}.{F.VERSION_MINOR})", F.E_VERSION)
    if total < F.HEADER_SIZE or total > n:
        raise BlobError(f"header: total_len {total} outside [{F.HEADER_SIZE}, {n}] (bytes given)",
                        F.E_LENGTH)
    got = crc32(data[20:total])
    if got != crc:
        raise BlobError(f"header: crc32 0x{crc:08x} does not match the content (0x{got:08x})", F.E_CRC)
    got = fnv1a32(data[24:total])
    if got != mhash:
        raise BlobError(f"header: model_hash 0x{mhash:08x} does not match the content (0x{got:08x})",
                        F.E_HASH)
    (L, T, inp, outp, layers_off, tensors_off, weights_off, weights_len,
     arena) = struct.unpack_from("<HHHHIIIII", data, 24)
    if flags != 0:
        raise BlobError(f"header: flags 0x{flags:08x} has unknown bits", F.E_HEADER)
    if any(data[52:64]):
        raise BlobError("header: reserved bytes 52..63 are not zero", F.E_HEADER)
    if not 1 <= L <= F.MAX_LAYERS:
        raise BlobError(f"header: n_layers {L} outside [1, {F.MAX_LAYERS}]", F.E_COUNT)
    if not 1 <= T <= F.MAX_TENSORS:
        raise BlobError(f"header: n_tensors {T} outside [1, {F.MAX_TENSORS}]", F.E_COUNT)
    if layers_off != F.HEADER_SIZE:
        raise BlobError(f"header: layers_offset {layers_off} is not {F.HEADER_SIZE}", F.E_LAYOUT)
    want = F.HEADER_SIZE + F.LAYER_SIZE * L
    if tensors_off != want:
        raise BlobError(f"header: tensors_offset {tensors_off} is not {want} (64 + 64 * n_layers)",
                        F.E_LAYOUT)
    want = align(tensors_off + F.TENSOR_SIZE * T, F.WEIGHT_ALIGN)
    if weights_off != want:
        raise BlobError(f"header: weights_offset {weights_off} is not {want}", F.E_LAYOUT)
    if weights_off > total or weights_len != total - weights_off:
        raise BlobError(f"header: weights_offset {weights_off} + weights_len {weights_len} "
                        f"is not total_len ({total})", F.E_LAYOUT)
    if inp >= T:
        raise BlobError(f"header: input_tensor {inp} >= n_tensors ({T})", F.E_COUNT)
    if outp >= T:
        raise BlobError(f"header: output_tensor {outp} >= n_tensors ({T})", F.E_COUNT)
    if arena % F.ARENA_ALIGN:
        raise BlobError(f"header: arena_size {arena} is not a multiple of {F.ARENA_ALIGN}", F.E_ARENA)
    if arena_size is not None and arena > arena_size:
        raise BlobError(f"header: arena_size {arena} > arena given ({arena_size})", F.E_ARENA)

    tensors = []
    for t in range(T):
        dt, kind, ndim, tflags, off, size, d0, d1, d2, d3, scale = struct.unpack_from(
            "<BBBBII4If", data, tensors_off + F.TENSOR_SIZE * t)
        dims = [d0, d1, d2, d3]
        p = f"tensor {t}"
        if dt not in F.DTYPES:
            raise BlobError(f"{p}: dtype {dt} unknown", F.E_TENSOR)
        if kind not in F.KINDS:
            raise BlobError(f"{p}: kind {kind} is neither 0 (activation) nor 1 (state)", F.E_TENSOR)
        if not 1 <= ndim <= 4:
            raise BlobError(f"{p}: ndim {ndim} outside [1, 4]", F.E_TENSOR)
        if tflags:
            raise BlobError(f"{p}: flags {tflags} not zero", F.E_TENSOR)
        elems = 1
        for k in range(4):
            if k < ndim:
                if not 1 <= dims[k] <= F.MAX_ELEMENTS:
                    raise BlobError(f"{p}: dim {k} = {dims[k]} outside [1, {F.MAX_ELEMENTS}]", F.E_TENSOR)
                elems *= dims[k]
                if elems > F.MAX_ELEMENTS:
                    raise BlobError(f"{p}: more than {F.MAX_ELEMENTS} elements", F.E_TENSOR)
            elif dims[k] != 0:
                raise BlobError(f"{p}: dim {k} = {dims[k]} beyond ndim {ndim} must be 0", F.E_TENSOR)
        want = F.tensor_nbytes(dt, elems)
        if size != want:
            raise BlobError(f"{p}: size {size} bytes, expected {want} ({elems} x {F.DTYPES[dt][0]})",
                            F.E_TENSOR)
        if off % F.ARENA_ALIGN:
            raise BlobError(f"{p}: arena offset 0x{off:x} not a multiple of {F.ARENA_ALIGN}", F.E_ALIGN)
        if off > arena or size > arena - off:
            raise BlobError(f"{p}: arena offset 0x{off:x} + {size} past arena_size ({arena})", F.E_ARENA)
        if not (math.isfinite(scale) and scale > 0):
            raise BlobError(f"{p}: scale {scale!r} not > 0 and finite", F.E_TENSOR)
        tensors.append(Tensor(F.DTYPES[dt][0], tuple(dims[:ndim]),
                              "state" if kind else "activation", off, float(scale)))

    writer = [-2] * T        # layer that writes each tensor (-1: the model input)
    writer[inp] = -1
    slot_of = [False] * T    # tensor is a state slot (internal to its layer)
    scratch_of = [False] * T  # tensor is a layer's scratch (an activation of that layer only)
    last = [-2] * T          # last layer that reads each tensor
    layers = []
    for li in range(L):
        base = F.HEADER_SIZE + F.LAYER_SIZE * li
        (code, reset, leak_bits, res0, tin, tout, s0, s1, s2, res1, n_in, n_out, shift,
         res2) = struct.unpack_from("<BBBBHH3HHIIII", data, base)
        slots = [struct.unpack_from("<II", data, base + 32 + 8 * k) for k in range(F.N_PARAMS)]
        if code not in F.SPECS:
            if code in F.RESERVED_LAYERS:
                raise BlobError(f"layer {li}: type {code} ({F.RESERVED_LAYERS[code]}) not supported "
                                f"by this loader", F.E_UNSUPPORTED)
            raise BlobError(f"layer {li}: type {code} unknown", F.E_UNSUPPORTED)
        spec = F.SPECS[code]
        p = f"layer {li} ({spec.name})"
        if res0 or (res1 and not spec.in2_dt) or res2:
            raise BlobError(f"{p}: reserved fields not zero", F.E_LAYER)
        tin2 = res1 if spec.in2_dt else None
        if reset > (1 if spec.reset else 0):
            raise BlobError(f"{p}: reset {reset} invalid", F.E_LAYER)
        if leak_bits >> spec.leaks:
            raise BlobError(f"{p}: leak bits 0x{leak_bits:x} invalid", F.E_LAYER)
        if shift > spec.shift_max:
            raise BlobError(f"{p}: shift {shift} outside [0, {spec.shift_max}]", F.E_PARAM)
        states = [s0, s1, s2]
        for name, tid in [("input", tin)] + ([("input2", tin2)] if spec.in2_dt else []) + [("output", tout)] + [
                (f"state {k}", states[k]) for k in range(len(spec.states))]:
            if tid >= T:
                raise BlobError(f"{p}: {name} tensor {tid} >= n_tensors ({T})", F.E_GRAPH)
        for k in range(len(spec.states), F.N_STATES):
            if states[k] != F.NONE:
                raise BlobError(f"{p}: state slot {k} must be 0xffff (unused), got {states[k]}", F.E_LAYER)
        ti, to = tensors[tin], tensors[tout]
        if F.DTYPE_CODES[ti.dtype] not in spec.in_dt:
            raise BlobError(f"{p}: input tensor {tin} dtype {ti.dtype}, expected "
                            f"{'/'.join(F.DTYPES[d][0] for d in spec.in_dt)}", F.E_LAYER)
        if F.DTYPE_CODES[to.dtype] != spec.out_dt:
            raise BlobError(f"{p}: output tensor {tout} dtype {to.dtype}, expected "
                            f"{F.DTYPES[spec.out_dt][0]}", F.E_LAYER)
        if (to.kind == "state") != (spec.out_kind == F.KIND_STATE):
            raise BlobError(f"{p}: output tensor {tout} kind {to.kind}, expected "
                            f"{F.KINDS[spec.out_kind]}", F.E_LAYER)
        if n_in != ti.n:
            raise BlobError(f"{p}: n_in {n_in} but input tensor {tin} has {ti.n} elements", F.E_LAYER)
        if spec.in2_dt:
            t2 = tensors[tin2]
            if F.DTYPE_CODES[t2.dtype] not in spec.in2_dt:
                raise BlobError(f"{p}: input2 tensor {tin2} dtype {t2.dtype}, expected "
                                f"{'/'.join(F.DTYPES[d][0] for d in spec.in2_dt)}", F.E_LAYER)
            if t2.n != n_in:
                raise BlobError(f"{p}: n_in {n_in} but input2 tensor {tin2} has {t2.n} elements", F.E_LAYER)
        if n_out != to.n:
            raise BlobError(f"{p}: n_out {n_out} but output tensor {tout} has {to.n} elements", F.E_LAYER)
        if spec.same_n and n_in != n_out:
            raise BlobError(f"{p}: n_in {n_in} != n_out {n_out}", F.E_LAYER)
        if spec.n_out_one and n_out != 1:
            raise BlobError(f"{p}: n_out {n_out} must be 1", F.E_LAYER)
        if spec.max_n_in and n_in > spec.max_n_in:
            raise BlobError(f"{p}: n_in {n_in} outside [1, {spec.max_n_in}]", F.E_LAYER)
        W = (n_in + 31) // 32
        taps = 0
        for k, sdt in enumerate(spec.states):
            if spec.scratch:        # checked after the parameters (l2mu: sizes from its descriptor)
                break
            ts = tensors[states[k]]
            if spec.window and k == 0:
                if ts.dtype != "u32" or ts.kind != "state" or ts.n % W:
                    raise BlobError(f"{p}: state 0 tensor {states[0]} must be a u32 state tensor of taps x {W} "
                                    f"elements (the window)", F.E_LAYER)
                taps = ts.n // W
                if taps * n_in > F.MAX_ELEMENTS:
                    raise BlobError(f"{p}: taps {taps} x n_in {n_in} > {F.MAX_ELEMENTS}", F.E_LAYER)
                continue
            if F.DTYPE_CODES[ts.dtype] != sdt or ts.kind != "state" or ts.n != n_out:
                raise BlobError(f"{p}: state {k} tensor {states[k]} must be a {F.DTYPES[sdt][0]} state "
                                f"tensor of {n_out} elements", F.E_LAYER)
        params = []
        desc = None
        mst = None              # (n_roots, n_diff, parent, diff_start) of an mst_fc_b1 layer
        q = 0                   # planes of a bcq_fc_q15 layer
        leak_i = 0
        for k in range(F.N_PARAMS):
            off, ln = slots[k]
            if k >= len(spec.params):
                if off or ln:
                    raise BlobError(f"{p}: param {k} unused but offset/length not 0", F.E_PARAM)
                continue
            pname, pkind, pdt, check = spec.params[k]
            pp = f"{p}: param {k} ({pname})"
            if pkind == "leak":
                pdt = "u1" if (leak_bits >> leak_i) & 1 else "<u2"
                check = "shift" if (leak_bits >> leak_i) & 1 else "decay"
                leak_i += 1
            es = np.dtype(pdt).itemsize
            if ln == 0:
                if off:
                    raise BlobError(f"{pp}: length 0 but offset 0x{off:x}", F.E_PARAM)
                if pkind != "bias" and not (pkind == "mst_diff" and mst[1] == 0):
                    raise BlobError(f"{pp}: missing (length 0)", F.E_PARAM)
                params.append(None)
                continue
            if off < weights_off or off > total or ln > total - off:
                raise BlobError(f"{pp}: offset 0x{off:x} + {ln} outside the weight section "
                                f"[0x{weights_off:x}, 0x{total:x})", F.E_PARAM)
            if off % F.PARAM_ALIGN:
                raise BlobError(f"{pp}: offset 0x{off:x} not a multiple of {F.PARAM_ALIGN}", F.E_ALIGN)
            if ln % es:
                raise BlobError(f"{pp}: length {ln} not a multiple of {es}", F.E_PARAM)
            cnt = ln // es
            if pkind == "norm":
                ok = cnt >= 1 and n_out % cnt == 0 and (k == 0 or cnt == params[0].size)
                want = "a divisor of n (the same for offset and mul)"
            elif pkind == "w":
                ok = cnt == n_out * n_in
                want = str(n_out * n_in)
            elif pkind == "bias":
                ok = cnt == n_out
                want = f"{n_out} or 0"
            elif pkind == "wb1":
                ok = cnt == n_out * ((n_in + 31) // 32)
                want = str(n_out * ((n_in + 31) // 32))
            elif pkind == "vec":
                ok = cnt == n_out
                want = str(n_out)
            elif pkind == "zp":
                ok = cnt == 1
                want = "1"
            elif pkind == "rq":
                ok = cnt == 2 or cnt == 2 * n_out
                want = f"2 or {2 * n_out} (mult then shift, per tensor or per channel)"
            elif pkind == "q8":
                ok = cnt == 4
                want = "4"
            elif pkind == "wconv":
                ok = cnt == n_out * taps * W
                want = str(n_out * taps * W)
            elif pkind == "thrconv":
                ok = cnt == n_out
                want = str(n_out)
            elif pkind == "mst_tree":
                ok = cnt == 4 * n_out + 3
                want = f"{4 * n_out + 3} (n_roots, n_diff, parent, channel, node_of, diff_start)"
            elif pkind == "mst_root":
                ok = cnt == mst[0] * W
                want = f"{mst[0] * W} (n_roots x {W})"
            elif pkind == "mst_diff":
                ok = cnt == mst[1]
                want = f"{mst[1]} (n_diff)"
            elif pkind == "affine":
                ok = cnt == 2 * n_out
                want = f"{2 * n_out} (scale then bias)"
            elif pkind == "pow2":
                ok = cnt == n_out * n_in
                want = str(n_out * n_in)
            elif pkind == "bcq_alpha":
                ok = cnt % n_out == 0 and 1 <= cnt // n_out <= F.BCQ_MAX_Q
                want = f"{n_out} x q with q in [1, {F.BCQ_MAX_Q}]"
            elif pkind == "bcq_w":
                ok = cnt == n_out * q * W
                want = f"{n_out * q * W} (n_out x q x {W})"
            elif pkind == "l2mu_cell":
                ok = cnt == _l2mu.DESC_WORDS
                want = str(_l2mu.DESC_WORDS)
            elif pkind == "l2mu_data":
                want_n = _l2mu.data_bytes(desc)
                ok = cnt == want_n
                want = f"{want_n} (the arrays of param 0, each 4-aligned)"
            else:
                ok = cnt in (1, n_out)
                want = f"1 or {n_out}"
            if not ok:
                raise BlobError(f"{pp}: {cnt} entries, expected {want}", F.E_PARAM)
            vals = np.frombuffer(data, dtype=pdt, count=cnt, offset=off).copy()
            if pkind in ("l2mu_cell", "l2mu_data"):
                try:
                    if pkind == "l2mu_cell":
                        desc = _l2mu.check_desc(vals, n_in, n_out)
                    else:
                        _l2mu.check_data(desc, vals)
                except _l2mu.L2muError as e:
                    raise BlobError(f"{pp}: {e}", F.E_PARAM) from None
                params.append(vals)
                continue
            if pkind == "mst_tree":
                err, mst = _check_mst_tree(vals, n_in, n_out)
                if err:
                    raise BlobError(f"{pp}: {err}", F.E_PARAM)
                params.append(vals)
                continue
            if pkind == "mst_diff":
                err = _check_mst_diff(vals, mst, n_in)
                if err:
                    raise BlobError(f"{pp}: {err}", F.E_PARAM)
                params.append(vals)
                continue
            if pkind == "bcq_alpha":
                q = cnt // n_out
            if check == "decay":
                bad = vals > 32768
                msg = "outside [0, 32768]"
            elif check == "shift":
                bad = (vals < 1) | (vals > 15)
                msg = "outside [1, 15]"
            elif check == "s8":
                bad = (vals < -128) | (vals > 127)
                msg = "outside [-128, 127]"
            elif pkind == "rq":
                h = cnt // 2
                for i in range(cnt):
                    v = int(vals[i])
                    if i < h and v < 0:
                        raise BlobError(f"{pp}: entry {i} (mult {v}) outside [0, 2147483647]", F.E_PARAM)
                    if i >= h and not -31 <= v <= 30:
                        raise BlobError(f"{pp}: entry {i} (shift {v}) outside [-31, 30]", F.E_PARAM)
                bad = None
            elif pkind == "q8":
                for i, nm in enumerate(("x_offset", "y_offset", "act_min", "act_max")):
                    v = int(vals[i])
                    lo = -127 if i == 0 else int(vals[2]) if i == 3 else -128
                    hi = 128 if i == 0 else 127
                    if not lo <= v <= hi:
                        raise BlobError(f"{pp}: entry {i} ({nm} {v}) outside [{lo}, {hi}]", F.E_PARAM)
                bad = None
            elif pkind == "thrconv":
                N = taps * n_in
                bad = (vals < -N) | (vals > N + 1)
                msg = f"outside [-{N}, {N + 1}]"
            elif pkind == "pow2":
                bad = (vals & 0x60) != 0
                msg = "has reserved bits 6..5 set"
            elif pkind == "bcq_alpha":
                bad = (vals < -24) | (vals > 24)
                msg = "outside [-24, 24]"
            elif check == "thrb1":
                bad = (vals < -n_in) | (vals > n_in + 1)
                msg = f"outside [-{n_in}, {n_in + 1}]"
            else:
                bad = None
                err = _f32_check(vals, check)
                if err:
                    raise BlobError(f"{pp}: {err}", F.E_PARAM)
            if bad is not None and bad.any():
                i = int(np.argmax(bad))
                raise BlobError(f"{pp}: entry {i} ({int(vals[i])}) {msg}", F.E_PARAM)
            params.append(vals)
        if spec.scratch:
            if code == F.L_L2MU_Q15:
                sizes, kinds = _l2mu.state_sizes(desc), ("state", "state", "activation")
            else:
                sizes, kinds = (F.scratch_elements(code, n_in, n_out),), ("activation",)
            for k, (sdt, kind, n) in enumerate(zip(spec.states, kinds, sizes)):
                ts = tensors[states[k]]
                if F.DTYPE_CODES[ts.dtype] != sdt or ts.kind != kind or ts.n != n:
                    raise BlobError(f"{p}: state {k} tensor {states[k]} must be a {F.DTYPES[sdt][0]} "
                                    f"{kind} tensor of {n} elements", F.E_LAYER)
        # dataflow: the input exists already, the outputs are written once
        if writer[tin] == -2 or slot_of[tin] or scratch_of[tin]:
            raise BlobError(f"{p}: input tensor {tin} is not the model input nor written by an earlier "
                            f"layer", F.E_GRAPH)
        if spec.in2_dt and (writer[tin2] == -2 or slot_of[tin2] or scratch_of[tin2]):
            raise BlobError(f"{p}: input2 tensor {tin2} is not the model input nor written by an earlier "
                            f"layer", F.E_GRAPH)
        for name, tid in [("output", tout)] + [(f"state {k}", states[k]) for k in range(len(spec.states))]:
            if writer[tid] != -2:
                who = "the model input" if writer[tid] == -1 else f"layer {writer[tid]}"
                raise BlobError(f"{p}: {name} tensor {tid} already written by {who}", F.E_GRAPH)
            writer[tid] = li
        for k in range(len(spec.states)):
            if spec.scratch and k == len(spec.states) - 1:
                scratch_of[states[k]] = True    # lives during this layer only
                last[states[k]] = li
            else:
                slot_of[states[k]] = True
        last[tin] = li
        if spec.in2_dt:
            last[tin2] = li
        layers.append(Layer(spec.name, tin, tout, n_in, n_out, params,
                            states[:len(spec.states)], shift, "zero" if reset else "subtract",
                            tuple("shift" if (leak_bits >> i) & 1 else "decay" for i in range(spec.leaks)),
                            tin2))

    if writer[outp] < 0:
        raise BlobError(f"header: output_tensor {outp} is not written by any layer", F.E_GRAPH)
    if slot_of[outp] or scratch_of[outp]:
        raise BlobError(f"header: output_tensor {outp} is a layer's internal state", F.E_GRAPH)
    last[outp] = L
    for t in range(T):
        if writer[t] == -2:
            raise BlobError(f"tensor {t}: not written by any layer", F.E_GRAPH)
        if not slot_of[t] and last[t] == -2:
            raise BlobError(f"tensor {t}: written by layer {writer[t]} but never read", F.E_GRAPH)
    # the memory plan: state tensors never share bytes; activations only when their lifetimes
    # [writer, last reader] (closed intervals) are disjoint.
    for a in range(T):
        ta = tensors[a]
        for b in range(a + 1, T):
            tb = tensors[b]
            if ta.offset < tb.offset + tb.nbytes and tb.offset < ta.offset + ta.nbytes:
                if ta.kind == "state" or tb.kind == "state":
                    raise BlobError(f"tensor {b}: arena [0x{tb.offset:x}, +{tb.nbytes}) overlaps tensor {a} "
                                    f"(a state tensor shares no bytes)", F.E_OVERLAP)
                if not (last[a] < writer[b] or last[b] < writer[a]):
                    raise BlobError(f"tensor {b}: arena [0x{tb.offset:x}, +{tb.nbytes}) overlaps tensor {a} "
                                    f"while both are live (layers {writer[a]}..{last[a]} and "
                                    f"{writer[b]}..{last[b]})", F.E_OVERLAP)
    end = max(t.offset + t.nbytes for t in tensors)
    if arena != align(end, F.ARENA_ALIGN):
        raise BlobError(f"header: arena_size {arena} is not the end of the last tensor rounded up "
                        f"to {F.ARENA_ALIGN} ({align(end, F.ARENA_ALIGN)})", F.E_ARENA)
    m = Model(layers, tensors, inp, outp, arena, flags, mhash)
    return m


def lifetimes(m: Model) -> list[tuple[int, int]]:
    """(writer, last reader) per tensor: -1 = the model input, n_layers = read after the last layer.
    State slot tensors get (writer, n_layers): they live for the whole run; a layer's scratch
    tensor (the l2mu's last state slot) gets (layer, layer)."""
    L = len(m.layers)
    w = [-2] * len(m.tensors)
    last = [-2] * len(m.tensors)
    w[m.input] = -1
    for i, l in enumerate(m.layers):
        w[l.output] = i
        for k, s in enumerate(l.states):
            w[s] = i
            scratch = l.spec.scratch and k == len(l.states) - 1
            last[s] = i if scratch else L
        last[l.input] = i
        if l.input2 is not None:
            last[l.input2] = i
    last[m.output] = L
    return list(zip(w, last))
