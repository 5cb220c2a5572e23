"""The committed HAR model: its Q15 cell runs bit-exact in the C kernels and their numpy twins,
classifies held-out windows, and the recorded float/Q15 accuracies meet the demo's targets."""
import json

import numpy as np
import pytest


import edgehost.kernels as K  # noqa: E402
import edgehost.sim as S  # noqa: E402
from edgehost.convert.l2mu import quantize_input  # noqa: E402
from edgehost.demos.har.cellio import load_cell, save_cell  # noqa: E402
from edgehost.demos.har.data import hapt_split  # noqa: E402
from edgehost.demos.har.demo import MODEL_DIR, load_model, pick_windows  # noqa: E402


@pytest.fixture(scope="module")
def split():
    return hapt_split()


def test_recorded_accuracies_meet_the_targets():
    meta = json.loads((MODEL_DIR / "l2mu_hapt.json").read_text())
    assert meta["accuracy_test_q15"] >= 0.90
    assert abs(meta["accuracy_test_q15"] - meta["accuracy_test_float_torch"]) <= 0.01
    assert meta["test_windows"] > 3000


def test_cell_round_trip(tmp_path):
    _, _, cell = load_model()
    save_cell(tmp_path / "c.npz", cell)
    again = load_cell(tmp_path / "c.npz")
    assert again.keys() == cell.keys()
    for k in ("w_in", "e_x", "w_m", "a"):
        np.testing.assert_array_equal(again[k], cell[k])
    assert again["enc"][0]["shift"] == cell["enc"][0]["shift"]


def test_q15_cell_bit_exact_and_accurate_on_held_out_windows(split):
    meta, cell_f, cell_q = load_model()
    raw = split.test_raw
    idx = pick_windows(raw.y, per_class=8, seed=1)
    hits = 0
    for i in idx:
        xq = quantize_input(raw.X[i], meta["input_scale"])
        _, out_c = K.l2mu_run_q15(cell_q, xq)
        _, out_s = S.l2mu_run_q15(cell_q, xq)
        np.testing.assert_array_equal(out_c, out_s)
        hits += int(np.argmax(out_c[-1]) == raw.y[i])
    assert hits / len(idx) >= 0.8


def test_float_cell_agrees_with_q15_on_most_windows(split):
    meta, cell_f, cell_q = load_model()
    raw = split.test_raw
    idx = pick_windows(raw.y, per_class=5, seed=2)
    same = 0
    for i in idx:
        pf = np.argmax(K.l2mu_run_f32(cell_f, raw.X[i].astype(np.float32))[1][-1])
        pq = np.argmax(K.l2mu_run_q15(cell_q, quantize_input(raw.X[i], meta["input_scale"]))[1][-1])
        same += int(pf == pq)
    assert same / len(idx) >= 0.85
