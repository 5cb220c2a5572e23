"""The int8 1-D CNN of the HAR demo (edgehost.demos.har.cnn_int8, issue 20): the quantiser's scheme
and its fidelity to the float model, the blob (format 1.6, conv1d_s8) written and read back, the
same integers from numpy, the host interpreter on both backends and the firmware's interpreter
built natively, and the conv1d_s8 layer's checks with the same code and message in C and Python."""
import struct

import numpy as np
import pytest

from edgehost.blob import BlobError, read
from edgehost.demos.har import cnn_int8 as C
from edgehost.runtime import HostModel


@pytest.fixture(scope="module")
def committed():
    return C.load()


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    """The firmware's loader and interpreter built natively with ASan+UBSan (once per module)."""
    from edgehost.runtime.native import CTool, build_tool
    return CTool(build_tool(str(tmp_path_factory.mktemp("tool"))))


@pytest.fixture(scope="module")
def split():
    from edgehost.demos.har.data import hapt_split
    return hapt_split()


def _tiny_float(rng):
    fp = {}
    cin = C.CHANNELS
    for i, (cout, taps, _, _) in enumerate(C.CONVS):
        fp[f"c{i}.w"] = rng.normal(0, 0.3, (cout, taps, cin)).astype(np.float32)
        fp[f"c{i}.b"] = rng.normal(0, 0.1, cout).astype(np.float32)
        cin = cout
    fp["fc.w"] = rng.normal(0, 0.1, (C.CLASSES, cin * C.conv_lengths()[-1])).astype(np.float32)
    fp["fc.b"] = rng.normal(0, 0.1, C.CLASSES).astype(np.float32)
    return fp


def test_quantiser_scheme():
    """Per-channel symmetric weights (the largest |w| of each channel is 127), int32 biases on
    s_x s_w, multipliers and shifts giving s_x s_w / s_y to 2^-30, ReLU as the clamp at the zero
    point, asymmetric activations covering their range."""
    rng = np.random.default_rng(0)
    fp = _tiny_float(rng)
    Xn = rng.normal(size=(64, C.STEPS, C.CHANNELS)).astype(np.float32)
    rg = C.ranges(fp, Xn, 99.9)
    q = C.quantize(fp, rg)
    scales = [C.act_quant(lo, hi) for lo, hi in rg]
    for s, zp in scales:
        assert s > 0 and -128 <= zp <= 127
    for (lo, hi), (s, zp) in zip(rg, scales):           # the range maps into [-128, 127]
        assert -128 - 0.5 <= min(lo, 0) / s + zp and max(hi, 0) / s + zp <= 127 + 0.5
    for i, name in enumerate(["c0", "c1", "fc"]):
        w = fp[f"{name}.w"].astype(np.float64)
        wq = q[f"{name}.w"].astype(np.int64)
        flat = np.abs(wq.reshape(wq.shape[0], -1))
        assert flat.max(axis=1).tolist() == [127] * wq.shape[0]
        s_w = np.abs(w.reshape(w.shape[0], -1)).max(axis=1) / 127
        np.testing.assert_array_equal(wq, np.round(w / s_w.reshape((-1,) + (1,) * (w.ndim - 1))))
        s_x, z_x = scales[i]
        s_y, z_y = scales[i + 1]
        np.testing.assert_array_equal(q[f"{name}.b"], np.round(fp[f"{name}.b"] / (s_x * s_w)).astype(np.int32))
        real = q[f"{name}.mult"].astype(np.float64) * 2.0 ** (q[f"{name}.shift"].astype(np.float64) - 31)
        np.testing.assert_allclose(real, s_x * s_w / s_y, rtol=2.0 ** -30)
        x_off, y_off, lo, hi = q[f"{name}.quant"].tolist()
        assert (x_off, y_off, hi) == (-z_x, z_y, 127)
        assert lo == (z_y if name != "fc" else -128)
        if name != "fc":
            assert z_y == -128                           # after ReLU the range starts at 0


