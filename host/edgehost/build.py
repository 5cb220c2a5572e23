"""Build a board's firmware images with CMake (firmware/CMakeLists.txt).

    >>> from edgehost.build import build
    >>> r = build("mps2-an386", target="selftest")
    >>> r.elf, r.flash_used, r.ram_used

The build tree ``build/fw/<board>`` is configured once with the board's toolchain and then
built incrementally (a build with nothing changed takes well under a second). Flash and RAM
use are measured from the ELF's section headers: flash counts every loaded section whose
load address lies in the board's flash region (code, read-only data, the initial values of
.data), RAM every allocated section whose address lies in its RAM region (.data, .bss and the
reserved stack). On the host board, with no regions, flash is the read-only loaded sections
and RAM the writable ones.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import boards as _boards
from .boards import Board
from .cli import UserError

#: --target name -> CMake target
TARGETS = {"firmware": "edgehost-fw", "bench": "eh-bench", "selftest": "eh-hal-selftest"}

#: core -> (compiler, Debian packages that provide it)
TOOLCHAINS = {
    "cortex-m4f": ("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi"),
    "cortex-m0": ("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi"),
    "rv32imc": ("riscv64-unknown-elf-gcc", "gcc-riscv64-unknown-elf"),
    "host": ("cc", "build-essential"),
}

#: what each target is built from (it exists only when these have sources)
_TARGET_SOURCES = {
    "firmware": ("firmware/runtime", "*.c"),
    "bench": ("bench/harness", "*.c"),
    "selftest": ("firmware/hal", "hal_selftest.c"),
}

_OVERFLOW_RE = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")


@dataclass(frozen=True)
class BuildResult:
    elf: Path
    board: Board
    target: str                # "firmware", "bench" or "selftest"
    flash_used: int            # bytes
    ram_used: int
    flash_bytes: int | None    # the board's regions (None on the host board)
    ram_bytes: int | None
    map_file: Path | None
    #: the operators linked (ops/eh_op_<name>.c), sorted; `selected` False: every operator
    ops: tuple[str, ...] = ()
    ops_selected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "elf": str(self.elf),
            "board": self.board.name,
            "target": self.target,
            "cmake_target": TARGETS[self.target],
            "flash_used": self.flash_used,
            "flash_bytes": self.flash_bytes,
            "ram_used": self.ram_used,
            "ram_bytes": self.ram_bytes,
            "map_file": str(self.map_file) if self.map_file else None,
            "ops": list(self.ops),
            "ops_selected": self.ops_selected,
        }


# ------------------------------------------------------------------ operators (EH_OPS)

#: one entry of firmware/model/eh_op_table.c: `[26] = &eh_op_conv2d[0],  /* conv2d_f32 (1.6) */`
_TABLE_RE = re.compile(r"^\s*\[(\d+)\]\s*=\s*&eh_op_(\w+)\[\d+\]\s*,\s*/\*\s*(\w+)", re.M)


def operators(root: Path | None = None) -> list[str]:
    """Every operator of the firmware (the names of firmware/model/ops/eh_op_<name>.c), sorted:
    the units EH_OPS, a board's "ops" and --model select."""
    root = root or _boards.repo_root()
    return sorted(p.stem[len("eh_op_"):] for p in (root / "firmware/model/ops").glob("eh_op_*.c"))


def op_table(root: Path | None = None) -> dict[int, tuple[str, str]]:
    """Layer type code -> (operator, layer type name), read from firmware/model/eh_op_table.c,
    the one place the firmware's table is written."""
    root = root or _boards.repo_root()
    text = (root / "firmware/model/eh_op_table.c").read_text()
    table = {int(c): (op, name) for c, op, name in _TABLE_RE.findall(text)}
    if not table:
        raise UserError("firmware/model/eh_op_table.c: no operator entries found")
    return table


def model_ops(model: str | os.PathLike | bytes, root: Path | None = None) -> list[str]:
    """The operators the layers of an .ehm model need (sorted), for EH_OPS."""
    from .blob import BlobError, read
    data = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    try:
        m = read(bytes(data))
    except BlobError as e:
        raise UserError(f"model: not a valid .ehm blob: {e}") from None
    by_name = {name: op for op, name in op_table(root).values()}
    need = set()
    for i, layer in enumerate(m.layers):
        if layer.type not in by_name:
            raise UserError(f"model: layer {i}: type {layer.type!r} has no operator in firmware/model/eh_op_table.c")
        need.add(by_name[layer.type])
    return sorted(need)


def check_ops(ops, what: str = "ops") -> tuple[str, ...]:
    """`ops` as a sorted tuple of known operator names; UserError naming the valid ones."""
    valid = operators()
    out = []
    for op in ops:
        if not isinstance(op, str) or op not in valid:
            raise UserError(f"{what}: unknown operator {op!r} (valid: {', '.join(valid)})")
        out.append(op)
    if not out:
        raise UserError(f"{what}: give at least one operator")
    return tuple(sorted(set(out)))


# ------------------------------------------------------------------ ELF sizes

