"""Spiking CNNs through NIR (issue 14): Conv2d, SumPool2d, AvgPool2d and Flatten between them, neurons
on (C, H, W) shapes. A small SCNN of the issue's shape (2 x 16 x 16 input, Conv2d 5x5 stride 2 -> LIF/IF
-> Conv2d 3x3 -> LIF/IF -> pooling -> Flatten -> Affine -> LIF/IF) is exported by snnTorch
(export_to_nir) and by Sinabs (to_nir, SingleSpike IAF) and compared with that framework's own
forward: the float path spike for spike (weights on a 1/256 grid and spike inputs, so every sum is
exact in any order), the Q15 path to a stated agreement; both host backends equal. Geometry
(stride, 'same'/'valid'/integer padding, dilation, groups, depthwise, inferred input_shape) against
torch.nn.functional.conv2d; per-channel neuron parameters; and the bad inputs of part 5, each named
with its numbers."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from edgehost import model_fit
from edgehost.blob import read
from edgehost.convert import ConvertError, build
from edgehost.convert.nir_import import load_nir

import _snn_helpers as snn_helpers

nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")

H = 16           # input 2 x H x H (the 34 x 34, smaller for speed)
STEPS = 60
OFF_GRID = 2.0 ** -20     # thresholds off the weights' grid: v never lands exactly on them (Sinabs: >=)


def _grid(*mods, gain=3.0):
    with torch.no_grad():
        for m in mods:
            for p in m.parameters():
                p.mul_(gain)
                p.copy_(torch.round(p * 256) / 256)


def _spikes(n, steps=STEPS, seed=1, p=0.3):
    rng = np.random.default_rng(seed)
    return (rng.random((steps, n)) < p).astype(np.float32)


def _q15(graph, xs, ref):
    model, report = build(graph, quantize="q15", calib=xs)
    blob = model.to_bytes()
    yq, _ = snn_helpers.backends_agree(blob, xs)
    return model, float(np.mean(yq == ref))


def _layer_types(model):
    return [l.type for l in model.layers]


# ---- snnTorch ------------------------------------------------------------------------------------

def _snntorch_scnn(seed=0):
    torch_, snn, export_to_nir, utils = snn_helpers.snn()
    torch.manual_seed(seed)
    c1 = torch.nn.Conv2d(2, 4, 5, stride=2)         # 4 x 6 x 6
    c2 = torch.nn.Conv2d(4, 8, 3, padding=1)        # 8 x 6 x 6
    fc = torch.nn.Linear(72, 10)
    _grid(c1, c2, fc)

    def leaky(shape, beta):
        return snn.Leaky(beta=torch.full(shape, beta), threshold=torch.full(shape, 1.0 + OFF_GRID), init_hidden=True)
    l3 = snn.Leaky(beta=torch.full((10,), 0.95), threshold=torch.full((10,), 1.0 + OFF_GRID), init_hidden=True,
                   output=True)
    net = torch.nn.Sequential(c1, leaky((4, 6, 6), 0.9), c2, leaky((8, 6, 6), 0.8), torch.nn.AvgPool2d(2),
                              torch.nn.Flatten(0), fc, l3)
    g = export_to_nir(net, torch.zeros(2, H, H))
    return net, g, utils


def _snntorch_run(net, utils, xs):
    """snnTorch's forward, one step per input frame: (first layer's spikes, output spikes)."""
    utils.reset(net)
    out, hidden = [], []
    with torch.no_grad():
        for x in xs:
            h = net[1](net[0](torch.from_numpy(x).reshape(2, H, H)))
            spk, _mem = net[2:](h)
            hidden.append(h.numpy().ravel().copy())
            out.append(spk.numpy().copy())
    return np.array(hidden), np.array(out)


def test_snntorch_scnn_equal_spikes(tmp_path):
    """snnTorch's export, through a .nir file, default options (dt 1e-4, subtract, timing next)."""
    net, g, utils = _snntorch_scnn()
    assert [type(g.nodes[k]).__name__ for k in ("0", "1", "4", "5")] == ["Conv2d", "LIF", "AvgPool2d", "Flatten"]
    path = tmp_path / "scnn.nir"
    nir.write(str(path), g)
    xs = _spikes(2 * H * H)
    ref_h, ref = _snntorch_run(net, utils, xs)
    assert 0.02 < ref.mean() < 0.9 and 0.02 < ref_h.mean() < 0.9
    graph = load_nir(str(path))
    model, report = build(graph)
    assert _layer_types(model) == ["conv2d_f32", "lif_f32", "spike_f32", "conv2d_f32", "lif_f32", "spike_f32",
                                   "avgpool2d_f32", "fc_f32", "lif_f32"]
    ys, trace = snn_helpers.backends_agree(model.to_bytes(), xs)
    np.testing.assert_array_equal(ys, ref)
    np.testing.assert_array_equal(np.array([t[1] for t in trace]), ref_h)
    qmodel, agree = _q15(graph, xs, ref)
    assert _layer_types(qmodel) == ["input_q15", "conv2d_q15", "lif_q15", "conv2d_spike_q15", "lif_q15",
                                    "avgpool2d_spike_q15", "fc_q15", "lif_q15"]
    assert agree >= 0.97, agree
    assert read(qmodel.to_bytes()).layers[1].params[0].tolist()[:8] == [2, H, H, 4, 5, 5, 2, 2]


