"""Spiking CNNs (format 1.6: conv2d_q15, conv2d_spike_q15, sumpool2d / avgpool2d on spikes and
currents) on the device: Q15 SCNNs converted from snnTorch's NIR export and from a NIR graph written
here run step by step on the firmware bit for bit equal to the host interpreter (the C kernels), every
layer of the last step included, and as one INFER."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32", "rv32-sim",
                                                            "netduinoplus2", "microbit")]

nir = pytest.importorskip("nir")

H = 10     # 2 x 10 x 10 float32 input: 800 bytes, one STEP frame


def _spikes(n, steps, seed, p=0.3):
    return (np.random.default_rng(seed).random((steps, n)) < p).astype(np.float32)


def _snntorch_scnn():
    """Conv2d 5x5/2 -> Leaky -> Conv2d 3x3 pad 1 -> Leaky -> Flatten -> Linear -> Leaky."""
    try:
        import torch
        import snntorch as snn
        from snntorch.export_nir import export_to_nir
    except ImportError:
        return None
    torch.manual_seed(3)
    c1, c2, fc = torch.nn.Conv2d(2, 4, 5, stride=2), torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.Linear(24, 8)
    with torch.no_grad():
        for m in (c1, c2, fc):
            for p in m.parameters():
                p.mul_(3.0)

    def leaky(shape, beta):
        return snn.Leaky(beta=torch.full(shape, beta), threshold=torch.ones(shape), init_hidden=True)
    net = torch.nn.Sequential(c1, leaky((4, 3, 3), 0.9), c2, leaky((6, 3, 3), 0.85), torch.nn.Flatten(0),
                              torch.nn.Linear(54, 8),
                              snn.Leaky(beta=torch.full((8,), 0.9), threshold=torch.ones(8), init_hidden=True,
                                        output=True))
    return export_to_nir(net, torch.zeros(2, H, H))


def _nir_scnn(pool):
    """Conv2d 3x3 (groups 2) on the input -> IF -> pooling of the spikes -> Conv2d 2x2 -> IF ->
    pooling of the currents -> IF -> Flatten -> Affine -> IF (a NIR graph written here)."""
    rng = np.random.default_rng(11)

    def q(a):
        return np.round(a * 256) / 256

    def if_(shape):
        return nir.IF(r=np.ones(shape), v_threshold=np.ones(shape))
    nodes = {
        "input": nir.Input(input_type={"input": np.array([2, H, H])}),
        "c1": nir.Conv2d(input_shape=None, weight=q(rng.normal(0, 0.8, (4, 1, 3, 3))), stride=1, padding=1,
                         dilation=1, groups=2, bias=q(rng.normal(0, 0.1, 4))),
        "s1": if_((4, H, H)),
        "p1": (nir.SumPool2d if pool == "sum" else nir.AvgPool2d)(kernel_size=np.array([2, 2]),
                                                                   stride=np.array([2, 2]), padding=np.array([0, 0])),
        "c2": nir.Conv2d(input_shape=None, weight=q(rng.normal(0, 0.5, (6, 4, 2, 2))), stride=1, padding=0,
                         dilation=1, groups=1, bias=q(rng.normal(0, 0.1, 6))),
        "p2": (nir.AvgPool2d if pool == "sum" else nir.SumPool2d)(kernel_size=np.array([2, 2]),
                                                                   stride=np.array([1, 1]), padding=np.array([1, 1])),
        "s2": if_((6, 5, 5)),
        "flat": nir.Flatten(input_type=None),
        "fc": nir.Affine(q(rng.normal(0, 0.4, (7, 150))), q(rng.normal(0, 0.1, 7))),
        "s3": if_(7),
        "output": nir.Output(output_type={"output": np.array([7])}),
    }
    order = ["input", "c1", "s1", "p1", "c2", "p2", "s2", "flat", "fc", "s3", "output"]
    return nir.NIRGraph(nodes=nodes, edges=list(zip(order[:-1], order[1:])), type_check=False)


def _tiny_events():
    """A spiking CNN small enough for the micro:bit (Cortex-M0: 4 KB blob and arena, 256-byte
    frames): 2x8x8 events (b1, 8 bytes a step) -> Conv2d 3x3/2 -> LIF -> SumPool2d -> Affine -> LIF."""
    from edgehost.convert import build
    from edgehost.convert import graph as G
    rng = np.random.default_rng(21)
    conv = G.Conv2d(np.round(rng.normal(0, 0.6, (4, 2, 3, 3)) * 64) / 64, None, (2, 8, 8), stride=(2, 2),
                    padding=(1, 1, 1, 1))
    cs = conv.out_shape()
    pool = G.Pool2d("sum", cs, (2, 2), (2, 2))
    n1, n2 = int(np.prod(cs)), int(np.prod(pool.out_shape()))
    g = G.Graph(128, [conv, G.Lif(np.full(n1, 0.875), np.full(n1, 1.0)), pool,
                      G.Fc(np.round(rng.normal(0, 0.5, (5, n2)) * 64) / 64, None),
                      G.Lif(np.full(5, 0.75), np.full(5, 0.5))], input_kind="spikes")
    xs = _spikes(128, 40, seed=12, p=0.35)
    return build(g, quantize="q15", calib=xs)[0], xs


def _models():
    from edgehost.convert import build
    from edgehost.convert.nir_import import load_nir
    out = {}
    g = _snntorch_scnn()
    if g is not None:
        xs = _spikes(2 * H * H, 40, seed=5)
        out["snntorch"] = (build(load_nir(g), quantize="q15", calib=xs)[0], xs)
    for pool in ("sum", "avg"):
        xs = _spikes(2 * H * H, 40, seed=6)
        graph = load_nir(_nir_scnn(pool), if_dt=1.0, reset="subtract", timing="same")
        out[f"nir-{pool}"] = (build(graph, quantize="q15", calib=xs)[0], xs)
        out[f"nir-{pool}-f32"] = (build(graph)[0], xs)      # conv2d_f32, *pool2d_f32 (-ffp-contract=off)
        if pool == "sum":
            graph.input_kind = "spikes"                      # b1 input: 28 bytes a step
            out["nir-sum-events"] = (build(graph, quantize="q15", calib=xs)[0], xs)
    out["tiny-events"] = _tiny_events()
    return out


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_scnn_step_by_step_equals_host(device, edgehost_board_name, name):
    from edgehost import boards
    from edgehost.model_fit import Need, capacity_of_board, fit
    from edgehost.runtime import HostModel
    m, xs = MODELS[name]
    blob = m.to_bytes()
    f = fit(Need.of(blob, m), capacity_of_board(boards.get(edgehost_board_name)))
    if not f["fits"]:                 # the micro:bit (Cortex-M0, 16 KB RAM) takes the events models
        assert edgehost_board_name == "microbit" and name != "tiny-events", f["over"]
        pytest.skip(f"{name} does not fit {edgehost_board_name}: {'; '.join(f['over'])}")
    if edgehost_board_name == "rv32-sim":      # the RTL simulation: three models, a few steps (the
        if name not in ("snntorch", "nir-sum-events", "tiny-events"):   # rest: virt-rv32, same ISA)
            pytest.skip(f"{name}: run on virt-rv32 (same RV32IMC code); the RTL core runs three models")
        xs = xs[:12]
    types = [l.type for l in m.layers]
    if name.endswith("f32"):
        assert {"conv2d_f32", "sumpool2d_f32", "avgpool2d_f32"} <= set(types), types
    elif name.endswith("events"):
        assert types[0] == "unpack_spikes_b1" and types[1] == "conv2d_spike_q15", types
    elif name == "snntorch":
        assert "conv2d_spike_q15" in types and "conv2d_q15" in types, types
    if name.startswith("nir") and not name.endswith(("f32", "events")):
        assert {"sumpool2d_spike_q15", "avgpool2d_q15"} <= set(types) or \
            {"avgpool2d_spike_q15", "sumpool2d_q15"} <= set(types), types
    want, traces = HostModel(blob, backend="kernels").run(xs)
    assert 0.0 < want.mean() < 1.0, name
    device.load_model(blob)
    device.reset_state()
    for t in range(len(xs)):
        got = device.step(xs[t])
        np.testing.assert_array_equal(np.asarray(got.output).reshape(-1), want[t], err_msg=f"{name} step {t}")
    tr = device.trace()
    for k, (got, ref) in enumerate(zip(tr, traces[-1])):
        if got.raw is not None:
            np.testing.assert_array_equal(np.asarray(got.output).reshape(-1), ref.reshape(-1),
                                          err_msg=f"{name} layer {k} ({types[k]})")
    r = device.infer(xs)
    np.testing.assert_array_equal(np.asarray(r.output).reshape(-1), want[-1])
