"""Host interpreter of `.ehm` blobs: the reference the device is validated against.

It runs a blob layer by layer, in the order and with the arithmetic of the C interpreter
(firmware/model/), calling each layer's operator (edgehost/ops/<op>.py, through
`edgehost.ops.TABLE`) with the kernels' Python twins of the backend: "sim" (numpy, edgehost.sim)
or "kernels" (the C kernels through cffi, edgehost.kernels). On Q15 models the two backends agree
bit for bit, and both agree with the firmware.
"""
from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np

from .. import ops as _ops
from ..blob import Model, read

BACKENDS = ("sim", "kernels")
FAMILIES = ("lif", "basic", "binary", "lmu", "mst", "shiftadd")


class HostModel:
    """A blob ready to run on the host.

        hm = HostModel(blob_bytes_or_Model, backend="kernels")
        y = hm.step(x)                # one time step; the state persists
        ys, trace = hm.run(xs)        # xs: (steps, n_in); trace[t][l] = output of layer l at step t

    For the operators: `t` holds the tensors (numpy arrays, in tensor order), `k.<family>` the
    backend's kernels, `cache` what an operator keeps per layer (keyed by id(layer)).
    """

    def __init__(self, model, backend: str = "sim"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.model: Model = model if isinstance(model, Model) else read(model)
        self.backend = backend
        try:
            self.k = SimpleNamespace(**{f: importlib.import_module(f"edgehost.{backend}.{f}") for f in FAMILIES})
        except ImportError as e:
            raise ImportError(f"backend {backend!r} needs edgehost.{backend}.lif, .basic, .binary, "
                              f".lmu, .mst and .shiftadd: {e}") from e
        self._ops = [_ops.TABLE[layer.code] for layer in self.model.layers]
        self.cache: dict = {}
        self.reset()

    # -- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Zero every tensor, as eh_model_reset_state zeroes the arena."""
        self.t = [np.zeros(t.storage_len, t.np_dtype) for t in self.model.tensors]
        self.steps = 0

    @property
    def _t(self) -> list:          # the name before the operator modules
        return self.t

    def tensor(self, t: int) -> np.ndarray:
        """The current value of tensor t (a copy)."""
        return self.t[t].copy()

    @property
    def input_size(self) -> int:
        return self.model.input_tensor.n

    # -- running -------------------------------------------------------------------------------
    def step(self, x, trace: list | None = None) -> np.ndarray:
        """One time step on input x (the input tensor's dtype and size). If `trace` is a list,
        the output of every layer is appended to it (copies)."""
        m = self.model
        ti = m.input_tensor
        x = np.asarray(x)
        if x.size != ti.storage_len:
            what = "packed words" if ti.dtype == "b1" else "values"
            raise ValueError(f"input has {x.size} {what}, the model takes {ti.storage_len}")
        if ti.dtype == "spike" and np.any((x != 0) & (x != 1)):
            raise ValueError("input spikes must be 0 or 1")
        T = self.t
        T[m.input] = x.astype(ti.np_dtype).ravel().copy()
        for layer, op in zip(m.layers, self._ops):
            y = op.step(self, layer, T[layer.input])
            if y is not None:
                T[layer.output] = np.asarray(y, dtype=m.tensors[layer.output].np_dtype).ravel()
            if trace is not None:
                trace.append(T[layer.output].copy())
        self.steps += 1
        return T[m.output].copy()

    def run(self, xs, reset: bool = True):
        """Run every row of xs as one step. Returns (outputs (steps, n_out), trace)."""
        if reset:
            self.reset()
        outs, traces = [], []
        for x in np.asarray(xs):
            tr: list = []
            outs.append(self.step(x, tr))
            traces.append(tr)
        return np.array(outs), traces

    def dequantized_output(self) -> np.ndarray:
        t = self.model.output_tensor
        v = self.t[self.model.output].astype(np.float64)
        return v * t.scale if t.dtype == "q15" else v
