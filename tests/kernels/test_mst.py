"""MST-compressed binary fc: identical to fc_b1 for any weights; C == numpy; tree, codes and
cost checks; every bad layout rejected by both twins."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import edgehost.kernels as K
import edgehost.sim as S
from edgehost.kernels import KernelError


def clustered(rng, k, n, n_roots, flips):
    """Weights like an MST-trained layer: a few roots, children a few bit flips from a parent."""
    w = [rng.choice(np.array([-1, 1], np.int8), k) for _ in range(n_roots)]
    while len(w) < n:
        c = w[int(rng.integers(len(w)))].copy()
        idx = rng.choice(k, size=min(flips, k), replace=False)
        c[idx] *= -1
        w.append(c)
    return np.array(w)[rng.permutation(n)]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 100), st.integers(1, 24), st.integers(0, 2**32 - 1),
       st.sampled_from([None, 0, 1, 2, 5]), st.sampled_from(["model", "bits", "tree"]), st.booleans())
def test_mst_equals_fc_b1_for_any_weights(k, n, seed, max_depth, costs, cluster):
    rng = np.random.default_rng(seed)
    wv = clustered(rng, k, n, max(1, n // 6), 3) if cluster else rng.choice(np.array([-1, 1], np.int8), (n, k))
    xv = rng.choice(np.array([-1, 1], np.int8), k)
    w, x = S.pack_bits(wv), S.pack_bits(xv)
    kw = {"model": {}, "bits": dict(root_cost=k, per_bit=1, fixed=0),
          "tree": dict(root_cost=float("inf"), per_bit=1, fixed=0)}[costs]
    lay = S.mst_build(w, k, max_depth=max_depth, **kw)
    assert sorted(lay.channel.tolist()) == list(range(n))
    if max_depth is not None:
        assert lay.depth.max() <= max_depth
    if costs == "tree" and max_depth is None:
        assert lay.n_roots == 1
    ref = (wv.astype(np.int64) @ xv)[lay.channel]
    np.testing.assert_array_equal(S.mst_fc_b1(lay, x), ref)
    np.testing.assert_array_equal(K.mst_fc_b1(lay, x), ref)
    np.testing.assert_array_equal(K.mst_fc_b1_unchecked(lay, x), ref)
    # the codes of a child: its differing positions, increasing, with its own weight bit
    bits = (wv < 0).astype(np.int64)
    for p in range(n):
        codes = lay.diff[lay.diff_start[p]:lay.diff_start[p + 1]].astype(np.int64)
        if lay.parent[p] < 0:
            assert codes.size == 0
            continue
        c, q = lay.channel[p], lay.channel[lay.parent[p]]
        np.testing.assert_array_equal(codes >> 1, np.flatnonzero(bits[c] != bits[q]))
        np.testing.assert_array_equal(codes & 1, bits[c][codes >> 1])
    cost = S.mst_cost(lay)
    assert cost["mst_bits"] == lay.n_roots * k + lay.n_diff
    assert cost["roots"] + cost["children"] == n


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 200), st.integers(1, 12), st.integers(0, 2**32 - 1), st.data())
def test_any_codes_follow_the_equation(k, n, seed, data):
    """C == numpy for arbitrary valid layouts, whatever the child bits (the header's equation)."""
    rng = np.random.default_rng(seed)
    nw = (k + 31) // 32
    parent = np.array([-1] + [int(rng.integers(-1, p)) for p in range(1, n)], np.int32)
    starts, codes = [0], []
    for p in range(n):
        if parent[p] >= 0:
            m = int(rng.integers(0, min(k, 40) + 1))
            pos = np.sort(rng.choice(k, size=m, replace=False))
            codes.append((pos << 1) | rng.integers(0, 2, m))
        starts.append(starts[-1] + (codes[-1].size if parent[p] >= 0 else 0))
    diff = np.concatenate(codes).astype(np.uint16) if codes else np.zeros(0, np.uint16)
    nr = int((parent == -1).sum())
    lay = S.MstLayout(n_in=k, n_out=n, parent=parent, channel=np.arange(n, dtype=np.int32),
                      root_w=rng.integers(0, 2**32, (nr, nw), dtype=np.uint64).astype(np.uint32),
                      diff_start=np.array(starts, np.uint32), diff=diff, depth=np.zeros(n, np.int32))
    x = rng.integers(0, 2**32, nw, dtype=np.uint64).astype(np.uint32)   # padding bits set too
    np.testing.assert_array_equal(K.mst_fc_b1(lay, x), S.mst_fc_b1(lay, x))


def test_unbounded_tree_is_a_minimum_spanning_tree():
    """Total weight equals Kruskal's on the same graph (virtual root joined at cost K)."""
    rng = np.random.default_rng(5)
    k, n = 70, 30
    wv = clustered(rng, k, n, 4, 5)
    lay = S.mst_build(S.pack_bits(wv), k, root_cost=k, per_bit=1, fixed=0)
    total = sum(k if lay.parent[p] < 0 else
                int((wv[lay.channel[p]] != wv[lay.channel[lay.parent[p]]]).sum()) for p in range(n))
    edges = [(k, n, i) for i in range(n)]
    edges += [(int((wv[i] != wv[j]).sum()), i, j) for i in range(n) for j in range(i + 1, n)]
    parent = list(range(n + 1))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a
    best = 0
    for c, i, j in sorted(edges):
        if find(i) != find(j):
            parent[find(i)] = find(j)
            best += c
    assert total == best


def test_clustered_layer_saves_work_and_random_layer_stays_plain():
    rng = np.random.default_rng(1)
    k, n = 1024, 256
    wv = clustered(rng, k, n, 8, 6)
    lay = S.mst_build(S.pack_bits(wv), k, max_depth=16)
    cost = S.mst_cost(lay)
    assert cost["bits_saved"] > 0.9 and cost["est_speedup"] > 2 and lay.n_roots == 8
    xv = rng.choice(np.array([-1, 1], np.int8), k)
    np.testing.assert_array_equal(K.mst_fc_b1(lay, S.pack_bits(xv)), (wv.astype(np.int64) @ xv)[lay.channel])
    # random (unregularised-like) channels are ~K/2 apart: the cost model makes them all roots
    wr = rng.choice(np.array([-1, 1], np.int8), (64, k))
    lr = S.mst_build(S.pack_bits(wr), k)
    assert lr.n_roots == 64 and lr.n_diff == 0 and S.mst_cost(lr)["est_speedup"] == 1.0


def bad_layouts():
    rng = np.random.default_rng(3)
    k, n = 40, 5
    wv = clustered(rng, k, n, 1, 2)
    lay = S.mst_build(S.pack_bits(wv), k, root_cost=k, per_bit=1, fixed=0)
    assert lay.n_roots == 1 and lay.n_diff > 0
    child = int(np.nonzero(lay.parent >= 0)[0][-1])
    c0 = int(np.nonzero(np.diff(lay.diff_start.astype(np.int64)) >= 2)[0][0])   # a child with 2+ codes
    e0 = int(lay.diff_start[c0])
    out = []
    par = lay.parent.copy(); par[child] = child              # parent not before the child
    out.append(dataclasses.replace(lay, parent=par))
    par = lay.parent.copy(); par[child] = n + 3              # parent out of range
    out.append(dataclasses.replace(lay, parent=par))
    par = lay.parent.copy(); par[child] = -2
    out.append(dataclasses.replace(lay, parent=par))
    d = lay.diff.copy(); d[e0] = (k << 1) | 1                # position >= K
    out.append(dataclasses.replace(lay, diff=d))
    d = lay.diff.copy(); d[e0 + 1] = d[e0]                   # repeated position
    out.append(dataclasses.replace(lay, diff=d))
    d = lay.diff.copy(); d[e0], d[e0 + 1] = d[e0 + 1], d[e0]  # decreasing positions
    out.append(dataclasses.replace(lay, diff=d))
    ds = lay.diff_start.copy(); ds[-1] += 1                  # offsets inconsistent
    out.append(dataclasses.replace(lay, diff_start=ds))
    ds = lay.diff_start.copy(); ds[1] = ds[2] + 1            # decreasing offsets
    out.append(dataclasses.replace(lay, diff_start=ds))
    ds = lay.diff_start.copy(); ds[1:] += 1                  # the root owns a code
    out.append(dataclasses.replace(lay, diff_start=ds, diff=np.concatenate([[2], lay.diff]).astype(np.uint16)))
    out.append(dataclasses.replace(lay, n_in=0))
    out.append(dataclasses.replace(lay, n_in=32769))
    return out


@pytest.mark.parametrize("i", range(11))
def test_bad_layouts_rejected_by_both(i):
    lay = bad_layouts()[i]
    x = np.zeros(max(1, (int(lay.n_in) + 31) // 32), np.uint32)
    with pytest.raises(ValueError):
        S.mst_fc_b1(lay, x)
    with pytest.raises(ValueError):
        S.mst_check_b1(lay)
    with pytest.raises(ValueError):
        K.mst_fc_b1(lay, x)
    with pytest.raises(ValueError):
        K.mst_fc_b1_unchecked(lay, x)


def test_check_codes_match():
    """eh_mst_check_b1's status for each bad layout (root_w sized right, so the C sees it)."""
    want = [-3, -3, -3, -3, -3, -3, -2, -4, -4, -2, -2]  # [7]: node 0 (a root) owns codes first
    for lay, code in zip(bad_layouts(), want):
        if int(lay.n_in) > 32768 or int(lay.n_in) == 0:
            lay = dataclasses.replace(lay, root_w=np.zeros((lay.n_roots, max(1, (int(lay.n_in) + 31) // 32)), np.uint32))
        with pytest.raises(KernelError) as e:
            K.mst_check_b1(lay)
        assert e.value.status == code


def test_build_rejects_bad_arguments():
    w = S.pack_bits(np.ones((3, 10), np.int8))
    for kw in (dict(max_depth=-1), dict(per_bit=-1), dict(fixed=float("nan")), dict(root_cost=-1)):
        with pytest.raises(ValueError):
            S.mst_build(w, 10, **kw)
    with pytest.raises(ValueError):
        S.mst_build(w, 32769)
    with pytest.raises(ValueError):
        S.mst_build(np.zeros((0, 1), np.uint32), 10)
