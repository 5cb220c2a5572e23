"""HAR baselines (demos/har/baselines.py) and L2MU pruning (demos/har/prune.py): the committed
models run through the C kernels bit for bit like their numpy twins, agree with the torch models'
own predictions, stay small; the cost figures come from docs/benchmarks.md."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import edgehost.kernels as K
import edgehost.sim as S
from edgehost.demos.har import baselines as B
from edgehost.demos.har import prune as P
from edgehost.demos.har.data import hapt_split
from edgehost.demos.har.demo import load_model, pick_windows

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def split():
    return hapt_split()


@pytest.fixture(scope="module")
def sample(split):
    idx = pick_windows(split.test_raw.y, per_class=10, seed=3)
    return idx, split.test_raw.X[idx], split.test_raw.y[idx]


# ------------------------------------------------------------------------------ encodings
def test_thermometer_is_monotone_and_matches_levels():
    rng = np.random.default_rng(0)
    R = rng.integers(-20000, 20000, size=(50, 40, 6)).astype(np.int16)
    lv = B.thermometer_levels(R, 16)
    assert lv.shape == (6, 16) and np.all(np.diff(lv.astype(int), axis=1) >= 0)
    code = B.thermometer(R, lv).reshape(50, 40, 6, 16)
    assert set(np.unique(code)) <= {-1, 1}
    # +1 exactly where the sample exceeds the level; once -1, every higher level is -1
    np.testing.assert_array_equal(code == 1, R[..., None].astype(int) > lv.astype(int))
    assert np.all(np.diff(code.astype(int), axis=-1) <= 0)
    with pytest.raises(ValueError):
        B.thermometer(R[..., :5], lv)


def test_pow2_normalisation_is_close_to_the_float_one(split):
    off, sh = B.pow2_norm(split.norm)
    R = B.raw_counts(split.test_raw.X[:100])
    x0 = B.pow2_normalize(R, off, sh).astype(np.float64) / 2 ** B.SA_F0
    # the power-of-two scale differs from the standard deviation by at most a factor sqrt(2)
    ref = (split.test_raw.X[:100] - split.norm.offset) / (2.0 ** np.round(np.log2(split.norm.scale)))
    assert np.max(np.abs(x0 - ref)) < 2.0 ** -B.SA_F0 + 1.0 / B.INPUT_SCALE * 2
    ratio = split.norm.scale / 2.0 ** np.round(np.log2(split.norm.scale))
    assert np.all((ratio > 0.70) & (ratio < 1.42))


# -------------------------------------------------------------------------- the baselines
@pytest.mark.parametrize("name", B.MODELS)
def test_model_is_small_and_its_recorded_figures_hold(name):
    m = B.load_model(name)
    meta = m["meta"]
    assert B.param_bytes(m) < 64 * 1024
    assert meta["accuracy_test_kernels"] >= 0.85
    # recorded at training time on every held-out window
    assert meta["agreement_kernels_torch"] >= 0.97
    assert m["torch_pred"].shape == (3973,)


@pytest.mark.parametrize("name", ["bcnn_b1", "shiftadd"])
def test_integer_pipeline_bit_exact_with_numpy_and_agrees_with_torch(name, sample):
    idx, X, y = sample
    m = B.load_model(name)
    R = B.raw_counts(X)
    logits = B.bcnn_logits if name == "bcnn_b1" else B.shiftadd_logits
    pred = []
    for r in R:
        lc, ls = logits(K, m, r), logits(S, m, r)
        assert lc.dtype == ls.dtype
        np.testing.assert_array_equal(lc, ls)
        pred.append(K.argmax_f32(lc) if name == "bcnn_b1" else K.argmax_q15(lc))
    pred = np.array(pred)
    # the torch model's own predictions on the same windows, recorded when it was trained
    agree = np.mean(pred == m["torch_pred"][idx])
    assert agree >= 0.95, f"{name}: kernels agree with torch on {agree:.1%}"
    assert np.mean(pred == y) >= 0.8
    np.testing.assert_array_equal(pred, B.predict(name, m, X))
    np.testing.assert_array_equal(pred, B.predict(name, m, X, S))


def test_float_lmu_kernels_equal_numpy_and_torch(sample):
    torch = pytest.importorskip("torch")
    from edgehost.train.baselines import FloatLMU, LMUConfig
    idx, X, y = sample
    m = B.load_model("lmu_f32")
    Xn = B.lmu_normalize(m, X)
    lc = np.stack([B.lmu_logits(K, m, x) for x in Xn[:12]])
    ls = np.stack([B.lmu_logits(S, m, x) for x in Xn[:12]])
    np.testing.assert_array_equal(lc, ls)  # float32 kernels: documented bit-exact with the twin
    model = FloatLMU(LMUConfig(**m["meta"]["config"]))
    sd = {"e_x.weight": m["e_x"], "e_h.weight": m["e_h"], "e_m.weight": m["e_m"], "A": m["a"], "B": m["b"],
          "w_x.weight": m["w_x"], "w_x.bias": m["b_h"], "w_h.weight": m["w_h"], "w_m.weight": m["w_m"],
          "out.weight": m["w_o"], "out.bias": m["b_o"]}
    model.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    with torch.no_grad():
        lt = model(torch.tensor(Xn[:12])).numpy()
    # torch's tanh vs the kernel's [7/6] Pade tanh (|error| < 1e-4) over 40 recurrent steps
    np.testing.assert_allclose(lc, lt, atol=2e-2)
    pred = B.predict("lmu_f32", m, X)
    assert np.mean(pred == m["torch_pred"][idx]) >= 0.95


def test_binary_cnn_layers_are_well_formed():
    m = B.load_model("bcnn_b1")
    for i in range(int(m["n_conv"])):
        w, thr = m[f"c{i}.w"], m[f"c{i}.thr"]
        n = w.shape[1] * int(m[f"c{i}.n_in"])
        assert w.dtype == np.uint32 and thr.dtype == np.int32
        assert np.all((thr >= -n) & (thr <= n + 1))
    assert m["fc.w"].shape == (6, (int(m["fc.n_in"]) + 31) // 32)


def test_shiftadd_codes_are_valid_powers_of_two():
    from edgehost.sim.shiftadd import decode_pow2
    m = B.load_model("shiftadd")
    for key in ("c0.w", "c1.w", "fc.w"):
        nz, neg, p = decode_pow2(m[key])  # raises on reserved bits
        assert np.all((p[nz] >= -15) & (p[nz] <= 15))
        assert nz.mean() > 0.3


def test_costs_count_the_work():
    m = B.load_model("bcnn_b1")
    c = B.costs("bcnn_b1", m)
    # conv: t_out * n_out * taps * n_in per layer, fc: classes * n_in
    t, total = 40, 0
    for i in range(int(m["n_conv"])):
        w = m[f"c{i}.w"]
        t = (t + 2 * int(m[f"c{i}.pad"]) - w.shape[1]) // int(m[f"c{i}.stride"]) + 1
        total += t * w.shape[0] * w.shape[1] * int(m[f"c{i}.n_in"])
    assert c["binary_macs"] == total + 6 * int(m["fc.n_in"])
    lmu = B.costs("lmu_f32", B.load_model("lmu_f32"))
    assert lmu["macs"] == 40 * B.lmu_step_macs(6, 8, 6, 64) + 64 * 6
    with pytest.raises(ValueError):
        B.costs("nope", m)
    with pytest.raises(ValueError):
        B.predict("nope", m, np.zeros((1, 40, 6), np.float32))


def test_per_unit_figures_are_those_of_docs_benchmarks():
    doc = ROOT / "docs" / "benchmarks.md"
    if not doc.exists():
        pytest.skip("no docs/benchmarks.md in this checkout")
    section = doc.read_text().split("## mps2-an386")[1].split("\n## ")[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and re.fullmatch(r"[\d.]+", cells[6]):
            rows[(cells[1], cells[2])] = (float(cells[5]), float(cells[6]))
    for kernel, shape, per in B.M4_PER_UNIT.values():
        assert rows[(kernel, shape)][1] == pytest.approx(per, abs=0.005), kernel
    assert rows[B.M4_LMU_F32_STEP[:2]][0] == B.M4_LMU_F32_STEP[2]
    assert rows[B.M4_L2MU_WINDOW[:2]][0] == B.M4_L2MU_WINDOW[2]


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="--train"):
        B.load_model("bcnn_b1", tmp_path)


# ------------------------------------------------------------------------------- pruning
def test_prune_matrix_zeroes_the_smallest():
    w = np.array([[5, -1, 3, -7], [2, 0, -4, 6]], np.int16)
    p = P.prune_matrix(w, 0.5)
    np.testing.assert_array_equal(p, [[5, 0, 0, -7], [0, 0, -4, 6]])  # |0|, |-1|, |2|, |3| go
    np.testing.assert_array_equal(P.prune_matrix(w, 0.0), w)
    assert np.count_nonzero(P.prune_matrix(w, 1.0)) == 0
    with pytest.raises(ValueError):
        P.prune_matrix(w, 1.5)


def test_prune_cell_prunes_trained_matrices_only():
    _, _, cq = load_model()
    pc = P.prune_cell(cq, 0.75)
    for key in P.PRUNED:
        w = P._get(pc, key)
        assert np.count_nonzero(w) <= round(0.25 * w.size)
    for key in ("w_in", "a", "b", "b_o"):
        np.testing.assert_array_equal(P._get(pc, key), P._get(cq, key))
    assert np.count_nonzero(P._get(cq, "w_h")) > 0.9 * P._get(cq, "w_h").size  # input unchanged
    assert P.cell_bytes(pc) == P.cell_bytes(cq)
    assert P.sparse_bytes(pc) < 0.6 * P.cell_bytes(pc)
    dense = P.prune_cell(cq, 0.0)
    for key in P.PRUNED:
        P._set(dense, key, np.ones_like(P._get(cq, key)))
    assert P.sparse_bytes(dense) == P.cell_bytes(dense)  # CSR only pays below 2/3 nonzero


def test_pruned_q15_cells_run_bit_exact(split):
    _, _, cq = load_model()
    from edgehost.convert.l2mu import quantize_input
    idx = pick_windows(split.test_raw.y, per_class=2, seed=4)
    for s in (0.5,):
        for c in (P.prune_cell(cq, s), P.load_finetuned(s)):
            for i in idx[:4]:
                xq = quantize_input(split.test_raw.X[i], 4096.0)
                np.testing.assert_array_equal(K.l2mu_run_q15(c, xq)[1], S.l2mu_run_q15(c, xq)[1])


def test_finetuned_pruned_models_recorded():
    rec = json.loads((B.MODEL_DIR / "l2mu_pruned.json").read_text())
    for s in (0.25, 0.5, 0.75):
        r = rec["models"][f"l2mu_pruned{int(s * 100)}_q15"]
        c = P.load_finetuned(s)
        nz = sum(np.count_nonzero(P._get(c, k)) for k in P.PRUNED)
        assert nz == r["nonzero_weights"] <= round((1 - s) * P.spike_macs(c)) + len(P.PRUNED)
        assert r["accuracy_test_q15"] >= 0.85


def test_finetuned_beats_oneshot_at_75_percent(split):
    idx = pick_windows(split.test_raw.y, per_class=10, seed=5)
    X, y = split.test_raw.X[idx], split.test_raw.y[idx]
    _, _, cq = load_model()
    one = P.accuracy_q15(P.prune_cell(cq, 0.75), X, y, 4096.0)
    ft = P.accuracy_q15(P.load_finetuned(0.75), X, y, 4096.0)
    assert ft > one


# ----------------------------------------------------------------------------------- CLI
def test_cli_baselines_json():
    out = subprocess.run([sys.executable, "-m", "edgehost.cli", "demo", "har", "--baselines", "--per-class", "2",
                          "--json"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["windows"] == 12
    names = [row["model"] for row in r["rows"]]
    assert names[:4] == ["lmu_f32", "bcnn_b1", "shiftadd", "l2mu_q15"]
    for row in r["rows"]:
        assert 0 <= row["accuracy"] <= 1 and row["param_bytes"] > 0 and row["instructions_m4_estimate"] > 0
    # measured: the three baselines as blobs on mps2-an386 (B.M4_MEASURED) and the unpruned L2MU
    assert [row["instructions_m4_measured"] is not None for row in r["rows"]].count(True) == 4
    for row in r["rows"][:3]:
        assert row["instructions_m4_measured"] == B.M4_MEASURED[row["model"]]["instructions"]
        assert row["flash_bytes"] > row["param_bytes"] and row["ram_bytes"] > 0


@pytest.mark.slow
def test_full_held_out_accuracy_equals_the_recorded_one(split):
    for name in B.MODELS:
        m = B.load_model(name)
        pred = B.predict(name, m, split.test_raw.X)
        assert np.mean(pred == split.test_raw.y) == m["meta"]["accuracy_test_kernels"]
