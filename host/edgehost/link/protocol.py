"""The edgehost link protocol: COBS framing, frame header, CRC-32, codes (docs/protocol.md).

The Python twin of firmware/protocol/eh_proto.[ch], written from docs/protocol.md. Pure
functions and a streaming `Deframer`; no I/O here.
"""
from __future__ import annotations

import binascii
import enum
import struct
import zlib
from dataclasses import dataclass

VERSION = 1
HEADER = 8
CRC = 4
OVERHEAD = HEADER + CRC
MAX_PROTOCOL_PAYLOAD = 0xFFFF
_HDR = struct.Struct("<BBHBBH")


class Cmd(enum.IntEnum):
    HELLO = 0x01
    PING = 0x02
    ECHO = 0x03
    LOAD_BEGIN = 0x10
    LOAD_CHUNK = 0x11
    LOAD_COMMIT = 0x12
    INFER = 0x20
    STEP = 0x21
    RESET_STATE = 0x22
    TRACE = 0x23


RSP_BIT = 0x80
RSP_NAK = 0xFF
EVT_BOOT = 0x7E
FLAG_SEQ_VALID = 0x01
#: INFER request flags (u16 after T): keep the network state instead of resetting it first
INFER_CONTINUE = 0x0001


class Status(enum.IntEnum):
    OK = 0
    FRAMING = 1
    TRUNCATED = 2
    LENGTH = 3
    OVERSIZE = 4
    CRC = 5
    VERSION = 6
    UNKNOWN_CMD = 7
    BAD_PAYLOAD = 8
    NO_MODEL = 9
    MODEL = 10
    TOO_BIG = 11
    LOAD_STATE = 12
    LOAD_CRC = 13
    UNSUPPORTED = 14
    STAGE = 15


#: statuses a device gives a frame it could not read (the request may be retransmitted)
TRANSPORT_STATUSES = frozenset({Status.FRAMING, Status.TRUNCATED, Status.LENGTH, Status.OVERSIZE,
                                Status.CRC})


def status_name(code: int) -> str:
    try:
        return Status(code).name
    except ValueError:
        return f"status {code}"


def code_name(code: int) -> str:
    if code == RSP_NAK:
        return "NAK"
    if code == EVT_BOOT:
        return "BOOT"
    base = code & ~RSP_BIT
    try:
        name = Cmd(base).name
    except ValueError:
        return f"0x{code:02x}"
    return name + ("_RSP" if code & RSP_BIT else "")


def crc32(data: bytes, crc: int = 0) -> int:
    """CRC-32 as in the firmware (reflected 0xEDB88320): zlib's."""
    return zlib.crc32(data, crc) & 0xFFFFFFFF


def cobs_encode(data: bytes) -> bytes:
    """COBS encoding of `data` without the 0x00 delimiter (docs/protocol.md, Framing)."""
    out = bytearray()
    pos, n = 0, len(data)
    while True:
        end = pos
        while end < n and data[end] != 0 and end - pos < 254:
            end += 1
        run = end - pos
        out.append(run + 1)
        out += data[pos:end]
        pos = end
        if pos == n:
            break
        if run == 254:
            continue
        pos += 1
    return bytes(out)


class FrameError(ValueError):
    """A frame that cannot be accepted; `status` is the Status the device would NAK with."""

    def __init__(self, status: Status, message: str, header: "Header | None" = None):
        super().__init__(message)
        self.status = status
        self.header = header


def cobs_decode(enc: bytes) -> bytes:
    """Inverse of cobs_encode (no delimiter inside). Raises FrameError(FRAMING)."""
    if not enc:
        raise FrameError(Status.FRAMING, "empty COBS frame")
    d = Deframer(max(len(enc), 1))
    for b in enc:
        if b == 0:
            raise FrameError(Status.FRAMING, "0x00 inside a COBS frame")
        d.push(b)
    res = d.push(0)
    if isinstance(res, FrameError):
        raise res
    assert res is not None
    return res


