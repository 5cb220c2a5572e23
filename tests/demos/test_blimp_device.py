"""The blimp controller in the loop on a board (emulated mps2-an386 by default, or --board/--port):
the host steps the plant, the board steps the committed controller blob, and every command equals
the host interpreter's on the same errors (bit for bit); the demo function does the same end to
end on a short schedule."""
import numpy as np
import pytest

from edgehost.demos.blimp.evolve import MODEL_JSON
from edgehost.demos.blimp.loop import fly
from edgehost.demos.blimp.quant import Q15Controller, command, load_float, quantize, to_blob

pytestmark = [pytest.mark.hil]

SHORT = ((0.5, 3.0), (1.0, 6.0), (0.8, 3.0))


@pytest.fixture(scope="module")
def net():
    return quantize(*load_float(MODEL_JSON))


@pytest.mark.parametrize("buoyancy", ["neutral", "negative"])
def test_closed_loop_on_the_board_is_bit_exact(device, net, buoyancy):
    from edgehost.runtime import HostModel
    if not device.info.model_support:
        pytest.fail("firmware built without model support")
    blob = to_blob(net)
    device.load_model(blob)
    device.reset_state()
    host = HostModel(blob, backend="kernels")
    q = Q15Controller(net)
    u_dev, u_host, u_q = [], [], []

    def controller(e):
        x = np.array([e], np.float32)
        ud = int(np.frombuffer(device.step(x).output, "<i2")[0])
        u_dev.append(ud)
        u_host.append(int(host.step(x)[0]))
        u_q.append(q.step_q(e))
        return command(ud)

    tr = fly(controller, buoyancy, schedule=SHORT, seed=3)
    assert len(u_dev) == len(tr.t) == 120
    assert u_dev == u_host == u_q
    assert len(set(u_dev)) > 10  # the commands move: the test sees a working controller
    # the device's flight is the host Q15 controller's flight
    tr_host = fly(Q15Controller(net), buoyancy, schedule=SHORT, seed=3)
    assert np.array_equal(tr.u, tr_host.u) and np.array_equal(tr.z, tr_host.z)


@pytest.mark.slow
def test_demo_function_short(tmp_path):
    """The whole demo (its own private emulator) on a short schedule: JSON fields, bit-exact
    traces, instructions from the device's counter, the PNG."""
    from edgehost.demos.blimp import demo
    png = tmp_path / "blimp.png"
    r = demo.run("mps2-an386", plot=str(png), progress=False, schedule=((0.5, 4.0), (1.0, 8.0)))
    for k in ("pid", "pid_retuned", "snn_host", "snn_device"):
        for f in ("steady_state_error_m", "overshoot_m", "rmse_m"):
            assert np.isfinite(r[k][f])
    from edgehost.demos.blimp.tune import RETUNED_GAINS
    assert r["pid_retuned_gains"] == list(RETUNED_GAINS) != r["pid_gains"]
    assert set(r["snn_vs_pid_retuned"]["snn_device"]) == {"neutral", "negative"}
    assert r["pid_retuned"] != r["pid"]
    assert r["trace_match"] == 1.0 and r["device_flight_equals_host_flight"]
    assert r["snn_device"] == r["snn_host"]
    assert r["neurons"] <= 160 and r["steps"] == 2 * 120
    assert r["instructions_per_step"] > 0 and r["loop_hz"] > 0
    assert png.stat().st_size > 10_000
