"""MST compression of binary fully connected layers (see kernels_c/include/eh_mst.h).

Host tool: `mst_build(w, n_in, max_depth)` orders the output channels along a spanning forest
that minimises the kernel's estimated work, with an optional bound on the depth, and emits the
layout the C kernel `eh_mst_fc_b1` reads. `mst_fc_b1` is the numpy twin of that kernel, written
from the header's equations.

Cost model (instructions of the C kernel on Cortex-M4, measured with `edgehost bench`): a root
costs ROOT_PER_WORD per 32-bit word of its row (the fc_b1 core); a child costs CHILD_FIXED plus
CHILD_PER_BIT per position where it differs from its parent (and a call with children expands x
once, EXPAND_PER_WORD per input word). So a channel is worth computing
from a parent only when it is within about ROOT_PER_WORD / CHILD_PER_BIT / 32 of K (~10%) of it:
layers trained without a similarity regulariser have no such neighbours (then every channel
is a root and the layer is a plain fc_b1); MST-regularised training makes them.

Tree construction: Prim's algorithm from a virtual source node joined to every channel with the
root cost; a channel joined to the source becomes a root. Each step attaches the cheapest (cost,
then lowest channel index) pair (unattached channel, attached node whose depth is below
max_depth). Without a depth bound this is the exact minimum spanning tree of that graph; with a
bound it is the usual greedy depth-constrained Prim heuristic (a valid forest whose depth never
exceeds the bound, not necessarily the optimum).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .binary import _clear_padding, _popcount, _words, nwords, unpack_bits

EXPAND_PER_WORD = 35.0  # instructions per input word to expand x into the scratch (per call)

MAX_K = 32768           # EH_MST_MAX_K: positions fit the 15 bits of a code
ROOT_PER_WORD = 11.5    # instructions per word of a root row (fc_b1: 94,142 at 1024 x 256)
CHILD_PER_BIT = 3.6     # instructions per differing position of a child (8 codes in 30)
CHILD_FIXED = 43.0      # instructions per child (set-up, the last < 8 codes, parent's result)


@dataclass
class MstLayout:
    """The arrays of eh_mst_b1 plus the channel of each node (`channel[p]`)."""
    n_in: int
    n_out: int
    parent: np.ndarray      # int32 [n_out], -1 for roots, else a node number < p
    channel: np.ndarray     # int32 [n_out], original output channel of node p
    root_w: np.ndarray      # uint32 [n_roots][W]
    diff_start: np.ndarray  # uint32 [n_out + 1]
    diff: np.ndarray        # uint16 [n_diff]: (position << 1) | child bit
    depth: np.ndarray       # int32 [n_out], 0 for roots

    @property
    def n_roots(self) -> int:
        return int(np.count_nonzero(np.asarray(self.parent) == -1))

    @property
    def n_diff(self) -> int:
        return int(np.asarray(self.diff).size)


def _k(n_in) -> int:
    k = int(n_in)
    if k < 1 or k > MAX_K:
        raise ValueError(f"n_in must lie in [1, {MAX_K}], got {k}")
    return k


def _hamming(w: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances of packed rows (padding already cleared), [n][n] int64."""
    n = w.shape[0]
    d = np.zeros((n, n), np.int64)
    for i in range(n):  # row by row: O(n^2 W) memory would be too much for wide layers
        d[i] = _popcount(w ^ w[i]).sum(-1)
    return d


def mst_build(w, n_in, max_depth=None, root_cost=None, per_bit=CHILD_PER_BIT,
              fixed=CHILD_FIXED) -> MstLayout:
    """Build the MST layout of packed weights w [n_out][W] (padding bits are ignored).

    root_cost (default ROOT_PER_WORD * W), fixed + per_bit * distance: the costs of computing a
    channel as a root and from a parent at that Hamming distance (any consistent unit);
    root_cost=inf gives one tree (the first channel its only root)."""
    k = _k(n_in)
    nw = nwords(k)
    w = np.asarray(w)
    if w.ndim != 2 or w.shape[0] == 0:
        raise ValueError("w must be [n_out][words]")
    w = _clear_padding(_words("w", w, (w.shape[0], nw)), k)
    if max_depth is not None and int(max_depth) < 0:
        raise ValueError("max_depth must be >= 0 or None")
    rc = float(ROOT_PER_WORD * nw if root_cost is None else root_cost)
    per_bit, fixed = float(per_bit), float(fixed)
    if np.isnan(rc) or rc < 0 or not (np.isfinite(per_bit) and np.isfinite(fixed)) or per_bit < 0 or fixed < 0:
        raise ValueError("costs must be >= 0 (root_cost may be inf: one tree, a single root)")
    n = w.shape[0]
    dist = _hamming(w)
    cost = fixed + per_bit * dist.astype(np.float64)

    best = np.full(n, rc, np.float64)          # cheapest known attachment
    best_par = np.full(n, -1, np.int64)         # -1: the virtual source (be a root)
    depth = np.zeros(n, np.int64)
    done = np.zeros(n, bool)
    order: list[int] = []
    for _ in range(n):
        todo = np.flatnonzero(~done)
        c = int(todo[np.argmin(best[todo])])    # ties: lowest channel index
        done[c] = True
        p = int(best_par[c])
        depth[c] = 0 if p < 0 else depth[p] + 1
        order.append(c)
        if max_depth is None or depth[c] < int(max_depth):
            better = (~done) & (cost[c] < best)
            best[better] = cost[c][better]
            best_par[better] = c

    node_of = np.empty(n, np.int64)
    node_of[order] = np.arange(n)
    parent = np.array([-1 if best_par[c] < 0 else node_of[best_par[c]] for c in order], np.int32)
    roots = [c for c in order if best_par[c] < 0]
    bits = (unpack_bits(w, k) < 0).astype(np.uint32)   # [n][K] weight bits
    starts = [0]
    codes: list[np.ndarray] = []
    total = 0
    for c in order:
        p = int(best_par[c])
        if p >= 0:
            pos = np.flatnonzero(bits[c] != bits[p]).astype(np.uint32)
            codes.append((pos << 1) | bits[c][pos])
            total += pos.size
        starts.append(total)
    diff = np.concatenate(codes).astype(np.uint16) if codes else np.zeros(0, np.uint16)
    return MstLayout(
        n_in=k, n_out=n, parent=parent, channel=np.array(order, np.int32),
        root_w=w[roots].reshape(len(roots), nw).astype(np.uint32),
        diff_start=np.array(starts, np.uint32), diff=diff,
        depth=depth[order].astype(np.int32))


