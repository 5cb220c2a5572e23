"""cocotb test of a whole FPGA board top in Icarus Verilog (fpga/ice40/eh_icebreaker_top.v with
yosys' iCE40 cell models for the SPRAM, fpga/ecp5/eh_ulx3s_top.v with its block RAM): the boot ROM
greets, takes a firmware image over the serial line (the host side of
edgehost.fpga.bitstream.upload, bit by bit), and the image runs from RAM.

EH_BOARD names the board; its pins: CLK/RX/TX/LEDR_N (iCEBreaker), clk_25mhz/ftdi_txd/ftdi_rxd/led/btn
(ULX3S)."""
import os
import struct

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

CPB = int(os.environ["EH_CPB"])
BOARD = os.environ["EH_BOARD"]


def pins(dut):
    """(clock, the FPGA's receive line, its transmit line)"""
    if BOARD == "icebreaker":
        return dut.CLK, dut.RX, dut.TX
    return dut.clk_25mhz, dut.ftdi_txd, dut.ftdi_rxd


def trapped(dut) -> bool:
    if BOARD == "icebreaker":
        return int(dut.LEDR_N.value) == 0
    return (int(dut.led.value) >> 7) & 1 == 1


class Line:
    def __init__(self, dut):
        self.clk, self.fpga_rx, self.fpga_tx = pins(dut)
        self.rx = bytearray()

    async def monitor(self):
        while True:
            await FallingEdge(self.fpga_tx)
            await ClockCycles(self.clk, CPB + CPB // 2)
            b = 0
            for i in range(8):
                b |= int(self.fpga_tx.value) << i
                await ClockCycles(self.clk, CPB)
            self.rx.append(b)

    async def send(self, data: bytes):
        for byte in data:
            for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
                self.fpga_rx.value = bit
                await ClockCycles(self.clk, CPB)

    async def wait_for(self, text: bytes, cycles: int):
        for _ in range(cycles // 1000):
            if text in self.rx:
                return
            await ClockCycles(self.clk, 1000)
        raise AssertionError(f"{text!r} not seen; got {bytes(self.rx)!r}")


@cocotb.test()
async def boot_upload_and_run(dut):
    line = Line(dut)
    cocotb.start_soon(Clock(line.clk, 10, unit="ns").start())
    line.fpga_rx.value = 1
    if BOARD != "icebreaker":
        dut.btn.value = 1  # PWR released (active low): not in reset
    cocotb.start_soon(line.monitor())
    await line.wait_for(b"EHBOOT\n", 200_000)
    image = open(os.environ["EH_IMAGE"], "rb").read()
    bad = bytes(image)
    await line.send(b"L" + struct.pack("<I", len(bad)) + bad + struct.pack("<I", (sum(bad) + 1) & 0xFFFFFFFF))
    await line.wait_for(b"BAD\n", 200_000)           # a wrong checksum is refused ...
    line.rx.clear()
    await line.send(b"L" + struct.pack("<I", len(image)) + image + struct.pack("<I", sum(image) & 0xFFFFFFFF))
    await line.wait_for(b"OK\n", 200_000)            # ... the right one accepted
    await line.wait_for(b"EH-SELFTEST board=" + BOARD.encode(), 2_000_000)
    await line.wait_for(b"\n", 200_000)
    assert not trapped(dut)
    dut._log.info(bytes(line.rx).decode(errors="replace"))
