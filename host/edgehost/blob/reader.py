"""Reader and validator of `.ehm` model blobs (docs/model-format.md): `read(data)` -> Model.

The core walks the blob: the header, the tensor records, then every layer record through the
generic checks of its type's `Spec` and the hooks of its operator (edgehost/ops/<op>.py,
found through `edgehost.ops.TABLE`), then the graph and the memory plan. Every field is checked
in the same order as the C loader (firmware/model/) with the same code, and the message names
the field first (`BlobError`).
"""
from __future__ import annotations

import math
import struct

import numpy as np

from .. import ops as _ops
from . import format as F
from .model import BlobError, Layer, Model, Tensor, align, crc32, fnv1a32


class LayerCtx:
    """One layer record being checked: its fields, the tensors, what the checks found so far.
    The operator hooks read it and keep their own findings in `extra` (e.g. the L2MU
    descriptor, the MST tree, the window's taps)."""

    def __init__(self, li, spec, code, reset, leak_bits, tin, tin2, tout, states, n_in, n_out, shift,
                 slots, tensors, data):
        self.li, self.spec, self.code = li, spec, code
        self.p = f"layer {li} ({spec.name})"    # the prefix of every message
        self.reset, self.leak_bits = reset, leak_bits
        self.input, self.input2, self.output, self.states = tin, tin2, tout, states
        self.n_in, self.n_out, self.shift = n_in, n_out, shift
        self.slots = slots              # (offset, length) of the four parameter slots
        self.tensors = tensors
        self.data = data
        self.W = (n_in + 31) // 32      # words of a binary input vector
        self.params: list = []          # the parameters checked so far, in slot order
        self.extra: dict = {}

    def fail(self, msg: str, code: int):
        raise BlobError(f"{self.p}: {msg}", code)

    def param_fail(self, k: int, msg: str, code: int = F.E_PARAM):
        raise BlobError(f"{self.p}: param {k} ({self.spec.params[k][0]}): {msg}", code)


def read(data, arena_size: int | None = None) -> Model:
    """Validate a blob and return its Model. `arena_size`: the arena it must fit (as on a device)."""
    (data, total, flags, mhash, L, T, inp, outp, weights_off, arena,
     tensors) = _header_and_tensors(data, arena_size)
    g = _Graph(T, inp, _read_ahead_outputs(data, L, T))
    layers = [_layer(data, li, tensors, weights_off, total, g) for li in range(L)]
    _check_graph(g, tensors, L, outp, arena)
    return Model(layers, tensors, inp, outp, arena, flags, mhash)


def _header_and_tensors(data, arena_size):
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
    return (data, total, flags, mhash, L, T, inp, outp, weights_off, arena, tensors)


class _Graph:
    """The dataflow found so far: who writes and who last reads each tensor."""

    def __init__(self, T: int, inp: int, ahead: list):
        self.writer = [-2] * T        # layer that writes each tensor (-1: the model input)
        self.writer[inp] = -1
        self.slot_of = [False] * T    # tensor is a state slot (internal to its layer)
        self.scratch_of = [False] * T  # tensor is a layer's scratch (an activation of that layer only)
        self.last = [-2] * T          # last layer that reads each tensor
        self.ahead = ahead            # the output of a layer that may be read before it (delay)

    def readable(self, t: int) -> bool:
        """t is the model input, written by an earlier layer or a delay's output (any position),
        and not a layer's internal state."""
        return (self.writer[t] != -2 or self.ahead[t]) and not self.slot_of[t] and not self.scratch_of[t]


def _read_ahead_outputs(data: bytes, L: int, T: int) -> list:
    """The tensors written by a layer whose output may be read by the layers before it (format
    1.5: delay), from the raw records (each record is checked later, at its turn)."""
    ahead = [False] * T
    for li in range(L):
        base = F.HEADER_SIZE + F.LAYER_SIZE * li
        op = _ops.TABLE.get(data[base])
        if op is not None and op.spec.read_ahead:
            t = struct.unpack_from("<H", data, base + 6)[0]
            if t < T:
                ahead[t] = True
    return ahead


