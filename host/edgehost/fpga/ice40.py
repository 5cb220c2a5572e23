"""The edgehost SoC on iCE40 UP5K boards (iCEBreaker): bitstream build with yosys, nextpnr-ice40
and icepack, the utilisation / timing report, and loading (iceprog or openFPGALoader for the
bitstream, then the firmware over the UART to the SoC's boot ROM, fpga/boot/boot.S).

The bitstream does not contain the firmware: the SoC's RAM is the UP5K's SPRAM, which a
bitstream cannot initialise. The boot ROM (BRAM, initialised by the bitstream) prints
``EHBOOT``, receives ``'L' <length u32> <bytes> <sum u32>`` and jumps to the image at
0x8000_0000. So one bitstream serves every firmware image (docs/fpga.md).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..cli import UserError
from . import sim

#: board name -> (top module, pcf, nextpnr device options, clock MHz)
DESIGNS = {
    "icebreaker": ("eh_icebreaker_top", "fpga/ice40/icebreaker.pcf", ["--up5k", "--package", "sg48"], 12.0),
}
TOOLS = {"yosys": "yosys", "nextpnr-ice40": "nextpnr-ice40", "icepack": "fpga-icestorm"}


class FpgaBuildError(UserError):
    """A tool is missing or synthesis / place-and-route failed."""


@dataclass
class Bitstream:
    board: str
    path: Path
    report: dict  # utilisation and timing (see utilisation())

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


def is_fpga_board(board) -> bool:
    return getattr(board, "name", board) in DESIGNS


def _need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise FpgaBuildError(f"{tool} is not installed (Debian: apt-get install {TOOLS.get(tool, tool)}; "
                             "scripts/setup.sh installs the FPGA tools)")
    return exe


def boot_hex(out: Path, words: int = 256) -> Path:
    """Assemble fpga/boot/boot.S into a $readmemh file of `words` 32-bit words."""
    root = sim.repo_root()
    gcc = shutil.which("riscv64-unknown-elf-gcc")
    if gcc is None:
        raise FpgaBuildError("riscv64-unknown-elf-gcc is not installed (apt-get install gcc-riscv64-unknown-elf)")
    elf, binf = out.with_suffix(".elf"), out.with_suffix(".bin")
    subprocess.run([gcc, "-misa-spec=2.2", "-march=rv32i", "-mabi=ilp32", "-nostdlib", "-nostartfiles",
                    "-Wl,-Ttext=0", "-Wl,--no-relax", "-o", str(elf), str(root / "fpga" / "boot" / "boot.S")],
                   check=True, capture_output=True)
    subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "binary", str(elf), str(binf)], check=True,
                   capture_output=True)
    data = binf.read_bytes()
    if len(data) > 4 * words:
        raise FpgaBuildError(f"the boot ROM is {len(data)} bytes, more than {4 * words}")
    data += b"\0" * (4 * words - len(data))
    out.write_text("".join(f"{w:08x}\n" for w in struct.unpack(f"<{words}I", data)))
    return out


def sources(board: str) -> list[Path]:
    root = sim.repo_root()
    top, pcf, _, _ = DESIGNS[board]
    return [*sim.rtl_sources(), root / "fpga" / "ice40" / f"{top}.v", root / pcf, root / "fpga" / "boot" / "boot.S"]


def _key(board: str) -> str:
    h = hashlib.sha256()
    for p in sources(board):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    for tool in ("yosys", "nextpnr-ice40"):
        h.update(subprocess.run([_need(tool), "-V" if tool == "yosys" else "--version"],
                                capture_output=True, text=True).stdout.encode())
    return h.hexdigest()[:16]


_UTIL = {"ICESTORM_LC": "luts_lcs", "SB_LUT4": "luts", "SB_DFF": "ffs", "ICESTORM_RAM": "bram",
         "ICESTORM_SPRAM": "spram", "ICESTORM_DSP": "dsp", "SB_IO": "io"}


def utilisation(report_json: Path, yosys_log: Path) -> dict:
    """LUTs, flip-flops, BRAM, SPRAM, DSPs and fmax from nextpnr's --report and yosys' stat."""
    rep = json.loads(report_json.read_text())
    out: dict = {}
    for cell, d in rep.get("utilization", {}).items():
        out[cell] = {"used": d.get("used"), "available": d.get("available")}
    fmax = rep.get("fmax", {})
    out["fmax_mhz"] = {k: round(v.get("achieved", 0.0), 2) for k, v in fmax.items()}
    out["constraint_mhz"] = {k: round(v.get("constraint", 0.0), 2) for k, v in fmax.items()}
    text = yosys_log.read_text(errors="replace")
    cells = {}
    stat = text[text.rfind("Printing statistics"):] if "Printing statistics" in text else ""
    for name in ("SB_LUT4", "SB_CARRY", "SB_RAM40_4K", "SB_SPRAM256KA", "SB_MAC16"):
        m = re.search(rf"^\s+{name}\s+(\d+)\s*$", stat, re.M)
        if m:
            cells[name] = int(m.group(1))
    ffs = sum(int(n) for n in re.findall(r"^\s+SB_DFF\w*\s+(\d+)\s*$", stat, re.M))
    cells["SB_DFF*"] = ffs
    out["yosys_cells"] = cells
    return out


def build_bitstream(board: str = "icebreaker", quiet: bool = True) -> Bitstream:
    """Synthesise, place and route the SoC for `board` (cached by its sources and tool versions)."""
    if board not in DESIGNS:
        raise FpgaBuildError(f"no FPGA design for board {board} (known: {', '.join(DESIGNS)})")
    for t in TOOLS:
        _need(t)
    top, pcf, dev, mhz = DESIGNS[board]
    root = sim.repo_root()
    work = sim.cache_dir() / f"{board}-{_key(board)}"
    binf = work / f"{board}.bin"
    rep_path = work / "report.json"
    if binf.is_file() and rep_path.is_file() and (work / "utilisation.json").is_file():
        return Bitstream(board, binf, json.loads((work / "utilisation.json").read_text()))
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binf.is_file() and (work / "utilisation.json").is_file():
            return Bitstream(board, binf, json.loads((work / "utilisation.json").read_text()))
        hexf = boot_hex(work / "boot.hex")
        vfiles = [str(p) for p in sources(board) if p.suffix == ".v"]
        ys = (f"read_verilog -DSYNTHESIS {' '.join(vfiles)}\n"
              f"chparam -set BOOTROM_HEX \"{hexf}\" {top}\n"
              f"synth_ice40 -dsp -top {top} -json {work / 'soc.json'}\n"
              "stat\n")
        (work / "synth.ys").write_text(ys)
        steps = [
            (["nice", "-n", "10", _need("yosys"), "-q", "-l", str(work / "yosys.log"), "-s", str(work / "synth.ys")], "yosys"),
            (["nice", "-n", "10", _need("nextpnr-ice40"), *dev, "--json", str(work / "soc.json"), "--pcf", str(root / pcf),
              "--asc", str(work / f"{board}.asc"), "--freq", str(mhz), "--report", str(rep_path), "--seed", "1",
              "-l", str(work / "nextpnr.log")], "nextpnr-ice40"),
            ([_need("icepack"), str(work / f"{board}.asc"), str(binf)], "icepack"),
        ]
        for cmd, what in steps:
            r = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
            if r.returncode != 0:
                tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-25:])
                raise FpgaBuildError(f"{what} failed for board {board} (logs in {work}):\n{tail}")
        util = utilisation(rep_path, work / "yosys.log")
        util["clock_mhz"] = mhz
        (work / "utilisation.json").write_text(json.dumps(util, indent=2))
    if not quiet:
        print(f"bitstream {binf}", flush=True)
    return Bitstream(board, binf, util)


# ------------------------------------------------------------------ loading

def program_bitstream(bitstream: Path, tool: str | None = None, timeout: float = 120) -> dict:
    """Load the bitstream into the FPGA's configuration RAM with iceprog -S or openFPGALoader.
    Raises LookupError (no tool installed, or no board connected) or RuntimeError (it failed)."""
    tools = [tool] if tool else ["iceprog", "openFPGALoader"]
    reasons = []
    for t in tools:
        exe = shutil.which(t)
        if exe is None:
            reasons.append(f"{t} is not installed")
            continue
        argv = [exe, "-S", str(bitstream)] if t == "iceprog" else [exe, "-b", "ice40_generic", str(bitstream)]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"`{' '.join(argv)}` did not finish in {timeout:.0f} s") from e
        out = (r.stdout + r.stderr).strip()
        if r.returncode == 0:
            return {"tool": t, "argv": argv, "log": out[-500:]}
        keys = ("can't find", "cannot find", "no device", "unable to open", "not found", "no cable",
                "failed to open")
        said = [ln.strip() for ln in out.splitlines() if any(k in ln.lower() for k in keys)]
        if said:
            reasons.append(f"{t} found no iCE40 board on USB ({said[0]})")
            continue
        raise RuntimeError(f"`{' '.join(argv)}` failed (exit {r.returncode}):\n{out[-1500:]}")
    raise LookupError("; ".join(reasons))


def upload(port, image: bytes, timeout: float = 10.0) -> None:
    """Send a firmware image to the boot ROM over an open pyserial port (see the module doc)."""
    deadline = time.monotonic() + timeout
    seen = b""
    greet = time.monotonic() + 1.0  # the greeting may have gone before the port was opened
    while b"EHBOOT\n" not in seen and time.monotonic() < greet:
        seen += port.read(64)
    port.write(b"L" + struct.pack("<I", len(image)) + image + struct.pack("<I", sum(image) & 0xFFFFFFFF))
    port.flush()
    answer = b""
    while not answer.endswith(b"\n"):
        if time.monotonic() > deadline + len(image) / 10000:
            raise RuntimeError(f"the boot ROM did not acknowledge the image (got {answer!r})")
        answer += port.read(1)
    if answer.strip() != b"OK":
        raise RuntimeError(f"the boot ROM rejected the image: {answer!r}")


def image_bytes(elf: Path, base: int = 0x8000_0000) -> bytes:
    """The loadable bytes of an ELF from `base` (the RAM's start), gaps filled with zeros."""
    from ..flash.image import to_binary
    start, data = to_binary(elf, fill=0)
    if start != base:
        raise UserError(f"{elf} starts at 0x{start:08x}, not at the RAM's 0x{base:08x}")
    return data
