"""NIR importer: a real snnTorch network exported to NIR, converted, run on the host through the
C kernels and compared with snnTorch itself; hand-built NIR graphs for the other node types."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.blob import read
from edgehost.convert import ConvertError, build, load
from edgehost.convert.nir_import import load_nir
from edgehost.runtime import HostModel

nir = pytest.importorskip("nir")

T_STEPS = 150


def _snn():
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    pytest.importorskip("nirtorch")
    from snntorch.export_nir import export_to_nir
    import snntorch.utils
    return torch, snn, export_to_nir, snntorch.utils


def _net(kind, n_in=12, n_h=24, n_out=6, dyadic=True, seed=0, reset="subtract"):
    torch, snn, _, _ = _snn()
    torch.manual_seed(seed)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(n_in, n_h)
            if kind == "synaptic":
                self.lif1 = snn.Synaptic(alpha=torch.full((n_h,), 0.8), beta=torch.full((n_h,), 0.9),
                                         threshold=torch.ones(n_h), init_hidden=True, reset_mechanism=reset)
            else:
                self.lif1 = snn.Leaky(beta=torch.linspace(0.8, 0.95, n_h), threshold=torch.ones(n_h),
                                      init_hidden=True, reset_mechanism=reset)
            self.fc2 = torch.nn.Linear(n_h, n_out)
            self.lif2 = snn.Leaky(beta=torch.full((n_out,), 0.85), threshold=torch.full((n_out,), 0.75),
                                  init_hidden=True, output=True, reset_mechanism=reset)

        def forward(self, x):
            self.s1 = self.lif1(self.fc1(x))
            return self.lif2(self.fc2(self.s1))

    net = Net()
    with torch.no_grad():
        net.fc1.weight.mul_(3)
        if dyadic:
            # weights on a 1/256 grid: every dot product is exact in float32 whatever the summation
            # order, so torch's matmul and the kernel's ordered sum agree bit for bit.
            for fc in (net.fc1, net.fc2):
                fc.weight.copy_(torch.round(fc.weight * 256) / 256)
                fc.bias.copy_(torch.round(fc.bias * 256) / 256)
    return net


def _reference(net, xs):
    torch, _, _, utils = _snn()
    utils.reset(net)
    spk1, spk2, mem2 = [], [], []
    with torch.no_grad():
        for x in xs:
            s, m = net(torch.from_numpy(x))
            spk1.append(net.s1.numpy().copy())
            spk2.append(s.numpy().copy())
            mem2.append(m.numpy().copy())
    return np.array(spk1), np.array(spk2), np.array(mem2)


def _export(net, tmp_path, n_in=12):
    torch, _, export_to_nir, _ = _snn()
    g = export_to_nir(net, torch.zeros(n_in))
    path = tmp_path / "net.nir"
    nir.write(str(path), g)
    return path


def _inputs(n=T_STEPS, n_in=12, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.random((n, n_in)) < 0.3).astype(np.float32)


@pytest.mark.parametrize("kind", ["leaky", "synaptic"])
def test_snntorch_float_path_equal_spikes(kind, tmp_path):
    net = _net(kind)
    graph = load(str(_export(net, tmp_path)))
    assert any("dt = 0.0001" in n for n in graph.notes)
    assert any("subtract" in n and "snnTorch's default" in n for n in graph.notes)
    model, _ = build(graph)
    blob = model.to_bytes()
    xs = _inputs()
    ref1, ref2, _ = _reference(net, xs)
    assert 0.05 < ref2.mean() < 0.95 and 0.05 < ref1.mean() < 0.95  # the test exercises spiking
    hm = HostModel(blob, backend="kernels")
    ys, trace = hm.run(xs)
    lif1 = [i for i, l in enumerate(model.layers) if l.type.endswith("lif_f32")][0]
    hidden = np.array([tr[lif1] for tr in trace])
    np.testing.assert_array_equal(hidden, ref1)
    np.testing.assert_array_equal(ys, ref2)


def test_snntorch_float_path_default_weights(tmp_path):
    """Default (non-dyadic) float weights: torch's matmul may sum in another order, so a spike can
    differ when a membrane lands within rounding of the threshold; on this seed none does."""
    net = _net("leaky", dyadic=False, seed=3)
    model, _ = build(load(str(_export(net, tmp_path))))
    xs = _inputs(seed=4)
    _, ref2, _ = _reference(net, xs)
    ys, _ = HostModel(model, backend="kernels").run(xs)
    assert (ys == ref2).mean() >= 0.99


@pytest.mark.parametrize("kind", ["leaky", "synaptic"])
def test_snntorch_q15_path(kind, tmp_path):
    """Q15: spike agreement with snnTorch >= 0.95 on both layers and the output membrane within
    5 % of its range (RMS); sim and kernels backends agree bit for bit."""
    net = _net(kind)
    graph = load(str(_export(net, tmp_path)))
    xs = _inputs()
    calib = _inputs(seed=7)
    model, report = build(graph, quantize="q15", calib=calib)
    blob = model.to_bytes()
    ref1, ref2, mem2 = _reference(net, xs)
    hk = HostModel(blob, backend="kernels")
    hs = HostModel(blob, backend="sim")
    out_layer = len(model.layers) - 1
    v_state = model.layers[out_layer].states[0]
    scale = model.tensors[v_state].scale
    ys, mems, hidden = [], [], []
    lif1 = [i for i, l in enumerate(model.layers) if "lif_q15" in l.type][0]
    for x in xs:
        tk, ts = [], []
        y = hk.step(x, tk)
        np.testing.assert_array_equal(y, hs.step(x, ts))
        for a, b in zip(tk, ts):
            np.testing.assert_array_equal(a, b)
        ys.append(y)
        hidden.append(tk[lif1])
        mems.append(hk.tensor(v_state) * scale)
    ys, hidden, mems = np.array(ys), np.array(hidden), np.array(mems)
    assert (hidden == ref1).mean() >= 0.95
    assert (ys == ref2).mean() >= 0.95
    rms = np.sqrt(np.mean((mems - mem2) ** 2)) / (mem2.max() - mem2.min())
    assert rms < 0.05
    # the report has a per-layer quantisation error
    kinds = [r["kind"] for r in report["layers"]]
    assert kinds == ["fc", kind.replace("leaky", "lif").replace("synaptic", "cubalif"), "fc", "lif"]
    assert all("agreement" in r for r in report["layers"] if r["kind"] in ("lif", "cubalif"))


@pytest.mark.parametrize("kind", ["leaky", "synaptic"])
def test_reset_zero_matches_snntorch_zero(kind, tmp_path):
    net = _net(kind, reset="zero")
    path = str(_export(net, tmp_path))
    sub = build(load(path, reset="subtract"))[0]
    zer = build(load(path, reset="zero"))[0]
    assert [l.reset for l in sub.layers if "lif" in l.type] == ["subtract", "subtract"]
    assert [l.reset for l in zer.layers if "lif" in l.type] == ["zero", "zero"]
    xs = _inputs()
    _, ref2, _ = _reference(net, xs)
    ys, _ = HostModel(zer, backend="kernels").run(xs)
    np.testing.assert_array_equal(ys, ref2)
    ys_sub, _ = HostModel(sub, backend="kernels").run(xs)
    assert not np.array_equal(ys_sub, ref2)   # the graph alone does not carry the reset


# ---- hand-built NIR graphs --------------------------------------------------------------------

def _graph(nodes, n_in):
    names = ["input"] + [f"n{i}" for i in range(len(nodes))] + ["output"]
    allnodes = {"input": nir.Input(input_type={"input": np.array([n_in])}),
                **{f"n{i}": nd for i, nd in enumerate(nodes)},
                "output": nir.Output(output_type={"output": np.array([1])})}
    edges = list(zip(names[:-1], names[1:]))
    return nir.NIRGraph(nodes=allnodes, edges=edges, type_check=False)


def test_nir_euler_discretisation_and_gain_folding():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 4))
    b = rng.normal(size=5)
    dt = 1e-3
    tau = np.array([2e-3, 4e-3, 8e-3, 1e-2, 5e-2])
    r = np.array([1.0, 2.0, 0.5, 3.0, 1.0])
    g = _graph([nir.Affine(w, b), nir.Scale(np.full(5, 2.0)),
                nir.LIF(tau=tau, r=r, v_leak=np.zeros(5), v_threshold=np.full(5, 0.7), v_reset=np.zeros(5)),
                nir.Linear(rng.normal(size=(3, 5))),
                nir.LI(tau=np.full(3, 5e-3), r=np.ones(3), v_leak=np.zeros(3))], 4)
    gr = load_nir(g, dt=dt)
    fc, lif, fc2, li = gr.layers
    np.testing.assert_allclose(lif.beta, 1 - dt / tau)
    gain = 2.0 * r * dt / tau
    np.testing.assert_allclose(fc.weight, w * gain[:, None])
    np.testing.assert_allclose(fc.bias, b * gain)
    np.testing.assert_allclose(li.beta, 1 - dt / 5e-3)
    np.testing.assert_allclose(fc2.weight, g.nodes["n3"].weight * (dt / 5e-3))
    # the converted model follows the Euler step it claims
    model, _ = build(gr)
    xs = rng.normal(size=(50, 4)).astype(np.float32)
    ys, _ = HostModel(model, "sim").run(xs)
    v = np.zeros(5)
    s = np.zeros(5)
    y = np.zeros(3)
    ref = []
    for x in xs.astype(np.float64):
        i_in = 2.0 * (w @ x + b)
        v = (1 - dt / tau) * v + (r * dt / tau) * i_in - s * 0.7
        s = (v > 0.7).astype(float)
        y = (1 - dt / 5e-3) * y + (dt / 5e-3) * (g.nodes["n3"].weight @ s)
        ref.append(y)
    np.testing.assert_allclose(ys, np.array(ref), rtol=1e-4, atol=1e-4)


def test_nir_if_integrator_threshold_cubalif_flatten():
    rng = np.random.default_rng(1)
    g = _graph([nir.Flatten(input_type={"input": np.array([2, 2])}), nir.Affine(rng.normal(size=(6, 4)), np.zeros(6)),
                nir.IF(r=np.full(6, 100.0), v_threshold=np.ones(6), v_reset=np.zeros(6)),
                nir.Linear(rng.normal(size=(6, 6))),
                nir.CubaLIF(tau_syn=np.full(6, 2e-3), tau_mem=np.full(6, 4e-3), r=np.ones(6), v_leak=np.zeros(6),
                            v_threshold=np.ones(6), v_reset=np.zeros(6), w_in=np.ones(6)),
                nir.Linear(rng.normal(size=(6, 6))), nir.Threshold(np.full(6, 0.25)),
                nir.Linear(rng.normal(size=(2, 6))), nir.I(r=np.full(2, 10.0))], 4)
    gr = load_nir(g, dt=1e-3, reset="zero")
    kinds = [l.kind for l in gr.layers]
    assert kinds == ["fc", "lif", "fc", "cubalif", "fc", "lif", "fc", "li"]
    assert gr.layers[1].beta[0] == 1 and gr.layers[1].reset == "zero"
    np.testing.assert_allclose(gr.layers[3].alpha, 0.5)
    np.testing.assert_allclose(gr.layers[3].beta, 0.75)
    assert gr.layers[5].beta[0] == 0 and gr.layers[5].reset == "zero"   # Threshold: s = x > thr
    assert gr.layers[7].beta[0] == 1
    np.testing.assert_allclose(gr.layers[6].weight, g.nodes["n7"].weight * 10.0 * 1e-3)
    model, _ = build(gr)
    HostModel(model, "sim").run(rng.normal(size=(20, 4)))


def test_nir_unsupported_nodes_are_named():
    g = _graph([nir.Conv1d(input_shape=8, weight=np.ones((2, 1, 3)), stride=1, padding=0, dilation=1, groups=1,
                           bias=np.zeros(2))], 8)
    with pytest.raises(ConvertError, match=r"node 'n0' of type Conv1d is not supported.*supported: Input"):
        load_nir(g)
    g = _graph([nir.Affine(np.ones((3, 2)), np.zeros(3)),
                nir.LIF(tau=np.ones(3), r=np.ones(3), v_leak=np.full(3, 0.1), v_threshold=np.ones(3),
                        v_reset=np.zeros(3))], 2)
    with pytest.raises(ConvertError, match="v_leak != 0"):
        load_nir(g)
    g = _graph([nir.Affine(np.ones((3, 2)), np.zeros(3)),
                nir.LIF(tau=np.ones(3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3),
                        v_reset=np.full(3, -1.0))], 2)
    with pytest.raises(ConvertError, match="v_reset != 0"):
        load_nir(g)
    g = _graph([nir.Affine(np.ones((3, 2)), np.zeros(3)),
                nir.LIF(tau=np.full(3, 1e-5), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3),
                        v_reset=np.zeros(3))], 2)
    with pytest.raises(ConvertError, match="negative decay"):
        load_nir(g, dt=1e-4)
    g = _graph([nir.LIF(tau=np.ones(2), r=np.full(2, 5.0), v_leak=np.zeros(2), v_threshold=np.ones(2),
                        v_reset=np.zeros(2))], 2)
    with pytest.raises(ConvertError, match="no Affine/Linear before it"):
        load_nir(g, dt=0.1)
    with pytest.raises(ConvertError, match="reset must be"):
        load_nir(g, reset="hold")
    with pytest.raises(ConvertError, match="dt must be > 0"):
        load_nir(g, dt=-1.0)


def test_nir_branches_rejected():
    nodes = {"input": nir.Input(input_type={"input": np.array([2])}),
             "a": nir.Affine(np.ones((2, 2)), np.zeros(2)), "b": nir.Affine(np.ones((2, 2)), np.zeros(2)),
             "output": nir.Output(output_type={"output": np.array([2])})}
    g = nir.NIRGraph(nodes=nodes, edges=[("input", "a"), ("input", "b"), ("a", "output"), ("b", "output")],
                     type_check=False)
    with pytest.raises(ConvertError, match="only chains"):
        load_nir(g)


def test_cli_convert_nir(tmp_path, capsys):
    from edgehost.cli import main
    net = _net("leaky")
    path = _export(net, tmp_path)
    out = tmp_path / "m.ehm"
    assert main(["convert", str(path), "-o", str(out), "--quantize", "q15", "--reset", "subtract"]) == 0
    text = capsys.readouterr().out
    assert "reset: subtract (snnTorch's default)" in text and "dt = 0.0001" in text
    assert "quantisation" in text
    m = read(out.read_bytes())
    assert [l.type for l in m.layers] == ["input_q15", "fc_q15", "lif_q15", "fc_spike_q15", "lif_q15"]
