"""A Q15 L2MU cell (the dict of edgehost.sim.l2mu_*_q15, e.g. from edgehost.convert.l2mu.cell_q15
or edgehost.demos.har.cellio.load_cell) as an `.ehm` model: an input layer and one `l2mu_q15`
layer (docs/model-format.md, "The L2MU layer").

    model = l2mu_model(cell, input_scale=4096.0)
    blob = l2mu_blob(cell, input_scale=4096.0)

The model takes one time step of raw samples per STEP:
  input="f32" (default): f32 [n_ch] raw values (g, rad/s), quantised on the device by an
      `input_q15` layer, q = sat16(round(x * input_scale)) (offset 0, no normalisation: it is
      folded into the cell's first layer), then the L2MU;
  input="q15": q15 [n_ch] already quantised (x * input_scale), straight into the L2MU.
The output is q15 [n_o], the readout's membrane (LI readout: the leaky integrator; LIF readout:
the LIF membrane, whose spike is `v > threshold`), at scale `output_scale` (real = q x scale).
"""
from __future__ import annotations

import math

import numpy as np

from ..blob import Layer, Model, Tensor
from ..blob import l2mu as B
from .planner import plan


def l2mu_model(cell_q15: dict, input_scale: float, output_scale: float = 1.0, input: str = "f32",
               reuse: bool = True) -> Model:
    """The model (with its memory plan) of a Q15 L2MU cell."""
    if input not in ("f32", "q15"):
        raise ValueError(f"input must be 'f32' or 'q15', got {input!r}")
    for name, v in (("input_scale", input_scale), ("output_scale", output_scale)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be > 0 and finite, got {v!r}")
    desc_words, data = B.encode(cell_q15)
    d = B.check_desc(desc_words, int(desc_words[0]), int(desc_words[8]))   # shapes, before planning
    n_ch, n_o = d.n_ch, d.n_o
    nv, ns, nsc = B.state_sizes(d)
    tensors: list[Tensor] = []
    layers: list[Layer] = []
    if input == "f32":
        tensors.append(Tensor("f32", (n_ch,)))
        tensors.append(Tensor("q15", (n_ch,), scale=1.0 / float(input_scale)))
        layers.append(Layer("input_q15", 0, 1, n_ch, n_ch,
                            [np.zeros(1, np.float32), np.array([input_scale], np.float32)]))
        x = 1
    else:
        tensors.append(Tensor("q15", (n_ch,), scale=1.0 / float(input_scale)))
        x = 0
    out = len(tensors)
    tensors.append(Tensor("q15", (n_o,), "state", scale=float(output_scale)))
    tensors.append(Tensor("q15", (nv,), "state"))
    tensors.append(Tensor("spike", (ns,), "state"))
    tensors.append(Tensor("q15", (nsc,)))
    layers.append(Layer("l2mu_q15", x, out, n_ch, n_o, [desc_words, data], [out + 1, out + 2, out + 3]))
    m = Model(layers, tensors, 0, out, 0)
    return plan(m, reuse=reuse)


def l2mu_blob(cell_q15: dict, input_scale: float, output_scale: float = 1.0, input: str = "f32",
              reuse: bool = True) -> bytes:
    """The `.ehm` bytes of l2mu_model(...) (validated by the reader before they are returned)."""
    return l2mu_model(cell_q15, input_scale, output_scale, input, reuse).to_bytes()
