"""Save and load an L2MU cell (the dict of edgehost.sim.l2mu_*) as a flat .npz (no pickle)."""
from __future__ import annotations

import numpy as np


def _flatten(obj, prefix: str, out: dict) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}{k}.", out)
    elif isinstance(obj, list):
        out[f"{prefix}#len"] = np.array(len(obj))
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}{i}.", out)
    elif isinstance(obj, str):
        out[f"{prefix}#str"] = np.array(obj)
    else:
        out[prefix[:-1]] = np.asarray(obj)


def save_cell(path, cell: dict) -> None:
    flat: dict = {}
    _flatten(cell, "", flat)
    np.savez_compressed(path, **flat)


def _unflatten(flat: dict):
    root: dict = {}
    for key, val in flat.items():
        parts = key.split(".")
        node = root
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = val

    def build(node):
        if not isinstance(node, dict):
            return node.item() if node.ndim == 0 and node.dtype.kind in "iuf" else node
        if "#len" in node:
            return [build(node[str(i)]) for i in range(int(node["#len"]))]
        if "#str" in node:
            return str(node["#str"])
        return {k: build(v) for k, v in node.items()}

    return build(root)


def load_cell(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return _unflatten({k: z[k] for k in z.files})
