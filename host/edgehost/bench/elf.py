"""Just enough ELF reading for the bench: symbol addresses and patching an initialised word.

Reads 32- and 64-bit little-endian ELF files (Arm and RISC-V images) with the standard library
only: the section headers, the symbol table and the bytes of the section that holds a symbol.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_NOBITS = 8


class ElfError(ValueError):
    """The file is not an ELF this module can read, or lacks what was asked for."""


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    addr: int
    offset: int
    size: int


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    size: int
    section_index: int


class Elf:
    def __init__(self, data: bytes, path: str = "<bytes>"):
        self.path = path
        self.data = data
        if len(data) < 52 or data[:4] != b"\x7fELF":
            raise ElfError(f"{path}: not an ELF file")
        ei_class, ei_data = data[4], data[5]
        if ei_data != 1:
            raise ElfError(f"{path}: only little-endian ELF is supported")
        if ei_class == 1:
            (self.machine,) = struct.unpack_from("<H", data, 18)
            shoff, = struct.unpack_from("<I", data, 32)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 46)
            sh_fmt, self._sym_fmt = "<IIIIIIIIII", "<IIIBBH"
        elif ei_class == 2:
            (self.machine,) = struct.unpack_from("<H", data, 18)
            shoff, = struct.unpack_from("<Q", data, 40)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
            sh_fmt, self._sym_fmt = "<IIQQQQIIQQ", "<IBBHQQ"
        else:
            raise ElfError(f"{path}: unknown ELF class {ei_class}")
        self.bits = 32 if ei_class == 1 else 64
        raw = []
        for i in range(shnum):
            off = shoff + i * shentsize
            if off + struct.calcsize(sh_fmt) > len(data):
                raise ElfError(f"{path}: truncated section header table")
            raw.append(struct.unpack_from(sh_fmt, data, off))
        if not raw:
            raise ElfError(f"{path}: no section headers (stripped?)")
        names_off = raw[shstrndx][4]
        self.sections = [
            Section(self._cstr(names_off + h[0]), h[1], h[3], h[4], h[5]) for h in raw
        ]
        self._raw_sections = raw
        self._symbols: dict[str, Symbol] | None = None

    @classmethod
    def read(cls, path: str | Path) -> "Elf":
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ElfError(f"cannot read {path}: {e.strerror}") from e
        return cls(data, str(path))

    def _cstr(self, off: int) -> str:
        end = self.data.index(b"\0", off)
        return self.data[off:end].decode("utf-8", "replace")

    def symbols(self) -> dict[str, Symbol]:
        if self._symbols is None:
            syms: dict[str, Symbol] = {}
            for i, sec in enumerate(self.sections):
                if sec.type != SHT_SYMTAB:
                    continue
                strtab = self.sections[self._raw_sections[i][6]]  # sh_link
                entsize = struct.calcsize(self._sym_fmt)
                for off in range(sec.offset, sec.offset + sec.size, entsize):
                    f = struct.unpack_from(self._sym_fmt, self.data, off)
                    if self.bits == 32:
                        name_off, value, size, _info, _other, shndx = f
                    else:
                        name_off, _info, _other, shndx, value, size = f
                    if name_off == 0:
                        continue
                    name = self._cstr(strtab.offset + name_off)
                    # a global definition wins over a local of the same name
                    if name not in syms or syms[name].section_index == 0:
                        syms[name] = Symbol(name, value, size, shndx)
            self._symbols = syms
        return self._symbols

    def symbol(self, name: str) -> Symbol:
        sym = self.symbols().get(name)
        if sym is None or sym.section_index == 0:
            raise ElfError(f"{self.path}: no symbol {name!r} (is it the bench image?)")
        return sym

    def file_offset(self, addr: int, size: int) -> int:
        """File offset of `size` initialised bytes at virtual address `addr`."""
        for sec in self.sections:
            if sec.type == SHT_PROGBITS and sec.size > 0 and sec.addr <= addr and addr + size <= sec.addr + sec.size:
                return sec.offset + (addr - sec.addr)
        raise ElfError(f"{self.path}: address 0x{addr:x} is not in an initialised section")

    def read_word(self, name: str) -> int:
        sym = self.symbol(name)
        off = self.file_offset(sym.value, 4)
        return struct.unpack_from("<I", self.data, off)[0]

    def patched_word(self, name: str, expected: int, value: int) -> bytes:
        """A copy of the file with the 32-bit word `name` changed from `expected` to `value`."""
        sym = self.symbol(name)
        off = self.file_offset(sym.value, 4)
        (old,) = struct.unpack_from("<I", self.data, off)
        if old != expected:
            raise ElfError(
                f"{self.path}: {name} holds 0x{old:08x}, expected 0x{expected:08x}; "
                "the image and this edgehost do not match"
            )
        out = bytearray(self.data)
        struct.pack_into("<I", out, off, value)
        return bytes(out)
