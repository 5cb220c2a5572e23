"""The farm tests start a local labgrid farm (edgehost.farm.local: one coordinator, two exporters,
emulated boards behind ser2net) once per session and stop everything they started. They are
marked `farm` and deselected by default: `pytest -m farm tests/farm`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def _missing() -> str | None:
    for tool, how in (("labgrid-coordinator", "pip install -e '.[farm]'"), ("labgrid-exporter", "pip install -e '.[farm]'")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed ({how})"
    if shutil.which("ser2net") is None and not os.path.exists("/usr/sbin/ser2net"):
        return "ser2net is not installed (apt-get install ser2net)"
    return None


@pytest.fixture(scope="session")
def local_farm():
    why = _missing()
    if why:                     # scripts/setup.sh installs both: a farm run without them tests nothing
        pytest.fail(why)
    from edgehost.farm import local
    d = Path(tempfile.mkdtemp(prefix="edgehost-farm-"))
    st = local.up(d)
    try:
        yield st
    finally:
        local.down(d)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def coordinator(local_farm, monkeypatch):
    """The farm's address, also as LG_COORDINATOR (as a user would set it); this test's user."""
    monkeypatch.setenv("LG_COORDINATOR", local_farm.coordinator)
    monkeypatch.setenv("LG_USERNAME", "tester")
    return local_farm.coordinator


@pytest.fixture
def acquired_by(coordinator):
    """acquired_by(place): who holds the place now (None: free), asked from the coordinator."""
    def ask(place: str) -> str | None:
        from edgehost.farm.place import Coordinator
        c = Coordinator(coordinator)
        try:
            return c.place(place).acquired
        finally:
            c.close()
    return ask


@pytest.fixture
def cli(coordinator):
    """cli(*args, user=...): `edgehost ARGS` in a subprocess as labgrid user `user`."""
    def run(*args, user: str = "tester", timeout: float = 300) -> subprocess.CompletedProcess:
        env = dict(os.environ, LG_USERNAME=user, LG_COORDINATOR=coordinator)
        return subprocess.run([sys.executable, "-m", "edgehost", *args], capture_output=True, text=True,
                              env=env, timeout=timeout)
    return run
