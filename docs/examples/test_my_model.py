"""Hardware-in-the-loop tests of your own model on an edgehost board: convert, load, step,
compare with the host interpreter, plot on failure. Copy this file next to your model and run

    pytest test_my_model.py --board mps2-an386                 # the emulated Cortex-M4F (QEMU)
    pytest test_my_model.py --board host --model net.ehm       # a blob you converted yourself
    pytest test_my_model.py --board nrf52 --port /dev/ttyACM0  # a real board, already flashed

The edgehost pytest plugin (installed with the package) builds the firmware and starts or
flashes the board once per session, names the board, firmware build and model in the session
header, and gives the fixtures used here: `device` (a connected edgehost.link.Device) and
`edgehost_model` (the --model file, or None). docs/validate.md describes them.

The model: `edgehost_model` when --model is given, else `make_nir()` below, a small spiking
network written as a NIR file, stands in for yours (snnTorch: `nir.write("net.nir",
snntorch.export_nir.export_to_nir(net, sample))`) and is converted as
`edgehost convert net.nir -o net.ehm --quantize q15 --dt 0.001 --no-reuse --calib calib.npy` does.
"""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.blob import read
from edgehost.runtime import HostModel
from edgehost.validate import check_against_host, to_device_inputs

STEPS = 60


def make_nir(path, n_in=4, n_hidden=16, n_out=3, seed=0):
    """A stand-in for your exported network: Affine -> LIF -> Affine -> LI (leaky readout)."""
    import nir
    rng = np.random.default_rng(seed)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([n_in])}),
        "fc1": nir.Affine(rng.normal(0, 1.5, size=(n_hidden, n_in)), rng.normal(0, 0.2, size=n_hidden)),
        "lif1": nir.LIF(tau=np.full(n_hidden, 1e-2), r=np.full(n_hidden, 10.0), v_leak=np.zeros(n_hidden),
                        v_threshold=np.ones(n_hidden), v_reset=np.zeros(n_hidden)),
        "fc2": nir.Linear(rng.normal(0, 0.6, size=(n_out, n_hidden))),
        "li2": nir.LI(tau=np.full(n_out, 2e-2), r=np.full(n_out, 20.0), v_leak=np.zeros(n_out)),
        "output": nir.Output(output_type={"output": np.array([n_out])}),
    }
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "li2"), ("li2", "output")]
    nir.write(str(path), nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))


@pytest.fixture(scope="module")
def blob(edgehost_model, tmp_path_factory) -> bytes:
    """The .ehm blob under test: --model M.ehm, or the stand-in NIR network converted to Q15."""
    if edgehost_model is not None:
        return edgehost_model.blob
    pytest.importorskip("nir")
    from edgehost.convert import build, load
    path = tmp_path_factory.mktemp("model") / "net.nir"
    make_nir(path)
    calib = np.random.default_rng(1).normal(0, 1, size=(500, 4))   # inputs like the real ones
    graph = load(str(path), dt=1e-3)
    model, _report = build(graph, quantize="q15", calib=calib, reuse=False)   # reuse=False: --no-reuse
    return model.to_bytes()


@pytest.fixture(scope="module")
def x(blob) -> np.ndarray:
    """Inputs as your data gives them: real values, (steps, features). Use recorded data here."""
    n = read(blob).input_tensor.n
    return np.random.default_rng(2).normal(0, 1, size=(STEPS, n))


@pytest.fixture(scope="module")
def host(device, blob) -> HostModel:
    """The model loaded on the board (once per module), and the host interpreter of the same blob."""
    res = device.load_model(blob)
    assert res.model_hash == read(blob).model_hash
    return HostModel(blob, backend="kernels")      # the C kernels through cffi ("sim": numpy)


def test_fits_the_board(device, host):
    m = device.model                                # the loaded model's tensors, as the device knows them
    assert device.info.arena_used <= device.info.arena_size
    assert device.info.input_bytes == m.input_tensor.nbytes


def test_steps_like_the_host(device, host, blob, x):
    # STEP keeps the state, like HostModel.step: reset both, then step both row by row.
    xd = to_device_inputs(x, read(blob))            # what the device takes (f32 here; q15 inputs quantised)
    device.reset_state()
    host.reset()
    for t, row in enumerate(xd):
        y = device.step(row).output                 # numpy array of the output tensor's dtype and shape
        np.testing.assert_array_equal(y, host.step(row), err_msg=f"step {t}")


def test_infer_like_the_host(device, host, blob, x):
    # INFER resets the state and runs every row, like HostModel.run (which resets too).
    xd = to_device_inputs(x, read(blob))
    r = device.infer(xd)
    want, _trace = host.run(xd)
    assert r.output.dtype == read(blob).output_tensor.np_dtype and r.steps == STEPS
    np.testing.assert_array_equal(r.output, want[-1])
    np.testing.assert_array_equal(r.dequantized(), host.dequantized_output())   # q15 x the output's scale


def test_every_layer_like_the_host(device, host, x, tmp_path):
    # Every layer at every step, from a reset state; on failure the message names the first layer
    # and step that differ and the plot (device vs host per layer over the steps) is written.
    check_against_host(device, x, plot=tmp_path / "device_vs_host.png")
