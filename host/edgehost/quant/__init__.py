"""Host-side quantisers: float -> Q15/Q7 (per tensor or per channel, power-of-two or real
scales), power-of-two weights (eh_shiftadd_fc_q15) and binary-coding quantisation
(eh_bcq_fc_q15), each with an error report (max |err|, RMS, SQNR)."""
from .bcq import (BcqQuant, fit_bcq, greedy_init, pack_bcq_bits, round_alphas_pow2,  # noqa: F401
                  unpack_bcq_bits)
from .fixed import FixedQuant, quantize_fixed  # noqa: F401
from .pow2 import Pow2Quant, decode_pow2, encode_pow2, quantize_pow2  # noqa: F401
from .report import ErrorReport  # noqa: F401
