"""`edgehost monitor`: show the frames (or raw bytes) a board sends, until Ctrl-C or --seconds."""
from __future__ import annotations

import json
import sys
import time

from ..cli import UserError
from . import _args as A


def register(sub) -> None:
    p = sub.add_parser("monitor", help="show decoded frames (or raw bytes) from a board",
                       description="Attach to a board's port (its session, or --port) and print each "
                                   "frame it sends, decoded (docs/protocol.md), or the raw bytes with "
                                   "--raw, until Ctrl-C or --seconds.")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--board", "-b", help="board with a running session (edgehost flash)")
    g.add_argument("--port", help="a pyserial URL or device path")
    A.place_options(p, g)
    p.add_argument("--raw", action="store_true", help="hex dump of the bytes instead of frames")
    p.add_argument("--seconds", type=A.number(0, 1e7, lo_open=True), help="stop after this many seconds")
    p.add_argument("--hello", action="store_true", help="send one HELLO first (to see an answer)")
    p.add_argument("--baud", type=A.integer(50, 100_000_000), default=115200, help="baud rate of a real serial port")
    p.add_argument("--json", action="store_true", help="one JSON object per frame")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..link import LinkError, Transport
    from ..link import protocol as P

    port = args.port or A.place_port(args)
    if port is None:
        from ..boards import get
        from ..flash.sessions import find_session
        sess = find_session(get(args.board).name)
        if sess is None:
            raise UserError(f"no running session for board {args.board}: start one with "
                            f"`edgehost flash --board {args.board}` or pass --port", code=1)
        port = sess.port
    try:
        t = Transport.open(port, baudrate=args.baud)
    except LinkError as e:
        raise UserError(str(e), code=1) from None
    except (OSError, ValueError) as e:
        raise UserError(f"--port {port!r}: cannot open it ({e})", code=1) from None
    if not args.json:
        print(f"monitoring {port} ({'raw' if args.raw else 'frames'}); Ctrl-C to stop", file=sys.stderr)
    deadline = time.monotonic() + args.seconds if args.seconds is not None else None
    deframer = P.Deframer()
    n = 0
    try:
        if args.hello:
            t.write(P.encode(P.Frame(P.Cmd.HELLO, 1)))
        while deadline is None or time.monotonic() < deadline:
            left = 0.25 if deadline is None else max(0.0, min(0.25, deadline - time.monotonic()))
            data = t.read_bytes(left)
            if not data:
                continue
            stamp = time.time()
            if args.raw:
                if args.json:
                    print(json.dumps({"t": stamp, "hex": data.hex()}), flush=True)
                else:
                    print(f"{time.strftime('%H:%M:%S')} {data.hex(' ')}", flush=True)
                continue
            for item in deframer.feed(data):
                n += 1
                _show(item, stamp, args.json, P)
    except KeyboardInterrupt:
        pass
    except LinkError as e:
        raise UserError(f"{e}", code=1) from None
    finally:
        t.close()
    return 0


def _show(item, stamp: float, as_json: bool, P) -> None:
    if isinstance(item, P.FrameError):
        if as_json:
            print(json.dumps({"t": stamp, "error": P.status_name(item.status), "message": str(item)}), flush=True)
        else:
            print(f"{time.strftime('%H:%M:%S')} bad frame: {item}", flush=True)
        return
    try:
        fr = P.parse_frame(item)
    except P.FrameError as e:
        if as_json:
            print(json.dumps({"t": stamp, "error": P.status_name(e.status), "message": str(e),
                              "hex": bytes(item).hex()}), flush=True)
        else:
            print(f"{time.strftime('%H:%M:%S')} bad frame ({e}): {bytes(item).hex(' ')}", flush=True)
        return
    info = None
    if fr.code in (P.EVT_BOOT, P.Cmd.HELLO | P.RSP_BIT):
        try:
            info = P.parse_info(fr.payload).as_dict()
        except ValueError:
            pass
    if as_json:
        d = {"t": stamp, "code": P.code_name(fr.code), "seq": fr.seq, "status": P.status_name(fr.status),
             "flags": fr.flags, "payload": fr.payload.hex()}
        if info:
            d["info"] = info
        print(json.dumps(d), flush=True)
    else:
        line = f"{time.strftime('%H:%M:%S')} {fr}"
        if info:
            line += f"  [{info['board']} {info['core']} fw {info['firmware_version']} proto {info['protocol_version']}]"
        print(line, flush=True)