# ---- Sinabs ------------------------------------------------------------------------------------

def _sinabs():
    pytest.importorskip("nirtorch")
    sinabs = pytest.importorskip("sinabs")
    import sinabs.layers as sl
    from sinabs.activation import MultiSpike, SingleSpike
    return sinabs, sl, SingleSpike, MultiSpike


def _sinabs_scnn(spike_fn=None, seed=0):
    sinabs, sl, SingleSpike, _ = _sinabs()
    torch.manual_seed(seed)
    c1 = torch.nn.Conv2d(2, 4, 5, stride=2, bias=False)
    c2 = torch.nn.Conv2d(4, 8, 3, padding=1, bias=False)
    fc = torch.nn.Linear(72, 10, bias=False)
    _grid(c1, c2, fc)
    fn = spike_fn or SingleSpike

    def iaf():
        return sl.IAFSqueeze(spike_threshold=1.0 + OFF_GRID, spike_fn=fn, batch_size=1, min_v_mem=None)
    return torch.nn.Sequential(c1, iaf(), c2, iaf(), sl.SumPool2d(2), torch.nn.Flatten(), fc, iaf())


def _sinabs_run(net, xs):
    sinabs, *_ = _sinabs()
    sinabs.reset_states(net)
    with torch.no_grad():
        x = torch.from_numpy(xs).reshape(len(xs), 2, H, H)
        h = net[1](net[0](x))
        y = net[2:](h)
    return h.reshape(len(xs), -1).numpy(), y.numpy()


