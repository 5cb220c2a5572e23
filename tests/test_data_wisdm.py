"""WISDM 2019 watch parser on a fixture in the exact raw-file format (tests/data/wisdm)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edgehost.data import (WISDM_7, WISDM_ACTIVITIES, DataFormatError, align_streams, load_wisdm_watch,
                           make_windows, parse_wisdm_file, wisdm_label)

ROOT = Path(__file__).parent / "data" / "wisdm"
WATCH = ROOT / "wisdm-dataset" / "raw" / "watch"
ACC_FILE = WATCH / "accel" / "data_1600_accel_watch.txt"
T0 = 252207666810782                 # first accelerometer timestamp (ns) of activity P
T1 = T0 + 600_000_000_000            # first accelerometer timestamp of activity F
MS = 1_000_000

# values of the fixture's valid lines, as written in the files
ACC_P = np.array([(-0.36476135, 8.793503, 1.0550842), (-0.31212, 8.812771, 1.1084595),
                  (-0.2759018, 8.7568, 1.1927185), (-0.1828537, 8.701004, 1.3089294),
                  (-0.10412598, 8.6462555, 1.4122925), (0.012023926, 8.590729, 1.5371094),
                  (0.1358948, 8.554016, 1.6210022), (0.2201538, 8.511459, 1.6822357),
                  (0.2980652, 8.47757, 1.7240143), (0.37133789, 8.433578, 1.7510529)])
GYRO_P = np.array([(-0.020706177, 0.15344238, 0.0135040283), (-0.03352356, 0.17091369, 0.02049255),
                   (-0.05039978, 0.19012451, 0.030151367), (-0.07220459, 0.20587158, 0.04211426),
                   (-0.09388733, 0.21525574, 0.05189514), (-0.11405945, 0.2236023, 0.06036377),
                   (-0.12878418, 0.22731018, 0.06536865), (-0.13685608, 0.22563171, 0.06811523),
                   (-0.13995361, 0.21954346, 0.06855774), (-0.13623047, 0.20942688, 0.0664978)])


def test_parse_file_counts_every_malformed_line():
    wf = parse_wisdm_file(ACC_FILE)
    assert wf.subject == 1600 and wf.sensor == "accel"
    assert dict(wf.counts) == {"blank": 2, "no_semicolon": 1, "multi_record": 1, "bad_field_count": 1,
                               "bad_number": 1, "non_finite": 1, "subject_mismatch": 1,
                               "unknown_activity": 1}
    # 11 P lines (one a duplicate timestamp, kept here) and 8 F samples (two on one line)
    assert wf.codes.tolist() == ["P"] * 11 + ["F"] * 8
    assert wf.t_ns[0] == T0 and wf.t_ns.dtype == np.int64
    assert wf.xyz[0].tolist() == [-0.36476135, 8.793503, 1.0550842]   # the line of the brief
    assert wf.xyz[6].tolist() == ACC_P[5].tolist()                     # the line without ';'
    assert wf.t_ns[12:14].tolist() == [T1 + 50 * MS, T1 + 100 * MS]   # the two-record line
    gyro = parse_wisdm_file(WATCH / "gyro" / "data_1600_gyro_watch.txt")
    assert sum(gyro.counts.values()) == 0 and gyro.xyz.shape == (24, 3)


def test_load_aligns_accel_and_gyro_by_timestamp():
    recs, rep = load_wisdm_watch(ROOT)
    assert [r.name for r in recs] == ["1600_F_0", "1600_F_1", "1600_P_0"]
    f0, f1, p = recs
    # P: gyro is 25 ms after accel; the grid starts at the first gyro sample and ends at the last
    # accel sample: 9 points, gyro exact, accel half-way between two samples
    assert p.n_samples == 9 and p.rate_hz == 20.0 and p.subject == 1600
    np.testing.assert_allclose(p.signals[:, [0, 2, 4]], (ACC_P[:-1] + ACC_P[1:]) / 2, rtol=1e-12)
    np.testing.assert_allclose(p.signals[:, [1, 3, 5]], GYRO_P[:9], rtol=1e-12)
    assert p.segments.tolist() == [[wisdm_label("P"), 0, 9]]
    assert p.label_names[wisdm_label("P")] == "dribbling" and p.units == ("m/s^2", "rad/s")
    # F: the accelerometer has a 400 ms gap (150 -> 550 ms), which splits the activity in two runs
    # of 3 grid points (25, 75, 125 ms and 575, 625, 675 ms)
    assert f0.n_samples == 3 and f1.n_samples == 3
    np.testing.assert_allclose(f0.signals[0, [0, 2, 4]], [(1.7893524 + 1.7821655) / 2,
                                                          (4.2100525 + 4.2148438) / 2,
                                                          (8.683563 + 8.688354) / 2], rtol=1e-12)
    np.testing.assert_allclose(f1.signals[-1, 5], 0.0018310547 + 0.001 * 13, rtol=1e-9)
    assert rep.counts["duplicate_timestamp"] == 1 and rep.counts["no_semicolon"] == 1
    assert rep.counts["blank"] == 2 and rep.n_recordings == 3 and rep.no_overlap == []
    assert abs(rep.median_dt_s["accel"] - 0.05) < 1e-9 and abs(rep.median_dt_s["gyro"] - 0.05) < 1e-9
    # the duplicate (9, 9, 9) sample was dropped: no value near 9 m/s^2 on x
    assert np.abs(p.signals[:, 0]).max() < 1


def test_load_from_each_folder_level_and_filters():
    for root in (ROOT, ROOT / "wisdm-dataset", WATCH):
        assert len(load_wisdm_watch(root)[0]) == 3
    recs, _ = load_wisdm_watch(ROOT, activities="P")
    assert [r.name for r in recs] == ["1600_P_0"]
    assert load_wisdm_watch(ROOT, activities="AB")[0] == []
    with pytest.raises(ValueError, match="unknown activity codes"):
        load_wisdm_watch(ROOT, activities="PZ")
    with pytest.raises(FileNotFoundError, match="data_1601_accel_watch.txt"):
        load_wisdm_watch(ROOT, subjects=[1601])


def test_l2mu_subset_mapping_and_windows():
    assert [WISDM_ACTIVITIES[chr(ord("A") + lab)] for lab in WISDM_7.labels] == list(WISDM_7.names)
    assert [chr(ord("A") + lab) for lab in WISDM_7.labels] == list("POFQRGS")
    recs, _ = load_wisdm_watch(ROOT, activities="POFQRGS")
    ws = make_windows(recs, WISDM_7, length=3, stride=1)
    # F runs give 1 window each, P gives 7; typing is class 2, dribbling class 0
    assert ws.y.tolist() == [2, 2] + [0] * 7 and ws.X.shape == (9, 3, 6)
    assert ws.class_names[0] == "dribbling"


def test_raise_mode_names_file_and_line():
    with pytest.raises(DataFormatError, match=r"data_1600_accel_watch.txt:7: record does not end with ';'"):
        load_wisdm_watch(ROOT, on_error="raise")


GOOD = "1600,A,252207666810782,-0.36476135,8.793503,1.0550842;"
BAD = [
    ("1600,A,252207716810782,-0.31212,8.812771,1.1084595", "does not end with ';'"),
    (GOOD + GOOD, "2 records on one line"),
    ("1600,A,252207716810782,-0.31212,8.812771;", "expected 6 comma-separated fields, got 5"),
    ("1600,A,25220771681078x,-0.31212,8.812771,1.1;", "not a number"),
    ("1600,A,252207716810782,-0.31212,,1.1;", "not a number"),
    ("1600,A,252207716810782,inf,8.8,1.1;", "non-finite"),
    ("1611,A,252207716810782,-0.31212,8.812771,1.1;", "subject 1611 in the file of subject 1600"),
    ("1600,N,252207716810782,-0.31212,8.812771,1.1;", "unknown activity code 'N'"),
]


@pytest.mark.parametrize("line,msg", BAD)
def test_each_malformed_line_raises_or_is_counted(tmp_path, line, msg):
    p = tmp_path / "data_1600_accel_watch.txt"
    p.write_text(f"{GOOD}\n{line}\n")
    with pytest.raises(DataFormatError, match=msg) as ei:
        parse_wisdm_file(p, on_error="raise")
    assert ei.value.line == 2 and ei.value.path == str(p)
    assert str(ei.value).startswith(f"{p}:2: ")
    wf = parse_wisdm_file(p)                                     # skip mode: counted, not raised
    assert sum(wf.counts.values()) == 1
    assert wf.xyz[0].tolist() == [-0.36476135, 8.793503, 1.0550842]


def test_bad_files(tmp_path):
    p = tmp_path / "accel_1600.txt"
    p.write_text(GOOD + "\n")
    with pytest.raises(DataFormatError, match="file name"):
        parse_wisdm_file(p)
    q = tmp_path / "data_1600_gyro_watch.txt"
    q.write_text("\n\n1600,A,x;\n")
    with pytest.raises(DataFormatError, match="no valid samples"):
        parse_wisdm_file(q)
    with pytest.raises(ValueError, match="on_error"):
        parse_wisdm_file(q, on_error="ignore")
    with pytest.raises(FileNotFoundError, match="raw/watch/accel"):
        load_wisdm_watch(tmp_path)
    root = tmp_path / "w"
    shutil.copytree(ROOT, root)
    (root / "wisdm-dataset" / "raw" / "watch" / "gyro" / "data_1600_gyro_watch.txt").unlink()
    with pytest.raises(FileNotFoundError, match="data_1600_gyro_watch.txt"):
        load_wisdm_watch(root)


def test_align_streams_edge_cases():
    t = np.arange(5, dtype=np.int64) * 50 * MS
    v = np.arange(15, dtype=np.float64).reshape(5, 3)
    runs = align_streams(t, v, t, -v)
    assert len(runs) == 1 and runs[0].shape == (5, 6)
    np.testing.assert_array_equal(runs[0][:, 0], v[:, 0])
    np.testing.assert_array_equal(runs[0][:, 1], -v[:, 0])
    assert align_streams(t, v, t + 10_000 * MS, v) == []         # no common time
    assert align_streams(t[:1], v[:1], t, v) == []
    # 10 Hz gyro with max_gap 0.05 s: grid points between gyro samples are dropped
    runs = align_streams(t, v, t[::2], v[::2], max_gap_s=0.05)
    assert [r.shape[0] for r in runs] == [1, 1, 1]
    with pytest.raises(ValueError):
        align_streams(t, v, t, v, rate_hz=0)
