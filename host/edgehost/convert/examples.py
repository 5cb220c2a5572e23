"""Random example graphs and blobs covering every layer type: for tests, fuzz seeds and demos."""
from __future__ import annotations

import numpy as np

from . import graph as G
from .lower import build


def random_graph(rng: np.random.Generator, max_width: int = 24) -> G.Graph:
    """A random chain of odd sizes using every kind of layer the lowering supports."""
    def size():
        return int(rng.integers(1, max_width + 1))

    n_in = size()
    layers: list = []
    if rng.random() < 0.5:
        c = int(rng.choice([d for d in range(1, n_in + 1) if n_in % d == 0]))
        layers.append(G.Norm(rng.normal(size=c), rng.uniform(0.2, 2.0, size=c)))
    n = n_in
    for _ in range(int(rng.integers(1, 4))):
        m = size()
        layers.append(G.Fc(rng.normal(size=(m, n)) * rng.uniform(0.1, 2.0),
                           rng.normal(size=m) * 0.3 if rng.random() < 0.7 else None))
        n = m
        if rng.random() < 0.3:
            layers.append(G.Relu())
        k = rng.random()
        per = (lambda lo, hi: rng.uniform(lo, hi, size=n if rng.random() < 0.5 else 1))
        reset = "zero" if rng.random() < 0.4 else "subtract"
        if k < 0.5:
            layers.append(G.Lif(per(0.0, 1.0), per(0.2, 2.0), reset))
        else:
            layers.append(G.CubaLif(per(0.0, 0.95), per(0.0, 1.0), per(0.2, 2.0), reset))
    if rng.random() < 0.35:                      # binary layers after the spikes
        for _ in range(int(rng.integers(0, 2))):
            m = size()
            layers.append(G.BinFc(rng.choice([-1, 1], size=(m, n)),
                                  threshold=rng.integers(-n, n + 2, size=m)))
            n = m
        m = size()
        layers.append(G.BinFc(rng.choice([-1, 1], size=(m, n)), scale=rng.uniform(0.01, 0.5, size=m),
                              bias=rng.normal(size=m) if rng.random() < 0.5 else None))
        n = m
        if rng.random() < 0.5:
            layers.append(G.Argmax())
        return G.Graph(n_in, layers)
    m = size()
    layers.append(G.Fc(rng.normal(size=(m, n)), None))
    tail = rng.random()
    if tail < 0.4:
        layers.append(G.Li(rng.uniform(0.0, 0.95, size=m if rng.random() < 0.5 else 1)))
        if rng.random() < 0.5:
            layers.append(G.Argmax())
    elif tail < 0.7:
        layers.append(G.Lif(rng.uniform(0.5, 1.0, size=1), rng.uniform(0.2, 2.0, size=1)))
        layers.append(G.SpikeCount())
    else:
        layers.append(G.Relu())
        layers.append(G.Argmax())
    return G.Graph(n_in, layers)


def random_blob(rng: np.random.Generator, quantize: str | None = None, reuse: bool | None = None):
    """(model, blob bytes) of a random graph."""
    g = random_graph(rng)
    q = quantize or ("q15" if rng.random() < 0.5 else "none")
    calib = rng.normal(size=(20, g.n_in)) if (q == "q15" and rng.random() < 0.5) else None
    model, _ = build(g, quantize=q, calib=calib, reuse=True if reuse is None else reuse)
    return model, model.to_bytes()
