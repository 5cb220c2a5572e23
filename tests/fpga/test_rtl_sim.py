"""The Verilator model of the edgehost SoC (fpga/, edgehost.fpga.sim) on tiny programs: the
custom unit answers its instructions, a disabled unit makes the core trap (exit 99), the UART
and the exit register work, bad images are refused. The HIL tests (tests/hil, board rv32-sim)
run the real firmware on it."""
import shutil
import subprocess
from pathlib import Path

import pytest

from edgehost import boards

pytestmark = pytest.mark.skipif(shutil.which("verilator") is None or shutil.which("riscv64-unknown-elf-gcc") is None,
                                reason="needs verilator and riscv64-unknown-elf-gcc")


@pytest.fixture(scope="module")
def model():
    from edgehost.fpga import sim
    pytest.importorskip("pythondata_cpu_picorv32", reason="pip install -e '.[fpga]'")
    return sim.ensure_model()  # verilator is there (module mark): a failing build fails the tests


def program(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "t.S"
    src.write_text(".section .text\n.globl _start\n_start:\n" + body)
    elf = tmp_path / "t.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-misa-spec=2.2", "-march=rv32imc", "-mabi=ilp32", "-nostdlib",
                    "-nostartfiles", "-Wl,-N", "-Wl,-Ttext=0x80000000", "-o", str(elf), str(src)], check=True)
    return elf


EXIT = """
    li t0, 0x100000
    slli a0, a0, 16
    li t1, 0x3333
    or a0, a0, t1
    sw a0, 0(t0)
1:  j 1b
"""


def run(model, elf, *extra, tmp_path):
    uart = tmp_path / "uart.txt"
    r = subprocess.run([str(model), "--elf", str(elf), "--uart-file", str(uart), "--max-cycles", "100000", *extra],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, uart.read_bytes() if uart.exists() else b"", r.stderr


XPC = """
    li a1, 0x0F0F00FF
    li a2, 0x00FF0F0F
    .insn r 0x0B, 0, 0, a0, a1, a2
""" + EXIT


def test_custom_instruction_answers(model, tmp_path):
    code, _, err = run(model, program(tmp_path, XPC), tmp_path=tmp_path)
    assert code == bin(0x0F0F00FF ^ 0x00FF0F0F).count("1"), err


def test_disabled_unit_traps(model, tmp_path):
    code, _, err = run(model, program(tmp_path, XPC), "--no-cfu", tmp_path=tmp_path)
    assert code == 99 and "trapped" in err


def test_uart_and_exit_zero(model, tmp_path):
    body = """
    li t0, 0x10000000
    li t1, 'h'
    sb t1, 0(t0)
2:  lbu t2, 5(t0)
    andi t2, t2, 0x20
    beqz t2, 2b
    li t1, 'i'
    sb t1, 0(t0)
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b
"""
    code, out, err = run(model, program(tmp_path, body), tmp_path=tmp_path)
    assert code == 0 and out == b"hi", err


def test_rdcycle_counts_cycles(model, tmp_path):
    body = """
    rdcycle a1
    nop
    nop
    rdcycle a2
    sub a0, a2, a1
""" + EXIT
    code, _, err = run(model, program(tmp_path, body), tmp_path=tmp_path)
    assert 2 < code < 40, err  # a few cycles per instruction on PicoRV32, the same on every run
    assert run(model, program(tmp_path, body), tmp_path=tmp_path)[0] == code


def test_image_outside_ram_is_refused(model, tmp_path):
    src = tmp_path / "t.S"
    src.write_text(".section .text\n.globl _start\n_start:\n j _start\n")
    elf = tmp_path / "low.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv32i", "-mabi=ilp32", "-nostdlib", "-nostartfiles",
                    "-Wl,-N", "-Wl,-Ttext=0x1000", "-o", str(elf), str(src)], check=True)
    code, _, err = run(model, elf, tmp_path=tmp_path)
    assert code == 2 and "outside the RAM" in err
    (tmp_path / "junk").write_bytes(b"not an elf")
    code, _, err = run(model, tmp_path / "junk", tmp_path=tmp_path)
    assert code == 2 and "not an ELF" in err


def test_boards_are_rtl_simulated():
    from edgehost.fpga import sim
    assert sim.is_rtl_sim(boards.get("rv32-sim")) and sim.is_rtl_sim(boards.get("rv32-sim-base"))
    assert not sim.is_rtl_sim(boards.get("virt-rv32"))
    assert "--no-cfu" in boards.get("rv32-sim-base").emulator


@pytest.mark.slow
def test_bench_reports_cycles_for_the_accelerated_kernels():
    """`edgehost bench --board rv32-sim --quick`: cycles on every entry, the fc_b1 and lif_q15
    cases present (their on-target self-checks against the portable path fail the run if they
    differ)."""
    from edgehost.bench import run_bench
    r = run_bench("rv32-sim", quick=True)
    assert r.entries and all(e.cycles is not None and e.cycles > 0 for e in r.entries)
    kernels = {e.kernel for e in r.entries}
    assert {"fc_b1", "lif_q15"} <= kernels


def _custom0_count(elf) -> int:
    out = subprocess.run(["riscv64-unknown-elf-objdump", "-d", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    n = 0
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and len(parts[1].strip()) == 8:
            try:
                n += (int(parts[1].strip(), 16) & 0x7F) == 0x0B
            except ValueError:
                pass
    return n


def test_unit_instructions_only_where_the_board_has_the_unit():
    """EH_HAVE_RV_CFU comes only from rv32-sim's toolchain file: its firmware uses the unit's
    instructions, the same sources for rv32-sim-base and virt-rv32 do not."""
    from edgehost.build import build
    assert _custom0_count(build("rv32-sim", target="firmware").elf) > 0
    assert _custom0_count(build("rv32-sim-base", target="firmware").elf) == 0
    assert _custom0_count(build("virt-rv32", target="firmware").elf) == 0
