"""`edgehost demo scnn`: a spiking CNN on event-camera digits, on a board, checked against the
host (edgehost.demos.scnn)."""
from __future__ import annotations

from . import _args as A


def register_scnn(dsub) -> None:
    from .demo import board_args
    s = dsub.add_parser("scnn", help="spiking CNN (Sinabs -> NIR -> Q15) on event-camera digits, on a board, "
                                     "checked against the host")
    board_args(s, "scnn_confusion.png", "confusion matrix PNG")
    s.add_argument("--per-class", type=A.integer(1, 100_000), default=10,
                   help="held-out samples per digit (default 10: 100 samples)")
    s.add_argument("--all", action="store_true", help="every held-out sample (359)")
    s.add_argument("--train", action="store_true", help="retrain the model first (needs torch, sinabs)")
    s.add_argument("--epochs", type=A.integer(1, 100_000), default=15, help="with --train (default: %(default)s)")
    s.set_defaults(func=_scnn)


def _scnn(a) -> int:
    from ..demos.scnn import demo
    from .demo import _check_common, emit, run_demo
    _check_common(a)
    if a.train:
        from ..demos.scnn import train
        rc = train.main(["--epochs", str(a.epochs)])
        if rc:
            return rc
    res = run_demo(a, demo.run, "confusion_png", per_class=None if a.all else a.per_class)
    emit(a, res, _print)
    return 0 if res["agreement"] == 1.0 and res["bit_exact"] == 1.0 else 1


def _print(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    c = Console()
    c.print(f"[bold]SCNN demo[/]: {r['dataset']}, {r['samples']} held-out samples of {r['sample']}, "
            f"on {r['board']} ({r['core']})")
    t = Table(show_header=True)
    for col in ("", "value"):
        t.add_column(col)
    t.add_row("accuracy, device (Q15)", f"{r['accuracy_device']:.2%}")
    t.add_row("accuracy, host (same blob, C kernels)", f"{r['accuracy_host_q15']:.2%}")
    t.add_row("accuracy, host float32 (edgehost's reading of the NIR file)", f"{r['accuracy_host_float32']:.2%}")
    if r.get("accuracy_sinabs_float32") is not None:
        t.add_row("accuracy, Sinabs' own forward (float32)", f"{r['accuracy_sinabs_float32']:.2%}")
        t.add_row("output spike counts equal to Sinabs' (float32)", f"{r['sinabs_counts_equal_float32']:.2%}")
    t.add_row("device class = host class", f"{r['agreement']:.2%}")
    t.add_row("device spike counts bit-exact with host", f"{r['bit_exact']:.2%}")
    if r["instructions_per_sample"] is not None:
        t.add_row("instructions per time step", f"{r['instructions_per_step']:,.0f} ({r['instructions_source']})")
        t.add_row("time per sample at 64 MHz (nRF52840, 1 instr/cycle)", f"{r['ms_per_sample_at_64mhz']} ms")
    t.add_row("input activity (events per pixel and polarity per step)", f"{r['input_activity']:.2%}")
    t.add_row("spiking activity per layer", ", ".join(f"{a['layer']}:{a['type']} {a['activity']:.1%}"
                                                      for a in r["activity"]))
    m = r["model"]
    t.add_row("model (blob) bytes / RAM (arena) bytes", f"{m['blob_bytes']:,} / {m['arena_bytes']:,}")
    t.add_row("input per time step on the wire", f"{m['input_bytes_per_step']:,} bytes (1 bit per event)")
    for b, f in r["fits"].items():
        t.add_row(f"fits {b}", "yes" if f.get("fits") else f"NO: {'; '.join(f.get('over') or [f.get('error', '')])}")
    c.print(t)
    for w in r.get("q15_warnings") or []:
        c.print(f"[yellow]Q15 calibration:[/] {w}")
    if r.get("confusion_png"):
        c.print(f"confusion matrix image: {r['confusion_png']}")
