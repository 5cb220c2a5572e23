"""pytest plugin for hardware-in-the-loop tests on edgehost boards (emulated or real).

Installed as the `pytest11` entry point `edgehost`. A HIL test is a few lines:

    from edgehost.validate import check_against_host

    def test_my_model(device, edgehost_model):  # a connected edgehost.link.Device; --model net.ehm
        device.load_model(edgehost_model.blob)  # results are now numpy arrays of the model's dtypes
        check_against_host(device, x)           # every layer, every step; fails at the first that differs

A complete test file for your own model (convert, load, step, compare, plot on failure):
docs/examples/test_my_model.py; the fixtures and options in docs/validate.md.

Options:
  --board B[,B2...]   board(s) to run on (default mps2-an386, or a module's
                      `pytest.mark.edgehost_boards("host", "virt-rv32", ...)`); tests using the
                      board fixtures run once per board
  --port URL          use an already running device (pyserial URL or path); nothing is started
  --flash/--no-flash  build and start/flash the board once per session (default), or use the
                      session `edgehost flash --board B` started
  --model M.ehm       a model blob for the tests (the `edgehost_model` fixture)
  --place PATTERN     boards from a labgrid farm (docs/farm.md): each board, and each pytest-xdist
                      worker (`-n 4`), acquires its own free place matching PATTERN; released at
                      the end (also on Ctrl-C). Without --place, each xdist worker starts its own
                      emulator instance (private: no session file, no board lock, its own port)

With --board, --port or --model the session header names what the tests run against: each
board (core, how it runs), its firmware build (version, protocol, image and its size and
SHA-256, or the device's answer to HELLO for --port / --no-flash) and the model. The boards are
then started before the first test (as they would be at their first use).

Fixtures (session scope, one board started per session and shared):
  device / edgehost_device  a connected edgehost.link.Device on the board under test
  edgehost_board       the Board (edgehost.boards.Board): name, core, emulated, ...
  edgehost_board_name  its name (tests using a board fixture run once per board)
  edgehost_model       the --model file: .path, .blob (bytes), .model (edgehost.blob.Model);
                       None when no --model was given
  edgehost_farm        starts boards on demand (farm.device(name), farm.start_private(name) for
                       a test that needs its own emulator, e.g. to kill it), and stops what it
                       started.
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
    g.addoption("--model", dest="edgehost_model", default=None, metavar="M.ehm",
                help="a model blob for the tests (the edgehost_model fixture); named in the header")
    g.addoption("--place", dest="edgehost_place", default=None, metavar="PATTERN",
                help="run on labgrid places (a name or a pattern like 'mps2-an386-*': each board, and "
                     "each xdist worker, acquires the first free matching place of that board; "
                     "released at the end; docs/farm.md)")
    g.addoption("--coordinator", dest="edgehost_coordinator", default=None, metavar="HOST[:PORT]",
                help="labgrid coordinator for --place (default: $LG_COORDINATOR)")


def pytest_configure(config):
    config.addinivalue_line("markers", "edgehost_boards(*names): default boards of a HIL test "
                                       "(overridden by --board)")
    n = getattr(config.option, "numprocesses", None)      # pytest-xdist's -n, in the controller
    workers = n if isinstance(n, int) else (2 if n else 1)  # "auto"/"logical": several
    if workers > 1 and (_opt(config, "edgehost_port") or not _opt(config, "edgehost_flash", True)):
        # each xdist worker needs its own device: one --port (or the one session of --no-flash)
        # would be shared by every worker, and their requests would interleave on one link
        raise pytest.UsageError(f"-n {n}: xdist workers cannot share one device: --port and --no-flash "
                                "name one; let each worker start its own emulator (drop them), or give "
                                "--place PATTERN matching a place per worker (docs/farm.md)")


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
    elf: str | None = None          # the image this session built and started/flashed
    error: str | None = None        # why this board cannot be used (said again at each use)
    place: object | None = None     # the edgehost.farm.Place it runs on (--place)


@dataclass
class ModelFile:
    """The --model file: its path, bytes and the Model read from them."""
    path: Path
    blob: bytes
    model: object


@dataclass
class Farm:
    """Boards started for this test session (each once), and the devices connected to them."""
    port: str | None = None
    do_flash: bool = True
    place: str | None = None                # --place pattern: boards come from a labgrid farm
    coordinator: str | None = None
    places: list = field(default_factory=list)   # acquired edgehost.farm.Place, released in close()
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

    def running_of(self, name: str) -> Running | None:
        return self.running.get(self.board(name).name)

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
        if r is not None and r.error:
            pytest.fail(r.error, pytrace=False)
        if r is not None and r.device is not None:
            return r.device
        if self.place:
            return self._place_device(board)
        if self.port:
            r = Running(board, self.port)
        elif not self.do_flash:
            from edgehost.flash import find_session
            sess = find_session(board.name)
            if sess is None:
                pytest.fail(f"--no-flash: no running session for board {board.name}; start one with "
                            f"`edgehost flash --board {board.name}` or drop --no-flash", pytrace=False)
            r = Running(board, sess.port, elf=sess.elf)
        elif board.emulated:
            from edgehost.flash import emulator
            elf = self.image(board)
            sess, proc, _info = emulator.start(board, elf, log_dir=self._log_dir())
            r = Running(board, sess.port, proc, elf=elf)
        else:
            from edgehost.flash import FlashError, flash
            try:
                res = flash(board.name)
            except FlashError as e:
                pytest.fail(f"cannot flash board {board.name}: {e}", pytrace=False)
            if not res.get("port"):
                pytest.fail(f"board {board.name} flashed but no serial port found: pass --port", pytrace=False)
            r = Running(board, res["port"], elf=res.get("elf"))
        self.running[board.name] = r
        dev = Device.open(r.port, open_timeout=10)
        if self.port is None and dev.info.board != board.name:
            dev.close()
            r.error = f"the device on {r.port} is board {dev.info.board}, not {board.name}"
            pytest.fail(r.error, pytrace=False)
        r.device = dev
        return r.device

    def _place_device(self, board):
        """A place of `board` matching --place, acquired for this session (and this xdist
        worker: a place held by another worker is taken, so the next matching one is used)."""
        from edgehost import farm
        try:
            p = farm.acquire(self.place, coordinator=self.coordinator, board=board.name)
        except farm.FarmError as e:
            self.running[board.name] = Running(board, "", error=str(e))
            pytest.fail(str(e), pytrace=False)
        self.places.append(p)
        r = Running(board, f"{p.serial_url} (labgrid place {p.name})", place=p)
        self.running[board.name] = r
        try:
            if self.do_flash:
                p.flash()
            r.device = p.open_device(open_timeout=10)
        except Exception as e:  # noqa: BLE001 - FarmError, LinkError: one line naming the place
            r.error = f"{e}"
            pytest.fail(r.error, pytrace=False)
        return r.device

    def reconnect(self, name: str):
        """Drop and reopen the shared connection of a board (e.g. after a test wrote garbage)."""
        from edgehost.link import Device
        r = self.running[self.board(name).name]
        if r.device is not None:
            r.device.close()
        place = getattr(r, "place", None)
        r.device = place.open_device(open_timeout=10) if place is not None else Device.open(r.port, open_timeout=10)
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
        while self.places:
            p = self.places.pop()
            try:
                p.release()
            except Exception as e:  # noqa: BLE001 - say it; the session is ending anyway
                print(f"edgehost: could not release place {p.name}: {e}")
        shutil.rmtree(self.log_root, ignore_errors=True)


_FARM_KEY = pytest.StashKey["Farm"]()


def _farm(config) -> Farm:
    """The session's Farm (one per pytest run, shared by the header and the fixtures)."""
    farm = config.stash.get(_FARM_KEY, None)
    if farm is None:
        farm = Farm(port=_opt(config, "edgehost_port"), do_flash=_opt(config, "edgehost_flash", True),
                    place=_opt(config, "edgehost_place"), coordinator=_opt(config, "edgehost_coordinator"))
        config.stash[_FARM_KEY] = farm
    return farm


