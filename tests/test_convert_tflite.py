"""LiteRT/TFLite int8 import (edgehost.convert.tflite_import) against LiteRT and TFLite's maths.

The .tflite models are built here with `flatbuffers` (the TFLite schema's field slots), without
TensorFlow: 2-layer int8 MLPs with real quantisation parameters (scales and zero points from
float weights and the activation ranges of a float forward pass, as TFLite's converter chooses
them). The checks:

- the converted blob on the host interpreter (numpy twins and C kernels) is bit-exact with an
  independent numpy transcription of TFLite's reference FULLY_CONNECTED written here from the
  scales the test chose, with the classic double rounding of MultiplyByQuantizedMultiplier
  (SaturatingRoundingDoublingHighMul then RoundingDivideByPOT: gemmlowp, TFLite Micro and
  CMSIS-NN's default, and what `eh_fc_s8` implements);
- LiteRT (ai-edge-litert 2.3: its reference kernels and its default XNNPACK path) is bit-exact
  with the same transcription with TFLite's *single* rounding ((acc * M + 2^(30 - s)) >> (31 - s),
  TFLITE_SINGLE_ROUNDING, which this LiteRT build uses): so the importer reads exactly the
  parameters LiteRT uses, and the blob differs from LiteRT only by that rounding (measured: at most
  1 LSB per layer, on about 1 % of the outputs).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

flatbuffers = pytest.importorskip("flatbuffers")
tflite = pytest.importorskip("tflite")

from edgehost.blob import read  # noqa: E402
from edgehost.convert import ConvertError, build, load  # noqa: E402
from edgehost.convert.tflite_import import load_tflite, quantize_multiplier  # noqa: E402
from edgehost.runtime import HostModel  # noqa: E402

BO = tflite.BuiltinOperator
TT = tflite.TensorType
ACT = tflite.ActivationFunctionType


# ---------------------------------------------------------------------------------------------
# a minimal .tflite writer (schema slots: Model 0 version, 1 operator_codes, 2 subgraphs,
# 4 buffers; SubGraph 0 tensors, 1 inputs, 2 outputs, 3 operators; Tensor 0 shape, 1 type,
# 2 buffer, 3 name, 4 quantization; QuantizationParameters 2 scale, 3 zero_point,
# 6 quantized_dimension; Operator 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type,
# 4 builtin_options; OperatorCode 0 deprecated_builtin_code, 2 version, 3 builtin_code;
# FullyConnectedOptions 0 fused_activation_function; Buffer 0 data)

def _vec(b, items, kind):
    if kind == "off":
        b.StartVector(4, len(items), 4)
        for x in reversed(items):
            b.PrependUOffsetTRelative(x)
    else:
        size, fn = {"i32": (4, b.PrependInt32), "i64": (8, b.PrependInt64), "f32": (4, b.PrependFloat32),
                    "u8": (1, b.PrependUint8)}[kind]
        b.StartVector(size, len(items), size)
        for x in reversed(list(items)):
            fn(x)
    return b.EndVector()


def write_tflite(tensors, ops, inputs, outputs) -> bytes:
    """tensors: dicts (shape, type, data bytes or None, scale list, zp list, qdim);
    ops: (builtin code, inputs, outputs, fused activation or None)."""
    b = flatbuffers.Builder(4096)
    buf_offs = []
    datas = [None] + [t.get("data") for t in tensors]
    for d in datas:
        dv = _vec(b, list(d), "u8") if d else None
        b.StartObject(3)
        if dv is not None:
            b.PrependUOffsetTRelativeSlot(0, dv, 0)
        buf_offs.append(b.EndObject())
    t_offs = []
    for i, t in enumerate(tensors):
        name = b.CreateString(f"t{i}")
        q = None
        if t.get("scale") is not None:
            sv = _vec(b, t["scale"], "f32")
            zv = _vec(b, t["zp"], "i64")
            b.StartObject(7)
            b.PrependUOffsetTRelativeSlot(2, sv, 0)
            b.PrependUOffsetTRelativeSlot(3, zv, 0)
            b.PrependInt32Slot(6, t.get("qdim", 0), 0)
            q = b.EndObject()
        shp = _vec(b, t["shape"], "i32")
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, shp, 0)
        b.PrependInt8Slot(1, t["type"], 0)
        b.PrependUint32Slot(2, i + 1 if t.get("data") else 0, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        if q is not None:
            b.PrependUOffsetTRelativeSlot(4, q, 0)
        t_offs.append(b.EndObject())
    codes = sorted({op[0] for op in ops})
    op_offs = []
    for code, ins, outs, act in ops:
        opt = None
        if code == BO.FULLY_CONNECTED:
            b.StartObject(5)
            b.PrependInt8Slot(0, act or 0, 0)
            opt = b.EndObject()
        elif code in (BO.CONV_2D, BO.DEPTHWISE_CONV_2D):
            # Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 fused_activation_function,
            # 4 dilation_w_factor, 5 dilation_h_factor; DepthwiseConv2DOptions: 0 padding, 1 stride_w,
            # 2 stride_h, 3 depth_multiplier, 4 fused_activation_function, 5/6 dilation w/h
            dw = code == BO.DEPTHWISE_CONV_2D
            b.StartObject(7 if dw else 6)
            b.PrependInt8Slot(0, act["padding"], 0)
            b.PrependInt32Slot(1, act.get("stride_w", 1), 0)
            b.PrependInt32Slot(2, act.get("stride_h", 1), 0)
            if dw:
                b.PrependInt32Slot(3, act.get("depth_multiplier", 1), 0)
            b.PrependInt8Slot(4 if dw else 3, act.get("act", 0), 0)
            b.PrependInt32Slot(5 if dw else 4, act.get("dilation_w", 1), 1)
            b.PrependInt32Slot(6 if dw else 5, act.get("dilation_h", 1), 1)
            opt = b.EndObject()
        elif code in (BO.MAX_POOL_2D, BO.AVERAGE_POOL_2D):
            # Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height,
            # 5 fused_activation_function
            b.StartObject(6)
            b.PrependInt8Slot(0, act["padding"], 0)
            for slot, key in ((1, "stride_w"), (2, "stride_h"), (3, "filter_w"), (4, "filter_h")):
                b.PrependInt32Slot(slot, act.get(key, 1), 0)
            b.PrependInt8Slot(5, act.get("act", 0), 0)
            opt = b.EndObject()
        elif code == BO.SOFTMAX:
            b.StartObject(1)                      # SoftmaxOptions: 0 beta
            b.PrependFloat32Slot(0, 1.0, 0.0)
            opt = b.EndObject()
        iv = _vec(b, ins, "i32")
        ov = _vec(b, outs, "i32")
        b.StartObject(5)
        b.PrependUint32Slot(0, codes.index(code), 0)
        b.PrependUOffsetTRelativeSlot(1, iv, 0)
        b.PrependUOffsetTRelativeSlot(2, ov, 0)
        if opt is not None:
            b.PrependUint8Slot(3, {BO.CONV_2D: tflite.BuiltinOptions.Conv2DOptions,
                                   BO.DEPTHWISE_CONV_2D: tflite.BuiltinOptions.DepthwiseConv2DOptions,
                                   BO.MAX_POOL_2D: tflite.BuiltinOptions.Pool2DOptions,
                                   BO.AVERAGE_POOL_2D: tflite.BuiltinOptions.Pool2DOptions,
                                   BO.SOFTMAX: tflite.BuiltinOptions.SoftmaxOptions}.get(
                                       code, tflite.BuiltinOptions.FullyConnectedOptions), 0)
            b.PrependUOffsetTRelativeSlot(4, opt, 0)
        op_offs.append(b.EndObject())
    oc_offs = []
    for code in codes:
        b.StartObject(4)
        b.PrependInt8Slot(0, min(code, 127), 0)
        b.PrependInt32Slot(2, 1, 1)
        b.PrependInt32Slot(3, code, 0)
        oc_offs.append(b.EndObject())
    tv = _vec(b, t_offs, "off")
    inv = _vec(b, inputs, "i32")
    outv = _vec(b, outputs, "i32")
    opv = _vec(b, op_offs, "off")
    b.StartObject(6)
    b.PrependUOffsetTRelativeSlot(0, tv, 0)
    b.PrependUOffsetTRelativeSlot(1, inv, 0)
    b.PrependUOffsetTRelativeSlot(2, outv, 0)
    b.PrependUOffsetTRelativeSlot(3, opv, 0)
    sg = b.EndObject()
    ocv = _vec(b, oc_offs, "off")
    sgv = _vec(b, [sg], "off")
    bv = _vec(b, buf_offs, "off")
    b.StartObject(8)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, ocv, 0)
    b.PrependUOffsetTRelativeSlot(2, sgv, 0)
    b.PrependUOffsetTRelativeSlot(4, bv, 0)
    root = b.EndObject()
    b.Finish(root, file_identifier=b"TFL3")
    return bytes(b.Output())


def _qparams(lo, hi):
    """Asymmetric int8 scale / zero point for a real range [lo, hi] (as TFLite's converter)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / 255.0)
    zp = int(np.clip(round(-128 - lo / float(scale)), -128, 127))
    return float(scale), zp


def mlp_tflite(rng, sizes=(13, 20, 7), per_channel=True, float_io=False, act=ACT.RELU, bias=True):
    """A 2-layer int8 MLP with real quantisation: float weights quantised symmetrically
    (per channel or per tensor), activation ranges from a float forward pass on random data.
    Returns (the .tflite bytes, the quantised layers as the reference below takes them)."""
    n0, n1, n2 = sizes
    W1 = rng.normal(size=(n1, n0)) / np.sqrt(n0)
    b1 = rng.normal(size=n1) * 0.1
    W2 = rng.normal(size=(n2, n1)) / np.sqrt(n1)
    b2 = rng.normal(size=n2) * 0.1
    X = rng.normal(size=(256, n0))
    H = X @ W1.T + b1
    if act == ACT.RELU:
        H = np.maximum(H, 0)
    Y = H @ W2.T + b2
    s_x, z_x = _qparams(X.min(), X.max())
    s_h, z_h = _qparams(H.min(), H.max())
    s_y, z_y = _qparams(Y.min(), Y.max())

    def qw(W):
        if per_channel:
            s = (np.abs(W).max(axis=1) / 127.0).astype(np.float32)
        else:
            s = np.full(1, np.float32(np.abs(W).max() / 127.0), np.float32)
        q = np.clip(np.round(W / s[:, None]), -127, 127).astype(np.int8)
        return q, s

    q1, s1 = qw(W1)
    q2, s2 = qw(W2)
    qb1 = np.round(b1 / (np.float32(s_x) * s1)).astype(np.int32)
    qb2 = np.round(b2 / (np.float32(s_h) * s2)).astype(np.int32)
    T = []

    def t(shape, ty, data=None, scale=None, zp=None):
        T.append({"shape": list(shape), "type": ty, "data": data, "scale": scale, "zp": zp})
        return len(T) - 1

    x8 = t([1, n0], TT.INT8, None, [s_x], [z_x])
    xf = t([1, n0], TT.FLOAT32) if float_io else None
    w1 = t([n1, n0], TT.INT8, q1.tobytes(), list(map(float, s1)), [0] * len(s1))
    bb1 = t([n1], TT.INT32, qb1.tobytes(), list(map(float, np.float32(s_x) * s1)), [0] * len(s1)) if bias else -1
    h = t([1, n1], TT.INT8, None, [s_h], [z_h])
    w2 = t([n2, n1], TT.INT8, q2.tobytes(), list(map(float, s2)), [0] * len(s2))
    bb2 = t([n2], TT.INT32, qb2.tobytes(), list(map(float, np.float32(s_h) * s2)), [0] * len(s2)) if bias else -1
    y8 = t([1, n2], TT.INT8, None, [s_y], [z_y])
    ops = [(BO.QUANTIZE, [xf], [x8], None)] if float_io else []
    ops += [(BO.FULLY_CONNECTED, [x8, w1, bb1], [h], act), (BO.FULLY_CONNECTED, [h, w2, bb2], [y8], ACT.NONE)]
    ins, outs = ([xf] if float_io else [x8]), [y8]
    if float_io:
        yf = t([1, n2], TT.FLOAT32)
        ops.append((BO.DEQUANTIZE, [y8], [yf], None))
        outs = [yf]
    layers = [dict(w=q1, b=qb1 if bias else None, s_in=s_x, z_in=z_x, s_w=s1, s_out=s_h, z_out=z_h, act=act),
              dict(w=q2, b=qb2 if bias else None, s_in=s_h, z_in=z_h, s_w=s2, s_out=s_y, z_out=z_y, act=ACT.NONE)]
    return write_tflite(T, ops, ins, outs), {"layers": layers, "float_io": float_io, "s_x": s_x, "z_x": z_x,
                                              "s_y": s_y, "z_y": z_y}


# ---------------------------------------------------------------------------------------------
# TFLite's reference int8 FULLY_CONNECTED, transcribed from its maths (Python integers)

def _qmult(real):
    """QuantizeMultiplier: real = M 2^(s - 31), M in [2^30, 2^31)."""
    if real == 0:
        return 0, 0
    q, s = math.frexp(real)
    m = round(q * 2 ** 31)       # q > 0: round half away from zero = Python round except ties
    if q * 2 ** 31 - math.floor(q * 2 ** 31) == 0.5:
        m = math.floor(q * 2 ** 31) + 1
    if m == 2 ** 31:
        m, s = m // 2, s + 1
    return (0, 0) if s < -31 else (m, s)


def _requant(acc, m, s, rounding):
    if rounding == "single":     # TFLITE_SINGLE_ROUNDING
        return (acc * m + (1 << (30 - s))) >> (31 - s)
    a = acc * (1 << s) if s > 0 else acc
    a = max(-2 ** 31, min(2 ** 31 - 1, a))
    if a == m == -2 ** 31:
        a = 2 ** 31 - 1
    else:
        p = a * m
        nudge = 2 ** 30 if p >= 0 else 1 - 2 ** 30
        v = p + nudge
        a = v // 2 ** 31 if v >= 0 else -((-v) // 2 ** 31)      # C division truncates
    if s < 0:
        e = -s
        mask = (1 << e) - 1
        rem = a & mask
        a = (a >> e) + (1 if rem > (mask >> 1) + (1 if a < 0 else 0) else 0)
    return a


def reference(xs, spec, rounding):
    outs = []
    for x in xs:
        if spec["float_io"]:
            v = np.float32(x) / np.float32(spec["s_x"])
            v = [0.0 if np.isnan(u) else float(u) for u in v]
            q = [max(-128, min(127, int(math.copysign(math.floor(abs(u) + 0.5), u)) + spec["z_x"]
                                if abs(u) < 1e6 else (127 if u > 0 else -128))) for u in v]
        else:
            q = [int(u) for u in x]
        for L in spec["layers"]:
            n_out = L["w"].shape[0]
            y = []
            for o in range(n_out):
                acc = sum(int(L["w"][o, i]) * (q[i] - L["z_in"]) for i in range(len(q)))
                acc += int(L["b"][o]) if L["b"] is not None else 0
                if L["s_w"].size == 1:
                    real = float(np.float32(L["s_in"]) * np.float32(L["s_w"][0])) / float(np.float32(L["s_out"]))
                else:
                    real = float(np.float32(L["s_in"])) * float(L["s_w"][o]) / float(np.float32(L["s_out"]))
                m, s = _qmult(real)
                v = _requant(acc, m, s, rounding) + L["z_out"]
                lo, hi = -128, 127
                if L["act"] == ACT.RELU:
                    lo = max(lo, L["z_out"])
                elif L["act"] in (ACT.RELU6, ACT.RELU_N1_TO_1):
                    a, b = (0.0, 6.0) if L["act"] == ACT.RELU6 else (-1.0, 1.0)
                    qa = L["z_out"] + round(float(np.float32(a) / np.float32(L["s_out"])))
                    qb = L["z_out"] + round(float(np.float32(b) / np.float32(L["s_out"])))
                    lo, hi = max(lo, qa), min(hi, qb)
                y.append(max(lo, min(hi, v)))
            q = y
        if spec["float_io"]:
            outs.append(np.array([(u - spec["z_y"]) for u in q], np.float32) * np.float32(spec["s_y"]))
        else:
            outs.append(np.array(q, np.int8))
    return np.array(outs)


def litert_interpreter(path, resolver="AUTO", preserve_all_tensors=False):
    """LiteRT's interpreter on the model, tensors allocated (AUTO: with its default XNNPACK
    delegate; BUILTIN_REF: its reference kernels; preserve_all_tensors: every layer's output
    readable after invoke). Skips when ai-edge-litert is missing (scripts/setup.sh installs it)."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        pytest.skip("ai-edge-litert is not installed (pip install 'edgehost[tflite-test]')")
    it = Interpreter(model_path=str(path), experimental_op_resolver_type=getattr(OpResolverType, resolver),
                     experimental_preserve_all_tensors=preserve_all_tensors)
    it.allocate_tensors()
    return it


def litert(path, resolver="AUTO"):
    """LiteRT on the model: x -> its output."""
    it = litert_interpreter(path, resolver)
    i, o = it.get_input_details()[0], it.get_output_details()[0]

    def run(x):
        it.set_tensor(i["index"], np.asarray(x, i["dtype"]).reshape(i["shape"]))
        it.invoke()
        return it.get_tensor(o["index"]).ravel().copy()
    return run


def _convert(tmp_path, data, name="m.tflite"):
    p = tmp_path / name
    p.write_bytes(data)
    model, report = build(load(str(p)))
    return p, model.to_bytes(), report


def _check(path, blob, spec, xs, litert_from=0):
    """blob == TFLite maths (double rounding) bit for bit on both backends; LiteRT == the same
    maths with single rounding bit for bit; returns the share of outputs where blob != LiteRT."""
    want = reference(xs, spec, "double")
    for backend in ("sim", "kernels"):
        got, _ = HostModel(blob, backend).run(xs)
        np.testing.assert_array_equal(got, want)
    single = reference(xs, spec, "single")
    for resolver in ("AUTO", "BUILTIN_REF"):
        ref = litert(path, resolver)
        np.testing.assert_array_equal(np.array([ref(x) for x in xs[litert_from:]]), single[litert_from:])
    return float(np.mean(want != single)), want


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("sizes", [(13, 20, 7), (1, 3, 1), (40, 33, 10)])
def test_int8_bit_exact_with_tflite_maths_and_litert(tmp_path, per_channel, sizes):
    rng = np.random.default_rng(sum(sizes) + per_channel)
    data, spec = mlp_tflite(rng, sizes, per_channel=per_channel)
    path, blob, report = _convert(tmp_path, data)
    m = read(blob)
    assert [l.type for l in m.layers] == ["fc_s8", "fc_s8"]
    assert m.input_tensor.dtype == "s8" and m.output_tensor.dtype == "s8"
    assert m.input_tensor.scale == np.float32(spec["s_x"])
    xs = rng.integers(-128, 128, size=(200, sizes[0])).astype(np.int8)
    xs[0] = -128
    xs[1] = 127
    differ, want = _check(path, blob, spec, xs)
    assert differ < 0.05
    # the activations are not trivial: the outputs take many values
    assert len(np.unique(want)) > min(20, 3 * sizes[2])
    assert any("zero point" in n for n in report["notes"])


def test_float_io_quantize_dequantize(tmp_path):
    rng = np.random.default_rng(5)
    data, spec = mlp_tflite(rng, (11, 17, 5), float_io=True)
    path, blob, _ = _convert(tmp_path, data)
    m = read(blob)
    assert [l.type for l in m.layers] == ["input_s8", "fc_s8", "fc_s8", "dequant_s8"]
    xs = (rng.normal(size=(200, 11)) * 1.5).astype(np.float32)
    # row 0: saturation and an exact rounding tie (x / scale = 2.5). The blob follows TFLite's
    # reference AffineQuantize (round half away from zero, then saturate); LiteRT differs there:
    # XNNPACK rounds the tie to even, its reference kernel overflows int32 on +-1e9 / scale
    # (undefined behaviour in C++), so row 0 is checked against the transcription only.
    xs[0, :4] = [1e9, -1e9, 0.0, np.float32(spec["s_x"]) * 2.5]
    _check(path, blob, spec, xs, litert_from=1)


@pytest.mark.parametrize("act", [ACT.NONE, ACT.RELU6, ACT.RELU_N1_TO_1])
def test_no_bias_and_activations(tmp_path, act):
    rng = np.random.default_rng(7 + act)
    data, spec = mlp_tflite(rng, (9, 15, 4), act=act, bias=False)
    path, blob, _ = _convert(tmp_path, data)
    _check(path, blob, spec, rng.integers(-128, 128, size=(150, 9)).astype(np.int8))


def test_quantize_multiplier_matches_tflite_rule():
    for real in (0.5, 0.25, 1.0, 0.999999, 1e-3, 3.7e-6, 123.0):
        m, s = quantize_multiplier(real)
        assert 2 ** 30 <= m < 2 ** 31
        assert abs(m / 2 ** 31 * 2.0 ** s - real) <= real * 2 ** -30
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(1e-12) == (0, 0)          # shift < -31: TFLite flushes to 0


def test_unsupported_op_named(tmp_path):
    T = [{"shape": [1, 4], "type": TT.INT8, "scale": [0.1], "zp": [0]},
         {"shape": [1, 4], "type": TT.INT8, "scale": [0.1], "zp": [0]}]
    data = write_tflite(T, [(BO.LOGISTIC, [0], [1], None)], [0], [1])
    p = tmp_path / "x.tflite"
    p.write_bytes(data)
    with pytest.raises(ConvertError, match=r"operator 0 \(LOGISTIC\) is not supported; supported: "
                                           r"FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, "
                                           r"AVERAGE_POOL_2D, RESHAPE, QUANTIZE, DEQUANTIZE"):
        load(str(p))


def test_bad_inputs(tmp_path):
    rng = np.random.default_rng(1)
    p = tmp_path / "bad.tflite"
    p.write_bytes(b"\0" * 64)
    with pytest.raises(ConvertError, match="not a TFLite flatbuffer"):
        load(str(p))
    data, _ = mlp_tflite(rng, (5, 6, 3))
    with pytest.raises(ConvertError, match="already quantised"):
        build(load_tflite(data), quantize="q15")
    # float weights (not fully int8): refused with the reason
    T = [{"shape": [1, 4], "type": TT.INT8, "scale": [0.1], "zp": [0]},
         {"shape": [2, 4], "type": TT.FLOAT32, "data": np.zeros(8, np.float32).tobytes()},
         {"shape": [1, 2], "type": TT.INT8, "scale": [0.1], "zp": [0]}]
    with pytest.raises(ConvertError, match=r"operator 0 \(FULLY_CONNECTED\): needs int8 input, weights"):
        load_tflite(write_tflite(T, [(BO.FULLY_CONNECTED, [0, 1, -1], [2], 0)], [0], [2]))
    # weights with a zero point
    T[1] = {"shape": [2, 4], "type": TT.INT8, "data": bytes(8), "scale": [0.1], "zp": [3]}
    with pytest.raises(ConvertError, match="zero points must be 0"):
        load_tflite(write_tflite(T, [(BO.FULLY_CONNECTED, [0, 1, -1], [2], 0)], [0], [2]))
    # unsupported fused activation
    T[1]["zp"] = [0]
    with pytest.raises(ConvertError, match="fused activation TANH is not supported"):
        load_tflite(write_tflite(T, [(BO.FULLY_CONNECTED, [0, 1, -1], [2], ACT.TANH)], [0], [2]))


def test_reshape_passes_through(tmp_path):
    rng = np.random.default_rng(3)
    q = rng.integers(-127, 128, size=(3, 6)).astype(np.int8)
    T = [{"shape": [1, 2, 3], "type": TT.INT8, "scale": [0.05], "zp": [-3]},
         {"shape": [1, 6], "type": TT.INT8, "scale": [0.05], "zp": [-3]},
         {"shape": [3, 6], "type": TT.INT8, "data": q.tobytes(), "scale": [0.01], "zp": [0]},
         {"shape": [1, 3], "type": TT.INT8, "scale": [0.02], "zp": [4]},
         {"shape": [2], "type": TT.INT32, "data": np.array([1, 6], np.int32).tobytes()}]
    data = write_tflite(T, [(BO.RESHAPE, [0, 4], [1], None), (BO.FULLY_CONNECTED, [1, 2, -1], [3], 0)], [0], [3])
    path = tmp_path / "r.tflite"
    path.write_bytes(data)
    model, _ = build(load(str(path)))
    blob = model.to_bytes()
    assert [l.type for l in read(blob).layers] == ["fc_s8"]
    spec = {"float_io": False, "layers": [dict(w=q, b=None, s_in=0.05, z_in=-3, s_w=np.array([0.01], np.float32),
                                               s_out=0.02, z_out=4, act=ACT.NONE)]}
    _check(path, blob, spec, rng.integers(-128, 128, size=(100, 6)).astype(np.int8))


def test_c_loader_runs_int8_blob_bit_exact(tmp_path):
    """The firmware's loader and interpreter (built natively with ASan+UBSan) on the int8 blob."""
    from edgehost.runtime.native import CTool, build_tool
    rng = np.random.default_rng(11)
    data, _ = mlp_tflite(rng, (11, 17, 5), float_io=True)
    _, blob, _ = _convert(tmp_path, data)
    tool = CTool(build_tool(str(tmp_path / "tool")))
    xs = (rng.normal(size=(60, 11)) * 2).astype(np.float32)
    xs[0, :3] = [np.inf, -np.inf, np.nan]
    yc, tc = tool.run(blob, xs)
    ys, ts = HostModel(blob, "kernels").run(xs)
    np.testing.assert_array_equal(yc, ys)
    for a, b in zip(tc, ts):
        for la, lb in zip(a, b):
            if la is not None:
                np.testing.assert_array_equal(la, lb)



# ---------------------------------------------------------------------------------------------
# the int8 layers in both loaders: same decision, code and message (C built with ASan+UBSan)

def _refresh(buf):
    import struct
    from edgehost.blob import crc32, fnv1a32
    total = struct.unpack_from("<I", buf, 12)[0]
    struct.pack_into("<I", buf, 20, fnv1a32(bytes(buf[24:total])))
    struct.pack_into("<I", buf, 16, crc32(bytes(buf[20:total])))
    return bytes(buf)


def _py(blob):
    from edgehost.blob import BlobError
    try:
        read(blob, arena_size=1 << 16)
        return 0, ""
    except BlobError as e:
        return e.code, str(e)


def test_int8_layer_validation_same_in_c_and_python(tmp_path):
    import struct
    from edgehost.blob import format as F
    from edgehost.runtime.native import CTool, build_tool
    rng = np.random.default_rng(3)
    data, _ = mlp_tflite(rng, (7, 9, 5), per_channel=True, float_io=True)
    _, blob, _ = _convert(tmp_path, data)
    m = read(blob)
    assert struct.unpack_from("<H", blob, 6)[0] == 2          # format 1.2: the int8 layers
    fc = [i for i, l in enumerate(m.layers) if l.type == "fc_s8"][0]

    def param_at(layer, k):
        return struct.unpack_from("<II", blob, 64 + 64 * layer + 32 + 8 * k)

    def set_i32(layer, k, entry, value):
        b = bytearray(blob)
        off, _ = param_at(layer, k)
        struct.pack_into("<i", b, off + 4 * entry, value)
        return _refresh(b)

    def set_len(layer, k, n):
        b = bytearray(blob)
        struct.pack_into("<I", b, 64 + 64 * layer + 36 + 8 * k, n)
        return _refresh(b)

    cases = [
        (set_i32(0, 0, 0, 128), "layer 0 (input_s8): param 0 (zero_point): entry 0 (128) outside [-128, 127]"),
        (set_i32(3, 0, 0, -129), "layer 3 (dequant_s8): param 0 (zero_point): entry 0 (-129) outside [-128, 127]"),
        (set_i32(fc, 2, 3, -1), f"layer {fc} (fc_s8): param 2 (requant): entry 3 (mult -1) outside [0, 2147483647]"),
        (set_i32(fc, 2, 9 + 2, 31), f"layer {fc} (fc_s8): param 2 (requant): entry 11 (shift 31) outside [-31, 30]"),
        (set_i32(fc, 3, 0, -128), f"layer {fc} (fc_s8): param 3 (quant): entry 0 (x_offset -128) outside [-127, 128]"),
        (set_i32(fc, 3, 1, 200), f"layer {fc} (fc_s8): param 3 (quant): entry 1 (y_offset 200) outside [-128, 127]"),
        (set_i32(fc, 3, 3, -129), f"layer {fc} (fc_s8): param 3 (quant): entry 3 (act_max -129) outside"),
        (set_len(fc, 2, 4 * 7), f"layer {fc} (fc_s8): param 2 (requant): 7 entries, expected 2 or 18 "
                                f"(mult then shift, per tensor or per channel)"),
        (set_len(fc, 3, 12), f"layer {fc} (fc_s8): param 3 (quant): 3 entries, expected 4"),
        (set_len(0, 0, 8), "layer 0 (input_s8): param 0 (zero_point): 2 entries, expected 1"),
        (set_len(fc, 0, 0), f"layer {fc} (fc_s8): param 0 (weight): length 0 but offset"),
    ]
    # act_min above act_max
    b = bytearray(set_i32(fc, 3, 2, 100))
    off, _ = param_at(fc, 3)
    struct.pack_into("<i", b, off + 12, 50)
    cases.append((_refresh(b), f"layer {fc} (fc_s8): param 3 (quant): entry 3 (act_max 50) outside [100, 127]"))
    # random mutations of the int8 layers' records and parameters
    for _ in range(300):
        b = bytearray(blob)
        layer = int(rng.integers(0, len(m.layers)))
        if rng.random() < 0.5:
            k = int(rng.integers(0, 4))
            off, ln = param_at(layer, k)
            if ln:
                struct.pack_into("<i", b, off + 4 * int(rng.integers(0, max(1, min(ln, 64) // 4))),
                                 int(rng.choice([-2 ** 31, -200, -129, -128, -127, -32, -31, -1, 0, 1, 30, 31,
                                                 127, 128, 129, 2 ** 31 - 1])))
        else:
            b[64 + 64 * layer + int(rng.integers(0, 64))] = int(rng.integers(0, 256))
        cases.append((_refresh(b), None))
    tool = CTool(build_tool(str(tmp_path / "tool")))
    got = tool.check([c for c, _ in cases], arena=1 << 16)
    refused = 0
    for (c, want), g in zip(cases, got):
        code, msg = _py(c)
        assert g[0] == code, (g, code, msg)
        assert g[6].split(":")[0] == msg.split(":")[0]
        if code:
            refused += 1
            assert g[6] == msg       # the int8 messages are the same text in C and Python
        if want is not None:
            assert code == F.E_PARAM and msg.startswith(want), (msg, want)
    assert refused > 100


# ---------------------------------------------------------------------------------------------
# the device: the int8 blob on mps2-an386 (Cortex-M4F, the kernel's DSP path) through the link

import importlib.metadata  # noqa: E402

if not any(ep.value == "edgehost.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11")):
    # the fixtures of tests/hil/conftest.py, taken from the plugin as that conftest does
    from edgehost.pytest_plugin import (device, edgehost_board, edgehost_board_name,  # noqa: F401,E402
                                        edgehost_device, edgehost_farm, pytest_generate_tests)


@pytest.mark.hil
@pytest.mark.edgehost_boards("mps2-an386")
def test_int8_model_on_device_bit_exact(device, tmp_path):
    if not device.info.model_support:
        pytest.fail("firmware built without model support (firmware/model missing at build time)")
    rng = np.random.default_rng(21)
    for float_io, sizes in ((False, (29, 18, 6)), (True, (11, 17, 5))):
        data, spec = mlp_tflite(rng, sizes, per_channel=not float_io, float_io=float_io)
        _, blob, _ = _convert(tmp_path, data, f"d{float_io}.tflite")
        m = read(blob)
        res = device.load_model(blob)
        assert res.model_hash == m.model_hash and res.n_layers == len(m.layers)
        xs = (rng.integers(-128, 128, size=(12, sizes[0])).astype(np.int8) if not float_io
              else (rng.normal(size=(12, sizes[0])) * 2).astype(np.float32))
        outs, traces = HostModel(blob, "kernels").run(xs)
        np.testing.assert_array_equal(outs, reference(xs, spec, "double"))
        for t in range(len(xs)):
            s = device.step(xs[t])
            np.testing.assert_array_equal(np.frombuffer(s.output, dtype=outs.dtype), outs[t])
        for got, want in zip(device.trace(), traces[-1]):      # every layer of the last step
            if got.data is not None:
                np.testing.assert_array_equal(np.frombuffer(got.data, dtype=want.dtype), want)


def test_cli(tmp_path, capsys):
    from edgehost.cli import main
    data, _ = mlp_tflite(np.random.default_rng(8), (6, 8, 3), float_io=True)
    src, out = tmp_path / "m.tflite", tmp_path / "o.ehm"
    src.write_bytes(data)
    assert main(["convert", str(src), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "fc_s8" in text and "QUANTIZE: float32 -> int8" in text
    assert [l.type for l in read(out.read_bytes()).layers] == ["input_s8", "fc_s8", "fc_s8", "dequant_s8"]
    assert main(["convert", str(src), "-o", str(out), "--quantize", "q15"]) == 2
    assert "already quantised" in capsys.readouterr().err
    src.write_bytes(b"x" * 16)
    assert main(["convert", str(src), "-o", str(out)]) == 2
    assert "not a TFLite flatbuffer" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# 1-D convolutions: CONV_2D / DEPTHWISE_CONV_2D over one spatial axis, lowered to fc_s8 (the
# Toeplitz expansion). The models: int8 conv (+ RESHAPE + FULLY_CONNECTED) with real quantisation
# (the input range is shifted so the input zero point is far from 0: SAME padding then checks
# that padded taps contribute nothing, as in TFLite). The reference below is TFLite's
# reference int8 ConvPerChannel transcribed directly in NHWC loops (not through the expansion).

def _tfl_pad(length, k, stride, dil, padding):
    ext = (k - 1) * dil + 1
    if padding == "VALID":
        return (length - ext + stride) // stride, 0
    out = (length + stride - 1) // stride
    return out, max((out - 1) * stride + ext - length, 0) // 2


def conv_tflite(rng, c_in=3, length=16, c_out=4, k=3, stride=1, dil=1, padding="SAME", groups=1,
                depthwise=False, per_channel=True, axis="W", act=ACT.RELU, n_fc=5, x_shift=1.5):
    if depthwise:
        groups = c_in
    cin_g = c_in // groups
    l_out, left = _tfl_pad(length, k, stride, dil, padding)
    W = rng.normal(size=(c_out, cin_g, k)) / np.sqrt(cin_g * k)
    bconv = rng.normal(size=c_out) * 0.1
    X = rng.normal(size=(128, length, c_in)) + x_shift
    H = np.zeros((128, l_out, c_out))
    for o in range(c_out):
        g = o // (c_out // groups)
        for t in range(l_out):
            for ci in range(cin_g):
                for kk in range(k):
                    p = t * stride + kk * dil - left
                    if 0 <= p < length:
                        H[:, t, o] += W[o, ci, kk] * X[:, p, g * cin_g + ci]
    H += bconv
    if act == ACT.RELU:
        H = np.maximum(H, 0)
    Hf = H.reshape(128, -1)
    W2 = rng.normal(size=(n_fc, l_out * c_out)) / np.sqrt(l_out * c_out)
    Y = Hf @ W2.T
    s_x, z_x = _qparams(X.min(), X.max())
    s_h, z_h = _qparams(H.min(), H.max())
    s_y, z_y = _qparams(Y.min(), Y.max())
    if per_channel:
        sw = (np.abs(W).reshape(c_out, -1).max(axis=1) / 127.0).astype(np.float32)
    else:
        sw = np.full(1, np.float32(np.abs(W).max() / 127.0), np.float32)
    q = np.clip(np.round(W / (sw[:, None, None] if per_channel else sw[0])), -127, 127).astype(np.int8)
    qb = np.round(bconv / (np.float32(s_x) * sw)).astype(np.int32)
    s2 = (np.abs(W2).max(axis=1) / 127.0).astype(np.float32)
    q2 = np.clip(np.round(W2 / s2[:, None]), -127, 127).astype(np.int8)
    if depthwise:       # [1, KH, KW, C_out]
        filt = q[:, 0, :].T.reshape((1, 1, k, c_out) if axis == "W" else (1, k, 1, c_out))
    else:               # [C_out, KH, KW, C_in / groups]
        filt = q.transpose(0, 2, 1).reshape((c_out, 1, k, cin_g) if axis == "W" else (c_out, k, 1, cin_g))
    T = []

    def t(shape, ty, data=None, scale=None, zp=None, qdim=0):
        T.append({"shape": list(shape), "type": ty, "data": data, "scale": scale, "zp": zp, "qdim": qdim})
        return len(T) - 1

    sp = (lambda n: [1, 1, n]) if axis == "W" else (lambda n: [1, n, 1])
    x8 = t(sp(length) + [c_in], TT.INT8, None, [s_x], [z_x])
    wt = t(filt.shape, TT.INT8, filt.tobytes(), list(map(float, sw)), [0] * sw.size, 3 if depthwise else 0)
    bt = t([c_out], TT.INT32, qb.tobytes(), list(map(float, np.float32(s_x) * sw)), [0] * sw.size)
    h4 = t(sp(l_out) + [c_out], TT.INT8, None, [s_h], [z_h])
    h2 = t([1, l_out * c_out], TT.INT8, None, [s_h], [z_h])
    shp = t([2], TT.INT32, np.array([1, l_out * c_out], np.int32).tobytes())
    w2 = t([n_fc, l_out * c_out], TT.INT8, q2.tobytes(), list(map(float, s2)), [0] * n_fc)
    y8 = t([1, n_fc], TT.INT8, None, [s_y], [z_y])
    opts = {"padding": tflite.Padding.SAME if padding == "SAME" else tflite.Padding.VALID, "act": act,
            ("stride_w" if axis == "W" else "stride_h"): stride, ("stride_h" if axis == "W" else "stride_w"): 1,
            ("dilation_w" if axis == "W" else "dilation_h"): dil, "depth_multiplier": c_out // c_in}
    ops = [(BO.DEPTHWISE_CONV_2D if depthwise else BO.CONV_2D, [x8, wt, bt], [h4], opts),
           (BO.RESHAPE, [h4, shp], [h2], None), (BO.FULLY_CONNECTED, [h2, w2, -1], [y8], ACT.NONE)]
    spec = dict(c_in=c_in, length=length, c_out=c_out, k=k, stride=stride, dil=dil, left=left, l_out=l_out,
                groups=groups, w=q, b=qb, s_x=s_x, z_x=z_x, s_w=sw, s_h=s_h, z_h=z_h, act=act,
                fc=dict(w=q2, b=None, s_in=s_h, z_in=z_h, s_w=s2, s_out=s_y, z_out=z_y, act=ACT.NONE))
    return write_tflite(T, ops, [x8], [y8]), spec


def conv_reference(xs, c, rounding):
    """TFLite's reference int8 conv (per-channel multipliers from s_in * s_w[o] / s_out in
    double, PopulateConvolutionQuantizationParams), then the FULLY_CONNECTED of `reference`."""
    hs = []
    cin_g, cout_g = c["c_in"] // c["groups"], c["c_out"] // c["groups"]
    for x in xs:
        xq = np.asarray(x, np.int64).reshape(c["length"], c["c_in"])
        h = []
        for tt in range(c["l_out"]):
            for o in range(c["c_out"]):
                g = o // cout_g
                acc = int(c["b"][o])
                for ci in range(cin_g):
                    for kk in range(c["k"]):
                        p = tt * c["stride"] + kk * c["dil"] - c["left"]
                        if 0 <= p < c["length"]:     # padded taps are skipped
                            acc += int(c["w"][o, ci, kk]) * (int(xq[p, g * cin_g + ci]) - c["z_x"])
                sw = c["s_w"][o if c["s_w"].size > 1 else 0]
                m, s = _qmult(float(np.float32(c["s_x"])) * float(sw) / float(np.float32(c["s_h"])))
                v = _requant(acc, m, s, rounding) + c["z_h"]
                lo, hi = -128, 127
                if c["act"] in (ACT.RELU, ACT.RELU6):
                    lo = max(lo, c["z_h"])
                if c["act"] == ACT.RELU6:
                    hi = min(hi, c["z_h"] + round(float(np.float32(6.0) / np.float32(c["s_h"]))))
                h.append(max(lo, min(hi, v)))
        hs.append(h)
    hs = np.array(hs, np.int8)
    return reference(hs, {"float_io": False, "layers": [c["fc"]]}, rounding), hs


def litert_conv(path, resolver):
    """LiteRT on the conv model, returning (output, the conv layer's output tensor)."""
    it = litert_interpreter(path, resolver, preserve_all_tensors=True)
    i, o = it.get_input_details()[0], it.get_output_details()[0]

    def run(x):
        it.set_tensor(i["index"], np.asarray(x, i["dtype"]).reshape(i["shape"]))
        it.invoke()
        return it.get_tensor(o["index"]).ravel().copy(), it.get_tensor(3).ravel().copy()   # tensor 3: h4
    return run


def _check_conv(tmp_path, data, c, xs, name="c.tflite"):
    """The blob (both backends) == the transcription with double rounding (what eh_fc_s8 does)
    bit for bit, conv layer and output. LiteRT, measured: its reference conv kernel
    (BUILTIN_REF) rounds twice too (conv layer bit-exact with the blob) and its FULLY_CONNECTED
    once; XNNPACK (AUTO) rounds once in both. Both are checked bit for bit against the
    transcription with those roundings; returns the share of outputs where the blob and LiteRT
    (AUTO) differ and the largest difference."""
    path, blob, report = _convert(tmp_path, data, name)
    want, hid = conv_reference(xs, c, "double")
    for backend in ("sim", "kernels"):
        got, trace = HostModel(blob, backend).run(xs)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.array([tr[0] for tr in trace]), hid)
    single, hid1 = conv_reference(xs, c, "single")
    auto = litert_conv(path, "AUTO")
    ya, ha = (np.array(v) for v in zip(*[auto(x) for x in xs]))
    np.testing.assert_array_equal(ha, hid1)
    np.testing.assert_array_equal(ya, single)
    ref = litert_conv(path, "BUILTIN_REF")
    yr, hr = (np.array(v) for v in zip(*[ref(x) for x in xs]))
    np.testing.assert_array_equal(hr, hid)
    np.testing.assert_array_equal(yr, reference(hid, {"float_io": False, "layers": [c["fc"]]}, "single"))
    diff = np.abs(want.astype(int) - ya.astype(int))
    return path, blob, report, float(np.mean(diff > 0)), int(diff.max()), want


CONV_CASES = {
    "same_relu": dict(c_in=3, length=16, c_out=4, k=3, padding="SAME"),
    "strided_dilated_valid": dict(c_in=2, length=23, c_out=5, k=4, stride=2, dil=2, padding="VALID"),
    "same_stride3_dil2": dict(c_in=3, length=19, c_out=3, k=5, stride=3, dil=2, padding="SAME", act=ACT.NONE),
    "grouped": dict(c_in=4, length=12, c_out=6, k=3, groups=2, padding="SAME"),
    "per_tensor": dict(c_in=3, length=10, c_out=4, k=2, padding="SAME", per_channel=False, act=ACT.RELU6),
    "depthwise": dict(c_in=3, length=15, c_out=6, k=3, depthwise=True, padding="SAME"),
    "height_axis": dict(c_in=2, length=14, c_out=3, k=3, axis="H", padding="SAME", stride=2),
}


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv1d_int8_bit_exact_with_tflite_maths_and_litert(tmp_path, case):
    """Blob == TFLite's reference conv maths (double rounding) bit for bit on both backends, for
    the conv layer and the output; LiteRT (XNNPACK and reference kernels) == the same maths with
    the roundings they use (see _check_conv); blob vs LiteRT outputs differ on < 5 %, by <= 2."""
    rng = np.random.default_rng(len(case) * 7 + 1)
    data, c = conv_tflite(rng, **CONV_CASES[case])
    xs = rng.integers(-128, 128, size=(120, c["length"] * c["c_in"])).astype(np.int8)
    xs[0], xs[1] = -128, 127
    path, blob, report, differ, max_diff, want = _check_conv(tmp_path, data, c, xs)
    print(f"conv {case}: blob vs LiteRT (XNNPACK) outputs differ on {differ:.4f}, by at most {max_diff}")
    m = read(blob)
    assert [l.type for l in m.layers] == ["fc_s8", "fc_s8"]
    assert c["z_x"] < -20           # the input zero point is far from 0 (SAME padding is a real check)
    rows, cols = c["l_out"] * c["c_out"], c["length"] * c["c_in"]
    assert m.layers[0].n_in == cols and m.layers[0].n_out == rows
    note = [n for n in report["notes"] if "lowered to a dense int8" in n]
    assert len(note) == 1 and f"{rows} x {cols} fc_s8: {rows * cols} B of weights" in note[0]
    assert differ < 0.05 and max_diff <= 2
    assert len(np.unique(want)) > 5


def test_conv1d_unsupported_parameters_named(tmp_path):
    rng = np.random.default_rng(2)
    data, c = conv_tflite(rng, c_in=2, length=12, c_out=3, k=3)
    model = load_tflite(data)      # fine as built

    def variant(**kw):
        return conv_tflite(np.random.default_rng(2), **{**dict(c_in=2, length=12, c_out=3, k=3), **kw})[0]
    # the 256 KB bound (int8: one byte per weight), with the layer named
    with pytest.raises(ConvertError, match=r"operator 0 \(CONV_2D\): the convolution C_in 2 x L 12 -> C_out 3 "
                                           r"x L_out 12 .* dense 36 x 24 matrix of 864 bytes \(1 B per weight\), "
                                           r"above the limit of 800 bytes"):
        load_tflite(data, max_conv_bytes=800)
    assert model.layers[0].n_out == 36
    # a real 2-D convolution is not lowered to fc_s8: it is a conv2d_s8 layer
    # (tests/test_convert_tflite_2d.py)
    T = [{"shape": [1, 4, 4, 1], "type": TT.INT8, "scale": [0.1], "zp": [0]},
         {"shape": [2, 3, 3, 1], "type": TT.INT8, "data": bytes(18), "scale": [0.1], "zp": [0]},
         {"shape": [1, 4, 4, 2], "type": TT.INT8, "scale": [0.1], "zp": [0]}]
    assert [l.type for l in load_tflite(write_tflite(T, [(BO.CONV_2D, [0, 1, -1], [2], {"padding": 0})],
                                                     [0], [2])).layers] == ["conv2d_s8"]
    # a fused activation the kernels do not have
    with pytest.raises(ConvertError, match=r"operator 0 \(CONV_2D\): fused activation TANH is not supported"):
        load_tflite(variant(act=ACT.TANH))
    # float filter
    T = [{"shape": [1, 1, 6, 1], "type": TT.INT8, "scale": [0.1], "zp": [0]},
         {"shape": [2, 1, 3, 1], "type": TT.FLOAT32, "data": bytes(24)},
         {"shape": [1, 1, 6, 2], "type": TT.INT8, "scale": [0.1], "zp": [0]}]
    with pytest.raises(ConvertError, match=r"operator 0 \(CONV_2D\): needs int8 input, weights and output"):
        load_tflite(write_tflite(T, [(BO.CONV_2D, [0, 1, -1], [2], {"padding": 0})], [0], [2]))
    # filter channels that do not divide the input channels
    T[1] = {"shape": [2, 1, 3, 1], "type": TT.INT8, "data": bytes(6), "scale": [0.1], "zp": [0]}
    T[0] = {"shape": [1, 1, 3, 3], "type": TT.INT8, "scale": [0.1], "zp": [0]}
    T[1]["shape"] = [2, 1, 3, 2]
    T[1]["data"] = bytes(12)
    T[2]["shape"] = [1, 1, 3, 2]
    with pytest.raises(ConvertError, match=r"filter of 2 input channels does not divide the input's 3"):
        load_tflite(write_tflite(T, [(BO.CONV_2D, [0, 1, -1], [2], {"padding": 0})], [0], [2]))
    # an output shape that is not what the parameters give
    T = [{"shape": [1, 1, 8, 1], "type": TT.INT8, "scale": [0.1], "zp": [0]},
         {"shape": [2, 1, 3, 1], "type": TT.INT8, "data": bytes(6), "scale": [0.1], "zp": [0]},
         {"shape": [1, 1, 8, 2], "type": TT.INT8, "scale": [0.1], "zp": [0]}]
    with pytest.raises(ConvertError, match=r"output shape \[1, 1, 8, 2\], expected \[1, 1, 6, 2\]"):
        load_tflite(write_tflite(T, [(BO.CONV_2D, [0, 1, -1], [2], {"padding": tflite.Padding.VALID})], [0], [2]))
    # weight zero points
    T[1]["zp"] = [1]
    T[2]["shape"] = [1, 1, 8, 2]
    with pytest.raises(ConvertError, match="weight zero points must be 0"):
        load_tflite(write_tflite(T, [(BO.CONV_2D, [0, 1, -1], [2], {"padding": tflite.Padding.SAME})], [0], [2]))
    # depthwise with a channel count that is not C_in x multiplier
    T = [{"shape": [1, 1, 8, 2], "type": TT.INT8, "scale": [0.1], "zp": [0]},
         {"shape": [1, 1, 3, 3], "type": TT.INT8, "data": bytes(9), "scale": [0.1], "zp": [0]},
         {"shape": [1, 1, 8, 3], "type": TT.INT8, "scale": [0.1], "zp": [0]}]
    with pytest.raises(ConvertError, match=r"DEPTHWISE_CONV_2D\): 3 output channels with depth multiplier 1 over "
                                           r"2 input channels"):
        load_tflite(write_tflite(T, [(BO.DEPTHWISE_CONV_2D, [0, 1, -1], [2], {"padding": 0})], [0], [2]))


def test_c_loader_runs_conv_blob_bit_exact(tmp_path):
    """The firmware's loader and interpreter (native, ASan+UBSan) on a conv blob."""
    from edgehost.runtime.native import CTool, build_tool
    rng = np.random.default_rng(12)
    data, c = conv_tflite(rng, c_in=3, length=14, c_out=4, k=3, stride=2, padding="SAME")
    _, blob, _ = _convert(tmp_path, data)
    tool = CTool(build_tool(str(tmp_path / "tool")))
    xs = rng.integers(-128, 128, size=(40, 14 * 3)).astype(np.int8)
    yc, _ = tool.run(blob, xs)
    np.testing.assert_array_equal(yc, conv_reference(xs, c, "double")[0])


@pytest.mark.hil
@pytest.mark.edgehost_boards("mps2-an386")
def test_conv_model_on_device_bit_exact(device, tmp_path):
    """A depthwise and a strided conv model (fc_s8 Toeplitz layers) on the board == the maths."""
    if not device.info.model_support:
        pytest.fail("firmware built without model support (firmware/model missing at build time)")
    rng = np.random.default_rng(31)
    for i, kw in enumerate((dict(c_in=3, length=15, c_out=6, k=3, depthwise=True),
                            dict(c_in=2, length=20, c_out=4, k=5, stride=2, dil=2, padding="VALID"))):
        data, c = conv_tflite(rng, **kw)
        _, blob, _ = _convert(tmp_path, data, f"conv{i}.tflite")
        m = read(blob)
        res = device.load_model(blob)
        assert res.model_hash == m.model_hash and res.n_layers == len(m.layers)
        xs = rng.integers(-128, 128, size=(10, c["length"] * c["c_in"])).astype(np.int8)
        want = conv_reference(xs, c, "double")[0]
        for t in range(len(xs)):
            s = device.step(xs[t])
            np.testing.assert_array_equal(np.frombuffer(s.output, dtype=np.int8), want[t])


def test_cli_conv_reports_expansion_bytes(tmp_path, capsys):
    from edgehost.cli import main
    data, c = conv_tflite(np.random.default_rng(9), c_in=2, length=12, c_out=3, k=3)
    src, out = tmp_path / "c.tflite", tmp_path / "c.ehm"
    src.write_bytes(data)
    assert main(["convert", str(src), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "operator 0 (CONV_2D): C_in 2 x L 12 -> C_out 3 x L_out 12" in text
    assert "dense int8 36 x 24 fc_s8: 864 B of weights for 18 filter weights" in text
    assert [l.type for l in read(out.read_bytes()).layers] == ["fc_s8", "fc_s8"]