@pytest.mark.parametrize("route", ["nir_graph", "from_sinabs"])
def test_sinabs_scnn_equal_spikes(route):
    """Sinabs' IAF is exported as IF with r = 1 (a unit step): --if-dt 1 (or --dt 1), reset subtract in
    the same step; Sinabs' NIR graph (nir 1.0.8 cannot write it to a file: its Flatten has no
    input_type), and from_sinabs (which checks the module first)."""
    sinabs, *_ = _sinabs()
    net = _sinabs_scnn()
    xs = _spikes(2 * H * H, seed=2)
    ref_h, ref = _sinabs_run(net, xs)
    assert 0.02 < ref.mean() < 0.9 and 0.02 < ref_h.mean() < 0.9
    if route == "nir_graph":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            g = sinabs.to_nir(net, torch.zeros(1, 2, H, H))
        assert [type(g.nodes[k]).__name__ for k in ("0", "1", "4", "5")] == ["Conv2d", "IF", "SumPool2d", "Flatten"]
        assert g.nodes["0"].input_shape is None            # inferred from the Input node's (2, H, H)
        graph = load_nir(g, if_dt=1.0, reset="subtract", timing="same")
    else:
        from edgehost.convert.sinabs_import import from_sinabs
        graph = from_sinabs(net, torch.zeros(1, 2, H, H))
    model, _ = build(graph)
    ys, trace = snn_helpers.backends_agree(model.to_bytes(), xs)
    np.testing.assert_array_equal(ys, ref)
    np.testing.assert_array_equal(np.array([t[1] for t in trace]), ref_h)     # the first IF layer's spikes
    qmodel, agree = _q15(graph, xs, ref)
    assert "sumpool2d_spike_q15" in _layer_types(qmodel) and "conv2d_spike_q15" in _layer_types(qmodel)
    assert agree >= 0.97, agree


def test_sinabs_if_time_step_is_an_option():
    """Without --if-dt (or --dt 1) the IF gain is r dt = 1e-4: nothing spikes; the note says what to do."""
    sinabs, *_ = _sinabs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        g = sinabs.to_nir(_sinabs_scnn(), torch.zeros(1, 2, H, H))
    graph = load_nir(g, reset="subtract", timing="same")
    assert any("--if-dt 1" in n for n in graph.notes)
    xs = _spikes(2 * H * H, seed=2)
    model, _ = build(graph)
    ys, _ = snn_helpers.backends_agree(model.to_bytes(), xs)
    assert ys.sum() == 0
    with pytest.raises(ConvertError, match="if_dt must be > 0"):
        load_nir(g, if_dt=0.0)


def test_sinabs_multispike_refused():
    """Sinabs' default spike_fn (MultiSpike) is exported as the same IF node: from_sinabs refuses it,
    naming the layer."""
    from edgehost.convert.sinabs_import import from_sinabs
    sinabs, sl, SingleSpike, MultiSpike = _sinabs()
    net = _sinabs_scnn(spike_fn=MultiSpike)
    with pytest.raises(ConvertError, match=r"Sinabs layer '1' \(IAFSqueeze\): spike_fn MultiSpike can emit several "
                                           r"spikes per step.*SingleSpike"):
        from_sinabs(net, torch.zeros(1, 2, H, H))
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 2, 3), sl.IAFSqueeze(spike_fn=SingleSpike, batch_size=1,
                                                                      min_v_mem=-1.0))
    with pytest.raises(ConvertError, match="min_v_mem = -1 "):
        from_sinabs(net, torch.zeros(1, 2, 8, 8))


# ---- geometry against torch ----------------------------------------------------------------------

def _conv_graph(c_in, h, w, conv, neuron_shape=None, input_shape=True, tau=None):
    """Input (c_in, h, w) -> conv -> LIF (tau 1e-4 x 10 / per channel) -> Output."""
    out = neuron_shape
    n = int(np.prod(out))
    t = np.full(out, 1e-3) if tau is None else tau
    ps = out if tau is None else tau.shape          # per neuron, or per channel (C, 1, 1)
    lif = nir.LIF(tau=t, r=np.full(ps, 10.0) if tau is None else np.ones(ps), v_leak=np.zeros(ps),
                  v_threshold=np.full(ps, 1.0 + OFF_GRID), v_reset=np.zeros(ps))
    nodes = {"input": nir.Input(input_type={"input": np.array([c_in, h, w])}), "conv": conv, "lif": lif,
             "output": nir.Output(output_type={"output": np.array([n])})}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "conv"), ("conv", "lif"), ("lif", "output")], type_check=False)


