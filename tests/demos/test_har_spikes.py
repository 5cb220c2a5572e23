"""Spike rates per population of the demo's L2MU (edgehost.demos.har.spikes): counted from the
Q15 step the device runs, consistent with the numpy twin's spikes and with the recorded figures."""
import json

import numpy as np
import pytest

import edgehost.sim as S
from edgehost.convert.l2mu import quantize_input
from edgehost.demos.har import spikes as SP
from edgehost.demos.har.data import hapt_split
from edgehost.demos.har.demo import MODEL_DIR, load_model, pick_windows


@pytest.fixture(scope="module")
def split():
    return hapt_split()


def _twin_counts(cell, X, scale):
    """Spikes per population from the numpy twin, step by step."""
    n = dict.fromkeys(SP.POPULATIONS, 0)
    for x in X:
        st = S.l2mu_state_q15(cell)
        for xt in quantize_input(x, scale):
            st = S.l2mu_readout_q15(cell, S.l2mu_step_q15(cell, st, xt))
            for p, s in (("input", st["in"]["s"]), ("encoder", st["enc"][-1]["s"]), ("u", st["u"]["s"]),
                         ("m", st["m"]["s"]), ("h", st["h"]["s"])):
                n[p] += int(np.count_nonzero(s))
    return n


def test_spike_rates_match_the_numpy_twin(split):
    meta, _, cq = load_model()
    idx = pick_windows(split.test_raw.y, per_class=1, seed=3)
    X = split.test_raw.X[idx]
    r = SP.spike_rates(cq, X, meta["input_scale"])
    cfg = meta["config"]
    assert r["neurons"] == {"input": cfg["channels"] * cfg["pop"], "encoder": cfg["enc"], "u": cfg["memory"],
                            "m": cfg["memory"] * cfg["order"], "h": cfg["hidden"]}
    steps = len(X) * X.shape[1]
    twin = _twin_counts(cq, X, meta["input_scale"])
    for p in SP.POPULATIONS:
        assert 0.0 <= r["rate"][p] <= 1.0
        assert r["spikes_per_step"][p] * steps == pytest.approx(twin[p])
        assert r["rate"][p] == pytest.approx(twin[p] / steps / r["neurons"][p])
    assert r["row_visits_per_step"] == pytest.approx(
        sum(r["spikes_per_step"][p] * r["rows_fed_per_spike"][p] for p in SP.POPULATIONS))


def test_recorded_spike_rates_and_selection():
    meta = json.loads((MODEL_DIR / "l2mu_hapt.json").read_text())
    rec = meta["spike_rates_test_q15"]
    assert rec["windows"] == meta["test_windows"]
    assert set(rec["rate"]) == set(SP.POPULATIONS)
    sel = meta["selection"]
    assert not set(sel["val_subjects"]) & set(sel["fit_subjects"])
    chosen = [v for v in sel["variants"] if v["name"] == sel["chosen"]][0]
    assert chosen["config"] == {k: meta["config"][k] for k in ("pop", "enc", "memory", "order", "hidden")}
    assert chosen["act_reg"] == meta["act_reg"]
    ok = [v for v in sel["variants"] if v["instructions_per_window_val_mps2"] <= 250_000]
    assert chosen["accuracy_val_q15"] == max(v["accuracy_val_q15"] for v in ok)
