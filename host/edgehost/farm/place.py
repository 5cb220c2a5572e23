"""A labgrid place used as an edgehost board: reserve it, flash it through its resources, talk to
it over its network serial port, and release it on exit (also on Ctrl-C, SIGTERM and errors).

    from edgehost.farm import open_place
    with open_place("mps2-an386-0") as p:     # coordinator: --coordinator, else LG_COORDINATOR
        p.flash()                              # emulated: power cycle; real: openocd / UF2 via labgrid
        dev = p.open_device()                  # an edgehost.link.Device on rfc2217://host:port

The board a place holds is its `board=NAME` tag (`labgrid-client -p P set-tags board=nrf52`), or
the --board given with --place. Every error names the place and what is missing: the place is
taken (by whom), offline (its exporter is gone, or a resource is unavailable), or lacks the
resource a step needs (a serial port, a power switch for an emulated place, a probe or a UF2
drive for a real one). docs/farm.md.
"""
from __future__ import annotations

import asyncio
import atexit
import contextlib
import fnmatch
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Iterator

from .errors import CoordinatorUnreachable, FarmError, MissingResource, PlaceOffline, PlaceTaken

DEFAULT_COORDINATOR = "127.0.0.1:20408"
#: seconds to wait for the coordinator to answer one request
RPC_TIMEOUT = 15.0
#: seconds to wait for the coordinator to grant a place (the exporters start ser2net first)
ACQUIRE_TIMEOUT = 60.0


def coordinator_address(given: str | None = None) -> str:
    """--coordinator, else labgrid's LG_COORDINATOR, else labgrid's default."""
    return given or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR


def _labgrid():
    try:
        from labgrid.remote import client as C
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2
    except ImportError as e:
        raise FarmError("--place needs labgrid (>= 24): pip install 'edgehost[farm]' "
                        f"(import failed: {e})") from None
    return C, pb2


