"""Graph models (format 1.5: fan-in, delayed recurrent edges, same-step resets) on the device: the
Q15 braille-shaped SRNN, a residual network and an snnTorch RLeaky export run step by step on the
firmware bit for bit equal to the host interpreter, every layer of the last step included."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32", "rv32-sim",
                                                            "netduinoplus2", "microbit")]

nir = pytest.importorskip("nir")


def _models():
    from edgehost.convert import build
    from edgehost.convert import examples_nir as E
    from edgehost.convert.nir_import import load_nir
    out = {}
    for reset in ("zero", "subtract"):
        g, _ = E.braille_srnn(seed=4)
        xs = E.spike_inputs(12, seed=3, p=0.25)
        m = build(load_nir(g, dt=1e-4, reset=reset, timing="same"), quantize="q15", calib=xs)[0]
        out[f"braille-{reset}"] = (m, xs)
    g, _, _ = E.residual_snn(seed=5)
    xs = E.spike_inputs(10, seed=8, p=0.4)
    out["residual"] = (build(load_nir(g), quantize="q15", calib=xs)[0], xs)
    g, _, _ = E.residual_snn(seed=6)
    out["residual-user-delay"] = (build(load_nir(g, delays=[("lif1", "fc3")]), quantize="q15")[0],
                                  E.spike_inputs(10, seed=9, p=0.4))
    rng = np.random.default_rng(0)
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([5])}),
                            "fc": nir.Linear(np.round(rng.normal(0, 0.6, (8, 5)) * 256) / 256),
                            "lif": E.lif(8, v_leak=0.5, v_reset=-0.25),
                            "output": nir.Output(output_type={"output": np.array([8])})},
                     edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")], type_check=False)
    out["v_leak-v_reset"] = (build(load_nir(g, reset="zero", timing="same"), quantize="q15")[0],
                             E.spike_inputs(5, seed=9, p=0.4))
    out.update(_snntorch_models(build, load_nir, E))
    return out


def _snntorch_models(build, load_nir, E):
    """snnTorch RLeaky and RSynaptic (all-to-all recurrence) exported by snnTorch itself."""
    try:
        import torch
        import snntorch as snn
        from snntorch.export_nir import export_to_nir
    except ImportError:
        return {}
    out = {}
    for kind in ("rleaky", "rsynaptic"):
        torch.manual_seed(7)
        n_in, n_h, n_out = 12, 24, 5
        beta = torch.linspace(0.75, 0.95, n_h)
        if kind == "rleaky":
            rec = snn.RLeaky(beta=beta, threshold=torch.ones(n_h), linear_features=n_h, init_hidden=True,
                             all_to_all=True)
        else:
            rec = snn.RSynaptic(alpha=torch.full((n_h,), 0.75), beta=beta, threshold=torch.ones(n_h),
                                linear_features=n_h, init_hidden=True, all_to_all=True)
        net = torch.nn.Sequential(torch.nn.Linear(n_in, n_h), rec, torch.nn.Linear(n_h, n_out),
                                  snn.Leaky(beta=torch.full((n_out,), 0.875), threshold=torch.full((n_out,), 0.75),
                                            init_hidden=True, output=True))
        with torch.no_grad():
            net[0].weight.mul_(2.5)
            net[2].weight.mul_(2.0)
        g = export_to_nir(net, torch.zeros(n_in))
        out[f"snntorch-{kind}"] = (build(load_nir(g), quantize="q15")[0], E.spike_inputs(n_in, seed=11, p=0.3))
    return out


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_graph_model_step_by_step_equals_host(device, edgehost_board_name, name):
    from edgehost.runtime import HostModel
    m, xs = MODELS[name]
    blob = m.to_bytes()
    assert any(l.type in ("add_q15", "delay") or l.reset_timing == "same" for l in m.layers)
    if edgehost_board_name == "microbit" and len(blob) > 4096:
        pytest.skip(f"{name}: {len(blob)} B does not fit the micro:bit firmware's 4,096 B blob buffer "
                    f"(edgehost inspect says so)")
    steps = 60 if edgehost_board_name == "rv32-sim" else 200
    xs = xs[:steps]
    want, traces = HostModel(blob, backend="kernels").run(xs)
    assert 0.0 < want.mean() < 1.0, name          # the output spikes: the test exercises them
    device.load_model(blob)
    device.reset_state()
    for t in range(steps):
        got = device.step(xs[t])
        np.testing.assert_array_equal(np.asarray(got.output).reshape(-1), want[t], err_msg=f"{name} step {t}")
    tr = device.trace()
    for k, (got, ref) in enumerate(zip(tr, traces[-1])):
        if got.raw is not None:
            np.testing.assert_array_equal(np.asarray(got.output).reshape(-1), ref.reshape(-1),
                                          err_msg=f"{name} layer {k}")
    # the whole sequence at once (INFER resets the state first)
    r = device.infer(xs)
    np.testing.assert_array_equal(np.asarray(r.output).reshape(-1), want[-1])
