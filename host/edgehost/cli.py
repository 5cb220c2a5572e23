"""The `edgehost` command line.

Each subcommand lives in its own module `edgehost/commands/<name>.py` that defines
`register(subparsers)`: it adds its parser and sets `func` (called with the parsed args, returns
the exit code). Every command accepts `--json`.

Errors: a command either does its job or exits non-zero with one line on stderr,
`edgehost CMD: error: ...`, naming the option or file, the value and what is allowed. Bad
arguments exit 2 (argparse's code), refusals of the work itself the code the command gives.
No Python traceback reaches the user: an unexpected exception is one `internal error` line
(exit 70); `--debug` (anywhere on the line, or EDGEHOST_DEBUG=1) shows the traceback instead.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings

from . import __version__, commands

#: exit code of an unexpected exception (a bug): EX_SOFTWARE of sysexits.h
INTERNAL_ERROR = 70


class UserError(Exception):
    """An error with a message for the user (no traceback), exit code 2 unless given."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `edgehost convert: error: argument --dt: ...`."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        message = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")

    def _get_values(self, action, arg_strings):
        # argparse drops a value '--' (`--dt=--`) and then uses the default or []: refuse it
        if action.option_strings and arg_strings == ["--"]:
            raise argparse.ArgumentError(action, "'--' is not allowed: give a value")
        return super()._get_values(action, arg_strings)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="edgehost", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"edgehost {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an unexpected error (also: EDGEHOST_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"edgehost.commands.{info.name}")
        mod.register(sub)
    _own_parser(sub)
    return parser


def _own_parser(sub) -> None:
    """Each (sub)command knows its parser, which reports its unrecognised arguments."""
    for p in set(sub.choices.values()):
        p.set_defaults(_parser=p)
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                _own_parser(a)


def _split_debug(argv: list[str]) -> tuple[list[str], bool]:
    """--debug is accepted anywhere before a `--`."""
    out, debug = [], os.environ.get("EDGEHOST_DEBUG", "") not in ("", "0")
    for i, a in enumerate(argv):
        if a == "--":
            out += argv[i:]
            break
        if a == "--debug":
            debug = True
            continue
        out.append(a)
    return out, debug


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] + (f" ({' / '.join(lines[1:3])})" if len(lines) > 1 else "") if lines else ""


def _os_error(e: OSError) -> str:
    what = e.strerror or str(e)
    if getattr(e, "filename", None):
        return f"{e.filename}: {what}"
    return what


def main(argv: list[str] | None = None) -> int:
    argv, debug = _split_debug(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:           # --help, --version, or an argument error already printed
        return int(e.code or 0) if not isinstance(e.code, str) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    name = getattr(getattr(args, "_parser", None), "prog", None) or f"edgehost {args.command}"
    args.debug = debug
    with warnings.catch_warnings():
        if not debug:
            # a library's warning is one line, not a source excerpt
            def show(message, category, filename, lineno, file=None, line=None):
                print(f"{name}: warning: {_one_line(str(message))}", file=sys.stderr)
            warnings.showwarning = show
        return _run(args, name, debug)


def _run(args, name: str, debug: bool) -> int:
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"{name}: error: {_one_line(str(e))}" if not debug else f"{name}: error: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`edgehost ... | head`): nothing more to say
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 1
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback
        if debug:
            raise
        if isinstance(e, OSError):
            print(f"{name}: error: {_one_line(_os_error(e))}", file=sys.stderr)
            return 1
        if isinstance(e, MemoryError):
            print(f"{name}: error: out of memory", file=sys.stderr)
            return 1
        print(f"{name}: internal error: {type(e).__name__}: {_one_line(str(e)) or '(no message)'} "
              f"(a bug: run again with --debug for the traceback, and report it)", file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":
    # `python -m edgehost.cli`: run the package's module, not this __main__ copy, so that the
    # UserError the commands raise (edgehost.cli.UserError) is the one caught
    from edgehost.cli import main as _main
    sys.exit(_main())
