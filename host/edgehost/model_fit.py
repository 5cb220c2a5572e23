"""Does a model fit a board's firmware? One answer for `edgehost inspect` and `build --model`.

The runtime holds the blob and the arena in two static buffers (firmware/runtime/eh_runtime.c:
rt_blob, rt_arena) and receives frames of at most EH_FW_MAX_PAYLOAD payload bytes (rt_rx holds
one frame: payload + 12). A model fits when its blob fits rt_blob, its arena rt_arena, one
step's input a STEP request and one step's output (+ 4 bytes of counter) a STEP answer: what
the firmware's LOAD_BEGIN / LOAD_COMMIT / STEP would otherwise refuse.

The sizes come from the board's built firmware image when there is one (the symbols' sizes in
the ELF: what the firmware really has), else from firmware/runtime/eh_fw_config.h as the board's
build would compile it (the C preprocessor with the core's defines and the -DEH_FW_* flags of
its toolchain file), else from the defaults below.
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .cli import UserError

BUFFERS = {"rt_blob": "blob buffer (weights, plan)", "rt_arena": "arena (activations, state)"}
FRAME_OVERHEAD = 12  # header + CRC (docs/protocol.md)

#: eh_fw_config.h's defaults per core (used without a C preprocessor): payload, blob, arena
_DEFAULTS = {
    "cortex-m0": (256, 4 * 1024, 4 * 1024),
    "cortex-m4f": (1024, 48 * 1024, 32 * 1024),
}
_DEFAULT_OTHER = (1024, 256 * 1024, 128 * 1024)
#: the defines that select eh_fw_config.h's branch per core (as the cross compilers set them)
_CORE_DEFINES = {"cortex-m0": ["-D__arm__", "-D__ARM_ARCH_6M__"], "cortex-m4f": ["-D__arm__"]}


@dataclass(frozen=True)
class Capacity:
    """What a firmware gives a model (bytes)."""
    blob: int
    arena: int
    max_payload: int
    source: str        # where the numbers come from (an ELF, eh_fw_config.h, defaults)

    def to_dict(self) -> dict:
        return {"blob_capacity": self.blob, "arena_capacity": self.arena,
                "max_payload": self.max_payload, "capacity_source": self.source}


@dataclass(frozen=True)
class Need:
    """What a model needs (bytes)."""
    blob: int
    arena: int
    input: int = 0     # one step's input
    output: int = 0    # one step's output
    arena_detail: str = ""   # where the arena goes (the layer with the most live activations, the state)

    @classmethod
    def of(cls, blob: bytes, model) -> "Need":
        return cls(len(blob), int(model.arena_size), int(model.input_tensor.nbytes),
                   int(model.output_tensor.nbytes), arena_detail(model))


def arena_detail(model) -> str:
    """Which layer's activations take the most arena bytes at once (its live tensors, largest
    first, with their shapes), and the bytes of state: what to shrink when the arena is over."""
    from .blob.model import lifetimes
    life = lifetimes(model)
    T, L = model.tensors, model.layers
    if not L:
        return ""
    state = sum(t.nbytes for t in T if t.kind == "state")
    best, live_best = -1, []
    for i in range(len(L)):
        live = [k for k, t in enumerate(T) if t.kind == "activation" and life[k][0] <= i <= life[k][1]]
        if best < 0 or sum(T[k].nbytes for k in live) > sum(T[k].nbytes for k in live_best):
            best, live_best = i, live
    who = {}
    for j, l in enumerate(L):
        who.setdefault(l.output, f"output of layer {j} ({l.type})")
        for s in l.states:
            who.setdefault(s, f"scratch of layer {j} ({l.type})")
    who.setdefault(model.input, "model input")
    parts = sorted(live_best, key=lambda k: -T[k].nbytes)[:3]
    desc = ", ".join(f"{who.get(k, f'tensor {k}')} {T[k].dtype}[{' x '.join(map(str, T[k].shape))}] "
                     f"{T[k].nbytes:,} B" for k in parts)
    act = sum(T[k].nbytes for k in live_best)
    return (f"largest at layer {best} ({L[best].type}): {act:,} bytes of activations live ({desc}); "
            f"state {state:,} bytes")


def fit(need: Need, cap: Capacity) -> dict:
    """THE answer: {"fits": bool, "over": [reasons], sizes...}."""
    over = []
    if need.blob > cap.blob:
        over.append(f"{BUFFERS['rt_blob']} needs {need.blob:,} bytes, the firmware has {cap.blob:,} "
                    f"(over by {need.blob - cap.blob:,})")
    if need.arena > cap.arena:
        over.append(f"{BUFFERS['rt_arena']} needs {need.arena:,} bytes, the firmware has {cap.arena:,} "
                    f"(over by {need.arena - cap.arena:,})"
                    + (f" [{need.arena_detail}]" if need.arena_detail else ""))
    if need.input > cap.max_payload:
        over.append(f"one step's input is {need.input:,} bytes, a request carries at most "
                    f"{cap.max_payload:,}")
    if need.output + 4 > cap.max_payload:
        over.append(f"one step's output is {need.output:,} bytes, an answer carries at most "
                    f"{cap.max_payload - 4:,} besides the counter")
    return {"fits": not over, "over": over, "blob_bytes": need.blob, "arena_bytes": need.arena,
            "input_bytes": need.input, "output_bytes": need.output, **cap.to_dict()}


# ---- capacities --------------------------------------------------------------------------------

def buffer_sizes(elf: Path) -> dict[str, int]:
    """{'rt_blob', 'rt_arena', 'rt_rx'?} symbol sizes of a runtime image."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection
    sizes: dict[str, int] = {}
    try:
        with open(elf, "rb") as f:
            for sec in ELFFile(f).iter_sections():
                if isinstance(sec, SymbolTableSection):
                    for sym in sec.iter_symbols():
                        if sym.name in BUFFERS or sym.name == "rt_rx":
                            sizes[sym.name] = int(sym["st_size"])
    except (OSError, ELFError) as e:
        raise UserError(f"cannot read firmware image {elf}: {e}") from None
    missing = [n for n in BUFFERS if n not in sizes]
    if missing:
        raise UserError(f"{elf} has no {' / '.join(missing)} symbol: not an edgehost runtime image")
    return sizes


