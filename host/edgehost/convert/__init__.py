"""Importers (npz, NIR), the Q15 quantiser and the memory planner: model files -> `.ehm` blobs.

    from edgehost.convert import load, build
    graph = load("net.nir", dt=1e-4, reset="subtract")
    model, report = build(graph, quantize="q15", calib=xs)
    open("net.ehm", "wb").write(model.to_bytes())

A graph with branches or recurrence (docs/graphs.md): `load("rnn.nir", timing="same",
delays=[("lif1", "w_rec")])`, or by hand: `Graph(n_in, layers, inputs=[[Edge(-1)], [Edge(0),
Edge(2, delayed=True)], ...])`.
"""
from .graph import Argmax, BinFc, CubaLif, Edge, Fc, Graph, Li, Lif, Norm, Relu, SpikeCount  # noqa: F401
from .lower import ConvertError, FidelityError, build  # noqa: F401
from .calibrate import AGREEMENT, Q15FidelityWarning, generate  # noqa: F401
from .planner import plan, state_bytes  # noqa: F401
from .load import load, SUPPORTED_INPUTS  # noqa: F401
from .torch_import import from_torch  # noqa: F401
