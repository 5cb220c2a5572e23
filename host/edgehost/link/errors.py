"""Typed errors of the host link. Each names the port and, once anything was exchanged, the
last request the device answered (`last_delivered`), so a caller knows what was and was not
done: nothing is lost or repeated silently."""
from __future__ import annotations


class LinkError(Exception):
    """Base class. `last_delivered` describes the last request whose answer was delivered."""

    def __init__(self, message: str, *, port: str | None = None, last_delivered: str | None = None):
        self.port = port
        self.last_delivered = last_delivered
        self.detail = message
        parts = [message]
        if port:
            parts.append(f"port {port}")
        parts.append(f"last delivered: {last_delivered}" if last_delivered
                     else "nothing delivered on this connection yet")
        super().__init__("; ".join(parts))


class BoardAbsent(LinkError):
    """The port cannot be opened, or nothing answers on it."""


class ConnectionLost(BoardAbsent):
    """The port or socket went away during a run (emulator killed, cable pulled)."""


class BoardReset(LinkError):
    """The device announced a restart (BOOT frame) in the middle of a session: its state (model,
    network state, pending request) is gone."""


class FirmwareVersionMismatch(LinkError):
    """The firmware speaks another protocol version than this host package."""


class ProtocolError(LinkError):
    """A well-formed frame with unexpected content (wrong response code or payload)."""


class LinkTimeout(LinkError):
    """No valid answer after all retries."""


class DeviceError(LinkError):
    """The device refused the request (a NAK that answers it); `status` and `message` say why."""

    def __init__(self, message: str, *, status: int, device_message: str = "", **kw):
        self.status = status
        self.device_message = device_message
        super().__init__(message, **kw)
