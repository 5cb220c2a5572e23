"""A labgrid farm on this machine, for tests and to try the farm (docs/farm.md):

    python -m edgehost.farm up      # or scripts/farm.sh up; prints `export LG_COORDINATOR=...`
    edgehost validate net.ehm --place mps2-an386-0
    python -m edgehost.farm down

One `labgrid-coordinator` and two `labgrid-exporter`s on 127.0.0.1, each exporter with a board
host (edgehost.farm.boardhost) running its emulated boards: by default exporter `exp1` holds
places mps2-an386-0 and virt-rv32-0, exporter `exp2` places mps2-an386-1 and netduinoplus2-0.
Every place: a RawSerialPort (published through ser2net by the exporter as a NetworkSerialPort,
RFC 2217), a NetworkPowerPort (simplerest, the board host's), a `board=` tag. Everything runs
from one folder (default $EDGEHOST_HOME/farm) that holds the logs and `farm.json` (the
processes, the coordinator's address, the places); `down` stops exactly those processes.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import FarmError

DEFAULT_EXPORTERS = {"exp1": ["mps2-an386", "virt-rv32"], "exp2": ["mps2-an386", "netduinoplus2"]}
STATE = "farm.json"


def default_dir() -> Path:
    from ..flash.sessions import edgehost_home
    return edgehost_home() / "farm"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FarmState:
    dir: str
    coordinator: str
    pids: dict = field(default_factory=dict)        # role -> pid (process group leaders)
    places: dict = field(default_factory=dict)      # place -> {"board", "exporter"}
    started: float = field(default_factory=time.time)

    def save(self) -> None:
        p = Path(self.dir) / STATE
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(p)

    @classmethod
    def load(cls, d: Path) -> "FarmState | None":
        try:
            return cls(**json.loads((Path(d) / STATE).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def alive(self) -> dict:
        from ..flash.sessions import pid_matches
        return {role: pid_matches(pid, []) for role, pid in self.pids.items()}


def _need(tool: str, hint: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if not path:
        raise FarmError(f"the local farm needs {tool}: {hint}")
    return path


def _spawn(argv: list[str], log: Path, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    with open(log, "ab") as lf:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT, cwd=cwd,
                                start_new_session=True, close_fds=True, env=env)


def _tail(path: Path, n: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def _wait(pred, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            raise FarmError(f"{what}: the process exited with code {proc.returncode}; its log ({log}):\n{_tail(log)}")
        time.sleep(0.2)
    raise FarmError(f"{what}: not ready within {timeout:.0f} s; log {log}:\n{_tail(log) if log else ''}")


def up(d: Path | None = None, *, exporters: dict | None = None, port: int | None = None,
       timeout: float = 600.0) -> FarmState:
    """Starts the local farm in `d` (stopping a previous one there first). Returns its state."""
    _need("labgrid-coordinator", "pip install 'edgehost[farm]' (labgrid >= 24)")
    _need("labgrid-exporter", "pip install 'edgehost[farm]' (labgrid >= 24)")
    _need("ser2net", "apt-get install ser2net (the exporters publish serial ports through it)")
    d = Path(d or default_dir()).resolve()
    d.mkdir(parents=True, exist_ok=True)
    down(d)
    (d / "places.yaml").unlink(missing_ok=True)      # a fresh coordinator: no places of an older farm
    (d / "resources.yaml").unlink(missing_ok=True)
    exporters = exporters or DEFAULT_EXPORTERS
    addr = f"127.0.0.1:{port or _free_port()}"
    st = FarmState(dir=str(d), coordinator=addr)
    try:
        log = d / "coordinator.log"
        proc = _spawn([shutil.which("labgrid-coordinator"), "-l", addr], log, d)
        st.pids["coordinator"] = proc.pid
        st.save()
        _wait(lambda: _port_open(addr), 30, f"labgrid-coordinator on {addr}", proc, log)

        hosts = {}
        for name, boards in exporters.items():
            ready = d / f"{name}.ready.json"
            ready.unlink(missing_ok=True)
            specs = []
            for b in boards:
                n = sum(1 for p in st.places.values() if p["board"] == b)
                place = f"{b}-{n}"
                st.places[place] = {"board": b, "exporter": name}
                specs += ["--board", f"{b}={place}"]
            log = d / f"{name}.boardhost.log"
            proc = _spawn([sys.executable, "-m", "edgehost.farm.boardhost", "--name", name, *specs,
                           "--log-dir", str(d / f"{name}-logs"), "--yaml", str(d / f"{name}.yaml"),
                           "--ready", str(ready)], log, d)
            st.pids[f"{name}.boardhost"] = proc.pid
            st.save()
            hosts[name] = (proc, ready, log)
        for name, (proc, ready, log) in hosts.items():   # the boards build and boot in parallel
            _wait(ready.exists, timeout, f"the board host of exporter {name}", proc, log)

        for name in exporters:
            log = d / f"{name}.exporter.log"
            proc = _spawn([shutil.which("labgrid-exporter"), "-c", addr, "-n", name, "--hostname", "127.0.0.1",
                           str(d / f"{name}.yaml")], log, d)
            st.pids[f"{name}.exporter"] = proc.pid
            st.save()

        from .place import Coordinator
        coord = Coordinator(addr)
        try:
            pb2 = coord._pb2
            for place, info in st.places.items():
                if place not in coord.places():
                    coord._run(coord.session.stub.AddPlace(pb2.AddPlaceRequest(name=place)), "add place")
                coord._run(coord.session.stub.AddPlaceMatch(pb2.AddPlaceMatchRequest(
                    placename=place, pattern=f"{info['exporter']}/{place}/*")), "add match")
                coord._run(coord.session.stub.SetPlaceTags(pb2.SetPlaceTagsRequest(
                    placename=place, tags={"board": info["board"], "emulated": "yes"})), "set tags")
            coord.sync()

            def exported():
                coord.sync()
                have = {(e, g) for e, groups in coord.session.resources.items() for g in groups}
                return all((i["exporter"], p) in have for p, i in st.places.items())
            _wait(exported, 60, "the exporters' resources on the coordinator",
                  None, d / "exp1.exporter.log")
        finally:
            coord.close()
        st.save()
        return st
    except BaseException:
        down(d)
        raise


def _port_open(addr: str) -> bool:
    host, port = addr.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def down(d: Path | None = None) -> list[str]:
    """Stops the farm recorded in `d`: exporters first (their ser2net with them), then the board
    hosts (they stop their emulators), then the coordinator. Returns what was done."""
    from ..flash.sessions import pid_matches, terminate
    d = Path(d or default_dir()).resolve()
    st = FarmState.load(d)
    if st is None:
        return []
    done = []
    order = sorted(st.pids.items(), key=lambda kv: (0 if kv[0].endswith(".exporter") else
                                                   1 if kv[0].endswith(".boardhost") else 2))
    for role, pid in order:
        if not pid_matches(pid, []):
            done.append(f"{role}: already gone")
            continue
        ok = terminate(pid, timeout=10)
        done.append(f"{role}: stopped process {pid}" if ok else f"{role}: process {pid} did not exit")
    (d / STATE).unlink(missing_ok=True)
    return done


def env_line(st: FarmState) -> str:
    return f"export LG_COORDINATOR={st.coordinator}"