class Deframer:
    """Streaming COBS decoder with the firmware's rules: frames longer than `cap` decoded bytes
    end in FrameError(OVERSIZE), a block cut short by a delimiter in FrameError(FRAMING), and
    empty frames (consecutive delimiters) are skipped."""

    def __init__(self, cap: int = 65535 + OVERHEAD):
        self.cap = cap
        self._reset()

    def _reset(self) -> None:
        self.buf = bytearray()
        self.raw = 0
        self.code = 0
        self.left = 0
        self.overflow = False

    def push(self, b: int) -> "bytes | FrameError | None":
        """Feed one byte; returns a decoded frame, a FrameError, or None (nothing complete)."""
        if b == 0:
            if self.raw == 0:
                return None
            if self.overflow:
                res: bytes | FrameError = FrameError(
                    Status.OVERSIZE, f"frame longer than {self.cap} bytes")
            elif self.left:
                res = FrameError(Status.FRAMING, "COBS block cut short by a delimiter")
            else:
                res = bytes(self.buf)
            if isinstance(res, FrameError):
                res.partial = bytes(self.buf)  # type: ignore[attr-defined]
            self._reset()
            return res
        self.raw += 1
        if self.left == 0:
            if self.raw > 1 and self.code != 0xFF:
                self._put(0)
            self.code = b
            self.left = b - 1
        else:
            self._put(b)
            self.left -= 1
        return None

    def _put(self, b: int) -> None:
        if len(self.buf) < self.cap:
            self.buf.append(b)
        else:
            self.overflow = True

    def feed(self, data: bytes) -> list:
        """Feed many bytes; returns the list of frames and FrameErrors completed."""
        out = []
        for b in data:
            r = self.push(b)
            if r is not None:
                out.append(r)
        return out


@dataclass(frozen=True)
class Header:
    version: int
    code: int
    seq: int
    status: int
    flags: int
    length: int


@dataclass(frozen=True)
class Frame:
    code: int
    seq: int
    status: int = 0
    flags: int = 0
    payload: bytes = b""
    version: int = VERSION

    @property
    def is_nak(self) -> bool:
        return self.code == RSP_NAK

    @property
    def seq_valid(self) -> bool:
        return bool(self.flags & FLAG_SEQ_VALID)

    def nak_info(self) -> tuple[int, str]:
        """(request code, message) of a NAK."""
        req = self.payload[0] if self.payload else 0
        return req, self.payload[1:].decode("ascii", "replace")

    def __str__(self) -> str:
        s = f"{code_name(self.code)} seq={self.seq}"
        if self.code == RSP_NAK:
            req, msg = self.nak_info()
            s += f" {status_name(self.status)} req={code_name(req)}"
            s += " seq-valid" if self.seq_valid else ""
            s += f" '{msg}'" if msg else ""
        else:
            s += f" len={len(self.payload)}"
            if self.payload:
                s += " " + self.payload[:32].hex() + ("..." if len(self.payload) > 32 else "")
        return s


def build_frame(frame: Frame) -> bytes:
    """The decoded frame bytes: header, payload, CRC-32."""
    if not 0 <= len(frame.payload) <= MAX_PROTOCOL_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes: at most {MAX_PROTOCOL_PAYLOAD}")
    for name, v, hi in (("version", frame.version, 0xFF), ("code", frame.code, 0xFF),
                        ("seq", frame.seq, 0xFFFF), ("status", frame.status, 0xFF),
                        ("flags", frame.flags, 0xFF)):
        if not 0 <= v <= hi:
            raise ValueError(f"{name} {v} outside 0..{hi}")
    body = _HDR.pack(frame.version, frame.code, frame.seq, frame.status, frame.flags,
                     len(frame.payload)) + bytes(frame.payload)
    return body + struct.pack("<I", crc32(body))


def encode(frame: Frame, leading_delimiter: bool = True) -> bytes:
    """Wire bytes of a frame: [0x00] COBS(frame) 0x00."""
    enc = cobs_encode(build_frame(frame)) + b"\x00"
    return (b"\x00" + enc) if leading_delimiter else enc


