"""Operator selection at build time (EH_OPS, docs/boards.md "ops"): the table of
firmware/model/eh_op_table.c read by the host, the FPGA boards' default operators (their firmware
fits), `build --model` linking the model's operators, and the loader of a selected build refusing a
layer whose operator it lacks."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from edgehost import boards
from edgehost.blob import format as F
from edgehost.build import build, model_ops, op_table, operators
from edgehost.cli import UserError
from edgehost.convert import CubaLif, Fc, Graph, Li, Lif
from edgehost.convert import build as convert
from edgehost.runtime.native import CTool, ROOT, sources


pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "edgehost", *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def fc_lif(tmp_path_factory):
    """A q15 fc + lif model (operators convert, fc, lif) and an fc + li one (convert, fc, li)."""
    d = tmp_path_factory.mktemp("ops")
    rng = np.random.default_rng(0)
    a = convert(Graph(6, [Fc(rng.normal(size=(8, 6))), Lif(np.full(8, 0.9), np.ones(8))]), quantize="q15")[0]
    b = convert(Graph(6, [Fc(rng.normal(size=(4, 6))), Li(np.full(4, 0.8))]), quantize="q15")[0]
    (d / "fc_lif.ehm").write_bytes(a.to_bytes())
    (d / "fc_li.ehm").write_bytes(b.to_bytes())
    return d


def test_op_table_is_the_formats_layer_types():
    """The host's code -> operator map (parsed from eh_op_table.c) names every layer type the
    format has, with the same codes, and only operators that have a file."""
    table = op_table()
    assert {c: name for c, (_op, name) in table.items()} == dict(F.LAYER_NAMES)
    assert {op for op, _name in table.values()} == set(operators())
    assert table[26] == ("conv2d", "conv2d_f32") and table[57] == ("fc", "fc_spike_t_q15")


def test_model_ops(fc_lif):
    assert model_ops(fc_lif / "fc_lif.ehm") == ["convert", "fc", "lif"]
    assert model_ops(fc_lif / "fc_li.ehm") == ["convert", "fc", "li"]


@pytest.mark.parametrize("name", ["icebreaker", "ulx3s"])
def test_fpga_board_firmware_fits_with_its_default_ops(name):
    """The full runtime of the FPGA boards (the ELF; the bitstream is tests/fpga's): their "ops"
    keep it inside the board's flash, with a margin for the next operators' growth."""
    b = boards.get(name)
    assert b.ops and "lif" in b.ops and "fc_b1" in b.ops
    r = build(name)
    assert r.ops_selected and r.ops == b.ops
    assert r.flash_used <= 0.9 * r.flash_bytes, (r.flash_used, r.flash_bytes)
    assert r.ram_used <= r.ram_bytes


def test_build_model_links_the_models_operators(fc_lif):
    r = cli("build", "--board", "nrf52", "--model", str(fc_lif / "fc_lif.ehm"), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["ops"] == ["convert", "fc", "lif"] and d["ops_selected"]
    cache = boards.repo_root() / "build" / "fw" / boards.get("nrf52").name / "CMakeCache.txt"
    assert "EH_OPS:STRING=convert;fc;lif\n" in cache.read_text()
    r = cli("build", "--board", "nrf52", "--model", str(fc_lif / "fc_li.ehm"))
    assert r.returncode == 0, r.stderr
    assert "operators (the model's, 3): convert fc li" in r.stdout
    # without --model: every operator again
    r = cli("build", "--board", "nrf52", "--json")
    d = json.loads(r.stdout)
    assert not d["ops_selected"] and d["ops"] == operators()
    assert "EH_OPS:STRING=\n" in cache.read_text()


def test_unknown_operator_is_refused():
    with pytest.raises(UserError, match=r"unknown operator 'conv3d' \(valid: add, argmax"):
        build("nrf52", ops=["fc", "conv3d"])


def test_unknown_cmake_operator_is_a_configure_error(tmp_path):
    r = subprocess.run(["cmake", "-S", ROOT, "-B", str(tmp_path), "-DEH_BOARD=host", "-DEH_OPS=fc;conv3d"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert "EH_OPS: unknown operator 'conv3d' (valid: add, argmax" in r.stderr


def test_selected_loader_refuses_a_layer_it_lacks(tmp_path, fc_lif):
    """The C loader built with EH_OPS=convert;fc (as the firmware is): the fc + lif model is refused
    at its lif layer, saying the operator is not built in; the fc + li model is refused likewise,
    and a build with li loads it."""
    inc = ["-I", os.path.join(ROOT, "kernels_c", "include"), "-I", os.path.join(ROOT, "kernels_c", "src"),
           "-I", os.path.join(ROOT, "firmware", "model")]
    ops_dir = os.path.join(ROOT, "firmware", "model", "ops")

    def tool(ops):
        srcs = [s for s in sources() if os.path.dirname(s) != ops_dir
                or os.path.basename(s)[len("eh_op_"):-2] in ops]
        exe = str(tmp_path / ("tool_" + "_".join(ops)))
        defs = ["-DEH_OPS_SELECTED"] + [f"-DEH_OP_WITH_{o.upper()}" for o in ops]
        r = subprocess.run(["cc", "-std=c99", "-O0", "-Wall", "-Wextra", "-Werror", *defs, *inc,
                            os.path.join(ROOT, "firmware", "model", "eh_model_tool.c"), *srcs, "-o", exe, "-lm"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        return CTool(exe)

    lif, li = (fc_lif / "fc_lif.ehm").read_bytes(), (fc_lif / "fc_li.ehm").read_bytes()
    small = tool(["convert", "fc"])
    for blob, code in ((lif, 7), (li, 11)):
        rc, *_rest, err = small.check([blob], 1 << 16)[0]
        assert rc == F.E_UNSUPPORTED
        assert f"type {code} unknown or not built into this firmware" in err, err
    rc, *_rest, err = tool(["convert", "fc", "li"]).check([li], 1 << 16)[0]
    assert rc == 0, err


@pytest.mark.parametrize("value,words", [
    (["fc", "conv3d"], "unknown operator 'conv3d' (valid: add, argmax"),
    ([], "give at least one operator"),
    ("fc", "expected a list of non-empty strings"),
    (["fc", "fc"], "listed twice"),
])
def test_bad_board_ops_names_file_and_field(tmp_path, value, words):
    import shutil
    shutil.copytree(boards.repo_root() / "boards", tmp_path / "boards")
    for d in ("cmake", "firmware", "fpga"):
        (tmp_path / d).symlink_to(boards.repo_root() / d)
    path = tmp_path / "boards" / "icebreaker" / "board.json"
    data = json.loads(path.read_text())
    data["ops"] = value
    path.write_text(json.dumps(data))
    with pytest.raises(boards.BoardError) as e:
        boards.load_all(tmp_path / "boards")
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and "field 'ops'" in msg and words in msg, msg


def test_each_table_entry_is_in_its_operators_group():
    """eh_op_table.c: every entry sits in the `#if ... defined(EH_OP_WITH_<OP>)` group of its own
    operator (what EH_OPS selects), and each operator has one group."""
    import re
    text = (boards.repo_root() / "firmware" / "model" / "eh_op_table.c").read_text()
    group, seen = None, []
    for line in text.splitlines():
        m = re.match(r"#if !defined\(EH_OPS_SELECTED\) \|\| defined\(EH_OP_WITH_(\w+)\)$", line)
        if m:
            assert group is None, line
            group = m.group(1)
            seen.append(group)
        elif line.startswith("#endif"):
            group = None
        else:
            e = re.match(r"\s*\[\d+\] = &eh_op_(\w+)\[", line)
            if e:
                assert group == e.group(1).upper(), line
    assert sorted(seen) == sorted(op.upper() for op in operators())


def test_build_model_of_cubalif_without_lif_links(tmp_path):
    """eh_op_cubalif.c calls eh_op_lif.c's reset helpers: a model with CubaLIF and no LIF layer
    (operators convert, cubalif, fc) builds and links; the table still holds only its operators."""
    rng = np.random.default_rng(4)
    m = convert(Graph(5, [Fc(rng.normal(size=(6, 5))), CubaLif(np.full(6, 0.8), np.full(6, 0.9), np.ones(6))]),
                quantize="q15")[0]
    p = tmp_path / "cuba.ehm"
    p.write_bytes(m.to_bytes())
    assert model_ops(str(p)) == ["convert", "cubalif", "fc"]
    r = cli("build", "--board", "nrf52", "--model", str(p), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["ops"] == ["convert", "cubalif", "fc"]
    r = cli("build", "--board", "nrf52", "--json")    # every operator again, for the tests after this
    assert r.returncode == 0, r.stderr
