"""`edgehost flash / stop / monitor / ports` and the session files, on the host board and an
emulated board; a real board without a probe fails with a useful message."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from edgehost.flash import sessions as S


def cli(*args, env, timeout=600):
    return subprocess.run([sys.executable, "-m", "edgehost", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEHOST_HOME", str(tmp_path / "home"))
    e = dict(os.environ)
    yield e
    cli("stop", "--all", env=e)


def test_session_files_and_stale_detection(env):
    p = subprocess.Popen(["sleep", "30"])
    s = S.Session(board="host", port="/dev/pts/99", pid=p.pid, elf="/x", argv=["sleep", "30"])
    S.save(s)
    got = S.find_session("host")
    assert got is not None and got.pid == p.pid and got.port == "/dev/pts/99"
    # a pid now running another program is not ours
    S.save(S.Session(board="mps2-an386", port="socket://x", pid=p.pid, argv=["qemu-system-arm"]))
    assert S.find_session("mps2-an386") is None and not (S.sessions_dir() / "mps2-an386.json").exists()
    p.kill()
    p.wait()
    assert S.find_session("host") is None  # dead pid: stale, removed
    assert not (S.sessions_dir() / "host.json").exists()
    # real hardware sessions have no pid and stay
    S.save(S.Session(board="nrf52840dk", port="/dev/ttyACM0", pid=None))
    assert S.find_session("nrf52") is not None  # found by alias
    assert S.stop_session("nrf52")[1].startswith("forgotten")


def test_flash_monitor_stop_host_board(env):
    r = cli("flash", "--board", "host", "--json", env=env)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["port"].startswith("/dev/") and res["pid"] and res["hello"]["board"] == "host"
    sess = json.loads((S.sessions_dir() / "host.json").read_text())
    assert {k: sess[k] for k in ("board", "port", "pid")} == {"board": "host", "port": res["port"], "pid": res["pid"]}
    assert sess["elf"] and sess["started"] > 0
    m = cli("monitor", "--board", "host", "--seconds", "1", "--hello", "--json", env=env)
    assert m.returncode == 0, m.stderr
    frames = [json.loads(line) for line in m.stdout.splitlines()]
    assert any(f["code"] == "HELLO_RSP" and f["info"]["board"] == "host" for f in frames)
    raw = cli("monitor", "--port", res["port"], "--seconds", "0.5", "--hello", "--raw", env=env)
    assert raw.returncode == 0 and raw.stdout.strip()
    st = cli("stop", "--board", "host", "--json", env=env)
    assert st.returncode == 0 and json.loads(st.stdout)["result"].startswith("stopped")
    assert not S.pid_matches(res["pid"], [])
    again = cli("stop", "--board", "host", env=env)
    assert again.returncode == 1 and "no session" in again.stderr


def test_flash_emulated_twice_replaces_and_stale_cleanup(env):
    r1 = json.loads(cli("flash", "--board", "mps2-an386", "--json", env=env).stdout)
    assert r1["port"].startswith("socket://127.0.0.1:") and r1["hello"]["core"] == "cortex-m4f"
    r2 = json.loads(cli("flash", "--board", "mps2-an386", "--json", env=env).stdout)
    assert r2["replaced_session"] and r2["pid"] != r1["pid"]
    assert not S.pid_matches(r1["pid"], [])
    os.kill(r2["pid"], signal.SIGKILL)
    time.sleep(0.2)
    ports = json.loads(cli("ports", "--json", env=env).stdout)
    assert {"ports", "usb", "sessions"} <= set(ports)
    assert not [s for s in ports["sessions"] if s["alive"]]  # the dead one is reported stale, cleaned
    assert S.find_session("mps2-an386") is None


def test_foreground_stops_on_interrupt(env):
    p = subprocess.Popen([sys.executable, "-m", "edgehost", "flash", "--board", "host", "--foreground", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out = ""
    while True:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        out += line
        if line == "}\n":
            break
    pid = json.loads(out)["pid"]
    assert S.find_session("host") is not None
    p.send_signal(signal.SIGINT)
    assert p.wait(30) == 0
    assert S.find_session("host") is None and not S.pid_matches(pid, [])


def test_real_board_without_probe_fails_clearly(env):
    r = cli("flash", "--board", "nrf52", env=env)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    for word in ("nrf52840dk", "pyocd", "nrfjprog", "openocd", "edgehost ports"):
        assert word in r.stderr, r.stderr
    r = cli("flash", "--board", "nrf52", "--method", "qemu", env=env)
    assert r.returncode != 0 and "real hardware" in r.stderr and "Traceback" not in r.stderr
    r = cli("flash", "--board", "nrf52", "--method", "pyocd", "--output", "x.uf2", env=env)
    assert r.returncode != 0 and "--output" in r.stderr
