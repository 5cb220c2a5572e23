"""The TFLite / LiteRT importer: an int8 fully-connected `.tflite` model -> an int8 `.ehm` blob.

Reads the flatbuffer with the `tflite` package (the pure-Python schema; no TensorFlow):
`pip install 'edgehost[import]'`. The model is already quantised, so nothing is re-quantised:
the blob runs TFLite's integer arithmetic exactly (`eh_fc_s8`, kernels_c/include/eh_basic.h).

Supported, as one chain in subgraph 0:
    FULLY_CONNECTED  int8 input, int8 weights (zero point 0; per-tensor or per-channel scales on
                     dimension 0), int32 bias or none, int8 output; fused activation NONE, RELU,
                     RELU6, RELU_N1_TO_1 (a clamp of the int8 output, as TFLite does it)
                     -> fc_s8
    RESHAPE          (the element count stays the same; a batch of 1) -> nothing
    QUANTIZE         float32 -> int8 at the model input -> input_s8
    DEQUANTIZE       int8 -> float32 at the model output -> dequant_s8
Anything else: an error naming the op and listing these.

The requantisation multipliers are computed as TFLite computes them (its Prepare): per tensor
real = (double)(float)(s_in * s_w) / s_out, per channel real = s_in * s_w[c] / s_out in double,
then QuantizeMultiplier (frexp, Q31 mantissa rounded, shift = exponent).
A model whose input is int8 takes int8 on the device (the blob's input tensor is s8 with the
model's input scale; its zero point is in the report's notes); likewise for the output.
"""
from __future__ import annotations

import math

import numpy as np

from ..blob import Layer, Model, Tensor
from .lower import ConvertError
from .planner import plan

