"""Seed corpus for the model-loader fuzzer: valid blobs of every layer type (float and Q15), each
behind a mode byte (1: the target repairs hash and CRC after mutating; 0: it does not)."""
from __future__ import annotations

import os
import sys

import numpy as np

from edgehost.convert.examples import random_blob


def main(out_dir: str, n: int = 64, seed: int = 0) -> None:
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        _, blob = random_blob(rng)
        with open(os.path.join(out_dir, f"seed_{i:03d}.bin"), "wb") as f:
            f.write(bytes([1 if i % 4 else 0]) + blob)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
