"""Event-camera frames made here, with no download: scikit-learn's 8x8 digits, scaled to a
28x28 image on a 34x34 sensor (the N-MNIST geometry), moved along three saccades the way
N-MNIST's sensor was moved, and turned into ON/OFF events by a DVS-like pixel model.

Per sample: `steps` time bins x 2 polarities (0 = ON, 1 = OFF) x 34 x 34, uint8 0/1 (a pixel
fires at most once per polarity and bin).

The pixel model: a pixel reports an ON (OFF) event when log(intensity + eps) has risen (fallen) by
at least `contrast` since its last event; its reference level then moves by one contrast step.
The image moves continuously (sub-pixel bilinear shifts), sampled `sub` times per bin.
Everything is deterministic for a given seed: the same call gives the same events on every machine
(numpy and scipy only; no RNG in the pixel model, the seed only orders and splits the samples).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SENSOR = 34          # sensor width and height (N-MNIST)
IMAGE = 28           # the digit's size on the sensor
CLASSES = 10


@dataclass(frozen=True)
class EventSplit:
    X_train: np.ndarray   # (n, steps, 2, 34, 34) uint8
    y_train: np.ndarray   # (n,) int64
    X_test: np.ndarray
    y_test: np.ndarray
    steps: int
    contrast: float


def _digit_images() -> tuple[np.ndarray, np.ndarray]:
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    d = load_digits()
    imgs = d.images.astype(np.float64) / 16.0                     # (1797, 8, 8) in [0, 1]
    big = np.stack([np.clip(zoom(im, IMAGE / 8, order=1), 0.0, 1.0) for im in imgs])
    return big, d.target.astype(np.int64)


def _saccade_path(steps: int, sub: int, amplitude: float) -> np.ndarray:
    """(steps*sub+1, 2) offsets (dy, dx) in pixels: three straight moves around a triangle,
    back to the start (N-MNIST's three saccades)."""
    corners = np.array([[0.0, 0.0], [amplitude, amplitude / 2], [0.0, amplitude], [0.0, 0.0]])
    n = steps * sub
    t = np.linspace(0.0, 3.0, n + 1)
    seg = np.minimum(t.astype(int), 2)
    frac = (t - seg)[:, None]
    return corners[seg] * (1 - frac) + corners[seg + 1] * frac


def events_from_image(img: np.ndarray, steps: int = 12, sub: int = 4, amplitude: float = 3.0,
                      contrast: float = 0.3, eps: float = 0.2) -> np.ndarray:
    """One image (IMAGE x IMAGE, values in [0, 1]) -> (steps, 2, SENSOR, SENSOR) uint8 events."""
    from scipy.ndimage import shift

    if steps < 1 or sub < 1:
        raise ValueError(f"steps and sub must be >= 1 (got {steps}, {sub})")
    canvas = np.zeros((SENSOR, SENSOR))
    o = (SENSOR - IMAGE) // 2 - 1
    canvas[o:o + IMAGE, o:o + IMAGE] = img
    path = _saccade_path(steps, sub, amplitude)

    def log_frame(off):
        return np.log(np.clip(shift(canvas, off, order=1, mode="constant"), 0.0, 1.0) + eps)

    ref = log_frame(path[0])
    out = np.zeros((steps, 2, SENSOR, SENSOR), np.uint8)
    for k in range(1, steps * sub + 1):
        cur = log_frame(path[k])
        d = cur - ref
        on, off = d >= contrast, d <= -contrast
        b = (k - 1) // sub
        out[b, 0] |= on
        out[b, 1] |= off
        ref = np.where(on, ref + contrast, np.where(off, ref - contrast, ref))
    return out


def event_digits(steps: int = 12, test_fraction: float = 0.2, seed: int = 0, limit: int | None = None,
                 contrast: float = 0.3) -> EventSplit:
    """The digits as event streams, split into train and test (stratified, fixed by `seed`)."""
    imgs, y = _digit_images()
    rng = np.random.default_rng(seed)
    test_idx = []
    for c in range(CLASSES):
        idx = rng.permutation(np.flatnonzero(y == c))
        test_idx.extend(idx[: int(round(len(idx) * test_fraction))])
    test_mask = np.zeros(len(y), bool)
    test_mask[test_idx] = True
    order_train = rng.permutation(np.flatnonzero(~test_mask))
    order_test = np.sort(np.flatnonzero(test_mask))
    if limit is not None:
        order_train, order_test = order_train[:limit], order_test[:limit]
    ev = lambda idx: np.stack([events_from_image(imgs[i], steps, contrast=contrast) for i in idx]) \
        if len(idx) else np.zeros((0, steps, 2, SENSOR, SENSOR), np.uint8)
    return EventSplit(ev(order_train), y[order_train], ev(order_test), y[order_test], steps, contrast)
