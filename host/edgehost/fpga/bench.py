"""`edgehost bench` on the RTL-simulated boards (rv32-sim, rv32-sim-base).

The bench image runs in the Verilator model with its UART written to a file; the model itself
counts the instructions started between the harness's markers (eh_bench_begin / eh_bench_end)
and prints them in the format of the project's QEMU counting plugin, so the same parsers
(edgehost.bench.run) pair them with the harness's lines. The harness's own counter is rdcycle:
its deltas are exact clock cycles of the simulated design (entries get `cycles`).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from ..bench.elf import Elf
from ..bench.run import BenchError, ImageRun, marker_addresses, prepare_image, read_counts
from . import sim


def model_args(board) -> list[str]:
    """The model's options taken from the board's emulator argv (e.g. --no-cfu), without the
    launcher, the image and the port."""
    argv = list(board.emulator)
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--elf", "--port", "-m"):
            i += 2
            continue
        if a.startswith("--"):
            out.append(a)
        i += 1
    return out


def run_image(board, elf_path: Path, workdir: Path, quick: bool = False,
              timeout: float = 3600.0, max_cycles: int = 20_000_000_000) -> ImageRun:
    workdir.mkdir(parents=True, exist_ok=True)
    image = prepare_image(Path(elf_path), workdir, quick)
    begin, end = marker_addresses(Elf.read(image))
    exe = sim.ensure_model()
    uart = workdir / "uart.txt"
    log = workdir / "count.log"
    for p in (uart, log):
        p.unlink(missing_ok=True)
    argv = [str(exe), "--elf", str(image), "--uart-file", str(uart), "--count", f"0x{begin:x},0x{end:x}",
            "--max-cycles", str(max_cycles), *model_args(board)]
    with open(log, "w") as lf:
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                               timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"the RTL simulation did not finish within {timeout:.0f} s: {' '.join(argv)}") from e
    text = log.read_text(errors="replace")
    if r.returncode != 0:
        raise BenchError(f"the RTL simulation exited with code {r.returncode}: {' '.join(argv)}\n{text[-1500:]}")
    harness, counts = read_counts(uart.read_text(errors="replace") if uart.exists() else "", text, quick,
                                  "the simulation's marker counter",
                                  f"the simulation printed no instruction counts (log {log})")
    shown = [a.replace(str(image), "{elf}").replace(str(uart), "{uart}").replace(str(exe), sim.EXE_NAME)
             for a in argv]
    return ImageRun(harness, counts, shown)
