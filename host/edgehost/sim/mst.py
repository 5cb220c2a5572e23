"""MST compression of binary fully connected layers (see kernels_c/include/eh_mst.h).

Host tool: `mst_build(w, n_in, max_depth)` orders the output channels along a spanning forest
that minimises the total Hamming distance between parent and child weights, with a bound on
the depth, and emits the layout the C kernel `eh_mst_fc_b1` reads. `mst_fc_b1` is the numpy twin
of that kernel, written from the header's equations.

Tree construction: Prim's algorithm from a virtual source node. The source is joined to every
channel with the cost of computing it as a root (K bit operations); a channel joined to the
source becomes a root. Each step attaches the cheapest (cost, then lowest channel index) pair
(unattached channel, attached node whose depth is below max_depth). Without a depth bound this
is the exact minimum spanning tree of that graph; with a bound it is the usual greedy
depth-constrained Prim heuristic (a valid forest whose depth never exceeds the bound, not
necessarily the optimum). metric="words" minimises the number of differing 32-bit words instead
(the unit of the C kernel's work: one entry per differing word).

Work model (the C kernel's): a root costs W = ceil(K/32) word operations (XOR+popcount) and K
bit operations; a child costs one word operation per word in which it differs from its parent,
and |D| bit operations. `mst_cost` reports both against the plain layer (n_out * W words,
n_out * K bits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .binary import _clear_padding, _k, _popcount, _words, nwords, tail_mask


@dataclass
class MstLayout:
    """The arrays of eh_mst_b1 plus the channel of each node (`channel[p]`)."""
    n_in: int
    n_out: int
    parent: np.ndarray      # int32 [n_out], -1 for roots, else a node number < p
    channel: np.ndarray     # int32 [n_out], original output channel of node p
    root_w: np.ndarray      # uint32 [n_roots][W]
    diff_start: np.ndarray  # uint32 [n_out + 1]
    diff_word: np.ndarray   # uint32 [n_diff]
    diff_mask: np.ndarray   # uint32 [n_diff]
    diff_pbits: np.ndarray  # uint32 [n_diff]
    depth: np.ndarray       # int32 [n_out], 0 for roots

    @property
    def n_roots(self) -> int:
        return int(np.count_nonzero(self.parent == -1))

    @property
    def n_diff(self) -> int:
        return int(self.diff_word.size)


def _distances(w: np.ndarray, metric: str) -> np.ndarray:
    x = w[:, None, :] ^ w[None, :, :]
    if metric == "hamming":
        return _popcount(x).sum(-1)
    return (x != 0).sum(-1).astype(np.int64)


def mst_build(w, n_in, max_depth=None, metric="hamming") -> MstLayout:
    """Build the MST layout of packed weights w [n_out][W] (padding bits are ignored)."""
    k = _k(n_in)
    nw = nwords(k)
    w = np.asarray(w)
    if w.ndim != 2 or w.shape[0] == 0:
        raise ValueError("w must be [n_out][words]")
    w = _clear_padding(_words("w", w, (w.shape[0], nw)), k)
    if metric not in ("hamming", "words"):
        raise ValueError("metric must be 'hamming' or 'words'")
    if max_depth is not None and int(max_depth) < 0:
        raise ValueError("max_depth must be >= 0 or None")
    n = w.shape[0]
    dist = _distances(w, metric)
    root_cost = k if metric == "hamming" else nw
    big = np.iinfo(np.int64).max

    best = np.full(n, root_cost, np.int64)     # cheapest known attachment
    best_par = np.full(n, -1, np.int64)         # -1: the virtual source (be a root)
    depth = np.zeros(n, np.int64)
    done = np.zeros(n, bool)
    order: list[int] = []
    for _ in range(n):
        cand = np.where(done, big, best)
        c = int(np.argmin(cand))                # ties: lowest channel index
        done[c] = True
        p = int(best_par[c])
        depth[c] = 0 if p < 0 else depth[p] + 1
        order.append(c)
        if max_depth is None or depth[c] < int(max_depth):
            better = (~done) & (dist[c] < best)
            best[better] = dist[c][better]
            best_par[better] = c

    node_of = np.empty(n, np.int64)
    node_of[order] = np.arange(n)
    parent = np.array([-1 if best_par[c] < 0 else node_of[best_par[c]] for c in order], np.int32)
    roots = [c for c in order if best_par[c] < 0]
    starts = [0]
    words, masks, pbits = [], [], []
    for c in order:
        p = int(best_par[c])
        if p >= 0:
            diff = w[c] ^ w[p]
            idx = np.nonzero(diff)[0]
            words.extend(idx.tolist())
            masks.extend(diff[idx].tolist())
            pbits.extend((w[p][idx] & diff[idx]).tolist())
        starts.append(len(words))
    return MstLayout(
        n_in=k, n_out=n, parent=parent, channel=np.array(order, np.int32),
        root_w=w[roots].reshape(len(roots), nw).astype(np.uint32),
        diff_start=np.array(starts, np.uint32),
        diff_word=np.array(words, np.uint32), diff_mask=np.array(masks, np.uint32),
        diff_pbits=np.array(pbits, np.uint32),
        depth=depth[order].astype(np.int32))


def mst_cost(layout: MstLayout) -> dict:
    """XOR/popcount work of the MST layout against the plain layer, in words and in bits."""
    nw = nwords(layout.n_in)
    roots = layout.n_roots
    diff_bits = int(_popcount(layout.diff_mask).sum()) if layout.n_diff else 0
    plain_words = layout.n_out * nw
    plain_bits = layout.n_out * layout.n_in
    mst_words = roots * nw + layout.n_diff
    mst_bits = roots * layout.n_in + diff_bits
    return dict(roots=roots, children=layout.n_out - roots, max_depth=int(layout.depth.max()),
                plain_words=plain_words, mst_words=mst_words,
                plain_bits=plain_bits, mst_bits=mst_bits,
                words_saved=1.0 - mst_words / plain_words, bits_saved=1.0 - mst_bits / plain_bits)


def _check_layout(layout: MstLayout):
    k = _k(layout.n_in)
    n = int(layout.n_out)
    nw = nwords(k)
    par = np.asarray(layout.parent)
    start = np.asarray(layout.diff_start)
    if n < 1 or par.shape != (n,) or start.shape != (n + 1,):
        raise ValueError("parent must have n_out entries and diff_start n_out + 1")
    nd = int(np.asarray(layout.diff_word).size)
    if np.asarray(layout.diff_mask).size != nd or np.asarray(layout.diff_pbits).size != nd:
        raise ValueError("diff_word, diff_mask and diff_pbits must have the same length")
    if start[0] != 0 or start[-1] != nd or np.any(np.diff(start.astype(np.int64)) < 0):
        raise ValueError("diff_start must rise from 0 to n_diff")
    roots = par == -1
    if np.any(par < -1) or np.any(par >= np.arange(n)):
        raise ValueError("a parent must be -1 or an earlier node")
    nr = int(roots.sum())
    root_w = np.asarray(layout.root_w)
    if nr < 1 or root_w.shape != (nr, nw):
        raise ValueError(f"root_w must be [{nr}][{nw}] (one row per root, at least one root)")
    if np.any(np.diff(start.astype(np.int64))[roots] != 0):
        raise ValueError("a root owns diff entries")
    dw = np.asarray(layout.diff_word, np.int64)
    dm = np.asarray(layout.diff_mask, np.uint32)
    if nd and (np.any(dw >= nw) or np.any(dw < 0)):
        raise ValueError("a diff word index is out of range")
    if nd and np.any((dw == nw - 1) & ((dm & ~np.uint32(tail_mask(k))) != 0)):
        raise ValueError("a diff mask touches padding bits")
    return k, n, nw


def mst_fc_b1(layout: MstLayout, x) -> np.ndarray:
    """Twin of eh_mst_fc_b1: y[p] = dot product of node p, in node order (int32)."""
    k, n, nw = _check_layout(layout)
    x = _clear_padding(_words("x", x, (nw,)), k)
    par = np.asarray(layout.parent)
    start = np.asarray(layout.diff_start, np.int64)
    root_w = _clear_padding(np.asarray(layout.root_w, np.uint32), k)
    dw = np.asarray(layout.diff_word, np.int64)
    dm = np.asarray(layout.diff_mask, np.uint32)
    dp = np.asarray(layout.diff_pbits, np.uint32)
    y = np.zeros(n, np.int64)
    r = 0
    for p in range(n):
        if par[p] == -1:
            y[p] = k - 2 * int(_popcount(x ^ root_w[r]).sum())
            r += 1
        else:
            sl = slice(start[p], start[p + 1])
            a = (x[dw[sl]] ^ dp[sl]) & dm[sl]           # parent mismatches inside D
            pc_m = int(_popcount(dm[sl]).sum()) if a.size else 0
            pc_a = int(_popcount(a).sum()) if a.size else 0
            y[p] = y[par[p]] - 2 * (pc_m - 2 * pc_a)     # dot_c = dot_p - 2(|D| - 2 pc_D)
    return y.astype(np.int32)
