"""The blimp's spiking controllers: structure within the paper's budget and bounds, the search
model agrees with the project's neuron kernels, and evolution lowers the imitation loss."""
import numpy as np
import pytest

import edgehost.sim as S
from edgehost.demos.blimp.evolve import evolve, pid_flights
from edgehost.demos.blimp.snn import I_SHAPE, PD_SHAPE, Shape, imitation_loss, run_population


def test_budget_and_bounds():
    assert PD_SHAPE.neurons + I_SHAPE.neurons <= 160
    for shape in (PD_SHAPE, I_SHAPE):
        lo, hi = shape.bounds()
        assert lo.shape == hi.shape == (shape.size(),)
        assert np.all(lo < hi)
    lo, hi = I_SHAPE.bounds()
    beta_dec = I_SHAPE.unpack(hi)["beta_dec"]
    assert beta_dec[0] == 0.3  # the integral decoder's tighter bound


def test_pack_unpack_round_trip():
    rng = np.random.default_rng(1)
    flat = rng.normal(size=I_SHAPE.size())
    assert np.array_equal(I_SHAPE.pack(I_SHAPE.unpack(flat)), flat)


def _controller_with_kernels(shape: Shape, flat: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """The same controller stepped with the numpy twins of the C kernels (float32)."""
    p = {k: v.astype(np.float32) for k, v in shape.unpack(flat).items()}
    ne, nh = 2 * shape.pairs, shape.hidden
    w_e = np.concatenate([p["w_enc"], -p["w_enc"]])
    b_e = np.concatenate([p["b_enc"], p["b_enc"]])
    z = lambda n: np.zeros(n, np.float32)  # noqa: E731
    ve, ae, se = z(ne), z(ne), np.zeros(ne, np.uint8)
    vh, ah, sh = z(nh), z(nh), np.zeros(nh, np.uint8)
    w_th = p["w_th"] if shape.adaptive else np.zeros((nh, ne), np.float32)
    beta_th = p["beta_th"] if shape.adaptive else np.zeros(nh, np.float32)
    isyn = z(nh)
    y, out = np.float32(0), []
    for e in errors:
        x = (w_e * np.float32(e) + b_e).astype(np.float32)
        ve, ae, se = S.lif_adapt_step_f32(x, z(ne), ve, ae, se, p["beta_enc"], np.float32(0), p["thr_enc"])
        ih = (p["w_hid"] @ se.astype(np.float32)).astype(np.float32)
        if shape.adaptive:
            ith = (w_th @ se.astype(np.float32)).astype(np.float32)
            vh, ah, sh = S.lif_adapt_step_f32(ih, ith, vh, ah, sh, p["beta_hid"], beta_th, p["thr_hid"])
        else:  # current-based LIF: the synaptic current low-passes the input
            isyn, vh, sh = S.cubalif_step_f32(ih, isyn, vh, sh, p["alpha_hid"], p["beta_hid"], p["thr_hid"])
        y = np.float32(p["beta_dec"][0] * y + p["w_dec"] @ sh.astype(np.float32))
        out.append(y)
    return np.array(out)


@pytest.mark.parametrize("shape", [Shape(3, 7, False), Shape(4, 9, True)])
def test_search_model_matches_the_kernels(shape):
    rng = np.random.default_rng(2)
    lo, hi = shape.bounds()
    flat = rng.uniform(lo, hi, (1, shape.size()))
    errors = 0.6 * np.sin(np.linspace(0, 12, 300)) + 0.05 * rng.normal(size=300)
    u64 = run_population(shape, flat, errors)[0, 0]
    u32 = _controller_with_kernels(shape, flat[0], errors)
    # float64 search model vs float32 kernels: a spike can flip where v is within rounding of
    # the threshold, and then the traces part for a while. Most steps must agree closely.
    close = np.abs(u64 - u32) <= 1e-3 * (1 + np.abs(u64))
    assert close.mean() > 0.9


def test_loss_is_zero_for_a_perfect_copy_and_positive_otherwise():
    t = np.sin(np.linspace(0, 6, 100))[None]
    u = np.stack([t, 0.5 * t + 0.1])
    loss = imitation_loss(u, t)
    assert loss[0] == pytest.approx(0.0, abs=1e-9)
    assert loss[1] > 0.1


def test_pid_flights_and_evolution_lowers_the_loss():
    f = pid_flights(4, seconds=30.0, seed=3)
    assert f.error.shape == f.u_pd.shape == f.u_i.shape == (4, 300)
    shape = Shape(pairs=4, hidden=12, adaptive=False)
    _, best, hist = evolve(shape, f, "u_pd", generations=40, batch=4, popsize=16, progress=False)
    assert best < hist[0]
    assert np.mean(hist[-5:]) < np.mean(hist[:5])


def test_evolution_from_a_start_keeps_fixed_parameters_and_resumes(tmp_path):
    from edgehost.demos.blimp import design
    from edgehost.demos.blimp.evolve import encoder_mask
    f = pid_flights(3, seconds=20.0, seed=4)
    shape = Shape(pairs=len(design.LEVELS) + 1, hidden=6, adaptive=False)
    x0 = design.pd_seed(shape, f)
    fixed = encoder_mask(shape)
    ck = str(tmp_path / "ck")
    snaps: list = []
    x, _, hist = evolve(shape, f, "u_pd", generations=4, batch=2, popsize=8, progress=False, x0=x0,
                        sigma0=0.01, fixed=fixed, checkpoint=ck, checkpoint_every=2, snapshots_out=snaps)
    assert len(hist) == 4 and [g for g, _ in snaps] == [0, 2, 4]
    assert np.allclose(x[fixed], x0[fixed]) and not np.allclose(x[~fixed], x0[~fixed])
    lo, hi = shape.bounds()
    assert np.all(x >= lo) and np.all(x <= hi)
    # resume from the checkpoint (written at generation 4) and continue to 6
    x2, _, hist2 = evolve(shape, f, "u_pd", generations=6, batch=2, popsize=8, progress=False, x0=x0,
                          sigma0=0.01, fixed=fixed, checkpoint=ck, checkpoint_every=2, resume=True)
    assert len(hist2) == 6 and hist2[:4] == hist
