"""NIR graphs that are not chains: recurrent networks exported by snnTorch (RLeaky, RSynaptic) run
spike for spike against snnTorch's own simulation; hand-built graphs (a braille-reading-shaped
SRNN, a residual network, NIR's same-step resets, v_leak, nested subgraphs) against step loops
written here from NIR's equations; errors for bad graphs."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.convert import ConvertError, build
from edgehost.convert import examples_nir as E
from edgehost.convert.nir_import import load_nir
from edgehost.runtime import HostModel

import _snn_helpers as snn_helpers

nir = pytest.importorskip("nir")

T = 200


def _snn():
    return snn_helpers.snn()


def _recurrent_net(kind, n_in, n_h, n_out, reset, seed, gain=2.5):
    torch, snn, _, _ = _snn()
    torch.manual_seed(seed)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(n_in, n_h)
            beta = torch.linspace(0.75, 0.95, n_h)
            if kind == "rleaky":
                self.rec = snn.RLeaky(beta=beta, linear_features=n_h, threshold=torch.ones(n_h),
                                      init_hidden=True, all_to_all=True, reset_mechanism=reset)
            else:
                self.rec = snn.RSynaptic(alpha=torch.full((n_h,), 0.75), beta=beta, linear_features=n_h,
                                         threshold=torch.ones(n_h), init_hidden=True, all_to_all=True,
                                         reset_mechanism=reset)
            self.fc2 = torch.nn.Linear(n_h, n_out)
            self.out = snn.Leaky(beta=torch.full((n_out,), 0.875), threshold=torch.full((n_out,), 0.75),
                                 init_hidden=True, output=True, reset_mechanism=reset)

        def forward(self, x):
            self.s1 = self.rec(self.fc1(x))
            return self.out(self.fc2(self.s1))

    net = Net()
    with torch.no_grad():
        net.fc1.weight.mul_(gain)
        net.rec.recurrent.weight.mul_(1.5)
        net.fc2.weight.mul_(2.0)
        net.fc2.bias.add_(0.2)
    snn_helpers.dyadic(torch, net.fc1, net.rec.recurrent, net.fc2)
    return net


def _run_snntorch(net, xs):
    torch, _, _, utils = _snn()
    utils.reset(net)
    h, o = [], []
    with torch.no_grad():
        for x in xs:
            s, _ = net(torch.from_numpy(x))
            h.append(net.s1.numpy().copy())
            o.append(s.numpy().copy())
    return np.array(h), np.array(o)


def _spikes_in(n, steps=T, seed=1, p=0.3):
    return E.spike_inputs(n, steps, seed, p)


def _layer_out(model, trace, name_kind):
    idx = [i for i, l in enumerate(model.layers) if l.type == name_kind][0]
    return np.array([tr[idx] for tr in trace])


@pytest.mark.parametrize("kind,reset,sizes", [
    ("rleaky", "subtract", (12, 24, 5)), ("rleaky", "zero", (12, 24, 5)), ("rleaky", "subtract", (7, 40, 3)),
    ("rsynaptic", "subtract", (12, 24, 5)), ("rsynaptic", "zero", (12, 24, 5)), ("rsynaptic", "subtract", (20, 33, 7)),
])
def test_snntorch_recurrent_float_path_equal_spikes(kind, reset, sizes, tmp_path):
    """snnTorch RLeaky / RSynaptic (all-to-all recurrence) exported to NIR and converted: every
    spike of the recurrent layer and of the output over 200 steps equals snnTorch's."""
    torch, _, export_to_nir, _ = _snn()
    n_in, n_h, n_out = sizes
    net = _recurrent_net(kind, n_in, n_h, n_out, reset, seed=sum(sizes))
    g = export_to_nir(net, torch.zeros(n_in))
    path = tmp_path / "rec.nir"
    nir.write(str(path), g)
    graph = load_nir(str(path), reset=reset)
    assert not graph.is_chain
    assert any("delayed (recurrent) edges" in n and "rec.lif -> rec.w_rec" in n for n in graph.notes)
    model, report = build(graph)
    assert "delay" in [l.type for l in model.layers]
    assert [e for e in report["graph"]["edges"] if e["delayed"]] == [
        {"from": "rec.lif", "to": "rec.w_rec", "delayed": True}]
    xs = _spikes_in(n_in, seed=n_h)
    ref_h, ref_o = _run_snntorch(net, xs)
    assert 0.05 < ref_h.mean() < 0.9 and 0.02 < ref_o.mean() < 0.95, (ref_h.mean(), ref_o.mean())
    for backend in ("sim", "kernels"):
        ys, trace = HostModel(model.to_bytes(), backend=backend).run(xs)
        hidden = _layer_out(model, trace, "cubalif_f32" if (kind == "rsynaptic" or reset == "zero") else "lif_f32")
        np.testing.assert_array_equal(hidden, ref_h)
        np.testing.assert_array_equal(ys, ref_o)


