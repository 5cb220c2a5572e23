"""`edgehost convert --binarize / --shiftadd pow2|bcq:K / --mst-depth N`: real small models (an
npz SNN, a binary network, an snnTorch state dict built here) converted with the quantisers of
edgehost.quant and edgehost.sim.mst, compared with the float original within stated tolerances,
and bit-exact between the host backends (numpy, C kernels) and the firmware's interpreter."""
from __future__ import annotations

import json

import numpy as np
import pytest

from edgehost.cli import main
from edgehost.convert import BinFc, ConvertError, Fc, Graph, Li, Lif, build, load
from edgehost.convert.lower import Compress
from edgehost.runtime import HostModel
from edgehost.runtime.native import CTool, build_tool


@pytest.fixture(scope="module")
def ctool(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


def snn_layers(seed=0):
    """npz layer list + arrays: fc 6->32, lif, fc 32->24, lif, fc 24->4, li (weights of the two
    spike-driven layers near +-c, as a binary-aware training would leave them)."""
    rng = np.random.default_rng(seed)

    def pm(*sh):
        return rng.choice([-1, 1], size=sh) * (1 + 0.15 * rng.normal(size=sh))

    arrays = {"w0": rng.normal(size=(32, 6)) * 1.5, "b0": rng.normal(size=32) * 0.2, "w1": pm(24, 32) * 0.25,
              "w2": pm(4, 24) * 0.3, "b2": rng.normal(size=4) * 0.1}
    layers = [{"type": "fc", "weight": "w0", "bias": "b0"}, {"type": "lif", "beta": 0.9, "threshold": 1.0},
              {"type": "fc", "weight": "w1"}, {"type": "lif", "beta": 0.85, "threshold": 1.0},
              {"type": "fc", "weight": "w2", "bias": "b2"}, {"type": "li", "beta": 0.9}]
    return layers, arrays


def write_npz(path, layers, arrays):
    np.savez(path, layers=np.array(json.dumps(layers)), **arrays)
    return path


def inputs(steps=200, seed=1):
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None]
    return (np.sin(t / (5 + np.arange(6))) * 2 + rng.normal(size=(steps, 6)) * 0.3).astype(np.float32)


def readout(model, xs, backend="sim"):
    ys, _ = HostModel(model, backend).run(xs)
    t = model.output_tensor
    return ys, ys.astype(np.float64) * (t.scale if t.dtype == "q15" else 1.0)


def same_everywhere(model, xs, ctool):
    blob = model.to_bytes()
    ys, _ = HostModel(blob, "sim").run(xs)
    np.testing.assert_array_equal(ys, HostModel(blob, "kernels").run(xs)[0])
    np.testing.assert_array_equal(ys, ctool.run(blob, xs)[0])


# readout RMS error over 200 steps as a fraction of the float readout's range (measured: q15
# 1.3 %, pow2 5.7 %, bcq:3 6.1 %, bcq:2 8.6 %, binarize 4.5 % (float and q15), binarize + pow2 +
# MST 7.2 %; the tolerances leave room for other seeds of the same construction)
TOL = [("q15", {}, 0.03), ("q15", {"shiftadd": "pow2"}, 0.10), ("q15", {"shiftadd": "bcq:3"}, 0.10),
       ("q15", {"shiftadd": "bcq:2"}, 0.14), ("none", {"binarize": True}, 0.08), ("q15", {"binarize": True}, 0.08),
       ("q15", {"binarize": True, "shiftadd": "pow2", "mst_depth": 2}, 0.12)]


@pytest.mark.parametrize("quant,opts,tol", TOL, ids=[f"{q}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'plain'}"
                                                      for q, o, _ in TOL])
def test_compressed_snn_against_float(quant, opts, tol, tmp_path, ctool):
    layers, arrays = snn_layers()
    g = load(str(write_npz(tmp_path / "m.npz", layers, arrays)))
    xs = inputs()
    _, ref = readout(build(g)[0], xs)
    model, rep = build(g, quantize=quant, calib=xs[:100], compress=Compress(**opts))
    types = [l.type for l in model.layers]
    if opts.get("shiftadd") == "pow2":
        assert "shiftadd_fc_q15" in types and "fc_q15" not in types
    if str(opts.get("shiftadd", "")).startswith("bcq"):
        assert "bcq_fc_q15" in types and "fc_q15" not in types
    if opts.get("binarize"):
        assert types.count("mst_fc_b1_f32" if "mst_depth" in opts else "fc_b1_f32") == 2
        assert "fc_spike_q15" not in types and "spike_f32" not in types
    _, y = readout(model, xs)
    err = np.sqrt(np.mean((y - ref) ** 2)) / np.ptp(ref)
    assert err < tol, f"readout RMS error {100 * err:.2f} % of the range"
    # the report names what was compressed, the weight error and the work before and after
    comp = [r["compress"] for r in rep["layers"] if "compress" in r]
    assert len(comp) == (1 if "shiftadd" in opts else 0) + (2 if opts.get("binarize") else 0)
    for c in comp:
        assert c["macs_after"] <= c["macs_before"] * (int(opts["shiftadd"][4:]) if c["to"] == "bcq_fc_q15" else 1)
        assert c["ace_after"] < c["ace_before"]
        assert 5 < c["weight_sqnr_db"] < 60
    same_everywhere(model, xs[:40], ctool)


