"""Constants of the `.ehm` model blob, format 1.4 (docs/model-format.md is the specification).

Everything here has a C twin in firmware/model/eh_model.h / eh_model_format.h; the two must agree.
"""
from __future__ import annotations

MAGIC = b"EHMB"
VERSION_MAJOR = 1
VERSION_MINOR = 4       # 1.1 added the l2mu_q15 layer, 1.2 the int8 layers, 1.3 lif_adapt_*,
                        # 1.4 conv1d_b1_*, mst_fc_b1_*, shiftadd_fc_q15, bcq_fc_q15, pack_signs_b1;
                        # the writer writes the lowest minor a model needs

HEADER_SIZE = 64
LAYER_SIZE = 64
TENSOR_SIZE = 32
N_PARAMS = 4
N_STATES = 3
NONE = 0xFFFF          # "no tensor" in a layer's state slots
MAX_LAYERS = 128
MAX_TENSORS = 256
MAX_ELEMENTS = 1 << 24  # per tensor
WEIGHT_ALIGN = 8        # the writer aligns the weight section and each parameter to 8
PARAM_ALIGN = 4         # what the loader requires of each parameter offset
ARENA_ALIGN = 4         # tensor offsets and the arena size

# Error codes (eh_model_status in C).
E_NULL = -1
E_LENGTH = -2
E_MAGIC = -3
E_VERSION = -4
E_CRC = -5
E_HASH = -6
E_HEADER = -7
E_COUNT = -8
E_LAYOUT = -9
E_TENSOR = -10
E_LAYER = -11
E_PARAM = -12
E_GRAPH = -13
E_ARENA = -14
E_OVERLAP = -15
E_UNSUPPORTED = -16
E_ALIGN = -17
E_NOT_LOADED = -18
E_IO = -19
E_KERNEL = -20
E_CLOBBERED = -21

ERROR_NAMES = {
    E_NULL: "null", E_LENGTH: "length", E_MAGIC: "magic", E_VERSION: "version", E_CRC: "crc",
    E_HASH: "hash", E_HEADER: "header", E_COUNT: "count", E_LAYOUT: "layout", E_TENSOR: "tensor",
    E_LAYER: "layer", E_PARAM: "param", E_GRAPH: "graph", E_ARENA: "arena", E_OVERLAP: "overlap",
    E_UNSUPPORTED: "unsupported", E_ALIGN: "align", E_NOT_LOADED: "not loaded", E_IO: "io",
    E_KERNEL: "kernel", E_CLOBBERED: "clobbered",
}

# Tensor dtypes: code -> (name, bytes per element).
DT_F32, DT_Q15, DT_SPIKE, DT_S8, DT_S32, DT_U16, DT_U32, DT_B1 = 1, 2, 3, 4, 5, 6, 7, 8
# b1: n values in {-1, +1} bit-packed into ceil(n / 32) uint32 words (eh_binary.h layout);
# its "element size" here is that of the storage word.
DTYPES = {
    DT_F32: ("f32", 4), DT_Q15: ("q15", 2), DT_SPIKE: ("spike", 1), DT_S8: ("s8", 1),
    DT_S32: ("s32", 4), DT_U16: ("u16", 2), DT_U32: ("u32", 4), DT_B1: ("b1", 4),
}


