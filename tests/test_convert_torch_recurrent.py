"""snnTorch recurrent layers (RLeaky, RSynaptic) through the routes that need neither NIR nor
pickling: the live module (`edgehost.convert.from_torch`) and a state dict (`--arch ...,rleaky,...`):
every spike equal to snnTorch's over 200 steps, the same blob from every route (NIR export included),
and clear errors."""
from __future__ import annotations

import numpy as np
import pytest

import _snn_helpers as snn_helpers
from edgehost.convert import ConvertError, build, from_torch, load
from edgehost.convert.nir_import import load_nir
from edgehost.runtime import HostModel

from test_convert_nir_graph import _recurrent_net, _run_snntorch, _spikes_in


@pytest.mark.parametrize("kind", ["rleaky", "rsynaptic"])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_recurrent_from_torch_and_state_dict_equal_snntorch(kind, reset, tmp_path):
    torch, _, export_to_nir, _ = snn_helpers.snn()
    net = _recurrent_net(kind, 12, 24, 5, reset, seed=3)
    xs = _spikes_in(12, seed=5)
    _, ref = _run_snntorch(net, xs)
    assert 0.02 < ref.mean() < 0.95
    g = from_torch(net, torch.zeros(12))
    assert not g.is_chain and [l.kind for l in g.layers] == \
        ["fc", "fc", "cubalif" if (kind == "rsynaptic" or reset == "zero") else "lif", "fc", "lif"]
    blob = build(g)[0].to_bytes()
    ys, _ = HostModel(blob, backend="kernels").run(xs)
    np.testing.assert_array_equal(ys, ref)
    path = tmp_path / "sd.pt"
    torch.save(net.state_dict(), path)
    with pytest.raises(ConvertError, match=rf"--arch linear,{kind},linear,leaky"):
        load(str(path))
    assert build(load(str(path), arch=f"linear,{kind},linear,leaky"))[0].to_bytes() == blob
    assert build(load_nir(export_to_nir(net, torch.zeros(12)), reset=reset))[0].to_bytes() == blob


def test_one_to_one_recurrence_and_scalar_beta():
    """RLeaky with a one-to-one V (all_to_all=False) and a scalar beta and threshold: snnTorch's own
    NIR export fails on the scalar beta; from_torch takes it."""
    torch, snn, export_to_nir, _ = snn_helpers.snn()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16),
                              snn.RLeaky(beta=0.875, threshold=1.0, V=torch.linspace(-0.5, 0.5, 16),
                                         all_to_all=False, init_hidden=True),
                              torch.nn.Linear(16, 4), snn.Leaky(beta=0.75, init_hidden=True, output=True))
    with torch.no_grad():
        net[0].weight.mul_(3)
    snn_helpers.dyadic(torch, net)
    with pytest.raises(Exception):
        export_to_nir(net, torch.zeros(8))
    xs = _spikes_in(8, seed=2, p=0.4)
    import snntorch.utils as su
    su.reset(net)
    ref = []
    with torch.no_grad():
        for x in xs:
            ref.append(net(torch.from_numpy(x))[0].numpy().copy())
    ref = np.array(ref)
    assert 0.02 < ref.mean() < 0.95
    ys, _ = HostModel(build(from_torch(net, torch.zeros(8)))[0].to_bytes(), backend="kernels").run(xs)
    np.testing.assert_array_equal(ys, ref)


def test_errors_name_the_problem(tmp_path):
    torch, snn, _, _ = snn_helpers.snn()
    net = _recurrent_net("rleaky", 6, 8, 3, "subtract", seed=1)
    sd = {k: v for k, v in net.state_dict().items() if "recurrent" not in k}
    path = tmp_path / "norec.pt"
    torch.save(sd, path)
    with pytest.raises(ConvertError, match=r"no recurrent weights \(rec.recurrent.weight or rec.recurrent.V\)"):
        load(str(path), arch="linear,rleaky,linear,leaky")

    class Swapped(torch.nn.Module):          # forward does not follow the registration order
        def __init__(self):
            super().__init__()
            self.b = torch.nn.Linear(5, 3)
            self.a = torch.nn.Linear(4, 5)

        def forward(self, x):
            return self.b(self.a(x))

    with pytest.raises(ConvertError, match="weight \\[5, 4\\] takes 4 inputs, the previous layer gives 3"):
        from_torch(Swapped(), torch.zeros(4))
    with pytest.raises(ConvertError, match="from_torch takes an nn.Module"):
        from_torch(np.zeros(3))
    rs = snn.RSynaptic(alpha=0.5, beta=0.9, linear_features=2, reset_delay=False, init_hidden=True)
    with pytest.raises(ConvertError, match="reset_delay=False is not supported on RSynaptic"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2), rs))


def test_readme_from_torch_snippet_runs(tmp_path, monkeypatch):
    """The README's "Using it" Python snippet runs as written on a recurrent snnTorch network."""
    import pathlib
    import re
    torch, _, _, _ = snn_helpers.snn()
    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    using = text[text.index("## Using it"):]
    code = re.search(r"```python\n(.*?)```", using, re.S).group(1)
    assert "C.from_torch(net" in code
    monkeypatch.chdir(tmp_path)
    ns = {"net": _recurrent_net("rleaky", 6, 10, 3, "subtract", seed=2), "n_in": 6}
    exec(compile(code, "README.md", "exec"), ns)
    from edgehost.blob import read
    m = read((tmp_path / "net.ehm").read_bytes())
    assert "delay" in [l.type for l in m.layers]
