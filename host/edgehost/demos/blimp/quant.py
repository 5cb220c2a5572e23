"""The blimp controller in Q15 fixed point: the two float controllers (PD and I) quantised into one
integer network, stepped with the project's Q15 kernels, and written as an `.ehm` blob.

The network, one layer per kernel call (the blob has exactly these layers, in this order):

    e (f32, m) --input_q15--> e_q (scale S_E)
    --fc_q15 (1 -> ne)-------> x_enc = w e + b                    (scale S_X; PD pairs then I pairs)
    --lif_q15 (ne)-----------> s_enc                               (encoding neurons, soft reset)
    --fc_spike_q15 (ne -> nh)> W_h s_enc                           (scale S_H; block diagonal)
    --li_q15 (nh)------------> i = alpha i + W_h s_enc             (the PD neurons' synaptic current;
                                                                    decay 0 for the I neurons: i = x)
    --fc_spike_q15 (ne -> nh)> x_th = W_th s_enc                   (0 rows for the PD neurons)
    --lif_adapt_q15 (nh)-----> s_h                                 (PD neurons: a stays 0, plain LIF;
                                                                    I neurons: IWTA)
    --fc_spike_q15 (nh -> 2)-> w_dec s_h                           (scale S_D; row 0 PD, row 1 I)
    --li_q15 (2)-------------> y = beta_dec y + w_dec s_h          (the two decoders)
    --fc_q15 (2 -> 1)--------> u = y_pd + y_i                      (weights 1, shift 0; saturates)

ne = 2 (pairs_pd + pairs_i), or 2 pairs when the two controllers' encoding layers are identical
(the designed level code, which the evolution keeps): the device then runs it once and both
hidden blocks read the same spikes. nh = hidden_pd + hidden_i. The current-based PD neuron
(i = alpha i + x; v = beta v + i - s thr) is the li layer followed by the adaptive layer with
x_th = 0, which is exactly eh_cubalif_step_q15's arithmetic. The host clips u to [-3.3, 3.3].

Scales (powers of two, so every rescaling is a shift): S_E = 2^-12 m (+-8 m), S_X = 2^-12
(encoding currents and thresholds: the smallest threshold 0.01 is 41 LSB), S_H = 2^-12 (hidden
currents, membranes, thresholds and threshold raises, +-8: the integral held in the IWTA raises
saturates there, an anti-windup), S_D = 2^-11 (decoders and command, +-16). Encoding weights are
int16 at 2^-13 (|w| <= 2), hidden and threshold weights at S_H, decoder weights at S_D.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .plant import U_MAX
from .snn import Shape

S_E = 2.0 ** -12
S_WE = 2.0 ** -13
S_X = 2.0 ** -12
S_H = 2.0 ** -12
S_D = 2.0 ** -11
SHIFT_ENC = int(round(np.log2(S_X / (S_WE * S_E))))   # 13


def _q(x, scale, lo=-32768, hi=32767, dtype=np.int16):
    return np.clip(np.round(np.asarray(x, np.float64) / scale), lo, hi).astype(dtype)


def _decay(beta):
    return np.clip(np.round(np.asarray(beta, np.float64) * 32768), 0, 32768).astype(np.uint16)


@dataclass
class Q15Net:
    """The integer parameters of the merged network (see the module docstring)."""
    w_enc: np.ndarray      # int16 [ne, 1]
    b_enc: np.ndarray      # int32 [ne]
    dec_enc: np.ndarray    # uint16 [ne]  (Q15 decay of the encoding membranes)
    thr_enc: np.ndarray    # int16 [ne]
    w_hid: np.ndarray      # int16 [nh, ne]
    syn_dec: np.ndarray    # uint16 [nh]  (synaptic current decay; 0 for the I neurons)
    w_th: np.ndarray       # int16 [nh, ne]
    mem_dec: np.ndarray    # uint16 [nh]
    th_dec: np.ndarray     # uint16 [nh]
    thr_hid: np.ndarray    # int16 [nh]
    w_dec: np.ndarray      # int16 [2, nh]
    out_dec: np.ndarray    # uint16 [2]
    n_pd_enc: int
    n_pd_hid: int
    shared_encoder: bool = False

    @property
    def ne(self) -> int:
        return self.w_enc.shape[0]

    @property
    def nh(self) -> int:
        return self.w_hid.shape[0]

    @property
    def neurons(self) -> int:
        return self.ne + self.nh


def quantize(pd_params, i_params, pd_shape: Shape, i_shape: Shape) -> Q15Net:
    """Quantise the two float controllers into one Q15 network."""
    if pd_shape.adaptive or not i_shape.adaptive:
        raise ValueError("quantize needs a PD shape (not adaptive) and an I shape (adaptive)")
    P = pd_shape.unpack(np.asarray(pd_params, np.float64))
    I = i_shape.unpack(np.asarray(i_params, np.float64))
    nep, nei = 2 * pd_shape.pairs, 2 * i_shape.pairs
    nhp, nhi = pd_shape.hidden, i_shape.hidden
    ne, nh = nep + nei, nhp + nhi

    def enc(p):
        return np.concatenate([p["w_enc"], -p["w_enc"]]), np.concatenate([p["b_enc"], p["b_enc"]])

    enc_keys = ("w_enc", "b_enc", "beta_enc", "thr_enc")
    shared = nep == nei and all(np.array_equal(P[k], I[k]) for k in enc_keys)
    wp, bp = enc(P)
    wi, bi = enc(I)
    if shared:
        ne, ci = nep, 0
        w_enc, b_enc = wp, bp
        beta_enc, thr_enc = P["beta_enc"], P["thr_enc"]
    else:
        ci = nep
        w_enc, b_enc = np.concatenate([wp, wi]), np.concatenate([bp, bi])
        beta_enc = np.concatenate([P["beta_enc"], I["beta_enc"]])
        thr_enc = np.concatenate([P["thr_enc"], I["thr_enc"]])
    w_hid = np.zeros((nh, ne))
    w_hid[:nhp, :nep] = P["w_hid"]
    w_hid[nhp:, ci:ci + nei] = I["w_hid"]
    w_th = np.zeros((nh, ne))
    w_th[nhp:, ci:ci + nei] = I["w_th"]
    w_dec = np.zeros((2, nh))
    w_dec[0, :nhp] = P["w_dec"]
    w_dec[1, nhp:] = I["w_dec"]
    return Q15Net(
        w_enc=_q(w_enc, S_WE).reshape(ne, 1),
        b_enc=np.round(b_enc / (S_WE * S_E)).astype(np.int32),
        dec_enc=_decay(beta_enc),
        thr_enc=_q(thr_enc, S_X, 1),
        w_hid=_q(w_hid, S_H),
        syn_dec=_decay(np.concatenate([P["alpha_hid"], np.zeros(nhi)])),
        w_th=_q(w_th, S_H),
        mem_dec=_decay(np.concatenate([P["beta_hid"], I["beta_hid"]])),
        th_dec=_decay(np.concatenate([np.zeros(nhp), I["beta_th"]])),
        thr_hid=_q(np.concatenate([P["thr_hid"], I["thr_hid"]]), S_H, 1),
        w_dec=_q(w_dec, S_D),
        out_dec=_decay([P["beta_dec"][0], I["beta_dec"][0]]),
        n_pd_enc=nep, n_pd_hid=nhp, shared_encoder=shared)


def load_float(path) -> tuple[np.ndarray, np.ndarray, Shape, Shape]:
    d = json.loads(Path(path).read_text())
    return (np.asarray(d["pd"]["params"]), np.asarray(d["i"]["params"]),
            Shape(**d["pd"]["shape"]), Shape(**d["i"]["shape"]))


class Q15Controller:
    """The Q15 network stepped with edgehost.<backend> ("kernels": the C code; "sim": numpy).

    `step_q(e)` returns the int16 command (the model output); calling the controller returns the
    command in the plant's units, clipped to [-3.3, 3.3]. `spikes` holds each step's encoding
    and hidden spikes when record=True."""

    def __init__(self, net: Q15Net, backend: str = "kernels", record: bool = False):
        self.net = net
        self.B = importlib.import_module(f"edgehost.{backend}.basic")
        self.L = importlib.import_module(f"edgehost.{backend}.lif")
        self.record = record
        self._mul = np.float32(1.0 / S_E)
        self._sum = np.ones((1, 2), np.int16)
        self.reset()

    @property
    def neurons(self) -> int:
        return self.net.neurons

    def reset(self) -> None:
        n = self.net
        z = lambda k, dt=np.int16: np.zeros(k, dt)  # noqa: E731
        self.v_enc, self.s_enc = z(n.ne), z(n.ne, np.uint8)
        self.i_syn, self.v_h, self.a_h, self.s_h = z(n.nh), z(n.nh), z(n.nh), z(n.nh, np.uint8)
        self.y = z(2)
        self.spikes: list[np.ndarray] = []
        self.outputs: list[int] = []

    def quantize_input(self, e: float) -> np.ndarray:
        """What the blob's input_q15 layer computes: quantize((e - 0) * (1 / S_E)), float32."""
        t = (np.array([e], np.float32) - np.float32(0)).astype(np.float32)
        t = (t * self._mul).astype(np.float32)
        return self.B.quantize_f32_q15(t, 1.0)

    def step_q(self, e: float) -> int:
        n, B, L = self.net, self.B, self.L
        eq = self.quantize_input(e)
        x = B.fc_q15(eq, n.w_enc, n.b_enc, SHIFT_ENC)
        self.v_enc, self.s_enc = L.lif_step_q15(x, self.v_enc, self.s_enc, n.thr_enc, decay=n.dec_enc)
        ih = B.fc_spike_q15(self.s_enc, n.w_hid, None, 0)
        self.i_syn = B.li_step_q15(ih, self.i_syn, decay=n.syn_dec)
        xth = B.fc_spike_q15(self.s_enc, n.w_th, None, 0)
        self.v_h, self.a_h, self.s_h = L.lif_adapt_step_q15(self.i_syn, xth, self.v_h, self.a_h, self.s_h,
                                                            n.thr_hid, mem_decay=n.mem_dec, th_decay=n.th_dec)
        d = B.fc_spike_q15(self.s_h, n.w_dec, None, 0)
        self.y = B.li_step_q15(d, self.y, decay=n.out_dec)
        u = int(B.fc_q15(self.y, self._sum, None, 0)[0])
        if self.record:
            self.spikes.append(np.concatenate([self.s_enc, self.s_h]).astype(np.uint8))
        self.outputs.append(u)
        return u

    def __call__(self, error: float) -> float:
        return command(self.step_q(error))


