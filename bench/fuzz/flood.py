"""How long a board is deaf after N bytes of line noise (docs/protocol.md, "Recovery").

Starts a private emulator of the board, writes N bytes of garbage to its UART as fast as the
emulator takes them (reading whatever the device answers meanwhile), then one PING, and measures
the time from the first garbage byte, and from the last, to the PING's answer, and counts the NAKs
the garbage caused. Kinds of garbage:
  random     uniform random bytes (zeros among them end a bad frame every ~256 bytes: a NAK each)
  nonzero    random bytes without 0x00 (one endless frame: OVERSIZE, one NAK at the end)
  frames     valid frames of an unknown command (0x55) back to back (a NAK each, SEQ_VALID)

    python3 bench/fuzz/flood.py --board mps2-an386 --bytes 1000 10000 100000 1000000
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from edgehost.boards import get
from edgehost.flash import build_firmware
from edgehost.flash.emulator import start
from edgehost.flash.sessions import terminate
from edgehost.link import protocol as P


def garbage(kind: str, n: int, rng: np.random.Generator) -> bytes:
    if kind == "random":
        return rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    if kind == "nonzero":
        return rng.integers(1, 256, n, dtype=np.uint8).tobytes()
    if kind == "frames":
        out = bytearray()
        seq = 1
        while len(out) < n:
            out += P.encode(P.Frame(0x55, seq, payload=bytes(16)))
            seq = seq % 65535 + 1
        return bytes(out[:n])
    raise ValueError(kind)


def measure(url: str, data: bytes, seq: int = 4242, timeout: float = 600.0) -> dict:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got: dict = {"naks": 0, "answer_at": None, "other": 0}
    done = threading.Event()

    def reader():
        d = P.Deframer()
        s.settimeout(0.5)
        while not done.is_set():
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            for item in d.feed(chunk):
                if isinstance(item, P.FrameError):
                    got["other"] += 1
                    continue
                try:
                    fr = P.parse_frame(item)
                except P.FrameError:
                    got["other"] += 1
                    continue
                if fr.code == P.Cmd.PING | P.RSP_BIT and fr.seq == seq:
                    got["answer_at"] = time.monotonic()
                    done.set()
                    return
                if fr.code == 0xFF:
                    got["naks"] += 1
                else:
                    got["other"] += 1

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    time.sleep(0.2)                       # the BOOT frame, if any, is read and ignored
    t0 = time.monotonic()
    s.sendall(data)
    t1 = time.monotonic()
    s.sendall(P.encode(P.Frame(P.Cmd.PING, seq)))
    done.wait(timeout)
    s.close()
    th.join(2)
    if got["answer_at"] is None:
        return {"bytes": len(data), "answered": False, "naks": got["naks"]}
    return {"bytes": len(data), "answered": True, "naks": got["naks"],
            "write_s": round(t1 - t0, 4), "deaf_s": round(got["answer_at"] - t0, 4),
            "after_last_byte_s": round(got["answer_at"] - t1, 4),
            "bytes_per_s": round(len(data) / max(got["answer_at"] - t0, 1e-9))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="mps2-an386")
    ap.add_argument("--bytes", type=int, nargs="+", default=[1000, 10000, 100000, 1000000])
    ap.add_argument("--kinds", nargs="+", default=["random", "nonzero", "frames"])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    board = get(a.board)
    if board.is_host:
        print("the host board speaks over a pseudo-terminal: use an emulated board", file=sys.stderr)
        return 2
    elf = build_firmware(board)
    rng = np.random.default_rng(a.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in a.kinds:
            for n in a.bytes:
                sess, proc, _ = start(board, elf, log_dir=Path(tmp))   # a fresh board per run
                try:
                    r = measure(sess.port, garbage(kind, n, rng))
                finally:
                    terminate(proc.pid, timeout=3)
                r = {"board": board.name, "kind": kind, **r}
                rows.append(r)
                print(json.dumps(r), flush=True)
    return 0 if all(r["answered"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
