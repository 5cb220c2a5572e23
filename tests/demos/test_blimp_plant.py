"""The blimp plant obeys its physics, and the PID holds altitude on it."""
import numpy as np
import pytest

from edgehost.demos.blimp.loop import fly, setpoints
from edgehost.demos.blimp.metrics import step_metrics
from edgehost.demos.blimp.pid import PID
from edgehost.demos.blimp.plant import BUOYANCY, Blimp, BlimpParams, BlimpState


def blimp(buoyancy="neutral", z=1.0):
    return Blimp(BlimpParams(buoyancy=BUOYANCY[buoyancy]), BlimpState(z=z), np.random.default_rng(0))


def test_neutral_blimp_without_command_stays():
    b = blimp()
    for _ in range(50):
        b.step(0.0)
    assert b.state.z == pytest.approx(1.0)


def test_heavy_blimp_sinks_to_the_floor_and_rests_there():
    b = blimp("negative")
    for _ in range(300):
        b.step(0.0)
    assert b.state.z == 0.0 and b.state.vz == 0.0


def test_dead_zone():
    b = blimp()
    for _ in range(20):
        b.step(0.09)
    assert b.state.z == pytest.approx(1.0)


def test_thrust_up_climbs_and_reversal_is_delayed_by_the_servo():
    b = blimp()
    for _ in range(10):
        b.step(3.3)
    assert b.state.vz > 0.05
    vz_before = b.state.vz
    b.step(-3.3)  # the shaft is still turning: the first period cannot brake at full thrust
    one_period_brake = vz_before - b.state.vz
    b2 = blimp()
    b2.state.vz = vz_before
    b2.state.phi = np.pi
    b2.state.thrust = 3.3 * b2.params.k_thrust
    b2.step(-3.3)  # already pointing down
    assert one_period_brake < vz_before - b2.state.vz


def test_lidar_noise_and_resolution():
    b = blimp()
    readings = np.array([b.measure() for _ in range(2000)])
    assert np.allclose(readings * 100, np.round(readings * 100))
    assert 0.005 < readings.std() < 0.02
    assert abs(readings.mean() - 1.0) < 0.002


def test_schedule():
    r = setpoints()
    assert list(np.unique(r)) == [0.5, 1.0, 1.5]
    assert r[0] == 0.5 and r[-1] == 1.0


@pytest.mark.parametrize("buoyancy", ["neutral", "negative"])
def test_pid_tracks_the_schedule(buoyancy):
    tr = fly(PID(3.0, 0.3, 3.0), buoyancy)
    m = step_metrics(tr.t, tr.z, tr.setpoint)
    assert m["rmse_m"] < 0.2
    assert m["steady_state_error_m"] < 0.1


def test_metrics_of_a_known_trace():
    t = np.arange(10.0)
    r = np.array([1.0] * 10)
    z = np.array([0.0, 0.5, 0.95, 1.2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.02])
    r[:1] = 0.0  # a step 0 -> 1 at index 1
    m = step_metrics(t, z, r)
    assert m["overshoot_m"] == pytest.approx(0.2)
    assert m["steady_state_error_m"] == pytest.approx(0.02 / 3)
    assert m["rise_time_s"] == pytest.approx(1.0)  # 10% at t=1, 90% at t=2


def test_retuned_pid_costs_less_than_the_imitated_pid():
    """The demo's second baseline: on the tuner's own cost (both buoyancies, seeds 0 and 1, the
    40 s schedule) its gains beat the imitated PID's."""
    from edgehost.demos.blimp.evolve import PID_GAINS
    from edgehost.demos.blimp.tune import RETUNED_GAINS, cost
    assert RETUNED_GAINS != PID_GAINS
    assert cost(RETUNED_GAINS) < cost(PID_GAINS)


@pytest.mark.slow
def test_tuner_finds_the_retuned_gains():
    """RETUNED_GAINS is what `python -m edgehost.demos.blimp.tune` finds (deterministic: seeded
    plant noise, Nelder-Mead from the grid's best point; about 2 minutes)."""
    from edgehost.demos.blimp.tune import RETUNED_GAINS, tune
    assert tune() == pytest.approx(RETUNED_GAINS, rel=1e-9)
