"""The HAR baselines as blobs (issue 16 part 3, issue 20 part 4) on the device: the binary CNN
(thermometer_b1, conv1d_b1_seq_bits, fc_b1_f32), the shift-add CNN (shiftnorm_q15,
shiftadd_conv1d_q15, relu_q15, shiftadd_fc_q15) and the float LMU (input_f32, lmu_f32, fc_f32) give
the host interpreter's logits bit for bit on held-out windows (the float LMU too: every float32
operation is rounded once, -ffp-contract=off on every target), and random chains of odd sizes
through every new layer match the host on every layer's output (TRACE). mps2-an386 (Cortex-M4F),
the native host firmware (ASan+UBSan) and virt-rv32 (RV32IMC, soft float)."""
from __future__ import annotations

import numpy as np
import pytest

from edgehost.demos.har import baseline_blobs as BB
from edgehost.runtime import HostModel

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386", "virt-rv32")]


@pytest.fixture(scope="module")
def windows():
    from edgehost.demos.har.data import hapt_split
    split = hapt_split()
    y = split.test_raw.y
    idx = [int(np.flatnonzero(y == c)[k]) for c in range(6) for k in (0, 5)]   # two per activity
    return split.test_raw.X[idx]


@pytest.mark.parametrize("name", ["bcnn_b1", "shiftadd", "lmu_f32"])
def test_har_baseline_windows_bit_exact(device, windows, name):
    blob = BB.model(name).to_bytes()
    device.load_model(blob)
    host = HostModel(blob, backend="kernels")
    for x in windows:
        xi = BB.window_input(name, x)
        r = device.infer(xi)
        np.testing.assert_array_equal(np.asarray(r.output).ravel(), np.asarray(host.run(xi)[0][-1]).ravel())


@pytest.mark.parametrize("seed", range(4))
def test_random_baseline_layers_bit_exact(device, seed):
    rng = np.random.default_rng(100 + seed)
    m = BB.random_model(rng)
    blob = m.to_bytes()
    device.load_model(blob)
    host = HostModel(blob, backend="sim")
    for x in BB.random_inputs(rng, m, 3):
        r = device.infer(x.reshape(1, -1))
        ys, traces = host.run(x.reshape(1, -1))
        np.testing.assert_array_equal(np.asarray(r.output).ravel(), np.asarray(ys[-1]).ravel())
        for got, w in zip(device.trace(), traces[-1]):
            if got.data is not None:
                np.testing.assert_array_equal(np.frombuffer(got.data, dtype=w.dtype), w)


@pytest.mark.edgehost_boards("host")
def test_cli_demo_har_models(tmp_path):
    """`edgehost demo har --model bcnn|shiftadd|lmu-f32` on the native host board: the L2MU demo's
    report, device = host on every window, and the confusion plot written."""
    import json
    import os
    import subprocess
    import sys
    env = dict(os.environ, EDGEHOST_HOME=str(tmp_path / "home"))
    cli = [sys.executable, "-m", "edgehost.cli"]
    try:
        for model in ("bcnn", "shiftadd", "lmu-f32"):
            png = tmp_path / f"{model}.png"
            out = subprocess.run(cli + ["demo", "har", "--model", model, "--board", "host", "--per-class", "1",
                                        "--json", "--plot", str(png)], capture_output=True, text=True, env=env,
                                 timeout=900)
            assert out.returncode == 0, out.stderr[-2000:]
            r = json.loads(out.stdout)
            assert r["model_name"] == model and r["windows"] == 6
            assert r["agreement"] == 1.0 and r["bit_exact"] == 1.0
            assert r["flash_bytes"] == r["model"]["blob_bytes"] > 0 and r["ram_bytes"] > 0
            assert png.stat().st_size > 0
    finally:
        subprocess.run(cli + ["stop", "--all"], capture_output=True, env=env, timeout=120)