SUPPORTED_OPS = ("FULLY_CONNECTED", "RESHAPE", "QUANTIZE", "DEQUANTIZE")
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real = mult / 2^31 * 2^shift, mult in [2^30, 2^31) or 0."""
    if real == 0:
        return 0, 0
    if not (real > 0 and math.isfinite(real)):
        raise ConvertError(f"requantisation multiplier {real!r} is not > 0 and finite")
    q, shift = math.frexp(real)
    qf = int(round(q * (1 << 31)))      # std::round: half away from zero (q > 0)
    if qf == 1 << 31:
        qf //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise ConvertError(f"requantisation multiplier {real:g} too large (shift {shift} > 30)")
    return qf, shift


def _tflite():
    try:
        import tflite
    except ImportError:  # pragma: no cover - depends on the install
        raise ConvertError("reading .tflite files needs the 'tflite' package (pure Python, no TensorFlow): "
                           "pip install 'edgehost[import]'") from None
    return tflite


class Int8Import:
    """An imported int8 model: `build_model()` gives the blob Model (what `lower.build` calls)."""

    def __init__(self, n_in: int, layers: list, tensors: list, notes: list):
        self.n_in = n_in
        self.layers = layers      # blob Layers (tensor ids into `tensors`)
        self.tensors = tensors    # blob Tensors
        self.notes = notes

    def build_model(self, quantize: str = "none", reuse: bool = True):
        if quantize not in (None, "none", "int8", "s8"):
            raise ConvertError(f"the .tflite model is already quantised to int8; --quantize {quantize} "
                               f"does not apply (use none)")
        m = Model([Layer(l.type, l.input, l.output, l.n_in, l.n_out, list(l.params)) for l in self.layers],
                  [Tensor(t.dtype, t.shape, t.kind, 0, t.scale) for t in self.tensors], 0,
                  len(self.tensors) - 1, 0)
        plan(m, reuse=reuse)
        m.to_bytes()    # validates
        report = {"quantize": "int8 (from the .tflite)", "notes": list(self.notes),
                  "layers": None, "mapping": list(range(len(m.layers)))}
        return m, report


def load_tflite(source) -> Int8Import:
    """Import a .tflite file (path or bytes)."""
    tfl = _tflite()
    where = "tflite model" if isinstance(source, (bytes, bytearray)) else str(source)
    if isinstance(source, (bytes, bytearray)):
        buf = bytes(source)
    else:
        with open(source, "rb") as f:
            buf = f.read()
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ConvertError(f"{where}: not a TFLite flatbuffer (file identifier {buf[4:8]!r}, expected b'TFL3')")
    try:
        model = tfl.Model.GetRootAsModel(buf, 0)
        n_sub = model.SubgraphsLength()
    except Exception as e:
        raise ConvertError(f"{where}: cannot parse the flatbuffer ({type(e).__name__}: {e})") from None
    if n_sub != 1:
        raise ConvertError(f"{where}: {n_sub} subgraphs; only single-subgraph models are supported")
    op_names = {v: k for k, v in vars(tfl.BuiltinOperator).items() if not k.startswith("_")}
    act_names = {v: k for k, v in vars(tfl.ActivationFunctionType).items() if not k.startswith("_")}
    type_names = {v: k for k, v in vars(tfl.TensorType).items() if not k.startswith("_")}
    sg = model.Subgraphs(0)

    def ttype(t):
        return type_names.get(sg.Tensors(t).Type(), str(sg.Tensors(t).Type()))

    def tshape(t):
        ten = sg.Tensors(t)
        return [int(v) for v in ten.ShapeAsNumpy()] if ten.ShapeLength() else []

    def tquant(t):
        q = sg.Tensors(t).Quantization()
        if q is None or q.ScaleLength() == 0:
            return None, None, 0
        return (np.asarray(q.ScaleAsNumpy(), np.float32), np.asarray(q.ZeroPointAsNumpy(), np.int64),
                q.QuantizedDimension())

    def tdata(t, dtype):
        b = sg.Tensors(t).Buffer()
        buffer = model.Buffers(b)
        if buffer is None or buffer.DataLength() == 0:
            if buffer is not None and buffer.Size():
                raise ConvertError(f"{where}: tensor {t}: data stored outside the flatbuffer (offset/size) "
                                   f"is not supported")
            return None
        return np.frombuffer(buffer.DataAsNumpy().tobytes(), dtype).copy()

    def scalar_q(t, what):
        s, z, _ = tquant(t)
        if s is None or s.size != 1 or z.size != 1:
            raise ConvertError(f"{where}: {what} tensor {t} needs one scale and one zero point "
                               f"(per-tensor quantisation)")
        if not (s[0] > 0 and np.isfinite(s[0])) or not -128 <= z[0] <= 127:
            raise ConvertError(f"{where}: {what} tensor {t}: scale {float(s[0])!r} / zero point {int(z[0])} "
                               f"invalid (scale > 0, zero point in [-128, 127])")
        return float(s[0]), int(z[0])

    if sg.InputsLength() != 1 or sg.OutputsLength() != 1:
        raise ConvertError(f"{where}: {sg.InputsLength()} inputs and {sg.OutputsLength()} outputs; "
                           f"only one input and one output are supported")
    cur = int(sg.Inputs(0))
    out_t = int(sg.Outputs(0))
    n_in = int(np.prod(tshape(cur))) if tshape(cur) else 1
    notes = []
    tensors: list = []
    layers: list = []

    def new_tensor(dtype, n, scale=1.0):
        tensors.append(Tensor(dtype, (n,), "activation", 0, float(scale)))
        return len(tensors) - 1

    cur_type = ttype(cur)
    if cur_type == "FLOAT32":
        cur_id = new_tensor("f32", n_in)
    elif cur_type == "INT8":
        s, z = scalar_q(cur, "input")
        cur_id = new_tensor("s8", n_in, s)
        notes.append(f"input: int8, scale {s:g}, zero point {z} (real = scale x (q - zero point))")
    else:
        raise ConvertError(f"{where}: model input tensor {cur} is {cur_type}; supported: FLOAT32, INT8")
    n = n_in
    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        oc = model.OperatorCodes(op.OpcodeIndex())
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        name = op_names.get(code, f"builtin {code}")
        if name == "CUSTOM":
            cc = oc.CustomCode()
            name = f"CUSTOM ({cc.decode() if cc else '?'})"
        p = f"{where}: operator {k} ({name})"
        if name not in SUPPORTED_OPS:
            raise ConvertError(f"{p} is not supported; supported: {', '.join(SUPPORTED_OPS)} "
                               f"(int8, as one chain)")
        ins = [int(v) for v in op.InputsAsNumpy()] if op.InputsLength() else []
        outs = [int(v) for v in op.OutputsAsNumpy()] if op.OutputsLength() else []
        if not ins or ins[0] != cur or len(outs) != 1:
            raise ConvertError(f"{p}: does not continue the chain from tensor {cur} with one output "
                               f"(inputs {ins}, outputs {outs}); only chains are supported")
        o = outs[0]
        m = int(np.prod(tshape(o))) if tshape(o) else 1
        if name == "RESHAPE":
            if m != n or ttype(o) != ttype(cur):
                raise ConvertError(f"{p}: changes {n} {ttype(cur)} elements into {m} {ttype(o)}")
            if ttype(o) == "INT8" and scalar_q(o, "output") != scalar_q(cur, "input"):
                raise ConvertError(f"{p}: changes the quantisation (not supported)")
            cur = o
            continue
        if name == "QUANTIZE":
            if ttype(cur) != "FLOAT32" or ttype(o) != "INT8" or layers:
                raise ConvertError(f"{p}: only float32 -> int8 at the model input is supported "
                                   f"(here {ttype(cur)} -> {ttype(o)})")
            s, z = scalar_q(o, "output")
            y = new_tensor("s8", n, s)
            layers.append(Layer("input_s8", cur_id, y, n, n, [np.array([z], np.int32)]))
            notes.append(f"QUANTIZE: float32 -> int8, scale {s:g}, zero point {z}")
        elif name == "DEQUANTIZE":
            if ttype(cur) != "INT8" or ttype(o) != "FLOAT32" or o != out_t:
                raise ConvertError(f"{p}: only int8 -> float32 at the model output is supported "
                                   f"(here {ttype(cur)} -> {ttype(o)})")
            s, z = scalar_q(cur, "input")
            y = new_tensor("f32", n)
            layers.append(Layer("dequant_s8", cur_id, y, n, n, [np.array([z], np.int32)]))
        else:  # FULLY_CONNECTED
            if len(ins) < 2 or ttype(cur) != "INT8" or ttype(ins[1]) != "INT8" or ttype(o) != "INT8":
                raise ConvertError(f"{p}: needs int8 input, weights and output (got "
                                   f"{ttype(cur)}, {ttype(ins[1]) if len(ins) > 1 else '-'}, {ttype(o)}); "
                                   f"float or hybrid models are not supported: quantise fully to int8")
            s_in, z_in = scalar_q(cur, "input")
            s_out, z_out = scalar_q(o, "output")
            wshape = tshape(ins[1])
            w = tdata(ins[1], np.int8)
            if len(wshape) != 2 or wshape[1] != n or w is None or w.size != wshape[0] * wshape[1]:
                raise ConvertError(f"{p}: weights of shape {wshape} (constant, [n_out, {n}]) needed")
            n_out = wshape[0]
            if m != n_out:
                raise ConvertError(f"{p}: output of {m} elements, expected {n_out} (batch 1)")
            ws, wz, qdim = tquant(ins[1])
            if ws is None or ws.size not in (1, n_out) or (ws.size > 1 and qdim != 0):
                raise ConvertError(f"{p}: weight scales must be one per tensor or one per output "
                                   f"(quantized_dimension 0)")
            if np.any(wz != 0):
                raise ConvertError(f"{p}: weight zero points must be 0 (TFLite int8 is symmetric)")
            opts = op.BuiltinOptions()
            act = "NONE"
            if opts is not None:
                fo = tfl.FullyConnectedOptions()
                fo.Init(opts.Bytes, opts.Pos)
                act = act_names.get(fo.FusedActivationFunction(), str(fo.FusedActivationFunction()))
                if fo.KeepNumDims() and m != n_out:
                    raise ConvertError(f"{p}: keep_num_dims with a batch is not supported")
            if act not in ACTIVATIONS:
                raise ConvertError(f"{p}: fused activation {act} is not supported; supported: "
                                   f"{', '.join(ACTIVATIONS)}")
            bias = None
            if len(ins) > 2 and ins[2] >= 0:
                if ttype(ins[2]) != "INT32":
                    raise ConvertError(f"{p}: bias is {ttype(ins[2])}, expected INT32")
                bias = tdata(ins[2], "<i4")
                if bias is None or bias.size != n_out:
                    raise ConvertError(f"{p}: bias needs {n_out} constant int32 values")
            if ws.size == 1:
                reals = [float(np.float32(s_in) * np.float32(ws[0])) / float(np.float32(s_out))]
            else:
                reals = [float(np.float32(s_in)) * float(c) / float(np.float32(s_out)) for c in ws]
            mq = [quantize_multiplier(r) for r in reals]
            rq = np.array([a for a, _ in mq] + [b for _, b in mq], np.int32)

            def qv(f):      # TFLite: zero_point + (int)round(f / scale), float32 division
                v = float(np.float32(f) / np.float32(s_out))
                return z_out + int(math.copysign(math.floor(abs(v) + 0.5), v))
            lo, hi = -128, 127
            if act == "RELU":
                lo = max(lo, qv(0.0))
            elif act == "RELU6":
                lo, hi = max(lo, qv(0.0)), min(hi, qv(6.0))
            elif act == "RELU_N1_TO_1":
                lo, hi = max(lo, qv(-1.0)), min(hi, qv(1.0))
            if lo > hi:
                raise ConvertError(f"{p}: activation range [{lo}, {hi}] is empty")
            y = new_tensor("s8", n_out, s_out)
            layers.append(Layer("fc_s8", cur_id, y, n, n_out,
                                [w.reshape(n_out, n), bias, rq, np.array([-z_in, z_out, lo, hi], np.int32)]))
            n = n_out
        cur = o
        cur_id = len(tensors) - 1
    if cur != out_t:
        raise ConvertError(f"{where}: the chain ends at tensor {cur}, not at the model output {out_t}")
    if not layers:
        raise ConvertError(f"{where}: the model has no supported layers")
    if ttype(out_t) == "INT8":
        s, z = scalar_q(out_t, "output")
        notes.append(f"output: int8, scale {s:g}, zero point {z} (real = scale x (q - zero point))")
    notes.append("int8 arithmetic exactly as TFLite's reference FULLY_CONNECTED (eh_fc_s8)")
    return Int8Import(n_in, layers, tensors, notes)
