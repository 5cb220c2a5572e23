"""Boards described as data: ``boards/<name>/board.json`` (schema in docs/boards.md).

    >>> from edgehost import boards
    >>> b = boards.get("nrf52")            # a name or an alias, case-insensitive
    >>> b.name, b.core, b.flash_bytes
    ('nrf52840dk', 'cortex-m4f', 1048576)
    >>> boards.get("mps2-an386").emulator_argv("fw.elf", 4444)[:3]
    ['qemu-system-arm', '-M', 'mps2-an386']

Every board.json is validated on load; a bad one raises :class:`BoardError` (a
``edgehost.cli.UserError``) naming the file and the field.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .cli import UserError

DEFAULT_BOARD = "mps2-an386"

CORES = ("cortex-m4f", "cortex-m0", "rv32imc", "host")
COUNTER_SOURCES = ("dwt", "systick", "minstret", "mcycle", "monotonic-ns")
EXIT_KINDS = ("semihosting", "semihosting-or-reset", "reset", "sifive-test", "process")
FLASH_METHODS = ("qemu", "native", "pyocd", "nrfjprog", "openocd", "uf2", "dfu", "iceprog", "openfpgaloader",
                 "fujprog")
FPGA_FAMILIES = ("ice40", "ecp5")

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_USB_RE = re.compile(r"^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$")


class BoardError(UserError):
    """A board.json that does not follow the schema, or an unknown board name."""


def repo_root() -> Path:
    """The edgehost source tree (boards/, firmware/, CMakeLists.txt): $EDGEHOST_ROOT, else the
    checkout this package is imported from."""
    env = os.environ.get("EDGEHOST_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parents[2]
    if not (root / "boards").is_dir() or not (root / "CMakeLists.txt").is_file():
        raise UserError(
            f"{root} is not an edgehost source tree (no boards/ or CMakeLists.txt); "
            "set EDGEHOST_ROOT to the checkout"
        )
    return root


def boards_dir() -> Path:
    return repo_root() / "boards"


@dataclass(frozen=True)
class Region:
    """A memory region: ``origin`` (address) and ``bytes`` (length)."""

    origin: int
    bytes: int

    @property
    def end(self) -> int:
        return self.origin + self.bytes

    def contains(self, addr: int, size: int = 0) -> bool:
        """True when [addr, addr + size) lies inside the region."""
        return self.origin <= addr and addr + size <= self.end


@dataclass(frozen=True)
class Uart:
    driver: str                # firmware/drivers/uart_<driver>.c
    base: int | None           # peripheral address (None: host board's pty)
    baud: int | None
    clock_hz: int | None       # clock of the baud generator, when it has one
    tx_pin: int | None
    rx_pin: int | None
    #: the receive interrupt's number (NVIC IRQ on Cortex-M, PLIC source on RISC-V) that wakes
    #: the core from sleep while the link is quiet (eh_hal_idle); None: the firmware busy-polls
    irq: int | None = None


@dataclass(frozen=True)
class Counter:
    source: str                # one of COUNTER_SOURCES
    description: str           # what eh_hal_counter counts, in words
    #: SysTick rate under the emulator (-icount shift=0: 1e9 / it instructions per tick), where it
    #: has been established; None otherwise (no instruction count is derived from the ticks)
    emulated_tick_hz: int | None = None


@dataclass(frozen=True)
class Fpga:
    """How an FPGA board's bitstream is made and loaded (board.json "fpga"; docs/boards.md)."""

    family: str                 # one of FPGA_FAMILIES: picks yosys' synth_<family> and nextpnr-<family>
    top: str                    # top module
    sources: tuple[Path, ...]   # the board's own Verilog (the top), besides fpga/rtl and the CPU
    constraints: Path           # .pcf (iCE40) or .lpf (ECP5)
    pnr_args: tuple[str, ...]   # nextpnr's device options ("--up5k", "--package", "sg48" / "--85k", ...)
    #: programming tool (a flash method) -> argv after the tool, {bitstream} replaced
    program: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Board:
    name: str
    aliases: tuple[str, ...]
    description: str
    core: str
    toolchain: Path | None     # CMake toolchain file (None: native build)
    clock_hz: int
    flash: Region | None       # where the image may go (after any bootloader); None on host
    ram: Region | None
    stack_bytes: int
    uart: Uart
    counter: Counter
    exit: str                  # one of EXIT_KINDS
    emulated: bool             # runs here without hardware (QEMU, or the host process)
    emulator: tuple[str, ...]  # argv template with {elf} and {port}
    flash_methods: tuple[str, ...]
    usb_ids: tuple[str, ...]   # "VVVV:PPPP" (upper-case hex) of the probe / bootloader
    image_offset: int          # where a bootloader expects the application (0: no bootloader)
    uf2_family: int | None
    sources: tuple[Path, ...]  # absolute paths of the board's own C/asm sources
    linker_script: Path | None
    path: Path = field(compare=False)  # the board's folder
    fpga: Fpga | None = None   # FPGA boards: the bitstream's design
    #: the operators a build without --model links (firmware/model/ops/eh_op_<name>.c); None: all
    ops: tuple[str, ...] | None = None

    @property
    def flash_bytes(self) -> int | None:
        return self.flash.bytes if self.flash else None

    @property
    def ram_bytes(self) -> int | None:
        return self.ram.bytes if self.ram else None

    @property
    def is_real(self) -> bool:
        """True for boards that need the hardware (nothing here can run them)."""
        return not self.emulated

    @property
    def is_host(self) -> bool:
        return self.core == "host"

    @property
    def usb_vid_pids(self) -> list[tuple[int, int]]:
        return [(int(u[:4], 16), int(u[5:], 16)) for u in self.usb_ids]

    def emulator_argv(self, elf: str | os.PathLike, port: int, *, icount: bool = True) -> list[str]:
        """The command that runs `elf` with its UART on TCP `port` (QEMU waits for the
        connection). ``icount=False`` drops ``-icount shift=0`` (e.g. for a TCG counting
        plugin, which must not be combined with it)."""
        if not self.emulator:
            raise UserError(f"board {self.name} is real hardware: it has no emulator")
        argv = [a.replace("{elf}", str(elf)).replace("{port}", str(int(port))) for a in self.emulator]
        if not icount:
            out: list[str] = []
            skip = False
            for i, a in enumerate(argv):
                if skip:
                    skip = False
                    continue
                if a == "-icount" and i + 1 < len(argv):
                    skip = True
                    continue
                out.append(a)
            argv = out
        return argv

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (what `edgehost boards --json` prints)."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "description": self.description,
            "core": self.core,
            "clock_hz": self.clock_hz,
            "emulated": self.emulated,
            "flash_origin": self.flash.origin if self.flash else None,
            "flash_bytes": self.flash_bytes,
            "ram_origin": self.ram.origin if self.ram else None,
            "ram_bytes": self.ram_bytes,
            "uart": asdict(self.uart),
            "counter": asdict(self.counter),
            "exit": self.exit,
            "flash_methods": list(self.flash_methods),
            "usb_ids": list(self.usb_ids),
            "image_offset": self.image_offset,
            "uf2_family": self.uf2_family,
            "emulator": list(self.emulator),
            "path": str(self.path),
            "ops": None if self.ops is None else list(self.ops),
            "fpga": None if self.fpga is None else {
                "family": self.fpga.family, "top": self.fpga.top, "pnr_args": list(self.fpga.pnr_args),
                "constraints": str(self.fpga.constraints)},
        }


