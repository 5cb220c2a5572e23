"""The HAR baselines as model blobs (edgehost.demos.har.baseline_blobs, issues 16 and 20): the
binary CNN (thermometer_b1, conv1d_b1_seq_bits), the shift-add CNN (shiftnorm_q15,
shiftadd_conv1d_q15) and the float LMU (lmu_f32), format 1.6. Each blob written and read back,
the host interpreter (both backends) equal to the kernel pipelines of baselines.py (bit for bit for
the integer CNNs, within 1e-4 on the float LMU's logits), the firmware's interpreter built natively
equal to the host on every layer, and the new layers' checks with the same code and message in C
and Python."""
import struct

import numpy as np
import pytest

from edgehost.blob import BlobError, read
from edgehost.demos.har import baseline_blobs as BB
from edgehost.demos.har import baselines as B
from edgehost.runtime import HostModel

NAMES = ("bcnn_b1", "shiftadd", "lmu_f32")


@pytest.fixture(scope="module")
def models():
    return {n: B.load_model(n) for n in NAMES}


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    from edgehost.runtime.native import CTool, build_tool
    return CTool(build_tool(str(tmp_path_factory.mktemp("tool"))))


@pytest.fixture(scope="module")
def split():
    from edgehost.demos.har.data import hapt_split
    return hapt_split()


LAYERS = {"bcnn_b1": ["thermometer_b1", "conv1d_b1_seq_bits", "conv1d_b1_seq_bits", "conv1d_b1_seq_bits", "fc_b1_f32"],
          "shiftadd": ["shiftnorm_q15", "shiftadd_conv1d_q15", "relu_q15", "shiftadd_conv1d_q15", "relu_q15",
                       "shiftadd_fc_q15"],
          "lmu_f32": ["input_f32", "lmu_f32", "fc_f32"]}


@pytest.mark.parametrize("name", NAMES)
def test_blob_round_trip(models, name):
    b = BB.model(name, models[name]).to_bytes()
    assert struct.unpack_from("<HH", b, 4) == (1, 6)
    m = read(b)
    assert [l.type for l in m.layers] == LAYERS[name]
    assert m.to_bytes() == b
    assert m.tensors[m.output].n == 6


@pytest.mark.parametrize("name", NAMES)
def test_blob_equals_the_kernel_pipeline_on_both_backends(models, split, name):
    m = models[name]
    b = BB.model(name, m).to_bytes()
    X = split.test_raw.X[::97]
    want = np.array([BB.pipeline_logits(name, m, x) for x in X])
    for backend in ("sim", "kernels"):
        hm = HostModel(b, backend=backend)
        got = np.array([np.asarray(hm.run(BB.window_input(name, x))[0][-1]).ravel() for x in X])
        if name == "lmu_f32":      # the blob multiplies by 1 / scale where the pipeline divides
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
            assert np.array_equal(got.argmax(1), want.argmax(1))
        else:
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_c_interpreter_bit_exact(models, split, tool, name):
    b = BB.model(name, models[name]).to_bytes()
    hm = HostModel(b, backend="kernels")
    for x in split.test_raw.X[::661]:
        xi = BB.window_input(name, x)
        yc, tc = tool.run(b, xi)
        ys, ts = hm.run(xi)
        np.testing.assert_array_equal(yc, ys)
        for la, lb in zip(tc[0], ts[0]):
            if la is not None:
                np.testing.assert_array_equal(la, lb)


def test_random_models_c_equals_host(tool):
    """Odd sizes through every new layer (C L and c_in not multiples of 32, padding on both sides,
    strides up to 3, absent biases, every LMU activation): the native C interpreter equals the host
    (numpy twins) on every layer's output."""
    for seed in range(12):
        rng = np.random.default_rng(seed)
        m = BB.random_model(rng)
        b = m.to_bytes()
        xs = BB.random_inputs(rng, m, 3)
        hm = HostModel(b, backend="sim")
        yc, tc = tool.run(b, xs)
        ys, ts = hm.run(xs)
        np.testing.assert_array_equal(yc, ys)
        for sc, ss in zip(tc, ts):
            for la, lb in zip(sc, ss):
                if la is not None:
                    np.testing.assert_array_equal(la, lb)


def _refresh(buf):
    from edgehost.blob import crc32, fnv1a32
    total = struct.unpack_from("<I", buf, 12)[0]
    struct.pack_into("<I", buf, 20, fnv1a32(bytes(buf[24:total])))
    struct.pack_into("<I", buf, 16, crc32(bytes(buf[20:total])))
    return bytes(buf)


