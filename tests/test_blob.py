"""The .ehm blob: round trips, validation of every field (Python and the C loader built natively
with ASan+UBSan), the two loaders agreeing, and fuzzing of both."""
from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgehost.blob import BlobError, crc32, fnv1a32, read
from edgehost.blob import format as F
from edgehost.convert import Fc, Graph, Li, Lif, build
from edgehost.convert.examples import random_adapt_blob, random_blob, random_graph_model, random_l2mu_blob
from edgehost.convert.examples import random_conv2d_model
from edgehost.runtime.native import CTool, build_tool

ARENA = 1 << 16


@pytest.fixture(scope="module")
def ctool(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


def refresh(buf: bytearray) -> bytearray:
    """Recompute the model hash and the CRC after an edit (so the edit reaches deeper checks)."""
    if len(buf) < 24:
        return buf
    total = struct.unpack_from("<I", buf, 12)[0]
    if 24 <= total <= len(buf):
        struct.pack_into("<I", buf, 20, fnv1a32(bytes(buf[24:total])))
        struct.pack_into("<I", buf, 16, crc32(bytes(buf[20:total])))
    return buf


def small_model():
    rng = np.random.default_rng(0)
    g = Graph(6, [Fc(rng.normal(size=(5, 6)), rng.normal(size=5)), Lif(np.full(5, 0.9), np.ones(5)),
                  Fc(rng.normal(size=(3, 5))), Li(np.full(3, 0.8))])
    return build(g, quantize="q15")[0]


def py_code(blob, arena=ARENA):
    try:
        read(blob, arena_size=arena)
        return 0, ""
    except BlobError as e:
        return e.code, str(e)


# ---- round trips -------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_roundtrip(seed):
    m, blob = random_blob(np.random.default_rng(seed))
    m2 = read(blob)
    assert m2.to_bytes() == blob
    assert m2.model_hash == struct.unpack_from("<I", blob, 20)[0]
    assert len(blob) % 8 == 0 and struct.unpack_from("<I", blob, 12)[0] == len(blob)
    for a, b in zip(m.layers, m2.layers):
        assert (a.type, a.input, a.output, a.n_in, a.n_out, a.shift, a.reset, a.leak, a.reset_timing) == \
               (b.type, b.input, b.output, b.n_in, b.n_out, b.shift, b.reset, b.leak, b.reset_timing)
        assert list(a.states) == list(b.states)
        for p, q in zip(a.params, b.params):
            assert (p is None and q is None) or np.array_equal(np.asarray(p).ravel(), q)
    for a, b in zip(m.tensors, m2.tensors):
        assert (a.dtype, a.shape, a.kind, a.offset, a.nbytes) == (b.dtype, b.shape, b.kind, b.offset, b.nbytes)
        assert np.float32(a.scale) == np.float32(b.scale)
    # every parameter is 8-aligned in the blob
    for i in range(len(m2.layers)):
        for k in range(4):
            off, ln = struct.unpack_from("<II", blob, 64 + 64 * i + 32 + 8 * k)
            assert off % 8 == 0 and (ln == 0) == (off == 0)


def test_writer_refuses_invalid_models():
    m = small_model()
    m.tensors[m.layers[0].output].offset = m.tensors[m.layers[0].input].offset  # overlap live tensors
    with pytest.raises(BlobError, match="overlaps tensor") as e:
        m.to_bytes()
    assert e.value.code == F.E_OVERLAP


# ---- named errors --------------------------------------------------------------------------------

def _layer_field(blob, layer, off, fmt, value):
    buf = bytearray(blob)
    struct.pack_into(fmt, buf, 64 + 64 * layer + off, value)
    return bytes(refresh(buf))


def _tensor_field(blob, t, off, fmt, value):
    buf = bytearray(blob)
    L = struct.unpack_from("<H", buf, 24)[0]
    struct.pack_into(fmt, buf, 64 + 64 * L + 32 * t + off, value)
    return bytes(refresh(buf))


def _header(blob, off, fmt, value, fix=True):
    buf = bytearray(blob)
    struct.pack_into(fmt, buf, off, value)
    return bytes(refresh(buf) if fix else buf)


def cases():
    m = small_model()
    b = m.to_bytes()
    total = len(b)
    fc = 1  # layer 1 is fc_q15 (layer 0 is input_q15)
    w_off = struct.unpack_from("<I", b, 64 + 64 * fc + 32)[0]
    return [
        ("short", b[:40], F.E_LENGTH, "blob: 40 bytes, shorter than the 64-byte header"),
        ("magic", b"XHMB" + b[4:], F.E_MAGIC, "header: magic"),
        ("version", _header(b, 4, "<H", 2), F.E_VERSION, "format version 2.0 not supported"),
        ("minor", _header(b, 6, "<H", F.VERSION_MINOR + 1), F.E_VERSION,
         f"format version 1.{F.VERSION_MINOR + 1} not supported"),
        ("truncated", b[:-8], F.E_LENGTH, f"header: total_len {total} outside [64, {total - 8}]"),
        ("crc", b[:-1] + bytes([b[-1] ^ 1]), F.E_CRC, "header: crc32"),
        ("hash", _header(b, 20, "<I", 0, fix=False)[:16] + struct.pack("<I", crc32(
            _header(b, 20, "<I", 0, fix=False)[20:])) + _header(b, 20, "<I", 0, fix=False)[20:],
         F.E_HASH, "header: model_hash 0x00000000"),
        ("flags", _header(b, 8, "<I", 4), F.E_HEADER, "header: flags 0x00000004"),
        ("reserved", _header(b, 60, "<I", 1), F.E_HEADER, "reserved bytes 52..63"),
        ("n_layers", _header(b, 24, "<H", 0), F.E_COUNT, "header: n_layers 0 outside [1, 128]"),
        ("n_tensors", _header(b, 26, "<H", 300), F.E_COUNT, "header: n_tensors 300 outside [1, 256]"),
        ("layers_offset", _header(b, 32, "<I", 72), F.E_LAYOUT, "header: layers_offset 72 is not 64"),
        ("weights_len", _header(b, 44, "<I", 8), F.E_LAYOUT, "weights_len 8 is not total_len"),
        ("input_tensor", _header(b, 28, "<H", 99), F.E_COUNT, "header: input_tensor 99 >= n_tensors"),
        ("arena_align", _header(b, 48, "<I", m.arena_size + 2), F.E_ARENA, "is not a multiple of 4"),
        ("arena_given", _header(b, 48, "<I", ARENA + 4), F.E_ARENA, f"arena_size {ARENA + 4} > arena given ({ARENA})"),
        ("tensor_dtype", _tensor_field(b, 1, 0, "<B", 9), F.E_TENSOR, "tensor 1: dtype 9 unknown"),
        ("tensor_size", _tensor_field(b, 1, 8, "<I", 7), F.E_TENSOR, "tensor 1: size 7 bytes, expected"),
        ("tensor_align", _tensor_field(b, 1, 4, "<I", 2), F.E_ALIGN, "tensor 1: arena offset 0x2 not a multiple of 4"),
        ("tensor_past", _tensor_field(b, 1, 4, "<I", m.arena_size), F.E_ARENA, "past arena_size"),
        ("tensor_scale", _tensor_field(b, 1, 28, "<f", -1.0), F.E_TENSOR, "scale -1.0 not > 0"),
        ("layer_type", _layer_field(b, fc, 0, "<B", 63), F.E_UNSUPPORTED, "layer 1: type 63 unknown"),
        ("layer_type_unknown", _layer_field(b, fc, 0, "<B", 200), F.E_UNSUPPORTED, "layer 1: type 200 unknown"),
        ("shift", _layer_field(b, fc, 24, "<I", 32), F.E_PARAM, "layer 1 (fc_q15): shift 32 outside [0, 31]"),
        ("in_tensor", _layer_field(b, fc, 4, "<H", 77), F.E_GRAPH, "layer 1 (fc_q15): input tensor 77 >= n_tensors"),
        ("n_in", _layer_field(b, fc, 16, "<I", 7), F.E_LAYER, "layer 1 (fc_q15): n_in 7 but input tensor"),
        ("weight_past", _layer_field(b, fc, 32, "<I", total - 8), F.E_PARAM,
         f"layer 1 (fc_q15): param 0 (weight): offset 0x{total - 8:x} + 60 outside the weight section"),
        ("weight_align", _layer_field(b, fc, 32, "<I", w_off + 2), F.E_ALIGN, "not a multiple of 4"),
        ("weight_len", _layer_field(b, fc, 36, "<I", 58), F.E_PARAM, "layer 1 (fc_q15): param 0 (weight): 29 entries, expected 30"),
        ("reset", _layer_field(b, fc, 1, "<B", 1), F.E_LAYER, "layer 1 (fc_q15): reset 1 invalid"),
        ("state_slot", _layer_field(b, fc, 8, "<H", 3), F.E_LAYER, "state slot 0 must be 0xffff"),
        ("lif_reset", _layer_field(b, 2, 1, "<B", 6), F.E_LAYER, "layer 2 (lif_q15): reset 6 invalid"),
        ("graph_order", _layer_field(b, 1, 4, "<H", 3), F.E_LAYER, "layer 1 (fc_q15): input tensor 3 dtype spike"),
    ]


@pytest.mark.parametrize("name,blob,code,msg", cases(), ids=[c[0] for c in cases()])
def test_named_errors_python_and_c(name, blob, code, msg, ctool):
    with pytest.raises(BlobError) as e:
        read(blob, arena_size=ARENA)
    assert e.value.code == code
    assert msg in str(e.value), str(e.value)
    rc, used, *_rest, err = ctool.check([blob], ARENA)[0]
    assert rc == code, err
    # same field named first
    assert err.split(":")[0] == str(e.value).split(":")[0]


def _param_value_case(layer_type, slot, value_bytes):
    m = small_model()
    b = bytearray(m.to_bytes())
    li = [l.type for l in m.layers].index(layer_type)
    off = struct.unpack_from("<I", b, 64 + 64 * li + 32 + 8 * slot)[0]
    b[off:off + len(value_bytes)] = value_bytes
    return bytes(refresh(b)), li


@pytest.mark.parametrize("ltype,slot,value,msg", [
    ("lif_q15", 0, struct.pack("<H", 40000), "param 0 (leak): entry 0 (40000) outside [0, 32768]"),
    ("lif_q15", 1, struct.pack("<h", 0), "param 1 (threshold): entry 0 (0) outside [1, 32767]"),
    ("li_q15", 0, struct.pack("<H", 32769), "param 0 (leak): entry 0 (32769) outside [0, 32768]"),
    ("input_q15", 1, struct.pack("<f", float("inf")), "param 1 (mul): entry 0"),
])
def test_parameter_ranges(ltype, slot, value, msg, ctool):
    blob, li = _param_value_case(ltype, slot, value)
    with pytest.raises(BlobError, match=r"layer %d \(%s\): " % (li, ltype)) as e:
        read(blob)
    assert msg in str(e.value)
    rc, *_r, err = ctool.check([blob], ARENA)[0]
    assert rc == F.E_PARAM and err.startswith(f"layer {li} ({ltype}): param {slot}")


def test_float_parameter_ranges(ctool):
    g = Graph(3, [Fc(np.ones((2, 3))), Lif(np.full(2, 0.5), np.ones(2))])
    m = build(g)[0]
    b = bytearray(m.to_bytes())
    off = struct.unpack_from("<I", b, 64 + 64 * 1 + 32)[0]
    for val, ok in [(1.0, True), (0.0, True), (1.5, False), (-0.1, False), (float("nan"), False)]:
        struct.pack_into("<f", b, off, val)
        blob = bytes(refresh(b))
        assert (py_code(blob)[0] == 0) == ok
        assert ctool.check([blob], ARENA)[0][0] == py_code(blob)[0]


# ---- the two loaders agree, and the arena is the planned one ----------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), reuse=st.booleans())
def test_c_loader_reports_the_plan(seed, reuse, ctool):
    m, blob = random_blob(np.random.default_rng(seed), reuse=reuse)
    rc, used, h, ib, ob, nl, err = ctool.check([blob], m.arena_size)[0]
    assert rc == 0, err
    assert used == m.arena_size
    assert h == read(blob).model_hash
    assert (ib, ob, nl) == (m.input_tensor.nbytes, m.output_tensor.nbytes, len(m.layers))
    # one byte less of arena and both refuse
    assert ctool.check([blob], m.arena_size - 4)[0][0] == F.E_ARENA
    assert py_code(blob, m.arena_size - 4)[0] == F.E_ARENA


def test_reuse_shrinks_the_arena():
    rng = np.random.default_rng(3)
    layers = []
    n = 40
    for _ in range(6):
        layers += [Fc(rng.normal(size=(n, n))), Lif(np.full(n, 0.9), np.ones(n))]
    g = Graph(n, layers)
    a = build(g, reuse=True)[0]
    b = build(g, reuse=False)[0]
    assert a.arena_size < b.arena_size
    acts = [t for t in a.tensors if t.kind == "activation"]
    # with reuse the activations need at most the two largest live at once (in + out of a layer)
    assert max(t.offset + t.nbytes for t in acts) <= 2 * max(t.nbytes for t in acts) + 8


# ---- fuzz: mutated blobs into both loaders ------------------------------------------------------

def mutate(rng, blob: bytes) -> bytes:
    b = bytearray(blob)
    k = rng.integers(0, 9)
    if k == 0:                                   # bit flips
        for _ in range(rng.integers(1, 4)):
            i = rng.integers(0, len(b))
            b[i] ^= 1 << rng.integers(0, 8)
    elif k == 1:                                 # truncate
        b = b[:rng.integers(0, len(b))]
        if rng.random() < 0.5 and len(b) >= 16:
            struct.pack_into("<I", b, 12, len(b))
    elif k == 2:                                 # random u32 into a header field
        struct.pack_into("<I", b, 4 * rng.integers(1, 16), int(rng.choice([0, 1, 4, 64, 0xFFFF, 0xFFFFFFFF,
                                                                           rng.integers(0, 2**32)])))
    elif k == 3:                                 # swap two 4-byte fields in the records
        end = min(len(b), struct.unpack_from("<I", b, 40)[0]) - 4
        if end > 64:
            i, j = (64 + 4 * rng.integers(0, (end - 64) // 4, size=2))
            b[i:i + 4], b[j:j + 4] = b[j:j + 4], b[i:i + 4]
    elif k == 4:                                 # random offset / length of a parameter
        L = struct.unpack_from("<H", b, 24)[0]
        li = rng.integers(0, max(L, 1))
        struct.pack_into("<I", b, 64 + 64 * li + 32 + 4 * rng.integers(0, 8),
                         int(rng.choice([0, 4, len(b) - 4, len(b), 0xFFFFFFFC, rng.integers(0, 2 * len(b))])))
    elif k == 5:                                 # random tensor field
        L, T = struct.unpack_from("<HH", b, 24)
        t = rng.integers(0, max(T, 1))
        pos = 64 + 64 * L + 32 * t + 4 * rng.integers(0, 8)
        if pos + 4 <= len(b):
            struct.pack_into("<I", b, pos, int(rng.choice([0, 1, 3, 0xFFFF, 0x7FFFFFFF, rng.integers(0, 4096)])))
    elif k == 6:                                 # random bytes in a layer record
        L = struct.unpack_from("<H", b, 24)[0]
        pos = 64 + 64 * rng.integers(0, max(L, 1)) + rng.integers(0, 64)
        if pos < len(b):
            b[pos] = rng.integers(0, 256)
    elif k == 7:                                 # a small value into a word of a parameter
        L = struct.unpack_from("<H", b, 24)[0]       # (reaches the L2MU descriptor's fields)
        li = rng.integers(0, max(L, 1))
        rec = 64 + 64 * li + 32 + 8 * rng.integers(0, 4)
        if rec + 8 <= len(b):
            off, ln = struct.unpack_from("<II", b, rec)
            if ln >= 4 and off + ln <= len(b):
                pos = off + 4 * rng.integers(0, ln // 4)
                struct.pack_into("<I", b, pos, int(rng.choice([0, 1, 2, 3, 15, 16, 31, 32, 65535, 65536,
                                                               rng.integers(0, 100)])))
    else:                                        # garbage appended (allowed: total_len rules)
        b += bytes(rng.integers(0, 256, size=rng.integers(1, 64), dtype=np.uint8))
    if rng.random() < 0.85:
        refresh(b)
    return bytes(b)


def _fuzz(n_cases, seed, ctool):
    """Mutants of random seeds through both loaders. Seeds: random models of every layer type,
    L2MU, lif_adapt, format-1.5 graphs (add, delay, same-step resets, v_reset) and format-1.6
    spiking CNNs (conv2d_*, sumpool2d_*, avgpool2d_*) and int8 CNNs (conv2d_s8, maxpool2d_s8,
    avgpool2d_s8)."""
    from edgehost.convert.examples_s8_2d import random_conv2d_s8_model
    rng = np.random.default_rng(seed)
    seeds = [random_blob(rng)[1] for _ in range(20)] + [random_l2mu_blob(rng)[1] for _ in range(6)]
    seeds += [random_adapt_blob(rng)[1] for _ in range(5)]
    seeds += [random_graph_model(rng).to_bytes() for _ in range(8)]
    seeds += [random_conv2d_model(rng).to_bytes() for _ in range(8)]     # format 1.6: conv2d, pooling
    seeds += [random_conv2d_s8_model(rng).to_bytes() for _ in range(6)]  # 1.6: conv2d_s8, max/avgpool2d_s8
    blobs = [mutate(rng, seeds[rng.integers(0, len(seeds))]) for _ in range(n_cases)]
    blobs += [b"", b"EHMB", seeds[0][:64]]
    c = ctool.check(blobs, ARENA)     # raises if the loader crashed or a sanitizer fired
    accepted = 0
    for blob, (rc, used, h, ib, ob, nl, err) in zip(blobs, c):
        try:
            m = read(blob, arena_size=ARENA)
            code, msg = 0, ""
        except BlobError as e:
            code, msg = e.code, str(e)
        assert rc == code, (err, msg)
        if rc:
            assert err and err.split(":")[0] == msg.split(":")[0], (err, msg)
        else:
            accepted += 1
            assert used == m.arena_size and h == m.model_hash
    return accepted, len(blobs)


def test_fuzz_loaders(ctool):
    accepted, total = _fuzz(3000, 1234, ctool)
    assert total > 3000 and accepted < total


@pytest.mark.slow
def test_fuzz_loaders_long(ctool):
    for seed in range(10):
        _fuzz(5000, 10_000 + seed, ctool)


def test_fuzz_accepted_mutants_run_alike(ctool):
    """Mutants both loaders accept (e.g. a changed weight) run identically in C and Python."""
    from edgehost.runtime import HostModel
    rng = np.random.default_rng(99)
    runs = l2mu_runs = 0
    for i in range(400):
        _, blob = random_l2mu_blob(rng) if (i % 3 == 0 and l2mu_runs < 5) else random_blob(rng, quantize="q15")
        b = bytearray(blob)
        ws = struct.unpack_from("<I", b, 40)[0]
        for _ in range(3):
            b[rng.integers(ws, len(b))] = rng.integers(0, 256)
        blob = bytes(refresh(b))
        if py_code(blob)[0] != 0:
            continue
        m = read(blob)
        if m.input_tensor.dtype == "q15":
            xs = rng.integers(-20000, 20000, size=(5, m.input_tensor.n)).astype(np.int16)
        else:
            xs = (rng.normal(size=(5, m.input_tensor.n)) * 4).astype(np.float32)
        yc, _ = ctool.run(blob, xs)
        ys, _ = HostModel(blob, "sim").run(xs)
        np.testing.assert_array_equal(yc, ys)
        runs += 1
        l2mu_runs += any(l.type == "l2mu_q15" for l in m.layers)
        if runs >= 15 and l2mu_runs >= 3:
            break
    assert runs >= 5 and l2mu_runs >= 3


# ---- lif_adapt_q15 / lif_adapt_f32: the second input (record offset 14) ---------------------------

def adapt_model():
    """input_q15 -> fc_q15 1->5 -> lif_q15 -> fc_spike_q15 5->4 (x) and 5->4 (x_th) -> lif_adapt_q15
    -> fc_spike_q15 4->4 -> li_q15 -> fc_q15 4->1 (the blimp controller's shape), no reuse."""
    from edgehost.blob import Layer, Model, Tensor
    from edgehost.convert.planner import plan
    rng = np.random.default_rng(7)
    T = [Tensor("f32", (1,)), Tensor("q15", (1,), scale=1 / 4096), Tensor("q15", (5,), scale=1e-3),
         Tensor("spike", (5,), "state"), Tensor("q15", (5,), "state", 1e-3),
         Tensor("q15", (4,), scale=1e-3), Tensor("q15", (4,), scale=1e-3),
         Tensor("spike", (4,), "state"), Tensor("q15", (4,), "state", 1e-3), Tensor("q15", (4,), "state", 1e-3),
         Tensor("q15", (4,), scale=1e-3), Tensor("q15", (4,), "state", 1e-3), Tensor("q15", (1,), scale=1e-3)]
    w = lambda *sh: rng.integers(-3000, 3000, size=sh).astype(np.int16).ravel()  # noqa: E731
    L = [Layer("input_q15", 0, 1, 1, 1, [np.zeros(1, np.float32), np.full(1, 4096, np.float32)]),
         Layer("fc_q15", 1, 2, 1, 5, [w(5, 1), None], shift=10),
         Layer("lif_q15", 2, 3, 5, 5, [np.array([3], np.uint8), np.array([1000], np.int16)], [4], leak=("shift",)),
         Layer("fc_spike_q15", 3, 5, 5, 4, [w(4, 5), None]),
         Layer("fc_spike_q15", 3, 6, 5, 4, [np.abs(w(4, 5)), None]),
         Layer("lif_adapt_q15", 5, 7, 4, 4, [np.array([30000], np.uint16), np.array([2, 3, 4, 5], np.uint8),
                                              np.array([800], np.int16)], [8, 9], leak=("decay", "shift"), input2=6),
         Layer("fc_spike_q15", 7, 10, 4, 4, [w(4, 4), None]),
         Layer("li_q15", 10, 11, 4, 4, [np.array([31000, 32000, 20000, 32768], np.uint16)], leak=("decay",)),
         Layer("fc_q15", 11, 12, 4, 1, [np.ones(4, np.int16), None])]
    return plan(Model(L, T, 0, 12, 0), reuse=False)


def adapt_cases():
    m = adapt_model()
    b = m.to_bytes()
    la = 5
    return [
        ("in2_range", _layer_field(b, la, 14, "<H", 99), F.E_GRAPH, "layer 5 (lif_adapt_q15): input2 tensor 99 >= n_tensors (13)"),
        ("in2_dtype", _layer_field(b, la, 14, "<H", 3), F.E_LAYER, "layer 5 (lif_adapt_q15): input2 tensor 3 dtype spike, expected q15"),
        ("in2_size", _layer_field(b, la, 14, "<H", 2), F.E_LAYER, "layer 5 (lif_adapt_q15): n_in 4 but input2 tensor 2 has 5 elements"),
        ("in2_later", _layer_field(b, la, 14, "<H", 10), F.E_GRAPH, "layer 5 (lif_adapt_q15): input2 tensor 10 is not the model input"),
        ("in2_slot", _layer_field(b, la, 14, "<H", 8), F.E_GRAPH, "layer 5 (lif_adapt_q15): input2 tensor 8 is not the model input"),
        ("in2_on_fc", _layer_field(b, 3, 14, "<H", 6), F.E_LAYER, "layer 3 (fc_spike_q15): reserved fields not zero"),
        ("state_dtype", _layer_field(b, la, 10, "<H", 7), F.E_LAYER, "layer 5 (lif_adapt_q15): state 1 tensor 7 must be a q15 state"),
        ("leak_bits", _layer_field(b, la, 2, "<B", 4), F.E_LAYER, "layer 5 (lif_adapt_q15): leak bits 0x4 invalid"),
        ("th_leak_len", _layer_field(b, la, 32 + 8 + 4, "<I", 3), F.E_PARAM, "layer 5 (lif_adapt_q15): param 1 (th_leak): 3 entries, expected 1 or 4"),
    ]


@pytest.mark.parametrize("name,blob,code,msg", adapt_cases(), ids=[c[0] for c in adapt_cases()])
def test_lif_adapt_errors_python_and_c(name, blob, code, msg, ctool):
    with pytest.raises(BlobError) as e:
        read(blob, arena_size=ARENA)
    assert e.value.code == code
    assert msg in str(e.value), str(e.value)
    rc, *_r, err = ctool.check([blob], ARENA)[0]
    assert rc == code, err
    assert err.split(":")[0] == str(e.value).split(":")[0]
    if code != F.E_PARAM:                  # the C text is the Python text (no values added)
        assert msg in err, err


@pytest.mark.parametrize("slot,value,msg", [
    (0, struct.pack("<H", 40000), "param 0 (mem_leak): entry 0 (40000) outside [0, 32768]"),
    (1, struct.pack("<BB", 2, 16), "param 1 (th_leak): entry 1 (16) outside [1, 15]"),
    (2, struct.pack("<h", 0), "param 2 (threshold): entry 0 (0) outside [1, 32767]"),
])
def test_lif_adapt_parameter_ranges(slot, value, msg, ctool):
    b = bytearray(adapt_model().to_bytes())
    off = struct.unpack_from("<I", b, 64 + 64 * 5 + 32 + 8 * slot)[0]
    b[off:off + len(value)] = value
    blob = bytes(refresh(b))
    with pytest.raises(BlobError) as e:
        read(blob)
    assert e.value.code == F.E_PARAM and msg in str(e.value), str(e.value)
    rc, *_r, err = ctool.check([blob], ARENA)[0]
    assert rc == F.E_PARAM and err.startswith(f"layer 5 (lif_adapt_q15): param {slot}"), err


def test_writer_checks_the_second_input():
    m = adapt_model()
    m.layers[5].input2 = None
    with pytest.raises(BlobError, match="needs a second input"):
        m.to_bytes()
    m = adapt_model()
    m.layers[3].input2 = 6
    with pytest.raises(BlobError, match="takes no second input"):
        m.to_bytes()


def test_minor_version_is_the_lowest_needed(ctool):
    """Blobs without the new layers keep their old minor (older loaders still read them); a
    lif_adapt model is 1.3 and an older loader refuses it by its version."""
    m = adapt_model()
    b = m.to_bytes()
    assert struct.unpack_from("<H", b, 6)[0] == 3
    assert ctool.check([b], ARENA)[0][0] == 0
    assert struct.unpack_from("<H", small_model().to_bytes(), 6)[0] == 0
    assert struct.unpack_from("<H", random_l2mu_blob(np.random.default_rng(0))[1], 6)[0] == 1
    # the input2 lifetime: x_th lives until the lif_adapt layer reads it
    from edgehost.blob import lifetimes
    assert lifetimes(read(b))[6] == (4, 5)


# ---- format 1.4: conv1d_b1_*, mst_fc_b1_*, shiftadd_fc_q15, bcq_fc_q15, pack_signs_b1 -----------

def b1_model():
    """input_q15 -> shiftadd_fc_q15 5->9 -> bcq_fc_q15 9->11 (q 2) -> pack_signs_b1 -> conv1d_b1_bits
    11->40 (taps 3) -> mst_fc_b1_bits 40->37 -> conv1d_b1_s8 37->4 (taps 2) -> dequant_s8."""
    from edgehost.blob import Layer, Model, Tensor
    from edgehost.convert.b1layers import conv_weight_words, mst_params
    from edgehost.convert.planner import plan
    rng = np.random.default_rng(21)
    T = [Tensor("f32", (5,)), Tensor("q15", (5,)), Tensor("q15", (9,)), Tensor("q15", (11,)), Tensor("s32", (512,)),
         Tensor("b1", (11,)), Tensor("b1", (40,)), Tensor("u32", (3,), "state"), Tensor("b1", (37,)),
         Tensor("s32", (57,)), Tensor("s8", (4,), scale=0.1), Tensor("u32", (4,), "state"), Tensor("f32", (4,))]
    base = rng.choice([-1, 1], size=(5, 40))
    wm = base[rng.integers(0, 5, size=37)]
    wm[rng.random(wm.shape) < 0.05] *= -1
    mp, lay = mst_params(wm, max_depth=3, root_cost=1e6)   # children even at K = 40
    assert lay.n_diff > 0 and lay.n_roots < 37
    L = [Layer("input_q15", 0, 1, 5, 5, [np.zeros(1, np.float32), np.full(1, 4096, np.float32)]),
         Layer("shiftadd_fc_q15", 1, 2, 5, 9, [rng.integers(0, 256, 45).astype(np.uint8) & np.uint8(0x9F), None], shift=2),
         Layer("bcq_fc_q15", 2, 3, 9, 11, [rng.integers(-6, 3, 22).astype(np.int8),
                                            rng.integers(0, 2**32, 22, dtype=np.uint64).astype(np.uint32), None], [4], shift=3),
         Layer("pack_signs_b1", 3, 5, 11, 11),
         Layer("conv1d_b1_bits", 5, 6, 11, 40, [conv_weight_words(rng.choice([-1, 1], size=(40, 3, 11))),
                                                 rng.integers(-5, 5, 40).astype(np.int32)], [7]),
         Layer("mst_fc_b1_bits", 6, 8, 40, 37, mp + [rng.integers(-4, 4, 37).astype(np.int32)], [9]),
         Layer("conv1d_b1_s8", 8, 10, 37, 4, [conv_weight_words(rng.choice([-1, 1], size=(4, 2, 37))),
                                               np.full(4, 1 << 20, np.int32), None], [11], shift=18),
         Layer("dequant_s8", 10, 12, 4, 4, [np.zeros(1, np.int32)])]
    return plan(Model(L, T, 0, 12, 0), reuse=False)


def _param_word(blob, layer, slot, index, fmt, value):
    buf = bytearray(blob)
    off = struct.unpack_from("<I", buf, 64 + 64 * layer + 32 + 8 * slot)[0]
    struct.pack_into(fmt, buf, off + index * struct.calcsize(fmt), value)
    return bytes(refresh(buf))


def b1_cases():
    m = b1_model()
    b = m.to_bytes()
    tree = m.layers[5].params[0]
    n = 37
    child = int(np.flatnonzero(tree[2:2 + n].view(np.int32) >= 0)[0])
    first_code = int(tree[3 + 3 * n + child - 1])           # diff_start[child]
    rlen = struct.unpack_from("<I", b, 64 + 64 * 5 + 32 + 8 + 4)[0]
    return [
        ("conv_window", _layer_field(b, 6, 8, "<H", 7), F.E_LAYER,
         "layer 6 (conv1d_b1_s8): state 0 tensor 7 must be a u32 state tensor of taps x 2 elements (the window)"),
        ("conv_weight_len", _layer_field(b, 4, 8, "<H", 11), F.E_PARAM,
         "layer 4 (conv1d_b1_bits): param 0 (weight): 120 entries, expected 160"),
        ("conv_thr", _param_word(b, 4, 1, 0, "<i", 35), F.E_PARAM,
         "layer 4 (conv1d_b1_bits): param 1 (threshold): entry 0 (35) outside [-33, 34]"),
        ("conv_s8_shift", _layer_field(b, 6, 24, "<I", 63), F.E_PARAM, "layer 6 (conv1d_b1_s8): shift 63 outside [0, 62]"),
        ("shiftadd_shift", _layer_field(b, 1, 24, "<I", 32), F.E_PARAM, "layer 1 (shiftadd_fc_q15): shift 32 outside [0, 31]"),
        ("pow2_reserved", _param_word(b, 1, 0, 0, "<B", 0x21), F.E_PARAM,
         "layer 1 (shiftadd_fc_q15): param 0 (weight): entry 0 (33) has reserved bits 6..5 set"),
        ("bcq_alpha_len", _layer_field(b, 2, 36, "<I", 21), F.E_PARAM,
         "layer 2 (bcq_fc_q15): param 0 (alpha_exp): 21 entries, expected 11 x q with q in [1, 8]"),
        ("bcq_alpha", _param_word(b, 2, 0, 1, "<b", -25), F.E_PARAM,
         "layer 2 (bcq_fc_q15): param 0 (alpha_exp): entry 1 (-25) outside [-24, 24]"),
        ("bcq_weight_len", _layer_field(b, 2, 44, "<I", 84), F.E_PARAM,
         "layer 2 (bcq_fc_q15): param 1 (weight): 21 entries, expected 22 (n_out x q x 1)"),
        ("bcq_scratch", _layer_field(b, 2, 8, "<H", 9), F.E_LAYER,
         "layer 2 (bcq_fc_q15): state 0 tensor 9 must be a s32 activation tensor of 512 elements"),
        ("signs_dtype", _layer_field(b, 3, 4, "<H", 6), F.E_LAYER,
         "layer 3 (pack_signs_b1): input tensor 6 dtype b1, expected s8/q15/f32"),
        ("mst_n_roots", _param_word(b, 5, 0, 0, "<I", 0), F.E_PARAM,
         "layer 5 (mst_fc_b1_bits): param 0 (tree): n_roots 0 outside [1, 37]"),
        ("mst_parent", _param_word(b, 5, 0, 2, "<i", 5), F.E_PARAM,
         "layer 5 (mst_fc_b1_bits): param 0 (tree): node 0: parent 5 outside [-1, -1]"),
        ("mst_channel", _param_word(b, 5, 0, 2 + n, "<I", int(tree[3 + n])), F.E_PARAM,
         f"layer 5 (mst_fc_b1_bits): param 0 (tree): node 0: node_of[{int(tree[3 + n])}] is 1, not 0 (channel is not a permutation)"),
        ("mst_diff_start", _param_word(b, 5, 0, 2 + 3 * n + n, "<I", 0), F.E_PARAM,
         "layer 5 (mst_fc_b1_bits): param 0 (tree): diff_start[0] 0 and diff_start[37] 0 must be 0 and n_diff"),
        ("mst_roots_count", _param_word(b, 5, 0, 0, "<I", int(tree[0]) + 1), F.E_PARAM,
         f"layer 5 (mst_fc_b1_bits): param 0 (tree): {int(tree[0])} roots, n_roots says {int(tree[0]) + 1}"),
        ("mst_root_len", _layer_field(b, 5, 44, "<I", rlen - 4), F.E_PARAM,
         f"layer 5 (mst_fc_b1_bits): param 1 (root_w): {rlen // 4 - 1} entries, expected {rlen // 4} (n_roots x 2)"),
        ("mst_diff_missing", _layer_field(_layer_field(b, 5, 52, "<I", 0), 5, 48, "<I", 0), F.E_PARAM,
         "layer 5 (mst_fc_b1_bits): param 2 (diff): missing (length 0)"),
        ("mst_code_range", _param_word(b, 5, 2, first_code, "<H", 40 << 1), F.E_PARAM,
         f"layer 5 (mst_fc_b1_bits): param 2 (diff): node {child}: code {first_code} (position 40) outside [0, 39]"),
        ("mst_thr", _param_word(b, 5, 3, 0, "<i", 42), F.E_PARAM,
         "layer 5 (mst_fc_b1_bits): param 3 (threshold): entry 0 (42) outside [-40, 41]"),
        ("mst_scratch", _layer_field(b, 5, 8, "<H", 4), F.E_LAYER,
         "layer 5 (mst_fc_b1_bits): state 0 tensor 4 must be a s32 activation tensor of 57 elements"),
    ]


@pytest.mark.parametrize("name,blob,code,msg", b1_cases(), ids=[c[0] for c in b1_cases()])
def test_format_14_errors_python_and_c(name, blob, code, msg, ctool):
    with pytest.raises(BlobError) as e:
        read(blob, arena_size=ARENA)
    assert e.value.code == code, str(e.value)
    assert msg in str(e.value), str(e.value)
    rc, *_r, err = ctool.check([blob], ARENA)[0]
    assert rc == code, err
    assert msg in err, err                  # the same text in C and Python


def test_format_14_model_loads_and_versions(ctool):
    m = b1_model()
    b = m.to_bytes()
    assert struct.unpack_from("<H", b, 6)[0] == 4
    rc, used, *_r, err = ctool.check([b], ARENA)[0]
    assert rc == 0 and used == m.arena_size, err
    # the scratch tensors live during their layer only (the plan may share their bytes)
    from edgehost.blob import lifetimes
    life = lifetimes(read(b))
    assert life[4] == (2, 2) and life[9] == (5, 5) and life[7] == (4, 8)
    # a blob is refused by its version when a newer minor is given
    assert py_code(_header(b, 6, "<H", F.VERSION_MINOR + 1))[0] == F.E_VERSION