def tensor_nbytes(code: int, n: int) -> int:
    """Bytes of a tensor of n elements."""
    if code == DT_B1:
        return 4 * ((n + 31) // 32)
    return n * DTYPES[code][1]

DTYPE_CODES = {name: code for code, (name, _) in DTYPES.items()}
NUMPY_DTYPES = {DT_F32: "<f4", DT_Q15: "<i2", DT_SPIKE: "u1", DT_S8: "i1", DT_S32: "<i4",
                DT_U16: "<u2", DT_U32: "<u4", DT_B1: "<u4"}

KIND_ACT, KIND_STATE = 0, 1
KINDS = {KIND_ACT: "activation", KIND_STATE: "state"}

# Layer types.
L_INPUT_Q15 = 1
L_INPUT_F32 = 2
L_FC_F32 = 3
L_FC_Q15 = 4
L_FC_SPIKE_Q15 = 5
L_LIF_F32 = 6
L_LIF_Q15 = 7
L_CUBALIF_F32 = 8
L_CUBALIF_Q15 = 9
L_LI_F32 = 10
L_LI_Q15 = 11
L_RELU_F32 = 12
L_RELU_Q15 = 13
L_ARGMAX = 14
L_SPIKE_COUNT = 15
L_DEQUANT = 16
L_SPIKE_F32 = 17
L_INPUT_S8 = 18         # format 1.2: TFLite/LiteRT int8
L_DEQUANT_S8 = 19
L_FC_S8 = 20
L_LIF_ADAPT_F32 = 21    # format 1.3: LIF with threshold adaptation, two inputs (x, x_th)
L_LIF_ADAPT_Q15 = 22
L_FC_B1_F32 = 32
L_CONV1D_B1_BITS = 33   # format 1.4: streaming binary conv1d (a window of past frames as state)
L_MST_FC_B1_F32 = 34    # format 1.4: MST-compressed binary fc
L_FC_B1_BITS = 35
L_PACK_SPIKES_B1 = 36
L_CONV1D_B1_F32 = 37    # format 1.4
L_CONV1D_B1_S32 = 38
L_CONV1D_B1_S8 = 39
L_SHIFTADD_FC_Q15 = 40  # format 1.4: power-of-two weights (shift-add)
L_BCQ_FC_Q15 = 41       # format 1.4: binary-coding-quantised weights (table look-up)
L_MST_FC_B1_BITS = 42   # format 1.4
L_PACK_SIGNS_B1 = 43    # format 1.4: s8 / q15 / f32 -> b1 (negative -> -1)
L_L2MU_Q15 = 48

# Layer types this loader supports (both loaders: firmware/model/eh_model.c SPECS and SPECS below).
# Note: lif_adapt_f32 (21) and lif_adapt_q15 (22) exist since format 1.3: LIF with input-weighted
# threshold adaptation (eh_lif_adapt_step_*), the only layers with a second input tensor (the
# layer record's u16 at offset 14, "input2"; 0 in every other layer). Format 1.4 adds the binary
# conv1d (streaming, a window state), MST-compressed binary fc, shift-add / BCQ dense layers and
# pack_signs_b1 (codes 33, 34, 37..43; docs/model-format.md).
LAYER_NAMES = {
    L_INPUT_Q15: "input_q15", L_INPUT_F32: "input_f32", L_FC_F32: "fc_f32", L_FC_Q15: "fc_q15",
    L_FC_SPIKE_Q15: "fc_spike_q15", L_LIF_F32: "lif_f32", L_LIF_Q15: "lif_q15",
    L_CUBALIF_F32: "cubalif_f32", L_CUBALIF_Q15: "cubalif_q15", L_LI_F32: "li_f32",
    L_LI_Q15: "li_q15", L_RELU_F32: "relu_f32", L_RELU_Q15: "relu_q15", L_ARGMAX: "argmax",
    L_SPIKE_COUNT: "spike_count", L_DEQUANT: "dequant", L_SPIKE_F32: "spike_f32",
    L_FC_B1_F32: "fc_b1_f32", L_FC_B1_BITS: "fc_b1_bits", L_PACK_SPIKES_B1: "pack_spikes_b1",
    L_L2MU_Q15: "l2mu_q15",
    L_INPUT_S8: "input_s8", L_DEQUANT_S8: "dequant_s8", L_FC_S8: "fc_s8",
    L_LIF_ADAPT_F32: "lif_adapt_f32", L_LIF_ADAPT_Q15: "lif_adapt_q15",
    L_CONV1D_B1_BITS: "conv1d_b1_bits", L_CONV1D_B1_F32: "conv1d_b1_f32", L_CONV1D_B1_S32: "conv1d_b1_s32",
    L_CONV1D_B1_S8: "conv1d_b1_s8", L_MST_FC_B1_F32: "mst_fc_b1_f32", L_MST_FC_B1_BITS: "mst_fc_b1_bits",
    L_SHIFTADD_FC_Q15: "shiftadd_fc_q15", L_BCQ_FC_Q15: "bcq_fc_q15", L_PACK_SIGNS_B1: "pack_signs_b1",
}
# Codes kept for kernel families that have not landed in the loader yet (rejected as unsupported).
RESERVED_LAYERS: dict = {}    # (33 conv1d_b1, 34 mst_fc_b1 and 40 shiftadd_fc landed in 1.4)
# The minor version a layer type needs (the writer writes the largest over the model's layers).
LAYER_MINOR = {L_L2MU_Q15: 1, L_INPUT_S8: 2, L_DEQUANT_S8: 2, L_FC_S8: 2,
               L_LIF_ADAPT_F32: 3, L_LIF_ADAPT_Q15: 3,
               **{c: 4 for c in (L_CONV1D_B1_BITS, L_CONV1D_B1_F32, L_CONV1D_B1_S32, L_CONV1D_B1_S8,
                                 L_MST_FC_B1_F32, L_MST_FC_B1_BITS, L_SHIFTADD_FC_Q15, L_BCQ_FC_Q15,
                                 L_PACK_SIGNS_B1)}}
MST_MAX_K = 32768       # EH_MST_MAX_K
BCQ_MAX_K = 65535       # eh_bcq_table_len's limit
BCQ_MAX_Q = 8
LAYER_CODES = {name: code for code, name in LAYER_NAMES.items()}

# Parameter kinds (what a parameter slot holds and how long it may be).
#   "norm": C entries, C >= 1 and n % C == 0 (per-channel, channel = index % C)
#   "w":    n_out * n_in entries
#   "bias": n_out entries or absent
#   "pn":   1 or n entries (shared or per neuron)
#   "leak": a Q15 leak, 1 or n entries: u16 decay in [0, 32768] or u8 shift in [1, 15]
#   "wb1":  n_out * ceil(n_in / 32) packed weight words
#   "vec":  exactly n_out entries
#   "l2mu_cell": the L2MU descriptor, exactly 66 u32 (edgehost/blob/l2mu.py)
#   "l2mu_data": the L2MU arrays, exactly the bytes the descriptor implies
#   "zp":   exactly 1 entry (an int8 zero point, check "s8": in [-128, 127])
#   "rq":   int8 requantisation: mult[C] (>= 0) then shift[C] (in [-31, 30]), C = 1 or n_out
#   "q8":   exactly 4 entries: x_offset in [-127, 128], y_offset, act_min in [-128, 127],
#           act_max in [act_min, 127]
#   "wconv": n_out * taps * ceil(n_in / 32) packed words (taps from the window state tensor)
#   "thrconv": n_out entries in [-taps n_in, taps n_in + 1]
#   "mst_tree": 4 n_out + 3 u32: n_roots, n_diff, parent[n_out], channel[n_out], node_of[n_out],
#           diff_start[n_out + 1] (checked as docs/model-format.md says)
#   "mst_root": n_roots * ceil(n_in / 32) words;  "mst_diff": n_diff u16 codes (absent iff 0)
#   "affine": 2 n_out finite f32: scale[n_out] then bias[n_out]
#   "pow2": n_out * n_in u8 power-of-two codes (bits 6..5 clear)
#   "bcq_alpha": n_out * q i8 exponents in [-24, 24], q in [1, 8];  "bcq_w": n_out * q * W words
# Each spec: (name, kind, element numpy dtype or None for leak, value check)
_F32 = "<f4"


class Spec:
    """What the loader requires of one layer type."""

    def __init__(self, name, in_dt, out_dt, out_kind, same_n, states, params, shift=False,
                 reset=False, leaks=0, n_out_one=False, scratch=False, in2_dt=(), shift_max=None,
                 window=False, max_n_in=0):
        self.name = name
        self.in_dt = in_dt          # tuple of allowed input dtypes
        self.out_dt = out_dt
        self.out_kind = out_kind
        self.same_n = same_n        # n_in == n_out
        self.states = states        # dtypes of the state slots, in order
        self.params = params        # list of (name, kind, numpy dtype, check)
        self.shift = shift          # uses the shift field (0..31)
        self.reset = reset          # uses the reset field (0 subtract, 1 zero)
        self.leaks = leaks          # number of leak parameters (leak bits 0..leaks-1)
        self.n_out_one = n_out_one
        self.scratch = scratch      # the last state slot is the kernel's scratch: an activation
                                    # tensor that lives only during this layer
        self.in2_dt = in2_dt        # dtypes of the second input (record offset 14), () = none
        self.shift_max = (31 if shift else 0) if shift_max is None else shift_max
        self.window = window        # state 0 is a u32 window of taps frames (conv1d_b1_*)
        self.max_n_in = max_n_in    # 0: no limit beyond the tensor's


SPECS = {
    L_INPUT_Q15: Spec("input_q15", (DT_F32,), DT_Q15, KIND_ACT, True, [],
                      [("offset", "norm", _F32, "finite"), ("mul", "norm", _F32, "finite")]),
    L_INPUT_F32: Spec("input_f32", (DT_F32,), DT_F32, KIND_ACT, True, [],
                      [("offset", "norm", _F32, "finite"), ("mul", "norm", _F32, "finite")]),
    L_FC_F32: Spec("fc_f32", (DT_F32,), DT_F32, KIND_ACT, False, [],
                   [("weight", "w", _F32, None), ("bias", "bias", _F32, None)]),
    L_FC_Q15: Spec("fc_q15", (DT_Q15,), DT_Q15, KIND_ACT, False, [],
                   [("weight", "w", "<i2", None), ("bias", "bias", "<i4", None)], shift=True),
    L_FC_SPIKE_Q15: Spec("fc_spike_q15", (DT_SPIKE,), DT_Q15, KIND_ACT, False, [],
                         [("weight", "w", "<i2", None), ("bias", "bias", "<i4", None)], shift=True),
    L_LIF_F32: Spec("lif_f32", (DT_F32,), DT_SPIKE, KIND_STATE, True, [DT_F32],
                    [("beta", "pn", _F32, "unit"), ("threshold", "pn", _F32, "pos")], reset=True),
    L_LIF_Q15: Spec("lif_q15", (DT_Q15,), DT_SPIKE, KIND_STATE, True, [DT_Q15],
                    [("leak", "leak", None, None), ("threshold", "pn", "<i2", "thr15")],
                    reset=True, leaks=1),
    L_CUBALIF_F32: Spec("cubalif_f32", (DT_F32,), DT_SPIKE, KIND_STATE, True, [DT_F32, DT_F32],
                        [("alpha", "pn", _F32, "unit"), ("beta", "pn", _F32, "unit"),
                         ("threshold", "pn", _F32, "pos")], reset=True),
    L_CUBALIF_Q15: Spec("cubalif_q15", (DT_Q15,), DT_SPIKE, KIND_STATE, True, [DT_Q15, DT_Q15],
                        [("syn_leak", "leak", None, None), ("mem_leak", "leak", None, None),
                         ("threshold", "pn", "<i2", "thr15")], reset=True, leaks=2),
    L_LI_F32: Spec("li_f32", (DT_F32,), DT_F32, KIND_STATE, True, [],
                   [("beta", "pn", _F32, "unit")]),
    L_LI_Q15: Spec("li_q15", (DT_Q15,), DT_Q15, KIND_STATE, True, [],
                   [("leak", "leak", None, None)], leaks=1),
    L_RELU_F32: Spec("relu_f32", (DT_F32,), DT_F32, KIND_ACT, True, [], []),
    L_RELU_Q15: Spec("relu_q15", (DT_Q15,), DT_Q15, KIND_ACT, True, [], []),
    L_ARGMAX: Spec("argmax", (DT_F32, DT_Q15, DT_S32), DT_U32, KIND_ACT, False, [], [],
                   n_out_one=True),
    L_SPIKE_COUNT: Spec("spike_count", (DT_SPIKE,), DT_U16, KIND_STATE, True, [], []),
    L_DEQUANT: Spec("dequant", (DT_Q15,), DT_F32, KIND_ACT, True, [], []),
    L_SPIKE_F32: Spec("spike_f32", (DT_SPIKE,), DT_F32, KIND_ACT, True, [], []),
    L_INPUT_S8: Spec("input_s8", (DT_F32,), DT_S8, KIND_ACT, True, [],
                     [("zero_point", "zp", "<i4", "s8")]),
    L_DEQUANT_S8: Spec("dequant_s8", (DT_S8,), DT_F32, KIND_ACT, True, [],
                       [("zero_point", "zp", "<i4", "s8")]),
    L_FC_S8: Spec("fc_s8", (DT_S8,), DT_S8, KIND_ACT, False, [],
                  [("weight", "w", "i1", None), ("bias", "bias", "<i4", None),
                   ("requant", "rq", "<i4", None), ("quant", "q8", "<i4", None)]),
    L_FC_B1_F32: Spec("fc_b1_f32", (DT_B1,), DT_F32, KIND_ACT, False, [],
                      [("weight", "wb1", "<u4", None), ("scale", "vec", _F32, "finite"),
                       ("bias", "bias", _F32, None)]),
    L_FC_B1_BITS: Spec("fc_b1_bits", (DT_B1,), DT_B1, KIND_ACT, False, [],
                       [("weight", "wb1", "<u4", None), ("threshold", "vec", "<i4", "thrb1")]),
    L_PACK_SPIKES_B1: Spec("pack_spikes_b1", (DT_SPIKE,), DT_B1, KIND_ACT, True, [], []),
    # two inputs: x (input) and x_th (input2, n_in elements, on the membrane's scale); states v, a
    L_LIF_ADAPT_F32: Spec("lif_adapt_f32", (DT_F32,), DT_SPIKE, KIND_STATE, True, [DT_F32, DT_F32],
                          [("beta", "pn", _F32, "unit"), ("beta_th", "pn", _F32, "unit"),
                           ("threshold", "pn", _F32, "pos")], reset=True, in2_dt=(DT_F32,)),
    L_LIF_ADAPT_Q15: Spec("lif_adapt_q15", (DT_Q15,), DT_SPIKE, KIND_STATE, True, [DT_Q15, DT_Q15],
                          [("mem_leak", "leak", None, None), ("th_leak", "leak", None, None),
                           ("threshold", "pn", "<i2", "thr15")], reset=True, leaks=2,
                          in2_dt=(DT_Q15,)),
    # format 1.4. conv1d_b1_*: streaming (one frame per step, stride 1); state 0 = the window of the
    # last taps frames, u32 [taps * W] (taps follows from its size), oldest first
    L_CONV1D_B1_BITS: Spec("conv1d_b1_bits", (DT_B1,), DT_B1, KIND_ACT, False, [DT_U32],
                           [("weight", "wconv", "<u4", None), ("threshold", "thrconv", "<i4", None)],
                           window=True),
    L_CONV1D_B1_F32: Spec("conv1d_b1_f32", (DT_B1,), DT_F32, KIND_ACT, False, [DT_U32],
                          [("weight", "wconv", "<u4", None), ("scale", "vec", _F32, "finite"),
                           ("bias", "bias", _F32, None)], window=True),
    L_CONV1D_B1_S32: Spec("conv1d_b1_s32", (DT_B1,), DT_S32, KIND_ACT, False, [DT_U32],
                          [("weight", "wconv", "<u4", None)], window=True),
    L_CONV1D_B1_S8: Spec("conv1d_b1_s8", (DT_B1,), DT_S8, KIND_ACT, False, [DT_U32],
                         [("weight", "wconv", "<u4", None), ("mult", "vec", "<i4", None),
                          ("bias", "bias", "<i4", None)], shift=True, shift_max=62, window=True),
    # mst_fc_b1_*: state 0 = s32 scratch [n_out + ceil(n_in / 2)]: the dot products in node order,
    # then the kernel's 2 n_in bytes of expanded input
    L_MST_FC_B1_F32: Spec("mst_fc_b1_f32", (DT_B1,), DT_F32, KIND_ACT, False, [DT_S32],
                          [("tree", "mst_tree", "<u4", None), ("root_w", "mst_root", "<u4", None),
                           ("diff", "mst_diff", "<u2", None), ("affine", "affine", _F32, "finite")],
                          scratch=True, max_n_in=MST_MAX_K),
    L_MST_FC_B1_BITS: Spec("mst_fc_b1_bits", (DT_B1,), DT_B1, KIND_ACT, False, [DT_S32],
                           [("tree", "mst_tree", "<u4", None), ("root_w", "mst_root", "<u4", None),
                            ("diff", "mst_diff", "<u2", None), ("threshold", "vec", "<i4", "thrb1")],
                           scratch=True, max_n_in=MST_MAX_K),
    L_SHIFTADD_FC_Q15: Spec("shiftadd_fc_q15", (DT_Q15,), DT_Q15, KIND_ACT, False, [],
                            [("weight", "pow2", "u1", None), ("bias", "bias", "<i4", None)], shift=True),
    # bcq_fc_q15: state 0 = the look-up tables, s32 scratch [256 ceil(n_in / 8)]
    L_BCQ_FC_Q15: Spec("bcq_fc_q15", (DT_Q15,), DT_Q15, KIND_ACT, False, [DT_S32],
                       [("alpha_exp", "bcq_alpha", "i1", None), ("weight", "bcq_w", "<u4", None),
                        ("bias", "bias", "<i4", None)], shift=True, shift_max=62, scratch=True,
                       max_n_in=BCQ_MAX_K),
    L_PACK_SIGNS_B1: Spec("pack_signs_b1", (DT_S8, DT_Q15, DT_F32), DT_B1, KIND_ACT, True, [], []),
    # state 0: q15 membranes and synaptic currents, state 1: spikes, state 2: q15 scratch;
    # the output (q15 [n_o], a state tensor) is the readout's membrane
    L_L2MU_Q15: Spec("l2mu_q15", (DT_Q15,), DT_Q15, KIND_STATE, False, [DT_Q15, DT_SPIKE, DT_Q15],
                     [("cell", "l2mu_cell", "<u4", None), ("data", "l2mu_data", "u1", None)],
                     scratch=True),
}


def scratch_elements(code: int, n_in: int, n_out: int) -> int:
    """Elements of the scratch tensor (the last state slot) of the layer types with a fixed-size
    scratch (mst_fc_b1_*: the dot products; bcq_fc_q15: the look-up tables). l2mu_q15's
    comes from its descriptor (edgehost.blob.l2mu.state_sizes)."""
    if code in (L_MST_FC_B1_F32, L_MST_FC_B1_BITS):     # dot products, then 2 n_in bytes
        return n_out + (n_in + 1) // 2
    if code == L_BCQ_FC_Q15:
        return 256 * ((n_in + 7) // 8)
    raise KeyError(code)
