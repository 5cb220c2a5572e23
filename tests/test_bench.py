"""The bench: the QEMU instruction-counting plugin, the harness protocol and `edgehost bench`.

The plugin is checked against counts derived by hand from tiny assembly programs, against a
second method (the single-step execution trace) and for repeatability; the command is checked
for its schema, not for any figure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgehost.bench import elf as eh_elf
from edgehost.bench import plugin as eh_plugin
from edgehost.bench import run as eh_run

ROOT = Path(__file__).resolve().parents[1]

HAVE_ARM = shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
HAVE_RV = shutil.which("riscv64-unknown-elf-gcc") and shutil.which("qemu-system-riscv32")
HAVE_GCC = shutil.which("gcc")

needs_arm = pytest.mark.skipif(not (HAVE_ARM and HAVE_GCC), reason="needs gcc, arm-none-eabi-gcc, qemu-system-arm")
needs_rv = pytest.mark.skipif(not (HAVE_RV and HAVE_GCC), reason="needs gcc, riscv64-unknown-elf-gcc, qemu-system-riscv32")


@pytest.fixture(scope="session")
def plugin_lib(tmp_path_factory) -> Path:
    if not HAVE_GCC:
        pytest.skip("no host gcc")
    return eh_plugin.build_plugin(tmp_path_factory.mktemp("plugin"))


# ---- tiny hand-written programs: the count follows from the code --------------------------
# Both run a calibration pair (begin; end) then begin; a loop of N iterations of two
# instructions after one set-up instruction; end. Raw counts run from the first instruction
# of eh_bench_begin (included) to that of eh_bench_end (excluded):
#   calibration: begin's return + the call of end                     = 2
#   case:        begin's return + set-up + 2 N (loop) + the call of end = 2 N + 3
# so the plugin's net figure is 2 N + 1.

ARM_LOOP = """
    .syntax unified
    .thumb
    .section .vectors, "a"
    .word 0x20008000
    .word reset + 1
    .text
    .thumb_func
    .global eh_bench_begin
eh_bench_begin:
    bx lr
    .thumb_func
    .global eh_bench_end
eh_bench_end:
    bx lr
    .thumb_func
    .global reset
reset:
    bl eh_bench_begin
    bl eh_bench_end
    bl eh_bench_begin
    ldr r0, =LOOPS
1:  subs r0, #1
    bne 1b
    bl eh_bench_end
    movs r0, #0x18
    ldr r1, =0x20026
    bkpt 0xab
    b .
"""
ARM_LD = "ENTRY(reset)\nSECTIONS { . = 0; .text : { KEEP(*(.vectors)) *(.text*) } }\n"

RV_LOOP = """
    .text
    .global _start
_start:
    call eh_bench_begin
    call eh_bench_end
    call eh_bench_begin
    li a0, LOOPS
1:  addi a0, a0, -1
    bnez a0, 1b
    call eh_bench_end
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
2:  j 2b
    .global eh_bench_begin
eh_bench_begin:
    ret
    .global eh_bench_end
eh_bench_end:
    ret
