"""Argument types and checks shared by the commands: each refusal is one line naming the option,
the value and what is allowed (argparse prefixes `argument --OPT:` to the type errors)."""
from __future__ import annotations

import argparse
import math
import os
import stat
from pathlib import Path

from ..cli import UserError

#: a seed is a 32-bit unsigned integer (numpy's default_rng takes any, the C side u32)
SEED_MAX = 2**32 - 1
#: INFER carries the step count in a u16 (docs/protocol.md)
MAX_INFER_STEPS = 0xFFFF
#: model blobs are small (the largest board buffer is 256 KiB); larger files are not .ehm
MAX_MODEL_BYTES = 64 << 20
#: input arrays (.npy/.npz/.csv) larger than this are refused rather than read into memory
MAX_ARRAY_BYTES = 1 << 30


def _range_text(lo, hi, lo_open: bool, hi_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"{'>' if lo_open else '>='} {lo:g} and {'<' if hi_open else '<='} {hi:g}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return "any"


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False, unit: str = ""):
    """A finite float in a range (argparse type)."""
    allowed = _range_text(lo, hi, lo_open, hi_open)

    def parse(s: str) -> float:
        try:
            v = float(s)
        except (TypeError, ValueError):
            v = None
        ok = v is not None and math.isfinite(v)
        if ok and lo is not None:
            ok = v > lo if lo_open else v >= lo
        if ok and hi is not None:
            ok = v < hi if hi_open else v <= hi
        if not ok:
            raise argparse.ArgumentTypeError(f"{s!r} is not allowed: a finite number {allowed}{unit}")
        return v
    parse.__name__ = "number"
    return parse


def integer(lo: int | None = None, hi: int | None = None, *, base: int = 10):
    """An integer in a range (argparse type); base 0 also takes 0x.. ."""
    allowed = _range_text(lo, hi, False, False).replace(".0", "")
    if lo is not None and hi is not None:
        allowed = f"{lo}..{hi}"

    def parse(s: str) -> int:
        try:
            v = int(s, base)
        except (TypeError, ValueError):
            v = None
        if v is None or (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"{s!r} is not allowed: an integer {allowed}")
        return v
    parse.__name__ = "integer"
    return parse


seed = integer(0, SEED_MAX)


def nonempty(what: str = "a value"):
    def parse(s: str) -> str:
        if not s or not s.strip() or "\0" in s:
            raise argparse.ArgumentTypeError(f"{s!r} is not allowed: {what}")
        return s
    parse.__name__ = "string"
    return parse


# ---- files -------------------------------------------------------------------------------------

def input_file(path, option: str, *, max_bytes: int = MAX_ARRAY_BYTES, kinds: str = "",
               noun: str = "file") -> Path:
    """An existing, readable regular file of at most max_bytes (not a directory, a device or a
    FIFO, which would block or never end). The error names `option` ('--calib', 'MODEL'), the
    path and what is wrong: "--calib 'x.npy': cannot read file: no such file (.npy)"."""
    label = f"{option} {str(path)!r}" if option else repr(str(path))
    pre = f"{label}: cannot read {noun}"
    if path is None or str(path) == "" or "\0" in str(path):
        raise UserError(f"{pre}: give a file name{kinds}")
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise UserError(f"{pre}: no such file{kinds}") from None
    except NotADirectoryError:
        raise UserError(f"{pre}: a part of the path is not a directory") from None
    except OSError as e:
        raise UserError(f"{pre}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"{pre}: it is a directory{kinds}")
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"{pre}: not a regular file (a device, FIFO or socket){kinds}")
    if st.st_size > max_bytes:
        raise UserError(f"{pre}: {st.st_size:,} bytes, at most {max_bytes:,} allowed")
    if not os.access(p, os.R_OK):
        raise UserError(f"{pre}: permission denied")
    return p


def model_file(path, option: str = "MODEL") -> Path:
    p = input_file(path, option, max_bytes=MAX_MODEL_BYTES, kinds=" (an .ehm blob from `edgehost convert`)",
                   noun="model")
    if p.stat().st_size == 0:
        raise UserError(f"{option} {str(path)!r}: not a valid .ehm blob: the file is empty")
    return p


def load_array(path, option: str, *, suffixes=(".npy",)):
    """np.load of a .npy (no pickles), with one-line errors naming the option."""
    import numpy as np
    p = input_file(path, option, kinds=" (.npy)", noun="array")
    try:
        a = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UserError(f"{option} {str(path)!r}: not a readable .npy array ({msg})") from None
    if not isinstance(a, np.ndarray):
        try:
            a.close()
        except Exception:  # noqa: BLE001
            pass
        raise UserError(f"{option} {str(path)!r} is an .npz archive: give one array as .npy")
    return a


