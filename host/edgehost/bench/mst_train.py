"""A trained binary layer for the MST benchmark: 1024 -> 256 binary fully connected, trained with
torch on scikit-learn's digits (8x8 images, 16 grey levels, thermometer-coded into 64 x 16 =
1024 input bits), with and without an MST similarity regulariser (after Vo et al., ICCV 2023).

Network: x (+-1, 1024) -> binary FC 1024 -> 256 (sign of latent weights, straight-through
estimator) -> BatchNorm -> sign -> FC 256 -> 10. Adam, cross-entropy, fixed seeds.

MST regulariser (reg > 0): every epoch the spanning forest of the current sign weights is
rebuilt with edgehost.sim.mst.mst_build (the kernel's cost model); each child's latent weights
are then pulled towards its parent's signs with a hinge, reg * mean(relu(margin - w_c * sign(w_p))),
whose weight ramps up over the epochs. That makes children within a few percent of their parent,
which is what makes an MST layer cheaper than fc_b1 (see edgehost.sim.mst).

Projection (max_dist): the regulariser alone leaves children a few dozen bits apart and many
channels far from any other. After training, along one spanning tree (parents first) every
child keeps only its max_dist most important differences from its parent (largest |latent|),
the others take the parent's signs; then BatchNorm and the output layer are fine-tuned with the
binary layer frozen. The test accuracy reported is the final network's.

    python -m edgehost.bench.mst_train --header bench/cases/bench_mst_trained.h

writes the C header the benchmark case bench/cases/bench_mst.c includes (the full packed weights
of the regularised layer and its MST layout) and prints accuracies and costs as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

import numpy as np

K_IN, N_OUT = 1024, 256


def digits_bits(seed: int = 0):
    """Thermometer-coded digits: X [N][1024] in {-1, +1} (float32), y [N]; 80/20 split."""
    from sklearn.datasets import load_digits
    d = load_digits()
    levels = np.arange(16)[None, None, :]
    bits = (d.data[:, :, None] > levels).reshape(len(d.data), -1)     # [N][64*16]
    X = np.where(bits, -1.0, 1.0).astype(np.float32)                    # bit 1 (set) = -1
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))
    cut = int(0.8 * len(X))
    return X[idx[:cut]], d.target[idx[:cut]], X[idx[cut:]], d.target[idx[cut:]]


@dataclass
class Trained:
    w: np.ndarray          # int8 [256][1024] +-1, the binary layer
    test_acc: float
    reg: float
    max_dist: int | None = None


def train(reg: float = 0.0, epochs: int = 40, seed: int = 0, margin: float = 0.05,
          max_dist: int | None = None, root_dist: int = 1024, finetune: int = 10) -> Trained:
    import torch
    from torch import nn

    from ..sim import mst_build, pack_bits

    torch.manual_seed(seed)
    Xtr, ytr, Xte, yte = digits_bits(seed)
    Xtr, Xte = torch.tensor(Xtr), torch.tensor(Xte)
    ytr, yte = torch.tensor(ytr), torch.tensor(yte)

    class SignSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return torch.where(a < 0, -1.0, 1.0)

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * (a.abs() <= 1).float()

    latent = nn.Parameter(torch.empty(N_OUT, K_IN).uniform_(-0.1, 0.1))
    bn = nn.BatchNorm1d(N_OUT)
    out = nn.Linear(N_OUT, 10)
    params = [latent, *bn.parameters(), *out.parameters()]
    opt = torch.optim.Adam(params, lr=3e-3)

    def forward(x):
        wb = SignSTE.apply(latent)
        h = SignSTE.apply(bn(x @ wb.t() / np.sqrt(K_IN)))
        return out(h)

    parent_idx = None
    for ep in range(epochs):
        if reg > 0:
            wb = np.where(latent.detach().numpy() < 0, -1, 1).astype(np.int8)
            # one spanning tree over all channels (no roots but the first): minimise its weight
            lay = mst_build(pack_bits(wb), K_IN, root_cost=float("inf"), fixed=0.0, per_bit=1.0)
            ch = lay.channel
            kids = np.flatnonzero(lay.parent >= 0)
            parent_idx = (torch.tensor(ch[kids].astype(np.int64)),
                          torch.tensor(ch[lay.parent[kids]].astype(np.int64)))
        perm = torch.randperm(len(Xtr))
        ramp = min(1.0, (ep + 1) / (0.6 * epochs))
        for k in range(0, len(perm), 64):
            b = perm[k:k + 64]
            loss = nn.functional.cross_entropy(forward(Xtr[b]), ytr[b])
            if reg > 0 and parent_idx is not None and parent_idx[0].numel():
                c, p = parent_idx
                target = torch.where(latent[p].detach() < 0, -1.0, 1.0)
                loss = loss + reg * ramp * torch.relu(margin - latent[c] * target).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                latent.clamp_(-1, 1)
    if max_dist is not None:
        project(latent, max_dist, root_dist)
        # fine-tune the rest with the projected binary layer frozen
        latent.requires_grad_(False)
        opt2 = torch.optim.Adam([*bn.parameters(), *out.parameters()], lr=1e-3)
        for ep in range(finetune):
            perm = torch.randperm(len(Xtr))
            for k in range(0, len(perm), 64):
                b = perm[k:k + 64]
                loss = nn.functional.cross_entropy(forward(Xtr[b]), ytr[b])
                opt2.zero_grad()
                loss.backward()
                opt2.step()
    bn.eval()
    with torch.no_grad():
        acc = float((forward(Xte).argmax(1) == yte).float().mean())
    w = np.where(latent.detach().numpy() < 0, -1, 1).astype(np.int8)
    return Trained(w=w, test_acc=acc, reg=reg, max_dist=max_dist)


def project(latent, max_dist: int, root_dist: int) -> None:
    """In place: along one spanning tree of the channels (Hamming distances), a channel whose
    edge to its parent is at most root_dist keeps only its max_dist most important differences
    (largest |latent|); the others take the parent's sign. Parents first, so a child is projected
    onto its parent's final weights. Channels farther than root_dist are left as they are."""
    import torch

    from ..sim import mst_build, pack_bits
    lat = latent.detach().numpy()
    wb = np.where(lat < 0, -1, 1).astype(np.int8)
    lay = mst_build(pack_bits(wb), K_IN, root_cost=float("inf"), fixed=0.0, per_bit=1.0)
    new = lat.copy()
    for p in range(lay.n_out):
        if lay.parent[p] < 0:
            continue
        c, q = int(lay.channel[p]), int(lay.channel[lay.parent[p]])
        sc, sq = np.sign(new[c]) + (new[c] == 0), np.sign(new[q]) + (new[q] == 0)
        diff = np.flatnonzero(sc != sq)
        if diff.size > root_dist or diff.size <= max_dist:
            continue
        drop = diff[np.argsort(-np.abs(new[c][diff]), kind="stable")[max_dist:]]
        new[c][drop] = sq[drop] * np.maximum(np.abs(new[c][drop]), 1e-3)
    with torch.no_grad():
        latent.copy_(torch.from_numpy(new))


