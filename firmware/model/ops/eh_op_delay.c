/*
 * The delay of a recurrent edge (format 1.5), delay (25): any dtype [n] -> the same dtype [n], a
 * state tensor; the step copies the input into the output. Its output (out_early) may be read by
 * layers anywhere in the schedule: before the delay they read the previous step's value (zero
 * after a reset). The converter puts every delay after the layers that read it.
 */
#include "eh_op.h"

static eh_status step_delay(eh_model *m, const eh_args *a)
{
    memmove(a->y, a->x, t_size(m, rd16(a->r + 4)));
    return EH_OK;
}

const eh_op eh_op_delay[1] = {
    {.code = 25, .name = "delay", .out_dt = 0 /* the input's */, .out_state = 1, .out_early = 1, .same_n = 1, .step = step_delay},
};
