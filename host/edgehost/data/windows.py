"""From recordings to model inputs, one function per step:

    recs = load_hapt_pickle()                                   # or load_hapt_uci / load_wisdm_watch
    recs = [resample_recording(r, 20.0) for r in recs]          # anti-aliased, 50 -> 20 Hz
    ws = make_windows(recs, HAPT_6, length=40, stride=20)       # WindowSet(X, y, subjects, class_names)
    train_ids, test_ids = split_subjects(ws.subjects, test_fraction=0.3, seed=0)
    train, test = select_subjects(ws, train_ids), select_subjects(ws, test_ids)
    norm = fit_normalization(train.X)                           # training split only
    train, test = normalize(train, norm), normalize(test, norm)

X is [windows, steps, channels] float32 in CHANNELS order, y int64 class indices into
class_names, subjects int64.

Window labels: by default a window is kept only when every one of its samples carries the same
label and that label is in the class set ("pure"); windows that touch an unlabelled gap, a
postural transition or another class are dropped. With label="majority" a window takes the
label that covers more than half of its samples (when that label is in the class set), so
windows across a class boundary are kept with the dominant label.
"""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

import numpy as np
from scipy.signal import firwin, resample_poly

from ._common import CHANNELS, Recording


class ClassSet(NamedTuple):
    """Which source labels become classes: labels[i] becomes class i, named names[i]."""

    labels: tuple
    names: tuple


#: The 6 HAPT activities (UCI ids 1..6); the postural transitions (7..12) are left out.
HAPT_6 = ClassSet(labels=(1, 2, 3, 4, 5, 6),
                  names=("walking", "walking_upstairs", "walking_downstairs", "sitting", "standing",
                         "laying"))


class WindowSet(NamedTuple):
    X: np.ndarray          # [windows, steps, channels] float32
    y: np.ndarray          # [windows] int64 class index
    subjects: np.ndarray   # [windows] int64 subject id
    class_names: tuple


class Normalization(NamedTuple):
    """Per-channel affine normalisation x_norm = (x - offset) / scale, fitted on training data.
    Both are float32 [channels]; on a device fold them into the first layer as
    x_norm = x * (1 / scale) + (-offset / scale)."""

    offset: np.ndarray
    scale: np.ndarray


# --------------------------------------------------------------------------- resampling
def _ratio(source_hz: float, target_hz: float) -> tuple:
    for name, v in (("source rate", source_hz), ("target rate", target_hz)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be > 0 and finite, got {v}")
    r = Fraction(float(target_hz)).limit_denominator(10000) / Fraction(float(source_hz)).limit_denominator(10000)
    if abs(float(r) - target_hz / source_hz) > 1e-9 * (target_hz / source_hz) or r.numerator > 10000 or r.denominator > 10000:
        raise ValueError(f"cannot resample {source_hz} Hz -> {target_hz} Hz with a small rational ratio")
    return r.numerator, r.denominator


def resample(x: np.ndarray, source_hz: float, target_hz: float) -> np.ndarray:
    """Resample [N, C] (or [N]) signals along axis 0 with scipy's polyphase resampler: an FIR
    low-pass (`_lowpass`: Kaiser window, cut-off at the lower Nyquist rate) anti-aliases when
    downsampling. The signal is extended with its edge values, not zeros, so that an offset
    (gravity) does not dip at the ends. Output length ceil(N * target / source); sample k is at
    time k / target_hz. float64 out."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise ValueError(f"x must be [N] or [N, C] with N > 0, got shape {x.shape}")
    up, down = _ratio(source_hz, target_hz)
    if up == down:
        return x.copy()
    return resample_poly(x, up, down, axis=0, window=_lowpass(up, down), padtype="edge")


def _lowpass(up: int, down: int) -> np.ndarray:
    """scipy's default resample_poly filter (Kaiser window, beta 5, 20 * max(up, down) + 1 taps,
    cut-off at the lower Nyquist rate), with each of its `up` polyphase branches scaled to a DC
    gain of exactly 1, so that a constant (gravity) comes out constant (scipy's own branches
    differ by ~1e-4, which would add a small ripple at the output rate)."""
    m = max(up, down)
    h = firwin(20 * m + 1, 1.0 / m, window=("kaiser", 5.0))
    for p in range(up):
        h[p::up] /= h[p::up].sum() * up
    return h


def resample_segments(segments: np.ndarray, source_hz: float, target_hz: float, n_out: int) -> np.ndarray:
    """Map (label, start, stop) sample segments to another rate: a segment covers the time
    [start / source, stop / source), so new sample k (time k / target) is in it when
    start * target / source <= k < stop * target / source. Segments that get no sample are dropped."""
    up, down = _ratio(source_hz, target_hz)
    seg = np.asarray(segments, dtype=np.int64).reshape(-1, 3).copy()
    seg[:, 1] = -((-seg[:, 1] * up) // down)   # ceil
    seg[:, 2] = -((-seg[:, 2] * up) // down)
    seg[:, 1:] = np.minimum(seg[:, 1:], n_out)
    return seg[seg[:, 2] > seg[:, 1]]


def resample_recording(rec: Recording, target_hz: float) -> Recording:
    """The recording at `target_hz` (signals via `resample`, segments via `resample_segments`)."""
    sig = resample(rec.signals, rec.rate_hz, target_hz)
    seg = resample_segments(rec.segments, rec.rate_hz, target_hz, sig.shape[0])
    return Recording(subject=rec.subject, name=rec.name, signals=sig, rate_hz=float(target_hz),
                     segments=seg, label_names=rec.label_names, units=rec.units)


# --------------------------------------------------------------------------- windows
def make_windows(recordings, classes: ClassSet, length: int, stride: int, label: str = "pure") -> WindowSet:
    """Windows of `length` samples every `stride` samples, starting at sample 0 of each recording
    (a window never spans two recordings). `label` is "pure" or "majority" (module doc). All
    recordings must share one sample rate."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be an integer >= 1, got {length!r}")
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be an integer >= 1, got {stride!r}")
    if label not in ("pure", "majority"):
        raise ValueError(f"label must be 'pure' or 'majority', got {label!r}")
    if len(classes.labels) != len(classes.names) or len(set(classes.labels)) != len(classes.labels):
        raise ValueError("classes: labels must be distinct and as many as names")
    recordings = list(recordings)
    if not recordings:
        raise ValueError("no recordings")
    rates = {r.rate_hz for r in recordings}
    if len(rates) != 1:
        raise ValueError(f"recordings have different sample rates {sorted(rates)}: resample first")
    lut = {lab: i for i, lab in enumerate(classes.labels)}
    xs, ys, ss = [], [], []
    for rec in recordings:
        if rec.n_samples < length:
            continue
        starts = np.arange(0, rec.n_samples - length + 1, stride)
        cls = np.full(rec.n_samples, -1, dtype=np.int64)
        for lab, s0, s1 in rec.segments:
            if int(lab) in lut:
                cls[s0:s1] = lut[int(lab)]
        # -1 marks samples that are unlabelled or carry a label outside the class set
        win = cls[starts[:, None] + np.arange(length)[None, :]]
        if label == "pure":
            keep = np.all(win == win[:, :1], axis=1) & (win[:, 0] >= 0)
            y = win[:, 0]
        else:
            counts = np.stack([(win == c).sum(axis=1) for c in range(len(lut))], axis=1)
            y = counts.argmax(axis=1)
            keep = 2 * counts.max(axis=1) > length
        starts, y = starts[keep], y[keep]
        if starts.size == 0:
            continue
        idx = starts[:, None] + np.arange(length)[None, :]
        xs.append(np.asarray(rec.signals, dtype=np.float32)[idx])
        ys.append(y.astype(np.int64))
        ss.append(np.full(starts.size, rec.subject, dtype=np.int64))
    if not xs:
        X = np.zeros((0, length, len(CHANNELS)), dtype=np.float32)
        return WindowSet(X, np.zeros(0, np.int64), np.zeros(0, np.int64), tuple(classes.names))
    return WindowSet(np.concatenate(xs), np.concatenate(ys), np.concatenate(ss), tuple(classes.names))