class Coordinator:
    """One client session with a labgrid coordinator (its own event loop, this thread)."""

    def __init__(self, address: str | None = None, *, timeout: float = RPC_TIMEOUT):
        C, self._pb2 = _labgrid()
        self.address = coordinator_address(address)
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)        # grpc.aio binds its channel to the current loop
        root = logging.getLogger()
        if not root.handlers:                    # labgrid logs a lost coordinator with a traceback:
            root.addHandler(logging.NullHandler())   # our errors say it in one line
        self.session = None
        try:
            addr = C.proxymanager.get_grpc_address(self.address, default_port=20408)
            self.session = C.ClientSession(addr, self.loop)
            self._own_channel(addr)
            self._user = None
            _ = self.user
            self._run(self.session.start(), what="connect")
        except (FarmError, KeyboardInterrupt):
            self.close()
            raise
        except Exception as e:  # noqa: BLE001 - grpc and labgrid errors: one line
            self.close()
            raise CoordinatorUnreachable(f"no labgrid coordinator answers at {self.address} "
                                         f"({_one_line(e)}): start one (labgrid-coordinator, or "
                                         "`scripts/farm.sh up` for the local farm) or set LG_COORDINATOR") from None

    def _own_channel(self, addr: str) -> None:
        """gRPC shares one connection among the channels of a process to one address, and the
        coordinator knows a client by its connection: a second session of this process (two
        places, a test asking who holds one) would be refused. Each session gets its own."""
        import grpc
        from labgrid.remote.generated import labgrid_coordinator_pb2_grpc as pb2_grpc
        old = self.session.channel
        self.session.channel = grpc.aio.insecure_channel(target=addr, options=[
            ("grpc.keepalive_time_ms", 7500), ("grpc.keepalive_timeout_ms", 10000),
            ("grpc.http2.ping_timeout_ms", 10000), ("grpc.http2.max_pings_without_data", 0),
            ("grpc.use_local_subchannel_pool", 1)])
        self.session.stub = pb2_grpc.CoordinatorStub(self.session.channel)
        self._run(old.close(), what="close")

    def _run(self, coro, what: str):
        try:
            return self.loop.run_until_complete(asyncio.wait_for(coro, self.timeout))
        except asyncio.TimeoutError:
            raise CoordinatorUnreachable(f"the labgrid coordinator at {self.address} did not answer "
                                         f"'{what}' within {self.timeout:.0f} s") from None

    @property
    def user(self) -> str:
        """host/user this session announced to the coordinator (fixed at connection: LG_USERNAME
        / LG_HOSTNAME may change afterwards, the coordinator still knows us by this name)."""
        if getattr(self, "_user", None) is None:
            self._user = f"{self.session.gethostname()}/{self.session.getuser()}"
        return self._user

    def sync(self) -> None:
        self._run(self.session.sync_with_coordinator(), what="sync")

    def places(self) -> dict:
        return self.session.places

    def place(self, name: str):
        self.sync()
        p = self.session.places.get(name)
        if p is None:
            known = ", ".join(sorted(self.session.places)) or "none"
            raise FarmError(f"place {name}: no such place on the coordinator {self.address} (places: {known})")
        return p

    def match(self, pattern: str) -> list[str]:
        """Place names matching a shell pattern (`mps2-*`) or equal to it, sorted."""
        self.sync()
        return sorted(n for n in self.session.places if n == pattern or fnmatch.fnmatchcase(n, pattern))

    def resources_of(self, place) -> list[tuple[tuple, object]]:
        """[(exporter, group, cls, name), resource] of every resource the place's matches select."""
        out = []
        for exporter, groups in self.session.resources.items():
            for group_name, group in groups.items():
                for res_name, res in group.items():
                    path = (exporter, group_name, res.cls, res_name)
                    if place.getmatch(path) is not None:
                        out.append((path, res))
        return out

    def acquire(self, name: str) -> None:
        import grpc
        place = self.place(name)
        if place.acquired:
            who = place.acquired
            mine = who == self.user
            raise PlaceTaken(f"place {name} is taken by {who}" + (
                " (this user on this host: another edgehost or labgrid-client holds it; release it with "
                f"`labgrid-client -p {name} release`)" if mine else
                f": wait for it, or ask them to release it (`labgrid-client -p {name} release --kick` "
                "forces it)"))
        self.check_online(place)
        # the coordinator grants the place once the exporters hold its resources (they start
        # ser2net): that can take seconds on a loaded exporter
        task = self.loop.create_task(asyncio.wait_for(
            self.session.stub.AcquirePlace(self._pb2.AcquirePlaceRequest(placename=name)), ACQUIRE_TIMEOUT))
        try:
            self.loop.run_until_complete(task)
        except KeyboardInterrupt:
            # Ctrl-C / SIGTERM during the request: the coordinator goes on and may grant it; wait
            # for its answer (bounded), then give the place back, then stop
            with contextlib.suppress(BaseException):
                self.loop.run_until_complete(asyncio.wait({task}, timeout=ACQUIRE_TIMEOUT))
            with contextlib.suppress(BaseException):
                if task.done() and not task.cancelled() and task.exception() is None:
                    self.release(name)
            raise
        except asyncio.TimeoutError:
            with contextlib.suppress(BaseException):
                self.release(name)
            raise PlaceOffline(f"place {name}: the coordinator {self.address} did not grant it within "
                               f"{ACQUIRE_TIMEOUT:.0f} s (its exporter did not take its resources)") from None
        except grpc.aio.AioRpcError as e:
            place = self.place(name)
            if place.acquired and place.acquired != self.user:
                raise PlaceTaken(f"place {name} is taken by {place.acquired}") from None
            raise PlaceOffline(f"place {name} cannot be acquired: {e.details()}") from None
        self.sync()

    def check_online(self, place) -> None:
        res = self.resources_of(place)
        if not res:
            matches = ", ".join(str(m) for m in place.matches) or "none"
            raise PlaceOffline(f"place {place.name} is offline: no exporter provides its resources "
                               f"(matches {matches}); is its exporter running?")
        down = [f"{p[0]}/{p[1]}/{p[3]}" for p, r in res if not r.avail]
        if down:
            raise PlaceOffline(f"place {place.name} is offline: resource {', '.join(down)} is not available "
                               "on its exporter")

    def release(self, name: str) -> None:
        self._run(self.session.stub.ReleasePlace(self._pb2.ReleasePlaceRequest(placename=name)),
                  what=f"release {name}")

    def close(self) -> None:
        if self.loop.is_closed() or getattr(self, "_closed", False):
            return
        s = getattr(self, "session", None)
        if s is not None:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(asyncio.wait_for(s.stop(), 5))
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(asyncio.wait_for(s.close(), 5))
        self._closed = True      # the loop is left open: grpc's poller thread may still post to it


def _one_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return s[0] if s else type(e).__name__