SHF_WRITE, SHF_ALLOC = 0x1, 0x2
SHT_NOBITS = 8
PT_LOAD = 1


@dataclass(frozen=True)
class ElfSection:
    name: str
    type: int
    flags: int
    addr: int     # virtual (run) address
    lma: int      # load address (from the PT_LOAD segment holding it)
    size: int


def elf_sections(path: str | os.PathLike) -> list[ElfSection]:
    """The allocated sections of an ELF32/ELF64 little- or big-endian file, with load addresses."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF":
        raise UserError(f"{path}: not an ELF file")
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        (e_phoff, e_shoff) = struct.unpack_from(end + "QQ", data, 0x20)
        (e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx) = struct.unpack_from(end + "HHHHH", data, 0x36)
    else:
        (e_phoff, e_shoff) = struct.unpack_from(end + "II", data, 0x1C)
        (e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx) = struct.unpack_from(end + "HHHHH", data, 0x2A)
    segments = []
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        if is64:
            p_type, _flags, _off, vaddr, paddr, _filesz, memsz = struct.unpack_from(end + "IIQQQQQ", data, off)
        else:
            p_type, _off, vaddr, paddr, _filesz, memsz = struct.unpack_from(end + "IIIIII", data, off)
        if p_type == PT_LOAD:
            segments.append((vaddr, paddr, memsz))
    raw = []
    for i in range(e_shnum):
        off = e_shoff + i * e_shentsize
        if is64:
            name, typ, flags, addr, offset, size = struct.unpack_from(end + "IIQQQQ", data, off)
        else:
            name, typ, flags, addr, offset, size = struct.unpack_from(end + "IIIIII", data, off)
        raw.append((name, typ, flags, addr, offset, size))
    strtab_off = raw[e_shstrndx][4] if e_shnum else 0
    out = []
    for name, typ, flags, addr, _offset, size in raw:
        if not flags & SHF_ALLOC or size == 0:
            continue
        nul = data.index(b"\0", strtab_off + name)
        sname = data[strtab_off + name:nul].decode("ascii", "replace")
        lma = addr
        for vaddr, paddr, memsz in segments:
            if vaddr <= addr < vaddr + memsz:
                lma = paddr + (addr - vaddr)
                break
        out.append(ElfSection(sname, typ, flags, addr, lma, size))
    return out


def measure(elf: str | os.PathLike, board: Board) -> tuple[int, int]:
    """(flash_used, ram_used) in bytes of the image `elf` on `board` (see the module doc)."""
    flash = ram = 0
    for s in elf_sections(elf):
        loaded = s.type != SHT_NOBITS
        if board.flash is None or board.ram is None:
            if s.flags & SHF_WRITE:
                ram += s.size
            elif loaded:
                flash += s.size
            continue
        if loaded and board.flash.contains(s.lma):
            flash += s.size
        if board.ram.contains(s.addr):
            ram += s.size
    return flash, ram


# ------------------------------------------------------------------ building

def _run(cmd: list[str], quiet: bool, cwd: Path) -> tuple[int, str]:
    if quiet:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.returncode, p.stdout
    p = subprocess.run(cmd, cwd=cwd, stdout=sys.stderr, stderr=subprocess.STDOUT, text=True)
    return p.returncode, ""


def _check_tools(board: Board) -> None:
    if shutil.which("cmake") is None:
        raise UserError("cmake is not installed: apt-get install cmake (or pip install cmake)")
    compiler, package = TOOLCHAINS[board.core]
    if board.core == "host":
        if not any(shutil.which(c) for c in ("cc", "gcc", "clang")):
            raise UserError(f"no C compiler for the host board: apt-get install {package}")
    elif shutil.which(compiler) is None:
        raise UserError(
            f"the {board.core} toolchain ({compiler}) is not installed; on Debian/Ubuntu: "
            f"apt-get install --no-install-recommends {package}"
        )


def _cache_value(cache: Path, key: str) -> str | None:
    try:
        for line in cache.read_text().splitlines():
            if line.startswith(key + ":") or line.startswith(key + "="):
                return line.split("=", 1)[1]
    except OSError:
        return None
    return None


def _failure(board: Board, what: str, log: str) -> UserError:
    over = _OVERFLOW_RE.findall(log)
    if over:
        parts = []
        for region, n in over:
            size = board.flash_bytes if region.upper() == "FLASH" else board.ram_bytes
            parts.append(f"{region} is over by {int(n)} bytes" + (f" (the board has {size})" if size else ""))
        return UserError(f"the image does not fit board {board.name}: " + "; ".join(parts))
    tail = "\n".join(log.strip().splitlines()[-40:])
    return UserError(f"{what} failed for board {board.name}:\n{tail}" if tail else f"{what} failed for board {board.name}")


def build(board: str | Board, target: str = "firmware", build_dir: str | os.PathLike | None = None,
          jobs: int | None = None, quiet: bool = True, ops=None) -> BuildResult:
    """Configure (once) and build `target` ("firmware", "bench" or "selftest") for `board`.

    `ops`: the operators to link (names of firmware/model/ops/eh_op_<name>.c, e.g. model_ops(M));
    None: the board's "ops" (board.json), or every operator when it has none.

    Raises UserError for an unknown board or target, a missing toolchain, sources that do not
    exist yet, a compile/link failure (with the log's tail), or an image that does not fit
    (saying by how many bytes)."""
    board = _boards.get(board)
    if target not in TARGETS:
        raise UserError(f"unknown build target '{target}' (one of: {', '.join(TARGETS)})")
    root = _boards.repo_root()
    folder, pattern = _TARGET_SOURCES[target]
    if not list((root / folder).glob(pattern)):
        raise UserError(f"cannot build '{target}': {folder}/ has no {pattern} sources yet")
    _check_tools(board)
    bdir = Path(build_dir) if build_dir is not None else root / "build" / "fw" / board.name
    bdir = bdir.resolve()
    bdir.mkdir(parents=True, exist_ok=True)
    cmake_target = TARGETS[target]
    if ops is None:
        ops = board.ops
    selected = check_ops(ops) if ops is not None else None
    want_ops = ";".join(selected) if selected else ""

    # One build at a time per tree (parallel test sessions, another terminal).
    with open(bdir / ".edgehost-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = bdir / "CMakeCache.txt"
        configured = cache.is_file() and ((bdir / "build.ninja").is_file() or (bdir / "Makefile").is_file())
        if configured:
            cached_board = _cache_value(cache, "EH_BOARD")
            cached_tc = _cache_value(cache, "CMAKE_TOOLCHAIN_FILE") or ""
            want_tc = str(board.toolchain) if board.toolchain else ""
            same_tc = (Path(cached_tc).resolve() if cached_tc else "") == (Path(want_tc).resolve() if want_tc else "")
            if build_dir is None and cached_board == board.name and not same_tc:
                # our own build folder of this board, whose board.json now names another
                # toolchain file: configure it afresh
                cache.unlink()
                shutil.rmtree(bdir / "CMakeFiles", ignore_errors=True)
                configured = False
            elif cached_board != board.name or not same_tc:
                raise UserError(
                    f"{bdir} is configured for board {cached_board} ({cached_tc or 'native'}), not "
                    f"{board.name}: remove it or pass another build_dir"
                )
        if not configured:
            cmd = ["cmake", "-S", str(root), "-B", str(bdir), f"-DEH_BOARD={board.name}",
                   "-DCMAKE_BUILD_TYPE=Release", f"-DEH_OPS={want_ops}"]
            if shutil.which("ninja"):
                cmd += ["-G", "Ninja"]
            if board.toolchain:
                cmd.append(f"-DCMAKE_TOOLCHAIN_FILE={board.toolchain}")
            else:
                # The host image is a program to run, not a test: no sanitizers.
                cmd.append("-DEH_SANITIZE=OFF")
            rc, log = _run(cmd, quiet, root)
            if rc != 0:
                raise _failure(board, "configuring", log)
        elif (_cache_value(cache, "EH_OPS") or "") != want_ops:
            # another operator selection than the tree's last build: configure it with this one
            rc, log = _run(["cmake", f"-DEH_OPS={want_ops}", str(bdir)], quiet, root)
            if rc != 0:
                raise _failure(board, "configuring", log)
        cmd = ["cmake", "--build", str(bdir), "--target", cmake_target]
        if jobs:
            cmd += ["--parallel", str(int(jobs))]
        rc, log = _run(cmd, quiet, root)
        if rc != 0 and re.search(r"unknown target|No rule to make target", log):
            # The target's sources appeared after the tree was configured: configure again.
            rc, log = _run(["cmake", str(bdir)], quiet, root)
            if rc != 0:
                raise _failure(board, "configuring", log)
            rc, log = _run(cmd, quiet, root)
        if rc != 0:
            raise _failure(board, "building", log)

    elf = bdir / (cmake_target + ("" if board.is_host else ".elf"))
    if not elf.is_file():
        raise UserError(f"the build succeeded but {elf} is missing")
    map_file = bdir / f"{cmake_target}.map"
    flash_used, ram_used = measure(elf, board)
    if board.flash_bytes is not None and flash_used > board.flash_bytes:
        raise UserError(
            f"the image does not fit board {board.name}: flash is over by "
            f"{flash_used - board.flash_bytes} bytes ({flash_used} of {board.flash_bytes})"
        )
    if board.ram_bytes is not None and ram_used > board.ram_bytes:
        raise UserError(
            f"the image does not fit board {board.name}: RAM is over by "
            f"{ram_used - board.ram_bytes} bytes ({ram_used} of {board.ram_bytes})"
        )
    return BuildResult(
        elf=elf, board=board, target=target, flash_used=flash_used, ram_used=ram_used,
        flash_bytes=board.flash_bytes, ram_bytes=board.ram_bytes,
        map_file=map_file if map_file.is_file() else None,
        ops=selected or tuple(operators(root)), ops_selected=selected is not None,
    )
