"""Device results speak numpy (edgehost.link.results): `.output` is an array of the tensor's dtype
and shape, `.raw` the bytes, `.dequantized()` the host interpreter's real values; a model the
device object does not know gives a clear error instead of guessed values; an input of another
dtype is refused with the conversion to use."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.blob import Tensor
from edgehost.link import InferResult, LayerTrace, StepResult
from edgehost.link.device import _wrong_input_dtype
from edgehost.link.results import decode, dequantize


def test_q15_output_is_an_int16_array_and_dequantizes_with_the_scale():
    t = Tensor("q15", (3,), scale=1 / 512)
    v = np.array([-32768, 5, 32767], np.int16)
    r = StepResult(v.tobytes(), 7, "instructions", t)
    assert r.output.dtype == np.int16 and r.output.shape == (3,)
    np.testing.assert_array_equal(r.output, v)
    assert r.raw == v.tobytes()
    np.testing.assert_array_equal(r.dequantized(), v.astype(np.float64) / 512)
    r.output[0] = 1                       # a fresh writable array each time, never a view of raw
    assert r.output[0] == -32768
    assert "output=array([-32768,      5,  32767], dtype=int16)" in repr(r)


def test_shapes_dtypes_and_b1():
    t = Tensor("f32", (2, 3))
    v = np.arange(6, dtype=np.float32).reshape(2, 3)
    r = InferResult(v.tobytes(), 1, "ns", 4, "frame", t)
    assert r.output.shape == (2, 3) and r.output.dtype == np.float32
    np.testing.assert_array_equal(r.dequantized(), v)
    # b1 stays packed (as the host interpreter holds it); dequantized() unpacks the bits
    tb = Tensor("b1", (35,))
    words = np.array([0x80000001, 0x5], np.uint32)
    out = decode(words.tobytes(), tb)
    np.testing.assert_array_equal(out, words)
    bits = dequantize(out, tb)
    assert bits.shape == (35,) and bits[0] == 1 and bits[31] == 1 and bits[32] == 1 and bits[34] == 1
    assert bits.sum() == 4
    # spikes and counts stay integers, as floats
    np.testing.assert_array_equal(dequantize(np.array([0, 1], np.uint8), Tensor("spike", (2,))), [0.0, 1.0])


def test_layer_trace_decodes_and_keeps_untraceable_layers_none():
    t = Tensor("q15", (2,), scale=0.5)
    lt = LayerTrace(3, 1, np.array([4, -4], np.int16).tobytes(), None, t)
    np.testing.assert_array_equal(lt.output, [4, -4])
    np.testing.assert_array_equal(lt.dequantized(), [2.0, -2.0])
    assert lt.data == lt.raw
    gone = LayerTrace(2, 0, None, "tensor reused by layer 4", t)
    assert gone.output is None and gone.dequantized() is None and "reused" in repr(gone)


def test_wrong_size_and_unknown_model_are_clear():
    t = Tensor("q15", (3,))
    with pytest.raises(ValueError, match="sent 4 bytes.*has 6: is another model loaded"):
        StepResult(b"\0" * 4, 0, "ns", t).output
    r = StepResult(b"\1\0", 0, "ns")                    # no tensor: the model is unknown here
    assert r.raw == b"\1\0"
    with pytest.raises(ValueError, match=r"use_model\(blob\)"):
        r.output
    assert "raw=b'\\x01\\x00'" in repr(r)


def test_wrong_input_dtype_message_names_the_conversion():
    q = Tensor("q15", (2,), scale=1 / 4096)
    msg = _wrong_input_dtype(np.zeros(2), np.dtype(np.int16), q)
    assert "takes int16 input (q15), got a float64 array" in msg and "to_device_inputs" in msg
    msg = _wrong_input_dtype(np.zeros(2, np.int16), np.dtype(np.float32), Tensor("f32", (2,)))
    assert "float32 input" in msg and "x.astype(np.float32)" in msg
