"""Firmware builds per board (edgehost.build, `edgehost build`) and the HAL self-test image run
under every QEMU machine and as the host board: banner, echo, counter, exit code."""
from __future__ import annotations

import json
import random
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial
from elftools.elf.elffile import ELFFile

from edgehost import boards
from edgehost.build import build, measure
from edgehost.cli import UserError, main

ROOT = Path(__file__).resolve().parents[1]
QEMU_BOARDS = ["mps2-an386", "netduinoplus2", "microbit", "virt-rv32"]
REAL_BOARDS = ["nrf52840dk", "feather-nrf52840"]
CMD_COUNTER, CMD_EXIT = 0x01, 0x04
EXPECTED_KIND = {"mps2-an386": "systick-ticks", "netduinoplus2": "systick-ticks",
                 "microbit": "systick-ticks", "virt-rv32": "instructions", "host": "ns"}


@pytest.fixture(scope="session")
def selftest():
    """Build each board's eh-hal-selftest once per test session (incremental afterwards)."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = build(name, target="selftest")
        return cache[name]

    return get


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_exact(link, n: int) -> bytes:
    data = link.read(n)
    assert len(data) == n, f"expected {n} bytes, got {data!r}"
    return data


def _exercise(link, board: boards.Board, echoed_first: bytes = b"") -> None:
    """Banner, echo of every byte value but the two commands, two counter readings."""
    banner = link.readline().decode()
    assert banner == (f"EH-SELFTEST board={board.name} core={board.core} clock_hz={board.clock_hz} "
                      f"counter={EXPECTED_KIND[board.name]}\n")
    assert _read_exact(link, len(echoed_first)) == echoed_first
    rng = random.Random(board.name)
    payload = bytes(b for b in range(256) if b not in (CMD_COUNTER, CMD_EXIT))
    payload += bytes(rng.choice(payload) for _ in range(97))
    for i in range(0, len(payload), 64):  # the emulated UARTs take input a byte at a time
        chunk = payload[i:i + 64]
        link.write(chunk)
        assert _read_exact(link, len(chunk)) == chunk
    readings = []
    for _ in range(2):
        link.write(bytes([CMD_COUNTER]))
        reply = _read_exact(link, 5)
        assert reply[0] == CMD_COUNTER
        readings.append(struct.unpack("<I", reply[1:])[0])
    # A free-running counter moved forward between the two readings (modulo 2^32).
    assert 0 < (readings[1] - readings[0]) % (1 << 32) < (1 << 31)


@pytest.mark.parametrize("name", QEMU_BOARDS)
def test_selftest_echo_under_qemu(selftest, name):
    board = boards.get(name)
    r = selftest(name)
    assert r.elf.is_file() and r.elf.suffix == ".elf"
    for attempt in range(3):  # the free port may be taken between probing and QEMU binding it
        port = _free_port()
        qemu = subprocess.Popen(board.emulator_argv(r.elf, port), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            link = None
            deadline = time.monotonic() + 10
            while link is None and qemu.poll() is None and time.monotonic() < deadline:
                try:
                    link = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=10)
                except serial.SerialException:
                    time.sleep(0.02)
            if link is None:
                qemu.kill()
                _, err = qemu.communicate(timeout=10)
                if b"Address already in use" in err and attempt < 2:
                    continue
                pytest.fail(f"QEMU did not accept a connection: {err.decode(errors='replace')}")
            with link:
                _exercise(link, board)
                link.write(bytes([CMD_EXIT, 7]))
                assert _read_exact(link, 4) == b"BYE\n"
            # semihosting SYS_EXIT_EXTENDED / SiFive test device: QEMU exits with the code.
            assert qemu.wait(timeout=10) == 7
            return
        finally:
            if qemu.poll() is None:
                qemu.kill()
                qemu.wait()
            for f in (qemu.stdout, qemu.stderr):
                f.close()


def test_selftest_echo_on_host_board(selftest):
    board = boards.get("host")
    r = selftest("host")
    assert r.flash_bytes is None and r.flash_used > 0 and r.ram_used > 0
    proc = subprocess.Popen([str(r.elf)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("EDGEHOST_PORT /dev/") and line.endswith("\n")
        with serial.Serial(line.split(" ", 1)[1].strip(), timeout=10) as link:
            # The host board holds its output until the client has spoken once.
            link.write(b"!")
            _exercise(link, board, echoed_first=b"!")
            link.write(bytes([CMD_EXIT, 5]))
            assert _read_exact(link, 4) == b"BYE\n"
        assert proc.wait(timeout=10) == 5
        assert proc.stdout.read() == b""  # exactly one line on stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


# ---- images for the real boards: layout checked statically ----

def _symbol(elf: ELFFile, name: str) -> int:
    for sym in elf.get_section_by_name(".symtab").iter_symbols():
        if sym.name == name:
            return sym["st_value"]
    raise AssertionError(f"no symbol {name}")


@pytest.mark.parametrize("name", REAL_BOARDS + ["mps2-an386", "netduinoplus2", "microbit"])
def test_cortex_m_image_layout(selftest, name):
    board = boards.get(name)
    r = selftest(name)
    with open(r.elf, "rb") as f:
        elf = ELFFile(f)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        assert loads
        flash_sum = ram_sum = 0
        for seg in loads:
            if seg["p_filesz"]:
                assert board.flash.contains(seg["p_paddr"], seg["p_filesz"]), hex(seg["p_paddr"])
            if board.ram.contains(seg["p_vaddr"]):
                assert board.ram.contains(seg["p_vaddr"], seg["p_memsz"])
            else:
                assert board.flash.contains(seg["p_vaddr"], seg["p_memsz"])
        for sec in elf.iter_sections():
            if sec["sh_flags"] & 2 and sec["sh_size"]:
                addr = sec["sh_addr"]
                assert board.flash.contains(addr, sec["sh_size"]) or board.ram.contains(addr, sec["sh_size"]), sec.name
                if board.ram.contains(addr):
                    ram_sum += sec["sh_size"]
        # The image starts at the flash origin (the bootloader's offset on the Feather).
        vec = elf.get_section_by_name(".isr_vector")
        assert vec["sh_addr"] == board.flash.origin
        assert board.image_offset in (0, board.flash.origin)
        words = struct.unpack(f"<{vec['sh_size'] // 4}I", vec.data())
        assert words[0] == board.ram.end and words[0] % 8 == 0  # initial SP: top of RAM
        reset = _symbol(elf, "eh_cm_reset")
        assert words[1] == reset | 1  # Thumb bit set
        assert board.flash.contains(reset)
        assert words[15] == _symbol(elf, "eh_cm_systick_handler") | 1
        if board.uart.driver == "nrf_uarte":
            assert len(words) == 16 + 48
            assert words[16 + 2] == _symbol(elf, "eh_uart_irq_handler") | 1
        stack = elf.get_section_by_name(".stack")
        assert stack["sh_size"] >= board.stack_bytes
        assert stack["sh_addr"] + stack["sh_size"] <= board.ram.end
        flash_sum = sum(s["p_filesz"] for s in loads)
    assert r.flash_used == flash_sum
    assert r.ram_used == ram_sum
    assert (r.flash_bytes, r.ram_bytes) == (board.flash.bytes, board.ram.bytes)
    assert r.map_file is not None and "eh_cm_reset" in r.map_file.read_text()


def test_feather_image_after_bootloader(selftest):
    r = selftest("feather-nrf52840")
    with open(r.elf, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                assert seg["p_paddr"] >= 0x26000
        assert elf.header["e_entry"] & ~1 >= 0x26000


def test_rv32_image_layout(selftest):
    board = boards.get("virt-rv32")
    r = selftest("virt-rv32")
    with open(r.elf, "rb") as f:
        elf = ELFFile(f)
        assert elf.header["e_machine"] == "EM_RISCV" and elf.elfclass == 32
        # -bios none: QEMU jumps to the start of DRAM, where _start must be.
        assert elf.header["e_entry"] == _symbol(elf, "_start") == board.flash.origin == 0x80000000
        flags = elf.header["e_flags"]
        assert flags & 0x1  # RVC
        assert not flags & 0x6  # soft-float ABI (rv32imc has no F)


def test_incremental_build_does_not_relink(selftest):
    r = selftest("mps2-an386")
    before = r.elf.stat().st_mtime_ns
    again = build("mps2", target="selftest")
    assert again.elf == r.elf and again.elf.stat().st_mtime_ns == before
    assert (again.flash_used, again.ram_used) == (r.flash_used, r.ram_used)


def test_measure_host_board_from_sections(selftest):
    r = selftest("host")
    with open(r.elf, "rb") as f:
        elf = ELFFile(f)
        alloc = [s for s in elf.iter_sections() if s["sh_flags"] & 2]
        ram = sum(s["sh_size"] for s in alloc if s["sh_flags"] & 1)
        flash = sum(s["sh_size"] for s in alloc if not s["sh_flags"] & 1 and s["sh_type"] != "SHT_NOBITS")
    assert measure(r.elf, boards.get("host")) == (flash, ram) == (r.flash_used, r.ram_used)


# ---- errors ----

def test_unknown_board_and_target():
    with pytest.raises(UserError, match="unknown board 'mps3'"):
        build("mps3", target="selftest")
    with pytest.raises(UserError, match="unknown build target 'tests'"):
        build("mps2", target="tests")


def test_missing_toolchain_names_the_package(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: None if "riscv64" in cmd else real_which(cmd, *a, **k))
    with pytest.raises(UserError, match="apt-get install .*gcc-riscv64-unknown-elf"):
        build("virt-rv32", target="selftest")
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: None if "arm-none-eabi" in cmd else real_which(cmd, *a, **k))
    with pytest.raises(UserError, match="gcc-arm-none-eabi"):
        build("microbit", target="selftest")


def test_build_dir_of_another_board_is_refused(selftest, tmp_path):
    d = tmp_path / "fw"
    build("microbit", target="selftest", build_dir=d)
    with pytest.raises(UserError, match="configured for board microbit"):
        build("mps2-an386", target="selftest", build_dir=d)


def test_image_too_big_says_by_how_much(selftest, tmp_path, monkeypatch):
    """The same sources with a board whose flash is 1 KiB: the error gives the overflow."""
    normal = selftest("mps2-an386")
    for d in ("CMakeLists.txt", "cmake", "kernels_c", "firmware", "bench", "tests", "host", "fpga"):
        (tmp_path / d).symlink_to(ROOT / d)
    shutil.copytree(ROOT / "boards", tmp_path / "boards")
    path = tmp_path / "boards" / "mps2-an386" / "board.json"
    data = json.loads(path.read_text())
    data["flash"]["bytes"] = 1024
    path.write_text(json.dumps(data))
    monkeypatch.setenv("EDGEHOST_ROOT", str(tmp_path))
    with pytest.raises(UserError) as e:
        build("mps2-an386", target="selftest", build_dir=tmp_path / "out")
    msg = str(e.value)
    assert "does not fit board mps2-an386" in msg and "FLASH is over by" in msg
    over = int(msg.split("FLASH is over by ")[1].split()[0])
    assert over == normal.flash_used - 1024


def test_build_command_json(selftest, capsys):
    r = selftest("microbit")
    assert main(["build", "--board", "nrf51", "--target", "selftest", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["elf"] == str(r.elf) and out["board"] == "microbit"
    assert (out["flash_used"], out["ram_used"]) == (r.flash_used, r.ram_used)
    assert (out["flash_bytes"], out["ram_bytes"]) == (256 << 10, 16 << 10)


def test_build_command_text_and_error(selftest, capsys):
    r = selftest("virt-rv32")
    assert main(["build", "-b", "virt", "-t", "selftest"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == str(r.elf)
    assert f"flash {r.flash_used} of {4 << 20} bytes" in out[2]
    assert main(["build", "--board", "nope", "--target", "selftest"]) == 2
    assert "unknown board 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("name", REAL_BOARDS + ["netduinoplus2"])
def test_platformio_script_generates_what_cmake_generates(selftest, tmp_path, name):
    """platformio.ini's pre-script writes the same eh_board_config.h / eh_memory.ld as CMake."""
    r = selftest(name)
    subprocess.run([sys.executable, str(ROOT / "boards" / "platformio_extra.py"), name, str(tmp_path)],
                   check=True)
    for f in ("eh_board_config.h", "eh_memory.ld"):
        assert (tmp_path / f).read_text() == (r.elf.parent / "eh_board" / f).read_text()
    ini = (ROOT / "platformio.ini").read_text()
    assert f"custom_eh_board = {name}" in ini
    assert f"board_build.ldscript = boards/{name}/link.ld" in ini
