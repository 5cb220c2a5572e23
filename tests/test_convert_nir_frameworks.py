"""NIR graphs exported by Norse, Rockpool and Sinabs with their own exporters, converted by edgehost
and run spike for spike against that framework's own simulation (issue #13, part 4).

Each framework has its own reading of time and of the neuron equations; the options (or, where
edgehost has none, the documented rewrite of the graph) that make edgehost agree are stated per
test. Where a framework's exporter loses information, a test pins the loss down precisely (it
fails the day the framework fixes it). Weights are on a 1/256 grid and decays are dyadic, so the
order of float rounding does not decide spikes; thresholds that sit off the values' grid are
marked as such (Rockpool and Sinabs spike on v >= thr, edgehost on v > thr).

Measured here (T = 240 steps of Bernoulli spike input): every compared spike equal, on both
host backends (numpy "sim" and the C "kernels").
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from edgehost.convert import ConvertError, build
from edgehost.convert.nir_import import load_nir
from edgehost.runtime import HostModel

nir = pytest.importorskip("nir")

T = 240
BACKENDS = ("sim", "kernels")
OFF_GRID = 2.0 ** -20     # added to thresholds: v (a sum of 1/256-grid values) never equals thr


def _spikes_in(n, steps=T, seed=1, p=0.3):
    rng = np.random.default_rng(seed)
    return (rng.random((steps, n)) < p).astype(np.float32)


def _grid(torch, *tensors):
    with torch.no_grad():
        for t in tensors:
            t.copy_(torch.round(t * 256) / 256)


def _linear(torch, n_in, n_out, gain, bias, bias_on=True):
    lin = torch.nn.Linear(n_in, n_out, bias=bias_on)
    with torch.no_grad():
        lin.weight.mul_(gain)
        if bias_on:
            lin.bias.add_(bias)
    _grid(torch, *lin.parameters())
    return lin


def _edgehost(source, xs, **opts):
    """Convert (float) and run on both host backends. Returns ({node name: (steps, n) output}
    per backend, the edgehost Graph, the model)."""
    graph = load_nir(source, **opts)
    model, report = build(graph)
    runs = []
    for backend in BACKENDS:
        ys, trace = HostModel(model.to_bytes(), backend=backend).run(xs)
        out = {"output": ys}
        for r in report["layers"]:
            name = graph.names[r["graph_layer"]] if graph.names else str(r["graph_layer"])
            out[name] = np.array([tr[r["blob_layer"]] for tr in trace])
        runs.append(out)
    return runs, graph, model


def _assert_rates(*arrays, lo=0.03, hi=0.9):
    for a in arrays:
        assert lo < float(np.mean(a > 0)) < hi, float(np.mean(a > 0))


# =================================================================================================
# Norse 1.1
#
# Norse steps with forward Euler at its dt (default 1e-3 s): LIFBoxCell (NIR LIF)
#   v = v + dt tau_mem_inv (v_leak - v + x);  z = v > v_th;  v = v_reset where z (same step)
# and LIFCell (NIR CubaLIF) with a current that jumps by the input and is used at once:
#   i = i + x;  v = v + dt tau_mem_inv (v_leak - v + i);  z = v > v_th;  v = v_reset where z;
#   i = i - dt tau_syn_inv i
# (Norse 1.1 uses this step's current, like edgehost; older Norse used the previous one.)
# Its exporter writes tau = dt / tau_mem_inv where NIR means 1 / tau_mem_inv (norse/norse#411):
# so edgehost's forward Euler (beta = 1 - dt_e / tau) gives Norse's step with dt_e = dt**2.
# The synaptic jump i += x is NIR's tau_syn di/dt = -i + w_in I only with w_in = tau_syn / dt
# (the exporter writes w_in = 1, which NIR reads as the gain dt / tau_syn = 1 - alpha).
# IAFCell steps v = v + x (no dt) and exports IF with r = 1: NIR's v += r dt I needs dt_e = 1.
# =================================================================================================

def _norse():
    torch = pytest.importorskip("torch")
    pytest.importorskip("nirtorch")
    nt = pytest.importorskip("norse.torch")
    return torch, nt


NORSE_DT = 2.0 ** -10      # tau_mem_inv 128 -> dt tau_mem_inv = 1/8; tau_syn_inv 256 -> 1/4


def _norse_net(torch, *mods, branch=None):
    """lin1 -> cell1 -> lin2 -> cell2 (-> output); with branch=(lin3, cell3): cell1 -> lin3 ->
    cell3, added to the output (the tracer connects every leaf module to NIR's Output node)."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin1, self.cell1, self.lin2, self.cell2 = mods
            if branch is not None:
                self.lin3, self.cell3 = branch

        def forward(self, x, state=None):
            s = list(state) if state is not None else [None, None, None]
            z1, s[0] = self.cell1(self.lin1(x), s[0])
            z2, s[1] = self.cell2(self.lin2(z1), s[1])
            self.hidden, self.spikes2 = z1, z2
            if branch is not None:
                li, s[2] = self.cell3(self.lin3(z1), s[2])
                self.branch_value = li
                z2 = z2 + li
            return z2, tuple(s)

    return Net()


def _norse_run(net, xs, *attrs):
    torch, _ = _norse()
    state, out, rec = None, [], {a: [] for a in attrs}
    with torch.no_grad():
        for x in xs:
            y, state = net(torch.from_numpy(x), state)
            out.append(y.numpy().copy())
            for a in attrs:
                rec[a].append(getattr(net, a).numpy().copy())
    return np.array(out), {a: np.array(v) for a, v in rec.items()}


def _norse_export(net, n_in, tmp_path, name="norse.nir"):
    torch, nt = _norse()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # nirtorch.extract_nir_graph
        g = nt.to_nir(net, torch.zeros(n_in), dt=NORSE_DT)
    path = tmp_path / name
    nir.write(str(path), g)
    return g, str(path)


def _check_norse_tau(node, field, inv):
    """Norse's exporter writes tau = dt / tau_inv (norse/norse#411). If this fails, Norse writes
    the time constant NIR means (1 / tau_inv): convert with dt=NORSE_DT instead of NORSE_DT**2."""
    np.testing.assert_allclose(np.asarray(getattr(node, field), np.float64), NORSE_DT / inv, rtol=1e-6)


def _lifbox(nt, torch, n, inv, thr, reset):
    from norse.torch.functional.reset import reset_subtract, reset_value
    p = nt.LIFBoxParameters(tau_mem_inv=torch.full((n,), inv), v_leak=torch.zeros(n),
                            v_th=torch.full((n,), thr),
                            reset_method=reset_subtract if reset == "subtract" else reset_value)
    return nt.LIFBoxCell(p, dt=NORSE_DT)


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_norse_lifbox_feed_forward_equal_spikes(reset, tmp_path):
    """Linear -> LIFBoxCell -> Linear -> LIFBoxCell (NIR Affine/LIF). Options: dt = Norse's dt
    squared (its exporter's tau), reset "zero" (Norse's default reset to v_reset = 0; "subtract"
    for reset_method=reset_subtract, which the graph cannot tell), timing "same". Equal to Norse's
    module and, for the reset to a value, to Norse's own import of the file (norse.torch.from_nir
    with the same squared dt)."""
    torch, nt = _norse()
    torch.manual_seed(11)
    n_in, n_h, n_out = 10, 20, 4
    net = _norse_net(torch, _linear(torch, n_in, n_h, 10.0, 1.1), _lifbox(nt, torch, n_h, 128.0, 1.0, reset),
                     _linear(torch, n_h, n_out, 6.0, 0.8), _lifbox(nt, torch, n_out, 256.0, 0.75, reset))
    g, path = _norse_export(net, n_in, tmp_path)
    assert type(g.nodes["cell1"]).__name__ == "LIF"
    _check_norse_tau(g.nodes["cell1"], "tau", 128.0)
    xs = _spikes_in(n_in, seed=3)
    ref_o, rec = _norse_run(net, xs, "hidden")
    _assert_rates(rec["hidden"], ref_o)
    runs, _, _ = _edgehost(path, xs, dt=NORSE_DT ** 2, reset=reset, timing="same")
    for run in runs:
        np.testing.assert_array_equal(run["cell1"], rec["hidden"])
        np.testing.assert_array_equal(run["output"], ref_o)
    if reset == "zero":
        imported = nt.from_nir(nir.read(path), dt=NORSE_DT ** 2)
        np.testing.assert_array_equal(_norse_run(imported, xs)[0], ref_o)


def _lifcell(nt, torch, n, thr):
    p = nt.LIFParameters(tau_syn_inv=torch.full((n,), 256.0), tau_mem_inv=torch.full((n,), 128.0),
                         v_leak=torch.zeros(n), v_th=torch.full((n,), thr))
    return nt.LIFCell(p, dt=NORSE_DT)


def _norse_cuba(tmp_path):
    torch, nt = _norse()
    torch.manual_seed(5)
    n_in, n_h, n_out = 10, 24, 4
    net = _norse_net(torch, _linear(torch, n_in, n_h, 3.0, 0.3), _lifcell(nt, torch, n_h, 1.0),
                     _linear(torch, n_h, n_out, 5.0, 0.5), _lifcell(nt, torch, n_out, 0.75))
    g, path = _norse_export(net, n_in, tmp_path)
    return net, g, path, _spikes_in(n_in, seed=4)


def test_norse_lifcell_cuba_equal_spikes_with_w_in_of_the_jump(tmp_path):
    """Linear -> LIFCell -> Linear -> LIFCell (NIR CubaLIF). Norse's current jumps by the input
    (i += x); NIR's CubaLIF gives the input a gain dt / tau_syn, so the exported w_in = 1 loses a
    factor 1 - alpha (= 1/4 here). With w_in = tau_syn / dt_e written into the graph (and dt_e =
    Norse's dt squared, reset zero, timing same), every spike equals Norse's."""
    net, g, path, xs = _norse_cuba(tmp_path)
    _check_norse_tau(g.nodes["cell1"], "tau_mem", 128.0)
    _check_norse_tau(g.nodes["cell1"], "tau_syn", 256.0)
    assert np.all(np.asarray(g.nodes["cell1"].w_in) == 1)
    ref_o, rec = _norse_run(net, xs, "hidden")
    _assert_rates(rec["hidden"], ref_o)
    g = nir.read(path)
    for node in g.nodes.values():
        if isinstance(node, nir.CubaLIF):
            node.w_in = np.asarray(node.tau_syn, np.float64) / NORSE_DT ** 2     # = 4
    runs, _, _ = _edgehost(g, xs, dt=NORSE_DT ** 2, reset="zero", timing="same")
    for run in runs:
        np.testing.assert_array_equal(run["cell1"], rec["hidden"])
        np.testing.assert_array_equal(run["output"], ref_o)


def test_norse_lifcell_export_as_written_follows_nir_like_norse_import(tmp_path):
    """The same export read as written (w_in = 1): edgehost follows NIR's equations, exactly as
    Norse's own importer does (norse.torch.from_nir makes w_in x -> LIBox synapse -> LIFBox), and
    both differ from the LIFCell that was exported (its inputs are 4x stronger)."""
    torch, nt = _norse()
    net, g, path, xs = _norse_cuba(tmp_path)
    ref_o, rec = _norse_run(net, xs, "hidden")
    imported = nt.from_nir(nir.read(path), dt=NORSE_DT ** 2)
    imp_o, _ = _norse_run(imported, xs)
    runs, _, _ = _edgehost(path, xs, dt=NORSE_DT ** 2, reset="zero", timing="same")
    for run in runs:
        np.testing.assert_array_equal(run["output"], imp_o)
        assert np.mean(run["cell1"]) < 0.5 * np.mean(rec["hidden"])     # the lost factor 1 - alpha
    assert not np.array_equal(imp_o, ref_o)


def test_norse_iaf_equal_spikes(tmp_path):
    """Linear -> IAFCell -> Linear -> IAFCell (NIR IF, r = 1). Norse integrates v += x whatever its
    dt; NIR's IF integrates v += r dt I: options dt = 1, reset "zero", timing "same"."""
    torch, nt = _norse()
    torch.manual_seed(2)
    n_in, n_h, n_out = 12, 20, 5

    def iaf(n, thr):
        return nt.IAFCell(nt.IAFParameters(v_th=torch.full((n,), thr)), dt=NORSE_DT)

    net = _norse_net(torch, _linear(torch, n_in, n_h, 1.5, 0.05), iaf(n_h, 1.0 + OFF_GRID),
                     _linear(torch, n_h, n_out, 1.5, 0.15), iaf(n_out, 1.0 + OFF_GRID))
    g, path = _norse_export(net, n_in, tmp_path)
    assert type(g.nodes["cell1"]).__name__ == "IF"
    xs = _spikes_in(n_in, seed=5)
    ref_o, rec = _norse_run(net, xs, "hidden")
    _assert_rates(rec["hidden"], ref_o)
    runs, _, _ = _edgehost(path, xs, dt=1.0, reset="zero", timing="same")
    for run in runs:
        np.testing.assert_array_equal(run["cell1"], rec["hidden"])
        np.testing.assert_array_equal(run["output"], ref_o)


def test_norse_branch_fan_out_and_output_sum(tmp_path):
    """A branch: cell1's spikes fan out to lin2 -> LIFBox and to lin3 -> LIBoxCell (NIR LI); the
    module returns their sum, which Norse's exporter (nirtorch's tracer) writes as two edges into
    the Output node (fan-in). Options as the LIFBox test (dt squared, zero, same): spikes and the
    leaky readout equal Norse's (readout to float32 rounding: Norse computes v + c (x - v), edgehost
    (1 - c) v + c x)."""
    torch, nt = _norse()
    torch.manual_seed(8)
    n_in, n_h, n_out = 10, 20, 4
    li = nt.LIBoxCell(nt.LIBoxParameters(tau_mem_inv=torch.full((n_out,), 256.0), v_leak=torch.zeros(n_out)),
                      dt=NORSE_DT)
    net = _norse_net(torch, _linear(torch, n_in, n_h, 10.0, 1.1), _lifbox(nt, torch, n_h, 128.0, 1.0, "zero"),
                     _linear(torch, n_h, n_out, 6.0, 0.8), _lifbox(nt, torch, n_out, 256.0, 0.75, "zero"),
                     branch=(_linear(torch, n_h, n_out, 2.0, 0.0), li))
    g, path = _norse_export(net, n_in, tmp_path)
    assert sorted(a for a, b in g.edges if b == "output") == ["cell2", "cell3"]
    assert sorted(b for a, b in g.edges if a == "cell1") == ["lin2", "lin3"]
    xs = _spikes_in(n_in, seed=6)
    ref_o, rec = _norse_run(net, xs, "hidden", "spikes2", "branch_value")
    _assert_rates(rec["hidden"], rec["spikes2"])
    runs, graph, _ = _edgehost(path, xs, dt=NORSE_DT ** 2, reset="zero", timing="same")
    assert not graph.is_chain
    for run in runs:
        np.testing.assert_array_equal(run["cell1"], rec["hidden"])
        np.testing.assert_array_equal(run["cell2"], rec["spikes2"])
        np.testing.assert_allclose(run["cell3"], rec["branch_value"], rtol=0, atol=1e-5)
        np.testing.assert_allclose(run["output"], ref_o, rtol=0, atol=1e-5)


def test_norse_recurrent_cell_is_not_exported_and_refused(tmp_path):
    """Norse 1.1's to_nir has no mapping for its recurrent cells: LIFRecurrentCell becomes a None
    node. edgehost refuses it naming the node (nothing to compare spike for spike)."""
    torch, nt = _norse()
    net = nt.SequentialState(torch.nn.Linear(3, 4), nt.LIFRecurrentCell(4, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        g = nt.to_nir(net, torch.zeros(3))
    assert g.nodes["1"] is None
    with pytest.raises(ConvertError, match="node '1' of type NoneType is not supported"):
        load_nir(g)


# =================================================================================================
# Rockpool 3.1 (torch modules)
#
# LIFTorch steps with exact exponential decays a_mem = exp(-dt/tau_mem), a_syn = exp(-dt/tau_syn)
# and adds the input before the synaptic decay:
#   i = a_syn (i + x + W_rec s_prev);  v = a_mem v + i + bias;  s = v >= thr (at most
#   max_spikes_per_dt spikes, floor(v / thr));  v = v - s thr (same step)
# It exports NIR CubaLIF(tau_syn, tau_mem, r = tau_mem a_mem / dt, w_in = 1, v_leak = 0): no
# discretisation of NIR's CubaLIF gives Rockpool's step from that (Rockpool's importer uses r only
# to recover dt = tau_mem / (1 + r), which is not dt). edgehost discretises by forward Euler, so it
# needs the graph rewritten (_rockpool_euler): tau -> dt / (1 - a), w_in = a_syn / (1 - a_syn),
# r = 1 / (1 - a_mem); then reset "subtract", timing "same", dt = Rockpool's dt.
# =================================================================================================

def _rockpool():
    torch = pytest.importorskip("torch")
    pytest.importorskip("nirtorch")
    pytest.importorskip("rockpool")
    from rockpool.nn.combinators import Residual, Sequential
    from rockpool.nn.modules import LIFTorch, LinearTorch
    from rockpool.nn.modules.torch import nir as rnir
    return torch, LIFTorch, LinearTorch, Sequential, Residual, rnir


ROCKPOOL_DT = 1e-3


def _rp_lif(n, a_mem, a_syn, thr, **kw):
    torch, LIFTorch, *_ = _rockpool()
    return LIFTorch(n, leak_mode="decays", alpha=torch.full((n,), a_mem), beta=torch.full((n,), a_syn),
                    threshold=torch.full((n,), thr), max_spikes_per_dt=1, dt=ROCKPOOL_DT, **kw)


def _rp_linear(n_in, n_out, gain, bias):
    torch, _, LinearTorch, *_ = _rockpool()
    lin = LinearTorch((n_in, n_out), has_bias=True)
    with torch.no_grad():
        lin.weight.mul_(gain)
        lin.bias.add_(bias)
    _grid(torch, lin.weight, lin.bias)
    return lin


def _rockpool_euler(g, dt):
    """Rockpool's CubaLIF step as NIR's CubaLIF under forward Euler at dt (see above)."""
    g = copy.deepcopy(g)

    def walk(graph):
        for node in graph.nodes.values():
            if isinstance(node, nir.NIRGraph):
                walk(node)
            elif isinstance(node, nir.CubaLIF):
                a_m = np.exp(-dt / np.asarray(node.tau_mem, np.float64))
                a_s = np.exp(-dt / np.asarray(node.tau_syn, np.float64))
                node.tau_mem, node.tau_syn = dt / (1 - a_m), dt / (1 - a_s)
                node.w_in, node.r = a_s / (1 - a_s), 1 / (1 - a_m)
    walk(g)
    return g


def _rp_run(net, xs, *names):
    torch, *_ = _rockpool()
    net.reset_state()
    with torch.no_grad():
        out, _, rec = net(torch.from_numpy(xs)[None], record=True)
    return out[0].numpy(), {k: rec[k + "_output"][0].numpy() for k in names}, rec


def _rp_never_on_threshold(rec, name, thr):
    """Rockpool spikes on v >= thr, edgehost on v > thr: the comparison holds only if no membrane
    (before its reset) landed exactly on the threshold."""
    v_after, s = rec[name]["vmem"][0].numpy(), rec[name + "_output"][0].numpy()
    assert not np.any(v_after + s * np.float32(thr) == np.float32(thr))


def _rp_feed_forward():
    _, _, _, Sequential, *_ = _rockpool()
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    n_in, n_h, n_out = 10, 20, 4
    thr1, thr2 = 1.0 + OFF_GRID, 0.75 + OFF_GRID
    net = Sequential(_rp_linear(n_in, n_h, 2.0, 0.15), _rp_lif(n_h, 0.875, 0.5, thr1),
                     _rp_linear(n_h, n_out, 1.5, 0.1), _rp_lif(n_out, 0.75, 0.5, thr2))
    return net, n_in, (thr1, thr2)


@pytest.mark.parametrize("graph_as", [
    "euler",
    pytest.param("written", marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
        "Rockpool steps with exp(-dt/tau) decays, input gain exp(-dt/tau_syn) and membrane gain 1; its "
        "exported CubaLIF (w_in = 1, r = tau_mem exp(-dt/tau_mem)/dt) under edgehost's forward Euler gives "
        "decays 1 - dt/tau and other gains: no choice of dt or reset makes them equal"))),
])
def test_rockpool_feed_forward_equal_spikes(graph_as, tmp_path):
    """LinearTorch -> LIFTorch -> LinearTorch -> LIFTorch (Sequential), to_nir, through a file.
    Rockpool writes the Input node with its batch dimension ([1, n]), so nir.read's type check
    fails on Rockpool's own file; edgehost reads it without the check (and notes it)."""
    _, _, _, _, _, rnir = _rockpool()
    net, n_in, (thr1, thr2) = _rp_feed_forward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        g = rnir.to_nir(net)
    path = tmp_path / "rockpool.nir"
    nir.write(str(path), g)
    xs = _spikes_in(n_in, seed=2)
    ref_o, ref, rec = _rp_run(net, xs, "1_LIFTorch")
    _assert_rates(ref["1_LIFTorch"], ref_o)
    _rp_never_on_threshold(rec, "1_LIFTorch", thr1)
    _rp_never_on_threshold(rec, "3_LIFTorch", thr2)
    source = str(path)
    if graph_as == "euler":
        source = _rockpool_euler(nir.read(str(path), type_check=False), ROCKPOOL_DT)
    runs, graph, _ = _edgehost(source, xs, dt=ROCKPOOL_DT, reset="subtract", timing="same")
    if graph_as == "written":
        assert any("type check failed" in n for n in graph.notes)
    for run in runs:
        np.testing.assert_array_equal(run["1_LIFTorch"], ref["1_LIFTorch"])
        np.testing.assert_array_equal(run["output"], ref_o)


def test_rockpool_recurrent_export_drops_w_rec():
    """LIFTorch(has_rec=True): Rockpool 3.1's to_nir writes the neurons as a plain CubaLIF and drops
    w_rec (no Linear for it, no cycle), although its from_nir reads a recurrent CubaLIF subgraph.
    A converter cannot recover the recurrence from that file."""
    _, _, _, Sequential, _, rnir = _rockpool()
    net = Sequential(_rp_linear(6, 8, 1.0, 0.0), _rp_lif(8, 0.875, 0.5, 1.0, has_rec=True))
    assert net[1].w_rec.shape == (8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        g = rnir.to_nir(net)
    assert [type(v).__name__ for v in g.nodes.values()] == ["Input", "Affine", "CubaLIF", "Output"]
    assert not any(b == "1_LIFTorch" and a != "0_LinearTorch" for a, b in g.edges)


def test_rockpool_recurrent_subgraph_equal_spikes():
    """The recurrent layer written by hand the way Rockpool's from_nir reads it (a subgraph of Input,
    CubaLIF, Linear w_rec.T, Output with an edge back), rewritten for Euler as above: edgehost's
    delayed edge (the previous step's spikes through w_rec, gain a_syn) equals LIFTorch(has_rec=True)
    spike for spike."""
    torch, _, _, Sequential, _, rnir = _rockpool()
    torch.manual_seed(4)
    n_in, n_h, n_out = 8, 24, 4
    thr1, thr2 = 1.0 + OFF_GRID, 0.75 + OFF_GRID
    rec_lif = _rp_lif(n_h, 0.875, 0.5, thr1, has_rec=True)
    with torch.no_grad():
        rec_lif.w_rec.mul_(1.5)
    _grid(torch, rec_lif.w_rec)
    lin1, lin2 = _rp_linear(n_in, n_h, 2.0, 0.1), _rp_linear(n_h, n_out, 1.5, 0.1)
    out_lif = _rp_lif(n_out, 0.75, 0.5, thr2)
    net = Sequential(lin1, rec_lif, lin2, out_lif)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        flat = rnir.to_nir(net)
    cuba = flat.nodes["1_LIFTorch"]
    w = lambda t: t.detach().numpy().astype(np.float32)    # noqa: E731
    sub = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([n_h])}), "lif": cuba,
               "w_rec": nir.Linear(w(rec_lif.w_rec).T),
               "output": nir.Output(output_type={"output": np.array([n_h])})},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")], type_check=False)
    g = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([n_in])}),
               "lin1": nir.Affine(w(lin1.weight).T, w(lin1.bias)), "rec": sub,
               "lin2": nir.Affine(w(lin2.weight).T, w(lin2.bias)), "lif2": flat.nodes["3_LIFTorch"],
               "output": nir.Output(output_type={"output": np.array([n_out])})},
        edges=[("input", "lin1"), ("lin1", "rec"), ("rec", "lin2"), ("lin2", "lif2"), ("lif2", "output")],
        type_check=False)
    imported = rnir.from_nir(g)        # Rockpool's importer takes this subgraph as LIFTorch(has_rec)
    assert getattr(imported.get_submodule("rec"), "w_rec", None) is not None
    xs = _spikes_in(n_in, seed=6)
    ref_o, ref, rec = _rp_run(net, xs, "1_LIFTorch")
    _assert_rates(ref["1_LIFTorch"], ref_o)
    _rp_never_on_threshold(rec, "1_LIFTorch", thr1)
    _rp_never_on_threshold(rec, "3_LIFTorch", thr2)
    runs, graph, _ = _edgehost(_rockpool_euler(g, ROCKPOOL_DT), xs, dt=ROCKPOOL_DT, reset="subtract",
                               timing="same")
    assert any("delayed (recurrent) edges" in n and "rec.lif -> rec.w_rec" in n for n in graph.notes)
    for run in runs:
        np.testing.assert_array_equal(run["rec.lif"], ref["1_LIFTorch"])
        np.testing.assert_array_equal(run["output"], ref_o)


