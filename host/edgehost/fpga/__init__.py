"""The FPGA target: the edgehost SoC (a PicoRV32 from the `pythondata-cpu-picorv32` package, the
project's custom unit, a UART) simulated cycle by cycle with Verilator (board `rv32-sim`) and
synthesised for FPGA boards (`icebreaker`: iCE40 UP5K; `ulx3s`: ECP5). docs/fpga.md explains it.

    from edgehost.fpga import sim
    exe = sim.ensure_model()           # builds the Verilator model once, cached by its sources
"""
from __future__ import annotations

__all__ = ["sim", "bitstream", "hardware_for", "format_utilisation"]


def hardware_for(board) -> dict | None:
    """What `edgehost build` makes beside the firmware: the bitstream and its utilisation report
    for an FPGA board, the Verilator model for an RTL-simulated board, None for other boards."""
    from . import bitstream, sim
    if bitstream.is_fpga_board(board):
        bit = bitstream.build_bitstream(board)
        return {"bitstream": str(bit.path), "utilisation": bit.report}
    if sim.is_rtl_sim(board):
        return {"verilator_model": str(sim.ensure_model())}
    return None


def format_utilisation(u: dict) -> str:
    """One line: LUTs, flip-flops, block RAM, SPRAM, DSPs and fmax against the clock."""
    def cell(name: str) -> str:
        d = u.get(name) or {}
        return f"{d.get('used', '?')}/{d.get('available', '?')}"
    fmax = ", ".join(f"{v:.1f} MHz" for v in (u.get("fmax_mhz") or {}).values()) or "?"
    clock = f"fmax {fmax} (clock {u.get('clock_mhz', '?')} MHz)"
    if u.get("family") == "ecp5":
        luts = (u.get("yosys_cells") or {}).get("LUT4", "?")
        return (f"LUT4 {luts} (TRELLIS_COMB {cell('TRELLIS_COMB')}), FFs {cell('TRELLIS_FF')}, "
                f"BRAM {cell('DP16KD')}, DSP {cell('MULT18X18D')}; {clock}")
    ffs = (u.get("yosys_cells") or {}).get("SB_DFF*", "?")
    return (f"LCs {cell('ICESTORM_LC')}, FFs {ffs}, BRAM {cell('ICESTORM_RAM')}, SPRAM {cell('ICESTORM_SPRAM')}, "
            f"DSP {cell('ICESTORM_DSP')}; {clock}")
