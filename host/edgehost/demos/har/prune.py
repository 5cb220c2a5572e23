"""Magnitude pruning of the committed L2MU, evaluated in Q15 through the host's Q15 path (the C
kernel eh_l2mu_step_q15 / readout via edgehost.kernels.l2mu_run_q15, the path the device's blob
runs bit for bit).

Every trained weight matrix of the Q15 cell (the encoder, e_x, e_h, e_m, w_x, w_h, w_m, w_o; not
the LMU's fixed A and B) loses the given fraction of its entries of smallest magnitude, per
matrix (ties broken by index). w_in is not pruned: it is not a matrix but one input gain per
input neuron (48 weights, 96 bytes), and zeroing a gain silences its neuron (pruning half of
w_in alone drops the accuracy to about 24% on 200 held-out windows). Pruning the int16 weights
is pruning the float weights: each matrix is quantised with one scale, so the order of
magnitudes is the same, and the scales and shifts stay valid (the largest weights remain).

Two variants: one-shot (prune_cell on the committed Q15 cell, no training), and fine-tuned
(`--finetune`: the float model rebuilt from the committed float cell, pruned with the same rule,
trained a few epochs with the pruned weights held at zero, then converted to Q15 exactly as
demos/har/train.py does; written to model/baselines/l2mu_pruned<NN>_q15.npz).

Parameter bytes: dense (the cell as stored, int16 weights whatever their value: the L2MU kernel
does not skip zeros) and an estimate for a sparse format (CSR: int16 value + uint8 column index
per nonzero, uint16 row starts), which the kernels do not implement.

`python -m edgehost.demos.har.prune [--json]` prints accuracy vs sparsity (both variants);
`python -m edgehost.demos.har.prune --finetune` retrains the fine-tuned ones (torch, snnTorch).
"""
from __future__ import annotations

import argparse
import copy
import json

import numpy as np

PRUNED = ("enc.0.w", "e_x", "e_h", "e_m", "w_x", "w_h", "w_m", "w_o")


def _get(cell: dict, key: str):
    node = cell
    for p in key.split("."):
        node = node[int(p)] if isinstance(node, list) else node[p]
    return node


def _set(cell: dict, key: str, value) -> None:
    parts = key.split(".")
    node = cell
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[parts[-1]] = value