GEOMS = {  # (c_in, h, w, c_out, k, stride, padding, dilation, groups)
    "strided_padded": (2, 11, 9, 4, (3, 5), (2, 1), (1, 2), (1, 1), 1),
    "same": (3, 7, 8, 6, (3, 3), (1, 1), "same", (1, 1), 3),
    "valid_dilated": (2, 12, 10, 2, (3, 2), (1, 2), "valid", (2, 3), 1),
    "depthwise": (4, 9, 9, 4, (3, 3), (2, 2), (1, 1), (1, 1), 4),
}


@pytest.mark.parametrize("name", list(GEOMS))
def test_conv2d_geometry_equals_torch(name):
    c_in, h, w, c_out, k, stride, pad, dil, groups = GEOMS[name]
    rng = np.random.default_rng(5)
    wt = np.round(rng.normal(size=(c_out, c_in // groups, *k)) * 256) / 256
    b = np.round(rng.normal(size=c_out) * 256) / 256
    x = _spikes(c_in * h * w, steps=8, seed=7)
    ref = torch.nn.functional.conv2d(torch.from_numpy(x).reshape(8, c_in, h, w).double(), torch.from_numpy(wt),
                                     torch.from_numpy(b), stride, pad, dil, groups).numpy()
    conv = nir.Conv2d(input_shape=None if name == "same" else (h, w), weight=wt, stride=stride, padding=pad,
                      dilation=dil, groups=groups, bias=b)
    graph = load_nir(_conv_graph(c_in, h, w, conv, ref.shape[1:]))
    model, _ = build(graph)
    ys, trace = snn_helpers.backends_agree(model.to_bytes(), x)
    cur = np.array([t[0] for t in trace])         # conv2d_f32's output: the currents (gain 1e-3 x 10 = ... folded)
    gain = 1e-4 * 10.0 / 1e-3                      # r dt / tau, folded into the conv's weights
    np.testing.assert_allclose(cur, (ref * gain).reshape(8, -1), rtol=1e-6, atol=1e-6)
    # Q15: the spike-driven kernel on the same spikes equals the dense one and the sim
    qmodel, _ = build(graph, quantize="q15", calib=x)
    assert "conv2d_q15" in _layer_types(qmodel)
    snn_helpers.backends_agree(qmodel.to_bytes(), x)


def test_per_channel_neuron_parameters_broadcast():
    """LIF parameters of shape (C, 1, 1) (one per channel) broadcast over (C, H, W)."""
    c_in, h, w = 2, 6, 6
    wt = np.ones((3, 2, 3, 3)) / 8
    conv = nir.Conv2d(input_shape=(h, w), weight=wt, stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(3))
    tau = np.array([2e-4, 5e-4, 1e-3]).reshape(3, 1, 1)
    g = _conv_graph(c_in, h, w, conv, (3, h, w), tau=tau)
    graph = load_nir(g)
    lif = graph.layers[1]
    beta = np.broadcast_to(np.asarray(lif.beta), (3 * h * w,)).reshape(3, h, w)
    np.testing.assert_allclose(beta[:, 0, 0], 1 - 1e-4 / tau.ravel())
    assert np.all(beta == beta[:, :1, :1])
    build(graph, quantize="q15")


# ---- bad input (part 5): named, with the numbers -----------------------------------------------------

def _chain(c_in, h, w, *nodes, n_out=None):
    names = ["input"] + [f"n{i}" for i in range(len(nodes))] + ["output"]
    allnodes = {"input": nir.Input(input_type={"input": np.array([c_in, h, w])}),
                **{f"n{i}": nd for i, nd in enumerate(nodes)},
                "output": nir.Output(output_type={"output": np.array([n_out or 1])})}
    return nir.NIRGraph(nodes=allnodes, edges=list(zip(names[:-1], names[1:])), type_check=False)


def _conv(c_out, c_in, k, **kw):
    args = dict(input_shape=None, stride=1, padding=0, dilation=1, groups=1, bias=np.zeros(c_out))
    args.update(kw)
    return nir.Conv2d(weight=np.ones((c_out, c_in, k, k)), **args)


def _if(n):
    return nir.IF(r=np.ones(n), v_threshold=np.ones(n))


def test_conv2d_output_does_not_match_the_next_node():
    # conv 2x8x8 -> 4x6x6 = 144 values into an Affine that takes 100
    g = _chain(2, 8, 8, _conv(4, 2, 3), nir.Flatten(input_type=None), nir.Affine(np.ones((5, 100)), np.zeros(5)))
    with pytest.raises(ConvertError, match=r"node 'n2' \(Affine\): weight shape \(5, 100\), expected \(n_out, 144\)"):
        load_nir(g)
    # conv -> conv whose input_shape disagrees with the first one's output (4 x 6 x 6)
    g = _chain(2, 8, 8, _conv(4, 2, 3), _conv(3, 4, 3, input_shape=(5, 5)))
    with pytest.raises(ConvertError, match=r"node 'n1' \(Conv2d\): input_shape \(5, 5\) x 4 channels = 100 values, "
                                           r"but 'n0' gives 144 values \(4, 6, 6\)"):
        load_nir(g)
    # a conv taking 3 channels after one giving 4
    g = _chain(2, 8, 8, _conv(4, 2, 3), _conv(3, 3, 3))
    with pytest.raises(ConvertError, match=r"node 'n1' \(Conv2d\): its weight takes 3 input channels, but 'n0' "
                                           r"gives 4 channels \(4, 6, 6\)"):
        load_nir(g)


def test_kernel_larger_than_the_padded_input():
    g = _chain(1, 4, 6, _conv(2, 1, 7, padding=1))
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv2d\): kernel 7 x 7 \(span 7 x 7 with dilation \(1, 1\)\) "
                                           r"larger than its padded input 6 x 8 \(input \(1, 4, 6\)"):
        load_nir(g)
    g = _chain(1, 6, 6, _conv(2, 1, 3, dilation=3))
    with pytest.raises(ConvertError, match=r"span 7 x 7 with dilation \(3, 3\)\) larger than its padded input 6 x 6"):
        load_nir(g)
    g = _chain(1, 4, 4, _conv(1, 1, 1), _if(16), nir.SumPool2d(kernel_size=np.array([5, 5]),
                                                                 stride=np.array([1, 1]), padding=np.array([0, 0])))
    with pytest.raises(ConvertError, match=r"node 'n2' \(SumPool2d\): kernel 5 x 5 larger than its padded input 4 x 4"):
        load_nir(g)


def test_unsupported_padding_mode():
    c = _conv(2, 1, 3)
    c.padding = "reflect"          # nir's constructor refuses it; a hand-edited or foreign graph may hold it
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv2d\): padding 'reflect' is not supported \(give 'same', "
                                           r"'valid' or integers\)"):
        load_nir(_chain(1, 8, 8, c))
    with pytest.raises(ConvertError, match=r"node 'n0' \(Conv2d\): padding 'same' with stride \(2, 2\) is ambiguous"):
        load_nir(_chain(1, 8, 8, _conv(2, 1, 3, padding="same", stride=2)))
    p = nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    p.padding = "same"
    with pytest.raises(ConvertError, match=r"node 'n2' \(AvgPool2d\): padding 'same' is not supported"):
        load_nir(_chain(1, 8, 8, _conv(1, 1, 1), _if(64), p))


