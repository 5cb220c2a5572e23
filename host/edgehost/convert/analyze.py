"""What `edgehost inspect` reports about a model: sizes, operation counts, memory, boards.

MACs count the multiply-accumulates of a step (a spike-driven dense layer counts its worst case,
all inputs spiking, as additions). ACE (arithmetic computation effort, PokeBNN, Zhang et al.
2022) weights each MAC by the product of its operand bit widths: float32 32 x 32, Q15 16 x 16,
spike-driven 1 x 16, binary (XNOR/popcount) 1 x 1. A shift leak has no multiply and counts 0.
Format 1.4: a streaming binary conv1d counts n_out x taps x n_in binary MACs (1 x 1) (1.6's
conv1d_b1_seq_bits: t_out x c_out x taps x c_in; shiftadd_conv1d_q15: one shift-add per nonzero
weight per output frame; lmu_f32: t LMU steps, every matrix, 32 x 32); an
MST-compressed layer counts its roots' full rows plus one 1-bit add per difference code (1 x 1):
the work it saves over fc_b1 shows as fewer MACs; shiftadd_fc_q15 counts one shift-add per
nonzero power-of-two weight and bcq_fc_q15 q sign-adds per weight (both 1 x 16, as a
spike-driven add: no multiply).

The L2MU layer (l2mu_q15) counts, per step: the first layer's n_ch * pop multiplies (16 x 16);
every spike-driven weight sum at its worst case, all presynaptic neurons spiking (1 x 16 each):
the encoders (enc[k] x fan-in), I_u (n_u x (n_sx [+ n_h with e_h] [+ n_m with e_m])), I_m
(n_m x order for A, + n_m for B), I_h (n_h x ([n_sx with w_x] [+ n_h with w_h] + n_m)) and the
readout (n_o x n_h); and one 16 x 16 multiply per neuron for each decay leak (membrane, and the
synaptic current of a CuBa population; the LI readout's leak). Shift leaks count 0.
"""
from __future__ import annotations

from .blob_graph import blob_graph

import struct

from ..blob import Model
from ..blob import l2mu as _l2mu
from .planner import state_bytes

MODEL_STRUCT_BYTES = 64 + 2 * 256 + 32 + 160   # sizeof(eh_model) on a 32-bit core, rounded up


def l2mu_ops(desc) -> tuple[int, int]:
    """(MACs, ACE) of one step of an L2MU layer (the module docstring defines them)."""
    d = desc if isinstance(desc, _l2mu.Desc) else _l2mu.Desc(desc)
    c = d.counts
    mul = d.n_in
    acc = 0
    fan = d.n_in
    for n in d.enc:
        acc += n * fan
        fan = n
    acc += d.n_u * (d.n_sx + (d.n_h if c["e_h"] else 0) + (d.n_m if c["e_m"] else 0))
    acc += d.n_m * d.order + d.n_m
    acc += d.n_h * ((d.n_sx if c["w_x"] else 0) + (d.n_h if c["w_h"] else 0) + d.n_m)
    acc += d.n_o * d.n_h
    for p in _l2mu.POPS:
        if not d.active(p):
            continue
        f = d.flags[p]
        n = d.pop_size(p)
        mul += 0 if f & _l2mu.F_LEAK_SHIFT else n
        if f & _l2mu.F_CUBA and not f & _l2mu.F_SYN_SHIFT:
            mul += n
    return mul + acc, mul * 16 * 16 + acc * 1 * 16


