"""Device vs host, layer by layer: `edgehost validate` (docs/validate.md).

    from edgehost.validate import validate, open_device, load_model_file
    blob, model = load_model_file("m.ehm")
    with open_device("mps2-an386") as dev:
        rep = validate(dev, blob, xs)          # xs: (sequences, steps, storage_len) device inputs
    rep["ok"], rep["first_divergence"]

For every sequence the network state is reset on both sides; then each step is run on the device
(STEP, then TRACE of every layer) and on the host interpreter (edgehost.runtime.HostModel,
step(trace=...)), and every layer's output is compared. Integer tensors must be bit-exact; f32
tensors must agree within |d - h| <= atol + rtol * |h| (0 and 0 by default: the project's float
kernels round identically on every target). Layers whose output the device cannot report (the
memory plan reused its bytes: convert with --no-reuse) are listed as not traceable; the final
output (the STEP answer) is always compared.

In a test, one call does it and fails with the first layer and step that differ:

    from edgehost.validate import check_against_host
    dev.load_model(blob)
    check_against_host(dev, x, plot="device_vs_host.png")   # raises DeviceHostMismatch (an AssertionError)

Also the helpers `run`, `stream` and `validate` share: opening a board (starting an emulated
one when no session runs), reading a blob file, and turning user inputs into device inputs.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from .blob import BlobError, Model, read
from .cli import UserError

INT_DTYPES = ("q15", "spike", "s8", "s32", "u16", "u32", "b1")


# ---- shared helpers -------------------------------------------------------------------------

def load_model_file(path) -> tuple[bytes, Model]:
    """(blob bytes, Model) of an .ehm file; a clear UserError when missing or malformed."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read model {p}: {e.strerror or e}") from None
    try:
        return data, read(data)
    except BlobError as e:
        raise UserError(f"model {p} is not a valid .ehm blob: {e}") from None


def _stale(sess) -> bool:
    """The session's firmware image (ELF) was written after the session started."""
    import os
    try:
        return bool(sess.elf) and os.path.getmtime(sess.elf) > sess.started + 1.0
    except OSError:
        return False


def open_device(board: str | None, port: str | None = None, *, start: bool = True, open_timeout: float = 10.0):
    """A connected Device: `port` if given, else the running session of `board`, else (emulated
    boards, when `start`) a board started with edgehost.flash.flash()."""
    from .link import Device, LinkError
    if port is None:
        if not board:
            raise UserError("give --board B (or --port URL)")
        from .boards import get
        b = get(board)                      # BoardError (a UserError) for an unknown name
        from .flash import FlashError, find_session, flash
        sess = find_session(b.name)
        if sess is not None and b.emulated and start and _stale(sess):
            # the firmware was rebuilt since this emulator started it: it runs the old image
            from .flash import stop_session
            import sys
            print(f"edgehost: board {b.name}'s emulator runs a firmware image rebuilt since it started "
                  f"({sess.elf}); restarting it", file=sys.stderr)
            stop_session(b.name)
            sess = None
        if sess is not None:
            port = sess.port
        elif b.emulated and start:
            try:
                port = flash(b.name)["port"]
            except FlashError as e:
                raise UserError(f"cannot start board {b.name}: {e}") from None
        else:
            raise UserError(f"no running session for board {b.name} and it is real hardware: flash it "
                            f"with `edgehost flash --board {b.name}` or pass --port")
    try:
        return Device.open(port, open_timeout=open_timeout)
    except LinkError as e:
        raise UserError(f"cannot connect to {port}: {e}") from None
    except OSError as e:
        raise UserError(f"cannot open {port}: {e}") from None


def load_on_device(dev, blob: bytes, model: Model, progress: Callable[[int, int], None] | None = None) -> None:
    """Upload the blob unless the device already holds the same model."""
    from .link import LinkError
    info = dev.info if dev.info is not None else dev.hello()
    if not info.model_support:
        raise UserError("the firmware on this board was built without model support")
    if info.model_loaded and info.model_hash == model.model_hash and info.input_bytes == model.input_tensor.nbytes:
        try:
            dev.use_model(model)        # already there: only tell the Device its tensors
            return
        except LinkError:
            pass                        # changed since the HELLO above: upload it
    try:
        dev.load_model(blob, progress=progress)
    except LinkError as e:
        raise UserError(f"loading the model failed: {e}") from None


