"""`edgehost build --board B --model M`: the model's blob and arena against the firmware's buffers."""
import json
import subprocess
import sys

import numpy as np
import pytest

from edgehost.convert import Fc, Graph, Li, Lif, build


def cli(*args):
    return subprocess.run([sys.executable, "-m", "edgehost", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(0)
    small = build(Graph(6, [Fc(rng.normal(size=(8, 6))), Lif(np.full(8, 0.9), np.ones(8))]), quantize="q15")[0]
    big = build(Graph(64, [Fc(rng.normal(size=(200, 64))), Lif(np.full(200, 0.9), np.ones(200)),
                           Fc(rng.normal(size=(10, 200))), Li(np.full(10, 0.8))]), quantize="q15")[0]
    (d / "small.ehm").write_bytes(small.to_bytes())
    (d / "big.ehm").write_bytes(big.to_bytes())
    bad = bytearray(small.to_bytes())
    bad[0:4] = b"XXXX"
    (d / "bad.ehm").write_bytes(bytes(bad))
    return d, len(small.to_bytes()), len(big.to_bytes())


def test_model_that_fits(blobs):
    d, n_small, _ = blobs
    r = cli("build", "--board", "nrf52", "--model", str(d / "small.ehm"), "--json")
    assert r.returncode == 0, r.stderr
    fit = json.loads(r.stdout)["model"]
    assert fit["fits"] and fit["blob_bytes"] == n_small
    assert fit["blob_bytes"] <= fit["blob_capacity"] and fit["arena_bytes"] <= fit["arena_capacity"]


def test_model_too_big_for_the_board_is_refused_with_the_numbers(blobs):
    d, _, n_big = blobs
    r = cli("build", "--board", "microbit", "--model", str(d / "big.ehm"))
    assert r.returncode == 2
    assert "does not fit the firmware for board microbit" in r.stderr
    assert f"needs {n_big:,} bytes" in r.stderr and "over by" in r.stderr
    assert "Traceback" not in r.stderr


def test_malformed_model_names_the_field(blobs):
    d, _, _ = blobs
    r = cli("build", "--board", "mps2-an386", "--model", str(d / "bad.ehm"))
    assert r.returncode == 2 and "magic" in r.stderr and "Traceback" not in r.stderr
