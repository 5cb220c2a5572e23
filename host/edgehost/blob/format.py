"""Constants of the `.ehm` model blob, format 1.5 (docs/model-format.md is the specification).

Everything here has a C twin in firmware/model/ (eh_model.h and the operators' table); the two
must agree. The layer types are not listed here: each operator module of `edgehost.ops` holds its
codes and `Spec`s, and the per-type tables below (`SPECS`, `LAYER_NAMES`, `LAYER_CODES`,
`LAYER_MINOR` and one `L_<NAME>` constant per type, e.g. `L_FC_Q15`) are derived from the
operator table `edgehost.ops.TABLE` on first use.
"""
from __future__ import annotations

MAGIC = b"EHMB"
VERSION_MAJOR = 1
VERSION_MINOR = 6       # 1.1 added the l2mu_q15 layer, 1.2 the int8 layers, 1.3 lif_adapt_*,
                        # 1.4 conv1d_b1_*, mst_fc_b1_*, shiftadd_fc_q15, bcq_fc_q15, pack_signs_b1,
                        # 1.5 add_*, delay, same-step resets and v_reset (graphs),
                        # 1.6 conv2d_*, sumpool2d_*, avgpool2d_*, binary conv2d, int8 conv1d, the reset
                        # values 4 (none) and 5 (snnTorch's same step) of lif_* / cubalif_*;
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

# Codes kept for kernel families that have not landed in the loader yet (rejected as unsupported).
RESERVED_LAYERS: dict = {}    # (33 conv1d_b1, 34 mst_fc_b1 and 40 shiftadd_fc landed in 1.4)
MST_MAX_K = 32768       # EH_MST_MAX_K
BCQ_MAX_K = 65535       # eh_bcq_table_len's limit
BCQ_MAX_Q = 8
ALL_DTYPES = tuple(DTYPES)

# The layer record's reset byte: bit 0 the mechanism (0 subtract the threshold, 1 reset to a value:
# zero or v_reset), bit 1 the timing (0 at the start of the next step, 1 in the step that spiked;
# format 1.5, lif_* and cubalif_* only).
RESET_ZERO = 1
RESET_SAME_STEP = 2
# Format 1.6 (lif_* and cubalif_*): two values that are not bit combinations.
RESET_NONE = 4          # no reset (snnTorch reset_mechanism="none")
RESET_SUBTRACT_NOW = 5  # subtract in the step that spiked, snnTorch's reset_delay=False arithmetic

# Parameter kinds (what a parameter slot holds and how long it may be). The generic ones are
# checked by edgehost.ops.Op; an operator module checks its own kinds (edgehost/ops/<op>.py).
#   "norm": C entries, C >= 1 and n % C == 0 (per-channel, channel = index % C)
#   "w":    n_out * n_in entries
#   "bias": n_out entries or absent
#   "pn":   1 or n entries (shared or per neuron)
#   "pn_opt": as "pn", or absent (v_reset, format 1.5)
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
F32 = "<f4"


class Spec:
    """What the loader requires of one layer type (the generic checks of edgehost.blob.read)."""

    def __init__(self, name, in_dt, out_dt, out_kind, same_n, states, params, shift=False,
                 reset=False, leaks=0, n_out_one=False, scratch=False, in2_dt=(), shift_max=None,
                 window=False, max_n_in=0, reset_bits=None, read_ahead=False, reset_max=None):
        self.name = name
        self.in_dt = in_dt          # tuple of allowed input dtypes
        self.out_dt = out_dt        # the output dtype; None: the input's (delay)
        self.out_kind = out_kind
        self.same_n = same_n        # n_in == n_out
        self.states = states        # dtypes of the state slots, in order
        self.params = params        # list of (name, kind, numpy dtype, check)
        self.shift = shift          # uses the shift field (0..31)
        self.reset = reset          # uses the reset field (bit 0: 0 subtract, 1 zero / v_reset)
        self.reset_bits = (1 if reset else 0) if reset_bits is None else reset_bits  # allowed bits
        self.reset_max = self.reset_bits if reset_max is None else reset_max      # largest valid value
        self.leaks = leaks          # number of leak parameters (leak bits 0..leaks-1)
        self.n_out_one = n_out_one
        self.scratch = scratch      # the last state slot is the kernel's scratch: an activation
                                    # tensor that lives only during this layer
        self.in2_dt = in2_dt        # dtypes of the second input (record offset 14), () = none
        self.shift_max = (31 if shift else 0) if shift_max is None else shift_max
        self.window = window        # state 0 is a u32 window of taps frames (conv1d_b1_*)
        self.max_n_in = max_n_in    # 0: no limit beyond the tensor's
        self.read_ahead = read_ahead  # its output may be read by layers before it (delay, 1.5)


def scratch_elements(code: int, n_in: int, n_out: int) -> int:
    """Elements of the scratch tensor (the last state slot) of the layer types with a fixed-size
    scratch (mst_fc_b1_*: the dot products; bcq_fc_q15: the look-up tables). l2mu_q15's
    comes from its descriptor (edgehost.blob.l2mu.state_sizes)."""
    from .. import ops
    return ops.TABLE[code].scratch_elements(n_in, n_out)


_DERIVED = ("SPECS", "LAYER_NAMES", "LAYER_CODES", "LAYER_MINOR")


def __getattr__(name: str):
    """SPECS, LAYER_NAMES, LAYER_CODES, LAYER_MINOR and the L_<NAME> codes, from the operator
    table (imported on first use: the operator modules import this module)."""
    if name in _DERIVED or name.startswith("L_"):
        from .. import ops
        g = globals()
        for k, v in ops.format_tables().items():
            g.setdefault(k, v)
        if name in g:
            return g[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