# ---------------------------------------------------------------- validation

_FIELDS = {
    "name", "aliases", "description", "core", "toolchain", "clock_hz", "flash", "ram",
    "stack_bytes", "uart", "counter", "exit", "emulated", "emulator", "flash_methods",
    "usb_ids", "image_offset", "uf2_family", "sources", "linker_script", "fpga", "ops",
}
_REQUIRED = _FIELDS - {"aliases", "usb_ids", "image_offset", "uf2_family", "toolchain", "linker_script", "fpga",
                       "ops"}
_FPGA_FIELDS = {"family", "top", "sources", "constraints", "pnr_args", "program"}


class _Checker:
    def __init__(self, path: Path, data: Any):
        self.path = path
        self.data = data

    def fail(self, fld: str, msg: str) -> BoardError:
        return BoardError(f"{self.path}: field '{fld}': {msg}")

    def get(self, obj: dict, key: str, fld: str, required: bool = True) -> Any:
        if key not in obj:
            if required:
                raise self.fail(fld, "missing")
            return None
        return obj[key]

    def string(self, v: Any, fld: str, allow_none: bool = False) -> str | None:
        if v is None and allow_none:
            return None
        if not isinstance(v, str) or not v:
            raise self.fail(fld, f"expected a non-empty string, got {v!r}")
        return v

    def integer(self, v: Any, fld: str, *, allow_none: bool = False, minimum: int = 0) -> int | None:
        """An int, or a string holding one ("0x26000", "65536")."""
        if v is None and allow_none:
            return None
        if isinstance(v, bool):
            raise self.fail(fld, f"expected an integer, got {v!r}")
        if isinstance(v, str):
            try:
                v = int(v, 0)
            except ValueError:
                raise self.fail(fld, f"expected an integer or a \"0x...\" string, got {v!r}") from None
        if not isinstance(v, int):
            raise self.fail(fld, f"expected an integer, got {v!r}")
        if v < minimum or v > 0xFFFFFFFF:
            raise self.fail(fld, f"{v} is out of range [{minimum}, 0xFFFFFFFF]")
        return v

    def strings(self, v: Any, fld: str) -> tuple[str, ...]:
        if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
            raise self.fail(fld, f"expected a list of non-empty strings, got {v!r}")
        return tuple(v)

    def choice(self, v: Any, fld: str, choices: tuple[str, ...]) -> str:
        if v not in choices:
            raise self.fail(fld, f"{v!r} is not one of {', '.join(choices)}")
        return v

    def region(self, v: Any, fld: str) -> Region | None:
        if v is None:
            return None
        if not isinstance(v, dict) or set(v) != {"origin", "bytes"}:
            raise self.fail(fld, f"expected {{\"origin\": ..., \"bytes\": ...}}, got {v!r}")
        origin = self.integer(v["origin"], f"{fld}.origin")
        size = self.integer(v["bytes"], f"{fld}.bytes", minimum=1)
        if origin + size > 1 << 32:
            raise self.fail(fld, "region runs past the 4 GiB address space")
        return Region(origin, size)


