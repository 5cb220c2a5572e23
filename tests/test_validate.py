"""`edgehost validate` and `edgehost run` against the host board (the native firmware over a
pty): every layer type bit-exact over 200 steps, divergences found where they are, layers the
memory plan reused reported, clear errors."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from edgehost.cli import UserError, main
from edgehost.runtime import HostModel
from edgehost.validate import (all_layers_model, load_on_device, open_device, random_inputs,
                               to_device_inputs, validate)

ALL_TYPES = {"input_q15", "fc_q15", "lif_q15", "fc_spike_q15", "li_q15", "l2mu_q15", "cubalif_q15",
             "pack_spikes_b1", "fc_b1_bits", "fc_b1_f32"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A private EDGEHOST_HOME: the host board is started by the commands themselves (flash())
    and stopped at the end."""
    from edgehost.flash import stop_session
    old = os.environ.get("EDGEHOST_HOME")
    h = tmp_path_factory.mktemp("ehhome")
    os.environ["EDGEHOST_HOME"] = str(h)
    yield h
    stop_session("host")
    if old is None:
        os.environ.pop("EDGEHOST_HOME", None)
    else:
        os.environ["EDGEHOST_HOME"] = old


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("val")
    m = all_layers_model(0)
    (d / "all.ehm").write_bytes(m.to_bytes())
    reuse = all_layers_model(0, reuse=True)
    (d / "reuse.ehm").write_bytes(reuse.to_bytes())
    return d, m


def cli_json(capsys, argv):
    rc = main(argv + ["--json"])
    out = capsys.readouterr()
    return rc, (json.loads(out.out) if out.out.strip() else None), out.err


def test_all_layer_types_bit_exact_200_steps(home, files, capsys):
    from edgehost.flash import find_session
    d, m = files
    assert {l.type for l in m.layers} == ALL_TYPES
    assert find_session("host") is None
    rc, rep, err = cli_json(capsys, ["validate", str(d / "all.ehm"), "--board", "host", "--steps", "200"])
    assert rc == 0, err
    assert find_session("host") is not None            # validate started the emulated board
    assert rep["ok"] is True and rep["first_divergence"] is None and rep["not_traceable"] == []
    assert [l["name"] for l in rep["layers"]] == [f"{i}:{l.type}" for i, l in enumerate(m.layers)]
    for l in rep["layers"]:
        assert l["bit_exact"] is True and l["max_abs_error"] == 0.0 and l["compared_steps"] == 200
        if l["dtype"] in ("spike", "b1"):
            assert l["spike_agreement"] == 1.0
    assert rep["output"]["bit_exact"] is True and rep["output"]["compared_steps"] == 200
    # the spiking layers did spike (a comparison of silent layers would prove little)
    spk = {l["name"]: l["device_spikes"] for l in rep["layers"] if l["dtype"] == "spike"}
    assert all(v > 0 for v in spk.values()), spk


def test_batch_of_float_inputs_and_sim_backend(home, files, capsys, tmp_path):
    d, m = files
    x = np.random.default_rng(5).normal(size=(3, 17, m.input_tensor.n)).astype(np.float64)
    np.save(tmp_path / "x.npy", x)
    rc, rep, err = cli_json(capsys, ["validate", str(d / "all.ehm"), "--board", "host", "--inputs",
                                     str(tmp_path / "x.npy"), "--backend", "sim"])
    assert rc == 0, err
    assert rep["sequences"] == 3 and rep["steps"] == 17 and rep["backend"] == "sim"


def _perturbed(m, layer_type="fc_q15"):
    """The model with one weight of the first `layer_type` layer one LSB larger, and the index of
    that layer; the weight chosen is one whose change shows at step 0 on a full-scale input."""
    from edgehost.blob import read
    blob = m.to_bytes()
    li = next(i for i, l in enumerate(m.layers) if l.type == layer_type)
    x0 = np.full((1, m.input_tensor.n), 3.0, np.float32)      # full scale (input_range 3)
    want = HostModel(blob).run(x0)[1][0][li]
    for r in range(m.layers[li].n_out):
        for c in range(m.layers[li].n_in):
            b = read(blob)
            w = b.layers[li].params[0].reshape(b.layers[li].n_out, b.layers[li].n_in).copy()
            if w[r, c] == 32767:
                continue
            w[r, c] += 1
            b.layers[li].params[0] = w
            pblob = b.to_bytes()
            got = HostModel(pblob).run(x0)[1][0][li]
            if not np.array_equal(got, want):
                return pblob, li, x0
    raise AssertionError("no one-LSB change shows at step 0")


@pytest.mark.parametrize("layer_type", ["fc_q15", "fc_spike_q15"])
def test_one_lsb_weight_difference_is_found(home, files, layer_type):
    d, m = files
    blob = m.to_bytes()
    pblob, li, x0 = _perturbed(m, layer_type)
    xs = np.concatenate([to_device_inputs(x0, m), random_inputs(m, 1, 30, 1)[0]])[None]
    with open_device("host") as dev:
        from edgehost.blob import read
        load_on_device(dev, pblob, read(pblob))        # the device runs the perturbed weights
        rep = validate(dev, blob, xs, backend="kernels")
    assert rep["ok"] is False
    fd = rep["first_divergence"]
    assert fd["layer"] == f"{li}:{layer_type}" and fd["sequence"] == 0
    # every layer before it agrees; the diverging layer is not bit-exact
    assert all(l["bit_exact"] for l in rep["layers"][:li])
    assert rep["layers"][li]["bit_exact"] is False and rep["layers"][li]["max_abs_error"] >= 1
    assert fd["step"] == 0       # _perturbed chose a weight whose change shows on the first input