@dataclass
class Place:
    """An acquired place (use as a context manager, or call release())."""
    name: str
    coordinator: Coordinator
    board: object                           # edgehost.boards.Board
    serial_url: str | None = None
    power: dict | None = None               # NetworkPowerPort params (host, index, model)
    resources: dict = field(default_factory=dict)   # cls -> [params]
    step: str = "acquired"                  # the last completed step, named by errors
    released: bool = False

    @property
    def emulated(self) -> bool:
        return bool(self.board.emulated)

    def __post_init__(self) -> None:
        _HELD.append(self)                  # released at exit if nobody did it before

    def _done(self, what: str) -> None:
        self.step = what

    def fail(self, msg: str, cls=FarmError) -> FarmError:
        return cls(f"place {self.name} ({self.board.name}): {msg} (last completed step: {self.step})")

    # -- resources ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reads the place's resources again (ser2net's port is known once the place is acquired)."""
        self.coordinator.sync()
        place = self.coordinator.place(self.name)
        if place.acquired != self.coordinator.user:
            who = place.acquired or "nobody"
            raise self.fail(f"the place is no longer ours: it is now acquired by {who} "
                            "(released by force?)", PlaceTaken)
        self.coordinator.check_online(place)
        self.resources = {}
        for _path, r in self.coordinator.resources_of(place):
            self.resources.setdefault(r.cls, []).append(dict(r.params))
        ser = self.resources.get("NetworkSerialPort")
        if not ser:
            raise self.fail("it has no serial port (a RawSerialPort or USBSerialPort on its exporter, "
                            "published as a NetworkSerialPort)", MissingResource)
        p = ser[0]
        if not p.get("port"):
            raise self.fail(f"its serial port on {p.get('host')} is not published yet (ser2net not running "
                            "on the exporter: is ser2net installed there?)", PlaceOffline)
        # ign_set_control: ser2net on a pty/USB UART without modem lines refuses RFC 2217's
        # control option; labgrid's own SerialDriver opens it the same way
        self.serial_url = f"rfc2217://{p['host']}:{p['port']}?ign_set_control"
        pw = self.resources.get("NetworkPowerPort")
        self.power = pw[0] if pw else None

    # -- power and flash ----------------------------------------------------------------------
    def _power_url(self, value) -> str:
        if self.power is None:
            raise self.fail("it has no power switch (NetworkPowerPort): an emulated place is flashed by "
                            "power-cycling its emulator", MissingResource)
        model = self.power.get("model")
        if model != "simplerest":
            raise self.fail(f"its power switch is model {model!r}; edgehost drives 'simplerest' itself "
                            "(other models: `labgrid-client -p {self.name} power cycle`)", MissingResource)
        return str(self.power["host"]).format(index=self.power.get("index", 0), value=value).rstrip("/")

    def power_set(self, on: bool, timeout: float = 120.0) -> None:
        url = self._power_url("1" if on else "0")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                body = r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            raise self.fail(f"power {'on' if on else 'off'} refused by {url}: "
                            f"{e.read().decode(errors='replace')[:300]}", PlaceOffline) from None
        except (urllib.error.URLError, OSError) as e:
            raise self.fail(f"its power switch at {url} does not answer ({_one_line(e)}): "
                            "is the exporter host's board host running?", PlaceOffline) from None
        if body.strip() != ("1" if on else "0"):
            raise self.fail(f"power {'on' if on else 'off'}: the switch answered {body.strip()!r}", PlaceOffline)

    def flash(self, elf=None, *, timeout: float = 60.0) -> dict:
        """Puts the firmware on the place's board and waits until it answers HELLO on the network
        serial port. Emulated: power cycle (the exporter host runs its own image of the board:
        `elf` cannot be sent there, so it is refused). Real: labgrid's drivers on the place's
        resources (OpenOCD through a USBDebugger, UF2 through a USBMassStorage)."""
        t0 = time.monotonic()
        if self.emulated:
            if elf is not None:
                raise self.fail("--elf cannot be used with an emulated place: its exporter host runs its own "
                                "build of the board's firmware (rebuild it there and power-cycle the place)",
                                MissingResource)
            self.power_set(False)
            self._done("powered off")
            self.power_set(True)
            self._done("powered on (emulator restarted)")
            method = "power cycle"
        else:
            from .real import flash_real
            method = flash_real(self, elf)
            self._done(f"flashed ({method})")
        self.refresh()
        info = self.hello(timeout=timeout)
        self._done("HELLO answered")
        return {"place": self.name, "board": self.board.name, "method": method, "port": self.serial_url,
                "seconds": round(time.monotonic() - t0, 3), "hello": info.as_dict() if info else None}

    def hello(self, timeout: float = 30.0):
        from ..link import LinkError
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                with self.open_device(open_timeout=5) as dev:
                    return dev.info
            except LinkError as e:
                last = e
            except FarmError:
                raise
            if time.monotonic() > deadline:
                raise self.fail(f"the firmware does not answer HELLO on {self.serial_url} within {timeout:.0f} s: "
                                f"{_one_line(last)}", PlaceOffline)
            time.sleep(0.5)

    def open_device(self, *, open_timeout: float = 10.0, url: str | None = None, **kw):
        """An edgehost.link.Device on the place's serial port (or `url`, a local tunnel to it:
        an SSH forward of an isolated exporter); link errors name the place."""
        from ..link import Device
        if self.serial_url is None:
            self.refresh()
        url = url or self.serial_url
        if self.emulated:
            kw.setdefault("byte_time", 1 / 4000)   # the emulated UART's pace, not the wire's
        try:
            dev = Device.open(url, open_timeout=open_timeout, **kw)
        except Exception as e:
            e.args = (f"place {self.name} ({self.board.name}), last completed step: {self.step}: {e}",)
            raise
        dev.port = dev.t.port = f"{url} (labgrid place {self.name})"  # link errors name the place
        if dev.info is not None and dev.info.board != self.board.name:
            dev.close()
            raise self.fail(f"the device on its serial port says it is board {dev.info.board}, not "
                            f"{self.board.name} (fix the place's board tag)")
        dev.place = self.name
        return dev

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        if self in _HELD:
            _HELD.remove(self)
        try:
            place = self.coordinator.place(self.name)
            if place.acquired == self.coordinator.user:
                self.coordinator.release(self.name)
        finally:
            self.coordinator.close()

    def __enter__(self) -> "Place":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