def pytest_unconfigure(config):
    farm = config.stash.get(_FARM_KEY, None)
    if farm is not None:
        farm.close()


@pytest.fixture(scope="session")
def edgehost_farm(request):
    farm = _farm(request.config)
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


def _load_model_file(config) -> ModelFile | None:
    path = _opt(config, "edgehost_model")
    if not path:
        return None
    mf = config.stash.get(_MODEL_KEY, None)
    if mf is None:
        from edgehost.blob import read
        p = Path(path)
        blob = p.read_bytes()
        mf = ModelFile(p, blob, read(blob))
        config.stash[_MODEL_KEY] = mf
    return mf


_MODEL_KEY = pytest.StashKey["ModelFile"]()


@pytest.fixture(scope="session")
def edgehost_model(request) -> ModelFile | None:
    """The model given with --model (.path, .blob, .model), None when none was given."""
    try:
        return _load_model_file(request.config)
    except Exception as e:  # noqa: BLE001 - an unreadable file or blob: say which
        pytest.fail(f"--model {_opt(request.config, 'edgehost_model')}: {e}", pytrace=False)


# ---- the session header -------------------------------------------------------------------------

def _describe_model(m, path=None) -> str:
    ti, to = m.input_tensor, m.output_tensor
    kinds = " ".join(l.type for l in m.layers)
    return (f"{path + ' ' if path else ''}hash {m.model_hash:#010x}, {len(m.layers)} layers ({kinds}), "
            f"{ti.dtype}{list(ti.shape)} -> {to.dtype}{list(to.shape)}, arena {m.arena_size} B")


