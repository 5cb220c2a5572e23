"""The L2MU as a layer of the .ehm blob (l2mu_q15, format 1.1): the host interpreter ("sim" and
"kernels"), the firmware's C interpreter (built natively with ASan+UBSan) and
edgehost.sim.l2mu_run_q15 agree bit for bit; round trips; every malformed L2MU field refused by
both loaders with the same named error; the arena the C loader reports is the plan."""
from __future__ import annotations

import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgehost import sim
from edgehost.blob import BlobError, lifetimes, read
from edgehost.blob import format as F
from edgehost.blob import l2mu as B
from edgehost.convert.analyze import l2mu_ops, summary
from edgehost.convert.examples import har_inputs, har_sized_l2mu_cell, random_l2mu_cell
from edgehost.convert.l2mu_layer import l2mu_blob, l2mu_model
from edgehost.runtime import HostModel
from edgehost.runtime.native import CTool, build_tool

from test_blob import refresh

HAR_CELL = os.path.join(os.path.dirname(__file__), "..", "host", "edgehost", "demos", "har", "model",
                        "l2mu_hapt_q15.npz")


@pytest.fixture(scope="module")
def ctool(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


def _inputs(rng, m, steps):
    if m.input_tensor.dtype == "f32":
        xs = rng.normal(size=(steps, m.input_tensor.n)) * rng.choice([0.5, 2.0, 8.0])
        xs[rng.random(xs.shape) < 0.05] = 1e6          # saturating inputs
        return xs.astype(np.float32)
    return rng.integers(-32768, 32768, size=(steps, m.input_tensor.n)).astype(np.int16)


def _q15_inputs(m, xs, traces):
    """The q15 samples the L2MU layer saw (after the input layer, if any)."""
    if m.input_tensor.dtype == "q15":
        return np.asarray(xs, np.int16)
    return np.array([t[0] for t in traces], np.int16)


def _reference(cell, xq):
    """Per step the readout membrane, by edgehost.sim.l2mu_run_q15 one step at a time, and the
    whole-run (state, trace) of l2mu_run_q15."""
    state = None
    vs = []
    for t in range(len(xq)):
        state, _ = sim.l2mu_run_q15(cell, xq[t:t + 1], state)
        vs.append(state["o"]["v"].copy())
    return np.array(vs), sim.l2mu_run_q15(cell, xq)


def check_all_agree(cell, ctool, xs, input_scale=4096.0, input="f32", reuse=True):
    m = l2mu_model(cell, input_scale, input=input, reuse=reuse)
    blob = m.to_bytes()
    ys, ts = HostModel(blob, "sim").run(xs)
    yk, tk = HostModel(blob, "kernels").run(xs)
    yc, tc = ctool.run(blob, xs)
    np.testing.assert_array_equal(ys, yk)
    np.testing.assert_array_equal(ys, yc)
    for a, b, c in zip(ts, tk, tc):
        for p, q, r in zip(a, b, c):
            np.testing.assert_array_equal(p, q)
            if r is not None:
                np.testing.assert_array_equal(p, r)
    xq = _q15_inputs(m, xs, ts)
    v_ref, (state, trace) = _reference(cell, xq)
    np.testing.assert_array_equal(ys, v_ref)
    if cell.get("readout", "lif") == "li":
        np.testing.assert_array_equal(ys, trace)
    else:   # the LIF readout's spike is v > threshold of the same step (reset comes next step)
        thr = np.broadcast_to(np.asarray(cell["pop_o"]["threshold"], np.int32), (ys.shape[1],))
        np.testing.assert_array_equal((ys.astype(np.int32) > thr).astype(np.uint8), trace)
    # the state tensors hold the sim's final state, in the documented layout
    hm = HostModel(blob, "kernels")
    hm.run(xs)
    lay = m.layers[-1]
    d = B.Desc(lay.params[0])
    tens = {"v": hm.tensor(lay.states[0]), "i_syn": hm.tensor(lay.states[0]), "s": hm.tensor(lay.states[1])}
    for p, f, start, n in B.state_layout(d):
        ref = state["enc"][int(p[-1])] if p.startswith("enc") else state[p]
        np.testing.assert_array_equal(tens[f][start:start + n], ref[f])
    return m, blob, ys


# ---- the interpreters agree ----------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), reuse=st.booleans())
def test_random_cells_all_interpreters_agree(seed, reuse, ctool):
    rng = np.random.default_rng(seed)
    cell = random_l2mu_cell(rng)
    inp = "f32" if rng.random() < 0.6 else "q15"
    m = l2mu_model(cell, 4096.0, input=inp)
    check_all_agree(cell, ctool, _inputs(rng, m, 41), input=inp, reuse=reuse)


def test_har_sized_cell_all_interpreters_agree(ctool):
    cell = har_sized_l2mu_cell(0)
    xs = np.concatenate([har_inputs(40), har_inputs(20, amplitude=6.0)])
    m, blob, ys = check_all_agree(cell, ctool, xs)
    # the cell is alive: the readout moves and every population spiked at some point
    assert np.ptp(ys, axis=0).min() > 0
    # the C loader reports the planned arena; one word less is refused by both loaders
    rc, used, h, ib, ob, nl, err = ctool.check([blob], m.arena_size)[0]
    assert (rc, used, h, ib, ob, nl) == (0, m.arena_size, m.model_hash, 24, 12, 2), err
    assert ctool.check([blob], m.arena_size - 4)[0][0] == F.E_ARENA
    with pytest.raises(BlobError) as e:
        read(blob, arena_size=m.arena_size - 4)
    assert e.value.code == F.E_ARENA


@pytest.mark.skipif(not os.path.exists(HAR_CELL), reason="the trained HAR cell is not there yet")
def test_trained_har_cell_all_interpreters_agree(ctool):
    from edgehost.demos.har.cellio import load_cell
    cell = load_cell(HAR_CELL)
    xs = np.concatenate([har_inputs(40, phase=p) for p in (0, 17)])
    check_all_agree(cell, ctool, xs)


def test_reset_state_restarts_the_sequence(ctool):
    cell = har_sized_l2mu_cell(1)
    blob = l2mu_blob(cell, 4096.0)
    xs = har_inputs(12)
    hm = HostModel(blob, "sim")
    a, _ = hm.run(xs)
    b, _ = hm.run(xs, reset=False)          # carries the state on: differs
    c, _ = hm.run(xs)                        # reset: the same again
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(ctool.run(blob, np.concatenate([xs, xs]))[0], np.concatenate([a, b]))


# ---- the blob --------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_roundtrip_and_decode(seed):
    rng = np.random.default_rng(seed)
    cell = random_l2mu_cell(rng)
    m = l2mu_model(cell, 256.0, output_scale=0.01)
    blob = m.to_bytes()
    m2 = read(blob)
    assert m2.to_bytes() == blob
    assert struct.unpack_from("<HH", blob, 4) == (1, 1)          # the L2MU needs format 1.1
    lay = m2.layers[-1]
    assert lay.type == "l2mu_q15" and lay.params[0].size == B.DESC_WORDS
    back = B.decode(lay.params[0], lay.params[1])
    for k, v in cell.items():
        if k == "enc":
            assert len(back["enc"]) == len(v)
            for e, f in zip(v, back["enc"]):
                assert e.get("shift", 0) == f["shift"]
                np.testing.assert_array_equal(e["w"], f["w"])
                assert (e.get("b") is None) == (f["b"] is None)
        elif k.startswith("pop_"):
            for kk, vv in v.items():
                if kk == "threshold" and cell["readout"] == "li" and k == "pop_o":
                    assert "threshold" not in back[k]
                elif kk == "reset":
                    assert back[k]["reset"] == ("subtract" if k == "pop_o" and cell["readout"] == "li" else vv)
                else:
                    np.testing.assert_array_equal(np.atleast_1d(vv), back[k][kk])
        elif v is None or isinstance(v, (str, int)):
            assert back[k] == v
        else:
            np.testing.assert_array_equal(v, back[k])
    # the data is packed: its length is the one the descriptor implies
    assert lay.params[1].size == B.data_bytes(B.Desc(lay.params[0]))


def test_plain_models_stay_format_1_0():
    from edgehost.convert.examples import random_graph
    from edgehost.convert import build
    blob = build(random_graph(np.random.default_rng(5)))[0].to_bytes()
    assert struct.unpack_from("<HH", blob, 4) == (1, 0)


def test_inspect_reports_the_l2mu(capsys, tmp_path):
    cell = har_sized_l2mu_cell(0)
    m = l2mu_model(cell, 4096.0)
    blob = m.to_bytes()
    s = summary(read(blob), blob)
    d = B.Desc(m.layers[-1].params[0])
    assert s["param_bytes"] == m.param_bytes() == B.DESC_WORDS * 4 + B.data_bytes(d) + 8
    nv, ns, nsc = B.state_sizes(d)
    assert s["state_bytes"] == 2 * nv + ns + 2 * 6                    # the scratch is no state
    assert s["arena_bytes"] == m.arena_size
    # hand count for the HAR shapes: 48 input multiplies, 48 + 32 + 8 + 48 + 64 decay leaks, + 1
    # (the LI readout, one shared decay = n_o multiplies); spike sums at their worst case
    mul = 48 + (48 + 32 + 8 + 48 + 64) + 6
    acc = 32 * 48 + 8 * (32 + 64 + 48) + 48 * 6 + 48 + 64 * (32 + 64 + 48) + 6 * 64
    assert l2mu_ops(d) == (mul + acc, mul * 256 + acc * 16)
    assert s["macs"] == mul + acc + 6   # + the input layer's 6
    p = tmp_path / "har.ehm"
    p.write_bytes(blob)
    from edgehost.cli import main
    assert main(["inspect", str(p)]) == 0
    out = capsys.readouterr().out
    assert "l2mu_q15" in out and f"arena {m.arena_size} B" in out


# ---- malformed L2MU fields: both loaders refuse, naming the field ------------------------------

def _small():
    rng = np.random.default_rng(7)
    cell = random_l2mu_cell(rng)
    cell["enc"] = [{"w": rng.integers(-99, 99, (5, cell["w_in"].size)).astype(np.int16), "b": None,
                    "pop": {"threshold": np.array([300], np.int16), "shift": np.array([3], np.uint8)}, "shift": 1}]
    cell["e_x"] = rng.integers(-99, 99, (cell["e_x"].shape[0], 5)).astype(np.int16)
    cell["w_x"] = None
    cell["readout"] = "lif"
    cell["pop_o"] = {"threshold": np.array([100, 200, 300][:1], np.int16), "decay": np.array([30000], np.uint16),
                     "syn_shift": np.array([2], np.uint8)}
    cell["pop_h"] = {"threshold": np.full(cell["w_m"].shape[0], 500, np.int16), "decay": np.array([30000], np.uint16)}
    m = l2mu_model(cell, 4096.0)
    return m, m.to_bytes()


def _param_off(blob, layer, slot):
    return struct.unpack_from("<I", blob, 64 + 64 * layer + 32 + 8 * slot)[0]


def _desc_word(blob, word, value):
    b = bytearray(blob)
    struct.pack_into("<I", b, _param_off(blob, 1, 0) + 4 * word, value)
    return bytes(refresh(b))


def _data_bytes(blob, array, entry, fmt, value):
    m = read(blob)
    d = B.Desc(m.layers[1].params[0])
    pos = 0
    for a in B.ARRAYS:
        if a == array:
            break
        pos += (d.counts[a] * B.elsize(d, a) + 3) // 4 * 4
    b = bytearray(blob)
    struct.pack_into(fmt, b, _param_off(blob, 1, 1) + pos + struct.calcsize(fmt) * entry, value)
    return bytes(refresh(b))


def _cases():
    m, b = _small()
    d = B.Desc(m.layers[1].params[0])
    W = {n: i for i, n in enumerate(B.DIMS)}
    fl = B.W_FLAGS
    cnt = {a: B.W_COUNTS + i for i, a in enumerate(B.ARRAYS)}
    n_h = d.n_h
    L = "layer 1 (l2mu_q15): param 0 (cell): "
    D = "layer 1 (l2mu_q15): param 1 (data): "
    return [
        ("n_ch0", _desc_word(b, W["n_ch"], 0), L + "n_ch 0 outside [1, 65535]"),
        ("pop_big", _desc_word(b, W["pop"], 70000), L + "pop 70000 outside [1, 65535]"),
        ("n_enc3", _desc_word(b, W["n_enc"], 3), L + "n_enc 3 outside [0, 2]"),
        ("enc1_unused", _desc_word(b, W["enc1"], 4), L + "enc1 4 must be 0 (n_enc 1)"),
        ("n_in_product", _desc_word(_desc_word(b, W["pop"], 40000), W["n_ch"], 2), L + "n_ch * pop 80000 > 65535"),
        ("n_mem", _desc_word(b, W["order"], 30000), L + f"n_u * order {d.n_u * 30000} > 65535"
         if d.n_u * 30000 > 65535 else None),
        ("n_ch_vs_n_in", _desc_word(b, W["n_ch"], d.n_ch + 1), L + f"n_ch {d.n_ch + 1} but n_in is {d.n_ch}"),
        ("n_o_vs_n_out", _desc_word(b, W["n_o"], d.n_o + 1), L + f"n_o {d.n_o + 1} but n_out is {d.n_o}"),
        ("readout", _desc_word(b, B.W_READOUT, 2), L + "readout 2 is neither 0 (lif) nor 1 (li)"),
        ("shift", _desc_word(b, B.W_SHIFTS + 6, 32), L + "s_a 32 outside [0, 31]"),
        ("flags_bits", _desc_word(b, fl + 5, 0x10), L + "pop_h flags 0x10 has unknown bits"),
        ("flags_inactive", _desc_word(b, fl + 2, 1), L + "pop_enc1 flags 0x1 must be 0 (n_enc 1)"),
        ("flags_synkind", _desc_word(b, fl + 3, d.flags["u"] & ~B.F_CUBA | B.F_SYN_SHIFT),
         L + f"pop_u flags 0x{d.flags['u'] & ~B.F_CUBA | B.F_SYN_SHIFT:x}: a synaptic leak kind without"),
        ("li_syn", _desc_word(b, B.W_READOUT, 1), L + "pop_o flags 0x"),
        ("count_w", _desc_word(b, cnt["w_m"], d.counts["w_m"] - 1),
         L + f"w_m count {d.counts['w_m'] - 1}, expected {d.counts['w_m']}"),
        ("count_bias", _desc_word(b, cnt["b_o"], 1 if d.n_o != 1 else 2), L + "b_o count"),
        ("count_opt", _desc_word(b, cnt["w_x"], 3), L + f"w_x count 3, expected 0 or {n_h * 5}"),
        ("count_pn", _desc_word(b, cnt["pop_h.threshold"], n_h + 1),
         L + f"pop_h.threshold count {n_h + 1}, expected 1 or {n_h}"),
        ("count_inactive", _desc_word(b, cnt["w_enc1"], 5), L + "w_enc1 count 5, expected 0"),
        ("count_syn", _desc_word(b, cnt["pop_h.syn_leak"], 1), L + "pop_h.syn_leak count 1, expected 0"),
        ("count_missing", _desc_word(b, cnt["a"], 0), L + f"a count 0, expected {d.order ** 2}"),
        ("data_len", _desc_word(b, cnt["b_o"], 0 if d.counts["b_o"] else d.n_o), D),
        ("thr0", _data_bytes(b, "pop_h.threshold", 3 % n_h, "<h", 0),
         D + f"pop_h.threshold entry {3 % n_h} (0) outside [1, 32767]"),
        ("thr_neg", _data_bytes(b, "pop_enc0.threshold", 0, "<h", -5), D + "pop_enc0.threshold entry 0 (-5) outside"),
        ("decay", _data_bytes(b, "pop_h.leak", 0, "<H", 40000), D + "pop_h.leak entry 0 (40000) outside [0, 32768]"),
        ("shift0", _data_bytes(b, "pop_enc0.leak", 0, "<B", 0), D + "pop_enc0.leak entry 0 (0) outside [1, 15]"),
        ("syn_shift16", _data_bytes(b, "pop_o.syn_leak", 0, "<B", 16), D + "pop_o.syn_leak entry 0 (16) outside [1, 15]"),
        ("cell_len", _layer_len(b, 0, 4 * 65), "layer 1 (l2mu_q15): param 0 (cell): 65 entries, expected 66"),
        ("cell_missing", _layer_slot(b, 0, 0, 0), "layer 1 (l2mu_q15): param 0 (cell): missing (length 0)"),
        ("data_short", _layer_len(b, 1, read(b).layers[1].params[1].size - 4), D),
        ("state_size", _tensor_dim(b, read(b).layers[1].states[0], 1), "layer 1 (l2mu_q15): state 0 tensor"),
        ("scratch_kind", _tensor_kind(b, read(b).layers[1].states[2], 1), "layer 1 (l2mu_q15): state 2 tensor"),
        ("spike_dtype", _tensor_dtype(b, read(b).layers[1].states[1], 2), "layer 1 (l2mu_q15): state 1 tensor"),
        ("reset_field", _rec(b, 1, 1, "<B", 1), "layer 1 (l2mu_q15): reset 1 invalid"),
        ("shift_field", _rec(b, 1, 24, "<I", 3), "layer 1 (l2mu_q15): shift 3 outside [0, 0]"),
        ("same_state", _rec(b, 1, 8, "<H", read(b).layers[1].output), "layer 1 (l2mu_q15): state 0 tensor"),
    ]


def _rec(blob, layer, off, fmt, value):
    b = bytearray(blob)
    struct.pack_into(fmt, b, 64 + 64 * layer + off, value)
    return bytes(refresh(b))


def _layer_len(blob, slot, n):
    return _rec(blob, 1, 36 + 8 * slot, "<I", n)


def _layer_slot(blob, slot, off, n):
    return _rec(_rec(blob, 1, 32 + 8 * slot, "<I", off), 1, 36 + 8 * slot, "<I", n)


def _tensor(blob, t, off, fmt, value):
    b = bytearray(blob)
    L = struct.unpack_from("<H", b, 24)[0]
    struct.pack_into(fmt, b, 64 + 64 * L + 32 * t + off, value)
    return bytes(refresh(b))


def _tensor_dim(blob, t, delta):
    """One element more in tensor t (size and arena plan kept consistent)."""
    m = read(blob)
    ten = m.tensors[t]
    m.tensors[t].shape = (ten.n + delta,)
    from edgehost.convert.planner import plan
    plan(m)
    from edgehost.blob.model import _write
    return _write(m)


def _tensor_kind(blob, t, kind):
    return _tensor(blob, t, 1, "<B", kind)


def _tensor_dtype(blob, t, dt):
    m = read(blob)
    m.tensors[t].dtype = F.DTYPES[dt][0]
    from edgehost.convert.planner import plan
    plan(m)
    from edgehost.blob.model import _write
    return _write(m)


CASES = _cases()


@pytest.mark.parametrize("name,blob,msg", CASES, ids=[c[0] for c in CASES])
def test_malformed_l2mu_refused_by_both(name, blob, msg, ctool):
    with pytest.raises(BlobError) as e:
        read(blob, arena_size=1 << 16)
    assert str(e.value).startswith("layer 1 (l2mu_q15)"), str(e.value)
    if msg is not None:
        assert msg in str(e.value), str(e.value)
    rc, *_r, err = ctool.check([blob], 1 << 16)[0]
    assert rc == e.value.code, (err, str(e.value))
    assert err == str(e.value)            # the very same message, field first


def test_scratch_is_private_to_its_layer(ctool):
    """The scratch tensor cannot feed a later layer nor be the model's output."""
    m, _ = _small()
    from edgehost.blob import Layer
    from edgehost.convert.planner import plan
    from edgehost.blob.model import _write
    lay = m.layers[1]
    sc = lay.states[2]
    m.layers.append(Layer("relu_q15", sc, len(m.tensors), m.tensors[sc].n, m.tensors[sc].n))
    from edgehost.blob import Tensor
    m.tensors.append(Tensor("q15", m.tensors[sc].shape))
    m.output = len(m.tensors) - 1
    plan(m)
    blob = _write(m)
    with pytest.raises(BlobError, match=f"layer 2 \\(relu_q15\\): input tensor {sc} is not the model input") as e:
        read(blob)
    assert ctool.check([blob], 1 << 16)[0][6] == str(e.value)
    m2, _ = _small()
    m2.output = m2.layers[1].states[2]
    blob = _write(plan(m2))
    with pytest.raises(BlobError, match="is a layer's internal state") as e:
        read(blob)
    assert ctool.check([blob], 1 << 16)[0][6] == str(e.value)
    # and the plan never lets the scratch share bytes with the layer's input
    m3, _ = _small()
    life = lifetimes(m3)
    assert life[m3.layers[1].states[2]] == (1, 1)