def read_header(raw: bytes) -> "Header | None":
    """Whatever of the header can be read (None when not even seq is there)."""
    if len(raw) < 4:
        return None
    padded = bytes(raw[:HEADER]) + bytes(max(0, HEADER - len(raw)))
    return Header(*_HDR.unpack(padded))


def parse_frame(raw: bytes) -> Frame:
    """Checks a decoded frame (size vs length field, CRC, version, in the firmware's order)."""
    hdr = read_header(raw)
    if len(raw) < OVERHEAD:
        raise FrameError(Status.TRUNCATED, f"frame of {len(raw)} bytes: shorter than {OVERHEAD}", hdr)
    assert hdr is not None
    if hdr.length > len(raw) - OVERHEAD:
        raise FrameError(Status.TRUNCATED,
                         f"length field {hdr.length} but {len(raw) - OVERHEAD} payload bytes", hdr)
    if hdr.length < len(raw) - OVERHEAD:
        raise FrameError(Status.LENGTH,
                         f"length field {hdr.length} but {len(raw) - OVERHEAD} payload bytes", hdr)
    (got,) = struct.unpack_from("<I", raw, len(raw) - CRC)
    want = crc32(bytes(raw[:-CRC]))
    if got != want:
        raise FrameError(Status.CRC, f"CRC 0x{got:08x}, computed 0x{want:08x}", hdr)
    if hdr.version != VERSION:
        raise FrameError(Status.VERSION, f"protocol version {hdr.version}, expected {VERSION}", hdr)
    return Frame(hdr.code, hdr.seq, hdr.status, hdr.flags, bytes(raw[HEADER:-CRC]), hdr.version)


def decode(wire: bytes) -> Frame:
    """Decode exactly one frame's wire bytes (delimiters around it are optional)."""
    body = bytes(wire).strip(b"\x00")
    return parse_frame(cobs_decode(body))


# ---- payloads -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceInfo:
    """The HELLO (and BOOT) payload."""
    protocol_version: int
    firmware_version: str
    max_payload: int
    model_support: bool
    model_loaded: bool
    clock_hz: int
    model_hash: int
    blob_capacity: int
    arena_size: int
    arena_used: int
    input_bytes: int
    output_bytes: int
    n_layers: int
    board: str
    core: str
    counter_kind: str
    #: HELLO features bit 2: INFER takes flag bit 0 CONTINUE (keep the state), so a long input can
    #: be split over several frames (docs/protocol.md)
    infer_continue: bool = False
    #: HELLO features bit 3: staged INFER (fragments + RUN, docs/protocol.md "Staged INFER")
    staged_infer: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


_INFO = struct.Struct("<BBBBHBBIIIIIIII")


def pack_info(info: DeviceInfo) -> bytes:
    major, minor, patch = (int(x) for x in info.firmware_version.split("."))
    feats = (1 if info.model_support else 0) | (2 if info.model_loaded else 0) | (4 if info.infer_continue else 0) | \
        (8 if info.staged_infer else 0)
    out = _INFO.pack(info.protocol_version, major, minor, patch, info.max_payload, feats, 0,
                     info.clock_hz, info.model_hash, info.blob_capacity, info.arena_size,
                     info.arena_used, info.input_bytes, info.output_bytes, info.n_layers)
    for s in (info.board, info.core, info.counter_kind):
        b = s.encode()
        out += bytes([len(b)]) + b
    return out


