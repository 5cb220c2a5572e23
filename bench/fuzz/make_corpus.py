"""Seed corpora of the fuzzers (bench/fuzz/run.sh).

model (default): valid blobs of every layer type (float and Q15, the converter's spike layers in
  both weight layouts, fc_spike_q15 and fc_spike_t_q15; one in four a format-1.5 graph:
  add_*, delay, same-step resets, v_reset; seed_har_*: the HAR baselines' blobs and random chains of
  their layers; seed_cnn2d_s8_*: random int8 2-D CNNs of conv2d_s8, maxpool2d_s8, avgpool2d_s8), each
  behind a mode byte (1: the target repairs hash and CRC after mutating; 0: it does not).
--frame: programs for firmware/protocol/fuzz_frame.c (its header documents the operations):
  HELLO/PING/ECHO, loading a valid blob in chunks of several sizes, then STEP, INFER, TRACE of
  every layer (and of one past the last), RESET_STATE, line noise and damaged frames between;
  staged INFER (fragments, RUN, a whole transfer with some fragments skipped, stale ids).
"""
from __future__ import annotations

import os
import struct
import sys

import numpy as np

from edgehost.convert.examples import random_blob, random_graph_model

RAW, REQ, LOAD, RUN = 0, 1, 2, 3
STEP, INFER, TRACE, RESET, HELLO, PING, FRAG, SRUN, STAGED = range(9)


def _req(code: int, seq: int, payload: bytes, flags: int = 0, extra: bytes = b"") -> bytes:
    return bytes([REQ | flags, code]) + struct.pack("<HH", seq, len(payload)) + payload + extra


def frame_program(rng: np.random.Generator, blob: bytes, n_layers: int, i: int) -> bytes:
    p = bytearray()
    p += _req(0x01, 7, b"") + _req(0x02, 8, b"") + _req(0x03, 9, bytes(rng.integers(0, 256, 40, dtype=np.uint8)))
    if i % 3 == 0:
        p += bytes([RAW, 6]) + bytes([0x05, 1, 2, 0, 9, 9])                       # noise, a partial frame
    if i % 5 == 1:
        p += _req(0x21, 11, b"\x01\x02", flags=0x10, extra=bytes([3, 0x40]))     # a damaged STEP
    p += bytes([LOAD, 1 | ((i % 4) << 2)]) + struct.pack("<H", len(blob)) + blob  # repaired, chunked
    for k in range(3):
        p += bytes([RUN, STEP]) + bytes(rng.integers(0, 2, 64, dtype=np.uint8))
    p += bytes([RUN, INFER, 3]) + bytes(rng.integers(0, 2, 64, dtype=np.uint8))
    for layer in range(n_layers + 1):
        p += bytes([RUN, TRACE]) + struct.pack("<HI", layer, 0)
    p += bytes([RUN, TRACE]) + struct.pack("<HI", 0, 1 << 20)                    # offset beyond
    p += bytes([RUN, RESET, RUN, HELLO, RUN, PING])
    # staged INFER: whole transfers (all fragments, some skipped), a stray fragment, a stale RUN
    xid = int(rng.integers(0, 128))
    for j, skip in enumerate((0, 0b1010, 0)):
        p += bytes([RUN, STAGED, (xid + j) & 0x7F, 4 + 3 * j, 6, (j & 1) | (j << 1)])
        p += struct.pack("<II", skip, int(rng.integers(1, 1 << 31)))
    p += bytes([RUN | 0x10, FRAG, xid, 1, 8]) + bytes(8) + bytes([3, 0x20])        # a damaged fragment
    p += bytes([RUN, FRAG, (xid - 5) & 0x7F, 0, 8]) + bytes(8)                       # a stale fragment
    p += bytes([RUN, SRUN, (xid - 5) & 0x7F, 8, 0]) + struct.pack("<HI", 2, 0)      # a stale RUN
    if i % 4 == 2:
        p += bytes([LOAD, 3]) + struct.pack("<H", len(blob)) + blob                  # CRC mismatch at COMMIT
        p += bytes([RUN, STEP]) + bytes(8)
    return bytes(p)


def main(out_dir: str, n: int = 64, seed: int = 0, frame: bool = False) -> None:
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        if i % 4 == 3:
            model = random_graph_model(rng)
            blob = model.to_bytes()
        else:
            model, blob = random_blob(rng)
        if frame:
            data = frame_program(rng, blob, len(model.layers), i)
        else:
            data = bytes([1 if i % 4 else 0]) + blob
        with open(os.path.join(out_dir, f"seed_{i:03d}.bin"), "wb") as f:
            f.write(data)
    if not frame:   # the HAR baselines' layers (44..47, 52): the three baselines and random chains
        from edgehost.demos.har import baseline_blobs
        blobs = [baseline_blobs.model(name).to_bytes() for name in ("bcnn_b1", "shiftadd", "lmu_f32")]
        blobs += [baseline_blobs.random_model(rng).to_bytes() for _ in range(6)]
        blobs = [b for b in blobs if len(b) < 8192]     # run.sh's -max_len (the binary CNN and the LMU are larger)
        for i, blob in enumerate(blobs):
            with open(os.path.join(out_dir, f"seed_har_{i:02d}.bin"), "wb") as f:
                f.write(bytes([1 if i % 2 else 0]) + blob)
        # the int8 channel-last 2-D CNN layers (53..55): conv2d_s8 -> maxpool2d_s8 / avgpool2d_s8 -> fc_s8
        from edgehost.convert.examples_s8_2d import random_conv2d_s8_model
        blobs = [random_conv2d_s8_model(rng).to_bytes() for _ in range(8)]
        for i, blob in enumerate(b for b in blobs if len(b) < 8192):
            with open(os.path.join(out_dir, f"seed_cnn2d_s8_{i:02d}.bin"), "wb") as f:
                f.write(bytes([1 if i % 2 else 0]) + blob)


if __name__ == "__main__":
    args = sys.argv[1:]
    frame = "--frame" in args
    args = [a for a in args if a != "--frame"]
    main(args[0], *(int(a) for a in args[1:]), frame=frame)