def test_binarize_is_exact_on_binary_weights(ctool):
    """--binarize re-expresses alpha sign(W) s + b exactly: on weights already of the form
    alpha sign(W) the float path gives the float original (to float32 rounding)."""
    rng = np.random.default_rng(4)
    w1 = rng.choice([-1, 1], size=(9, 20)) * rng.uniform(0.1, 0.5, size=(9, 1))
    g = Graph(5, [Fc(rng.normal(size=(20, 5)) * 2), Lif(np.full(20, 0.8), np.ones(20)), Fc(w1, rng.normal(size=9)),
                  Li(np.full(9, 0.7))])
    xs = rng.normal(size=(60, 5)).astype(np.float32)
    _, ref = readout(build(g)[0], xs)
    m, rep = build(g, compress=Compress(binarize=True))
    _, y = readout(m, xs)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    assert rep["layers"][2]["compress"]["weight_max_abs_error"] < 1e-12
    same_everywhere(m, xs, ctool)


def binary_net(seed=3, k=300, n_h=64):
    """fc 6->k, lif, binary fc k->n_h with thresholds (rows in a few families of near copies, as
    an MST-regularised training gives), binary fc n_h->5 with float scale and bias."""
    rng = np.random.default_rng(seed)
    base = rng.choice([-1, 1], size=(6, k))
    w1 = base[rng.integers(0, 6, size=n_h)]
    w1[rng.random(w1.shape) < 0.01] *= -1
    return Graph(6, [Fc(rng.normal(size=(k, 6)) * 2), Lif(np.full(k, 0.8), np.ones(k)),
                     BinFc(w1, threshold=rng.integers(-20, 20, size=n_h)),
                     BinFc(rng.choice([-1, 1], size=(5, n_h)), scale=rng.uniform(0.05, 0.2, 5), bias=rng.normal(size=5))])


@pytest.mark.parametrize("quant", ["none", "q15"])
def test_mst_is_lossless_and_saves_work(quant, ctool):
    g = binary_net()
    xs = inputs(50)
    plain, _ = build(g, quantize=quant)
    for depth in (1, 3, 8):
        m, rep = build(g, quantize=quant, compress=Compress(mst_depth=depth))
        assert [l.type for l in m.layers][-2:] == ["mst_fc_b1_bits", "mst_fc_b1_f32"]
        ya, _ = HostModel(plain, "sim").run(xs)
        yb, _ = HostModel(m, "sim").run(xs)
        np.testing.assert_array_equal(ya, yb)               # lossless, same channel order
        c = [r["compress"] for r in rep["layers"] if "compress" in r][0]
        assert c["to"] == "mst_fc_b1_bits" and c["mst_depth"] <= depth and c["mst_children"] > 0
        assert c["macs_after"] < 0.5 * c["macs_before"]     # most rows are near copies of a root
        same_everywhere(m, xs[:20], ctool)


def test_bn_folded_into_integer_thresholds(tmp_path, ctool):
    """npz fc_b1 with batch norm then sign: folded into integer thresholds (and flipped rows for a
    negative gamma) by edgehost.sim.binary.fold_bn_sign; equal to sign(BN(dot)) computed here."""
    rng = np.random.default_rng(9)
    n_h, k = 13, 40
    w = rng.choice([-1, 1], size=(n_h, k))
    bn = {"gamma": rng.uniform(-2, 2, n_h), "beta": rng.normal(size=n_h), "mean": rng.normal(size=n_h) * 3,
          "var": rng.uniform(0.5, 4, n_h)}
    bn["gamma"][0] = 0.0
    w2 = rng.choice([-1, 1], size=(3, n_h))
    layers = [{"type": "fc", "weight": "w0"}, {"type": "lif", "beta": 0.8, "threshold": 1.0},
              {"type": "fc_b1", "weight": "w", "bn": {"gamma": "g", "beta": "b", "mean": "m", "var": "v", "eps": 1e-3}},
              {"type": "fc_b1", "weight": "w2", "scale": [1.0, 1.0, 1.0]}]
    p = write_npz(tmp_path / "bn.npz", layers, {"w0": rng.normal(size=(k, 4)) * 2, "w": w, "w2": w2, "g": bn["gamma"],
                                                 "b": bn["beta"], "m": bn["mean"], "v": bn["var"]})
    g = load(str(p))
    xs = rng.normal(size=(40, 4)).astype(np.float32)
    for comp in (Compress(), Compress(mst_depth=2)):
        m, _ = build(g, quantize="q15", compress=comp)
        ys, tr = HostModel(m, "sim").run(xs)
        lif = [i for i, l in enumerate(m.layers) if l.type == "lif_q15"][0]
        for t in range(len(xs)):
            b = 1 - 2 * tr[t][lif].astype(np.int64)
            z = bn["gamma"] * (w @ b - bn["mean"]) / np.sqrt(bn["var"] + 1e-3) + bn["beta"]
            h = np.where(z < 0, -1, 1)
            np.testing.assert_array_equal(ys[t], (w2 @ h).astype(np.float32))
        same_everywhere(m, xs[:20], ctool)


