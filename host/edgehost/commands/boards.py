"""`edgehost boards`: the boards edgehost knows (boards/<name>/board.json)."""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser("boards", help="list the boards (from boards/*/board.json)",
                              description=__doc__)
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=run)


def _kib(n: int | None) -> str:
    return "-" if n is None else (f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} B")


def run(args) -> int:
    from .. import boards

    all_boards = boards.load_all()
    if args.json:
        print(json.dumps([b.to_dict() for b in all_boards], indent=2))
        return 0
    rows = [("board", "aliases", "core", "run", "flash", "RAM", "flash methods")]
    for b in all_boards:
        name = b.name + (" (default)" if b.name == boards.DEFAULT_BOARD else "")
        rows.append((name, ", ".join(b.aliases), b.core, "emulated" if b.emulated else "hardware",
                     _kib(b.flash_bytes), _kib(b.ram_bytes), ", ".join(b.flash_methods)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0
