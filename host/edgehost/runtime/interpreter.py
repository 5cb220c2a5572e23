"""Host interpreter of `.ehm` blobs: the reference the device is validated against.

It runs a blob layer by layer, in the order and with the arithmetic of the C interpreter
(firmware/model/eh_model.c), calling the kernels' Python twins: backend "sim" (numpy,
edgehost.sim) or "kernels" (the C kernels through cffi, edgehost.kernels). On Q15 models the
two backends agree bit for bit, and both agree with the firmware.
"""
from __future__ import annotations

import importlib

import numpy as np

from ..blob import Model, read
from ..blob import l2mu as _l2mu

BACKENDS = ("sim", "kernels")


def _quantize_s8(x, scale: float, zero_point: int) -> np.ndarray:
    """input_s8 as the C interpreter does it: q = sat8(round_half_away(x / scale) + zp), one
    float32 division (TFLite's reference AffineQuantize); NaN counts as 0, |x / scale| is clamped
    to 1000 before rounding."""
    v = (np.asarray(x, np.float32) / np.float32(scale)).astype(np.float32)
    v = np.where(np.isnan(v), np.float32(0), v)
    v = np.clip(v, -1000.0, 1000.0).astype(np.float64)
    r = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(r.astype(np.int64) + int(zero_point), -128, 127).astype(np.int8)


