"""Running sessions: what `edgehost flash` started or flashed, so later commands find the port.

One JSON file per board under $EDGEHOST_HOME/sessions/ (default ~/.edgehost/sessions/):
{"board", "port", "pid", "elf", "started", "method", "log", "argv", "foreground"}. `pid` is
the emulator's (or the host board's process) and null for real hardware. A session whose
process is gone (or whose pid now belongs to another program) is stale: it is removed when found.
"""
from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


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
    d = sessions_dir()
    d.mkdir(parents=True, exist_ok=True)
    tmp = sess.path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sess.to_dict(), indent=2) + "\n")
    tmp.replace(sess.path)
    return sess.path


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
    """Stops the board's session. Returns (session or None, what happened)."""
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
