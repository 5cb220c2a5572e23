"""pytest plugin for hardware-in-the-loop tests on edgehost boards (emulated or real).

Installed as the `pytest11` entry point `edgehost`. A HIL test is a few lines:

    def test_answers(device):                 # a connected edgehost.link.Device
        assert device.info.board == "mps2-an386"
        assert device.echo(b"hi") == b"hi"

Options:
  --board B[,B2...]   board(s) to run on (default mps2-an386, or a module's
                      `pytest.mark.edgehost_boards("host", "virt-rv32", ...)`); tests using the
                      board fixtures run once per board
  --port URL          use an already running device (pyserial URL or path); nothing is started
  --flash/--no-flash  build and start/flash the board once per session (default), or use the
                      session `edgehost flash --board B` started

Fixtures (session scope, one board started per session and shared):
  edgehost_board  the Board (edgehost.boards)      device / edgehost_device  a connected Device
  edgehost_farm   starts boards on demand (farm.device(name), farm.start_private(name) for a
                  test that needs its own emulator, e.g. to kill it), and stops what it started.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DEFAULT_BOARD = "mps2-an386"


def pytest_addoption(parser):
    g = parser.getgroup("edgehost", "edgehost hardware-in-the-loop")
    g.addoption("--board", dest="edgehost_board", default=None,
                help="board(s) for HIL tests, comma separated (default mps2-an386 or the test "
                     "module's edgehost_boards marker)")
    g.addoption("--port", dest="edgehost_port", default=None,
                help="use the device already running on this pyserial URL or path")
    g.addoption("--flash", dest="edgehost_flash", action="store_true", default=True,
                help="build and start/flash the board(s) once per session (default)")
    g.addoption("--no-flash", dest="edgehost_flash", action="store_false",
                help="use the session started by `edgehost flash`")


def pytest_configure(config):
    config.addinivalue_line("markers", "edgehost_boards(*names): default boards of a HIL test "
                                       "(overridden by --board)")


def _opt(config, name, default=None):
    try:
        return config.getoption(name)
    except ValueError:
        return default


def _boards_for(metafunc) -> list[str]:
    given = _opt(metafunc.config, "edgehost_board")
    if given:
        return [b.strip() for b in given.split(",") if b.strip()]
    m = metafunc.definition.get_closest_marker("edgehost_boards")
    if m and m.args:
        return list(m.args)
    return [DEFAULT_BOARD]


def pytest_generate_tests(metafunc):
    if "edgehost_board_name" in metafunc.fixturenames:
        boards = _boards_for(metafunc)
        if _opt(metafunc.config, "edgehost_port"):
            boards = boards[:1]
        metafunc.parametrize("edgehost_board_name", boards, indirect=True, scope="session")


@dataclass
class Running:
    board: object
    port: str
    proc: subprocess.Popen | None = None
    device: object | None = None


@dataclass
class Farm:
    """Boards started for this test session (each once), and the devices connected to them."""
    port: str | None = None
    do_flash: bool = True
    running: dict = field(default_factory=dict)
    private: list = field(default_factory=list)
    log_root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="edgehost-hil-")))

    def _log_dir(self) -> Path:
        """A fresh folder for an emulator's log (never the user's session logs)."""
        return Path(tempfile.mkdtemp(dir=self.log_root))

    def board(self, name: str):
        from edgehost.boards import get
        return get(name)

    def image(self, board) -> str:
        from edgehost.flash import build_firmware
        return str(build_firmware(board))

    def start_private(self, name: str, **kw) -> Running:
        """A new emulator instance of an emulated board, only for the calling test (stopped at the
        end of the session at the latest; stop it earlier with farm.stop(r))."""
        from edgehost.flash import emulator
        board = self.board(name)
        if not board.emulated:
            pytest.skip(f"board {name} is real hardware: it cannot be started privately")
        kw.setdefault("log_dir", self._log_dir())
        sess, proc, _info = emulator.start(board, self.image(board), **kw)
        r = Running(board, sess.port, proc)
        self.private.append(r)
        return r

    def device(self, name: str):
        """The shared connected Device of board `name` (started on first use)."""
        from edgehost.link import Device
        board = self.board(name)
        r = self.running.get(board.name)
        if r is not None and r.device is not None:
            return r.device
        if self.port:
            r = Running(board, self.port)
        elif not self.do_flash:
            from edgehost.flash import find_session
            sess = find_session(board.name)
            if sess is None:
                pytest.fail(f"--no-flash: no running session for board {board.name}; start one with "
                            f"`edgehost flash --board {board.name}` or drop --no-flash", pytrace=False)
            r = Running(board, sess.port)
        elif board.emulated:
            from edgehost.flash import emulator
            sess, proc, _info = emulator.start(board, self.image(board), log_dir=self._log_dir())
            r = Running(board, sess.port, proc)
        else:
            from edgehost.flash import FlashError, flash
            try:
                res = flash(board.name)
            except FlashError as e:
                pytest.fail(f"cannot flash board {board.name}: {e}", pytrace=False)
            if not res.get("port"):
                pytest.fail(f"board {board.name} flashed but no serial port found: pass --port", pytrace=False)
            r = Running(board, res["port"])
        self.running[board.name] = r
        r.device = Device.open(r.port, open_timeout=10)
        if self.port is None and r.device.info.board != board.name:
            pytest.fail(f"the device on {r.port} is board {r.device.info.board}, not {board.name}", pytrace=False)
        return r.device

    def reconnect(self, name: str):
        """Drop and reopen the shared connection of a board (e.g. after a test wrote garbage)."""
        from edgehost.link import Device
        r = self.running[self.board(name).name]
        if r.device is not None:
            r.device.close()
        r.device = Device.open(r.port, open_timeout=10)
        return r.device

    def stop(self, r: Running) -> None:
        from edgehost.flash.sessions import terminate
        if r.device is not None:
            r.device.close()
            r.device = None
        if r.proc is not None and r.proc.poll() is None:
            terminate(r.proc.pid, timeout=3)
        if r.proc is not None:
            try:
                r.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        for r in [*self.private, *self.running.values()]:
            self.stop(r)
        self.private.clear()
        self.running.clear()
        shutil.rmtree(self.log_root, ignore_errors=True)


@pytest.fixture(scope="session")
def edgehost_farm(request):
    farm = Farm(port=_opt(request.config, "edgehost_port"), do_flash=_opt(request.config, "edgehost_flash", True))
    yield farm
    farm.close()


@pytest.fixture(scope="session")
def edgehost_board_name(request):
    return getattr(request, "param", None) or _opt(request.config, "edgehost_board") or DEFAULT_BOARD


@pytest.fixture(scope="session")
def edgehost_board(edgehost_farm, edgehost_board_name):
    return edgehost_farm.board(edgehost_board_name)


@pytest.fixture(scope="session")
def edgehost_device(edgehost_farm, edgehost_board_name):
    return edgehost_farm.device(edgehost_board_name)


@pytest.fixture(scope="session")
def device(edgehost_device):
    return edgehost_device


def pytest_report_header(config):
    port = _opt(config, "edgehost_port")
    boards = _opt(config, "edgehost_board")
    if port or boards:
        return f"edgehost: board(s) {boards or DEFAULT_BOARD}" + (f", port {port}" if port else "") + \
            ("" if _opt(config, "edgehost_flash", True) else ", --no-flash")
    return None

