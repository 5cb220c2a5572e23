"""Spike (event) inputs sent packed: a b1 model input and unpack_spikes_b1 (60, format 1.6).

An event camera's step is C x H x W pixels that fired or not; the model takes them as b1 words
(1 bit each, `edgehost convert --spike-input`), so a 2 x 34 x 34 step is 292 bytes on the wire,
not 9,248 (f32) or 2,312 (spike bytes). The host API and the CLI take the 0/1 entries too."""
from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgehost.blob import BlobError, read
from edgehost.blob.bits import as_b1_rows, pack_rows, unpack_rows, words
from edgehost.convert import build
from edgehost.convert import graph as G
from edgehost.runtime import HostModel
from edgehost.runtime.native import CTool, build_tool

ARENA = 1 << 16


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 200), rows=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_pack_unpack_rows(n, rows, seed):
    b = (np.random.default_rng(seed).random((rows, n)) < 0.4).astype(np.uint8)
    w = pack_rows(b, n)
    assert w.dtype == np.uint32 and w.shape == (rows, words(n))
    for r in range(rows):                   # bit i of word k is entry 32 k + i, padding bits 0
        for i in range(n):
            assert (int(w[r, i // 32]) >> (i % 32)) & 1 == b[r, i]
        if n % 32:
            assert int(w[r, -1]) >> (n % 32) == 0
    np.testing.assert_array_equal(unpack_rows(w, n), b)
    np.testing.assert_array_equal(as_b1_rows(b, n) if n != words(n) else pack_rows(b, n), w)


def test_pack_rows_refuses_other_values():
    with pytest.raises(ValueError, match="0 or 1"):
        pack_rows(np.array([0, 2, 1]), 3)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        pack_rows(np.zeros(3), 4)


def _graph(rng, n_in, kind):
    """Input -> Fc -> LIF -> Fc -> LIF, the input taken as `kind` ('spikes' or 'values')."""
    h, o = int(rng.integers(3, 40)), int(rng.integers(2, 9))
    layers = [G.Fc(rng.normal(0, 0.6, (h, n_in)), rng.normal(0, 0.1, h)),
              G.Lif(np.full(h, 0.9), np.full(h, 1.0)),
              G.Fc(rng.normal(0, 0.6, (o, h)), None),
              G.Lif(np.full(o, 0.8), np.full(o, 1.0))]
    return G.Graph(n_in, layers, input_kind=kind)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_in=st.integers(1, 100), seed=st.integers(0, 2**32 - 1))
def test_spike_input_model_computes_what_the_value_input_does(n_in, seed, native):
    """float32: the b1 input, unpacked to spikes and turned into floats, gives the very numbers of
    the same graph fed the 0/1 values as floats; C == numpy == cffi kernels on the b1 model."""
    rng = np.random.default_rng(seed)
    gs, gv = _graph(rng, n_in, "spikes"), None
    gv = G.Graph(n_in, gs.layers, input_kind="values")
    ms, _ = build(gs, quantize="none")
    mv, _ = build(gv, quantize="none")
    ti = ms.input_tensor
    assert ti.dtype == "b1" and ti.n == n_in and ms.layers[0].type == "unpack_spikes_b1"
    blob = ms.to_bytes()
    assert struct.unpack_from("<H", blob, 6)[0] == 6       # the layer is format 1.6
    xs = (rng.random((15, n_in)) < 0.3).astype(np.uint8)
    ys_v, _ = HostModel(mv, "sim").run(xs.astype(np.float32))
    ys_s, _ = HostModel(ms, "sim").run(xs)                   # 0/1 entries, packed by the host model
    yk, _ = HostModel(blob, "kernels").run(pack_rows(xs, n_in))
    yc, _ = native.run(blob, pack_rows(xs, n_in))
    np.testing.assert_array_equal(ys_s, ys_v)
    np.testing.assert_array_equal(yk, ys_v)
    np.testing.assert_array_equal(yc, ys_v)


def test_spike_input_q15_runs_event_driven_and_agrees(native):
    rng = np.random.default_rng(5)
    g = _graph(rng, 70, "spikes")
    xs = (rng.random((4, 30, 70)) < 0.3).astype(np.float32)
    m, rep = build(g, quantize="q15", calib=xs)
    kinds = [l.type for l in m.layers]
    # no input_q15: spikes stay spikes (the input-major layout from 8 outputs, edgehost.convert.layout)
    assert kinds[:2] == ["unpack_spikes_b1", "fc_spike_t_q15" if m.layers[1].n_out >= 8 else "fc_spike_q15"]
    blob = m.to_bytes()
    for seq in xs:
        yc, _ = native.run(blob, pack_rows(seq.astype(np.uint8), 70))
        yk, _ = HostModel(blob, "kernels").run(seq.astype(np.uint8))
        np.testing.assert_array_equal(yc, yk)


def test_bad_spike_entries_are_refused():
    rng = np.random.default_rng(1)
    m, _ = build(_graph(rng, 40, "spikes"), quantize="none")
    hm = HostModel(m, "sim")
    with pytest.raises(ValueError, match="0 or 1"):
        hm.step(np.full(40, 2))
    with pytest.raises(ValueError, match="or 40 entries 0/1"):
        hm.step(np.zeros(39))


def test_loaders_check_unpack_alike(native):
    """A b1 -> spike unpack whose sizes or dtypes are wrong: both loaders refuse it, same code and
    message start."""
    rng = np.random.default_rng(2)
    good = build(_graph(rng, 45, "spikes"), quantize="none")[0].to_bytes()
    rc, *_r, err = native.check([good], ARENA)[0]
    assert rc == 0, err
    # every bit of the header, tensor table and layer records flipped in turn (hash and CRC
    # refreshed, so the structural checks are reached)
    m = read(good, arena_size=ARENA)
    assert m.layers[0].type == "unpack_spikes_b1"
    from edgehost.blob import crc32, fnv1a32
    bad_blobs = []
    for pos in range(24, min(len(good), 1024)):
        c = bytearray(good)
        c[pos] ^= 1 << (pos % 8)
        total = struct.unpack_from("<I", c, 12)[0]
        if total > len(c):
            continue
        struct.pack_into("<I", c, 20, fnv1a32(bytes(c[24:total])))
        struct.pack_into("<I", c, 16, crc32(bytes(c[20:total])))
        bad_blobs.append(bytes(c))
    res = native.check(bad_blobs, ARENA)
    refused = 0
    for blob, (rc, used, h, ib, ob, nl, err) in zip(bad_blobs, res):
        try:
            read(blob, arena_size=ARENA)
            code, msg = 0, ""
        except BlobError as e:
            code, msg = e.code, str(e)
        assert rc == code, (err, msg)
        if rc:
            refused += 1
            assert err.split(":")[0] == msg.split(":")[0], (err, msg)
    assert refused > 0


def test_cli_spike_input_refuses_calibration_that_is_not_events(tmp_path, capsys):
    """--spike-input with a --calib holding other values than 0/1: a one-line error, no output."""
    pytest.importorskip("nir")
    from edgehost.cli import main
    from edgehost.demos.scnn.demo import NIR_FILE
    calib = tmp_path / "c.npy"
    np.save(calib, np.full((3, 2312), 2.0, np.float32))
    out = tmp_path / "m.ehm"
    rc = main(["convert", str(NIR_FILE), "-o", str(out), "--quantize", "q15", "--if-dt", "1", "--spike-input",
               "--calib", str(calib)])
    err = capsys.readouterr().err
    assert rc != 0 and not out.exists()
    assert "with --spike-input the inputs are events, 0 or 1; 6936 of 6936 values are not" in err
    assert "Traceback" not in err and "internal error" not in err
