"""Format 1.5 (docs/model-format.md, "Graphs: fan-in, recurrence and NIR's resets"): add_f32 /
add_q15 (fan-in), delay (recurrent edges, read before the delay in the schedule), the reset byte's
bit 1 (same-step reset) and v_reset on lif_* / cubalif_*.

Hand-built models written and read back, refused when malformed (every new message), run on the
host interpreter ("sim" == "kernels" bit for bit) and checked against a numpy loop written here
from the document's equations. The comparisons with the firmware's C loader and interpreter
(built natively, `edgehost.runtime.native`) run once it reads format 1.5: until then they are
skipped, and only when it answers "format version 1.5 not supported".
"""
from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgehost.blob import BlobError, Layer, Model, Tensor, crc32, fnv1a32, lifetimes, read
from edgehost.blob import format as F
from edgehost.blob.writer import write
from edgehost.convert.examples import random_graph_model
from edgehost.convert.planner import plan
from edgehost.runtime import HostModel
from edgehost.runtime.native import CTool, build_tool

ARENA = 1 << 16


@pytest.fixture(scope="module")
def ctool(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


@pytest.fixture(scope="module")
def native(ctool):
    """The native C tool (its loader reads format 1.5, as the Python one)."""
    return ctool


# ---- helpers: blob edits ---------------------------------------------------------------------------

def refresh(buf: bytearray) -> bytes:
    total = struct.unpack_from("<I", buf, 12)[0]
    struct.pack_into("<I", buf, 20, fnv1a32(bytes(buf[24:total])))
    struct.pack_into("<I", buf, 16, crc32(bytes(buf[20:total])))
    return bytes(buf)


def layer_field(blob, layer, off, fmt, value):
    buf = bytearray(blob)
    struct.pack_into(fmt, buf, 64 + 64 * layer + off, value)
    return refresh(buf)


def tensor_field(blob, t, off, fmt, value):
    buf = bytearray(blob)
    L = struct.unpack_from("<H", buf, 24)[0]
    struct.pack_into(fmt, buf, 64 + 64 * L + 32 * t + off, value)
    return refresh(buf)


def param_slot(blob, layer, k):
    return struct.unpack_from("<II", blob, 64 + 64 * layer + 32 + 8 * k)


def minor(blob) -> int:
    return struct.unpack_from("<H", blob, 6)[0]


# ---- numpy transcriptions of the equations (docs/model-format.md, kernels_c/include/*.h) ----------

def sat16(a):
    return np.clip(a, -32768, 32767).astype(np.int64)


def rshift(a, s):
    return a if s == 0 else (a + (1 << (s - 1))) >> s


def fc_q15(w, x, shift, b=None):
    acc = w.astype(np.int64) @ x.astype(np.int64) + (0 if b is None else b.astype(np.int64))
    return sat16(rshift(acc, shift))


def fc_spike_q15(w, s, shift=0):
    acc = w.astype(np.int64)[:, s.astype(bool)].sum(axis=1)
    assert np.all(np.abs(acc) < 2**31)         # no 32-bit saturation in these models
    return sat16(rshift(acc, shift))


def leak_q15(v, decay=None, shift=None):
    v = v.astype(np.int64)
    if decay is not None:
        return (v * decay.astype(np.int64) + (1 << 14)) >> 15
    return v - (v >> shift.astype(np.int64))


def fc_f32(w, x):
    acc = np.zeros(w.shape[0], np.float32)
    for i in range(w.shape[1]):
        acc = (acc + (w[:, i] * x[i]).astype(np.float32)).astype(np.float32)
    return acc


class RefNeuron:
    """The spiking layers of format 1.5, per neuron, from the document: next-step reset (the
    kernels' own, from the previous step's spikes) or same-step reset (after the spike: v - thr or
    v_reset), subtract or to a value; LIF or CuBa (i = syn_leak(i) + x first)."""

    def __init__(self, q15, cuba, reset, timing, thr, beta=None, alpha=None, decay=None, syn_decay=None,
                 v_reset=None, n=1):
        self.q15, self.cuba, self.reset, self.timing = q15, cuba, reset, timing
        self.thr, self.beta, self.alpha, self.decay, self.syn_decay = thr, beta, alpha, decay, syn_decay
        dt = np.int64 if q15 else np.float32
        self.v_reset = np.zeros(1, dt) if v_reset is None else v_reset.astype(dt)
        self.v = np.zeros(n, dt)
        self.i = np.zeros(n, dt)
        self.s = np.zeros(n, bool)

    def step(self, x):
        q, s_prev = self.q15, self.s if self.timing == "next" else np.zeros_like(self.s)
        if self.cuba:
            if q:
                self.i = sat16(leak_q15(self.i, self.syn_decay) + x)
            else:
                self.i = ((self.alpha * self.i).astype(np.float32) + x).astype(np.float32)
            x = self.i
        if q:
            lv = leak_q15(self.v, self.decay)
            if self.reset == "subtract":
                v = sat16(lv + x - np.where(s_prev, self.thr, 0))
            elif self.cuba:
                v = np.where(s_prev, 0, sat16(lv + x))
            else:
                v = sat16(np.where(s_prev, 0, lv) + x)
        else:
            bv = (self.beta * self.v).astype(np.float32)
            if self.reset == "subtract":
                v = (bv + x).astype(np.float32)
                v = np.where(s_prev, (v - self.thr).astype(np.float32), v)
            elif self.cuba:
                v = np.where(s_prev, np.float32(0), (bv + x).astype(np.float32))
            else:
                v = (np.where(s_prev, np.float32(0), bv) + x).astype(np.float32)
        self.s = v > self.thr
        if self.timing == "same":
            if self.reset == "subtract":
                after = sat16(v - self.thr) if q else (v - self.thr).astype(np.float32)
            else:
                after = np.broadcast_to(self.v_reset, v.shape)
            v = np.where(self.s, after, v)
        self.v = v
        return self.s.astype(np.uint8)


# ---- the models ---------------------------------------------------------------------------------

N_IN, N = 6, 7


def recurrent_model(q15: bool, cuba: bool, reset: str, timing: str, with_v_reset: bool, seed: int = 1):
    """x -> fc -> (+) -> lif / cubalif -> s, and s -> delay -> d -> fc (spike-driven; read before
    the delay, the previous step's spikes) -> the second term of the sum. Output: s. Returns
    (model, reference parameters)."""
    rng = np.random.default_rng(seed)
    kw = {"reset": reset, "reset_timing": timing}
    ref = {"reset": reset, "timing": timing, "cuba": cuba, "q15": q15}
    if q15:
        sc = 1e-3
        T = [Tensor("q15", (N_IN,), scale=1 / 4096), Tensor("q15", (N,), scale=sc), Tensor("spike", (N,), "state"),
             Tensor("q15", (N,), scale=sc), Tensor("q15", (N,), scale=sc), Tensor("spike", (N,), "state"),
             Tensor("q15", (N,), "state", scale=sc), Tensor("q15", (N,), "state", scale=sc)]
        w1 = rng.integers(-3000, 3000, size=(N, N_IN)).astype(np.int16)
        w2 = rng.integers(-2500, 2500, size=(N, N)).astype(np.int16)
        thr = rng.integers(400, 1500, size=N).astype(np.int16)
        dec = rng.integers(22000, 32768, size=N).astype(np.uint16)
        sdec = rng.integers(16000, 30000, size=N).astype(np.uint16)
        vr = rng.integers(-300, 300, size=N).astype(np.int16)
        L = [Layer("fc_q15", 0, 1, N_IN, N, [w1.ravel(), None], shift=9),
             Layer("fc_spike_q15", 2, 3, N, N, [w2.ravel(), None]),
             Layer("add_q15", 1, 4, N, N, input2=3)]
        vrs = [vr] if with_v_reset else []
        if cuba:
            L.append(Layer("cubalif_q15", 4, 5, N, N, [sdec, dec, thr] + vrs, [6, 7], leak=("decay", "decay"), **kw))
        else:
            T.pop()
            L.append(Layer("lif_q15", 4, 5, N, N, [dec, thr] + vrs, [6], leak=("decay",), **kw))
        ref.update(w1=w1, w2=w2, thr=thr.astype(np.int64), decay=dec, syn_decay=sdec,
                   v_reset=vr if with_v_reset else None)
    else:
        T = [Tensor("f32", (N_IN,)), Tensor("f32", (N,)), Tensor("spike", (N,), "state"), Tensor("f32", (N,)),
             Tensor("f32", (N,)), Tensor("f32", (N,)), Tensor("spike", (N,), "state"), Tensor("f32", (N,), "state"),
             Tensor("f32", (N,), "state")]
        w1 = rng.normal(size=(N, N_IN)).astype(np.float32)
        w2 = (rng.normal(size=(N, N)) * 0.7).astype(np.float32)
        thr = rng.uniform(0.4, 1.5, size=N).astype(np.float32)
        beta = rng.uniform(0.5, 1.0, size=N).astype(np.float32)
        alpha = rng.uniform(0.2, 0.9, size=N).astype(np.float32)
        vr = rng.uniform(-0.4, 0.4, size=N).astype(np.float32)
        L = [Layer("fc_f32", 0, 1, N_IN, N, [w1.ravel(), None]),
             Layer("spike_f32", 2, 3, N, N),
             Layer("fc_f32", 3, 4, N, N, [w2.ravel(), None]),
             Layer("add_f32", 1, 5, N, N, input2=4)]
        vrs = [vr] if with_v_reset else []
        if cuba:
            L.append(Layer("cubalif_f32", 5, 6, N, N, [alpha, beta, thr] + vrs, [7, 8], **kw))
        else:
            T.pop()
            L.append(Layer("lif_f32", 5, 6, N, N, [beta, thr] + vrs, [7], **kw))
        ref.update(w1=w1, w2=w2, thr=thr, beta=beta, alpha=alpha, v_reset=vr if with_v_reset else None)
    s = L[-1].output
    L.append(Layer("delay", s, 2, N, N))
    return plan(Model(L, T, 0, s, 0), reuse=True), ref


def recurrent_reference(ref, xs):
    """The recurrent model's spikes per step, from the equations."""
    q = ref["q15"]
    nrn = RefNeuron(q, ref["cuba"], ref["reset"], ref["timing"], ref["thr"], beta=ref.get("beta"),
                    alpha=ref.get("alpha"), decay=ref.get("decay"), syn_decay=ref.get("syn_decay"),
                    v_reset=ref["v_reset"], n=N)
    d = np.zeros(N, np.uint8)            # the delay's output: the previous step's spikes (0 at first)
    out = []
    for x in xs:
        if q:
            c = sat16(fc_q15(ref["w1"], x, 9) + fc_spike_q15(ref["w2"], d))
        else:
            c = (fc_f32(ref["w1"], x) + fc_f32(ref["w2"], d.astype(np.float32))).astype(np.float32)
        s = nrn.step(c)
        out.append(s)
        d = s
    return np.array(out)


def inputs(q15: bool, steps: int = 60, seed: int = 2):
    rng = np.random.default_rng(seed)
    if q15:
        return rng.integers(-9000, 16000, size=(steps, N_IN)).astype(np.int16)
    return (rng.normal(size=(steps, N_IN)) * 1.2 + 0.5).astype(np.float32)


RESETS = [("subtract", "next", False), ("zero", "next", False), ("subtract", "same", False),
          ("zero", "same", False), ("zero", "same", True)]


def _ids(r):
    return f"{r[0]}-{r[1]}" + ("-v_reset" if r[2] else "")


# ---- writing and reading back ------------------------------------------------------------------

def test_minor_is_5_only_when_needed():
    """The writer writes 5 for codes 23..25, reset bit 1 or a v_reset, and the old minor else."""
    T = [Tensor("q15", (3,)), Tensor("spike", (3,), "state"), Tensor("q15", (3,), "state")]
    thr = np.array([100], np.int16)
    dec = np.array([30000], np.uint16)

    def blob(**kw):
        return plan(Model([Layer("lif_q15", 0, 1, 3, 3, [dec, thr] + kw.pop("vr", []), [2], leak=("decay",), **kw)],
                          T, 0, 1, 0)).to_bytes()
    assert minor(blob()) == 0
    assert minor(blob(reset="zero")) == 0
    assert minor(blob(reset_timing="same")) == 5
    assert minor(blob(reset="zero", reset_timing="same")) == 5
    assert minor(blob(reset="zero", reset_timing="same", vr=[np.array([-7], np.int16)])) == 5
    assert minor(blob(reset="zero", reset_timing="same", vr=[None])) == 5     # an absent v_reset slot
    m = read(blob(reset="zero", reset_timing="same", vr=[np.array([-7], np.int16)]))
    assert m.layers[0].param("v_reset").tolist() == [-7]
    assert read(blob(reset_timing="same")).layers[0].param("v_reset") is None
    with pytest.raises(BlobError, match="reset_timing 'later'"):
        blob(reset_timing="later")


def test_lifetimes_and_plan_of_a_delay():
    """A delay's output is read before the delay (the previous step's value): it lives for the
    whole run and shares no bytes; the delay's input lives until the delay."""
    m, _ = recurrent_model(True, False, "subtract", "same", False)
    L = len(m.layers)
    life = lifetimes(m)
    d = m.layers[-1]
    assert d.type == "delay" and life[d.output] == (L - 1, L)
    assert life[d.input] == (L - 2, L)                       # the model's output (also read by the delay)
    assert m.layers[1].input == d.output and life[m.layers[1].output] == (1, 2)
    # the delay's output, a state tensor, shares no bytes with anything (the planner and the loader)
    t = m.tensors[d.output]
    for u, tu in enumerate(m.tensors):
        if u != d.output:
            assert tu.offset + tu.nbytes <= t.offset or t.offset + t.nbytes <= tu.offset
    # a delay of an activation: its input's lifetime ends at its last reader (here after the
    # delay); the delay's output is placed with the state tensors, after every activation
    T = [Tensor("q15", (4,)), Tensor("q15", (4,)), Tensor("q15", (4,), "state"), Tensor("q15", (4,)),
         Tensor("q15", (4,))]
    Ls = [Layer("add_q15", 0, 1, 4, 4, input2=2), Layer("delay", 1, 2, 4, 4),
          Layer("relu_q15", 1, 3, 4, 4), Layer("relu_q15", 3, 4, 4, 4)]
    m = plan(Model(Ls, T, 0, 4, 0), reuse=True)
    m.to_bytes()
    life = lifetimes(m)
    assert life[1] == (0, 2) and life[2] == (1, 4) and life[3] == (2, 3)
    assert m.tensors[2].offset >= max(t.offset + t.nbytes for t in m.tensors if t.kind == "activation")


# ---- running: sim == kernels == the equations (== the firmware, once it reads 1.5) ----------------

@pytest.mark.parametrize("q15", [True, False], ids=["q15", "f32"])
@pytest.mark.parametrize("cuba", [False, True], ids=["lif", "cubalif"])
@pytest.mark.parametrize("reset", RESETS, ids=_ids)
def test_recurrent_layers_follow_the_equations(q15, cuba, reset):
    m, ref = recurrent_model(q15, cuba, *reset)
    blob = m.to_bytes()
    # written as format 1.5 (add and delay), read back the same, the reset byte as the options say
    assert minor(blob) == 5
    m2 = read(blob)
    assert m2.to_bytes() == blob
    sp = m2.layers[-2]
    assert (sp.reset, sp.reset_timing, sp.param("v_reset") is not None) == reset
    assert blob[64 + 64 * (len(m2.layers) - 2) + 1] == (reset[0] == "zero") | (reset[1] == "same") << 1
    xs = inputs(q15)
    ys, ts = HostModel(blob, "sim").run(xs)
    yk, tk = HostModel(blob, "kernels").run(xs)
    np.testing.assert_array_equal(ys, yk)
    for a, b in zip(ts, tk):
        for p, q in zip(a, b):
            assert p.dtype == q.dtype
            np.testing.assert_array_equal(p, q)
    want = recurrent_reference(ref, xs)
    np.testing.assert_array_equal(ys, want)
    assert 0 < want.mean() < 0.9                       # the test shows something
    # the spike-driven fc (layer 1) reads the delay's output before the delay: last step's spikes
    for t in range(1, len(xs)):
        np.testing.assert_array_equal(ts[t][-1], ys[t])                  # the delay copies s
        prev = ys[t - 1].astype(bool)
        if q15:
            np.testing.assert_array_equal(ts[t][1], fc_spike_q15(ref["w2"], prev).astype(np.int16))
        else:
            np.testing.assert_array_equal(ts[t][1], prev.astype(np.float32))


def test_the_reset_options_differ():
    """The five reset options give five different membrane traces on the same input; the spike
    trains of subtract-next and subtract-same differ too. (LIF to zero: next step and same step
    spike alike, leak(0) being 0; only the membrane between the steps differs.)"""
    xs = inputs(True, 80)
    spikes, membranes = {}, {}
    for r in RESETS:
        m, _ = recurrent_model(True, False, *r)
        hm = HostModel(m.to_bytes(), "sim")
        spikes[r] = np.array([hm.step(x) for x in xs])
        hm.reset()
        membranes[r] = np.array([(hm.step(x), hm.tensor(m.layers[-2].states[0]))[1] for x in xs])
    assert len({v.tobytes() for v in membranes.values()}) == len(RESETS)
    assert not np.array_equal(spikes[RESETS[0]], spikes[RESETS[2]])
    np.testing.assert_array_equal(spikes[RESETS[1]], spikes[RESETS[3]])


def test_reset_zeroes_the_delays():
    """After HostModel.reset() a delay's output reads 0 (eh_model_reset_state zeroes the arena)."""
    m, _ = recurrent_model(True, True, "zero", "same", True)
    hm = HostModel(m.to_bytes(), "kernels")
    xs = inputs(True, 30)
    a, _ = hm.run(xs)
    hm.reset()
    for x in xs:
        if hm.step(x).any():
            break
    assert hm.tensor(m.layers[-1].output).any()
    hm.reset()
    assert not hm.tensor(m.layers[-1].output).any()
    np.testing.assert_array_equal(hm.run(xs)[0], a)


def test_membrane_after_a_same_step_reset():
    """Right after a step, a neuron that spiked holds sat16(v - thr) (subtract) or v_reset (to a
    value, 0 when absent), v being the kernel's membrane leak(v_prev) + x; the others hold v."""
    for reset, vr in (("subtract", False), ("zero", True), ("zero", False)):
        m, ref = recurrent_model(True, False, reset, "same", vr)
        hm = HostModel(m.to_bytes(), "kernels")
        v_t = m.layers[-2].states[0]
        v_prev = np.zeros(N, np.int64)
        seen = 0
        for x in inputs(True, 40):
            tr: list = []
            s = hm.step(x, tr).astype(bool)
            v_kernel = sat16(leak_q15(v_prev, ref["decay"]) + tr[2].astype(np.int64))   # tr[2]: the add's output
            after = sat16(v_kernel - ref["thr"]) if reset == "subtract" else (
                ref["v_reset"].astype(np.int64) if vr else np.zeros(N, np.int64))
            np.testing.assert_array_equal(s, v_kernel > ref["thr"])
            v_prev = hm.tensor(v_t).astype(np.int64)
            np.testing.assert_array_equal(v_prev, np.where(s, after, v_kernel))
            seen += s.sum()
        assert seen > 0


def fanin_model(q15: bool):
    """Three branches from the input summed by two adds (k inputs: k - 1 adds), plus an
    integrator through a delay of a value (y = sum + y_prev, the delay read before it)."""
    n = 5
    if q15:
        sc = 2e-3
        T = [Tensor("q15", (n,), scale=sc)] + [Tensor("q15", (n,), scale=sc) for _ in range(5)] + \
            [Tensor("q15", (n,), "state", scale=sc), Tensor("q15", (n,), scale=sc)]
        mk = lambda i, o, k: Layer("fc_q15", i, o, n, n, [np.eye(n, dtype=np.int16).ravel() * k, None])  # noqa: E731
        add = "add_q15"
    else:
        T = [Tensor("f32", (n,))] + [Tensor("f32", (n,)) for _ in range(5)] + [Tensor("f32", (n,), "state"),
                                                                                Tensor("f32", (n,))]
        mk = lambda i, o, k: Layer("fc_f32", i, o, n, n, [np.eye(n, dtype=np.float32).ravel() * k, None])  # noqa: E731
        add = "add_f32"
    L = [mk(0, 1, 1), mk(0, 2, 2), mk(0, 3, 3),
         Layer(add, 1, 4, n, n, input2=2), Layer(add, 4, 5, n, n, input2=3),
         Layer(add, 5, 7, n, n, input2=6),            # + the delay's output (the previous y)
         Layer("delay", 7, 6, n, n)]
    return plan(Model(L, T, 0, 7, 0))


@pytest.mark.parametrize("q15", [True, False], ids=["q15", "f32"])
def test_fan_in_and_a_delayed_value(q15):
    m = fanin_model(q15)
    blob = m.to_bytes()
    rng = np.random.default_rng(4)
    if q15:
        xs = rng.integers(-3000, 3000, size=(30, 5)).astype(np.int16)
        xs[::7] = 32767                                   # saturating sums
    else:
        xs = (rng.normal(size=(30, 5)) * 1e3).astype(np.float32)
    ys, _ = HostModel(blob, "sim").run(xs)
    np.testing.assert_array_equal(ys, HostModel(blob, "kernels").run(xs)[0])
    y = np.zeros(5, np.int64 if q15 else np.float32)
    for t, x in enumerate(xs):
        if q15:
            x = x.astype(np.int64)
            y = sat16(sat16(sat16(sat16(x) + sat16(2 * x)) + sat16(3 * x)) + y)
        else:
            s = ((x + np.float32(2) * x).astype(np.float32) + np.float32(3) * x).astype(np.float32)
            y = (s + y).astype(np.float32)
        np.testing.assert_array_equal(ys[t], y)
    assert q15 is False or np.any(ys == 32767)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), reuse=st.booleans())
