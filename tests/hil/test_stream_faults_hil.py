"""A model streamed through a faulty link: a proxy between host and emulator drops, corrupts,
duplicates and delays bytes both ways; the model still loads, every streamed step is delivered
exactly once (the device's own step counter says so) and every output equals the host's."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from edgehost.link import Device
from edgehost.stream import open_source, stream

sys.path.insert(0, str(Path(__file__).parent))
from faultproxy import FaultProxy  # noqa: E402

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32",
                                                            pytest.param("rv32-sim", marks=pytest.mark.slow))]  # ~70 s in RTL simulation


@pytest.fixture(scope="module")
def model():
    from edgehost.convert import Fc, Graph, Li, Lif, build
    rng = np.random.default_rng(4)
    g = Graph(4, [Fc(rng.normal(size=(12, 4)), rng.normal(size=12)), Lif(np.full(12, 0.9), np.ones(12)),
                  Fc(rng.normal(size=(3, 12))), Li(np.full(3, 0.8))])
    return build(g, quantize="q15")[0]


@pytest.mark.parametrize("steps,p", [
    pytest.param(200, 0.0025, id="200x0.25%"),
    pytest.param(500, 0.01, id="500x1%", marks=pytest.mark.slow)])
def test_stream_through_faulty_link_equals_host(edgehost_farm, edgehost_board, model, steps, p):
    r = edgehost_farm.start_private(edgehost_board.name)
    proxy = FaultProxy(r.port, p_drop=p, p_corrupt=p, p_dup=p, p_delay=p, seed=11)
    try:
        dev = Device.open(proxy.url, timeout=0.25, retries=80, byte_time=1 / 3000, open_timeout=5)
        res = dev.load_model(model.to_bytes())
        assert res.model_hash == model.model_hash
        st = stream(dev, model, open_source("synthetic:noise", model, seed=5), steps=steps,
                    check_backend="kernels")
        assert st.error is None, st.error
        assert (st.steps, st.dropped, st.mismatches) == (steps, 0, 0)
        # the device stepped exactly `steps` times: no step lost, none executed twice
        assert dev.steps_since_reset == steps
        assert f"step {steps} since reset" in dev.last_delivered
        c = proxy.counts
        assert min(c["drop"], c["corrupt"], c["dup"], c["delay"]) > 0, c  # faults did happen
        assert dev.stats.retransmits > 0
        dev.close()
    finally:
        proxy.close()
        edgehost_farm.stop(r)
