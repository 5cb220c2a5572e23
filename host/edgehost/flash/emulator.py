"""Emulated boards: start QEMU (or the host board's native process) with a firmware image in the
background, its UART on a free local TCP port (or the host board's pseudo-terminal), and wait
until the firmware answers HELLO."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

from ..link import Device, LinkError
from ..link.protocol import DeviceInfo
from .errors import FlashError
from .sessions import Session, board_lock, find_session, marker_env, save, sessions_dir, stop_session, terminate

_PORT_LINE = re.compile(rb"^EDGEHOST_PORT (\S+)\s*$", re.M)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nodelay(argv: list[str]) -> list[str]:
    """QEMU's socket chardev without TCP_NODELAY lets Nagle and delayed ACKs hold every reply
    for ~40 ms; ask for nodelay unless the board says otherwise."""
    out = []
    for a in argv:
        if a.startswith("socket,") and "server=on" in a and "nodelay" not in a:
            a += ",nodelay=on"
        out.append(a)
    return out


def _tail(path: Path, n: int = 15) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def start(board, elf: str | os.PathLike, *, timeout: float = 30.0, icount: bool = True,
          log_dir: Path | None = None, session: bool | None = None) -> tuple[Session, subprocess.Popen, "DeviceInfo"]:
    """Start `board` (a Board of edgehost.boards) on `elf` in a new process group, wait for HELLO.

    Returns the Session, the Popen and the device's HELLO info. The process outlives this Python
    process (its output goes to a log file beside the sessions).

    `session` (default: when no `log_dir` is given) starts the board's recorded session: under
    the board's lock, a running session of the board is stopped first and the new one is saved
    before the lock is released, so parallel starts leave exactly one emulator, recorded. The
    process carries the session marker (edgehost.flash.sessions.MARKER_ENV) either way; a
    private one (tests, demos: `session=False`) is never stopped by another command."""
    if session is None:
        session = log_dir is None
    if not session:
        return _start(board, elf, timeout=timeout, icount=icount, log_dir=log_dir, kind="private")
    with board_lock(board.name):
        if find_session(board.name) is not None:
            stop_session(board.name)
        sess, proc, info = _start(board, elf, timeout=timeout, icount=icount, log_dir=log_dir, kind="session")
        save(sess)
        return sess, proc, info


def _start(board, elf, *, timeout: float, icount: bool, log_dir: Path | None, kind: str):
    elf = str(Path(elf).resolve())
    if not Path(elf).exists():
        raise FlashError(f"firmware image {elf} does not exist")
    env = dict(os.environ, **marker_env(board.name, kind))
    log_dir = log_dir or sessions_dir()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{board.name}.log"
    attempts = 1 if board.is_host else 3
    last_err = ""
    for _ in range(attempts):
        port_num = 0 if board.is_host else free_port()
        argv = board.emulator_argv(elf, port_num, icount=icount)
        argv = _nodelay(argv)
        with open(log, "wb") as lf:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                                        start_new_session=True, close_fds=True, env=env)
            except FileNotFoundError as e:
                raise FlashError(f"cannot run {argv[0]} for board {board.name}: {e.strerror}. "
                                 + ("Install QEMU (Debian: apt-get install qemu-system-arm qemu-system-misc)."
                                    if "qemu" in argv[0] else "Build the firmware first (edgehost build).")) from e
        try:
            url = _wait_port(board, proc, log, port_num, timeout)
            info = _wait_hello(board, proc, url, log, timeout)
        except FlashError as e:
            terminate(proc.pid, timeout=2)
            last_err = str(e)
            if "address already in use" in _tail(log).lower() or "Failed to bind" in _tail(log):
                continue  # lost the race for the free port: try another
            raise
        sess = Session(board=board.name, port=url, pid=proc.pid, elf=elf, method="native" if board.is_host else "qemu",
                       log=str(log), argv=argv)
        return sess, proc, info
    raise FlashError(last_err)


def _wait_port(board, proc: subprocess.Popen, log: Path, port_num: int, timeout: float) -> str:
    if not board.is_host:
        return f"socket://127.0.0.1:{port_num}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            m = _PORT_LINE.search(log.read_bytes())
        except OSError:
            m = None
        if m:
            return m.group(1).decode()
        if proc.poll() is not None:
            raise FlashError(f"the {board.name} firmware exited with code {proc.returncode} before announcing "
                             f"its port; its output:\n{_tail(log)}")
        time.sleep(0.02)
    raise FlashError(f"the {board.name} firmware printed no 'EDGEHOST_PORT <path>' line in {timeout:.0f} s "
                     f"(log {log}):\n{_tail(log)}")


def _wait_hello(board, proc: subprocess.Popen, url: str, log: Path, timeout: float):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FlashError(f"the emulator of {board.name} exited with code {proc.returncode}; its output:\n"
                             f"{_tail(log)}")
        try:
            with Device.open(url, open_timeout=min(5.0, max(0.5, deadline - time.monotonic()))) as dev:
                info = dev.info
            assert info is not None
            if info.board != board.name:
                raise FlashError(f"the firmware on {url} says it is board '{info.board}', expected '{board.name}': "
                                 "was it built for another board?")
            return info
        except LinkError as e:
            last = e
            time.sleep(0.1)
    raise FlashError(f"the {board.name} firmware did not answer HELLO on {url} within {timeout:.0f} s: {last}")
