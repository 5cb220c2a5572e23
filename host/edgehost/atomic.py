"""Output files written atomically: a temporary file beside the target, then a rename, so a reader
never sees half a file and a failure (full disk, an error in a second output) leaves nothing
behind. Paths are checked before the work that produces them (`check_writable`), so a long run
is not thrown away at the end for an unwritable path.

    from edgehost.atomic import check_writable, write_files, atomic_path
    check_writable("out/n.ehm", "--output")               # UserError now, not after the work
    write_files([("n.ehm", blob, "--output"), ("n.h", header, "--emit-c")])   # all or none
    with atomic_path("v.png", "--plot") as tmp:            # for writers that take a path
        fig.savefig(tmp)                                   # (the temporary keeps the suffix)
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from .cli import UserError


def _label(path, what: str) -> str:
    return f"{what} {str(path)!r}" if what else repr(str(path))


def check_writable(path, what: str = "output") -> Path:
    """The file `path` can be created or replaced: its directory exists and is writable (a probe
    file is created and removed there, which also catches read-only file systems), and the path
    is not a directory, a device or another non-regular file. Returns the Path."""
    if path is None or str(path) == "" or "\0" in str(path):
        raise UserError(f"{_label(path, what)}: give a file name")
    p = Path(path)
    label = _label(path, what)
    try:
        st = p.stat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise UserError(f"{label}: a part of the path is not a directory") from None
    except OSError as e:
        raise UserError(f"{label}: {e.strerror}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise UserError(f"{label} is a directory: give a file name")
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"{label} is not a regular file (a device, FIFO or socket): give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise UserError(f"{label}: the directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise UserError(f"{label}: {str(parent)!r} is not a directory")
    if p.name in ("", ".", ".."):
        raise UserError(f"{label}: give a file name, not a directory")
    if st is not None and not os.access(p, os.W_OK):
        raise UserError(f"{label}: the file is read-only")
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{p.name[:80]}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"{label}: cannot write in {str(parent)!r} ({e.strerror})") from None
    return p


def _tmp_for(p: Path) -> Path:
    parent = p.parent if str(p.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{p.name[:80]}.", suffix=f".tmp{p.suffix}")
    os.close(fd)
    return Path(tmp)


def _mode_like(p: Path, tmp: Path) -> None:
    """The final file gets the mode a plain open() would give (mkstemp makes 0600), or the mode
    of the file it replaces."""
    try:
        mode = stat.S_IMODE(p.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def write_files(items: list[tuple[object, bytes | str, str]]) -> None:
    """Writes every (path, data, what) or none: all temporaries are written and synced first,
    then renamed in order; on any error the temporaries are removed (an already renamed target
    is removed too when a later rename fails) and a UserError names the output."""
    staged: list[tuple[Path, Path, str]] = []
    done: list[Path] = []
    try:
        for path, data, what in items:
            p = Path(path)
            try:
                tmp = _tmp_for(p)
            except OSError as e:
                raise UserError(f"{_label(path, what)}: cannot write ({e.strerror})") from None
            staged.append((p, tmp, what))
            try:
                with open(tmp, "wb") as f:
                    f.write(data.encode() if isinstance(data, str) else data)
                    f.flush()
                    os.fsync(f.fileno())
                _mode_like(p, tmp)
            except OSError as e:
                raise UserError(f"{_label(path, what)}: cannot write ({e.strerror})") from None
        for p, tmp, what in staged:
            try:
                os.replace(tmp, p)
            except OSError as e:
                raise UserError(f"{_label(p, what)}: cannot write ({e.strerror})") from None
            done.append(p)
    except BaseException:
        for p, tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if len(done) < len(staged):
            for p in done:              # all or none
                with contextlib.suppress(OSError):
                    p.unlink()
        raise


def write_file(path, data: bytes | str, what: str = "output") -> Path:
    write_files([(path, data, what)])
    return Path(path)


@contextlib.contextmanager
def atomic_path(path, what: str = "output") -> Iterator[Path]:
    """A temporary path beside `path` (same suffix, for writers that choose the format by it);
    renamed to `path` when the block ends without an exception, removed otherwise. A writer
    that leaves the temporary empty is an error."""
    p = Path(path)
    try:
        tmp = _tmp_for(p)
    except OSError as e:
        raise UserError(f"{_label(path, what)}: cannot write ({e.strerror})") from None
    try:
        yield tmp
        if tmp.stat().st_size == 0:
            raise UserError(f"{_label(path, what)}: nothing was written")
        _mode_like(p, tmp)
        os.replace(tmp, p)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise UserError(f"{_label(path, what)}: cannot write ({e.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
