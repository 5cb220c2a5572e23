"""`edgehost bench`: instruction counts of the kernels on a board's core under QEMU."""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from pathlib import Path

from ..cli import UserError
from . import _args as A


def register(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="count the instructions of every benchmark case on a board's core (QEMU)",
        description="Build the bench image for a board, run it under QEMU with the project's "
                    "instruction-counting plugin and print one row per case.",
    )
    p.add_argument("--board", "-b", action="append", default=[], metavar="B",
                   help="board name (repeat for several boards; required unless --host alone)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.add_argument("--quick", action="store_true",
                   help="only the smallest shape of each kernel")
    p.add_argument("--cross-check", action="store_true",
                   help="also count the quick cases from a single-step execution trace and "
                        "require equal counts")
    p.add_argument("--memory", action="store_true",
                   help="also report the runtime firmware's flash and RAM per board (from the ELF)")
    A.place_options(p)
    p.add_argument("--link", action="store_true",
                   help="also measure the link: PING round trip and ECHO throughput (starts emulated boards)")
    p.add_argument("--no-kernels", action="store_true", help="skip the kernel cases (with --memory/--link)")
    p.add_argument("--host", action="store_true",
                   help="also compare on this CPU, batch 1: snnTorch vs numpy vs the C kernels (steps/s), "
                        "the converter's time on the demo models, and the stack depth per board")
    p.add_argument("--report", metavar="PATH", type=Path,
                   help="write a Markdown report (table, machine, command), e.g. docs/benchmarks.md")
    p.set_defaults(func=run)


def _command_line(args: argparse.Namespace) -> str:
    parts = ["edgehost", "bench"]
    for b in args.board:
        parts += ["--board", b]
    if args.quick:
        parts.append("--quick")
    if args.cross_check:
        parts.append("--cross-check")
    for flag in ("memory", "link", "host"):
        if getattr(args, flag, False):
            parts.append(f"--{flag}")
    if args.report is not None:
        parts += ["--report", str(args.report)]
    return shlex.join(parts)


def _print_table(bench_run) -> None:
    from rich.console import Console
    from rich.table import Table

    has_cycles = any(e.cycles is not None for e in bench_run.entries)
    t = Table(title=f"{bench_run.board} ({bench_run.core}): instructions per case "
                    f"(marker overhead {bench_run.calib} subtracted)")
    for col in ("kernel", "shape", "unit", "units", "instructions", "per unit"):
        t.add_column(col, justify="right" if col in ("units", "instructions", "per unit") else "left")
    if has_cycles:
        t.add_column("cycles", justify="right")
    for e in bench_run.entries:
        row = [e.kernel, e.shape, e.unit, str(e.units), str(e.instructions), f"{e.per_unit:.2f}"]
        if has_cycles:
            row.append("" if e.cycles is None else str(e.cycles))
        t.add_row(*row)
    console = Console(width=max(100, shutil.get_terminal_size().columns))
    console.print(t)
    if bench_run.cross_check is not None:
        x = Table(title="cross-check: plugin vs single-step trace (raw counts)")
        for col in ("kernel", "shape", "plugin", "trace", "agree"):
            x.add_column(col)
        for c in bench_run.cross_check:
            x.add_row(c.kernel, c.shape, str(c.plugin), str(c.trace), "yes" if c.agree else "NO")
        console.print(x)


def run(args: argparse.Namespace) -> int:
    from .. import bench
    from ..bench import report

    from ..bench import system

    runs, mem, lnk = [], [], []
    place_url = None
    if getattr(args, "place", None):               # the link of a board on a labgrid farm
        if not args.link or len(args.board) > 1:
            raise UserError("--place measures one farm board's link: give --link (and at most one --board)")
        args.board = args.board[0] if args.board else None
        place_url = A.place_port(args)
        args.board = [args.board]
    if not args.board and not args.host:
        raise UserError("give at least one --board (or --host)")
    from ..boards import get
    for name in args.board:           # every board known before any work
        get(name)
    if args.report is not None:       # writable before the (long) run, not after it
        from ..atomic import check_writable
        check_writable(args.report, "--report")
    for name in args.board:
        try:
            if args.memory:
                mem.append(system.memory(name))
            if args.link:
                lnk.append(system.link(name, port=place_url))
            if args.no_kernels:
                continue
            runs.append(bench.run_bench(name, quick=args.quick, check=args.cross_check))
        except (bench.BenchError, bench.PluginBuildError, bench.ElfError) as e:
            raise UserError(str(e)) from e
        except UserError:
            raise
        except (KeyError, ValueError, LookupError, FileNotFoundError, RuntimeError) as e:
            # the boards / build modules' own errors (unknown board, missing toolchain, ...)
            msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            raise UserError(str(msg)) from e

    host_doc, host_lines = None, []
    if args.host:
        from ..bench import host as bench_host
        try:
            host_doc, host_lines = bench_host.run_all(args.board, quick=args.quick)
        except ImportError as e:
            raise UserError(f"--host needs torch and snnTorch ({e}): install them (scripts/setup.sh)") from e
    failed = [c for r in runs for c in (r.cross_check or []) if not c.agree]
    kernels = [e.to_json() for r in runs for e in r.entries]
    if args.json:
        # Without --memory/--link: the list of kernel entries. With them: an object.
        doc = kernels if not (args.memory or args.link or args.host) else {
            "kernels": kernels, "memory": mem, "link": lnk}
        if host_doc is not None:
            doc["host"] = host_doc
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for r in runs:
            _print_table(r)
        for line in system.render(mem, lnk) + host_lines:
            print(line)
    if args.report is not None:
        text = report.render(runs, _command_line(args), report.git_commit(Path(__file__).resolve().parents[3]),
                             extra=system.render(mem, lnk) + host_lines)
        try:
            old = args.report.read_text() if args.report.is_file() else None
        except (OSError, UnicodeDecodeError):
            old = None
        text = report.keep_hand_sections(text, old)
        from ..atomic import write_file
        write_file(args.report, text, "--report")
        if not args.json:
            print(f"wrote {args.report}")
    if failed:
        raise UserError("cross-check failed: " + ", ".join(
            f"{c.kernel} {c.shape}: plugin {c.plugin} != trace {c.trace}" for c in failed), code=1)
    return 0