"""


def _tiny_arm(tmp: Path, loops: int) -> Path:
    src, ld, out = tmp / f"loop{loops}.S", tmp / "loop.ld", tmp / f"loop{loops}.elf"
    src.write_text(ARM_LOOP.replace("LOOPS", str(loops)))
    ld.write_text(ARM_LD)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-T", str(ld),
                    "-o", str(out), str(src)], check=True, capture_output=True)
    return out


def _tiny_rv(tmp: Path, loops: int) -> Path:
    src, out = tmp / f"loop{loops}_rv.S", tmp / f"loop{loops}_rv.elf"
    src.write_text(RV_LOOP.replace("LOOPS", str(loops)))
    subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv32imc", "-mabi=ilp32", "-nostdlib",
                    "-Wl,-Ttext=0x80000000", "-o", str(out), str(src)], check=True, capture_output=True)
    return out


ARM_ARGV = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native"]
RV_ARGV = ["qemu-system-riscv32", "-M", "virt", "-bios", "none", "-nographic", "-monitor", "none"]


def _count(argv: list[str], elf: Path, lib: Path, log: Path) -> eh_run.PluginCounts:
    e = eh_elf.Elf.read(elf)
    b, en = eh_run.marker_addresses(e)
    subprocess.run(argv + ["-kernel", str(elf), "-plugin", f"{lib},begin=0x{b:x},end=0x{en:x}",
                           "-d", "plugin", "-D", str(log)], check=True, timeout=60,
                   stdin=subprocess.DEVNULL, capture_output=True)
    return eh_run.parse_plugin(log.read_text())


def _trace(argv: list[str], elf: Path, log: Path) -> list[int]:
    b, en = eh_run.marker_addresses(eh_elf.Elf.read(elf))
    subprocess.run(argv + ["-kernel", str(elf), "-singlestep", "-d", "exec,nochain", "-D", str(log)],
                   check=True, timeout=60, stdin=subprocess.DEVNULL, capture_output=True)
    with open(log, "rb") as f:
        return eh_run.trace_counts(f, b, en)


@needs_arm
@pytest.mark.parametrize("loops", [1, 37, 1000])
def test_plugin_counts_known_arm_loop_exactly(plugin_lib, tmp_path, loops):
    elf = _tiny_arm(tmp_path, loops)
    c = _count(ARM_ARGV, elf, plugin_lib, tmp_path / "p.log")
    assert c.errors == []
    assert c.calib_raw == 2
    assert c.raw == [2 * loops + 3]
    assert c.insns == [2 * loops + 1]


@needs_arm
def test_plugin_and_trace_agree_on_arm_loop(plugin_lib, tmp_path):
    elf = _tiny_arm(tmp_path, 57)
    c = _count(ARM_ARGV + ["-icount", "shift=0"], elf, plugin_lib, tmp_path / "p.log")
    t = _trace(ARM_ARGV + ["-icount", "shift=0"], elf, tmp_path / "t.log")
    assert t == [c.calib_raw] + c.raw == [2, 2 * 57 + 3]


@needs_rv
@pytest.mark.parametrize("loops", [1, 300])
def test_plugin_counts_known_riscv_loop_exactly(plugin_lib, tmp_path, loops):
    elf = _tiny_rv(tmp_path, loops)
    c = _count(RV_ARGV, elf, plugin_lib, tmp_path / "p.log")
    assert c.calib_raw == 2
    assert c.insns == [2 * loops + 1]
    assert _trace(RV_ARGV, elf, tmp_path / "t.log") == [2, 2 * loops + 3]


@needs_arm
def test_plugin_rejects_bad_arguments(plugin_lib, tmp_path):
    elf = _tiny_arm(tmp_path, 1)
    for arg in ("begin=0x8", "begin=0x8,end=0x8", "begin=0x8,end=zz", "begin=0x8,end=0xa,bogus=1",
                "begin=0x8,begin=0xc,end=0xa", "beginx=0x8,end=0xa"):
        p = subprocess.run(ARM_ARGV + ["-kernel", str(elf), "-plugin", f"{plugin_lib},{arg}"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert p.returncode != 0
        assert "eh_count:" in p.stderr


ARM_PUSH = """
    .syntax unified
    .thumb
    .section .vectors, "a"
    .word 0x20008000
    .word reset + 1
    .text
    .thumb_func
    .global reset
reset:
    ldr r0, =0x20007000
    str r0, [r0]           @ a store below the region's top but outside [lo, hi): ignored
    push {r0-r3}           @ 16 bytes below 0x20008000
    push {r0-r7}           @ 32 more: the deepest store is at 0x20008000 - 48
    pop {r0-r7}
    push {r0, r1}          @ shallower again: the depth stays 48
    movs r0, #0x18
    ldr r1, =0x20026
    bkpt 0xab
    b .
