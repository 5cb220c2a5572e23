"""NIR graphs that are not chains, built here from numbers (no framework needed): the models of
the graph tests, the HIL tests and the graph benchmarks (docs/graphs.md).

- `braille_srnn`: the spiking recurrent network of NIR's braille-reading task (Pedersen et al.,
  NIR, 2024): 12 inputs -> 40 recurrent CuBa-LIF -> 7 CuBa-LIF, dt = 1e-4, unit gains
  (w_in = tau_syn / dt, r = tau_mem / dt), decays alpha = 0.75, beta = 0.875;
- `residual_snn`: input -> fc1 -> lif1 -> fc2 -> lif2 -> fc3 -> lif3 with lif1 also feeding fc3 (two
  edges into an Affine) and the input feeding lif3 through an Affine `skip` (two edges into a
  neuron).
Weights are on a 1/256 grid so that float32 sums are exact in any order.
"""
from __future__ import annotations

import numpy as np


def _q(a):
    return np.round(a * 256) / 256


def _io(nodes, n_in, n_out):
    import nir
    return {"input": nir.Input(input_type={"input": np.array([n_in])}), **nodes,
            "output": nir.Output(output_type={"output": np.array([n_out])})}


def cuba(n, tau_syn=4e-4, tau_mem=8e-4, thr=1.0, dt=1e-4):
    import nir
    return nir.CubaLIF(tau_syn=np.full(n, tau_syn), tau_mem=np.full(n, tau_mem), r=np.full(n, tau_mem / dt),
                       v_leak=np.zeros(n), v_threshold=np.full(n, thr), v_reset=np.zeros(n),
                       w_in=np.full(n, tau_syn / dt))


def lif(n, tau=8e-4, dt=1e-4, v_leak=0.0, thr=1.0, v_reset=0.0):
    import nir
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.full(n, v_leak),
                   v_threshold=np.full(n, thr), v_reset=np.full(n, v_reset))


def braille_srnn(seed: int = 0, n_in: int = 12, n_h: int = 40, n_out: int = 7, nested: bool = False):
    """(NIR graph, (w_in, w_rec, w_out)). nested: the recurrent layer as a NIRGraph subgraph."""
    import nir
    rng = np.random.default_rng(seed)
    w1 = _q(rng.normal(0, 1.2, (n_h, n_in)))
    wr = _q(rng.normal(0, 0.35, (n_h, n_h)))
    w2 = _q(rng.normal(0, 0.6, (n_out, n_h)))
    rec = {"lif1": cuba(n_h), "w_rec": nir.Linear(wr)}
    nodes = {"fc1": nir.Linear(w1), "fc2": nir.Linear(w2), "lif2": cuba(n_out)}
    if nested:
        nodes["rnn"] = nir.NIRGraph(nodes=_io(rec, n_h, n_h),
                                    edges=[("input", "lif1"), ("lif1", "w_rec"), ("w_rec", "lif1"),
                                           ("lif1", "output")], type_check=False)
        edges = [("input", "fc1"), ("fc1", "rnn"), ("rnn", "fc2"), ("fc2", "lif2"), ("lif2", "output")]
    else:
        nodes.update(rec)
        edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "w_rec"), ("w_rec", "lif1"), ("lif1", "fc2"),
                 ("fc2", "lif2"), ("lif2", "output")]
    return nir.NIRGraph(nodes=_io(nodes, n_in, n_out), edges=edges, type_check=False), (w1, wr, w2)


def residual_snn(seed: int = 0, n_in: int = 10, n: int = 16, n_out: int = 6):
    """(NIR graph, weights {fc1, fc2, fc3, skip}, biases)."""
    import nir
    rng = np.random.default_rng(seed)
    W = {"fc1": _q(rng.normal(0, 1.0, (n, n_in))), "fc2": _q(rng.normal(0, 0.8, (n, n))),
         "fc3": _q(rng.normal(0, 0.5, (n_out, n))), "skip": _q(rng.normal(0, 0.4, (n_out, n_in)))}
    B = {k: _q(rng.normal(0, 0.2, w.shape[0])) for k, w in W.items()}
    nodes = {"fc1": nir.Affine(W["fc1"], B["fc1"]), "lif1": lif(n), "fc2": nir.Affine(W["fc2"], B["fc2"]),
             "lif2": lif(n), "fc3": nir.Affine(W["fc3"], B["fc3"]), "skip": nir.Affine(W["skip"], B["skip"]),
             "lif3": lif(n_out)}
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "fc3"),
             ("lif1", "fc3"), ("fc3", "lif3"), ("input", "skip"), ("skip", "lif3"), ("lif3", "output")]
    return nir.NIRGraph(nodes=_io(nodes, n_in, n_out), edges=edges, type_check=False), W, B


def spike_inputs(n: int, steps: int = 200, seed: int = 1, p: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((steps, n)) < p).astype(np.float32)