def test_reused_layers_reported_not_skipped(home, files, capsys):
    d, m = files
    rc, rep, err = cli_json(capsys, ["validate", str(d / "reuse.ehm"), "--board", "host", "--steps", "30"])
    assert rc == 0, err
    names = [l["name"] for l in rep["layers"] if not l["traceable"]]
    assert names and names == rep["not_traceable"]
    for l in rep["layers"]:
        if not l["traceable"]:
            assert l["reason"] and l["not_traceable_steps"] == 30 and l["bit_exact"] is None
    assert rep["output"]["compared_steps"] == 30 and rep["output"]["bit_exact"] is True


def test_plot(home, files, tmp_path, capsys):
    d, m = files
    out = tmp_path / "p.png"
    rc, rep, err = cli_json(capsys, ["validate", str(d / "all.ehm"), "--board", "host", "--steps", "12",
                                     "--plot", str(out)])
    assert rc == 0, err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    assert rep["plot"] == str(out)


def test_run_prints_dequantised_output(home, files, capsys, tmp_path):
    d, m = files
    x = np.random.default_rng(9).normal(size=(7, m.input_tensor.n)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    rc, doc, err = cli_json(capsys, ["run", str(d / "all.ehm"), "--board", "host", "--input", str(tmp_path / "x.npy")])
    assert rc == 0, err
    outs, _ = HostModel(m.to_bytes(), "kernels").run(x)
    np.testing.assert_array_equal(np.array(doc["output_raw"], np.float32), outs[-1])
    assert doc["steps"] == 7 and doc["counter_kind"] == "ns" and doc["counter_delta"] > 0
    # a q15 output is dequantised with its scale
    from edgehost.convert import Fc, Graph, Li, Lif, build
    rng = np.random.default_rng(0)
    q = build(Graph(4, [Fc(rng.normal(size=(6, 4))), Lif(np.full(6, 0.9), np.ones(6)),
                        Fc(rng.normal(size=(3, 6))), Li(np.full(3, 0.8))]), quantize="q15")[0]
    (tmp_path / "q.ehm").write_bytes(q.to_bytes())
    xq = rng.normal(size=(9, 4)).astype(np.float32)
    np.save(tmp_path / "xq.npy", xq)
    rc, doc, err = cli_json(capsys, ["run", str(tmp_path / "q.ehm"), "--board", "host", "--input", str(tmp_path / "xq.npy")])
    assert rc == 0, err
    want = HostModel(q.to_bytes()).run(xq)[0][-1]
    assert doc["output_dtype"] == "q15"
    np.testing.assert_array_equal(doc["output_raw"], want)
    np.testing.assert_allclose(doc["output"], want * q.output_tensor.scale)
    rc = main(["run", str(tmp_path / "q.ehm"), "--board", "host", "--input", str(tmp_path / "xq.npy")])
    out = capsys.readouterr().out
    assert rc == 0 and "counter delta:" in out and "ns" in out


def test_errors(home, files, capsys, tmp_path):
    d, m = files
    bad = tmp_path / "bad.ehm"
    bad.write_bytes(b"EHM1" + bytes(40))
    np.save(tmp_path / "wrong.npy", np.zeros((4, m.input_tensor.n + 2), np.float32))
    cases = [
        (["validate", str(d / "all.ehm"), "--board", "no-such-board"], "no-such-board"),
        (["validate", str(bad), "--board", "host"], "not a valid .ehm blob"),
        (["validate", str(tmp_path / "missing.ehm"), "--board", "host"], "cannot read model"),
        (["validate", str(d / "all.ehm"), "--board", "host", "--inputs", str(tmp_path / "wrong.npy")],
         f"takes {m.input_tensor.n} features"),
        (["run", str(d / "all.ehm"), "--board", "host", "--input", str(tmp_path / "wrong.npy")],
         f"takes {m.input_tensor.n} features"),
        (["validate", str(d / "all.ehm"), "--board", "nrf52840dk"], "real hardware"),
        (["validate", str(d / "all.ehm"), "--board", "host", "--atol", "-1"], "--atol"),
    ]
    for argv, msg in cases:
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 2, (argv, err)
        assert msg in err and "Traceback" not in err, (argv, err)


def test_input_conversion():
    from edgehost.blob import Model, Tensor
    m = all_layers_model(0)
    m.tensors[m.input] = Tensor("q15", (5,), scale=1 / 1000)
    x = np.array([[0.0, 1.0, -1.0, 40.0, 0.0015]])
    np.testing.assert_array_equal(to_device_inputs(x, m), [[0, 1000, -1000, 32767, 2]])
    np.testing.assert_array_equal(to_device_inputs(np.array([[1, 2, 3, 4, -32768]]), m), [[1, 2, 3, 4, -32768]])
    with pytest.raises(UserError, match="do not fit"):
        to_device_inputs(np.array([[1, 2, 3, 4, 40000]]), m)
    with pytest.raises(UserError, match="NaN"):
        to_device_inputs(np.array([[1, 2, np.nan, 4, 5.0]]), m)
    with pytest.raises(UserError, match="takes 5 features"):
        to_device_inputs(np.zeros((2, 4)), m)
    m.tensors[m.input] = Tensor("spike", (5,))
    with pytest.raises(UserError, match="0 or 1"):
        to_device_inputs(np.array([[0, 1, 2, 0, 0]]), m)
    np.testing.assert_array_equal(to_device_inputs(np.array([[0.2, 0.9, 0, 1, 0.6]]), m), [[0, 1, 0, 1, 1]])
    assert isinstance(m, Model)
