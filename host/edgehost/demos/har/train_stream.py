"""Train an L2MU for continuous operation (`python -m edgehost.demos.har.train_stream`): never
reset, a decision at any sample. Needs the `train` extra (torch, snntorch).

The demo's L2MU is trained on 2-s windows from a zero state and read at the window's end; run
continuously over a whole recording it scores far lower (demos/har/streaming.py), because its
state was never trained to forget what came before the window. This trains the demo's network
(its sizes and activity regularisation, from model/l2mu_hapt.json) on long stretches of the
training subjects' recordings, from a zero state, with a loss at every sample whose last 2 s
carry one activity (the windows' rule), after a 2-s warm-up; the leak of every population is kept
below `--max-beta` so every state forgets. Model selection uses no test data: fixed epochs;
`--val` holds out a fifth of the training subjects and reports their continuous accuracy per
epoch (for choosing settings), the final model is trained on all of them.

Writes into host/edgehost/demos/har/model/ (committed):
  l2mu_stream_f32.npz, l2mu_stream_q15.npz, l2mu_stream.json (as train.py writes l2mu_hapt_*)
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ...data import HAPT_6, load_hapt_pickle, make_windows, resample_recording, split_subjects
from .cellio import save_cell
from .data import RATE_HZ, SEED, STEPS, STRIDE, TEST_FRACTION, hapt_split
from .train import CALIB_HEADROOM, CALIB_PERCENTILE, INPUT_SCALE, MODEL_DIR

PREFIX = "l2mu_stream"
# the held-out accuracies recorded in the json (streaming.accuracies' keys for this model)
ACC_KEYS = {"continuous_every_sample": "l2mu_cont_every", "continuous_every_1s": "l2mu_cont_1s",
            "windowed_every_sample": "l2mu_win_every", "windowed_every_1s": "l2mu_win_1s"}


def recordings_of(subjects, norm) -> list:
    """(normalised signals [N, 6] float32, target per sample) of the given subjects' recordings at
    20 Hz; the target is the class of the STEPS samples up to it when they carry one label, else -1."""
    from .streaming import decision_points
    lut = {lab: i for i, lab in enumerate(HAPT_6.labels)}
    keep = set(int(s) for s in subjects)
    out = []
    for rec in (resample_recording(r, RATE_HZ) for r in load_hapt_pickle()):
        if rec.subject not in keep or rec.n_samples < STEPS:
            continue
        cls = np.full(rec.n_samples, -1, dtype=np.int64)
        for lab, s0, s1 in rec.segments:
            if int(lab) in lut:
                cls[s0:s1] = lut[int(lab)]
        tgt = np.full(rec.n_samples, -1, dtype=np.int64)
        every, _ = decision_points(cls)
        tgt[every] = cls[every]
        x = ((np.asarray(rec.signals, np.float64) - norm.offset) / norm.scale).astype(np.float32)
        out.append((x, tgt))
    return out


def crops(recs: list, length: int, rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n random stretches of `length` samples ([n, length, 6], targets [n, length]), recordings
    drawn in proportion to their length."""
    lens = np.array([len(x) - length for x, _ in recs], dtype=np.float64)
    ok = np.flatnonzero(lens > 0)
    p = lens[ok] / lens[ok].sum()
    X = np.empty((n, length, 6), np.float32)
    Y = np.empty((n, length), np.int64)
    for k, r in enumerate(rng.choice(ok, size=n, p=p)):
        x, t = recs[r]
        s = int(rng.integers(0, len(x) - length + 1))
        X[k], Y[k] = x[s:s + length], t[s:s + length]
    return X, Y


def every_step_readout(model, xb):
    """The readout y at every step [batch, steps, classes], with gradients: the model's own
    forward, its output layer's per-step terms caught by a hook and summed as the forward does
    (y_t = beta_o y_(t-1) + W_o s_h(t) + b_o)."""
    import torch
    terms = []
    hook = model.out.register_forward_hook(lambda m, i, o: terms.append(o))
    try:
        model(xb)
    finally:
        hook.remove()
    beta = model.beta_o.clamp(0, 1)
    y = torch.zeros_like(terms[0])
    ys = []
    for o in terms:
        y = beta * y + o
        ys.append(y)
    return torch.stack(ys, 1)


def clamp_leaks(model, max_beta: float) -> None:
    import torch
    with torch.no_grad():
        for lif in (model.lif_in, model.lif_enc, model.lif_u, model.lif_m, model.lif_h):
            lif.beta.clamp_(0.0, max_beta)
        model.beta_o.clamp_(0.0, max_beta)


def continuous_accuracy_float(model, recs) -> float:
    """Float model run over each whole recording from a zero state, scored where the target is set."""
    import torch
    hit = tot = 0
    with torch.no_grad():
        for x, t in recs:
            y = every_step_readout(model, torch.tensor(x[None]))[0].argmax(1).numpy()
            m = t >= 0
            hit += int(np.sum(y[m] == t[m]))
            tot += int(m.sum())
    return hit / max(tot, 1)


