"""Pick the importer by file type."""
from __future__ import annotations

import os

from .graph import Graph
from .lower import ConvertError

SUPPORTED_INPUTS = {".nir": "NIR graph (nir package)", ".npz": "raw weights + layer list (edgehost.convert.npz)",
                    ".pt": "PyTorch/snnTorch module (--trust) or state dict (--arch)",
                    ".pth": "PyTorch/snnTorch module (--trust) or state dict (--arch)",
                    ".tflite": "LiteRT/TFLite int8 model: dense layers, 1-D and 2-D convolutions, pooling (tflite package)"}
LATER = {".onnx": "ONNX"}


def load(path: str, dt: float | None = None, reset: str | None = None, trust: bool = False,
         arch: str | None = None, timing: str | None = None, delays=(), if_dt: float | None = None,
         input_shape=None, strip_softmax: bool = False) -> Graph:
    """The importer's result for `path`: a float Graph (nir, npz, pt) or, for .tflite, an already
    quantised int8 import that `build` turns into a blob as it is.

    trust: .pt/.pth only: unpickle a whole module (torch.load(weights_only=False) runs code from
    the file: only for files you trust). arch: .pt/.pth state dicts: the layer list (torch_import).
    reset: None = NIR's default (subtract) / what a .pt file records; "subtract", "zero" or "none".
    timing, delays: NIR graphs only (edgehost.convert.nir_import.load_nir): when a spike's reset
    applies ("next", the default, "same" or "same-snntorch"; .pt state dicts take "next" or
    "same-snntorch", snnTorch's reset_delay) and the edges to delay ((src, dst) pairs).
    input_shape: .pt/.pth only: the (C, H, W) of the input (a state dict with conv2d / avgpool2d).
    strip_softmax: .tflite only: leave out a SOFTMAX that ends the model (tflite_import)."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext in LATER:
        raise ConvertError(f"{path}: {LATER[ext]} models ({ext}) are not yet supported; supported inputs: "
                           + ", ".join(f"{k} ({v})" for k, v in SUPPORTED_INPUTS.items()))
    if ext not in SUPPORTED_INPUTS:
        raise ConvertError(f"{path}: unknown model type {ext or '(no extension)'!r}; supported inputs: "
                           + ", ".join(f"{k} ({v})" for k, v in SUPPORTED_INPUTS.items()))
    if not os.path.exists(path):
        raise ConvertError(f"{path}: no such file")
    if strip_softmax and os.path.splitext(str(path))[1].lower() != ".tflite":
        raise ConvertError(f"{path}: --strip-softmax applies to .tflite models")
    if ext not in (".nir", ".pt", ".pth") and (timing is not None or delays):
        raise ConvertError(f"{path}: --reset-timing and --delay apply to NIR graphs (.nir)")
    if ext != ".nir" and if_dt is not None:
        raise ConvertError(f"{path}: --if-dt applies to NIR graphs (.nir)")
    if ext != ".nir" and delays:
        raise ConvertError(f"{path}: --delay applies to NIR graphs (.nir)")
    if ext not in (".pt", ".pth") and input_shape is not None:
        raise ConvertError(f"{path}: --input-shape applies to .pt/.pth files (a NIR graph records its shapes)")
    if ext == ".npz":
        from .npz import load_npz
        return load_npz(path)
    if ext in (".pt", ".pth"):
        from .torch_import import load_torch
        return load_torch(path, trust=trust, arch=arch, reset=reset, timing=timing, input_shape=input_shape)
    if ext == ".tflite":
        from .tflite_import import load_tflite
        return load_tflite(path, strip_softmax=strip_softmax)
    from .nir_import import load_nir
    return load_nir(path, dt=dt, reset=reset or "subtract", timing=timing or "next", delays=delays, if_dt=if_dt)
