"""`edgehost demo har` end to end on the emulated default board: the device's readout equals the
host simulation's on every window, and the JSON carries what the README promises."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.hil


def test_demo_har_json_on_mps2(tmp_path):
    env = {**os.environ, "EDGEHOST_HOME": str(tmp_path / "home")}
    png = tmp_path / "cm.png"
    cmd = [sys.executable, "-m", "edgehost", "demo", "har", "--board", "mps2-an386", "--per-class", "3",
           "--json", "--plot", str(png)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    finally:
        subprocess.run([sys.executable, "-m", "edgehost", "stop", "--board", "mps2-an386"], env=env,
                       capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)
    for key in ("dataset", "windows", "accuracy_host", "accuracy_device", "agreement",
                "instructions_per_window", "flash_bytes", "ram_bytes"):
        assert key in r, key
    assert r["windows"] == 18
    assert r["agreement"] == 1.0 and r["bit_exact"] == 1.0
    assert r["accuracy_device"] == r["accuracy_host"]
    assert r["instructions_per_window"] > 0 and r["counter_kind"] == "systick-ticks"
    assert sum(map(sum, r["confusion_matrix"])) == 18
    assert png.stat().st_size > 10_000
