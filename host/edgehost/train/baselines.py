"""Baselines for the HAR demo, in PyTorch: a float LMU, a binary (XNOR) 1-D CNN and a shift-add
(power-of-two weight) 1-D CNN. Each model's forward pass is written so that its exported form
(host/edgehost/demos/har/baselines.py) runs through this project's kernels:

FloatLMU (eh_lmu_step_f32, act TANH, then a dense readout), the LMU of Voelker et al. 2019 with
  no bias on u, exactly the kernel's equations:
    u_t = E_x x_t + E_h h_{t-1} + E_m m_{t-1}
    m_t = Abar m_{t-1} + Bbar u_t          (per memory channel; Abar, Bbar fixed, zero-order hold)
    h_t = tanh(W_x x_t + W_h h_{t-1} + W_m m_t + b_h)
    logits = W_o h_T + b_o

BinaryCNN (eh_conv1d_b1_bits, eh_fc_b1_f32): inputs are +-1 values (a thermometer code of the
  raw samples, made by the caller), weights sign(w) with a straight-through estimator, "same"
  padding with +1 frames (the kernels' padding), batch norm then sign between layers (folded
  into integer thresholds at export), the flattened [time][channel] bits into a binary dense
  layer whose dot products are scaled and shifted per class: logits = dot * scale + bias.

ShiftAddCNN (eh_shiftadd_fc_q15 on im2col frames, eh_relu_q15): weights are +-2^p or 0 in
  the forward pass (straight-through estimator), zero padding, ReLU; the flattened
  [time][channel] features into a power-of-two dense layer.

Training: Adam, cosine schedule, fixed epochs (no model selection on test data).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


# ------------------------------------------------------------------------------- float LMU
@dataclass
class LMUConfig:
    channels: int = 6
    memory: int = 8      # n_u, as the L2MU's `memory`
    order: int = 6       # as the L2MU
    theta: float = 20.0  # as the L2MU, in steps
    hidden: int = 64     # as the L2MU
    classes: int = 6


class FloatLMU(nn.Module):
    def __init__(self, cfg: LMUConfig = LMUConfig()):
        super().__init__()
        from ..sim.lmu import lmu_zoh
        self.cfg = c = cfg
        self.e_x = nn.Linear(c.channels, c.memory, bias=False)
        self.e_h = nn.Linear(c.hidden, c.memory, bias=False)
        self.e_m = nn.Linear(c.memory * c.order, c.memory, bias=False)
        nn.init.zeros_(self.e_m.weight)
        A, B = lmu_zoh(c.order, c.theta)
        self.register_buffer("A", torch.tensor(A, dtype=torch.float32))
        self.register_buffer("B", torch.tensor(B, dtype=torch.float32))
        self.w_x = nn.Linear(c.channels, c.hidden, bias=True)   # its bias is b_h
        self.w_h = nn.Linear(c.hidden, c.hidden, bias=False)
        self.w_m = nn.Linear(c.memory * c.order, c.hidden, bias=False)
        for lin in (self.w_x, self.w_h, self.w_m):
            nn.init.xavier_normal_(lin.weight)
        self.out = nn.Linear(c.hidden, c.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        nb, steps, _ = x.shape
        m = x.new_zeros(nb, c.memory, c.order)
        h = x.new_zeros(nb, c.hidden)
        for t in range(steps):
            xt = x[:, t]
            u = self.e_x(xt) + self.e_h(h) + self.e_m(m.reshape(nb, -1))
            m = m @ self.A.T + u[:, :, None] * self.B
            h = torch.tanh(self.w_x(xt) + self.w_h(h) + self.w_m(m.reshape(nb, -1)))
        return self.out(h)


# ------------------------------------------------------------------------------ binary CNN
class _SignSTE(torch.autograd.Function):
    """sign with sign(0) = +1 (bit 1 iff < 0, the kernels' convention); gradient passes where |x| <= 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x < 0, -torch.ones_like(x), torch.ones_like(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)


def sign_ste(x: torch.Tensor) -> torch.Tensor:
    return _SignSTE.apply(x)


@dataclass
class BinaryCNNConfig:
    in_bits: int = 96                    # thermometer bits per frame (6 channels x 16 levels)
    steps: int = 40
    # (out channels, taps, stride) per binary conv layer; channels multiples of 32
    convs: list = field(default_factory=lambda: [[64, 5, 2], [64, 3, 2], [128, 3, 1]])
    classes: int = 6
    bn_eps: float = 1e-3


def conv_out_len(t: int, taps: int, stride: int) -> int:
    pad = (taps - 1) // 2
    return (t + 2 * pad - taps) // stride + 1


class BinaryCNN(nn.Module):
    def __init__(self, cfg: BinaryCNNConfig = BinaryCNNConfig()):
        super().__init__()
        self.cfg = cfg
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        cin, t = cfg.in_bits, cfg.steps
        for cout, taps, stride in cfg.convs:
            conv = nn.Conv1d(cin, cout, taps, stride=stride, bias=False)
            nn.init.uniform_(conv.weight, -0.1, 0.1)
            self.convs.append(conv)
            self.bns.append(nn.BatchNorm1d(cout, eps=cfg.bn_eps, momentum=0.05))
            cin, t = cout, conv_out_len(t, taps, stride)
        self.flat = cin * t
        self.fc = nn.Parameter(torch.empty(cfg.classes, self.flat).uniform_(-0.1, 0.1))
        self.scale = nn.Parameter(torch.full((cfg.classes,), 1.0 / np.sqrt(self.flat)))
        self.bias = nn.Parameter(torch.zeros(cfg.classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [batch, steps, in_bits] of +-1 -> logits [batch, classes]."""
        h = x.transpose(1, 2)  # [B, C, T]
        for conv, bn in zip(self.convs, self.bns):
            pad = (conv.kernel_size[0] - 1) // 2
            hp = F.pad(h, (pad, pad), value=1.0)  # the kernels pad with +1 frames
            dot = F.conv1d(hp, sign_ste(conv.weight), stride=conv.stride)
            h = sign_ste(bn(dot))
        flat = h.transpose(1, 2).reshape(h.shape[0], -1)  # [time][channel], the kernels' layout
        dot = flat @ sign_ste(self.fc).T
        return dot * self.scale + self.bias

    def clip_latent(self) -> None:
        with torch.no_grad():
            for conv in self.convs:
                conv.weight.clamp_(-1, 1)
            self.fc.clamp_(-1, 1)


# --------------------------------------------------------------------------- shift-add CNN
P_MIN, P_MAX = -12, 2   # power-of-two exponents the training uses (the kernel takes [-15, 15])


class _Pow2STE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w):
        return pow2_quantize(w)

    @staticmethod
    def backward(ctx, g):
        return g


def pow2_quantize(w: torch.Tensor) -> torch.Tensor:
    """Nearest power of two in the log domain, sign kept; |w| < 2^(P_MIN - 0.5) -> 0."""
    a = w.abs()
    p = torch.round(torch.log2(a.clamp_min(1e-30))).clamp(P_MIN, P_MAX)
    q = torch.sign(w) * torch.pow(2.0, p)
    return torch.where(a < 2.0 ** (P_MIN - 0.5), torch.zeros_like(w), q)


@dataclass
class ShiftAddCNNConfig:
    channels: int = 6
    steps: int = 40
    convs: list = field(default_factory=lambda: [[16, 5, 2], [32, 3, 2]])
    classes: int = 6


class ShiftAddCNN(nn.Module):
    def __init__(self, cfg: ShiftAddCNNConfig = ShiftAddCNNConfig()):
        super().__init__()
        self.cfg = cfg
        self.convs = nn.ModuleList()
        cin, t = cfg.channels, cfg.steps
        for cout, taps, stride in cfg.convs:
            self.convs.append(nn.Conv1d(cin, cout, taps, stride=stride, padding=(taps - 1) // 2))
            cin, t = cout, conv_out_len(t, taps, stride)
        self.flat = cin * t
        self.fc = nn.Linear(self.flat, cfg.classes)

    def forward(self, x: torch.Tensor, record: bool = False):
        """x [batch, steps, channels] (normalised) -> logits; record: also the pre-activations."""
        h = x.transpose(1, 2)
        pre = []
        for conv in self.convs:
            z = F.conv1d(h, _Pow2STE.apply(conv.weight), conv.bias, stride=conv.stride, padding=conv.padding)
            pre.append(z)
            h = F.relu(z)
        flat = h.transpose(1, 2).reshape(h.shape[0], -1)
        y = F.linear(flat, _Pow2STE.apply(self.fc.weight), self.fc.bias)
        pre.append(y)
        return (y, pre) if record else y


# --------------------------------------------------------------------------------- training
def train(model: nn.Module, X: np.ndarray, y: np.ndarray, epochs: int, lr: float, batch: int = 64,
          seed: int = 0, name: str = "model", log=print, after_step=None) -> list[dict]:
    """Adam + cosine schedule on cross-entropy; returns per-epoch training loss and accuracy."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    hist = []
    for ep in range(epochs):
        model.train()
        order = rng.permutation(len(Xt))
        total, correct, loss_sum = 0, 0, 0.0
        for k in range(0, len(order), batch):
            idx = torch.tensor(order[k:k + batch])
            logits = model(Xt[idx])
            loss = F.cross_entropy(logits, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yt[idx]).sum())
            total += len(idx)
        sched.step()
        h = {"epoch": ep + 1, "loss": round(loss_sum / total, 5), "train_acc": round(correct / total, 5)}
        hist.append(h)
        if log:
            log(f"{name}: {h}")
    return hist


@torch.no_grad()
def predict(model: nn.Module, X: np.ndarray, batch: int = 512) -> np.ndarray:
    model.eval()
    return np.concatenate([model(torch.tensor(X[k:k + batch], dtype=torch.float32)).argmax(1).numpy()
                           for k in range(0, len(X), batch)])


def config_dict(model: nn.Module) -> dict:
    return asdict(model.cfg)
