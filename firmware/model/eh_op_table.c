/*
 * The operators of this build by layer type code (docs/model-format.md, "Layer types"): each
 * operator file (ops/eh_op_*.c) exports one registration, an array of the layer types it
 * implements; a code not listed here is "unknown" to the loader. The code of each entry is the
 * index it is listed at (tests/c/test_model_ops.c checks it).
 *
 * Each operator's lines are one selection unit: a build with the CMake list EH_OPS (edgehost build
 * --model / a board's "ops", docs/boards.md) defines EH_OPS_SELECTED and EH_OP_WITH_<OP> for the
 * operators it keeps, and the others' codes stay NULL ("not built into this firmware"). The host
 * reads this file for the code -> operator map (host/edgehost/build.py, op_table): keep one entry
 * per line, `[code] = &eh_op_<op>[i],` then a comment that starts with the layer type's name.
 */
#include "eh_op.h"

/* the registrations (ops/eh_op_<op>.c) */
extern const eh_op eh_op_convert[], eh_op_fc[], eh_op_lif[], eh_op_cubalif[], eh_op_li[], eh_op_relu[], eh_op_argmax[],
    eh_op_spike_count[], eh_op_fc_s8[], eh_op_lif_adapt[], eh_op_add[], eh_op_delay[], eh_op_fc_b1[], eh_op_conv1d_b1[],
    eh_op_mst_fc_b1[], eh_op_pack_b1[], eh_op_shiftadd_fc[], eh_op_bcq_fc[], eh_op_l2mu[];
extern const eh_op eh_op_conv1d_s8[]; /* format 1.6 */
extern const eh_op eh_op_conv2d[], eh_op_pool2d[]; /* format 1.6 */
extern const eh_op eh_op_conv2d_s8[], eh_op_pool2d_s8[]; /* format 1.6: int8 channel-last 2-D CNNs */
extern const eh_op eh_op_thermometer_b1[], eh_op_conv1d_seq[], eh_op_lmu[]; /* format 1.6: the HAR baselines */

