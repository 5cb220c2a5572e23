"""The in-memory model of a `.ehm` blob (docs/model-format.md): tensors, layers, the model, and
the tensors' lifetimes.

`read(data)` (edgehost/blob/reader.py) validates every field in the same order as the C loader
(firmware/model/) and raises `BlobError` naming the field and the reason; `Model.to_bytes()`
(edgehost/blob/writer.py) writes a blob and reads it back, so that an invalid model is never
written. What each layer type requires and does lives in its operator module (edgehost/ops/).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from . import format as F


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
    reset: str = "subtract"                      # "subtract", "zero" (to v_reset, 0 if absent), "none" (1.6)
    leak: tuple = ()                             # "decay" or "shift" for each leak parameter
    input2: int | None = None                    # second input tensor id (lif_adapt_*, add_*)
    reset_timing: str = "next"                   # "next" (snnTorch), "same" (1.5), "same-snntorch" (1.6)

    @property
    def code(self) -> int:
        return F.LAYER_CODES[self.type]

    @property
    def spec(self) -> F.Spec:
        return F.SPECS[self.code]

    def param(self, name: str):
        """The parameter array of the slot named `name` (None when absent)."""
        for k, (pname, _, _, _) in enumerate(self.spec.params):
            if pname == name:
                return self.params[k] if k < len(self.params) else None
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
        from .writer import write
        data = write(self)
        m = read(data)          # never write what the loader would refuse
        self.model_hash = m.model_hash
        return data


def read(data, arena_size: int | None = None) -> Model:
    """Validate a blob and return its Model (edgehost.blob.reader.read)."""
    from .reader import read as _read
    return _read(data, arena_size)


def _write(m: Model) -> bytes:
    """The blob bytes of m without reading them back (edgehost.blob.writer.write; for tests that
    build invalid blobs)."""
    from .writer import write
    return write(m)


def lifetimes(m: Model) -> list[tuple[int, int]]:
    """(writer, last reader) per tensor: -1 = the model input, n_layers = read after the last layer.
    State slot tensors get (writer, n_layers): they live for the whole run; a layer's scratch
    tensor (the l2mu's last state slot) gets (layer, layer). A delay's output (format 1.5), read
    at the next step by layers before the delay, also gets (delay, n_layers)."""
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
    for l in m.layers:
        if l.spec.read_ahead:
            last[l.output] = L
    last[m.output] = L
    return list(zip(w, last))