def capacity_of_elf(elf: Path, fallback_payload: int | None = None) -> Capacity:
    s = buffer_sizes(Path(elf))
    payload = s["rt_rx"] - FRAME_OVERHEAD if s.get("rt_rx") else (fallback_payload or _DEFAULT_OTHER[0])
    return Capacity(s["rt_blob"], s["rt_arena"], payload, f"firmware image {elf}")


def _toolchain_defines(board) -> list[str]:
    tc = getattr(board, "toolchain", None)
    if not tc:
        return []
    try:
        text = Path(tc).read_text()
    except OSError:
        return []
    return re.findall(r"-D(EH_FW_\w+=\w+)", text)


@functools.lru_cache(maxsize=None)
def _config(core: str, defines: tuple[str, ...]) -> tuple[int, int, int, str]:
    from .boards import repo_root
    cfg = repo_root() / "firmware" / "runtime" / "eh_fw_config.h"
    d = _DEFAULTS.get(core, _DEFAULT_OTHER)
    vals = {"EH_FW_MAX_PAYLOAD": d[0], "EH_FW_BLOB_SIZE": d[1], "EH_FW_ARENA_SIZE": d[2]}
    source = f"eh_fw_config.h defaults for {core}"
    for kv in defines:
        k, v = kv.split("=", 1)
        try:
            vals[k] = int(v.rstrip("uUlL"), 0)
        except ValueError:
            pass
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc and cfg.is_file():
        argv = [cc, "-E", "-dM", "-undef", *_CORE_DEFINES.get(core, []), *(f"-D{kv}" for kv in defines),
                "-x", "c", str(cfg)]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        macros = dict(re.findall(r"^#define (\w+) (.*)$", out, re.M))
        got = {}
        for k in vals:
            expr = macros.get(k)
            seen = 0
            while expr is not None and expr in macros and seen < 8:   # EH_FW_X -> EH_FW_DEFAULT_X
                expr, seen = macros[expr], seen + 1
            if expr is None:
                continue
            expr = re.sub(r"(\d+)[uUlL]+", r"\1", expr)
            if re.fullmatch(r"[\d\s()*+<-]+", expr):
                try:
                    got[k] = int(eval(expr, {"__builtins__": {}}))  # noqa: S307 - digits and operators only
                except (SyntaxError, ValueError, ArithmeticError):
                    pass
        if len(got) == len(vals):
            vals, source = got, f"firmware/runtime/eh_fw_config.h for {core}" + (
                f" with {' '.join('-D' + kv for kv in defines)}" if defines else "")
    return vals["EH_FW_MAX_PAYLOAD"], vals["EH_FW_BLOB_SIZE"], vals["EH_FW_ARENA_SIZE"], source


def firmware_elf(board) -> Path | None:
    """The board's built runtime image in the default build tree, if any."""
    from .boards import repo_root
    elf = repo_root() / "build" / "fw" / board.name / ("edgehost-fw" + ("" if board.is_host else ".elf"))
    return elf if elf.is_file() else None


def capacity_of_board(board, *, use_elf: bool = True) -> Capacity:
    """The board's firmware capacities: its built image when there is one, else as its build
    would compile eh_fw_config.h."""
    payload, blob, arena, source = _config(board.core, tuple(_toolchain_defines(board)))
    if use_elf:
        elf = firmware_elf(board)
        if elf is not None:
            try:
                return capacity_of_elf(elf, payload)
            except UserError:
                pass   # not a runtime image (a half-made build): fall back to the configuration
    return Capacity(blob, arena, payload, source)


# ---- the two users -----------------------------------------------------------------------------

def boards(need: Need, all_boards=None) -> list[dict]:
    """`inspect`: fit() for every board."""
    if all_boards is None:
        from . import boards as _b
        all_boards = _b.load_all()
    return [{"board": b.name, "core": b.core, **fit(need, capacity_of_board(b))} for b in all_boards]


def check(model_path: str | Path, build_result) -> dict:
    """`build --model`: fit() against the image just built; raises UserError naming what is over."""
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
    board = build_result.board
    cap = capacity_of_elf(Path(build_result.elf))
    r = fit(Need.of(data, m), cap)
    if not r["fits"]:
        free = None if build_result.ram_bytes is None else build_result.ram_bytes - build_result.ram_used
        hint = (f"; board {board.name} has {free:,} bytes of RAM left beyond the firmware"
                if free is not None else "")
        raise UserError(f"model {path.name} does not fit the firmware for board {board.name}: "
                        + "; ".join(r["over"]) + hint
                        + " (the buffers are set per core in firmware/runtime/eh_fw_config.h, or per board)")
    return {"model": str(path), **r}
