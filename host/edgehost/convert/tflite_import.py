"""The TFLite / LiteRT importer: an int8 `.tflite` model (MLP or CNN) -> an int8 `.ehm` blob.

Reads the flatbuffer with the `tflite` package (the pure-Python schema; no TensorFlow):
`pip install 'edgehost[import]'`. The model is already quantised, so nothing is re-quantised:
the blob runs TFLite's integer arithmetic exactly (`eh_fc_s8`, kernels_c/include/eh_basic.h;
`eh_conv2d_s8`, `eh_maxpool2d_s8`, `eh_avgpool2d_s8`, kernels_c/include/eh_conv2d.h).

Supported, as one chain in subgraph 0:
    FULLY_CONNECTED  int8 input, int8 weights (zero point 0; per-tensor or per-channel scales on
                     dimension 0), int32 bias or none, int8 output; fused activation NONE, RELU,
                     RELU6, RELU_N1_TO_1 (a clamp of the int8 output, as TFLite does it)
                     -> fc_s8
    CONV_2D,         1-D convolutions: input [1, 1, W, C_in] with kernel height 1 (or [1, H, 1, C_in]
    DEPTHWISE_CONV_2D  with kernel width 1); int8 as FULLY_CONNECTED (per-channel scales on dimension
                     0, or 3 for depthwise); stride, dilation, SAME / VALID padding, groups
                     (C_in / filter channels) and the depth multiplier honoured
                     -> fc_s8 holding the convolution's Toeplitz expansion (edgehost.convert.conv):
                     each output position is a row, the per-channel bias and requantisation
                     multiplier repeated for its rows. Padded taps: TFLite skips them (a padded
                     input is the zero point, (zp - zp) w = 0), which is exactly a dense row
                     without that column, so SAME with any input zero point is exact. The notes
                     give the bytes the expansion costs; above `max_conv_bytes` (default 256 KB)
                     the layer is refused by name.
                     2-D convolutions (any other input / kernel) -> conv2d_s8, NHWC as TFLite:
                     geometry [C_in, H_in, W_in, C_out, KH, KW, stride h/w, pad top/left/bottom/
                     right, dilation h/w, groups], the filter as stored ([C_out][KH][KW][C_in /
                     groups]; a depthwise filter [1][KH][KW][C_out] is transposed to
                     [C_out][KH][KW][1] with groups = C_in), the bias, per-tensor or per-channel
                     requantisation followed by the offsets and the fused clamp (edgehost.ops.
                     conv2d_s8 for the record); SAME padding as TFLite's
                     ComputePaddingHeightWidth (total = max((out - 1) stride + dil (k - 1) + 1 - in,
                     0), before = total // 2, after = the rest); the computed output size must be
                     the output tensor's, else an error naming the operator
    MAX_POOL_2D,     int8, SAME or VALID, fused activation as above -> maxpool2d_s8 / avgpool2d_s8
    AVERAGE_POOL_2D  (padding taps not counted; the average rounded half away from zero, as
                     TFLite). TFLite's int8 pooling does not requantise: the output scale and zero
                     point must be the input's, else the operator is refused by name
    RESHAPE          (the element count stays the same; a batch of 1) -> nothing; a [1, H, W, C]
                     tensor flattened for FULLY_CONNECTED keeps TFLite's NHWC order, which is the
                     blob's order too. A target shape computed in the graph (Keras' Flatten exports
                     SHAPE -> STRIDED_SLICE -> PACK) is left out with those operators (SHAPE_OPS:
                     int32 shape metadata only, said in the notes)
    QUANTIZE         float32 -> int8 at the model input -> input_s8
    DEQUANTIZE       int8 -> float32 at the model output -> dequant_s8
    SOFTMAX          only as the last operator (a DEQUANTIZE may follow) and only when asked
                     (load_tflite(strip_softmax=True), `edgehost convert --strip-softmax`): left
                     out, so the blob outputs the int8 scores that went into it, with their own
                     scale and zero point (said in the notes). Softmax keeps the order of the scores,
                     so the predicted class (the argmax) is the same, without the ties that its
                     int8 output (steps of 1/256) adds. Without the flag: an error saying so.
Anything else: an error naming the op and listing these.

The requantisation multipliers are computed as TFLite computes them (its Prepare): per tensor
real = (double)(float)(s_in * s_w) / s_out, per channel real = s_in * s_w[c] / s_out in double,
then QuantizeMultiplier (frexp, Q31 mantissa rounded, shift = exponent); convolutions use the
double formula for per-tensor scales too (PopulateConvolutionQuantizationParams).
A model whose input is int8 takes int8 on the device (the blob's input tensor is s8 with the
model's input scale; its zero point is in the report's notes); likewise for the output.
"""
from __future__ import annotations

