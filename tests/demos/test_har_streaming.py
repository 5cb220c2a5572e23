"""The HAR streaming comparison (demos/har/streaming.py, issue #20 part 3): its decision points are
the demo's test windows at a 1-s rate, its windowed accuracies are the committed models' own
held-out figures, and its table prices each decision rate from the device's counts."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from edgehost.demos.har import cnn_int8 as C
from edgehost.demos.har import streaming as S
from edgehost.demos.har import train_stream as TS
from edgehost.demos.har.data import STEPS, STRIDE, hapt_split
from edgehost.demos.har.demo import load_model


def test_decision_points_rule():
    cls = np.array([-1] * 5 + [2] * 50 + [3] * 45 + [-1] * 3 + [1] * 39)
    every, grid = S.decision_points(cls)
    # a decision at t scores when the STEPS samples up to t carry one label
    for t in range(cls.size):
        w = cls[max(0, t - STEPS + 1): t + 1]
        pure = t >= STEPS - 1 and np.all(w == w[0]) and w[0] >= 0
        assert (t in set(every.tolist())) == pure, t
    assert set(grid.tolist()) <= set(every.tolist())
    assert all((t - (STEPS - 1)) % STRIDE == 0 for t in grid)
    assert every.tolist()[0] == 5 + STEPS - 1 and every.size == (50 - STEPS + 1) + (45 - STEPS + 1)
    assert S.decision_points(np.zeros(STEPS - 1, np.int64))[0].size == 0


@pytest.fixture(scope="module")
def recordings():
    return S.held_out_recordings()


def test_one_second_decisions_are_the_demo_test_windows(recordings):
    test = hapt_split().test_raw
    ends = [(x, c, S.decision_points(c)[1]) for x, c in recordings]
    assert sum(g.size for _, _, g in ends) == len(test.y)
    np.testing.assert_array_equal(np.concatenate([c[g] for _, c, g in ends]), test.y)
    X = np.concatenate([S._windows(x, g) for x, _, g in ends])
    np.testing.assert_array_equal(X, test.X)


def test_accuracies_equal_the_models_own(recordings):
    acc = S.accuracies(recordings, log=None)
    meta = load_model()[0]
    assert acc["l2mu_win_1s"]["decisions"] == acc["cnn_1s"]["decisions"] == len(hapt_split().test_raw.y)
    assert acc["l2mu_win_1s"]["accuracy"] == pytest.approx(meta["accuracy_test_q15"], abs=1e-12)
    assert acc["cnn_1s"]["accuracy"] == pytest.approx(C.load()["meta"]["accuracy_test_int8"], abs=1e-12)
    # the L2MU trained for streaming: what train_stream.py recorded at training time
    ms, _ = S.load_l2mu(S.STREAM)
    for name, k in TS.ACC_KEYS.items():
        if k.startswith("l2mu_cont"):
            assert acc[k.replace("l2mu", "stream")]["accuracy"] == pytest.approx(ms["accuracy_test_q15"][name], abs=1e-12)
    assert acc["l2mu_cont_every"]["decisions"] == acc["cnn_every"]["decisions"] > 19 * acc["cnn_1s"]["decisions"]
    for v in acc.values():
        assert 0.0 < v["accuracy"] <= 1.0


def test_table_prices_each_rate():
    keys = ("l2mu_cont", "l2mu_win", "stream_cont", "cnn")
    acc = {f"{k}_{w}": {"accuracy": 0.9, "decisions": 10} for k in keys for w in ("every", "1s")}
    cost = {"l2mu": {"step_instructions": 1000.0, "window_instructions": 30000.0, "arena_bytes": 100},
            "stream": {"step_instructions": 700.0, "arena_bytes": 90},
            "cnn_int8": {"window_instructions": 50000.0, "arena_bytes": 200}}
    rows = {(r["model"], r["decision"]): r for r in S.table(acc, cost)}
    cont, win = "L2MU, windowed model run continuously", "L2MU, windowed (reset, 40 steps, read)"
    st, cnn = "L2MU trained for streaming (never reset)", "int8 CNN (edgehost conv1d_s8, fc_s8)"
    assert rows[(cont, "every sample")]["instructions_per_s"] == rows[(cont, "every 1 s")]["instructions_per_s"] == 20 * 1000
    assert rows[(st, "every sample")]["instructions_per_s"] == 20 * 700 and rows[(st, "every 1 s")]["ram_bytes"] == 90
    assert rows[(win, "every sample")]["instructions_per_s"] == 20 * 30000
    assert rows[(win, "every 1 s")]["instructions_per_s"] == 30000
    assert rows[(cnn, "every 1 s")]["ram_bytes"] == 200 + STEPS * 6 * 2
    assert rows[(cnn, "every sample")]["instructions_per_s"] == 20 * 50000
    assert len(rows) == 10 and "| int8 CNN" in S.markdown(S.table(acc, cost))


@pytest.mark.hil
@pytest.mark.slow
def test_streaming_cli_on_mps2(tmp_path):
    env = {**os.environ, "EDGEHOST_HOME": str(tmp_path / "home")}
    try:
        out = subprocess.run([sys.executable, "-m", "edgehost", "demo", "har", "--streaming", "--json"],
                             capture_output=True, text=True, timeout=1200, env=env)
    finally:
        subprocess.run([sys.executable, "-m", "edgehost", "stop", "--all"], env=env, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)
    assert r["costs"]["l2mu"]["steps_bit_exact"] == 1.0 and r["costs"]["stream"]["steps_bit_exact"] == 1.0
    assert r["costs"]["l2mu"]["step_instructions"] > 0 and r["costs"]["cnn_int8"]["window_instructions"] > 0
    assert len(r["rows"]) == 10
