"""The operators of the `.ehm` model: one module per operator, found through one table.

Each module (edgehost/ops/<op>.py) holds, for its layer types (dtype variants of one operator in
one module): the record's rules (`Spec`), its load-time checks beyond the generic ones, the
format minor it needs, and its host step on both backends (`Op`, edgehost/ops/base.py). The blob
reader (edgehost.blob.reader), the writer and the host interpreter (edgehost.runtime.HostModel)
only walk the layers and call what `TABLE` holds; edgehost.blob.format derives its per-type
tables (SPECS, LAYER_NAMES, LAYER_CODES, LAYER_MINOR, L_<NAME>) from it.

Adding an operator: a module with its `OPS`, an entry in MODULES below, and its C twin in
firmware/model/ops/ (the same checks in the same order, the same messages).
"""
from __future__ import annotations

from . import (add, argmax, bcq_fc, conv1d_b1, convert, cubalif, delay, fc, fc_b1, fc_s8, l2mu, li, lif,
               lif_adapt, mst_fc_b1, pack_b1, relu, shiftadd_fc, spike_count)
from . import conv2d, pool2d
from . import conv1d_s8
from . import conv2d_s8, pool2d_s8  # int8 channel-last 2-D CNNs (1.6)
from . import conv1d_seq, lmu, thermometer_b1  # the HAR baselines (1.6)
from .base import Op  # noqa: F401

MODULES = (convert, fc, lif, cubalif, li, relu, argmax, spike_count, fc_s8, lif_adapt, add, delay, fc_b1, pack_b1,
           conv1d_b1, mst_fc_b1, shiftadd_fc, bcq_fc, l2mu)
MODULES += (conv2d, pool2d)

MODULES += (conv1d_s8,)
MODULES += (thermometer_b1, conv1d_seq, lmu)
MODULES += (conv2d_s8, pool2d_s8)

TABLE: dict = {}        # layer type code -> Op
for _m in MODULES:
    for _op in _m.OPS:
        if _op.code in TABLE:
            raise RuntimeError(f"layer type {_op.code} registered twice ({TABLE[_op.code].name}, {_op.name})")
        TABLE[_op.code] = _op
TABLE = dict(sorted(TABLE.items()))
BY_NAME = {op.name: op for op in TABLE.values()}


def format_tables() -> dict:
    """The per-type tables of edgehost.blob.format, from TABLE."""
    t = {"SPECS": {c: op.spec for c, op in TABLE.items()},
         "LAYER_NAMES": {c: op.name for c, op in TABLE.items()},
         "LAYER_CODES": {op.name: c for c, op in TABLE.items()},
         "LAYER_MINOR": {c: op.minor for c, op in TABLE.items() if op.minor}}
    t.update({f"L_{op.name.upper()}": c for c, op in TABLE.items()})
    return t
