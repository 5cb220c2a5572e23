"""`edgehost flash`: build if needed, then start an emulated board or program a real one."""
from __future__ import annotations

import json
import signal
import sys

from ..cli import UserError
from . import _args as A


def register(sub) -> None:
    p = sub.add_parser(
        "flash", help="build and start an emulated board, or program a real one",
        description="Build the firmware for a board if needed, then start it under its emulator in "
                    "the background (the host board as a native process) or program a real board "
                    "(pyocd, nrfjprog, openocd, uf2, dfu, nrfutil), wait until it answers HELLO and "
                    "record the session for run/stream/validate/monitor/stop. docs/flashing.md.")
    p.add_argument("--board", "-b", help="board name or alias (edgehost boards); required unless --place")
    p.add_argument("--method", "-m", help="flash method (default: the board's, tried in order)")
    p.add_argument("--output", "-o", metavar="FILE", help="write a UF2 file instead of flashing (implies --method uf2)")
    p.add_argument("--foreground", action="store_true",
                   help="keep the emulator attached; Ctrl-C stops it")
    p.add_argument("--elf", metavar="PATH", help="use this image instead of building")
    p.add_argument("--port", help="serial port of a real board (default: found by its USB VID:PID)")
    p.add_argument("--uf2-family", metavar="ID", type=A.integer(0, 2**32 - 1, base=0),
                   help="UF2 family id when board.json gives none (e.g. 0xADA52840)")
    p.add_argument("--timeout", type=A.number(0, 3600, lo_open=True, unit=" (seconds)"), default=30.0,
                   help="seconds to wait for HELLO (default 30)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    A.place_options(p)
    p.set_defaults(func=run)


def _progress(enabled: bool):
    if not enabled:
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    prog = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    console=Console(stderr=True), transient=True)
    task = {}

    def cb(done: int, total: int, what: str) -> None:
        if not task:
            prog.start()
            task["id"] = prog.add_task(what, total=total)
        prog.update(task["id"], completed=done, total=total, description=what)
    return prog, cb


def _check_elf(path) -> None:
    p = A.input_file(path, "--elf", max_bytes=1 << 30, kinds=" (a firmware image, ELF)", noun="firmware image")
    with open(p, "rb") as f:
        if f.read(4) != b"\x7fELF":
            raise UserError(f"--elf {str(path)!r} is not an ELF file (a firmware image from `edgehost build`)")


def run(args) -> int:
    from contextlib import nullcontext

    from ..atomic import atomic_path, check_writable
    from ..boards import get
    from ..flash import FlashError, flash, stop_session
    from ..flash.image import ImageError
    from ..flash.sessions import board_lock
    from ..flash.uf2 import UF2Error

    if getattr(args, "place", None):
        return _flash_place(args)
    if not args.board:
        raise UserError("the following arguments are required: --board/-b (or --place NAME)")
    board = get(args.board)                 # an unknown board: one line, before any work
    if args.elf is not None:
        _check_elf(args.elf)
    if args.output is not None:
        check_writable(args.output, "--output")
    prog, cb = _progress(not args.json and sys.stderr.isatty())
    # one flash / run / stop of a board at a time: a parallel one waits, then replaces this
    # session (so no emulator is ever left running unrecorded)
    lock = board_lock(board.name) if args.output is None else nullcontext()
    try:
        with lock:
            if args.output is not None:
                with atomic_path(args.output, "--output") as tmp:   # never half a file
                    res = flash(board.name, method=args.method, elf=args.elf, output=tmp, port=args.port,
                                uf2_family=args.uf2_family, timeout=args.timeout, progress=cb)
                res["file"] = str(args.output)
            else:
                res = flash(board.name, method=args.method, elf=args.elf, output=None, port=args.port,
                            uf2_family=args.uf2_family, timeout=args.timeout, progress=cb,
                            keep_process=args.foreground)
    except FlashError as e:
        raise UserError(str(e), code=1) from None
    except (ImageError, UF2Error) as e:                 # an image the method cannot take
        raise UserError(f"board {board.name}, method {args.method or 'default'}: {e}", code=1) from None
    finally:
        if prog is not None:
            prog.stop()
    proc = res.pop("process", None)
    if args.json:
        print(json.dumps(res, indent=2, default=str))
    else:
        _print(res)
    if args.foreground and proc is not None:
        if not args.json:
            print(f"running in the foreground (pid {proc.pid}); Ctrl-C stops it", file=sys.stderr)
        try:
            signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
            # Ctrl-C stops it even when this process was started with SIGINT ignored (a background
            # job of a non-interactive shell inherits SIG_IGN, and Python then installs no handler)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            rc = proc.wait()
            print(f"the emulator exited with code {rc}", file=sys.stderr)
            stop_session(res["board"])
            return 0 if rc == 0 else 1
        except KeyboardInterrupt:
            _, what = stop_session(res["board"])
            print(f"{res['board']}: {what}", file=sys.stderr)
            return 0
    return 0


def _flash_place(args) -> int:
    """--place: acquire, flash through the place's resources, HELLO, release (docs/farm.md)."""
    if args.output is not None or args.foreground or args.method or args.port:
        raise UserError("--place flashes through the place's resources: --output, --foreground, --method "
                        "and --port do not go with it")
    if args.board:
        from ..boards import get
        get(args.board)
    if args.elf is not None:
        _check_elf(args.elf)
    A.place_port(args)
    place = A._PLACES[next(reversed(A._PLACES))]
    res = place.flash(args.elf, timeout=args.timeout)
    res["notes"] = [f"the place is released when this command exits; keep it with "
                    f"`labgrid-client -p {place.name} acquire` around your commands"]
    if args.json:
        print(json.dumps(res, indent=2, default=str))
    else:
        h = res.get("hello") or {}
        print(f"place {res['place']}: {h.get('board', res['board'])} ({h.get('core', '?')}), firmware "
              f"{h.get('firmware_version', '?')} via {res['method']} in {res['seconds']} s")
        print(f"  port  {res['port']}")
    return 0


def _print(res: dict) -> None:
    if res.get("file"):
        print(f"wrote {res['file']}: {res['blocks']} UF2 blocks, {res['bytes']} bytes at {res['base']}, "
              f"family {res['family']}" + (" (verified)" if res.get("verified") else ""))
        return
    h = res.get("hello") or {}
    who = f"{h.get('board', res['board'])} ({h.get('core', '?')}), firmware {h.get('firmware_version', '?')}" if h else res["board"]
    print(f"{who} via {res['method']}")
    if res.get("pid"):
        print(f"  pid   {res['pid']}  (log {res.get('log')})")
    print(f"  port  {res.get('port')}")
    for n in res.get("notes") or []:
        print(f"  note  {n}")
    if res.get("pid"):
        print(f"  stop with: edgehost stop --board {res['board']}")
