"""docs/examples/test_my_model.py, the example test file for a user's own model, passes: its tests
run here on the session's boards, and as a user runs it (`pytest ... --board host --model M.ehm`,
a pytest of its own) with the board, firmware build and model named in the session header."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edgehost.pytest_plugin import edgehost_model  # noqa: F401 - also when the plugin is not installed (conftest.py)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs/examples/test_my_model.py"

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386")]

_spec = importlib.util.spec_from_file_location("eh_docs_example", EXAMPLE)
_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_example)

# the example's fixtures and tests, collected here as this module's
blob, x, host = _example.blob, _example.x, _example.host
test_fits_the_board = _example.test_fits_the_board
test_steps_like_the_host = _example.test_steps_like_the_host
test_infer_like_the_host = _example.test_infer_like_the_host
test_every_layer_like_the_host = _example.test_every_layer_like_the_host


def test_example_as_a_user_runs_it(tmp_path):
    pytest.importorskip("nir")
    from edgehost.convert import build, load
    _example.make_nir(tmp_path / "net.nir", seed=3)
    model, _ = build(load(str(tmp_path / "net.nir"), dt=1e-3), quantize="q15")
    (tmp_path / "net.ehm").write_bytes(model.to_bytes())
    r = subprocess.run([sys.executable, "-m", "pytest", str(EXAMPLE), "--board", "host",
                        "--model", str(tmp_path / "net.ehm"), "-p", "no:cacheprovider", "-rA"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert "4 passed" in out
    header = out[:out.index("collected")]
    assert "edgehost: board host (host, native build" in header, header
    assert re.search(r"edgehost:   firmware \d+\.\d+\.\d+, protocol \d+", header), header
    assert "edgehost:   image " in header and "sha256 " in header
    assert f"edgehost: model {tmp_path / 'net.ehm'} hash {model.model_hash:#010x}" in header
