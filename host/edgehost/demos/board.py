"""What every board demo does around its own loop: build the firmware, reach the board (a given
port, the running session of an emulated board, or a fresh flash), open the link, and show a
progress bar over the samples."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Connected:
    dev: object          # edgehost.link.Device
    port: str
    firmware: object     # edgehost.build result (elf, flash_used, ram_used)
    started: bool        # this call flashed (started) the board


def connect(board, port: str | None = None, timeout: float | None = None) -> Connected:
    """Build `board`'s firmware, then open its link: `port` when given, else the running session of
    an emulated board, else flash (start) it. `timeout`: the link's answer time (None: its default)."""
    from ..build import build
    from ..flash import flash
    from ..flash.sessions import find_session
    from ..link import Device
    fw = build(board, target="firmware")
    if port is None:
        sess = find_session(board.name)
        port = sess.port if sess is not None and board.emulated else None
    started = False
    if port is None:
        port = flash(board.name)["port"]
        started = True
    dev = Device.open(port) if timeout is None else Device.open(port, timeout=timeout)
    return Connected(dev, port, fw, started)


@contextmanager
def progress(label: str, total: int, enabled: bool):
    """A transient rich progress bar; yields advance() (a no-op when disabled)."""
    if not enabled:
        yield lambda: None
        return
    from rich.progress import Progress
    bar = Progress(transient=True)
    bar.start()
    task = bar.add_task(label, total=total)
    try:
        yield lambda: bar.update(task, advance=1)
    finally:
        bar.stop()
