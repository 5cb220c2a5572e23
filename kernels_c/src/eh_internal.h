/* Private helpers shared by the kernel sources. Not part of the public API. */
#ifndef EH_INTERNAL_H
#define EH_INTERNAL_H

#include <stdint.h>
#include "eh_common.h"

#define EH_Q15_ONE 32768

static inline int16_t eh_sat16(int32_t x)
{
#if defined(__ARM_FEATURE_SAT) && defined(__GNUC__)
    /* One SSAT instead of two compares and branches (Cortex-M3/M4/M7, not M0). */
    int32_t r;
    __asm__("ssat %0, #16, %1" : "=r"(r) : "r"(x));
    return (int16_t)r;
#else
    if (x > INT16_MAX) return INT16_MAX;
    if (x < INT16_MIN) return INT16_MIN;
    return (int16_t)x;
#endif
}

static inline int8_t eh_sat8(int32_t x)
{
    if (x > INT8_MAX) return INT8_MAX;
    if (x < INT8_MIN) return INT8_MIN;
    return (int8_t)x;
}

static inline int32_t eh_sat32(int64_t x)
{
    if (x > INT32_MAX) return INT32_MAX;
    if (x < INT32_MIN) return INT32_MIN;
    return (int32_t)x;
}

/* Round-half-up arithmetic right shift: floor((x + 2^(s-1)) / 2^s); s = 0 returns x. */
static inline int32_t eh_rshift_round32(int32_t x, uint32_t s)
{
    if (s == 0) return x;
    return (int32_t)(((int64_t)x + ((int64_t)1 << (s - 1))) >> s);
}

static inline int64_t eh_rshift_round64(int64_t x, uint32_t s)
{
    if (s == 0) return x;
    return (x + ((int64_t)1 << (s - 1))) >> s;
}

/* Q15 multiply with round half up: floor((a * b + 2^14) / 2^15). b = 32768 means 1.0. */
static inline int32_t eh_mul_q15(int32_t a, int32_t b)
{
    return (a * b + (1 << 14)) >> 15;
}

/* Portable 32-bit popcount (SWAR); the compiler's builtin where the core has an instruction. */
static inline uint32_t eh_popcount32(uint32_t x)
{
#if defined(EH_HAVE_POPCOUNT_INSN)
    return (uint32_t)__builtin_popcount(x);
#else
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (x * 0x01010101u) >> 24;
#endif
}

/* The length of a per-neuron-or-shared parameter array must be 1 or n. */
static inline int eh_len_ok(uint32_t len, uint32_t n)
{
    return len == 1u || len == n;
}

#endif /* EH_INTERNAL_H */