def test_int8_close_to_float_on_training_windows(committed, split):
    """The committed model's dequantised int8 logits against the float model's on every 7th
    training window: RMS error <= 3 % of the float logits' range, the same class on >= 98.5 %.
    (Measured: 1.4 % and 99.3 %; the largest errors are logits clipped at the calibration
    percentile, which do not change the class.)"""
    q = committed["q"]
    X = split.train_raw.X[::7]
    li = C.int8_logits(q, *committed["norm"], X)
    deq = (li.astype(np.float64) - int(q["fc.quant"][1])) * float(q["fc.scale_out"])
    lf = C.float_forward(committed["float"], C.normalize(*committed["norm"], X))
    rms = np.sqrt(np.mean((deq - lf) ** 2))
    assert rms <= 0.03 * (lf.max() - lf.min())
    assert np.mean(li.argmax(1) == lf.argmax(1)) >= 0.985


def test_committed_model_meets_the_target(committed, split):
    """Recomputed on the 3,973 held-out windows: the int8 model's accuracy is the one recorded at
    training time and at least 95.5 % (issue 20); the calibration percentile was chosen on the
    training subjects' validation split (recorded)."""
    y = split.test_raw.y
    assert len(y) == 3973
    acc = float(np.mean(C.int8_logits(committed["q"], *committed["norm"], split.test_raw.X).argmax(1) == y))
    assert acc == pytest.approx(committed["meta"]["accuracy_test_int8"], abs=1e-12)
    assert acc >= 0.955
    cal = committed["meta"]["calibration"]
    assert not set(cal["val_subjects"]) & set(np.unique(split.test_raw.subjects).tolist())
    assert cal["percentile"] == max(C.CANDIDATES, key=lambda p: (cal["validation_accuracy"][str(p)], p))


def test_blob_round_trip(committed):
    q, norm = committed["q"], committed["norm"]
    b = C.blob(q, *norm)
    assert struct.unpack_from("<HH", b, 4) == (1, 6)            # format 1.6: conv1d_s8
    m = read(b)
    assert [l.type for l in m.layers] == ["input_f32", "input_s8", "conv1d_s8", "conv1d_s8", "fc_s8"]
    assert m.to_bytes() == b
    for i, (cout, taps, stride, pad) in enumerate(C.CONVS):
        layer = m.layers[2 + i]
        np.testing.assert_array_equal(layer.params[1], q[f"c{i}.w"].reshape(-1))
        np.testing.assert_array_equal(layer.params[2], q[f"c{i}.b"])
        np.testing.assert_array_equal(layer.params[3], np.concatenate([q[f"c{i}.mult"], q[f"c{i}.shift"]]))
        assert layer.params[0].tolist()[1:5] == [cout, taps, stride, pad]
        assert layer.params[0].tolist()[5:] == q[f"c{i}.quant"].tolist()
    assert m.layers[-1].n_in == 320 and m.tensors[m.output].n == C.CLASSES
    assert C.macs() == 26880
    # edgehost inspect counts the same work: the convolutions' and the dense layer's MACs, plus the
    # input normalisation's 240 multiplies
    from edgehost.convert.analyze import layer_rows
    rows = layer_rows(m)
    assert sum(r["macs"] for r in rows if r["type"] in ("conv1d_s8", "fc_s8")) == 26880


def test_blob_equals_numpy_on_both_backends(committed, split):
    b = C.blob(committed["q"], *committed["norm"])
    X = split.test_raw.X[::199]
    want = C.int8_logits(committed["q"], *committed["norm"], X)
    for backend in ("sim", "kernels"):
        hm = HostModel(b, backend=backend)
        got = np.array([hm.run(C.window_input(x))[0][-1] for x in X])
        np.testing.assert_array_equal(got, want)


def test_c_interpreter_bit_exact(committed, split, tool):
    """The firmware's loader and interpreter built natively (ASan+UBSan) on the blob, every layer."""
    b = C.blob(committed["q"], *committed["norm"])
    X = split.test_raw.X[::331]
    hm = HostModel(b, backend="kernels")
    for x in X:
        yc, tc = tool.run(b, C.window_input(x))
        ys, ts = hm.run(C.window_input(x))
        np.testing.assert_array_equal(yc, ys)
        for la, lb in zip(tc[0], ts[0]):
            if la is not None:
                np.testing.assert_array_equal(la, lb)


