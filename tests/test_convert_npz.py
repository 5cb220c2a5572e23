"""The npz importer, the CLI (convert, inspect, --emit-c), and the arena the firmware reports."""
from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from edgehost.blob import read
from edgehost.cli import main
from edgehost.convert import ConvertError, build, load
from edgehost.convert.examples import random_graph
from edgehost.convert.npz import load_npz, save_npz
from edgehost.runtime import HostModel
from edgehost.runtime.native import ROOT, CTool, build_tool, sources


@pytest.fixture(scope="module")
def ctool(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


@pytest.mark.parametrize("seed", range(12))
def test_npz_roundtrip(seed, tmp_path):
    rng = np.random.default_rng(seed)
    g = random_graph(rng)
    save_npz(g, tmp_path / "m.npz")
    g2 = load_npz(tmp_path / "m.npz")
    for q in ("none", "q15"):
        assert build(g, quantize=q)[0].to_bytes() == build(g2, quantize=q)[0].to_bytes()


def test_npz_schema_inline_and_keys(tmp_path):
    w = np.arange(12, dtype=np.float32).reshape(4, 3) / 8
    layers = [{"type": "fc", "weight": "w1", "bias": [0.5, 0, 0, -0.5]},
              {"type": "lif", "beta": 0.875, "threshold": 1.0, "reset": "zero"},
              {"type": "fc", "weight": "w2"}, {"type": "li", "beta": [0.5]}, {"type": "argmax"}]
    np.savez(tmp_path / "m.npz", layers=np.array(json.dumps(layers)), w1=w, w2=np.ones((2, 4)))
    g = load(str(tmp_path / "m.npz"))
    assert g.n_in == 3 and [l.kind for l in g.layers] == ["fc", "lif", "fc", "li", "argmax"]
    m, _ = build(g)
    assert [l.type for l in m.layers] == ["fc_f32", "lif_f32", "spike_f32", "fc_f32", "li_f32", "argmax"]
    assert m.layers[1].reset == "zero"
    ys, _ = HostModel(m, "kernels").run(np.ones((5, 3), np.float32))
    assert ys.dtype == np.uint32 and ys.shape == (5, 1)


@pytest.mark.parametrize("layers,extra,msg", [
    (None, {}, "no 'layers' entry"),
    ("[", {}, "not valid JSON"),
    ([{"type": "conv2d"}], {}, "type 'conv2d' unsupported; supported: norm, fc"),
    ([{"type": "fc", "weight": "nope"}], {}, "refers to 'nope', not in the archive"),
    ([{"type": "fc"}], {}, "missing 'weight'"),
    ([{"type": "fc", "weight": "w", "colour": 1}], {"w": np.ones((2, 2))}, "unknown fields"),
    ([{"type": "fc", "weight": "w"}, {"type": "fc", "weight": "w"}], {"w": np.ones((2, 3))}, "weight shape"),
    ([{"type": "fc", "weight": "w"}, {"type": "lif", "beta": 1.5, "threshold": 1}], {"w": np.ones((2, 2))},
     "beta outside"),
    ([{"type": "fc", "weight": "w"}, {"type": "lif", "beta": 0.5, "threshold": 1, "reset": "hold"}],
     {"w": np.ones((2, 2))}, "reset must be"),
    ([{"type": "relu"}], {}, "give 'n_in'"),
])
def test_npz_errors(layers, extra, msg, tmp_path):
    arrays = dict(extra)
    if layers is not None:
        arrays["layers"] = np.array(layers if isinstance(layers, str) else json.dumps(layers))
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(ConvertError, match=msg):
        load(str(tmp_path / "m.npz"))


# .pt/.pth and .tflite have importers now (their errors: tests/test_convert_torch.py, _tflite.py)
@pytest.mark.parametrize("ext,msg", [(".onnx", "not yet supported"),
                                     (".h5", "unknown model type")])
def test_unsupported_inputs(ext, msg, tmp_path, capsys):
    p = tmp_path / f"m{ext}"
    p.write_bytes(b"x")
    assert main(["convert", str(p), "-o", str(tmp_path / "o.ehm")]) == 2
    err = capsys.readouterr().err
    assert msg in err and "supported inputs: .nir" in err


def _npz(tmp_path, seed=0):
    g = random_graph(np.random.default_rng(seed))
    save_npz(g, tmp_path / "m.npz")
    return g


@pytest.mark.parametrize("quant", ["none", "q15"])
def test_cli_convert_inspect_and_firmware_agree(quant, tmp_path, capsys, ctool):
    g = _npz(tmp_path, seed=4)
    calib = np.random.default_rng(1).normal(size=(30, g.n_in))
    np.save(tmp_path / "calib.npy", calib)
    out = tmp_path / "m.ehm"
    args = ["convert", str(tmp_path / "m.npz"), "-o", str(out), "--quantize", quant, "--json",
            "--emit-c", str(tmp_path / "model_blob.h")]
    if quant == "q15":
        args += ["--calib", str(tmp_path / "calib.npy")]
    assert main(args) == 0
    conv = json.loads(capsys.readouterr().out)
    blob = out.read_bytes()
    assert conv["bytes"] == len(blob)
    if quant == "q15":
        assert all("blob_layer" in r for r in conv["quantization"])
    assert main(["inspect", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    m = read(blob)
    rc, used, h, ib, ob, nl, err = ctool.check([blob], 1 << 20)[0]
    assert rc == 0, err
    assert info["arena_bytes"] == used == m.arena_size == conv["arena_bytes"]
    assert info["hash"] == f"0x{h:08x}" and info["n_layers"] == nl
    assert info["param_bytes"] == sum(l["param_bytes"] for l in info["layers"])
    assert info["macs"] == sum(l["macs"] for l in info["layers"]) > 0
    fc = [l for l in info["layers"] if l["type"].startswith("fc")]
    assert all(l["macs"] == l["input"]["shape"][0] * l["output"]["shape"][0] for l in fc)
    bits = {"fc_f32": 32 * 32, "fc_q15": 16 * 16, "fc_spike_q15": 16, "fc_spike_t_q15": 16, "fc_b1_f32": 1,
            "fc_b1_bits": 1}
    assert all(l["ace"] == l["macs"] * bits[l["type"]] for l in fc)
    assert "boards" in info and {b["board"] for b in info["boards"]} >= {"microbit", "mps2-an386"}
    # the text form
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "arena" in text and "fits:" in text
    # the emitted header loads in the C loader and reports the same arena
    prog = tmp_path / "use_header.c"
    prog.write_text('#include <stdio.h>\n#include "eh_model.h"\n#include "model_blob.h"\n'
                    "static uint8_t arena[MODEL_BLOB_ARENA_SIZE];\nstatic eh_model m;\n"
                    "int main(void) { int32_t rc = eh_model_load(&m, model_blob, MODEL_BLOB_LEN, arena, sizeof arena);\n"
                    '  printf("%d %u %u\\n", (int)rc, (unsigned)eh_model_arena_used(&m), (unsigned)eh_model_hash(&m));\n'
                    "  return rc != 0 || eh_model_hash(&m) != MODEL_BLOB_HASH; }\n")
    exe = tmp_path / "use_header"
    inc = ["-I", os.path.join(ROOT, "kernels_c", "include"), "-I", os.path.join(ROOT, "firmware", "model"),
           "-I", os.path.join(ROOT, "kernels_c", "src"), "-I", str(tmp_path)]
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", *inc, str(prog),
                    *sources(), "-o", str(exe)], check=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    assert r.stdout.split()[:2] == ["0", str(m.arena_size)]


def test_inspect_rejects_bad_blob(tmp_path, capsys):
    p = tmp_path / "bad.ehm"
    p.write_bytes(b"EHMB" + bytes(100))
    assert main(["inspect", str(p)]) == 2
    assert "header: format version 0.0 not supported" in capsys.readouterr().err


def test_npz_binary_layers(tmp_path):
    rng = np.random.default_rng(2)
    layers = [{"type": "fc", "weight": "w0"}, {"type": "lif", "beta": 0.5, "threshold": 1.0},
              {"type": "fc_b1", "weight": "w1", "threshold": "t1"},
              {"type": "fc_b1", "weight": "w2", "scale": "s2", "bias": None}, {"type": "argmax"}]
    np.savez(tmp_path / "b.npz", layers=np.array(json.dumps(layers)), w0=rng.normal(size=(40, 3)),
             w1=rng.choice([-1, 1], size=(10, 40)), t1=np.zeros(10, int), w2=rng.choice([-1, 1], size=(3, 10)),
             s2=np.ones(3))
    m, _ = build(load(str(tmp_path / "b.npz")))
    assert [l.type for l in m.layers] == ["fc_f32", "lif_f32", "pack_spikes_b1", "fc_b1_bits", "fc_b1_f32", "argmax"]
    assert m.tensors[m.layers[3].output].nbytes == 4 and m.tensors[m.layers[2].output].nbytes == 8
    bad = [{"type": "fc_b1", "weight": "w", "scale": [1.0, 1.0]}]
    np.savez(tmp_path / "c.npz", layers=np.array(json.dumps(bad)), w=np.full((2, 3), 0.5))
    with pytest.raises(ConvertError, match="weights must be -1 or"):
        load(str(tmp_path / "c.npz"))
    np.savez(tmp_path / "d.npz", layers=np.array(json.dumps(bad)), w=np.ones((2, 3)))
    with pytest.raises(ConvertError, match=r"fc_b1\): its input must be spikes or binary, got f32"):
        build(load(str(tmp_path / "d.npz")))