def to_device_inputs(x, model: Model, what: str = "input") -> np.ndarray:
    """User input -> device input rows (..., storage_len) in the input tensor's dtype.

    Integer arrays are taken as already quantised (checked against the dtype's range; spikes
    0/1); float arrays are converted: f32 inputs as they are, q15 inputs as
    clip(round(x / scale), -32768, 32767) with the input tensor's scale, spike inputs as x > 0.5,
    b1 inputs as packed 32-bit words (integers) or as their n entries 0/1 (packed here)."""
    t = model.input_tensor
    x = np.asarray(x)
    n = t.storage_len
    if t.dtype == "b1" and x.ndim and x.shape[-1] == t.n and t.n != n:   # 0/1 entries: packed
        from .blob.bits import pack_rows
        try:
            return pack_rows(x, t.n)
        except ValueError as e:
            raise UserError(f"{what}: {e}") from None
    if x.ndim == 0 or x.shape[-1] != n:
        unit = "packed 32-bit words" if t.dtype == "b1" else "features"
        raise UserError(f"{what} has shape {x.shape}: the model takes {n} {unit} per step "
                        f"({t.dtype}), i.e. (steps, {n}) or (sequences, steps, {n})")
    if x.dtype.kind not in "biuf":
        raise UserError(f"{what} has dtype {x.dtype}: numbers expected")
    dt = t.np_dtype
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)) and t.dtype != "f32":
            raise UserError(f"{what} holds NaN or infinite values")
        if t.dtype == "f32":
            return x.astype(np.float32)
        if t.dtype == "q15":
            return np.clip(np.round(x.astype(np.float64) / t.scale), -32768, 32767).astype(dt)
        if t.dtype == "spike":
            return (x > 0.5).astype(dt)
        if t.dtype == "b1":
            raise UserError(f"{what}: the model takes packed binary words (b1); give them as integers")
        return np.clip(np.round(x), np.iinfo(dt).min, np.iinfo(dt).max).astype(dt)
    if t.dtype == "f32":
        return x.astype(np.float32)
    xi = x.astype(np.int64)
    if t.dtype == "spike":
        if np.any((xi != 0) & (xi != 1)):
            raise UserError(f"{what}: spike inputs must be 0 or 1")
    else:
        lo, hi = np.iinfo(dt).min, np.iinfo(dt).max
        if xi.size and (xi.min() < lo or xi.max() > hi):
            raise UserError(f"{what}: values {xi.min()}..{xi.max()} do not fit the input's {t.dtype} "
                            f"({lo}..{hi})")
    return xi.astype(dt)


def random_inputs(model: Model, sequences: int, steps: int, seed: int = 0) -> np.ndarray:
    """Seeded random device inputs of the model's shape (sequences, steps, storage_len)."""
    t = model.input_tensor
    rng = np.random.default_rng(seed)
    shape = (sequences, steps, t.storage_len)
    if t.dtype == "f32":
        return rng.normal(0.0, 1.0, size=shape).astype(np.float32)
    if t.dtype == "q15":
        return rng.integers(-12000, 12001, size=shape).astype(np.int16)
    if t.dtype == "spike":
        return (rng.random(shape) < 0.3).astype(t.np_dtype)
    info = np.iinfo(t.np_dtype)
    return rng.integers(info.min, int(info.max) + 1, size=shape, dtype=np.int64).astype(t.np_dtype)


def decode(data: bytes, model: Model, tensor: int) -> np.ndarray:
    t = model.tensors[tensor]
    a = np.frombuffer(data, dtype=t.np_dtype)
    if a.size != t.storage_len:
        raise UserError(f"device returned {len(data)} bytes for tensor {tensor}, expected {t.nbytes}")
    return a


