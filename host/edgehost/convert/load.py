"""Pick the importer by file type."""
from __future__ import annotations

import os

from .graph import Graph
from .lower import ConvertError

SUPPORTED_INPUTS = {".nir": "NIR graph (nir package)", ".npz": "raw weights + layer list (edgehost.convert.npz)"}
LATER = {".pt": "PyTorch", ".pth": "PyTorch", ".tflite": "LiteRT/TFLite", ".onnx": "ONNX"}


def load(path: str, dt: float | None = None, reset: str = "subtract") -> Graph:
    ext = os.path.splitext(str(path))[1].lower()
    if ext in LATER:
        raise ConvertError(f"{path}: {LATER[ext]} models ({ext}) are not yet supported; supported inputs: "
                           + ", ".join(f"{k} ({v})" for k, v in SUPPORTED_INPUTS.items()))
    if ext not in SUPPORTED_INPUTS:
        raise ConvertError(f"{path}: unknown model type {ext or '(no extension)'!r}; supported inputs: "
                           + ", ".join(f"{k} ({v})" for k, v in SUPPORTED_INPUTS.items()))
    if not os.path.exists(path):
        raise ConvertError(f"{path}: no such file")
    if ext == ".npz":
        from .npz import load_npz
        return load_npz(path)
    from .nir_import import load_nir
    return load_nir(path, dt=dt, reset=reset)
