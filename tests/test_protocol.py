"""The link protocol: the Python codec (host/edgehost/link/protocol.py) round trips and rejects
every malformed frame, and the C framing (firmware/protocol/, built natively with ASan+UBSan)
agrees with it byte for byte."""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from edgehost.link import protocol as P

ROOT = Path(__file__).resolve().parents[1]
PROTO = ROOT / "firmware" / "protocol"
SAN = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]

payloads = st.binary(min_size=0, max_size=700)
zeroish = st.lists(st.sampled_from([0, 1, 0xFF, 0x7E]), max_size=600).map(bytes)
frames = st.builds(P.Frame, code=st.integers(0, 255), seq=st.integers(0, 0xFFFF),
                   status=st.integers(0, 255), flags=st.integers(0, 255),
                   payload=st.one_of(payloads, zeroish))


# ---- Python codec ---------------------------------------------------------------------------

@given(st.one_of(payloads, zeroish, st.binary(min_size=250, max_size=1100)))
@settings(max_examples=200)
def test_cobs_round_trip(data):
    enc = P.cobs_encode(data)
    assert 0 not in enc
    assert len(enc) <= len(data) + len(data) // 254 + 1
    assert P.cobs_decode(enc) == data


@pytest.mark.parametrize("n", [0, 1, 253, 254, 255, 508, 509])
def test_cobs_block_edges(n):
    for data in (bytes(n), b"\x01" * n, bytes([(i % 255) + 1 for i in range(n)])):
        assert P.cobs_decode(P.cobs_encode(data)) == data


def test_cobs_known_vectors():
    # from the COBS paper's definition: each zero becomes the distance to the next one
    assert P.cobs_encode(b"") == b"\x01"
    assert P.cobs_encode(b"\x00") == b"\x01\x01"
    assert P.cobs_encode(b"\x11\x22\x00\x33") == b"\x03\x11\x22\x02\x33"
    assert P.cobs_encode(b"\x11\x00\x00\x00") == b"\x02\x11\x01\x01\x01"
    assert P.cobs_encode(bytes(range(1, 255))) == b"\xff" + bytes(range(1, 255))


def test_crc_is_zlib():
    assert P.crc32(b"123456789") == 0xCBF43926


@given(frames)
@settings(max_examples=200)
def test_frame_round_trip(fr):
    fr = P.Frame(fr.code, fr.seq, fr.status, fr.flags, fr.payload)
    wire = P.encode(fr)
    assert wire[0] == 0 and wire[-1] == 0 and 0 not in wire[1:-1]
    assert P.decode(wire) == fr
    raw = P.build_frame(fr)
    assert raw[0] == P.VERSION and raw[1] == fr.code
    assert struct.unpack_from("<H", raw, 2)[0] == fr.seq
    assert struct.unpack_from("<H", raw, 6)[0] == len(fr.payload)
    assert struct.unpack_from("<I", raw, len(raw) - 4)[0] == zlib.crc32(raw[:-4])


@given(st.lists(frames, min_size=1, max_size=6), st.lists(st.integers(1, 40), min_size=1, max_size=20),
       st.integers(0, 3))
@settings(max_examples=100)
def test_deframer_stream_any_chunking(frs, cuts, idle):
    """Frames back to back (with idle delimiters) come out whole whatever the read sizes."""
    stream = b"\x00" * idle + b"".join(P.encode(f, leading_delimiter=bool(i % 2)) for i, f in enumerate(frs))
    d = P.Deframer()
    got, pos, k = [], 0, 0
    while pos < len(stream):
        n = cuts[k % len(cuts)]
        got += d.feed(stream[pos:pos + n])
        pos, k = pos + n, k + 1
    assert [P.parse_frame(g) for g in got] == list(frs)


def _raw(code=P.Cmd.PING, seq=7, payload=b"", version=P.VERSION):
    return P.build_frame(P.Frame(code, seq, payload=payload, version=version))


def test_malformed_truncated():
    raw = _raw(payload=b"abcdef")
    for n in range(P.OVERHEAD):
        with pytest.raises(P.FrameError) as e:
            P.parse_frame(raw[:n])
        assert e.value.status == P.Status.TRUNCATED
        assert (e.value.header is not None) == (n >= 4)
    with pytest.raises(P.FrameError) as e:
        P.parse_frame(raw[:-1])  # payload cut: length field says more
    assert e.value.status == P.Status.TRUNCATED and e.value.header.seq == 7


