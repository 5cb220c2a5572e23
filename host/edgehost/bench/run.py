"""Runs the bench image under QEMU and turns its output into measurements.

Two independent ways to count the instructions of each case:
  * the project's TCG plugin (bench/qemu_plugin/eh_count.c): an exact per-instruction counter
    read when eh_bench_begin / eh_bench_end are entered (the normal method);
  * the single-step execution trace (`-singlestep -d exec,nochain`): one log line per
    executed instruction, counted between the markers' PCs (`--cross-check`).

The UART goes to a file (`-serial file:...`): the harness only writes. Which cases run (all, or
the smallest per kernel) is chosen by patching the word `eh_bench_mode` in a copy of the ELF.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .elf import Elf, ElfError

MODE_ALL = 0x30424845    # "EHB0", as in bench/harness/eh_bench_main.c
MODE_QUICK = 0x31424845  # "EHB1"
BEGIN, END = "eh_bench_begin", "eh_bench_end"


class BenchError(RuntimeError):
    """A bench run failed: QEMU missing or failing, malformed output, counts that disagree."""


@dataclass
class CaseLine:
    index: int
    family: str
    kernel: str
    shape: str
    unit: str
    units: int
    counter: int  # board counter delta across the markers, calibration not yet subtracted


@dataclass
class CheckLine:
    name: str
    compared: int
    mismatches: int


@dataclass
class HarnessOutput:
    board: str = ""
    core: str = ""
    counter_kind: str = ""
    clock_hz: int = 0
    mode: str = ""
    calib_counter: int | None = None
    cases: list[CaseLine] = field(default_factory=list)
    done: int | None = None
    checks: list[CheckLine] = field(default_factory=list)  # on-target self-checks


@dataclass
class PluginCounts:
    calib_raw: int | None = None
    raw: list[int] = field(default_factory=list)     # per case, markers included
    insns: list[int] = field(default_factory=list)   # per case, calibration subtracted
    errors: list[str] = field(default_factory=list)
    total: int | None = None


@dataclass
class ImageRun:
    harness: HarnessOutput
    counts: PluginCounts
    argv: list[str]  # the QEMU command, with {elf} {uart} {log} {plugin} for the paths


def marker_addresses(elf: Elf) -> tuple[int, int]:
    """Addresses of the first instruction of the two markers (Thumb bit cleared)."""
    try:
        return elf.symbol(BEGIN).value & ~1, elf.symbol(END).value & ~1
    except ElfError as e:
        raise BenchError(str(e)) from e


def prepare_image(elf_path: Path, workdir: Path, quick: bool) -> Path:
    """The ELF to load: the built one, or a copy with eh_bench_mode switched to quick."""
    elf = Elf.read(elf_path)
    try:
        current = elf.read_word("eh_bench_mode")
    except ElfError as e:
        raise BenchError(f"{e} (not a bench image?)") from e
    if current != MODE_ALL:
        raise BenchError(f"{elf_path}: eh_bench_mode is 0x{current:08x}, expected 0x{MODE_ALL:08x}")
    if not quick:
        return Path(elf_path)
    out = workdir / (Path(elf_path).stem + "-quick.elf")
    out.write_bytes(elf.patched_word("eh_bench_mode", MODE_ALL, MODE_QUICK))
    return out


def serial_to_file(argv: Sequence[str], uart_path: Path) -> list[str]:
    """The board's emulator command with its serial socket replaced by a plain file."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-serial", "-chardev") and i + 1 < len(argv):
            if a == "-chardev" and not argv[i + 1].startswith("socket"):
                out += [a, argv[i + 1]]
            i += 2
            continue
        out.append(a)
        i += 1
    return out + ["-serial", f"file:{uart_path}"]


def qemu_exe(argv: Sequence[str]) -> str:
    exe = shutil.which(argv[0])
    if exe is None:
        pkg = "qemu-system-misc" if "riscv" in argv[0] else "qemu-system-arm"
        raise BenchError(f"{argv[0]} not found: install QEMU (Debian: apt-get install {pkg})")
    return exe


def _run_qemu(argv: list[str], timeout: float) -> None:
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"QEMU did not finish within {timeout:.0f} s: {' '.join(argv)}") from e
    if proc.returncode != 0:
        raise BenchError(f"QEMU exited with code {proc.returncode}: {' '.join(argv)}\n"
                         f"{proc.stderr.strip()}")


