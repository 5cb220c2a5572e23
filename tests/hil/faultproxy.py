"""A local TCP proxy that damages the byte stream between the host link and a device: each byte
is dropped, corrupted, duplicated or delayed with its own probability, in both directions.
The upstream side is any pyserial URL or path (QEMU's socket, the host board's pty)."""
from __future__ import annotations

import random
import socket
import threading
import time

import serial


class FaultProxy:
    def __init__(self, upstream: str, *, p_drop=0.01, p_corrupt=0.01, p_dup=0.01, p_delay=0.01,
                 max_delay=0.03, seed=1):
        self.upstream = upstream
        self.p = (p_drop, p_corrupt, p_dup, p_delay)
        self.max_delay = max_delay
        self.rng = random.Random(seed)
        self.counts = {"bytes": 0, "drop": 0, "corrupt": 0, "dup": 0, "delay": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.url = f"socket://127.0.0.1:{self.lsock.getsockname()[1]}"
        self.up = serial.serial_for_url(upstream, timeout=0.02)
        self.threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _mangle(self, data: bytes) -> tuple[bytes, float]:
        out = bytearray()
        delay = 0.0
        with self._lock:
            for b in data:
                self.counts["bytes"] += 1
                r = self.rng.random()
                pd, pc, pu, pl = self.p
                if r < pd:
                    self.counts["drop"] += 1
                    continue
                r -= pd
                if r < pc:
                    self.counts["corrupt"] += 1
                    out.append(b ^ self.rng.randrange(1, 256))
                    continue
                r -= pc
                if r < pu:
                    self.counts["dup"] += 1
                    out += bytes([b, b])
                    continue
                r -= pu
                if r < pl:
                    self.counts["delay"] += 1
                    delay += self.rng.uniform(0.001, self.max_delay)
                out.append(b)
        return bytes(out), delay

    def _accept(self):
        try:
            conn, _ = self.lsock.accept()
        except OSError:
            return
        self.conn = conn
        conn.settimeout(0.02)
        for fn in (self._down, self._upward):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)

    def _down(self):  # host -> device
        while not self._stop.is_set():
            try:
                data = self.conn.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            out, delay = self._mangle(data)
            if delay:
                time.sleep(delay)
            try:
                self.up.write(out)
            except (serial.SerialException, OSError):
                return

    def _upward(self):  # device -> host
        while not self._stop.is_set():
            try:  # whatever is there as soon as one byte came (read(4096) would wait its timeout)
                data = self.up.read(1)
                if data:
                    n = self.up.in_waiting
                    if n:
                        data += self.up.read(n)
            except (serial.SerialException, OSError):
                return
            if not data:
                continue
            out, delay = self._mangle(data)
            if delay:
                time.sleep(delay)
            try:
                self.conn.sendall(out)
            except OSError:
                return

    def close(self):
        self._stop.set()
        for s in (getattr(self, "conn", None), self.lsock):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        for t in self.threads:
            t.join(timeout=2)
        self.up.close()
