"""MST-compressed binary dense layers (format 1.4): mst_fc_b1_f32 (34), mst_fc_b1_bits (42).

The rows of the binary weight matrix form a spanning forest: a root row is stored whole, a child
row as the positions where it differs from its parent (`eh_mst_fc_b1`, kernels_c/include/eh_mst.h).
Params: "tree" u32 [4 n_out + 3]: n_roots, n_diff, parent[n_out] (int32, -1 for a root, else an
earlier node), channel[n_out] (a permutation), node_of[n_out] (its inverse), diff_start[n_out + 1];
"root_w" u32 [n_roots W]; "diff" u16 [n_diff] codes (position << 1 | sign), absent iff n_diff = 0;
then "affine" f32 [2 n_out] (scale then bias: y[c] = (float)dot x scale[c] + bias[c]) or
"threshold" s32 [n_out] (bit c = dot < thr[c]). State 0: the s32 scratch [n_out + ceil(n_in / 2)]
(the dot products in node order, then the kernel's 2 n_in bytes), an activation of this layer.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from .base import Op, Prep, check_scratch


def check_tree(w: np.ndarray, n_in: int, n_out: int):
    """The tree parameter, in the C loader's order. Returns (error or None,
    (n_roots, n_diff, parent, diff_start))."""
    n = n_out
    n_roots, n_diff = int(w[0]), int(w[1])
    if not 1 <= n_roots <= n:
        return f"n_roots {n_roots} outside [1, {n}]", None
    lim = (n - n_roots) * n_in
    if n_diff > lim:
        return f"n_diff {n_diff} > {lim} ((n_out - n_roots) x n_in)", None
    parent = w[2:2 + n].view(np.int32).astype(np.int64)
    channel = w[2 + n:2 + 2 * n].astype(np.int64)
    node_of = w[2 + 2 * n:2 + 3 * n].astype(np.int64)
    start = w[2 + 3 * n:3 + 4 * n].astype(np.int64)
    if start[0] != 0 or start[n] != n_diff:
        return (f"diff_start[0] {start[0]} and diff_start[{n}] {start[n]} must be 0 and n_diff "
                f"({n_diff})"), None
    p = np.arange(n)
    ch_ok = channel < n
    inv = np.where(ch_ok, node_of[np.minimum(channel, n - 1)], -1)
    fails = [start[1:] < start[:-1], (parent < -1) | (parent >= p), (parent == -1) & (start[1:] != start[:-1]),
             ~ch_ok, ch_ok & (inv != p)]
    anyf = np.logical_or.reduce(fails)
    if anyf.any():
        i = int(np.argmax(anyf))
        if fails[0][i]:
            return f"node {i}: diff_start {start[i + 1]} < {start[i]}", None
        if fails[1][i]:
            return f"node {i}: parent {parent[i]} outside [-1, {i - 1}]", None
        if fails[2][i]:
            return f"node {i}: a root owns {start[i + 1] - start[i]} codes", None
        if fails[3][i]:
            return f"node {i}: channel {channel[i]} outside [0, {n - 1}]", None
        return f"node {i}: node_of[{channel[i]}] is {inv[i]}, not {i} (channel is not a permutation)", None
    r = int(np.sum(parent == -1))
    if r != n_roots:
        return f"{r} roots, n_roots says {n_roots}", None
    return None, (n_roots, n_diff, parent, start)


def check_diff(codes: np.ndarray, mst, n_in: int):
    """The codes of every child: positions < n_in, strictly increasing within the node."""
    _, n_diff, parent, start = mst
    if n_diff == 0:
        return None
    pos = codes.astype(np.int64) >> 1
    node = np.searchsorted(start[1:], np.arange(n_diff), side="right")   # owner of each code
    first = np.zeros(n_diff, bool)
    first[start[:-1][start[:-1] < n_diff]] = True
    prev = np.concatenate([[-1], pos[:-1]])
    bad_range = pos >= n_in
    bad_order = (~first) & (pos <= prev)
    bad = bad_range | bad_order
    if bad.any():
        j = int(np.argmax(bad))
        if bad_range[j]:
            return f"node {node[j]}: code {j} (position {pos[j]}) outside [0, {n_in - 1}]"
        return f"node {node[j]}: code {j} (position {pos[j]}) not after position {prev[j]}"
    return None


class MstFcB1(Op):
    minor = 4

    def optional(self, ctx, k, kind):
        return kind == "mst_diff" and ctx.extra["mst"][1] == 0 or super().optional(ctx, k, kind)

    def count(self, ctx, k, kind, cnt):
        n_out, W = ctx.n_out, ctx.W
        if kind == "mst_tree":
            return cnt == 4 * n_out + 3, f"{4 * n_out + 3} (n_roots, n_diff, parent, channel, node_of, diff_start)"
        mst = ctx.extra.get("mst")
        if kind == "mst_root":
            return cnt == mst[0] * W, f"{mst[0] * W} (n_roots x {W})"
        if kind == "mst_diff":
            return cnt == mst[1], f"{mst[1]} (n_diff)"
        if kind == "affine":
            return cnt == 2 * n_out, f"{2 * n_out} (scale then bias)"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        if kind == "mst_tree":
            err, ctx.extra["mst"] = check_tree(vals, ctx.n_in, ctx.n_out)
        elif kind == "mst_diff":
            err = check_diff(vals, ctx.extra["mst"], ctx.n_in)
        else:
            return super().values(ctx, k, kind, check, vals)
        if err:
            ctx.param_fail(k, err)

    def scratch_elements(self, n_in, n_out):
        return n_out + (n_in + 1) // 2          # dot products, then 2 n_in bytes

    def check(self, ctx):
        check_scratch(ctx, self.scratch_elements(ctx.n_in, ctx.n_out))

    def step(self, hm, layer, x):
        """The kernel's dot products in node order, then the output stage in channel order
        (channel[p] = the channel of node p)."""
        from ..sim.mst import MstLayout
        n = layer.n_out
        tree, root_w, diff, last = layer.params
        parent = tree[2:2 + n].view(np.int32)
        channel = tree[2 + n:2 + 2 * n].astype(np.int64)
        lay = MstLayout(n_in=layer.n_in, n_out=n, parent=parent, channel=channel.astype(np.int32),
                        root_w=root_w.reshape(int(tree[0]), -1), diff_start=tree[2 + 3 * n:3 + 4 * n],
                        diff=np.zeros(0, np.uint16) if diff is None else diff, depth=np.zeros(n, np.int32))
        dot = hm.k.mst.mst_fc_b1(lay, x)
        if layer.type == "mst_fc_b1_f32":
            y = np.zeros(n, np.float32)
            y[channel] = (dot.astype(np.float32) * last[channel]).astype(np.float32) + last[n + channel]
            return y
        bits = np.zeros(n, np.uint8)
        bits[channel] = dot < last[channel]
        return hm.k.binary.pack_spikes_b1(bits)

    def prepare(self, hm, layer):
        """eh_mst_fc_b1_unchecked behind eh_mst_check_b1 (its own 2 n_in byte scratch: the
        scratch tensor's content is not modelled, as in step), then the output stage."""
        from ..kernels.mst import _layout
        from ..sim.mst import MstLayout
        c = Prep(hm, "mst")
        n, n_in = layer.n_out, layer.n_in
        tree, root_w, diff, last = layer.params
        tree = np.asarray(tree)
        parent = tree[2:2 + n].view(np.int32)
        channel = tree[2 + n:2 + 2 * n].astype(np.int64)
        lay = MstLayout(n_in=n_in, n_out=n, parent=parent, channel=channel.astype(np.int32),
                        root_w=root_w.reshape(int(tree[0]), -1), diff_start=tree[2 + 3 * n:3 + 4 * n],
                        diff=np.zeros(0, np.uint16) if diff is None else diff, depth=np.zeros(n, np.int32))
        lp = _layout(lay, c.keep)
        c.check("eh_mst_check_b1", c.lib.eh_mst_check_b1(lp, 2 * n_in))
        x, _ = c.t(layer.input, np.uint32, (n_in + 31) // 32)
        scratch, _ = c.buf(2 * n_in, np.uint8)
        dp, dot = c.buf(n, np.int32)
        f = c.lib.eh_mst_fc_b1_unchecked
        if layer.type == "mst_fc_b1_f32":
            y = c.t(layer.output, np.float32, n)[1]
            sc, bi = last[channel], last[n + channel]

            def run():
                f(lp, x, scratch, dp)
                y[channel] = (dot.astype(np.float32) * sc).astype(np.float32) + bi
            return run
        yp, _ = c.t(layer.output, np.uint32, (n + 31) // 32)
        thr = last[channel]
        bp, bits = c.buf(n, np.uint8)
        pack = hm.k.binary.lib.eh_pack_spikes_b1

        def run():
            f(lp, x, scratch, dp)
            bits[channel] = dot < thr
            st = pack(n, bp, yp)
            if st:
                c.fail("eh_pack_spikes_b1", st)
        return run


_TREE = [("tree", "mst_tree", "<u4", None), ("root_w", "mst_root", "<u4", None), ("diff", "mst_diff", "<u2", None)]
OPS = [
    MstFcB1(34, F.Spec("mst_fc_b1_f32", (F.DT_B1,), F.DT_F32, F.KIND_ACT, False, [F.DT_S32],
                       _TREE + [("affine", "affine", F.F32, "finite")], scratch=True, max_n_in=F.MST_MAX_K)),
    MstFcB1(42, F.Spec("mst_fc_b1_bits", (F.DT_B1,), F.DT_B1, F.KIND_ACT, False, [F.DT_S32],
                       _TREE + [("threshold", "vec", "<i4", "thrb1")], scratch=True, max_n_in=F.MST_MAX_K)),
]
