"""The in-memory structure every HAR loader returns, and the error it raises on bad files."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Channel order of every signal array in this package (the L2MU group's convention).
CHANNELS = ("acc_x", "gyro_x", "acc_y", "gyro_y", "acc_z", "gyro_z")

#: Column of each axis in a [N, 6] signal array: ACC_COLS are acc x, y, z; GYRO_COLS gyro x, y, z.
ACC_COLS = (0, 2, 4)
GYRO_COLS = (1, 3, 5)

#: Label value of a sample that lies in no labelled segment.
UNLABELLED = -1


class DataFormatError(ValueError):
    """A data file does not have the expected format. `path` and `line` (1-based, or None when
    the problem is not tied to one line) say where; the message starts with ``path:line:``."""

    def __init__(self, path, line: int | None, reason: str):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {reason}")


def interleave(acc: np.ndarray, gyro: np.ndarray) -> np.ndarray:
    """Stack [N, 3] accelerometer and [N, 3] gyroscope arrays (x, y, z) into [N, 6] in CHANNELS
    order: acc_x, gyro_x, acc_y, gyro_y, acc_z, gyro_z."""
    acc = np.asarray(acc)
    gyro = np.asarray(gyro)
    if acc.ndim != 2 or acc.shape[1] != 3 or gyro.shape != acc.shape:
        raise ValueError(f"acc and gyro must both be [N, 3], got {acc.shape} and {gyro.shape}")
    out = np.empty((acc.shape[0], 6), dtype=np.result_type(acc, gyro))
    out[:, ACC_COLS] = acc
    out[:, GYRO_COLS] = gyro
    return out


@dataclass(frozen=True)
class Recording:
    """One continuous recording of one subject.

    signals:     [N, 6] float64 in CHANNELS order, sampled uniformly at `rate_hz`.
    segments:    [S, 3] int64 rows (label, start, stop): samples start <= i < stop (0-based,
                 half-open) carry `label`; segments do not overlap; samples in no segment
                 are unlabelled.
    label_names: label value -> activity name, for every label the data set defines.
    units:       (accelerometer unit, gyroscope unit), e.g. ("g", "rad/s").
    """

    subject: int
    name: str
    signals: np.ndarray
    rate_hz: float
    segments: np.ndarray
    label_names: dict = field(repr=False)
    units: tuple = ("", "")

    def __post_init__(self):
        sig = np.asarray(self.signals)
        if sig.ndim != 2 or sig.shape[1] != len(CHANNELS):
            raise ValueError(f"{self.name}: signals must be [N, 6], got {sig.shape}")
        if not (np.isfinite(self.rate_hz) and self.rate_hz > 0):
            raise ValueError(f"{self.name}: rate_hz must be > 0, got {self.rate_hz}")
        seg = np.asarray(self.segments, dtype=np.int64).reshape(-1, 3)
        if seg.size:
            if np.any(seg[:, 1] < 0) or np.any(seg[:, 2] > sig.shape[0]) or np.any(seg[:, 1] >= seg[:, 2]):
                raise ValueError(f"{self.name}: segments must satisfy 0 <= start < stop <= {sig.shape[0]}")
            order = np.argsort(seg[:, 1], kind="stable")
            seg = seg[order]
            if np.any(seg[1:, 1] < seg[:-1, 2]):
                raise ValueError(f"{self.name}: segments overlap")
        object.__setattr__(self, "segments", seg)

    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[0])

    def sample_labels(self) -> np.ndarray:
        """[N] int64 label of every sample, UNLABELLED (-1) outside the segments."""
        lab = np.full(self.n_samples, UNLABELLED, dtype=np.int64)
        for label, start, stop in self.segments:
            lab[start:stop] = label
        return lab


def segments_from_labels(labels: np.ndarray) -> np.ndarray:
    """[S, 3] (label, start, stop) runs of equal labels in a per-sample label array, without the
    UNLABELLED runs."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if labels.size == 0:
        return np.zeros((0, 3), dtype=np.int64)
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.r_[0, edges]
    stops = np.r_[edges, labels.size]
    seg = np.stack([labels[starts], starts, stops], axis=1).astype(np.int64)
    return seg[seg[:, 0] != UNLABELLED]