def prune_matrix(w: np.ndarray, sparsity: float) -> np.ndarray:
    """w with round(sparsity * size) entries of smallest |w| set to 0 (stable: lower index first)."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must lie in [0, 1], got {sparsity}")
    w = np.asarray(w)
    k = int(round(sparsity * w.size))
    out = w.copy().reshape(-1)
    if k:
        order = np.argsort(np.abs(out.astype(np.float64)), kind="stable")
        out[order[:k]] = 0
    return out.reshape(w.shape)


def prune_cell(cell: dict, sparsity: float) -> dict:
    """A copy of an L2MU cell (Q15 or float32) with every trained matrix pruned to `sparsity`."""
    out = copy.deepcopy(cell)
    for key in PRUNED:
        _set(out, key, prune_matrix(_get(cell, key), sparsity))
    return out


def cell_bytes(cell: dict) -> int:
    """Bytes of every array of the cell (weights, biases, thresholds, decays, A, B)."""
    total = 0
    stack = [cell]
    while stack:
        node = stack.pop()
        vals = node.values() if isinstance(node, dict) else node
        for v in vals:
            if isinstance(v, (dict, list)):
                stack.append(v)
            elif isinstance(v, np.ndarray) and v.ndim >= 1:
                total += v.nbytes
    return total


def sparse_bytes(cell: dict) -> int:
    """cell_bytes with each pruned matrix stored as CSR (int16 value + uint8 index per nonzero,
    uint16 row starts) instead of dense: an estimate, no kernel reads this format."""
    dense = cell_bytes(cell)
    for key in PRUNED:
        w = np.asarray(_get(cell, key))
        rows = w.shape[0]
        csr = int(np.count_nonzero(w)) * (w.itemsize + 1) + 2 * (rows + 1)
        dense += min(csr, w.nbytes) - w.nbytes
    return dense


def spike_macs(cell: dict) -> int:
    """Weights of the pruned matrices (the adds the kernel does per step when every input spikes)."""
    return int(sum(np.asarray(_get(cell, k)).size for k in PRUNED))


def accuracy_q15(cell_q: dict, X_raw: np.ndarray, y: np.ndarray, input_scale: float, K=None) -> float:
    from ...convert.l2mu import quantize_input
    if K is None:
        import edgehost.kernels as K
    pred = np.array([int(np.argmax(K.l2mu_run_q15(cell_q, quantize_input(x, input_scale))[1][-1])) for x in X_raw])
    return float(np.mean(pred == y))


# --------------------------------------------------------------------------- fine-tuning
FINETUNE_EPOCHS = 3
FINETUNE_LR = 1e-3
_TORCH_KEYS = {"enc.0.w": "enc.weight", "e_x": "e_x.weight", "e_h": "e_h.weight", "e_m": "e_m.weight",
               "w_x": "w_x.weight", "w_h": "w_h.weight", "w_m": "w_m.weight", "w_o": "out.weight"}


def model_from_cell(cell_f: dict, meta: dict):
    """The torch L2MU (edgehost.train.l2mu) of a committed float32 cell, the input normalisation
    unfolded again (the cell's layer 1 acts on raw samples, the model on normalised ones)."""
    import torch

    from ...train.l2mu import L2MU, L2MUConfig
    model = L2MU(L2MUConfig(**meta["config"]))
    off = np.asarray(meta["normalization"]["offset"], np.float64)[:, None]
    sc = np.asarray(meta["normalization"]["scale"], np.float64)[:, None]
    w_in = cell_f["w_in"].astype(np.float64) * sc
    b_in = cell_f["b_in"].astype(np.float64) + cell_f["w_in"].astype(np.float64) * off
    t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    with torch.no_grad():
        model.w_in.copy_(t(w_in))
        model.b_in.copy_(t(b_in))
        model.enc.weight.copy_(t(cell_f["enc"][0]["w"]))
        model.enc.bias.copy_(t(cell_f["enc"][0]["b"]))
        for key in ("e_x", "e_h", "e_m", "w_x", "w_h", "w_m"):
            getattr(model, key).weight.copy_(t(cell_f[key]))
        model.out.weight.copy_(t(cell_f["w_o"]))
        model.out.bias.copy_(t(cell_f["b_o"]))
        model.beta_o.copy_(t(cell_f["pop_o"]["beta"][0]))
        for pop, lif in (("pop_in", model.lif_in), ("pop_u", model.lif_u), ("pop_m", model.lif_m),
                         ("pop_h", model.lif_h)):
            lif.beta.copy_(t(cell_f[pop]["beta"]))
            lif.threshold.copy_(t(cell_f[pop]["threshold"]))
        model.lif_enc.beta.copy_(t(cell_f["enc"][0]["pop"]["beta"]))
        model.lif_enc.threshold.copy_(t(cell_f["enc"][0]["pop"]["threshold"]))
    return model


def finetune(sparsities=(0.25, 0.5, 0.75), out_dir=None, epochs: int = FINETUNE_EPOCHS, seed: int = 0,
             log=print) -> dict:
    """Prune the float model, fine-tune with the mask, convert to Q15; write the cells and a json."""
    import time

    import torch

    from ...convert.l2mu import cell_q15, quantize_input
    from ...kernels import l2mu_run_q15
    from ...train.baselines import train
    from ...train.l2mu import accuracy
    from .baselines import MODEL_DIR
    from .cellio import save_cell
    from .data import hapt_split
    from .demo import load_model
    from .train import CALIB_HEADROOM, CALIB_PERCENTILE, INPUT_SCALE
    torch.set_num_threads(1)
    out_dir = MODEL_DIR if out_dir is None else out_dir
    meta, cell_f, _ = load_model()
    split = hapt_split()
    trn, tst = split.train, split.test
    summary = {"epochs": epochs, "lr": FINETUNE_LR, "seed": seed, "pruned": list(PRUNED), "models": {}}
    for s in sparsities:
        t0 = time.time()
        torch.manual_seed(seed)
        model = model_from_cell(prune_cell(cell_f, s), meta)
        params = dict(model.named_parameters())
        masks = {k: (params[v].detach() != 0).float() for k, v in _TORCH_KEYS.items()}

        def hold(params=params, masks=masks):
            with torch.no_grad():
                for k, v in _TORCH_KEYS.items():
                    params[v].mul_(masks[k])

        hist = train(model, trn.X, trn.y, epochs, lr=FINETUNE_LR, seed=seed, name=f"l2mu pruned {s:.0%}",
                     log=log, after_step=hold)
        model.eval()
        acc_f = accuracy(model, tst.X, tst.y)
        cq, rep = cell_q15(model, trn.X[::5], split.norm, input_scale=INPUT_SCALE, headroom=CALIB_HEADROOM,
                           percentile=CALIB_PERCENTILE)
        pred = np.array([int(np.argmax(l2mu_run_q15(cq, quantize_input(x, INPUT_SCALE))[1][-1]))
                         for x in split.test_raw.X])
        name = f"l2mu_pruned{int(round(s * 100))}_q15"
        save_cell(out_dir / f"{name}.npz", cq)
        summary["models"][name] = {"sparsity": s, "history": hist, "accuracy_test_float_torch": acc_f,
                                   "accuracy_test_q15": float(np.mean(pred == tst.y)),
                                   "nonzero_weights": int(sum(np.count_nonzero(_get(cq, k)) for k in PRUNED)),
                                   "calibration": {k: v for k, v in rep.items() if k != "input_scale"},
                                   "train_seconds": round(time.time() - t0, 1)}
        log(f"{name}: float {acc_f:.4f}, q15 {summary['models'][name]['accuracy_test_q15']:.4f}")
    (out_dir / "l2mu_pruned.json").write_text(json.dumps(summary, indent=1, default=float))
    return summary


def load_finetuned(sparsity: float, model_dir=None):
    from .baselines import MODEL_DIR
    from .cellio import load_cell
    path = (MODEL_DIR if model_dir is None else model_dir) / f"l2mu_pruned{int(round(sparsity * 100))}_q15.npz"
    if not path.exists():
        raise FileNotFoundError(f"no fine-tuned pruned L2MU {path}; "
                                "run `python -m edgehost.demos.har.prune --finetune`")
    return load_cell(path)


def report_rows(X_raw: np.ndarray, y: np.ndarray, sparsities=(0.25, 0.5, 0.75), K=None,
                oneshot: bool = True, finetuned: bool = True) -> list[dict]:
    """Rows of the baselines report: the committed L2MU in Q15, then at each sparsity the one-shot
    pruned cell and/or the committed fine-tuned one."""
    import time

    from .baselines import M4_L2MU_WINDOW
    from .demo import load_model
    meta, _, cell_q = load_model()
    variants = [("l2mu_q15", "L2MU (Q15, the demo's model)", 0.0, lambda: cell_q)]
    for s in sparsities:
        pct = int(round(s * 100))
        if oneshot:
            variants.append((f"l2mu_q15_prune{pct}", f"L2MU Q15, {pct}% pruned (one-shot)", s,
                             lambda s=s: prune_cell(cell_q, s)))
        if finetuned:
            variants.append((f"l2mu_q15_prune{pct}_ft", f"L2MU Q15, {pct}% pruned + fine-tuned", s,
                             lambda s=s: load_finetuned(s)))
    rows = []
    for name, kind, s, make in variants:
        t0 = time.monotonic()
        c = make()
        nz = int(sum(np.count_nonzero(_get(c, k)) for k in PRUNED))
        rows.append({
            "model": name, "kind": kind, "sparsity": s,
            "accuracy": accuracy_q15(c, X_raw, y, meta["input_scale"], K),
            "param_bytes": cell_bytes(c), "param_bytes_sparse_estimate": sparse_bytes(c),
            "nonzero_weights": nz, "weights": spike_macs(c),
            # spike-driven: the kernel adds one weight per input spike, at most every weight per step
            "macs": 0, "binary_macs": 0, "shift_adds": 0,
            "spike_adds_upper_bound": int(meta["steps"]) * spike_macs(c),
            "instructions_m4_measured": M4_L2MU_WINDOW[2] if s == 0 else None,
            "instructions_m4_estimate": M4_L2MU_WINDOW[2],
            "estimate_from": [f"{M4_L2MU_WINDOW[0]} {M4_L2MU_WINDOW[1]} (measured on the unpruned model; "
                              "the kernel does not skip zero weights)"],
            "seconds": round(time.monotonic() - t0, 1)})
    return rows


def _model_dir():
    from .baselines import MODEL_DIR
    return MODEL_DIR


def main(argv=None) -> int:
    from .data import hapt_split
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparsity", type=float, action="append", help="repeatable (default 0.25 0.5 0.75)")
    ap.add_argument("--limit", type=int, help="first N held-out windows only")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--finetune", action="store_true", help="retrain the fine-tuned pruned models")
    ap.add_argument("--epochs", type=int, default=FINETUNE_EPOCHS, help="with --finetune")
    a = ap.parse_args(argv)
    if a.finetune:
        finetune(tuple(a.sparsity or (0.25, 0.5, 0.75)), epochs=a.epochs)
        return 0
    split = hapt_split()
    X, y = split.test_raw.X, split.test_raw.y
    if a.limit:
        X, y = X[:a.limit], y[:a.limit]
    sp = tuple(a.sparsity or (0.25, 0.5, 0.75))
    rows = report_rows(X, y, sp, finetuned=all((_model_dir() / f"l2mu_pruned{int(round(s * 100))}_q15.npz").exists()
                                                for s in sp))
    if a.json:
        print(json.dumps({"windows": int(len(y)), "rows": rows}))
    else:
        for r in rows:
            print(f"{r['model']:24s} sparsity {r['sparsity']:.2f}  accuracy {r['accuracy']:.4f}  "
                  f"dense {r['param_bytes']} B  CSR estimate {r['param_bytes_sparse_estimate']} B  "
                  f"nonzero {r['nonzero_weights']}/{r['weights']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
