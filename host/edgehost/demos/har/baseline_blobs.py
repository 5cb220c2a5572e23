"""The HAR baselines (baselines.py) as `.ehm` model blobs (format 1.6), one INFER per window:

  bcnn_b1   q15 raw counts [40 x 6] -> thermometer_b1 (16 levels per channel at the training
            quantiles: 96 bits per frame) -> conv1d_b1_seq_bits x 3 (stride, +1 "same" padding,
            batch norm + sign as thresholds) -> fc_b1_f32 -> f32 logits [6]
  shiftadd  q15 raw counts -> shiftnorm_q15 (offset, power-of-two shift per channel) ->
            shiftadd_conv1d_q15 -> relu_q15 -> shiftadd_conv1d_q15 -> relu_q15 ->
            shiftadd_fc_q15 -> q15 logits [6]
  lmu_f32   f32 raw samples [40 x 6] -> input_f32 (x - offset) * (1 / scale) -> lmu_f32 (40 steps of
            eh_lmu_step_f32, tanh) -> fc_f32 -> f32 logits [6]

The class is the logits' argmax, taken by the host (first on ties). The integer blobs compute
exactly what the kernel pipelines of baselines.py compute (the same kernels, the same bits); the
LMU blob normalises with a multiply by the reciprocal where baselines.lmu_normalize divides, so its
logits may differ from the pipeline's by float rounding (see report()).
"""
from __future__ import annotations

import numpy as np

from . import baselines as B
from .data import STEPS

CHANNELS = 6
CLASSES = 6
NAMES = {"bcnn": "bcnn_b1", "shiftadd": "shiftadd", "lmu-f32": "lmu_f32"}
INPUT_SCALE = 1.0 / B.INPUT_SCALE