def test_malformed_length_and_crc_and_version():
    raw = bytearray(_raw(payload=b"abcdef"))
    with pytest.raises(P.FrameError) as e:
        P.parse_frame(bytes(raw) + b"\x00")
    assert e.value.status == P.Status.LENGTH
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x10
        with pytest.raises(P.FrameError) as e:
            P.parse_frame(bytes(bad))
        # a flipped length byte makes the size disagree; any other flip breaks the CRC
        assert e.value.status in ((P.Status.TRUNCATED, P.Status.LENGTH) if i in (6, 7) else (P.Status.CRC,))
    with pytest.raises(P.FrameError) as e:
        P.parse_frame(_raw(version=2))
    assert e.value.status == P.Status.VERSION and e.value.header.version == 2


def test_malformed_cobs_and_oversize():
    d = P.Deframer(cap=20)
    # a block announcing 5 bytes cut by the delimiter after 2
    out = d.feed(b"\x06\x01\x02\x00")
    assert len(out) == 1 and isinstance(out[0], P.FrameError) and out[0].status == P.Status.FRAMING
    out = d.feed(P.cobs_encode(bytes(range(1, 40))) + b"\x00")
    assert isinstance(out[0], P.FrameError) and out[0].status == P.Status.OVERSIZE
    # the deframer recovers: the next good frame decodes
    good = P.Frame(P.Cmd.ECHO, 9, payload=b"ok")
    out = d.feed(P.encode(good))
    assert [P.parse_frame(o) for o in out] == [good]
    with pytest.raises(P.FrameError):
        P.cobs_decode(b"\x05\x00\x01")


def test_build_rejects_bad_fields():
    with pytest.raises(ValueError):
        P.build_frame(P.Frame(P.Cmd.ECHO, 0x10000))
    with pytest.raises(ValueError):
        P.build_frame(P.Frame(256, 1))
    with pytest.raises(ValueError):
        P.build_frame(P.Frame(P.Cmd.ECHO, 1, payload=bytes(0x10000)))


def test_info_round_trip():
    info = P.DeviceInfo(1, "0.1.0", 1024, True, False, 25_000_000, 0xDEADBEEF, 49152, 32768, 0, 0,
                        0, 0, "mps2-an386", "cortex-m4f", "systick-ticks")
    assert P.parse_info(P.pack_info(info)) == info
    with pytest.raises(ValueError):
        P.parse_info(P.pack_info(info)[:-3])


# ---- C framing against the Python codec ------------------------------------------------------

class Tool:
    def __init__(self, exe: Path):
        self.p = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)

    def ask(self, line: str) -> str:
        assert self.p.stdin and self.p.stdout
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = self.p.stdout.readline()
        if not out:
            err = self.p.stderr.read() if self.p.stderr else ""
            raise AssertionError(f"C tool died on {line[:60]!r}: {err}")
        return out.rstrip("\n")

    def close(self) -> None:
        assert self.p.stdin
        self.p.stdin.close()
        rc = self.p.wait(10)
        err = self.p.stderr.read() if self.p.stderr else ""
        assert rc == 0, f"C tool exit {rc}: {err}"


@pytest.fixture(scope="module")
def ctool(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found: the C framing cannot be built natively")
    exe = tmp_path_factory.mktemp("proto") / "eh_proto_tool"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", *SAN, f"-I{PROTO}",
                    str(PROTO / "eh_proto.c"), str(PROTO / "test" / "eh_proto_tool.c"), "-o", str(exe)],
                   check=True)
    t = Tool(exe)
    yield t
    t.close()


@given(st.one_of(payloads, zeroish, st.binary(min_size=250, max_size=1100)))
@settings(max_examples=150, deadline=None)
def test_c_crc_and_cobs_equal_python(ctool, data):
    assert int(ctool.ask(f"C {data.hex()}"), 16) == P.crc32(data)
    enc = ctool.ask(f"E {data.hex()}")
    assert enc == P.cobs_encode(data).hex()  # and a cap one byte short is refused (no " SHORT-OK")


@given(st.one_of(payloads, zeroish, st.binary(min_size=250, max_size=1100)))
@settings(max_examples=100, deadline=None)
def test_c_crc16_equals_python(ctool, data):
    assert int(ctool.ask(f"H {data.hex()}"), 16) == P.crc16(data)


@given(frames, st.integers(P.OVERHEAD, 800))
@settings(max_examples=150, deadline=None)
def test_c_build_equals_python(ctool, fr, cap):
    got = ctool.ask(f"B {fr.code} {fr.seq} {fr.status} {fr.flags} {cap} {fr.payload.hex()}")
    raw = P.build_frame(fr)
    assert got == (raw.hex() if len(raw) <= cap else "ERR")


def _py_deframe(cap: int, data: bytes) -> str:
    out = []
    for r in P.Deframer(cap).feed(data):
        if isinstance(r, P.FrameError):
            out.append(f"X{int(r.status)}:{r.partial.hex()}")
        else:
            out.append(f"F:{r.hex()}")
    return " ".join(out)


