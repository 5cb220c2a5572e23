"""The SCNN demo's Q15 blob (Sinabs export -> NIR -> spike input b1 -> event-driven Conv2d ->
spike counts) on the device: every sample's counts bit for bit equal to the host's, and the
last step's layer outputs too."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32")]

pytest.importorskip("nir")


@pytest.fixture(scope="module")
def scnn():
    from edgehost.demos.scnn import demo
    from edgehost.demos.scnn.data import event_digits
    split = event_digits(limit=16)
    m, _ = demo.convert(split, "q15")
    return m.to_bytes(), [x.reshape(len(x), -1).astype(np.uint8) for x in split.X_test[:4]]


def test_scnn_counts_equal_host(device, scnn):
    from edgehost.runtime import HostModel
    blob, samples = scnn
    host = HostModel(blob, backend="kernels")
    device.timeout = max(device.timeout, 5.0)     # a step is ~0.7 M instructions: slow on a loaded emulator
    device.load_model(blob)
    seen = 0
    for k, x in enumerate(samples):
        want, traces = host.run(x)
        r = device.infer(x)                       # 0/1 rows: packed to b1 by the link
        np.testing.assert_array_equal(np.asarray(r.output).reshape(-1), want[-1], err_msg=f"sample {k}")
        seen += int(want[-1].sum())
    assert seen > 0                               # the output neurons spiked: the counts were compared
    tr = device.trace()                           # the last sample's last step, layer by layer
    for li, (got, ref) in enumerate(zip(tr, traces[-1])):
        if got.raw is not None:
            np.testing.assert_array_equal(np.asarray(got.output).reshape(-1), ref.reshape(-1), err_msg=f"layer {li}")