def _refresh(buf):
    from edgehost.blob import crc32, fnv1a32
    total = struct.unpack_from("<I", buf, 12)[0]
    struct.pack_into("<I", buf, 20, fnv1a32(bytes(buf[24:total])))
    struct.pack_into("<I", buf, 16, crc32(bytes(buf[20:total])))
    return bytes(buf)


def test_conv1d_s8_checks_same_in_c_and_python(committed, tool):
    blob = C.blob(committed["q"], *committed["norm"])

    def set_i32(layer, k, entry, value):
        b = bytearray(blob)
        off, _ = struct.unpack_from("<II", b, 64 + 64 * layer + 32 + 8 * k)
        struct.pack_into("<i", b, off + 4 * entry, value)
        return _refresh(b)

    def set_len(layer, k, n):
        b = bytearray(blob)
        struct.pack_into("<I", b, 64 + 64 * layer + 36 + 8 * k, n)
        return _refresh(b)

    L = "layer 2 (conv1d_s8): param"
    cases = [
        (set_i32(2, 0, 0, 7), f"{L} 0 (conv): entry 0 (c_in 7) must be >= 1 and divide n_in 240"),
        (set_i32(2, 0, 0, 0), f"{L} 0 (conv): entry 0 (c_in 0) must be >= 1 and divide n_in 240"),
        (set_i32(2, 0, 1, 7), f"{L} 0 (conv): entry 1 (c_out 7) must be >= 1 and divide n_out 320"),
        (set_i32(2, 0, 2, 0), f"{L} 0 (conv): entry 2 (taps 0) must be >= 1 with taps x c_in <= 65536"),
        (set_i32(2, 0, 3, 0), f"{L} 0 (conv): entry 3 (stride 0) must be >= 1"),
        (set_i32(2, 0, 4, 5), f"{L} 0 (conv): entry 4 (pad 5) outside [0, 4]"),
        (set_i32(2, 0, 3, 3), f"{L} 0 (conv): t_out 20 with stride 3 starts a window past t_in 40 + pad 2"),
        (set_i32(2, 0, 5, -128), f"{L} 0 (conv): entry 5 (x_offset -128) outside [-127, 128]"),
        (set_i32(2, 0, 6, 128), f"{L} 0 (conv): entry 6 (y_offset 128) outside [-128, 127]"),
        (set_i32(2, 0, 8, -129), f"{L} 0 (conv): entry 8 (act_max -129) outside [-128, 127]"),
        (set_len(2, 0, 32), f"{L} 0 (conv): 8 entries, expected 9"),
        (set_len(2, 1, 476), f"{L} 1 (weight): 476 entries, expected 480"),
        (set_len(2, 2, 60), f"{L} 2 (bias): 15 entries, expected 16 or 0"),
        (set_len(2, 3, 24), f"{L} 3 (requant): 6 entries, expected 2 or 32 (mult then shift, per tensor or per channel)"),
        (set_i32(2, 3, 3, -1), f"{L} 3 (requant): entry 3 (mult -1) outside [0, 2147483647]"),
        (set_i32(3, 3, 33, 31), "layer 3 (conv1d_s8): param 3 (requant): entry 33 (shift 31) outside [-31, 30]"),
    ]
    got = tool.check([b for b, _ in cases] + [blob], 1 << 16)
    for (b, msg), c in zip(cases, got):
        with pytest.raises(BlobError) as e:
            read(b, arena_size=1 << 16)
        assert str(e.value).startswith(msg), (str(e.value), msg)
        assert c[0] == e.value.code, (c, msg)
        assert c[-1].startswith(msg), (c[-1], msg)
    assert got[-1][0] == 0                                    # the unmodified blob loads


@pytest.mark.slow
def test_training_and_export_end_to_end(tmp_path):
    """The whole recipe (validation split of the training subjects, training, calibration): about
    3 minutes on one thread."""
    meta = C.train_and_export(tmp_path, log=None)
    assert meta["calibration"]["percentile"] in C.CANDIDATES
    assert meta["accuracy_test_float"] > 0.9 and meta["accuracy_test_int8"] > 0.9
    m = C.load(tmp_path / "cnn_int8.npz")
    read(C.blob(m["q"], *m["norm"]))
