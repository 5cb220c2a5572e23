"""Write the graph benchmark models as NIR files, with their inputs (docs/benchmarks.md, "Graph
models"): the braille-shaped SRNN (12 -> 40 recurrent CuBa-LIF -> 7 CuBa-LIF) and the residual
network of edgehost.convert.examples_nir, 200 steps of spike inputs each.

    python bench/graphs/make_models.py OUT_DIR
"""
from __future__ import annotations

import os
import sys

import numpy as np


def main(out: str) -> int:
    import nir
    from edgehost.convert import examples_nir as E
    os.makedirs(out, exist_ok=True)
    g, _ = E.braille_srnn(seed=4)
    nir.write(os.path.join(out, "braille.nir"), g)
    np.save(os.path.join(out, "braille_x.npy"), E.spike_inputs(12, steps=200, seed=3, p=0.25))
    g, _, _ = E.residual_snn(seed=5)
    nir.write(os.path.join(out, "residual.nir"), g)
    np.save(os.path.join(out, "residual_x.npy"), E.spike_inputs(10, steps=200, seed=8, p=0.4))
    print(f"wrote braille.nir, braille_x.npy, residual.nir, residual_x.npy to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