def test_unknown_shape_named():
    """A pooling after a Flatten (a flat vector) cannot know its (C, H, W)."""
    g = _chain(1, 4, 4, nir.Flatten(input_type=None), nir.Affine(np.ones((16, 16)), np.zeros(16)), _if(16),
               nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])))
    with pytest.raises(ConvertError, match=r"node 'n3' \(SumPool2d\): the \(C, H, W\) shape of its input is unknown "
                                           r"\('n2' gives a flat vector of 16 values\)"):
        load_nir(g)


def test_q15_pooled_spikes_into_a_neuron_refused():
    g = _chain(1, 4, 4, _conv(2, 1, 1), _if(32), nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                                                padding=np.array([0, 0])), _if(8))
    graph = load_nir(g, if_dt=1.0)
    build(graph)                 # float: fine
    with pytest.raises(ConvertError, match=r"n2 \(pool2d\): on the Q15 path pooled spikes .* must feed an "
                                           r"Affine/Linear or Conv2d, not n3 \(lif\)"):
        build(graph, quantize="q15")


def test_activations_that_do_not_fit_the_board_are_named():
    """The issue's SCNN (2 x 34 x 34, 16 channels) against a Cortex-M4 firmware's arena: the error
    names the layer whose activations are largest and the bytes."""
    from edgehost.boards import get
    c1 = _conv(16, 2, 5, stride=2)                          # 16 x 15 x 15
    c2 = _conv(32, 16, 3, padding=1)                        # 32 x 15 x 15
    g = _chain(2, 34, 34, c1, _if(16 * 225), c2, _if(32 * 225))
    model, _ = build(load_nir(g, if_dt=1.0), quantize="q15", calib=None)
    blob = model.to_bytes()
    need = model_fit.Need.of(blob, read(blob))
    cap = model_fit.capacity_of_board(get("nrf52"), use_elf=False)
    r = model_fit.fit(need, cap)
    assert not r["fits"]
    msg = " ".join(r["over"])
    assert f"needs {need.arena:,} bytes, the firmware has {cap.arena:,} (over by {need.arena - cap.arena:,})" in msg
    assert "largest at layer 3 (conv2d_spike_q15)" in msg and "scratch of layer 3 (conv2d_spike_q15) s32[7200] 28,800 B" in msg


