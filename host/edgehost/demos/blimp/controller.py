"""The evolved PD-SNN + I-SNN pair as a closed-loop controller, stepped with the project's
float32 kernels (edgehost.kernels, the C code) or their numpy twins (edgehost.sim)."""
from __future__ import annotations

import json

import numpy as np

from .plant import U_MAX
from .snn import I_SHAPE, PD_SHAPE, Shape


class _Net:
    def __init__(self, shape: Shape, flat, backend):
        self.shape, self.k = shape, backend
        p = {k: np.asarray(v, np.float32) for k, v in shape.unpack(np.asarray(flat, np.float64)).items()}
        ne, nh = 2 * shape.pairs, shape.hidden
        self.w_e = np.concatenate([p["w_enc"], -p["w_enc"]])
        self.b_e = np.concatenate([p["b_enc"], p["b_enc"]])
        self.beta_e, self.thr_e = p["beta_enc"], p["thr_enc"]
        self.w_h, self.beta_h, self.thr_h = p["w_hid"], p["beta_hid"], p["thr_hid"]
        self.alpha_h = None if shape.adaptive else p["alpha_hid"]
        self.w_th = p["w_th"] if shape.adaptive else np.zeros((nh, ne), np.float32)
        self.beta_th = p["beta_th"] if shape.adaptive else np.zeros(nh, np.float32)
        self.w_d, self.beta_d = p["w_dec"], p["beta_dec"]
        self.ne, self.nh = ne, nh
        self.reset()

    def reset(self):
        z = lambda n: np.zeros(n, np.float32)  # noqa: E731
        self.ve, self.ae, self.se = z(self.ne), z(self.ne), np.zeros(self.ne, np.uint8)
        self.vh, self.ah, self.sh = z(self.nh), z(self.nh), np.zeros(self.nh, np.uint8)
        self.ih = z(self.nh)
        self.y = np.zeros(1, np.float32)
        self.zero_e = z(self.ne)

    def __call__(self, e: float) -> float:
        k = self.k
        x = (self.w_e * np.float32(e) + self.b_e).astype(np.float32)
        self.ve, self.ae, self.se = k.lif_adapt_step_f32(x, self.zero_e, self.ve, self.ae, self.se,
                                                         self.beta_e, np.float32(0), self.thr_e)
        s = self.se.astype(np.float32)
        ih = (self.w_h @ s).astype(np.float32)
        if self.alpha_h is None:
            ith = (self.w_th @ s).astype(np.float32)
            self.vh, self.ah, self.sh = k.lif_adapt_step_f32(ih, ith, self.vh, self.ah, self.sh,
                                                             self.beta_h, self.beta_th, self.thr_h)
        else:
            self.ih, self.vh, self.sh = k.cubalif_step_f32(ih, self.ih, self.vh, self.sh, self.alpha_h,
                                                           self.beta_h, self.thr_h)
        drive = np.array([self.w_d @ self.sh.astype(np.float32)], np.float32)
        self.y = (self.beta_d * self.y + drive).astype(np.float32)
        return float(self.y[0])


class SNNController:
    """u = clip(y_pd + y_i, -3.3, 3.3). `spikes` records the hidden spikes of each step."""

    def __init__(self, pd_params, i_params, backend="kernels", record: bool = False,
                 pd_shape: Shape = PD_SHAPE, i_shape: Shape = I_SHAPE):
        import importlib
        k = importlib.import_module(f"edgehost.{backend}")
        self.pd = _Net(pd_shape, pd_params, k)
        self.i = _Net(i_shape, i_params, k)
        self.record = record
        self.spikes: list[np.ndarray] = []

    @property
    def neurons(self) -> int:
        return self.pd.shape.neurons + self.i.shape.neurons

    @classmethod
    def load(cls, path: str, **kw) -> "SNNController":
        with open(path) as f:
            d = json.load(f)
        return cls(d["pd"]["params"], d["i"]["params"], pd_shape=Shape(**d["pd"]["shape"]),
                   i_shape=Shape(**d["i"]["shape"]), **kw)

    def reset(self):
        self.pd.reset()
        self.i.reset()
        self.spikes = []

    def __call__(self, error: float) -> float:
        u = self.pd(error) + self.i(error)
        if self.record:
            self.spikes.append(np.concatenate([self.pd.se, self.pd.sh, self.i.se, self.i.sh]))
        return max(-U_MAX, min(U_MAX, u))
