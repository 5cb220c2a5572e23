"""`edgehost inspect` and `edgehost build --model` give one answer on whether a model fits a board,
from one function (edgehost.model_fit.fit), against the firmware's buffers (not the board's RAM)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from edgehost import model_fit
from edgehost.boards import get, load_all
from edgehost.cli import main
from edgehost.convert import build
from edgehost.convert.examples import random_graph


def _model(arena_target: int, tmp_path, name="m.ehm"):
    """A float model whose arena is at least arena_target bytes (--no-reuse, wide layers)."""
    from edgehost.convert import graph as G
    w = np.full((arena_target // 4 + 1, 1), 0.01, np.float32)
    g = G.Graph(n_in=1, layers=[G.Fc(w, None), G.Fc(np.full((1, w.shape[0]), 0.01, np.float32), None)])
    m, _ = build(g, reuse=False)
    p = tmp_path / name
    p.write_bytes(m.to_bytes())
    return p, m


def test_fit_is_the_buffers():
    cap = model_fit.Capacity(blob=1000, arena=500, max_payload=100, source="test")
    assert model_fit.fit(model_fit.Need(1000, 500, 100, 96), cap)["fits"]
    for need, what in ((model_fit.Need(1001, 1, 1, 1), "blob buffer"), (model_fit.Need(1, 501, 1, 1), "arena"),
                       (model_fit.Need(1, 1, 101, 1), "input"), (model_fit.Need(1, 1, 1, 97), "output")):
        r = model_fit.fit(need, cap)
        assert not r["fits"] and len(r["over"]) == 1 and what in r["over"][0]


def test_configuration_equals_the_built_images():
    """Without an image, eh_fw_config.h as the board's build compiles it: the same numbers as the
    ELF's symbols (for the boards built here)."""
    built = [b for b in load_all() if model_fit.firmware_elf(b) is not None]
    if not built:
        pytest.skip("no board firmware built yet")
    for b in built:
        a = model_fit.capacity_of_board(b)
        c = model_fit.capacity_of_board(b, use_elf=False)
        assert "firmware image" in a.source and "eh_fw_config.h" in c.source
        assert (a.blob, a.arena, a.max_payload) == (c.blob, c.arena, c.max_payload), b.name


def test_configuration_per_core_and_board_flags():
    caps = {b.name: model_fit.capacity_of_board(b, use_elf=False) for b in load_all()}
    assert (caps["mps2-an386"].blob, caps["mps2-an386"].arena, caps["mps2-an386"].max_payload) == (48 << 10, 32 << 10, 1024)
    assert (caps["microbit"].blob, caps["microbit"].arena, caps["microbit"].max_payload) == (4 << 10, 4 << 10, 256)
    assert (caps["icebreaker"].blob, caps["icebreaker"].arena, caps["icebreaker"].max_payload) == (16 << 10, 16 << 10, 512)
    assert (caps["host"].blob, caps["host"].arena) == (256 << 10, 128 << 10)


def test_inspect_and_build_model_agree(tmp_path, capsys):
    """A 66,000-byte arena: mps2-an386's RAM (4 MB) would hold it, its firmware's arena (32 KiB)
    does not: inspect says so, and build --model refuses it with the same numbers."""
    p, m = _model(66_000, tmp_path)
    assert m.arena_size > 32768
    assert main(["inspect", str(p), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    rows = {r["board"]: r for r in d["boards"]}
    assert rows["mps2-an386"]["fits"] is False
    assert any("arena" in o and f"{m.arena_size:,}" in o and "32,768" in o for o in rows["mps2-an386"]["over"])
    assert rows["host"]["fits"] is True
    cap = model_fit.capacity_of_board(get("host"))
    need = model_fit.Need.of(p.read_bytes(), m)
    assert {k: v for k, v in rows["host"].items() if k not in ("board", "core")} == model_fit.fit(need, cap)

    # build --model on the boards built here answers alike (host is native and quick to build)
    rc = main(["build", "--board", "host", "--model", str(p), "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert json.loads(out.out)["model"]["fits"] is True
    if model_fit.firmware_elf(get("mps2-an386")) is not None:
        rc = main(["build", "--board", "mps2-an386", "--model", str(p)])
        err = capsys.readouterr().err
        assert rc != 0 and "does not fit" in err and f"{m.arena_size:,}" in err and "32,768" in err


def test_small_model_fits_everywhere(tmp_path, capsys):
    g = random_graph(np.random.default_rng(1), max_width=6)
    m, _ = build(g)
    p = tmp_path / "s.ehm"
    p.write_bytes(m.to_bytes())
    assert main(["inspect", str(p), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert all(r["fits"] for r in d["boards"]) and {r["board"] for r in d["boards"]} == {b.name for b in load_all()}