import math
import traceback

import numpy as np

from ..blob import Layer, Model, Tensor
from . import conv as C
from .lower import ConvertError
from .planner import plan

SUPPORTED_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE",
                 "QUANTIZE", "DEQUANTIZE")
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


#: operators that may compute a RESHAPE's target shape from a tensor's shape (int32 metadata, no values)
SHAPE_OPS = ("SHAPE", "STRIDED_SLICE", "SLICE", "PACK", "CONCATENATION", "GATHER", "CAST")


def shape_subgraph(where, n_ops, op_name, op_at, tensors_of, ttype) -> set:
    """The operators that only compute the target shape of a RESHAPE (its input 1), as TFLite's
    converter writes Keras' Flatten: SHAPE of the activation, STRIDED_SLICE of the batch, PACK with
    -1. Only SHAPE_OPS with int32 / int64 outputs may do that; anything else is refused by name."""
    producer = {}
    for k in range(n_ops):
        for t in tensors_of(op_at(k), inputs=False):
            producer[t] = k
    todo = [tensors_of(op_at(k))[1] for k in range(n_ops)
            if op_name(k) == "RESHAPE" and len(tensors_of(op_at(k))) > 1 and tensors_of(op_at(k))[1] >= 0]
    found: set = set()
    while todo:
        k = producer.get(todo.pop())
        if k is None or k in found:
            continue
        name = op_name(k)
        outs = tensors_of(op_at(k), inputs=False)
        if name not in SHAPE_OPS or any(ttype(t) not in ("INT32", "INT64") for t in outs):
            raise ConvertError(f"{where}: operator {k} ({name}) computes a RESHAPE's target shape; only "
                               f"{', '.join(SHAPE_OPS)} on int32 / int64 shapes are supported there")
        found.add(k)
        if name != "SHAPE":          # SHAPE reads only its input's shape: the activation is not followed
            todo += [t for t in tensors_of(op_at(k)) if t >= 0]
    return found


def load_tflite(source, max_conv_bytes: int = C.MAX_DENSE_BYTES, strip_softmax: bool = False) -> Int8Import:
    """Import a .tflite file (path or bytes). max_conv_bytes: the largest int8 dense matrix a
    1-D convolution may expand to. strip_softmax: leave out a SOFTMAX that ends the model (the
    blob outputs its input scores; see the module docstring). A damaged or truncated file (the
    flatbuffer reader fails on it) is a ConvertError naming the file."""
    try:
        return _load_tflite(source, max_conv_bytes, strip_softmax)
    except ConvertError:
        raise
    except Exception as e:  # noqa: BLE001 - only the flatbuffer reader's own failures are the file's
        frames = traceback.extract_tb(e.__traceback__)
        if not frames or not any(part in frames[-1].filename for part in ("/flatbuffers/", "/tflite/")):
            raise
        where = "tflite model" if isinstance(source, (bytes, bytearray)) else str(source)
        raise ConvertError(f"{where}: damaged or truncated TFLite flatbuffer (its reader failed: "
                           f"{type(e).__name__}: {e})") from None


