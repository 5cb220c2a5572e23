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


def _random_pop_q15(rng: np.random.Generator, n: int, li: bool = False) -> dict:
    def per(lo, hi, dt):
        return rng.integers(lo, hi + 1, size=n if rng.random() < 0.5 else 1).astype(dt)

    p: dict = {"reset": "zero" if rng.random() < 0.3 else "subtract"}
    if not li:
        p["threshold"] = per(1, 32767, np.int16) if rng.random() < 0.2 else per(200, 3000, np.int16)
    p.update({"shift": per(1, 15, np.uint8)} if rng.random() < 0.4 else {"decay": per(0, 32768, np.uint16)})
    if not li and rng.random() < 0.3:
        p.update({"syn_shift": per(1, 15, np.uint8)} if rng.random() < 0.5
                 else {"syn_decay": per(0, 32768, np.uint16)})
    return p


def random_l2mu_cell(rng: np.random.Generator, max_width: int = 13) -> dict:
    """A random Q15 L2MU cell (edgehost.sim.l2mu_*_q15) of odd sizes, every optional part present
    or not at random, LIF or LI readout, plain or current-based populations."""
    def size(hi=max_width):
        return int(rng.integers(1, hi + 1))

    def w(shape, lo=-3000, hi=3000):
        if rng.random() < 0.1:
            lo, hi = -32768, 32767
        return rng.integers(lo, hi + 1, size=shape).astype(np.int16)

    def bias(n):
        return rng.integers(-2000, 2000, size=n).astype(np.int32) if rng.random() < 0.5 else None

    n_ch, pop = size(6), size(5)
    n_u, order, n_h, n_o = size(4), size(7), size(), size(6)
    n_m = n_u * order
    cell: dict = {"w_in": w((n_ch, pop), -8000, 8000), "b_in": bias((n_ch, pop)), "pop_in": _random_pop_q15(rng, n_ch * pop),
                  "enc": [], "s_in": int(rng.integers(0, 13))}
    fan = n_ch * pop
    for _ in range(int(rng.integers(0, 3))):
        n = size(17)
        cell["enc"].append({"w": w((n, fan)), "b": bias(n), "pop": _random_pop_q15(rng, n),
                            "shift": int(rng.integers(0, 4))})
        fan = n
    readout = "li" if rng.random() < 0.5 else "lif"
    cell.update(e_x=w((n_u, fan)), a=w((order, order), -20000, 20000), b=w(order, -20000, 20000),
                w_m=w((n_h, n_m)), w_o=w((n_o, n_h)), b_o=bias(n_o), readout=readout,
                pop_u=_random_pop_q15(rng, n_u), pop_m=_random_pop_q15(rng, n_m),
                pop_h=_random_pop_q15(rng, n_h), pop_o=_random_pop_q15(rng, n_o, li=readout == "li"))
    for name, shape in (("e_h", (n_u, n_h)), ("e_m", (n_u, n_m)), ("w_x", (n_h, fan)), ("w_h", (n_h, n_h))):
        cell[name] = w(shape) if rng.random() < 0.6 else None
    for s in ("s_ex", "s_eh", "s_em", "s_wx", "s_wh", "s_wm", "s_o"):
        cell[s] = int(rng.integers(0, 4)) if rng.random() < 0.9 else int(rng.integers(0, 32))
    cell["s_a"], cell["s_b"] = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    return cell


def random_l2mu_blob(rng: np.random.Generator, reuse: bool | None = None):
    """(model, blob bytes) of a random L2MU cell behind an f32 or q15 input."""
    from .l2mu_layer import l2mu_model
    cell = random_l2mu_cell(rng)
    model = l2mu_model(cell, input_scale=float(rng.choice([256.0, 4096.0])),
                       output_scale=float(rng.uniform(1e-4, 1e-2)), input="f32" if rng.random() < 0.7 else "q15",
                       reuse=True if reuse is None else reuse)
    return model, model.to_bytes()


def random_blob(rng: np.random.Generator, quantize: str | None = None, reuse: bool | None = None):
    """(model, blob bytes) of a random graph (Q15: an L2MU model one time in eight)."""
    q = quantize or ("q15" if rng.random() < 0.5 else "none")
    if q == "q15" and rng.random() < 0.125:
        return random_l2mu_blob(rng, reuse)
    g = random_graph(rng)
    calib = rng.normal(size=(20, g.n_in)) if (q == "q15" and rng.random() < 0.5) else None
    model, _ = build(g, quantize=q, calib=calib, reuse=True if reuse is None else reuse)
    return model, model.to_bytes()


def har_sized_l2mu_cell(seed: int = 0, n_ch: int = 6, pop: int = 8, enc: int = 32, n_u: int = 8,
                        order: int = 6, n_h: int = 64, n_o: int = 6) -> dict:
    """A random Q15 cell with the shapes and parameter layout of the HAR demo's trained L2MU
    (edgehost.train.l2mu.L2MUConfig exported by edgehost.convert.l2mu.cell_q15: biases, e_h, e_m,
    w_x, w_h, per-neuron thresholds and decays, LI readout), scaled so that every population
    spikes on inputs of a few thousand counts. For tests and size figures when the trained
    cell is not there."""
    from ..sim.lmu import lmu_quantize_q15, lmu_zoh
    rng = np.random.default_rng(seed)

    def w(shape, lo=-900, hi=900):
        return rng.integers(lo, hi + 1, size=shape).astype(np.int16)

    def popq(n, lo=600, hi=2000):
        return {"threshold": rng.integers(lo, hi + 1, size=n).astype(np.int16),
                "decay": rng.integers(26000, 32000, size=n).astype(np.uint16)}

    z = lmu_quantize_q15(*lmu_zoh(order, 20.0))
    return {"w_in": w((n_ch, pop), -6000, 6000), "b_in": rng.integers(-300, 300, (n_ch, pop)).astype(np.int32),
            "s_in": 12, "pop_in": popq(n_ch * pop),
            "enc": [{"w": w((enc, n_ch * pop)), "b": rng.integers(-200, 200, enc).astype(np.int32),
                     "shift": 0, "pop": popq(enc)}],
            "e_x": w((n_u, enc)), "e_h": w((n_u, n_h)), "e_m": w((n_u, n_u * order)),
            "a": z["a"], "b": z["b"], "s_a": z["a_frac"] - 11, "s_b": z["b_frac"] - 11,
            "w_x": w((n_h, enc)), "w_h": w((n_h, n_h)), "w_m": w((n_h, n_u * order)),
            "w_o": w((n_o, n_h)), "b_o": rng.integers(-100, 100, n_o).astype(np.int32),
            "readout": "li", "pop_u": popq(n_u), "pop_m": popq(n_u * order), "pop_h": popq(n_h),
            "pop_o": {"decay": np.array([31000], np.uint16), "threshold": np.array([32767], np.int16)}}


def har_inputs(steps: int = 40, n_ch: int = 6, phase: int = 0, amplitude: float = 1.5) -> np.ndarray:
    """f32 [steps, n_ch] raw IMU-like samples (sines of a few periods, in g / rad/s)."""
    t = np.arange(phase, phase + steps)
    return np.stack([amplitude * np.sin(2 * np.pi * t / (9 + 4 * c) + c) for c in range(n_ch)], 1).astype(np.float32)