@pytest.mark.parametrize("kind", ["rleaky", "rsynaptic"])
def test_snntorch_recurrent_q15_sim_equals_kernels(kind, tmp_path):
    """Q15 of the same networks: the numpy and C-kernel backends agree bit for bit, and the spikes
    stay close to snnTorch's (a recurrent layer amplifies every quantisation flip; measured: RLeaky
    100 %, RSynaptic 93 % of the output spikes, its synaptic current saturating at the default
    headroom)."""
    torch, _, export_to_nir, _ = _snn()
    net = _recurrent_net(kind, 12, 24, 5, "subtract", seed=3)
    graph = load_nir(export_to_nir(net, torch.zeros(12)))
    xs = _spikes_in(12, seed=5)
    model, report = build(graph, quantize="q15")
    y1, _ = snn_helpers.backends_agree(model.to_bytes(), xs)
    _, ref_o = _run_snntorch(net, xs)
    assert (y1 == ref_o).mean() >= (0.99 if kind == "rleaky" else 0.9)
    assert [r["kind"] for r in report["layers"]] == ["fc", "fc", "lif" if kind == "rleaky" else "cubalif", "fc", "lif"]


# ---- hand-built NIR graphs against step loops written from NIR's equations ------------------

def _braille(seed=0, nested=False):
    return E.braille_srnn(seed=seed, nested=nested)


def _braille_reference(ws, xs, reset):
    """NIR CuBa-LIF, forward Euler at dt with the synaptic current updated first and used at
    once, same-step reset: i = a i + (dt/ts) w_in I; v = b v + (dt/tm) r i; s = v > thr;
    where s: v -= thr (subtract) or v = v_reset (zero). The recurrent input is the previous step's
    spikes through w_rec. float32 throughout."""
    w1, wr, w2 = (w.astype(np.float32) for w in ws)
    f = np.float32
    a, b = f(1 - 1e-4 / 4e-4), f(1 - 1e-4 / 8e-4)
    n_h, n_out = w1.shape[0], w2.shape[0]
    i1 = np.zeros(n_h, f); v1 = np.zeros(n_h, f); s1 = np.zeros(n_h, f)
    i2 = np.zeros(n_out, f); v2 = np.zeros(n_out, f)
    hs, os_ = [], []
    for x in xs:
        inp = (w1 @ x).astype(f) + (wr @ s1).astype(f)
        i1 = a * i1 + inp
        v1 = b * v1 + i1
        s1 = (v1 > 1).astype(f)
        v1 = np.where(s1 > 0, v1 - f(1) if reset == "subtract" else f(0), v1).astype(f)
        i2 = a * i2 + (w2 @ s1).astype(f)
        v2 = b * v2 + i2
        s2 = (v2 > 1).astype(f)
        v2 = np.where(s2 > 0, v2 - f(1) if reset == "subtract" else f(0), v2).astype(f)
        hs.append(s1)
        os_.append(s2)
    return np.array(hs), np.array(os_)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("nested", [False, True])
