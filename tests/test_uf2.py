"""UF2 writing: `edgehost flash --board nrf52 --method uf2 --output` and the UF2 codec, parsed
back field by field."""
from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from edgehost.flash import uf2 as U
from edgehost.flash.image import to_binary, to_ihex


def check_blocks(blob: bytes, data: bytes, base: int, family: int):
    assert len(blob) % 512 == 0
    n = len(blob) // 512
    assert n == (len(data) + 255) // 256
    joined = bytearray()
    for i in range(n):
        b = blob[i * 512:(i + 1) * 512]
        m0, m1, flags, addr, size, num, total, fam = struct.unpack_from("<8I", b)
        assert (m0, m1) == (0x0A324655, 0x9E5D5157)
        assert struct.unpack_from("<I", b, 508)[0] == 0x0AB16F30
        assert flags & 0x2000 and fam == family
        assert addr == base + 256 * i
        assert size == (256 if i < n - 1 else len(data) - 256 * (n - 1))
        assert (num, total) == (i, n)
        assert b[32 + size:508] == bytes(476 - size)
        joined += b[32:32 + size]
    assert bytes(joined) == data


@given(st.binary(min_size=1, max_size=3000), st.integers(0, 1 << 20).map(lambda a: a * 4),
       st.integers(0, 2**32 - 1))
@settings(max_examples=100)
def test_uf2_round_trip(data, base, family):
    blob = U.to_uf2(data, base, family)
    check_blocks(blob, data, base, family)
    assert U.from_uf2(blob) == (base, data, family)


def test_uf2_rejects_bad_input():
    with pytest.raises(U.UF2Error):
        U.to_uf2(b"", 0, 1)
    with pytest.raises(U.UF2Error):
        U.to_uf2(b"x", 2, 1)
    blob = bytearray(U.to_uf2(bytes(600), 0x1000, 7))
    for cut in (b"", bytes(blob[:511])):
        with pytest.raises(U.UF2Error):
            U.from_uf2(cut)
    bad = bytearray(blob)
    bad[0] ^= 1
    with pytest.raises(U.UF2Error, match="magic"):
        U.from_uf2(bytes(bad))
    bad = bytearray(blob)
    struct.pack_into("<I", bad, 512 + 20, 5)  # block 1 numbered 5
    with pytest.raises(U.UF2Error, match="numbered"):
        U.from_uf2(bytes(bad))


def test_family_table():
    assert U.family_for(["nrf52840dk", "nrf52", "nrf52840"]) == 0xADA52840
    assert U.family_for(["virt-rv32"]) is None


def test_ihex_checksums_and_extended_addresses():
    text = to_ihex(0xFFF8, bytes(range(40)))
    recs = text.split()
    for r in recs:
        raw = bytes.fromhex(r[1:])
        assert sum(raw) % 256 == 0 and raw[0] == len(raw) - 5
    assert recs[0] == ":020000040000FA" and ":020000040001F9" in recs and recs[-1] == ":00000001FF"


@pytest.fixture(scope="module")
def nrf52_uf2(tmp_path_factory):
    out = tmp_path_factory.mktemp("uf2") / "fw.uf2"
    r = subprocess.run([sys.executable, "-m", "edgehost", "flash", "--board", "nrf52", "--method", "uf2",
                        "--output", str(out), "--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out, json.loads(r.stdout)


def test_cli_writes_valid_uf2_for_nrf52(nrf52_uf2):
    from edgehost.boards import get
    out, res = nrf52_uf2
    board = get("nrf52")
    base, data = to_binary(res["elf"])
    assert base == board.image_offset
    family = board.uf2_family if board.uf2_family is not None else 0xADA52840
    blob = out.read_bytes()
    check_blocks(blob, data, board.image_offset, family)
    assert res["family"] == f"0x{family:08X}" and res["blocks"] == len(blob) // 512 and res["verified"]
    assert res["port"] is None
