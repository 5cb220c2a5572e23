"""Flash methods for real boards. Each `flash_<method>(ctx)` programs ctx.elf and verifies where
the method can, or raises Unavailable (tool, probe or drive not found: the next method is tried)
or FlashError (it started and failed)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import uf2 as U
from .detect import find_board_port
from .errors import FlashError
from .image import load_segments, to_binary, to_ihex


class Unavailable(Exception):
    """This method cannot run here (missing tool, probe or drive); the message says why."""


@dataclass
class Ctx:
    board: object
    elf: Path
    port: str | None = None
    output: Path | None = None
    uf2_family: int | None = None
    progress: Callable[[int, int, str], None] | None = None
    notes: list[str] = field(default_factory=list)

    def tick(self, done: int, total: int, what: str) -> None:
        if self.progress:
            self.progress(done, total, what)


#: pyocd target / openocd config / nrfjprog family by a part of the board's names
_CHIPS = [
    ("nrf52840", {"pyocd": "nrf52840", "openocd": "target/nrf52.cfg", "nrfjprog": "NRF52"}),
    ("nrf52", {"pyocd": "nrf52", "openocd": "target/nrf52.cfg", "nrfjprog": "NRF52"}),
    ("pca10056", {"pyocd": "nrf52840", "openocd": "target/nrf52.cfg", "nrfjprog": "NRF52"}),
    ("nrf51", {"pyocd": "nrf51", "openocd": "target/nrf51.cfg", "nrfjprog": "NRF51"}),
    ("microbit", {"pyocd": "nrf51", "openocd": "target/nrf51.cfg", "nrfjprog": "NRF51"}),
    ("stm32f405", {"pyocd": "stm32f405rg", "openocd": "target/stm32f4x.cfg"}),
    ("netduino", {"pyocd": "stm32f405rg", "openocd": "target/stm32f4x.cfg"}),
]


def chip(board, tool: str) -> str | None:
    names = [board.name, *board.aliases]
    for key, d in _CHIPS:
        if any(key in n.lower() for n in names) and tool in d:
            return d[tool]
    return None


def _run(argv: list[str], what: str, timeout: float = 120) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as e:
        raise Unavailable(f"{argv[0]} is not installed") from e
    except subprocess.TimeoutExpired as e:
        raise FlashError(f"{what}: `{' '.join(argv)}` did not finish in {timeout:.0f} s") from e
    out = (r.stdout + r.stderr).strip()
    if r.returncode:
        raise FlashError(f"{what}: `{' '.join(argv)}` failed (exit {r.returncode}):\n{out[-1500:]}")
    return out


# ---- pyocd --------------------------------------------------------------------------------------

def flash_pyocd(ctx: Ctx) -> dict:
    target = chip(ctx.board, "pyocd")
    if target is None:
        raise Unavailable(f"no pyocd target known for board {ctx.board.name}")
    try:
        from pyocd.core.helpers import ConnectHelper  # type: ignore[import-not-found]
        from pyocd.flash.file_programmer import FileProgrammer  # type: ignore[import-not-found]
    except ImportError as e:
        if shutil.which("pyocd"):
            out = _run(["pyocd", "flash", "-t", target, "--format", "elf", str(ctx.elf)], "pyocd")
            ctx.notes.append("flashed with the pyocd command (no read-back verification)")
            return {"tool": "pyocd-cli", "target": target, "verified": False, "log": out[-500:]}
        raise Unavailable("pyocd is not installed (pip install 'edgehost[boards]' or pip install pyocd)") from e
    try:
        session = ConnectHelper.session_with_chosen_probe(blocking=False, target_override=target,
                                                          return_first=False)
    except Exception as e:  # noqa: BLE001 - pyocd raises many kinds; all mean "no usable probe"
        raise Unavailable(f"pyocd could not open a debug probe: {e}") from e
    if session is None:
        raise Unavailable("pyocd found no debug probe (CMSIS-DAP, J-Link, ST-Link): connect the board's "
                          "debug USB port")
    segs = load_segments(ctx.elf)
    total = sum(len(d) for _, d in segs)
    with session:
        def cb(frac: float) -> None:
            ctx.tick(int(frac * total), total, "programming")
        FileProgrammer(session, progress=cb).program(str(ctx.elf), file_format="elf")
        done = 0
        for addr, data in segs:
            got = bytes(session.target.read_memory_block8(addr, len(data)))
            if got != data:
                bad = next(i for i in range(len(data)) if got[i] != data[i])
                raise FlashError(f"verification failed at 0x{addr + bad:08x}: wrote {data[bad]:#04x}, "
                                 f"read {got[bad]:#04x}")
            done += len(data)
            ctx.tick(done, total, "verifying")
        session.target.reset()
    return {"tool": "pyocd", "target": target, "verified": True, "bytes": total}


# ---- nrfjprog -----------------------------------------------------------------------------------

def flash_nrfjprog(ctx: Ctx) -> dict:
    fam = chip(ctx.board, "nrfjprog")
    if fam is None:
        raise Unavailable(f"board {ctx.board.name} is not a Nordic chip nrfjprog programs")
    if not shutil.which("nrfjprog"):
        raise Unavailable("nrfjprog is not installed (Nordic nRF Command Line Tools)")
    ids = subprocess.run(["nrfjprog", "--ids"], capture_output=True, text=True).stdout.split()
    if not ids:
        raise Unavailable("nrfjprog sees no J-Link probe: connect the board's debug USB port")
    base, data = to_binary(ctx.elf)
    with tempfile.TemporaryDirectory() as td:
        hexf = Path(td) / "fw.hex"
        hexf.write_text(to_ihex(base, data))
        ctx.tick(0, 2, "programming")
        _run(["nrfjprog", "-f", fam, "--program", str(hexf), "--sectorerase", "--verify"], "nrfjprog")
        ctx.tick(1, 2, "resetting")
        _run(["nrfjprog", "-f", fam, "--reset"], "nrfjprog reset")
        ctx.tick(2, 2, "done")
    return {"tool": "nrfjprog", "probe": ids[0], "verified": True, "bytes": len(data)}


# ---- openocd ------------------------------------------------------------------------------------

def flash_openocd(ctx: Ctx) -> dict:
    target = chip(ctx.board, "openocd")
    if target is None:
        raise Unavailable(f"no openocd target configuration known for board {ctx.board.name}")
    if not shutil.which("openocd"):
        raise Unavailable("openocd is not installed (Debian: apt-get install openocd)")
    iface = "interface/stlink.cfg" if "stm32" in target else "interface/cmsis-dap.cfg"
    ctx.tick(0, 1, "programming")
    try:
        out = _run(["openocd", "-f", iface, "-f", target, "-c", f"program {ctx.elf} verify reset exit"], "openocd")
    except FlashError as e:
        msg = str(e).lower()
        if "no device found" in msg or "unable to find" in msg or "open failed" in msg:
            raise Unavailable(f"openocd found no probe on {iface}") from e
        raise
    ctx.tick(1, 1, "done")
    return {"tool": "openocd", "interface": iface, "target": target, "verified": "Verified OK" in out}


# ---- dfu-util (STM32 system bootloader) ----------------------------------------------------------

def flash_dfu(ctx: Ctx) -> dict:
    if not shutil.which("dfu-util"):
        raise Unavailable("dfu-util is not installed (Debian: apt-get install dfu-util)")
    lst = subprocess.run(["dfu-util", "-l"], capture_output=True, text=True).stdout
    ids = [u.lower() for u in ctx.board.usb_ids]
    if not any(f"[{i}]" in lst.lower() for i in ids):
        raise Unavailable(f"no DFU device {', '.join(ctx.board.usb_ids)}: hold BOOT0 and reset the board")
    base, data = to_binary(ctx.elf)
    with tempfile.TemporaryDirectory() as td:
        binf = Path(td) / "fw.bin"
        binf.write_bytes(data)
        ctx.tick(0, 1, "programming")
        _run(["dfu-util", "-a", "0", "-s", f"0x{base:08x}:leave", "-D", str(binf)], "dfu-util")
        ctx.tick(1, 1, "done")
    return {"tool": "dfu-util", "verified": False, "bytes": len(data)}


# ---- UF2 ----------------------------------------------------------------------------------------

def uf2_family(board, override: int | None = None) -> int:
    fam = override if override is not None else getattr(board, "uf2_family", None)
    if fam is None:
        fam = U.family_for([board.name, *board.aliases])
    if fam is None:
        raise FlashError(f"board {board.name} has no UF2 family id (board.json uf2_family): pass --uf2-family")
    return fam


def build_uf2(board, elf: Path, family: int | None = None) -> tuple[bytes, int, bytes, int]:
    """(uf2 bytes, base, binary, family) of an ELF for the board's bootloader."""
    base, data = to_binary(elf)
    off = getattr(board, "image_offset", 0) or 0
    if base != off:
        raise FlashError(f"{elf} is linked at 0x{base:08x} but board {board.name}'s bootloader expects the "
                         f"application at 0x{off:08x} (board.json image_offset)")
    fam = uf2_family(board, family)
    return U.to_uf2(data, off, fam), off, data, fam