def test_braille_srnn_same_step_reset_float_equals_reference(reset, nested):
    g, ws = _braille(seed=1, nested=nested)
    graph = load_nir(g, dt=1e-4, reset=reset, timing="same")
    model, _ = build(graph)
    assert {l.reset_timing for l in model.layers if l.type == "cubalif_f32"} == {"same"}
    xs = _spikes_in(12, seed=2, p=0.25)
    ref_h, ref_o = _braille_reference(ws, xs, reset)
    assert 0.05 < ref_h.mean() < 0.9 and 0.02 < ref_o.mean() < 0.9, (ref_h.mean(), ref_o.mean())
    for backend in ("sim", "kernels"):
        ys, trace = HostModel(model.to_bytes(), backend=backend).run(xs)
        hidden = np.array([tr[[i for i, l in enumerate(model.layers) if l.type == "cubalif_f32"][0]]
                           for tr in trace])
        np.testing.assert_array_equal(hidden, ref_h)
        np.testing.assert_array_equal(ys, ref_o)


def test_braille_srnn_q15_sim_equals_kernels():
    g, _ = _braille(seed=4)
    graph = load_nir(g, dt=1e-4, reset="zero", timing="same")
    xs = _spikes_in(12, seed=3, p=0.25)
    model, _ = build(graph, quantize="q15", calib=xs)
    blob = model.to_bytes()
    y1, _ = HostModel(blob, backend="sim").run(xs)
    y2, _ = HostModel(blob, backend="kernels").run(xs)
    np.testing.assert_array_equal(y1, y2)
    assert 0.01 < y1.mean() < 0.9


def _residual(seed=0):
    return E.residual_snn(seed=seed)


def _residual_reference(W, B, xs, timing):
    f = np.float32
    W = {k: v.astype(f) for k, v in W.items()}
    B = {k: v.astype(f) for k, v in B.items()}
    beta = f(1 - 1e-4 / 8e-4)
    v = {k: np.zeros(W[w].shape[0], f) for k, w in (("l1", "fc1"), ("l2", "fc2"), ("l3", "fc3"))}
    s = {k: np.zeros_like(v[k]) for k in v}
    out = []

    def lif(k, x):
        if timing == "next":     # snnTorch: subtract the previous step's spike
            v[k] = beta * v[k] + x - s[k]
            s[k] = (v[k] > 1).astype(f)
        else:                    # NIR: reset in the same step
            v[k] = beta * v[k] + x
            s[k] = (v[k] > 1).astype(f)
            v[k] = np.where(s[k] > 0, v[k] - f(1), v[k]).astype(f)
        return s[k]

    for x in xs:
        s1 = lif("l1", (W["fc1"] @ x + B["fc1"]).astype(f))
        s2 = lif("l2", (W["fc2"] @ s1 + B["fc2"]).astype(f))
        fc3 = (W["fc3"] @ s2 + B["fc3"]).astype(f) + (W["fc3"] @ s1).astype(f)
        out.append(lif("l3", fc3 + (W["skip"] @ x + B["skip"]).astype(f)).copy())
    return np.array(out)


@pytest.mark.parametrize("timing", ["next", "same"])
def test_residual_network_float_equals_reference(timing):
    g, W, B = _residual(seed=2)
    graph = load_nir(g, dt=1e-4, timing=timing)
    model, report = build(graph)
    types = [l.type for l in model.layers]
    assert "add_f32" in types and "delay" not in types
    assert not any(e["delayed"] for e in report["graph"]["edges"])
    xs = _spikes_in(10, seed=7, p=0.4)
    ref = _residual_reference(W, B, xs, timing)
    assert 0.05 < ref.mean() < 0.95
    for backend in ("sim", "kernels"):
        ys, _ = HostModel(model.to_bytes(), backend=backend).run(xs)
        np.testing.assert_array_equal(ys, ref)


