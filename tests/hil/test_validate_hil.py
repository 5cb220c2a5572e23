"""validate / run / stream on emulated cores: the Q15 model with every layer type is bit-exact
with the host interpreter over 200 streamed steps, a one-LSB weight difference is found at the
right layer and step, INFER gives the host's output, and a few hundred streamed steps drop
nothing."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.blob import read
from edgehost.runtime import HostModel
from edgehost.stream import open_source, stream
from edgehost.validate import all_layers_model, load_on_device, random_inputs, to_device_inputs, validate

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("mps2-an386", "virt-rv32",
                                                            pytest.param("rv32-sim", marks=pytest.mark.slow))]  # minutes in RTL simulation


@pytest.fixture(scope="module")
def model():
    m = all_layers_model(0)
    return m, m.to_bytes()


def _need_models(device):
    if not device.info.model_support:
        pytest.fail("firmware built without model support")


def test_validate_all_layer_types_200_steps(device, model):
    _need_models(device)
    m, blob = model
    load_on_device(device, blob, m)
    rep = validate(device, blob, random_inputs(m, 1, 200, 7), backend="kernels")
    assert rep["ok"] is True and rep["first_divergence"] is None and rep["not_traceable"] == []
    assert {l["name"].split(":")[1] for l in rep["layers"]} >= {
        "fc_q15", "fc_spike_q15", "lif_q15", "cubalif_q15", "li_q15", "pack_spikes_b1", "fc_b1_bits", "l2mu_q15"}
    assert all(l["bit_exact"] and l["compared_steps"] == 200 for l in rep["layers"])
    assert rep["output"]["bit_exact"] is True


def test_validate_finds_one_lsb_difference(device, model):
    _need_models(device)
    m, blob = model
    li = next(i for i, l in enumerate(m.layers) if l.type == "fc_q15")
    x0 = to_device_inputs(np.full((1, m.input_tensor.n), 3.0, np.float32), m)
    want = HostModel(blob).run(x0)[1][0][li]
    pblob = None
    for r in range(m.layers[li].n_out):
        b = read(blob)
        w = b.layers[li].params[0].reshape(b.layers[li].n_out, b.layers[li].n_in).copy()
        c = int(np.argmax(np.abs(w[r]) < 32767))
        w[r, c] += 1
        b.layers[li].params[0] = w
        cand = b.to_bytes()
        if not np.array_equal(HostModel(cand).run(x0)[1][0][li], want):
            pblob = cand
            break
    assert pblob is not None
    load_on_device(device, pblob, read(pblob))
    xs = np.concatenate([x0, random_inputs(m, 1, 9, 3)[0]])[None]
    rep = validate(device, blob, xs)
    assert rep["ok"] is False
    assert rep["first_divergence"]["layer"] == f"{li}:fc_q15" and rep["first_divergence"]["step"] == 0
    assert all(l["bit_exact"] for l in rep["layers"][:li])


def test_run_and_stream_300_steps(device, model):
    _need_models(device)
    m, blob = model
    load_on_device(device, blob, m)
    x = random_inputs(m, 1, 6, 11)[0]
    r = device.infer(x)
    want, _ = HostModel(blob, "kernels").run(x)
    np.testing.assert_array_equal(np.frombuffer(r.output, dtype=want.dtype), want[-1])
    got = []
    st = stream(device, m, open_source("synthetic:noise", m, seed=5), steps=300, check_backend="kernels",
                on_step=lambda i, y, lat, s: got.append(y))
    assert st.steps == 300 and st.dropped == 0 and st.error is None and st.mismatches == 0
    assert len(got) == 300