const eh_op *const eh_op_table[EH_OP_CODES] = {
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_CONVERT)
    [1] = &eh_op_convert[0],        /* input_q15 */
    [2] = &eh_op_convert[1],        /* input_f32 */
    [16] = &eh_op_convert[2],       /* dequant */
    [17] = &eh_op_convert[3],       /* spike_f32 */
    [18] = &eh_op_convert[4],       /* input_s8 (1.2) */
    [19] = &eh_op_convert[5],       /* dequant_s8 (1.2) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_FC)
    [3] = &eh_op_fc[0],             /* fc_f32 */
    [4] = &eh_op_fc[1],             /* fc_q15 */
    [5] = &eh_op_fc[2],             /* fc_spike_q15 */
    [57] = &eh_op_fc[3],            /* fc_spike_t_q15 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_LIF)
    [6] = &eh_op_lif[0],            /* lif_f32 */
    [7] = &eh_op_lif[1],            /* lif_q15 */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_CUBALIF)
    [8] = &eh_op_cubalif[0],        /* cubalif_f32 */
    [9] = &eh_op_cubalif[1],        /* cubalif_q15 */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_LI)
    [10] = &eh_op_li[0],            /* li_f32 */
    [11] = &eh_op_li[1],            /* li_q15 */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_RELU)
    [12] = &eh_op_relu[0],          /* relu_f32 */
    [13] = &eh_op_relu[1],          /* relu_q15 */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_ARGMAX)
    [14] = &eh_op_argmax[0],        /* argmax */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_SPIKE_COUNT)
    [15] = &eh_op_spike_count[0],   /* spike_count */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_FC_S8)
    [20] = &eh_op_fc_s8[0],         /* fc_s8 (1.2) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_LIF_ADAPT)
    [21] = &eh_op_lif_adapt[0],     /* lif_adapt_f32 (1.3) */
    [22] = &eh_op_lif_adapt[1],     /* lif_adapt_q15 (1.3) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_ADD)
    [23] = &eh_op_add[0],           /* add_f32 (1.5) */
    [24] = &eh_op_add[1],           /* add_q15 (1.5) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_DELAY)
    [25] = &eh_op_delay[0],         /* delay (1.5) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_CONV2D)
    [26] = &eh_op_conv2d[0],        /* conv2d_f32 (1.6) */
    [27] = &eh_op_conv2d[1],        /* conv2d_q15 (1.6) */
    [28] = &eh_op_conv2d[2],        /* conv2d_spike_q15 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_POOL2D)
    [29] = &eh_op_pool2d[0],        /* sumpool2d_f32 (1.6) */
    [30] = &eh_op_pool2d[1],        /* sumpool2d_q15 (1.6) */
    [31] = &eh_op_pool2d[2],        /* sumpool2d_spike_q15 (1.6) */
    [49] = &eh_op_pool2d[3],        /* avgpool2d_f32 (1.6) */
    [50] = &eh_op_pool2d[4],        /* avgpool2d_q15 (1.6) */
    [51] = &eh_op_pool2d[5],        /* avgpool2d_spike_q15 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_CONV2D_S8)
    [53] = &eh_op_conv2d_s8[0],     /* conv2d_s8 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_POOL2D_S8)
    [54] = &eh_op_pool2d_s8[0],     /* maxpool2d_s8 (1.6) */
    [55] = &eh_op_pool2d_s8[1],     /* avgpool2d_s8 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_FC_B1)
    [32] = &eh_op_fc_b1[0],         /* fc_b1_f32 */
    [35] = &eh_op_fc_b1[1],         /* fc_b1_bits */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_CONV1D_B1)
    [33] = &eh_op_conv1d_b1[0],     /* conv1d_b1_bits (1.4) */
    [37] = &eh_op_conv1d_b1[1],     /* conv1d_b1_f32 (1.4) */
    [38] = &eh_op_conv1d_b1[2],     /* conv1d_b1_s32 (1.4) */
    [39] = &eh_op_conv1d_b1[3],     /* conv1d_b1_s8 (1.4) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_MST_FC_B1)
    [34] = &eh_op_mst_fc_b1[0],     /* mst_fc_b1_f32 (1.4) */
    [42] = &eh_op_mst_fc_b1[1],     /* mst_fc_b1_bits (1.4) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_PACK_B1)
    [36] = &eh_op_pack_b1[0],       /* pack_spikes_b1 */
    [43] = &eh_op_pack_b1[1],       /* pack_signs_b1 (1.4) */
    [60] = &eh_op_pack_b1[2],       /* unpack_spikes_b1 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_SHIFTADD_FC)
    [40] = &eh_op_shiftadd_fc[0],   /* shiftadd_fc_q15 (1.4) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_BCQ_FC)
    [41] = &eh_op_bcq_fc[0],        /* bcq_fc_q15 (1.4) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_THERMOMETER_B1)
    [44] = &eh_op_thermometer_b1[0],/* thermometer_b1 (1.6) */
    [47] = &eh_op_thermometer_b1[1],/* shiftnorm_q15 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_CONV1D_SEQ)
    [45] = &eh_op_conv1d_seq[0],    /* conv1d_b1_seq_bits (1.6) */
    [46] = &eh_op_conv1d_seq[1],    /* shiftadd_conv1d_q15 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_L2MU)
    [48] = &eh_op_l2mu[0],          /* l2mu_q15 (1.1) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_LMU)
    [52] = &eh_op_lmu[0],           /* lmu_f32 (1.6) */
#endif
#if !defined(EH_OPS_SELECTED) || defined(EH_OP_WITH_CONV1D_S8)
    [56] = &eh_op_conv1d_s8[0],     /* conv1d_s8 (1.6) */
#endif
};
