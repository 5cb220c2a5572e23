"""Checks of the data a user gives with a model: calibration arrays for `convert --calib`, input
arrays for `run`/`validate`/`stream`, and the Q15 scales a calibration produced.

Each check raises InputDataError (a ValueError) with one line naming `what` (the option or file),
the value found and what is allowed; the commands turn it into their error line.

    x = check_array(np.load(path), n_in, "--calib")          # finite, numeric, (steps, n_in) ...
    check_scales(report, calibrated=True)                     # refuses degenerate Q15 scales
    notes = input_range_notes(graph, x, input_range)          # what will saturate, in words
    n, total, lim = saturating_inputs(x, model)               # device inputs that will clip
"""
from __future__ import annotations

import math

import numpy as np

#: below this a Q15 tensor's range (scale x 32767) is "nothing ever reached it": the quantiser's
#: floor for an all-zero calibration range is 1e-30
DEGENERATE_RANGE = 1e-20
#: float32's largest finite value: calibration and float inputs are converted to float32
F32_MAX = float(np.finfo(np.float32).max)


class InputDataError(ValueError):
    """Calibration or input data the model cannot use; the message is for the user."""


def _where_bad(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)
    first = tuple(int(i) for i in idx[0]) if idx.size else ()
    return f"{int(mask.sum())} of {mask.size} values, the first at index {list(first)}"


def check_array(a, n: int, what: str, *, min_rows: int = 1, max_steps: int | None = None,
                integers: bool = True, unit: str = "features") -> np.ndarray:
    """A numeric array of shape (n,), (steps, n) or (sequences, steps, n) with at least
    `min_rows` steps per sequence, at most `max_steps` steps, every value finite (and within
    float32 for float data). Returns it with 3 dimensions (sequences, steps, n).
    `integers`: integer arrays are allowed (device values); a bool array counts as 0/1."""
    a = np.asarray(a)
    shape = a.shape
    if a.dtype.kind == "b":
        a = a.astype(np.uint8)
    allowed = "iuf" if integers else "f"
    if a.dtype.kind not in allowed:
        raise InputDataError(f"{what} holds {a.dtype} values: "
                             f"{'integers or floats' if integers else 'floats'} expected")
    if a.ndim == 1 and n == 1:
        a = a[:, None]
    elif a.ndim == 1 and a.shape[0] == n:
        a = a[None]
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[-1] != n:
        raise InputDataError(f"{what} has shape {shape}: the model takes {n} {unit} per step, i.e. "
                             f"({n},), (steps, {n}) or (sequences, steps, {n})")
    if a.shape[0] == 0 or a.shape[1] < min_rows:
        raise InputDataError(f"{what} has {a.shape[0]} sequence(s) of {a.shape[1]} step(s): "
                             f"at least {min_rows} step(s) of {n} {unit} needed")
    if max_steps is not None and a.shape[1] > max_steps:
        raise InputDataError(f"{what} has {a.shape[1]:,} steps per sequence: at most {max_steps:,} allowed")
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            raise InputDataError(f"{what} holds NaN or infinite values ({_where_bad(bad)}): "
                                 f"only finite numbers are allowed")
        big = np.abs(a.astype(np.float64)) > F32_MAX
        if big.any():
            raise InputDataError(f"{what} holds values beyond float32 ({_where_bad(big)}): "
                                 f"|x| <= {F32_MAX:.3g} allowed")
    return a


def b1_entries(a, model, what: str):
    """A b1 model input (event data) given as its 0/1 entries (last dimension n, not the packed
    words' ceil(n/32)): packed here (edgehost.blob.bits); any other array is returned as it is."""
    t = model.input_tensor
    a = np.asarray(a)
    if t.dtype != "b1" or a.ndim == 0 or a.shape[-1] != t.n or t.n == t.storage_len:
        return a
    from ..blob.bits import pack_rows
    try:
        return pack_rows(a, t.n)
    except ValueError as e:
        raise InputDataError(f"{what}: the model takes {t.n} events per step (b1): {e}") from None


def check_calib(a, n_in: int, what: str = "--calib") -> np.ndarray:
    """A calibration array: (steps, n_in) or (sequences, steps, n_in) of finite numbers, at
    least one step; returned as float32 in the shape given (2-D stays 2-D)."""
    a = np.asarray(a)
    x = check_array(a, n_in, what, integers=True, unit="inputs")
    x = x.astype(np.float32)
    return x[0] if a.ndim <= 2 else x


