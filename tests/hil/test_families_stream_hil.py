"""Every kernel family in small models, streamed for hundreds of steps: the device's output at every
step equals the host's (C kernels through cffi) bit for bit, with no step dropped.

Families: LIF (lif, cubalif, lif_adapt), basic (fc_q15, fc_spike_q15, fc_spike_t_q15 (the
converter's input-major layout for spike layers of 8 outputs or more), li, relu, argmax, spike
count), binary (fc_b1, conv1d_b1, pack_signs_b1), MST (mst_fc_b1), shift-add (shiftadd_fc_q15,
bcq_fc_q15) and LMU (the L2MU cell)."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.stream import open_source, stream

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32",
                                                            "rv32-sim")]  # ~50 s in RTL simulation

STEPS = 300

B1_TYPES = {"fc_b1_f32", "fc_b1_bits", "conv1d_b1_bits", "conv1d_b1_f32", "conv1d_b1_s32", "conv1d_b1_s8",
            "mst_fc_b1_f32", "mst_fc_b1_bits", "shiftadd_fc_q15", "bcq_fc_q15", "pack_signs_b1"}


def _models():
    from edgehost.convert import BinFc, CubaLif, Fc, Graph, Li, Lif, build
    from edgehost.convert.examples import random_adapt_blob, random_b1_blob, random_l2mu_blob
    out = []
    rng = np.random.default_rng(21)
    g = Graph(5, [Fc(rng.normal(size=(16, 5)), rng.normal(size=16) * 0.3), CubaLif(np.full(16, 0.7), np.full(16, 0.9),
                  np.ones(16)), Fc(rng.normal(size=(12, 16))), Lif(np.full(12, 0.85), np.ones(12), "zero"),
                  BinFc(rng.choice([-1, 1], size=(9, 12)), threshold=rng.integers(-12, 14, size=9)),
                  BinFc(rng.choice([-1, 1], size=(4, 9)), scale=np.full(4, 0.1))])
    out.append(("lif/cubalif/fc/fc_b1", build(g, quantize="q15")[0]))
    g = Graph(3, [Fc(rng.normal(size=(8, 3)), None), Lif(np.full(8, 0.9), np.ones(8)), Fc(rng.normal(size=(4, 8))),
                  Li(np.full(4, 0.8))])
    out.append(("lif/li", build(g, quantize="q15")[0]))
    out.append(("lif_adapt", random_adapt_blob(np.random.default_rng(6), quantize="q15", reuse=False)[0]))
    seen: set = set()
    for seed in range(60):
        m = random_b1_blob(np.random.default_rng(seed), reuse=False)[0]
        types = {layer.type for layer in m.layers}
        if (types & B1_TYPES) - seen:
            seen |= types
            out.append((f"binary/mst/shiftadd #{seed}", m))
        if B1_TYPES - {"fc_b1_f32", "fc_b1_bits"} <= seen:
            break
    for seed in range(20):
        m = random_l2mu_blob(np.random.default_rng(seed), reuse=False)[0]
        if m.input_tensor.np_dtype == np.int16:
            out.append(("l2mu", m))
            break
    return out


MODELS = _models()


def test_the_models_cover_every_family():
    types = {layer.type for _, m in MODELS for layer in m.layers}
    for needed in ("lif_q15", "cubalif_q15", "lif_adapt_q15", "li_q15", "fc_q15", "fc_spike_q15",
                   "fc_spike_t_q15", "l2mu_q15", "shiftadd_fc_q15", "bcq_fc_q15", "pack_signs_b1"):
        assert needed in types, needed
    assert types & {"fc_b1_f32", "fc_b1_bits"}
    assert types & {"conv1d_b1_bits", "conv1d_b1_f32", "conv1d_b1_s32", "conv1d_b1_s8"}
    assert types & {"mst_fc_b1_f32", "mst_fc_b1_bits"}


@pytest.mark.parametrize("name,model", MODELS, ids=[n for n, _ in MODELS])
def test_streamed_steps_equal_host(device, name, model):
    if not device.info.model_support:
        pytest.fail("firmware built without model support")
    res = device.load_model(model.to_bytes())
    assert res.model_hash == model.model_hash
    outs = []
    st = stream(device, model, open_source("synthetic:noise", model, seed=3), steps=STEPS, check_backend="kernels",
                on_step=lambda i, y, lat, s: outs.append(np.asarray(y).tobytes()))
    assert st.error is None, st.error
    assert (st.steps, st.dropped, st.mismatches) == (STEPS, 0, 0)
    assert len(set(outs)) > 1, "the output never changed: the model is not exercised"
    assert device.steps_since_reset == STEPS
