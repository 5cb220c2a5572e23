"""The format-1.6 resets on the device: snnTorch networks with reset_mechanism="none" (reset 4) and
with reset_delay=False (reset 5, snnTorch's same-step subtraction; reset 3 for its reset to zero),
float32 and Q15, step by step on the firmware bit for bit equal to the host interpreter, every
layer of the last step included, and the whole sequence through INFER."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386")]

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")

T = 200


def _net(neuron, reset, delay, seed):
    torch.manual_seed(seed)
    n_in, n_h, n_out = 8, 20, 4
    beta = torch.linspace(0.7, 0.95, n_h)
    kw = dict(threshold=torch.linspace(0.5, 1.5, n_h), reset_mechanism=reset, reset_delay=delay, init_hidden=True)
    hid = snn.Synaptic(alpha=0.625, beta=beta, **kw) if neuron == "synaptic" else snn.Leaky(beta=beta, **kw)
    net = torch.nn.Sequential(torch.nn.Linear(n_in, n_h), hid, torch.nn.Linear(n_h, n_out),
                              snn.Leaky(beta=0.875, threshold=0.75, reset_mechanism=reset, reset_delay=delay,
                                        init_hidden=True))
    with torch.no_grad():
        for m in (net[0], net[2]):
            m.weight.mul_(2.0)
            m.weight.copy_(torch.round(m.weight * 256) / 256)
            m.bias.copy_(torch.round(m.bias * 256) / 256)
    return net, n_in


def _models():
    from edgehost.convert import build, from_torch
    out = {}
    rng = np.random.default_rng(3)
    for name, (neuron, reset, delay) in {"none": ("leaky", "none", True),
                                         "same-step-subtract": ("synaptic", "subtract", False),
                                         "same-step-zero": ("leaky", "zero", False)}.items():
        net, n_in = _net(neuron, reset, delay, seed=len(out))
        xs = rng.normal(0.0, 0.75, (T, n_in)).astype(np.float32)
        g = from_torch(net, torch.zeros(n_in))
        for q in ("none", "q15"):
            m = build(g, quantize=q, calib=xs if q == "q15" else None)[0]
            out[f"{name}-{'f32' if q == 'none' else q}"] = (m, xs)
    return out


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reset_modes_step_by_step_equal_host(device, name):
    from edgehost.runtime import HostModel
    m, xs = MODELS[name]
    blob = m.to_bytes()
    resets = {l.reset for l in m.layers if l.type.startswith(("lif", "cubalif"))}
    timings = {l.reset_timing for l in m.layers if l.type.startswith(("lif", "cubalif"))}
    assert resets == {name.split("-")[0] if name.startswith("none") else name.split("-")[2]}
    assert blob[6] == (6 if name.startswith(("none", "same-step-subtract")) else 5)
    want, traces = HostModel(blob, backend="kernels").run(xs)
    assert 0.0 < want.mean() < 1.0, name          # the output spikes: the test exercises them
    assert timings == ({"next"} if name.startswith("none") else
                       {"same-snntorch"} if "subtract" in name else {"same"})
    device.load_model(blob)
    device.reset_state()
    for t in range(T):
        got = device.step(xs[t])
        np.testing.assert_array_equal(np.asarray(got.output).reshape(-1), want[t], err_msg=f"{name} step {t}")
    tr = device.trace()
    for k, (got, ref) in enumerate(zip(tr, traces[-1])):
        if got.raw is not None:
            np.testing.assert_array_equal(np.asarray(got.output).reshape(-1), ref.reshape(-1),
                                          err_msg=f"{name} layer {k}")
    r = device.infer(xs)
    np.testing.assert_array_equal(np.asarray(r.output).reshape(-1), want[-1])
