"""A local TCP proxy that damages the byte stream between the host link and a device: each byte
is dropped, corrupted, duplicated or delayed with its own probability, in both directions.
The upstream side is QEMU's UART socket (`socket://host:port`) or a path (the host board's pty).

Built to measure the protocol, not itself: it runs in its own process (no GIL shared with the
host code under test), one select() loop over both directions that moves whatever is there (up
to 64 KiB) at once, no fixed sleeps or polling timeouts; faults are drawn as gaps between damaged
bytes (geometric, one random number per fault), so a clean stretch is copied as one slice; a
delayed byte holds back its direction (order kept) without stopping the other. Deterministic for
a seed and the same chunking. `p` (drop, corrupt, dup, delay) may be changed while it runs;
`counts` are read from the process."""
from __future__ import annotations

import collections
import math
import multiprocessing as mp
import os
import random
import select
import socket
import termios
import time
import tty

_CHUNK = 65536
_KEYS = ("bytes", "drop", "corrupt", "dup", "delay")


class _Dir:
    """The fault state of one direction."""

    def __init__(self, p, counts, max_delay: float, seed: int):
        self.pshared = p
        self.counts = counts
        self.max_delay = max_delay
        self.rng = random.Random(seed)
        self.p = None
        self.gap = 0

    def _draw(self) -> int:
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
        c = self.counts
        c[0] += len(data)
        pos = 0
        n = len(data)
        p = tuple(self.pshared[:])
        if p != self.p:                     # the rates changed (a test may set proxy.p): new gap
            self.p = p
            self.gap = self._draw()
        pd, pc, pu, pl = p
        while pos < n:
            if self.gap >= n - pos:
                out += data[pos:]
                self.gap -= n - pos
                break
            out += data[pos:pos + self.gap]
            pos += self.gap
            b = data[pos]
            pos += 1
            r = self.rng.random() * (pd + pc + pu + pl)
            if r < pd:
                c[1] += 1
            elif r < pd + pc:
                c[2] += 1
                out.append(b ^ self.rng.randrange(1, 256))
            elif r < pd + pc + pu:
                c[3] += 1
                out += bytes((b, b))
            else:
                c[4] += 1
                delay += self.rng.uniform(0.001, self.max_delay)
                out.append(b)
            self.gap = self._draw()
        return bytes(out), delay


def _open_upstream(upstream: str):
    if upstream.startswith("socket://"):
        host, port = upstream[len("socket://"):].split("?")[0].rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=5)
        s.settimeout(None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s, s.fileno()
    fd = os.open(upstream, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)
    return None, fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        k = os.write(fd, view)
        view = view[k:]


def _serve(lsock, upstream: str, p, counts, max_delay: float, seed: int, ready, stop_fd: int):
    up_sock, up_fd = _open_upstream(upstream)
    ready.set()
    try:
        conn, _ = lsock.accept()
    except OSError:
        return
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    cfd = conn.fileno()
    dirs = (_Dir(p, counts, max_delay, seed), _Dir(p, counts, max_delay, seed * 7919 + 1))
    # per direction: (source fd, destination fd, fault state, queue of (release time, bytes))
    ways = [(cfd, up_fd, dirs[0], collections.deque()), (up_fd, cfd, dirs[1], collections.deque())]
    trace = open(os.environ["EH_PROXY_TRACE"], "w") if os.environ.get("EH_PROXY_TRACE") else None
    while True:
        now = time.monotonic()
        wait = None
        for _src, dst, _d, q in ways:            # release what is due, in order
            while q and q[0][0] <= now:
                _t, data = q.popleft()
                _write_all(dst, data)
            if q:
                w = q[0][0] - now
                wait = w if wait is None else min(wait, w)
        try:
            r, _, _ = select.select([cfd, up_fd, stop_fd], [], [], wait)
        except (OSError, ValueError):
            return
        if stop_fd in r:
            return
        for src, dst, d, q in ways:
            if src not in r:
                continue
            try:
                data = os.read(src, _CHUNK)
            except OSError:
                return
            if not data:
                return
            if trace:
                trace.write(f"{time.monotonic():.6f} {'down' if src == cfd else 'UP'} {len(data)} {data[:24].hex()}\n")
                trace.flush()
            out, delay = d.mangle(data)
            if not out:
                continue
            try:
                if delay or q:
                    last = q[-1][0] if q else 0.0
                    q.append((max(time.monotonic() + delay, last), out))
                else:
                    _write_all(dst, out)
            except OSError:
                return


class FaultProxy:
    def __init__(self, upstream: str, *, p_drop=0.01, p_corrupt=0.01, p_dup=0.01, p_delay=0.01,
                 max_delay=0.03, seed=1):
        self.upstream = upstream
        ctx = mp.get_context("fork")
        self._p = ctx.Array("d", [p_drop, p_corrupt, p_dup, p_delay], lock=False)
        self._counts = ctx.Array("q", [0] * len(_KEYS), lock=False)
        self.max_delay = max_delay
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.url = f"socket://127.0.0.1:{self.lsock.getsockname()[1]}"
        self._rstop, self._wstop = os.pipe()
        ready = ctx.Event()
        self._proc = ctx.Process(target=_serve, args=(self.lsock, upstream, self._p, self._counts,
                                                      max_delay, seed, ready, self._rstop), daemon=True)
        self._proc.start()
        if not ready.wait(10):
            self.close()
            raise RuntimeError(f"fault proxy: cannot open {upstream}")

    @property
    def p(self) -> tuple:
        return tuple(self._p[:])

    @p.setter
    def p(self, value) -> None:
        self._p[:] = [float(x) for x in value]

    @property
    def counts(self) -> dict:
        return dict(zip(_KEYS, self._counts[:]))

    def close(self):
        try:
            os.write(self._wstop, b"x")
        except OSError:
            pass
        self._proc.join(timeout=3)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=2)
        for fd in (self._rstop, self._wstop):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.lsock.close()
        except OSError:
            pass
