"""Places of a local labgrid farm used as boards: acquire, flash (power cycle), talk over RFC 2217
through ser2net, release; a place taken, offline or lacking a resource; faults on the farm (the
network serial link dropping bytes, a place released by force, an exporter killed). The exporter
kill is the last test: it takes exporter exp2's places away for the rest of the session."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from edgehost import farm
from edgehost.link import LinkError

pytestmark = pytest.mark.farm


def test_every_place_is_its_board(local_farm, coordinator, acquired_by):
    """Each exported board answers HELLO as the board its place's tag names, over rfc2217, and
    each place is free again after the `with`."""
    assert set(local_farm.places) == {"mps2-an386-0", "virt-rv32-0", "mps2-an386-1", "netduinoplus2-0"}
    for name, info in local_farm.places.items():
        with farm.open_place(name) as p:
            assert acquired_by(name).endswith("/tester")
            assert p.serial_url.startswith("rfc2217://127.0.0.1:")
            with p.open_device() as dev:
                assert dev.info.board == info["board"]
                assert dev.echo(b"farm \x00\xff bytes") == b"farm \x00\xff bytes"
        assert acquired_by(name) is None


def test_cli_flash_power_cycles_and_releases(coordinator, cli, acquired_by):
    r = cli("flash", "--place", "virt-rv32-0", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["place"] == "virt-rv32-0" and res["board"] == "virt-rv32"
    assert res["method"] == "power cycle" and res["hello"]["board"] == "virt-rv32"
    assert res["port"].startswith("rfc2217://")
    assert acquired_by("virt-rv32-0") is None
    # the board of a place must be the one asked for
    r = cli("flash", "--place", "virt-rv32-0", "--board", "mps2-an386")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "place virt-rv32-0 holds board virt-rv32" in r.stderr


def test_monitor_on_a_place(coordinator, cli, acquired_by):
    r = cli("monitor", "--place", "netduinoplus2-0", "--hello", "--seconds", "3", "--json")
    assert r.returncode == 0, r.stderr
    frames = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert any("netduinoplus2" in json.dumps(f) for f in frames), r.stdout
    assert acquired_by("netduinoplus2-0") is None


def test_place_taken_names_the_holder_and_a_pattern_takes_the_next(coordinator, cli, acquired_by, monkeypatch):
    monkeypatch.setenv("LG_USERNAME", "alice")
    with farm.open_place("mps2-an386-0"):
        r = cli("flash", "--place", "mps2-an386-0", user="bob")
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert "place mps2-an386-0 is taken by" in r.stderr and "/alice" in r.stderr
        # a pattern: bob gets the free one
        monkeypatch.setenv("LG_USERNAME", "bob")
        with farm.open_place("mps2-an386-*", board="mps2-an386") as p:
            assert p.name == "mps2-an386-1"
            # and with every match taken, the error names each
            monkeypatch.setenv("LG_USERNAME", "carol")
            with pytest.raises(farm.PlaceTaken, match=r"no free place matches mps2-an386-\*.*mps2-an386-0 is taken"):
                farm.acquire("mps2-an386-*", board="mps2-an386")
    assert acquired_by("mps2-an386-0") is None and acquired_by("mps2-an386-1") is None


def test_offline_missing_resource_unknown_place(coordinator, cli):
    from edgehost.farm.place import Coordinator
    c = Coordinator(coordinator)
    pb2 = c._pb2
    try:
        for name, pattern, board in (("ghost", "exp9/ghost/*", "virt-rv32"),
                                     ("no-serial", "exp1/virt-rv32-0/NetworkPowerPort", "virt-rv32"),
                                     ("fake-nrf52", "exp1/virt-rv32-0/*", "nrf52840dk")):
            c._run(c.session.stub.AddPlace(pb2.AddPlaceRequest(name=name)), "add")
            c._run(c.session.stub.AddPlaceMatch(pb2.AddPlaceMatchRequest(placename=name, pattern=pattern)), "match")
            c._run(c.session.stub.SetPlaceTags(pb2.SetPlaceTagsRequest(placename=name, tags={"board": board})),
                   "tags")
    finally:
        c.close()
    r = cli("flash", "--place", "ghost")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "place ghost is offline: no exporter provides its resources" in r.stderr
    # a real board's place without a probe, a UF2 drive or SSH for a programmer: nothing built, nothing run
    r = cli("flash", "--place", "fake-nrf52")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert ("place fake-nrf52 (nrf52840dk): cannot flash it: it exports none of a USBDebugger (openocd); "
            "a USBMassStorage") in r.stderr and "it has: NetworkPowerPort, NetworkSerialPort" in r.stderr
    with pytest.raises(farm.MissingResource, match=r"place no-serial \(virt-rv32\): it has no serial port"):
        farm.acquire("no-serial")
    with pytest.raises(farm.FarmError, match=r"place nowhere: no such place .*places: .*mps2-an386-0"):
        farm.acquire("nowhere")
    r = cli("flash", "--place", "x", "--coordinator", "127.0.0.1:1")
    assert r.returncode == 1 and "no labgrid coordinator answers at 127.0.0.1:1" in r.stderr


def test_network_serial_link_dropping_bytes(coordinator, acquired_by):
    """Bytes dropped on the network serial link: the link's retries carry every request through;
    a link that drops everything fails with the place and the last completed request named."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "hil"))
    from faultproxy import FaultProxy
    with farm.open_place("mps2-an386-0") as p:
        # 0.5 % of the bytes dropped each way: a request and its answer (~45 bytes) pass whole
        # 4 times in 5, so the link's 9 tries carry every one through
        proxy = FaultProxy(p.serial_url, p_drop=0.005, p_corrupt=0, p_dup=0, p_delay=0, seed=7)
        try:
            with p.open_device(url=proxy.url) as dev:
                for i in range(60):
                    assert dev.echo(bytes([i + 1]) * 8) == bytes([i + 1]) * 8
                assert proxy.counts["drop"] > 0 and dev.stats.retransmits > 0
                proxy.p = (1.0, 0, 0, 0)              # now the link drops every byte
                with pytest.raises(LinkError) as ei:
                    dev.ping()
        finally:
            proxy.close()
    msg = str(ei.value)
    assert "labgrid place mps2-an386-0" in msg and "last delivered: ECHO" in msg
    assert acquired_by("mps2-an386-0") is None


