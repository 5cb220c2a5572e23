"""Running sessions: what `edgehost flash` started or flashed, so later commands find the port.

One JSON file per board under $EDGEHOST_HOME/sessions/ (default ~/.edgehost/sessions/):
{"board", "port", "pid", "elf", "started", "method", "log", "argv", "foreground"}. `pid` is
the emulator's (or the host board's process) and null for real hardware. A session whose
process is gone (or whose pid now belongs to another program) is stale: it is removed when found.

Concurrency: `board_lock(board)` (an flock on sessions/<board>.lock, re-entrant within a
process) serialises what starts, records and stops a board's emulator: `flash`, `run`,
`validate`, `stream` (when they start a board) and `stop` of one board run one at a time, and an
emulator is recorded before the lock is released, so none is ever left running unrecorded.
Every emulator started for a session carries the marker MARKER_ENV in its environment (the
EDGEHOST_HOME it belongs to and its board): `find_orphans()` finds those whose session file was
lost, and `stop --all` stops them, and only them (private emulators of tests and demos carry
kind "private" and are left alone).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

#: environment variable marking the processes edgehost starts: JSON {"home", "board", "kind"}
MARKER_ENV = "EDGEHOST_SESSION"
#: how long a command waits for another one holding a board's lock (a flash may build first)
LOCK_TIMEOUT = 900.0


def edgehost_home() -> Path:
    env = os.environ.get("EDGEHOST_HOME")
    return Path(env).expanduser() if env else Path.home() / ".edgehost"


def sessions_dir() -> Path:
    return edgehost_home() / "sessions"


@dataclass
class Session:
    board: str
    port: str                      # a pyserial URL or device path
    pid: int | None = None         # emulator / host-board process; None for real hardware
    elf: str | None = None
    started: float = field(default_factory=time.time)
    method: str = ""
    log: str | None = None
    argv: list[str] = field(default_factory=list)
    foreground: bool = False

    @property
    def path(self) -> Path:
        return sessions_dir() / f"{self.board}.json"

    def alive(self) -> bool:
        """The process still runs (and is the one started: checked by its command line)."""
        if self.pid is None:
            return True
        return pid_matches(self.pid, self.argv)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["started_iso"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.started))
        return d


def pid_matches(pid: int, argv: list[str]) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else: cannot be ours, but do not claim it is dead
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False  # a zombie: exited, not yet reaped
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    if argv and cmd and cmd[0]:
        return os.path.basename(cmd[0].decode(errors="replace")) == os.path.basename(argv[0])
    return True


def save(sess: Session) -> Path:
    """Records the session (atomically, under the board's lock). A session whose process has
    already exited (replaced by a parallel flash of the same board) is not recorded."""
    with board_lock(sess.board):
        if sess.pid is not None and not sess.alive():
            return sess.path
        d = sessions_dir()
        d.mkdir(parents=True, exist_ok=True)
        tmp = sess.path.with_name(f".{sess.board}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(sess.to_dict(), indent=2) + "\n")
        tmp.replace(sess.path)
    return sess.path


# ---- the per-board lock ------------------------------------------------------------------------

_locks_guard = threading.Lock()
_locks: dict[str, list] = {}     # lock file -> [RLock, fd or None, depth]


class BoardBusy(Exception):
    """Another process held the board's lock for longer than the timeout."""


@contextlib.contextmanager
def board_lock(board: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Exclusive use of `board`'s session (re-entrant in this process, across threads one at a
    time). Waits up to `timeout` seconds for another process, then raises a UserError."""
    name = _board_name(board)
    d = sessions_dir()
    d.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "_"
    path = str((d / f"{safe}.lock").resolve())
    with _locks_guard:
        ent = _locks.setdefault(path, [threading.RLock(), None, 0])
    ent[0].acquire()
    try:
        if ent[2] == 0:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        holder = _read_holder(fd)
                        os.close(fd)
                        from ..cli import UserError
                        raise UserError(f"board {name} is busy: another edgehost command{holder} has held its "
                                        f"session lock ({path}) for {timeout:.0f} s", code=1) from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            ent[1] = fd
        ent[2] += 1
        try:
            yield
        finally:
            ent[2] -= 1
            if ent[2] == 0 and ent[1] is not None:
                fd, ent[1] = ent[1], None
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
    finally:
        ent[0].release()


def _read_holder(fd: int) -> str:
    try:
        pid = int(os.pread(fd, 32, 0).split()[0])
        return f" (pid {pid})"
    except (OSError, ValueError, IndexError):
        return ""


# ---- markers and orphans -------------------------------------------------------------------

def marker_env(board: str, kind: str = "session") -> dict[str, str]:
    """The environment entry that marks an emulator started for `board` ("session": by
    `edgehost flash`, recorded; "private": a test's or a demo's own, never stopped by others)."""
    return {MARKER_ENV: json.dumps({"home": str(edgehost_home().resolve()), "board": board, "kind": kind})}


def _marker_of(pid: int) -> dict | None:
    try:
        env = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    key = MARKER_ENV.encode() + b"="
    for item in env.split(b"\0"):
        if item.startswith(key):
            try:
                d = json.loads(item[len(key):].decode())
            except (ValueError, UnicodeDecodeError):
                return None
            return d if isinstance(d, dict) else None
    return None


@dataclass
class Orphan:
    pid: int
    pgid: int | None
    board: str
    cmdline: str


def find_orphans(board: str | None = None) -> list[Orphan]:
    """Processes started for a session of this EDGEHOST_HOME (by their marker) that no live
    session records: their session file was lost. Group leaders only (stopping one stops its
    group). Needs /proc (Linux); elsewhere the list is empty."""
    home = str(edgehost_home().resolve())
    want = _board_name(board) if board else None
    recorded = set()
    for s, alive in list_sessions(clean=False):
        if alive and s.pid is not None:
            recorded.add(s.pid)
    out = []
    try:
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    except OSError:
        return []
    me = os.getpid()
    for pid in pids:
        if pid == me:
            continue
        m = _marker_of(pid)
        if not m or m.get("home") != home or m.get("kind") != "session":
            continue
        if want is not None and m.get("board") != want:
            continue
        try:
            pgid = os.getpgid(pid)
        except OSError:
            continue
        if pid in recorded or pgid in recorded:
            continue
        if pgid != pid and _marker_of(pgid) is not None:
            continue            # a child of a marked group leader: stopped with its group
        if not pid_matches(pid, []):
            continue            # a zombie
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = ""
        out.append(Orphan(pid, pgid, str(m.get("board")), cmd))
    return out


def stop_orphans(board: str | None = None) -> list[tuple[Orphan, str]]:
    """Stops the orphans (find_orphans), each under its board's lock (checked again there:
    a flash in progress records its emulator before it releases the lock)."""
    done = []
    for o in find_orphans(board):
        with board_lock(o.board):
            if not any(x.pid == o.pid for x in find_orphans(o.board)):
                continue
            ok = terminate(o.pid)
            done.append((o, f"stopped unrecorded process {o.pid}" if ok else f"process {o.pid} did not exit"))
    return done


def _load(path: Path) -> Session | None:
    try:
        d = json.loads(path.read_text())
        d.pop("started_iso", None)
        return Session(**d)
    except (OSError, ValueError, TypeError):
        return None


def find_session(board: str, *, clean: bool = True) -> Session | None:
    """The live session of `board` (name or alias), removing a stale one."""
    name = _board_name(board)
    path = sessions_dir() / f"{name}.json"
    if not path.exists():
        return None
    sess = _load(path)
    if sess is None or not sess.alive():
        if clean:
            path.unlink(missing_ok=True)
        return None
    return sess


def list_sessions(*, clean: bool = True) -> list[tuple[Session, bool]]:
    """(session, alive) for every recorded session; stale ones are removed when `clean`."""
    out = []
    d = sessions_dir()
    for p in sorted(d.glob("*.json")) if d.exists() else []:
        s = _load(p)
        if s is None:
            if clean:
                p.unlink(missing_ok=True)
            continue
        alive = s.alive()
        if not alive and clean:
            p.unlink(missing_ok=True)
        out.append((s, alive))
    return out


def terminate(pid: int, timeout: float = 5.0) -> bool:
    """SIGTERM the process group led by pid (then SIGKILL). True if it is gone."""
    def send(sig):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _exists(pid):
            return True
        time.sleep(0.05)
    send(signal.SIGKILL)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        if not _exists(pid):
            return True
        time.sleep(0.05)
    return not _exists(pid)


def _exists(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
    except ChildProcessError:
        pass
    return pid_matches(pid, [])


def stop_session(board: str) -> tuple[Session | None, str]:
    """Stops the board's session (under its lock). Returns (session or None, what happened)."""
    with board_lock(board):
        return _stop_session(board)


def _stop_session(board: str) -> tuple[Session | None, str]:
    name = _board_name(board)
    path = sessions_dir() / f"{name}.json"
    sess = _load(path) if path.exists() else None
    if sess is None:
        path.unlink(missing_ok=True)
        return None, "no session"
    if sess.pid is None:
        path.unlink(missing_ok=True)
        return sess, "forgotten (real hardware keeps running its firmware)"
    if not sess.alive():
        path.unlink(missing_ok=True)
        return sess, f"stale (process {sess.pid} had already exited)"
    ok = terminate(sess.pid)
    path.unlink(missing_ok=True)
    return sess, f"stopped process {sess.pid}" if ok else f"process {sess.pid} did not exit"


def _board_name(board: str) -> str:
    try:
        from ..boards import get
        return get(board).name
    except Exception:  # noqa: BLE001 - an unknown name simply has no session
        return board