def parse_harness(text: str) -> HarnessOutput:
    h = HarnessOutput()
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip("\r")
        if not line.startswith("EHB|"):
            continue
        f = line.split("|")
        try:
            if f[1] == "hello" and len(f) == 6:
                h.board, h.core, h.counter_kind, h.clock_hz = f[2], f[3], f[4], int(f[5])
            elif f[1] == "mode" and len(f) == 3:
                h.mode = f[2]
            elif f[1] == "calib" and len(f) == 3:
                h.calib_counter = int(f[2])
            elif f[1] == "case" and len(f) == 9:
                h.cases.append(CaseLine(int(f[2]), f[3], f[4], f[5], f[6], int(f[7]), int(f[8])))
            elif f[1] == "check" and len(f) == 5:
                h.checks.append(CheckLine(f[2], int(f[3]), int(f[4])))
            elif f[1] == "done" and len(f) == 3:
                h.done = int(f[2])
            else:
                raise ValueError("unknown record")
        except ValueError as e:
            raise BenchError(f"malformed harness line {lineno}: {line!r} ({e})") from e
    if h.done is None:
        raise BenchError("the bench image did not finish (no 'EHB|done' line):\n" + text[-2000:])
    if h.calib_counter is None:
        raise BenchError("no calibration line from the bench image")
    if [c.index for c in h.cases] != list(range(len(h.cases))) or h.done != len(h.cases):
        raise BenchError("the bench image's case lines are out of order or incomplete")
    return h


def read_counts(uart_text: str, counter_text: str, quick: bool, counter: str, no_counts: str):
    """The harness's report (UART) and the marker counter's counts (QEMU plugin log or RTL
    testbench output) of one bench image run, checked against each other: (harness, counts).
    `counter` names the counter in errors; `no_counts` is the error when it printed none."""
    harness = parse_harness(uart_text)
    counts = parse_plugin(counter_text)
    if counts.errors:
        raise BenchError(f"{counter} reported: " + "; ".join(counts.errors))
    if counts.calib_raw is None or counts.total is None:
        raise BenchError(no_counts)
    if len(counts.raw) != len(harness.cases):
        raise BenchError(f"{len(harness.cases)} cases ran but {counter} counted "
                         f"{len(counts.raw)} begin/end pairs")
    raise_on_failed_checks(harness)
    if harness.mode != ("quick" if quick else "all"):
        raise BenchError(f"the image ran in mode {harness.mode!r}; the mode patch did not apply")
    return harness, counts


def raise_on_failed_checks(h: HarnessOutput) -> None:
    """A bench run fails loudly when an on-target self-check (EHB|check) found a mismatch."""
    failed = [c for c in h.checks if c.mismatches != 0]
    if failed:
        raise BenchError("on-target self-check failed: " + "; ".join(
            f"{c.name}: {c.mismatches} of {c.compared} differ" for c in failed))


_PLUGIN_RE = re.compile(
    r"^eh_count: (?:calib raw=(?P<calib>\d+)|case=(?P<case>\d+) raw=(?P<raw>\d+) insns=(?P<insns>-?\d+)"
    r"|exit total=(?P<total>\d+) pairs=\d+|error (?P<error>.*)|target=.*)$"
)


def parse_plugin(text: str) -> PluginCounts:
    c = PluginCounts()
    for line in text.splitlines():
        if not line.startswith("eh_count:"):
            continue
        m = _PLUGIN_RE.match(line)
        if m is None:
            raise BenchError(f"malformed plugin line: {line!r}")
        if m["calib"] is not None:
            c.calib_raw = int(m["calib"])
        elif m["case"] is not None:
            if int(m["case"]) != len(c.raw):
                raise BenchError(f"plugin case lines out of order at {line!r}")
            c.raw.append(int(m["raw"]))
            c.insns.append(int(m["insns"]))
        elif m["total"] is not None:
            c.total = int(m["total"])
        elif m["error"] is not None:
            c.errors.append(m["error"])
    return c


def run_with_plugin(emulator_argv: Callable[[Path], list[str]], elf_path: Path, plugin: Path,
                    workdir: Path, quick: bool = False, timeout: float = 600.0) -> ImageRun:
    """Run the bench image once with the counting plugin; return the paired raw outputs."""
    workdir.mkdir(parents=True, exist_ok=True)
    image = prepare_image(Path(elf_path), workdir, quick)
    begin, end = marker_addresses(Elf.read(image))
    uart = workdir / "uart.txt"
    log = workdir / "plugin.log"
    for p in (uart, log):
        p.unlink(missing_ok=True)
    base = emulator_argv(image)
    qemu_exe(base)
    argv = serial_to_file(base, uart) + [
        "-plugin", f"{plugin},begin=0x{begin:x},end=0x{end:x}", "-d", "plugin", "-D", str(log)]
    _run_qemu(argv, timeout)
    harness, counts = read_counts(uart.read_text(errors="replace") if uart.exists() else "",
                                  log.read_text(errors="replace") if log.exists() else "", quick,
                                  "the counting plugin", f"the counting plugin wrote no counts to {log} (did it load?)")
    shown = [a.replace(str(image), "{elf}").replace(str(uart), "{uart}").replace(str(log), "{log}")
             .replace(str(plugin), "{plugin}") for a in argv]
    return ImageRun(harness, counts, shown)


