"""Host link to an edgehost firmware: protocol codec, pyserial transport, `Device`.

    from edgehost.link import connect
    with connect(board="mps2-an386") as dev:     # the session `edgehost flash` started
        print(dev.info.board, dev.ping())
        dev.load_model(open("net.ehm", "rb").read())
        y = dev.infer(x).output                  # numpy, the output tensor's dtype (results.py)

docs/protocol.md describes the bytes; docs/validate.md the results and which calls reset the
network's state (INFER, RESET_STATE) or keep it (STEP), beside the host interpreter's.
"""
from __future__ import annotations

from . import protocol
from .device import Device, LoadResult
from .errors import (BoardAbsent, BoardReset, ConnectionLost, DeviceError, FirmwareVersionMismatch,
                     LinkError, LinkTimeout, ProtocolError)
from .results import InferResult, LayerTrace, StepResult
from .transport import Transport

__all__ = ["protocol", "Device", "Transport", "connect", "InferResult", "StepResult", "LoadResult",
           "LayerTrace", "LinkError", "BoardAbsent", "ConnectionLost", "BoardReset",
           "FirmwareVersionMismatch", "ProtocolError", "LinkTimeout", "DeviceError"]


def connect(board: str | None = None, port: str | None = None, **kw) -> Device:
    """A connected Device: on `port` if given, else on the running session of `board`
    (started by `edgehost flash --board B`)."""
    if port is None:
        if board is None:
            raise ValueError("give a board (with a running session) or a port")
        from ..flash.sessions import find_session
        sess = find_session(board)
        if sess is None:
            raise BoardAbsent(f"no running session for board {board}: start one with "
                              f"`edgehost flash --board {board}` or pass a port")
        port = sess.port
    return Device.open(port, **kw)
