"""The host link (edgehost.link) against the firmware runtime built natively with ASan+UBSan
(firmware/runtime + firmware/protocol + a stdin/stdout test HAL), and its typed errors against
scripted devices."""
from __future__ import annotations

import os
import random
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import serial

from edgehost.link import (BoardAbsent, BoardReset, ConnectionLost, Device, DeviceError,
                           FirmwareVersionMismatch, LinkTimeout, ProtocolError, Transport)
from edgehost.link import protocol as P

ROOT = Path(__file__).resolve().parents[1]
FW = ROOT / "firmware"
SAN = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]


class PipeSerial:
    """The pyserial calls Transport uses, over a child process's stdin/stdout."""

    def __init__(self, proc: subprocess.Popen, inject=None):
        self.proc = proc
        self.fd = proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.timeout = 0.02
        self.inject = inject  # called with each write; may return bytes to add to the input
        self.extra = bytearray()

    def read(self, n):
        if self.extra:
            out = bytes(self.extra[:n])
            del self.extra[:n]
            return out
        r, _, _ = select.select([self.fd], [], [], self.timeout)
        if not r:
            return b""
        data = os.read(self.fd, n)
        if not data:
            raise serial.SerialException("device closed its end")
        return data

    @property
    def in_waiting(self):
        if self.extra:
            return len(self.extra)
        r, _, _ = select.select([self.fd], [], [], 0)
        return 4096 if r else 0

    def write(self, b):
        try:
            self.proc.stdin.write(b)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError) as e:
            raise serial.SerialException(str(e)) from e
        if self.inject:
            self.extra += self.inject(b) or b""
        return len(b)

    def flush(self):
        pass

    def reset_input_buffer(self):
        while self.in_waiting:
            if not self.read(4096):
                break

    def close(self):
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass


@pytest.fixture(scope="module")
def runtime_exe(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    out = tmp_path_factory.mktemp("rt") / "eh_runtime_native"
    srcs = [FW / "runtime" / "eh_runtime.c", FW / "runtime" / "main.c", FW / "protocol" / "eh_proto.c",
            FW / "runtime" / "native" / "eh_hal_stdio.c"]
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", *SAN, "-DEH_FW_MAX_PAYLOAD=300",
                    "-DEH_FW_BLOB_SIZE=2048", f"-I{FW / 'hal'}", f"-I{FW / 'protocol'}", f"-I{FW / 'runtime'}",
                    *map(str, srcs), "-o", str(out)], check=True)
    return out