def dequantize(a: np.ndarray, model: Model, tensor: int) -> np.ndarray:
    """Real values of a tensor: q15 (and other scaled integers) times its scale; b1 unpacked to 0/1."""
    t = model.tensors[tensor]
    if t.dtype == "b1":
        return _unpack_b1(a, t.n).astype(np.float64)
    v = a.astype(np.float64)
    return v * t.scale if (t.dtype in ("q15", "s8", "s32") and t.scale != 1.0) else v


def _unpack_b1(words: np.ndarray, n: int) -> np.ndarray:
    w = np.asarray(words, np.uint32)
    bits = (w[:, None] >> np.arange(32, dtype=np.uint32)) & 1
    return bits.ravel()[:n].astype(np.uint8)


def layer_name(model: Model, i: int) -> str:
    return f"{i}:{model.layers[i].type}"


# ---- comparison -----------------------------------------------------------------------------

class _LayerAcc:
    """Running comparison of one layer (or of the final output)."""

    def __init__(self, name: str, index: int | None, dtype: str, atol: float, rtol: float):
        self.name, self.index, self.dtype = name, index, dtype
        self.atol, self.rtol = atol, rtol
        self.max_abs = 0.0
        self.bit_exact = True
        self.within_tol = True
        self.compared = 0
        self.untraceable = 0
        self.reason: str | None = None
        self.agree = 0          # spike / b1 entries equal
        self.total = 0
        self.dev_spikes = 0
        self.host_spikes = 0
        self.first: tuple[int, int] | None = None   # (sequence, step)
        self.first_entries: list = []                # the differing entries at self.first
        self.series_dev: list = []                   # first sequence, for --plot
        self.series_host: list = []

    def compare(self, d: np.ndarray, h: np.ndarray, seq: int, step: int, keep: bool) -> bool:
        self.compared += 1
        exact = d.tobytes() == h.tobytes()
        if self.dtype == "b1":
            n = self.total_n
            dv, hv = _unpack_b1(d, n).astype(np.float64), _unpack_b1(h, n).astype(np.float64)
        else:
            dv, hv = d.astype(np.float64), h.astype(np.float64)
        with np.errstate(invalid="ignore"):
            diff = np.abs(dv - hv)
        both_nan = np.isnan(dv) & np.isnan(hv)
        diff = np.where(both_nan, 0.0, diff)
        err = float(np.max(diff)) if diff.size else 0.0
        if math.isnan(err):
            err = math.inf
        self.max_abs = max(self.max_abs, err)
        if self.dtype in ("spike", "b1"):
            self.agree += int(np.sum(dv == hv))
            self.total += dv.size
            self.dev_spikes += int(np.sum(dv != 0))
            self.host_spikes += int(np.sum(hv != 0))
        if self.dtype == "f32":
            tol = self.atol + self.rtol * np.abs(hv)
            ok = bool(np.all((diff <= tol) | both_nan))
        else:
            ok = exact
        self.bit_exact &= exact
        self.within_tol &= ok
        if not ok and self.first is None:
            self.first = (seq, step)
            bad = ~((diff <= self.atol + self.rtol * np.abs(hv)) | both_nan) if self.dtype == "f32" else (diff != 0)
            if self.dtype != "f32" and not bad.any():          # differing bytes, equal values (-0.0)
                bad = dv != hv
            as_num = float if self.dtype == "f32" else int
            self.first_entries = [{"index": int(i), "device": as_num(dv[i]), "host": as_num(hv[i])}
                                  for i in np.flatnonzero(bad)[:8]]
            self.first_n_differ = int(np.count_nonzero(bad))
        if keep:
            self.series_dev.append(dv)
            self.series_host.append(hv)
        return ok

    def result(self) -> dict:
        r = {"name": self.name, "index": self.index, "dtype": self.dtype,
             "traceable": self.untraceable == 0, "compared_steps": self.compared,
             "max_abs_error": self.max_abs if self.compared else None,
             "bit_exact": self.bit_exact if self.compared else None,
             "ok": (self.within_tol if self.compared else None)}
        if self.untraceable:
            r["not_traceable_steps"] = self.untraceable
            r["reason"] = self.reason
        if self.dtype in ("spike", "b1"):
            r["spike_agreement"] = (self.agree / self.total) if self.total else None
            r["device_spikes"] = self.dev_spikes
            r["host_spikes"] = self.host_spikes
        if self.first is not None:
            r["first_divergence"] = {"sequence": self.first[0], "step": self.first[1]}
        return r


