"""LiteRT/TFLite int8 2-D CNN import: CONV_2D and DEPTHWISE_CONV_2D over both spatial axes ->
conv2d_s8, MAX_POOL_2D / AVERAGE_POOL_2D -> maxpool2d_s8 / avgpool2d_s8, RESHAPE (NHWC flatten) and
FULLY_CONNECTED -> fc_s8 (edgehost.convert.tflite_import).

The .tflite CNNs are built here with the flatbuffers writer of tests/test_convert_tflite.py, with
real quantisation (scales and zero points from the activation ranges of a float forward pass,
symmetric int8 weights per channel or per tensor, int32 biases at s_in s_w). The checks:

- the blob on the host interpreter (numpy twins and C kernels), every layer and the output, is
  bit-exact with an independent numpy transcription of TFLite's reference int8 kernels written
  here (ConvPerChannel, DepthwiseConvPerChannel, MaxPool, AveragePool and FULLY_CONNECTED, with
  the double rounding of MultiplyByQuantizedMultiplier that eh_fc_s8 implements, padding from
  ComputePaddingHeightWidth);
- LiteRT (ai-edge-litert, the framework's own interpreter, XNNPACK and its reference kernels) on
  the same .tflite, layer by layer (each layer fed LiteRT's own input to it): the pools are
  bit-exact, the convolutions and the dense layer within 1 LSB (LiteRT rounds once where the
  blob rounds twice: see tests/test_convert_tflite.py); end to end the difference is measured;
- the firmware's loader and interpreter built natively, and the board (HIL), run the blob
  bit-exact; errors (unsupported op, pool requantisation, shape mismatch) name the operator.
"""
from __future__ import annotations

import importlib.metadata
import math
from pathlib import Path

import numpy as np
import pytest

flatbuffers = pytest.importorskip("flatbuffers")
tflite = pytest.importorskip("tflite")

from edgehost.blob import read  # noqa: E402
from edgehost.convert import ConvertError, build, load  # noqa: E402
from edgehost.convert.tflite_import import load_tflite  # noqa: E402
from edgehost.runtime import HostModel  # noqa: E402
from test_convert_tflite import (ACT, BO, TT, _qmult, _qparams, _requant, litert, litert_interpreter,  # noqa: E402
                                 reference, write_tflite)

if not any(ep.value == "edgehost.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11")):
    from edgehost.pytest_plugin import (device, edgehost_board, edgehost_board_name,  # noqa: F401,E402
                                        edgehost_device, edgehost_farm, pytest_generate_tests)

PAD = {"SAME": tflite.Padding.SAME, "VALID": tflite.Padding.VALID}


# ---------------------------------------------------------------------------------------------
# TFLite's geometry and its reference int8 kernels, transcribed (batch vectorised; Python ints
# for the requantisation)

def _out_pad(size, k, stride, dil, padding):
    """ComputeOutSize and ComputePaddingWithOffset: (out, pad_before)."""
    span = dil * (k - 1) + 1
    out = (size + stride - 1) // stride if padding == "SAME" else (size + stride - span) // stride
    total = max((out - 1) * stride + span - size, 0)
    return out, total // 2


def _act_range(act, s, z):
    """CalculateActivationRangeQuantized: zero point + std::round(f / scale) (float division)."""
    def q(f):
        v = float(np.float32(f) / np.float32(s))
        return z + int(math.copysign(math.floor(abs(v) + 0.5), v))
    lo, hi = -128, 127
    if act == ACT.RELU:
        lo = max(lo, q(0.0))
    elif act == ACT.RELU6:
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif act == ACT.RELU_N1_TO_1:
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


_REQ = {r: np.frompyfunc(lambda a, m, s, r=r: _requant(int(a), int(m), int(s), r), 3, 1)
        for r in ("double", "single")}