def test_cli_compress_report_and_inspect(tmp_path, capsys, ctool):
    layers, arrays = snn_layers()
    p = write_npz(tmp_path / "m.npz", layers, arrays)
    np.save(tmp_path / "calib.npy", inputs(100))
    out = tmp_path / "m.ehm"
    assert main(["convert", str(p), "-o", str(out), "--quantize", "q15", "--shiftadd", "pow2", "--binarize",
                 "--mst-depth", "2", "--calib", str(tmp_path / "calib.npy"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [c["to"] for c in d["compress"]] == ["shiftadd_fc_q15", "mst_fc_b1_f32", "mst_fc_b1_f32"]
    assert main(["convert", str(p), "-o", str(out), "--quantize", "q15", "--shiftadd", "bcq:3", "--binarize",
                 "--calib", str(tmp_path / "calib.npy")]) == 0
    text = capsys.readouterr().out
    assert "compression" in text and "bcq_fc_q15" in text and "weight SQNR" in text and "output vs the float model" in text
    assert main(["inspect", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    rows = {r["type"]: r for r in info["layers"]}
    assert rows["bcq_fc_q15"]["macs"] == 3 * 32 * 6 and rows["bcq_fc_q15"]["ace"] == 3 * 32 * 6 * 16
    assert rows["fc_b1_f32"]["ace"] == rows["fc_b1_f32"]["macs"] > 0
    assert info["format"] == "ehm 1.4"
    same_everywhere(load_blob(out), inputs(30), ctool)
    # bad options: a clear error
    assert main(["convert", str(p), "-o", str(out), "--shiftadd", "pow2"]) == 2           # float path
    assert "needs --quantize q15" in capsys.readouterr().err
    assert main(["convert", str(p), "-o", str(out), "--quantize", "q15", "--shiftadd", "bcq:9"]) == 2
    assert "bcq:K with K in 1..8" in capsys.readouterr().err
    with pytest.raises(ConvertError, match="mst depth"):
        Compress(mst_depth=-1)


def load_blob(path):
    from edgehost.blob import read
    return read(open(path, "rb").read())


def test_torch_state_dict_binarized(tmp_path, ctool):
    """An snnTorch network (Linear, Leaky, Linear, Leaky) saved as a state dict: --binarize makes
    its second Linear (fed by spikes) binary; the output spikes agree with the float original."""
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 40), snn.Leaky(beta=0.9, init_hidden=True),
                              torch.nn.Linear(40, 8), snn.Leaky(beta=0.85, init_hidden=True, output=True))
    with torch.no_grad():
        net[0].weight.mul_(4)
        w = net[2].weight
        w.copy_(torch.sign(w) * (0.6 + 0.1 * torch.rand_like(w)))
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    g = load(str(path), arch="linear,leaky,linear,leaky")
    xs = inputs(150)
    ref, _ = HostModel(build(g)[0], "sim").run(xs)
    assert 0.2 < ref.mean() < 0.8                           # the network spikes (measured 556 of 1200)
    # output spike agreement with the float original over 150 steps, measured: float path 98.2 %
    # binarised; Q15 (no calibration) 89.9 % plain and 89.5 % binarised
    for quant, tol in (("none", 0.95), ("q15", 0.85)):
        m, rep = build(g, quantize=quant, compress=Compress(binarize=True))
        assert "fc_b1_f32" in [l.type for l in m.layers]
        ys, _ = HostModel(m, "sim").run(xs)
        agree = float(np.mean(ys == ref))
        assert agree > tol, agree
        plain = float(np.mean(HostModel(build(g, quantize=quant)[0], "sim").run(xs)[0] == ref))
        assert agree > plain - 0.03, (agree, plain)          # binarising costs little beyond Q15
        same_everywhere(m, xs[:30], ctool)
