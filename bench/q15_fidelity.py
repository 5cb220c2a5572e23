#!/usr/bin/env python3
"""Q15 fidelity against snnTorch itself: a grid of snnTorch networks converted with
`edgehost.convert.build(graph, quantize="q15")` and no other option, run on the host's Q15
interpreter, and compared with snnTorch's own forward over 200 steps.

    python3 bench/q15_fidelity.py                 # the whole grid (96 feed-forward + 4 recurrent nets)
    python3 bench/q15_fidelity.py --quick         # 16 of them
    python3 bench/q15_fidelity.py --markdown      # the table for docs/model-format.md
    python3 bench/q15_fidelity.py --docs          # the networks the docs quote, every way of converting

Grid (12 -> 24 -> 6, Linear / neuron / Linear / neuron, torch.manual_seed per net): neuron Leaky
or Synaptic (alpha 0.8), reset subtract or zero, beta scalar 0.9 or per neuron linspace(0.75,
0.95), threshold 0.5 / 1 / 2 (output layer 0.75 x that), with or without bias, weights x1 or x3
(on top of a x3 first layer, so that the hidden layer spikes at 0.5 to 2); plus the recurrent
test networks (RLeaky / RSynaptic, tests/test_convert_nir_graph.py's). Inputs: spike trains,
rate 0.3, seed 1 (not the calibration's). Columns: output-spike agreement with snnTorch (the
fraction of (neuron, step) entries equal) before (no calibration: headroom 8 x threshold, the
old default), after (no option: the automatic calibration on generated spike trains and analog
signals) and with `--calib spikes` (the generated spike trains only), and whether convert
warned. A net passes when after >= 99.5 % or convert warned.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import warnings

import numpy as np

STEPS = 200
N_IN, N_H, N_OUT = 12, 24, 6


def _net(kind, reset, beta_kind, thr, bias, wscale, seed):
    import torch
    import snntorch as snn
    torch.manual_seed(seed)

    def beta(n):
        return 0.9 if beta_kind == "scalar" else torch.linspace(0.75, 0.95, n)

    def neuron(n, t, output=False):
        if kind == "synaptic":
            return snn.Synaptic(alpha=0.8 if beta_kind == "scalar" else torch.full((n,), 0.8), beta=beta(n),
                                threshold=t, init_hidden=True, output=output, reset_mechanism=reset)
        return snn.Leaky(beta=beta(n), threshold=t, init_hidden=True, output=output, reset_mechanism=reset)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(N_IN, N_H, bias=bias)
            self.lif1 = neuron(N_H, thr)
            self.fc2 = torch.nn.Linear(N_H, N_OUT, bias=bias)
            self.lif2 = neuron(N_OUT, 0.75 * thr, output=True)

        def forward(self, x):
            self.s1 = self.lif1(self.fc1(x))
            out = self.lif2(self.fc2(self.s1))
            return out[0]

    net = Net()
    with torch.no_grad():
        net.fc1.weight.mul_(3 * wscale * thr)
        net.fc2.weight.mul_(wscale * max(thr, 1.0) * 2)
    return net


def _recurrent(kind, reset, seed):
    import torch
    import snntorch as snn
    torch.manual_seed(seed)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(N_IN, N_H)
            beta = torch.linspace(0.75, 0.95, N_H)
            if kind == "rleaky":
                self.rec = snn.RLeaky(beta=beta, linear_features=N_H, threshold=torch.ones(N_H),
                                      init_hidden=True, all_to_all=True, reset_mechanism=reset)
            else:
                self.rec = snn.RSynaptic(alpha=torch.full((N_H,), 0.75), beta=beta, linear_features=N_H,
                                         threshold=torch.ones(N_H), init_hidden=True, all_to_all=True,
                                         reset_mechanism=reset)
            self.fc2 = torch.nn.Linear(N_H, N_OUT)
            self.out = snn.Leaky(beta=torch.full((N_OUT,), 0.875), threshold=torch.full((N_OUT,), 0.75),
                                 init_hidden=True, output=True, reset_mechanism=reset)

        def forward(self, x):
            self.s1 = self.rec(self.fc1(x))
            return self.out(self.fc2(self.s1))[0]

    net = Net()
    with torch.no_grad():
        net.fc1.weight.mul_(2.5)
        net.rec.recurrent.weight.mul_(1.5)
        net.fc2.weight.mul_(2.0)
        net.fc2.bias.add_(0.2)
    return net


def _snntorch(net, xs):
    import torch
    import snntorch.utils as su
    su.reset(net)
    out = []
    with torch.no_grad():
        for x in xs:
            y = net(torch.from_numpy(x))
            out.append((y[0] if isinstance(y, tuple) else y).numpy().copy())
    return np.array(out)


def _q15(graph, xs, **kw):
    from edgehost.convert import build
    from edgehost.runtime import HostModel
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        model, rep = build(graph, quantize="q15", **kw)
    ys, _ = HostModel(model, backend="kernels").run(xs)
    return ys, rep


def run(quick: bool = False, seed: int = 1):
    import torch
    from edgehost.convert import from_torch
    rng = np.random.default_rng(seed)
    xs = (rng.random((STEPS, N_IN)) < 0.3).astype(np.float32)
    grid = list(itertools.product(("leaky", "synaptic"), ("subtract", "zero"), ("scalar", "per-neuron"),
                                  (0.5, 1.0, 2.0), (True, False), (1.0, 3.0)))
    if quick:
        grid = grid[::6]
    rows = []
    nets = [(f"{k} {r}, beta {b}, thr {t:g}, {'bias' if bi else 'no bias'}, w x{w:g}",
             lambda k=k, r=r, b=b, t=t, bi=bi, w=w, i=i: _net(k, r, b, t, bi, w, seed=100 + i))
            for i, (k, r, b, t, bi, w) in enumerate(grid)]
    nets += [(f"{k} {r} (recurrent, tests)", lambda k=k, r=r: _recurrent(k, r, seed=3))
             for k in ("rleaky", "rsynaptic") for r in ("subtract", "zero")]
    for name, make in nets:
        net = make()
        ref = _snntorch(net, xs)
        graph = from_torch(net, torch.zeros(N_IN))
        before, _ = _q15(graph, xs, calib=None)
        after, rep = _q15(graph, xs)
        spk, rep_s = _q15(graph, xs, calib="spikes")
        fl = [q for q in rep["layers"] if "agreement" in q and "float_spikes" in q]
        rows.append({"net": name, "rate": float(ref.mean()),
                     "before": float((before == ref).mean()), "after": float((after == ref).mean()),
                     "spikes": float((spk == ref).mean()), "warned_spikes": bool(rep_s["warnings"]),
                     "warned": bool(rep["warnings"]),
                     "calib_min": min((q["agreement"] for q in fl), default=1.0),
                     "causes": sorted({w["cause"] for w in rep["fidelity"]["warnings"]})})
        r = rows[-1]
        print(f"{name:<55} rate {r['rate']:.2f}  before {100 * r['before']:6.2f} %  after {100 * r['after']:6.2f} %"
              f"  {'WARNED (' + ', '.join(r['causes']) + ')' if r['warned'] else ''}"
              f"  --calib spikes {100 * r['spikes']:6.2f} % {'WARNED' if r['warned_spikes'] else ''}",
              file=sys.stderr, flush=True)
    return rows


def docs_nets():
    """The snnTorch networks whose Q15 figures docs/model-format.md quotes: tests/test_convert_nir.py's
    12-24-6 Leaky and Synaptic (150 steps, spike inputs, their --calib seed 7) and
    tests/test_convert_compress.py's state dict 6-40-8 (150 steps of sines with noise, +-2.3,
    plain and --binarize). Output spikes equal to snnTorch's (the compress net: to the float
    model's, which equals snnTorch's there) per way of converting."""
    import torch
    sys.path.insert(0, "tests")
    import test_convert_nir as TN
    import test_convert_compress as TC
    from edgehost.convert import from_torch
    from edgehost.convert.lower import Compress
    out = []
    for kind in ("leaky", "synaptic"):
        net = TN._net(kind)
        g = from_torch(net, torch.zeros(12))
        xs, cal = TN._inputs(), TN._inputs(seed=7)
        _, ref, _ = TN._reference(net, xs)
        row = {"net": f"tests/test_convert_nir.py {kind} 12-24-6, 150 steps"}
        for name, kw in (("before", dict(calib=None)), ("after", {}), ("spikes", dict(calib="spikes")),
                         ("calib", dict(calib=cal))):
            ys, rep = _q15(g, xs, **kw)
            row[name] = float((ys == ref).mean())
            row["warned_" + name] = bool(rep.get("warnings"))
        out.append(row)
    torch.manual_seed(0)
    import snntorch as snn
    net = torch.nn.Sequential(torch.nn.Linear(6, 40), snn.Leaky(beta=0.9, init_hidden=True),
                              torch.nn.Linear(40, 8), snn.Leaky(beta=0.85, init_hidden=True, output=True))
    with torch.no_grad():
        net[0].weight.mul_(4)
        w = net[2].weight
        w.copy_(torch.sign(w) * (0.6 + 0.1 * torch.rand_like(w)))
    g = from_torch(net, torch.zeros(6))
    xs = TC.inputs(150)
    ref = _snntorch(net, xs)
    for comp in (None, Compress(binarize=True)):
        row = {"net": "tests/test_convert_compress.py state dict 6-40-8, 150 steps" + (", --binarize" if comp else "")}
        for name, kw in (("before", dict(calib=None)), ("after", {}), ("input_range", dict(input_range=2.5)),
                         ("calib", dict(calib=xs))):
            ys, rep = _q15(g, xs, compress=comp, **kw)
            row[name] = float((ys == ref).mean())
            row["warned_" + name] = bool(rep.get("warnings"))
        out.append(row)
    return out


def docs_markdown(rows) -> str:
    cols = (("before", "before: no calibration"), ("after", "no option"), ("spikes", "`--calib spikes`"),
            ("input_range", "`--input-range 2.5`"), ("calib", "`--calib` (the test's data)"))
    out = ["| network | " + " | ".join(c for _, c in cols) + " |", "|---|" + "---:|" * len(cols)]
    for r in rows:
        cells = [(f"{100 * r[k]:.2f} %" + (" (warns)" if r.get("warned_" + k) else "")) if k in r else "-"
                 for k, _ in cols]
        out.append(f"| {r['net']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def markdown(rows) -> str:
    out = ["| network | output firing | before: no calibration (headroom 8) | after: no option (generated spikes "
           "and analog) | warned | `--calib spikes` | warned |",
           "|---|---:|---:|---:|---|---:|---|"]
    for r in rows:
        out.append(f"| {r['net']} | {100 * r['rate']:.1f} % | {100 * r['before']:.2f} % | {100 * r['after']:.2f} % | "
                   f"{'yes (' + ', '.join(r['causes']) + ')' if r['warned'] else 'no'} | {100 * r['spikes']:.2f} % | "
                   f"{'yes' if r['warned_spikes'] else 'no'} |")
    return "\n".join(out)


def summary(rows) -> str:
    n = len(rows)
    ok = sum(1 for r in rows if r["after"] >= 0.995 or r["warned"])
    b = sum(1 for r in rows if r["before"] >= 0.995)
    a = sum(1 for r in rows if r["after"] >= 0.995)
    silent = [r["net"] for r in rows if r["after"] < 0.995 and not r["warned"]]
    sp = sum(1 for r in rows if r["spikes"] >= 0.995)
    sok = sum(1 for r in rows if r["spikes"] >= 0.995 or r["warned_spikes"])
    w = sum(1 for r in rows if r["warned"])
    return (f"{n} networks: >= 99.5 % output-spike agreement with snnTorch before {b}/{n}, after {a}/{n} "
            f"(--calib spikes {sp}/{n}); after >= 99.5 % or warned: {ok}/{n} (warned {w}; --calib spikes {sok}/{n}); "
            f"worst before {100 * min(r['before'] for r in rows):.2f} %, worst after "
            f"{100 * min(r['after'] for r in rows):.2f} % (--calib spikes {100 * min(r['spikes'] for r in rows):.2f} %); "
            f"below 99.5 % without a warning: " + (", ".join(silent) if silent else "none"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="every sixth network of the grid")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("--docs", action="store_true", help="only the networks docs/model-format.md quotes")
    args = ap.parse_args(argv)
    if args.docs:
        print(docs_markdown(docs_nets()))
        return 0
    rows = run(quick=args.quick)
    if args.markdown:
        print(markdown(rows))
        print()
    print(summary(rows))
    return 0 if all(r["after"] >= 0.995 or r["warned"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