def _editors(blob):
    def set_val(layer, k, entry, value, fmt="<i"):
        b = bytearray(blob)
        off, _ = struct.unpack_from("<II", b, 64 + 64 * layer + 32 + 8 * k)
        struct.pack_into(fmt, b, off + struct.calcsize(fmt) * entry, value)
        return _refresh(b)

    def set_len(layer, k, n):
        b = bytearray(blob)
        struct.pack_into("<I", b, 64 + 64 * layer + 36 + 8 * k, n)
        return _refresh(b)
    return set_val, set_len


def _same_in_c_and_python(tool, blob, cases):
    got = tool.check([b for b, _ in cases] + [blob], 1 << 16)
    for (b, msg), c in zip(cases, got):
        with pytest.raises(BlobError) as e:
            read(b, arena_size=1 << 16)
        assert str(e.value).startswith(msg), (str(e.value), msg)
        assert c[0] == e.value.code, (c, msg)
        assert c[-1].startswith(msg), (c[-1], msg)
    assert got[-1][0] == 0


def test_binary_layers_checks_same_in_c_and_python(models, tool):
    blob = BB.model("bcnn_b1", models["bcnn_b1"]).to_bytes()
    sv, sl = _editors(blob)
    T, L = "layer 0 (thermometer_b1): param", "layer 1 (conv1d_b1_seq_bits): param"
    cases = [
        (sv(0, 0, 0, 7), f"{T} 0 (dims): entry 0 (channels 7) must be >= 1 and divide n_in 240"),
        (sv(0, 0, 1, 0), f"{T} 0 (dims): entry 1 (levels 0) outside [1, 4096]"),
        (sv(0, 0, 1, 8), f"{T} 0 (dims): n_out 3840, expected 2560 (40 frames of 32 x 2 words)"),
        (sl(0, 0, 4), f"{T} 0 (dims): 1 entries, expected 2"),
        (sl(0, 1, 190), f"{T} 1 (levels): 95 entries, expected 96"),
        (sv(1, 0, 0, 200), f"{L} 0 (conv): entry 0 (c_in 200) must be >= 1 with 32 ceil(c_in / 32) dividing n_in 3840"),
        (sv(1, 0, 1, 65), f"{L} 0 (conv): entry 1 (c_out 65) must be >= 1 with 32 ceil(c_out / 32) dividing n_out 1280"),
        (sv(1, 0, 2, 0), f"{L} 0 (conv): entry 2 (taps 0) must be >= 1 with taps x c_in <= 16777216"),
        (sv(1, 0, 3, 0), f"{L} 0 (conv): entry 3 (stride 0) must be >= 1"),
        (sv(1, 0, 4, 5), f"{L} 0 (conv): entry 4 (pad 5) outside [0, 4]"),
        (sv(1, 0, 3, 3), f"{L} 0 (conv): t_out 20, expected 14 ((t_in 40 + 2 pad 2 - taps 5) / stride 3 + 1)"),
        (sl(1, 0, 16), f"{L} 0 (conv): 4 entries, expected 5"),
        (sl(1, 1, 4 * 959), f"{L} 1 (weight): 959 entries, expected 960"),
        (sl(1, 2, 4 * 63), f"{L} 2 (threshold): 63 entries, expected 64"),
        (sv(1, 2, 5, 482), f"{L} 2 (threshold): entry 5 (482) outside [-480, 481]"),
    ]
    _same_in_c_and_python(tool, blob, cases)


def test_shiftadd_layers_checks_same_in_c_and_python(models, tool):
    blob = BB.model("shiftadd", models["shiftadd"]).to_bytes()
    sv, sl = _editors(blob)
    N, L = "layer 0 (shiftnorm_q15): param", "layer 1 (shiftadd_conv1d_q15): param"
    cases = [
        (sl(0, 0, 14), f"{N} 0 (offset): 7 entries, expected a divisor of n_in 240"),
        (sl(0, 1, 5), f"{N} 1 (shift): 5 entries, expected 6"),
        (sv(0, 1, 2, 32, "<b"), f"{N} 1 (shift): entry 2 (32) outside [-15, 31]"),
        (sv(0, 1, 2, -16, "<b"), f"{N} 1 (shift): entry 2 (-16) outside [-15, 31]"),
        (sv(1, 0, 0, 7), f"{L} 0 (conv): entry 0 (c_in 7) must be >= 1 with c_in dividing n_in 240"),
        (sv(1, 0, 1, 7), f"{L} 0 (conv): entry 1 (c_out 7) must be >= 1 with c_out dividing n_out 320"),
        (sv(1, 0, 2, 20000), f"{L} 0 (conv): entry 2 (taps 20000) must be >= 1 with taps x c_in <= 65536"),
        (sv(1, 0, 4, -1), f"{L} 0 (conv): entry 4 (pad -1) outside [0, 4]"),
        (sv(1, 0, 4, 0), f"{L} 0 (conv): t_out 20, expected 18 ((t_in 40 + 2 pad 0 - taps 5) / stride 2 + 1)"),
        (sl(1, 1, 479), f"{L} 1 (weight): 479 entries, expected 480"),
        (sv(1, 1, 3, 0x41, "<B"), f"{L} 1 (weight): entry 3 (65) has reserved bits 6..5 set"),
        (sl(1, 2, 60), f"{L} 2 (bias): 15 entries, expected 16 or 0"),
    ]
    _same_in_c_and_python(tool, blob, cases)