def test_random_graphs_sim_equals_kernels(seed, reuse):
    rng = np.random.default_rng(seed)
    m = random_graph_model(rng, reuse=reuse)
    blob = m.to_bytes()
    assert minor(blob) == 5
    xs = (rng.normal(size=(25, m.input_tensor.n)) * rng.choice([0.5, 3.0, 30.0])).astype(np.float32)
    ys, ts = HostModel(blob, "sim").run(xs)
    yk, tk = HostModel(blob, "kernels").run(xs)
    np.testing.assert_array_equal(ys, yk)
    for a, b in zip(ts, tk):
        for p, q in zip(a, b):
            np.testing.assert_array_equal(p, q)


# ---- the C loader and interpreter (once they read format 1.5) -------------------------------------

@pytest.mark.parametrize("q15", [True, False], ids=["q15", "f32"])
@pytest.mark.parametrize("cuba", [False, True], ids=["lif", "cubalif"])
@pytest.mark.parametrize("reset", RESETS, ids=_ids)
def test_recurrent_models_native(q15, cuba, reset, native):
    m, _ = recurrent_model(q15, cuba, *reset)
    blob = m.to_bytes()
    rc, used, h, *_r, err = native.check([blob], ARENA)[0]
    assert rc == 0 and used == m.arena_size and h == read(blob).model_hash, err
    xs = inputs(q15)
    yc, tc = native.run(blob, xs)
    ys, ts = HostModel(blob, "sim").run(xs)
    np.testing.assert_array_equal(yc, ys)
    for a, b in zip(tc, ts):
        for p, q in zip(a, b):
            if p is not None:
                np.testing.assert_array_equal(p, q)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), reuse=st.booleans())
