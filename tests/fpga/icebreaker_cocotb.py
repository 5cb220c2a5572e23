"""cocotb test of the whole iCEBreaker top (fpga/ice40/eh_icebreaker_top.v) in Icarus Verilog with
yosys' iCE40 cell models (SPRAM): the boot ROM greets, takes a firmware image over the serial
line (the host side of edgehost.fpga.ice40.upload, bit by bit), and the image runs from SPRAM."""
import os
import struct

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

CPB = int(os.environ["EH_CPB"])


class Line:
    def __init__(self, dut):
        self.dut = dut
        self.rx = bytearray()

    async def monitor(self):
        dut = self.dut
        while True:
            await FallingEdge(dut.TX)
            await ClockCycles(dut.CLK, CPB + CPB // 2)
            b = 0
            for i in range(8):
                b |= int(dut.TX.value) << i
                await ClockCycles(dut.CLK, CPB)
            self.rx.append(b)

    async def send(self, data: bytes):
        for byte in data:
            for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
                self.dut.RX.value = bit
                await ClockCycles(self.dut.CLK, CPB)

    async def wait_for(self, text: bytes, cycles: int):
        for _ in range(cycles // 1000):
            if text in self.rx:
                return
            await ClockCycles(self.dut.CLK, 1000)
        raise AssertionError(f"{text!r} not seen; got {bytes(self.rx)!r}")


@cocotb.test()
async def boot_upload_and_run(dut):
    cocotb.start_soon(Clock(dut.CLK, 10, unit="ns").start())
    dut.RX.value = 1
    line = Line(dut)
    cocotb.start_soon(line.monitor())
    await line.wait_for(b"EHBOOT\n", 200_000)
    image = open(os.environ["EH_IMAGE"], "rb").read()
    bad = bytes(image)
    await line.send(b"L" + struct.pack("<I", len(bad)) + bad + struct.pack("<I", (sum(bad) + 1) & 0xFFFFFFFF))
    await line.wait_for(b"BAD\n", 200_000)           # a wrong checksum is refused ...
    line.rx.clear()
    await line.send(b"L" + struct.pack("<I", len(image)) + image + struct.pack("<I", sum(image) & 0xFFFFFFFF))
    await line.wait_for(b"OK\n", 200_000)            # ... the right one accepted
    await line.wait_for(b"EH-SELFTEST board=icebreaker", 2_000_000)
    await line.wait_for(b"\n", 200_000)
    assert int(dut.LEDR_N.value) == 1  # no trap
    dut._log.info(bytes(line.rx).decode(errors="replace"))
