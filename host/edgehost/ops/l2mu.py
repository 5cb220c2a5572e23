"""The L2MU cell as one layer (format 1.1): l2mu_q15 (48).

q15 [n_ch] -> q15 [n_o] (a state tensor: the readout's membrane). Param 0 "cell" u32 [66] (the
descriptor), param 1 "data" (the arrays, each 4-aligned); their rules, the codec and the state
layout are in edgehost/blob/l2mu.py. States: 0 q15 v / i_syn (state), 1 spikes (state), 2 the
kernel's q15 scratch (an activation of this layer), sized from the descriptor and checked after
the parameters. Step: `eh_l2mu_step_q15` then `eh_l2mu_readout_q15`.
"""
from __future__ import annotations

import numpy as np

from ..blob import format as F
from ..blob import l2mu as _l2mu
from .base import Op, Prep


class L2mu(Op):
    minor = 1

    def count(self, ctx, k, kind, cnt):
        if kind == "l2mu_cell":
            return cnt == _l2mu.DESC_WORDS, str(_l2mu.DESC_WORDS)
        if kind == "l2mu_data":
            want = _l2mu.data_bytes(ctx.extra["desc"])
            return cnt == want, f"{want} (the arrays of param 0, each 4-aligned)"
        return super().count(ctx, k, kind, cnt)

    def values(self, ctx, k, kind, check, vals):
        try:
            if kind == "l2mu_cell":
                ctx.extra["desc"] = _l2mu.check_desc(vals, ctx.n_in, ctx.n_out)
            else:
                _l2mu.check_data(ctx.extra["desc"], vals)
        except _l2mu.L2muError as e:
            ctx.param_fail(k, str(e))

    def check(self, ctx):
        sizes = _l2mu.state_sizes(ctx.extra["desc"])
        for k, (sdt, kind, n) in enumerate(zip(self.spec.states, ("state", "state", "activation"), sizes)):
            st = ctx.states[k]
            ts = ctx.tensors[st]
            if F.DTYPE_CODES[ts.dtype] != sdt or ts.kind != kind or ts.n != n:
                ctx.fail(f"state {k} tensor {st} must be a {F.DTYPES[sdt][0]} {kind} tensor of {n} elements",
                         F.E_LAYER)

    def step(self, hm, layer, x):
        """One L2MU step and readout. The state lives in the layer's tensors (state 0: v and i_syn,
        state 1: spikes, output: the readout's v), laid out as the C interpreter does
        (edgehost.blob.l2mu.state_layout). The scratch tensor (state 2) is the kernel's working
        memory; its content is not modelled (stays 0)."""
        T = hm.t
        key = id(layer)
        if key not in hm.cache:
            d = _l2mu.Desc(layer.params[0])
            hm.cache[key] = (d, _l2mu.decode(d, layer.params[1]), _l2mu.state_layout(d))
        d, cell, layout = hm.cache[key]
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
        lmu = hm.k.lmu
        new = lmu.l2mu_readout_q15(cell, lmu.l2mu_step_q15(cell, state, x))
        for p, f, start, n in layout:
            st = new["enc"][int(p[-1])] if p.startswith("enc") else new[p]
            src[f][start:start + n] = st[f]
        return new["o"]["v"]

    def prepare(self, hm, layer):
        """eh_l2mu_step_q15_unchecked then eh_l2mu_readout_q15_unchecked, behind
        eh_l2mu_check_q15 / eh_l2mu_readout_check_q15, on a state structure whose pointers point
        into the layer's tensors (the C interpreter's layout, as in step) and a scratch buffer of
        its own (the scratch tensor's content is not modelled, as in step)."""
        from ..kernels.lmu import _l2mu_cell, _need_state
        c = Prep(hm, "lmu")
        d = _l2mu.Desc(layer.params[0])
        cell, scratch_len = _l2mu_cell(_l2mu.decode(d, layer.params[1]), True, c.keep)
        c.check("eh_l2mu_check_q15", c.lib.eh_l2mu_check_q15(cell, scratch_len))
        c.check("eh_l2mu_readout_check_q15", c.lib.eh_l2mu_readout_check_q15(cell, scratch_len))
        nv, ns, _ = _l2mu.state_sizes(d)
        vp, _ = c.t(layer.states[0], np.int16, nv)
        sp, _ = c.t(layer.states[1], np.uint8, ns)
        x, _ = c.t(layer.input, np.int16, d.n_ch)
        st = c.ffi.new("eh_l2mu_state_q15 *")
        c.keep.append(st)

        def pop(p):
            return st.enc[int(p[-1])] if p.startswith("enc") else getattr(st, p)
        for p, f, start, n in _l2mu.state_layout(d):
            setattr(pop(p), f, (sp if f == "s" else vp) + start)
        st.o.v = c.t(layer.output, np.int16, d.n_o)[0]
        if st.o.s == c.NULL:
            st.o.s = c.buf(d.n_o, np.uint8)[0]
        _need_state(cell, st, False)
        _need_state(cell, st, True)
        scratch, _ = c.buf(scratch_len, np.int16)
        step, readout = c.lib.eh_l2mu_step_q15_unchecked, c.lib.eh_l2mu_readout_q15_unchecked

        def run():
            step(cell, x, st, scratch)
            readout(cell, st, scratch)
        return run


OPS = [L2mu(48, F.Spec("l2mu_q15", (F.DT_Q15,), F.DT_Q15, F.KIND_STATE, False, [F.DT_Q15, F.DT_SPIKE, F.DT_Q15],
                       [("cell", "l2mu_cell", "<u4", None), ("data", "l2mu_data", "u1", None)], scratch=True))]