def train_stream(model, recs, epochs: int, length: int, batch: int, lr: float, warmup: int, max_beta: float,
                 seed: int, val=None, log=print, act_reg: float = 0.0) -> list[dict]:
    """Adam on the per-sample cross-entropy (targets -1 ignored, the first `warmup` samples of a
    stretch too); act_reg adds train.py's activity penalty (spikes x the weight rows each spike
    makes the event-driven Q15 kernel visit, per step)."""
    import torch
    from torch import nn
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    per_epoch = max(1, int(sum(len(x) for x, _ in recs) / length))
    hist = []
    clamp_leaks(model, max_beta)
    for ep in range(epochs):
        model.train()
        X, Y = crops(recs, length, rng, per_epoch)
        Y[:, :warmup] = -1
        loss_sum = hit = tot = 0.0
        for k in range(0, per_epoch, batch):
            xb, yb = torch.tensor(X[k:k + batch]), torch.tensor(Y[k:k + batch])
            ys = every_step_readout(model, xb)
            loss = nn.functional.cross_entropy(ys.reshape(-1, ys.shape[-1]), yb.reshape(-1), ignore_index=-1)
            if act_reg > 0:
                loss = loss + act_reg * model.row_visits_per_step(xb.shape[1]) / 1000.0
            opt.zero_grad()
            loss.backward()
            opt.step()
            clamp_leaks(model, max_beta)
            m = yb >= 0
            hit += float((ys.argmax(-1)[m] == yb[m]).sum())
            tot += float(m.sum())
            loss_sum += float(loss.detach()) * len(xb)
        sched.step()
        h = {"epoch": ep + 1, "loss": loss_sum / per_epoch, "train_acc": hit / max(tot, 1)}
        if val is not None:
            h["val_continuous_acc"] = continuous_accuracy_float(model, val)
        hist.append(h)
        if log:
            log(h)
    return hist


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--length", type=int, default=200, help="samples per training stretch (default 200: 10 s)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--max-beta", type=float, default=0.97, help="largest leak factor of any population")
    ap.add_argument("--act-reg", type=float, default=None,
                    help="activity regularisation as in train.py (default: the demo model's)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--val", action="store_true", help="hold out a fifth of the training subjects, report, write nothing")
    ap.add_argument("--out", default=str(MODEL_DIR))
    a = ap.parse_args(argv)

    import torch

    from ...convert.l2mu import cell_f32, cell_q15
    from ...train.l2mu import L2MU, L2MUConfig
    from .streaming import accuracies, held_out_recordings

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    split = hapt_split()
    ws = make_windows([resample_recording(r, RATE_HZ) for r in load_hapt_pickle()], HAPT_6, STEPS, STRIDE)
    tr_ids, _ = split_subjects(ws.subjects, test_fraction=TEST_FRACTION, seed=a.seed)
    val = None
    if a.val:
        vr = np.random.default_rng(a.seed + 1).permutation(tr_ids)
        nv = max(1, len(tr_ids) // 5)
        tr_ids, val_ids = np.sort(vr[nv:]), np.sort(vr[:nv])
        val = recordings_of(val_ids, split.norm)
    recs = recordings_of(tr_ids, split.norm)
    demo = json.loads((MODEL_DIR / "l2mu_hapt.json").read_text())     # the demo's network and its settings
    cfg = L2MUConfig(**demo["config"])
    act_reg = float(demo.get("act_reg", 0.0)) if a.act_reg is None else a.act_reg
    model = L2MU(cfg)
    t0 = time.time()
    hist = train_stream(model, recs, a.epochs, a.length, a.batch, a.lr, STEPS, a.max_beta, a.seed, val=val,
                        act_reg=act_reg)
    model.eval()
    if a.val:
        print(json.dumps(hist[-1]))
        return 0
    Xc, _ = crops(recs, 4 * a.length, np.random.default_rng(a.seed + 2), 64)
    cf = cell_f32(model, split.norm)
    cq, rep = cell_q15(model, Xc, split.norm, input_scale=INPUT_SCALE, headroom=CALIB_HEADROOM,
                       percentile=CALIB_PERCENTILE)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    save_cell(out / f"{PREFIX}_f32.npz", cf)
    save_cell(out / f"{PREFIX}_q15.npz", cq)
    meta = {
        "dataset": split.dataset, "classes": list(split.class_names), "config": model.config(),
        "steps": STEPS, "channels": 6, "training": "continuous: stretches of recordings from a zero state, "
        "a loss at every sample whose last 2 s carry one label, after a 2-s warm-up",
        "length": a.length, "max_beta": a.max_beta, "act_reg": act_reg, "batch": a.batch, "lr": a.lr,
        "normalization": {"offset": split.norm.offset.tolist(), "scale": split.norm.scale.tolist()},
        "input_scale": INPUT_SCALE, "calibration": {"percentile": CALIB_PERCENTILE, "headroom": CALIB_HEADROOM,
                                                    "on": "64 training stretches of 4 x length samples",
                                                    **{k: v for k, v in rep.items() if k != "input_scale"}},
        "epochs": a.epochs, "seed": a.seed, "train_seconds": round(time.time() - t0, 1), "history": hist,
    }
    (out / f"{PREFIX}.json").write_text(json.dumps(meta, indent=1, default=float))
    acc = accuracies(held_out_recordings(), log=None, prefix=PREFIX, model_dir=out, stream_prefix=None)
    meta["accuracy_test_q15"] = {name: acc[k]["accuracy"] for name, k in ACC_KEYS.items()}
    (out / f"{PREFIX}.json").write_text(json.dumps(meta, indent=1, default=float))
    print(json.dumps(meta["accuracy_test_q15"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
