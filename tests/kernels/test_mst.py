"""MST-compressed binary fc: identical to fc_b1 for any weights; C == numpy; tree and cost checks."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import edgehost.kernels as K
import edgehost.sim as S


def clustered(rng, k, n, n_roots, flips):
    """Weights like an MST-trained layer: a few roots, children a few bit flips from a parent."""
    w = [rng.choice(np.array([-1, 1], np.int8), k) for _ in range(n_roots)]
    while len(w) < n:
        c = w[int(rng.integers(len(w)))].copy()
        idx = rng.choice(k, size=min(flips, k), replace=False)
        c[idx] *= -1
        w.append(c)
    return np.array(w)[rng.permutation(n)]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 100), st.integers(1, 24), st.integers(0, 2**32 - 1),
       st.sampled_from([None, 0, 1, 2, 5]), st.sampled_from(["hamming", "words"]), st.booleans())
def test_mst_equals_fc_b1_for_any_weights(k, n, seed, max_depth, metric, cluster):
    rng = np.random.default_rng(seed)
    wv = clustered(rng, k, n, max(1, n // 6), 3) if cluster else rng.choice(np.array([-1, 1], np.int8), (n, k))
    xv = rng.choice(np.array([-1, 1], np.int8), k)
    w, x = S.pack_bits(wv), S.pack_bits(xv)
    lay = S.mst_build(w, k, max_depth=max_depth, metric=metric)
    assert sorted(lay.channel.tolist()) == list(range(n))
    if max_depth is not None:
        assert lay.depth.max() <= max_depth
    ref = (wv.astype(np.int64) @ xv)[lay.channel]
    np.testing.assert_array_equal(S.mst_fc_b1(lay, x), ref)
    np.testing.assert_array_equal(K.mst_fc_b1(lay, x), ref)
    cost = S.mst_cost(lay)
    assert cost["mst_words"] == lay.n_roots * w.shape[1] + lay.n_diff
    # a child's cost is its number of differing words, the unit of the C kernel's work
    nd = np.diff(lay.diff_start.astype(np.int64))
    for p in range(n):
        if lay.parent[p] >= 0:
            c, q = lay.channel[p], lay.channel[lay.parent[p]]
            assert nd[p] == np.count_nonzero(w[c] ^ w[q])


def test_unbounded_tree_is_a_minimum_spanning_tree():
    """Total weight equals Kruskal's on the same graph (virtual root joined at cost K)."""
    rng = np.random.default_rng(5)
    k, n = 70, 30
    wv = clustered(rng, k, n, 4, 5)
    lay = S.mst_build(S.pack_bits(wv), k)
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


def test_clustered_layer_saves_work():
    rng = np.random.default_rng(1)
    k, n = 1024, 256
    wv = clustered(rng, k, n, 8, 6)
    lay = S.mst_build(S.pack_bits(wv), k, max_depth=16)
    cost = S.mst_cost(lay)
    assert cost["words_saved"] > 0.5 and cost["bits_saved"] > 0.5
    xv = rng.choice(np.array([-1, 1], np.int8), k)
    np.testing.assert_array_equal(K.mst_fc_b1(lay, S.pack_bits(xv)), (wv.astype(np.int64) @ xv)[lay.channel])


def bad_layouts():
    rng = np.random.default_rng(3)
    k, n = 40, 5
    wv = clustered(rng, k, n, 1, 2)
    lay = S.mst_build(S.pack_bits(wv), k)
    assert lay.n_roots == 1 and lay.n_diff > 0
    child = int(np.nonzero(lay.parent >= 0)[0][-1])
    out = []
    par = lay.parent.copy(); par[child] = child              # parent not before the child
    out.append(dataclasses.replace(lay, parent=par))
    par = lay.parent.copy(); par[child] = n + 3              # parent out of range
    out.append(dataclasses.replace(lay, parent=par))
    par = lay.parent.copy(); par[child] = -2
    out.append(dataclasses.replace(lay, parent=par))
    dw = lay.diff_word.copy(); dw[0] = 2                     # word index out of range (W = 2)
    out.append(dataclasses.replace(lay, diff_word=dw))
    dw = lay.diff_word.copy(); dm = lay.diff_mask.copy()
    dw[0] = 1; dm[0] = 1 << 9                                # a padding bit of the last word
    out.append(dataclasses.replace(lay, diff_word=dw, diff_mask=dm))
    ds = lay.diff_start.copy(); ds[-1] += 1                  # offsets inconsistent
    out.append(dataclasses.replace(lay, diff_start=ds))
    ds = lay.diff_start.copy(); ds[1] = ds[2] + 1 if n > 2 else 5   # decreasing offsets
    out.append(dataclasses.replace(lay, diff_start=ds))
    ds = lay.diff_start.copy(); ds[1:] += 1                  # the root owns an entry
    dw = np.concatenate([[0], lay.diff_word]).astype(np.uint32)
    dm = np.concatenate([[1], lay.diff_mask]).astype(np.uint32)
    dp = np.concatenate([[0], lay.diff_pbits]).astype(np.uint32)
    out.append(dataclasses.replace(lay, diff_start=ds, diff_word=dw, diff_mask=dm, diff_pbits=dp))
    out.append(dataclasses.replace(lay, n_in=0))
    return out


@pytest.mark.parametrize("i", range(9))
def test_bad_layouts_rejected_by_both(i):
    lay = bad_layouts()[i]
    x = np.zeros(2, np.uint32)
    with pytest.raises(ValueError):
        S.mst_fc_b1(lay, x)
    with pytest.raises(ValueError):
        K.mst_fc_b1(lay, x)