@given(st.lists(st.one_of(frames.map(P.encode), st.binary(max_size=80),
                          st.lists(st.sampled_from([0, 1, 2, 0xFF, 0xFE]), max_size=40).map(bytes)),
                max_size=6).map(b"".join),
       st.integers(1, 600))
@settings(max_examples=200, deadline=None)
def test_c_deframer_equals_python(ctool, stream, cap):
    """Random and well-formed byte streams: the same frames and the same errors, in order."""
    assert ctool.ask(f"D {cap} {stream.hex()}") == _py_deframe(cap, stream)


@given(st.one_of(frames.map(P.build_frame),
                 frames.map(P.build_frame).flatmap(
                     lambda raw: st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)).map(
                         lambda ix: raw[:ix[0]] + bytes([raw[ix[0]] ^ ix[1]]) + raw[ix[0] + 1:])),
                 frames.map(P.build_frame).flatmap(lambda raw: st.integers(0, len(raw)).map(lambda n: raw[:n])),
                 st.binary(max_size=40)))
@settings(max_examples=200, deadline=None)
def test_c_parse_equals_python(ctool, raw):
    """Good, bit-flipped, cut and random frames: the C parser gives the Python codec's verdict."""
    st_, have_seq, seq, code, length, pl = ctool.ask(f"P {raw.hex()}").split(" ")
    try:
        fr = P.parse_frame(raw)
    except P.FrameError as e:
        assert int(st_) == int(e.status)
        assert pl == "-"
        hdr = P.read_header(raw)
        assert int(have_seq) == (hdr is not None)
        if hdr is not None:
            assert int(seq) == hdr.seq
    else:
        assert int(st_) == 0
        assert (int(seq), int(code), int(length)) == (fr.seq, fr.code, len(fr.payload))
        assert pl == (fr.payload.hex() if fr.payload else "")


# ---- staged INFER's compact frames (docs/protocol.md, "Staged INFER") --------------------------

def test_crc16_vector():
    assert P.crc16(b"123456789") == 0x29B1


def test_compact_frames_are_not_version_1():
    frag = P.fragment(5, 3, b"\x00\x01\x02")
    assert frag[0] == 0x85 and frag[1] == 3 and len(frag) == 3 + P.FRAG_OVERHEAD
    assert P.crc16(frag[:-2]) == int.from_bytes(frag[-2:], "little")
    run = P.staged_run(5, 16, P.SRUN_CONTINUE | (7 << P.SRUN_TAG_SHIFT), 63, 0x12345678)
    assert len(run) == 14 and run[0] == P.SRUN and run[0] != P.VERSION
    for raw in (frag, run):
        with pytest.raises(P.FrameError):
            P.parse_frame(raw)      # a version-1 receiver never takes them for its frames
    with pytest.raises(ValueError):
        P.fragment(128, 0, b"x")
    with pytest.raises(ValueError):
        P.fragment(1, 0, b"")


def _sans(kind, xid, body):
    raw = bytes((kind, xid)) + body
    return raw + P.crc32(raw).to_bytes(4, "little")


def test_staged_answers_parse():
    a = P.parse_staged_answer(_sans(P.SANS_DONE, 9, (1234).to_bytes(4, "little") + b"\x01\x02"))
    assert a.kind == P.SANS_DONE and a.xid == 9 and a.delta == 1234 and a.output == b"\x01\x02"
    # received bits of 10 fragments: 0..7 and 9
    a = P.parse_staged_answer(_sans(P.SANS_MISSING, 9, bytes((3, 9, 0xFF, 0x02))))
    assert a.kind == P.SANS_MISSING and a.tag == 3
    assert [i for i, r in enumerate(a.received) if not r] == [8]
    a = P.parse_staged_answer(_sans(P.SANS_MISSING_LIST, 9, bytes((4, 99, 7, 50))))
    assert a.kind == P.SANS_MISSING and len(a.received) == 100 and a.tag == 4
    assert [i for i, r in enumerate(a.received) if not r] == [7, 50]
    a = P.parse_staged_answer(_sans(P.SANS_REFUSED, 9, bytes((P.Status.STAGE,)) + b"stale transfer id"))
    assert a.status == P.Status.STAGE and a.message == "stale transfer id"
    good = _sans(P.SANS_DONE, 9, bytes(6))
    assert P.parse_staged_answer(good[:-1] + bytes((good[-1] ^ 1,))) is None   # CRC-32 checked
    assert P.parse_staged_answer(_sans(P.SANS_MISSING, 9, bytes((0, 9, 0xFF)))) is None  # bits cut
    assert P.parse_staged_answer(_sans(P.SANS_MISSING_LIST, 9, bytes((0, 9, 10)))) is None  # past n
    assert P.parse_staged_answer(P.build_frame(P.Frame(P.Cmd.PING, 3))) is None