# --------------------------------------------------------------------------- subject-wise split
def split_subjects(subjects, test_fraction: float = 0.3, seed: int = 0) -> tuple:
    """Split the distinct subject ids into (train ids, test ids), sorted int64 arrays with no id in
    both. round(test_fraction * n) subjects (at least 1, at most n - 1) go to test, drawn with
    numpy's default_rng(seed): the same ids and seed always give the same split."""
    ids = np.unique(np.asarray(subjects).astype(np.int64))
    if ids.size < 2:
        raise ValueError(f"need at least 2 distinct subjects to split, got {ids.size}")
    if not (0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    n_test = min(max(int(round(test_fraction * ids.size)), 1), ids.size - 1)
    perm = np.random.default_rng(seed).permutation(ids.size)
    test = np.sort(ids[perm[:n_test]])
    train = np.sort(ids[perm[n_test:]])
    return train, test


def select_subjects(ws: WindowSet, ids) -> WindowSet:
    """The windows of the given subject ids."""
    mask = np.isin(ws.subjects, np.asarray(ids, dtype=np.int64))
    return WindowSet(ws.X[mask], ws.y[mask], ws.subjects[mask], ws.class_names)


# --------------------------------------------------------------------------- normalisation
def fit_normalization(X: np.ndarray) -> Normalization:
    """Per-channel mean (offset) and standard deviation (scale) over all windows and steps of the
    training windows X [windows, steps, channels], computed in float64 and returned as float32."""
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be [windows, steps, channels] with windows, steps > 0, got {X.shape}")
    flat = X.reshape(-1, X.shape[2]).astype(np.float64)
    if not np.all(np.isfinite(flat)):
        raise ValueError("X holds non-finite values")
    offset = flat.mean(axis=0)
    scale = flat.std(axis=0)
    const = np.flatnonzero(~(scale > 0))
    if const.size:
        raise ValueError(f"channels {const.tolist()} are constant in the training data: cannot scale")
    return Normalization(offset.astype(np.float32), scale.astype(np.float32))


def normalize(ws: WindowSet, norm: Normalization) -> WindowSet:
    """The windows with (x - offset) / scale applied per channel (float32)."""
    off = np.asarray(norm.offset, dtype=np.float32)
    sc = np.asarray(norm.scale, dtype=np.float32)
    if off.shape != (ws.X.shape[2],) or sc.shape != off.shape:
        raise ValueError(f"normalisation has {off.shape} offsets and {sc.shape} scales for "
                         f"{ws.X.shape[2]} channels")
    if not np.all(sc > 0):
        raise ValueError("scale must be > 0")
    X = ((ws.X.astype(np.float32) - off) / sc).astype(np.float32)
    return WindowSet(X, ws.y, ws.subjects, ws.class_names)
