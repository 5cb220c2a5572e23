"""The README's hardware-in-the-loop snippet runs as written: a NIR network converted with
`edgehost convert ... --quantize q15`, inputs in x.npy, the snippet's test function taken from
README.md and called with the session's device."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.hil, pytest.mark.edgehost_boards("host", "mps2-an386")]

ROOT = Path(__file__).resolve().parents[2]


def readme_hil_snippet() -> str:
    text = (ROOT / "README.md").read_text()
    at = text.index("Hardware-in-the-loop tests in a few lines")
    m = re.compile(r"```python\n(.*?)```", re.S).search(text, at)
    assert m, "no python block after the README's hardware-in-the-loop sentence"
    return m.group(1)


def example_module():
    spec = importlib.util.spec_from_file_location("eh_docs_example", ROOT / "docs/examples/test_my_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """net.nir -> net.ehm with the command the snippet names, and x.npy (float64, as saved data is)."""
    pytest.importorskip("nir")
    from edgehost.cli import main
    d = tmp_path_factory.mktemp("readme")
    example_module().make_nir(d / "net.nir")
    assert main(["convert", str(d / "net.nir"), "-o", str(d / "net.ehm"), "--quantize", "q15"]) == 0
    np.save(d / "x.npy", np.random.default_rng(0).normal(0, 1, size=(40, 4)))
    return d


def test_readme_hil_snippet_runs_as_written(device, workdir, monkeypatch):
    code = readme_hil_snippet()
    assert "check_against_host(device, x)" in code and "device.infer(x)" in code
    ns: dict = {}
    exec(compile(code, "README.md (hardware-in-the-loop snippet)", "exec"), ns)
    tests = [f for name, f in ns.items() if name.startswith("test_") and callable(f)]
    assert len(tests) == 1
    monkeypatch.chdir(workdir)
    tests[0](device)