"""


@needs_arm
def test_stack_plugin_measures_known_push_depth(tmp_path):
    lib = eh_plugin.build_plugin(tmp_path / "b", source="eh_stack.c")
    src, ld, elf = tmp_path / "push.S", tmp_path / "push.ld", tmp_path / "push.elf"
    src.write_text(ARM_PUSH)
    ld.write_text(ARM_LD)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-T", str(ld),
                    "-o", str(elf), str(src)], check=True, capture_output=True)
    log = tmp_path / "s.log"
    subprocess.run(ARM_ARGV + ["-kernel", str(elf), "-plugin", f"{lib},lo=0x20007800,hi=0x20008000",
                               "-d", "plugin", "-D", str(log)], check=True, timeout=60,
                   stdin=subprocess.DEVNULL, capture_output=True)
    text = log.read_text()
    assert "eh_stack: exit depth=48 stores=" in text, text
    for arg in ("lo=0x10", "lo=0x10,hi=0x8", "lo=0x10,hi=zz", "lo=0x0,hi=0x10,x=1"):
        p = subprocess.run(ARM_ARGV + ["-kernel", str(elf), "-plugin", f"{lib},{arg}"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert p.returncode != 0 and "eh_stack:" in p.stderr


def test_plugin_build_is_cached(plugin_lib):
    mtime = plugin_lib.stat().st_mtime_ns
    again = eh_plugin.build_plugin(plugin_lib.parent.parent)
    assert again == plugin_lib and again.stat().st_mtime_ns == mtime


def test_plugin_build_missing_compiler(tmp_path):
    with pytest.raises(eh_plugin.PluginBuildError, match="not found"):
        eh_plugin.build_plugin(tmp_path, cc="no-such-cc-eh")


# ---- parsers and helpers (no QEMU) ---------------------------------------------------------

def test_count_trace_cancels_blocks_stopped_before_their_first_instruction():
    B, E = 0x100, 0x200
    lines = [
        b"Trace 0: 0x7f00 [00000000/00000100/00000110/ff000201] eh_bench_begin\n",
        b"Trace 0: 0x7f01 [00000000/00000104/00000110/ff000201] \n",
        b"Trace 0: 0x7f02 [00000000/00000106/00000110/ff000201] \n",
        b"Stopped execution of TB chain before 0x7f02 [00000106] \n",
        b"Trace 0: 0x7f02 [00000000/00000106/00000110/ff000201] \n",
        b"Trace 0: 0x7f03 [00000000/00000200/00000110/ff000201] eh_bench_end\n",
        b"Trace 0: 0x7f03 [00000000/00000300/00000110/ff000201] \n",
    ]
    assert eh_run.trace_counts(lines, B, E) == [3]
    assert eh_run.trace_counts(lines[:3], B, E) == []  # an open window is not a count


def test_parse_harness_and_plugin():
    text = ("boot noise\nEHB|hello|b|cortex-m4f|cycles|1000\nEHB|mode|all\nEHB|calib|7\n"
            "EHB|case|0|lif|lif_q15|n=256|neuron_step|256|1031\nEHB|done|1\n")
    h = eh_run.parse_harness(text)
    assert (h.board, h.core, h.counter_kind, h.clock_hz, h.mode, h.calib_counter) == \
        ("b", "cortex-m4f", "cycles", 1000, "all", 7)
    assert h.cases[0].kernel == "lif_q15" and h.cases[0].shape == "n=256" and h.cases[0].units == 256
    with pytest.raises(eh_run.BenchError, match="did not finish"):
        eh_run.parse_harness(text.replace("EHB|done|1\n", ""))
    with pytest.raises(eh_run.BenchError, match="malformed"):
        eh_run.parse_harness(text.replace("|256|1031", "|x|1031"))
    with pytest.raises(eh_run.BenchError, match="out of order"):
        eh_run.parse_harness(text.replace("EHB|done|1", "EHB|done|2"))
    c = eh_run.parse_plugin("eh_count: target=arm begin=0x8 end=0xa\neh_count: calib raw=5\n"
                            "eh_count: case=0 raw=105 insns=100\neh_count: exit total=9 pairs=2\n")
    assert (c.calib_raw, c.raw, c.insns, c.total, c.errors) == (5, [105], [100], 9, [])
    with pytest.raises(eh_run.BenchError, match="out of order"):
        eh_run.parse_plugin("eh_count: case=1 raw=105 insns=100\n")


def test_parse_harness_self_checks_and_failure():
    text = ("EHB|hello|b|cortex-m4f|instructions|1000\nEHB|mode|quick\nEHB|calib|7\n"
            "EHB|check|lif_q15|8000|0\nEHB|case|0|lif|lif_q15|n=256|neuron_step|256|1031\n"
            "EHB|check|l2mu_q15|288|0\nEHB|done|1\n")
    h = eh_run.parse_harness(text)
    assert [(c.name, c.compared, c.mismatches) for c in h.checks] == [("lif_q15", 8000, 0), ("l2mu_q15", 288, 0)]
    eh_run.raise_on_failed_checks(h)  # no mismatch: no error
    bad = eh_run.parse_harness(text.replace("l2mu_q15|288|0", "l2mu_q15|288|3"))
    with pytest.raises(eh_run.BenchError, match="l2mu_q15: 3 of 288 differ"):
        eh_run.raise_on_failed_checks(bad)
    with pytest.raises(eh_run.BenchError, match="malformed"):
        eh_run.parse_harness(text.replace("|8000|0", "|8000"))


@needs_arm
def test_bench_on_target_self_checks_pass_on_mps2(bench_image, plugin_lib, tmp_path):
    """The quick bench on the Cortex-M4 runs the on-target self-checks (the DSP / asm paths of
    the Q15 LIF steps and the unchecked L2MU step against plain reference loops compiled into
    the image, saturating and inconsistent states included) and reports no mismatch."""
    board, elf = bench_image
    r = eh_run.run_with_plugin(_emu(board), elf, plugin_lib, tmp_path / "q", quick=True)
    checks = {c.name: c for c in r.harness.checks}
    cases = {p.name for p in (ROOT / "bench" / "cases").glob("bench_*.c")}
    want = {"bench_lif.c": "lif_q15", "bench_lmu.c": "l2mu_q15", "bench_conv2d.c": "conv2d_b1"}
    for f, name in want.items():
        if f in cases:
            assert name in checks, (name, sorted(checks))
            assert checks[name].compared > 0
    assert all(c.mismatches == 0 for c in r.harness.checks), r.harness.checks
    if "bench_mst.c" in cases:  # every MST output equals eh_fc_b1_s32 on the full weights
        for name in ("mst_fc_b1_trained", "mst_fc_b1_flips8"):
            assert name in checks and checks[name].compared == 256, (name, sorted(checks))
    kernels = {c.kernel for c in r.harness.cases}
    if "bench_lif.c" in cases:
        assert {"lif_q15", "lif_q15_checked", "lif_q15_decay", "cubalif_q15"} <= kernels
    if "bench_lmu.c" in cases:
        assert {"l2mu_q15", "l2mu_q15_har", "l2mu_q15_har_checked"} <= kernels


def test_serial_to_file_replaces_only_the_socket():
    argv = ["qemu-system-arm", "-M", "x", "-chardev", "socket,id=s0,port=1", "-serial", "chardev:s0",
            "-chardev", "file,id=f,path=p", "-kernel", "a.elf"]
    out = eh_run.serial_to_file(argv, Path("/tmp/u.txt"))
    assert out == ["qemu-system-arm", "-M", "x", "-chardev", "file,id=f,path=p", "-kernel", "a.elf",
                   "-serial", "file:/tmp/u.txt"]


def test_missing_qemu_is_a_clear_error():
    with pytest.raises(eh_run.BenchError, match="not found: install QEMU"):
        eh_run.qemu_exe(["qemu-system-nosuch-eh"])


def test_elf_reader_rejects_garbage(tmp_path):
    p = tmp_path / "x.elf"
    p.write_bytes(b"not an elf at all" * 4)
    with pytest.raises(eh_elf.ElfError, match="not an ELF"):
        eh_elf.Elf.read(p)
    with pytest.raises(eh_elf.ElfError, match="cannot read"):
        eh_elf.Elf.read(tmp_path / "missing.elf")


# ---- the real bench image ------------------------------------------------------------------

@pytest.fixture(scope="session")
def bench_image():
    if not (HAVE_ARM and HAVE_GCC):
        pytest.skip("needs the Arm toolchain and QEMU")
    from edgehost import boards, build

    board = boards.get("mps2-an386")
    built = build.build(board, target="bench")
    return board, Path(built.elf)


def _emu(board):
    return lambda e: board.emulator_argv(str(e), 0)


@needs_arm
def test_bench_image_quick_patch_counts_repeat_and_trace_agrees(bench_image, plugin_lib, tmp_path):
    board, elf = bench_image
    e = eh_elf.Elf.read(elf)
    assert e.read_word("eh_bench_mode") == eh_run.MODE_ALL
    with pytest.raises(eh_elf.ElfError, match="expected"):
        e.patched_word("eh_bench_mode", eh_run.MODE_QUICK, eh_run.MODE_ALL)

    r1 = eh_run.run_with_plugin(_emu(board), elf, plugin_lib, tmp_path / "a", quick=True)
    r2 = eh_run.run_with_plugin(_emu(board), elf, plugin_lib, tmp_path / "b", quick=True)
    assert r1.harness.mode == "quick"
    assert r1.counts.raw and r1.counts.raw == r2.counts.raw
    assert r1.counts.calib_raw == r2.counts.calib_raw
    assert all(i > 0 for i in r1.counts.insns)
    # quick: one case per kernel name within a family
    keys = [(c.family, c.kernel) for c in r1.harness.cases]
    assert len(keys) == len(set(keys))

    # a second, independent count of the calibration and the first (small) case: the
    # single-step trace, QEMU stopped once they are counted
    traced = eh_run.run_with_trace(_emu(board), elf, tmp_path / "t", quick=True, max_pairs=2)
    assert traced == [r1.counts.calib_raw] + r1.counts.raw[:1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgehost", "bench", *args], capture_output=True,
                          text=True, timeout=900, cwd=ROOT)


@needs_arm
def test_cli_bench_json_quick(bench_image):
    p = _cli("--board", "mps2-an386", "--json", "--quick")
    assert p.returncode == 0, p.stderr
    entries = json.loads(p.stdout)
    assert entries
    for e in entries:
        for k in ("kernel", "shape", "instructions", "unit", "units", "per_unit", "core", "board"):
            assert k in e, (k, e)
        assert e["board"] == "mps2-an386" and e["core"] == "cortex-m4f"
        assert isinstance(e["instructions"], int) and e["instructions"] > 0
        assert e["per_unit"] == pytest.approx(e["instructions"] / e["units"], rel=1e-12)
        assert "cycles" not in e  # QEMU's mps2 has no cycle counter
    kernels = {e["kernel"] for e in entries}
    cases = {p.name for p in (ROOT / "bench" / "cases").glob("bench_*.c")}
    if "bench_lif.c" in cases:
        assert "lif_q15" in kernels
    if "bench_binary.c" in cases:
        assert "fc_b1" in kernels
    # --quick: the smallest shape of each kernel only
    assert len({(e["family"], e["kernel"]) for e in entries}) == len(entries)


def test_cli_unknown_board_is_a_clear_error():
    p = _cli("--board", "no-such-board-eh", "--json")
    assert p.returncode == 2
    assert "unknown board" in p.stderr and "Traceback" not in p.stderr


@needs_rv
def test_cli_virt_minstret_agrees_with_plugin():
    """On virt-rv32 the board counter is minstret, exact under -icount shift=0: a third,
    independent count that must equal the plugin's for every case."""
    p = _cli("--board", "virt-rv32", "--json", "--quick")
    assert p.returncode == 0, p.stderr
    entries = json.loads(p.stdout)
    assert entries and all(e["core"] == "rv32imc" for e in entries)
    assert all(e["counter_kind"] == "instructions" for e in entries)
    assert [e["counter"] for e in entries] == [e["instructions"] for e in entries]