def ref_conv(x, L, rounding):
    """reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel on x (B, H, W, C_in)."""
    B, H, W, _ = x.shape
    kh, kw = L["k"]
    sh, sw = L["stride"]
    dh, dw = L["dil"]
    ho, pt = _out_pad(H, kh, sh, dh, L["padding"])
    wo, pl = _out_pad(W, kw, sw, dw, L["padding"])
    F = L["filt"].astype(np.int64)
    c_out = F.shape[3] if L["op"] == "dw" else F.shape[0]
    y = np.zeros((B, ho, wo, c_out), np.int64)
    for oy in range(ho):
        for ox in range(wo):
            acc = np.zeros((B, c_out), np.int64)
            for ky in range(kh):
                iy = oy * sh - pt + dh * ky
                for kx in range(kw):
                    ix = ox * sw - pl + dw * kx
                    if not (0 <= iy < H and 0 <= ix < W):
                        continue            # TFLite: the padded taps are skipped
                    xv = x[:, iy, ix, :] - L["z_in"]                      # input_offset = -zp
                    if L["op"] == "dw":     # output channel ic * multiplier + m reads input channel ic
                        acc += xv[:, np.arange(c_out) // L["mult"]] * F[0, ky, kx, :]
                    else:                   # filter [C_out][KH][KW][C_in / groups]
                        cg = F.shape[3]
                        og = c_out // (x.shape[3] // cg)
                        for o in range(c_out):
                            g = o // og
                            acc[:, o] += xv[:, g * cg:(g + 1) * cg] @ F[o, ky, kx, :]
            if L["b"] is not None:
                acc += L["b"].astype(np.int64)
            y[:, oy, ox, :] = acc
    sw_ = L["s_w"]
    ms = [_qmult(float(np.float32(L["s_in"])) * float(sw_[o if sw_.size > 1 else 0]) / float(np.float32(L["s_out"])))
          for o in range(c_out)]
    m = np.array([a for a, _ in ms], np.int64)
    s = np.array([b for _, b in ms], np.int64)
    v = _REQ[rounding](y, m, s).astype(np.int64) + L["z_out"]
    lo, hi = _act_range(L["act"], L["s_out"], L["z_out"])
    return np.clip(v, lo, hi)


def ref_pool(x, L):
    """reference_integer_ops::MaxPool / AveragePool on x (B, H, W, C): the window clipped to the
    input (padding not counted); the average rounded half away from zero (truncating division)."""
    B, H, W, C = x.shape
    kh, kw = L["k"]
    sh, sw = L["stride"]
    ho, pt = _out_pad(H, kh, sh, 1, L["padding"])
    wo, pl = _out_pad(W, kw, sw, 1, L["padding"])
    y = np.zeros((B, ho, wo, C), np.int64)
    for oy in range(ho):
        y0 = oy * sh - pt
        fy0, fy1 = max(0, -y0), min(kh, H - y0)
        for ox in range(wo):
            x0 = ox * sw - pl
            fx0, fx1 = max(0, -x0), min(kw, W - x0)
            win = x[:, y0 + fy0:y0 + fy1, x0 + fx0:x0 + fx1, :]
            if L["op"] == "maxpool":
                y[:, oy, ox, :] = win.max(axis=(1, 2))
            else:
                n = (fy1 - fy0) * (fx1 - fx0)
                acc = win.sum(axis=(1, 2))
                num = np.where(acc > 0, acc + n // 2, acc - n // 2)
                y[:, oy, ox, :] = np.sign(num) * (np.abs(num) // n)        # C division truncates
    lo, hi = _act_range(L["act"], L["s"], L["z"])
    return np.clip(y, lo, hi)


def ref_layer(x, L, rounding):
    """One layer of the chain on x (B, H, W, C) or (B, N) -> (B, ...) int64."""
    if L["op"] in ("conv", "dw"):
        return ref_conv(x.reshape((x.shape[0],) + L["in_shape"]), L, rounding)
    if L["op"] in ("maxpool", "avgpool"):
        return ref_pool(x.reshape((x.shape[0],) + L["in_shape"]), L)
    return reference(x.reshape(x.shape[0], -1).astype(np.int8), {"float_io": False, "layers": [L]},
                     rounding).astype(np.int64)


def ref_chain(xs, spec, rounding="double"):
    """Every layer's output (B, n) int8 for the inputs xs (B, n_in)."""
    x, outs = np.asarray(xs, np.int64), []
    for L in spec:
        x = ref_layer(x, L, rounding)
        outs.append(x.reshape(len(xs), -1).astype(np.int8))
    return outs


# ---------------------------------------------------------------------------------------------
# the models: a float CNN, its activation ranges on random inputs, quantised as TFLite's converter

def _fconv(X, W, b, groups, stride, dil, padding):
    B, H, Wd, C = X.shape
    c_out, kh, kw, cg = W.shape
    ho, pt = _out_pad(H, kh, stride[0], dil[0], padding)
    wo, pl = _out_pad(Wd, kw, stride[1], dil[1], padding)
    th = max((ho - 1) * stride[0] + dil[0] * (kh - 1) + 1 - H, 0)
    tw = max((wo - 1) * stride[1] + dil[1] * (kw - 1) + 1 - Wd, 0)
    Xp = np.pad(X, ((0, 0), (pt, th - pt), (pl, tw - pl), (0, 0)))
    og = c_out // groups
    Y = np.zeros((B, ho, wo, c_out)) + b
    for ky in range(kh):
        for kx in range(kw):
            xs = Xp[:, ky * dil[0]:ky * dil[0] + (ho - 1) * stride[0] + 1:stride[0],
                    kx * dil[1]:kx * dil[1] + (wo - 1) * stride[1] + 1:stride[1], :]
            for g in range(groups):
                Y[..., g * og:(g + 1) * og] += np.einsum("bhwc,oc->bhwo", xs[..., g * cg:(g + 1) * cg],
                                                         W[g * og:(g + 1) * og, ky, kx, :])
    return Y


def _fpool(X, kind, k, stride, padding):
    B, H, W, C = X.shape
    ho, pt = _out_pad(H, k[0], stride[0], 1, padding)
    wo, pl = _out_pad(W, k[1], stride[1], 1, padding)
    Y = np.zeros((B, ho, wo, C))
    for oy in range(ho):
        for ox in range(wo):
            y0, x0 = oy * stride[0] - pt, ox * stride[1] - pl
            win = X[:, max(y0, 0):min(y0 + k[0], H), max(x0, 0):min(x0 + k[1], W), :]
            Y[:, oy, ox] = win.max(axis=(1, 2)) if kind == "maxpool" else win.mean(axis=(1, 2))
    return Y


def _fact(Y, act):
    if act == ACT.RELU:
        return np.maximum(Y, 0)
    if act == ACT.RELU6:
        return np.clip(Y, 0, 6)
    if act == ACT.RELU_N1_TO_1:
        return np.clip(Y, -1, 1)
    return Y


def cnn_tflite(rng, in_hwc, layers, n_fc=None, x_shift=1.0, n_cal=64):
    """A chain of int8 conv / depthwise / pool layers (then RESHAPE + FULLY_CONNECTED to n_fc)
    with real quantisation. Returns (the .tflite bytes, the layer specs the reference takes,
    the calibration inputs quantised)."""
    X = rng.normal(size=(n_cal,) + tuple(in_hwc)) + x_shift
    s, z = _qparams(X.min(), X.max())
    T = []

    def t(shape, ty, data=None, scale=None, zp=None, qdim=0):
        T.append({"shape": [int(v) for v in shape], "type": ty, "data": data, "scale": scale, "zp": zp,
                  "qdim": qdim})
        return len(T) - 1

    x_in = cur = t([1] + list(in_hwc), TT.INT8, None, [s], [z])
    x_cal = np.clip(np.round(X / s) + z, -128, 127).astype(np.int8).reshape(n_cal, -1)
    F, ops, spec = X, [], []
    for L in layers:
        L = dict(L)
        kind, act, padding = L["op"], L.get("act", ACT.NONE), L.get("padding", "SAME")
        in_shape = F.shape[1:]
        k, stride = tuple(L.get("k", (3, 3))), tuple(L.get("stride", (1, 1)))
        if kind in ("conv", "dw"):
            dil = tuple(L.get("dil", (1, 1)))
            c_in = F.shape[3]
            mult = L.get("mult", 1)
            groups = c_in if kind == "dw" else L.get("groups", 1)
            c_out = c_in * mult if kind == "dw" else L["c_out"]
            cg = c_in // groups
            Wf = rng.normal(size=(c_out, k[0], k[1], cg)) / np.sqrt(k[0] * k[1] * cg)
            bf = rng.normal(size=c_out) * 0.2
            Y = _fact(_fconv(F, Wf, bf, groups, stride, dil, padding), act)
            so, zo = _qparams(Y.min(), Y.max())
            if L.get("per_channel", True):
                sw = (np.abs(Wf).reshape(c_out, -1).max(axis=1) / 127.0).astype(np.float32)
                q = np.round(Wf / sw[:, None, None, None])
            else:
                sw = np.full(1, np.float32(np.abs(Wf).max() / 127.0), np.float32)
                q = np.round(Wf / sw[0])
            q = np.clip(q, -127, 127).astype(np.int8)
            filt = np.ascontiguousarray(q[..., 0].transpose(1, 2, 0)[None]) if kind == "dw" else q
            qb = np.round(bf / (np.float32(s) * sw)).astype(np.int32) if L.get("bias", True) else None
            wt = t(filt.shape, TT.INT8, filt.tobytes(), list(map(float, sw)), [0] * sw.size, 3 if kind == "dw" else 0)
            bt = -1 if qb is None else t([c_out], TT.INT32, qb.tobytes(), list(map(float, np.float32(s) * sw)),
                                         [0] * sw.size, 0)
            out = t((1,) + Y.shape[1:], TT.INT8, None, [so], [zo])
            ops.append((BO.DEPTHWISE_CONV_2D if kind == "dw" else BO.CONV_2D,     # LiteRT: no bias = 2 inputs
                        [cur, wt] + ([bt] if bt >= 0 else []), [out],
                        {"padding": PAD[padding], "stride_h": stride[0], "stride_w": stride[1],
                         "dilation_h": dil[0], "dilation_w": dil[1], "act": act, "depth_multiplier": mult}))
            spec.append(dict(op=kind, in_shape=in_shape, k=k, stride=stride, dil=dil, padding=padding, mult=mult,
                             filt=filt, b=qb, s_in=s, z_in=z, s_w=sw, s_out=so, z_out=zo, act=act, t_out=out,
                             groups=groups))
            s, z = so, zo
        else:
            Y = _fact(_fpool(F, kind, k, stride, padding), act)
            out = t((1,) + Y.shape[1:], TT.INT8, None, [s], [z])      # int8 pools keep the quantisation
            ops.append((BO.MAX_POOL_2D if kind == "maxpool" else BO.AVERAGE_POOL_2D, [cur], [out],
                        {"padding": PAD[padding], "stride_h": stride[0], "stride_w": stride[1],
                         "filter_h": k[0], "filter_w": k[1], "act": act}))
            spec.append(dict(op=kind, in_shape=in_shape, k=k, stride=stride, padding=padding, act=act, s=s, z=z,
                             t_out=out))
        F, cur = Y, out
    if n_fc:
        n = int(np.prod(F.shape[1:]))
        Ff = F.reshape(len(F), n)           # NHWC flattened, as TFLite's RESHAPE
        W2 = rng.normal(size=(n_fc, n)) / np.sqrt(n)
        b2 = rng.normal(size=n_fc) * 0.1
        Yf = Ff @ W2.T + b2
        sy, zy = _qparams(Yf.min(), Yf.max())
        s2 = (np.abs(W2).max(axis=1) / 127.0).astype(np.float32)
        q2 = np.clip(np.round(W2 / s2[:, None]), -127, 127).astype(np.int8)
        qb2 = np.round(b2 / (np.float32(s) * s2)).astype(np.int32)
        shp = t([2], TT.INT32, np.array([1, n], np.int32).tobytes())
        flat = t([1, n], TT.INT8, None, [s], [z])
        w2 = t([n_fc, n], TT.INT8, q2.tobytes(), list(map(float, s2)), [0] * n_fc)
        bt2 = t([n_fc], TT.INT32, qb2.tobytes(), list(map(float, np.float32(s) * s2)), [0] * n_fc)
        y = t([1, n_fc], TT.INT8, None, [sy], [zy])
        ops += [(BO.RESHAPE, [cur, shp], [flat], None), (BO.FULLY_CONNECTED, [flat, w2, bt2], [y], ACT.NONE)]
        spec.append(dict(op="fc", w=q2, b=qb2, s_in=s, z_in=z, s_w=s2, s_out=sy, z_out=zy, act=ACT.NONE, t_out=y))
        cur = y
    return write_tflite(T, ops, [x_in], [cur]), spec, x_cal


def litert_layers(path, spec, resolver):
    """LiteRT on the model: every layer's output tensor per input (all tensors preserved)."""
    it = litert_interpreter(path, resolver, preserve_all_tensors=True)
    i = it.get_input_details()[0]

    def run(x):
        it.set_tensor(i["index"], np.asarray(x, np.int8).reshape(i["shape"]))
        it.invoke()
        return [it.get_tensor(L["t_out"]).ravel().copy() for L in spec]
    return run


def _inputs(rng, x_cal, n):
    """Inputs from the calibration distribution and uniform ones (extremes included)."""
    xs = np.concatenate([x_cal[:n // 2], rng.integers(-128, 128, size=(n - n // 2, x_cal.shape[1]))]).astype(np.int8)
    xs[-1], xs[-2] = -128, 127
    return xs


# ---------------------------------------------------------------------------------------------
# the cases

CASES = {
    # the brief's CNN: conv 3x3 SAME RELU, depthwise 3x3 stride 2 x2, max pool 2x2, conv 1x1,
    # average pool 3x3 SAME stride 2 (partial windows at the edges), flatten, dense
    "cnn": ((12, 12, 3), [dict(op="conv", c_out=8, k=(3, 3), act=ACT.RELU),
                          dict(op="dw", k=(3, 3), stride=(2, 2), mult=2),
                          dict(op="maxpool", k=(2, 2), stride=(2, 2), padding="VALID"),
                          dict(op="conv", c_out=6, k=(1, 1), act=ACT.RELU6),
                          dict(op="avgpool", k=(3, 3), stride=(2, 2))], 5),
    # dilation, VALID, per-tensor, an uneven stride, odd sizes
    "dilated_valid": ((11, 9, 4), [dict(op="conv", c_out=5, k=(3, 2), stride=(2, 1), dil=(2, 3), padding="VALID",
                                        per_channel=False, act=ACT.RELU),
                                   dict(op="avgpool", k=(2, 3), stride=(1, 2), padding="VALID")], 4),
    # depthwise with dilation and unequal strides, SAME max pool with a fused activation, grouped
    # conv with an even kernel (SAME pads more after than before), the conv as the model output
    "odd_same_grouped": ((7, 5, 2), [dict(op="dw", k=(5, 3), stride=(3, 2), dil=(1, 2), mult=3, per_channel=False,
                                          act=ACT.RELU_N1_TO_1),
                                     dict(op="maxpool", k=(3, 3), stride=(2, 2), act=ACT.RELU),
                                     dict(op="conv", c_out=4, k=(2, 2), groups=2)], None),
    # a height-1 input with a 3x3 kernel: both axes padded, so a 2-D layer (not the 1-D path)
    "height1_2d_kernel": ((1, 10, 3), [dict(op="conv", c_out=4, k=(3, 3), stride=(1, 2), act=ACT.RELU),
                                       dict(op="maxpool", k=(1, 2), stride=(1, 2), padding="VALID")], 3),
    # depthwise without bias (LiteRT: only its reference kernels, see NO_BIAS_RESOLVERS), an odd
    # input under a SAME 2 x 2 average pool (the last window is partial)
    "depthwise_no_bias": ((7, 9, 3), [dict(op="dw", k=(3, 3), bias=False, act=ACT.RELU),
                                      dict(op="avgpool", k=(2, 2), stride=(2, 2))], 4),
}
# LiteRT 2.3 and layers without bias: its int8 CONV_2D refuses them (conv.cc: has_bias), and its
# XNNPACK delegate (the AUTO resolver) crashes the process (segmentation fault) on an int8
# DEPTHWISE_CONV_2D without bias; its reference kernels run it.
NO_BIAS_RESOLVERS = ("BUILTIN_REF",)


def _build(tmp_path, case, seed):
    rng = np.random.default_rng(seed)
    shape, layers, n_fc = CASES[case]
    data, spec, x_cal = cnn_tflite(rng, shape, layers, n_fc)
    path = tmp_path / f"{case}.tflite"
    path.write_bytes(data)
    model, report = build(load(str(path)))
    return rng, path, model.to_bytes(), report, spec, x_cal


LAYER_TYPE = {"conv": "conv2d_s8", "dw": "conv2d_s8", "maxpool": "maxpool2d_s8", "avgpool": "avgpool2d_s8",
              "fc": "fc_s8"}


@pytest.mark.parametrize("case", list(CASES))
def test_cnn_int8_bit_exact_with_tflite_maths_and_litert(tmp_path, case):
    rng, path, blob, report, spec, x_cal = _build(tmp_path, case, 100 + len(case))
    m = read(blob)
    assert [l.type for l in m.layers] == [LAYER_TYPE[L["op"]] for L in spec]
    assert m.input_tensor.dtype == "s8" and m.input_tensor.scale == np.float32(spec[0].get("s_in", spec[0].get("s")))
    xs = _inputs(rng, x_cal, 48)
    want = ref_chain(xs, spec, "double")
    # the blob on both backends == the transcription, every layer bit for bit
    for backend in ("sim", "kernels"):
        got, trace = HostModel(blob, backend).run(xs)
        np.testing.assert_array_equal(got, want[-1])
        for i in range(len(spec)):
            np.testing.assert_array_equal(np.array([tr[i] for tr in trace]), want[i], err_msg=f"{backend} layer {i}")
    # the activations are not trivial
    for i, w in enumerate(want):
        assert len(np.unique(w)) > 5, (i, np.unique(w))
    # LiteRT, layer by layer on its own inputs: pools exact, convolutions and dense within 1 LSB;
    # measured: its reference conv kernels (BUILTIN_REF) round twice as the blob does, bit-exact
    worst = {}
    no_bias = any(L.get("b", 0) is None for L in spec)
    for resolver in NO_BIAS_RESOLVERS if no_bias else ("AUTO", "BUILTIN_REF"):
        run = litert_layers(path, spec, resolver)
        lt = [np.array(v) for v in zip(*[run(x) for x in xs])]
        prev = xs.astype(np.int64)
        for i, L in enumerate(spec):
            mine = ref_layer(prev, L, "double").reshape(len(xs), -1)
            d = np.abs(mine - lt[i].astype(np.int64))
            if L["op"] in ("maxpool", "avgpool") or (L["op"] != "fc" and resolver == "BUILTIN_REF"):
                assert d.max() == 0, f"{resolver} layer {i} ({L['op']}) differs from LiteRT"
            else:
                assert d.max() <= 1, f"{resolver} layer {i} ({L['op']}): {d.max()} LSB from LiteRT"
                assert np.mean(d > 0) < 0.05
            worst[(resolver, i)] = (int(d.max()), float(np.mean(d > 0)))
            prev = lt[i].astype(np.int64)
        end = np.abs(want[-1].astype(int) - lt[-1].astype(int))      # the blob vs LiteRT, end to end
        worst[(resolver, "end")] = (int(end.max()), float(np.mean(end > 0)))
        assert end.max() <= 3       # measured: 3 at most (one LSB per layer compounds)
    print(f"cnn {case}: LiteRT vs the transcription per layer and the blob end to end "
          f"(max LSB, share differing): {worst}")
    notes = "\n".join(report["notes"])
    assert "conv2d_s8" in notes or "pool2d_s8" in notes


def test_conv_without_bias_bit_exact(tmp_path):
    """int8 CONV_2D without bias (valid TFLite, though LiteRT's own CONV_2D refuses it): the blob
    (both backends) == the transcription, every layer."""
    rng = np.random.default_rng(8)
    data, spec, x_cal = cnn_tflite(rng, (6, 7, 4), [dict(op="conv", c_out=5, k=(3, 2), stride=(2, 2), bias=False,
                                                         act=ACT.RELU),
                                                    dict(op="conv", c_out=3, k=(2, 2), groups=1, padding="VALID",
                                                         per_channel=False, bias=False)], 3)
    model, _ = build(load_tflite(data))
    blob = model.to_bytes()
    assert [l.type for l in read(blob).layers] == ["conv2d_s8", "conv2d_s8", "fc_s8"]
    assert all(l.params[2] is None or len(l.params[2]) == 0 for l in read(blob).layers[:2])
    xs = _inputs(rng, x_cal, 40)
    want = ref_chain(xs, spec)
    for backend in ("sim", "kernels"):
        got, trace = HostModel(blob, backend).run(xs)
        for i in range(len(spec)):
            np.testing.assert_array_equal(np.array([tr[i] for tr in trace]), want[i], err_msg=f"{backend} layer {i}")
    assert len(np.unique(want[1])) > 5


def test_conv2d_record(tmp_path):
    """The conv2d_s8 / pool records: geometry, quantisation, the depthwise filter transposed."""
    rng = np.random.default_rng(4)
    data, spec, _ = cnn_tflite(rng, (9, 8, 3), [dict(op="dw", k=(3, 2), stride=(2, 1), dil=(1, 2), mult=2),
                                                dict(op="avgpool", k=(2, 2), stride=(2, 2), padding="SAME"),
                                                dict(op="conv", c_out=5, k=(2, 3), padding="VALID",
                                                     per_channel=False, bias=False)], None)
    layers = load_tflite(data).layers
    assert [l.type for l in layers] == ["conv2d_s8", "avgpool2d_s8", "conv2d_s8"]
    dw, pool, conv = layers
    d = spec[0]
    # SAME 9 x 8, kernel 3 x 2, stride 2 x 1, dilation 1 x 2: out 5 x 8; pad h: (4 2 + 3 - 9) = 2 ->
    # 1 / 1; w: (7 + 3 - 8) = 2 -> 1 / 1
    assert list(dw.params[0]) == [3, 9, 8, 6, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 3]
    assert dw.params[0].dtype == np.uint32 and (dw.n_in, dw.n_out) == (9 * 8 * 3, 5 * 8 * 6)
    w = dw.params[1].reshape(6, 3, 2, 1)
    assert dw.params[1].dtype == np.int8
    for o in range(6):
        np.testing.assert_array_equal(w[o, :, :, 0], d["filt"][0, :, :, o])
    np.testing.assert_array_equal(dw.params[2], d["b"])
    rq = dw.params[3]      # mult[6], shift[6], x_offset, y_offset, act_min, act_max
    assert rq.dtype == np.int32 and rq.size == 16
    assert list(rq[12:]) == [-d["z_in"], d["z_out"], -128, 127]
    for o in range(6):
        assert (rq[o], rq[6 + o]) == _qmult(float(np.float32(d["s_in"])) * float(d["s_w"][o])
                                            / float(np.float32(d["s_out"])))
    # pool: 5 x 8 SAME 2 x 2 stride 2 -> 3 x 4, pad h (2 2 + 2 - 5) = 1 -> 0 / 1, w 0
    assert list(pool.params[0]) == [6, 5, 8, 2, 2, 2, 2, 0, 0, 1, 0] and list(pool.params[1]) == [-128, 127]
    assert (pool.n_in, pool.n_out) == (5 * 8 * 6, 3 * 4 * 6)
    c = spec[2]
    assert list(conv.params[0]) == [6, 3, 4, 5, 2, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(conv.params[1], c["filt"].ravel())
    assert conv.params[2] is None
    assert list(conv.params[3]) == list(_qmult(float(np.float32(c["s_in"])) * float(c["s_w"][0])
                                               / float(np.float32(c["s_out"])))) + [-c["z_in"], c["z_out"], -128, 127]


def test_c_loader_runs_cnn_blob_bit_exact(tmp_path):
    """The firmware's loader and interpreter (native, ASan+UBSan) on the CNN blob."""
    from edgehost.runtime.native import CTool, build_tool
    rng, path, blob, _, spec, x_cal = _build(tmp_path, "cnn", 7)
    tool = CTool(build_tool(str(tmp_path / "tool")))
    xs = _inputs(rng, x_cal, 24)
    yc, tc = tool.run(blob, xs)
    want = ref_chain(xs, spec, "double")
    np.testing.assert_array_equal(yc, want[-1])
    seen = set()
    for t in range(len(xs)):
        for i in range(len(spec)):
            if tc[t][i] is not None:       # None: the arena plan reused the bytes later in the step
                np.testing.assert_array_equal(tc[t][i], want[i][t])
                seen.add(i)
    assert len(seen) >= 3, seen


@pytest.mark.hil
@pytest.mark.edgehost_boards("mps2-an386")
def test_cnn_model_on_device_bit_exact(device, tmp_path):
    """The int8 CNNs on the board == TFLite's maths, output and every layer of the last step."""
    if not device.info.model_support:
        pytest.fail("firmware built without model support (firmware/model missing at build time)")
    ran = 0
    for case in ("cnn", "odd_same_grouped"):
        rng, path, blob, _, spec, x_cal = _build(tmp_path, case, 31)
        m = read(blob)
        res = device.load_model(blob)
        if m.input_tensor.nbytes > device.info.max_payload:
            # a board with small frames (micro:bit: 256 B) cannot take the 432-byte image in one STEP
            with pytest.raises(ValueError, match="exceeds the device's maximum"):
                device.step(bytes(m.input_tensor.nbytes))
            continue
        ran += 1
        assert res.model_hash == m.model_hash and res.n_layers == len(m.layers)
        xs = _inputs(rng, x_cal, 8)
        want = ref_chain(xs, spec, "double")
        for t in range(len(xs)):
            s = device.step(xs[t])
            np.testing.assert_array_equal(np.frombuffer(s.output, dtype=np.int8), want[-1][t])
        for i, got in enumerate(device.trace()):
            if got.data is not None:
                np.testing.assert_array_equal(np.frombuffer(got.data, dtype=np.int8), want[i][-1])
    assert ran >= 1


# ---------------------------------------------------------------------------------------------
# errors: each a ConvertError naming the operator

def _q(shape, scale=0.1, zp=0, ty=TT.INT8, data=None):
    return {"shape": shape, "type": ty, "scale": [scale], "zp": [zp], "data": data}


def test_unsupported_ops_named():
    supported = ("FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, QUANTIZE, "
                 "DEQUANTIZE")
    T = [_q([1, 4]), _q([1, 4], 1 / 256, -128)]
    with pytest.raises(ConvertError, match=r"operator 0 \(SOFTMAX\) is not supported; supported: "
                                           + supported.replace("(", r"\(")):
        load_tflite(write_tflite(T, [(BO.SOFTMAX, [0], [1], None)], [0], [1]))
    # after a 2-D pool, in the chain: the operator's index and name
    T = [_q([1, 4, 4, 2]), _q([1, 2, 2, 2]), _q([1, 2, 2, 2]), _q([1, 2, 2, 2]), _q([1, 5, 5, 2]),
         {"shape": [4, 2], "type": TT.INT32, "data": np.array([0, 0, 1, 0, 1, 0, 0, 0], np.int32).tobytes()}]
    pool = (BO.MAX_POOL_2D, [0], [1], {"padding": PAD["VALID"], "stride_h": 2, "stride_w": 2, "filter_h": 2,
                                       "filter_w": 2})
    for name, op in (("ADD", (BO.ADD, [1, 1], [2], None)),
                     ("CONCATENATION", (BO.CONCATENATION, [1, 1], [2], None)),
                     ("MEAN", (BO.MEAN, [1, 5], [2], None)),
                     ("PAD", (BO.PAD, [1, 5], [4], None))):
        out = op[2][0]
        with pytest.raises(ConvertError, match=rf"operator 1 \({name}\) is not supported; supported: FULLY_CONNECTED,"
                                               rf" CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D"):
            load_tflite(write_tflite(T, [pool, op], [0], [out]))
    assert [l.type for l in load_tflite(write_tflite(T, [pool], [0], [1])).layers] == ["maxpool2d_s8"]


def test_pool_requantisation_refused():
    opts = {"padding": PAD["SAME"], "stride_h": 2, "stride_w": 2, "filter_h": 3, "filter_w": 3}
    for code, name in ((BO.MAX_POOL_2D, "MAX_POOL_2D"), (BO.AVERAGE_POOL_2D, "AVERAGE_POOL_2D")):
        ok = [_q([1, 5, 6, 3], 0.05, -7), _q([1, 3, 3, 3], 0.05, -7)]
        assert len(load_tflite(write_tflite(ok, [(code, [0], [1], opts)], [0], [1])).layers) == 1
        for s, z in ((0.06, -7), (0.05, -6)):
            T = [_q([1, 5, 6, 3], 0.05, -7), _q([1, 3, 3, 3], s, z)]
            with pytest.raises(ConvertError, match=rf"operator 0 \({name}\): output scale {s:g} / zero point {z} "
                                                   rf"differ from the input's 0.05 / -7; TFLite's int8 pooling"):
                load_tflite(write_tflite(T, [(code, [0], [1], opts)], [0], [1]))


def test_shape_mismatch_refused():
    # a 2-D conv whose output tensor is not what SAME / VALID and the strides give
    W = _q([2, 3, 3, 1], data=bytes(18))
    for pad, shape, want in (("SAME", [1, 4, 4, 2], [1, 3, 3, 2]), ("VALID", [1, 3, 3, 2], [1, 2, 2, 2])):
        T = [_q([1, 6, 5, 1]), W, _q(shape)]
        with pytest.raises(ConvertError, match=rf"operator 0 \(CONV_2D\): output shape {shape}, expected {want}"
                                               .replace("[", r"\[").replace("]", r"\]")):
            load_tflite(write_tflite(T, [(BO.CONV_2D, [0, 1, -1], [2], {"padding": PAD[pad], "stride_h": 2,
                                                                         "stride_w": 2})], [0], [2]))
    # depthwise, stride 1 SAME keeps 6 x 5
    T = [_q([1, 6, 5, 2]), _q([1, 3, 3, 2], data=bytes(18)), _q([1, 6, 4, 2])]
    with pytest.raises(ConvertError, match=r"operator 0 \(DEPTHWISE_CONV_2D\): output shape \[1, 6, 4, 2\], "
                                           r"expected \[1, 6, 5, 2\]"):
        load_tflite(write_tflite(T, [(BO.DEPTHWISE_CONV_2D, [0, 1, -1], [2], {"padding": PAD["SAME"]})], [0], [2]))
    # a pool: VALID 3 x 3 stride 2 on 6 x 5 gives 2 x 2
    T = [_q([1, 6, 5, 2]), _q([1, 3, 3, 2])]
    with pytest.raises(ConvertError, match=r"operator 0 \(AVERAGE_POOL_2D\): output shape \[1, 3, 3, 2\], "
                                           r"expected \[1, 2, 2, 2\]"):
        load_tflite(write_tflite(T, [(BO.AVERAGE_POOL_2D, [0], [1], {"padding": PAD["VALID"], "stride_h": 2,
                                                                     "stride_w": 2, "filter_h": 3, "filter_w": 3})],
                                 [0], [1]))
    # a kernel larger than the input with VALID: no output at all
    T = [_q([1, 2, 5, 1]), W, _q([1, 0, 3, 2])]
    with pytest.raises(ConvertError, match=r"operator 0 \(CONV_2D\): no output along the height: input 2, "
                                           r"kernel span 3, VALID"):
        load_tflite(write_tflite(T, [(BO.CONV_2D, [0, 1, -1], [2], {"padding": PAD["VALID"]})], [0], [2]))


def test_cli_converts_cnn(tmp_path, capsys):
    from edgehost.cli import main
    data, spec, _ = cnn_tflite(np.random.default_rng(9), *CASES["cnn"][:2], n_fc=CASES["cnn"][2])
    src, out = tmp_path / "m.tflite", tmp_path / "m.ehm"
    src.write_bytes(data)
    assert main(["convert", str(src), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "operator 0 (CONV_2D): 12 x 12 x 3 -> 12 x 12 x 8, kernel 3 x 3, stride 1 x 1, dilation 1 x 1, SAME " \
           "(pad top 1, left 1, bottom 1, right 1), groups 1 -> conv2d_s8" in text
    assert "operator 1 (DEPTHWISE_CONV_2D): 12 x 12 x 8 -> 6 x 6 x 16" in text and "groups 8 -> conv2d_s8" in text
    assert "operator 2 (MAX_POOL_2D): 6 x 6 x 16 -> 3 x 3 x 16, filter 2 x 2" in text
    assert "operator 4 (AVERAGE_POOL_2D): 3 x 3 x 6 -> 2 x 2 x 6, filter 3 x 3, stride 2 x 2, SAME (pad top 1, " \
           "left 1, bottom 1, right 1) -> avgpool2d_s8" in text
    assert [l.type for l in read(out.read_bytes()).layers] == ["conv2d_s8", "conv2d_s8", "maxpool2d_s8", "conv2d_s8",
                                                               "avgpool2d_s8", "fc_s8"]
    T = [_q([1, 4]), _q([1, 4], 1 / 256, -128)]
    src.write_bytes(write_tflite(T, [(BO.SOFTMAX, [0], [1], None)], [0], [1]))
    assert main(["convert", str(src), "-o", str(out)]) == 2
    assert "operator 0 (SOFTMAX) is not supported" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# A classifier that ends with SOFTMAX (what a Keras int8 export looks like): refused by name with
# the way out, or left out with --strip-softmax (the blob outputs the scores before it, whose
# argmax equals the argmax of LiteRT's own softmax output wherever that has no tie).

def _with_softmax(rng, float_io=False):
    """mlp_tflite's network with SOFTMAX (int8, scale 1/256, zero point -128, as TFLite writes it)
    after its last FULLY_CONNECTED, then DEQUANTIZE when float_io."""
    A_, B_, T_ = ACT, BO, TT
    n0, n1, n2 = 11, 16, 5
    W1, b1 = rng.normal(size=(n1, n0)) / np.sqrt(n0), rng.normal(size=n1) * 0.1
    W2, b2 = rng.normal(size=(n2, n1)) / np.sqrt(n1), rng.normal(size=n2) * 0.1
    X = rng.normal(size=(256, n0))
    H = np.maximum(X @ W1.T + b1, 0)
    Y = H @ W2.T + b2
    (s_x, z_x), (s_h, z_h), (s_y, z_y) = _qparams(X.min(), X.max()), _qparams(H.min(), H.max()), _qparams(Y.min(), Y.max())

    def qw(W):
        s = (np.abs(W).max(axis=1) / 127.0).astype(np.float32)
        return np.clip(np.round(W / s[:, None]), -127, 127).astype(np.int8), s

    q1, s1 = qw(W1)
    q2, s2 = qw(W2)
    T = []

    def t(shape, ty, data=None, scale=None, zp=None):
        T.append({"shape": list(shape), "type": ty, "data": data, "scale": scale, "zp": zp})
        return len(T) - 1

    x8 = t([1, n0], T_.INT8, None, [s_x], [z_x])
    w1 = t([n1, n0], T_.INT8, q1.tobytes(), list(map(float, s1)), [0] * n1)
    bb1 = t([n1], T_.INT32, np.round(b1 / (np.float32(s_x) * s1)).astype(np.int32).tobytes(),
            list(map(float, np.float32(s_x) * s1)), [0] * n1)
    h = t([1, n1], T_.INT8, None, [s_h], [z_h])
    w2 = t([n2, n1], T_.INT8, q2.tobytes(), list(map(float, s2)), [0] * n2)
    bb2 = t([n2], T_.INT32, np.round(b2 / (np.float32(s_h) * s2)).astype(np.int32).tobytes(),
            list(map(float, np.float32(s_h) * s2)), [0] * n2)
    y8 = t([1, n2], T_.INT8, None, [s_y], [z_y])
    p8 = t([1, n2], T_.INT8, None, [1.0 / 256.0], [-128])
    ops = [(B_.FULLY_CONNECTED, [x8, w1, bb1], [h], A_.RELU), (B_.FULLY_CONNECTED, [h, w2, bb2], [y8], A_.NONE),
           (B_.SOFTMAX, [y8], [p8], None)]
    outs = [p8]
    if float_io:
        pf = t([1, n2], T_.FLOAT32)
        ops.append((B_.DEQUANTIZE, [p8], [pf], None))
        outs = [pf]
    return write_tflite(T, ops, [x8], outs), (s_y, z_y)


def test_trailing_softmax_refused_with_the_way_out(tmp_path):
    data, _ = _with_softmax(np.random.default_rng(21))
    with pytest.raises(ConvertError, match=r"operator 2 \(SOFTMAX\) is not supported.*--strip-softmax"):
        load_tflite(data)


@pytest.mark.parametrize("float_io", [False, True])
def test_strip_softmax_outputs_the_scores_with_litert_s_argmax(tmp_path, float_io):
    rng = np.random.default_rng(22 + float_io)
    data, (s_y, z_y) = _with_softmax(rng, float_io)
    imp = load_tflite(data, strip_softmax=True)
    assert [l.type for l in imp.layers] == ["fc_s8", "fc_s8"] + (["dequant_s8"] if float_io else [])
    assert any("SOFTMAX) left out" in n and f"zero point {z_y}" in n for n in imp.notes), imp.notes
    m, _ = build(imp)
    path = tmp_path / "sm.tflite"
    path.write_bytes(data)
    run = litert(path, "BUILTIN_REF")
    xs = rng.integers(-128, 128, size=(300, 11)).astype(np.int8)
    outs, _ = HostModel(m.to_bytes(), "kernels").run(xs)
    agree = ties = 0
    for x, scores in zip(xs, np.asarray(outs)):
        p = run(x[None])
        if float_io:       # the blob dequantises the scores: compare in the int8 domain
            scores = np.round(scores / s_y + z_y)
        top = np.flatnonzero(p == p.max())
        if len(top) > 1:
            ties += 1
            assert int(np.argmax(scores)) in top          # one of softmax's tied classes
        else:
            agree += int(np.argmax(scores) == top[0])
    assert agree == len(xs) - ties, (agree, ties)


def test_softmax_not_at_the_end_is_refused_even_with_the_flag():
    B_, T_ = BO, TT
    T = [{"shape": [1, 4], "type": T_.INT8, "scale": [0.1], "zp": [0]},
         {"shape": [1, 4], "type": T_.INT8, "scale": [1 / 256], "zp": [-128]},
         {"shape": [1, 2], "type": T_.INT8, "data": np.ones((2, 4), np.int8).tobytes(), "scale": [0.01], "zp": [0]},
         {"shape": [1, 2], "type": T_.INT8, "scale": [0.1], "zp": [0]}]
    data = write_tflite(T, [(B_.SOFTMAX, [0], [1], None), (B_.FULLY_CONNECTED, [1, 2, -1], [3], 0)], [0], [3])
    with pytest.raises(ConvertError, match="only a SOFTMAX that ends the model can be left out"):
        load_tflite(data, strip_softmax=True)


def test_inspect_counts_the_cnn_macs(tmp_path):
    """edgehost inspect (convert.analyze) counts each convolution's MACs, padding taps included:
    "cnn" is 12x12x8 outputs x 27 + 6x6x16 x 9 (depthwise) + 3x3x6 x 16 + 24 x 5 = 37,272."""
    from edgehost.convert.analyze import layer_rows
    _rng, _path, blob, _r, _spec, _x = _build(tmp_path, "cnn", 31)
    rows = layer_rows(read(blob))
    assert [r["macs"] for r in rows] == [12 * 12 * 8 * 27, 6 * 6 * 16 * 9, 0, 3 * 3 * 6 * 16, 0, 24 * 5]
    assert sum(r["ace"] for r in rows) == 64 * sum(r["macs"] for r in rows)


# ---------------------------------------------------------------------------------------------
# A model edgehost did not write: a Keras CNN exported by TensorFlow's own converter with full-
# integer quantisation (tests/data/tflite/export_keras_cnn.py). Keras' Flatten comes out as
# SHAPE -> STRIDED_SLICE -> PACK feeding RESHAPE's shape, the model ends in SOFTMAX; the blob is
# compared with LiteRT's own run of the same file.

KERAS = Path(__file__).parent / "data" / "tflite"


def _softmax_input_tensor(data):
    m = tflite.Model.GetRootAsModel(data, 0)
    sg = m.Subgraphs(0)
    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        oc = m.OperatorCodes(op.OpcodeIndex())
        if max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()) == BO.SOFTMAX:
            return int(op.Inputs(0))
    raise AssertionError("no SOFTMAX")


@pytest.mark.parametrize("io", ["int8", "float"])
def test_keras_exported_cnn_matches_litert(io):
    path = KERAS / f"keras_cnn_{io}io.tflite"
    with pytest.raises(ConvertError, match=r"\(SOFTMAX\) is not supported.*--strip-softmax"):
        load(str(path))
    imp = load(str(path), strip_softmax=True)
    kinds = [l.type for l in imp.layers]
    assert kinds == (["input_s8"] if io == "float" else []) + ["conv2d_s8", "conv2d_s8", "maxpool2d_s8", "conv2d_s8",
                                                              "avgpool2d_s8", "fc_s8"] + (["dequant_s8"] if io == "float" else [])
    assert any("(SHAPE)" in n and "(STRIDED_SLICE)" in n and "(PACK)" in n and "left out" in n for n in imp.notes)
    m, _ = build(imp)
    blob = m.to_bytes()
    ref = litert_interpreter(path, "BUILTIN_REF", preserve_all_tensors=True)
    xnn = litert_interpreter(path, "AUTO", preserve_all_tensors=True)
    i_det, o_det = ref.get_input_details()[0], ref.get_output_details()[0]
    t_logits = _softmax_input_tensor(path.read_bytes())
    s_l, z_l = ref.get_tensor_details()[t_logits]["quantization"]
    rng = np.random.default_rng(40)
    X = rng.normal(size=(200, 12, 12, 3)).astype(np.float32)
    if io == "int8":
        s, z = i_det["quantization"]
        X = np.clip(np.round(X / s) + z, -128, 127).astype(np.int8)
    outs = {}
    for backend in ("sim", "kernels"):
        outs[backend] = np.asarray(HostModel(blob, backend).run(X.reshape(len(X), -1))[0])
    np.testing.assert_array_equal(outs["sim"], outs["kernels"])
    got = outs["kernels"] if io == "int8" else np.round(outs["kernels"] / np.float32(s_l) + z_l)
    untied = 0
    for k in range(len(X)):
        lit = {}
        for name, it in (("ref", ref), ("xnn", xnn)):
            it.set_tensor(i_det["index"], X[k:k + 1])
            it.invoke()
            lit[name] = (it.get_tensor(o_det["index"])[0], it.get_tensor(t_logits)[0].astype(int))
        g = got[k].astype(int)
        # the scores: within 1 LSB of LiteRT's reference kernels (its FULLY_CONNECTED rounds once,
        # eh_fc_s8 twice), within 3 of XNNPACK's (every layer rounds once there)
        assert np.abs(g - lit["ref"][1]).max() <= 1, (k, g, lit["ref"][1])
        assert np.abs(g - lit["xnn"][1]).max() <= 3, (k, g, lit["xnn"][1])
        p = lit["ref"][0]
        top = np.flatnonzero(p == p.max())
        assert int(np.argmax(g)) in top             # the class of LiteRT's own softmax (one of its ties)
        untied += len(top) == 1
        srt = np.sort(lit["xnn"][1])
        if srt[-1] - srt[-2] > 6:                   # a margin XNNPACK's rounding cannot close
            assert int(np.argmax(g)) == int(np.argmax(lit["xnn"][1]))
    assert untied >= len(X) // 2


def test_reshape_shape_from_a_value_op_is_refused():
    """Only shape metadata ops may compute a RESHAPE's target shape: an ADD there is refused by name."""
    T = [_q([1, 2, 2, 3]), {"shape": [2], "type": TT.INT32}, {"shape": [2], "type": TT.INT32, "data":
         np.array([1, 12], np.int32).tobytes()}, {"shape": [2], "type": TT.INT32}, _q([1, 12])]
    data = write_tflite(T, [(BO.SHAPE, [0], [1], None), (BO.ADD, [2, 2], [3], None), (BO.RESHAPE, [0, 3], [4], None)],
                        [0], [4])
    with pytest.raises(ConvertError, match=r"operator 1 \(ADD\) computes a RESHAPE's target shape; only SHAPE"):
        load_tflite(data)


def test_damaged_tflite_is_a_convert_error():
    """A truncated or byte-damaged file: a ConvertError naming the damage (the CLI's one-line error,
    exit 2), never another exception from the flatbuffer reader."""
    import random
    good = (KERAS / "keras_cnn_int8io.tflite").read_bytes()
    with pytest.raises(ConvertError, match="damaged or truncated TFLite flatbuffer"):
        load_tflite(good[:3000])
    rng = random.Random(3)
    for _ in range(150):
        b = bytearray(good)
        for _ in range(5):
            b[rng.randrange(len(b))] = rng.randrange(256)
        if rng.random() < 0.3:
            b = b[:rng.randrange(8, len(b))]
        try:
            load_tflite(bytes(b), strip_softmax=True)
        except ConvertError:
            pass
