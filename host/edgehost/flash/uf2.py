"""UF2 images (Microsoft's USB Flashing Format) for drag-and-drop bootloaders.

Each 512-byte block: magic 0x0A324655, magic 0x9E5D5157, flags, target address, payload size,
block number, number of blocks, family id (with flag 0x2000), 476 data bytes (the first
`payload size` used, the rest zero), final magic 0x0AB16F30. All little endian.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_NOT_MAIN_FLASH = 0x00000001
FLAG_FAMILY_ID = 0x00002000
BLOCK = 512
DATA_AREA = 476
PAYLOAD = 256
_HEAD = struct.Struct("<8I")

#: family ids of the UF2 specification for chips the boards use, by a name part
FAMILIES = {
    "nrf52840": 0xADA52840,
    "nrf52833": 0x621E937A,
    "nrf52": 0x1B57745F,
    "stm32f4": 0x57755A57,
    "rp2040": 0xE48BFF56,
    "samd21": 0x68ED2B88,
    "samd51": 0x55114460,
}


class UF2Error(ValueError):
    pass


def family_for(names) -> int | None:
    """The family id of the first known chip named in `names` (board name and aliases)."""
    for key in sorted(FAMILIES, key=len, reverse=True):
        for n in names:
            if key in n.lower():
                return FAMILIES[key]
    return None


def to_uf2(data: bytes, base: int, family: int | None, payload: int = PAYLOAD) -> bytes:
    """Blocks of `payload` bytes of `data`, the first at address `base`."""
    if not data:
        raise UF2Error("empty image")
    if base % 4 or base < 0 or base + len(data) > 1 << 32:
        raise UF2Error(f"base address 0x{base:x} must be 4-byte aligned and the image inside 4 GiB")
    if not 0 < payload <= DATA_AREA or payload % 4:
        raise UF2Error(f"payload {payload} must be a multiple of 4 within 4..{DATA_AREA}")
    if family is not None and not 0 <= family < 1 << 32:
        raise UF2Error(f"family id {family} out of range")
    n = (len(data) + payload - 1) // payload
    flags = FLAG_FAMILY_ID if family is not None else 0
    out = bytearray()
    for i in range(n):
        chunk = data[i * payload:(i + 1) * payload]
        head = _HEAD.pack(MAGIC_START0, MAGIC_START1, flags, base + i * payload, len(chunk), i, n,
                          family or 0)
        out += head + chunk + bytes(DATA_AREA - len(chunk)) + struct.pack("<I", MAGIC_END)
    return bytes(out)


@dataclass(frozen=True)
class Block:
    flags: int
    address: int
    size: int
    number: int
    total: int
    family: int
    data: bytes


def parse_uf2(blob: bytes) -> list[Block]:
    """Checks every block (magics, sizes, numbering) and returns them."""
    if len(blob) % BLOCK or not blob:
        raise UF2Error(f"{len(blob)} bytes: not a whole number of {BLOCK}-byte blocks")
    blocks = []
    for i in range(len(blob) // BLOCK):
        b = blob[i * BLOCK:(i + 1) * BLOCK]
        m0, m1, flags, addr, size, num, total, fam = _HEAD.unpack_from(b)
        (mend,) = struct.unpack_from("<I", b, BLOCK - 4)
        if (m0, m1, mend) != (MAGIC_START0, MAGIC_START1, MAGIC_END):
            raise UF2Error(f"block {i}: bad magic numbers")
        if size > DATA_AREA:
            raise UF2Error(f"block {i}: payload size {size} > {DATA_AREA}")
        blocks.append(Block(flags, addr, size, num, total, fam, bytes(b[32:32 + size])))
    return blocks


def from_uf2(blob: bytes) -> tuple[int, bytes, int | None]:
    """(base address, contiguous data, family or None) of a UF2 written by to_uf2."""
    blocks = parse_uf2(blob)
    n = len(blocks)
    for i, b in enumerate(blocks):
        if b.number != i or b.total != n:
            raise UF2Error(f"block {i}: numbered {b.number} of {b.total}, expected {i} of {n}")
    base = blocks[0].address
    data = bytearray()
    for b in blocks:
        if b.address != base + len(data):
            raise UF2Error(f"block {b.number}: address 0x{b.address:x} leaves a gap")
        data += b.data
    fams = {b.family if b.flags & FLAG_FAMILY_ID else None for b in blocks}
    if len(fams) != 1:
        raise UF2Error("blocks disagree on the family id")
    return base, bytes(data), fams.pop()
