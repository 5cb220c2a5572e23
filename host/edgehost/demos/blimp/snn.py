"""The spiking PID controllers of Burgers, Stroobants and de Croon (2023), as this project runs them.

Two controllers, each a three-stage network driven by the altitude error e (m):

    encoding   x_k = w_k e + b_k, neurons in pairs (w, -w) sharing b, so +e and -e are encoded
               symmetrically; LIF with reset by subtraction (current-based with tau_syn = 0, as
               in the paper, is exactly a LIF driven by x).
    hidden     PD controller: current-based LIF, i = alpha i + W_h s_enc (the synaptic current, a
               low-pass of the encoded error: with fast and slow neurons the decoder can form a
               filtered derivative), v = beta v + i - s_prev thr.
               I controller: LIF driven by W_h s_enc whose threshold adapts (IWTA):
               a_i = beta_th,i a_i + sum_j W_th[i, j] s_enc,j, threshold thr_i + a_i.
    decoder    a leaky integrator y = beta_d y + w_d . s_hidden; the command is y_pd + y_i.

Every neuron update is the one of kernels_c/include/eh_lif.h (eh_cubalif_step_*,
eh_lif_adapt_step_*), so the same parameters run on the device. Parameters stay within the
paper's bounds (`BOUNDS`); thresholds keep a small positive floor because a threshold of 0 is
not a valid neuron.

Simplification, stated: the paper's IWTA hidden neurons may also have a synaptic current;
here the I controller's has tau_syn = 0 (within the paper's bounds).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THR_FLOOR = 0.01

# name: (low, high) per the paper (notes/papers.md), per controller kind where they differ
BOUNDS = {
    "w_enc": (-2.0, 2.0), "b_enc": (-1.0, 1.0), "beta_enc": (0.0, 1.0), "thr_enc": (THR_FLOOR, 10.0),
    "w_hid": (-2.0, 2.0), "alpha_hid": (0.0, 1.0), "beta_hid": (0.0, 1.0), "thr_hid": (THR_FLOOR, 10.0),
    "w_th": (-1.0, 1.0), "beta_th": (0.0, 1.0),
    "w_dec": (-1.0, 1.0), "beta_dec": (0.0, 1.0),
}
BOUNDS_I = {**BOUNDS, "beta_dec": (0.0, 0.3)}


@dataclass(frozen=True)
class Shape:
    """Sizes of one controller: `pairs` encoding pairs (2*pairs neurons), `hidden` neurons."""
    pairs: int
    hidden: int
    adaptive: bool  # IWTA hidden layer (the integral controller)

    @property
    def neurons(self) -> int:
        return 2 * self.pairs + self.hidden

    def fields(self) -> list[tuple[str, tuple[int, ...]]]:
        ne, nh = 2 * self.pairs, self.hidden
        f = [("w_enc", (self.pairs,)), ("b_enc", (self.pairs,)), ("beta_enc", (ne,)), ("thr_enc", (ne,)),
             ("w_hid", (nh, ne))]
        if not self.adaptive:
            f += [("alpha_hid", (nh,))]
        f += [("beta_hid", (nh,)), ("thr_hid", (nh,))]
        if self.adaptive:
            f += [("w_th", (nh, ne)), ("beta_th", (nh,))]
        f += [("w_dec", (nh,)), ("beta_dec", (1,))]
        return f

    def size(self) -> int:
        return sum(int(np.prod(s)) for _, s in self.fields())

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        table = BOUNDS_I if self.adaptive else BOUNDS
        lo = np.concatenate([np.full(int(np.prod(s)), table[n][0]) for n, s in self.fields()])
        hi = np.concatenate([np.full(int(np.prod(s)), table[n][1]) for n, s in self.fields()])
        return lo, hi

    def unpack(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Flat parameter vectors [..., size] -> named arrays [..., *shape] (views)."""
        out, k = {}, 0
        for name, shp in self.fields():
            n = int(np.prod(shp))
            out[name] = flat[..., k:k + n].reshape(flat.shape[:-1] + shp)
            k += n
        return out

    def pack(self, named: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(named[n], np.float64).reshape(-1) for n, _ in self.fields()])


# The default split: 140 neurons (the paper's budget is 160, 80 per controller): 10 encoding pairs
# each, 60 hidden PD neurons, 20 hidden I neurons (more I neurons flew no better; fewer hidden
# neurons mean fewer instructions per step on the device).
PD_SHAPE = Shape(pairs=10, hidden=60, adaptive=False)
I_SHAPE = Shape(pairs=10, hidden=20, adaptive=True)


def run_population(shape: Shape, flat: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Drive P controllers (flat [P, size]) with error sequences (errors [T] or [B, T]).

    Returns the decoder output u [P, B, T] (float64 arithmetic: this is the search model; the
    deployed controller is re-run with the float32/Q15 kernels). Same equations as eh_lif.h:
    v = beta v + x - s_prev * thr_prev; s = v > thr.
    """
    p = shape.unpack(np.asarray(flat, np.float64))
    errors = np.atleast_2d(np.asarray(errors, np.float64))
    P, (B, T) = flat.shape[0], errors.shape
    w_e = np.concatenate([p["w_enc"], -p["w_enc"]], axis=-1)[:, None, :]      # [P,1,ne]
    b_e = np.concatenate([p["b_enc"], p["b_enc"]], axis=-1)[:, None, :]
    be, te = p["beta_enc"][:, None, :], p["thr_enc"][:, None, :]
    bh, th = p["beta_hid"][:, None, :], p["thr_hid"][:, None, :]
    ne, nh = 2 * shape.pairs, shape.hidden
    ve = np.zeros((P, B, ne)); se = np.zeros((P, B, ne))
    vh = np.zeros((P, B, nh)); sh = np.zeros((P, B, nh)); ah = np.zeros((P, B, nh))
    ih = np.zeros((P, B, nh))
    ah_syn = None if shape.adaptive else p["alpha_hid"][:, None, :]
    y = np.zeros((P, B))
    bd = p["beta_dec"][:, 0][:, None]
    u = np.empty((P, B, T))
    wh = np.swapaxes(p["w_hid"], 1, 2)                                         # [P,ne,nh]
    wt = np.swapaxes(p["w_th"], 1, 2) if shape.adaptive else None
    bt = p["beta_th"][:, None, :] if shape.adaptive else None
    for t in range(T):
        x = w_e * errors[None, :, t, None] + b_e
        ve = be * ve + x - se * te
        se = (ve > te).astype(np.float64)
        ih = (0.0 if shape.adaptive else ah_syn * ih) + np.matmul(se, wh)
        thr_prev = th + ah
        vh = bh * vh + ih - sh * thr_prev
        if shape.adaptive:
            ah = bt * ah + np.matmul(se, wt)
        sh = (vh > th + ah).astype(np.float64)
        y = bd * y + np.einsum("pbh,ph->pb", sh, p["w_dec"])
        u[:, :, t] = y
    return u


def imitation_loss(u: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The paper's loss per controller: MAE(u, u_pid) + (1 - Pearson(u, u_pid)), averaged over
    the sequences. u [P, B, T], target [B, T] -> [P]."""
    mae = np.mean(np.abs(u - target[None]), axis=(1, 2))
    uc = u - u.mean(axis=2, keepdims=True)
    tc = target - target.mean(axis=1, keepdims=True)
    num = np.sum(uc * tc[None], axis=2)
    den = np.sqrt(np.sum(uc ** 2, axis=2) * np.sum(tc ** 2, axis=1)[None]) + 1e-12
    pearson = np.mean(num / den, axis=1)
    return mae + (1.0 - pearson)
