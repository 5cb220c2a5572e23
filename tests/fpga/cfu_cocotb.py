"""cocotb tests of the custom unit alone (fpga/rtl/eh_cfu.v), run by test_cfu.py under Icarus
Verilog: a Python RAM model on its bus port and a PCPI driver that behaves like PicoRV32's,
results compared with the numpy twins in edgehost.sim (fc_b1_s32, lif_step_q15)."""
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from edgehost import sim

OPC = 0x0B
BASE = 0x8000_0000


def insn(funct3: int) -> int:
    return (funct3 << 12) | (5 << 7) | OPC  # rd = x5 (unused by the unit)


class Ram:
    """Word-addressed RAM with one cycle of read latency, like the SoC's."""

    def __init__(self, dut):
        self.dut = dut
        self.mem: dict[int, int] = {}
        self.reads = self.writes = 0

    def write_bytes(self, addr: int, data: bytes) -> None:
        for i, b in enumerate(data):
            a = addr + i
            w = self.mem.get(a & ~3, 0)
            sh = 8 * (a & 3)
            self.mem[a & ~3] = (w & ~(0xFF << sh)) | (b << sh)

    def read_bytes(self, addr: int, n: int) -> bytes:
        return bytes((self.mem.get((addr + i) & ~3, 0) >> (8 * ((addr + i) & 3))) & 0xFF for i in range(n))

    async def run(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            # sample what the unit drove during the cycle that just ended
            gnt = int(dut.bus_req.value)
            if int(dut.bus_en.value):
                assert int(dut.bus_gnt.value), "bus access without the grant"
                addr = int(dut.bus_addr.value)
                assert addr & 3 == 0, f"unaligned bus address {addr:#x}"
                we = int(dut.bus_we.value)
                old = self.mem.get(addr, 0)
                dut.bus_rdata.value = old
                if we:
                    self.writes += 1
                    wd = int(dut.bus_wdata.value)
                    m = sum(0xFF << (8 * i) for i in range(4) if we >> i & 1)
                    self.mem[addr] = (old & ~m) | (wd & m)
                else:
                    self.reads += 1
            dut.bus_gnt.value = gnt  # granted the cycle after the request, as in eh_soc.v


async def pcpi(dut, funct3: int, rs1: int, rs2: int) -> tuple[int, int]:
    """Issue one instruction like PicoRV32: valid until ready is seen, dropped the cycle after.
    Returns (rd, cycles from valid to ready)."""
    dut.pcpi_valid.value = 1
    dut.pcpi_insn.value = insn(funct3)
    dut.pcpi_rs1.value = rs1 & 0xFFFFFFFF
    dut.pcpi_rs2.value = rs2 & 0xFFFFFFFF
    cycles = 0
    while True:
        await RisingEdge(dut.clk)
        await ReadOnly()
        cycles += 1
        if cycles > 3 and not int(dut.pcpi_wait.value) and not int(dut.pcpi_ready.value):
            raise AssertionError("the unit neither waits nor answers (PicoRV32 would trap)")
        if int(dut.pcpi_ready.value):
            assert int(dut.pcpi_wr.value) == 1
            rd = int(dut.pcpi_rd.value)
            break
        assert cycles < 100000, "no answer"
    await RisingEdge(dut.clk)
    dut.pcpi_valid.value = 0
    return rd, cycles


async def setup(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.resetn.value = 0
    dut.enable.value = 1
    dut.pcpi_valid.value = 0
    dut.pcpi_insn.value = 0
    dut.pcpi_rs1.value = 0
    dut.pcpi_rs2.value = 0
    dut.bus_gnt.value = 0
    dut.bus_rdata.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    ram = Ram(dut)
    cocotb.start_soon(ram.run())
    dut.resetn.value = 1
    await RisingEdge(dut.clk)
    return ram


def words(a: np.ndarray) -> bytes:
    return a.astype("<u4").tobytes()


@cocotb.test()
async def xpc_and_bdot(dut):
    """XPC on random words, BDOT on random vectors == fc_b1_s32 of edgehost.sim."""
    ram = await setup(dut)
    rng = np.random.default_rng(1)
    for a, b in [(0, 0), (0xFFFFFFFF, 0), (0xFFFFFFFF, 0xFFFFFFFF)] + \
            [tuple(int(v) for v in rng.integers(0, 1 << 32, 2, dtype=np.uint64)) for _ in range(40)]:
        rd, _ = await pcpi(dut, 0, a, b)
        assert rd == bin(a ^ b).count("1"), (hex(a), hex(b), rd)
    for n in [1, 2, 3, 7, 31, 32, 33, 64]:
        x = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
        w = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
        xa, wa = BASE + 0x100, BASE + 0x2000 + 4 * int(rng.integers(0, 64))
        ram.write_bytes(xa, words(x))
        ram.write_bytes(wa, words(w))
        await pcpi(dut, 1, n, 0)
        r0 = ram.reads
        rd, cycles = await pcpi(dut, 2, wa, xa)
        dot = int(sim.fc_b1_s32(32 * n, x, w.reshape(1, n))[0])
        assert rd == (32 * n - dot) // 2, (n, rd, dot)
        assert ram.reads - r0 == 2 * n
        dut._log.info(f"BDOT n={n} words: {cycles} cycles from valid to ready")


@cocotb.test()
async def bfc(dut):
    """BFC (every row of a binary FC, last word masked, int32 dots written) == fc_b1_s32."""
    ram = await setup(dut)
    rng = np.random.default_rng(4)
    for k, rows in [(1, 1), (31, 3), (32, 2), (33, 5), (100, 7), (256, 4), (67, 1)]:
        nw = (k + 31) // 32
        x = rng.integers(0, 1 << 32, nw, dtype=np.uint64).astype(np.uint32)
        w = rng.integers(0, 1 << 32, (rows, nw), dtype=np.uint64).astype(np.uint32)
        xa, wa, ya = BASE + 0x100, BASE + 0x4000, BASE + 0x9000
        ram.write_bytes(xa, words(x))
        ram.write_bytes(wa, words(w.ravel()))
        ram.write_bytes(ya - 4, b"\xa5" * (4 * rows + 8))
        await pcpi(dut, 1, nw, ya)
        await pcpi(dut, 5, rows, k)
        _, cycles = await pcpi(dut, 6, wa, xa)
        want = sim.fc_b1_s32(k, x, w)
        got = np.frombuffer(ram.read_bytes(ya, 4 * rows), "<i4")
        assert np.array_equal(got, want), (k, rows, got, want)
        assert ram.read_bytes(ya - 4, 4) == b"\xa5" * 4 and ram.read_bytes(ya + 4 * rows, 4) == b"\xa5" * 4
        dut._log.info(f"BFC k={k} rows={rows}: {cycles} cycles from valid to ready")


@cocotb.test()
async def lif(dut):
    """LIF with a shift leak, a shared threshold, both resets, odd sizes and byte offsets ==
    lif_step_q15 of edgehost.sim; nothing outside the arrays is written."""
    ram = await setup(dut)
    rng = np.random.default_rng(2)
    rnd = random.Random(3)
    for trial in range(24):
        n = rnd.choice([1, 2, 3, 4, 5, 9, 17, 33])
        shift = rnd.randint(1, 15)
        thr = rnd.choice([1, 2, 100, rnd.randint(1, 32767), 32767])
        reset = rnd.choice(["subtract", "zero"])
        if trial % 4 == 0:  # extremes: saturation both ways
            v = rng.choice(np.array([-32768, 32767, -1, 0, 1], np.int16), n)
            x = rng.choice(np.array([-32768, 32767, 0], np.int16), n)
        else:
            v = rng.integers(-32768, 32768, n).astype(np.int16)
            x = rng.integers(-32768, 32768, n).astype(np.int16)
        s = rng.integers(0, 2, n).astype(np.uint8)
        va = BASE + 0x1000 + 2 * rnd.randint(0, 3)
        xa = BASE + 0x3000 + 2 * rnd.randint(0, 3)
        sa = BASE + 0x5000 + rnd.randint(0, 3)
        guard = bytes([0xA5]) * 8
        for addr, data in ((va, v.astype("<i2").tobytes()), (xa, x.astype("<i2").tobytes()), (sa, s.tobytes())):
            ram.write_bytes(addr - 8, guard)
            ram.write_bytes(addr, data)
            ram.write_bytes(addr + len(data), guard)
        await pcpi(dut, 3, shift | (0x100 if reset == "zero" else 0), thr)
        await pcpi(dut, 1, n, sa)
        rd, cycles = await pcpi(dut, 4, va, xa)
        v_ref, s_ref = sim.lif_step_q15(x, v, s, np.array([thr], np.int16), shift=np.array([shift], np.uint8),
                                        reset=reset)
        v_got = np.frombuffer(ram.read_bytes(va, 2 * n), "<i2")
        s_got = np.frombuffer(ram.read_bytes(sa, n), np.uint8)
        assert np.array_equal(v_got, v_ref), (trial, n, shift, thr, reset, v, x, s, v_got, v_ref)
        assert np.array_equal(s_got, s_ref), (trial, n, shift, thr, reset, s_got, s_ref)
        assert rd == int(s_ref.sum())
        for addr, ln in ((va, 2 * n), (xa, 2 * n), (sa, n)):
            assert ram.read_bytes(addr - 8, 8) == guard and ram.read_bytes(addr + ln, 8) == guard
        if trial == 1:
            dut._log.info(f"LIF n={n}: {cycles} cycles from valid to ready")


@cocotb.test()
async def disabled_unit_ignores(dut):
    """With enable low the unit never answers: PicoRV32 then traps on the instruction."""
    await setup(dut)
    dut.enable.value = 0
    dut.pcpi_valid.value = 1
    dut.pcpi_insn.value = insn(0)
    for _ in range(20):
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert not int(dut.pcpi_wait.value) and not int(dut.pcpi_ready.value)
    await RisingEdge(dut.clk)
    dut.pcpi_valid.value = 0