def test_lmu_layer_checks_same_in_c_and_python(models, tool):
    blob = BB.model("lmu_f32", models["lmu_f32"]).to_bytes()
    sv, sl = _editors(blob)
    L = "layer 1 (lmu_f32): param"
    cases = [
        (sv(1, 0, 0, 7), f"{L} 0 (dims): entry 0 (n_x 7) must be in [1, 65535] and divide n_in 240"),
        (sv(1, 0, 1, 0), f"{L} 0 (dims): entry 1 (n_u 0) outside [1, 65535]"),
        (sv(1, 0, 2, 70000), f"{L} 0 (dims): entry 2 (order 70000) outside [1, 65535]"),
        (sv(1, 0, 2, 10000), f"{L} 0 (dims): n_u 8 x order 10000 > 65535"),
        (sv(1, 0, 3, 32), f"{L} 0 (dims): entry 3 (n_h 32) must be in [1, 65535] and equal n_out 64"),
        (sv(1, 0, 4, 4), f"{L} 0 (dims): entry 4 (act 4) outside [0, 3]"),
        (sl(1, 0, 16), f"{L} 0 (dims): 4 entries, expected 5"),
        (sl(1, 1, 400), f"{L} 1 (weight): 100 entries, expected 8538"),
        (sl(1, 2, 60), f"{L} 2 (bias): 15 entries, expected 64 or 0"),
        (sv(1, 1, 9, float("inf"), "<f"), f"{L} 1 (weight): entry 9"),
    ]
    _same_in_c_and_python(tool, blob, cases)


def test_mutated_blobs_same_error_in_c_and_python(models, tool):
    """Random bytes of the layer records and weights changed (hash and CRC repaired): both loaders
    accept or refuse with the same code and message (the C loader under ASan+UBSan: no crash)."""
    rng = np.random.default_rng(3)
    blobs = [BB.model(n, models[n]).to_bytes() for n in NAMES]
    blobs += [BB.random_model(np.random.default_rng(s)).to_bytes() for s in range(4)]
    cases = []
    for b in blobs:
        for _ in range(40):
            buf = bytearray(b)
            for _ in range(int(rng.integers(1, 4))):
                i = int(rng.integers(64, len(buf)))
                buf[i] = int(rng.integers(0, 256))
            cases.append(_refresh(buf))
    got = tool.check(cases, 1 << 16)
    for b, c in zip(cases, got):
        try:
            read(b, arena_size=1 << 16)
            code, msg = 0, None
        except BlobError as e:
            code, msg = e.code, str(e)
        assert c[0] == code, (c, msg)
        if code:
            assert c[-1] == msg, (c[-1], msg)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_blob_same_classes_as_the_pipeline_on_every_window(name):
    r = BB.report(name)
    assert r["class_agreement"] == 1.0
    if name != "lmu_f32":
        assert r["logits_equal"] == 1.0
    else:
        assert r["max_abs_logit_diff"] < 1e-4


def test_inspect_counts_the_work(models):
    """edgehost inspect (convert.analyze) on the three blobs: the work per window of baselines.costs."""
    from edgehost.convert.analyze import layer_rows
    for name in NAMES:
        m = read(BB.model(name, models[name]).to_bytes())
        macs = sum(r["macs"] for r in layer_rows(m))
        c = B.costs(name, models[name])
        if name == "bcnn_b1":
            assert macs == c["binary_macs"]
        elif name == "shiftadd":
            assert macs == c["shift_adds"]
        else:
            assert macs == c["macs"] + 240          # + input_f32's 240 multiplies