def test_place_released_by_force(coordinator, acquired_by, monkeypatch):
    """Someone kicks us off the place mid-test: the exporter stops its ser2net, the link fails
    naming the place, the place says it is no longer ours, and our release does not fail."""
    with farm.open_place("mps2-an386-1") as p:
        dev = p.open_device()
        dev.ping()
        env = dict(os.environ, LG_USERNAME="admin", LG_COORDINATOR=coordinator)
        r = subprocess.run(["labgrid-client", "-p", "mps2-an386-1", "release", "--kick"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        err = None
        for _ in range(200):                 # until the exporter has stopped ser2net (it polls)
            try:
                dev.ping()
            except LinkError as e:
                err = e
                break
            time.sleep(0.05)
        dev.close()
        assert err is not None and "labgrid place mps2-an386-1" in str(err)
        with pytest.raises(farm.PlaceTaken, match=r"place mps2-an386-1 \(mps2-an386\): the place is no longer ours.*"
                                                  r"last completed step: acquired"):
            p.refresh()
    assert acquired_by("mps2-an386-1") is None


def test_ctrl_c_releases_the_place(coordinator, acquired_by, cli):
    """SIGINT (Ctrl-C) and SIGTERM in the middle of a command: the place is released."""
    env = dict(os.environ, LG_USERNAME="tester", LG_COORDINATOR=coordinator)
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen([sys.executable, "-m", "edgehost", "monitor", "--place", "virt-rv32-0"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(600):                 # until it holds the place
            if acquired_by("virt-rv32-0"):
                break
            time.sleep(0.1)
        assert acquired_by("virt-rv32-0")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err
        assert acquired_by("virt-rv32-0") is None, err


def test_exporter_killed_mid_test(local_farm, coordinator, acquired_by):
    """The exporter of a place dies (SIGKILL, its ser2net with it) while a test talks to the board:
    the request fails with an error naming the place and the last completed request, within the
    link's retry budget; the place is released; the place is then offline."""
    from edgehost.flash.sessions import terminate
    with farm.open_place("netduinoplus2-0") as p:
        dev = p.open_device()
        dev.ping()
        pid = local_farm.pids["exp2.exporter"]
        os.killpg(pid, signal.SIGKILL)
        terminate(pid, timeout=5)
        with pytest.raises(LinkError) as ei:
            for _ in range(50):
                dev.ping()
                time.sleep(0.05)
        dev.close()
    msg = str(ei.value)
    assert "labgrid place netduinoplus2-0" in msg and "last delivered: PING" in msg
    assert acquired_by("netduinoplus2-0") is None
    for _ in range(100):                     # the coordinator notices the exporter is gone
        try:
            farm.acquire("netduinoplus2-0").release()
        except farm.PlaceOffline as e:
            assert "place netduinoplus2-0 is offline" in str(e)
            break
        time.sleep(0.3)
    else:
        pytest.fail("the place of a killed exporter could still be acquired")
