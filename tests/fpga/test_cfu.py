"""The custom unit (fpga/rtl/eh_cfu.v) alone, in Icarus Verilog under cocotb, against the
numpy twins (cfu_cocotb.py has the tests)."""
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("cocotb")
runner_mod = pytest.importorskip("cocotb_tools.runner")


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog is not installed (apt-get install iverilog)")
def test_cfu_against_sim(tmp_path):
    runner = runner_mod.get_runner("icarus")
    runner.build(sources=[ROOT / "fpga" / "rtl" / "eh_cfu.v"], hdl_toplevel="eh_cfu",
                 build_dir=tmp_path / "build", timescale=("1ns", "1ps"), always=True)
    here = str(Path(__file__).resolve().parent)
    sys.path.insert(0, here)
    old = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = here + (os.pathsep + old if old else "")
    try:
        results = runner.test(hdl_toplevel="eh_cfu", test_module="cfu_cocotb", build_dir=tmp_path / "build",
                              results_xml=str(tmp_path / "results.xml"))
    finally:
        os.environ["PYTHONPATH"] = old
        sys.path.remove(here)
    from cocotb_tools.runner import get_results
    total, failed = get_results(results)
    assert total == 4 and failed == 0, f"{failed} of {total} cocotb tests failed (log above)"
