"""Board sessions under concurrency (edgehost.flash.sessions): parallel flash / run / stop of one
board never leave an emulator running unrecorded, and `stop --all` finds the emulators edgehost
started whose session files were lost (by their marker), and stops only those. On the host board
(a native process: fast), each test with its own EDGEHOST_HOME."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgehost.flash.sessions import MARKER_ENV, board_lock, find_orphans, list_sessions, terminate

BOARD = "host"


@pytest.fixture(scope="module")
def host_elf():
    from edgehost.flash import build_firmware
    from edgehost.boards import get
    return build_firmware(get(BOARD))


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("EDGEHOST_HOME", str(h))
    yield h
    for pid in marked(h):               # whatever a failing test left behind
        terminate(pid, timeout=2)


def marked(home: Path, kind: str | None = "session") -> list[int]:
    """Live processes carrying edgehost's marker for this home."""
    want = str(home.resolve())
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            env = (p / "environ").read_bytes()
            state = (p / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        for item in env.split(b"\0"):
            if item.startswith(MARKER_ENV.encode() + b"="):
                m = json.loads(item.split(b"=", 1)[1])
                if m["home"] == want and (kind is None or m["kind"] == kind) and os.getpgid(int(p.name)) == int(p.name):
                    out.append(int(p.name))
    return sorted(out)


def cli(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "edgehost.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or os.environ.copy())


def wait_all(procs, timeout=240):
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        outs.append((p.returncode, out, err))
        assert "Traceback" not in err and "internal error" not in err, err
    return outs


def recorded() -> list[int]:
    return sorted(s.pid for s, alive in list_sessions(clean=False) if alive and s.pid is not None)


def test_parallel_flash_leaves_one_emulator_recorded(home, host_elf):
    procs = [cli("flash", "--board", BOARD, "--elf", str(host_elf), "--json") for _ in range(3)]
    res = wait_all(procs)
    assert all(rc == 0 for rc, _, _ in res), res
    pids = [json.loads(out)["pid"] for _, out, _ in res]
    assert len(set(pids)) == 3                       # each started its own, one after the other
    alive = marked(home)
    assert alive == recorded() and len(alive) == 1, (alive, recorded(), pids)
    assert alive[0] in pids
    assert not find_orphans()
    out = subprocess.run([sys.executable, "-m", "edgehost.cli", "stop", "--all", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert marked(home) == [] and recorded() == []


def test_parallel_flash_run_stop_never_orphan(home, host_elf, tmp_path):
    """flash, run (which starts the board when no session runs) and stop of one board at once,
    twice over: whatever order they get the lock in, every marked process is recorded."""
    from edgehost.convert import build
    from edgehost.convert.examples import random_graph
    g = random_graph(np.random.default_rng(3), max_width=8)
    model, _ = build(g)
    (tmp_path / "m.ehm").write_bytes(model.to_bytes())
    np.save(tmp_path / "x.npy", np.zeros((3, g.n_in), np.float32))
    procs = []
    for _ in range(2):
        procs += [cli("flash", "--board", BOARD, "--elf", str(host_elf), "--json"),
                  cli("run", str(tmp_path / "m.ehm"), "--board", BOARD, "--input", str(tmp_path / "x.npy")),
                  cli("stop", "--board", BOARD)]
    res = wait_all(procs)
    # stop may find no session (1); a run whose board a parallel flash replaced loses its link (2)
    assert all(rc in (0, 1, 2) for rc, _, _ in res), res
    assert marked(home) == recorded() and len(recorded()) <= 1
    assert not find_orphans()


def test_stop_all_stops_emulators_whose_session_file_was_lost(home, host_elf):
    from edgehost.boards import get
    from edgehost.flash import emulator
    r = subprocess.run([sys.executable, "-m", "edgehost.cli", "flash", "--board", BOARD, "--elf", str(host_elf),
                        "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    pid = json.loads(r.stdout)["pid"]
    # a private emulator (as the pytest plugin and the demos start them) must survive stop --all
    sess, proc, _ = emulator.start(get(BOARD), host_elf, log_dir=home / "private")
    try:
        for f in (home / "sessions").glob("*.json"):
            f.unlink()                                     # the session file is lost
        assert recorded() == [] and marked(home) == [pid]
        assert [o.pid for o in find_orphans()] == [pid]
        r = subprocess.run([sys.executable, "-m", "edgehost.cli", "stop", "--all", "--json"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert [d["pid"] for d in doc if d.get("unrecorded")] == [pid]
        assert marked(home) == []
        assert proc.poll() is None and marked(home, "private") == [proc.pid]
    finally:
        terminate(proc.pid, timeout=2)


def test_stop_board_also_stops_its_orphans(home, host_elf):
    r = subprocess.run([sys.executable, "-m", "edgehost.cli", "flash", "--board", BOARD, "--elf", str(host_elf),
                        "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    pid = json.loads(r.stdout)["pid"]
    (home / "sessions" / f"{BOARD}.json").unlink()
    r = subprocess.run([sys.executable, "-m", "edgehost.cli", "stop", "--board", "native"],   # an alias
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"stopped unrecorded process {pid}" in r.stdout
    assert marked(home) == []


def test_other_homes_and_programs_are_never_stopped(home, tmp_path):
    env = dict(os.environ, **{MARKER_ENV: json.dumps({"home": str(tmp_path / "other"), "board": BOARD,
                                                       "kind": "session"})})
    other = subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)
    plain = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        assert find_orphans() == []
        r = subprocess.run([sys.executable, "-m", "edgehost.cli", "stop", "--all"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0 and "no sessions" in r.stdout, r.stderr
        assert other.poll() is None and plain.poll() is None
    finally:
        other.kill()
        plain.kill()
        other.wait()
        plain.wait()


def test_board_lock_is_exclusive_across_processes_and_reentrant(home):
    code = ("import sys; from edgehost.flash.sessions import board_lock\n"
            "from edgehost.cli import UserError\n"
            "try:\n"
            "    with board_lock('host', timeout=0.3): print('got')\n"
            "except UserError as e: print('busy:', e)\n")
    with board_lock(BOARD):
        with board_lock("native"):                         # the same board by its alias: re-entrant
            r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.startswith("busy:") and "board host is busy" in r.stdout and f"pid {os.getpid()}" in r.stdout
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "got", r.stderr


def test_saving_a_replaced_session_does_not_record_a_dead_process(home):
    from edgehost.flash.sessions import Session, save
    p = subprocess.Popen(["sleep", "0"])
    p.wait()
    save(Session(board=BOARD, port="/dev/null", pid=p.pid, argv=["sleep"]))
    assert list_sessions() == []
