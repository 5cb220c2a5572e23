"""Does a model blob fit a built firmware image? The runtime holds the blob and the arena in two
static buffers (firmware/runtime/eh_runtime.c: rt_blob, rt_arena) whose sizes the ELF records."""
from __future__ import annotations

from pathlib import Path

from .cli import UserError

BUFFERS = {"rt_blob": "blob buffer (weights, plan)", "rt_arena": "arena (activations, state)"}


def buffer_sizes(elf: Path) -> dict[str, int]:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection
    sizes: dict[str, int] = {}
    with open(elf, "rb") as f:
        for sec in ELFFile(f).iter_sections():
            if isinstance(sec, SymbolTableSection):
                for sym in sec.iter_symbols():
                    if sym.name in BUFFERS:
                        sizes[sym.name] = int(sym["st_size"])
    missing = [n for n in BUFFERS if n not in sizes]
    if missing:
        raise UserError(f"{elf} has no {' / '.join(missing)} symbol: not an edgehost runtime image")
    return sizes


def check(model_path: str | Path, build_result) -> dict:
    """Requirements of the model against the image; raises UserError naming what is over."""
    from .blob import BlobError, read
    path = Path(model_path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read model {path}: {e.strerror}") from e
    try:
        m = read(data)
    except BlobError as e:
        raise UserError(f"{path} is not a valid model: {e}") from e
    have = buffer_sizes(Path(build_result.elf))
    need = {"rt_blob": len(data), "rt_arena": int(m.arena_size)}
    over = [f"{BUFFERS[k]} needs {need[k]:,} bytes, the firmware has {have[k]:,} (over by {need[k] - have[k]:,})"
            for k in BUFFERS if need[k] > have[k]]
    board = build_result.board
    if over:
        free = None if build_result.ram_bytes is None else build_result.ram_bytes - build_result.ram_used
        hint = (f"; board {board.name} has {free:,} bytes of RAM left beyond the firmware"
                if free is not None else "")
        raise UserError(f"model {path.name} does not fit the firmware for board {board.name}: "
                        + "; ".join(over) + hint
                        + " (the buffers are set per core in firmware/runtime/eh_fw_config.h, or per board)")
    return {"model": str(path), "blob_bytes": len(data), "arena_bytes": int(m.arena_size),
            "blob_capacity": have["rt_blob"], "arena_capacity": have["rt_arena"], "fits": True}