def _layer(data, li, tensors, weights_off, total, g: _Graph) -> Layer:
    T = len(tensors)
    base = F.HEADER_SIZE + F.LAYER_SIZE * li
    (code, reset, leak_bits, res0, tin, tout, s0, s1, s2, res1, n_in, n_out, shift,
     res2) = struct.unpack_from("<BBBBHH3HHIIII", data, base)
    slots = [struct.unpack_from("<II", data, base + 32 + 8 * k) for k in range(F.N_PARAMS)]
    op = _ops.TABLE.get(code)
    if op is None:
        if code in F.RESERVED_LAYERS:
            raise BlobError(f"layer {li}: type {code} ({F.RESERVED_LAYERS[code]}) not supported "
                            f"by this loader", F.E_UNSUPPORTED)
        raise BlobError(f"layer {li}: type {code} unknown", F.E_UNSUPPORTED)
    spec = op.spec
    tin2 = res1 if spec.in2_dt else None
    states = [s0, s1, s2]
    c = LayerCtx(li, spec, code, reset, leak_bits, tin, tin2, tout, states, n_in, n_out, shift, slots,
                 tensors, data)
    if res0 or (res1 and not spec.in2_dt) or res2:
        c.fail("reserved fields not zero", F.E_LAYER)
    if reset & ~spec.reset_bits or reset > spec.reset_max:
        c.fail(f"reset {reset} invalid", F.E_LAYER)
    if leak_bits >> spec.leaks:
        c.fail(f"leak bits 0x{leak_bits:x} invalid", F.E_LAYER)
    if shift > spec.shift_max:
        c.fail(f"shift {shift} outside [0, {spec.shift_max}]", F.E_PARAM)
    for name, tid in [("input", tin)] + ([("input2", tin2)] if spec.in2_dt else []) + [("output", tout)] + [
            (f"state {k}", states[k]) for k in range(len(spec.states))]:
        if tid >= T:
            c.fail(f"{name} tensor {tid} >= n_tensors ({T})", F.E_GRAPH)
    for k in range(len(spec.states), F.N_STATES):
        if states[k] != F.NONE:
            c.fail(f"state slot {k} must be 0xffff (unused), got {states[k]}", F.E_LAYER)
    _check_tensors(c, op)
    for k in range(len(spec.states)):
        if spec.scratch:        # checked after the parameters (by the operator)
            break
        if op.check_state(c, k):
            continue
        ts = tensors[states[k]]
        sdt = spec.states[k]
        if F.DTYPE_CODES[ts.dtype] != sdt or ts.kind != "state" or ts.n != n_out:
            c.fail(f"state {k} tensor {states[k]} must be a {F.DTYPES[sdt][0]} state tensor of {n_out} "
                   f"elements", F.E_LAYER)
    _check_params(c, op, weights_off, total)
    op.check(c)
    _dataflow(c, g)
    return Layer(spec.name, tin, tout, n_in, n_out, c.params, states[:len(spec.states)], shift,
                 "none" if reset == F.RESET_NONE else "zero" if reset in (1, 3) else "subtract",
                 tuple("shift" if (leak_bits >> i) & 1 else "decay" for i in range(spec.leaks)),
                 tin2, "same-snntorch" if reset == F.RESET_SUBTRACT_NOW else "same" if reset in (2, 3) else "next")


def _dtypes(codes) -> str:
    return "/".join(F.DTYPES[d][0] for d in codes)


def _check_tensors(c: LayerCtx, op) -> None:
    """Dtypes, kinds and element counts of the input(s) and the output, as the Spec says."""
    spec = c.spec
    ti, to = c.tensors[c.input], c.tensors[c.output]
    if F.DTYPE_CODES[ti.dtype] not in spec.in_dt:
        c.fail(f"input tensor {c.input} dtype {ti.dtype}, expected {_dtypes(spec.in_dt)}", F.E_LAYER)
    if spec.out_dt is None:         # the input's dtype (delay)
        if to.dtype != ti.dtype:
            c.fail(f"output tensor {c.output} dtype {to.dtype}, expected {ti.dtype} (the input's)", F.E_LAYER)
    elif F.DTYPE_CODES[to.dtype] != spec.out_dt:
        c.fail(f"output tensor {c.output} dtype {to.dtype}, expected {F.DTYPES[spec.out_dt][0]}", F.E_LAYER)
    if (to.kind == "state") != (spec.out_kind == F.KIND_STATE):
        c.fail(f"output tensor {c.output} kind {to.kind}, expected {F.KINDS[spec.out_kind]}", F.E_LAYER)
    if c.n_in != ti.n:
        c.fail(f"n_in {c.n_in} but input tensor {c.input} has {ti.n} elements", F.E_LAYER)
    if spec.in2_dt:
        t2 = c.tensors[c.input2]
        if F.DTYPE_CODES[t2.dtype] not in spec.in2_dt:
            c.fail(f"input2 tensor {c.input2} dtype {t2.dtype}, expected {_dtypes(spec.in2_dt)}", F.E_LAYER)
        if t2.n != c.n_in:
            c.fail(f"n_in {c.n_in} but input2 tensor {c.input2} has {t2.n} elements", F.E_LAYER)
    op.check_io(c)
    if c.n_out != to.n:
        c.fail(f"n_out {c.n_out} but output tensor {c.output} has {to.n} elements", F.E_LAYER)
    if spec.same_n and c.n_in != c.n_out:
        c.fail(f"n_in {c.n_in} != n_out {c.n_out}", F.E_LAYER)
    if spec.n_out_one and c.n_out != 1:
        c.fail(f"n_out {c.n_out} must be 1", F.E_LAYER)
    if spec.max_n_in and c.n_in > spec.max_n_in:
        c.fail(f"n_in {c.n_in} outside [1, {spec.max_n_in}]", F.E_LAYER)


