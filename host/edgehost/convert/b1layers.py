"""Parameters of the format-1.4 layers from their kernels' host tools: MST-compressed binary fc
(`mst_fc_b1_*`), streaming binary conv1d (`conv1d_b1_*`), power-of-two and BCQ dense layers.
Layouts as docs/model-format.md ("Binary, MST and shift-add layers") specifies."""
from __future__ import annotations

import numpy as np

from ..sim.binary import pack_bits
from ..sim.mst import MstLayout, mst_build


def mst_tree_words(lay: MstLayout) -> np.ndarray:
    """The `tree` parameter of an mst_fc_b1 layer: u32 [4 n + 3] = n_roots, n_diff, parent[n]
    (int32 bits), channel[n], node_of[n], diff_start[n + 1]."""
    n = int(lay.n_out)
    channel = np.asarray(lay.channel, np.int64)
    node_of = np.empty(n, np.int64)
    node_of[channel] = np.arange(n)
    return np.concatenate([
        np.array([lay.n_roots, lay.n_diff], np.uint32),
        np.asarray(lay.parent, np.int32).view(np.uint32),
        channel.astype(np.uint32), node_of.astype(np.uint32),
        np.asarray(lay.diff_start, np.uint32)]).astype(np.uint32)


def mst_params(weight_pm1, max_depth=None, root_cost=None) -> tuple[list, MstLayout]:
    """([tree, root_w, diff], layout) of a {-1, +1} weight matrix (n_out, n_in); diff is None
    when every channel is a root. root_cost: edgehost.sim.mst.mst_build's (default: the
    Cortex-M4 cost model, under which a child pays off only within ~4 % of K of its parent)."""
    w = np.asarray(weight_pm1)
    lay = mst_build(pack_bits(w), w.shape[1], max_depth=max_depth, root_cost=root_cost)
    diff = np.asarray(lay.diff, np.uint16) if lay.n_diff else None
    return [mst_tree_words(lay), np.asarray(lay.root_w, np.uint32).ravel(), diff], lay


def conv_weight_words(weight_pm1) -> np.ndarray:
    """{-1, +1} conv1d weights (n_out, taps, n_in) -> packed words [n_out][taps][W], raveled."""
    w = np.asarray(weight_pm1)
    return pack_bits(w.reshape(-1, w.shape[-1])).reshape(w.shape[0], w.shape[1], -1).ravel().astype(np.uint32)
