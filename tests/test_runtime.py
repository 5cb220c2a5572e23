"""The host interpreter: backends "sim" (numpy) and "kernels" (C through cffi) agree bit for bit,
and the firmware's C interpreter (built natively, ASan+UBSan) agrees with both."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgehost.blob import lifetimes, read
from edgehost.convert import Fc, Graph, Lif, Norm, SpikeCount, build
from edgehost.convert.examples import random_blob
from edgehost.runtime import HostModel
from edgehost.runtime.native import CTool, build_tool


@pytest.fixture(scope="module")
def ctool(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


def _inputs(rng, m, steps):
    xs = rng.normal(size=(steps, m.input_tensor.n)) * rng.choice([0.5, 2.0, 50.0])
    xs[rng.random(xs.shape) < 0.05] = 1e6          # saturating inputs
    return xs.astype(np.float32)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_sim_equals_kernels_q15(seed):
    rng = np.random.default_rng(seed)
    m, blob = random_blob(rng, quantize="q15")
    xs = _inputs(rng, m, 12)
    ys, ts = HostModel(blob, "sim").run(xs)
    yk, tk = HostModel(blob, "kernels").run(xs)
    np.testing.assert_array_equal(ys, yk)
    for a, b in zip(ts, tk):
        for p, q in zip(a, b):
            assert p.dtype == q.dtype
            np.testing.assert_array_equal(p, q)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_sim_equals_kernels_f32(seed):
    """Float path: both round once per operation in the same order (-ffp-contract=off)."""
    rng = np.random.default_rng(seed)
    m, blob = random_blob(rng, quantize="none")
    xs = _inputs(rng, m, 8)
    np.testing.assert_array_equal(HostModel(blob, "sim").run(xs)[0], HostModel(blob, "kernels").run(xs)[0])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), reuse=st.booleans())
def test_c_interpreter_equals_host(seed, reuse, ctool):
    rng = np.random.default_rng(seed)
    m, blob = random_blob(rng, reuse=reuse)
    xs = _inputs(rng, m, 10)
    yc, tc = ctool.run(blob, xs)
    ys, ts = HostModel(blob, "sim").run(xs)
    np.testing.assert_array_equal(yc, ys)
    # which layer outputs the C side can still show after a step: those no later layer overwrote
    model = read(blob)
    life = lifetimes(model)
    for step_c, step_s in zip(tc, ts):
        for li, (c, s) in enumerate(zip(step_c, step_s)):
            t = model.tensors[model.layers[li].output]
            reused = any(life[u][0] > li and u != model.layers[li].output
                         and model.tensors[u].offset < t.offset + t.nbytes
                         and t.offset < model.tensors[u].offset + model.tensors[u].nbytes
                         for u in range(len(model.tensors)))
            assert (c is None) == reused
            if not reused:
                np.testing.assert_array_equal(c, s)
            if not reuse:
                assert c is not None


def test_reset_and_state():
    rng = np.random.default_rng(0)
    g = Graph(4, [Norm(np.zeros(2), np.ones(2)), Fc(rng.normal(size=(6, 4)) * 3), Lif(np.full(6, 0.9), np.ones(6)),
                  SpikeCount()])
    for q in ("none", "q15"):
        m, _ = build(g, quantize=q)
        hm = HostModel(m, "kernels")
        xs = rng.normal(size=(30, 4)).astype(np.float32)
        a, _ = hm.run(xs)
        b, _ = hm.run(xs)             # run() resets first
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.uint16 and np.all(np.diff(a.astype(int), axis=0) >= 0)   # counts accumulate
        hm.step(xs[0])
        c, _ = hm.run(xs, reset=False)
        assert not np.array_equal(c, a) or not a.any()


def test_bad_inputs():
    m, blob = random_blob(np.random.default_rng(1))
    hm = HostModel(blob, "sim")
    with pytest.raises(ValueError, match="the model takes"):
        hm.step(np.zeros(m.input_tensor.n + 1))
    with pytest.raises(ValueError, match="backend"):
        HostModel(blob, "gpu")


def test_dequant_layer_everywhere(ctool):
    """dequant (q15 -> f32 with the input tensor's scale), appended by hand to a Q15 model."""
    from edgehost.blob import Layer, Tensor
    from edgehost.convert import Li
    from edgehost.convert.planner import plan
    rng = np.random.default_rng(5)
    g = Graph(5, [Fc(rng.normal(size=(7, 5))), Lif(np.full(7, 0.8), np.ones(7)), Fc(rng.normal(size=(3, 7))),
                  Li(np.full(3, 0.9))])
    m, _ = build(g, quantize="q15")
    src = m.output
    m.tensors.append(Tensor("f32", (3,)))
    m.layers.append(Layer("dequant", src, len(m.tensors) - 1, 3, 3))
    m.output = len(m.tensors) - 1
    blob = plan(m).to_bytes()
    xs = rng.normal(size=(20, 5)).astype(np.float32)
    ys, ts = HostModel(blob, "sim").run(xs)
    yk, _ = HostModel(blob, "kernels").run(xs)
    yc, _ = ctool.run(blob, xs)
    np.testing.assert_array_equal(ys, yk)
    np.testing.assert_array_equal(ys, yc)
    q = np.array([t[-2] for t in ts])
    np.testing.assert_array_equal(ys, (q.astype(np.float32) * np.float32(m.tensors[src].scale)))


def test_binary_layers_follow_their_definition(ctool):
    """fc -> lif -> fc_b1 (binary out) -> fc_b1 (float out): spikes enter as -1 (packed bit 1)."""
    from edgehost.convert import BinFc
    rng = np.random.default_rng(8)
    w1 = rng.choice([-1, 1], size=(9, 33))
    thr = rng.integers(-3, 4, size=9)
    w2 = rng.choice([-1, 1], size=(4, 9))
    scale = rng.uniform(0.1, 1.0, size=4).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    g = Graph(6, [Fc(rng.normal(size=(33, 6)) * 2), Lif(np.full(33, 0.7), np.ones(33)),
                  BinFc(w1, threshold=thr), BinFc(w2, scale=scale, bias=bias)])
    for q in ("none", "q15"):
        m, _ = build(g, quantize=q)
        assert [l.type for l in m.layers][-3:] == ["pack_spikes_b1", "fc_b1_bits", "fc_b1_f32"]
        blob = m.to_bytes()
        xs = rng.normal(size=(25, 6)).astype(np.float32)
        ys, ts = HostModel(blob, "kernels").run(xs)
        yc, _ = ctool.run(blob, xs)
        np.testing.assert_array_equal(ys, yc)
        np.testing.assert_array_equal(ys, HostModel(blob, "sim").run(xs)[0])
        lif = [i for i, l in enumerate(m.layers) if "lif" in l.type][0]
        for t in range(len(xs)):
            b = 1 - 2 * ts[t][lif].astype(np.int64)          # spike -> -1
            h = np.where(w1 @ b < thr, -1, 1)                 # binary layer: -1 where dot < thr
            want = (np.float32(1) * (w2 @ h).astype(np.float32) * scale).astype(np.float32) + bias
            np.testing.assert_array_equal(ys[t], want.astype(np.float32))


# ---- lif_adapt (LIF with threshold adaptation, two inputs) --------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), reuse=st.booleans())
def test_lif_adapt_models_lockstep(seed, reuse, ctool):
    """Random blimp-shaped models with a lif_adapt layer: numpy, C kernels and the firmware's
    interpreter agree on every layer output of every step."""
    from edgehost.convert.examples import random_adapt_blob
    rng = np.random.default_rng(seed)
    m, blob = random_adapt_blob(rng, reuse=reuse)
    xs = _inputs(rng, m, 25)
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


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_lif_adapt_q15_follows_its_definition(reset, ctool):
    """The layer against a transcription of eh_lif.h: v = leak(v) + x - s_prev (thr + a_prev)
    (or reset to zero), a = leak_th(a) + x_th, s = v > clamp(thr + a, 1, 32767); x_th is the
    layer's second input. The adaptation must change the spiking (else the test shows nothing)."""
    from edgehost.blob import Layer, Model, Tensor
    from edgehost.convert.planner import plan
    rng = np.random.default_rng(11)
    n = 13
    dec = rng.integers(20000, 32768, size=n).astype(np.uint16)
    sh = np.array([3], np.uint8)
    thr = rng.integers(300, 1500, size=n).astype(np.int16)
    T = [Tensor("q15", (2 * n,)), Tensor("q15", (n,)), Tensor("q15", (n,)), Tensor("spike", (n,), "state"),
         Tensor("q15", (n,), "state"), Tensor("q15", (n,), "state")]
    eye = np.hstack([np.eye(n), np.zeros((n, n))]).astype(np.int16).ravel()
    sel = np.hstack([np.zeros((n, n)), np.eye(n)]).astype(np.int16).ravel()
    L = [Layer("fc_q15", 0, 1, 2 * n, n, [eye, None]), Layer("fc_q15", 0, 2, 2 * n, n, [sel, None]),
         Layer("lif_adapt_q15", 1, 3, n, n, [dec, sh, thr], [4, 5], reset=reset, leak=("decay", "shift"), input2=2)]
    blob = plan(Model(L, T, 0, 3, 0), reuse=False).to_bytes()
    xs = np.hstack([rng.integers(-200, 900, size=(60, n)), rng.integers(0, 400, size=(60, n))]).astype(np.int16)
    xs[rng.random(xs.shape) < 0.03] = 32767
    ys, _ = HostModel(blob, "sim").run(xs)
    np.testing.assert_array_equal(ys, ctool.run(blob, xs)[0])
    np.testing.assert_array_equal(ys, HostModel(blob, "kernels").run(xs)[0])
    v = np.zeros(n, np.int64)
    a = np.zeros(n, np.int64)
    s = np.zeros(n, bool)
    plain = 0
    for t in range(len(xs)):
        x, xt = xs[t, :n].astype(np.int64), xs[t, n:].astype(np.int64)
        t_prev = np.clip(thr + a, 1, 32767)
        lv = (dec.astype(np.int64) * v + (1 << 14)) >> 15
        u = lv + x - np.where(s, t_prev, 0) if reset == "subtract" else np.where(s, 0, lv) + x
        v = np.clip(u, -32768, 32767)
        a = np.clip(a - (a >> 3) + xt, -32768, 32767)
        s = v > np.clip(thr + a, 1, 32767)
        np.testing.assert_array_equal(ys[t], s.astype(np.uint8))
        plain += int(np.sum(v > thr))
    assert ys.sum() > 0 and plain > ys.sum()      # adaptation suppressed some spikes


# ---- the prepared path (backend "kernels": Op.prepare, structures built once per model) ----------

def _s8_model(rng):
    """input_s8 -> fc_s8 (per tensor or per channel, fused activation) -> dequant_s8."""
    from edgehost.blob import Layer, Model, Tensor
    from edgehost.convert.planner import plan
    n_in, n_out = int(rng.integers(1, 20)), int(rng.integers(1, 20))
    T = [Tensor("f32", (n_in,)), Tensor("s8", (n_in,), scale=0.05), Tensor("s8", (n_out,), scale=0.1),
         Tensor("f32", (n_out,))]
    nc = n_out if rng.random() < 0.5 else 1
    rq = np.concatenate([rng.integers(1 << 29, 1 << 31, nc), rng.integers(-12, 2, nc)]).astype(np.int32)
    lo = int(rng.integers(-128, 0))
    q = np.array([rng.integers(-127, 129), rng.integers(-128, 128), lo, rng.integers(lo, 128)], np.int32)
    bias = rng.integers(-5000, 5000, n_out).astype(np.int32) if rng.random() < 0.5 else None
    L = [Layer("input_s8", 0, 1, n_in, n_in, [np.array([rng.integers(-20, 20)], np.int32)]),
         Layer("fc_s8", 1, 2, n_in, n_out, [rng.integers(-128, 128, n_in * n_out).astype(np.int8), bias, rq, q]),
         Layer("dequant_s8", 2, 3, n_out, n_out, [np.array([rng.integers(-128, 128)], np.int32)])]
    return plan(Model(L, T, 0, 3, 0))


def _relu_head_model(rng):
    """A Q15 model with relu_q15, then dequant or an argmax over q15 appended by hand."""
    from edgehost.blob import Layer, Tensor
    from edgehost.convert import Li, Relu
    from edgehost.convert.planner import plan
    n, m = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    model, _ = build(Graph(n, [Fc(rng.normal(size=(m, n)) * 2), Relu(), Fc(rng.normal(size=(m, m))),
                               Li(np.full(m, 0.8))]), quantize="q15")
    src = model.output
    if rng.random() < 0.5:
        model.tensors.append(Tensor("f32", (m,)))
        model.layers.append(Layer("dequant", src, len(model.tensors) - 1, m, m))
    else:
        model.tensors.append(Tensor("u32", (1,)))
        model.layers.append(Layer("argmax", src, len(model.tensors) - 1, m, 1))
    model.output = len(model.tensors) - 1
    return plan(model)


def _model_inputs(rng, m, steps):
    t = m.input_tensor
    n = t.storage_len
    if t.dtype == "b1":
        return rng.integers(0, 2**32, (steps, n), dtype=np.uint64).astype(np.uint32)
    if t.dtype == "spike":
        return (rng.random((steps, n)) < 0.3).astype(np.uint8)
    return _inputs(rng, m, steps)


def _spike_input_model(rng):
    """A b1 event input unpacked to spikes (unpack_spikes_b1) into an event-driven layer."""
    from edgehost.convert import build
    from edgehost.convert import graph as G
    n, h = int(rng.integers(1, 70)), int(rng.integers(2, 20))
    g = G.Graph(n, [G.Fc(rng.normal(0, 0.7, (h, n)), None), G.Lif(np.full(h, 0.9), np.full(h, 1.0))],
                input_kind="spikes")
    q = "q15" if rng.random() < 0.5 else "none"
    return build(g, quantize=q, calib=None if q == "none" else (rng.random((20, n)) < 0.3).astype(np.float32))[0]


def _pooled_currents_model(rng):
    """Conv2d -> sum/avg pooling of the currents (sumpool2d_q15 / avgpool2d_q15 on Q15) -> LIF."""
    from edgehost.convert import build
    from edgehost.convert import graph as G
    c, h, w = int(rng.integers(1, 3)), int(rng.integers(4, 9)), int(rng.integers(4, 9))
    co = int(rng.integers(1, 4))
    conv = G.Conv2d(rng.normal(0, 0.5, (co, c, 3, 3)), None, (c, h, w))
    cs = conv.out_shape()
    pool = G.Pool2d("sum" if rng.random() < 0.5 else "avg", cs, (2, 2), (2, 2))
    n = int(np.prod(pool.out_shape()))
    g = G.Graph(c * h * w, [conv, pool, G.Lif(np.full(n, 0.9), np.full(n, 1.0))])
    return build(g, quantize="q15", calib=rng.normal(0, 1, (20, c * h * w)).astype(np.float32))[0]


def _har_cnn_int8_model(rng):
    """The HAR demo's int8 CNN (conv1d_s8 x 2, fc_s8), with or without arena reuse."""
    from edgehost.demos.har import cnn_int8
    d = cnn_int8.load()
    return cnn_int8.model(d["q"], *d["norm"], reuse=bool(rng.random() < 0.5))


def _har_baselines_model(rng):
    """The HAR baselines' layers (thermometer_b1, shiftnorm_q15, shiftadd_conv1d_q15,
    conv1d_b1_seq_bits, lmu_f32) in one random chain of odd sizes."""
    from edgehost.demos.har import baseline_blobs
    return baseline_blobs.random_model(rng)


def _conv2d_s8_model(rng):
    """The int8 channel-last 2-D CNN layers: input_s8 -> conv2d_s8 -> maxpool2d_s8 / avgpool2d_s8 ->
    fc_s8 (random geometry, groups / depthwise, per tensor or per channel, clamps)."""
    from edgehost.convert.examples_s8_2d import random_conv2d_s8_model
    return random_conv2d_s8_model(rng)


def _spike_fc_layouts_model(rng):
    """Spikes into dense layers of both weight layouts the converter writes (edgehost.convert.layout):
    fc_spike_t_q15 (n_out >= 8, input-major) and fc_spike_q15 (n_out < 8), biases present or not."""
    from edgehost.convert import build
    from edgehost.convert import graph as G
    n, h, o = int(rng.integers(1, 70)), int(rng.integers(8, 40)), int(rng.integers(1, 8))
    bias = rng.normal(0, 0.3, h) if rng.random() < 0.5 else None
    g = G.Graph(n, [G.Fc(rng.normal(0, 0.7, (h, n)), None), G.Lif(np.full(h, 0.9), np.full(h, 1.0)),
                    G.Fc(rng.normal(0, 0.5, (h, h)), bias), G.Lif(np.full(h, 0.9), np.full(h, 1.0)),
                    G.Fc(rng.normal(0, 0.5, (o, h)), None)], input_kind="spikes")
    m = build(g, quantize="q15", calib=(rng.random((20, n)) < 0.3).astype(np.float32))[0]
    assert {"fc_spike_t_q15", "fc_spike_q15"} <= {l.type for l in m.layers}
    return m


def test_prepared_steps_equal_sim_on_every_layer_type():
    """HostModel(blob, "kernels") runs a prepared step for every layer (Op.prepare: parameters
    converted once, C pointers to tensors that stay in place, unchecked kernels behind their
    check functions) and equals the numpy reference bit for bit: every layer's output at every
    step and, after the run, every tensor (states, windows, activations). The random models
    together hold every layer type of the op table."""
    from edgehost import ops
    from edgehost.convert import examples as E
    builders = [lambda r: E.random_blob(r)[0], lambda r: E.random_blob(r, quantize="q15")[0], E.random_adapt_model,
                E.random_b1_model, E.random_graph_model, lambda r: E.random_l2mu_blob(r)[0], _s8_model,
                _relu_head_model, E.random_conv2d_model, _spike_input_model,
                _pooled_currents_model, _har_cnn_int8_model, _har_baselines_model, _spike_fc_layouts_model]
    seen = set()
    for seed in range(154 + 11):    # then the int8 2-D CNNs (the other builders keep their seeds)
        rng = np.random.default_rng(seed)
        m = builders[seed % len(builders)](rng) if seed < 154 else _conv2d_s8_model(rng)
        blob = m.to_bytes()
        xs = _model_inputs(rng, m, 15)
        hs, hk = HostModel(blob, "sim"), HostModel(blob, "kernels")
        assert all(hk.prepared), [l.type for l, p in zip(hk.model.layers, hk.prepared) if not p]
        ys, ts = hs.run(xs)
        yk, tk = hk.run(xs)
        np.testing.assert_array_equal(ys, yk)
        assert ys.dtype == yk.dtype
        for a, b in zip(ts, tk):
            for p, q in zip(a, b):
                assert p.dtype == q.dtype
                np.testing.assert_array_equal(p, q)
        for k, (p, q) in enumerate(zip(hs.t, hk.t)):
            np.testing.assert_array_equal(p, q, err_msg=f"seed {seed} tensor {k}")
        # a second run after reset() (zeroed in place) and step() without a trace give the same
        hk.reset()
        np.testing.assert_array_equal(np.array([hk.step(x) for x in xs]), yk)
        seen |= {l.type for l in m.layers}
    assert seen == {op.name for op in ops.TABLE.values()}


def test_prepared_path_checks_the_input():
    from edgehost.blob import Layer, Model, Tensor
    from edgehost.convert.planner import plan
    T = [Tensor("spike", (5,)), Tensor("q15", (3,)), Tensor("spike", (3,), "state"), Tensor("q15", (3,), "state")]
    L = [Layer("fc_spike_q15", 0, 1, 5, 3, [np.full(15, 3000, np.int16), None]),
         Layer("lif_q15", 1, 2, 3, 3, [np.array([3], np.uint8), np.array([2000], np.int16)], [3], leak=("shift",))]
    blob = plan(Model(L, T, 0, 2, 0)).to_bytes()
    hm = HostModel(blob, "kernels")
    assert hm.prepared == (True, True)
    for bad in (np.array([0, 1, 2, 0, 0], np.uint8), np.array([0, -1, 0, 0, 0], np.int8),
                np.array([0, 0.5, 0, 0, 0]), [0, 1, 0, 1, 3]):
        with pytest.raises(ValueError, match="0 or 1"):
            hm.step(bad)
    with pytest.raises(ValueError, match="the model takes 5"):
        hm.step(np.zeros(6, np.uint8))
    assert hm.steps == 0 and not any(t.any() for t in hm.t)      # a rejected input changes nothing
    ok = [np.ones(5, bool), np.ones(5, np.uint8), np.ones(5), [1, 1, 1, 1, 1]]
    outs = []
    for x in ok:
        hm.reset()
        outs.append([hm.step(x).tolist() for _ in range(4)])
    assert all(o == outs[0] for o in outs) and any(any(s) for s in outs[0])


def test_prepare_rejects_fall_back_to_the_checked_step():
    """A Model (not read from a blob, so not validated) with a parameter the kernel rejects:
    that layer is not prepared, and its step raises the kernel's error, as backend sim does."""
    from edgehost.blob import Layer, Model, Tensor
    T = [Tensor("q15", (3,)), Tensor("spike", (3,), "state"), Tensor("q15", (3,), "state")]
    m = Model([Layer("lif_q15", 0, 1, 3, 3, [np.array([40000], np.uint16), np.array([100], np.int16)], [2],
                     leak=("decay",))], T, 0, 1, 0)
    hm = HostModel(m, "kernels")
    assert hm.prepared == (False,)
    for h in (hm, HostModel(m, "sim")):
        with pytest.raises(ValueError):
            h.step(np.zeros(3, np.int16))
