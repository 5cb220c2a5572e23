"""`edgehost demo har|blimp`: the end-to-end demos."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("demo", help="run an end-to-end demo (har: activity recognition with an L2MU)")
    dsub = p.add_subparsers(dest="demo", metavar="DEMO")
    h = dsub.add_parser("har", help="L2MU human-activity recognition on a board, checked against the host")
    h.add_argument("--board", "-b", default="mps2-an386", help="board name or alias (default: the emulated mps2-an386)")
    h.add_argument("--port", help="use an already running device at this pyserial URL or path")
    h.add_argument("--per-class", type=int, default=100,
                   help="held-out test windows per activity (default 100: 600 windows)")
    h.add_argument("--all", action="store_true", help="every held-out test window (3973)")
    h.add_argument("--plot", default="har_confusion.png", help="confusion matrix PNG (default: %(default)s)")
    h.add_argument("--train", action="store_true", help="retrain the model first (needs torch, snntorch)")
    h.add_argument("--epochs", type=int, default=20, help="with --train (default: %(default)s)")
    h.add_argument("--json", action="store_true", help="print one JSON object")
    h.set_defaults(func=_har)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _har(a) -> int:
    from ..cli import UserError
    from ..demos.har import demo
    if a.train:
        from ..demos.har import train
        rc = train.main(["--epochs", str(a.epochs)] + (["--no-progress"] if a.json else []))
        if rc:
            return rc
    try:
        res = demo.run(a.board, per_class=None if a.all else a.per_class, port=a.port, plot=a.plot,
                       progress=not a.json and sys.stderr.isatty())
    except (FileNotFoundError, ImportError) as e:
        raise UserError(str(e)) from e
    if a.json:
        print(json.dumps(res))
    else:
        _print(res)
    ok = res["agreement"] == 1.0 and res["bit_exact"] == 1.0
    return 0 if ok else 1


def _print(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    c = Console()
    c.print(f"[bold]HAR demo[/]: {r['dataset']}, {r['windows']} held-out windows of {r['window']}, "
            f"on {r['board']} ({r['core']})")
    t = Table(show_header=True)
    for col in ("", "value"):
        t.add_column(col)
    t.add_row("accuracy, device (Q15)", f"{r['accuracy_device']:.2%}")
    t.add_row("accuracy, host (same blob, C kernels)", f"{r['accuracy_host']:.2%}")
    t.add_row("accuracy, host float32 model", f"{r['accuracy_host_float']:.2%}")
    t.add_row("device class = host class", f"{r['agreement']:.2%}")
    t.add_row("device readout bit-exact with host", f"{r['bit_exact']:.2%}")
    if r["instructions_per_window"] is not None:
        t.add_row("instructions per window", f"{r['instructions_per_window']:,.0f} ({r['instructions_source']})")
        t.add_row("time per window at 64 MHz (nRF52840, 1 instr/cycle)", f"{r['ms_per_window_at_64mhz']} ms")
    t.add_row("model (blob) bytes", f"{r['flash_bytes']:,}")
    t.add_row("model RAM (arena) bytes", f"{r['ram_bytes']:,}")
    t.add_row("firmware flash / RAM", f"{r['firmware']['flash_used']:,} / {r['firmware']['ram_used']:,} bytes")
    c.print(t)
    cm, names = r["confusion_matrix"], r["classes"]
    m = Table(title="confusion matrix (rows: true, columns: device)")
    m.add_column("")
    for n in names:
        m.add_column(n[:9], justify="right")
    for n, row in zip(names, cm):
        m.add_row(n, *[str(v) for v in row])
    c.print(m)
    if r.get("confusion_png"):
        c.print(f"confusion matrix image: {r['confusion_png']}")
    full = r["full_test_set"]
    if full.get("accuracy_q15") is not None:
        c.print(f"full held-out test set ({full['windows']} windows, host, at training time): "
                f"Q15 {full['accuracy_q15']:.2%}, float {full['accuracy_float']:.2%}")