@pytest.fixture
def native(runtime_exe):
    procs = []

    def start(inject=None, **kw):
        p = subprocess.Popen([str(runtime_exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        procs.append(p)
        dev = Device(Transport(PipeSerial(p, inject), "pipe:native"), **kw)
        dev.hello()
        return dev, p

    yield start
    for p in procs:
        if p.poll() is None:
            p.stdin.close()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        err = p.stderr.read().decode(errors="replace")
        assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err


def test_hello_and_echo(native):
    dev, _ = native()
    assert dev.info.board == "native-test" and dev.info.max_payload == 300
    assert dev.info.blob_capacity == 2048 and not dev.info.model_support
    rng = random.Random(0)
    for n in (0, 1, 254, 255, 299, 300):
        data = bytes(rng.randrange(256) for _ in range(n))
        assert dev.echo(data) == data
    assert dev.stats.retransmits == 0


def test_boot_frame_is_sent_and_ignored_before_first_answer(runtime_exe):
    p = subprocess.Popen([str(runtime_exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    t = Transport(PipeSerial(p), "pipe")
    item = t.next_item(time.monotonic() + 5)
    boot = P.parse_frame(item)
    assert boot.code == P.EVT_BOOT and boot.seq == 0
    assert P.parse_info(boot.payload).board == "native-test"
    p.stdin.close()
    p.wait(10)


def test_model_commands_without_model_support(native):
    dev, _ = native()
    for cmd, payload in ((P.Cmd.STEP, b"\x01\x02"), (P.Cmd.INFER, b"\x01\x00\x00\x00"),
                         (P.Cmd.RESET_STATE, b""), (P.Cmd.TRACE, bytes(8))):
        with pytest.raises(DeviceError) as e:
            dev.request(cmd, payload)
        assert e.value.status == P.Status.UNSUPPORTED
    with pytest.raises(DeviceError) as e:
        dev.load_model(bytes(4096))  # larger than the blob buffer: refused on the host already
    assert e.value.status == P.Status.TOO_BIG


def test_staged_infer_without_model_support(native):
    """Firmware without the interpreter does not advertise staged INFER; a RUN sent anyway is
    refused with UNSUPPORTED in a compact answer, fragments are never answered, and frames that
    cannot be read are not NAKed while fragments come in (until a good version-1 frame)."""
    dev, _ = native()
    assert not dev.info.staged_infer
    dev.t.write(b"\x00" + P.wire(P.fragment(3, 0, b"abcd")) + P.wire(P.fragment(3, 1, b"efgh")))
    assert dev.t.next_item(time.monotonic() + 0.3) is None          # fragments: no answer
    dev.t.write(b"\x00" + P.wire(b"\x05\x01\x02") + P.wire(P.staged_run(3, 4, 0, 2, 0)))
    a = P.parse_staged_answer(dev.t.next_item(time.monotonic() + 2))  # the junk frame: no NAK
    assert a.kind == P.SANS_REFUSED and a.xid == 3 and a.status == P.Status.UNSUPPORTED, a
    assert dev.ping() >= 0                                            # version 1 as before
    assert dev.echo(b"xyz") == b"xyz"


def _faults(seed, p):
    """A filter damaging bytes in both directions (drop, corrupt, duplicate), each with prob. p."""
    rng = random.Random(seed)

    def mangle(data):
        out = bytearray()
        for b in data:
            r = rng.random()
            if r < p:
                continue
            if r < 2 * p:
                out.append(b ^ rng.randrange(1, 256))
            elif r < 3 * p:
                out += bytes([b, b])
            else:
                out.append(b)
        return bytes(out)
    return mangle


class FaultyPipe(PipeSerial):
    def __init__(self, proc, seed, p):
        super().__init__(proc)
        self.down, self.up = _faults(seed, p), _faults(seed + 1, p)

    def write(self, b):
        return super().write(self.down(b)) and len(b)

    def read(self, n):
        return self.up(super().read(n))


def test_faults_every_answer_once(runtime_exe):
    p = subprocess.Popen([str(runtime_exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    dev = Device(Transport(FaultyPipe(p, 3, 0.005), "pipe:faulty"), timeout=0.1, retries=40)
    dev.hello()
    rng = random.Random(9)
    for i in range(300):
        data = i.to_bytes(2, "little") + bytes(rng.randrange(256) for _ in range(rng.randrange(30)))
        assert dev.echo(data) == data
    assert dev.stats.requests == 301 and dev.stats.retransmits > 0
    assert dev.stats.corrupt_frames + dev.stats.transport_naks > 0
    p.stdin.close()
    assert p.wait(10) == 0


def test_board_reset_mid_session_is_reported(native):
    boot = P.encode(P.Frame(P.EVT_BOOT, 0, payload=P.pack_info(P.DeviceInfo(
        1, "0.1.0", 300, False, False, 1, 0, 0, 0, 0, 0, 0, 0, "native-test", "host", "ns"))))
    calls = {"n": 0}

    def inject(_wire):
        calls["n"] += 1
        return boot if calls["n"] == 4 else b""

    dev, _ = native(inject=inject)  # write 1: HELLO
    dev.ping()
    dev.ping()
    last = dev.last_delivered
    with pytest.raises(BoardReset) as e:
        dev.ping()  # write 4: the device "restarts" before answering
    assert e.value.last_delivered == last and "request #3" in last


def test_version_mismatch(runtime_exe):
    p = subprocess.Popen([str(runtime_exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    t = Transport(PipeSerial(p), "pipe")
    dev = Device(t, timeout=0.3, retries=1)
    # a HELLO answer whose payload says protocol 2
    info = P.pack_info(P.DeviceInfo(2, "9.0.0", 300, False, False, 1, 0, 0, 0, 0, 0, 0, 0, "x", "y", "z"))

    def fake_request(cmd, payload=b"", **kw):
        return P.Frame(P.Cmd.HELLO | P.RSP_BIT, 1, payload=info)
    dev.request = fake_request  # type: ignore[method-assign]
    with pytest.raises(FirmwareVersionMismatch, match="protocol 2"):
        dev.hello()
    # frames in another protocol version on the wire
    dev2 = Device(Transport(PipeSerial(p), "pipe"), timeout=0.3, retries=1)
    dev2.t.ser.extra += P.encode(P.Frame(P.Cmd.PING | P.RSP_BIT, 5, version=2))
    dev2._seq = 4
    with pytest.raises(FirmwareVersionMismatch):
        dev2.ping()
    p.stdin.close()
    p.wait(10)


def test_echoing_port_and_absent_port():
    # loop:// sends our own request back: a frame with our seq but a request's code
    dev = Device(Transport(serial.serial_for_url("loop://", timeout=0.02), "loop://"), timeout=0.05, retries=2)
    with pytest.raises(ProtocolError, match="PING seq=.* answered with PING"):
        dev.ping()
    with pytest.raises(BoardAbsent, match="cannot open"):
        Device.open("socket://127.0.0.1:1", open_timeout=0.2)


def test_no_answer_is_a_timeout(tmp_path):
    p = subprocess.Popen(["sleep", "30"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        dev = Device(Transport(PipeSerial(p), "pipe:sleep"), timeout=0.05, retries=2)
        with pytest.raises(LinkTimeout, match=r"no valid answer to PING seq=\d+ \(\d+ bytes on the wire\) after 3 tries in [\d.]+ s"):
            dev.ping()
    finally:
        p.kill()
        p.wait()


def test_killed_device_connection_lost(native):
    dev, p = native()
    dev.ping()
    last = dev.last_delivered
    p.kill()
    p.wait()
    with pytest.raises(ConnectionLost) as e:
        for _ in range(50):
            dev.ping()
    assert e.value.last_delivered == last
