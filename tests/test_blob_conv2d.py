"""The format-1.6 conv2d and pooling layers of the blob (issue 14): the C loader and interpreter
(built natively with ASan+UBSan) and the Python ones accept the same models, refuse the same
mutations with the same code and the same message (each geometry rule, naming the numbers), and
run bit for bit alike (every layer, every step, both host backends); models without these layers
stay at format 1.5."""
from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgehost.blob import BlobError, read
from edgehost.blob import format as F
from edgehost.convert.examples import random_conv2d_model, random_graph_model
from edgehost.runtime import HostModel
from edgehost.runtime.native import CTool, build_tool

ARENA = 1 << 16


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    return CTool(build_tool(str(tmp_path_factory.mktemp("ehm"))))


def refresh(buf: bytearray) -> bytes:
    """Recompute the model hash and the CRC after an edit (so it reaches the layer checks)."""
    from edgehost.blob import crc32, fnv1a32
    total = struct.unpack_from("<I", buf, 12)[0]
    struct.pack_into("<I", buf, 20, fnv1a32(bytes(buf[24:total])))
    struct.pack_into("<I", buf, 16, crc32(bytes(buf[20:total])))
    return bytes(buf)


def py_result(blob):
    try:
        read(blob, arena_size=ARENA)
        return 0, ""
    except BlobError as e:
        return e.code, str(e)


def same_traces(ta, tb):
    for a, b in zip(ta, tb):
        for p, q in zip(a, b):
            if p is not None and q is not None:
                np.testing.assert_array_equal(np.asarray(p), np.asarray(q))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), reuse=st.booleans())
def test_random_conv2d_models_native(seed, reuse, native):
    rng = np.random.default_rng(seed)
    m = random_conv2d_model(rng, reuse=reuse)
    blob = m.to_bytes()
    assert struct.unpack_from("<H", blob, 6)[0] == 6
    rc, used, *_r, err = native.check([blob], ARENA)[0]
    assert rc == 0 and used == m.arena_size, err
    xs = (rng.normal(size=(6, m.input_tensor.n)) * 3).astype(np.float32)
    yc, tc = native.run(blob, xs)
    ys, ts = HostModel(blob, "sim").run(xs)
    yk, tk = HostModel(blob, "kernels").run(xs)
    np.testing.assert_array_equal(yc, ys)
    np.testing.assert_array_equal(yc, yk)
    same_traces(tc, ts)
    same_traces(ts, tk)


def test_old_models_stay_1_5():
    rng = np.random.default_rng(3)
    for _ in range(5):
        assert struct.unpack_from("<H", random_graph_model(rng).to_bytes(), 6)[0] <= 5


def _model(kinds):
    """A random conv2d model holding every layer type in `kinds`."""
    for seed in range(500):
        m = random_conv2d_model(np.random.default_rng(seed))
        if set(kinds) <= {l.type for l in m.layers}:
            return m
    raise AssertionError(kinds)


def _set_geom(blob: bytes, li: int, field: int, value: int) -> bytes:
    b = bytearray(blob)
    off, _ln = struct.unpack_from("<II", b, 64 + 64 * li + 32)
    struct.pack_into("<I", b, off + 4 * field, value)
    return refresh(b)


def _set_len(blob: bytes, li: int, k: int, ln: int) -> bytes:
    b = bytearray(blob)
    struct.pack_into("<I", b, 64 + 64 * li + 36 + 8 * k, ln)
    return refresh(b)


CONV_CASES = [  # (field, value, expected message fragment); the fragment names the numbers
    (0, 0, "c_in 0 outside [1, 65535]"),
    (4, 70000, "k_h 70000 outside [1, 65535]"),
    (6, 0, "stride_h 0 outside [1, 65535]"),
    (13, 0, "dil_w 0 outside [1, 65535]"),
    (12, 40000, "kernel span"),
    (14, 0, "groups 0 outside [1, 65535]"),
    (14, 7, "groups 7 does not divide c_in"),
    (8, 60, "pad_top 60 outside [0, "),
    (11, 60, "pad_right 60 outside [0, "),
    (5, 60, "larger than the padded input"),
    (1, 50, "input c_in x h_in x w_in = "),
    (7, 3, "output c_out x h_out x w_out = "),
]


