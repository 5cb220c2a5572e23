"""Train the demo's spiking CNN on event-camera digits with Sinabs and export it to NIR
(`python -m edgehost.demos.scnn.train`). Needs the `train` extra and Sinabs.

The network has the shape of the usual N-MNIST SCNN: 2x34x34 events -> Conv2d 2->8 5x5 stride 2 ->
IF -> Conv2d 8->16 3x3 -> IF -> SumPool2d 2 -> Flatten -> Linear 576->10 -> IF. Every neuron is
Sinabs' IAF with one spike per step at most (SingleSpike) and reset by subtraction; no biases.
The class is the output neuron with the most spikes over the sample (ties: the lowest index).

Writes into host/edgehost/demos/scnn/model/ (committed, so the demo needs no training):
  scnn_digits.nir    the network as exported by sinabs.to_nir
  scnn_digits.json   configuration, training history, accuracies (Sinabs' own forward, float32)
Model selection uses no test data: fixed epochs and learning rate.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .data import SENSOR, event_digits

MODEL_DIR = Path(__file__).parent / "model"
STEPS = 12


def build(steps: int = STEPS):
    import sinabs.layers as sl
    import torch.nn as nn
    from sinabs.activation import MembraneSubtract, SingleSpike

    def iaf():
        return sl.IAFSqueeze(num_timesteps=steps, spike_fn=SingleSpike, reset_fn=MembraneSubtract())

    return nn.Sequential(
        nn.Conv2d(2, 8, 5, stride=2, bias=False), iaf(),        # 34 -> 15
        nn.Conv2d(8, 16, 3, bias=False), iaf(),                 # 15 -> 13
        sl.SumPool2d(2),                                        # 13 -> 6
        nn.Flatten(),
        nn.Linear(16 * 6 * 6, 10, bias=False), iaf(),
    )


def reset(net) -> None:
    for m in net.modules():
        if hasattr(m, "reset_states"):
            m.reset_states()


def counts(net, X):
    """Output spike counts (n, 10) of Sinabs' own forward for event samples X (n, T, 2, 34, 34)."""
    import torch

    n, T = X.shape[:2]
    reset(net)
    out = net(torch.as_tensor(X, dtype=torch.float32).reshape(n * T, 2, SENSOR, SENSOR))
    return out.reshape(n, T, -1).sum(1)


def predict(net, X, batch: int = 64) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.concatenate([counts(net, X[i:i + batch]).numpy() for i in range(0, len(X), batch)])


def export_nir(net):
    """sinabs.to_nir, with its torch tensors made numpy arrays and the shapes it leaves unset
    (Conv2d input_shape, Flatten input_type) filled by NIR's own type inference, so nir.write
    can store it; the parameters are untouched."""
    import sinabs
    import torch

    reset(net)
    graph = sinabs.to_nir(net, torch.zeros(STEPS, 2, SENSOR, SENSOR))
    for node in graph.nodes.values():
        for k, v in list(vars(node).items()):
            if isinstance(v, torch.Tensor):
                setattr(node, k, v.detach().numpy())
    graph.infer_types()
    return graph


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(MODEL_DIR))
    a = ap.parse_args(argv)

    import nir
    import sinabs
    import torch

    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    t0 = time.time()
    split = event_digits(steps=STEPS, seed=a.seed)
    net = build(STEPS)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    rng = np.random.default_rng(a.seed)
    hist = []
    for ep in range(a.epochs):
        order = rng.permutation(len(split.y_train))
        tot = 0.0
        for i in range(0, len(order), 32):
            idx = order[i:i + 32]
            c = counts(net, split.X_train[idx])
            loss = torch.nn.functional.cross_entropy(c, torch.as_tensor(split.y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(idx)
        acc_tr = float(np.mean(predict(net, split.X_train).argmax(1) == split.y_train))
        hist.append({"epoch": ep + 1, "loss": tot / len(order), "train_accuracy": acc_tr})
        print(f"epoch {ep + 1}: loss {tot / len(order):.4f}, train accuracy {acc_tr:.4f}", flush=True)
    acc_test = float(np.mean(predict(net, split.X_test).argmax(1) == split.y_test))
    reset(net)
    graph = export_nir(net)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    nir.write(str(out / "scnn_digits.nir"), graph)
    meta = {
        "dataset": "scikit-learn digits as events (edgehost.demos.scnn.data.event_digits)",
        "steps": STEPS, "contrast": split.contrast, "epochs": a.epochs, "seed": a.seed,
        "framework": f"sinabs {sinabs.__version__}", "train_samples": int(len(split.y_train)),
        "test_samples": int(len(split.y_test)), "input_activity_train": float(split.X_train.mean()),
        "history": hist, "accuracy_test_float_sinabs": acc_test,
        "train_seconds": round(time.time() - t0, 1),
    }
    (out / "scnn_digits.json").write_text(json.dumps(meta, indent=1))
    print(f"test accuracy (Sinabs, float32): {acc_test:.4f}; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