def mst_cost(layout: MstLayout) -> dict:
    """Work and storage of the layout against the plain layer (fc_b1 on the full weights):
    bit operations, the cost model's instruction estimate, and bytes of weights + layout."""
    k, n = int(layout.n_in), int(layout.n_out)
    nw = nwords(k)
    roots, nd = layout.n_roots, layout.n_diff
    children = n - roots
    plain_est = n * nw * ROOT_PER_WORD
    mst_est = (roots * nw * ROOT_PER_WORD + children * CHILD_FIXED + nd * CHILD_PER_BIT
               + (nw * EXPAND_PER_WORD if nd else 0.0))
    plain_bytes = n * nw * 4
    mst_bytes = roots * nw * 4 + nd * 2 + (n + 1) * 4 + n * 4
    return dict(roots=roots, children=children, n_diff=nd,
                max_depth=int(np.max(layout.depth)) if n else 0,
                mean_child_distance=(nd / children) if children else 0.0,
                plain_bits=n * k, mst_bits=roots * k + nd, bits_saved=1.0 - (roots * k + nd) / (n * k),
                plain_est=plain_est, mst_est=mst_est, est_speedup=plain_est / mst_est,
                plain_bytes=plain_bytes, mst_bytes=mst_bytes)


def mst_check_b1(layout: MstLayout) -> tuple[int, int, int]:
    """Twin of eh_mst_check_b1: ValueError for every layout the C rejects. Returns (K, n, W)."""
    k = int(layout.n_in)
    if k < 1 or k > MAX_K:
        raise ValueError(f"n_in must lie in [1, {MAX_K}]")
    n = int(layout.n_out)
    nw = nwords(k)
    par = np.asarray(layout.parent)
    start = np.asarray(layout.diff_start).astype(np.int64)
    if n < 1 or par.shape != (n,) or start.shape != (n + 1,):
        raise ValueError("parent must have n_out entries and diff_start n_out + 1")
    diff = np.asarray(layout.diff)
    if diff.dtype.kind not in "iu" or (diff.size and (diff.min() < 0 or diff.max() > 0xFFFF)):
        raise ValueError("diff must hold uint16 codes")
    nd = int(diff.size)
    if start[0] != 0 or start[-1] != nd or np.any(np.diff(start) < 0):
        raise ValueError("diff_start must rise from 0 to n_diff")
    if np.any(par < -1) or np.any(par >= np.arange(n)):
        raise ValueError("a parent must be -1 or an earlier node")
    roots = par == -1
    if np.any(np.diff(start)[roots] != 0):
        raise ValueError("a root owns diff codes")
    nr = int(roots.sum())
    root_w = np.asarray(layout.root_w)
    if nr < 1 or root_w.shape != (nr, nw):
        raise ValueError(f"root_w must be [{nr}][{nw}] (one row per root, at least one root)")
    pos = diff.astype(np.int64) >> 1
    if nd and np.any(pos >= k):
        raise ValueError("a diff position is >= n_in")
    owner = np.repeat(np.arange(n), np.diff(start))
    if nd > 1 and np.any((owner[1:] == owner[:-1]) & (pos[1:] <= pos[:-1])):
        raise ValueError("the positions of a node must increase strictly")
    return k, n, nw


def mst_fc_b1(layout: MstLayout, x) -> np.ndarray:
    """Twin of eh_mst_fc_b1: y[p] = dot product of node p, in node order (int32)."""
    k, n, nw = mst_check_b1(layout)
    x = _clear_padding(_words("x", x, (nw,)), k)
    xbits = (unpack_bits(x, k) < 0).astype(np.int64)
    par = np.asarray(layout.parent)
    start = np.asarray(layout.diff_start, np.int64)
    root_w = _clear_padding(np.asarray(layout.root_w, np.uint32), k)
    diff = np.asarray(layout.diff).astype(np.int64)
    y = np.zeros(n, np.int64)
    r = 0
    for p in range(n):
        if par[p] == -1:
            y[p] = k - 2 * int(_popcount(x ^ root_w[r]).sum())
            r += 1
        else:
            codes = diff[start[p]:start[p + 1]]
            s = int((xbits[codes >> 1] ^ (codes & 1)).sum())
            y[p] = y[par[p]] + 2 * codes.size - 4 * s      # dot_c = dot_p + 2|D| - 4S
    return y.astype(np.int32)


def mst_fc_b1_unchecked(layout: MstLayout, x) -> np.ndarray:
    """Twin of eh_mst_fc_b1_unchecked (behind the check, as the C wrapper): same as mst_fc_b1."""
    return mst_fc_b1(layout, x)