def test_random_graphs_native(seed, reuse, native):
    rng = np.random.default_rng(seed)
    m = random_graph_model(rng, reuse=reuse)
    blob = m.to_bytes()
    rc, used, *_r, err = native.check([blob], ARENA)[0]
    assert rc == 0 and used == m.arena_size, err
    xs = (rng.normal(size=(20, m.input_tensor.n)) * 3).astype(np.float32)
    yc, tc = native.run(blob, xs)
    ys, ts = HostModel(blob, "kernels").run(xs)
    np.testing.assert_array_equal(yc, ys)
    for a, b in zip(tc, ts):
        for p, q in zip(a, b):
            if p is not None:
                np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("q15", [True, False], ids=["q15", "f32"])
def test_fan_in_native(q15, native):
    blob = fanin_model(q15).to_bytes()
    xs = np.random.default_rng(5).integers(-3000, 3000, size=(20, 5)).astype(np.int16 if q15 else np.float32)
    np.testing.assert_array_equal(native.run(blob, xs)[0], HostModel(blob, "sim").run(xs)[0])


# ---- malformed blobs: every new message ------------------------------------------------------------

def base_model():
    """q15: x -> fc_q15 (a) ; d -> fc_spike_q15 (r, reads the delay's output before the delay) ;
    add_q15 (a, r -> c) ; lif_q15 reset 3 with v_reset (s) ; fc_spike_q15 (e) ; cubalif_q15
    reset 2 (s2) ; fc_spike_q15 (out) ; delay (s -> d). No reuse (ids stay put)."""
    rng = np.random.default_rng(3)
    sc = 1e-3
    T = [Tensor("q15", (4,), scale=1 / 4096), Tensor("q15", (5,), scale=sc), Tensor("spike", (5,), "state"),
         Tensor("q15", (5,), scale=sc), Tensor("q15", (5,), scale=sc), Tensor("spike", (5,), "state"),
         Tensor("q15", (5,), "state", scale=sc), Tensor("q15", (5,), scale=sc), Tensor("spike", (5,), "state"),
         Tensor("q15", (5,), "state", scale=sc), Tensor("q15", (5,), "state", scale=sc), Tensor("q15", (3,), scale=sc)]
    w = lambda o, i: rng.integers(-2000, 2000, size=o * i).astype(np.int16)  # noqa: E731
    dec = np.array([30000], np.uint16)
    thr = np.array([900], np.int16)
    L = [Layer("fc_q15", 0, 1, 4, 5, [w(5, 4), None], shift=8),
         Layer("fc_spike_q15", 2, 3, 5, 5, [w(5, 5), None]),
         Layer("add_q15", 1, 4, 5, 5, input2=3),
         Layer("lif_q15", 4, 5, 5, 5, [dec, thr, np.arange(-2, 3, dtype=np.int16) * 50], [6], leak=("decay",),
               reset="zero", reset_timing="same"),
         Layer("fc_spike_q15", 5, 7, 5, 5, [w(5, 5), None]),
         Layer("cubalif_q15", 7, 8, 5, 5, [dec, dec, thr], [9, 10], leak=("decay", "decay"), reset_timing="same"),
         Layer("fc_spike_q15", 8, 11, 5, 3, [w(3, 5), None]),
         Layer("delay", 5, 2, 5, 5)]
    return plan(Model(L, T, 0, 11, 0), reuse=False)


