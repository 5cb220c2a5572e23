"""What `Device` calls return: the device's bytes (`.raw`) decoded with the loaded model's tensors.

After `Device.load_model(blob)` (or `Device.use_model(blob)` for a model loaded earlier) the
device knows the model, so every result speaks numpy:

    r = dev.step(x)
    r.output          # numpy array: the output tensor's dtype and shape (b1: its packed uint32 words)
    r.raw             # the bytes the device sent
    r.dequantized()   # float64 real values, as HostModel.dequantized_output() computes them

`output` equals what the host interpreter (edgehost.runtime.HostModel) returns for the same
step, so `np.testing.assert_array_equal(dev.step(x).output, host.step(x))` holds on every board.
When the model is unknown (a blob this host cannot read, or a device connected after another
process loaded it) `.raw` still works and `.output` says how to tell the device its model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_UNKNOWN = ("the device object does not know the loaded model's tensors (it was loaded by another "
            "connection, or the blob could not be read here): call device.use_model(blob) with the "
            "blob the board holds, or use .raw (the bytes)")


def decode(raw: bytes, tensor, what: str = "tensor") -> np.ndarray:
    """The bytes of one tensor as a numpy array of its dtype and shape (a new, writable array).
    A b1 tensor stays packed (uint32 words, bit i of word w = entry 32 w + i), as the host
    interpreter holds it."""
    if tensor is None:
        raise ValueError(_UNKNOWN)
    if len(raw) != tensor.nbytes:
        raise ValueError(f"{what}: the device sent {len(raw)} bytes, the model's {tensor.dtype} tensor of "
                         f"shape {tuple(tensor.shape)} has {tensor.nbytes}: is another model loaded?")
    a = np.frombuffer(raw, dtype=tensor.np_dtype).copy()
    if a.size == tensor.n and len(tensor.shape) > 1:
        a = a.reshape(tensor.shape)
    return a


def dequantize(a: np.ndarray, tensor) -> np.ndarray:
    """Real values (float64) of a decoded tensor, with the scale the host interpreter uses
    (HostModel.dequantized_output): q15 = stored value x the tensor's scale; f32 as it is; spike,
    u16, u32, s8 and s32 the stored integers (an s8 tensor's zero point belongs to its layer:
    a dequant_s8 layer applies it on the device); b1 unpacked to its 0/1 entries."""
    if tensor is None:
        raise ValueError(_UNKNOWN)
    if tensor.dtype == "b1":
        w = np.asarray(a, np.uint32).ravel()
        bits = (w[:, None] >> np.arange(32, dtype=np.uint32)) & 1
        return bits.ravel()[:tensor.n].astype(np.float64)
    v = np.asarray(a).astype(np.float64)
    return v * tensor.scale if tensor.dtype == "q15" else v


class _Decoded:
    """`.output` / `.dequantized()` of a result holding `raw` and the `tensor` it belongs to."""
    raw: bytes | None
    tensor: object

    _what = "output"

    @property
    def output(self) -> np.ndarray:
        """The output as a numpy array of the tensor's dtype and shape (a b1 tensor: packed words)."""
        return decode(self.raw, self.tensor, self._what)

    def dequantized(self) -> np.ndarray:
        """The output's real values (float64): q15 x scale, as HostModel.dequantized_output()."""
        return dequantize(self.output, self.tensor)

    def _shown(self) -> str:
        if self.tensor is None:
            return f"raw={self.raw!r}"
        try:
            return f"output={self.output!r}"
        except ValueError:
            return f"raw={self.raw!r}"


@dataclass(repr=False)
class InferResult(_Decoded):
    """One INFER: the state was reset, then every row of the input run as one step; the output
    is the last step's. Host equivalent: `HostModel.run(xs)` (reset=True), its outputs[-1]."""
    raw: bytes
    counter_delta: int
    counter_kind: str
    steps: int
    #: "frame" (one INFER request) or "steps" (input too large for a frame: RESET_STATE then one
    #: STEP per time step; counter_delta is then the sum of the per-step deltas)
    mode: str = "frame"
    #: the model's output tensor (edgehost.blob.Tensor), None when the device does not know it
    tensor: object = field(default=None, compare=False)

    def __repr__(self) -> str:
        return (f"InferResult({self._shown()}, steps={self.steps}, mode={self.mode!r}, "
                f"counter_delta={self.counter_delta}, counter_kind={self.counter_kind!r})")


@dataclass(repr=False)
class StepResult(_Decoded):
    """One STEP: one time step from the current state, which it updates (nothing is reset).
    Host equivalent: `HostModel.step(x)`."""
    raw: bytes
    counter_delta: int
    counter_kind: str
    tensor: object = field(default=None, compare=False)

    def __repr__(self) -> str:
        return (f"StepResult({self._shown()}, counter_delta={self.counter_delta}, "
                f"counter_kind={self.counter_kind!r})")


@dataclass(repr=False)
class LayerTrace(_Decoded):
    """The output of one layer at the last step (TRACE). Host equivalent: the entry of that
    layer in the list `HostModel.step(x, trace=list)` fills."""
    layer: int
    dtype: int                 # the device's dtype code (eh_model.h EH_MODEL_DT_*)
    raw: bytes | None
    #: why `raw` is None: the device's reason (e.g. the layer's output tensor was reused by a
    #: later layer of the arena plan, so it no longer holds this step's value)
    error: str | None = None
    #: the layer's output tensor (edgehost.blob.Tensor), None when the device does not know it
    tensor: object = field(default=None, compare=False)

    @property
    def _what(self) -> str:
        return f"layer {self.layer}'s output"

    @property
    def output(self) -> np.ndarray | None:
        """The layer's output as a numpy array (None when the device could not report it)."""
        return None if self.raw is None else decode(self.raw, self.tensor, self._what)

    def dequantized(self) -> np.ndarray | None:
        out = self.output
        return None if out is None else dequantize(out, self.tensor)

    @property
    def data(self) -> bytes | None:
        """The bytes, as `raw` (the name this field had before results were decoded)."""
        return self.raw

    def __repr__(self) -> str:
        body = f"error={self.error!r}" if self.raw is None else self._shown()
        return f"LayerTrace(layer={self.layer}, {body})"