_TRACE_RE = re.compile(rb"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")


def count_trace(lines, begin: int, end: int, out: list[int] | None = None):
    """Instruction counts between the markers from a single-step `-d exec,nochain` log.

    Every executed instruction is one `Trace` line (one instruction per block under
    -singlestep). A block that was entered but left before its first instruction (an exit
    request, the icount budget) is logged as `Trace` and then `Stopped execution of TB chain
    before`; that line cancels the one before it. Appends to `out` (and yields), per begin/end
    pair, the count from the first instruction of eh_bench_begin (included) to that of
    eh_bench_end (excluded): the same definition as the plugin's raw count.
    """
    counts = out if out is not None else []
    n = 0
    inside = False
    for line in lines:
        m = _TRACE_RE.match(line)
        if m is None:
            if inside and line.startswith(b"Stopped execution of TB chain before"):
                n -= 1
            continue
        pc = int(m.group(1), 16)
        if pc == begin and not inside:
            inside, n = True, 0
        elif pc == end and inside:
            counts.append(n)
            inside = False
            yield n
        if inside:
            n += 1


def trace_counts(lines, begin: int, end: int) -> list[int]:
    """All the pair counts of a trace (see count_trace)."""
    out: list[int] = []
    for _ in count_trace(lines, begin, end, out):
        pass
    return out


def run_with_trace(emulator_argv: Callable[[Path], list[str]], elf_path: Path, workdir: Path,
                   quick: bool = True, timeout: float = 1800.0,
                   max_pairs: int | None = None) -> list[int]:
    """Run the image single-stepped with the execution trace; return the raw count of every
    begin/end pair (the calibration pair first). The trace is streamed through a FIFO and
    counted on the fly, never stored. With `max_pairs`, QEMU is stopped once that many pairs
    have been counted (the first cases only)."""
    workdir.mkdir(parents=True, exist_ok=True)
    image = prepare_image(Path(elf_path), workdir, quick)
    begin, end = marker_addresses(Elf.read(image))
    uart = workdir / "uart-trace.txt"
    fifo = workdir / "trace.fifo"
    uart.unlink(missing_ok=True)
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    base = emulator_argv(image)
    qemu_exe(base)
    argv = serial_to_file(base, uart) + ["-singlestep", "-d", "exec,nochain", "-D", str(fifo)]
    result: dict[str, object] = {}
    enough = threading.Event()

    def pairs(f):
        counts: list[int] = []
        for c in count_trace(f, begin, end, counts):
            if max_pairs is not None and len(counts) >= max_pairs:
                enough.set()
                break
        return counts

    def reader() -> None:
        try:
            with open(fifo, "rb", buffering=1 << 20) as f:
                result["counts"] = pairs(f)
                # keep draining so QEMU never blocks on a full pipe before it is stopped
                for _ in f:
                    pass
        except Exception as e:  # reported by the caller
            result["error"] = e
        finally:
            enough.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    stopped = False
    try:
        deadline = time.monotonic() + timeout
        while not enough.wait(0.05) and proc.poll() is None:
            if time.monotonic() > deadline:
                raise BenchError(f"QEMU did not finish within {timeout:.0f} s: {' '.join(argv)}")
        if max_pairs is not None and proc.poll() is None and "counts" in result:
            proc.kill()
            stopped = True
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"QEMU did not finish within {timeout:.0f} s: {' '.join(argv)}") from e
        if not stopped and proc.returncode != 0:
            raise BenchError(f"QEMU exited with code {proc.returncode}: {' '.join(argv)}\n{err.strip()}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if t.is_alive():
            # QEMU is gone; if it never opened the log, unblock the reader's open().
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        t.join(timeout=60)
        fifo.unlink(missing_ok=True)
    if "error" in result:
        raise BenchError(f"reading the execution trace failed: {result['error']}")
    counts = result.get("counts")
    if not isinstance(counts, list):
        raise BenchError("no execution trace was read")
    if not stopped:
        parse_harness(uart.read_text(errors="replace") if uart.exists() else "")
    return counts
