"""Boards as data: boards/*/board.json load, validate, resolve; `edgehost boards`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edgehost import boards
from edgehost.cli import UserError, main

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {"mps2-an386", "netduinoplus2", "microbit", "virt-rv32", "nrf52840dk", "feather-nrf52840", "host"}
# The FPGA target's boards (RTL simulation, iCEBreaker, ULX3S): checked in tests/fpga/
FPGA_BOARDS = {"rv32-sim", "rv32-sim-base", "icebreaker", "ulx3s"}


def test_all_boards_load_and_default_first():
    all_boards = boards.load_all()
    assert {b.name for b in all_boards} == EXPECTED | FPGA_BOARDS
    assert all_boards[0].name == boards.DEFAULT_BOARD == "mps2-an386"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_board_is_consistent(name):
    b = boards.get(name)
    assert b.path == ROOT / "boards" / name
    assert b.core in boards.CORES
    for src in b.sources:
        assert src.is_file()
    if b.is_host:
        assert b.toolchain is None and b.flash is None and b.ram is None
        assert b.flash_bytes is None and b.ram_bytes is None
        assert b.emulator_argv("/x/fw", 1) == ["/x/fw"]
        return
    assert b.toolchain == ROOT / "cmake" / "toolchains" / f"{b.core}.cmake"
    assert b.linker_script is not None and b.linker_script.is_file()
    assert b.flash.bytes == b.flash_bytes > 0 and b.ram.bytes == b.ram_bytes > 0
    assert not (b.flash.origin < b.ram.end and b.ram.origin < b.flash.end)
    assert b.stack_bytes < b.ram.bytes
    if b.emulated:
        argv = b.emulator_argv("/tmp/fw.elf", 4321)
        assert shutil.which(argv[0]), f"{argv[0]} is not installed"
        assert "/tmp/fw.elf" in argv
        assert any("port=4321" in a for a in argv)
        assert not any("{" in a for a in argv)
        assert "-icount" in argv and "-icount" not in b.emulator_argv("/tmp/fw.elf", 4321, icount=False)
        if b.core.startswith("cortex"):
            assert "enable=on,target=native" in argv  # semihosting exit
        assert not b.is_real
    else:
        assert b.is_real
        with pytest.raises(UserError, match="real hardware"):
            b.emulator_argv("/tmp/fw.elf", 1)


def test_real_board_facts():
    dk = boards.get("nrf52840dk")
    assert (dk.clock_hz, dk.flash.origin, dk.flash.bytes, dk.ram.origin, dk.ram.bytes) == (
        64_000_000, 0, 1 << 20, 0x2000_0000, 256 << 10)
    assert (dk.uart.driver, dk.uart.tx_pin, dk.uart.rx_pin) == ("nrf_uarte", 6, 8)
    assert dk.counter.source == "dwt" and dk.exit == "reset"
    assert set(dk.flash_methods) >= {"pyocd", "nrfjprog", "openocd"}
    assert (0x1366, 0x1015) in dk.usb_vid_pids
    f = boards.get("feather")
    assert f.image_offset == f.flash.origin == 0x26000
    assert f.uf2_family == 0xADA52840 and "uf2" in f.flash_methods
    assert f.flash.end <= 0xF4000  # below the UF2 bootloader
    assert boards.get("microbit").core == "cortex-m0"
    assert boards.get("virt-rv32").uart.driver == "16550"


@pytest.mark.parametrize("alias,name", [
    ("nrf52", "nrf52840dk"), ("NRF52", "nrf52840dk"), (" feather ", "feather-nrf52840"),
    ("mps2", "mps2-an386"), ("virt", "virt-rv32"), ("native", "host"), ("netduino", "netduinoplus2"),
    ("nrf51", "microbit"), ("host", "host"),
])
def test_aliases_resolve(alias, name):
    assert boards.get(alias).name == name


def test_every_alias_resolves_to_its_board():
    for b in boards.load_all():
        for a in b.aliases:
            assert boards.get(a) == b


def test_unknown_board_lists_known_and_closest():
    with pytest.raises(UserError) as e:
        boards.get("nrf52840-dk")
    msg = str(e.value)
    assert "unknown board 'nrf52840-dk'" in msg
    assert "did you mean 'nrf52840dk'" in msg
    for name in EXPECTED:
        assert name in msg
    with pytest.raises(UserError, match=r"unknown board 'qqqqqq'\. Known boards: mps2-an386"):
        boards.get("qqqqqq")


# ---- broken board.json: the error names the file and the field ----

@pytest.fixture
def tree(tmp_path):
    """A copy of boards/ beside links to the real cmake/ and firmware/ (what validation reads)."""
    shutil.copytree(ROOT / "boards", tmp_path / "boards")
    for d in ("cmake", "firmware", "fpga"):
        (tmp_path / d).symlink_to(ROOT / d)
    return tmp_path


def _edit(tree: Path, board: str, change) -> Path:
    path = tree / "boards" / board / "board.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def _set(path, value):
    def change(d):
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        if value is KeyError:
            del obj[path[-1]]
        else:
            obj[path[-1]] = value
    return change


BROKEN = [
    (("core",), KeyError, "core", "missing"),
    (("core",), "cortex-m7", "core", "is not one of"),
    (("flash", "origin"), "zz", "flash.origin", "integer"),
    (("flash", "bytes"), 0, "flash.bytes", "out of range"),
    (("ram",), {"origin": 0x20000000}, "ram", "origin"),
    (("ram", "origin"), "0x100", "ram", "overlaps"),
    (("uart", "driver"), "nope", "uart.driver", "no driver 'nope'"),
    (("uart", "speed"), 9600, "uart.speed", "unknown field"),
    (("clock_hz",), -5, "clock_hz", "out of range"),
    (("clock_hz",), True, "clock_hz", "integer"),
    (("emulated",), "yes", "emulated", "true or false"),
    (("emulator",), ["qemu-system-arm", "-kernel", "{elf}"], "emulator", "{port}"),
    (("flash_methods",), ["jtag-magic"], "flash_methods", "is not one of"),
    (("usb_ids",), ["1366-1015"], "usb_ids", "VVVV:PPPP"),
    (("counter", "source"), "rdtsc", "counter.source", "is not one of"),
    (("exit",), "halt", "exit", "is not one of"),
    (("sources",), ["../common/cortex_m.c", "missing.c"], "sources", "missing.c does not exist"),
    (("linker_script",), None, "linker_script", "required"),
    (("toolchain",), "cmake/toolchains/nope.cmake", "toolchain", "does not exist"),
    (("name",), "other", "name", "folder name"),
    (("stack_bytes",), 100, "stack_bytes", "multiple of 8"),
    (("flsh",), {}, "flsh", "did you mean 'flash'"),
    (("image_offset",), "0x1000", "image_offset", "differs from flash.origin"),
]


@pytest.mark.parametrize("key,value,field,words", BROKEN, ids=[".".join(b[0]) + "=" + repr(b[1])[:12] for b in BROKEN])
def test_broken_board_json_names_file_and_field(tree, key, value, field, words):
    path = _edit(tree, "mps2-an386", _set(key, value))
    with pytest.raises(boards.BoardError) as e:
        boards.load_all(tree / "boards")
    msg = str(e.value)
    assert str(path) in msg
    assert f"field '{field}'" in msg
    assert words in msg


BROKEN_FPGA = [
    (("fpga", "family"), "gowin", "fpga.family", "is not one of ice40, ecp5"),
    (("fpga", "top"), KeyError, "fpga.top", "missing"),
    (("fpga", "constraints"), "../../fpga/ecp5/nope.lpf", "fpga.constraints", "does not exist"),
    (("fpga", "sources"), ["top.v"], "fpga.sources", "top.v does not exist"),
    (("fpga", "clock"), 25, "fpga.clock", "unknown field"),
    (("fpga", "program", "iceprog"), ["-S", "{bitstream}"], "fpga.program", "not one of the board's flash_methods"),
    (("fpga", "program", "fujprog"), ["x.bit"], "fpga.program.fujprog", "{bitstream}"),
]


@pytest.mark.parametrize("key,value,field,words", BROKEN_FPGA,
                         ids=[".".join(b[0]) + "=" + repr(b[1])[:12] for b in BROKEN_FPGA])
def test_broken_fpga_section_names_file_and_field(tree, key, value, field, words):
    path = _edit(tree, "ulx3s", _set(key, value))
    with pytest.raises(boards.BoardError) as e:
        boards.load_all(tree / "boards")
    msg = str(e.value)
    assert str(path) in msg and f"field '{field}'" in msg and words in msg


def test_uf2_board_needs_family(tree):
    path = _edit(tree, "feather-nrf52840", _set(("uf2_family",), None))
    with pytest.raises(boards.BoardError, match="field 'uf2_family'") as e:
        boards.load_all(tree / "boards")
    assert str(path) in str(e.value)


def test_duplicate_alias_is_rejected(tree):
    _edit(tree, "microbit", _set(("aliases",), ["mps2"]))
    with pytest.raises(boards.BoardError, match="'mps2' is already used by board"):
        boards.load_all(tree / "boards")


def test_invalid_json_is_reported(tree):
    path = tree / "boards" / "host" / "board.json"
    path.write_text('{"name": "host",}')
    with pytest.raises(boards.BoardError, match="not valid JSON") as e:
        boards.load_all(tree / "boards")
    assert str(path) in str(e.value)


def test_copied_tree_loads_unchanged(tree):
    assert [b.name for b in boards.load_all(tree / "boards")] == [b.name for b in boards.load_all()]


# ---- the command ----

def test_boards_command_json(capsys):
    assert main(["boards", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    by_name = {d["name"]: d for d in out}
    assert set(by_name) == EXPECTED | FPGA_BOARDS
    for d in out:
        for key in ("name", "aliases", "core", "emulated", "flash_bytes", "ram_bytes", "flash_methods"):
            assert key in d
    assert by_name["nrf52840dk"]["aliases"] == ["nrf52", "nrf52840", "pca10056"]
    assert by_name["nrf52840dk"]["flash_bytes"] == 1 << 20 and by_name["nrf52840dk"]["emulated"] is False
    assert by_name["host"]["flash_bytes"] is None


def test_boards_command_table(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["board", "aliases", "core"]
    assert out[1].startswith("mps2-an386 (default)")
    assert len(out) == 1 + len(EXPECTED | FPGA_BOARDS)
