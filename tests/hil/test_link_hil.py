"""The link on real firmware: the host board (native process on a pty) and emulated boards.
Each board's firmware is built and started once per session (edgehost pytest plugin) and shared;
tests that kill or proxy an emulator start a private instance."""
from __future__ import annotations

import random
import struct
import sys
import time
from pathlib import Path

import pytest

from edgehost.link import ConnectionLost, Device, DeviceError, LinkError, LinkTimeout
from edgehost.fpga.sim import is_rtl_sim
from edgehost.link import protocol as P

sys.path.insert(0, str(Path(__file__).parent))
from faultproxy import FaultProxy  # noqa: E402

pytestmark = [pytest.mark.hil,
              pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32", "microbit", "netduinoplus2",
                                           "rv32-sim")]


def exchange(dev: Device, wire: bytes, n_frames: int = 1, timeout: float = 3.0) -> list:
    """Write raw bytes, return the next n_frames decoded frames (or FrameErrors)."""
    dev.t.write(wire)
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n_frames:
        item = dev.t.next_item(deadline)
        if item is None:
            break
        out.append(item if isinstance(item, P.FrameError) else P.parse_frame(item))
    return out


def test_hello_names_board_and_core(device, edgehost_board):
    info = device.hello()
    assert info.board == edgehost_board.name
    assert info.core == edgehost_board.core
    assert info.protocol_version == P.VERSION
    assert info.clock_hz == edgehost_board.clock_hz
    assert info.counter_kind
    assert info.max_payload >= 64 and info.blob_capacity > 0 and info.arena_size > 0


def test_ping_and_echo_sizes(device):
    device.ping()
    mp = device.info.max_payload
    rng = random.Random(5)
    for n in sorted({0, 1, 2, 253, 254, 255, 256, 509, mp - 1, mp}):
        if n > mp:
            continue
        data = bytes(rng.choice([0, 0, 1, 0xFF, rng.randrange(256)]) for _ in range(n))
        assert device.echo(data) == data
    with pytest.raises(ValueError, match="exceeds"):
        device.echo(bytes(mp + 1))


def exchange_nak(dev: Device, wire: bytes, timeout: float = 3.0) -> list:
    """exchange() for a request answered by a NAK: answers (not NAKs) that arrive meanwhile are late
    replies to an earlier test's retransmitted requests on the shared device, and are skipped."""
    deadline = time.monotonic() + timeout
    dev.t.write(wire)
    while True:
        item = dev.t.next_item(deadline)
        if item is None:
            return []
        fr = item if isinstance(item, P.FrameError) else P.parse_frame(item)
        if isinstance(fr, P.Frame) and fr.code != P.RSP_NAK and fr.code != P.EVT_BOOT:
            continue
        return [fr]


def _nak(frames, status, seq_valid):
    assert len(frames) == 1, frames
    fr = frames[0]
    assert isinstance(fr, P.Frame) and fr.code == P.RSP_NAK, fr
    assert fr.status == status, (P.status_name(fr.status), P.status_name(status))
    assert fr.seq_valid == seq_valid
    return fr


