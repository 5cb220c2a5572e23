"""BasicMotions from the copy bundled in sktime (or aeon): no network."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from edgehost.data import DataFormatError, load_basic_motions, read_ts
from edgehost.data import basicmotions as bm_mod

HAVE = any(importlib.util.find_spec(p) is not None for p in ("sktime", "aeon"))
needs_pkg = pytest.mark.skipif(not HAVE, reason="needs the PyPI package sktime (or aeon): "
                               "pip install sktime, or pip install 'edgehost[har]'")


@needs_pkg
def test_basic_motions_shapes_classes_split():
    tr, te = load_basic_motions()
    for ws in (tr, te):
        assert ws.X.shape == (40, 100, 6) and ws.X.dtype == np.float32
        assert ws.y.dtype == np.int64 and np.bincount(ws.y).tolist() == [10, 10, 10, 10]
        assert ws.subjects.tolist() == [-1] * 40
        assert ws.class_names == ("Standing", "Running", "Walking", "Badminton")
        assert np.all(np.isfinite(ws.X))
    assert not np.array_equal(tr.X, te.X)
    # standing moves least, running most (accelerometer channels 0, 2, 4)
    energy = [tr.X[tr.y == c][:, :, [0, 2, 4]].std() for c in range(4)]
    assert energy[0] == min(energy) and energy[1] == max(energy)


@pytest.mark.skipif(importlib.util.find_spec("sktime") is None, reason="needs sktime")
def test_basic_motions_equals_sktime_loader():
    from sktime.datasets import load_basic_motions as sk_load
    tr, te = load_basic_motions()
    for split, ws in (("train", tr), ("test", te)):
        X, y = sk_load(split=split, return_type="numpy3D")          # [series, dims, steps]
        want = X.transpose(0, 2, 1)[:, :, [0, 3, 1, 4, 2, 5]].astype(np.float32)
        np.testing.assert_array_equal(ws.X, want)
        assert [s.lower() for s in y] == [ws.class_names[i].lower() for i in ws.y]


def test_missing_package_message(monkeypatch):
    monkeypatch.setattr(bm_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="sktime"):
        bm_mod.basic_motions_dir()


HEADER = "#comment\n@problemName T\n@univariate false\n@dimensions 2\n@seriesLength 3\n@classLabel true a b\n@data\n"


def test_read_ts_small(tmp_path):
    p = tmp_path / "t.ts"
    p.write_text(HEADER + "1,2,3:4,5,6:a\n-1,0.5,2e-3:7,8,9:b\n")
    X, lab, classes = read_ts(p)
    assert X.shape == (2, 2, 3) and X[1, 0].tolist() == [-1, 0.5, 0.002]
    assert lab.tolist() == ["a", "b"] and classes == ("a", "b")


@pytest.mark.parametrize("body,line,msg", [
    ("1,2,3:4,5,6:a\n1,2:4,5,6:b\n", 9, "dimension 0 has 2 values"),
    ("1,2,3:4,5,6:a\n1,2,3:b\n", 9, "1 dimensions, expected 2"),
    ("1,2,3:4,x,6:a\n", 8, "not a number"),
    ("1,2,3:4,5,6:c\n", 8, "class 'c'"),
])
def test_read_ts_errors_name_file_and_line(tmp_path, body, line, msg):
    p = tmp_path / "bad.ts"
    p.write_text(HEADER + body)
    with pytest.raises(DataFormatError, match=msg) as ei:
        read_ts(p)
    assert ei.value.line == line and str(ei.value).startswith(f"{p}:{line}:")


def test_read_ts_structure_errors(tmp_path):
    p = tmp_path / "b.ts"
    p.write_text("@problemName T\n")
    with pytest.raises(DataFormatError, match="no @data"):
        read_ts(p)
    p.write_text("1,2:a\n")
    with pytest.raises(DataFormatError, match="b.ts:1: expected a @ header"):
        read_ts(p)
    p.write_text(HEADER.replace("@classLabel true a b", "@classLabel false"))
    with pytest.raises(DataFormatError, match="no series"):
        read_ts(p)
    p.write_text(HEADER.replace("@classLabel true a b", "@classLabel false") + "1,2,3:4,5,6:a\n")
    with pytest.raises(DataFormatError, match="classLabel"):
        read_ts(p)