def load(path: str | os.PathLike, root: Path | None = None) -> Board:
    """Load and validate one board.json (its folder name must equal its "name")."""
    path = Path(path)
    root = root if root is not None else path.resolve().parent.parent.parent
    try:
        text = path.read_text()
    except OSError as e:
        raise BoardError(f"{path}: cannot read: {e.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise BoardError(f"{path}: not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    c = _Checker(path, data)
    if not isinstance(data, dict):
        raise BoardError(f"{path}: expected a JSON object at the top level")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        hint = difflib.get_close_matches(unknown[0], sorted(_FIELDS), n=1)
        raise c.fail(unknown[0], "unknown field" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
    for key in sorted(_REQUIRED):
        if key not in data:
            raise c.fail(key, "missing")

    name = c.string(data["name"], "name")
    if not _NAME_RE.match(name):
        raise c.fail("name", f"{name!r} must be lower-case letters, digits, '.', '_' or '-'")
    if name != path.parent.name:
        raise c.fail("name", f"{name!r} differs from its folder name {path.parent.name!r}")
    aliases = c.strings(data.get("aliases", []), "aliases")
    for a in aliases:
        if not _NAME_RE.match(a):
            raise c.fail("aliases", f"{a!r} must be lower-case letters, digits, '.', '_' or '-'")
    description = c.string(data["description"], "description")
    core = c.choice(data["core"], "core", CORES)
    is_host = core == "host"

    toolchain_rel = c.string(data.get("toolchain"), "toolchain", allow_none=True)
    if is_host:
        if toolchain_rel is not None:
            raise c.fail("toolchain", "must be null for core 'host' (a native build)")
        toolchain = None
    else:
        if toolchain_rel is None:
            raise c.fail("toolchain", f"required for core {core!r} (cmake/toolchains/{core}.cmake)")
        toolchain = (root / toolchain_rel).resolve()
        if not toolchain.is_file():
            raise c.fail("toolchain", f"{toolchain_rel} does not exist")

    clock_hz = c.integer(data["clock_hz"], "clock_hz", minimum=1)
    flash = c.region(data["flash"], "flash")
    ram = c.region(data["ram"], "ram")
    if not is_host and (flash is None or ram is None):
        raise c.fail("flash" if flash is None else "ram", f"required for core {core!r}")
    if flash and ram and flash.origin < ram.end and ram.origin < flash.end:
        raise c.fail("ram", "overlaps the flash region")
    stack_bytes = c.integer(data["stack_bytes"], "stack_bytes")
    if not is_host:
        if stack_bytes < 256 or stack_bytes % 8:
            raise c.fail("stack_bytes", f"{stack_bytes}: must be a multiple of 8, at least 256")
        if ram and stack_bytes >= ram.bytes:
            raise c.fail("stack_bytes", f"{stack_bytes} does not leave any of the {ram.bytes} bytes of RAM")

    u = data["uart"]
    if not isinstance(u, dict):
        raise c.fail("uart", f"expected an object, got {u!r}")
    extra = sorted(set(u) - {"driver", "base", "baud", "clock_hz", "tx_pin", "rx_pin", "irq"})
    if extra:
        raise c.fail(f"uart.{extra[0]}", "unknown field")
    driver = c.string(c.get(u, "driver", "uart.driver"), "uart.driver")
    if not (root / "firmware" / "drivers" / f"uart_{driver}.c").is_file():
        known = sorted(p.stem[5:] for p in (root / "firmware" / "drivers").glob("uart_*.c"))
        raise c.fail("uart.driver", f"no driver {driver!r} in firmware/drivers (known: {', '.join(known)})")
    uart = Uart(
        driver=driver,
        base=c.integer(u.get("base"), "uart.base", allow_none=is_host),
        baud=c.integer(u.get("baud"), "uart.baud", allow_none=is_host, minimum=1),
        clock_hz=c.integer(u.get("clock_hz"), "uart.clock_hz", allow_none=True, minimum=1),
        tx_pin=c.integer(u.get("tx_pin"), "uart.tx_pin", allow_none=True),
        rx_pin=c.integer(u.get("rx_pin"), "uart.rx_pin", allow_none=True),
        irq=c.integer(u.get("irq"), "uart.irq", allow_none=True, minimum=0),
    )

    k = data["counter"]
    if not isinstance(k, dict) or not {"source", "description"} <= set(k) <= {"source", "description",
                                                                               "emulated_tick_hz"}:
        raise c.fail("counter", f"expected {{\"source\": ..., \"description\": ..."
                     f"[, \"emulated_tick_hz\": ...]}}, got {k!r}")
    counter = Counter(
        source=c.choice(k["source"], "counter.source", COUNTER_SOURCES),
        description=c.string(k["description"], "counter.description"),
        emulated_tick_hz=c.integer(k.get("emulated_tick_hz"), "counter.emulated_tick_hz", allow_none=True,
                                   minimum=1),
    )
    exit_kind = c.choice(data["exit"], "exit", EXIT_KINDS)

    emulated = data["emulated"]
    if not isinstance(emulated, bool):
        raise c.fail("emulated", f"expected true or false, got {emulated!r}")
    emulator = c.strings(data["emulator"], "emulator")
    if emulated:
        if not emulator:
            raise c.fail("emulator", "an emulated board needs an argv template")
        if not any("{elf}" in a for a in emulator):
            raise c.fail("emulator", "the argv template must contain {elf}")
        if not is_host and not any("{port}" in a for a in emulator):
            raise c.fail("emulator", "the argv template must contain {port}")
    flash_methods = c.strings(data["flash_methods"], "flash_methods")
    if not flash_methods:
        raise c.fail("flash_methods", "at least one method is needed")
    for m in flash_methods:
        c.choice(m, "flash_methods", FLASH_METHODS)
    usb_ids = c.strings(data.get("usb_ids", []), "usb_ids")
    for uid in usb_ids:
        if not _USB_RE.match(uid):
            raise c.fail("usb_ids", f"{uid!r} is not VVVV:PPPP (hex)")
    usb_ids = tuple(uid.upper() for uid in usb_ids)
    image_offset = c.integer(data.get("image_offset", 0), "image_offset")
    if image_offset and flash and flash.origin != image_offset:
        raise c.fail("image_offset", f"{image_offset:#x} differs from flash.origin {flash.origin:#x}")
    uf2_family = c.integer(data.get("uf2_family"), "uf2_family", allow_none=True)
    if "uf2" in flash_methods and uf2_family is None:
        raise c.fail("uf2_family", "required when flash_methods has 'uf2'")

    sources = []
    for s in c.strings(data["sources"], "sources"):
        p = (path.parent / s).resolve()
        if not p.is_file():
            raise c.fail("sources", f"{s} does not exist")
        sources.append(p)
    ls_rel = c.string(data.get("linker_script"), "linker_script", allow_none=True)
    linker_script = None
    if ls_rel is not None:
        linker_script = (path.parent / ls_rel).resolve()
        if not linker_script.is_file():
            raise c.fail("linker_script", f"{ls_rel} does not exist")
    elif not is_host:
        raise c.fail("linker_script", f"required for core {core!r}")

    fpga = _fpga(c, data.get("fpga"), path.parent, flash_methods)
    ops = _ops(c, data.get("ops"), root)

    return Board(
        name=name, aliases=aliases, description=description, core=core, toolchain=toolchain,
        clock_hz=clock_hz, flash=flash, ram=ram, stack_bytes=stack_bytes, uart=uart,
        counter=counter, exit=exit_kind, emulated=emulated, emulator=emulator,
        flash_methods=flash_methods, usb_ids=usb_ids, image_offset=image_offset,
        uf2_family=uf2_family, sources=tuple(sources), linker_script=linker_script,
        path=path.parent.resolve(), fpga=fpga, ops=ops,
    )


def _ops(c: _Checker, v: Any, root: Path | None) -> tuple[str, ...] | None:
    """"ops": the operators of a build without --model (names of firmware/model/ops/eh_op_*.c)."""
    if v is None:
        return None
    names = c.strings(v, "ops")
    if not names:
        raise c.fail("ops", "give at least one operator, or leave the field out for every operator")
    folder = (root or repo_root()) / "firmware" / "model" / "ops"
    if not folder.is_dir():                       # a board.json outside a source tree (tests)
        folder = repo_root() / "firmware" / "model" / "ops"
    valid = sorted(p.stem[len("eh_op_"):] for p in folder.glob("eh_op_*.c"))
    for n in names:
        if n not in valid:
            raise c.fail("ops", f"unknown operator {n!r} (valid: {', '.join(valid)})")
    if len(set(names)) != len(names):
        raise c.fail("ops", "an operator is listed twice")
    return tuple(sorted(names))


def _fpga(c: _Checker, f: Any, folder: Path, flash_methods: tuple[str, ...]) -> Fpga | None:
    """The optional "fpga" object: paths relative to the board's folder."""
    if f is None:
        return None
    if not isinstance(f, dict):
        raise c.fail("fpga", f"expected an object, got {f!r}")
    extra = sorted(set(f) - _FPGA_FIELDS)
    if extra:
        raise c.fail(f"fpga.{extra[0]}", "unknown field")
    for key in sorted(_FPGA_FIELDS - {"program"}):
        if key not in f:
            raise c.fail(f"fpga.{key}", "missing")

    def file(rel: Any, fld: str) -> Path:
        p = (folder / c.string(rel, fld)).resolve()
        if not p.is_file():
            raise c.fail(fld, f"{rel} does not exist")
        return p
    program = f.get("program", {})
    if not isinstance(program, dict):
        raise c.fail("fpga.program", f"expected an object (flash method -> argv), got {program!r}")
    prog = {}
    for m, argv in program.items():
        c.choice(m, "fpga.program", FLASH_METHODS)
        if m not in flash_methods:
            raise c.fail("fpga.program", f"{m!r} is not one of the board's flash_methods")
        args = c.strings(argv, f"fpga.program.{m}")
        if not any("{bitstream}" in a for a in args):
            raise c.fail(f"fpga.program.{m}", "the argv must contain {bitstream}")
        prog[m] = args
    return Fpga(
        family=c.choice(f["family"], "fpga.family", FPGA_FAMILIES),
        top=c.string(f["top"], "fpga.top"),
        sources=tuple(file(s, "fpga.sources") for s in c.strings(f["sources"], "fpga.sources")),
        constraints=file(f["constraints"], "fpga.constraints"),
        pnr_args=c.strings(f["pnr_args"], "fpga.pnr_args"),
        program=prog,
    )


def load_all(directory: str | os.PathLike | None = None) -> list[Board]:
    """Every board in `directory` (default: the checkout's boards/), sorted by name, the
    default board first. Names and aliases must be unique across boards."""
    directory = Path(directory) if directory is not None else boards_dir()
    root = directory.resolve().parent
    found = [load(p, root) for p in sorted(directory.glob("*/board.json"))]
    seen: dict[str, str] = {}
    for b in found:
        for n in (b.name, *b.aliases):
            if n in seen and seen[n] != b.name:
                raise BoardError(
                    f"{b.path / 'board.json'}: field 'aliases': {n!r} is already used by board {seen[n]}"
                )
            seen[n] = b.name
    found.sort(key=lambda b: (b.name != DEFAULT_BOARD, b.name))
    return found


def get(name_or_alias: str | Board, directory: str | os.PathLike | None = None) -> Board:
    """The board called `name_or_alias` (its name or an alias, case-insensitive)."""
    if isinstance(name_or_alias, Board):
        return name_or_alias
    all_boards = load_all(directory)
    key = str(name_or_alias).strip().lower()
    for b in all_boards:
        if key == b.name or key in b.aliases:
            return b
    names = {n: b.name for b in all_boards for n in (b.name, *b.aliases)}
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.4)
    hint = f"; did you mean '{names[close[0]]}'?" if close else "."
    listing = ", ".join(
        b.name + (f" ({', '.join(b.aliases)})" if b.aliases else "") for b in all_boards
    )
    raise BoardError(f"unknown board '{name_or_alias}'{hint} Known boards: {listing}")