def command(u_q: int) -> float:
    """The int16 model output in the plant's units, clipped to the command range."""
    return max(-U_MAX, min(U_MAX, float(u_q) * S_D))


def to_model(net: Q15Net):
    """The `.ehm` model of the network (edgehost.blob.Model, planned)."""
    from ...blob.model import Layer, Model, Tensor
    from ...convert.planner import plan
    T: list = []

    def t(dt, k, kind="activation", scale=1.0):
        T.append(Tensor(dt, (int(k),), kind, 0, float(scale)))
        return len(T) - 1

    ne, nh = net.ne, net.nh
    L = []
    e = t("f32", 1)
    eq = t("q15", 1, scale=S_E)
    L.append(Layer("input_q15", e, eq, 1, 1, [np.zeros(1, np.float32), np.full(1, 1.0 / S_E, np.float32)]))
    x = t("q15", ne, scale=S_X)
    L.append(Layer("fc_q15", eq, x, 1, ne, [net.w_enc.ravel(), net.b_enc], shift=SHIFT_ENC))
    s_enc, v_enc = t("spike", ne, "state"), t("q15", ne, "state", S_X)
    L.append(Layer("lif_q15", x, s_enc, ne, ne, [net.dec_enc, net.thr_enc], [v_enc], leak=("decay",)))
    ih = t("q15", nh, scale=S_H)
    L.append(Layer("fc_spike_q15", s_enc, ih, ne, nh, [net.w_hid.ravel(), None]))
    isyn = t("q15", nh, "state", S_H)
    L.append(Layer("li_q15", ih, isyn, nh, nh, [net.syn_dec], leak=("decay",)))
    xth = t("q15", nh, scale=S_H)
    L.append(Layer("fc_spike_q15", s_enc, xth, ne, nh, [net.w_th.ravel(), None]))
    s_h, v_h, a_h = t("spike", nh, "state"), t("q15", nh, "state", S_H), t("q15", nh, "state", S_H)
    L.append(Layer("lif_adapt_q15", isyn, s_h, nh, nh, [net.mem_dec, net.th_dec, net.thr_hid], [v_h, a_h],
                   leak=("decay", "decay"), input2=xth))
    d = t("q15", 2, scale=S_D)
    L.append(Layer("fc_spike_q15", s_h, d, nh, 2, [net.w_dec.ravel(), None]))
    y = t("q15", 2, "state", S_D)
    L.append(Layer("li_q15", d, y, 2, 2, [net.out_dec], leak=("decay",)))
    u = t("q15", 1, scale=S_D)
    L.append(Layer("fc_q15", y, u, 2, 1, [np.ones(2, np.int16), None]))
    return plan(Model(L, T, e, u, 0))


def to_blob(net: Q15Net) -> bytes:
    return to_model(net).to_bytes()


def main(argv=None) -> int:
    """Write the committed blob (model/blimp_controller.ehm) from the committed parameters."""
    import argparse

    from .evolve import MODEL_JSON
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--params", default=MODEL_JSON)
    ap.add_argument("--out", default=str(Path(MODEL_JSON).parent / "blimp_controller.ehm"))
    a = ap.parse_args(argv)
    blob = to_blob(quantize(*load_float(a.params)))
    Path(a.out).write_bytes(blob)
    print(f"wrote {a.out} ({len(blob)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
