"""The operator interface: what one layer type of the `.ehm` blob is, as the reader, the writer
and the host interpreter see it (TFLM's registration: the core walks, the operator knows).

An operator module (edgehost/ops/<op>.py) creates one `Op` (or subclass) instance per layer type
code, in `OPS`, and `edgehost/ops/__init__.py` lists the module in its table. Each instance holds
- `spec`: the record's generic rules (edgehost.blob.format.Spec: dtypes, kinds, sizes, state slots,
  parameter slots), checked by the reader core in the C loader's order;
- the load-time hooks the reader calls for it, in this order: `check_io` (after the input2
  checks, before n_out), `check_state` (a state slot with its own rule), `optional` / `count` /
  `values` for each parameter, `check` (after the parameters: scratch tensors, rules across
  fields); each raises BlobError through the context (`ctx.fail`, `ctx.param_fail`) with the C
  loader's text (firmware/model/eh_op.h has the same hooks at the same places);
- `layer_minor`: the format minor a layer of this type needs (the writer's version);
- `step(hm, layer, x)`: one time step on the host (edgehost.runtime.HostModel), with the backend's
  kernels (`hm.k.<family>`: edgehost.sim.<family> or edgehost.kernels.<family>); returns the
  output (written to the output tensor by the interpreter) or None when it wrote it itself;
- `prepare(hm, layer)`: the same step for the backend "kernels", prepared once per model (TFLM's
  Prepare / Eval): parameters as contiguous typed arrays, C pointers to them and to the
  interpreter's tensors (which stay in place for the model's life), the kernels' own parameter
  checks (eh_lif_check_q15, ...) run here; it returns a function of no argument that makes only
  the C calls of one step, reading and writing the tensors in place (bit for bit what `step`
  computes). None (the default), or a ValueError while preparing (a parameter the kernel would
  reject), leaves the layer on `step`, which raises the error at the step as it always did.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F


def f32_check(vals: np.ndarray, check: str | None) -> str | None:
    """The value rules of float parameters (and thr15, an i16 threshold in [1, 32767])."""
    if check is None:
        return None
    with np.errstate(invalid="ignore"):         # signalling NaNs
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


def check_range(ctx, k: int, vals: np.ndarray, bad: np.ndarray, msg: str) -> None:
    """Fail on the first entry where `bad` holds: `entry i (value) msg`."""
    if bad.any():
        i = int(np.argmax(bad))
        ctx.param_fail(k, f"entry {i} ({int(vals[i])}) {msg}")


def check_scratch(ctx, n: int) -> None:
    """State 0 is the kernel's scratch: an s32 activation tensor of n elements."""
    st = ctx.states[0]
    ts = ctx.tensors[st]
    if ts.dtype != "s32" or ts.kind != "activation" or ts.n != n:
        ctx.fail(f"state 0 tensor {st} must be a s32 activation tensor of {n} elements", F.E_LAYER)


def leak_arg(layer, slot: int, which: int) -> dict:
    """A Q15 leak parameter as the kernels take it: {"decay": ...} or {"shift": ...}."""
    p = layer.params[slot]
    return {"decay": p} if layer.leak[which] == "decay" else {"shift": p}


class Op:
    """One layer type (see the module docstring)."""

    minor = 0               # the format minor that introduced the type

    def __init__(self, code: int, spec: F.Spec, minor: int | None = None):
        self.code = code
        self.spec = spec
        self.name = spec.name
        if minor is not None:
            self.minor = minor

    def __repr__(self) -> str:
        return f"<op {self.code} {self.name}>"

    # -- loading (edgehost.blob.reader) ------------------------------------------------------
    def check_io(self, ctx) -> None:
        """Rules across the input(s) and the output, after the input2 checks (before n_out)."""

    def check_state(self, ctx, k: int) -> bool:
        """Check state slot k if it has a rule of its own; False: the generic rule (a state
        tensor of the Spec's dtype and n_out elements)."""
        return False

    def optional(self, ctx, k: int, kind: str) -> bool:
        """May parameter k be absent (length 0)?"""
        return kind in ("bias", "pn_opt")

    def count(self, ctx, k: int, kind: str, cnt: int) -> tuple[bool, str]:
        """Is `cnt` a valid entry count of parameter k? Returns (ok, what was expected). Called
        for every present parameter after its placement and length checks; an operator may
        fail here first with a rule of its own (C: check_param)."""
        n_in, n_out = ctx.n_in, ctx.n_out
        if kind == "w":
            return cnt == n_out * n_in, str(n_out * n_in)
        if kind == "bias":
            return cnt == n_out, f"{n_out} or 0"
        if kind == "vec":
            return cnt == n_out, str(n_out)
        return cnt in (1, n_out), f"1 or {n_out}"        # pn, pn_opt, leak

    def values(self, ctx, k: int, kind: str, check: str | None, vals: np.ndarray) -> None:
        """Check the values of parameter k (raise through ctx.param_fail)."""
        if check == "decay":
            check_range(ctx, k, vals, vals > 32768, "outside [0, 32768]")
        elif check == "shift":
            check_range(ctx, k, vals, (vals < 1) | (vals > 15), "outside [1, 15]")
        elif check == "thrb1":
            n = ctx.n_in
            check_range(ctx, k, vals, (vals < -n) | (vals > n + 1), f"outside [-{n}, {n + 1}]")
        else:
            err = f32_check(vals, check)
            if err:
                ctx.param_fail(k, err)

    def check(self, ctx) -> None:
        """Checks after the parameters (scratch tensors, rules across fields)."""

    def scratch_elements(self, n_in: int, n_out: int) -> int:
        """Elements of the fixed-size scratch tensor (the last state slot), if the type has one."""
        raise KeyError(self.code)

    # -- writing -------------------------------------------------------------------------------
    def layer_minor(self, layer) -> int:
        """The format minor this layer needs (the writer writes the largest over the layers)."""
        return self.minor

    # -- running (edgehost.runtime.HostModel) --------------------------------------------------
    def step(self, hm, layer, x):
        raise NotImplementedError(f"layer type {self.name} not supported by the host interpreter")

    def prepare(self, hm, layer):
        """The prepared step of the backend "kernels" (see the module docstring), or None."""
        return None