def _c_array(name: str, ctype: str, vals, per_line: int = 8, fmt: str = "0x{:08X}u") -> list[str]:
    vals = [int(v) for v in np.asarray(vals).ravel()]
    out = [f"static const {ctype} {name}[{max(len(vals), 1)}] = {{"]
    if not vals:
        vals_s = ["0"]
    else:
        vals_s = [fmt.format(v) if fmt else str(v) for v in vals]
    for i in range(0, len(vals_s), per_line):
        out.append("    " + ", ".join(vals_s[i:i + per_line]) + ",")
    out.append("};")
    return out


def header(t: Trained) -> str:
    """The C header of a trained layer: full packed weights (node order) and the MST layout."""
    from ..sim import mst_build, mst_cost, pack_bits
    wp = pack_bits(t.w)
    lay = mst_build(wp, K_IN)
    cost = mst_cost(lay)
    lines = [
        "/* Generated by `python -m edgehost.bench.mst_train --header ...` (host/edgehost/bench/mst_train.py):",
        f" * a 1024 -> 256 binary layer trained on scikit-learn digits with the MST regulariser (reg = {t.reg},",
        f" * then at most {t.max_dist} differences per child kept and the rest of the net fine-tuned),",
        f" * test accuracy {t.test_acc:.3f}; MST layout: {cost['roots']} roots, {cost['children']} children,",
        f" * {cost['n_diff']} differing positions (mean {cost['mean_child_distance']:.1f} per child). Do not edit. */",
        "#ifndef BENCH_MST_TRAINED_H", "#define BENCH_MST_TRAINED_H", "#include <stdint.h>", "",
        f"#define MSTT_IN {K_IN}u", f"#define MSTT_OUT {N_OUT}u", f"#define MSTT_ROOTS {lay.n_roots}u",
        f"#define MSTT_DIFF {lay.n_diff}u", "",
        "/* full weights of node p (channel order permuted to node order), for the self-check */",
    ]
    lines += _c_array("mstt_w", "uint32_t", wp[lay.channel])
    lines += _c_array("mstt_parent", "int32_t", lay.parent, 16, "{}")
    lines += _c_array("mstt_root_w", "uint32_t", lay.root_w)
    lines += _c_array("mstt_start", "uint32_t", lay.diff_start, 16, "{}")
    lines += _c_array("mstt_diff", "uint16_t", lay.diff, 16, "{}")
    lines += ["", "#endif", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reg", type=float, default=20.0, help="weight of the MST regulariser")
    ap.add_argument("--max-dist", type=int, default=40,
                    help="after training, keep at most this many differences per child (then fine-tune)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--header", help="write the C header of the regularised layer here")
    args = ap.parse_args(argv)
    from ..sim import mst_build, mst_cost, pack_bits
    import torch
    torch.set_num_threads(1)
    res = {}
    for reg, md in ((0.0, None), (args.reg, args.max_dist)):
        t = train(reg, args.epochs, max_dist=md)
        c = mst_cost(mst_build(pack_bits(t.w), K_IN))
        res[f"reg={reg},max_dist={md}"] = {"test_acc": t.test_acc, **c}
        if reg > 0 and args.header:
            with open(args.header, "w") as f:
                f.write(header(t))
    json.dump(res, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
