"""Host interpreter of `.ehm` blobs: the reference the device is validated against.

It runs a blob layer by layer, in the order and with the arithmetic of the C interpreter
(firmware/model/), calling each layer's operator (edgehost/ops/<op>.py, through
`edgehost.ops.TABLE`) with the kernels' Python twins of the backend: "sim" (numpy, edgehost.sim)
or "kernels" (the C kernels through cffi, edgehost.kernels). On Q15 models the two backends agree
bit for bit, and both agree with the firmware.

Backend "kernels" is the fast path (TFLM's Prepare / Eval): the model is prepared once, at
construction. Every tensor is one array allocated once (reset() zeroes it in place), and every
layer's operator builds its step (`Op.prepare`, edgehost/ops/base.py): typed copies of its
parameters, C pointers to them and to its tensors, the kernels' own parameter checks; the step
then only calls the C kernels (the unchecked entry points where the kernels have them) on the
tensors in place. The checks of the user's input (size, dtype conversion, spikes 0/1) stay at the
entry of step(). Backend "sim" is the numpy reference, one operator call per layer and step.
"""
from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np

from .. import ops as _ops
from ..blob import Model, read

BACKENDS = ("sim", "kernels")
FAMILIES = ("lif", "basic", "binary", "lmu", "mst", "shiftadd", "conv2d")


class HostModel:
    """A blob ready to run on the host.

        hm = HostModel(blob_bytes_or_Model, backend="kernels")
        y = hm.step(x)                # one time step; the state persists
        ys, trace = hm.run(xs)        # xs: (steps, n_in); trace[t][l] = output of layer l at step t

    For the operators: `t` holds the tensors (numpy arrays, in tensor order), `k.<family>` the
    backend's kernels, `cache` what an operator keeps per layer (keyed by id(layer)). With backend
    "kernels" the arrays of `t` are the ones the prepared steps point to: change them in place
    (`hm.t[k][...] = v`), never replace them. `prepared[l]` says whether layer l runs a prepared
    step (else its operator's checked `step`).
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
        self.t: list = []
        self.reset()
        ti = self.model.input_tensor
        self._n_in = ti.storage_len
        self._spike_in = ti.dtype == "spike"
        self._in_what = "packed words" if ti.dtype == "b1" else "values"
        self._b1_n = ti.n if ti.dtype == "b1" else None
        self._runs = None
        self.prepared: tuple = ()
        if backend == "kernels":
            self._prepare()

    def _prepare(self) -> None:
        """Build every layer's step once (Op.prepare); a layer whose operator has none, or whose
        parameters its kernel would reject, keeps the operator's checked `step`."""
        runs, fast = [], []
        self.keep: list = []              # what the prepared steps point into (edgehost.ops.base.Prep)
        for layer, op in zip(self.model.layers, self._ops):
            try:
                fn = op.prepare(self, layer)
            except ValueError:                  # raised again by op.step at the step, as before
                fn = None
            fast.append(fn is not None)
            runs.append(fn if fn is not None else self._stepper(op, layer))
        self._runs = runs
        self.prepared = tuple(fast)       # per layer: True when it runs a prepared step
        self._x = self.t[self.model.input]
        self._y = self.t[self.model.output]

    def _stepper(self, op, layer):
        """A layer's checked op.step on the tensors in place: what it returns is copied into the
        output tensor, and any tensor it replaced is copied back into the array the prepared
        steps point to."""
        T, m = self.t, self.model
        keep = list(T)
        touched = sorted({layer.output, *layer.states})
        dt = m.tensors[layer.output].np_dtype

        def run():
            y = op.step(self, layer, T[layer.input])
            if y is not None:
                T[layer.output] = np.asarray(y, dtype=dt).ravel()
            for k in touched:
                if T[k] is not keep[k]:
                    keep[k][...] = T[k]
                    T[k] = keep[k]
        return run

    # -- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Zero every tensor, as eh_model_reset_state zeroes the arena (in place: the prepared
        steps point into these arrays)."""
        if self.backend == "kernels" and self.t:
            for a in self.t:
                a[...] = 0
        else:
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
    def _input(self, x) -> np.ndarray:
        """The checks of the user's input: its size, and spikes 0 or 1. Returns it 1-D."""
        x = np.asarray(x)
        if self._b1_n is not None and x.size == self._b1_n and x.size != self._n_in:
            from ..blob.bits import pack_rows       # a b1 input given as its 0/1 entries
            x = pack_rows(x.reshape(-1), self._b1_n)
        if x.size != self._n_in:
            raise ValueError(f"input has {x.size} {self._in_what}, the model takes {self._n_in}"
                             + (f" (or {self._b1_n} entries 0/1)" if self._b1_n is not None else ""))
        if self._spike_in:
            if x.dtype.char in "Bb":        # uint8 / int8: any byte but 0 and 1 is a bad spike
                bad = x.tobytes().translate(None, b"\x00\x01")
            elif x.dtype.char == "?":
                bad = False
            else:
                bad = np.any((x != 0) & (x != 1))
            if bad:
                raise ValueError("input spikes must be 0 or 1")
        return x if x.ndim == 1 else x.reshape(-1)

    def step(self, x, trace: list | None = None) -> np.ndarray:
        """One time step on input x (the input tensor's dtype and size). If `trace` is a list,
        the output of every layer is appended to it (copies)."""
        runs = self._runs
        if runs is not None:                                # backend "kernels": prepared steps
            self._x[...] = self._input(x)                   # in the input tensor's dtype (as astype)
            if trace is None:
                for run in runs:
                    run()
            else:
                T = self.t
                for run, layer in zip(runs, self.model.layers):
                    run()
                    trace.append(T[layer.output].copy())
            self.steps += 1
            return self._y.copy()
        m = self.model
        ti = m.input_tensor
        x = self._input(x)
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