def output_file(path, option: str):
    """Checked before any long work: see edgehost.atomic.check_writable."""
    from ..atomic import check_writable
    return check_writable(path, option)


IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def plot_file(path, option: str = "--plot"):
    """An image to write (checked before the work that draws it): a writable path whose suffix
    names the format."""
    from pathlib import Path as _P
    if _P(str(path)).suffix.lower() not in IMAGE_SUFFIXES:
        raise UserError(f"{option} {str(path)!r}: give an image file name ending in "
                        f"{', '.join(IMAGE_SUFFIXES)}")
    return output_file(path, option)


def need_device(board, port, place=None) -> None:
    """Before any work: a device to use must be named."""
    if not board and not port and not place:
        raise UserError("give --board B (or --port URL, or --place NAME)")
    if port and place:
        raise UserError("give --port or --place, not both")
    if board:
        from ..boards import get
        get(board)      # an unknown board: one line naming it and the known ones


def open_device(board, port):
    """validate.open_device under the board's session lock when it may start the board (so
    parallel commands of one board start one emulator, recorded). A place's port (place_port)
    is opened as the place: its errors name it."""
    from .. import validate as V
    if port is not None and port in _PLACES:
        place = _PLACES[port]
        try:
            return place.open_device()
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - LinkError, OSError: one line naming the place
            raise UserError(f"place {place.name} ({place.board.name}): cannot connect to {port}: {e}",
                            code=1) from None
    if port is None and board:
        from ..boards import get
        from ..flash.sessions import board_lock
        name = get(board).name
        with board_lock(name):
            return V.open_device(name, None)
    return V.open_device(board, port)


class Progress:
    """Progress of a long run on stderr: rich's bar on a terminal, else a plain line every
    `every` seconds (so a redirected run still shows it is alive)."""

    def __init__(self, label: str, total: int, *, enabled: bool = True, every: float = 5.0):
        import sys
        import time
        self.label, self.total, self.every = label, total, every
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self._t0 = self._last = time.monotonic()
        self._prog = self._task = None

    def __enter__(self):
        if self.tty:
            from rich.console import Console
            from rich.progress import Progress as _P
            self._prog = _P(transient=True, console=Console(stderr=True))
            self._prog.__enter__()
        return self

    def task(self, label: str, total: int):
        self.label, self.total = label, total
        if self._prog is not None:
            self._task = self._prog.add_task(label, total=total)
        return self.update

    def update(self, done: int, total: int | None = None) -> None:
        import sys
        import time
        if not self.enabled:
            return
        if self._prog is not None and self._task is not None:
            self._prog.update(self._task, completed=done)
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            t = total or self.total
            pct = f" ({100.0 * done / t:.0f} %)" if t else ""
            print(f"{self.label}: {done:,} of {t:,}{pct}, {now - self._t0:.0f} s", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self._prog is not None:
            self._prog.__exit__(*exc)
        return False


# ---- labgrid places (docs/farm.md) ----------------------------------------------------------------

#: serial URL -> the acquired edgehost.farm.Place (this process)
_PLACES: dict = {}


def place_options(p, group=None) -> None:
    """--place / --coordinator: use a board on a labgrid farm (edgehost.farm). `group`: a
    mutually exclusive group to put --place in (beside --board/--port)."""
    (group or p).add_argument(
        "--place", metavar="NAME", type=nonempty("a labgrid place name or pattern"),
        help="a labgrid place (or a pattern, e.g. 'mps2-*': the first free one): acquired for this "
             "command, talked to over its network serial port, released on exit (docs/farm.md)")
    p.add_argument("--coordinator", metavar="HOST[:PORT]", type=nonempty("a coordinator address"),
                   help="labgrid coordinator with --place (default: $LG_COORDINATOR, else 127.0.0.1:20408)")


def place_port(args, *, flash: bool = False, elf=None) -> str | None:
    """With --place: acquires the place (released when the command exits: normally, on an error,
    on Ctrl-C or SIGTERM), flashes it when `flash`, and returns its serial URL (rfc2217://...).
    Without --place: None. `args.board`, when given, must be the place's board."""
    name = getattr(args, "place", None)
    if not name:
        return None
    import signal
    import threading

    from .. import farm
    if threading.current_thread() is threading.main_thread():
        def _term(*_):
            raise KeyboardInterrupt            # the CLI's handler runs, then atexit releases the place
        signal.signal(signal.SIGTERM, _term)   # before acquiring: no window where SIGTERM kills us holding it
    # released at exit (edgehost.farm.place releases every place it holds from an atexit hook)
    place = farm.acquire(name, coordinator=getattr(args, "coordinator", None), board=getattr(args, "board", None))
    args.board = place.board.name
    _PLACES[place.serial_url] = place
    if flash:
        args.place_flash = place.flash(elf)
    return place.serial_url
