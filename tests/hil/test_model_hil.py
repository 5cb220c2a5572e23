"""A model over the link: LOAD_MODEL (chunked, CRC-checked), INFER, STEP, RESET_STATE and TRACE on
the firmware equal the host interpreter (edgehost.runtime.HostModel) bit for bit, and a
retransmitted STEP is answered from the cache instead of stepping twice."""
from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from edgehost.link import DeviceError
from edgehost.link import protocol as P

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32", "microbit", "netduinoplus2",
                                                            "rv32-sim")]


@pytest.fixture(scope="module")
def model():
    from edgehost.convert import Fc, Graph, Li, Lif, build
    rng = np.random.default_rng(0)
    g = Graph(6, [Fc(rng.normal(size=(5, 6)), rng.normal(size=5)), Lif(np.full(5, 0.9), np.ones(5)),
                  Fc(rng.normal(size=(3, 5))), Li(np.full(3, 0.8))])
    m = build(g, quantize="q15")[0]
    return m, m.to_bytes()


def host_run(blob, xs):
    from edgehost.runtime import HostModel
    return HostModel(blob, backend="sim").run(xs)


@pytest.fixture
def loaded(device, model):
    m, blob = model
    if not device.info.model_support:
        pytest.fail("firmware built without model support (firmware/model missing at build time)")
    seen = []
    res = device.load_model(blob, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, len(blob)) and seen[-1] == (len(blob), len(blob))
    assert res.model_hash == m.model_hash == device.info.model_hash
    assert res.input_bytes == m.input_tensor.nbytes and res.n_layers == len(m.layers)
    return m, blob


def test_infer_step_trace_equal_host(device, loaded):
    m, blob = loaded
    rng = np.random.default_rng(1)
    x = rng.integers(-6000, 6000, size=(9, m.input_tensor.n)).astype(m.input_tensor.np_dtype)
    outs, traces = host_run(blob, x)
    # the INFER-frame path explicitly: the shared connection may have seen damage in an earlier
    # test (the fuzz), and then "auto" sends staged transfers (test_link_damage_is_forgotten)
    mode = device.infer_mode
    try:
        device.infer_mode = "frames"
        r = device.infer(x)
        assert r.steps == 9 and r.mode == "frame" and r.counter_kind == device.info.counter_kind
        np.testing.assert_array_equal(np.frombuffer(r.output, dtype=outs.dtype), outs[-1])
        if device.info.staged_infer:
            device.infer_mode = "staged"
            r = device.infer(x)
            assert r.steps == 9 and r.mode == "staged"
            np.testing.assert_array_equal(np.frombuffer(r.output, dtype=outs.dtype), outs[-1])
    finally:
        device.infer_mode = mode
    # TRACE: per-layer outputs of the last step
    tr = device.trace()
    assert len(tr) == len(m.layers)
    assert tr[-1].data is not None  # the output layer is always there
    for got, want in zip(tr, traces[-1]):
        if got.data is None:
            assert got.error
            continue
        np.testing.assert_array_equal(np.frombuffer(got.data, dtype=want.dtype), want)
    # STEP by STEP after RESET_STATE gives the same sequence
    device.reset_state()
    for t in range(9):
        s = device.step(x[t])
        np.testing.assert_array_equal(np.frombuffer(s.output, dtype=outs.dtype), outs[t])
    assert device.steps_since_reset == 9 and "step 9 since reset" in device.last_delivered


def test_retransmitted_step_does_not_step_twice(device, loaded):
    m, blob = loaded
    rng = np.random.default_rng(2)
    x = rng.integers(-8000, 8000, size=(4, m.input_tensor.n)).astype(m.input_tensor.np_dtype)
    outs, _ = host_run(blob, x)
    device.reset_state()
    device.step(x[0])
    # the same STEP frame (same seq) sent twice, as after a lost answer
    wire = P.encode(P.Frame(P.Cmd.STEP, 4242, payload=x[1].tobytes()))
    answers = []
    for _ in range(2):
        device.t.write(wire)
        deadline = time.monotonic() + 5
        item = device.t.next_item(deadline)
        answers.append(P.parse_frame(item))
    assert answers[0] == answers[1]
    np.testing.assert_array_equal(np.frombuffer(answers[0].payload[4:], dtype=outs.dtype), outs[1])
    # the network advanced once: the next step is step 3 of the host reference
    s = device.step(x[2])
    np.testing.assert_array_equal(np.frombuffer(s.output, dtype=outs.dtype), outs[2])