def check_scales(report: dict, calibrated: bool, what: str = "--calib") -> None:
    """Refuses a Q15 conversion in which a layer's scale is degenerate (not finite, not positive,
    or the quantiser's floor because its range was 0): that layer's output would be 0 (or
    garbage) on the device whatever the input. Names the layer and the cause."""
    for q in report.get("layers") or []:
        s = q.get("scale")
        if s is None:
            continue
        try:
            s = float(s)
        except (TypeError, ValueError):
            continue
        rng = s * 32767.0
        if math.isfinite(s) and s > 0 and rng > DEGENERATE_RANGE:
            continue
        layer = f"layer {q.get('graph_layer', '?')} ({q.get('kind', '?')})"
        src = q.get("scale_from") or "its range"
        if not math.isfinite(s) or s <= 0:
            raise InputDataError(f"degenerate Q15 scale: {layer} would get scale {s!r} (from {src})")
        if calibrated:
            raise InputDataError(
                f"degenerate Q15 scale: {layer} gave 0 on every {what} input, so its scale ({src}) would be "
                f"{s:.3g} and it would output 0 on the device for any input; the layers before it never "
                f"drive it on {what} (e.g. a spiking layer that never spikes): give calibration inputs "
                f"that exercise the model")
        raise InputDataError(f"degenerate Q15 scale: {layer} has an output range of 0 ({src}: all its "
                             f"weights and bias are 0?), so its scale would be {s:.3g}")


def _normalised(graph, x: np.ndarray) -> np.ndarray:
    """x through the graph's input normalisation (a first Norm layer), if any."""
    layers = getattr(graph, "layers", None) or []
    first = layers[0] if layers else None
    if first is not None and getattr(first, "kind", None) == "norm":
        off = np.asarray(getattr(first, "offset", 0.0), dtype=np.float64)
        gain = np.asarray(getattr(first, "gain", 1.0), dtype=np.float64)
        return (x.astype(np.float64) - off) * gain
    return x.astype(np.float64)


def input_range_notes(graph, calib, input_range: float | None) -> list[str]:
    """What a Q15 conversion's input range will clip, in words (for `convert`'s output)."""
    if calib is None:
        r = 1.0 if input_range is None else input_range
        how = "the default 1.0" if input_range is None else "--input-range"
        return [f"no --calib: normalised inputs are taken to lie within +-{r:g} ({how}); larger values "
                f"saturate on the device (give --calib with representative inputs, or --input-range)"]
    if input_range is None:
        return []
    try:
        xn = np.abs(_normalised(graph, np.asarray(calib)))
    except (TypeError, ValueError):
        return []
    over = xn > input_range
    if over.any():
        return [f"--input-range {input_range:g}: {int(over.sum())} of {over.size} --calib values "
                f"({100.0 * over.mean():.1f} %, up to {float(xn.max()):.3g}) lie beyond it and saturate"]
    return []


def saturating_inputs(x, model) -> tuple[int, int, str]:
    """(how many, of how many, the limit in words) float inputs the device will saturate: the
    model's first layer `input_q15` maps x to (x - offset) * gain, clipped to +-32767."""
    x = np.asarray(x)
    if x.dtype.kind != "f" or not getattr(model, "layers", None):
        return 0, int(x.size), ""
    first = model.layers[0]
    if first.type != "input_q15" or model.input_tensor.dtype != "f32":
        return 0, int(x.size), ""
    off = np.asarray(first.params[0], dtype=np.float64)
    gain = np.asarray(first.params[1], dtype=np.float64)
    n = x.shape[-1]
    idx = np.arange(n) % max(off.size, 1)
    q = (x.astype(np.float64) - off[idx]) * gain[idx % max(gain.size, 1)]
    over = np.abs(q) > 32767.5
    g = np.abs(gain[idx % max(gain.size, 1)])
    lim = 32767.0 / g.max() if g.size and g.max() > 0 else float("inf")
    return int(over.sum()), int(x.size), f"+-{lim:.4g} around the input offset (from --calib / --input-range)"
