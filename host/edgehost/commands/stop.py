"""`edgehost stop`: end the emulator / host-board process of a session started by `edgehost flash`."""
from __future__ import annotations

import json

from ..cli import UserError


def register(sub) -> None:
    p = sub.add_parser("stop", help="stop a board session started by `edgehost flash`",
                       description="Stop the emulator (or host-board process) of a board's session and "
                                   "forget the session. Stale sessions (process gone) are cleaned. Also "
                                   "stops the emulators edgehost started for sessions whose session file "
                                   "was lost (found by their marker; never other programs).")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--board", "-b", help="board name or alias")
    g.add_argument("--all", action="store_true", help="stop every session, and every unrecorded emulator")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..flash.sessions import list_sessions, sessions_dir, stop_orphans, stop_session

    if args.board is not None:
        from ..boards import BoardError, get
        try:
            name = get(args.board).name
        except BoardError:
            if not (sessions_dir() / f"{args.board}.json").is_file():
                raise
            name = args.board           # a session of a board whose description is gone
        boards = [name]
    else:
        boards = [s.board for s, _ in list_sessions(clean=False)]
    out = []
    for b in boards:
        sess, what = stop_session(b)
        out.append({"board": b, "result": what, "pid": sess.pid if sess else None,
                    "port": sess.port if sess else None})
    found_orphans = False
    for o, what in stop_orphans(None if args.all else boards[0]):
        found_orphans = True
        out.append({"board": o.board, "result": what, "pid": o.pid, "port": None, "unrecorded": True})
    if args.json:
        print(json.dumps(out if args.all else (out[0] if len(out) == 1 else out), indent=2))
    else:
        for o in out:
            print(f"{o['board']}: {o['result']}")
        if args.all and not out:
            print("no sessions")
    if not args.all and out[0]["result"] == "no session" and not found_orphans:
        raise UserError(f"no session for board {args.board} (nothing to stop)", code=1)
    return 0
