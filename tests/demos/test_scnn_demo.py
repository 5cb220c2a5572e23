"""The SCNN demo's pieces without a board: the event data, edgehost's reading of the committed
Sinabs export against Sinabs' own forward, the spike counter, the Q15 blob's shape and fit."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.demos.scnn import data as D

pytest.importorskip("nir")


@pytest.fixture(scope="module")
def split():
    return D.event_digits(limit=24)


def test_events_are_deterministic_and_dvs_like():
    imgs, y = D._digit_images()
    a = D.events_from_image(imgs[0])
    b = D.events_from_image(imgs[0])
    assert a.shape == (12, 2, D.SENSOR, D.SENSOR) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0, 1}
    assert a[:, 0].sum() > 0 and a[:, 1].sum() > 0            # ON and OFF events both occur
    assert 0.01 < a.mean() < 0.2
    assert D.events_from_image(np.zeros_like(imgs[0])).sum() == 0   # a blank image never fires
    with pytest.raises(ValueError, match="steps"):
        D.events_from_image(imgs[0], steps=0)


def test_split_is_stratified_and_disjoint():
    s = D.event_digits(limit=None, steps=1)
    assert len(s.y_train) + len(s.y_test) == 1797
    counts = np.bincount(s.y_test, minlength=10)
    assert counts.min() >= 30 and counts.max() <= 40
    imgs, _ = D._digit_images()
    assert not set(map(bytes, s.X_train[:50].reshape(50, -1))) & set(map(bytes, s.X_test.reshape(len(s.X_test), -1)))


def test_float_reading_equals_sinabs_forward(split):
    """edgehost's float32 model of the NIR file gives Sinabs' own output spike counts."""
    pytest.importorskip("sinabs")
    from edgehost.demos.scnn import demo
    from edgehost.runtime import HostModel
    X = split.X_test[:8]
    want = demo.sinabs_counts(X)
    fm, _ = demo.convert(split, "none")
    hm = HostModel(fm, backend="kernels")
    got = np.array([hm.run(x.reshape(len(x), -1).astype(np.uint8))[0][-1] for x in X])
    assert want.sum() > 0
    np.testing.assert_array_equal(got, want)


def test_q15_blob_counts_spikes_and_fits_the_nrf52840(split):
    from edgehost import boards
    from edgehost.demos.scnn import demo
    from edgehost.model_fit import Need, capacity_of_board, fit
    from edgehost.runtime import HostModel
    m, rep = demo.convert(split, "q15")
    assert m.input_tensor.dtype == "b1" and m.input_tensor.nbytes == 292
    types = [l.type for l in m.layers]
    assert types[0] == "unpack_spikes_b1" and types[-1] == "spike_count"
    assert types.count("conv2d_spike_q15") == 2                 # both convolutions event-driven
    blob = m.to_bytes()
    f = fit(Need.of(blob, m), capacity_of_board(boards.get("nrf52840dk"), use_elf=False))
    assert f["fits"], f["over"]
    # the counter is the sum of the output neurons' spikes over the sample
    hm = HostModel(blob, backend="kernels")
    x = split.X_test[0].reshape(12, -1).astype(np.uint8)
    _, tr = hm.run(x)
    spikes = np.array([t[-2] for t in tr])                      # the output neurons, each step
    np.testing.assert_array_equal(tr[-1][-1], spikes.sum(0))