def test_bad_model_requests_are_refused(device, loaded):
    m, blob = loaded
    with pytest.raises(ValueError):
        device.step(b"\x00")  # host-side check
    with pytest.raises(DeviceError) as e:
        device.request(P.Cmd.STEP, b"\x00")
    assert e.value.status == P.Status.BAD_PAYLOAD
    with pytest.raises(DeviceError) as e:
        device.request(P.Cmd.INFER, struct.pack("<HH", 0, 0))
    assert e.value.status == P.Status.BAD_PAYLOAD
    # a corrupted blob: the whole-blob CRC catches it at commit
    device.request(P.Cmd.LOAD_BEGIN, struct.pack("<I", len(blob)))
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 1
    for off in range(0, len(bad), 200):
        device.request(P.Cmd.LOAD_CHUNK, struct.pack("<I", off) + bytes(bad[off:off + 200]))
    with pytest.raises(DeviceError) as e:
        device.request(P.Cmd.LOAD_COMMIT, struct.pack("<II", len(blob), P.crc32(blob)))
    assert e.value.status == P.Status.LOAD_CRC
    # a blob whose CRC matches but which the model loader refuses: the NAK carries its reason
    with pytest.raises(DeviceError) as e:
        device.load_model(bytes(bad))
    assert e.value.status == P.Status.MODEL and e.value.device_message
    assert not device.hello().model_loaded
    with pytest.raises(DeviceError) as e:
        device.request(P.Cmd.STEP, bytes(m.input_tensor.nbytes))
    assert e.value.status == P.Status.NO_MODEL


# ---- the L2MU layer (l2mu_q15) over the link ---------------------------------------------------

@pytest.fixture(scope="module")
def l2mu():
    """The HAR demo's trained Q15 L2MU as a blob (f32 raw samples in, the readout's membrane out);
    a random cell of the same shapes when the trained one is not there."""
    from pathlib import Path

    from edgehost.convert.examples import har_sized_l2mu_cell
    from edgehost.convert.l2mu_layer import l2mu_model
    path = Path(__file__).parents[2] / "host" / "edgehost" / "demos" / "har" / "model" / "l2mu_hapt_q15.npz"
    if path.exists():
        from edgehost.demos.har.cellio import load_cell
        cell = load_cell(path)
    else:
        cell = har_sized_l2mu_cell(0)
    m = l2mu_model(cell, input_scale=4096.0)
    return m, m.to_bytes()


@pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32", "netduinoplus2",   # the blob (~26 KB) is too big for the micro:bit
                              pytest.param("rv32-sim", marks=pytest.mark.slow))   # ~50 s in RTL simulation
def test_l2mu_har_windows_equal_host(device, l2mu):
    from edgehost.convert.examples import har_inputs
    m, blob = l2mu
    if not device.info.model_support:
        pytest.fail("firmware built without model support (firmware/model missing at build time)")
    res = device.load_model(blob)
    assert res.model_hash == m.model_hash and res.n_layers == 2 and res.input_bytes == 24
    windows = [har_inputs(40, phase=17 * w, amplitude=a) for w, a in enumerate((1.0, 2.5, 6.0))]
    for xs in windows:
        outs, traces = host_run(blob, xs)
        r = device.infer(xs)                      # resets the state, 40 steps, the last output
        assert r.steps == 40
        np.testing.assert_array_equal(np.frombuffer(r.output, dtype=np.int16), outs[-1])
        tr = device.trace()                       # input layer (q15 samples) and the readout
        for got, want in zip(tr, traces[-1]):
            if got.data is not None:
                np.testing.assert_array_equal(np.frombuffer(got.data, dtype=want.dtype), want)
        assert tr[-1].data is not None
    # step by step after RESET_STATE: the same sequence as the host, every step
    xs = windows[1][:12]
    outs, _ = host_run(blob, xs)
    assert np.ptp(outs, axis=0).max() > 0         # the readout moves
    device.reset_state()
    for t in range(len(xs)):
        s = device.step(xs[t])
        np.testing.assert_array_equal(np.frombuffer(s.output, dtype=np.int16), outs[t])