def test_every_malformed_frame_gets_a_nak(device):
    mp = device.info.max_payload
    good = P.build_frame(P.Frame(P.Cmd.ECHO, 4321, payload=b"abc"))
    enc = lambda raw: b"\x00" + P.cobs_encode(raw) + b"\x00"  # noqa: E731
    # too short to hold a header + CRC, but seq readable
    fr = _nak(exchange_nak(device, enc(good[:6])), P.Status.TRUNCATED, False)
    assert fr.seq == 4321
    # payload cut (length field says more)
    _nak(exchange_nak(device, enc(good[:-1])), P.Status.TRUNCATED, False)
    # longer than its length field
    _nak(exchange_nak(device, enc(good + b"\x01")), P.Status.LENGTH, False)
    # bad CRC
    bad = bytearray(good)
    bad[9] ^= 0x40
    fr = _nak(exchange_nak(device, enc(bytes(bad))), P.Status.CRC, False)
    assert fr.seq == 4321
    # COBS block cut by a delimiter
    _nak(exchange_nak(device, b"\x00\x09\x01\x02\x00"), P.Status.FRAMING, False)
    # larger than the device buffer
    big = P.build_frame(P.Frame(P.Cmd.ECHO, 77, payload=bytes(range(256)) * ((mp + 300) // 256 + 1)))
    _nak(exchange_nak(device, enc(big), timeout=10), P.Status.OVERSIZE, False)
    # well-formed but refused: the NAK answers the request (seq valid)
    fr = _nak(exchange_nak(device, P.encode(P.Frame(0x55, 900))), P.Status.UNKNOWN_CMD, True)
    assert fr.seq == 900 and fr.nak_info()[0] == 0x55
    _nak(exchange_nak(device, P.encode(P.Frame(P.Cmd.PING, 901, payload=b"x"))), P.Status.BAD_PAYLOAD, True)
    _nak(exchange_nak(device, P.encode(P.Frame(P.Cmd.HELLO, 902, version=2))), P.Status.VERSION, True)
    _nak(exchange_nak(device, P.encode(P.Frame(P.Cmd.LOAD_CHUNK, 903, payload=b"\x10\x00\x00\x00abc"))),
         P.Status.LOAD_STATE, True)
    _nak(exchange_nak(device, P.encode(P.Frame(P.Cmd.LOAD_BEGIN, 904, payload=struct.pack("<I", 1 << 30)))),
         P.Status.TOO_BIG, True)
    # and the device still answers properly
    assert device.echo(b"still here") == b"still here"
    with pytest.raises(DeviceError) as e:
        device.request(0x66)
    assert e.value.status == P.Status.UNKNOWN_CMD and "0x66" in str(e.value)


def test_retransmission_is_answered_from_cache_not_executed_again(device):
    """LOAD_COMMIT changes state (it ends the upload): its retransmission must return the first
    answer, while a new request (new seq) sees the changed state."""
    blob = bytes(range(40))
    device.request(P.Cmd.LOAD_BEGIN, struct.pack("<I", len(blob)))
    device.request(P.Cmd.LOAD_CHUNK, struct.pack("<I", 0) + blob)
    commit = P.encode(P.Frame(P.Cmd.LOAD_COMMIT, 3000, payload=struct.pack("<II", len(blob), P.crc32(blob) ^ 1)))
    first = exchange(device, commit)
    again = exchange(device, commit)
    assert first == again and first[0].status == P.Status.LOAD_CRC
    fresh = exchange(device, P.encode(P.Frame(P.Cmd.LOAD_COMMIT, 3001,
                                              payload=struct.pack("<II", len(blob), P.crc32(blob)))))
    assert fresh[0].status == P.Status.LOAD_STATE  # the first commit really ended the upload
    # same seq, different content: a new request, executed
    e1 = exchange(device, P.encode(P.Frame(P.Cmd.ECHO, 3002, payload=b"one")))
    e2 = exchange(device, P.encode(P.Frame(P.Cmd.ECHO, 3002, payload=b"two")))
    assert e1[0].payload == b"one" and e2[0].payload == b"two"


def _fuzz_bytes(rng: random.Random, total: int, mp: int) -> bytes:
    out = bytearray()
    while len(out) < total:
        kind = rng.randrange(6)
        if kind == 0:
            out += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
        elif kind == 1:  # a valid frame with one byte damaged
            w = bytearray(P.encode(P.Frame(P.Cmd.ECHO, rng.randrange(1, 65536),
                                           payload=bytes(rng.randrange(256) for _ in range(rng.randrange(40))))))
            i = rng.randrange(1, len(w) - 1)
            w[i] = (w[i] + rng.randrange(1, 256)) % 256
            out += w
        elif kind == 2:  # a valid frame cut short
            w = P.encode(P.Frame(P.Cmd.PING, rng.randrange(1, 65536)))
            out += w[:rng.randrange(1, len(w) - 1)]
        elif kind == 3:  # an unknown command or a bad payload (harmless, well formed)
            out += P.encode(P.Frame(rng.choice([0x00, 0x30, 0x7E, 0x99, P.Cmd.PING]), rng.randrange(1, 65536),
                                    payload=b"\x01" * rng.randrange(1, 8)))
        elif kind == 4:  # runs of delimiters and 0xFF block codes
            out += bytes(rng.choice([0, 0xFF, 1]) for _ in range(rng.randrange(1, 30)))
        else:  # an oversized frame now and then
            if rng.random() < 0.1:
                out += b"\x00" + P.cobs_encode(bytes(rng.randrange(1, 256) for _ in range(mp + 40))) + b"\x00"
    return bytes(out[:total])


def _fuzz(device, edgehost_farm, edgehost_board, total: int, seed: int):
    rng = random.Random(seed)
    data = _fuzz_bytes(rng, total, device.info.max_payload)
    frames = []
    for i in range(0, len(data), 512):
        device.t.write(data[i:i + 512])
        while True:  # keep draining answers so neither side's buffers fill
            item = device.t.next_item(time.monotonic() + 0.01)
            if item is None:
                break
            frames.append(item)
    # an ECHO of a marker after the fuzz: its answer comes once the device has worked through
    # every byte before it (a simulated core, ~2 M cycles/s in RTL, does so well after they were sent)
    marker = b"EH-FUZZ-END %d" % seed
    device.t.write(b"\x00" + P.encode(P.Frame(P.Cmd.ECHO, 1, payload=marker)))
    patience = 30.0 if is_rtl_sim(edgehost_board) else 3.0
    deadline = time.monotonic() + patience
    while (item := device.t.next_item(deadline)) is not None:
        if not isinstance(item, P.FrameError) and P.parse_frame(item).payload == marker:
            break
        frames.append(item)
        deadline = time.monotonic() + patience
    else:
        raise AssertionError(f"no answer to the ECHO after the fuzz within {patience:.0f} s")
    parsed = [P.parse_frame(f) for f in frames if not isinstance(f, P.FrameError)]
    # every answer is well formed (the link here is clean) and the device never restarted
    assert len(parsed) == len(frames)
    assert not [f for f in parsed if f.code == P.EVT_BOOT]
    assert any(f.code == P.RSP_NAK for f in parsed)
    device.t.discard_input()  # forget partial frames on the host side
    dev = device
    # a slow (loaded) emulator may still be working through the fuzz bytes: be patient once
    dev.timeout, t = max(dev.timeout, patience), dev.timeout
    try:
        info = dev.hello()
    finally:
        dev.timeout = t
    assert info.board == edgehost_board.name
    for k in range(20):
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
        assert dev.echo(payload) == payload
    dev.ping()


def test_fuzz_random_and_corrupted_frames(device, edgehost_farm, edgehost_board):
    _fuzz(device, edgehost_farm, edgehost_board, total=4000, seed=11)


@pytest.mark.slow
@pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32", "microbit", "netduinoplus2", "rv32-sim")
def test_fuzz_long(device, edgehost_farm, edgehost_board):
    for seed in range(10):
        _fuzz(device, edgehost_farm, edgehost_board, total=20000, seed=100 + seed)


@pytest.mark.parametrize("n,p,maxlen", [
    pytest.param(300, 0.0025, 40, id="300x0.25%"),
    pytest.param(300, 0.01, 12, id="300x1%", marks=pytest.mark.slow),
    pytest.param(3000, 0.0025, 40, id="3000x0.25%", marks=pytest.mark.slow)])
def test_fault_injection_proxy(edgehost_farm, edgehost_board, n, p, maxlen):
    """A proxy drops, corrupts, duplicates and delays bytes (each with probability p per byte, both
    ways): every PING/ECHO is delivered once and correct. With p = 0.25% each, ~1% of the bytes
    are damaged; p = 1% each damages ~4% of the bytes, which leaves a 60-byte round trip intact
    only one time in ten (slow)."""
    if edgehost_board.name not in ("host", "mps2-an386", "virt-rv32") and n == 300 and p < 0.01:
        pytest.skip("the default run proxies the host, mps2-an386 and virt-rv32 boards")
    r = edgehost_farm.start_private(edgehost_board.name)
    proxy = FaultProxy(r.port, p_drop=p, p_corrupt=p, p_dup=p, p_delay=p, seed=7)
    try:
        dev = Device.open(proxy.url, timeout=0.25, retries=60, byte_time=1 / 3000, open_timeout=5)
        rng = random.Random(3)
        for i in range(n):
            if i % 3 == 0:
                dev.ping()
            else:
                payload = struct.pack("<I", i) + bytes(rng.randrange(256) for _ in range(rng.randrange(0, maxlen)))
                assert dev.echo(payload) == payload
        assert dev.stats.requests == n + 1  # HELLO + the run: each answered exactly once
        assert dev.last_delivered.startswith(("PING", "ECHO")) and f"request #{n + 1}" in dev.last_delivered
        c = proxy.counts
        assert min(c["drop"], c["corrupt"], c["dup"], c["delay"]) > 0, c  # faults did happen
        assert dev.stats.retransmits > 0
        dev.close()
    finally:
        proxy.close()
        edgehost_farm.stop(r)


def test_killed_emulator_gives_typed_error_naming_last_delivered(edgehost_farm, edgehost_board):
    r = edgehost_farm.start_private(edgehost_board.name)
    dev = Device.open(r.port, timeout=0.2, retries=3)
    for _ in range(5):
        dev.ping()
    last = dev.last_delivered
    assert "request #6" in last  # HELLO + 5 PINGs
    r.proc.kill()
    r.proc.wait(5)
    with pytest.raises(LinkError) as e:
        for _ in range(100):
            dev.echo(b"after the kill")
    assert isinstance(e.value, (ConnectionLost, LinkTimeout))
    assert e.value.last_delivered == last  # nothing after the kill counts as delivered
    assert f"last delivered: {last}" in str(e.value)
    dev.close()
    edgehost_farm.stop(r)
