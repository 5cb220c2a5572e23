"""`python -m edgehost.farm up|down|status`: the local labgrid farm (edgehost.farm.local, docs/farm.md)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from ..cli import UserError
    from . import local
    ap = argparse.ArgumentParser(prog="python -m edgehost.farm", description=__doc__)
    ap.add_argument("action", choices=("up", "down", "status"))
    ap.add_argument("--dir", type=Path, help="the farm's folder (default $EDGEHOST_HOME/farm)")
    ap.add_argument("--port", type=int, help="coordinator port (default: a free one)")
    ap.add_argument("--exporter", action="append", metavar="NAME=BOARD,BOARD",
                    help="an exporter and its emulated boards (repeat; default exp1=mps2-an386,virt-rv32 "
                         "exp2=mps2-an386,netduinoplus2)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    try:
        if a.action == "up":
            exporters = None
            if a.exporter:
                exporters = {}
                for spec in a.exporter:
                    name, _, boards = spec.partition("=")
                    if not name or not boards:
                        raise UserError(f"--exporter {spec!r}: give NAME=BOARD[,BOARD...]")
                    exporters[name] = [b for b in boards.split(",") if b]
            st = local.up(a.dir, exporters=exporters, port=a.port)
            if a.json:
                print(json.dumps(st.__dict__, indent=2))
            else:
                print(f"farm up in {st.dir}: coordinator {st.coordinator}, places "
                      + ", ".join(f"{p} ({i['board']} on {i['exporter']})" for p, i in st.places.items()))
                print(local.env_line(st))
            return 0
        if a.action == "down":
            for line in local.down(a.dir) or ["no farm recorded there"]:
                print(line)
            return 0
        st = local.FarmState.load(Path(a.dir or local.default_dir()))
        if st is None:
            print("no farm recorded there")
            return 1
        alive = st.alive()
        print(json.dumps({**st.__dict__, "alive": alive}, indent=2) if a.json else
              f"coordinator {st.coordinator}; " + ", ".join(f"{r} {'up' if ok else 'DOWN'}" for r, ok in alive.items()))
        return 0 if all(alive.values()) else 1
    except UserError as e:
        print(f"edgehost farm: error: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("edgehost farm: interrupted (the farm was stopped)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
