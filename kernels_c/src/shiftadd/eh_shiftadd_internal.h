/* Private helpers of the shiftadd family. */
#ifndef EH_SHIFTADD_INTERNAL_H
#define EH_SHIFTADD_INTERNAL_H

#include "../eh_internal.h"

#define EH_BCQ_MAX_IN 65535u
#define EH_BCQ_MAX_Q 8u
#define EH_BCQ_EXP_MAX 24

static inline eh_status eh_sa_size_check(uint32_t n_in, uint32_t n_out)
{
    if (n_in == 0u || n_out == 0u) return EH_ERR_SIZE;
    if (n_out > UINT32_MAX / n_in) return EH_ERR_SIZE;
    return EH_OK;
}

/* acc + t and acc - t saturated to int32 (QADD / QSUB where the core has them). */
#if defined(__ARM_FEATURE_DSP)
static inline int32_t eh_qadd32(int32_t a, int32_t t) { return __builtin_arm_qadd(a, t); }
static inline int32_t eh_qsub32(int32_t a, int32_t t) { return __builtin_arm_qsub(a, t); }
#else
static inline int32_t eh_qadd32(int32_t a, int32_t t) { return eh_sat32((int64_t)a + t); }
static inline int32_t eh_qsub32(int32_t a, int32_t t) { return eh_sat32((int64_t)a - t); }
#endif

#endif
