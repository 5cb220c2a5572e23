"""Helpers shared by the NIR/snnTorch conversion tests."""
from __future__ import annotations

import numpy as np
import pytest


def snn():
    """(torch, snntorch, export_to_nir, snntorch.utils), or skip when they are not installed."""
    torch = pytest.importorskip("torch")
    snn_ = pytest.importorskip("snntorch")
    pytest.importorskip("nirtorch")
    from snntorch.export_nir import export_to_nir
    import snntorch.utils
    return torch, snn_, export_to_nir, snntorch.utils


def backends_agree(blob, xs):
    """Run xs on the numpy and the C-kernel host backends; assert every layer output of every step
    is equal; return (outputs, traces)."""
    from edgehost.runtime import HostModel
    y1, t1 = HostModel(blob, backend="sim").run(xs)
    y2, t2 = HostModel(blob, backend="kernels").run(xs)
    np.testing.assert_array_equal(y1, y2)
    for a, b in zip(t1, t2):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    return y1, t1


def dyadic(torch, *mods):
    """Round every parameter of the modules to a 1/256 grid: float32 sums of such weights are exact
    in any order, so torch's matmul and the kernels' ordered sums agree bit for bit."""
    with torch.no_grad():
        for m in mods:
            for p in m.parameters():
                p.copy_(torch.round(p * 256) / 256)
