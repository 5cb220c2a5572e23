"""PyTorch / snnTorch importer: a real snnTorch network saved as a whole module (--trust) and as a
state dict (--arch), converted, run on the host through the C kernels over 150 steps and compared
with snnTorch itself; and with the NIR importer's graph of the same network."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")

from edgehost.blob import read  # noqa: E402
from edgehost.convert import ConvertError, build, load  # noqa: E402
from edgehost.convert.torch_import import load_torch  # noqa: E402
from edgehost.runtime import HostModel  # noqa: E402

T_STEPS = 150
ARCH = "linear,{k},linear,leaky"


def spike_grad(x):
    """snnTorch's default surrogate (ATan, alpha 2) as a module-level function: the default is a
    closure, which pickle (torch.save of a whole module) cannot store."""
    return snn.surrogate.ATan.apply(x, 2.0)


class Net(torch.nn.Module):
    """Module-level (picklable) snnTorch network: Linear -> Leaky/Synaptic -> Linear -> Leaky."""

    def __init__(self, kind="leaky", n_in=12, n_h=24, n_out=6, reset="subtract"):
        super().__init__()
        self.flat = torch.nn.Flatten(0)
        self.fc1 = torch.nn.Linear(n_in, n_h)
        if kind == "synaptic":
            self.lif1 = snn.Synaptic(alpha=torch.full((n_h,), 0.8), beta=torch.full((n_h,), 0.9),
                                     threshold=torch.ones(n_h), init_hidden=True, reset_mechanism=reset, spike_grad=spike_grad)
        else:
            self.lif1 = snn.Leaky(beta=torch.linspace(0.8, 0.95, n_h), threshold=torch.ones(n_h),
                                  init_hidden=True, reset_mechanism=reset, spike_grad=spike_grad)
        self.fc2 = torch.nn.Linear(n_h, n_out)
        self.lif2 = snn.Leaky(beta=torch.full((n_out,), 0.85), threshold=torch.full((n_out,), 0.75),
                              init_hidden=True, output=True, reset_mechanism=reset,
                              spike_grad=spike_grad)

    def forward(self, x):
        self.s1 = self.lif1(self.fc1(self.flat(x)))
        return self.lif2(self.fc2(self.s1))


def make_net(kind="leaky", seed=0, reset="subtract", dyadic=True):
    torch.manual_seed(seed)
    net = Net(kind, reset=reset)
    with torch.no_grad():
        net.fc1.weight.mul_(3)
        if dyadic:
            # weights on a 1/256 grid: every dot product is exact in float32 whatever the order of
            # summation, so torch's matmul and the kernel's ordered sum agree bit for bit
            for fc in (net.fc1, net.fc2):
                fc.weight.copy_(torch.round(fc.weight * 256) / 256)
                fc.bias.copy_(torch.round(fc.bias * 256) / 256)
    return net


def reference(net, xs):
    import snntorch.utils
    snntorch.utils.reset(net)
    s1, s2, m2 = [], [], []
    with torch.no_grad():
        for x in xs:
            s, m = net(torch.from_numpy(x))
            s1.append(net.s1.numpy().copy())
            s2.append(s.numpy().copy())
            m2.append(m.numpy().copy())
    return np.array(s1), np.array(s2), np.array(m2)


def inputs(seed=1, n=T_STEPS, n_in=12):
    return (np.random.default_rng(seed).random((n, n_in)) < 0.3).astype(np.float32)


def save_both(net, tmp_path):
    full = tmp_path / "net_module.pt"
    sd = tmp_path / "net_state.pth"
    torch.save(net, full)
    torch.save(net.state_dict(), sd)
    return str(full), str(sd)


def _hidden(model, trace, kind):
    i = [k for k, l in enumerate(model.layers) if "lif" in l.type][0]
    return np.array([tr[i] for tr in trace])


@pytest.mark.parametrize("kind", ["leaky", "synaptic"])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_float_path_equal_spike_trains(kind, reset, tmp_path):
    net = make_net(kind, reset=reset)
    full, sd = save_both(net, tmp_path)
    xs = inputs()
    ref1, ref2, _ = reference(net, xs)
    assert 0.05 < ref1.mean() < 0.95 and 0.05 < ref2.mean() < 0.95      # the test exercises spiking
    blobs = []
    for graph in (load(full, trust=True), load(sd, arch=ARCH.format(k=kind))):
        assert any(f"reset: {reset}" in n for n in graph.notes)
        model, _ = build(graph)
        assert [l.reset for l in model.layers if "lif" in l.type] == [reset, reset]
        blob = model.to_bytes()
        blobs.append(blob)
        ys, trace = HostModel(blob, backend="kernels").run(xs)
        np.testing.assert_array_equal(_hidden(model, trace, kind), ref1)
        np.testing.assert_array_equal(ys, ref2)
    assert blobs[0] == blobs[1]      # module and state dict give the same blob


def test_same_graph_as_nir_importer(tmp_path):
    pytest.importorskip("nirtorch")
    nir = pytest.importorskip("nir")
    from snntorch.export_nir import export_to_nir
    net = make_net("synaptic")
    _, sd = save_both(net, tmp_path)
    g = export_to_nir(net, torch.zeros(12))
    nir.write(str(tmp_path / "n.nir"), g)
    a = read(build(load(sd, arch="linear,synaptic,linear,leaky"))[0].to_bytes())
    b = read(build(load(str(tmp_path / "n.nir")))[0].to_bytes())
    assert [l.type for l in a.layers] == [l.type for l in b.layers]
    for la, lb in zip(a.layers, b.layers):
        for pa, pb in zip(la.params, lb.params):
            if pa is not None or pb is not None:
                np.testing.assert_allclose(pa, pb, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["leaky", "synaptic"])
def test_q15_path_small_error(kind, tmp_path):
    """Q15: spike agreement with snnTorch >= 95 % on both layers, output membrane RMS error
    < 5 % of its range; the numpy and C backends agree bit for bit."""
    net = make_net(kind)
    _, sd = save_both(net, tmp_path)
    xs = inputs()
    ref1, ref2, mem2 = reference(net, xs)
    model, report = build(load(sd, arch=ARCH.format(k=kind)), quantize="q15", calib=inputs(seed=7))
    blob = model.to_bytes()
    hk, hs = HostModel(blob, "kernels"), HostModel(blob, "sim")
    out = model.layers[-1]
    scale = model.tensors[out.states[0]].scale
    lif1 = [i for i, l in enumerate(model.layers) if "lif_q15" in l.type][0]
    ys, hid, mems = [], [], []
    for x in xs:
        tk, ts = [], []
        y = hk.step(x, tk)
        np.testing.assert_array_equal(y, hs.step(x, ts))
        ys.append(y)
        hid.append(tk[lif1])
        mems.append(hk.tensor(out.states[0]) * scale)
    ys, hid, mems = np.array(ys), np.array(hid), np.array(mems)
    assert (hid == ref1).mean() >= 0.95
    assert (ys == ref2).mean() >= 0.95
    assert np.sqrt(np.mean((mems - mem2) ** 2)) / (mem2.max() - mem2.min()) < 0.05


def test_module_needs_trust(tmp_path):
    full, _ = save_both(make_net(), tmp_path)
    with pytest.raises(ConvertError, match=r"runs code from the file.*--trust.*state_dict\(\).*--arch"):
        load(full)


def test_state_dict_needs_arch_and_error_suggests_it(tmp_path):
    _, sd = save_both(make_net("synaptic"), tmp_path)
    with pytest.raises(ConvertError, match=r"--arch linear,synaptic,linear,leaky .*Found modules: fc1: weight \[24, 12\]"):
        load(sd)
    with pytest.raises(ConvertError, match=r"--arch layer 1 \(leaky\) = state dict 'lif1'.*suggests --arch "
                                           r"linear,synaptic,linear,leaky"):
        load(sd, arch="linear,leaky,linear,leaky")
    with pytest.raises(ConvertError, match="kind 'conv' unknown"):
        load(sd, arch="linear,conv")
    with pytest.raises(ConvertError, match="left over: fc2, lif2"):
        load(sd, arch="linear,synaptic")
    with pytest.raises(ConvertError, match="has no module left"):
        load(sd, arch="linear,synaptic,linear,leaky,linear")


def test_reset_flag_must_agree(tmp_path):
    _, sd = save_both(make_net(reset="zero"), tmp_path)
    with pytest.raises(ConvertError, match="--reset subtract contradicts the model's reset mechanism 'zero'"):
        load(sd, arch=ARCH.format(k="leaky"), reset="subtract")
    assert load(sd, arch=ARCH.format(k="leaky"), reset="zero").layers[1].reset == "zero"


def test_unsupported_module_named(tmp_path):
    seq = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Conv1d(1, 1, 3))
    p = tmp_path / "seq.pt"
    torch.save(seq, p)
    with pytest.raises(ConvertError, match=r"module model\.1 \(Conv1d\) \[torch\.nn\.modules\.conv\.Conv1d\] "
                                           r"is not supported; supported: torch\.nn\.Linear, snntorch\.Leaky"):
        load(str(p), trust=True)


def test_sequential_relu_and_sizes(tmp_path):
    torch.manual_seed(2)
    seq = torch.nn.Sequential(torch.nn.Flatten(0), torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                              torch.nn.Linear(7, 3))
    p = tmp_path / "mlp.pt"
    torch.save(seq, p)
    model, _ = build(load(str(p), trust=True))
    assert [l.type for l in model.layers] == ["fc_f32", "relu_f32", "fc_f32"]
    seq.eval()
    xs = np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32)
    ys, _ = HostModel(model.to_bytes(), "kernels").run(xs)
    with torch.no_grad():
        want = np.array([seq(torch.from_numpy(x)).numpy() for x in xs])
    np.testing.assert_allclose(ys, want, rtol=1e-5, atol=1e-6)
    # a mismatched chain is refused with the sizes
    bad = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Linear(6, 3))
    torch.save(bad, p)
    with pytest.raises(ConvertError, match=r"weight \[3, 6\] takes 6 inputs, the previous layer gives 7"):
        load(str(p), trust=True)


def test_not_a_model(tmp_path):
    p = tmp_path / "x.pt"
    torch.save([1, 2, 3], p)
    with pytest.raises(ConvertError, match="neither an nn.Module nor a state dict"):
        load_torch(str(p))
    p.write_bytes(b"garbage")
    with pytest.raises(ConvertError, match="--trust"):
        load_torch(str(p))
    with pytest.raises(ConvertError, match="cannot read"):
        load_torch(str(p), trust=True)


def test_cli(tmp_path, capsys):
    from edgehost.cli import main
    net = make_net("leaky", reset="zero")
    _, sd = save_both(net, tmp_path)
    out = tmp_path / "o.ehm"
    assert main(["convert", sd, "-o", str(out)]) == 2
    assert "--arch linear,leaky,linear,leaky" in capsys.readouterr().err
    assert main(["convert", sd, "-o", str(out), "--arch", "linear,leaky,linear,leaky"]) == 0
    assert "reset: zero (from the model)" in capsys.readouterr().out
    assert [l.reset for l in read(out.read_bytes()).layers if "lif" in l.type] == ["zero", "zero"]
    assert main(["convert", sd, "-o", str(out), "--arch", "linear,leaky,linear,leaky", "--reset", "subtract"]) == 2
    assert "contradicts" in capsys.readouterr().err
    bad = tmp_path / "g.pt"
    bad.write_bytes(b"x")
    assert main(["convert", str(bad), "-o", str(out)]) == 2
    assert "--trust" in capsys.readouterr().err
