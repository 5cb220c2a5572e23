"""Instruction counts of the kernels on the emulated cores.

`run_bench("mps2-an386")` builds the bench image (bench/harness + bench/cases + the kernels)
for the board, runs it under QEMU with the project's counting plugin and returns one
`BenchEntry` per case. See bench/README.md for the method and docs/benchmarks.md for figures.
"""
from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .buildinfo import BuildInfo
from .buildinfo import from_build_dir as _build_info
from .elf import Elf, ElfError
from .plugin import PluginBuildError, build_plugin
from .run import BenchError, ImageRun, run_with_plugin, run_with_trace

__all__ = [
    "BenchEntry", "BenchRun", "BuildInfo", "CrossCheck", "BenchError", "PluginBuildError", "Elf", "ElfError",
    "build_plugin", "entries_from_run", "run_bench",
]

U32 = 1 << 32


@dataclass
class BenchEntry:
    board: str
    core: str
    family: str
    kernel: str
    shape: str
    unit: str
    units: int
    instructions: int
    per_unit: float
    counter_kind: str
    counter: int  # board counter across the case, calibration subtracted (mod 2^32)
    cycles: int | None = None  # only where the board's counter counts cycles
    compiler: str | None = None  # the image's compiler, name and version (buildinfo.py)
    cflags: str | None = None    # the kernels' full compile flags in that image

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("cycles", "compiler", "cflags"):
            if d[k] is None:
                del d[k]
        return d


@dataclass
class CrossCheck:
    kernel: str
    shape: str
    plugin: int  # raw counts (markers included) from the plugin ...
    trace: int   # ... and from the single-step trace
    agree: bool


@dataclass
class BenchRun:
    board: str
    core: str
    elf: Path
    entries: list[BenchEntry]
    argv: list[str]
    calib: int  # the markers' own overhead, in instructions
    cross_check: list[CrossCheck] | None = None
    quick: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    build: BuildInfo | None = None  # compiler and flags of the image


def _with_build(entries: list[BenchEntry], info: BuildInfo | None) -> list[BenchEntry]:
    if info is not None:
        for e in entries:
            e.compiler, e.cflags = info.compiler, info.cflags
    return entries


def entries_from_run(run: ImageRun, board: str, core: str) -> list[BenchEntry]:
    h, c = run.harness, run.counts
    out = []
    for case, insns in zip(h.cases, c.insns):
        counter = (case.counter - (h.calib_counter or 0)) % U32
        out.append(BenchEntry(
            board=board, core=core, family=case.family, kernel=case.kernel, shape=case.shape,
            unit=case.unit, units=case.units, instructions=insns,
            per_unit=insns / case.units if case.units else float("nan"),
            counter_kind=h.counter_kind, counter=counter,
            cycles=counter if h.counter_kind == "cycles" else None,
        ))
    return out


def _resolve_board(name: str):
    from edgehost import boards  # written alongside; imported late so the package imports alone

    return boards.get(name)


def _build(board, build_dir=None):
    from edgehost import build as eh_build

    return eh_build.build(board, target="bench", build_dir=build_dir)


def _emulator(board):
    def argv(elf: Path) -> list[str]:
        return [str(a) for a in board.emulator_argv(str(elf), 0)]

    return argv


def cross_check(board, elf: Path, plugin: Path, workdir: Path) -> list[CrossCheck]:
    """Counts of the quick case set by the plugin and by the single-step trace, side by side."""
    emu = _emulator(board)
    prun = run_with_plugin(emu, elf, plugin, workdir / "xplugin", quick=True)
    traced = run_with_trace(emu, elf, workdir / "xtrace", quick=True)
    names = [("(calibration)", "")] + [(c.kernel, c.shape) for c in prun.harness.cases]
    plugin_raw = [prun.counts.calib_raw] + prun.counts.raw
    if len(traced) != len(plugin_raw):
        raise BenchError(f"the trace saw {len(traced)} begin/end pairs, the plugin {len(plugin_raw)}")
    return [CrossCheck(k, s, int(p), t, int(p) == t)
            for (k, s), p, t in zip(names, plugin_raw, traced)]


def run_bench(board_name: str, quick: bool = False, check: bool = False,
              workdir: str | Path | None = None, build_dir: str | Path | None = None) -> BenchRun:
    """Build, run and count the bench image of one board (build_dir: default build/fw/<board>)."""
    board = _resolve_board(board_name)
    built = _build(board, build_dir)
    elf = Path(built.elf)
    info = _build_info(Path(getattr(built, "build_dir", None) or elf.parent))
    from ..fpga import sim as fpga_sim
    if fpga_sim.is_rtl_sim(board):  # Verilator boards: the model counts; cycles from rdcycle
        from ..fpga.bench import run_image
        if check:
            raise BenchError(f"--cross-check uses QEMU's trace; board {board.name} is an RTL simulation")
        with tempfile.TemporaryDirectory(prefix="eh-bench-") as tmp:
            wd = Path(workdir) if workdir is not None else Path(tmp)
            run = run_image(board, elf, wd / "run", quick=quick)
        return BenchRun(board=board.name, core=board.core, elf=elf,
                        entries=_with_build(entries_from_run(run, board.name, board.core), info),
                        argv=run.argv, calib=int(run.counts.calib_raw or 0), quick=quick, build=info)
    build_dir = Path(getattr(built, "build_dir", None) or elf.parent)
    plugin = build_plugin(build_dir)
    name = getattr(board, "name", board_name)
    core = getattr(board, "core", "")
    with tempfile.TemporaryDirectory(prefix="eh-bench-") as tmp:
        wd = Path(workdir) if workdir is not None else Path(tmp)
        run = run_with_plugin(_emulator(board), elf, plugin, wd / "run", quick=quick)
        entries = _with_build(entries_from_run(run, name, core), info)
        xc = cross_check(board, elf, plugin, wd) if check else None
    return BenchRun(board=name, core=core, elf=elf, entries=entries, argv=run.argv,
                    calib=int(run.counts.calib_raw or 0), cross_check=xc, quick=quick, build=info)
