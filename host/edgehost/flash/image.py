"""The loadable bytes of an ELF image (ELF32 little endian, as every edgehost core builds),
read from its program headers: no toolchain needed."""
from __future__ import annotations

import struct
from pathlib import Path

PT_LOAD = 1


class ImageError(ValueError):
    pass


def load_segments(path: str | Path) -> list[tuple[int, bytes]]:
    """(physical load address, file bytes) of each PT_LOAD segment with file content."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF":
        raise ImageError(f"{path}: not an ELF file")
    if data[4] != 1 or data[5] != 1:
        raise ImageError(f"{path}: not a 32-bit little-endian ELF (class {data[4]}, data {data[5]})")
    (phoff,) = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    segs = []
    for i in range(phnum):
        off = phoff + i * phentsize
        if off + 32 > len(data):
            raise ImageError(f"{path}: program header {i} beyond the file")
        p_type, p_offset, _vaddr, p_paddr, p_filesz, _memsz, _flags, _align = struct.unpack_from("<8I", data, off)
        if p_type == PT_LOAD and p_filesz:
            if p_offset + p_filesz > len(data):
                raise ImageError(f"{path}: segment {i} beyond the file")
            segs.append((p_paddr, data[p_offset:p_offset + p_filesz]))
    if not segs:
        raise ImageError(f"{path}: no loadable segment")
    return sorted(segs)


def to_binary(path: str | Path, fill: int = 0xFF) -> tuple[int, bytes]:
    """(base address, flat image) as `objcopy -O binary` gives, gaps filled with `fill`."""
    segs = load_segments(path)
    base = segs[0][0]
    end = max(a + len(d) for a, d in segs)
    if end - base > 64 << 20:
        raise ImageError(f"{path}: segments span {end - base} bytes (RAM and flash addresses mixed?)")
    out = bytearray([fill]) * (end - base)
    for a, d in segs:
        out[a - base:a - base + len(d)] = d
    return base, bytes(out)


def to_ihex(base: int, data: bytes) -> str:
    """Intel HEX text of `data` at `base` (for nrfjprog and nrfutil)."""
    lines = []
    upper = None

    def rec(kind: int, addr: int, payload: bytes) -> str:
        body = bytes([len(payload), (addr >> 8) & 0xFF, addr & 0xFF, kind]) + payload
        return ":" + body.hex().upper() + f"{(-sum(body)) & 0xFF:02X}"

    off = 0
    while off < len(data):
        addr = base + off
        n = min(16, len(data) - off, 0x10000 - (addr & 0xFFFF))  # no record crosses 64 KiB
        if addr >> 16 != upper:
            upper = addr >> 16
            lines.append(rec(4, 0, struct.pack(">H", upper)))
        lines.append(rec(0, addr & 0xFFFF, data[off:off + n]))
        off += n
    lines.append(rec(1, 0, b""))
    return "\n".join(lines) + "\n"
