"""The blimp demo's host flights (no board): both PID baselines, the imitated one and the retuned
one, and the SNN's per-metric comparison with the retuned PID."""
import pytest

from edgehost.demos.blimp import demo
from edgehost.demos.blimp.evolve import PID_GAINS
from edgehost.demos.blimp.loop import fly
from edgehost.demos.blimp.pid import PID
from edgehost.demos.blimp.tune import RETUNED_GAINS

SHORT = ((0.5, 4.0), (1.0, 12.0))


@pytest.fixture(scope="module")
def flights():
    pd, i, ps, is_, net = demo.load_model()
    return demo.host_flights(pd, i, ps, is_, net, schedule=SHORT, seed=0)


def test_both_pids_are_flown_in_both_buoyancy_cases(flights):
    cases, traces = flights
    for k in ("pid", "pid_retuned", "snn_float", "snn_host"):
        assert set(cases[k]) == set(demo.BUOYANCIES)
    for b in demo.BUOYANCIES:
        # each row is the flight of its gains, and the two PIDs fly differently
        for k, gains in (("pid", PID_GAINS), ("pid_retuned", RETUNED_GAINS)):
            tr = fly(PID(*gains), b, schedule=SHORT, seed=0)
            assert (traces[b][k].u == tr.u).all()
            assert cases[k][b] == demo._metrics(tr)
        assert (traces[b]["pid"].u != traces[b]["pid_retuned"].u).any()


def test_compare_and_its_lines():
    def summary(**by):
        return {"by_buoyancy": {b: dict(zip(("steady_state_error_m", "overshoot_m", "rise_time_s", "rmse_m"), v))
                                for b, v in by.items()}}
    snn = summary(neutral=(0.02, 0.22, 2.0, 0.10))
    pid = summary(neutral=(0.05, 0.17, 2.0, 0.11))
    c = demo._compare(snn, pid)
    assert c == {"neutral": {"steady_state_error": "better", "overshoot": "worse", "rise_time": "equal",
                             "rmse": "better"}}
    lines = demo.comparison_lines({"snn_vs_pid_retuned": {"snn_device": c}, "snn_device": snn, "pid_retuned": pid})
    assert lines == ["neutral: steady-state error better (2.0 vs 5.0 cm), overshoot worse (22.0 vs 17.0 cm), "
                     "rise time equal (2.0 vs 2.0 s), RMSE better (10.0 vs 11.0 cm)"]