@pytest.mark.parametrize("kind", ["conv2d_q15", "conv2d_spike_q15", "conv2d_f32"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}={c[1]}")
def test_conv2d_geometry_errors_same_in_c_and_python(kind, case, native):
    field, value, frag = case
    m = _model([kind])
    blob = m.to_bytes()
    li = [l.type for l in m.layers].index(kind)
    g = read(blob).layers[li].params[0]
    if field == 7 and int(g[7]) == 3:
        value = 1
    if field == 7:      # another stride that changes w_out (else n_out still matches)
        span = int(g[13]) * (int(g[5]) - 1) + 1
        ext = int(g[2]) + int(g[9]) + int(g[11])
        if (ext - span) // value == (ext - span) // int(g[7]):
            raise AssertionError("the chosen model's w_out does not change with stride 3: pick another model "
                                 "in _model, or the case tests nothing")
    if field == 12:     # k_h 3 too: 40000 x 2 + 1 > 65535
        blob = _set_geom(blob, li, 4, 3)
    bad = _set_geom(blob, li, field, value)
    code, msg = py_result(bad)
    rc, *_r, err = native.check([bad], ARENA)[0]
    assert code == rc == F.E_PARAM
    assert err == msg
    assert msg.startswith(f"layer {li} ({kind}): param 0 (geom): ") and frag in msg, msg


def test_conv2d_counts_and_scratch(native):
    m = _model(["conv2d_spike_q15"])
    blob = m.to_bytes()
    li = [l.type for l in m.layers].index("conv2d_spike_q15")
    lay = read(blob).layers[li]
    cases = [(_set_len(blob, li, 0, 56), "param 0 (geom): 14 entries, expected 15"),
             (_set_len(blob, li, 1, 2 * (lay.params[1].size - 1)),
              f"param 1 (weight): {lay.params[1].size - 1} entries, expected {lay.params[1].size}")]
    if lay.params[2] is not None:
        cases.append((_set_len(blob, li, 2, 4 * (lay.params[2].size + 1)),
                      f"param 2 (bias): {lay.params[2].size + 1} entries, expected {lay.params[2].size} or 0"))
    # the scratch tensor as a state tensor
    b = bytearray(blob)
    L = struct.unpack_from("<H", b, 24)[0]
    st_t = lay.states[0]
    b[64 + 64 * L + 32 * st_t + 1] = 1
    cases.append((refresh(b), f"state 0 tensor {st_t} must be a s32 activation tensor of {lay.n_out} elements"))
    for bad, frag in cases:
        code, msg = py_result(bad)
        rc, *_r, err = native.check([bad], ARENA)[0]
        assert rc == code != 0 and err == msg and frag in msg, (err, msg)


POOL_CASES = [
    (0, 0, "c 0 outside [1, 65535]"),
    (3, 0, "k_h 0 outside [1, 65535]"),
    (6, 0, "stride_w 0 outside [1, 65535]"),
    (7, 99, "pad_top 99 outside [0, "),
    (10, 99, "pad_right 99 outside [0, "),
    (3, 999, "window 999 x "),
    (2, 77, "input c x h_in x w_in = "),
]


@pytest.mark.parametrize("kind", ["sumpool2d_spike_q15", "avgpool2d_spike_q15", "sumpool2d_f32", "avgpool2d_f32"])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[0]}={c[1]}")
def test_pool2d_geometry_errors_same_in_c_and_python(kind, case, native):
    field, value, frag = case
    m = _model([kind])
    blob = m.to_bytes()
    li = [l.type for l in m.layers].index(kind)
    bad = _set_geom(blob, li, field, value)
    code, msg = py_result(bad)
    rc, *_r, err = native.check([bad], ARENA)[0]
    assert code == rc == F.E_PARAM and err == msg
    assert msg.startswith(f"layer {li} ({kind}): param 0 (geom): ") and frag in msg, msg
    bad = _set_len(blob, li, 0, 40)
    code, msg = py_result(bad)
    rc, *_r, err = native.check([bad], ARENA)[0]
    assert code == rc == F.E_PARAM and err == msg and msg.endswith("param 0 (geom): 10 entries, expected 11")


def test_pool2d_output_size_error(native):
    """A pooling layer whose output size does not match its geometry: the numbers in the message."""
    m = _model(["sumpool2d_spike_q15"])
    blob = m.to_bytes()
    li = [l.type for l in m.layers].index("sumpool2d_spike_q15")
    g = read(blob).layers[li].params[0]
    # a stride of 1 on an axis with a window smaller than the input changes the output size
    for f, kf in ((5, 3), (6, 4)):
        ext = int(g[1 + (f - 5)]) + int(g[7 + (f - 5)]) + int(g[9 + (f - 5)])
        if ext > int(g[kf]) and int(g[f]) != 1:
            bad = _set_geom(blob, li, f, 1)
            break
    else:
        raise AssertionError("the chosen model has no axis whose output size changes with stride 1: pick another "
                             "model, or the test checks nothing")
    code, msg = py_result(bad)
    rc, *_r, err = native.check([bad], ARENA)[0]
    assert code == rc == F.E_PARAM and err == msg and "output c x h_out x w_out = " in msg