#: places acquired by this process and not yet released: released by an atexit hook (a normal
#: exit, an exception, Ctrl-C, and SIGTERM once turned into KeyboardInterrupt; not SIGKILL)
_HELD: list = []


@atexit.register
def _release_held() -> None:
    for p in list(_HELD):
        try:
            p.release()
        except Exception as e:  # noqa: BLE001 - at exit: say it, go on with the others
            print(f"edgehost: could not release place {p.name}: {e}", file=sys.stderr)


def _board_of(coord: Coordinator, name: str, board: str | None):
    from ..boards import get
    place = coord.place(name)
    tag = (place.tags or {}).get("board")
    if board and tag and get(board).name != get(tag).name:
        raise FarmError(f"place {name} holds board {tag} (its board tag), not {board}")
    if not board and not tag:
        raise MissingResource(f"place {name} does not say which board it holds: tag it "
                              f"(`labgrid-client -p {name} set-tags board=nrf52`) or pass --board")
    return get(board or tag)


def acquire(name: str, *, coordinator: str | None = None, board: str | None = None) -> Place:
    """Acquires the place `name` (or the first free place matching a shell pattern like
    `mps2-an386-*`) and reads its resources. Release it with .release() (or use `with`)."""
    coord = Coordinator(coordinator)
    try:
        names = coord.match(name) if any(c in name for c in "*?[") else [name]
        if board and len(names) > 1:              # a pattern: only the places of that board
            from ..boards import get
            want = get(board).name

            def holds(n):
                tag = (coord.places()[n].tags or {}).get("board")
                try:
                    return tag is not None and get(tag).name == want
                except Exception:  # noqa: BLE001 - a tag naming no known board
                    return False
            names = [n for n in names if holds(n)] or names
        if not names:
            raise FarmError(f"place pattern {name} matches no place on the coordinator {coord.address} "
                            f"(places: {', '.join(sorted(coord.places())) or 'none'})")
        errors = []
        for n in names:
            try:
                b = _board_of(coord, n, board)
                coord.acquire(n)
            except (PlaceTaken, PlaceOffline) as e:
                errors.append(str(e))
                continue
            except BaseException:               # Ctrl-C while acquiring: it may have been granted
                with contextlib.suppress(Exception):
                    if coord.place(n).acquired == coord.user:
                        coord.release(n)
                raise
            p = Place(n, coord, b)
            try:
                p.refresh()
            except BaseException:
                p.release()
                raise
            return p
        if len(names) == 1:
            raise (PlaceTaken if "taken" in errors[0] else PlaceOffline)(errors[0])
        raise PlaceTaken(f"no free place matches {name}: " + "; ".join(errors))
    except BaseException:
        coord.close()
        raise


@contextlib.contextmanager
def open_place(name: str, *, coordinator: str | None = None, board: str | None = None) -> Iterator[Place]:
    """`with open_place(...) as p:` the place is released when the block ends, also on Ctrl-C and
    on SIGTERM (turned into KeyboardInterrupt while the block runs, in the main thread)."""
    old = None
    if threading.current_thread() is threading.main_thread():
        def term(*_):
            raise KeyboardInterrupt
        old = signal.signal(signal.SIGTERM, term)     # before acquiring: no window without it
    try:
        p = acquire(name, coordinator=coordinator, board=board)
    except BaseException:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
        raise
    try:
        yield p
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
        try:
            p.release()
        except FarmError as e:
            print(f"edgehost: place {p.name}: could not release it: {e}", file=sys.stderr)