def _describe_image(elf, board) -> str:
    import hashlib
    import time
    try:
        data = Path(elf).read_bytes()
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(Path(elf).stat().st_mtime))
    except OSError as e:
        return f"image {elf} ({e.strerror or e})"
    try:
        from edgehost.build import measure
        flash_used, ram_used = measure(elf, board)
        size = f", flash {flash_used:,} B, RAM {ram_used:,} B"
    except Exception:  # noqa: BLE001 - the sizes are a courtesy
        size = ""
    return f"image {elf} (built {built}, sha256 {hashlib.sha256(data).hexdigest()[:12]}{size})"


def _header_lines(config) -> list[str]:
    port = _opt(config, "edgehost_port")
    given = _opt(config, "edgehost_board")
    lines = []
    names = [b.strip() for b in given.split(",") if b.strip()] if given else ([DEFAULT_BOARD] if port else [])
    if port:
        names = names[:1]
    farm = _farm(config) if names else None
    for name in names:
        try:
            b = farm.board(name)
            if b.is_host:
                how = "native build, run by this host"
            elif b.emulated:
                how = f"emulated: {Path(b.emulator[0]).name}" if b.emulator else "emulated"
            else:
                how = "real hardware"
            head = f"edgehost: board {b.name} ({b.core}, {how})"
        except Exception as e:  # noqa: BLE001 - an unknown board: the tests will say it too
            lines.append(f"edgehost: board {name}: {e}")
            continue
        try:
            dev = farm.device(name)
        except BaseException as e:  # noqa: BLE001 - pytest.fail raises an OutcomeException
            if isinstance(e, KeyboardInterrupt):
                raise
            lines.append(f"{head}: not started ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
            continue
        i = dev.info
        r = farm.running_of(name)
        src = f"port {r.port}" if r else ""
        if farm.port or not farm.do_flash:
            src += " (started outside this session)"
        if i.board != b.name:
            src += f"; the device there says it is board {i.board} ({i.core})"
        lines.append(f"{head}, {src}")
        fw = (f"edgehost:   firmware {i.firmware_version}, protocol {i.protocol_version}, "
              f"{i.clock_hz / 1e6:g} MHz, max payload {i.max_payload} B, blob buffer {i.blob_capacity:,} B, "
              f"arena {i.arena_size:,} B, model support {'yes' if i.model_support else 'NO'}")
        lines.append(fw)
        if r is not None and r.elf:
            lines.append(f"edgehost:   {_describe_image(r.elf, r.board)}")
        if i.model_loaded:
            m = dev.model
            lines.append("edgehost:   holds model " + (_describe_model(m) if m is not None else
                                                        f"hash {i.model_hash:#010x}, {i.n_layers} layers"))
    try:
        mf = _load_model_file(config)
    except Exception as e:  # noqa: BLE001
        lines.append(f"edgehost: model {_opt(config, 'edgehost_model')}: cannot read: {e}")
    else:
        if mf is not None:
            lines.append(f"edgehost: model {_describe_model(mf.model, str(mf.path))}")
        elif names:
            lines.append("edgehost: model: none given (--model M.ehm for the edgehost_model fixture); "
                         "tests load their own")
    return lines


def pytest_report_header(config):
    if not (_opt(config, "edgehost_port") or _opt(config, "edgehost_board") or _opt(config, "edgehost_model")):
        return None
    return _header_lines(config)

