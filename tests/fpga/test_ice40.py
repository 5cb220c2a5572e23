"""The iCEBreaker board: `edgehost flash --board icebreaker` gives a clear error when no
programming tool or no board is there (no FPGA is connected to the machines the tests run on),
the boot ROM protocol of the UART loader, and (slow) the real bitstream and its report."""
import os
import stat
import struct
from pathlib import Path

import pytest

from edgehost import boards
from edgehost.flash import FlashError, flash
from edgehost.fpga import ice40


@pytest.fixture(scope="module")
def elf():
    import shutil

    from edgehost.build import build
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.skip("no RISC-V cross compiler (apt-get install gcc-riscv64-unknown-elf)")
    return build("icebreaker", target="selftest").elf  # a failing build fails the tests


def fake_tool(folder: Path, name: str, output: str, code: int) -> None:
    p = folder / name
    p.write_text(f'#!/bin/sh\nprintf "%s\\n" "{output}" >&2\nexit {code}\n')  # builtins only: PATH is this folder
    p.chmod(p.stat().st_mode | stat.S_IXUSR)


def test_board_is_real_with_fpga_methods():
    b = boards.get("icebreaker")
    assert b.is_real and b.flash_methods == ("iceprog", "openfpgaloader")
    assert ice40.is_fpga_board(b) and boards.get("up5k").name == "icebreaker"


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
    monkeypatch.setattr(ice40, "build_bitstream", lambda name: ice40.Bitstream(name, dummy, {}))
    with pytest.raises(FlashError) as e:
        flash("icebreaker", elf=elf, method="iceprog")
    msg = str(e.value)
    assert "iceprog found no iCE40 board on USB" in msg and "Can't find iCE FTDI" in msg


def test_a_failing_programmer_is_an_error_not_a_fallback(elf, tmp_path, monkeypatch):
    fake_tool(tmp_path, "iceprog", "flash ID mismatch", 1)
    monkeypatch.setenv("PATH", str(tmp_path))
    dummy = tmp_path / "x.bin"
    dummy.write_bytes(b"\0" * 16)
    monkeypatch.setattr(ice40, "build_bitstream", lambda name: ice40.Bitstream(name, dummy, {}))
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
    ice40.upload(port, bytes(range(256)) * 3)
    with pytest.raises(RuntimeError, match="rejected"):
        ice40.upload(FakePort(answer_bad=True), b"abc")


def test_image_starts_at_ram(elf):
    data = ice40.image_bytes(elf)
    b = boards.get("icebreaker")
    assert 0 < len(data) <= b.flash.bytes


def test_icebreaker_top_boots_the_uploaded_image(elf, tmp_path):
    """The iCEBreaker top in Icarus Verilog (yosys' SPRAM model), its UART at 8 clocks per bit:
    the boot ROM greets, refuses a bad checksum, loads the selftest image, which then runs."""
    import shutil
    import sys
    cells = Path("/usr/share/yosys/ice40/cells_sim.v")
    if shutil.which("iverilog") is None or not cells.is_file():
        pytest.skip("needs iverilog and yosys (its iCE40 cell models)")
    runner_mod = pytest.importorskip("cocotb_tools.runner")
    from edgehost.fpga import sim
    root = Path(__file__).resolve().parents[2]
    hexf = ice40.boot_hex(tmp_path / "boot.hex")
    img = tmp_path / "image.bin"
    img.write_bytes(ice40.image_bytes(elf))
    runner = runner_mod.get_runner("icarus")
    runner.build(sources=[root / "fpga" / "ice40" / "eh_icebreaker_top.v", *sim.rtl_sources(), cells],
                 hdl_toplevel="eh_icebreaker_top", build_dir=tmp_path / "build", timescale=("1ns", "1ps"),
                 parameters={"BOOTROM_HEX": f'"{hexf}"', "CLKS_PER_BIT": 8},
                 defines={"NO_ICE40_DEFAULT_ASSIGNMENTS": 1}, always=True)
    here = str(Path(__file__).resolve().parent)
    env = {"PYTHONPATH": here + os.pathsep + os.environ.get("PYTHONPATH", ""), "EH_CPB": "8", "EH_IMAGE": str(img)}
    sys.path.insert(0, here)
    try:
        results = runner.test(hdl_toplevel="eh_icebreaker_top", test_module="icebreaker_cocotb",
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
    bit = ice40.build_bitstream("icebreaker")
    assert bit.path.stat().st_size > 100_000
    u = bit.report
    assert u["ICESTORM_LC"]["used"] <= u["ICESTORM_LC"]["available"] == 5280
    assert u["ICESTORM_SPRAM"]["used"] == 4
    assert all(f >= 12.0 for f in u["fmax_mhz"].values())
