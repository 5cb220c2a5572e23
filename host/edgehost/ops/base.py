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
  output (written to the output tensor by the interpreter) or None when it wrote it itself.
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