def validate(dev, blob, xs, *, backend: str = "kernels", atol: float = 0.0, rtol: float = 0.0,
             progress: Callable[[int, int], None] | None = None, keep_series: bool = False) -> dict:
    """Run device inputs `xs` (sequences, steps, storage_len) step by step on the device and the
    host and compare every layer. `blob` (bytes or a Model) is what the host runs; the model must
    already be loaded on `dev`. Returns the report (JSON-able except the `_series` key kept for
    plotting when keep_series)."""
    from .runtime import HostModel
    model = blob if isinstance(blob, Model) else read(blob)
    try:
        host = HostModel(model, backend=backend)
    except (ImportError, ValueError) as e:
        raise UserError(f"host backend {backend!r} is not usable: {e}") from None
    xs = np.asarray(xs)
    if xs.ndim != 3:
        raise ValueError(f"xs must be (sequences, steps, features), got shape {xs.shape}")
    accs = []
    for i, layer in enumerate(model.layers):
        t = model.tensors[layer.output]
        a = _LayerAcc(layer_name(model, i), i, t.dtype, atol, rtol)
        a.total_n = t.n
        accs.append(a)
    ot = model.output_tensor
    out_acc = _LayerAcc("output", None, ot.dtype, atol, rtol)
    out_acc.total_n = ot.n
    first = None
    total = xs.shape[0] * xs.shape[1]
    done = 0
    from .quant.saturation import SaturationCounter
    sat = SaturationCounter(model)
    for s, seq in enumerate(xs):
        dev.reset_state()
        host.reset()
        sat.reset()
        for k, x in enumerate(seq):
            r = dev.step(x)
            tr = dev.trace()
            htr: list = []
            hy = sat.step(host, x, trace=htr)
            keep = keep_series and s == 0
            if len(tr) != len(model.layers):
                raise UserError(f"the device traced {len(tr)} layers, the model has {len(model.layers)}: "
                                "is another model loaded?")
            for i, (lt, h) in enumerate(zip(tr, htr)):
                a = accs[i]
                if lt.data is None:
                    a.untraceable += 1
                    a.reason = lt.error or "not available"
                    if keep:
                        a.series_dev.append(None)
                        a.series_host.append(h.astype(np.float64))
                    continue
                if not a.compare(decode(lt.raw, model, model.layers[i].output), h, s, k, keep) and first is None:
                    first = {"layer": a.name, "index": i, "sequence": s, "step": k,
                             "n_differ": a.first_n_differ, "entries": a.first_entries}
            yd = decode(r.raw, model, model.output)
            if not out_acc.compare(yd, hy, s, k, keep) and first is None:
                # diverged where no traced layer showed it (all upstream layers untraceable)
                first = {"layer": "output", "index": len(model.layers) - 1, "sequence": s, "step": k,
                         "n_differ": out_acc.first_n_differ, "entries": out_acc.first_entries}
            done += 1
            if progress:
                progress(done, total)
    layers = [a.result() for a in accs]
    for l, sr in zip(layers, sat.report()):
        if sr["counted"]:
            l["saturation"] = sr["states"]
            l["saturated"] = sr["saturated"]
    out = out_acc.result()
    untraceable = [a.name for a in accs if a.untraceable]
    ok = all(l["ok"] is not False for l in layers) and bool(out["ok"])
    rep = {"ok": ok, "backend": backend, "atol": atol, "rtol": rtol,
           "sequences": int(xs.shape[0]), "steps": int(xs.shape[1]), "layers": layers, "output": out,
           "not_traceable": untraceable, "first_divergence": first,
           "saturated": sat.total(), "saturated_layers": [l["name"] for l in layers if l.get("saturated")],
           "model_hash": model.model_hash, "board": getattr(getattr(dev, "info", None), "board", None)}
    if keep_series:
        rep["_series"] = [(a.name, a.series_dev, a.series_host) for a in accs] + \
            [("output", out_acc.series_dev, out_acc.series_host)]
    return rep


