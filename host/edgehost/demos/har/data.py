"""The demo's data: UCI HAPT, 6 activities, resampled to 20 Hz, 2-s windows (40 steps x 6
channels), split by subject (30% of the subjects held out for the test, seed 0), normalised with
training statistics only."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data import (HAPT_6, Normalization, WindowSet, fit_normalization, load_hapt_pickle,
                     make_windows, normalize, resample_recording, select_subjects, split_subjects)

RATE_HZ = 20.0
STEPS = 40
STRIDE = 20
TEST_FRACTION = 0.3
SEED = 0


@dataclass
class Split:
    train_raw: WindowSet
    test_raw: WindowSet
    norm: Normalization
    dataset: str

    @property
    def train(self) -> WindowSet:
        return normalize(self.train_raw, self.norm)

    @property
    def test(self) -> WindowSet:
        return normalize(self.test_raw, self.norm)

    @property
    def class_names(self) -> tuple:
        return self.train_raw.class_names


def hapt_split(seed: int = SEED) -> Split:
    recs = [resample_recording(r, RATE_HZ) for r in load_hapt_pickle()]
    ws = make_windows(recs, HAPT_6, length=STEPS, stride=STRIDE)
    tr_ids, te_ids = split_subjects(ws.subjects, test_fraction=TEST_FRACTION, seed=seed)
    train_raw, test_raw = select_subjects(ws, tr_ids), select_subjects(ws, te_ids)
    assert not set(np.unique(train_raw.subjects)) & set(np.unique(test_raw.subjects))
    return Split(train_raw, test_raw, fit_normalization(train_raw.X), "UCI HAPT (6 activities, subject-wise)")