def test_residual_network_q15_runs_bit_exact_between_backends():
    g, _, _ = _residual(seed=5)
    xs = _spikes_in(10, seed=8, p=0.4)
    model, report = build(load_nir(g), quantize="q15", calib=xs)
    blob = model.to_bytes()
    y1, _ = HostModel(blob, backend="sim").run(xs)
    y2, _ = HostModel(blob, backend="kernels").run(xs)
    np.testing.assert_array_equal(y1, y2)
    adds = [l for l in model.layers if l.type == "add_q15"]
    assert adds and all(model.tensors[l.input].scale == model.tensors[l.input2].scale for l in adds)


def _lif(n, v_leak=0.0, v_reset=0.0):
    return E.lif(n, v_leak=v_leak, v_reset=v_reset)


def _net(nodes, edges, n_in, n_out):
    nd = {"input": nir.Input(input_type={"input": np.array([n_in])}), **nodes,
          "output": nir.Output(output_type={"output": np.array([n_out])})}
    return nir.NIRGraph(nodes=nd, edges=edges, type_check=False)


def test_v_leak_and_v_reset_follow_nir_equations():
    """LIF with v_leak = 0.3 and v_reset = -0.25 (reset to that value in the step that spiked):
    v = v + dt/tau (v_leak - v + r I); s = v > thr; where s: v = v_reset."""
    rng = np.random.default_rng(0)
    w = np.round(rng.normal(0, 0.6, (8, 5)) * 256) / 256
    g = _net({"fc": nir.Linear(w), "lif": _lif(8, v_leak=0.5, v_reset=-0.25)},
             [("input", "fc"), ("fc", "lif"), ("lif", "output")], 5, 8)
    with pytest.raises(ConvertError, match=r"v_reset = \[-0.25.*--reset zero --reset-timing same"):
        load_nir(g)
    graph = load_nir(g, reset="zero", timing="same")
    assert any("v_leak folded" in n for n in graph.notes)
    model, _ = build(graph)
    xs = _spikes_in(5, seed=9, p=0.4)
    f = np.float32
    beta, v, ref = f(0.875), np.zeros(8, f), []
    wf, c = w.astype(f), f(0.5 * 1e-4 / 8e-4)
    for x in xs:
        v = beta * v + ((wf @ x).astype(f) + c)
        s = (v > 1).astype(f)
        v = np.where(s > 0, f(-0.25), v).astype(f)
        ref.append(s)
    ys, _ = HostModel(model.to_bytes(), backend="kernels").run(xs)
    np.testing.assert_array_equal(ys, np.array(ref))
    assert 0.05 < np.mean(ref) < 0.95


def test_recurrence_without_affine_and_fan_in_of_spikes():
    """A neuron fed directly by spikes (no Affine on the edge) and a LIF -> LIF recurrence through
    a Scale: both convert (identity/diagonal dense layers are inserted) and run."""
    g = _net({"fc": nir.Linear(np.ones((4, 3))), "a": _lif(4), "b": _lif(4), "sc": nir.Scale(np.full(4, 0.5))},
             [("input", "fc"), ("fc", "a"), ("a", "b"), ("b", "sc"), ("sc", "a"), ("b", "output")], 3, 4)
    graph = load_nir(g)
    model, _ = build(graph)
    ys, _ = HostModel(model.to_bytes(), backend="kernels").run(_spikes_in(3, steps=50, p=0.5))
    assert ys.shape == (50, 4)
    qm, _ = build(graph, quantize="q15")
    y1, _ = HostModel(qm.to_bytes(), backend="sim").run(_spikes_in(3, steps=50, p=0.5))
    y2, _ = HostModel(qm.to_bytes(), backend="kernels").run(_spikes_in(3, steps=50, p=0.5))
    np.testing.assert_array_equal(y1, y2)


def test_user_named_delay():
    g, _, _ = _residual(seed=2)
    graph = load_nir(g, delays=[("lif1", "fc3")])
    assert any("lif1 -> fc3" in n for n in graph.notes if "delayed" in n)
    model, report = build(graph)
    assert [(e["from"], e["to"]) for e in report["graph"]["edges"] if e["delayed"]] == [("lif1", "fc3")]
    assert "delay" in [l.type for l in model.layers]
    with pytest.raises(ConvertError, match="no edge 'lif1' -> 'lif3'"):
        load_nir(g, delays=[("lif1", "lif3")])