# -- the prepared step (HostModel, backend "kernels") -------------------------------------------

_CTYPES = {np.dtype(np.float32): "float", np.dtype(np.int16): "int16_t", np.dtype(np.uint8): "uint8_t",
           np.dtype(np.int8): "int8_t", np.dtype(np.int32): "int32_t", np.dtype(np.uint32): "uint32_t",
           np.dtype(np.uint16): "uint16_t"}


class Prep:
    """What an operator's `prepare` builds a step from, for one kernel family's cffi module
    (`hm.k.<family>`, edgehost.kernels): C pointers to the interpreter's tensors and to typed
    copies of the parameters. Every array and structure a pointer points into is kept alive by
    `keep`, which the HostModel holds (`hm.keep`) as long as the steps that use it."""

    def __init__(self, hm, family: str):
        from ..kernels._util import KernelError
        mod = getattr(hm.k, family)
        self.hm, self.ffi, self.lib = hm, mod.ffi, mod.lib
        self.NULL = self.ffi.NULL
        self.KernelError = KernelError
        self.keep: list = []
        hm.keep.append(self.keep)

    def ptr(self, a: np.ndarray):
        self.keep.append(a)
        return self.ffi.cast(_CTYPES[a.dtype] + " *", self.ffi.from_buffer(a))

    def t(self, k: int, dtype, n: int | None = None):
        """(pointer, array) of tensor k, which must hold `dtype` (and n entries when given)."""
        a = self.hm.t[k]
        if a.dtype != np.dtype(dtype) or not a.flags.c_contiguous or (n is not None and a.size != n):
            raise ValueError(f"tensor {k}: {a.dtype}[{a.size}], expected {np.dtype(dtype)}[{n}]")
        return self.ptr(a), a

    def p(self, a, dtype, n: int | tuple | None = None):
        """(pointer, entries) of a parameter as a contiguous 1-D `dtype` copy (values must fit,
        as the kernels' wrappers require; NULL, 0 when absent). n: the entry count (or counts)
        the kernel needs."""
        if a is None:
            return self.NULL, 0
        from ..kernels._util import arr
        v = arr(np.asarray(a).ravel(), dtype).copy()
        if n is not None and v.size not in (n if isinstance(n, tuple) else (n,)):
            raise ValueError(f"a parameter has {v.size} entries, expected {n}")
        return self.ptr(v), v.size

    def buf(self, n: int, dtype):
        """(pointer, array) of a private zeroed buffer (scratch, an intermediate)."""
        a = np.zeros(max(int(n), 1), dtype)
        return self.ptr(a), a

    def leak(self, layer, slot: int, which: int, n: int):
        """An eh_leak_q15 of this family's ffi for Q15 leak parameter `slot` (leak field `which`)."""
        leak = self.ffi.new("eh_leak_q15 *")
        self.keep.append(leak)
        if layer.leak[which] == "decay":
            leak.decay, leak.len = self.p(layer.params[slot], np.uint16, (1, n))
        else:
            leak.shift, leak.len = self.p(layer.params[slot], np.uint8, (1, n))
        return leak

    def check(self, name: str, status: int) -> None:
        """A kernel's check function at prepare time (KernelError, a ValueError)."""
        if status:
            raise self.KernelError(name, status)

    def fail(self, name: str, status: int):
        raise self.KernelError(name, status)