class HostModel:
    """A blob ready to run on the host.

        hm = HostModel(blob_bytes_or_Model, backend="kernels")
        y = hm.step(x)                # one time step; the state persists
        ys, trace = hm.run(xs)        # xs: (steps, n_in); trace[t][l] = output of layer l at step t
    """

    def __init__(self, model, backend: str = "sim"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.model: Model = model if isinstance(model, Model) else read(model)
        self.backend = backend
        try:
            self._lif = importlib.import_module(f"edgehost.{backend}.lif")
            self._basic = importlib.import_module(f"edgehost.{backend}.basic")
            self._binary = importlib.import_module(f"edgehost.{backend}.binary")
            self._lmu = importlib.import_module(f"edgehost.{backend}.lmu")
            self._mst = importlib.import_module(f"edgehost.{backend}.mst")
            self._shiftadd = importlib.import_module(f"edgehost.{backend}.shiftadd")
        except ImportError as e:
            raise ImportError(f"backend {backend!r} needs edgehost.{backend}.lif, .basic, .binary, "
                              f".lmu, .mst and .shiftadd: {e}") from e
        self._cells: dict = {}     # layer id -> (descriptor, decoded cell) of the l2mu layers
        self.reset()

    # -- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Zero every tensor, as eh_model_reset_state zeroes the arena."""
        self._t = [np.zeros(t.storage_len, t.np_dtype) for t in self.model.tensors]
        self.steps = 0

    def tensor(self, t: int) -> np.ndarray:
        """The current value of tensor t (a copy)."""
        return self._t[t].copy()

    @property
    def input_size(self) -> int:
        return self.model.input_tensor.n

    # -- running -------------------------------------------------------------------------------
    def step(self, x, trace: list | None = None) -> np.ndarray:
        """One time step on input x (the input tensor's dtype and size). If `trace` is a list,
        the output of every layer is appended to it (copies)."""
        m = self.model
        ti = m.input_tensor
        x = np.asarray(x)
        if x.size != ti.storage_len:
            what = "packed words" if ti.dtype == "b1" else "values"
            raise ValueError(f"input has {x.size} {what}, the model takes {ti.storage_len}")
        if ti.dtype == "spike" and np.any((x != 0) & (x != 1)):
            raise ValueError("input spikes must be 0 or 1")
        self._t[m.input] = x.astype(ti.np_dtype).ravel().copy()
        for layer in m.layers:
            self._run(layer)
            if trace is not None:
                trace.append(self._t[layer.output].copy())
        self.steps += 1
        return self._t[m.output].copy()

    def run(self, xs, reset: bool = True):
        """Run every row of xs as one step. Returns (outputs (steps, n_out), trace)."""
        if reset:
            self.reset()
        outs, traces = [], []
        for x in np.asarray(xs):
            tr: list = []
            outs.append(self.step(x, tr))
            traces.append(tr)
        return np.array(outs), traces

    def dequantized_output(self) -> np.ndarray:
        t = self.model.output_tensor
        v = self._t[self.model.output].astype(np.float64)
        return v * t.scale if t.dtype == "q15" else v

    # -- one layer -----------------------------------------------------------------------------
    def _l2mu(self, layer, x) -> np.ndarray:
        """One L2MU step and readout (eh_l2mu_step_q15, eh_l2mu_readout_q15). The state lives in
        the layer's tensors (state 0: v and i_syn, state 1: spikes, output: the readout's v),
        laid out as the C interpreter does (edgehost.blob.l2mu.state_layout). The scratch tensor
        (state 2) is the kernel's working memory; its content is not modelled (stays 0)."""
        T = self._t
        key = id(layer)
        if key not in self._cells:
            d = _l2mu.Desc(layer.params[0])
            self._cells[key] = (d, _l2mu.decode(d, layer.params[1]), _l2mu.state_layout(d))
        d, cell, layout = self._cells[key]
        tv, ts = T[layer.states[0]], T[layer.states[1]]
        src = {"v": tv, "i_syn": tv, "s": ts}
        pops: dict = {}
        for p, f, start, n in layout:
            pops.setdefault(p, {})[f] = src[f][start:start + n].copy()
        o = pops.setdefault("o", {})
        o["v"] = T[layer.output].copy()
        o.setdefault("s", np.zeros(d.n_o, np.uint8))
        state = {"in": pops["in"], "enc": [pops[f"enc{k}"] for k in range(d.n_enc)],
                 "u": pops["u"], "m": pops["m"], "h": pops["h"], "o": o}
        new = self._lmu.l2mu_readout_q15(cell, self._lmu.l2mu_step_q15(cell, state, x))
        for p, f, start, n in layout:
            st = new["enc"][int(p[-1])] if p.startswith("enc") else new[p]
            src[f][start:start + n] = st[f]
        return new["o"]["v"]

    def _conv1d(self, layer, x) -> np.ndarray:
        """Streaming binary conv1d: the window (state 0) holds the last taps frames, oldest first;
        the new frame is shifted in and one output frame computed (stride 1, no padding)."""
        B = self._binary
        W = (layer.n_in + 31) // 32
        win = self._t[layer.states[0]]
        taps = win.size // W
        win = np.concatenate([win[W:], x.astype(np.uint32)])
        self._t[layer.states[0]] = win
        frames = win.reshape(taps, W)
        w = layer.params[0].reshape(layer.n_out, taps, W)
        p = layer.params
        ty = layer.type
        if ty == "conv1d_b1_bits":
            return B.conv1d_b1_bits(layer.n_in, frames, w, p[1]).ravel()
        if ty == "conv1d_b1_f32":
            return B.conv1d_b1_f32(layer.n_in, frames, w, p[1], p[2]).ravel()
        if ty == "conv1d_b1_s32":
            return B.conv1d_b1_s32(layer.n_in, frames, w).ravel()
        return B.conv1d_b1_s8(layer.n_in, frames, w, p[1], p[2], layer.shift).ravel()

    def _mst_fc(self, layer, x) -> np.ndarray:
        """MST-compressed binary fc: the kernel's dot products in node order, then the output
        stage in channel order (channel[p] = the channel of node p)."""
        from ..sim.mst import MstLayout
        n = layer.n_out
        tree, root_w, diff, last = layer.params
        parent = tree[2:2 + n].view(np.int32)
        channel = tree[2 + n:2 + 2 * n].astype(np.int64)
        lay = MstLayout(n_in=layer.n_in, n_out=n, parent=parent, channel=channel.astype(np.int32),
                        root_w=root_w.reshape(int(tree[0]), -1), diff_start=tree[2 + 3 * n:3 + 4 * n],
                        diff=np.zeros(0, np.uint16) if diff is None else diff, depth=np.zeros(n, np.int32))
        dot = self._mst.mst_fc_b1(lay, x)
        if layer.type == "mst_fc_b1_f32":
            y = np.zeros(n, np.float32)
            y[channel] = (dot.astype(np.float32) * last[channel]).astype(np.float32) + last[n + channel]
            return y
        bits = np.zeros(n, np.uint8)
        bits[channel] = dot < last[channel]
        return self._binary.pack_spikes_b1(bits)

    def _leak(self, layer, slot, which):
        p = layer.params[slot]
        return {"decay": p} if layer.leak[which] == "decay" else {"shift": p}

    def _run(self, layer) -> None:
        T, B, L = self._t, self._basic, self._lif
        x = T[layer.input]
        p = layer.params
        ty = layer.type
        if ty in ("input_q15", "input_f32"):
            c = p[0].size
            idx = np.arange(x.size) % c
            t = (x.astype(np.float32) - p[0][idx]).astype(np.float32)
            t = (t * p[1][idx]).astype(np.float32)
            y = B.quantize_f32_q15(t, 1.0) if ty == "input_q15" else t
        elif ty == "fc_f32":
            y = B.fc_f32(x, p[0].reshape(layer.n_out, layer.n_in), p[1])
        elif ty == "fc_q15":
            y = B.fc_q15(x, p[0].reshape(layer.n_out, layer.n_in), p[1], layer.shift)
        elif ty == "fc_spike_q15":
            y = B.fc_spike_q15(x, p[0].reshape(layer.n_out, layer.n_in), p[1], layer.shift)
        elif ty == "lif_f32":
            s = layer.states
            T[s[0]], y = L.lif_step_f32(x, T[s[0]], T[layer.output], p[0], p[1], layer.reset)
        elif ty == "lif_q15":
            s = layer.states
            T[s[0]], y = L.lif_step_q15(x, T[s[0]], T[layer.output], p[1], reset=layer.reset,
                                        **self._leak(layer, 0, 0))
        elif ty == "cubalif_f32":
            s = layer.states
            T[s[0]], T[s[1]], y = L.cubalif_step_f32(x, T[s[0]], T[s[1]], T[layer.output], p[0], p[1],
                                                     p[2], layer.reset)
        elif ty == "cubalif_q15":
            s = layer.states
            ls = self._leak(layer, 0, 0)
            lm = self._leak(layer, 1, 1)
            T[s[0]], T[s[1]], y = L.cubalif_step_q15(
                x, T[s[0]], T[s[1]], T[layer.output], p[2],
                syn_decay=ls.get("decay"), syn_shift=ls.get("shift"),
                mem_decay=lm.get("decay"), mem_shift=lm.get("shift"), reset=layer.reset)
        elif ty == "lif_adapt_f32":
            s = layer.states
            T[s[0]], T[s[1]], y = L.lif_adapt_step_f32(x, T[layer.input2], T[s[0]], T[s[1]], T[layer.output],
                                                       p[0], p[1], p[2], layer.reset)
        elif ty == "lif_adapt_q15":
            s = layer.states
            lm = self._leak(layer, 0, 0)
            lt = self._leak(layer, 1, 1)
            T[s[0]], T[s[1]], y = L.lif_adapt_step_q15(
                x, T[layer.input2], T[s[0]], T[s[1]], T[layer.output], p[2],
                mem_decay=lm.get("decay"), mem_shift=lm.get("shift"),
                th_decay=lt.get("decay"), th_shift=lt.get("shift"), reset=layer.reset)
        elif ty == "li_f32":
            y = B.li_step_f32(x, T[layer.output], p[0])
        elif ty == "li_q15":
            y = B.li_step_q15(x, T[layer.output], **self._leak(layer, 0, 0))
        elif ty == "relu_f32":
            y = B.relu_f32(x)
        elif ty == "relu_q15":
            y = B.relu_q15(x)
        elif ty == "argmax":
            dt = self.model.tensors[layer.input].dtype
            y = np.array([getattr(B, f"argmax_{'s32' if dt == 's32' else dt}")(x)], np.uint32)
        elif ty == "spike_count":
            y = B.spike_count_u16(x, T[layer.output])
        elif ty == "dequant":
            y = B.dequantize_q15_f32(x, self.model.tensors[layer.input].scale)
        elif ty == "spike_f32":
            y = (x != 0).astype(np.float32)
        elif ty == "input_s8":
            y = _quantize_s8(x, self.model.tensors[layer.output].scale, int(p[0][0]))
        elif ty == "dequant_s8":
            sc = np.float32(self.model.tensors[layer.input].scale)
            y = ((x.astype(np.int32) - int(p[0][0])).astype(np.float32) * sc).astype(np.float32)
        elif ty == "fc_s8":
            c = p[2].size // 2
            q = p[3]
            y = B.fc_s8(x, p[0].reshape(layer.n_out, layer.n_in), p[2][:c], p[2][c:], p[1],
                        x_offset=int(q[0]), y_offset=int(q[1]), per_channel=c == layer.n_out and c > 1)
            y = np.clip(y, int(q[2]), int(q[3])).astype(np.int8)   # fused activation (RELU, RELU6)
        elif ty == "fc_b1_f32":
            w = p[0].reshape(layer.n_out, -1)
            y = self._binary.fc_b1_f32(layer.n_in, x, w, p[1], p[2])
        elif ty == "fc_b1_bits":
            y = self._binary.fc_b1_bits(layer.n_in, x, p[0].reshape(layer.n_out, -1), p[1])
        elif ty == "pack_spikes_b1":
            y = self._binary.pack_spikes_b1(x)
        elif ty == "l2mu_q15":
            y = self._l2mu(layer, x)
        elif ty == "pack_signs_b1":
            if x.dtype == np.int8:
                y = self._binary.pack_signs_b1(x)
            else:           # q15 / f32: bit = (v < 0), as the C interpreter (NaN is not < 0)
                y = self._binary.pack_spikes_b1((x < 0).astype(np.uint8))
        elif ty.startswith("conv1d_b1_"):
            y = self._conv1d(layer, x)
        elif ty.startswith("mst_fc_b1_"):
            y = self._mst_fc(layer, x)
        elif ty == "shiftadd_fc_q15":
            y = self._shiftadd.shiftadd_fc_q15(x, p[0].reshape(layer.n_out, layer.n_in), p[1], layer.shift)
        elif ty == "bcq_fc_q15":
            q = p[0].size // layer.n_out
            w = p[1].reshape(layer.n_out, q, -1)
            y = self._shiftadd.bcq_fc_q15(x, w, p[0].reshape(layer.n_out, q), p[2], layer.shift)
        else:  # pragma: no cover - read() rejects unknown types
            raise ValueError(f"layer type {ty} not supported by the host interpreter")
        T[layer.output] = np.asarray(y, dtype=self.model.tensors[layer.output].np_dtype).ravel()