def model_bcnn(m: dict, reuse: bool = True):
    from ...blob import Layer, Model, Tensor
    from ...convert.planner import plan
    n = STEPS * CHANNELS
    lev = np.asarray(m["levels"], np.int16)
    C, L = lev.shape
    bits = C * L
    T = [Tensor("q15", (n,), scale=INPUT_SCALE), Tensor("b1", (STEPS * 32 * ((bits + 31) // 32),))]
    layers = [Layer("thermometer_b1", 0, 1, n, T[1].n, [np.array([C, L], np.int32), lev.ravel()])]
    t_in, c_in = STEPS, bits
    for i in range(int(m["n_conv"])):
        w = np.asarray(m[f"c{i}.w"], np.uint32)
        c_out, taps = w.shape[0], w.shape[1]
        stride, pad = int(m[f"c{i}.stride"]), int(m[f"c{i}.pad"])
        assert int(m[f"c{i}.n_in"]) == c_in
        t_out = (t_in + 2 * pad - taps) // stride + 1
        T.append(Tensor("b1", (t_out * 32 * ((c_out + 31) // 32),)))
        layers.append(Layer("conv1d_b1_seq_bits", len(T) - 2, len(T) - 1, T[-2].n, T[-1].n,
                            [np.array([c_in, c_out, taps, stride, pad], np.int32), w.ravel(),
                             np.asarray(m[f"c{i}.thr"], np.int32)]))
        t_in, c_in = t_out, c_out
    assert int(m["fc.n_in"]) == T[-1].n
    T.append(Tensor("f32", (CLASSES,)))
    layers.append(Layer("fc_b1_f32", len(T) - 2, len(T) - 1, T[-2].n, CLASSES,
                        [np.asarray(m["fc.w"], np.uint32).ravel(), np.asarray(m["fc.scale"], np.float32),
                         np.asarray(m["fc.bias"], np.float32)]))
    mod = Model(layers, T, 0, len(T) - 1, 0)
    plan(mod, reuse=reuse)
    return mod


def model_shiftadd(m: dict, reuse: bool = True):
    from ...blob import Layer, Model, Tensor
    from ...convert.planner import plan
    n = STEPS * CHANNELS
    fx = m["meta"]["fixed_point"]
    f0 = int(m["meta"]["input_frac_bits"])
    T = [Tensor("q15", (n,), scale=INPUT_SCALE), Tensor("q15", (n,), scale=2.0 ** -f0)]
    layers = [Layer("shiftnorm_q15", 0, 1, n, n, [np.asarray(m["off"], np.int16), np.asarray(m["sh"], np.int8)])]
    t_in, c_in = STEPS, CHANNELS
    for i in range(int(m["n_conv"])):
        w = np.asarray(m[f"c{i}.w"], np.uint8)
        taps, stride, pad = (int(m[f"c{i}.{k}"]) for k in ("taps", "stride", "pad"))
        c_out = w.shape[0]
        assert w.shape[1] == taps * c_in
        t_out = (t_in + 2 * pad - taps) // stride + 1
        sc = 2.0 ** -int(fx[f"c{i}"]["f_out"])
        T.append(Tensor("q15", (t_out * c_out,), scale=sc))
        layers.append(Layer("shiftadd_conv1d_q15", len(T) - 2, len(T) - 1, T[-2].n, T[-1].n,
                            [np.array([c_in, c_out, taps, stride, pad], np.int32), w.ravel(),
                             np.asarray(m[f"c{i}.b"], np.int32)], shift=int(m[f"c{i}.shift"])))
        T.append(Tensor("q15", (t_out * c_out,), scale=sc))
        layers.append(Layer("relu_q15", len(T) - 2, len(T) - 1, T[-2].n, T[-1].n))
        t_in, c_in = t_out, c_out
    T.append(Tensor("q15", (CLASSES,), scale=2.0 ** -int(fx["fc"]["f_out"])))
    layers.append(Layer("shiftadd_fc_q15", len(T) - 2, len(T) - 1, T[-2].n, CLASSES,
                        [np.asarray(m["fc.w"], np.uint8).ravel(), np.asarray(m["fc.b"], np.int32)],
                        shift=int(m["fc.shift"])))
    mod = Model(layers, T, 0, len(T) - 1, 0)
    plan(mod, reuse=reuse)
    return mod


def model_lmu(m: dict, reuse: bool = True):
    from ...blob import Layer, Model, Tensor
    from ...convert.planner import plan
    from ...ops import lmu as L
    cfg = m["meta"]["config"]
    n = STEPS * CHANNELS
    n_u, order, n_h = int(cfg["memory"]), int(cfg["order"]), int(cfg["hidden"])
    off = np.asarray(m["offset"], np.float32)
    mul = (np.float32(1) / np.asarray(m["scale"], np.float32)).astype(np.float32)
    T = [Tensor("f32", (n,)), Tensor("f32", (n,)), Tensor("f32", (n_h,)),
         Tensor("s32", (n_u * order + n_u + order + n_h,)), Tensor("f32", (CLASSES,))]
    w = L.pack(m["e_x"], m["e_h"], m["e_m"], m["a"], m["b"], m["w_x"], m["w_h"], m["w_m"])
    layers = [Layer("input_f32", 0, 1, n, n, [off, mul]),
              Layer("lmu_f32", 1, 2, n, n_h, [np.array([CHANNELS, n_u, order, n_h, 3], np.int32), w,
                                               np.asarray(m["b_h"], np.float32)], states=[3]),
              Layer("fc_f32", 2, 4, n_h, CLASSES, [np.asarray(m["w_o"], np.float32).ravel(),
                                                    np.asarray(m["b_o"], np.float32)])]
    mod = Model(layers, T, 0, 4, 0)
    plan(mod, reuse=reuse)
    return mod


BUILDERS = {"bcnn_b1": model_bcnn, "shiftadd": model_shiftadd, "lmu_f32": model_lmu}


def model(name: str, m: dict | None = None, reuse: bool = True):
    """The blob Model of baseline `name` (bcnn_b1, shiftadd, lmu_f32) from its committed npz."""
    name = NAMES.get(name, name)
    return BUILDERS[name](B.load_model(name) if m is None else m, reuse=reuse)


def window_input(name: str, X_raw_window: np.ndarray) -> np.ndarray:
    """One raw window [steps, channels] as the blob's single input row: int16 counts (x 4096) for
    the integer CNNs, f32 samples for the LMU."""
    name = NAMES.get(name, name)
    if name == "lmu_f32":
        return np.asarray(X_raw_window, np.float32).reshape(1, -1)
    return B.raw_counts(X_raw_window).reshape(1, -1)


def pipeline_logits(name: str, m: dict, X_raw_window: np.ndarray, K=None) -> np.ndarray:
    """The kernel pipeline's logits of baselines.py for one raw window."""
    if K is None:
        import edgehost.kernels as K
    name = NAMES.get(name, name)
    if name == "lmu_f32":
        return B.lmu_logits(K, m, B.lmu_normalize(m, X_raw_window[None])[0])
    r = B.raw_counts(X_raw_window)
    return B.bcnn_logits(K, m, r) if name == "bcnn_b1" else B.shiftadd_logits(K, m, r)


def report(name: str, per_class: int | None = None) -> dict:
    """The blob on the host (C kernels) against the kernel pipeline on the held-out windows."""
    from ...runtime import HostModel
    from .data import hapt_split
    from .demo import pick_windows
    name = NAMES.get(name, name)
    m = B.load_model(name)
    split = hapt_split()
    X, y = split.test_raw.X, split.test_raw.y
    if per_class:
        idx = pick_windows(y, per_class)
        X, y = X[idx], y[idx]
    b = model(name, m).to_bytes()
    hm = HostModel(b, backend="kernels")
    out_b = np.array([np.asarray(hm.run(window_input(name, x))[0][-1]).ravel() for x in X])
    out_p = np.array([np.asarray(pipeline_logits(name, m, x)).ravel() for x in X])
    pb, pp = out_b.argmax(1), out_p.argmax(1)
    diff = np.abs(out_b.astype(np.float64) - out_p.astype(np.float64))
    return {"name": name, "windows": int(len(y)), "blob_bytes": len(b), "accuracy_blob_host": float(np.mean(pb == y)),
            "accuracy_pipeline": float(np.mean(pp == y)), "class_agreement": float(np.mean(pb == pp)),
            "logits_equal": float(np.mean(np.all(out_b == out_p, axis=1))), "max_abs_logit_diff": float(diff.max())}


def main(argv=None) -> int:
    import argparse
    import json
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", choices=sorted(NAMES) + sorted(BUILDERS))
    ap.add_argument("--per-class", type=int, default=None)
    a = ap.parse_args(argv)
    print(json.dumps(report(a.model, a.per_class), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def random_model(rng, reuse: bool | None = None):
    """A random model of odd sizes through every layer type of the baselines, in one chain (the
    tests' prepared steps, HIL and fuzz seeds): q15 -> shiftnorm_q15 -> shiftadd_conv1d_q15 ->
    thermometer_b1 (C L not a multiple of 32) -> conv1d_b1_seq_bits -> fc_b1_f32 -> lmu_f32 ->
    fc_f32. Inputs: q15 [1, n] (any int16)."""
    from ...blob import Layer, Model, Tensor
    from ...convert.planner import plan
    from ...ops import lmu as L

    def geom(t_in):
        taps = int(rng.integers(1, 5))
        pad = int(rng.integers(0, taps))
        while t_in + 2 * pad < taps:
            pad += 1
        pad = min(pad, taps - 1)
        if t_in + 2 * pad < taps:
            taps = t_in + 2 * pad
        stride = int(rng.integers(1, 4))
        return taps, stride, pad, (t_in + 2 * pad - taps) // stride + 1

    t0, c0 = int(rng.integers(3, 13)), int(rng.integers(1, 6))
    n = t0 * c0
    T = [Tensor("q15", (n,), scale=1 / 4096), Tensor("q15", (n,), scale=1 / 1024)]
    layers = [Layer("shiftnorm_q15", 0, 1, n, n, [rng.integers(-300, 300, c0).astype(np.int16),
                                                  rng.integers(-3, 7, c0).astype(np.int8)])]
    c1 = int(rng.integers(1, 7))
    taps, stride, pad, t1 = geom(t0)
    e = rng.integers(10, 19, (c1, taps * c0))
    codes = np.where(rng.random(e.shape) < 0.15, 0, e | (rng.integers(0, 2, e.shape) << 7)).astype(np.uint8)
    bias = rng.integers(-2000, 2000, c1).astype(np.int32) if rng.random() < 0.7 else None
    T.append(Tensor("q15", (t1 * c1,), scale=1 / 1024))
    layers.append(Layer("shiftadd_conv1d_q15", 1, 2, n, t1 * c1, [np.array([c0, c1, taps, stride, pad], np.int32),
                                                                  codes.ravel(), bias], shift=int(rng.integers(0, 9))))
    lv = int(rng.integers(1, 41))
    bits = c1 * lv
    wb = (bits + 31) // 32
    levels = np.sort(rng.integers(-2000, 2000, (c1, lv)), axis=1).astype(np.int16)
    T.append(Tensor("b1", (t1 * 32 * wb,)))
    layers.append(Layer("thermometer_b1", 2, 3, t1 * c1, t1 * 32 * wb, [np.array([c1, lv], np.int32), levels.ravel()]))
    c2 = int(rng.integers(1, 70))
    taps, stride, pad, t2 = geom(t1)
    w2 = (c2 + 31) // 32
    lim = taps * bits
    T.append(Tensor("b1", (t2 * 32 * w2,)))
    layers.append(Layer("conv1d_b1_seq_bits", 3, 4, T[3].n, T[4].n,
                        [np.array([bits, c2, taps, stride, pad], np.int32),
                         rng.integers(0, 2**32, c2 * taps * wb, dtype=np.uint64).astype(np.uint32),
                         rng.integers(-lim // 4, lim // 4 + 2, c2).astype(np.int32)]))
    n_x, tl = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    k = n_x * tl
    nb = T[4].n
    T.append(Tensor("f32", (k,)))
    layers.append(Layer("fc_b1_f32", 4, 5, nb, k, [rng.integers(0, 2**32, k * ((nb + 31) // 32), dtype=np.uint64)
                                                   .astype(np.uint32), (rng.random(k) * 0.05 + 0.01).astype(np.float32),
                                                   rng.normal(0, 0.3, k).astype(np.float32)]))
    n_u, order, n_h = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 7))
    n_m = n_u * order
    g = lambda *s: rng.normal(0, 0.4, s).astype(np.float32)  # noqa: E731
    w = L.pack(g(n_u, n_x), g(n_u, n_h), g(n_u, n_m), g(order, order), g(order), g(n_h, n_x), g(n_h, n_h), g(n_h, n_m))
    T += [Tensor("f32", (n_h,)), Tensor("s32", (n_m + n_u + order + n_h,)), Tensor("f32", (3,))]
    layers.append(Layer("lmu_f32", 5, 6, k, n_h, [np.array([n_x, n_u, order, n_h, int(rng.integers(0, 4))], np.int32), w,
                                                  g(n_h) if rng.random() < 0.7 else None], states=[7]))
    layers.append(Layer("fc_f32", 6, 8, n_h, 3, [g(3, n_h), g(3)]))
    m = Model(layers, T, 0, 8, 0)
    plan(m, reuse=bool(rng.random() < 0.5) if reuse is None else reuse)
    return m


def random_inputs(rng, m, steps: int = 1) -> np.ndarray:
    return rng.integers(-3000, 3000, (steps, m.tensors[m.input].n)).astype(np.int16)
