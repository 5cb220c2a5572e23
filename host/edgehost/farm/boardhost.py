"""The exporter side of an emulated place: emulated boards that a labgrid exporter can publish.

A labgrid exporter publishes serial ports that are tty devices (`RawSerialPort`: it runs
`ser2net` on the device when a client acquires the place, and the client sees a
`NetworkSerialPort`, RFC 2217) and power switches (`NetworkPowerPort`). An emulated board has
neither, so this process gives it both:

- the emulator (QEMU, as `edgehost flash` starts it, UART on a local TCP socket) runs behind a
  pseudo-terminal that lives as long as this process: a relay moves bytes between the pty's
  master and the emulator's socket. The pty's slave (`/dev/pts/N`) is the `RawSerialPort` of the
  place; it keeps its path when the emulator restarts, so ser2net never needs to know;
- a small HTTP server speaks labgrid's `simplerest` power model (`GET /power/<i>` answers `1` or
  `0`, `GET /power/<i>/1` starts board i, `/0` stops it): a client power-cycles an emulated place
  exactly as it power-cycles a real board on a network PDU. Flashing an emulated place is a power
  cycle: the emulator restarts on this host's firmware image of the board (built here).

`edgehost.farm.local` starts one of these per exporter and writes the exporter's YAML from what
it reports (`--ready FILE`, JSON). Run by hand on an exporter host:

    python -m edgehost.farm.boardhost --name exp1 --board mps2-an386 --board virt-rv32 \
        --yaml exporter.yaml      # then: labgrid-exporter -c COORD:20408 exporter.yaml
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import tty
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class EmulatedBoard:
    """One emulated board: its pty (stable path), its emulator (restartable) and the relay."""

    def __init__(self, name: str, index: int, place: str, log_dir: Path, elf: str | None = None):
        from ..boards import get
        self.board = get(name)
        if not self.board.emulated or self.board.is_host:
            raise SystemExit(f"board {name} is not an emulated board with a UART socket: "
                             "only QEMU boards can be exported this way")
        self.index, self.place, self.log_dir, self.elf = index, place, log_dir, elf
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)                 # no echo, no line discipline: bytes pass as they are
        os.set_blocking(self.master, False)
        self.tty = os.ttyname(self.slave)
        self.proc = None
        self.sock: socket.socket | None = None
        self.lock = threading.RLock()
        self.starts = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._relay, name=f"relay-{place}", daemon=True)

    # -- power ----------------------------------------------------------------------------------
    @property
    def on(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def power_on(self) -> None:
        from ..flash import build_firmware, emulator
        with self.lock:
            if self.on:
                return
            elf = self.elf or str(build_firmware(self.board))
            sess, proc, _info = emulator.start(self.board, elf, log_dir=self.log_dir / self.place)
            sock = socket.create_connection(("127.0.0.1", int(sess.port.rsplit(":", 1)[1])), timeout=10)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            self._drain_master()               # what a client sent while the board was off is lost
            self.proc, self.sock = proc, sock
            self.starts += 1

    def power_off(self) -> None:
        from ..flash.sessions import terminate
        with self.lock:
            sock, proc = self.sock, self.proc
            self.sock = self.proc = None
            if sock is not None:
                sock.close()
            if proc is not None and proc.poll() is None:
                terminate(proc.pid, timeout=3)
            if proc is not None:
                try:
                    proc.wait(timeout=3)
                except Exception:  # noqa: BLE001
                    pass

    def _drain_master(self) -> None:
        while True:
            try:
                if not os.read(self.master, 4096):
                    return
            except OSError:
                return

    # -- the relay ------------------------------------------------------------------------------
    def _relay(self) -> None:
        while not self.stopping:
            with self.lock:
                sock = self.sock
            rd = [self.master] + ([sock] if sock is not None else [])
            try:
                ready, _, _ = select.select(rd, [], [], 0.2)
            except (OSError, ValueError):
                time.sleep(0.05)                # the socket was closed by a power cycle
                continue
            if self.master in ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EIO):
                        raise
                    data = b""
                if data and sock is not None:
                    try:
                        sock.setblocking(True)
                        sock.sendall(data)
                        sock.setblocking(False)
                    except OSError:
                        pass                    # the emulator went away: the bytes are lost, as on a wire
            if sock is not None and sock in ready:
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:                    # the emulator exited by itself
                    with self.lock:
                        if self.sock is sock:
                            self.sock = None
                            sock.close()
                    continue
                self._to_pty(data)

    def _to_pty(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + 1.0
        while view and time.monotonic() < deadline:
            try:
                n = os.write(self.master, view)
                view = view[n:]
            except BlockingIOError:
                time.sleep(0.002)               # nobody reads the port (no client): drop after 1 s
            except OSError:
                return

    def close(self) -> None:
        self.stopping = True
        self.power_off()
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def _power_handler(boards: list[EmulatedBoard]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):          # quiet: the farm log has the exporter's own
            pass

        def do_GET(self):                   # noqa: N802 - http.server's name
            parts = [p for p in self.path.split("/") if p]
            try:
                if len(parts) not in (2, 3) or parts[0] != "power":
                    raise ValueError("use /power/<index> or /power/<index>/<0|1>")
                b = boards[int(parts[1])]
                if len(parts) == 3:
                    if parts[2] not in ("0", "1"):
                        raise ValueError("the value is 0 or 1")
                    b.power_on() if parts[2] == "1" else b.power_off()
                body, code = (b"1" if b.on else b"0"), 200
            except (ValueError, IndexError) as e:
                body, code = str(e).encode(), 400
            except Exception as e:  # noqa: BLE001 - the emulator did not start: say why
                body, code = f"{type(e).__name__}: {e}".encode(), 500
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    return Handler


def exporter_yaml(ready: dict) -> str:
    """The labgrid exporter configuration of this host's places (one group per place)."""
    lines = []
    for b in ready["boards"]:
        lines += [f"{b['place']}:",
                  "  RawSerialPort:",
                  f"    port: {b['tty']}",
                  "    speed: 115200",
                  "  NetworkPowerPort:",
                  "    model: simplerest",
                  f"    host: 'http://{ready['host']}:{ready['power_port']}/power/{{index}}/{{value}}'",
                  f"    index: {b['index']}",
                  ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m edgehost.farm.boardhost",
                                 description="Run emulated boards for a labgrid exporter (see the module doc).")
    ap.add_argument("--name", required=True, help="this exporter's name (prefix of nothing; for the logs)")
    ap.add_argument("--board", action="append", required=True, metavar="BOARD[=PLACE]",
                    help="an emulated board to run, optionally with its place name (default BOARD-<n>)")
    ap.add_argument("--host", default="127.0.0.1", help="address of the power endpoint (default 127.0.0.1)")
    ap.add_argument("--log-dir", default=None, help="emulator logs (default ./<name>-logs)")
    ap.add_argument("--yaml", help="write the labgrid exporter configuration here")
    ap.add_argument("--ready", help="write a JSON description here once every board answers HELLO")
    a = ap.parse_args(argv)
    log_dir = Path(a.log_dir or f"{a.name}-logs").resolve()
    boards = []
    for i, spec in enumerate(a.board):
        name, _, place = spec.partition("=")
        boards.append(EmulatedBoard(name, i, place or f"{name}-{i}", log_dir))
    server = ThreadingHTTPServer((a.host, 0), _power_handler(boards))
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def bye(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, bye)
    try:
        for b in boards:
            b.thread.start()
            b.power_on()
        ready = {"name": a.name, "pid": os.getpid(), "host": a.host, "power_port": server.server_address[1],
                 "boards": [{"board": b.board.name, "place": b.place, "index": b.index, "tty": b.tty}
                            for b in boards]}
        if a.yaml:
            Path(a.yaml).write_text(exporter_yaml(ready))
        if a.ready:
            tmp = Path(a.ready + ".tmp")
            tmp.write_text(json.dumps(ready, indent=2))
            tmp.replace(a.ready)
        print(json.dumps(ready), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    except Exception as e:  # noqa: BLE001 - one line for the farm's log, then stop every emulator
        print(f"boardhost {a.name}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        server.shutdown()
        for b in boards:
            b.close()


if __name__ == "__main__":
    sys.exit(main())