def f32_model():
    T = [Tensor("f32", (3,)), Tensor("spike", (3,), "state"), Tensor("f32", (3,), "state")]
    L = [Layer("lif_f32", 0, 1, 3, 3, [np.array([0.9], np.float32), np.array([1.0], np.float32),
                                       np.array([0.5, -0.5, 0.0], np.float32)], [2], reset="zero", reset_timing="same")]
    return plan(Model(L, T, 0, 1, 0))


def _delay_n_blob():
    T = [Tensor("spike", (4,)), Tensor("spike", (5,), "state"), Tensor("u16", (5,), "state")]
    m = plan(Model([Layer("delay", 0, 1, 4, 5), Layer("spike_count", 1, 2, 5, 5)], T, 0, 2, 0))
    return write(m)


def graph_cases():
    m = base_model()
    b = m.to_bytes()
    vr_off, vr_len = param_slot(b, 3, 2)
    fb = f32_model().to_bytes()
    nan_at = param_slot(fb, 0, 2)[0]
    fnan = bytearray(fb)
    struct.pack_into("<f", fnan, nan_at, float("nan"))
    return [
        ("add_in2_range", layer_field(b, 2, 14, "<H", 99), F.E_GRAPH, "layer 2 (add_q15): input2 tensor 99 >= n_tensors (12)"),
        ("add_in2_dtype", layer_field(b, 2, 14, "<H", 2), F.E_LAYER, "layer 2 (add_q15): input2 tensor 2 dtype spike, expected q15"),
        ("add_in2_size", layer_field(b, 2, 14, "<H", 11), F.E_LAYER, "layer 2 (add_q15): n_in 5 but input2 tensor 11 has 3 elements"),
        ("add_in2_scale", tensor_field(b, 3, 28, "<f", 0.0012), F.E_LAYER,
         "layer 2 (add_q15): input2 tensor 3 scale 0.0012 differs from input tensor 1 scale 0.001"),
        ("add_out_scale", tensor_field(b, 4, 28, "<f", 0.0013), F.E_LAYER,
         "layer 2 (add_q15): output tensor 4 scale 0.0013 differs from input tensor 1 scale 0.001"),
        ("add_in2_later", layer_field(b, 2, 14, "<H", 7), F.E_GRAPH,
         "layer 2 (add_q15): input2 tensor 7 is not the model input nor written by an earlier layer"),
        ("read_before_not_a_delay", layer_field(b, 1, 4, "<H", 8), F.E_GRAPH,
         "layer 1 (fc_spike_q15): input tensor 8 is not the model input nor written by an earlier layer"),
        ("delay_dtype", layer_field(b, 7, 4, "<H", 7), F.E_LAYER,
         "layer 7 (delay): output tensor 2 dtype spike, expected q15 (the input's)"),
        ("delay_kind", tensor_field(b, 2, 1, "<B", 0), F.E_LAYER,
         "layer 7 (delay): output tensor 2 kind activation, expected state"),
        ("delay_n", _delay_n_blob(), F.E_LAYER, "layer 0 (delay): n_in 4 != n_out 5"),
        ("delay_moved", layer_field(b, 7, 6, "<H", 5), F.E_GRAPH,        # tensor 2 is no delay's output now
         "layer 1 (fc_spike_q15): input tensor 2 is not the model input nor written by an earlier layer"),
        ("delay_twice", layer_field(layer_field(b, 7, 6, "<H", 5), 1, 4, "<H", 5), F.E_GRAPH,
         "layer 7 (delay): output tensor 5 already written by layer 3"),
        ("reset_6", layer_field(b, 3, 1, "<B", 6), F.E_LAYER, "layer 3 (lif_q15): reset 6 invalid"),
        ("reset_7_cuba", layer_field(b, 5, 1, "<B", 7), F.E_LAYER, "layer 5 (cubalif_q15): reset 7 invalid"),
        ("reset_2_fc", layer_field(b, 0, 1, "<B", 2), F.E_LAYER, "layer 0 (fc_q15): reset 2 invalid"),
        ("reset_2_delay", layer_field(b, 7, 1, "<B", 2), F.E_LAYER, "layer 7 (delay): reset 2 invalid"),
        ("v_reset_not_3", layer_field(b, 3, 1, "<B", 1), F.E_PARAM,
         "layer 3 (lif_q15): param 2 (v_reset): only with reset to a value in the same step (reset 3)"),
        ("v_reset_subtract_same", layer_field(b, 3, 1, "<B", 2), F.E_PARAM,
         "layer 3 (lif_q15): param 2 (v_reset): only with reset to a value in the same step (reset 3)"),
        ("v_reset_cuba", layer_field(layer_field(b, 5, 32 + 24, "<I", vr_off), 5, 32 + 28, "<I", vr_len), F.E_PARAM,
         "layer 5 (cubalif_q15): param 3 (v_reset): only with reset to a value in the same step (reset 3)"),
        ("v_reset_count", layer_field(b, 3, 32 + 20, "<I", 6), F.E_PARAM,
         "layer 3 (lif_q15): param 2 (v_reset): 3 entries, expected 1 or 5"),
        ("v_reset_offset", layer_field(b, 3, 32 + 16, "<I", vr_off + 2), F.E_ALIGN,
         f"layer 3 (lif_q15): param 2 (v_reset): offset 0x{vr_off + 2:x} not a multiple of 4"),
        ("v_reset_len0", layer_field(b, 3, 32 + 20, "<I", 0), F.E_PARAM,
         f"layer 3 (lif_q15): param 2 (v_reset): length 0 but offset 0x{vr_off:x}"),
        ("v_reset_nan", refresh(fnan), F.E_PARAM, "layer 0 (lif_f32): param 2 (v_reset): entry 0"),
        ("minor_7", refresh(bytearray(b[:6] + struct.pack("<H", 7) + b[8:])), F.E_VERSION,
         "header: format version 1.7 not supported (this loader reads 1.0 to 1.6)"),
    ]


