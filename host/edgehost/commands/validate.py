"""`edgehost validate`: run a model on a board and on the host interpreter, compare every layer."""
from __future__ import annotations

import argparse
import json
import sys

from ..cli import UserError
from . import _args as A

#: steps compared in one run (sequences x steps): a million takes about half an hour on an emulator
MAX_STEPS = 1_000_000


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="compare a model on a board with the host interpreter, layer by layer",
        description="Load MODEL.ehm on the board, step every input sequence on the device (STEP + "
                    "TRACE) and on the host interpreter, and compare every layer's output. Exit 0 "
                    "only when everything agrees (integers bit-exact, floats within --atol/--rtol). "
                    "docs/validate.md explains the report.")
    p.add_argument("model", metavar="MODEL.ehm")
    p.add_argument("--board", "-b", help="board name (started when emulated and not running)")
    p.add_argument("--port", help="use the device on this pyserial URL or path")
    A.place_options(p)
    p.add_argument("--inputs", metavar="X.npy",
                   help="(steps, features) or (sequences, steps, features); integers are device values, "
                        "floats are quantised with the input tensor's scale (default: seeded random)")
    p.add_argument("--steps", type=A.integer(1, MAX_STEPS), default=50,
                   help=f"steps of the random inputs (default 50, at most {MAX_STEPS:,})")
    p.add_argument("--sequences", type=A.integer(1, MAX_STEPS), default=1, help="random input sequences (default 1)")
    p.add_argument("--seed", type=A.seed, default=0, help=f"seed of the random inputs (0..{A.SEED_MAX})")
    p.add_argument("--backend", choices=("kernels", "sim"), default="kernels",
                   help="host interpreter backend (default kernels)")
    p.add_argument("--atol", type=A.number(0), default=0.0, help="absolute tolerance of f32 layers (default 0)")
    p.add_argument("--rtol", type=A.number(0), default=0.0, help="relative tolerance of f32 layers (default 0)")
    p.add_argument("--plot", metavar="OUT.png", help="draw device vs host per layer (first sequence)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _print(rep: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    t = Table(title=f"device ({rep['board']}) vs host ({rep['backend']}): {rep['sequences']} sequence(s) x "
                    f"{rep['steps']} steps")
    for c in ("layer", "dtype", "traced", "max |err|", "bit-exact", "spikes agree", "saturated (host)", "ok",
              "first divergence"):
        t.add_column(c)
    for l in [*rep["layers"], rep["output"]]:
        fd = l.get("first_divergence")
        sat = ", ".join(f"{k} {v['saturated']}" for k, v in l["saturation"].items() if v["saturated"]) \
            if l.get("saturated") else ("0" if "saturation" in l else "")
        t.add_row(l["name"], l["dtype"],
                  "yes" if l["traceable"] else f"NO ({l.get('reason')})",
                  _fmt(l["max_abs_error"]), _fmt(l["bit_exact"]),
                  _fmt(l.get("spike_agreement")) if "spike_agreement" in l else "",
                  sat, _fmt(l["ok"]), f"seq {fd['sequence']} step {fd['step']}" if fd else "")
    c = Console(width=120)
    c.print(t)
    if rep["not_traceable"]:
        c.print(f"not traceable on the device (memory reused; convert with --no-reuse to see them): "
                f"{', '.join(rep['not_traceable'])}")
    if rep.get("saturated"):
        from ..validate import saturation_lines
        c.print("[yellow]" + "\n".join(saturation_lines(rep)).strip() + "[/yellow]")
        c.print("  (device and host saturate alike; to avoid it, convert with --calib on inputs like these)")
    d = rep["first_divergence"]
    c.print("[green]OK: device and host agree[/green]" if rep["ok"] else
            f"[red]DIVERGED[/red]: first at layer {d['layer']}, sequence {d['sequence']}, step {d['step']}"
            if d else "[red]DIVERGED[/red]")


def run(args: argparse.Namespace) -> int:
    from .. import validate as V
    from ..atomic import atomic_path
    from ..convert.validate_input import InputDataError, b1_entries, check_array, saturating_inputs
    from ..link import LinkError
    A.need_device(args.board, args.port, getattr(args, "place", None))
    if args.plot is not None:
        A.plot_file(args.plot, "--plot")           # before the run, not after it
    blob, model = V.load_model_file(A.model_file(args.model, "MODEL"))
    if args.inputs:
        x = A.load_array(args.inputs, "--inputs")
        what = f"--inputs {args.inputs!r}"
        try:
            x = check_array(b1_entries(x, model, what), model.input_tensor.storage_len, what, max_steps=MAX_STEPS)
        except InputDataError as e:
            raise UserError(str(e)) from None
        over, total, lim = saturating_inputs(x, model)
        if over:
            print(f"edgehost validate: warning: {over} of {total} input values lie outside the model's input "
                  f"range ({lim}) and saturate on the device (the host saturates them alike)", file=sys.stderr)
        xs = V.to_device_inputs(x, model, what)
    else:
        if args.steps * args.sequences > MAX_STEPS:
            raise UserError(f"--steps {args.steps} x --sequences {args.sequences} = "
                            f"{args.steps * args.sequences:,} steps: at most {MAX_STEPS:,} allowed")
        xs = V.random_inputs(model, args.sequences, args.steps, args.seed)
    total = xs.shape[0] * xs.shape[1]
    if total > MAX_STEPS:
        raise UserError(f"--inputs {args.inputs!r} holds {total:,} steps in all: at most {MAX_STEPS:,} allowed")
    dev = A.open_device(args.board, A.place_port(args) or args.port)
    try:
        from ..blob import read
        model = read(blob)
        with A.Progress("validate", total) as prog:   # a bar on a terminal, else a line every 5 s
            V.load_on_device(dev, blob, model, progress=prog.task("loading model", len(blob)))
            rep = V.validate(dev, blob, xs, backend=args.backend, atol=args.atol, rtol=args.rtol,
                             keep_series=bool(args.plot), progress=prog.task("validating (steps)", total))
    except LinkError as e:
        raise UserError(f"link error: {e}") from None
    finally:
        dev.close()
    if args.plot:
        with atomic_path(args.plot, "--plot") as tmp:     # never half an image
            V.plot(rep, tmp)
        rep["plot"] = str(args.plot)
    rep.pop("_series", None)
    if args.json:
        json.dump(rep, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        _print(rep)
    return 0 if rep["ok"] else 1