def plot(rep: dict, path) -> None:
    """Device vs host per layer over the steps of the first sequence: for each layer a panel of
    device (solid) and host (dashed) values of the units that differ most (or the first units),
    and a panel of the max |device - host| per step."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    series = rep.get("_series")
    if not series:
        raise ValueError("the report holds no series: run validate(..., keep_series=True)")
    n = len(series)
    fig, axes = plt.subplots(n, 2, figsize=(11, 1.9 * n + 0.6), squeeze=False)
    div = rep.get("first_divergence")
    for row, (name, dev, host) in enumerate(series):
        ax, axd = axes[row]
        H = np.array(host) if host else np.zeros((0, 0))
        steps = np.arange(len(host))
        traced = [i for i, d in enumerate(dev) if d is not None]
        if not traced:
            ax.plot(steps, H[:, :3] if H.size else [], "--", lw=1)
            ax.set_title(f"{name}: not traceable on the device (host only)", fontsize=8)
            axd.axis("off")
            continue
        D = np.full_like(H, np.nan)
        for i in traced:
            D[i] = dev[i]
        with np.errstate(invalid="ignore"):
            diff = np.abs(D - H)
        per_unit = np.nan_to_num(np.nanmax(diff, axis=0), nan=0.0) if diff.size else np.zeros(0)
        units = list(np.argsort(-per_unit, kind="stable")[:3]) if per_unit.size else []
        for c, u in enumerate(units):
            col = f"C{c}"
            ax.plot(steps, D[:, u], "-", color=col, lw=1, label=f"device[{u}]")
            ax.plot(steps, H[:, u], "--", color=col, lw=1, label=f"host[{u}]")
        ax.set_title(f"{name}: device (solid) vs host (dashed)", fontsize=8)
        ax.legend(fontsize=6, ncol=3, loc="upper right")
        per_step = np.nan_to_num(np.nanmax(diff, axis=1), nan=0.0) if diff.size else np.zeros(0)
        axd.plot(steps, per_step, color="C3", lw=1)
        axd.set_title(f"{name}: max |device - host| per step", fontsize=8)
        if div and div.get("layer") == name and div.get("sequence") == 0:
            for a in (ax, axd):
                a.axvline(div["step"], color="k", ls=":", lw=1)
        for a in (ax, axd):
            a.tick_params(labelsize=6)
    axes[-1][0].set_xlabel("step", fontsize=8)
    axes[-1][1].set_xlabel("step", fontsize=8)
    where = (f"layer {div['layer']}, sequence {div['sequence']}, step {div['step']}" if div else "?")
    fig.suptitle(("agree" if rep["ok"] else f"diverge: first at {where}") + " (plotted: sequence 0)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    fig.savefig(path, dpi=90)
    plt.close(fig)


_plot_report = plot     # for check_against_host, whose `plot` argument is a path


# ---- one call for tests: device vs host, raising with the first divergence ---------------------

class DeviceHostMismatch(AssertionError):
    """The device and the host interpreter differ. `report` is validate()'s report; the message
    names the first layer and step that differ (an AssertionError, so pytest shows it as a
    failed assertion)."""

    def __init__(self, message: str, report: dict):
        super().__init__(message)
        self.report = report


def describe(rep: dict) -> str:
    """validate()'s report as text: the verdict (with the first layer, sequence and step that
    differ and the entries that differ there), then one line per layer."""
    d = rep.get("first_divergence")
    where = f"device (board {rep.get('board') or '?'}) and host interpreter ({rep['backend']})"
    size = f"{rep['sequences']} sequence(s) x {rep['steps']} steps"
    if rep["ok"]:
        lines = [f"{where} agree: {size}, every compared layer"]
    elif d:
        lines = [f"{where} differ: first at layer {d['layer']}, sequence {d['sequence']}, step {d['step']} "
                 f"({size})"]
        if d.get("entries"):
            shown = ", ".join(f"[{e['index']}] {e['device']:.6g} / {e['host']:.6g}" if isinstance(e["device"], float)
                              else f"[{e['index']}] {e['device']} / {e['host']}" for e in d["entries"])
            n = d.get("n_differ", len(d["entries"]))
            more = n - len(d["entries"])
            lines.append(f"  {n} {'entry differs' if n == 1 else 'entries differ'} there, [index] device / host "
                         f"(stored values): {shown}" + (f", ... ({more} more)" if more > 0 else ""))
    else:
        lines = [f"{where} differ ({size})"]
    lines.append("  layer                 dtype   max |err|   first divergence")
    for l in [*rep["layers"], rep["output"]]:
        if not l["traceable"] and l["compared_steps"] == 0:
            state = f"not traceable: {l.get('reason')}"
        else:
            fd = l.get("first_divergence")
            err = l["max_abs_error"]
            state = f"{err:<10.4g}  " + (f"sequence {fd['sequence']} step {fd['step']}" if fd else
                                         ("bit-exact" if l["bit_exact"] else "within tolerance"))
        lines.append(f"  {l['name']:<21} {l['dtype']:<7} {state}")
    lines += saturation_lines(rep)
    if rep["not_traceable"]:
        lines.append("  (layers not traceable: their arena bytes are reused by later layers; convert with "
                     "--no-reuse to see them)")
    if rep.get("plot"):
        lines.append(f"  plot: {rep['plot']}")
    return "\n".join(lines)


def saturation_lines(rep: dict) -> list[str]:
    """The host's saturation counts per layer and state, in words (device and host saturate alike:
    agreeing bit for bit says nothing about it)."""
    rows = [l for l in rep.get("layers", []) if l.get("saturated")]
    steps = rep.get("sequences", 0) * rep.get("steps", 0)
    if not rows:
        counted = [l["name"] for l in rep.get("layers", []) if "saturation" in l]
        return [f"  saturation (host, {steps} steps): none in the {len(counted)} Q15 layers counted"] if counted else []
    out = [f"  saturation (host, {steps} steps; the device clips the same values): "
           f"{rep.get('saturated', 0):,} values in {len(rows)} layer(s)"]
    for l in rows:
        parts = ", ".join(f"{k} {v['saturated']:,} of {v['values']:,}"
                          + (f" (first at step {v['first_step']})" if "first_step" in v else "")
                          for k, v in l["saturation"].items() if v["saturated"])
        out.append(f"    {l['name']:<21} {parts}")
    return out


def check_against_host(dev, x, *, model=None, backend: str = "kernels", atol: float = 0.0, rtol: float = 0.0,
                       plot=None) -> dict:
    """Run `x` on the device and on the host interpreter and compare every layer at every step
    (validate(): both states reset at the start of each sequence, then STEP + TRACE per row on
    the device, HostModel.step on the host). Returns the report when they agree; raises
    DeviceHostMismatch, an AssertionError whose message names the first layer, sequence and
    step that differ (as `edgehost validate` reports it) and the entries that differ there.

    x: (steps, features), (sequences, steps, features) or one (features,) step, as real values
       (floats: quantised with the input tensor's scale, to_device_inputs) or device values.
    model: the blob (bytes, a Model or an .ehm path) the host runs; by default the one loaded
       with dev.load_model() / dev.use_model().
    plot: a path: when they differ, validate's plot (device vs host per layer over the steps of
       the first sequence) is written there and named in the message.
    The device is left in the state after the last step."""
    __tracebackhide__ = True        # pytest: show the message, not this function's source
    if model is None:
        m = getattr(dev, "model", None)
        if m is None:
            raise ValueError("the device does not know its model: load it with device.load_model(blob) "
                             "(or device.use_model(blob) when the board holds it already), or pass model=")
    elif isinstance(model, Model):
        m = model
    elif isinstance(model, (bytes, bytearray, memoryview)):
        m = read(bytes(model))
    else:
        m = load_model_file(model)[1]
    xa = np.asarray(x)
    if xa.ndim == 1:
        xa = xa[None, None]
    elif xa.ndim == 2:
        xa = xa[None]
    if xa.ndim != 3 or xa.shape[0] == 0 or xa.shape[1] == 0:
        raise ValueError(f"x of shape {np.shape(x)}: expected (steps, {m.input_tensor.storage_len}) or "
                         f"(sequences, steps, {m.input_tensor.storage_len})")
    xs = to_device_inputs(xa, m, "x")
    rep = validate(dev, m, xs, backend=backend, atol=atol, rtol=rtol, keep_series=plot is not None)
    info = getattr(dev, "info", None)
    held = getattr(info, "model_hash", None)
    if rep["ok"]:
        rep.pop("_series", None)
        return rep
    if plot is not None:
        _plot_report(rep, plot)
        rep["plot"] = str(plot)
    rep.pop("_series", None)
    msg = describe(rep)
    if held is not None and held != m.model_hash:
        msg += (f"\n  note: the board holds model {held:#010x}, the host ran {m.model_hash:#010x}")
    raise DeviceHostMismatch(msg, rep)


# ---- a model with every Q15 layer type, for self-tests ---------------------------------------

def all_layers_model(seed: int = 0, reuse: bool = False) -> Model:
    """A small Q15 model using every layer type of the Q15 path in one chain:
    input_q15 -> fc_q15 -> lif_q15 -> fc_spike_q15 -> li_q15 -> l2mu_q15 -> fc_q15 -> cubalif_q15
    -> pack_spikes_b1 -> fc_b1_bits -> fc_b1_f32 (f32 output). Random weights sized so that the
    populations spike on random inputs. `reuse=False` keeps every layer's output traceable."""
    from .blob import Layer, Tensor
    from .blob import l2mu as B
    from .convert import BinFc, CubaLif, Fc, Graph, Li, Lif, build
    from .convert.examples import har_sized_l2mu_cell
    from .convert.planner import plan
    rng = np.random.default_rng(seed)
    n_in, h1, k, h2, h3, n_out = 5, 11, 6, 13, 9, 4
    g = Graph(n_in, [Fc(rng.normal(size=(h1, n_in)) * 1.5, rng.normal(size=h1) * 0.3),
                     Lif(np.full(h1, 0.9), np.full(h1, 0.6)),
                     Fc(rng.normal(size=(k, h1)), rng.normal(size=k) * 0.1),
                     Li(np.full(k, 0.8)),
                     Fc(rng.normal(size=(h2, k)) * 0.3, rng.normal(size=h2) * 0.2),
                     CubaLif(np.full(h2, 0.7), np.full(h2, 0.85), np.full(h2, 0.5), "zero"),
                     BinFc(rng.choice([-1, 1], size=(h3, h2)), threshold=rng.integers(-3, 4, size=h3)),
                     BinFc(rng.choice([-1, 1], size=(n_out, h3)), scale=rng.uniform(0.05, 0.5, size=n_out),
                           bias=rng.normal(size=n_out))])
    m = build(g, quantize="q15", calib=None, input_range=3.0, reuse=reuse)[0]   # the model as before: no calibration
    li = next(i for i, l in enumerate(m.layers) if l.type == "li_q15")
    cell = har_sized_l2mu_cell(seed, n_ch=k, pop=3, enc=7, n_u=3, order=3, n_h=9, n_o=k)
    desc_words, data = B.encode(cell)
    d = B.check_desc(desc_words, int(desc_words[0]), int(desc_words[8]))
    nv, ns, nsc = B.state_sizes(d)
    x = m.layers[li].output
    base = len(m.tensors)
    m.tensors += [Tensor("q15", (k,), "state", scale=m.tensors[x].scale), Tensor("q15", (nv,), "state"),
                  Tensor("spike", (ns,), "state"), Tensor("q15", (nsc,))]
    m.layers.insert(li + 1, Layer("l2mu_q15", x, base, k, k, [desc_words, data], [base + 1, base + 2, base + 3]))
    m.layers[li + 2].input = base
    plan(m, reuse=reuse)
    m.to_bytes()
    return m
