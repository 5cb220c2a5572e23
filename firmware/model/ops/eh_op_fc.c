/*
 * Fully connected layers: fc_f32 (3), fc_q15 (4), fc_spike_q15 (5), fc_spike_t_q15 (57, format 1.6).
 *   weight [n_out n_in] (f32 / i16), bias [n_out] (f32 / i32) or absent; q15: output shift 0..31.
 *   fc_spike_t_q15: fc_spike_q15 with the weights input-major, i16 [n_in n_out] (the transposed
 *   matrix; the same entry count, checks and messages), eh_fc_spike_t_q15: each input spike adds
 *   one contiguous row, the result bit for bit fc_spike_q15's.
 */
#include "eh_basic.h"
#include "eh_op.h"

static eh_status step_fc_f32(eh_model *m, const eh_args *a)
{
    return eh_fc_f32(a->n_in, a->n_out, (const float *)a->x, (const float *)param(m, a->r, 0), (const float *)param(m, a->r, 1),
                     (float *)a->y);
}

static eh_status step_fc_q15(eh_model *m, const eh_args *a)
{
    return eh_fc_q15(a->n_in, a->n_out, (const int16_t *)a->x, (const int16_t *)param(m, a->r, 0),
                     (const int32_t *)param(m, a->r, 1), rd32(a->r + 24), (int16_t *)a->y);
}

static eh_status step_fc_spike_q15(eh_model *m, const eh_args *a)
{
    return eh_fc_spike_q15(a->n_in, a->n_out, (const uint8_t *)a->x, (const int16_t *)param(m, a->r, 0),
                           (const int32_t *)param(m, a->r, 1), rd32(a->r + 24), (int16_t *)a->y);
}

static eh_status step_fc_spike_t_q15(eh_model *m, const eh_args *a)
{
    return eh_fc_spike_t_q15(a->n_in, a->n_out, (const uint8_t *)a->x, (const int16_t *)param(m, a->r, 0),
                             (const int32_t *)param(m, a->r, 1), rd32(a->r + 24), (int16_t *)a->y);
}

const eh_op eh_op_fc[4] = {
    {.code = 3, .name = "fc_f32", .in_dt = {DT_F32}, .out_dt = DT_F32, .n_params = 2,
     .p = {{P_W, 4, C_NONE, ABS_NO, "weight"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}}, .step = step_fc_f32},
    {.code = 4, .name = "fc_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .shift_max = 31, .n_params = 2,
     .p = {{P_W, 2, C_NONE, ABS_NO, "weight"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}}, .step = step_fc_q15},
    {.code = 5, .name = "fc_spike_q15", .in_dt = {DT_SPK}, .out_dt = DT_Q15, .shift_max = 31, .n_params = 2,
     .p = {{P_W, 2, C_NONE, ABS_NO, "weight"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}}, .step = step_fc_spike_q15},
    {.code = 57, .name = "fc_spike_t_q15", .in_dt = {DT_SPK}, .out_dt = DT_Q15, .shift_max = 31, .n_params = 2,
     .p = {{P_W, 2, C_NONE, ABS_NO, "weight"}, {P_BIAS, 4, C_NONE, ABS_OK, "bias"}}, .step = step_fc_spike_t_q15},
};