def _load_tflite(source, max_conv_bytes: int, strip_softmax: bool) -> Int8Import:
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
    def requant(reals, rows=None):
        """[mult..., shift...] for the reals; with `rows`, each repeated for its rows."""
        mq = [quantize_multiplier(r) for r in reals]
        mult = np.array([a for a, _ in mq], np.int64)
        shift = np.array([b for _, b in mq], np.int64)
        if rows is not None:
            mult, shift = rows(mult), rows(shift)
        return np.concatenate([mult, shift]).astype(np.int32)

    def act_range(p, act, s_out, z_out):
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
        return lo, hi

    def conv_quant(p, ins, o, c_out, depthwise):
        """A convolution's quantisation: input and output scale / zero point, the filter scales
        (per tensor or per output channel) and the int32 bias or None, each checked."""
        s_in, z_in = scalar_q(cur, "input")
        s_out, z_out = scalar_q(o, "output")
        ws, wz, qdim = tquant(ins[1])
        if ws is None or ws.size not in (1, c_out) or (ws.size > 1 and qdim != (3 if depthwise else 0)):
            raise ConvertError(f"{p}: filter scales must be one per tensor or one per output channel "
                               f"(quantized_dimension {3 if depthwise else 0})")
        if np.any(wz != 0):
            raise ConvertError(f"{p}: weight zero points must be 0 (TFLite int8 is symmetric)")
        return s_in, z_in, s_out, z_out, ws, read_bias(p, ins, c_out)

    def read_bias(p, ins, n):
        """The operator's optional int32 bias (input 2) of n constant values, or None."""
        if len(ins) <= 2 or ins[2] < 0:
            return None
        if ttype(ins[2]) != "INT32":
            raise ConvertError(f"{p}: bias is {ttype(ins[2])}, expected INT32")
        bias = tdata(ins[2], "<i4")
        if bias is None or bias.size != n:
            raise ConvertError(f"{p}: bias needs {n} constant int32 values")
        return bias

    def op_options(p, op, cls, what):
        """The operator's builtin options read as `cls`, with its fused activation and padding
        ("SAME" or "VALID") checked: (options, activation name, padding)."""
        opts = op.BuiltinOptions()
        if opts is None:
            raise ConvertError(f"{p}: no options ({what})")
        o = cls()
        o.Init(opts.Bytes, opts.Pos)
        act = act_names.get(o.FusedActivationFunction(), str(o.FusedActivationFunction()))
        if act not in ACTIVATIONS:
            raise ConvertError(f"{p}: fused activation {act} is not supported; supported: {', '.join(ACTIVATIONS)}")
        pad = {tfl.Padding.SAME: "SAME", tfl.Padding.VALID: "VALID"}.get(o.Padding())
        if pad is None:
            raise ConvertError(f"{p}: padding {o.Padding()} is not supported; supported: SAME, VALID")
        return o, act, pad

    def conv2d(p, name, co, act, pad, ins, o, ish, wsh, osh):
        """CONV_2D / DEPTHWISE_CONV_2D over both spatial axes -> conv2d_s8 (NHWC, TFLite's order)."""
        depthwise = name == "DEPTHWISE_CONV_2D"
        _, h, wd, c_in = ish
        kh, kw = wsh[1], wsh[2]
        c_out = wsh[3] if depthwise else wsh[0]
        sh, sw_, dh, dw = co.StrideH(), co.StrideW(), co.DilationHFactor(), co.DilationWFactor()
        if min(sh, sw_) < 1 or min(dh, dw) < 1 or min(kh, kw) < 1 or min(h, wd, c_in, c_out) < 1:
            raise ConvertError(f"{p}: strides {sh} x {sw_}, dilations {dh} x {dw}, kernel {kh} x {kw}, "
                               f"input {h} x {wd} x {c_in}, {c_out} output channels: each must be >= 1")
        h_out, pt, pb = tfl_padding(p, h, kh, sh, dh, pad, "height")
        w_out, pl, pr = tfl_padding(p, wd, kw, sw_, dw, pad, "width")
        if osh != [1, h_out, w_out, c_out]:
            raise ConvertError(f"{p}: output shape {osh}, expected {[1, h_out, w_out, c_out]} (input {ish}, "
                               f"kernel {kh} x {kw}, strides {sh} x {sw_}, dilations {dh} x {dw}, {pad})")
        w = tdata(ins[1], np.int8)
        if w is None or w.size != int(np.prod(wsh)):
            raise ConvertError(f"{p}: the filter must be a constant int8 tensor of shape {wsh}")
        w = w.reshape(wsh)
        if depthwise:
            mult = co.DepthMultiplier()
            if c_out % c_in or (mult not in (0, c_out // c_in)):
                raise ConvertError(f"{p}: {c_out} output channels with depth multiplier {mult} over {c_in} "
                                   f"input channels (need C_out = C_in x multiplier)")
            groups = c_in
            wk = np.ascontiguousarray(w[0].transpose(2, 0, 1)[..., None])     # [C_out][KH][KW][1]
        else:
            if c_in % wsh[3]:
                raise ConvertError(f"{p}: filter of {wsh[3]} input channels does not divide the input's {c_in}")
            groups = c_in // wsh[3]
            if c_out % groups:
                raise ConvertError(f"{p}: {c_out} output channels do not split into {groups} groups")
            wk = np.ascontiguousarray(w)                                      # [C_out][KH][KW][C_in / groups]
        s_in, z_in, s_out, z_out, ws, bias = conv_quant(p, ins, o, c_out, depthwise)
        reals = [float(np.float32(s_in)) * float(c) / float(np.float32(s_out)) for c in ws]
        rq = requant(reals)
        lo, hi = act_range(p, act, s_out, z_out)
        n_in_, n_out_ = h * wd * c_in, h_out * w_out * c_out
        y = new_tensor("s8", n_out_, s_out)
        geom = np.array([c_in, h, wd, c_out, kh, kw, sh, sw_, pt, pl, pb, pr, dh, dw, groups], np.uint32)
        layers.append(Layer("conv2d_s8", cur_id, y, n_in_, n_out_,
                            [geom, wk.ravel(), None if bias is None else bias.astype(np.int32),
                             np.concatenate([rq, np.array([-z_in, z_out, lo, hi], np.int32)])]))
        notes.append(f"operator {op_index[0]} ({name}): {h} x {wd} x {c_in} -> {h_out} x {w_out} x {c_out}, "
                     f"kernel {kh} x {kw}, stride {sh} x {sw_}, dilation {dh} x {dw}, {pad} (pad top {pt}, "
                     f"left {pl}, bottom {pb}, right {pr}), groups {groups} -> conv2d_s8: {wk.size} B of "
                     f"weights" + (f", {c_out * 4} B of bias" if bias is not None else "")
                     + f", {'per-channel' if ws.size > 1 else 'per-tensor'} requantisation")
        return n_out_

    def tfl_padding(p, size, k, stride, dil, pad, axis):
        """TFLite's ComputeOutSize and ComputePaddingHeightWidth: (out, pad_before, pad_after)."""
        span = dil * (k - 1) + 1
        out = (size + stride - 1) // stride if pad == "SAME" else (size + stride - span) // stride
        if out < 1:
            raise ConvertError(f"{p}: no output along the {axis}: input {size}, kernel span {span}, {pad}")
        total = max((out - 1) * stride + span - size, 0)
        return out, total // 2, total - total // 2

    def pool_op(p, name, op, ins, o, n):
        """MAX_POOL_2D / AVERAGE_POOL_2D, int8 -> maxpool2d_s8 / avgpool2d_s8."""
        if ttype(cur) != "INT8" or ttype(o) != "INT8":
            raise ConvertError(f"{p}: needs int8 input and output (got {ttype(cur)}, {ttype(o)})")
        ish, osh = tshape(cur), tshape(o)
        if len(ish) != 4 or ish[0] != 1 or int(np.prod(ish)) != n:
            raise ConvertError(f"{p}: input shape {ish}, expected [1, H, W, C] with {n} elements")
        po, act, pad = op_options(p, op, tfl.Pool2DOptions, "filter size, padding, strides")
        _, h, wd, c = ish
        kh, kw, sh, sw_ = po.FilterHeight(), po.FilterWidth(), po.StrideH(), po.StrideW()
        if min(kh, kw, sh, sw_) < 1:
            raise ConvertError(f"{p}: filter {kh} x {kw} and strides {sh} x {sw_} must be >= 1")
        h_out, pt, pb = tfl_padding(p, h, kh, sh, 1, pad, "height")
        w_out, pl, pr = tfl_padding(p, wd, kw, sw_, 1, pad, "width")
        if osh != [1, h_out, w_out, c]:
            raise ConvertError(f"{p}: output shape {osh}, expected {[1, h_out, w_out, c]} (input {ish}, "
                               f"filter {kh} x {kw}, strides {sh} x {sw_}, {pad})")
        s_in, z_in = scalar_q(cur, "input")
        s_out, z_out = scalar_q(o, "output")
        if np.float32(s_in) != np.float32(s_out) or z_in != z_out:
            raise ConvertError(f"{p}: output scale {s_out:g} / zero point {z_out} differ from the input's "
                               f"{s_in:g} / {z_in}; TFLite's int8 pooling needs them equal (no requantisation)")
        lo, hi = act_range(p, act, s_out, z_out)
        n_out_ = h_out * w_out * c
        y = new_tensor("s8", n_out_, s_out)
        kind = "maxpool2d_s8" if name == "MAX_POOL_2D" else "avgpool2d_s8"
        layers.append(Layer(kind, cur_id, y, n, n_out_,
                            [np.array([c, h, wd, kh, kw, sh, sw_, pt, pl, pb, pr], np.uint32),
                             np.array([lo, hi], np.int32)]))
        notes.append(f"operator {op_index[0]} ({name}): {h} x {wd} x {c} -> {h_out} x {w_out} x {c}, filter "
                     f"{kh} x {kw}, stride {sh} x {sw_}, {pad} (pad top {pt}, left {pl}, bottom {pb}, "
                     f"right {pr}) -> {kind}")
        return n_out_

    def conv_op(p, name, op, ins, o, m, n):
        """CONV_2D / DEPTHWISE_CONV_2D over one spatial axis -> an fc_s8 Toeplitz layer."""
        depthwise = name == "DEPTHWISE_CONV_2D"
        if len(ins) < 2 or ttype(cur) != "INT8" or ttype(ins[1]) != "INT8" or ttype(o) != "INT8":
            raise ConvertError(f"{p}: needs int8 input, weights and output (got "
                               f"{ttype(cur)}, {ttype(ins[1]) if len(ins) > 1 else '-'}, {ttype(o)}); "
                               f"float or hybrid models are not supported: quantise fully to int8")
        ish, wsh, osh = tshape(cur), tshape(ins[1]), tshape(o)
        if len(ish) != 4 or ish[0] != 1 or int(np.prod(ish)) != n:
            raise ConvertError(f"{p}: input shape {ish}, expected [1, H, W, C_in] with {n} elements")
        if len(wsh) != 4 or (depthwise and wsh[0] != 1):
            raise ConvertError(f"{p}: filter shape {wsh}, expected "
                               + ("[1, KH, KW, C_out]" if depthwise else "[C_out, KH, KW, C_in / groups]"))
        _, h, wd, c_in = ish
        kh, kw = wsh[1], wsh[2]
        c_out = wsh[3] if depthwise else wsh[0]
        co, act, pad = op_options(p, op, tfl.DepthwiseConv2DOptions if depthwise else tfl.Conv2DOptions,
                                  "padding, strides")
        if h == 1 and kh == 1:
            axis, length, k, stride, dil = "W", wd, kw, co.StrideW(), co.DilationWFactor()
        elif wd == 1 and kw == 1:
            axis, length, k, stride, dil = "H", h, kh, co.StrideH(), co.DilationHFactor()
        else:
            return conv2d(p, name, co, act, pad, ins, o, ish, wsh, osh)
        other = co.StrideH() if axis == "W" else co.StrideW()
        if other < 1:
            raise ConvertError(f"{p}: stride {other} < 1")
        w = tdata(ins[1], np.int8)
        if w is None or w.size != int(np.prod(wsh)):
            raise ConvertError(f"{p}: the filter must be a constant int8 tensor of shape {wsh}")
        w = w.reshape(wsh)
        w = w[:, 0, :, :] if axis == "W" else w[:, :, 0, :]         # [C_out | 1, K, C]
        if depthwise:
            mult = co.DepthMultiplier()
            if c_out % c_in or (mult not in (0, c_out // c_in)):
                raise ConvertError(f"{p}: {c_out} output channels with depth multiplier {mult} over {c_in} "
                                   f"input channels (need C_out = C_in x multiplier)")
            groups = c_in
            wk = np.ascontiguousarray(w[0].T[:, None, :])            # (C_out, 1, K)
        else:
            if c_in % wsh[3]:
                raise ConvertError(f"{p}: filter of {wsh[3]} input channels does not divide the input's {c_in}")
            groups = c_in // wsh[3]
            wk = np.ascontiguousarray(w.transpose(0, 2, 1))            # (C_out, C_in / groups, K)
        try:
            sp = C.spec(wk.shape, length, stride, pad.lower(), dil, groups)
            nb = C.check_size(sp, 1, p, max_conv_bytes)
        except C.ConvParamError as e:
            msg = str(e)
            raise ConvertError(msg if msg.startswith(p) else f"{p}: {msg}") from None
        rows, cols = sp.shape
        want = [1, 1, sp.l_out, c_out] if axis == "W" else [1, sp.l_out, 1, c_out]
        if osh != want:
            raise ConvertError(f"{p}: output shape {osh}, expected {want}")
        s_in, z_in, s_out, z_out, ws, bias = conv_quant(p, ins, o, c_out, depthwise)
        dense, bd = C.toeplitz(wk, sp, bias, "lc")
        reals = [float(np.float32(s_in)) * float(c) / float(np.float32(s_out)) for c in ws]
        rq = requant(reals, None if ws.size == 1 else (lambda v: C.per_row(v, sp, "lc")))
        lo, hi = act_range(p, act, s_out, z_out)
        y = new_tensor("s8", rows, s_out)
        layers.append(Layer("fc_s8", cur_id, y, cols, rows,
                            [dense, None if bd is None else bd.astype(np.int32), rq,
                             np.array([-z_in, z_out, lo, hi], np.int32)]))
        notes.append(f"operator {op_index[0]} ({name}): {sp.describe()} along {axis} lowered to a dense "
                     f"int8 {rows} x {cols} fc_s8: {nb} B of weights for {wk.size} filter weights"
                     + (f", {rows * 4} B of bias" if bias is not None else "")
                     + (f", {rq.size * 4} B of per-row requantisation" if ws.size > 1 else ""))
        return rows

    def op_name(k):
        oc = model.OperatorCodes(sg.Operators(k).OpcodeIndex())
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        name = op_names.get(code, f"builtin {code}")
        if name == "CUSTOM":
            cc = oc.CustomCode()
            name = f"CUSTOM ({cc.decode() if cc else '?'})"
        return name

    def tensors_of(op, inputs=True):
        n_ = op.InputsLength() if inputs else op.OutputsLength()
        return [int(v) for v in (op.InputsAsNumpy() if inputs else op.OutputsAsNumpy())] if n_ else []

    n_ops = sg.OperatorsLength()
    shape_ops = shape_subgraph(where, n_ops, op_name, lambda k: sg.Operators(k), tensors_of, ttype)
    if shape_ops:
        notes.append(f"operators {', '.join(f'{k} ({op_name(k)})' for k in sorted(shape_ops))} compute a "
                     "RESHAPE's target shape (Keras' Flatten with its batch dimension): left out, a batch of 1 "
                     "and the elements in the same order")
    op_index = [0]
    n = n_in
    alias: dict = {}      # a left-out SOFTMAX's output -> its input
    for k in range(n_ops):
        op_index[0] = k
        op = sg.Operators(k)
        name = op_name(k)
        if k in shape_ops:
            continue
        p = f"{where}: operator {k} ({name})"
        if name == "SOFTMAX":
            last = all(op_name(j) == "DEQUANTIZE" for j in range(k + 1, n_ops))
            if not strip_softmax or not last:
                raise ConvertError(f"{p} is not supported; supported: {', '.join(SUPPORTED_OPS)} (int8, as one "
                                   "chain)" + ("; a SOFTMAX that ends the model can be left out with "
                                               "--strip-softmax: the blob then outputs the scores that go into "
                                               "it, whose argmax (the class) is the same" if last else
                                               "; only a SOFTMAX that ends the model can be left out"))
            ins, outs = tensors_of(op), tensors_of(op, inputs=False)
            if not ins or ins[0] != cur or len(outs) != 1 or ttype(cur) != "INT8":
                raise ConvertError(f"{p}: only an int8 SOFTMAX continuing the chain can be left out")
            s_in, z_in = scalar_q(cur, "input")
            notes.append(f"operator {k} (SOFTMAX) left out (--strip-softmax): the model's outputs are the int8 "
                         f"scores that went into it, scale {s_in:g}, zero point {z_in}; their argmax is the "
                         f"class softmax would give (softmax keeps their order)")
            alias[outs[0]] = cur
            continue
        if name not in SUPPORTED_OPS:
            raise ConvertError(f"{p} is not supported; supported: {', '.join(SUPPORTED_OPS)} "
                               f"(int8, as one chain)")
        ins, outs = tensors_of(op), tensors_of(op, inputs=False)
        ins = [alias.get(v, v) if i == 0 else v for i, v in enumerate(ins)]
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
        elif name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            n = conv_op(p, name, op, ins, o, m, n)
        elif name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
            n = pool_op(p, name, op, ins, o, n)
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
            bias = read_bias(p, ins, n_out)
            if ws.size == 1:
                reals = [float(np.float32(s_in) * np.float32(ws[0])) / float(np.float32(s_out))]
            else:
                reals = [float(np.float32(s_in)) * float(c) / float(np.float32(s_out)) for c in ws]
            rq = requant(reals)
            lo, hi = act_range(p, act, s_out, z_out)
            y = new_tensor("s8", n_out, s_out)
            layers.append(Layer("fc_s8", cur_id, y, n, n_out,
                                [w.reshape(n_out, n), bias, rq, np.array([-z_in, z_out, lo, hi], np.int32)]))
            n = n_out
        cur = o
        cur_id = len(tensors) - 1
    if alias.get(out_t) == cur:       # the model ends with the left-out SOFTMAX
        out_t = cur
    if cur != out_t:
        raise ConvertError(f"{where}: the chain ends at tensor {cur}, not at the model output {out_t}")
    if not layers:
        raise ConvertError(f"{where}: the model has no supported layers")
    if ttype(out_t) == "INT8":
        s, z = scalar_q(out_t, "output")
        notes.append(f"output: int8, scale {s:g}, zero point {z} (real = scale x (q - zero point))")
    notes.append("int8 arithmetic exactly as TFLite's reference kernels (FULLY_CONNECTED and CONV_2D with "
                 "eh_fc_s8's requantisation)")
    return Int8Import(n_in, layers, tensors, notes)
