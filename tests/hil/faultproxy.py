"""A local TCP proxy that damages the byte stream between the host link and a device: each byte
is dropped, corrupted, duplicated or delayed with its own probability, in both directions.
The upstream side is QEMU's UART socket (`socket://host:port`) or a path (the host board's pty).

Built to measure the protocol, not itself: one thread per direction blocks in select() on its
source and moves whatever is there (up to 64 KiB) at once, no fixed sleeps or polling timeouts;
the faults are drawn as gaps between damaged bytes (geometric, from one random number per fault),
so a clean stretch is copied as one slice. Deterministic for a seed and the same chunking."""
from __future__ import annotations

import math
import os
import random
import select
import socket
import termios
import threading
import time
import tty

_CHUNK = 65536


class _Dir:
    """The fault state of one direction (own RNG: the two threads never share one)."""

    def __init__(self, proxy: "FaultProxy", seed: int):
        self.proxy = proxy
        self.rng = random.Random(seed)
        self.p = None
        self.gap = 0

    def _draw(self) -> int:
        self.p = self.proxy.p
        ptot = sum(self.p)
        if ptot <= 0:
            return 1 << 62
        if ptot >= 1:
            return 0
        u = 1.0 - self.rng.random()          # (0, 1]
        return int(math.log(u) / math.log1p(-ptot))

    def mangle(self, data: bytes) -> tuple[bytes, float]:
        out = bytearray()
        delay = 0.0
        c = self.proxy.counts
        c["bytes"] += len(data)
        pos = 0
        n = len(data)
        if self.p != self.proxy.p:          # the rates changed (a test may set proxy.p): new gap
            self.gap = self._draw()
        while pos < n:
            if self.gap >= n - pos:
                out += data[pos:]
                self.gap -= n - pos
                break
            out += data[pos:pos + self.gap]
            pos += self.gap
            b = data[pos]
            pos += 1
            pd, pc, pu, pl = self.proxy.p
            r = self.rng.random() * (pd + pc + pu + pl)
            if r < pd:
                c["drop"] += 1
            elif r < pd + pc:
                c["corrupt"] += 1
                out.append(b ^ self.rng.randrange(1, 256))
            elif r < pd + pc + pu:
                c["dup"] += 1
                out += bytes((b, b))
            else:
                c["delay"] += 1
                delay += self.rng.uniform(0.001, self.proxy.max_delay)
                out.append(b)
            self.gap = self._draw()
        return bytes(out), delay


class FaultProxy:
    def __init__(self, upstream: str, *, p_drop=0.01, p_corrupt=0.01, p_dup=0.01, p_delay=0.01,
                 max_delay=0.03, seed=1):
        self.upstream = upstream
        self.p = (p_drop, p_corrupt, p_dup, p_delay)
        self.max_delay = max_delay
        self.counts = {"bytes": 0, "drop": 0, "corrupt": 0, "dup": 0, "delay": 0}
        self._dirs = (_Dir(self, seed), _Dir(self, seed * 7919 + 1))
        self._stop = threading.Event()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.url = f"socket://127.0.0.1:{self.lsock.getsockname()[1]}"
        self._up_sock = None
        self._up_fd = None
        if upstream.startswith("socket://"):
            hostport = upstream[len("socket://"):].split("?")[0]
            host, port = hostport.rsplit(":", 1)
            self._up_sock = socket.create_connection((host, int(port)), timeout=5)
            self._up_sock.settimeout(None)
            self._up_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            self._up_fd = os.open(upstream, os.O_RDWR | os.O_NOCTTY)
            tty.setraw(self._up_fd, termios.TCSANOW)
        self._rpipe, self._wpipe = os.pipe()     # wakes the threads on close()
        self.threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    # ---- upstream I/O ----
    def _up_fileno(self) -> int:
        return self._up_sock.fileno() if self._up_sock is not None else self._up_fd

    def _up_read(self) -> bytes:
        if self._up_sock is not None:
            return self._up_sock.recv(_CHUNK)
        return os.read(self._up_fd, _CHUNK)

    def _up_write(self, data: bytes) -> None:
        if self._up_sock is not None:
            self._up_sock.sendall(data)
            return
        view = memoryview(data)
        while view:
            k = os.write(self._up_fd, view)
            view = view[k:]

    # ---- relay ----
    def _accept(self):
        try:
            conn, _ = self.lsock.accept()
        except OSError:
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = conn
        for fn in (self._down, self._upward):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)

    def _pump(self, src_fd: int, read, write, d: _Dir):
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([src_fd, self._rpipe], [], [])
            except (OSError, ValueError):
                return
            if self._rpipe in r or self._stop.is_set():
                return
            try:
                data = read()
            except OSError:
                return
            if not data:
                return
            out, delay = d.mangle(data)
            if delay:
                time.sleep(delay)
            try:
                if out:
                    write(out)
            except OSError:
                return

    def _down(self):  # host -> device
        self._pump(self.conn.fileno(), lambda: self.conn.recv(_CHUNK), self._up_write, self._dirs[0])

    def _upward(self):  # device -> host
        self._pump(self._up_fileno(), self._up_read, self.conn.sendall, self._dirs[1])

    def close(self):
        self._stop.set()
        try:
            os.write(self._wpipe, b"x")
        except OSError:
            pass
        for t in self.threads:
            t.join(timeout=2)
        for s in (getattr(self, "conn", None), self.lsock, self._up_sock):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        if self._up_fd is not None:
            try:
                os.close(self._up_fd)
            except OSError:
                pass
        for fd in (self._rpipe, self._wpipe):
            try:
                os.close(fd)
            except OSError:
                pass
