"""The int8 CNN of the HAR demo (conv1d_s8, issue 20) on the device: held-out windows give the host
interpreter's int8 logits bit for bit, and so does a random conv1d_s8 blob of odd sizes that takes
every branch of the kernel (remainders of the SMLAD loop, one- and two-filter groups, padding on
both sides, a positive shift and saturating biases: the slow output path; the DSP path's SMMULR
requantisation with and without a narrower activation clamp). mps2-an386 runs the
SMLAD path (Cortex-M4 DSP extension), the native host firmware (ASan+UBSan) and virt-rv32 the
portable one (the micro:bit's 4,096-byte blob buffer is smaller than the 5,312-byte blob)."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.demos.har import cnn_int8 as C
from edgehost.runtime import HostModel

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32")]


@pytest.fixture(scope="module")
def har():
    from edgehost.demos.har.data import hapt_split
    m = C.load()
    split = hapt_split()
    y = split.test_raw.y
    idx = [int(np.flatnonzero(y == c)[k]) for c in range(C.CLASSES) for k in (0, 7)]   # two per activity
    return C.blob(m["q"], *m["norm"]), split.test_raw.X[idx], C.int8_logits(m["q"], *m["norm"], split.test_raw.X[idx])


def test_har_windows_bit_exact(device, har):
    blob, X, want = har
    device.load_model(blob)
    host = HostModel(blob, backend="kernels")
    for x, w in zip(X, want):
        r = device.infer(C.window_input(x))
        out = np.asarray(r.output).ravel()
        np.testing.assert_array_equal(out, np.asarray(host.run(C.window_input(x))[0][-1]).ravel())
        np.testing.assert_array_equal(out, w)


def _odd_blob(rng, shift_positive: bool):
    from edgehost.blob import Layer, Model, Tensor
    from edgehost.convert.planner import plan
    t_in, c_in = 13, 5
    layers, tensors = [], [Tensor("f32", (t_in * c_in,)), Tensor("s8", (t_in * c_in,), scale=0.05)]
    layers.append(Layer("input_s8", 0, 1, t_in * c_in, t_in * c_in, [np.array([3], np.int32)]))
    cur = 1
    for c_out, taps, stride, pad, t_out in ((7, 3, 1, 1, 13), (8, 4, 2, 3, 8), (1, 2, 3, 1, 3)):
        w = rng.integers(-128, 128, (c_out, taps, c_in)).astype(np.int8)
        b = rng.integers(-40000, 40000, c_out).astype(np.int32)
        if shift_positive:
            b[0] = 2**31 - 1 - rng.integers(0, 1000)      # dot + b saturates
        mult = rng.integers(1 << 30, 1 << 31, c_out).astype(np.int32)
        shift = (rng.integers(0, 3, c_out) if shift_positive else rng.integers(-14, -6, c_out)).astype(np.int32)
        act_max = 127 if c_out == 1 else 100           # the last layer: the activation clamp is SSAT alone
        conv = np.array([c_in, c_out, taps, stride, pad, -3 if cur == 1 else 128, -5, -128, act_max], np.int32)
        tensors.append(Tensor("s8", (t_out * c_out,), scale=0.1))
        layers.append(Layer("conv1d_s8", cur, len(tensors) - 1, t_in * c_in, t_out * c_out,
                            [conv, w.reshape(-1), b, np.concatenate([mult, shift])]))
        cur, t_in, c_in = len(tensors) - 1, t_out, c_out
    m = Model(layers, tensors, 0, cur, 0)
    plan(m, reuse=False)
    return m.to_bytes()


@pytest.mark.parametrize("shift_positive", [False, True])
def test_odd_conv1d_s8_blob_bit_exact(device, shift_positive):
    rng = np.random.default_rng(5 + shift_positive)
    blob = _odd_blob(rng, shift_positive)
    device.load_model(blob)
    host = HostModel(blob, backend="sim")
    xs = (rng.normal(size=(6, 65)) * 4).astype(np.float32)
    for x in xs:
        r = device.infer(x.reshape(1, -1))
        want = np.asarray(host.run(x.reshape(1, -1))[0][-1]).ravel()
        np.testing.assert_array_equal(np.asarray(r.output).ravel(), want)
        tr = device.trace()
        _, traces = host.run(x.reshape(1, -1))
        for got, w in zip(tr, traces[-1]):
            if got.data is not None:
                np.testing.assert_array_equal(np.frombuffer(got.data, dtype=w.dtype), w)