def _check_params(c: LayerCtx, op, weights_off: int, total: int) -> None:
    """The four parameter slots: placement and length here, entry counts and values by the
    operator (`Op.count`, `Op.values`)."""
    spec = c.spec
    leak_i = 0
    for k in range(F.N_PARAMS):
        off, ln = c.slots[k]
        if k >= len(spec.params):
            if off or ln:
                c.fail(f"param {k} unused but offset/length not 0", F.E_PARAM)
            continue
        pname, pkind, pdt, check = spec.params[k]
        if pkind == "leak":
            shift = (c.leak_bits >> leak_i) & 1
            pdt, check = ("u1", "shift") if shift else ("<u2", "decay")
            leak_i += 1
        es = np.dtype(pdt).itemsize
        if ln == 0:
            if off:
                c.param_fail(k, f"length 0 but offset 0x{off:x}")
            if not op.optional(c, k, pkind):
                c.param_fail(k, "missing (length 0)")
            c.params.append(None)
            continue
        if off < weights_off or off > total or ln > total - off:
            c.param_fail(k, f"offset 0x{off:x} + {ln} outside the weight section [0x{weights_off:x}, 0x{total:x})")
        if off % F.PARAM_ALIGN:
            c.param_fail(k, f"offset 0x{off:x} not a multiple of {F.PARAM_ALIGN}", F.E_ALIGN)
        if ln % es:
            c.param_fail(k, f"length {ln} not a multiple of {es}")
        cnt = ln // es
        ok, want = op.count(c, k, pkind, cnt)
        if not ok:
            c.param_fail(k, f"{cnt} entries, expected {want}")
        vals = np.frombuffer(c.data, dtype=pdt, count=cnt, offset=off).copy()
        op.values(c, k, pkind, check, vals)
        c.params.append(vals)


def _dataflow(c: LayerCtx, g: _Graph) -> None:
    """The input exists already (or is a delay's output), the outputs are written once."""
    spec = c.spec
    if not g.readable(c.input):
        c.fail(f"input tensor {c.input} is not the model input nor written by an earlier layer", F.E_GRAPH)
    if spec.in2_dt and not g.readable(c.input2):
        c.fail(f"input2 tensor {c.input2} is not the model input nor written by an earlier layer", F.E_GRAPH)
    for name, tid in [("output", c.output)] + [(f"state {k}", c.states[k]) for k in range(len(spec.states))]:
        if g.writer[tid] != -2:
            who = "the model input" if g.writer[tid] == -1 else f"layer {g.writer[tid]}"
            c.fail(f"{name} tensor {tid} already written by {who}", F.E_GRAPH)
        g.writer[tid] = c.li
    for k in range(len(spec.states)):
        if spec.scratch and k == len(spec.states) - 1:
            g.scratch_of[c.states[k]] = True    # lives during this layer only
            g.last[c.states[k]] = c.li
        else:
            g.slot_of[c.states[k]] = True
    g.last[c.input] = c.li
    if spec.in2_dt:
        g.last[c.input2] = c.li


def _check_graph(g: _Graph, tensors: list, L: int, outp: int, arena: int) -> None:
    T = len(tensors)
    writer, last = g.writer, g.last
    if writer[outp] < 0:
        raise BlobError(f"header: output_tensor {outp} is not written by any layer", F.E_GRAPH)
    if g.slot_of[outp] or g.scratch_of[outp]:
        raise BlobError(f"header: output_tensor {outp} is a layer's internal state", F.E_GRAPH)
    last[outp] = L
    for t in range(T):
        if writer[t] == -2:
            raise BlobError(f"tensor {t}: not written by any layer", F.E_GRAPH)
        if not g.slot_of[t] and last[t] == -2:
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