def test_rockpool_residual_export_loses_the_skip_and_is_refused():
    """Residual(LinearTorch, LIFTorch) adds its input outside any module, which nirtorch's tracer
    cannot see: Rockpool's export connects the residual block's LIF to the Output and leaves the next
    layer without an input edge. edgehost refuses the graph naming that node."""
    _, _, _, Sequential, Residual, rnir = _rockpool()
    net = Sequential(_rp_linear(5, 8, 1.0, 0.0), _rp_lif(8, 0.875, 0.5, 1.0),
                     Residual(_rp_linear(8, 8, 1.0, 0.0), _rp_lif(8, 0.875, 0.5, 1.0)),
                     _rp_linear(8, 3, 1.0, 0.0), _rp_lif(3, 0.875, 0.5, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        g = rnir.to_nir(net)
    assert ("2_TorchResidual.1_LIFTorch", "output") in g.edges
    assert not any(b == "3_LinearTorch" for a, b in g.edges)
    with pytest.raises(ConvertError, match="3_LinearTorch"):
        load_nir(g, dt=ROCKPOOL_DT, reset="subtract", timing="same")


# =================================================================================================
# Sinabs 3.1
#
# Sinabs steps in units of one time step (no dt): IAF  v = v + x;  LIF  v = a v + (1 - a) x
# (norm_input=True, the default; v = a v + x without it), a = exp(-1/tau_mem); then
# s = spike_fn(v) with v >= thr (MultiSpike, the default: floor(v / thr) spikes; SingleSpike: one);
# v = v - s thr (MembraneSubtract, same step). It exports IF(r = 1) and LIF(tau = tau_mem, r = 1),
# whatever the spike function and norm_input. Options: dt = 1, reset "subtract", timing "same";
# SingleSpike (MultiSpike's counts are not spikes); LIF needs the exponential decay rewritten for
# forward Euler (tau -> 1 / (1 - a); r = 1 / (1 - a) without norm_input).
# =================================================================================================

def _sinabs():
    torch = pytest.importorskip("torch")
    pytest.importorskip("nirtorch")
    sinabs = pytest.importorskip("sinabs")
    import sinabs.layers as sl
    from sinabs.activation import MultiSpike, SingleSpike
    return torch, sinabs, sl, SingleSpike, MultiSpike


def _sinabs_ff(neuron, n_in=10, n_h=20, n_out=4, seed=3, gains=(1.5, 1.5), biases=(0.05, 0.05)):
    torch, *_ = _sinabs()
    torch.manual_seed(seed)
    return torch.nn.Sequential(_linear(torch, n_in, n_h, gains[0], biases[0]), neuron(n_h),
                               _linear(torch, n_h, n_out, gains[1], biases[1]), neuron(n_out))


def _sinabs_run(net, xs):
    torch, sinabs, *_ = _sinabs()
    sinabs.reset_states(net)
    with torch.no_grad():
        h = net[1](net[0](torch.from_numpy(xs)[None]))
        o = net[3](net[2](h))
    return h[0].numpy(), o[0].numpy()


def _sinabs_export(net, n_in):
    torch, sinabs, *_ = _sinabs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return sinabs.to_nir(net, torch.zeros(1, 1, n_in))


def test_sinabs_iaf_single_spike_equal_spikes(tmp_path):
    """Linear -> IAF(SingleSpike) -> Linear -> IAF(SingleSpike), thresholds off the values' grid.
    Options dt = 1, reset "subtract", timing "same": equal to Sinabs' layers, through a file."""
    torch, sinabs, sl, SingleSpike, _ = _sinabs()
    net = _sinabs_ff(lambda n: sl.IAF(spike_threshold=1.0 + OFF_GRID, spike_fn=SingleSpike))
    g = _sinabs_export(net, 10)
    assert [type(g.nodes[k]).__name__ for k in ("1", "3")] == ["IF", "IF"]
    path = tmp_path / "sinabs.nir"
    nir.write(str(path), g)
    xs = _spikes_in(10, seed=4)
    ref_h, ref_o = _sinabs_run(net, xs)
    _assert_rates(ref_h, ref_o)
    runs, _, _ = _edgehost(str(path), xs, dt=1.0, reset="subtract", timing="same")
    for run in runs:
        np.testing.assert_array_equal(run["1"], ref_h)
        np.testing.assert_array_equal(run["output"], ref_o)


def test_sinabs_branch_fan_out_and_output_sum():
    """A branch without Merge (which Sinabs cannot export, below): n1's spikes fan out to
    l2 -> IAF and to l3 (Affine); the module returns their sum, which the tracer writes as two
    edges into the Output node. Options dt = 1, subtract, same: every spike and every output value
    equal (the sums are exact on the 1/256 grid)."""
    torch, sinabs, sl, SingleSpike, _ = _sinabs()
    torch.manual_seed(9)

    class Branch(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.n1 = _linear(torch, 10, 20, 1.5, 0.05), sl.IAF(spike_threshold=1.0 + OFF_GRID,
                                                                          spike_fn=SingleSpike)
            self.l2, self.n2 = _linear(torch, 20, 4, 1.5, 0.15), sl.IAF(spike_threshold=1.0 + OFF_GRID,
                                                                         spike_fn=SingleSpike)
            self.l3 = _linear(torch, 20, 4, 1.0, 0.0)

        def forward(self, x):
            a = self.n1(self.l1(x))
            self.hidden, self.spikes2 = a, self.n2(self.l2(a))
            return self.spikes2 + self.l3(a)

    net = Branch()
    g = _sinabs_export(net, 10)
    assert sorted(a for a, b in g.edges if b == "output") == ["l3", "n2"]
    assert sorted(b for a, b in g.edges if a == "n1") == ["l2", "l3"]
    xs = _spikes_in(10, seed=4)
    sinabs.reset_states(net)
    with torch.no_grad():
        ref_o = net(torch.from_numpy(xs)[None])[0].numpy()
    ref_h, ref_s2 = net.hidden[0].numpy(), net.spikes2[0].numpy()
    _assert_rates(ref_h, ref_s2)
    runs, graph, _ = _edgehost(g, xs, dt=1.0, reset="subtract", timing="same")
    assert not graph.is_chain
    for run in runs:
        np.testing.assert_array_equal(run["n1"], ref_h)
        np.testing.assert_array_equal(run["n2"], ref_s2)
        np.testing.assert_array_equal(run["output"], ref_o)


def test_sinabs_threshold_on_the_grid_differs_exactly_where_v_equals_thr():
    """Thresholds exactly 1.0 with inputs on a 1/256 grid: IAF's v lands on 1.0, where Sinabs
    spikes (v >= thr) and edgehost does not (v > thr). The first difference is such a step."""
    torch, sinabs, sl, SingleSpike, _ = _sinabs()
    net = _sinabs_ff(lambda n: sl.IAF(spike_threshold=1.0, spike_fn=SingleSpike, record_states=True))
    g = _sinabs_export(net, 10)
    xs = _spikes_in(10, seed=4)
    ref_h, ref_o = _sinabs_run(net, xs)
    v_before = net[1].recordings["v_mem"][0].numpy() + ref_h      # thr = 1
    runs, _, _ = _edgehost(g, xs, dt=1.0, reset="subtract", timing="same")
    for run in runs:
        diff = np.argwhere(run["1"] != ref_h)
        assert diff.size, "no step with v == thr: choose another seed"
        t, j = diff[0]
        assert ref_h[t, j] == 1 and run["1"][t, j] == 0 and v_before[t, j] == 1.0
        np.testing.assert_array_equal(run["1"][:t], ref_h[:t])


def test_sinabs_default_multi_spike_is_not_a_spike_train():
    """Sinabs' default MultiSpike emits floor(v / thr) spikes in a step and subtracts as many
    thresholds; its export is the same IF node as with SingleSpike, so the count is lost. edgehost
    (one spike per step) agrees up to the first step where Sinabs emitted more than one."""
    torch, sinabs, sl, _, MultiSpike = _sinabs()
    net = _sinabs_ff(lambda n: sl.IAF(spike_threshold=1.0 + OFF_GRID, spike_fn=MultiSpike), gains=(3.0, 1.5))
    g = _sinabs_export(net, 10)
    xs = _spikes_in(10, seed=4)
    ref_h, ref_o = _sinabs_run(net, xs)
    multi = np.flatnonzero((ref_h > 1).any(axis=1) | (ref_o > 1).any(axis=1))
    assert multi.size
    t0 = int(multi[0])
    runs, _, _ = _edgehost(g, xs, dt=1.0, reset="subtract", timing="same")
    for run in runs:
        np.testing.assert_array_equal(run["1"][:t0], ref_h[:t0])
        np.testing.assert_array_equal(run["output"][:t0], ref_o[:t0])
        np.testing.assert_array_equal(run["1"][t0], np.minimum(ref_h[t0], 1))
        assert not np.array_equal(run["1"], ref_h)


SINABS_TAU_075 = 3.4760592     # float32 tau whose torch.exp(-1 / tau) is exactly 0.75


def _sinabs_euler(g, alpha, norm_input):
    """Sinabs' LIF (a = exp(-1/tau)) as NIR's LIF under forward Euler at dt = 1."""
    g = copy.deepcopy(g)
    for node in g.nodes.values():
        if isinstance(node, nir.LIF):
            node.tau = np.full(np.shape(node.tau), 1.0 / (1.0 - alpha))
            node.r = np.full(np.shape(node.r), 1.0 if norm_input else 1.0 / (1.0 - alpha))
    return g


@pytest.mark.parametrize("graph_as", [
    "euler",
    pytest.param("written", marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
        "Sinabs' LIF decays by exp(-1/tau) per step; edgehost discretises NIR's LIF by forward Euler "
        "(1 - dt/tau): 0.75 against 1 - 1/3.476 = 0.712"))),
])
@pytest.mark.parametrize("norm_input", [True, False])
def test_sinabs_lif_equal_spikes(graph_as, norm_input):
    """Linear -> LIF -> Linear -> LIF (SingleSpike, a = 0.75). The export writes tau and r = 1 but
    not norm_input: with norm_input=False the input gain is 1, not 1 - a, and the graph cannot say
    so (an exporter omission). Rewritten for Euler (tau -> 1 / (1 - a), r from norm_input) with dt = 1,
    reset "subtract", timing "same": every spike equal."""
    torch, sinabs, sl, SingleSpike, _ = _sinabs()

    def lif(n):
        return sl.LIF(tau_mem=torch.full((n,), SINABS_TAU_075), spike_threshold=torch.full((n,), 1.0 + OFF_GRID),
                      spike_fn=SingleSpike, norm_input=norm_input)

    gains = (6.0, 8.0) if norm_input else (1.2, 1.5)
    biases = (0.6, 0.8) if norm_input else (0.1, 0.1)
    net = _sinabs_ff(lif, gains=gains, biases=biases, seed=7)
    assert torch.all(net[1].alpha_mem_calculated == 0.75)
    g = _sinabs_export(net, 10)
    assert [type(g.nodes[k]).__name__ for k in ("1", "3")] == ["LIF", "LIF"]
    assert np.all(np.asarray(g.nodes["1"].r) == 1)
    xs = _spikes_in(10, seed=8)
    ref_h, ref_o = _sinabs_run(net, xs)
    _assert_rates(ref_h, ref_o)
    source = _sinabs_euler(g, 0.75, norm_input) if graph_as == "euler" else g
    runs, _, _ = _edgehost(source, xs, dt=1.0, reset="subtract", timing="same")
    for run in runs:
        np.testing.assert_array_equal(run["1"], ref_h)
        np.testing.assert_array_equal(run["output"], ref_o)


def test_sinabs_recurrent_and_merge_are_not_exported():
    """Sinabs 3.1's to_nir maps only feed-forward layers: IAFRecurrent and Merge (its layer for a
    skip connection's sum) raise NotImplementedError, so there is no recurrent or fan-in graph to
    compare."""
    torch, sinabs, sl, SingleSpike, _ = _sinabs()

    class Rec(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = torch.nn.Linear(5, 8)
            self.r = sl.IAFRecurrent(rec_connect=torch.nn.Linear(8, 8, bias=False), spike_fn=SingleSpike)

        def forward(self, x):
            return self.r(self.l1(x))

    class Skip(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.n1 = torch.nn.Linear(5, 8), sl.IAF(spike_fn=SingleSpike)
            self.l2, self.n2 = torch.nn.Linear(8, 8), sl.IAF(spike_fn=SingleSpike)
            self.merge = sl.Merge()

        def forward(self, x):
            a = self.n1(self.l1(x))
            return self.merge(a, self.n2(self.l2(a)))

    for net, what in ((Rec(), "IAFRecurrent"), (Skip(), "Merge")):
        with pytest.raises(NotImplementedError, match=what):
            _sinabs_export(net, 5)
