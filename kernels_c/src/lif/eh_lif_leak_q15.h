/* Private: validation and application of a Q15 leak, shared by the LIF family. */
#ifndef EH_LIF_LEAK_Q15_H
#define EH_LIF_LEAK_Q15_H

#include "eh_internal.h"
#include "eh_lif.h"

static inline eh_status eh_leak_q15_check(const eh_leak_q15 *leak, uint32_t n)
{
    uint32_t k;
    if (leak == 0) return EH_ERR_NULL;
    if ((leak->decay == 0) == (leak->shift == 0)) return EH_ERR_ARG;
    if (!eh_len_ok(leak->len, n)) return EH_ERR_SIZE;
    for (k = 0; k < leak->len; k++) {
        if (leak->decay != 0 && leak->decay[k] > EH_Q15_ONE) return EH_ERR_RANGE;
        if (leak->shift != 0 && (leak->shift[k] < 1u || leak->shift[k] > 15u)) return EH_ERR_RANGE;
    }
    return EH_OK;
}

static inline int32_t eh_leak_q15_apply(const eh_leak_q15 *leak, uint32_t k, int32_t v)
{
    uint32_t j = leak->len == 1u ? 0u : k;
    if (leak->decay != 0) return eh_mul_q15(v, (int32_t)leak->decay[j]);
    return v - (v >> leak->shift[j]);
}

static inline eh_status eh_thr_q15_check(const int16_t *thr, uint32_t thr_len, uint32_t n)
{
    uint32_t k;
    if (thr == 0) return EH_ERR_NULL;
    if (!eh_len_ok(thr_len, n)) return EH_ERR_SIZE;
    for (k = 0; k < thr_len; k++)
        if (thr[k] < 1) return EH_ERR_RANGE;
    return EH_OK;
}

static inline eh_status eh_reset_check(eh_reset reset)
{
    return (reset == EH_RESET_SUBTRACT || reset == EH_RESET_ZERO) ? EH_OK : EH_ERR_ARG;
}

/* LIF and CuBa-LIF also take EH_RESET_NONE and EH_RESET_SUBTRACT_NOW (eh_lif.h). */
static inline eh_status eh_reset_check_lif(eh_reset reset)
{
    return ((uint32_t)reset <= (uint32_t)EH_RESET_SUBTRACT_NOW) ? EH_OK : EH_ERR_ARG;
}

#endif
