/*
 * Current-based LIF neurons: cubalif_f32 (8), cubalif_q15 (9) (eh_cubalif_step_*); state 0 the
 * synaptic current, state 1 the membrane. The reset options (format 1.5: same-step timing,
 * v_reset as param 3; format 1.6: resets 4 none and 5 snnTorch's same step) are those of
 * eh_op_lif.c.
 */
#include "eh_lif.h"
#include "eh_op.h"

/* The kernel's mode of a reset byte (0..5; 2 and 3 run subtract / zero on cleared spikes, then
 * the same-step reset) and whether it is a format-1.5 same-step reset. */
static eh_reset cuba_mode(uint32_t reset)
{
    return reset == 4u ? EH_RESET_NONE : reset == 5u ? EH_RESET_SUBTRACT_NOW : (reset & 1u) ? EH_RESET_ZERO : EH_RESET_SUBTRACT;
}
#define CUBA_SAME(reset) ((reset) == 2u || (reset) == 3u)

static eh_status step_cubalif_f32(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    uint32_t reset = rd8(r + 1);
    eh_status st;
    if (CUBA_SAME(reset)) memset(a->y, 0, a->n_in);
    st = eh_cubalif_step_f32(a->n_in, (const float *)a->x, (float *)a->s[0], (float *)a->s[1], (uint8_t *)a->y,
                             (const float *)param(m, r, 0), param_len(r, 0) / 4u, (const float *)param(m, r, 1),
                             param_len(r, 1) / 4u, (const float *)param(m, r, 2), param_len(r, 2) / 4u,
                             cuba_mode(reset));
    if (st == EH_OK && CUBA_SAME(reset)) eh_op_lif_reset_f32(m, r, a->n_in, (float *)a->s[1], (const uint8_t *)a->y, 2);
    return st;
}

static eh_status step_cubalif_q15(eh_model *m, const eh_args *a)
{
    const uint8_t *r = a->r;
    uint32_t reset = rd8(r + 1), leak_bits = rd8(r + 2);
    eh_leak_q15 la, lb;
    eh_status st;
    leak_of(m, r, 0, leak_bits & 1u, &la);
    leak_of(m, r, 1, (leak_bits >> 1) & 1u, &lb);
    if (CUBA_SAME(reset)) memset(a->y, 0, a->n_in);
    st = eh_cubalif_step_q15(a->n_in, (const int16_t *)a->x, (int16_t *)a->s[0], (int16_t *)a->s[1], (uint8_t *)a->y, &la, &lb,
                             (const int16_t *)param(m, r, 2), param_len(r, 2) / 2u, cuba_mode(reset));
    if (st == EH_OK && CUBA_SAME(reset)) eh_op_lif_reset_q15(m, r, a->n_in, (int16_t *)a->s[1], (const uint8_t *)a->y, 2);
    return st;
}

const eh_op eh_op_cubalif[2] = {
    {.code = 8, .name = "cubalif_f32", .in_dt = {DT_F32}, .out_dt = DT_SPK, .out_state = 1, .same_n = 1, .n_states = 2,
     .state_dt = DT_F32, .reset_max = 5, .n_params = 4,
     .p = {{P_PN, 4, C_UNIT, ABS_NO, "alpha"}, {P_PN, 4, C_UNIT, ABS_NO, "beta"}, {P_PN, 4, C_POS, ABS_NO, "threshold"},
           {P_PN, 4, C_FINITE, ABS_OK, "v_reset"}},
     .check_param = eh_op_lif_check_v_reset, .step = step_cubalif_f32},
    {.code = 9, .name = "cubalif_q15", .in_dt = {DT_Q15}, .out_dt = DT_SPK, .out_state = 1, .same_n = 1, .n_states = 2,
     .state_dt = DT_Q15, .reset_max = 5, .leaks = 2, .n_params = 4,
     .p = {{P_LEAK, 0, C_NONE, ABS_NO, "syn_leak"}, {P_LEAK, 0, C_NONE, ABS_NO, "mem_leak"}, {P_PN, 2, C_THR15, ABS_NO, "threshold"},
           {P_PN, 2, C_NONE, ABS_OK, "v_reset"}},
     .check_param = eh_op_lif_check_v_reset, .step = step_cubalif_q15},
};
