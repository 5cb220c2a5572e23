"""One byte transport for real serial ports and emulators, on pyserial.

A port is a pyserial URL (`socket://127.0.0.1:4321` for QEMU's UART socket, `rfc2217://...`,
`loop://`) or a device path (`/dev/ttyACM0`, a pseudo-terminal `/dev/pts/7` of the host board).
The transport only moves bytes and cuts them into frames; retries live in `Device`.
"""
from __future__ import annotations

import os
import select
import time
from typing import Any

import serial

from . import protocol as P
from .errors import BoardAbsent, ConnectionLost

#: the largest decoded frame the host accepts from a device
HOST_FRAME_CAP = P.MAX_PROTOCOL_PAYLOAD + P.OVERHEAD
_POLL = 0.02


class Transport:
    """Frames over a pyserial-like object (read(n), write(b), in_waiting, close)."""

    def __init__(self, ser: Any, port: str):
        self.ser = ser
        self.port = port
        self.deframer = P.Deframer(HOST_FRAME_CAP)
        self._pending: list = []
        self.bytes_out = 0
        self.bytes_in = 0
        # a socket (QEMU's UART, a proxy) or a tty file descriptor is waited on with select()
        # and read whole: a wait ends when its deadline does, not on pyserial's 20 ms poll
        self._sock = None
        self._fd = None
        sock = getattr(ser, "_socket", None)
        if sock is not None and hasattr(sock, "recv"):
            self._sock = sock
        elif isinstance(getattr(ser, "fd", None), int) and type(ser).__module__.startswith("serial.serialposix"):
            self._fd = ser.fd

    @classmethod
    def open(cls, port: str, *, baudrate: int = 115200, open_timeout: float = 2.0) -> "Transport":
        """Open a port. Sockets are retried until open_timeout (an emulator may be starting)."""
        deadline = time.monotonic() + open_timeout
        last: Exception | None = None
        while True:
            try:
                # pyserial's rfc2217 client (a labgrid place's serial port) has no write timeout
                wt = None if port.startswith("rfc2217://") else 10.0
                ser = serial.serial_for_url(port, baudrate=baudrate, timeout=_POLL,
                                            write_timeout=wt, do_not_open=True)
                if hasattr(ser, "exclusive") and not port.startswith(("socket://", "loop://", "rfc2217://")):
                    ser.exclusive = True
                ser.open()
                t = cls(ser, port)
                t.discard_input()
                return t
            except (serial.SerialException, OSError, ValueError) as e:
                last = e
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
        raise BoardAbsent(f"cannot open {port}: {last}", port=port)

    def discard_input(self) -> None:
        try:
            self.ser.reset_input_buffer()
        except (serial.SerialException, OSError):
            pass
        self.deframer = P.Deframer(HOST_FRAME_CAP)
        self._pending.clear()

    def write(self, data: bytes) -> None:
        try:
            self.ser.write(data)
            self.ser.flush()
        except (serial.SerialException, OSError) as e:
            raise ConnectionLost(f"{e}", port=self.port) from e
        self.bytes_out += len(data)

    def read_bytes(self, timeout: float) -> bytes:
        """Whatever arrives within `timeout` seconds (b'' if nothing)."""
        if self._sock is not None or self._fd is not None:
            return self._read_select(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                data = self.ser.read(1)
                if data:
                    n = self.ser.in_waiting
                    if n:
                        data += self.ser.read(n)
            except (serial.SerialException, OSError) as e:
                raise ConnectionLost(f"{e}", port=self.port) from e
            if data:
                self.bytes_in += len(data)
                return data
            if time.monotonic() >= deadline:
                return b""

    def _read_select(self, timeout: float) -> bytes:
        try:
            fno = self._sock.fileno() if self._sock is not None else self._fd
            r, _, _ = select.select([fno], [], [], max(0.0, timeout))
            if not r:
                return b""
            data = self._sock.recv(65536) if self._sock is not None else os.read(self._fd, 65536)
        except BlockingIOError:
            return b""
        except (OSError, ValueError) as e:
            raise ConnectionLost(f"{e}", port=self.port) from e
        if not data:
            raise ConnectionLost("the other end closed the connection", port=self.port)
        self.bytes_in += len(data)
        return data

    def next_item(self, deadline: float):
        """The next decoded frame (bytes) or P.FrameError, or None when the deadline passes."""
        while True:
            if self._pending:
                return self._pending.pop(0)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            data = self.read_bytes(min(left, 0.25))
            if data:
                self._pending.extend(self.deframer.feed(data))

    def close(self) -> None:
        try:
            self.ser.close()
        except Exception:  # noqa: BLE001 - closing a dead port must not hide the real error
            pass
