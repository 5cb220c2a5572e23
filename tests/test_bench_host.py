"""edgehost bench --host: the prepared steppers equal the public twins bit for bit; the host
comparison, the converter timing, the stack measurement and the MST training produce sane,
consistent results (no timing assertions)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import edgehost.kernels as K
import edgehost.sim as S
from edgehost.bench import stepper


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 70), min_size=2, max_size=4), st.integers(0, 2**32 - 1),
       st.sampled_from([("decay", 29491), ("decay", 32768), ("shift", 3)]), st.sampled_from(["subtract", "zero"]))
def test_lif_stepper_equals_twins(sizes, seed, leak, reset):
    rng = np.random.default_rng(seed)
    ws = [rng.integers(-3000, 3000, (o, i)).astype(np.int16) for i, o in zip(sizes[:-1], sizes[1:])]
    thr = int(rng.integers(1, 8000))
    s_in = (rng.random((6, sizes[0])) < 0.3).astype(np.uint8)
    kw = {leak[0]: leak[1]}
    st_ = stepper.LifNetQ15(ws, threshold=thr, reset=reset, **kw)
    got = st_.run(s_in)
    for mod in (S, K):
        v = [np.zeros(w.shape[0], np.int16) for w in ws]
        s = [np.zeros(w.shape[0], np.uint8) for w in ws]
        for t in range(s_in.shape[0]):
            h = s_in[t]
            for k, w in enumerate(ws):
                v[k], s[k] = mod.lif_step_q15(mod.fc_spike_q15(h, w, None, 0), v[k], s[k], thr, reset=reset, **kw)
                h = s[k]
            np.testing.assert_array_equal(got[t], h)
    st_.reset()
    np.testing.assert_array_equal(st_.run(s_in), got)          # reset really resets
    st_.reset()
    np.testing.assert_array_equal(st_.step(s_in[0]), got[0])


def test_lif_stepper_rejects_bad_arguments():
    w = np.zeros((3, 4), np.int16)
    with pytest.raises(ValueError):
        stepper.LifNetQ15([], threshold=1, decay=1)
    with pytest.raises(ValueError):
        stepper.LifNetQ15([w, np.zeros((2, 5), np.int16)], threshold=1, decay=1)   # 3 outputs -> 5 inputs
    with pytest.raises(ValueError):
        stepper.LifNetQ15([w], threshold=1)                                          # no leak
    with pytest.raises(ValueError):
        stepper.LifNetQ15([w], threshold=0, decay=1)                                 # C check: thr >= 1
    st_ = stepper.LifNetQ15([w], threshold=1, decay=1)
    with pytest.raises(ValueError):
        st_.run(np.zeros((2, 5), np.uint8))
    with pytest.raises(ValueError):
        st_.run(np.full((2, 4), 2, np.uint8))                                       # C: spikes are 0/1


def test_l2mu_stepper_equals_twins_on_the_har_cell():
    from edgehost.demos.har.demo import load_model
    _, _, cell = load_model()
    rng = np.random.default_rng(1)
    xs = np.clip(rng.normal(0, 3000, (12, 6)), -32768, 32767).astype(np.int16)
    got = stepper.L2muQ15(cell).run(xs)
    for mod in (S, K):
        state = mod.l2mu_state_q15(cell)
        for t in range(xs.shape[0]):
            state = mod.l2mu_readout_q15(cell, mod.l2mu_step_q15(cell, state, xs[t]))
            np.testing.assert_array_equal(got[t], state["o"]["v"])
    with pytest.raises(ValueError):
        stepper.L2muQ15(cell).run(np.zeros((3, 5), np.int16))


def test_l2mu_stepper_equals_sim_on_random_cells():
    from edgehost.convert.examples import random_l2mu_cell
    for seed in range(8):
        rng = np.random.default_rng(seed)
        cell = random_l2mu_cell(rng)
        n_ch = np.asarray(cell["w_in"]).shape[0]
        xs = rng.integers(-20000, 20000, (5, n_ch)).astype(np.int16)
        try:
            K.l2mu_check_q15(cell)
            K.l2mu_readout_check_q15(cell)
        except ValueError:
            with pytest.raises(ValueError):
                stepper.L2muQ15(cell)
            continue
        got = stepper.L2muQ15(cell).run(xs)
        state = S.l2mu_state_q15(cell)
        for t in range(5):
            state = S.l2mu_readout_q15(cell, S.l2mu_step_q15(cell, state, xs[t]))
            np.testing.assert_array_equal(got[t], state["o"]["v"])


def test_convert_timing_rows():
    from edgehost.bench import host
    rows = host.convert_timing(quick=True)
    har = [r for r in rows if r["model"] == "har_l2mu"]
    assert har[-1]["stage"] == "total"
    assert all(r["seconds"] is not None and r["seconds"] >= 0 for r in har)
    assert abs(sum(r["seconds"] for r in har[:-1]) - har[-1]["seconds"]) < 1e-9
    assert any("blob" in r["stage"] for r in har)


@pytest.mark.slow
def test_host_comparison_is_bit_exact_and_complete():
    from edgehost.bench import host
    res = host.run_host(quick=True, repeats=1)
    nets = {e.network for e in res.entries}
    assert nets == {"lif_256x1024", "lif_2layer", "l2mu_har"}
    for net in nets:
        impls = {e.impl: e for e in res.entries if e.network == net}
        assert set(impls) == {"snntorch", "sim", "kernels", "stepper"}
        assert impls["snntorch"].vs_snntorch == 1.0
        assert all(e.steps_per_s > 0 for e in impls.values())
        assert res.checks[net]["bit_exact"]
    # snnTorch runs the same weights (Q15 values in float): the spikes nearly all agree
    assert res.checks["lif_2layer"]["agree_snntorch"] > 0.95
    lines = host.render(res)
    assert any("l2mu_har" in line for line in lines)


@pytest.mark.slow
def test_stack_depth_on_mps2(tmp_path):
    from edgehost.bench import stack
    r = stack.measure("mps2-an386", build_dir=tmp_path / "fw")
    assert r["steps"] == 80
    assert 256 < r["depth"] < r["stack_reserved"] + 4096
    assert r["depth_with_frame"] == r["depth"] + 104


@pytest.mark.slow
def test_mst_training_projection_bounds_children():
    pytest.importorskip("sklearn")
    pytest.importorskip("torch")
    from edgehost.bench import mst_train
    t = mst_train.train(reg=5.0, epochs=2, max_dist=24, finetune=1)
    assert t.w.shape == (256, 1024) and set(np.unique(t.w)) <= {-1, 1}
    lay = S.mst_build(S.pack_bits(t.w), 1024, root_cost=float("inf"), per_bit=1, fixed=0)
    # along a spanning tree every channel is within the projection bound of its parent
    d = np.diff(lay.diff_start.astype(np.int64))
    assert d.max() <= 24
    x = S.pack_bits(np.where(np.random.default_rng(0).random(1024) < 0.5, -1, 1))
    np.testing.assert_array_equal(K.mst_fc_b1(lay, x), (t.w.astype(np.int64) @ S.unpack_bits(x, 1024))[lay.channel])
    assert "MSTT_DIFF" in mst_train.header(t)
