"""Put a firmware on a board: start an emulated board in the background, or program a real one
(pyocd, nrfjprog, openocd, UF2, dfu-util, adafruit-nrfutil), then record the session so later
commands (run, stream, validate, monitor, stop) find its port. docs/flashing.md explains it.

    from edgehost.flash import flash
    res = flash("mps2-an386")          # builds if needed, starts QEMU, waits for HELLO
    res["port"]                         # 'socket://127.0.0.1:40123'
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from .errors import FlashError
from .methods import METHODS, Ctx, Unavailable, wait_port
from .sessions import (Session, edgehost_home, find_session, list_sessions, save, sessions_dir,
                       stop_session)

__all__ = ["flash", "build_firmware", "FlashError", "Session", "find_session", "list_sessions",
           "stop_session", "sessions_dir", "edgehost_home", "METHODS"]

EMULATOR_METHODS = ("qemu", "native")


def get_board(name):
    from ..boards import get
    return get(name)


def build_firmware(board) -> Path:
    """The board's firmware image, built (incrementally) with edgehost.build."""
    try:
        from ..build import build
    except ImportError as e:
        raise FlashError("edgehost.build is not available in this installation: pass the image with --elf") from e
    res = build(board, target="firmware")
    elf = Path(res.elf)
    if not elf.exists():
        raise FlashError(f"the build reported {elf} but it does not exist")
    return elf


def flash(board, *, method: str | None = None, elf: str | Path | None = None, output: str | Path | None = None,
          port: str | None = None, uf2_family: int | None = None, timeout: float = 30.0, icount: bool = True,
          progress: Callable[[int, int, str], None] | None = None, keep_process: bool = False) -> dict:
    """Flash or start `board`. Returns a JSON-able dict with at least `board`, `method` and, when
    a device is reachable, `port` (a pyserial URL or path). `keep_process=True` also returns the
    emulator's Popen under the key `process` (for --foreground)."""
    board = get_board(board)
    if output is not None:
        method = method or "uf2"
        if method != "uf2":
            raise FlashError(f"--output writes a UF2 file; it does not go with --method {method}")
    if method is not None and method not in (*EMULATOR_METHODS, *METHODS):
        raise FlashError(f"unknown method '{method}'; known: {', '.join((*EMULATOR_METHODS, *METHODS))}")
    emulated = board.emulated and (method is None or method in EMULATOR_METHODS)
    if method in EMULATOR_METHODS and not board.emulated:
        raise FlashError(f"board {board.name} is real hardware: methods {', '.join(board.flash_methods)}")
    elf = Path(elf).resolve() if elf is not None else build_firmware(board)
    if not elf.exists():
        raise FlashError(f"firmware image {elf} does not exist")

    if emulated:
        from . import emulator
        old = find_session(board.name)
        if old is not None:
            stop_session(board.name)
        sess, proc, info = emulator.start(board, elf, timeout=timeout, icount=icount)
        save(sess)
        res = {"board": board.name, "method": sess.method, "port": sess.port, "pid": sess.pid, "elf": str(elf),
               "started": sess.started, "session": str(sess.path), "log": sess.log,
               "replaced_session": old is not None, "hello": info.as_dict()}
        if keep_process:
            res["process"] = proc
        return res

    tried = [method] if method else [m for m in board.flash_methods if m in METHODS]
    if not tried:
        raise FlashError(f"board {board.name} lists no flash method this tool knows ({', '.join(board.flash_methods)})")
    reasons = []
    ctx = Ctx(board, elf, port=port, output=Path(output) if output is not None else None,
              uf2_family=uf2_family, progress=progress)
    for m in tried:
        try:
            t0 = time.monotonic()
            details = METHODS[m](ctx)
        except Unavailable as e:
            reasons.append(f"{m}: {e}")
            continue
        res = {"board": board.name, "method": m, "elf": str(elf), "seconds": round(time.monotonic() - t0, 3),
               **details, "notes": ctx.notes}
        if output is not None:
            res["port"] = None
            return res
        dev_port = port or ctx.port or wait_port(board)
        res["port"] = dev_port
        if dev_port is None:
            res["notes"].append("flashed, but no serial port of the board was found by its USB ids: "
                                "pass --port to later commands")
            return res
        sess = Session(board=board.name, port=dev_port, pid=None, elf=str(elf), method=m)
        res["hello"] = _hello(dev_port)
        save(sess)
        res["session"] = str(sess.path)
        return res
    what = "; ".join(reasons)
    uf2 = ", or write a file with --method uf2 --output FILE" if "uf2" in board.flash_methods else ""
    raise FlashError(f"could not flash board {board.name}: tried {', '.join(tried)}. {what}. "
                     f"Connect the board (or its debug probe) by USB, install one of those tools{uf2}. "
                     "`edgehost ports` lists what is connected.")


def _hello(port: str) -> dict | None:
    from ..link import Device, LinkError
    deadline = time.monotonic() + 5
    while True:
        try:
            with Device.open(port, open_timeout=2) as dev:
                return dev.info.as_dict() if dev.info else None
        except LinkError as e:
            if time.monotonic() > deadline:
                raise FlashError(f"flashed, but the firmware does not answer on {port}: {e}") from e
            time.sleep(0.3)
