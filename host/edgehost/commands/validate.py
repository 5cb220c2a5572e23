"""`edgehost validate`: run a model on a board and on the host interpreter, compare every layer."""
from __future__ import annotations

import argparse
import json
import sys

from ..cli import UserError


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
    p.add_argument("--inputs", metavar="X.npy",
                   help="(steps, features) or (sequences, steps, features); integers are device values, "
                        "floats are quantised with the input tensor's scale (default: seeded random)")
    p.add_argument("--steps", type=int, default=50, help="steps of the random inputs (default 50)")
    p.add_argument("--sequences", type=int, default=1, help="random input sequences (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument("--backend", choices=("kernels", "sim"), default="kernels",
                   help="host interpreter backend (default kernels)")
    p.add_argument("--atol", type=float, default=0.0, help="absolute tolerance of f32 layers (default 0)")
    p.add_argument("--rtol", type=float, default=0.0, help="relative tolerance of f32 layers (default 0)")
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
    for c in ("layer", "dtype", "traced", "max |err|", "bit-exact", "spikes agree", "ok", "first divergence"):
        t.add_column(c)
    for l in [*rep["layers"], rep["output"]]:
        fd = l.get("first_divergence")
        t.add_row(l["name"], l["dtype"],
                  "yes" if l["traceable"] else f"NO ({l.get('reason')})",
                  _fmt(l["max_abs_error"]), _fmt(l["bit_exact"]),
                  _fmt(l.get("spike_agreement")) if "spike_agreement" in l else "",
                  _fmt(l["ok"]), f"seq {fd['sequence']} step {fd['step']}" if fd else "")
    c = Console(width=120)
    c.print(t)
    if rep["not_traceable"]:
        c.print(f"not traceable on the device (memory reused; convert with --no-reuse to see them): "
                f"{', '.join(rep['not_traceable'])}")
    d = rep["first_divergence"]
    c.print("[green]OK: device and host agree[/green]" if rep["ok"] else
            f"[red]DIVERGED[/red]: first at layer {d['layer']}, sequence {d['sequence']}, step {d['step']}"
            if d else "[red]DIVERGED[/red]")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import validate as V
    from ..link import LinkError
    if args.atol < 0 or args.rtol < 0:
        raise UserError("--atol and --rtol must be >= 0")
    if args.steps < 1 or args.sequences < 1:
        raise UserError("--steps and --sequences must be >= 1")
    blob, model = V.load_model_file(args.model)
    if args.inputs:
        try:
            x = np.load(args.inputs, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read inputs {args.inputs}: {e}") from None
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[1] == 0:
            raise UserError(f"inputs of shape {x.shape}: expected (steps, {model.input_tensor.storage_len}) or "
                            f"(sequences, steps, {model.input_tensor.storage_len})")
        xs = V.to_device_inputs(x, model, f"inputs {args.inputs}")
    else:
        xs = V.random_inputs(model, args.sequences, args.steps, args.seed)
    total = xs.shape[0] * xs.shape[1]
    dev = V.open_device(args.board, args.port)
    try:
        from ..blob import read
        model = read(blob)
        show = not args.json and sys.stderr.isatty()
        if show:
            from rich.progress import Progress
            with Progress(transient=True) as prog:
                task = prog.add_task("loading model", total=len(blob))
                V.load_on_device(dev, blob, model, progress=lambda d, t: prog.update(task, completed=d))
                task2 = prog.add_task("validating", total=total)
                rep = V.validate(dev, blob, xs, backend=args.backend, atol=args.atol, rtol=args.rtol,
                                 keep_series=bool(args.plot),
                                 progress=lambda d, t: prog.update(task2, completed=d))
        else:
            V.load_on_device(dev, blob, model)
            rep = V.validate(dev, blob, xs, backend=args.backend, atol=args.atol, rtol=args.rtol,
                             keep_series=bool(args.plot))
    except LinkError as e:
        raise UserError(f"link error: {e}") from None
    finally:
        dev.close()
    if args.plot:
        V.plot(rep, args.plot)
        rep["plot"] = str(args.plot)
    rep.pop("_series", None)
    if args.json:
        json.dump(rep, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        _print(rep)
    return 0 if rep["ok"] else 1