def parse_info(p: bytes) -> DeviceInfo:
    if len(p) < _INFO.size + 3:
        raise ValueError(f"HELLO payload of {len(p)} bytes, at least {_INFO.size + 3} expected")
    (pv, ma, mi, pa, maxp, feats, _r, clock, mhash, blob, arena, used, inb, outb,
     layers) = _INFO.unpack_from(p)
    pos = _INFO.size
    strs = []
    for _ in range(3):
        if pos >= len(p):
            raise ValueError("HELLO payload cut inside its strings")
        n = p[pos]
        if pos + 1 + n > len(p):
            raise ValueError("HELLO payload cut inside its strings")
        strs.append(p[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return DeviceInfo(pv, f"{ma}.{mi}.{pa}", maxp, bool(feats & 1), bool(feats & 2), clock, mhash,
                      blob, arena, used, inb, outb, layers, *strs, infer_continue=bool(feats & 4),
                      staged_infer=bool(feats & 8))


# ---- staged INFER: compact frames (docs/protocol.md, "Staged INFER") ---------------------------

FRAG_BIT = 0x80          #: byte 0 of a fragment: 0x80 | xid
FRAG_OVERHEAD = 4        #: byte 0, index, CRC-16
SRUN = 0x40              #: byte 0 of a RUN request
SANS_DONE = 0x41
SANS_MISSING = 0x42
SANS_REFUSED = 0x43
SANS_MISSING_LIST = 0x44
SRUN_CONTINUE = 0x01
SRUN_COPIES_SHIFT = 1    #: RUN flags bits 1..2: extra answer copies
SRUN_TAG_SHIFT = 3       #: RUN flags bits 3..7: the tag MISSING echoes
SRUN_MAX_FRAGS = 256
_SRUN = struct.Struct("<BBBBHI")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE as the firmware's eh_crc16 (binascii.crc_hqx, initial 0xFFFF)."""
    return binascii.crc_hqx(data, 0xFFFF)


def fragment(xid: int, index: int, data: bytes) -> bytes:
    """Decoded fragment: 0x80 | xid, index, data, CRC-16."""
    if not (0 <= xid < 128 and 0 <= index < 256 and 1 <= len(data) <= 255):
        raise ValueError("fragment: xid 0..127, index 0..255, 1..255 data bytes")
    body = bytes((FRAG_BIT | xid, index)) + bytes(data)
    return body + struct.pack("<H", crc16(body))


def staged_run(xid: int, k: int, flags: int, t: int, input_crc: int) -> bytes:
    """Decoded RUN request (14 bytes)."""
    body = _SRUN.pack(SRUN, xid & 0x7F, k, flags & 0xFF, t, input_crc)
    return body + struct.pack("<I", crc32(body))


def wire(decoded: bytes) -> bytes:
    """COBS(decoded) 0x00 (no leading delimiter: back-to-back frames share one)."""
    return cobs_encode(decoded) + b"\x00"


@dataclass(frozen=True)
class StagedAnswer:
    kind: int                 # SANS_DONE, SANS_MISSING, SANS_REFUSED
    xid: int
    delta: int = 0            # DONE: counter delta
    output: bytes = b""       # DONE: output of the last step
    tag: int = 0              # MISSING: the RUN's tag
    received: tuple = ()      # MISSING: received flags of the n fragments
    status: int = 0           # REFUSED
    message: str = ""         # REFUSED


def parse_staged_answer(raw: bytes) -> "StagedAnswer | None":
    """A compact answer of staged INFER, or None (not one, or damaged)."""
    if len(raw) < 6 or raw[0] not in (SANS_DONE, SANS_MISSING, SANS_REFUSED, SANS_MISSING_LIST):
        return None
    if crc32(bytes(raw[:-4])) != struct.unpack_from("<I", raw, len(raw) - 4)[0]:
        return None
    kind, xid, body = raw[0], raw[1], bytes(raw[2:-4])
    if kind == SANS_DONE:
        if len(body) < 4:
            return None
        return StagedAnswer(kind, xid, delta=struct.unpack_from("<I", body)[0], output=body[4:])
    if kind == SANS_MISSING_LIST:
        if len(body) < 2:
            return None
        n = body[1] + 1
        gone = set(body[2:])
        if not gone or max(gone) >= n:
            return None
        return StagedAnswer(SANS_MISSING, xid, tag=body[0], received=tuple(i not in gone for i in range(n)))
    if kind == SANS_MISSING:
        if len(body) < 2:
            return None
        n = body[1] + 1
        bits = body[2:]
        if len(bits) != (n + 7) // 8:
            return None
        return StagedAnswer(kind, xid, tag=body[0],
                            received=tuple(bool(bits[i >> 3] >> (i & 7) & 1) for i in range(n)))
    if len(body) < 1:
        return None
    return StagedAnswer(kind, xid, status=body[0], message=body[1:].decode("ascii", "replace"))
