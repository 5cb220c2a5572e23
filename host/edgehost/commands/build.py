"""`edgehost build`: build a board's firmware image (CMake, build/fw/<board>)."""
from __future__ import annotations

import json

from . import _args as A


def register(subparsers) -> None:
    from ..boards import DEFAULT_BOARD
    from ..build import TARGETS

    p = subparsers.add_parser("build", help="build the firmware (or bench / HAL self-test) for a board",
                              description=__doc__)
    p.add_argument("--board", "-b", default=DEFAULT_BOARD,
                   help=f"board name or alias (default {DEFAULT_BOARD}; see `edgehost boards`)")
    p.add_argument("--target", "-t", choices=list(TARGETS), default="firmware",
                   help="firmware (the runtime), bench (the benchmark harness) or selftest (HAL test)")
    p.add_argument("--build-dir", default=None, help="build tree (default build/fw/<board>)")
    p.add_argument("--jobs", "-j", type=A.integer(1, 1024), default=None, help="parallel compile jobs")
    p.add_argument("--verbose", "-v", action="store_true", help="show the CMake and compiler output")
    p.add_argument("--model", "-m", default=None, metavar="M.ehm",
                   help="link only the operators this model's layers need (the smallest firmware that "
                        "runs it) and check that it fits the firmware's blob buffer and arena")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run)


def _check_model(path) -> None:
    """--model: an .ehm blob the loader accepts (its fit is checked against the built image)."""
    from ..blob import BlobError, read
    from ..cli import UserError
    p = A.model_file(path, "--model")
    try:
        read(p.read_bytes())
    except BlobError as e:
        raise UserError(f"--model {str(path)!r} is not a valid .ehm blob: {e}") from None


def _check_build_dir(path) -> None:
    """--build-dir: a directory (made when missing) in a writable place."""
    import os
    from pathlib import Path

    from ..cli import UserError
    p = Path(path)
    if not str(path) or "\0" in str(path):
        raise UserError(f"--build-dir {str(path)!r}: give a directory")
    if p.exists() and not p.is_dir():
        raise UserError(f"--build-dir {str(path)!r} is not a directory")
    q = p
    while not q.exists() and q != q.parent:
        q = q.parent
    if not q.is_dir() or not os.access(q, os.W_OK | os.X_OK):
        raise UserError(f"--build-dir {str(path)!r}: {str(q)!r} is not a writable directory")


def _use(used: int, total: int | None) -> str:
    if total is None:
        return f"{used} bytes"
    return f"{used} of {total} bytes ({100.0 * used / total:.1f}%)"


def run(args) -> int:
    from ..boards import get
    from ..build import build
    from ..cli import UserError

    get(args.board)                               # an unknown board: one line, before any work
    if args.model:                                # checked before the (long) build
        if args.target != "firmware":
            raise UserError("--model goes with --target firmware (the runtime that runs models)")
        _check_model(args.model)
    if args.build_dir is not None:
        _check_build_dir(args.build_dir)
    ops = None
    if args.model:
        from ..build import model_ops
        ops = model_ops(args.model)
    r = build(args.board, target=args.target, build_dir=args.build_dir, jobs=args.jobs,
              quiet=not args.verbose, ops=ops)
    fit = None
    if args.model:
        from ..model_fit import check
        fit = check(args.model, r)
    from ..fpga import hardware_for  # FPGA boards: the bitstream; RTL-simulated: the Verilator model
    hw = hardware_for(r.board)
    if args.json:
        d = r.to_dict()
        if fit:
            d["model"] = fit
        if hw:
            d["hardware"] = hw
        print(json.dumps(d, indent=2))
        return 0
    print(r.elf)
    print(f"  board {r.board.name} ({r.board.core}), target {r.target}")
    print(f"  flash {_use(r.flash_used, r.flash_bytes)}")
    print(f"  RAM   {_use(r.ram_used, r.ram_bytes)}" + ("  (includes the stack reserve)" if r.ram_bytes else ""))
    if r.target == "firmware":
        why = "the model's" if args.model else "the board's \"ops\"" if r.ops_selected else "every operator"
        print(f"  operators ({why}, {len(r.ops)}): {' '.join(r.ops)}")
    if fit:
        print(f"  model {fit['model']}: blob {_use(fit['blob_bytes'], fit['blob_capacity'])}, "
              f"arena {_use(fit['arena_bytes'], fit['arena_capacity'])}: fits")
    if hw:
        for k, v in hw.items():
            if k != "utilisation":
                print(f"  {k} {v}")
        u = hw.get("utilisation")
        if u:
            from ..fpga import format_utilisation
            print("  " + format_utilisation(u))
    return 0
