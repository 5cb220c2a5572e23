"""1-D convolutions lowered exactly to dense layers (the Toeplitz expansion).

A 1-D convolution over a fixed input length L is a linear map from C_in x L inputs to
C_out x L_out outputs, so it is a dense layer whose matrix holds each kernel tap at the
positions it touches:

    y[o, t] = b[o] + sum_{c in group(o)} sum_k w[o, c - c0(o), k] x[c, t*stride + k*dilation - pad_left]

with taps that land on padding left out (a padded input is zero, or, for int8, the input zero
point, which contributes (zp - zp) w = 0: the same as leaving the tap out). Groups: output o
belongs to group g = o // (C_out / groups) and reads input channels g*C_in/groups ... The
expansion runs on the existing dense kernels (fc_f32, fc_q15, fc_spike_q15, fc_s8) on every
board, at the price of memory: the matrix has (C_out L_out) x (C_in L) entries, mostly zero.
`MAX_DENSE_BYTES` bounds it; a larger expansion is refused with an error naming the layer.

Layouts: "cl" (channel-major: index c*L + t, PyTorch/NIR's (C, L) flattened) or "lc"
(position-major: t*C + c, TFLite's NHWC flattened). Input and output use the same layout.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_DENSE_BYTES = 256 * 1024


class ConvParamError(ValueError):
    """A convolution parameter out of range (the importers wrap it with the layer's name)."""


@dataclass
class Conv1dSpec:
    c_in: int
    length: int         # L: input positions
    c_out: int
    kernel: int
    stride: int
    pad_left: int
    pad_right: int
    dilation: int
    groups: int

    @property
    def l_out(self) -> int:
        return (self.length + self.pad_left + self.pad_right - self.dilation * (self.kernel - 1) - 1) \
            // self.stride + 1

    @property
    def shape(self) -> tuple[int, int]:
        return self.c_out * self.l_out, self.c_in * self.length

    def describe(self) -> str:
        return (f"C_in {self.c_in} x L {self.length} -> C_out {self.c_out} x L_out {self.l_out} "
                f"(kernel {self.kernel}, stride {self.stride}, padding ({self.pad_left}, {self.pad_right}), "
                f"dilation {self.dilation}, groups {self.groups})")


def _int(v, name, lo=None):
    if isinstance(v, (tuple, list, np.ndarray)):
        a = np.asarray(v).ravel()
        if a.size != 1:
            raise ConvParamError(f"{name} {list(a)}: a 1-D convolution takes one value")
        v = a[0]
    try:
        iv = int(v)
    except (TypeError, ValueError):
        raise ConvParamError(f"{name} {v!r} is not an integer") from None
    if iv != v:
        raise ConvParamError(f"{name} {v!r} is not an integer")
    if lo is not None and iv < lo:
        raise ConvParamError(f"{name} {iv} < {lo}")
    return iv


def same_padding(length: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """SAME padding (TFLite's rule; PyTorch's 'same' for stride 1): L_out = ceil(L / stride),
    total = max((L_out - 1) stride + (kernel - 1) dilation + 1 - L, 0), left = total // 2,
    the odd one on the right."""
    l_out = -(-length // stride)
    total = max((l_out - 1) * stride + (kernel - 1) * dilation + 1 - length, 0)
    return total // 2, total - total // 2


def spec(weight_shape, length, stride=1, padding=0, dilation=1, groups=1) -> Conv1dSpec:
    """Check the parameters of a convolution with weight (C_out, C_in / groups, K) over L
    positions. padding: an int (both sides), (left, right), "valid" or "same"."""
    if len(weight_shape) != 3 or min(weight_shape) < 1:
        raise ConvParamError(f"weight shape {tuple(weight_shape)}: expected (C_out, C_in / groups, kernel), "
                             f"all >= 1")
    c_out, cin_g, k = (int(v) for v in weight_shape)
    length = _int(length, "input length L", 1)
    stride = _int(stride, "stride", 1)
    dilation = _int(dilation, "dilation", 1)
    groups = _int(groups, "groups", 1)
    if c_out % groups:
        raise ConvParamError(f"groups {groups} does not divide C_out {c_out}")
    if isinstance(padding, str):
        p = padding.lower()
        if p == "valid":
            left = right = 0
        elif p == "same":
            left, right = same_padding(length, k, stride, dilation)
        else:
            raise ConvParamError(f"padding {padding!r}: supported: an integer, (left, right), 'valid', 'same'")
    else:
        a = np.asarray(padding).ravel()
        if a.size == 1:
            left = right = _int(a[0], "padding", 0)
        elif a.size == 2:
            left, right = _int(a[0], "padding left", 0), _int(a[1], "padding right", 0)
        else:
            raise ConvParamError(f"padding {list(a)}: a 1-D convolution takes one value or (left, right)")
    s = Conv1dSpec(cin_g * groups, length, c_out, k, stride, left, right, dilation, groups)
    if s.l_out < 1:
        raise ConvParamError(f"the kernel (extent {(k - 1) * dilation + 1}) is longer than the padded input "
                             f"({length + left + right}): no output position")
    return s


def dense_bytes(s: Conv1dSpec, itemsize: int) -> int:
    rows, cols = s.shape
    return rows * cols * itemsize


def check_size(s: Conv1dSpec, itemsize: int, name: str, max_bytes: int = MAX_DENSE_BYTES) -> int:
    """The bytes of the expanded matrix; a ConvParamError naming `name` when above max_bytes."""
    nb = dense_bytes(s, itemsize)
    if nb > max_bytes:
        rows, cols = s.shape
        raise ConvParamError(f"{name}: the convolution {s.describe()} expands to a dense {rows} x {cols} matrix "
                             f"of {nb} bytes ({itemsize} B per weight), above the limit of {max_bytes} bytes; "
                             f"shorten the input, add stride or use fewer channels")
    return nb


def toeplitz(weight, s: Conv1dSpec, bias=None, layout: str = "cl", dtype=None):
    """The dense matrix (C_out L_out, C_in L) and bias (C_out L_out or None) of the convolution.
    weight: (C_out, C_in / groups, K), any numeric dtype (kept unless `dtype`); bias: C_out."""
    w = np.asarray(weight)
    if w.shape != (s.c_out, s.c_in // s.groups, s.kernel):
        raise ConvParamError(f"weight shape {w.shape}, expected {(s.c_out, s.c_in // s.groups, s.kernel)}")
    if layout not in ("cl", "lc"):
        raise ConvParamError(f"layout {layout!r}: cl or lc")
    dt = np.dtype(dtype) if dtype is not None else w.dtype
    l_out = s.l_out
    rows, cols = s.shape
    m = np.zeros((rows, cols), dt)
    cin_g = s.c_in // s.groups
    cout_g = s.c_out // s.groups
    o, ci, k, t = np.meshgrid(np.arange(s.c_out), np.arange(cin_g), np.arange(s.kernel), np.arange(l_out),
                              indexing="ij")
    c = (o // cout_g) * cin_g + ci
    p = t * s.stride + k * s.dilation - s.pad_left
    ok = (p >= 0) & (p < s.length)
    o, ci, k, t, c, p = (a[ok] for a in (o, ci, k, t, c, p))
    if layout == "cl":
        r, col = o * l_out + t, c * s.length + p
    else:
        r, col = t * s.c_out + o, p * s.c_in + c
    # each (row, col) pair is hit by at most one tap (dilation >= 1), so plain assignment is exact
    m[r, col] = w[o, ci, k].astype(dt)
    b = None
    if bias is not None:
        bv = np.asarray(bias).ravel()
        if bv.size != s.c_out:
            raise ConvParamError(f"bias has {bv.size} entries, expected C_out = {s.c_out}")
        b = np.repeat(bv, l_out) if layout == "cl" else np.tile(bv, l_out)
        if dtype is not None:
            b = b.astype(dt)
    return m, b


def per_row(values, s: Conv1dSpec, layout: str = "cl"):
    """A per-output-channel vector repeated for the rows of the expansion (C_out L_out)."""
    v = np.asarray(values).ravel()
    if v.size != s.c_out:
        raise ConvParamError(f"{v.size} per-channel values, expected C_out = {s.c_out}")
    return np.repeat(v, s.l_out) if layout == "cl" else np.tile(v, s.l_out)


def conv1d_direct(x, weight, s: Conv1dSpec, bias=None):
    """The convolution itself on x (C_in, L), float64 loops over taps: the reference the tests
    compare the expansion with. Returns (C_out, L_out)."""
    x = np.asarray(x, np.float64).reshape(s.c_in, s.length)
    w = np.asarray(weight, np.float64)
    xp = np.zeros((s.c_in, s.pad_left + s.length + s.pad_right))
    xp[:, s.pad_left:s.pad_left + s.length] = x
    cin_g, cout_g = s.c_in // s.groups, s.c_out // s.groups
    y = np.zeros((s.c_out, s.l_out))
    for o in range(s.c_out):
        g = o // cout_g
        for t in range(s.l_out):
            acc = 0.0
            for ci in range(cin_g):
                for k in range(s.kernel):
                    acc += w[o, ci, k] * xp[g * cin_g + ci, t * s.stride + k * s.dilation]
            y[o, t] = acc
    if bias is not None:
        y += np.asarray(bias, np.float64).ravel()[:, None]
    return y
