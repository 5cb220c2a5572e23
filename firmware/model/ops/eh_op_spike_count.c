/* spike_count (15): spike[n] -> u16[n], a state tensor that accumulates (eh_spike_count_u16). */
#include "eh_basic.h"
#include "eh_op.h"

static eh_status step_spike_count(eh_model *m, const eh_args *a)
{
    (void)m;
    return eh_spike_count_u16(a->n_in, (const uint8_t *)a->x, (uint16_t *)a->y);
}

const eh_op eh_op_spike_count[1] = {
    {.code = 15, .name = "spike_count", .in_dt = {DT_SPK}, .out_dt = DT_U16, .out_state = 1, .same_n = 1,
     .step = step_spike_count},
};
