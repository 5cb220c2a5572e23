"""Numpy reference of every kernel: the twin of `edgehost.kernels`, written from the maths.

Every function here has a C twin of the same name in `edgehost.kernels`.
"""
from .lif import (  # noqa: F401
    cubalif_step_f32, cubalif_step_q15, lif_adapt_step_f32, lif_adapt_step_q15, lif_step_f32,
    lif_step_q15,
)
from .basic import (argmax_f32, argmax_q15, argmax_s32, dequantize_q15_f32, fc_f32, fc_q15,  # noqa: F401
                    fc_s8, fc_spike_q15, fc_spike_t_q15, li_step_f32, li_step_q15, quantize_f32_q15,
                    relu_f32, relu_q15, spike_count_u16)
from .basic import conv1d_s8, conv1d_s8_out_len  # noqa: F401
from .shiftadd import bcq_fc_q15, bcq_table_len, bcq_tables_q15, shiftadd_fc_q15  # noqa: F401
from .binary import (conv1d_b1_bits, conv1d_b1_f32, conv1d_b1_out_len, conv1d_b1_s32,  # noqa: F401
                     conv1d_b1_s8, fc_b1_bits, fc_b1_f32, fc_b1_s32, fc_b1_s8, fold_bn_sign,
                     pack_bits, pack_signs_b1, pack_spikes_b1, unpack_bits)
from .mst import MstLayout, mst_build, mst_check_b1, mst_cost, mst_fc_b1, mst_fc_b1_unchecked  # noqa: F401
from .lmu import (l2mu_readout_f32, l2mu_readout_q15, l2mu_run_f32, l2mu_run_q15,  # noqa: F401
                  l2mu_state_f32, l2mu_state_q15, l2mu_step_f32, l2mu_step_q15, lmu_delay_decoder,
                  lmu_matrices, lmu_quantize_q15, lmu_step_f32, lmu_step_q15, lmu_zoh, quantize_q15,
                  tanh_f32)
from .lif import cubalif_check_q15, cubalif_step_q15_unchecked, lif_check_q15, lif_step_q15_unchecked  # noqa: F401  (prepare once, step often)
from .lmu import l2mu_check_q15, l2mu_readout_check_q15, l2mu_readout_q15_unchecked, l2mu_step_q15_unchecked  # noqa: F401  (prepare once, step often)
from .conv2d import conv2d_f32, conv2d_out_size, conv2d_padding, conv2d_q15, conv2d_spike_q15  # noqa: F401
from .conv2d import (avgpool2d_f32, avgpool2d_q15, avgpool2d_spike_q15, pool2d_out_size,  # noqa: F401
                     pool2d_padding, sumpool2d_f32, sumpool2d_q15, sumpool2d_spike_q15)
from .conv2d_b1 import (conv2d_b1_bits, conv2d_b1_fold_bn_sign, conv2d_b1_pack_input,  # noqa: F401
                        conv2d_b1_pack_weights, conv2d_b1_s32)
from .conv2d import avgpool2d_s8, conv2d_s8, maxpool2d_s8  # noqa: F401  (int8, channel-last)
from .conv2d_spike_sat import conv2d_spike_sat_q15, conv2d_spike_sat_weights  # noqa: F401
