"""Spiking CNNs from a PyTorch / snnTorch state dict (issue 14 part 2): `--arch` with conv2d,
avgpool2d and flatten between snnTorch neurons, the geometry in the arch string
(`conv2d:stride=2:padding=1`, `avgpool2d:2`) and the input's shape with `--input-shape C,H,W`.
The state dict, converted through the CLI, gives the same blob as `from_torch(net, example)` of the
live network, and that blob's float output spikes equal snnTorch's own forward, spike for spike
(weights on a 1/256 grid, spike inputs: every sum exact in any order). Bad input is one line
naming the layer and the numbers."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")

from edgehost.cli import main  # noqa: E402
from edgehost.convert import ConvertError, build, from_torch, load  # noqa: E402

import _snn_helpers as snn_helpers  # noqa: E402

H = 16
STEPS = 30
OFF_GRID = 2.0 ** -20       # thresholds off the weights' grid: v never lands exactly on them
ARCH = "conv2d:stride=2:padding=1,leaky,conv2d:padding=1,leaky,avgpool2d:2,flatten,linear,leaky"


def _grid(*mods, gain=3.0):
    with torch.no_grad():
        for m in mods:
            for p in m.parameters():
                p.mul_(gain)
                p.copy_(torch.round(p * 256) / 256)


def _leaky(shape, beta, output=False):
    return snn.Leaky(beta=torch.full(shape, beta), threshold=torch.full(shape, 1.0 + OFF_GRID), init_hidden=True,
                     output=output)


def scnn(seed=0):
    """2 x 16 x 16 -> Conv2d 5x5/2 pad 1 (4 x 7 x 7) -> Leaky -> Conv2d 3x3 pad 1 (8 x 7 x 7) -> Leaky
    -> AvgPool2d 2 (8 x 3 x 3) -> Flatten -> Linear 72 -> 10 -> Leaky."""
    torch.manual_seed(seed)
    c1 = torch.nn.Conv2d(2, 4, 5, stride=2, padding=1)
    c2 = torch.nn.Conv2d(4, 8, 3, padding=1)
    fc = torch.nn.Linear(72, 10)
    _grid(c1, c2, fc)
    return torch.nn.Sequential(c1, _leaky((4, 7, 7), 0.9), c2, _leaky((8, 7, 7), 0.8), torch.nn.AvgPool2d(2),
                               torch.nn.Flatten(0), fc, _leaky((10,), 0.95, output=True))


def geometry_net(seed=3):
    """Groups inferred (2 and depthwise 4), dilation, a (h, w) stride / padding / kernel, bias-free conv,
    a padded pooling of stride != kernel."""
    torch.manual_seed(seed)
    c1 = torch.nn.Conv2d(2, 4, 3, dilation=2, groups=2)                                  # 4 x 6 x 6
    c2 = torch.nn.Conv2d(4, 4, (3, 2), stride=(2, 1), padding=(1, 0), groups=4, bias=False)   # 4 x 3 x 5
    fc = torch.nn.Linear(4 * 2 * 3, 6)                                                   # pooled: 4 x 2 x 3
    _grid(c1, c2, fc)
    return torch.nn.Sequential(c1, _leaky((4, 6, 6), 0.9), c2, _leaky((4, 3, 5), 0.85),
                               torch.nn.AvgPool2d(3, stride=2, padding=1), torch.nn.Flatten(0), fc,
                               _leaky((6,), 0.9, output=True))


GEOMETRY_ARCH = ("conv2d:dilation=2,leaky,conv2d:stride=2x1:padding=1x0,leaky,avgpool2d:kernel=3:stride=2:padding=1,"
                 "flatten,linear,leaky")


def snntorch_run(net, xs, shape):
    import snntorch.utils
    snntorch.utils.reset(net)
    out = []
    with torch.no_grad():
        for x in xs:
            spk, _mem = net(torch.from_numpy(x).reshape(shape))
            out.append(spk.numpy().copy())
    snntorch.utils.reset(net)
    return np.array(out)


def spikes(n, seed=1, p=0.3):
    return (np.random.default_rng(seed).random((STEPS, n)) < p).astype(np.float32)


def test_state_dict_cli_same_blob_as_from_torch_and_snntorch_spikes(tmp_path, capsys):
    net = scnn()
    sd = tmp_path / "scnn.pt"
    torch.save(net.state_dict(), sd)
    out = tmp_path / "scnn.ehm"
    assert main(["convert", str(sd), "-o", str(out), "--arch", ARCH, "--input-shape", f"2,{H},{H}"]) == 0
    assert "conv2d" in capsys.readouterr().out
    live = build(from_torch(net, torch.zeros(2, H, H)))[0].to_bytes()
    assert out.read_bytes() == live                       # the same blob on both routes
    same = ARCH.replace("conv2d:padding=1", "conv2d:padding=same")       # 3x3, stride 1: 'same' is padding 1
    assert build(load(str(sd), arch=same, input_shape=(2, H, H)))[0].to_bytes() == live
    xs = spikes(2 * H * H)
    ref = snntorch_run(net, xs, (2, H, H))
    assert 0.02 < ref.mean() < 0.9, ref.mean()          # the test exercises spiking
    ys, _ = snn_helpers.backends_agree(live, xs)
    np.testing.assert_array_equal(ys, ref)


def test_geometry_groups_dilation_hw(tmp_path):
    net = geometry_net()
    sd = tmp_path / "g.pth"
    torch.save(net.state_dict(), sd)
    graph = load(str(sd), arch=GEOMETRY_ARCH, input_shape=(2, 10, 10))
    assert any("groups 2 (inferred" in n for n in graph.notes) and any("groups 4 (inferred" in n for n in graph.notes)
    blob = build(graph)[0].to_bytes()
    assert blob == build(from_torch(net, torch.zeros(2, 10, 10)))[0].to_bytes()
    xs = spikes(200, seed=2, p=0.4)
    ref = snntorch_run(net, xs, (2, 10, 10))
    assert 0.02 < ref.mean() < 0.95, ref.mean()
    ys, _ = snn_helpers.backends_agree(blob, xs)
    np.testing.assert_array_equal(ys, ref)
    # explicit groups, same blob; a 'same' padding on the second conv is refused with stride 2 (PyTorch's rule)
    arch = GEOMETRY_ARCH.replace("conv2d:dilation=2", "conv2d:dilation=2:groups=2")
    assert build(load(str(sd), arch=arch, input_shape=(2, 10, 10)))[0].to_bytes() == blob
    with pytest.raises(ConvertError, match=r"layer 2 \(conv2d:stride=2x1:padding=same\).*'same' needs stride 1"):
        load(str(sd), arch=GEOMETRY_ARCH.replace("padding=1x0", "padding=same"), input_shape=(2, 10, 10))


def _cli_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_bad_input_one_line_errors(tmp_path, capsys):
    sd = tmp_path / "scnn.pt"
    torch.save(scnn().state_dict(), sd)
    base = ["convert", str(sd), "-o", str(tmp_path / "o.ehm"), "--arch"]
    shape = ["--input-shape", f"2,{H},{H}"]
    err = _cli_error(capsys, base + [ARCH])
    assert "--arch layer 0 (conv2d:stride=2:padding=1) needs the shape" in err and "--input-shape C,H,W" in err
    err = _cli_error(capsys, base + [ARCH, "--input-shape", f"3,{H},{H}"])
    assert "--arch layer 0 (conv2d:stride=2:padding=1) = state dict '0'" in err
    assert "weight [4, 2, 5, 5] takes 2 input channels (per group), the input has 3 channels (3, 16, 16)" in err
    err = _cli_error(capsys, base + [ARCH.replace("conv2d:stride=2", "conv2d:groups=2:stride=2", 1)] + shape)
    assert "weight [4, 2, 5, 5] with groups 2 takes 4 input channels, the input has 2 channels" in err
    err = _cli_error(capsys, base + [ARCH.replace("stride=2", "strides=2")] + shape)
    assert "--arch layer 0 (conv2d:strides=2:padding=1): unknown geometry key 'strides'; conv2d takes stride, " \
           "padding, dilation, groups" in err
    err = _cli_error(capsys, base + [ARCH.replace("padding=1,", "padding=0,", 1), "--input-shape", "2,4,4"])
    assert "--arch layer 0 (conv2d:stride=2:padding=0) = state dict '0': kernel 5 x 5 (span 5 x 5 with dilation " \
           "(1, 1)) larger than its padded input 4 x 4 (input (2, 4, 4), padding (0, 0, 0, 0))" in err
    err = _cli_error(capsys, base + [ARCH.replace("avgpool2d:2", "avgpool2d:9")] + shape)
    assert "--arch layer 4 (avgpool2d:9): kernel 9 x 9" in err and "padded input 7 x 7" in err
    err = _cli_error(capsys, base + [ARCH.replace("avgpool2d:2", "avgpool2d")] + shape)
    assert "--arch layer 4 (avgpool2d): avgpool2d needs its kernel size" in err
    err = _cli_error(capsys, base + [ARCH.replace("leaky,avg", "leaky:stride=2,avg")] + shape)
    assert "kind 'leaky' takes no geometry" in err
    err = _cli_error(capsys, base + [ARCH.replace("stride=2", "stride=two")] + shape)
    assert "stride='two' is not N or HxW" in err
    err = _cli_error(capsys, base + [ARCH.replace("flatten,linear", "linear")] + shape)
    assert "--arch layer 5 (linear) = state dict '6': its input has the shape (8, 3, 3): put a flatten before it" in err
    # without --arch the suggestion names conv2d
    err = _cli_error(capsys, ["convert", str(sd), "-o", str(tmp_path / "o.ehm")])
    assert "--arch conv2d,leaky,conv2d,leaky,linear,leaky" in err
    assert main(base + [ARCH, "--input-shape", "2,16"]) == 2
    assert "--input-shape: '2,16': expected C,H,W" in capsys.readouterr().err


def test_per_channel_neuron_parameters(tmp_path):
    """beta / threshold of shape (C, 1, 1) (one per channel, broadcast by torch in snnTorch's forward)
    on the conv layers: the state dict, from_torch and snnTorch agree."""
    net = scnn(seed=5)
    with torch.no_grad():
        net[1].beta = torch.nn.Parameter(torch.tensor([0.7, 0.8, 0.9, 0.95]).reshape(4, 1, 1), requires_grad=False)
        net[3].threshold = torch.nn.Parameter(torch.linspace(0.8, 1.3, 8).reshape(8, 1, 1) + OFF_GRID,
                                              requires_grad=False)
    sd = tmp_path / "pc.pt"
    torch.save(net.state_dict(), sd)
    assert list(torch.load(sd)["1.beta"].shape) == [4, 1, 1]
    blob = build(load(str(sd), arch=ARCH, input_shape=(2, H, H)))[0].to_bytes()
    assert blob == build(from_torch(net, torch.zeros(2, H, H)))[0].to_bytes()
    xs = spikes(2 * H * H, seed=4)
    ref = snntorch_run(net, xs, (2, H, H))
    assert 0.02 < ref.mean() < 0.9, ref.mean()
    ys, _ = snn_helpers.backends_agree(blob, xs)
    np.testing.assert_array_equal(ys, ref)
