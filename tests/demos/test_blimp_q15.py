"""The blimp controller in Q15: the committed parameters stay in the paper's budget and bounds,
the level code of the constructed encoder, the integer controller follows the float one, its
two kernel backends agree bit for bit, and the .ehm blob run by the host interpreter equals it
step for step."""
import numpy as np
import pytest

from edgehost.demos.blimp import design
from edgehost.demos.blimp.controller import SNNController
from edgehost.demos.blimp.evolve import MODEL_JSON
from edgehost.demos.blimp.loop import fly
from edgehost.demos.blimp.metrics import step_metrics
from edgehost.demos.blimp.quant import Q15Controller, command, load_float, quantize, to_blob, to_model
from edgehost.demos.blimp.snn import Shape, run_population

SHORT = ((0.5, 30.0), (1.0, 30.0), (0.7, 30.0))


@pytest.fixture(scope="module")
def committed():
    pd, i, ps, is_ = load_float(MODEL_JSON)
    return pd, i, ps, is_, quantize(pd, i, ps, is_)


def errors(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (0.6 * np.sin(t / 25.0) * np.exp(-t / 300.0) + 0.01 * np.round(rng.normal(size=n))).astype(np.float64)


def test_committed_model_budget_and_bounds(committed):
    pd, i, ps, is_, net = committed
    assert ps.neurons + is_.neurons <= 160
    assert net.neurons <= 160
    for x, shape in ((pd, ps), (i, is_)):
        lo, hi = shape.bounds()
        assert x.shape == (shape.size(),)
        assert np.all(x >= lo) and np.all(x <= hi)
    assert net.shared_encoder  # the evolution keeps the designed level code in both controllers


def test_committed_blob_is_the_committed_parameters(committed):
    from pathlib import Path
    blob = (Path(MODEL_JSON).parent / "blimp_controller.ehm").read_bytes()
    assert blob == to_blob(committed[4])


def test_encoder_is_a_level_code():
    """Pair k's + neuron fires (every step) for e > c_k, its - neuron for e < -c_k; the bias
    pair always fires."""
    shape = Shape(len(design.LEVELS) + 1, 1, False)
    named = {**design.encoder(), "w_hid": np.zeros((1, 2 * shape.pairs)), "alpha_hid": np.zeros(1),
             "beta_hid": np.zeros(1), "thr_hid": np.ones(1), "w_dec": np.zeros(1), "beta_dec": np.zeros(1)}
    p = shape.unpack(shape.pack(named))
    w = np.concatenate([p["w_enc"], -p["w_enc"]])
    b = np.concatenate([p["b_enc"], p["b_enc"]])
    c = np.asarray(design.LEVELS)
    for e in (-0.6, -0.1, -0.02, 0.0, 0.01, 0.04, 0.3, 0.9):
        v, s = np.zeros(w.size), np.zeros(w.size)
        for _ in range(5):  # constant input: after the first step the pattern is steady
            v = p["beta_enc"] * v + (w * e + b) - s * p["thr_enc"]
            s = (v > p["thr_enc"]).astype(float)
        nl = len(c)
        assert np.array_equal(s[:nl], (e > c).astype(float)), e
        assert np.array_equal(s[shape.pairs:shape.pairs + nl], (e < -c).astype(float)), e
        assert s[nl] == 1 and s[shape.pairs + nl] == 1


def test_backends_bit_exact(committed):
    net = committed[4]
    a, b = Q15Controller(net, "sim"), Q15Controller(net, "kernels")
    for e in errors():
        assert a.step_q(e) == b.step_q(e)


def test_blob_in_host_interpreter_equals_q15_controller(committed):
    from edgehost.runtime import HostModel
    net = committed[4]
    blob = to_blob(net)
    for backend in ("sim", "kernels"):
        q = Q15Controller(net, backend)
        hm = HostModel(blob, backend=backend)
        for e in errors(300, seed=1):
            assert int(hm.step(np.array([e], np.float32))[0]) == q.step_q(e)


def test_blob_layers():
    """The layer sequence of quant.py's docstring, in format 1.3."""
    from edgehost.blob import read
    rng = np.random.default_rng(3)
    ps, is_ = Shape(3, 5, False), Shape(3, 4, True)
    lo, hi = ps.bounds()
    lo2, hi2 = is_.bounds()
    net = quantize(rng.uniform(lo, hi), rng.uniform(lo2, hi2), ps, is_)
    assert not net.shared_encoder and net.ne == 12 and net.nh == 9
    m = read(to_blob(net))
    assert [layer.type for layer in m.layers] == [
        "input_q15", "fc_q15", "lif_q15", "fc_spike_q15", "li_q15", "fc_spike_q15", "lif_adapt_q15",
        "fc_spike_q15", "li_q15", "fc_q15"]
    assert to_model(net).output_tensor.dtype == "q15"


def test_q15_follows_float(committed):
    """Open loop on the same errors: the integer commands track the float ones (a threshold
    crossing can differ by a rounding, so closely, not exactly)."""
    pd, i, ps, is_, net = committed
    f, q = SNNController(pd, i, pd_shape=ps, i_shape=is_), Q15Controller(net)
    uf, uq = [], []
    for e in errors():
        uf.append(f(e))
        uq.append(q(e))
    uf, uq = np.array(uf), np.array(uq)
    assert np.corrcoef(uf, uq)[0, 1] > 0.97
    assert np.mean(np.abs(uf - uq)) < 0.1


@pytest.mark.parametrize("buoyancy", ["neutral", "negative"])
def test_q15_closed_loop_close_to_float(committed, buoyancy):
    pd, i, ps, is_, net = committed
    mf = step_metrics(*(lambda t: (t.t, t.z, t.setpoint))(
        fly(SNNController(pd, i, pd_shape=ps, i_shape=is_), buoyancy, schedule=SHORT)))
    mq = step_metrics(*(lambda t: (t.t, t.z, t.setpoint))(fly(Q15Controller(net), buoyancy, schedule=SHORT)))
    assert abs(mq["steady_state_error_m"] - mf["steady_state_error_m"]) < 0.015
    assert abs(mq["rmse_m"] - mf["rmse_m"]) < 0.02
    assert abs(mq["overshoot_m"] - mf["overshoot_m"]) < 0.06


def test_command_scale_and_clip():
    assert command(0) == 0.0
    assert command(2048) == pytest.approx(1.0)
    assert command(32767) == 3.3 and command(-32768) == -3.3


def test_constructed_seed_fits_the_pid(committed):
    """The decoders fitted by least squares imitate the PID better than a silent controller."""
    from edgehost.demos.blimp.evolve import pid_flights
    from edgehost.demos.blimp.snn import imitation_loss
    f = pid_flights(3, seconds=30.0, seed=7)
    ps, is_ = Shape(10, 16, False), Shape(10, 8, True)
    for shape, seeder, tgt in ((ps, design.pd_seed, f.u_pd), (is_, design.i_seed, f.u_i)):
        x = seeder(shape, f)
        lo, hi = shape.bounds()
        assert np.all(x >= lo) and np.all(x <= hi)
        u = run_population(shape, x[None], f.error)
        assert imitation_loss(u, tgt)[0] < imitation_loss(np.zeros_like(u) + 1e-3 * np.arange(u.shape[-1]), tgt)[0]
