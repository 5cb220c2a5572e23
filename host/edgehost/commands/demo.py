"""`edgehost demo har|blimp`: the end-to-end demos."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager, nullcontext

from . import _args as A

HAR_MODELS = ("l2mu", "cnn-int8", "bcnn", "shiftadd", "lmu-f32")    # `edgehost demo har --model`


def register(sub) -> None:
    p = sub.add_parser("demo", help="run an end-to-end demo (har: activity recognition with an L2MU)")
    dsub = p.add_subparsers(dest="demo", metavar="DEMO")
    h = dsub.add_parser("har", help="L2MU human-activity recognition on a board, checked against the host")
    board_args(h, "har_confusion.png", "confusion matrix PNG")
    h.add_argument("--per-class", type=A.integer(1, 100_000), default=100,
                   help="held-out test windows per activity (default 100: 600 windows)")
    h.add_argument("--all", action="store_true", help="every held-out test window (3973)")
    h.add_argument("--train", action="store_true", help="retrain the model first (needs torch, snntorch)")
    h.add_argument("--epochs", type=A.integer(1, 100_000), default=12, help="with --train (default: %(default)s)")
    h.add_argument("--model", choices=HAR_MODELS, default="l2mu",
                   help="the model on the device: l2mu (default; the spiking L2MU), cnn-int8 (the int8 1-D CNN "
                        "users would run with CMSIS-NN: conv1d_s8, fc_s8), or a baseline as a blob: bcnn (binary "
                        "CNN), shiftadd (shift-add CNN), lmu-f32 (float LMU); docs/har.md")
    h.add_argument("--baselines", action="store_true",
                   help="no board: the committed baselines (float LMU, binary CNN, shift-add CNN) and the "
                        "pruned L2MUs on the host's C kernels, a table (windows: --per-class / --all; "
                        "--train retrains the baselines first)")
    h.add_argument("--streaming", action="store_true",
                   help="where each model wins on a stream: the L2MUs (windowed, and trained for continuous "
                        "operation) and the int8 CNN deciding every sample and every 1 s over the held-out "
                        "recordings; accuracy (host C kernels), instructions per second (the board's counters), "
                        "RAM (docs/har.md)")
    h.set_defaults(func=_har)
    _register_blimp(dsub)
    from ._demo_scnn import register_scnn
    register_scnn(dsub)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


@contextmanager
def _plot_to(path):
    """The demo draws into a temporary beside `path`, renamed when it succeeds (never half an
    image; an unwritable path is refused before the run)."""
    from ..atomic import atomic_path
    with atomic_path(path, "--plot") as tmp:
        yield str(tmp)


def board_args(p, plot_default: str, plot_help: str) -> None:
    """The options every board demo takes: --board, --port, --plot, --json."""
    p.add_argument("--board", "-b", default="mps2-an386", help="board name or alias (default: the emulated mps2-an386)")
    p.add_argument("--port", help="use an already running device at this pyserial URL or path")
    p.add_argument("--plot", default=plot_default, help=f"{plot_help} (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run_demo(a, run, image_key: str, errors: tuple = (), **kw) -> dict:
    """run(board, port=, plot=, progress=, **kw) with the plot drawn into a temporary renamed on
    success; a missing model or package is a UserError; res[image_key] names the final image."""
    from ..cli import UserError
    try:
        with (_plot_to(a.plot) if a.plot else nullcontext(None)) as tmp:
            res = run(a.board, port=a.port, plot=tmp, progress=not a.json and sys.stderr.isatty(), **kw)
    except (FileNotFoundError, ImportError) + tuple(errors) as e:
        raise UserError(str(e)) from e
    if a.plot and res.get(image_key):
        from pathlib import Path
        res[image_key] = str(Path(a.plot).resolve())
    return res


def emit(a, res: dict, printer) -> None:
    print(json.dumps(res)) if a.json else printer(res)


def _check_common(a) -> None:
    from ..boards import get
    if a.port is None:
        get(a.board)
    if a.plot:
        A.plot_file(a.plot, "--plot")


def _har(a) -> int:
    from ..demos.har import demo
    if a.baselines:
        return _har_baselines(a)
    if a.streaming:
        return _har_streaming(a)
    _check_common(a)
    kw = {}
    if a.model in ("bcnn", "shiftadd", "lmu-f32"):
        from ..demos.har import baseline_demo as demo     # noqa: F811 (the same run() and report)
        kw["model"] = a.model
        if a.train:
            from ..demos.har import baselines
            baselines.train_all(log=(lambda *_: None) if a.json else print)
    elif a.model == "cnn-int8":
        from ..demos.har import cnn_demo as demo          # noqa: F811 (the same run() and report)
        if a.train:
            from ..demos.har import cnn_int8
            cnn_int8.train_and_export(log=(lambda *_: None) if a.json else print)
    elif a.train:
        from ..demos.har import train
        rc = train.main(["--epochs", str(a.epochs)] + (["--no-progress"] if a.json else []))
        if rc:
            return rc
    res = run_demo(a, demo.run, "confusion_png", per_class=None if a.all else a.per_class, **kw)
    emit(a, res, _print)
    ok = res["agreement"] == 1.0 and res["bit_exact"] == 1.0
    return 0 if ok else 1


def _har_streaming(a) -> int:
    from ..cli import UserError
    from ..demos.har import streaming
    if a.port is None:
        from ..boards import get
        get(a.board)
    log = (lambda *_: None) if a.json else (lambda m: print(m, file=sys.stderr))
    try:
        res = streaming.report(a.board, a.port, log=log)
    except (FileNotFoundError, ImportError) as e:
        raise UserError(str(e)) from e
    print(json.dumps(res)) if a.json else print(streaming.format_report(res))
    ok = all(res["costs"][k]["steps_bit_exact"] == 1.0 for k in ("l2mu", "stream") if k in res["costs"])
    return 0 if ok else 1


def _har_baselines(a) -> int:
    from ..cli import UserError
    from ..demos.har import baselines
    try:
        if a.train:  # --baselines --train: retrain the baselines (not the L2MU) first
            baselines.train_all(log=(lambda *_: None) if a.json else print)
        res = baselines.report(None if a.all else a.per_class)
    except (FileNotFoundError, ImportError) as e:
        raise UserError(str(e)) from e
    print(json.dumps(res)) if a.json else baselines.print_report(res)
    return 0


def _print(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    c = Console()
    c.print(f"[bold]HAR demo[/]: {r['dataset']}, {r['windows']} held-out windows of {r['window']}, "
            f"on {r['board']} ({r['core']})")
    t = Table(show_header=True)
    for col in ("", "value"):
        t.add_column(col)
    fmt = r.get("number_format", "Q15")
    if r.get("model_description"):
        c.print(f"model: {r['model_description']}")
    t.add_row(f"accuracy, device ({fmt})", f"{r['accuracy_device']:.2%}")
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
    if r.get("spike_rates"):
        from ..demos.har.spikes import format_rates
        c.print(format_rates(r["spike_rates"]))
    if r.get("confusion_png"):
        c.print(f"confusion matrix image: {r['confusion_png']}")
    full = r["full_test_set"]
    if full.get("accuracy_int8") is not None:
        c.print(f"full held-out test set ({full['windows']} windows, host, at training time): "
                f"int8 {full['accuracy_int8']:.2%}, float {full['accuracy_float']:.2%} "
                f"(calibration percentile {full['calibration_percentile']}, chosen on training subjects)")
    if full.get("accuracy_kernels") is not None:
        c.print(f"full held-out test set ({full['windows']} windows, host kernel pipeline, at training time): "
                f"{full['accuracy_kernels']:.2%}, torch {full['accuracy_torch']:.2%}")
    if full.get("accuracy_q15") is not None:
        c.print(f"full held-out test set ({full['windows']} windows, host, at training time): "
                f"Q15 {full['accuracy_q15']:.2%}, float {full['accuracy_float']:.2%}")


# ---- blimp --------------------------------------------------------------------------------------

def _register_blimp(dsub) -> None:
    b = dsub.add_parser("blimp", help="evolved spiking altitude controller flying a simulated blimp, "
                                      "on the host and on a board in the loop")
    board_args(b, "blimp.png", "altitude, command and spike raster PNG")
    b.add_argument("--seed", type=A.seed, default=0, help="plant noise seed (default: %(default)s)")
    b.set_defaults(func=_blimp)


def _blimp(a) -> int:
    from ..demos.blimp import demo
    _check_common(a)
    res = run_demo(a, demo.run, "plot", errors=(KeyError,), seed=a.seed)
    emit(a, res, _print_blimp)
    return 0 if res["trace_match"] >= 1.0 else 1


def _print_blimp(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    c = Console()
    c.print(f"[bold]Blimp demo[/]: {r['neurons']}-neuron SNN controller (Q15) on {r['board']} ({r['core']}), "
            f"setpoints {' -> '.join(f'{s[0]:g} m' for s in r['schedule'])}, plant seed {r['seed']}")
    t = Table(show_header=True)
    for col in ("controller", "buoyancy", "steady-state error", "overshoot", "rise time", "RMSE"):
        t.add_column(col, justify="right" if col not in ("controller", "buoyancy") else "left")
    names = {"pid": "PID (imitated)", "pid_retuned": "PID retuned", "snn_float": "SNN float32, host",
             "snn_host": "SNN Q15, host", "snn_device": "SNN Q15, device"}
    for k, name in names.items():
        for b, m in r.get(k, {}).get("by_buoyancy", {}).items():
            t.add_row(name, b, f"{100 * m['steady_state_error_m']:.1f} cm", f"{100 * m['overshoot_m']:.1f} cm",
                      f"{m['rise_time_s']:.1f} s", f"{100 * m['rmse_m']:.1f} cm")
    c.print(t)
    tg = r["targets"]["snn_device"]
    c.print(f"targets (SSE <= 3 cm, overshoot <= imitated PID, RMSE <= 1.2 x imitated PID) on the device: "
            f"{'[green]met[/]' if tg['all'] else '[red]NOT met[/]'}")
    if "snn_vs_pid_retuned" in r:
        from ..demos.blimp.demo import comparison_lines
        g = r["pid_retuned_gains"]
        c.print(f"SNN on the device against the retuned PID (Kp {g[0]:.4f}, Ki {g[1]:.4f}, Kd {g[2]:.4f}; not a target):")
        for line in comparison_lines(r):
            c.print(f"  {line}")
    c.print(f"device commands equal to the host's: {r['trace_match']:.2%} of {r['steps']} steps; "
            f"closed loop {r['loop_hz']:.0f} Hz")
    if r["instructions_per_step"] is not None:
        c.print(f"instructions per controller step: {r['instructions_per_step']:,.0f} ({r['instructions_source']})")
    c.print(f"model: {r['model']['blob_bytes']:,} bytes blob, {r['model']['arena_bytes']:,} bytes arena")
    if r.get("plot"):
        c.print(f"plot: {r['plot']}")
