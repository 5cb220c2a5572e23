"""The L2MU (Fra et al. 2024) in PyTorch with snnTorch LIF populations, trained with surrogate
gradients.

Every population is snnTorch `Leaky` (reset by subtraction from the previous step's spike, spike
when v > threshold): exactly `eh_lif_step_*` of kernels_c/include/eh_lif.h. Per time step t:

  input module (encoding-free: raw, normalised samples in)
    c_t    = LIF_in(x_t (per channel) * w_in + b_in)          6 channels x `pop` neurons
    s_x    = LIF_enc(W_enc c_t + b_enc)                       `enc` neurons
  cell (no biases)
    s_u    = LIF_u(E_x s_x + E_h s_h[t-1] + E_m s_m[t-1])     `memory` neurons
    s_m    = LIF_m(s_m[t-1] A^T + s_u B^T)                    `memory` x `order` neurons
    s_h    = LIF_h(W_x s_x + W_h s_h[t-1] + W_m s_m[t])       `hidden` neurons
  readout
    y_t    = beta_o y_{t-1} + W_o s_h + b_o                   leaky integrator, `classes`
  class    = argmax y_T

A, B are the LMU's zero-order-hold Legendre matrices for `order` and window `theta` (fixed,
not trained); E_m starts at zero (the paper's initialisation); beta and threshold are learnt per
population.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


def legendre_zoh(order: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Abar, Bbar of the LMU (Voelker et al. 2019), zero-order hold with dt = 1 step."""
    from scipy.linalg import expm
    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    A = (2 * i + 1) * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    B = ((2 * np.arange(order) + 1) * (-1.0) ** np.arange(order))[:, None]
    Ad = expm(A / theta)
    Bd = np.linalg.solve(A, (Ad - np.eye(order)) @ B)
    return Ad, Bd[:, 0]


@dataclass
class L2MUConfig:
    channels: int = 6
    pop: int = 8          # LIF neurons per input channel
    enc: int = 32
    memory: int = 8
    order: int = 6
    theta: float = 20.0   # LMU window, in steps
    hidden: int = 64
    classes: int = 6
    beta: float = 0.9     # initial decay of every population


def _leaky(n: int, beta: float):
    import snntorch as snn
    from snntorch import surrogate
    return snn.Leaky(beta=torch.full((n,), beta), learn_beta=True, threshold=torch.ones(n),
                     learn_threshold=True, spike_grad=surrogate.fast_sigmoid(slope=10),
                     reset_mechanism="subtract")


