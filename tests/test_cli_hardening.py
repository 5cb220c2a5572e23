"""Every `edgehost` command either does its job or exits non-zero with one line naming the option
or file, the value and what is allowed; no Python traceback ever reaches the user. Bad values
are generated (hypothesis) for every option that takes one, odd paths (missing, a directory, a
device, a FIFO, too large, unwritable) for every file, and every case must fail before any device
work: the functions that would build, flash, start or open a board are replaced by ones that fail
loudly. Output files are written atomically and never left half-made. In-process (fast), plus a
few runs of the real `python -m edgehost.cli`."""
from __future__ import annotations

import errno
import json
import os
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from edgehost.cli import UserError, main

SETTINGS = dict(max_examples=10, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
EMULATED_BOARD = "host"


# ---- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def d(tmp_path_factory):
    """Model files, arrays good and bad, odd paths."""
    from edgehost.convert import build, load
    d = tmp_path_factory.mktemp("cli")
    layers = [{"type": "fc", "weight": "w1", "bias": [0.1, 0, 0, -0.1]},
              {"type": "lif", "beta": 0.875, "threshold": 1.0},
              {"type": "fc", "weight": "w2"}, {"type": "li", "beta": [0.5, 0.5]}]
    rng = np.random.default_rng(0)
    np.savez(d / "small.npz", layers=np.array(json.dumps(layers)), w1=rng.normal(size=(4, 3)),
             w2=rng.normal(size=(2, 4)))
    g = load(str(d / "small.npz"))
    (d / "f.ehm").write_bytes(build(g)[0].to_bytes())
    (d / "q.ehm").write_bytes(build(g, quantize="q15")[0].to_bytes())
    np.save(d / "ok.npy", rng.normal(size=(20, 3)).astype(np.float32))
    np.save(d / "nan.npy", np.full((10, 3), np.nan))
    np.save(d / "inf.npy", np.array([[1.0, np.inf, 0.0]]))
    np.save(d / "empty.npy", np.zeros((0, 3)))
    np.save(d / "empty3.npy", np.zeros((2, 0, 3)))
    np.save(d / "wide.npy", np.zeros((10, 5)))
    np.save(d / "str.npy", np.array(["a", "b", "c"]))
    np.save(d / "cplx.npy", np.zeros((4, 3), np.complex64))
    np.save(d / "zero.npy", np.zeros((10, 3)))
    np.save(d / "huge.npy", np.full((4, 3), 1e300))
    np.save(d / "x70k.npy", np.zeros((70_000, 3), np.float32))
    np.save(d / "seq3.npy", np.zeros((2, 4, 3), np.float32))
    np.savez(d / "emptyz.npz")
    np.savez(d / "two.npz", a=np.zeros((3, 3)), b=np.zeros((3, 3)))
    (d / "garbage.bin").write_bytes(b"\x93NUMPY garbage" + bytes(range(256)))
    (d / "empty.ehm").write_bytes(b"")
    (d / "adir").mkdir()
    (d / "out").mkdir()
    os.mkfifo(d / "fifo")
    with open(d / "sparse.ehm", "wb") as f:              # larger than any model: not read
        f.truncate(80 << 20)
    return d


@pytest.fixture(autouse=True)
def no_device_work(monkeypatch, tmp_path):
    """Anything that would build, flash, start or open a board, or run a demo, is a failure."""
    monkeypatch.setenv("EDGEHOST_HOME", str(tmp_path / "home"))

    def forbidden(*a, **k):
        raise AssertionError("device work started before the arguments were checked")
    import edgehost.bench
    import edgehost.build
    import edgehost.flash
    import edgehost.validate
    monkeypatch.setattr(edgehost.validate, "open_device", forbidden)
    monkeypatch.setattr(edgehost.flash, "flash", forbidden)
    monkeypatch.setattr(edgehost.build, "build", forbidden)
    monkeypatch.setattr(edgehost.bench, "run_bench", forbidden)
    monkeypatch.setattr("edgehost.demos.har.demo.run", forbidden)
    monkeypatch.setattr("edgehost.demos.blimp.demo.run", forbidden)
    yield


def run(capsys, argv):
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def refused(capsys, argv, *names, code=None):
    """The command exits non-zero with exactly one error line (warnings aside) that contains
    every one of `names` (the option or file, the value)."""
    rc, out, err = run(capsys, argv)
    lines = [ln for ln in err.splitlines() if ln.strip() and ": warning:" not in ln]
    assert rc != 0, (argv, out, err)
    if code is not None:
        assert rc == code, (argv, rc, err)
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    assert len(lines) == 1, (argv, err)
    assert lines[0].startswith("edgehost") and ": error: " in lines[0], (argv, err)
    for n in names:
        assert str(n) in lines[0], (argv, n, lines[0])
    return lines[0]


# ---- generated bad values for every option that takes one ------------------------------------

def not_number(s: str) -> bool:
    try:
        float(s)
        return False
    except ValueError:
        return True


def not_int(s: str) -> bool:
    try:
        int(s, 0)
        return False
    except ValueError:
        return True


text = st.text(alphabet=string.ascii_letters + string.punctuation + " ", min_size=0, max_size=6)
special = st.sampled_from(["nan", "NaN", "inf", "-inf", "1e999", "-1e999", "", " ", "0x", "1,5", "--"])


def floats_outside(lo, hi, lo_open=False, hi_open=False):
    """Strings of numbers outside [lo, hi] (or the open ends), specials, and non-numbers."""
    parts = [special, text.filter(not_number)]
    if lo is not None:
        parts.append(st.floats(max_value=lo, allow_nan=False, exclude_max=not lo_open).map(repr))
    if hi is not None:
        parts.append(st.floats(min_value=hi, allow_nan=False, exclude_min=not hi_open).map(repr))
    return st.one_of(*parts)


def ints_outside(lo, hi):
    parts = [special, text.filter(not_int), st.floats(allow_nan=False, allow_infinity=False)
             .filter(lambda v: v != int(v)).map(repr)]
    if lo is not None:
        parts.append(st.integers(max_value=lo - 1).map(str))
    if hi is not None:
        parts.append(st.integers(min_value=hi + 1).map(str))
    return st.one_of(*parts)


def _argv(d, template, t=None):
    return [str(a).format(d=d, t=t or d / "out") for a in template]


# (command template, option, strategy of bad values)
OPTIONS = [
    (["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--quantize", "q15"], "--dt", floats_outside(0, 1, lo_open=True)),
    (["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--quantize", "q15"], "--headroom", floats_outside(1, 4096)),
    (["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--quantize", "q15"], "--input-range",
     floats_outside(0, 1e30, lo_open=True)),
    (["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--binarize"], "--mst-depth", ints_outside(0, 65536)),
    (["build", "--board", EMULATED_BOARD], "--jobs", ints_outside(1, 1024)),
    (["flash", "--board", EMULATED_BOARD], "--timeout", floats_outside(0, 3600, lo_open=True)),
    (["flash", "--board", "feather-nrf52840", "--output", "{d}/x.uf2"], "--uf2-family", ints_outside(0, 2**32 - 1)),
    (["monitor", "--board", EMULATED_BOARD], "--seconds", floats_outside(0, 1e7, lo_open=True)),
    (["monitor", "--board", EMULATED_BOARD], "--baud", ints_outside(50, 100_000_000)),
    (["validate", "{d}/q.ehm", "--board", EMULATED_BOARD], "--steps", ints_outside(1, 1_000_000)),
    (["validate", "{d}/q.ehm", "--board", EMULATED_BOARD], "--sequences", ints_outside(1, 1_000_000)),
    (["validate", "{d}/q.ehm", "--board", EMULATED_BOARD], "--seed", ints_outside(0, 2**32 - 1)),
    (["validate", "{d}/f.ehm", "--board", EMULATED_BOARD], "--atol", floats_outside(0, None)),
    (["validate", "{d}/f.ehm", "--board", EMULATED_BOARD], "--rtol", floats_outside(0, None)),
    (["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "{d}/ok.npy"], "--rate",
     floats_outside(0.01, 1e6)),
    (["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "{d}/ok.npy"], "--steps",
     ints_outside(1, 10**9)),
    (["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "synthetic:noise", "--steps", "3"],
     "--seed", ints_outside(0, 2**32 - 1)),
    (["demo", "har"], "--per-class", ints_outside(1, 100_000)),
    (["demo", "har", "--train"], "--epochs", ints_outside(1, 100_000)),
    (["demo", "blimp"], "--seed", ints_outside(0, 2**32 - 1)),
]


@pytest.mark.parametrize("template,option,values", OPTIONS, ids=[f"{t[0]} {o}" for t, o, _ in OPTIONS])
def test_bad_option_values_one_line(d, capsys, template, option, values):
    @given(v=values)
    @settings(**SETTINGS)
    def check(v):
        argv = _argv(d, template) + [f"{option}={v}"]
        refused(capsys, argv, option, repr(v) if v.strip() else "")
    check()


CHOICES = [
    (["convert", "{d}/small.npz", "-o", "{t}/o.ehm"], "--quantize"),
    (["convert", "{d}/small.npz", "-o", "{t}/o.ehm"], "--reset"),
    (["build", "--board", EMULATED_BOARD], "--target"),
    (["validate", "{d}/q.ehm", "--board", EMULATED_BOARD], "--backend"),
    (["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "{d}/ok.npy"], "--backend"),
]


@pytest.mark.parametrize("template,option", CHOICES, ids=[f"{t[0]} {o}" for t, o in CHOICES])
def test_bad_choices_one_line(d, capsys, template, option):
    @given(v=text.filter(lambda s: s not in ("none", "q15", "subtract", "zero", "firmware", "bench",
                                             "selftest", "kernels", "sim")))
    @settings(**SETTINGS)
    def check(v):
        line = refused(capsys, _argv(d, template) + [f"{option}={v}"], option, repr(v))
        assert "choose from" in line
    check()


@pytest.mark.parametrize("argv", [
    ["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--shiftadd=bcq:x"],
    ["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--shiftadd=bcq:9", "--quantize", "q15"],
    ["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--arch= "],
    ["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "synthetic:square", "--steps", "3"],
    ["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "synthetic:sine"],
    ["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "har:train"],
    ["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "nothing"],
])
def test_bad_strings_one_line(d, capsys, argv):
    refused(capsys, _argv(d, argv))


@pytest.mark.parametrize("cmd", [
    ["run", "{d}/q.ehm", "--input", "{d}/ok.npy"], ["validate", "{d}/q.ehm"],
    ["stream", "--model", "{d}/q.ehm", "--source", "{d}/ok.npy"],
    ["build"], ["flash"], ["bench"], ["stop"], ["monitor"], ["demo", "har"], ["demo", "blimp"],
])
def test_unknown_board_one_line(d, capsys, cmd):
    argv = _argv(d, cmd) + ["--board=no-such-board"]
    if cmd == ["bench"]:
        argv = ["bench", "--board", "no-such-board"]
    refused(capsys, argv, "no-such-board")


def test_missing_and_unknown_arguments(d, capsys):
    refused(capsys, ["convert"], "-o/--output")
    refused(capsys, ["run", str(d / "q.ehm")], "--input")
    refused(capsys, ["inspect", str(d / "q.ehm"), "--colour"], "--colour")
    refused(capsys, ["nosuchcommand"], "nosuchcommand")
    refused(capsys, ["run", str(d / "q.ehm"), "--input", str(d / "ok.npy")], "--board")
    refused(capsys, ["bench"], "--board")


# ---- files -------------------------------------------------------------------------------------

ODD_INPUTS = {  # name -> what the line must say
    "missing.ehm": "no such file", "adir": "directory", "fifo": "not a regular file",
    "sparse.ehm": "at most", "empty.ehm": "empty", "garbage.bin": "", "/dev/zero": "not a regular file",
    "adir/x/y.ehm": "no such file",
}


def _p(d, name):
    return name if name.startswith("/") else str(d / name)


@pytest.mark.parametrize("cmd", [
    ["inspect", "{m}"], ["run", "{m}", "--board", EMULATED_BOARD, "--input", "{d}/ok.npy"],
    ["validate", "{m}", "--board", EMULATED_BOARD],
    ["stream", "--board", EMULATED_BOARD, "--model", "{m}", "--source", "{d}/ok.npy"],
    ["build", "--board", EMULATED_BOARD, "--model", "{m}"],
])
def test_odd_model_files(d, capsys, cmd):
    for name in sorted(ODD_INPUTS):
        argv = [a.format(d=d, m=_p(d, name)) for a in cmd]
        refused(capsys, argv, _p(d, name), ODD_INPUTS[name])


ODD_ARRAYS = {  # name -> what the line must say
    "missing.npy": "no such file", "adir": "directory", "fifo": "not a regular file", "/dev/zero": "not a regular",
    "garbage.bin": "not a readable", "nan.npy": "NaN", "inf.npy": "infinite", "empty.npy": "0 step",
    "empty3.npy": "0 step", "wide.npy": "(10, 5)", "str.npy": "<U1", "cplx.npy": "complex64",
    "huge.npy": "float32", "emptyz.npz": ".npz",
}


@pytest.mark.parametrize("cmd", [
    ["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--quantize", "q15", "--calib", "{a}"],
    ["run", "{d}/q.ehm", "--board", EMULATED_BOARD, "--input", "{a}"],
    ["validate", "{d}/q.ehm", "--board", EMULATED_BOARD, "--inputs", "{a}"],
    ["stream", "--board", EMULATED_BOARD, "--model", "{d}/q.ehm", "--source", "{a}"],
])
def test_odd_arrays(d, capsys, tmp_path, cmd):
    for name in sorted(ODD_ARRAYS):
        a = _p(d, name)
        argv = [x.format(d=d, a=a, t=tmp_path) for x in cmd]
        want = ODD_ARRAYS[name]
        if cmd[0] == "stream" and name == "garbage.bin":
            want = "unknown source"
        if cmd[0] == "stream" and name == "emptyz.npz":
            want = "no arrays"
        if cmd[0] == "stream" and name in ("adir", "/dev/zero", "fifo"):
            want = "unknown source"
        refused(capsys, argv, a, want)
        assert not (tmp_path / "o.ehm").exists()


def test_more_input_data_errors(d, capsys):
    refused(capsys, ["run", d / "q.ehm", "--board", EMULATED_BOARD, "--input", d / "x70k.npy"],
            "x70k.npy", "70,000", "65,535")
    refused(capsys, ["run", d / "q.ehm", "--board", EMULATED_BOARD, "--input", d / "seq3.npy"], "seq3.npy", "one sequence")
    refused(capsys, ["stream", "--board", EMULATED_BOARD, "--model", d / "q.ehm", "--source", d / "two.npz"],
            "two.npz", "name one")
    refused(capsys, ["stream", "--board", EMULATED_BOARD, "--model", d / "q.ehm", "--source", f"{d}/two.npz:c"],
            "two.npz:c", "no array 'c'")
    refused(capsys, ["validate", d / "q.ehm", "--board", EMULATED_BOARD, "--steps", "1000000", "--sequences", "2"],
            "--steps", "--sequences", "1,000,000")
    refused(capsys, ["convert", d / "missing.npz", "-o", d / "o.ehm"], "missing.npz", "no such file")
    refused(capsys, ["convert", d / "adir", "-o", d / "o.ehm"], "adir", "directory")
    refused(capsys, ["convert", "/dev/zero", "-o", d / "o.ehm"], "/dev/zero", "not a regular file")
    refused(capsys, ["flash", "--board", EMULATED_BOARD, "--elf", d / "garbage.bin"], "garbage.bin", "not an ELF")
    refused(capsys, ["flash", "--board", EMULATED_BOARD, "--elf", d / "fifo"], "fifo", "not a regular file")


def test_degenerate_calibration_refused(d, capsys, tmp_path):
    line = refused(capsys, ["convert", d / "small.npz", "-o", tmp_path / "o.ehm", "--quantize", "q15", "--calib",
                            d / "zero.npy"], "zero.npy", "degenerate Q15 scale", "layer 2 (fc)")
    assert "gave 0 on every" in line
    assert list(tmp_path.iterdir()) == []


def test_without_calib_the_input_range_is_stated(d, capsys, tmp_path):
    rc, out, err = run(capsys, ["convert", d / "small.npz", "-o", tmp_path / "o.ehm", "--quantize", "q15"])
    assert rc == 0, err
    assert "no --calib" in out and "saturate" in out
    rc, out, err = run(capsys, ["convert", d / "small.npz", "-o", tmp_path / "o.ehm", "--quantize", "q15",
                                "--calib", d / "ok.npy", "--input-range", "0.5"])
    assert rc == 0 and "--input-range 0.5" in out and "saturate" in out, (out, err)


ODD_OUTPUTS = {  # path -> what the line must say
    "missing-dir/o.ehm": "does not exist", "adir": "is a directory", "/dev/null": "not a regular file",
    "/proc/edgehost-test.ehm": "cannot write", "fifo": "not a regular file", "small.npz/o.ehm": "not a directory",
    "adir/": "is a directory", "": "file name",
}


@pytest.mark.parametrize("cmd,option", [
    (["convert", "{d}/small.npz", "-o", "{o}"], "--output"),
    (["convert", "{d}/small.npz", "-o", "{t}/o.ehm", "--emit-c", "{o}"], "--emit-c"),
    (["validate", "{d}/q.ehm", "--board", EMULATED_BOARD, "--plot", "{o}"], "--plot"),
    (["flash", "--board", "feather-nrf52840", "--output", "{o}"], "--output"),
    (["bench", "--board", EMULATED_BOARD, "--report", "{o}"], "--report"),
    (["demo", "har", "--plot", "{o}"], "--plot"),
    (["demo", "blimp", "--plot", "{o}"], "--plot"),
], ids=["convert-o", "convert-emit-c", "validate-plot", "flash-output", "bench-report", "har-plot", "blimp-plot"])
def test_odd_output_paths(d, capsys, tmp_path, cmd, option):
    for name in sorted(ODD_OUTPUTS):
        o = name if name.startswith("/") or not name else str(d / name) + ("/" if name.endswith("/") else "")
        argv = [x.format(d=d, o=o, t=tmp_path) for x in cmd]
        if cmd[0] == "demo" and not name:
            continue                        # demo --plot "": no plot
        line = refused(capsys, argv, option)
        if option == "--plot" and Path(name).suffix.lower() not in (".png", ".svg"):
            assert "image file name" in line
        else:
            assert ODD_OUTPUTS[name] in line
        assert list(tmp_path.iterdir()) == []
        assert not list(d.glob(".*.tmp*")) and not list(d.glob(".*.probe"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory(d, capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        refused(capsys, ["convert", d / "small.npz", "-o", ro / "o.ehm"], "--output", "cannot write")
    finally:
        ro.chmod(0o755)


def test_full_file_system_leaves_nothing(d, capsys, tmp_path, monkeypatch):
    import edgehost.atomic as atomic

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(atomic.os, "fsync", full)
    refused(capsys, ["convert", d / "small.npz", "-o", tmp_path / "o.ehm", "--emit-c", tmp_path / "o.h"],
            "--output", "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_failing_emit_c_leaves_no_blob(d, capsys, tmp_path, monkeypatch):
    import edgehost.atomic as atomic
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if str(dst).endswith(".h"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(src, dst)
    monkeypatch.setattr(atomic.os, "replace", replace)
    (tmp_path / "old.ehm").write_bytes(b"old")
    refused(capsys, ["convert", d / "small.npz", "-o", tmp_path / "o.ehm", "--emit-c", tmp_path / "o.h"],
            "--emit-c", "Input/output error")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.ehm"]     # neither output, no temporaries


def test_outputs_are_whole_and_replace_atomically(d, capsys, tmp_path):
    out = tmp_path / "o.ehm"
    out.write_bytes(b"previous")
    out.chmod(0o640)
    rc, _, err = run(capsys, ["convert", d / "small.npz", "-o", out, "--emit-c", tmp_path / "o.h"])
    assert rc == 0, err
    assert out.read_bytes()[:4] == b"EHMB" and (tmp_path / "o.h").read_text().startswith("/* Generated")
    assert (out.stat().st_mode & 0o777) == 0o640                          # the replaced file's mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.ehm", "o.h"]


# ---- any argv: never a traceback -------------------------------------------------------------

def _vocab(d):
    files = [str(d / n) for n in ("q.ehm", "f.ehm", "ok.npy", "nan.npy", "small.npz", "adir", "fifo", "garbage.bin",
                                  "emptyz.npz", "wide.npy")] + ["/dev/zero", "/proc/x", "", "-", "synthetic:sine",
                                                                 "host", "nosuch"]
    return st.one_of(st.sampled_from(files), special, text, st.integers(-10, 10).map(str))


COMMANDS = {
    "convert": ["-o", "--quantize", "--reset", "--trust", "--arch", "--dt", "--calib", "--headroom", "--input-range",
                "--binarize", "--shiftadd", "--mst-depth", "--no-reuse", "--emit-c", "--json"],
    "inspect": ["--json"],
    "run": ["--board", "--port", "--input", "--json"],
    "validate": ["--board", "--port", "--inputs", "--steps", "--sequences", "--seed", "--backend", "--atol", "--rtol",
                 "--plot", "--json"],
    "stream": ["--board", "--port", "--model", "--source", "--rate", "--fast", "--steps", "--check", "--backend",
               "--seed", "--json"],
    "flash": ["--board", "--method", "--output", "--foreground", "--elf", "--port", "--uf2-family", "--timeout", "--json"],
    "build": ["--board", "--target", "--build-dir", "--jobs", "--verbose", "--model", "--json"],
    "stop": ["--board", "--all", "--json"],
    "monitor": ["--board", "--raw", "--hello", "--baud", "--seconds", "--json"],
    "bench": ["--board", "--json", "--quick", "--report", "--no-kernels"],
    "boards": ["--json"],
}


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_random_argv_never_a_traceback(d, capsys, monkeypatch, cmd):
    """Random options and values: either the job (never device work here) or one error line."""
    def no_device(*a, **k):
        raise UserError("(device work: not in this test)")
    import edgehost.bench
    import edgehost.build
    import edgehost.flash
    import edgehost.validate
    for mod, name in ((edgehost.validate, "open_device"), (edgehost.flash, "flash"), (edgehost.build, "build"),
                      (edgehost.bench, "run_bench")):
        monkeypatch.setattr(mod, name, no_device)
    vocab = _vocab(d)
    opts = st.lists(st.tuples(st.sampled_from(COMMANDS[cmd]), vocab), max_size=4)
    positional = st.lists(vocab, max_size=2)

    @given(pos=positional, opts=opts)
    @settings(**{**SETTINGS, "max_examples": 20})
    def check(pos, opts):
        argv = [cmd, *pos]
        for o, v in opts:
            argv += [o] if o in ("--json", "--trust", "--binarize", "--no-reuse", "--fast", "--check", "--foreground",
                                 "--verbose", "--all", "--raw", "--hello", "--quick", "--no-kernels") else [f"{o}={v}"]
        if cmd == "monitor":
            argv.append("--seconds=0.01")
        rc, out, err = run(capsys, argv)
        assert "Traceback" not in err and "internal error" not in err, (argv, err)
        lines = [ln for ln in err.splitlines() if ln.strip() and ": warning:" not in ln]
        if rc != 0:
            assert len(lines) == 1 and lines[0].startswith("edgehost"), (argv, err)
        for f in d.glob(".*.tmp*"):
            raise AssertionError(f"temporary left behind: {f}")
    check()


# ---- the last line of defence, and the real entry point -----------------------------------------

def test_unexpected_error_is_one_line_and_debug_shows_it(d, capsys, monkeypatch):
    import edgehost.convert.analyze as analyze

    def boom(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr(analyze, "summary", boom)
    rc, out, err = run(capsys, ["inspect", d / "q.ehm"])
    assert rc == 70 and err.count("\n") == 1 and "internal error: RuntimeError: boom" in err and "--debug" in err
    with pytest.raises(RuntimeError):
        main(["inspect", str(d / "q.ehm"), "--debug"])


def test_real_entry_point_no_traceback(d, tmp_path):
    env = dict(os.environ, EDGEHOST_HOME=str(tmp_path / "home"))
    for argv in (["convert", d / "small.npz", "-o", d / "nodir" / "o.ehm"], ["inspect", "/dev/zero"],
                 ["validate", d / "q.ehm", "--board", EMULATED_BOARD, "--seed", "-1"],
                 ["convert", d / "small.npz", "-o", tmp_path / "o.ehm", "--quantize", "q15", "--headroom", "inf"]):
        r = subprocess.run([sys.executable, "-m", "edgehost.cli", *map(str, argv)], capture_output=True,
                           text=True, timeout=120, env=env)
        assert r.returncode == 2, (argv, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, (argv, r.stderr)


def test_progress_without_a_terminal_prints_lines(capsys):
    """`validate --steps 100000` redirected: a plain progress line every few seconds on stderr."""
    from edgehost.commands._args import Progress
    with Progress("validate", 100, every=0.0) as p:
        up = p.task("validating (steps)", 100)
        for i in (10, 50, 100):
            up(i, 100)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("validating (steps): 10 of 100 (10 %)") and len(err) == 3
