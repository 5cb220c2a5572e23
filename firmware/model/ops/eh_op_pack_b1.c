/*
 * Packing to b1 (a set bit is the value -1): pack_spikes_b1 (36, eh_pack_spikes_b1: a spike is
 * -1), pack_signs_b1 (43, format 1.4: bit = (v < 0); eh_pack_signs_b1 for s8, here for q15 and
 * f32, NaN is +1); unpack_spikes_b1 (60, format 1.6: b1 -> spike, a set bit is a spike; the
 * model input of event data, 1 bit per pixel and polarity on the wire).
 */
#include "eh_binary.h"
#include "eh_op.h"

static eh_status step_pack_spikes_b1(eh_model *m, const eh_args *a)
{
    (void)m;
    return eh_pack_spikes_b1(a->n_in, (const uint8_t *)a->x, (uint32_t *)a->y);
}

static eh_status step_pack_signs_b1(eh_model *m, const eh_args *a)
{
    uint32_t dt = t_dt(m, rd16(a->r + 4)), n_in = a->n_in;
    uint32_t *yw = (uint32_t *)a->y;
    if (dt == EH_MODEL_DT_S8) return eh_pack_signs_b1(n_in, (const int8_t *)a->x, yw);
    /* q15 / f32: bit = (v < 0), padding bits 0 (NaN is not < 0: +1) */
    memset(yw, 0, 4u * ((n_in + 31u) / 32u));
    for (uint32_t i = 0; i < n_in; i++) {
        int neg = dt == DT_Q15 ? ((const int16_t *)a->x)[i] < 0 : ((const float *)a->x)[i] < 0.0f;
        if (neg) yw[i >> 5] |= 1u << (i & 31u);
    }
    return EH_OK;
}

static eh_status step_unpack_spikes_b1(eh_model *m, const eh_args *a)
{
    const uint32_t *xw = (const uint32_t *)a->x;
    uint8_t *y = (uint8_t *)a->y;
    (void)m;
    for (uint32_t i = 0; i < a->n_in; i++) y[i] = (uint8_t)((xw[i >> 5] >> (i & 31u)) & 1u);
    return EH_OK;
}

const eh_op eh_op_pack_b1[3] = {
    {.code = 36, .name = "pack_spikes_b1", .in_dt = {DT_SPK}, .out_dt = DT_B1, .same_n = 1, .step = step_pack_spikes_b1},
    {.code = 43, .name = "pack_signs_b1", .in_dt = {DT_S8, DT_Q15, DT_F32}, .out_dt = DT_B1, .same_n = 1,
     .step = step_pack_signs_b1},
    {.code = 60, .name = "unpack_spikes_b1", .in_dt = {DT_B1}, .out_dt = DT_SPK, .same_n = 1, .step = step_unpack_spikes_b1},
};
