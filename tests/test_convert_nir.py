"""NIR importer: a real snnTorch network exported to NIR, converted, run on the host through the
C kernels and compared with snnTorch itself; hand-built NIR graphs for the other node types."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.blob import read
from edgehost.convert import ConvertError, build, load
from edgehost.convert.nir_import import load_nir
from edgehost.runtime import HostModel

import _snn_helpers as snn_helpers

nir = pytest.importorskip("nir")

T_STEPS = 150


def _snn():
    return snn_helpers.snn()


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
    g = _graph([nir.Delay(delay=np.ones(16))], 16)
    with pytest.raises(ConvertError, match=r"node 'n0' of type Delay is not supported; supported: Input.*Conv1d, "
                                           r"Conv2d, SumPool2d, AvgPool2d"):
        load_nir(g)
    g = _graph([nir.Affine(np.ones((3, 2)), np.zeros(3)),
                nir.CubaLIF(tau_syn=np.ones(3), tau_mem=np.ones(3), r=np.ones(3), v_leak=np.full(3, 0.1),
                            v_threshold=np.ones(3), v_reset=np.zeros(3))], 2)
    with pytest.raises(ConvertError, match="v_leak != 0 is not supported on CubaLIF"):
        load_nir(g)
    g = _graph([nir.Affine(np.ones((3, 2)), np.zeros(3)),
                nir.LIF(tau=np.ones(3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3),
                        v_reset=np.full(3, -1.0))], 2)
    with pytest.raises(ConvertError, match="v_reset = .* != 0 is a reset to that value"):
        load_nir(g)
    g = _graph([nir.Affine(np.ones((3, 2)), np.zeros(3)),
                nir.LIF(tau=np.full(3, 1e-5), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3),
                        v_reset=np.zeros(3))], 2)
    with pytest.raises(ConvertError, match="negative decay"):
        load_nir(g, dt=1e-4)
    with pytest.raises(ConvertError, match="reset must be"):
        load_nir(g, reset="hold")
    with pytest.raises(ConvertError, match="dt must be > 0"):
        load_nir(g, dt=-1.0)


def test_nir_gain_without_affine_gets_a_diagonal_layer():
    """A LIF whose input gain is not 1 and that no Affine feeds: the gain goes on a diagonal dense
    layer inserted on the edge (it used to be refused)."""
    g = _graph([nir.LIF(tau=np.ones(2), r=np.full(2, 5.0), v_leak=np.zeros(2), v_threshold=np.ones(2),
                        v_reset=np.zeros(2))], 2)
    gr = load_nir(g, dt=0.1)
    assert [l.kind for l in gr.layers] == ["fc", "lif"]
    np.testing.assert_allclose(gr.layers[0].weight, np.diag([0.5, 0.5]))
    assert any("inserted" in n and "input gain" in n for n in gr.notes)


def test_nir_branches_convert():
    """Fan-out from the input and fan-in at the output (the graph test file covers graphs in
    depth): the output is the sum of the two branches."""
    nodes = {"input": nir.Input(input_type={"input": np.array([2])}),
             "a": nir.Affine(np.ones((2, 2)), np.zeros(2)), "b": nir.Affine(2 * np.eye(2), np.ones(2)),
             "output": nir.Output(output_type={"output": np.array([2])})}
    g = nir.NIRGraph(nodes=nodes, edges=[("input", "a"), ("input", "b"), ("a", "output"), ("b", "output")],
                     type_check=False)
    gr = load_nir(g)
    assert not gr.is_chain
    model, _ = build(gr)
    y = HostModel(model.to_bytes()).step(np.array([1.0, 3.0], np.float32))
    np.testing.assert_allclose(y, [4 + 2 + 1, 4 + 6 + 1])


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


# ---- Conv1d: lowered to a dense layer (its Toeplitz expansion, edgehost.convert.conv) ---------
#
# snnTorch 1.0's export_to_nir has no Conv1d ("module not implemented: Conv1d"), so the network is
# exported with the machinery export_to_nir itself uses: nirtorch.extract_nir_graph with snnTorch's
# own module extractor (Leaky, Linear) plus a mapping for nn.Conv1d -> nir.Conv1d and
# nn.Flatten -> nir.Flatten; the graph is written to a .nir file and read back by the converter.

CONVS = {"plain": dict(c_in=2, c_out=4, k=3, length=12, stride=1, padding=1, dilation=1, groups=1),
         "strided": dict(c_in=4, c_out=6, k=3, length=16, stride=2, padding=2, dilation=2, groups=2)}


def _conv_net(cfg, n_out=5, seed=0, dyadic=True):
    torch, snn, _, _ = _snn()
    torch.manual_seed(seed)
    c = CONVS[cfg]
    l_out = (c["length"] + 2 * c["padding"] - c["dilation"] * (c["k"] - 1) - 1) // c["stride"] + 1

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(c["c_in"], c["c_out"], c["k"], stride=c["stride"], padding=c["padding"],
                                        dilation=c["dilation"], groups=c["groups"])
            self.lif1 = snn.Leaky(beta=torch.linspace(0.8, 0.95, c["c_out"] * l_out).reshape(c["c_out"], l_out),
                                  threshold=torch.ones(c["c_out"], l_out), init_hidden=True)
            self.flat = torch.nn.Flatten()
            self.fc = torch.nn.Linear(c["c_out"] * l_out, n_out)
            self.lif2 = snn.Leaky(beta=torch.full((n_out,), 0.85), threshold=torch.full((n_out,), 0.75),
                                  init_hidden=True, output=True)

        def forward(self, x):
            self.s1 = self.lif1(self.conv(x))
            return self.lif2(self.fc(self.flat(self.s1)))

    net = Net()
    with torch.no_grad():
        net.conv.weight.mul_(6)       # enough drive that both layers spike 15-40 % of the time
        net.fc.weight.mul_(6)
        if dyadic:      # exact float32 sums whatever the order (see _net)
            for m in (net.conv, net.fc):
                m.weight.copy_(torch.round(m.weight * 256) / 256)
                m.bias.copy_(torch.round(m.bias * 256) / 256)
    return net, c, l_out


def _export_conv(net, c, l_out, tmp_path):
    torch, _, _, _ = _snn()
    import nirtorch
    from snntorch.export_nir import _extract_snntorch_module

    def extract(m):
        if isinstance(m, torch.nn.Conv1d):
            return nir.Conv1d(input_shape=c["length"], weight=m.weight.detach().numpy(), stride=m.stride[0],
                              padding=m.padding[0], dilation=m.dilation[0], groups=m.groups,
                              bias=m.bias.detach().numpy())
        if isinstance(m, torch.nn.Flatten):
            # NIR shapes have no batch dimension: torch's start_dim 1 is NIR's 0
            return nir.Flatten(input_type={"input": np.array([c["c_out"], l_out])}, start_dim=m.start_dim - 1)
        return _extract_snntorch_module(m)

    g = nirtorch.extract_nir_graph(net, extract, torch.zeros(1, c["c_in"], c["length"]), model_name="conv",
                                   ignore_dims=[0])
    assert sorted(type(v).__name__ for v in g.nodes.values()) == ["Affine", "Conv1d", "Flatten", "Input", "LIF",
                                                                    "LIF", "Output"]
    path = tmp_path / "conv.nir"
    nir.write(str(path), g)
    return path


def _spikes(n_in, seed, p=0.5):
    return (np.random.default_rng(seed).random((T_STEPS, n_in)) < p).astype(np.float32)


def _conv_reference(net, xs, c):
    torch, _, _, utils = _snn()
    utils.reset(net)
    s1, s2, m2 = [], [], []
    with torch.no_grad():
        for x in xs:
            s, m = net(torch.from_numpy(x.reshape(1, c["c_in"], c["length"])))
            s1.append(net.s1.numpy().ravel().copy())
            s2.append(s.numpy().ravel().copy())
            m2.append(m.numpy().ravel().copy())
    return np.array(s1), np.array(s2), np.array(m2)


@pytest.mark.parametrize("cfg", list(CONVS))
def test_snntorch_conv1d_float_path_equal_spikes(cfg, tmp_path):
    net, c, l_out = _conv_net(cfg)
    graph = load(str(_export_conv(net, c, l_out, tmp_path)))
    n_in = c["c_in"] * c["length"]
    rows, cols = c["c_out"] * l_out, n_in
    note = [n for n in graph.notes if n.startswith("Conv1d")]
    assert len(note) == 1 and f"dense {rows} x {cols} layer: {rows * cols * 4} B as float32" in note[0]
    model, _ = build(graph)
    assert [l.type for l in model.layers] == ["fc_f32", "lif_f32", "spike_f32", "fc_f32", "lif_f32"]
    xs = _spikes(n_in, seed=2)
    ref1, ref2, _ = _conv_reference(net, xs, c)
    assert 0.05 < ref1.mean() < 0.95 and 0.05 < ref2.mean() < 0.95     # the test exercises spiking
    ys, trace = HostModel(model.to_bytes(), backend="kernels").run(xs)
    lif1 = [i for i, l in enumerate(model.layers) if l.type.endswith("lif_f32")][0]
    np.testing.assert_array_equal(np.array([tr[lif1] for tr in trace]), ref1)
    np.testing.assert_array_equal(ys, ref2)


@pytest.mark.parametrize("cfg", list(CONVS))
def test_snntorch_conv1d_q15_path(cfg, tmp_path):
    """Q15 on the conv net: spike agreement with snnTorch >= 0.95 on both layers, output membrane
    within 5 % of its range (RMS), sim and kernels backends bit-exact (as the Linear case)."""
    net, c, l_out = _conv_net(cfg, dyadic=False, seed=1)
    graph = load(str(_export_conv(net, c, l_out, tmp_path)))
    n_in = c["c_in"] * c["length"]
    model, report = build(graph, quantize="q15", calib=_spikes(n_in, seed=7))
    blob = model.to_bytes()
    xs = _spikes(n_in, seed=3)
    ref1, ref2, mem2 = _conv_reference(net, xs, c)
    hk, hs = HostModel(blob, backend="kernels"), HostModel(blob, backend="sim")
    v_state = model.layers[-1].states[0]
    scale = model.tensors[v_state].scale
    lif1 = [i for i, l in enumerate(model.layers) if "lif_q15" in l.type][0]
    ys, hidden, mems = [], [], []
    for x in xs:
        tk, ts = [], []
        y = hk.step(x, tk)
        np.testing.assert_array_equal(y, hs.step(x, ts))
        ys.append(y)
        hidden.append(tk[lif1])
        mems.append(hk.tensor(v_state) * scale)
    ys, hidden, mems = np.array(ys), np.array(hidden), np.array(mems)
    print(f"conv1d q15 {cfg}: hidden agreement {(hidden == ref1).mean():.4f}, output {(ys == ref2).mean():.4f}, "
          f"membrane RMS {np.sqrt(np.mean((mems - mem2) ** 2)) / (mem2.max() - mem2.min()):.4f} of range")
    assert 0.05 < ref1.mean() < 0.95
    assert (hidden == ref1).mean() >= 0.95
    assert (ys == ref2).mean() >= 0.95
    assert np.sqrt(np.mean((mems - mem2) ** 2)) / (mem2.max() - mem2.min()) < 0.05
    assert [r["kind"] for r in report["layers"]] == ["fc", "lif", "fc", "lif"]


def test_nir_conv1d_hand_built_same_padding_and_inferred_length():
    """A hand-built graph: Scale -> Conv1d (input_shape None: L from the chain; 'same' padding)
    -> LIF (its input gain folded into the expanded rows) -> Flatten -> Linear -> LI, against a
    numpy Euler step over a direct convolution."""
    from edgehost.convert import conv as C
    rng = np.random.default_rng(4)
    c_in, c_out, k, length, dt = 3, 4, 4, 10, 1e-3
    w = rng.normal(size=(c_out, c_in, k))
    b = rng.normal(size=c_out)
    tau = np.full(c_out * length, 4e-3)
    w2 = rng.normal(size=(2, c_out * length))
    nodes = [nir.Scale(np.full(c_in * length, 0.5)),
             nir.Conv1d(input_shape=None, weight=w, stride=1, padding="same", dilation=2, groups=1, bias=b),
             nir.LIF(tau=tau, r=np.full(c_out * length, 2.0), v_leak=np.zeros(c_out * length),
                     v_threshold=np.full(c_out * length, 0.3), v_reset=np.zeros(c_out * length)),
             nir.Flatten(input_type={"input": np.array([c_out, length])}, start_dim=0), nir.Linear(w2),
             nir.LI(tau=np.full(2, 5e-3), r=np.ones(2), v_leak=np.zeros(2))]
    g = _graph(nodes, c_in * length)
    g.nodes["input"] = nir.Input(input_type={"input": np.array([c_in, length])})
    gr = load_nir(g, dt=dt)
    assert [l.kind for l in gr.layers] == ["fc", "lif", "fc", "li"]
    assert any("input_shape missing, L = 10" in n for n in gr.notes)
    s = C.spec(w.shape, length, 1, "same", 2)
    assert (s.pad_left, s.pad_right) == (3, 3)
    model, _ = build(gr)
    xs = rng.normal(size=(40, c_in * length)).astype(np.float32)
    ys, _ = HostModel(model, "kernels").run(xs)
    v = np.zeros(c_out * length)
    sp = np.zeros_like(v)
    y = np.zeros(2)
    ref, rate = [], []
    for x in xs.astype(np.float64):
        i_in = C.conv1d_direct(0.5 * x, w, s, b).ravel()
        v = (1 - dt / tau) * v + (2.0 * dt / tau) * i_in - sp * 0.3
        sp = (v > 0.3).astype(float)
        y = (1 - dt / 5e-3) * y + (dt / 5e-3) * (w2 @ sp)
        ref.append(y)
        rate.append(sp.mean())
    assert 0.05 < np.mean(rate) < 0.95
    np.testing.assert_allclose(ys, np.array(ref), rtol=1e-4, atol=1e-4)


def test_nir_conv1d_errors_are_clear():
    def conv(**kw):
        a = dict(input_shape=8, weight=np.ones((2, 1, 3)), stride=1, padding=0, dilation=1, groups=1,
                 bias=np.zeros(2))
        a.update(kw)
        return nir.Conv1d(**a)
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv1d\): padding 'same' with stride 2 is ambiguous"):
        load_nir(_graph([conv(padding="same", stride=2)], 8))
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv1d\): input of C_in 1 x L 8 = 8 elements, "
                                           r"the chain has 9"):
        load_nir(_graph([conv()], 9))
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv1d\): groups 2 does not divide C_out 3"):
        load_nir(_graph([conv(weight=np.ones((3, 1, 3)), bias=np.zeros(3), groups=2)], 16))
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv1d\): dilation 0 < 1"):
        load_nir(_graph([nir.Conv1d(input_shape=None, weight=np.ones((2, 1, 3)), stride=1, padding=0,
                                    dilation=0, groups=1, bias=np.zeros(2))], 8))
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv1d\): no input_shape, and the chain's 7 elements"):
        load_nir(_graph([nir.Conv1d(input_shape=None, weight=np.ones((2, 2, 3)), stride=1, padding=0,
                                    dilation=1, groups=1, bias=np.zeros(2))], 7))
    # too large: 64 x 16 channels over 256 positions -> a 16384 x 4096 float32 matrix
    big = nir.Conv1d(input_shape=256, weight=np.ones((64, 16, 3)), stride=1, padding=1, dilation=1, groups=1,
                     bias=np.zeros(64))
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv1d\): the convolution C_in 16 x L 256 -> C_out 64 x "
                                           r"L_out 256 .* dense 16384 x 4096 matrix of 268435456 bytes "
                                           r"\(4 B per weight\), above the limit of 262144 bytes"):
        load_nir(_graph([big], 16 * 256))
    # the limit is a parameter
    small = conv(input_shape=8)
    with pytest.raises(ConvertError, match="above the limit of 100 bytes"):
        load_nir(_graph([small], 8), max_conv_bytes=100)
    assert load_nir(_graph([small], 8), max_conv_bytes=12 * 8 * 4).layers[0].weight.shape == (12, 8)