# ---- PyTorch / snnTorch live modules (edgehost.convert.from_torch) -------------------------------------

def test_from_torch_conv2d_avgpool_equal_spikes():
    """nn.Conv2d (stride, padding, 'same') and nn.AvgPool2d with snnTorch Leaky (scalar beta, which
    snnTorch's own NIR export refuses) from the live module, a (C, H, W) example: float spikes equal
    to snnTorch's forward, Q15 >= 97 %."""
    from edgehost.convert import from_torch
    _torch, snn, _export, utils = snn_helpers.snn()
    torch.manual_seed(0)
    c1, c2, fc = torch.nn.Conv2d(2, 4, 3, stride=2, padding=1), torch.nn.Conv2d(4, 6, 3, padding="same"), \
        torch.nn.Linear(54, 5)
    _grid(c1, c2, fc)
    net = torch.nn.Sequential(c1, snn.Leaky(beta=0.9, init_hidden=True), c2, snn.Leaky(beta=0.8, init_hidden=True),
                              torch.nn.AvgPool2d(2), torch.nn.Flatten(0), fc,
                              snn.Leaky(beta=0.9, init_hidden=True, output=True))
    graph = from_torch(net, torch.zeros(2, 12, 12))
    xs = _spikes(2 * 12 * 12, steps=50)
    utils.reset(net)
    with torch.no_grad():
        ref = np.array([net(torch.from_numpy(x).reshape(2, 12, 12))[0].numpy().copy() for x in xs])
    assert 0.02 < ref.mean() < 0.9
    model, _ = build(graph)
    ys, _ = snn_helpers.backends_agree(model.to_bytes(), xs)
    np.testing.assert_array_equal(ys, ref)
    _qm, agree = _q15(graph, xs, ref)
    assert agree >= 0.97, agree
    with pytest.raises(ConvertError, match=r"module model.0 \(Conv2d\): the \(C, H, W\) shape of its input is "
                                           r"unknown \(give from_torch an example of shape \(C, H, W\)"):
        from_torch(net, torch.zeros(2 * 12 * 12))
