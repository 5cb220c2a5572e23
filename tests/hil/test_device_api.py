"""The device API speaks numpy (#19): after load_model, infer/step/trace results are arrays of the
model's tensors' dtypes and shapes, equal to the host interpreter's; `.dequantized()` uses the
host's scale; INFER resets the state (as HostModel.run) while STEP keeps it (as HostModel.step);
check_against_host passes on the same model and, on a threshold a few LSB off, fails naming
the layer and step where it first shows, with the plot written; a model the Device object does
not know is said so, and use_model() tells it."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.blob import read
from edgehost.link import DeviceError
from edgehost.runtime import HostModel
from edgehost.validate import DeviceHostMismatch, check_against_host, to_device_inputs

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32")]


@pytest.fixture(scope="module")
def model():
    """A converted Q15 network taking real (f32) values: input_q15 -> fc -> lif -> fc_spike -> li,
    every layer traceable (reuse=False)."""
    from edgehost.convert import Fc, Graph, Li, Lif, build
    rng = np.random.default_rng(4)
    g = Graph(5, [Fc(rng.normal(size=(9, 5)) * 1.5, rng.normal(size=9) * 0.2), Lif(np.full(9, 0.9), np.full(9, 0.7)),
                  Fc(rng.normal(size=(4, 9))), Li(np.full(4, 0.8))])
    m = build(g, quantize="q15", input_range=3.0, reuse=False)[0]
    return m, m.to_bytes()


@pytest.fixture(scope="module")
def x(model):
    return np.random.default_rng(5).normal(0, 1.2, size=(30, model[0].input_tensor.n))   # float64, as data is


@pytest.fixture
def loaded(device, model):
    m, blob = model
    if not device.info.model_support:
        pytest.fail("firmware built without model support")
    device.load_model(blob)
    return m, blob


def test_results_are_numpy_arrays_of_the_output_tensor(device, loaded, x):
    m, blob = loaded
    ot = m.output_tensor
    assert device.model is not None and device.model.model_hash == m.model_hash
    xd = to_device_inputs(x, m)
    host = HostModel(blob, "kernels")
    want, traces = host.run(xd)
    r = device.infer(xd)
    assert isinstance(r.output, np.ndarray) and r.output.dtype == ot.np_dtype == np.int16
    assert r.output.shape == tuple(ot.shape) and r.steps == len(xd)
    np.testing.assert_array_equal(r.output, want[-1])
    assert r.raw == want[-1].tobytes()
    np.testing.assert_array_equal(r.dequantized(), host.dequantized_output())
    np.testing.assert_array_equal(r.dequantized(), want[-1] * np.float64(read(blob).output_tensor.scale))
    # TRACE: one array per layer, each its output tensor's dtype, equal to the host's trace
    tr = device.trace()
    assert len(tr) == len(m.layers)
    for i, (lt, h) in enumerate(zip(tr, traces[-1])):
        t = m.tensors[m.layers[i].output]
        assert lt.output is not None, f"layer {i}: {lt.error}"
        assert lt.output.dtype == t.np_dtype
        np.testing.assert_array_equal(lt.output, h, err_msg=f"layer {i} ({m.layers[i].type})")
        assert lt.raw == h.tobytes()


def test_step_keeps_the_state_infer_resets_it(device, loaded, x):
    m, blob = loaded
    xd = to_device_inputs(x, m)
    host = HostModel(blob, "kernels")
    device.reset_state()
    host.reset()
    for t in range(10):                                   # STEP == HostModel.step, state kept
        np.testing.assert_array_equal(device.step(xd[t]).output, host.step(xd[t]), err_msg=f"step {t}")
    # INFER after those steps starts from zero, as HostModel.run does: it equals a fresh run,
    # not the continuation of the steps above
    fresh = HostModel(blob, "kernels").run(xd[10:20])[0][-1]
    continued = [host.step(row) for row in xd[10:20]][-1]
    assert not np.array_equal(fresh, continued)            # else this test could not fail
    np.testing.assert_array_equal(device.infer(xd[10:20]).output, fresh)
    # ... and leaves the state after its last step: a STEP continues from there
    host.run(xd[10:20])
    np.testing.assert_array_equal(device.step(xd[20]).output, host.step(xd[20]))


def test_check_against_host_agrees(device, loaded, x):
    rep = check_against_host(device, x)                   # real values: quantised as the CLI does
    assert rep["ok"] is True and rep["first_divergence"] is None and rep["not_traceable"] == []
    assert rep["steps"] == len(x) and rep["sequences"] == 1
    assert all(l["bit_exact"] for l in rep["layers"])
    rep = check_against_host(device, np.stack([x[:7], x[7:14]]))   # two sequences, each from a reset
    assert rep["ok"] and rep["sequences"] == 2


def test_check_against_host_names_the_first_layer_and_step_that_differ(device, model, x, tmp_path):
    m, blob = model
    if not device.info.model_support:
        pytest.fail("firmware built without model support")
    # the device runs a blob whose lif layer has its threshold a few LSB off (the smallest change
    # that shows on these inputs): the spikes differ first at some step, in that layer, while
    # every earlier layer stays bit-exact
    li = next(i for i, l in enumerate(m.layers) if l.type == "lif_q15")
    xd = to_device_inputs(x, m)
    want = [tr[li] for tr in HostModel(blob, "kernels").run(xd)[1]]
    pblob = step = None
    for delta in (-1, 1, -4, 4, -16, 16, -64, 64, -256, 256):
        b = read(blob)
        slot = next(k for k, (name, *_r) in enumerate(b.layers[li].spec.params) if name == "threshold")
        b.layers[li].params[slot] = b.layers[li].params[slot] + delta
        cand = b.to_bytes()
        got = [tr[li] for tr in HostModel(cand, "kernels").run(xd)[1]]
        diff = [t for t, (a, c) in enumerate(zip(want, got)) if not np.array_equal(a, c)]
        if diff:
            pblob, step = cand, diff[0]
            break
    assert pblob is not None, "no threshold change shows on these inputs"
    device.load_model(pblob)
    png = tmp_path / "v.png"
    with pytest.raises(DeviceHostMismatch) as ei:
        check_against_host(device, x, model=blob, plot=png)
    msg = str(ei.value)
    assert isinstance(ei.value, AssertionError)
    assert f"first at layer {li}:lif_q15, sequence 0, step {step}" in msg, msg
    assert "entries differ there" in msg or "entry differs there" in msg
    assert f"plot: {png}" in msg and "the board holds model" in msg
    assert png.stat().st_size > 0
    rep = ei.value.report
    assert rep["first_divergence"]["layer"] == f"{li}:lif_q15" and rep["first_divergence"]["step"] == step
    assert all(l["bit_exact"] for l in rep["layers"][:li])
    # the device's own model (the perturbed one) agrees with itself
    assert check_against_host(device, x)["ok"]


def test_unknown_model_is_said_and_use_model_tells_it(device, loaded, x, monkeypatch):
    m, blob = loaded
    import edgehost.link.device as D
    monkeypatch.setattr(D, "_KNOWN_MODELS", {})           # as a fresh process connecting to this board
    monkeypatch.setattr(device, "_model", None)
    assert device.model is None
    xd = to_device_inputs(x[:3], m)
    r = device.infer(xd)                                   # bytes in, bytes out: still works
    assert len(r.raw) == m.output_tensor.nbytes
    with pytest.raises(ValueError, match=r"use_model\(blob\)"):
        r.output
    with pytest.raises(ValueError, match="load it with device.load_model"):
        check_against_host(device, x)
    device.use_model(blob)                                 # no upload: the board holds it
    np.testing.assert_array_equal(device.infer(xd).output, HostModel(blob).run(xd)[0][-1])
    other = read(blob)
    other.layers[1].params[1] = other.layers[1].params[1] + 1          # fc_q15 bias: another model
    with pytest.raises(DeviceError, match="the board holds model"):
        device.use_model(other.to_bytes())


def test_wrong_input_dtype_names_the_conversion(device, loaded, x):
    with pytest.raises(ValueError, match=r"takes float32 input \(f32\), got a float64 array"):
        device.step(x[0])