CASES = graph_cases()


@pytest.mark.parametrize("name,blob,code,msg", CASES, ids=[c[0] for c in CASES])
def test_malformed_graphs_python(name, blob, code, msg):
    with pytest.raises(BlobError) as e:
        read(blob, arena_size=ARENA)
    assert e.value.code == code, str(e.value)
    assert msg in str(e.value), str(e.value)


@pytest.mark.parametrize("name,blob,code,msg", CASES, ids=[c[0] for c in CASES])
def test_malformed_graphs_native(name, blob, code, msg, native):
    rc, *_r, err = native.check([blob], ARENA)[0]
    assert rc == code, err
    if name == "v_reset_nan":              # the C text gives no value
        assert err == "layer 0 (lif_f32): param 2 (v_reset): entry 0 not finite"
    else:
        assert msg in err, err


def test_base_models_load():
    for b in (base_model().to_bytes(), f32_model().to_bytes()):
        assert minor(b) == 5
        read(b, arena_size=ARENA)
    m = read(base_model().to_bytes())
    assert [l.reset_timing for l in m.layers if "lif" in l.type] == ["same", "same"]
    assert m.layers[3].reset == "zero" and m.layers[5].reset == "subtract"


def test_lif_adapt_keeps_bit_1_clear():
    T = [Tensor("q15", (2,)), Tensor("spike", (2,), "state"), Tensor("q15", (2,), "state"),
         Tensor("q15", (2,), "state")]
    m = plan(Model([Layer("lif_adapt_q15", 0, 1, 2, 2, [np.array([30000], np.uint16)] * 2 + [np.array([50], np.int16)],
                          [2, 3], leak=("decay", "decay"), input2=0)], T, 0, 1, 0))
    b = m.to_bytes()
    with pytest.raises(BlobError, match=r"layer 0 \(lif_adapt_q15\): reset 2 invalid"):
        read(layer_field(b, 0, 1, "<B", 2))
    m.layers[0].reset_timing = "same"
    with pytest.raises(BlobError, match="reset 2 invalid"):
        m.to_bytes()


# ---- fuzz: mutants of 1.5 seeds through the Python loader and interpreter ---------------------------

def test_fuzz_graph_seeds_python():
    """Mutated format-1.5 blobs: the reader raises BlobError or accepts, and what it accepts runs
    (both backends, equal). The two loaders are compared in tests/test_blob.py::test_fuzz_loaders."""
    from test_blob import mutate
    rng = np.random.default_rng(15)
    seeds = [random_graph_model(rng).to_bytes() for _ in range(10)] + [base_model().to_bytes(), f32_model().to_bytes()]
    accepted = ran = 0
    for _ in range(1500):
        blob = mutate(rng, seeds[rng.integers(0, len(seeds))])
        try:
            m = read(blob, arena_size=ARENA)
        except BlobError:
            continue
        accepted += 1
        if ran < 40 and m.input_tensor.dtype in ("f32", "q15"):
            xs = (rng.normal(size=(4, m.input_tensor.n)) * 100).astype(m.input_tensor.np_dtype)
            np.testing.assert_array_equal(HostModel(m, "sim").run(xs)[0], HostModel(m, "kernels").run(xs)[0])
            ran += 1
    assert 0 < accepted < 1500 and ran > 10