def test_report_commit_says_when_the_tree_differs(tmp_path):
    from edgehost.bench import report
    run = lambda *a: subprocess.run(["git", "-C", str(tmp_path), *a], check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (tmp_path / "f.txt").write_text("one\n")
    run("add", "f.txt")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    clean = report.git_commit(tmp_path)
    assert clean and " " not in clean
    (tmp_path / "f.txt").write_text("two\n")
    assert report.git_commit(tmp_path) == clean + " + uncommitted changes"
    assert report.git_commit(tmp_path / "nowhere") is None


def test_report_keeps_the_sections_people_wrote():
    """Regenerating a report replaces what the command writes (board tables, memory, link, host,
    machine) and keeps every other section of the old file, in its order, before the machine."""
    from edgehost.bench import report as R
    old = ("# Benchmarks\n\nold intro\n\n## mps2-an386 (cortex-m4f)\n\nOLD TABLE\n\n## virt-rv32 (rv32imc)\n\n"
           "OLD RV\n\n## Before / after\n\nhand 1\n\n```\n## not a heading in a fence\n```\n\n"
           "## Firmware memory\n\nOLD MEM\n\n## Analysis\n\nhand 2\n\n## Machine\n\nOLD MACHINE\n")
    new = "# Benchmarks\n\nnew intro\n\n## mps2-an386 (cortex-m4f)\n\nNEW TABLE\n\n## Machine\n\nNEW MACHINE\n"
    out = R.keep_hand_sections(new, old)
    heads = [h for h, _ in R.sections(out)]
    assert heads == ["## mps2-an386 (cortex-m4f)", "## Before / after", "## Analysis", "## Machine"]
    assert "NEW TABLE" in out and "OLD TABLE" not in out and "OLD RV" not in out and "OLD MEM" not in out
    assert "hand 1" in out and "## not a heading in a fence" in out and "hand 2" in out
    assert "new intro" in out and "old intro" not in out and out.endswith("NEW MACHINE\n")
    assert R.keep_hand_sections(new, None) == new
