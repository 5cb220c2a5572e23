"""The trainable L2MU: the LMU matrices, the neuron semantics shared with the C kernels, and
that training lowers the loss."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("snntorch")

import edgehost.sim as S  # noqa: E402
from edgehost.train.l2mu import L2MU, L2MUConfig, _leaky, accuracy, legendre_zoh, train  # noqa: E402


@pytest.mark.parametrize("order,theta", [(1, 5.0), (4, 10.0), (6, 20.0), (12, 40.0)])
def test_zoh_matches_scipy(order, theta):
    from scipy.signal import cont2discrete
    i, j = np.arange(order)[:, None], np.arange(order)[None, :]
    A = (2 * i + 1) * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    B = ((2 * np.arange(order) + 1) * (-1.0) ** np.arange(order))[:, None]
    Ad, Bd, *_ = cont2discrete((A / theta, B / theta, np.eye(order), np.zeros((order, 1))), 1, method="zoh")
    a, b = legendre_zoh(order, theta)
    np.testing.assert_allclose(a, Ad, atol=1e-12)
    np.testing.assert_allclose(b, Bd[:, 0], atol=1e-12)


def test_snntorch_population_is_the_kernel_lif():
    """A trained population's spikes are exactly what eh_lif_step_f32 computes."""
    n, steps = 23, 60
    lif = _leaky(n, 0.8)
    with torch.no_grad():
        lif.beta.copy_(torch.linspace(0.5, 0.99, n))
        lif.threshold.copy_(torch.linspace(0.3, 1.5, n))
    rng = np.random.default_rng(0)
    x = rng.normal(0.3, 0.6, (steps, n)).astype(np.float32)
    mem = torch.zeros(1, n)
    v = np.zeros(n, np.float32)
    s = np.zeros(n, np.uint8)
    for t in range(steps):
        spk, mem = lif(torch.tensor(x[t])[None], mem)
        v, s = S.lif_step_f32(x[t], v, s, lif.beta.detach().numpy(), lif.threshold.detach().numpy())
        np.testing.assert_array_equal(spk[0].detach().numpy().astype(np.uint8), s)
        np.testing.assert_allclose(mem[0].detach().numpy(), v, rtol=1e-6, atol=1e-6)


def test_forward_shapes_and_binary_spikes():
    cfg = L2MUConfig(pop=3, enc=8, memory=3, order=4, hidden=10, classes=4)
    m = L2MU(cfg)
    logits, rec = m(torch.randn(5, 12, 6), record=True)
    assert logits.shape == (5, 4)
    assert rec["m"].shape == (5, 12, 12) and rec["h"].shape == (5, 12, 10)
    for k in ("in", "x", "u", "m", "h"):
        assert set(torch.unique(rec[k]).tolist()) <= {0.0, 1.0}


def test_training_learns_a_separable_toy_task():
    """Unit test of the trainer only (the demo trains on real HAR data): the sign of channel 0
    decides the class."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 128)
    X = rng.normal(0, 0.3, (128, 8, 6)).astype(np.float32)
    X[:, :, 0] += np.where(y == 1, 1.0, -1.0)[:, None]
    torch.manual_seed(0)  # initial weights: with some seeds 6 epochs are not enough, 12 were for seeds 0-5
    m = L2MU(L2MUConfig(pop=4, enc=8, memory=2, order=3, hidden=8, classes=2))
    hist = train(m, X, y, epochs=12, batch=32, lr=1e-2, progress=False, log=None)
    assert hist[-1]["loss"] < hist[0]["loss"]
    assert accuracy(m, X, y) > 0.9
