#!/usr/bin/env python3
"""A LiteRT int8 2-D CNN through the whole path a user runs, on an emulated board: the .tflite
built by tests/test_convert_tflite_2d.py's builder (real quantisation from a float forward pass),
`edgehost convert` (edgehost.convert.load + build), the firmware on the board, one STEP per
input; every output checked against that test's transcription of TFLite's reference kernels,
and the board's counter per STEP turned into instructions (SysTick ticks x 40 on mps2-an386
under QEMU's -icount shift=0, minstret on the RISC-V boards).

    python3 bench/tflite_cnn_infer.py                       # mps2-an386, the test's "cnn" model
    python3 bench/tflite_cnn_infer.py --board virt-rv32 --case odd_same_grouped --inputs 50

Prints one line per model: layers, blob and arena bytes, MACs, the median instructions per
inference and per MAC. Set EDGEHOST_HOME to keep the emulator session private.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def macs(model) -> int:
    """MACs of the conv2d_s8 and fc_s8 layers (padding taps included)."""
    n = 0
    for layer in model.layers:
        if layer.type == "conv2d_s8":
            g = [int(v) for v in layer.params[0]]
            n += layer.n_out * (g[0] // g[14]) * g[4] * g[5]
        elif layer.type == "fc_s8":
            n += layer.n_in * layer.n_out
    return n


def main(argv=None) -> int:
    from test_convert_tflite_2d import CASES, _build, _inputs, ref_chain

    from edgehost import boards
    from edgehost.blob import read
    from edgehost.build import build as fw_build
    from edgehost.demos.har.demo import instructions_from_counter
    from edgehost.flash import emulator
    from edgehost.link import Device

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--board", default="mps2-an386")
    ap.add_argument("--case", action="append", choices=sorted(CASES), help="the test's model (repeat); default cnn")
    ap.add_argument("--inputs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=31)
    a = ap.parse_args(argv)
    board = boards.get(a.board)
    if not board.emulated:
        ap.error(f"{a.board} is not an emulated board")
    tmp = Path(tempfile.mkdtemp())
    fw = fw_build(board.name)
    sess, proc, _ = emulator.start(board, fw.elf, log_dir=tmp)
    try:
        dev = Device.open(sess.port, open_timeout=10)
        for case in a.case or ["cnn"]:
            rng, _path, blob, _report, spec, x_cal = _build(tmp, case, a.seed)
            m = read(blob)
            dev.load_model(blob)
            xs = _inputs(rng, x_cal, a.inputs)
            want = ref_chain(xs, spec, "double")
            deltas = []
            for t in range(len(xs)):
                s = dev.step(xs[t])
                if not np.array_equal(np.frombuffer(s.output, dtype=np.int8), want[-1][t]):
                    print(f"{case}: input {t}: the device's output differs from TFLite's maths", file=sys.stderr)
                    return 1
                deltas.append(s.counter_delta)
            med = int(np.median(deltas))
            ins, how = instructions_from_counter(med, dev.info.counter_kind, board)
            n = macs(m)
            per = f"{ins:,.0f} instructions per inference ({ins / n:.2f} per MAC; {how})" if ins else how
            print(f"{board.name} {case}: {' -> '.join(l.type for l in m.layers)}; blob {len(blob):,} B, arena "
                  f"{m.arena_size:,} B, {n:,} MACs; median counter {med} {dev.info.counter_kind} over {len(xs)} "
                  f"inputs, all equal to TFLite's reference maths: {per}")
        dev.close()
    finally:
        proc.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