def test_input_of_the_wrong_dtype_is_refused_not_reinterpreted(device, loaded):
    """The device sees bytes only: an int16 array for a float32 model would divide into steps and
    run silently on garbage. The link knows the model's input dtype from the blob it loaded."""
    m, _ = loaded
    assert np.dtype(m.input_tensor.np_dtype) == np.float32
    with pytest.raises(ValueError, match="float32 input"):
        device.infer(np.zeros((4, m.input_tensor.n), np.int16))
    with pytest.raises(ValueError, match="float32 input"):
        device.step(np.zeros(m.input_tensor.n, np.float64))


# ---- LIF with threshold adaptation (lif_adapt_q15, two inputs) over the link --------------------

@pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32", "rv32-sim")
def test_lif_adapt_controller_equals_host(device):
    """A blimp-shaped SNN controller (input_q15 -> fc_q15 -> lif -> fc_spike_q15 x 2 -> lif_adapt_q15
    -> fc_spike_q15 -> li_q15 [-> fc_q15 sum]) on the device equals the host, every layer."""
    from edgehost.convert.examples import random_adapt_blob
    if not device.info.model_support:
        pytest.fail("firmware built without model support (firmware/model missing at build time)")
    for seed in (3, 6, 15):
        rng = np.random.default_rng(seed)
        m, blob = random_adapt_blob(rng, quantize="q15", reuse=False)
        assert any(l.type == "lif_adapt_q15" for l in m.layers)
        res = device.load_model(blob)
        assert res.model_hash == m.model_hash and res.n_layers == len(m.layers)
        xs = (rng.normal(size=(20, m.input_tensor.n)) * 2).astype(np.float32)
        outs, traces = host_run(blob, xs)
        r = device.infer(xs)
        np.testing.assert_array_equal(np.frombuffer(r.output, dtype=outs.dtype), outs[-1])
        tr = device.trace()
        for got, want in zip(tr, traces[-1]):
            assert got.data is not None                # no reuse: every layer is there
            np.testing.assert_array_equal(np.frombuffer(got.data, dtype=want.dtype), want)
        device.reset_state()
        for t in range(len(xs)):
            s = device.step(xs[t])
            np.testing.assert_array_equal(np.frombuffer(s.output, dtype=outs.dtype), outs[t])


# ---- format 1.4: streaming binary conv1d, MST binary fc, shift-add and BCQ dense layers ----------

@pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32", "rv32-sim")
def test_binary_mst_shiftadd_layers_equal_host(device):
    """Random models with conv1d_b1_* (window state), mst_fc_b1_* (scratch), shiftadd_fc_q15,
    bcq_fc_q15 (table scratch) and pack_signs_b1: the device equals the host, every layer, every
    step; together the models use every one of those layer types."""
    from edgehost.convert.examples import random_b1_blob
    if not device.info.model_support:
        pytest.fail("firmware built without model support (firmware/model missing at build time)")
    seen = set()
    for seed in range(40):
        rng = np.random.default_rng(seed)
        m, blob = random_b1_blob(rng, reuse=False)
        new = {l.type for l in m.layers} - seen
        if not new & {"conv1d_b1_bits", "conv1d_b1_f32", "conv1d_b1_s32", "conv1d_b1_s8", "mst_fc_b1_f32",
                      "mst_fc_b1_bits", "shiftadd_fc_q15", "bcq_fc_q15", "pack_signs_b1"}:
            continue
        seen |= {l.type for l in m.layers}
        res = device.load_model(blob)
        assert res.model_hash == m.model_hash and res.n_layers == len(m.layers)
        xs = (rng.normal(size=(8, m.input_tensor.n)) * 2).astype(np.float32)
        outs, traces = host_run(blob, xs)
        r = device.infer(xs)
        np.testing.assert_array_equal(np.frombuffer(r.output, dtype=outs.dtype), outs[-1])
        for got, want in zip(device.trace(), traces[-1]):
            assert got.data is not None
            np.testing.assert_array_equal(np.frombuffer(got.data, dtype=want.dtype), want)
        device.reset_state()
        for t in range(len(xs)):
            s = device.step(xs[t])
            np.testing.assert_array_equal(np.frombuffer(s.output, dtype=outs.dtype), outs[t])
    assert {"conv1d_b1_bits", "conv1d_b1_f32", "conv1d_b1_s32", "conv1d_b1_s8", "mst_fc_b1_f32", "mst_fc_b1_bits",
            "shiftadd_fc_q15", "bcq_fc_q15", "pack_signs_b1"} <= seen