# ---- bad graphs: a clear error naming the node or edge -------------------------------------

def test_bad_graphs_are_named():
    w = np.ones((3, 3))
    with pytest.raises(ConvertError, match=r"algebraic loop: 'a' -> 'b' -> 'a'"):
        load_nir(_net({"a": nir.Linear(w), "b": nir.Linear(w)},
                      [("input", "a"), ("a", "b"), ("b", "a"), ("b", "output")], 3, 3))
    with pytest.raises(ConvertError, match=r"shape mismatch on edge 'a' -> 'b'|weight shape"):
        load_nir(_net({"a": nir.Linear(np.ones((4, 3))), "b": nir.Linear(np.ones((2, 3)))},
                      [("input", "a"), ("a", "b"), ("b", "output")], 3, 2))
    with pytest.raises(ConvertError, match=r"edges into it carry 3 .* and 4"):
        load_nir(_net({"a": nir.Linear(np.ones((4, 3))), "l": _lif(3)},
                      [("input", "a"), ("input", "l"), ("a", "l"), ("l", "output")], 3, 3))
    two_in = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([3])}),
                                 "y": nir.Input(input_type={"input": np.array([3])}),
                                 "a": nir.Linear(w), "output": nir.Output(output_type={"output": np.array([3])})},
                          edges=[("x", "a"), ("y", "a"), ("a", "output")], type_check=False)
    with pytest.raises(ConvertError, match=r"2 Input nodes \('x', 'y'\); a model takes one input vector"):
        load_nir(two_in)
    with pytest.raises(ConvertError, match=r"node 'c' of type Delay is not supported"):
        load_nir(_net({"c": nir.Delay(delay=np.ones(16))}, [("input", "c"), ("c", "output")], 16, 16))
    with pytest.raises(ConvertError, match=r"edge 'a' -> 'zz': no node 'zz'"):
        load_nir(_net({"a": nir.Linear(w)}, [("input", "a"), ("a", "zz"), ("a", "output")], 3, 3))
    with pytest.raises(ConvertError, match="not reachable from the Input"):
        load_nir(_net({"a": nir.Linear(w), "b": _lif(3), "c": nir.Linear(w)},
                      [("input", "a"), ("a", "output"), ("b", "c"), ("c", "b")], 3, 3))


def test_cli_convert_and_inspect_show_the_graph(tmp_path, capsys):
    """`edgehost convert` names the delayed edges; `edgehost inspect` shows the graph's edges, the
    delayed one (and through which delay layer) in text and --json."""
    import json
    from edgehost.cli import main
    g, _ = E.braille_srnn(seed=4)
    src, out = tmp_path / "b.nir", tmp_path / "b.ehm"
    nir.write(str(src), g)
    assert main(["convert", str(src), "-o", str(out), "--quantize", "q15", "--reset", "zero",
                 "--reset-timing", "same"]) == 0
    text = capsys.readouterr().out
    assert "delayed (recurrent) edges, carrying the previous step's value: lif1 -> w_rec" in text
    assert "reset timing: same" in text
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    # format 1.6: the recurrent 40 -> 40 spike layer is input-major (edgehost.convert.layout)
    assert "ehm 1.6" in text and "1 delayed, 1 sums (fan-in)" in text
    assert "(cubalif_q15) -> 2 (fc_spike_t_q15)  delayed (previous step, via delay layer" in text
    assert main(["inspect", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    (e,) = [e for e in d["graph"]["edges"] if e["delayed"]]
    assert d["layers"][e["from"]]["type"] == "cubalif_q15" and d["layers"][e["via"]]["type"] == "delay"
    assert main(["convert", str(src), "-o", str(out), "--delay", "lif1:fc2"]) == 0
    assert "lif1 -> fc2" in capsys.readouterr().out
    assert main(["convert", str(src), "-o", str(out), "--delay", "nope"]) != 0
    assert "--delay 'nope': expected SRC:DST" in capsys.readouterr().err
