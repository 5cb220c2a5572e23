"""WISDM 2019 smartwatch data ("WISDM Smartphone and Smartwatch Activity and Biometrics
Dataset", Weiss, Fordham University, UCI, CC BY 4.0): 51 subjects (ids 1600..1650), 18
activities (codes A..S, no N), about 3 minutes each, watch accelerometer and gyroscope at a
nominal 20 Hz. This is the data of the L2MU paper. It is not on PyPI: download the UCI archive
yourself and give the folder to `load_wisdm_watch`.

Raw files: ``wisdm-dataset/raw/watch/accel/data_<subject>_accel_watch.txt`` and
``.../watch/gyro/data_<subject>_gyro_watch.txt``, one sample a line::

    1600,A,252207666810782,-0.36476135,8.793503,1.0550842;

subject, activity code, timestamp (ns, the sensor clock), x, y, z, then ``;``. Units:
accelerometer m/s^2 (gravity included), gyroscope rad/s.

Malformed lines are handled explicitly, each in a named category that is counted
(`WisdmReport.counts`); with ``on_error="raise"`` any of them raises `DataFormatError` naming
the file and line instead:

    blank             an empty line (skipped)
    no_semicolon      a record without the closing ';' (kept: the values are complete)
    multi_record      several ';'-terminated records on one line (each is parsed)
    bad_field_count   a record without exactly 6 comma-separated fields (dropped)
    bad_number        subject, timestamp or a value that does not parse (dropped)
    non_finite        a value that is nan or inf (dropped)
    subject_mismatch  a subject id other than the one in the file name (dropped)
    unknown_activity  an activity code outside A..S / N (dropped)
    duplicate_timestamp  a second sample with the same timestamp and activity (dropped;
                      counted, not an error, also with on_error="raise")

Blank lines are never an error.

Alignment: accelerometer and gyroscope are sampled separately. For each subject and activity,
both streams are sorted by timestamp and linearly interpolated onto one uniform grid at
`rate_hz` over the time both cover; a grid point is kept only when each stream has samples on
both sides of it no more than `max_gap_s` apart, so a gap in either stream splits the activity
into several recordings.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._common import DataFormatError, Recording, interleave
from .windows import ClassSet

#: WISDM 2019 activity codes (activity_key.txt).
WISDM_ACTIVITIES = {
    "A": "walking", "B": "jogging", "C": "stairs", "D": "sitting", "E": "standing",
    "F": "typing", "G": "brushing_teeth", "H": "eating_soup", "I": "eating_chips",
    "J": "eating_pasta", "K": "drinking", "L": "eating_sandwich", "M": "kicking",
    "O": "catch", "P": "dribbling", "Q": "writing", "R": "clapping", "S": "folding_clothes",
}
#: Nominal sample rate of the WISDM 2019 raw data.
WISDM_RATE_HZ = 20.0
WISDM_UNITS = ("m/s^2", "rad/s")


def wisdm_label(code: str) -> int:
    """Integer label of a WISDM activity code in `Recording.segments`: A -> 0, ..., S -> 18."""
    if code not in WISDM_ACTIVITIES:
        raise ValueError(f"unknown WISDM activity code {code!r}")
    return ord(code) - ord("A")


WISDM_LABEL_NAMES = {wisdm_label(c): n for c, n in WISDM_ACTIVITIES.items()}

#: The L2MU group's 7 hand-oriented activities, in their order:
#: dribbling P, catch O, typing F, writing Q, clapping R, brushing teeth G, folding clothes S.
WISDM_7 = ClassSet(labels=tuple(wisdm_label(c) for c in "POFQRGS"),
                   names=("dribbling", "catch", "typing", "writing", "clapping", "brushing_teeth",
                          "folding_clothes"))

_FILE_RE = re.compile(r"^data_(\d+)_(accel|gyro)_watch\.txt$")
_CATEGORIES = ("blank", "no_semicolon", "multi_record", "bad_field_count", "bad_number",
               "non_finite", "subject_mismatch", "unknown_activity", "duplicate_timestamp")


@dataclass
class WisdmFile:
    """One parsed raw file: subject, sensor, and per sample activity code, timestamp (ns) and
    x, y, z; `counts` has the malformed-line categories met (module doc)."""

    path: str
    subject: int
    sensor: str
    codes: np.ndarray      # [N] '<U1'
    t_ns: np.ndarray       # [N] int64
    xyz: np.ndarray        # [N, 3] float64
    counts: Counter = field(default_factory=Counter)


@dataclass
class WisdmReport:
    """What `load_wisdm_watch` met: malformed-line counts (total and per file), recordings made,
    samples of each stream that fell outside the aligned grid, median sample interval (s)."""

    counts: Counter = field(default_factory=Counter)
    by_file: dict = field(default_factory=dict)
    n_recordings: int = 0
    no_overlap: list = field(default_factory=list)
    median_dt_s: dict = field(default_factory=dict)


def parse_wisdm_file(path, on_error: str = "skip") -> WisdmFile:
    """Parse one raw watch file (``data_<subject>_<accel|gyro>_watch.txt``)."""
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
    path = Path(path)
    m = _FILE_RE.match(path.name)
    if m is None:
        raise DataFormatError(path, None, "file name is not data_<subject>_<accel|gyro>_watch.txt")
    subject, sensor = int(m.group(1)), m.group(2)
    counts = Counter()
    codes, ts, vals = [], [], []

    def bad(category, line_no, msg):
        if on_error == "raise":
            raise DataFormatError(path, line_no, msg)
        counts[category] += 1

    text = path.read_bytes().decode("latin-1")
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            counts["blank"] += 1
            continue
        if not line.endswith(";"):
            bad("no_semicolon", line_no, f"record does not end with ';': {raw!r}")
        records = [r.strip() for r in line.split(";") if r.strip()]
        if len(records) > 1:
            bad("multi_record", line_no, f"{len(records)} records on one line: {raw!r}")
        for rec in records:
            f = rec.split(",")
            if len(f) != 6:
                bad("bad_field_count", line_no, f"expected 6 comma-separated fields, got {len(f)}: {rec!r}")
                continue
            try:
                subj, t = int(f[0]), int(f[2])
                xyz = (float(f[3]), float(f[4]), float(f[5]))
            except ValueError:
                bad("bad_number", line_no, f"subject, timestamp or value is not a number: {rec!r}")
                continue
            if not all(np.isfinite(xyz)):
                bad("non_finite", line_no, f"non-finite value: {rec!r}")
                continue
            if subj != subject:
                bad("subject_mismatch", line_no, f"subject {subj} in the file of subject {subject}")
                continue
            code = f[1].strip()
            if code not in WISDM_ACTIVITIES:
                bad("unknown_activity", line_no, f"unknown activity code {code!r}")
                continue
            codes.append(code)
            ts.append(t)
            vals.append(xyz)
    if not codes:
        raise DataFormatError(path, None, "no valid samples")
    return WisdmFile(str(path), subject, sensor, np.array(codes), np.array(ts, dtype=np.int64),
                     np.array(vals, dtype=np.float64).reshape(-1, 3), counts)


def _stream(wf: WisdmFile, code: str, counts: Counter):
    """Timestamps and values of one activity, sorted, duplicate timestamps dropped."""
    sel = wf.codes == code
    t, v = wf.t_ns[sel], wf.xyz[sel]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    dup = np.r_[False, t[1:] == t[:-1]]
    counts["duplicate_timestamp"] += int(dup.sum())
    return t[~dup], v[~dup]


def _interp_ok(t: np.ndarray, grid: np.ndarray, max_gap_ns: float) -> np.ndarray:
    """Grid points that lie between two samples of `t` no more than max_gap apart (or on one)."""
    j = np.searchsorted(t, grid, side="left")
    exact = (j < t.size) & (t[np.minimum(j, t.size - 1)] == grid)
    inside = (j > 0) & (j < t.size)
    jj = np.clip(j, 1, t.size - 1)
    gap_ok = (t[jj] - t[jj - 1]) <= max_gap_ns
    return exact | (inside & gap_ok)


def align_streams(t_acc, acc, t_gyro, gyro, rate_hz: float = WISDM_RATE_HZ, max_gap_s: float = 0.2):
    """Interpolate accelerometer and gyroscope samples (timestamps in ns, sorted, distinct) onto a
    uniform grid at `rate_hz` starting at the later of the two first timestamps. Returns a list of
    [n, 6] arrays (CHANNELS order), one per run of grid points where both streams have samples
    no more than `max_gap_s` apart around the point (see module doc)."""
    if not (np.isfinite(rate_hz) and rate_hz > 0) or not (np.isfinite(max_gap_s) and max_gap_s > 0):
        raise ValueError("rate_hz and max_gap_s must be > 0")
    t_acc, t_gyro = np.asarray(t_acc, np.int64), np.asarray(t_gyro, np.int64)
    if t_acc.size < 2 or t_gyro.size < 2:
        return []
    t0, t1 = max(t_acc[0], t_gyro[0]), min(t_acc[-1], t_gyro[-1])
    if t1 <= t0:
        return []
    dt = 1e9 / rate_hz
    n = int(np.floor((t1 - t0) / dt)) + 1
    grid_rel = np.arange(n) * dt                   # ns after t0, exact in float64 at these sizes
    grid = t0 + np.round(grid_rel).astype(np.int64)
    gap = max_gap_s * 1e9
    ok = _interp_ok(t_acc, grid, gap) & _interp_ok(t_gyro, grid, gap)
    a = np.stack([np.interp(grid_rel, (t_acc - t0).astype(np.float64), acc[:, k]) for k in range(3)], 1)
    g = np.stack([np.interp(grid_rel, (t_gyro - t0).astype(np.float64), gyro[:, k]) for k in range(3)], 1)
    sig = interleave(a, g)
    edges = np.flatnonzero(np.diff(ok.astype(np.int8))) + 1
    runs = []
    for s0, s1 in zip(np.r_[0, edges], np.r_[edges, n]):
        if ok[s0]:
            runs.append(sig[s0:s1])
    return runs


def _find_watch_dir(root: Path) -> Path:
    for cand in (root, root / "raw" / "watch", root / "wisdm-dataset" / "raw" / "watch"):
        if (cand / "accel").is_dir() and (cand / "gyro").is_dir():
            return cand
    found = sorted(p.parent for p in root.rglob("accel") if p.is_dir() and p.parent.name == "watch"
                   and (p.parent / "gyro").is_dir())
    if not found:
        raise FileNotFoundError(f"{root}: no raw/watch/accel and raw/watch/gyro folders "
                                "(expected the UCI wisdm-dataset layout)")
    return found[0]


def load_wisdm_watch(root, subjects=None, activities=None, rate_hz: float = WISDM_RATE_HZ,
                     max_gap_s: float = 0.2, on_error: str = "skip"):
    """Watch accelerometer + gyroscope recordings from the unpacked WISDM 2019 archive.

    `root` is the ``wisdm-dataset`` folder, a folder above it, or its ``raw/watch`` folder.
    `subjects`: ids to load (default all files found); `activities`: codes to keep (default
    all; e.g. ``"POFQRGS"`` for the L2MU 7). Returns ``(recordings, report)``: a list of
    `Recording` (one per aligned run, named ``<subject>_<code>_<k>``, one segment covering it)
    and a `WisdmReport`."""
    watch = _find_watch_dir(Path(root))
    keep = None if activities is None else set(activities)
    if keep is not None and not keep <= set(WISDM_ACTIVITIES):
        raise ValueError(f"unknown activity codes {sorted(keep - set(WISDM_ACTIVITIES))}")
    files = {}
    for sensor in ("accel", "gyro"):
        for p in sorted((watch / sensor).glob("data_*_watch.txt")):
            m = _FILE_RE.match(p.name)
            if m is None or m.group(2) != sensor:
                raise DataFormatError(p, None, f"file name does not match data_<subject>_{sensor}_watch.txt")
            files[(int(m.group(1)), sensor)] = p
    all_subjects = sorted({s for s, _ in files})
    wanted = all_subjects if subjects is None else sorted(set(int(s) for s in subjects))
    report = WisdmReport()
    recordings = []
    dts = {"accel": [], "gyro": []}
    for subj in wanted:
        for sensor in ("accel", "gyro"):
            if (subj, sensor) not in files:
                raise FileNotFoundError(f"{watch / sensor}: no data_{subj}_{sensor}_watch.txt")
        wf = {s: parse_wisdm_file(files[(subj, s)], on_error) for s in ("accel", "gyro")}
        for s in ("accel", "gyro"):
            report.by_file[wf[s].path] = wf[s].counts
        for code in sorted(set(wf["accel"].codes.tolist()) | set(wf["gyro"].codes.tolist())):
            if keep is not None and code not in keep:
                continue
            ta, va = _stream(wf["accel"], code, wf["accel"].counts)
            tg, vg = _stream(wf["gyro"], code, wf["gyro"].counts)
            for s, t in (("accel", ta), ("gyro", tg)):
                if t.size > 1:
                    dts[s].append(np.diff(t))
            runs = align_streams(ta, va, tg, vg, rate_hz, max_gap_s)
            if not runs:
                report.no_overlap.append((subj, code))
            lab = wisdm_label(code)
            for k, sig in enumerate(runs):
                recordings.append(Recording(subject=subj, name=f"{subj}_{code}_{k}", signals=sig,
                                            rate_hz=float(rate_hz), segments=[(lab, 0, sig.shape[0])],
                                            label_names=dict(WISDM_LABEL_NAMES), units=WISDM_UNITS))
    for c in report.by_file.values():
        report.counts.update(c)
    for cat in _CATEGORIES:
        report.counts.setdefault(cat, 0)
    for s, d in dts.items():
        if d:
            report.median_dt_s[s] = float(np.median(np.concatenate(d))) * 1e-9
    report.n_recordings = len(recordings)
    return recordings, report
