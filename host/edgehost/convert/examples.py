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
    """(model, blob bytes) of a random graph (Q15: an L2MU model one time in eight; a model with a
    lif_adapt layer one time in eight; one with the format-1.4 binary / MST / shift-add layers one
    time in eight of the rest)."""
    q = quantize or ("q15" if rng.random() < 0.5 else "none")
    if q == "q15" and rng.random() < 0.125:
        return random_l2mu_blob(rng, reuse)
    if rng.random() < 0.125:
        return random_adapt_blob(rng, q, reuse)
    if rng.random() < 0.125:
        return random_b1_blob(rng, reuse)
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


class _Rand:
    """The tensors and random parameters of the random model builders below."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.T: list = []

    def t(self, dt, n, kind="activation", scale=1.0) -> int:
        from ..blob.model import Tensor
        self.T.append(Tensor(dt, (int(n),), kind, 0, float(scale)))
        return len(self.T) - 1

    def size(self, hi: int) -> int:
        return int(self.rng.integers(1, hi + 1))

    def per(self, n, lo, hi, dt):
        """1 (shared) or n (per neuron) values in [lo, hi]."""
        k = n if self.rng.random() < 0.5 else 1
        if np.dtype(dt).kind == "f":
            return self.rng.uniform(lo, hi, size=k).astype(dt)
        return self.rng.integers(lo, hi + 1, size=k).astype(dt)

    def leak(self, n, shift_hi: int, decay_lo: int):
        """A Q15 leak: a shift in [1, shift_hi] or a decay in [decay_lo, 32768], and its kind."""
        if self.rng.random() < 0.4:
            return self.per(n, 1, shift_hi, np.uint8), "shift"
        return self.per(n, decay_lo, 32768, np.uint16), "decay"


def random_adapt_model(rng: np.random.Generator, quantize: str | None = None, reuse: bool = True):
    """A random model with a LIF layer with threshold adaptation (lif_adapt_q15 / lif_adapt_f32),
    shaped like the blimp SNN controller: input -> fc -> lif/cubalif (encoding) -> two spike-driven
    fc layers (the current x and the threshold input x_th of the same presynaptic spikes) ->
    lif_adapt -> fc -> li (per-neuron decay) [-> fc k -> 1, the sum of the decoders]. Odd sizes,
    random leaks (decay or shift, shared or per neuron), reset modes. Returns the planned Model."""
    from ..blob.model import Layer, Model
    from .planner import plan
    q = quantize or ("q15" if rng.random() < 0.7 else "none")
    R = _Rand(rng)
    T, t, pn = R.T, R.t, R.per
    Ls: list = []

    def size(hi=19):
        return R.size(hi)

    def leak(n):
        return R.leak(n, 15, 0)

    def reset():
        return "zero" if rng.random() < 0.3 else "subtract"

    n_in, n_enc, n_h, n_o = size(3), size(), size(), size(6)
    x = t("f32", n_in)
    if q == "q15":
        def wq(n_out, n_inp, lo=-3000, hi=3000):
            return rng.integers(lo, hi + 1, size=(n_out, n_inp)).astype(np.int16).ravel()

        def bq(n):
            return rng.integers(-4000, 4000, size=n).astype(np.int32) if rng.random() < 0.6 else None

        xq = t("q15", n_in, scale=1 / 4096)
        Ls.append(Layer("input_q15", x, xq, n_in, n_in, [np.zeros(1, np.float32), np.full(1, 4096.0, np.float32)]))
        cur = t("q15", n_enc, scale=1e-3)
        Ls.append(Layer("fc_q15", xq, cur, n_in, n_enc, [wq(n_enc, n_in, -20000, 20000), bq(n_enc)],
                        shift=int(rng.integers(8, 14))))
        s_enc = t("spike", n_enc, "state")
        if rng.random() < 0.5:
            lk, kind = leak(n_enc)
            v = t("q15", n_enc, "state", 1e-3)
            Ls.append(Layer("lif_q15", cur, s_enc, n_enc, n_enc, [lk, pn(n_enc, 200, 3000, np.int16)], [v],
                            reset=reset(), leak=(kind,)))
        else:
            l1, k1 = leak(n_enc)
            l2, k2 = leak(n_enc)
            i_, v = t("q15", n_enc, "state", 1e-3), t("q15", n_enc, "state", 1e-3)
            Ls.append(Layer("cubalif_q15", cur, s_enc, n_enc, n_enc, [l1, l2, pn(n_enc, 200, 3000, np.int16)],
                            [i_, v], reset=reset(), leak=(k1, k2)))
        xc = t("q15", n_h, scale=1e-3)
        Ls.append(Layer("fc_spike_q15", s_enc, xc, n_enc, n_h, [wq(n_h, n_enc), bq(n_h)], shift=int(rng.integers(0, 3))))
        if rng.random() < 0.8:     # x_th from the same spikes (input-weighted threshold adaptation)
            xt = t("q15", n_h, scale=1e-3)
            Ls.append(Layer("fc_spike_q15", s_enc, xt, n_enc, n_h, [wq(n_h, n_enc, -500, 1500), None],
                            shift=int(rng.integers(0, 3))))
        else:                      # x_th from a q15 tensor (fc_q15 on the input)
            xt = t("q15", n_h, scale=1e-3)
            Ls.append(Layer("fc_q15", xq, xt, n_in, n_h, [wq(n_h, n_in), bq(n_h)], shift=int(rng.integers(10, 16))))
        s_h = t("spike", n_h, "state")
        v, a = t("q15", n_h, "state", 1e-3), t("q15", n_h, "state", 1e-3)
        l1, k1 = leak(n_h)
        l2, k2 = leak(n_h)
        thr = pn(n_h, 1, 32767, np.int16) if rng.random() < 0.2 else pn(n_h, 200, 3000, np.int16)
        Ls.append(Layer("lif_adapt_q15", xc, s_h, n_h, n_h, [l1, l2, thr], [v, a], reset=reset(), leak=(k1, k2),
                        input2=xt))
        d = t("q15", n_o, scale=1e-3)
        Ls.append(Layer("fc_spike_q15", s_h, d, n_h, n_o, [wq(n_o, n_h), bq(n_o)], shift=int(rng.integers(0, 3))))
        ro = t("q15", n_o, "state", 1e-3)
        lk, kind = leak(n_o)
        Ls.append(Layer("li_q15", d, ro, n_o, n_o, [lk], leak=(kind,)))
        out = ro
        if rng.random() < 0.5:     # the sum of the decoders
            out = t("q15", 1, scale=1e-3)
            Ls.append(Layer("fc_q15", ro, out, n_o, 1, [np.ones(n_o, np.int16), None]))
    else:
        def wf(n_out, n_inp, s=1.0):
            return (rng.normal(size=(n_out, n_inp)) * s).astype(np.float32).ravel()

        h = t("f32", n_enc)
        Ls.append(Layer("fc_f32", x, h, n_in, n_enc, [wf(n_enc, n_in, 2.0), wf(n_enc, 1) if rng.random() < 0.5 else None]))
        s_enc = t("spike", n_enc, "state")
        v = t("f32", n_enc, "state")
        Ls.append(Layer("lif_f32", h, s_enc, n_enc, n_enc, [pn(n_enc, 0, 1, np.float32), pn(n_enc, 0.2, 2, np.float32)],
                        [v], reset=reset()))
        sf = t("f32", n_enc)
        Ls.append(Layer("spike_f32", s_enc, sf, n_enc, n_enc))
        xc, xt = t("f32", n_h), t("f32", n_h)
        Ls.append(Layer("fc_f32", sf, xc, n_enc, n_h, [wf(n_h, n_enc), None]))
        Ls.append(Layer("fc_f32", sf, xt, n_enc, n_h, [np.abs(wf(n_h, n_enc, 0.3)), None]))
        s_h = t("spike", n_h, "state")
        v, a = t("f32", n_h, "state"), t("f32", n_h, "state")
        Ls.append(Layer("lif_adapt_f32", xc, s_h, n_h, n_h, [pn(n_h, 0, 1, np.float32), pn(n_h, 0, 1, np.float32),
                                                              pn(n_h, 0.2, 2, np.float32)], [v, a], reset=reset(),
                        input2=xt))
        sh = t("f32", n_h)
        Ls.append(Layer("spike_f32", s_h, sh, n_h, n_h))
        d = t("f32", n_o)
        Ls.append(Layer("fc_f32", sh, d, n_h, n_o, [wf(n_o, n_h), None]))
        out = t("f32", n_o, "state")
        Ls.append(Layer("li_f32", d, out, n_o, n_o, [pn(n_o, 0, 0.95, np.float32)]))
    return plan(Model(Ls, T, x, out, 0), reuse=reuse)


def random_adapt_blob(rng: np.random.Generator, quantize: str | None = None, reuse: bool | None = None):
    """(model, blob bytes) of random_adapt_model."""
    m = random_adapt_model(rng, quantize, True if reuse is None else reuse)
    return m, m.to_bytes()


def _correlated_pm1(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    """{-1, +1} rows, often near copies of each other (so that MST children exist)."""
    base = rng.choice([-1, 1], size=(max(1, n_out // 3), n_in))
    w = base[rng.integers(0, base.shape[0], size=n_out)].copy()
    flip = rng.random(w.shape) < rng.choice([0.0, 0.02, 0.1, 0.5])
    w[flip] *= -1
    return w


def random_b1_model(rng: np.random.Generator, reuse: bool = True):
    """A random model with the format-1.4 layers: a front end (fc -> lif -> pack_spikes_b1, or
    shiftadd_fc_q15 / bcq_fc_q15 -> pack_signs_b1 from q15, or input_s8 -> pack_signs_b1), then
    streaming conv1d_b1_bits and mst_fc_b1_bits hidden layers, and a head (conv1d_b1_f32 / _s32 /
    _s8, mst_fc_b1_f32, fc_b1_f32) with argmax or dequant_s8 at times. Returns the planned Model."""
    from ..blob.model import Layer, Model, Tensor
    from .b1layers import conv_weight_words, mst_params
    from .planner import plan
    T: list = []
    Ls: list = []

    def t(dt, n, kind="activation", scale=1.0):
        T.append(Tensor(dt, (int(n),), kind, 0, float(scale)))
        return len(T) - 1

    def size(hi=40):
        return int(rng.integers(1, hi + 1))

    def W(n):
        return (n + 31) // 32

    n_in = size(12)
    x = t("f32", n_in)
    front = rng.integers(0, 3)
    if front == 0:                     # spikes
        xq = t("q15", n_in, scale=1 / 4096)
        Ls.append(Layer("input_q15", x, xq, n_in, n_in, [np.zeros(1, np.float32), np.full(1, 4096.0, np.float32)]))
        n = size()
        h = t("q15", n, scale=1e-3)
        Ls.append(Layer("fc_q15", xq, h, n_in, n, [rng.integers(-20000, 20000, size=n * n_in).astype(np.int16), None],
                        shift=int(rng.integers(8, 13))))
        s = t("spike", n, "state")
        v = t("q15", n, "state", 1e-3)
        Ls.append(Layer("lif_q15", h, s, n, n, [np.array([2], np.uint8), np.array([1500], np.int16)], [v], leak=("shift",)))
        cur = t("b1", n)
        Ls.append(Layer("pack_spikes_b1", s, cur, n, n))
    elif front == 1:                   # multiplication-free dense layers on q15, then signs
        xq = t("q15", n_in, scale=1 / 4096)
        Ls.append(Layer("input_q15", x, xq, n_in, n_in, [np.zeros(1, np.float32), np.full(1, 4096.0, np.float32)]))
        n = size()
        codes = rng.integers(0, 256, size=n * n_in).astype(np.uint8) & np.uint8(0x9F)
        h = t("q15", n, scale=1e-3)
        Ls.append(Layer("shiftadd_fc_q15", xq, h, n_in, n, [codes, rng.integers(-3000, 3000, n).astype(np.int32)
                                                           if rng.random() < 0.6 else None],
                        shift=int(rng.integers(0, 6))))
        cur = h
        if rng.random() < 0.7:
            m = size()
            qq = int(rng.integers(1, 5))
            alpha = rng.integers(-8, 4, size=m * qq).astype(np.int8)
            if rng.random() < 0.1:
                alpha[0] = 24
            wq = rng.integers(0, 2**32, size=m * qq * W(n), dtype=np.uint64).astype(np.uint32)
            tb = t("s32", 256 * ((n + 7) // 8))
            h2 = t("q15", m, scale=1e-3)
            Ls.append(Layer("bcq_fc_q15", cur, h2, n, m, [alpha, wq, rng.integers(-500, 500, m).astype(np.int32)
                                                          if rng.random() < 0.5 else None], [tb],
                            shift=int(rng.integers(0, 10)) if rng.random() < 0.9 else int(rng.integers(10, 63))))
            cur, n = h2, m
        b = t("b1", n)
        Ls.append(Layer("pack_signs_b1", cur, b, n, n))
        cur = b
    else:                              # int8 input, signs by the kernel
        n = n_in
        x8 = t("s8", n, scale=0.05)
        Ls.append(Layer("input_s8", x, x8, n, n, [np.array([int(rng.integers(-20, 20))], np.int32)]))
        cur = t("b1", n)
        Ls.append(Layer("pack_signs_b1", x8, cur, n, n))
    for _ in range(int(rng.integers(0, 3))):       # binary hidden layers
        m = size()
        if rng.random() < 0.5:
            taps = int(rng.integers(1, 6))
            win = t("u32", taps * W(n), "state")
            o = t("b1", m)
            Ls.append(Layer("conv1d_b1_bits", cur, o, n, m,
                            [conv_weight_words(rng.choice([-1, 1], size=(m, taps, n))),
                             rng.integers(-taps * n, taps * n + 2, size=m).astype(np.int32)], [win]))
        else:
            params, _ = mst_params(_correlated_pm1(rng, m, n), max_depth=None if rng.random() < 0.5 else int(rng.integers(0, 4)),
                                   root_cost=None if rng.random() < 0.3 else 1e6)
            sc = t("s32", m + (n + 1) // 2)
            o = t("b1", m)
            Ls.append(Layer("mst_fc_b1_bits", cur, o, n, m, params + [rng.integers(-n, n + 2, size=m).astype(np.int32)], [sc]))
        cur, n = o, m
    m = size(10)
    head = rng.integers(0, 5)
    if head == 0:
        taps = int(rng.integers(1, 5))
        win = t("u32", taps * W(n), "state")
        o = t("f32", m)
        Ls.append(Layer("conv1d_b1_f32", cur, o, n, m, [conv_weight_words(rng.choice([-1, 1], size=(m, taps, n))),
                                                        rng.uniform(0.01, 1, m).astype(np.float32),
                                                        rng.normal(size=m).astype(np.float32) if rng.random() < 0.5 else None],
                        [win]))
    elif head == 1:
        taps = int(rng.integers(1, 5))
        win = t("u32", taps * W(n), "state")
        o = t("s32", m)
        Ls.append(Layer("conv1d_b1_s32", cur, o, n, m, [conv_weight_words(rng.choice([-1, 1], size=(m, taps, n)))], [win]))
    elif head == 2:
        taps = int(rng.integers(1, 5))
        win = t("u32", taps * W(n), "state")
        o = t("s8", m, scale=0.1)
        Ls.append(Layer("conv1d_b1_s8", cur, o, n, m, [conv_weight_words(rng.choice([-1, 1], size=(m, taps, n))),
                                                       rng.integers(-2**20, 2**20, m).astype(np.int32),
                                                       rng.integers(-2**18, 2**18, m).astype(np.int32) if rng.random() < 0.5 else None],
                        [win], shift=int(rng.integers(10, 22)) if rng.random() < 0.9 else int(rng.integers(0, 63))))
        if rng.random() < 0.5:
            f = t("f32", m)
            Ls.append(Layer("dequant_s8", o, f, m, m, [np.array([3], np.int32)]))
            o = f
    elif head == 3:
        params, _ = mst_params(_correlated_pm1(rng, m, n), root_cost=None if rng.random() < 0.3 else 1e6)
        sc = t("s32", m + (n + 1) // 2)
        o = t("f32", m)
        aff = np.concatenate([rng.uniform(0.01, 1, m), rng.normal(size=m)]).astype(np.float32)
        Ls.append(Layer("mst_fc_b1_f32", cur, o, n, m, params + [aff], [sc]))
    else:
        from ..sim.binary import pack_bits
        o = t("f32", m)
        Ls.append(Layer("fc_b1_f32", cur, o, n, m, [pack_bits(rng.choice([-1, 1], size=(m, n))).ravel(),
                                                    rng.uniform(0.01, 1, m).astype(np.float32), None]))
    if T[o].dtype in ("f32", "s32") and rng.random() < 0.3:
        a = t("u32", 1)
        Ls.append(Layer("argmax", o, a, m, 1))
        o = a
    return plan(Model(Ls, T, x, o, 0), reuse=reuse)


def random_b1_blob(rng: np.random.Generator, reuse: bool | None = None):
    """(model, blob bytes) of random_b1_model."""
    m = random_b1_model(rng, True if reuse is None else reuse)
    return m, m.to_bytes()


def random_graph_model(rng: np.random.Generator, quantize: str | None = None, reuse: bool = True):
    """A random format-1.5 graph: a recurrent spiking layer through a `delay` (its spikes of the
    previous step, read before the delay in the schedule, through a spike-driven fc), fan-in by
    `add_q15` / `add_f32` (the feed-forward and recurrent currents, sometimes a delayed copy of
    the summed current too, and a skip connection from the input to the readout), LIF or CuBa-LIF
    with any reset (subtract / to zero / to v_reset, next or same step), an li readout. Odd sizes,
    random leaks. Returns the planned Model (the tests' lockstep models and fuzz seeds)."""
    from ..blob.model import Layer, Model
    from .planner import plan
    q = quantize or ("q15" if rng.random() < 0.6 else "none")
    R = _Rand(rng)
    T, t, per = R.T, R.t, R.per
    Ls: list = []

    def size(hi=17):
        return R.size(hi)

    def leak(n):
        return R.leak(n, 6, 20000)

    n_in, n_h, n_o = size(), size(), size(9)
    cuba = rng.random() < 0.4
    zero = rng.random() < 0.5
    same = rng.random() < 0.6
    vr = zero and same and rng.random() < 0.7
    kw = {"reset": "zero" if zero else "subtract", "reset_timing": "same" if same else "next"}
    loop_current = rng.random() < 0.4          # a delayed copy of the summed current, added in
    skip = rng.random() < 0.5                  # the input straight into the readout
    x = t("f32", n_in)
    if q == "q15":
        sm, so = float(rng.uniform(1e-4, 1e-3)), float(rng.uniform(1e-4, 1e-3))
        w = lambda o, i, a=3000: rng.integers(-a, a + 1, size=o * i).astype(np.int16)  # noqa: E731
        xq = t("q15", n_in, scale=1 / 4096)
        Ls.append(Layer("input_q15", x, xq, n_in, n_in, [np.zeros(1, np.float32), np.full(1, 4096, np.float32)]))
        d = t("spike", n_h, "state")                                    # written by the delay at the end
        a, r = t("q15", n_h, scale=sm), t("q15", n_h, scale=sm)
        Ls.append(Layer("fc_q15", xq, a, n_in, n_h, [w(n_h, n_in), None], shift=int(rng.integers(8, 12))))
        Ls.append(Layer("fc_spike_q15", d, r, n_h, n_h, [w(n_h, n_h, 1500), None]))
        c = t("q15", n_h, scale=sm)
        Ls.append(Layer("add_q15", a, c, n_h, n_h, input2=r))
        if loop_current:
            dc = t("q15", n_h, "state", sm)
            c2 = t("q15", n_h, scale=sm)
            Ls.append(Layer("add_q15", c, c2, n_h, n_h, input2=dc))
        s = t("spike", n_h, "state")
        thr = per(n_h, 300, 3000, np.int16)
        v_reset = [per(n_h, -500, 500, np.int16)] if vr else []
        cin = c2 if loop_current else c
        if cuba:
            (ls, lks), (lm, lkm) = leak(n_h), leak(n_h)
            Ls.append(Layer("cubalif_q15", cin, s, n_h, n_h, [ls, lm, thr] + v_reset, [t("q15", n_h, "state", sm),
                            t("q15", n_h, "state", sm)], leak=(lks, lkm), **kw))
        else:
            lv, lk = leak(n_h)
            Ls.append(Layer("lif_q15", cin, s, n_h, n_h, [lv, thr] + v_reset, [t("q15", n_h, "state", sm)],
                            leak=(lk,), **kw))
        b = t("q15", n_o, scale=so)
        Ls.append(Layer("fc_spike_q15", s, b, n_h, n_o, [w(n_o, n_h), None]))
        if skip:
            b2, b3 = t("q15", n_o, scale=so), t("q15", n_o, scale=so)
            Ls.append(Layer("fc_q15", xq, b2, n_in, n_o, [w(n_o, n_in), None], shift=10))
            Ls.append(Layer("add_q15", b, b3, n_o, n_o, input2=b2))
            b = b3
        out = t("q15", n_o, "state", so)
        lv, lk = leak(n_o)
        Ls.append(Layer("li_q15", b, out, n_o, n_o, [lv], leak=(lk,)))
    else:
        wf = lambda o, i, a=1.0: rng.normal(size=o * i).astype(np.float32) * np.float32(a)  # noqa: E731
        xf = t("f32", n_in)
        Ls.append(Layer("input_f32", x, xf, n_in, n_in, [np.zeros(1, np.float32), np.ones(1, np.float32)]))
        d = t("spike", n_h, "state")
        a, df, r, c = t("f32", n_h), t("f32", n_h), t("f32", n_h), t("f32", n_h)
        Ls.append(Layer("fc_f32", xf, a, n_in, n_h, [wf(n_h, n_in), None]))
        Ls.append(Layer("spike_f32", d, df, n_h, n_h))
        Ls.append(Layer("fc_f32", df, r, n_h, n_h, [wf(n_h, n_h, 0.5), None]))
        Ls.append(Layer("add_f32", a, c, n_h, n_h, input2=r))
        if loop_current:
            dc, c2 = t("f32", n_h, "state"), t("f32", n_h)
            Ls.append(Layer("add_f32", c, c2, n_h, n_h, input2=dc))
        s = t("spike", n_h, "state")
        thr = per(n_h, 0.3, 2.0, np.float32)
        v_reset = [per(n_h, -0.5, 0.5, np.float32)] if vr else []
        cin = c2 if loop_current else c
        if cuba:
            Ls.append(Layer("cubalif_f32", cin, s, n_h, n_h, [per(n_h, 0, 0.95, np.float32), per(n_h, 0, 1, np.float32),
                                                                thr] + v_reset,
                            [t("f32", n_h, "state"), t("f32", n_h, "state")], **kw))
        else:
            Ls.append(Layer("lif_f32", cin, s, n_h, n_h, [per(n_h, 0, 1, np.float32), thr] + v_reset,
                            [t("f32", n_h, "state")], **kw))
        sf, b = t("f32", n_h), t("f32", n_o)
        Ls.append(Layer("spike_f32", s, sf, n_h, n_h))
        Ls.append(Layer("fc_f32", sf, b, n_h, n_o, [wf(n_o, n_h), None]))
        if skip:
            b2, b3 = t("f32", n_o), t("f32", n_o)
            Ls.append(Layer("fc_f32", xf, b2, n_in, n_o, [wf(n_o, n_in), None]))
            Ls.append(Layer("add_f32", b, b3, n_o, n_o, input2=b2))
            b = b3
        out = t("f32", n_o, "state")
        Ls.append(Layer("li_f32", b, out, n_o, n_o, [per(n_o, 0, 0.95, np.float32)]))
    if loop_current:
        Ls.append(Layer("delay", c, dc, n_h, n_h))      # read before it, by the second add
    Ls.append(Layer("delay", s, d, n_h, n_h))           # the recurrent edge: read by the fc at the top
    return plan(Model(Ls, T, x, out, 0), reuse=reuse)


def random_conv2d_model(rng: np.random.Generator, quantize: str | None = None, reuse: bool = True):
    """A random spiking CNN with the format-1.6 layers (issue 14): an input (C, H, W), a dense
    conv2d (f32 / q15), LIF, an event-driven conv2d_spike_q15 (Q15) or conv2d_f32 on the spikes as
    floats, LIF, a sum or average pooling of the spikes (or of the currents: sumpool2d_q15 /
    avgpool2d_q15 / *_f32), a dense readout. Odd sizes, strides, asymmetric padding, dilation,
    groups. Returns the planned Model (the tests' lockstep models and fuzz seeds)."""
    from ..blob.model import Layer, Model
    from ..ops.conv2d import make_geom, out_shape
    from ..ops.pool2d import make_geom as pool_geom, out_shape as pool_out
    from .planner import plan
    q = quantize or ("q15" if rng.random() < 0.6 else "none")
    R = _Rand(rng)
    T, Ls, t = R.T, [], R.t

    def conv_geom(c, h, w):
        groups = int(rng.choice([1, 1, 2])) if c % 2 == 0 else 1
        c_out = groups * int(rng.integers(1, 4))
        k_h, k_w = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        dil = (1, 1) if rng.random() < 0.7 else (int(rng.integers(1, 3)), 1)
        if dil[0] * (k_h - 1) + 1 > h:
            dil = (1, 1)
        pad = tuple(int(rng.integers(0, s)) for s in (dil[0] * (k_h - 1) + 1, k_w, dil[0] * (k_h - 1) + 1, k_w))
        stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        return make_geom(c, h, w, c_out, k_h, k_w, stride, pad, dil, groups)

    def conv(kind, x, c, h, w, dt_out, scale):
        g = conv_geom(c, h, w)
        co, ho, wo = out_shape(g)
        n_w = int(g[3]) * (c // int(g[14])) * int(g[4]) * int(g[5])
        o = t(dt_out, co * ho * wo, scale=scale)
        if kind == "conv2d_f32":
            p = [g, rng.normal(size=n_w).astype(np.float32),
                 rng.normal(size=co).astype(np.float32) if rng.random() < 0.5 else None]
            Ls.append(Layer(kind, x, o, c * h * w, co * ho * wo, p))
        else:
            p = [g, rng.integers(-3000, 3000, n_w).astype(np.int16),
                 rng.integers(-2**14, 2**14, co).astype(np.int32) if rng.random() < 0.5 else None]
            st = [t("s32", co * ho * wo)] if kind == "conv2d_spike_q15" else []
            Ls.append(Layer(kind, x, o, c * h * w, co * ho * wo, p, st, shift=int(rng.integers(0, 8))))
        return o, co, ho, wo

    def lif(x, n):
        s = t("spike", n, "state")
        if q == "q15":
            v = t("q15", n, "state", 1e-3)
            lk, kind = R.leak(n, 4, 20000)
            Ls.append(Layer("lif_q15", x, s, n, n, [lk, R.per(n, 200, 3000, np.int16)], [v], leak=(kind,)))
        else:
            v = t("f32", n, "state")
            Ls.append(Layer("lif_f32", x, s, n, n, [R.per(n, 0.5, 1.0, np.float32), R.per(n, 0.5, 2.0, np.float32)],
                            [v]))
        return s

    c, h, w = R.size(3), int(rng.integers(3, 10)), int(rng.integers(3, 10))
    x = t("f32", c * h * w)
    if q == "q15":
        xq = t("q15", c * h * w, scale=1 / 4096)
        Ls.append(Layer("input_q15", x, xq, c * h * w, c * h * w,
                        [np.zeros(1, np.float32), np.full(1, 4096.0, np.float32)]))
        cur, c, h, w = conv("conv2d_q15", xq, c, h, w, "q15", 1e-3)
    else:
        cur, c, h, w = conv("conv2d_f32", x, c, h, w, "f32", 1.0)
    if rng.random() < 0.3:                         # pool the currents
        k_h, k_w = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        g = pool_geom(c, h, w, k_h, k_w, (int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                      (int(rng.integers(0, k_h)), int(rng.integers(0, k_w)), 0, 0))
        c2, h2, w2 = pool_out(g)
        kind = ("sumpool2d_" if rng.random() < 0.5 else "avgpool2d_") + ("q15" if q == "q15" else "f32")
        o = t(T[cur].dtype, c2 * h2 * w2, scale=T[cur].scale)
        Ls.append(Layer(kind, cur, o, c * h * w, c2 * h2 * w2, [g]))
        cur, c, h, w = o, c2, h2, w2
    s = lif(cur, c * h * w)
    if q == "q15":
        cur, c, h, w = conv("conv2d_spike_q15", s, c, h, w, "q15", 1e-3)
    else:
        sf = t("f32", c * h * w)
        Ls.append(Layer("spike_f32", s, sf, c * h * w, c * h * w))
        cur, c, h, w = conv("conv2d_f32", sf, c, h, w, "f32", 1.0)
    s = lif(cur, c * h * w)
    k_h, k_w = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
    g = pool_geom(c, h, w, k_h, k_w, None if rng.random() < 0.5 else (int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                  (0, 0, int(rng.integers(0, k_h)), int(rng.integers(0, k_w))))
    c2, h2, w2 = pool_out(g)
    n = c2 * h2 * w2
    if q == "q15":
        kind = "sumpool2d_spike_q15" if rng.random() < 0.5 else "avgpool2d_spike_q15"
        o = t("q15", n, scale=1.0 if kind.startswith("sum") else 1 / 32768)
        Ls.append(Layer(kind, s, o, c * h * w, n, [g]))
        m = R.size(6)
        y = t("q15", m, scale=1e-3)
        Ls.append(Layer("fc_q15", o, y, n, m, [rng.integers(-2000, 2000, m * n).astype(np.int16), None], shift=4))
    else:
        sf = t("f32", c * h * w)
        Ls.append(Layer("spike_f32", s, sf, c * h * w, c * h * w))
        kind = "sumpool2d_f32" if rng.random() < 0.5 else "avgpool2d_f32"
        o = t("f32", n)
        Ls.append(Layer(kind, sf, o, c * h * w, n, [g]))
        m = R.size(6)
        y = t("f32", m)
        Ls.append(Layer("fc_f32", o, y, n, m, [rng.normal(size=m * n).astype(np.float32), None]))
    return plan(Model(Ls, T, x, y, 0), reuse=reuse)