def uf2_drives() -> list[Path]:
    """Mounted volumes holding INFO_UF2.TXT (a UF2 bootloader's drive)."""
    roots: list[Path] = []
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            mp = line.split()[1].replace("\\040", " ")
            roots.append(Path(mp))
    except OSError:
        pass
    for pat in ("/media/*/*", "/media/*", "/run/media/*/*", "/mnt/*", "/Volumes/*"):
        roots += [Path(p) for p in sorted(__import__("glob").glob(pat))]
    seen, out = set(), []
    for r in roots:
        if r in seen:
            continue
        seen.add(r)
        try:
            if (r / "INFO_UF2.TXT").is_file():
                out.append(r)
        except OSError:
            continue
    return out


def flash_uf2(ctx: Ctx) -> dict:
    blob, base, data, fam = build_uf2(ctx.board, ctx.elf, ctx.uf2_family)
    if ctx.output is not None:
        dest = Path(ctx.output)
    else:
        drives = uf2_drives()
        if not drives:
            raise Unavailable("no UF2 bootloader drive is mounted (a volume with INFO_UF2.TXT): double-tap the "
                              "board's reset button, wait for the drive, or write a file with --output")
        if len(drives) > 1:
            raise FlashError(f"several UF2 drives are mounted ({', '.join(map(str, drives))}): unplug all but "
                             "one, or use --output")
        dest = drives[0] / "NEW.UF2"
    step = 32 * U.BLOCK
    with open(dest, "wb") as f:
        for i in range(0, len(blob), step):
            f.write(blob[i:i + step])
            ctx.tick(min(i + step, len(blob)), len(blob), "writing UF2")
        f.flush()
        os.fsync(f.fileno())
    verified = False
    if ctx.output is not None:
        b2, d2, f2 = U.from_uf2(Path(dest).read_bytes())
        if (b2, d2, f2) != (base, data, fam):
            raise FlashError(f"{dest} does not read back as the image written")
        verified = True
    return {"tool": "uf2", "file": str(dest), "family": f"0x{fam:08X}", "base": f"0x{base:08X}",
            "blocks": len(blob) // U.BLOCK, "bytes": len(data), "verified": verified}


# ---- adafruit-nrfutil serial DFU ----------------------------------------------------------------

def flash_nrfutil(ctx: Ctx) -> dict:
    tool = shutil.which("adafruit-nrfutil")
    if not tool:
        raise Unavailable("adafruit-nrfutil is not installed (pip install adafruit-nrfutil)")
    port = ctx.port
    if port is None:
        port, why = find_board_port(ctx.board)
        if port is None:
            raise Unavailable(why)
    base, data = to_binary(ctx.elf)
    with tempfile.TemporaryDirectory() as td:
        hexf, pkg = Path(td) / "fw.hex", Path(td) / "fw.zip"
        hexf.write_text(to_ihex(base, data))
        _run([tool, "dfu", "genpkg", "--dev-type", "0x0052", "--application", str(hexf), str(pkg)], "nrfutil genpkg")
        ctx.tick(0, 1, "DFU over serial")
        _run([tool, "dfu", "serial", "--package", str(pkg), "-p", port, "-b", "115200", "--singlebank",
              "--touch", "1200"], "nrfutil dfu", timeout=300)
        ctx.tick(1, 1, "done")
    return {"tool": "adafruit-nrfutil", "port": port, "verified": False, "bytes": len(data)}


# ---- FPGA boards: bitstream with iceprog / openFPGALoader, firmware over the UART ----------------

def _fpga_uart_port(ctx: Ctx) -> str:
    """The FPGA board's UART: --port, else the FTDI's second interface (the first is the SPI
    flash / configuration channel)."""
    if ctx.port:
        return ctx.port
    try:
        from serial.tools import list_ports
    except ImportError as e:
        raise Unavailable("pyserial is not installed") from e
    ids = {tuple(int(x, 16) for x in u.split(":")) for u in ctx.board.usb_ids}
    found = sorted((p for p in list_ports.comports() if (p.vid, p.pid) in ids), key=lambda p: p.device)
    if not found:
        raise Unavailable(f"no serial port of board {ctx.board.name} ({', '.join(ctx.board.usb_ids)}) is "
                          "connected: pass --port")
    second = [p for p in found if (p.location or "").endswith(".1")]
    return (second or found[-1:])[0].device


def _flash_fpga(ctx: Ctx, method: str) -> dict:
    from ..fpga import bitstream
    if not bitstream.is_fpga_board(ctx.board):
        raise Unavailable(f"board {ctx.board.name} has no FPGA design")
    tool, deb = bitstream.PROGRAMMERS[method]
    if shutil.which(tool) is None:
        raise Unavailable(f"{tool} is not installed" + (f" (Debian: apt-get install {deb})" if deb else ""))
    ctx.tick(0, 3, "bitstream")
    bit = bitstream.build_bitstream(ctx.board)
    ctx.tick(1, 3, "configuring the FPGA")
    try:
        prog = bitstream.program_bitstream(ctx.board, bit.path, method)
    except LookupError as e:
        raise Unavailable(str(e)) from e
    except RuntimeError as e:
        raise FlashError(str(e)) from e
    port = _fpga_uart_port(ctx)
    image = bitstream.image_bytes(ctx.elf)
    ctx.tick(2, 3, "sending the firmware to the boot ROM")
    try:
        import serial
        with serial.serial_for_url(port, baudrate=ctx.board.uart.baud or 115200, timeout=0.2) as ser:
            bitstream.upload(ser, image)
    except (OSError, RuntimeError) as e:
        raise FlashError(f"the bitstream is loaded but the firmware upload on {port} failed: {e}") from e
    ctx.tick(3, 3, "done")
    ctx.port = port
    return {"tool": prog["tool"], "bitstream": str(bit.path), "uart": port, "bytes": len(image), "verified": True,
            "utilisation": bit.report}


def flash_iceprog(ctx: Ctx) -> dict:
    return _flash_fpga(ctx, "iceprog")


def flash_openfpgaloader(ctx: Ctx) -> dict:
    return _flash_fpga(ctx, "openfpgaloader")


def flash_fujprog(ctx: Ctx) -> dict:
    return _flash_fpga(ctx, "fujprog")


METHODS = {
    "pyocd": flash_pyocd,
    "nrfjprog": flash_nrfjprog,
    "openocd": flash_openocd,
    "uf2": flash_uf2,
    "dfu": flash_dfu,
    "nrfutil": flash_nrfutil,
    "iceprog": flash_iceprog,
    "openfpgaloader": flash_openfpgaloader,
    "fujprog": flash_fujprog,
}


def wait_port(board, timeout: float = 8.0) -> str | None:
    """After a reset the board's USB serial port may take a moment to (re)appear."""
    deadline = time.monotonic() + timeout
    while True:
        port, _ = find_board_port(board)
        if port or time.monotonic() >= deadline:
            return port
        time.sleep(0.25)