def _ops(m: Model, l) -> tuple[int, int]:
    n = l.n_out
    macs_fc = l.n_in * l.n_out
    t = l.type
    if t == "fc_f32":
        return macs_fc, macs_fc * 32 * 32
    if t == "fc_q15":
        return macs_fc, macs_fc * 16 * 16
    if t == "fc_s8":
        return macs_fc, macs_fc * 8 * 8
    if t in ("fc_spike_q15", "fc_spike_t_q15"):
        return macs_fc, macs_fc * 1 * 16
    if t in ("fc_b1_f32", "fc_b1_bits"):
        return macs_fc, macs_fc * 1 * 1        # XNOR/popcount: 1-bit x 1-bit
    if t == "conv1d_b1_seq_bits":              # whole sequence: t_out c_out taps c_in binary MACs
        c_in, c_out, taps = (int(v) for v in l.params[0][:3])
        k = l.n_out // (32 * ((c_out + 31) // 32)) * c_out * taps * c_in
        return k, k * 1 * 1
    if t == "shiftadd_conv1d_q15":             # a shift-add per nonzero weight per output frame: 1 x 16
        k = l.n_out // int(l.params[0][1]) * int((l.params[1] & 0x1F).astype(bool).sum())
        return k, k * 1 * 16
    if t == "lmu_f32":                         # t steps of eh_lmu_step_f32, every matrix: 32 x 32
        n_x, n_u, order, n_h = (int(v) for v in l.params[0][:4])
        n_m = n_u * order
        k = l.n_in // n_x * (n_u * (n_x + n_h + n_m) + n_m * (order + 1) + n_h * (n_x + n_h + n_m))
        return k, k * 32 * 32
    if t == "conv1d_s8":                       # whole sequence: t_out c_out taps c_in (padded taps included)
        c_in, c_out, taps = (int(v) for v in l.params[0][:3])
        k = l.n_out * taps * c_in
        return k, k * 8 * 8
    if t in ("conv2d_f32", "conv2d_q15", "conv2d_spike_q15", "conv2d_s8"):   # n_out (c_in / groups) k_h k_w
        g = [int(v) for v in l.params[0]]
        k = l.n_out * (g[0] // g[14]) * g[4] * g[5]
        bits = {"conv2d_f32": 32 * 32, "conv2d_q15": 16 * 16, "conv2d_spike_q15": 1 * 16, "conv2d_s8": 8 * 8}[t]
        return k, k * bits
    if t.startswith("conv1d_b1_"):
        W = (l.n_in + 31) // 32
        taps = m.tensors[l.states[0]].n // W
        return macs_fc * taps, macs_fc * taps * 1 * 1
    if t.startswith("mst_fc_b1_"):             # roots: full rows; children: one 1-bit add per code
        n_roots, n_diff = int(l.params[0][0]), int(l.params[0][1])
        k = n_roots * l.n_in + n_diff
        return k, k * 1 * 1
    if t == "shiftadd_fc_q15":                 # a shift and an add per nonzero weight: 1 x 16
        k = int((l.params[0] & 0x1F).astype(bool).sum())
        return k, k * 1 * 16
    if t == "bcq_fc_q15":                      # q binary planes: q sign-adds per weight, 1 x 16
        k = macs_fc * (l.params[0].size // l.n_out)
        return k, k * 1 * 16
    if t in ("input_q15", "input_f32", "dequant"):
        return n, n * 32 * 32
    if t == "lif_f32":
        return n, n * 32 * 32
    if t in ("cubalif_f32", "lif_adapt_f32"):
        return 2 * n, 2 * n * 32 * 32
    if t == "li_f32":
        return n, n * 32 * 32
    if t == "l2mu_q15":
        return l2mu_ops(l.params[0])
    if t in ("lif_q15", "li_q15", "cubalif_q15", "lif_adapt_q15"):
        k = sum(1 for kind in l.leak if kind == "decay")
        return k * n, k * n * 16 * 16
    return 0, 0


def layer_rows(m: Model) -> list[dict]:
    rows = []
    for i, l in enumerate(m.layers):
        macs, ace = _ops(m, l)
        st = sum(m.tensors[s].nbytes for s in l.states if m.tensors[s].kind == "state")
        if m.tensors[l.output].kind == "state":
            st += m.tensors[l.output].nbytes
        rows.append({
            "index": i, "type": l.type,
            "input": {"tensor": l.input, "dtype": m.tensors[l.input].dtype, "shape": list(m.tensors[l.input].shape)},
            **({"input2": {"tensor": l.input2, "dtype": m.tensors[l.input2].dtype,
                           "shape": list(m.tensors[l.input2].shape)}} if l.input2 is not None else {}),
            "output": {"tensor": l.output, "dtype": m.tensors[l.output].dtype,
                       "shape": list(m.tensors[l.output].shape), "scale": m.tensors[l.output].scale},
            "param_bytes": sum(int(p.nbytes) for p in l.params if p is not None),
            "state_bytes": st, "macs": macs, "ace": ace,
            **({"shift": l.shift} if l.type in ("fc_q15", "fc_spike_q15", "fc_spike_t_q15") else {}),
            **({"reset": l.reset} if l.type.startswith(("lif", "cubalif")) else {}),
        })
    return rows


def boards_fit(blob_bytes: int, arena_bytes: int, input_bytes: int = 0, output_bytes: int = 0):
    """Per board: does the model fit the board's firmware, i.e. the blob its blob buffer, the
    arena its arena, one step's input and output a frame (edgehost.model_fit.fit, the function
    `build --model` uses too). None when the boards package is not available."""
    try:
        from .. import model_fit
        rows = model_fit.boards(model_fit.Need(blob_bytes, arena_bytes, input_bytes, output_bytes))
    except Exception as e:  # the boards package is optional here
        return None, f"board descriptions not available ({type(e).__name__}: {e})"
    return rows, ("fits = blob <= the firmware's blob buffer, arena <= its arena, a step's input and output "
                  "<= a frame's payload (edgehost.model_fit; sizes from the board's built firmware image, "
                  "else from firmware/runtime/eh_fw_config.h)")


def summary(m: Model, blob: bytes) -> dict:
    rows = layer_rows(m)
    fit, note = boards_fit(len(blob), m.arena_size)
    d = {
        "format": "ehm {}.{}".format(*struct.unpack_from("<HH", blob, 4)), "bytes": len(blob), "hash": f"0x{m.model_hash:08x}",
        "n_layers": len(m.layers), "n_tensors": len(m.tensors),
        "input": {"dtype": m.input_tensor.dtype, "shape": list(m.input_tensor.shape),
                  "bytes": m.input_tensor.nbytes},
        "output": {"dtype": m.output_tensor.dtype, "shape": list(m.output_tensor.shape),
                   "scale": m.output_tensor.scale, "bytes": m.output_tensor.nbytes},
        "param_bytes": m.param_bytes(), "arena_bytes": m.arena_size, "state_bytes": state_bytes(m),
        "macs": sum(r["macs"] for r in rows), "ace": sum(r["ace"] for r in rows),
        "layers": rows,
        "graph": blob_graph(m),
    }
    if fit is not None:
        d["boards"] = fit
    d["boards_note"] = note
    return d


def emit_c(blob: bytes, m: Model, name: str = "eh_model_blob") -> str:
    """A C header holding the blob as an 8-byte aligned array, with its sizes."""
    lines = [f"/* Generated by edgehost convert: .ehm model blob, {len(blob)} bytes, hash 0x{m.model_hash:08x}. */",
             f"#ifndef {name.upper()}_H", f"#define {name.upper()}_H", "", "#include <stdint.h>", "",
             f"#define {name.upper()}_LEN {len(blob)}u",
             f"#define {name.upper()}_ARENA_SIZE {m.arena_size}u",
             f"#define {name.upper()}_HASH 0x{m.model_hash:08x}u",
             f"#define {name.upper()}_INPUT_BYTES {m.input_tensor.nbytes}u",
             f"#define {name.upper()}_OUTPUT_BYTES {m.output_tensor.nbytes}u", "",
             f"static const uint8_t {name}[{len(blob)}] __attribute__((aligned(8))) = {{"]
    for i in range(0, len(blob), 16):
        lines.append("    " + ", ".join(f"0x{b:02x}" for b in blob[i:i + 16]) + ",")
    lines += ["};", "", f"#endif /* {name.upper()}_H */", ""]
    return "\n".join(lines)
