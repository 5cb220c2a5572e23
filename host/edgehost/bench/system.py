"""Firmware memory and host-device link figures per board, for `edgehost bench --memory --link`.

memory: the firmware image of a board (edgehost.build): flash and RAM used from the ELF, and the
        static model buffers the runtime reserves (blob capacity and arena, from HELLO).
link:   the emulated (or a connected) board's round trip and throughput over the real link:
        PING round trips (median, 95th percentile), ECHO of the largest payload (bytes each way per
        second, payload only, as a fraction of the raw serial rate where one is known), and a
        model streamed step by step (`edgehost stream`'s loop: a 6-input L2MU-sized FC/LIF model,
        synthetic input, each output checked against the host): steps/s and latency per step.
"""
from __future__ import annotations

import statistics
import time


def memory(board_name: str) -> dict:
    from .. import boards
    from ..build import build
    board = boards.get(board_name)
    fw = build(board, target="firmware")
    return {"board": board.name, "core": board.core, "elf": str(fw.elf),
            "flash_used": fw.flash_used, "ram_used": fw.ram_used,
            "flash_bytes": fw.flash_bytes, "ram_bytes": fw.ram_bytes}


def link(board_name: str, pings: int = 200, echoes: int = 20, port: str | None = None) -> dict:
    from .. import boards
    from ..flash import flash
    from ..flash.sessions import stop_session
    from ..link import Device
    board = boards.get(board_name)
    started = None
    if port is None:
        if not board.emulated:
            raise RuntimeError(f"board {board.name} is real hardware: give --port for the link benchmark")
        started = flash(board.name)
        port = started["port"]
    try:
        dev = Device.open(port)
        info = dev.hello()
        rtt = [dev.ping() for _ in range(pings)]
        payload = bytes(range(256)) * (dev.max_payload // 256 + 1)
        payload = payload[:dev.max_payload]
        t0 = time.perf_counter()
        for _ in range(echoes):
            if dev.echo(payload) != payload:
                raise RuntimeError("ECHO returned different bytes")
        dt = time.perf_counter() - t0
        st = _stream(dev)
        dev.close()
    finally:
        if started is not None:
            stop_session(board.name)
    rtt_ms = sorted(r * 1e3 for r in rtt)
    return {"board": board.name, "core": info.core, "port": port,
            "ping_ms_median": round(statistics.median(rtt_ms), 3),
            "ping_ms_p95": round(rtt_ms[int(0.95 * (len(rtt_ms) - 1))], 3),
            "echo_payload_bytes": len(payload),
            "echo_bytes_per_s_each_way": round(echoes * len(payload) / dt),
            "pings": pings, "echoes": echoes,
            "stream_steps_per_s": round(st.steps / st.elapsed, 1),
            "stream_latency_ms_median": round(1e3 * statistics.median(st.latencies), 3),
            "stream_bytes_per_step": (st.bytes_out + st.bytes_in) // max(st.steps, 1),
            "stream_steps": st.steps, "stream_dropped": st.dropped, "stream_mismatches": st.mismatches}


def _stream(dev, steps: int = 300):
    """Stream `steps` synthetic samples through a small Q15 model (6 -> 64 LIF -> 6 LI), each output
    checked against the host's C kernels."""
    import numpy as np

    from ..convert import Fc, Graph, Li, Lif, build
    from ..stream import open_source, stream
    rng = np.random.default_rng(0)
    g = Graph(6, [Fc(rng.normal(size=(64, 6)), rng.normal(size=64)), Lif(np.full(64, 0.9), np.ones(64)),
                  Fc(rng.normal(size=(6, 64)) / 8), Li(np.full(6, 0.8))])
    m = build(g, quantize="q15")[0]
    dev.load_model(m.to_bytes())
    st = stream(dev, m, open_source("synthetic:sine", m), steps=steps, check_backend="kernels")
    if st.error or st.dropped or st.mismatches:
        raise RuntimeError(f"streaming benchmark: {st.error or ''} dropped={st.dropped} "
                           f"mismatches={st.mismatches}")
    return st


def render(mem: list[dict], lnk: list[dict]) -> list[str]:
    out: list[str] = []
    if mem:
        out += ["## Firmware memory", "",
                "The runtime image (`edgehost build --board B`), from the ELF's sections; RAM includes",
                "the stack reserve and the static model blob buffer and arena.", "",
                "| board | core | flash used | flash size | RAM used | RAM size |", "|---|---|---:|---:|---:|---:|"]
        out += [f"| {m['board']} | {m['core']} | {m['flash_used']:,} | {m['flash_bytes'] or '-'} | "
                f"{m['ram_used']:,} | {m['ram_bytes'] or '-'} |" for m in mem]
        out.append("")
    if lnk:
        out += ["## Host-device link", "",
                "Over the real framed protocol (COBS, CRC-32) through pyserial; emulated boards through",
                "QEMU's socket chardev. ECHO sends the largest payload and checks it comes back.", "",
                "Streaming: a 6 -> 64 LIF -> 6 LI Q15 model stepped 300 times with synthetic input,",
                "every output checked against the host (zero dropped, zero mismatches).", "",
                "| board | PING median (ms) | PING p95 (ms) | ECHO payload | payload bytes/s each way "
                "| stream steps/s | stream latency median (ms) | bytes per step |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        out += [f"| {x['board']} | {x['ping_ms_median']} | {x['ping_ms_p95']} | {x['echo_payload_bytes']} | "
                f"{x['echo_bytes_per_s_each_way']:,} | {x.get('stream_steps_per_s', '-')} | "
                f"{x.get('stream_latency_ms_median', '-')} | {x.get('stream_bytes_per_step', '-')} |"
                for x in lnk]
        out.append("")
    return out