class L2MU(nn.Module):
    def __init__(self, cfg: L2MUConfig = L2MUConfig()):
        super().__init__()
        self.cfg = cfg
        c = cfg
        self.w_in = nn.Parameter(torch.randn(c.channels, c.pop) * 1.0)
        self.b_in = nn.Parameter(torch.zeros(c.channels, c.pop))
        self.lif_in = _leaky(c.channels * c.pop, c.beta)
        self.enc = nn.Linear(c.channels * c.pop, c.enc)
        self.lif_enc = _leaky(c.enc, c.beta)
        self.e_x = nn.Linear(c.enc, c.memory, bias=False)
        self.e_h = nn.Linear(c.hidden, c.memory, bias=False)
        self.e_m = nn.Linear(c.memory * c.order, c.memory, bias=False)
        nn.init.zeros_(self.e_m.weight)
        self.lif_u = _leaky(c.memory, c.beta)
        A, B = legendre_zoh(c.order, c.theta)
        self.register_buffer("A", torch.tensor(A, dtype=torch.float32))
        self.register_buffer("B", torch.tensor(B, dtype=torch.float32))
        self.lif_m = _leaky(c.memory * c.order, c.beta)
        self.w_x = nn.Linear(c.enc, c.hidden, bias=False)
        self.w_h = nn.Linear(c.hidden, c.hidden, bias=False)
        self.w_m = nn.Linear(c.memory * c.order, c.hidden, bias=False)
        for lin in (self.w_x, self.w_h, self.w_m):
            nn.init.xavier_normal_(lin.weight)
        self.lif_h = _leaky(c.hidden, c.beta)
        self.out = nn.Linear(c.hidden, c.classes)
        self.beta_o = nn.Parameter(torch.tensor(0.9))

    def forward(self, x: torch.Tensor, record: bool = False):
        """x [batch, steps, channels] -> logits [batch, classes] (y at the last step).
        With record=True also returns the spike trains of every population."""
        c = self.cfg
        nb, steps, _ = x.shape
        z = lambda n: torch.zeros(nb, n, device=x.device)  # noqa: E731
        mems = {k: z(n) for k, n in (("in", c.channels * c.pop), ("enc", c.enc), ("u", c.memory),
                                      ("m", c.memory * c.order), ("h", c.hidden))}
        s_m, s_h, y = z(c.memory * c.order), z(c.hidden), z(c.classes)
        rec = {k: [] for k in ("in", "x", "u", "m", "h", "y")} if record else None
        # spikes per population summed over steps and neurons, mean over the batch (differentiable
        # through the surrogate gradient): the activity regularisation of train(act_reg=...)
        self.spike_counts = dict.fromkeys(("in", "x", "u", "m", "h"), 0.0)
        vrec = {k: [] for k in mems} if record else None
        beta_o = self.beta_o.clamp(0, 1)
        for t in range(steps):
            cur = (x[:, t, :, None] * self.w_in + self.b_in).reshape(nb, -1)
            s_in, mems["in"] = self.lif_in(cur, mems["in"])
            s_x, mems["enc"] = self.lif_enc(self.enc(s_in), mems["enc"])
            s_u, mems["u"] = self.lif_u(self.e_x(s_x) + self.e_h(s_h) + self.e_m(s_m), mems["u"])
            m_prev = s_m.reshape(nb, c.memory, c.order)
            i_m = m_prev @ self.A.T + s_u[:, :, None] * self.B[None, None, :]
            s_m, mems["m"] = self.lif_m(i_m.reshape(nb, -1), mems["m"])
            s_h, mems["h"] = self.lif_h(self.w_x(s_x) + self.w_h(s_h) + self.w_m(s_m), mems["h"])
            y = beta_o * y + self.out(s_h)
            for k, v in (("in", s_in), ("x", s_x), ("u", s_u), ("m", s_m), ("h", s_h)):
                self.spike_counts[k] = self.spike_counts[k] + v.sum(1).mean()
            if record:
                for k, v in (("in", s_in), ("x", s_x), ("u", s_u), ("m", s_m), ("h", s_h), ("y", y)):
                    rec[k].append(v.detach())
                for k, v in mems.items():
                    vrec[k].append(v.detach())
        if record:
            out = {k: torch.stack(v, 1) for k, v in rec.items()}
            out.update({f"v_{k}": torch.stack(v, 1) for k, v in vrec.items()})
            return y, out
        return y

    def config(self) -> dict:
        return asdict(self.cfg)

    def rows_fed(self) -> dict:
        """Weight rows the event-driven Q15 step and readout visit per spike of each population
        (kernels_c/src/lmu/eh_l2mu_step_q15.c; the same figures as demos/har/spikes.py)."""
        c = self.cfg
        return {"in": c.enc, "x": c.memory + c.hidden, "u": c.order, "m": c.memory + c.hidden,
                "h": c.memory + c.hidden + c.classes}

    def row_visits_per_step(self, steps: int) -> torch.Tensor:
        """Spikes x rows fed per step, mean over the last forward's batch (differentiable)."""
        rows = self.rows_fed()
        return sum(self.spike_counts[k] * rows[k] for k in rows) / steps


def train(model: L2MU, X: np.ndarray, y: np.ndarray, epochs: int = 30, batch: int = 64, lr: float = 2e-3,
          X_val: np.ndarray | None = None, y_val: np.ndarray | None = None, seed: int = 0,
          progress: bool = True, log=print, act_reg: float = 0.0) -> list[dict]:
    """Adam on cross-entropy of the last-step readout; returns per-epoch history.

    act_reg > 0 adds activity regularisation: act_reg x (weight-row visits per step / 1000), the
    spikes of every population weighted by the rows of weights each spike makes the event-driven
    Q15 kernel visit (L2MU.row_visits_per_step), so the penalty follows the kernel's
    spike-dependent work."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    hist = []
    bar = None
    if progress:
        from rich.progress import Progress
        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task("training L2MU", total=epochs)
    try:
        for ep in range(epochs):
            model.train()
            order = rng.permutation(len(Xt))
            total, correct, loss_sum, rv_sum = 0, 0, 0.0, 0.0
            for k in range(0, len(order), batch):
                idx = torch.tensor(order[k:k + batch])
                logits = model(Xt[idx])
                loss = nn.functional.cross_entropy(logits, yt[idx])
                if act_reg > 0:
                    rv = model.row_visits_per_step(Xt.shape[1])
                    loss = loss + act_reg * rv / 1000.0
                    rv_sum += float(rv.detach()) * len(idx)
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss_sum += float(loss.detach()) * len(idx)
                correct += int((logits.argmax(1) == yt[idx]).sum())
                total += len(idx)
            sched.step()
            h = {"epoch": ep + 1, "loss": loss_sum / total, "train_acc": correct / total}
            if act_reg > 0:
                h["row_visits_per_step"] = rv_sum / total
            if X_val is not None:
                h["val_acc"] = accuracy(model, X_val, y_val)
            hist.append(h)
            if bar:
                bar.update(task, advance=1, description=f"training L2MU: {h}")
            elif log:
                log(h)
    finally:
        if bar:
            bar.stop()
    return hist


@torch.no_grad()
def predict(model: L2MU, X: np.ndarray, batch: int = 256) -> np.ndarray:
    model.eval()
    out = [model(torch.tensor(X[k:k + batch], dtype=torch.float32)).argmax(1).numpy()
           for k in range(0, len(X), batch)]
    return np.concatenate(out)


def accuracy(model: L2MU, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(model, X) == y))
