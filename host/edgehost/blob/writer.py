"""Writer of `.ehm` model blobs (docs/model-format.md): `write(model)` -> bytes.

`Model.to_bytes()` calls it and reads the result back, so that what the loader would refuse is
never written. The version minor is the lowest the model needs (each operator says which,
`edgehost.ops.Op.layer_minor`).
"""
from __future__ import annotations

import struct

import numpy as np

from .. import ops as _ops
from . import format as F
from .model import BlobError, Layer, Model, align, crc32, fnv1a32


def param_dtype(spec: F.Spec, slot: int, layer: Layer) -> np.dtype:
    """The element dtype of parameter `slot` (a leak's follows the layer's leak kinds)."""
    name, kind, dt, _ = spec.params[slot]
    if kind == "leak":
        li = sum(1 for p in spec.params[:slot] if p[1] == "leak")
        if li >= len(layer.leak):
            raise BlobError(f"layer {layer.type}: leak kind missing for parameter {name}", F.E_PARAM)
        return np.dtype("<u2") if layer.leak[li] == "decay" else np.dtype("u1")
    return np.dtype(dt)


def _reset_byte(li: int, layer: Layer) -> int:
    if layer.reset not in ("subtract", "zero", "none"):
        raise BlobError(f"layer {li} ({layer.type}): reset {layer.reset!r}", F.E_LAYER)
    if layer.reset_timing not in ("next", "same", "same-snntorch"):
        raise BlobError(f"layer {li} ({layer.type}): reset_timing {layer.reset_timing!r}", F.E_LAYER)
    if layer.reset == "none":
        if layer.reset_timing != "next":
            raise BlobError(f"layer {li} ({layer.type}): reset none has no timing (give next)", F.E_LAYER)
        return F.RESET_NONE
    if layer.reset_timing == "same-snntorch":
        if layer.reset != "subtract":
            raise BlobError(f"layer {li} ({layer.type}): reset_timing same-snntorch is a subtraction (snnTorch's "
                            f"reset to zero with reset_delay=False is reset zero, timing same)", F.E_LAYER)
        return F.RESET_SUBTRACT_NOW
    return (F.RESET_ZERO if layer.reset == "zero" else 0) | \
        (F.RESET_SAME_STEP if layer.reset_timing == "same" else 0)


def write(m: Model) -> bytes:
    L, T = len(m.layers), len(m.tensors)
    tensors_off = F.HEADER_SIZE + F.LAYER_SIZE * L
    weights_off = align(tensors_off + F.TENSOR_SIZE * T, F.WEIGHT_ALIGN)
    weights = bytearray()
    layer_recs = []
    minor = 0
    for li, layer in enumerate(m.layers):
        if layer.type not in F.LAYER_CODES:
            raise BlobError(f"layer {li}: unknown type {layer.type!r}", F.E_UNSUPPORTED)
        op = _ops.TABLE[layer.code]
        spec = op.spec
        if len(layer.params) > len(spec.params):
            raise BlobError(f"layer {li} ({layer.type}): {len(layer.params)} parameters, "
                            f"expected {len(spec.params)}", F.E_PARAM)
        slots = []
        for s in range(F.N_PARAMS):
            arr = layer.params[s] if s < len(layer.params) else None
            if arr is None or s >= len(spec.params):
                slots.append((0, 0))
                continue
            dt = param_dtype(spec, s, layer)
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
        reset = _reset_byte(li, layer)
        st = list(layer.states) + [F.NONE] * (F.N_STATES - len(layer.states))
        if bool(spec.in2_dt) != (layer.input2 is not None):
            raise BlobError(f"layer {li} ({layer.type}): " + ("needs a second input (input2)" if spec.in2_dt
                            else "takes no second input"), F.E_LAYER)
        rec = struct.pack("<BBBBHH3HHIIII", layer.code, reset, leak_bits, 0,
                          layer.input, layer.output, *st[:3], layer.input2 or 0, layer.n_in, layer.n_out,
                          layer.shift, 0)
        rec += b"".join(struct.pack("<II", o, n) for o, n in slots)
        layer_recs.append(rec)
        minor = max(minor, op.layer_minor(layer))
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
    struct.pack_into("<4sHHII", body, 0, F.MAGIC, F.VERSION_MAJOR, minor, m.flags, total)
    struct.pack_into("<HHHHIIIII", body, 24, L, T, m.input, m.output, F.HEADER_SIZE, tensors_off,
                     weights_off, len(weights), m.arena_size)
    struct.pack_into("<I", body, 20, fnv1a32(bytes(body[24:])))
    struct.pack_into("<I", body, 16, crc32(bytes(body[20:])))
    return bytes(body)
