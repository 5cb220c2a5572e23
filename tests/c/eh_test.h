/* A minimal assertion harness for the C tests: fails loudly, returns non-zero from main. */
#ifndef EH_TEST_H
#define EH_TEST_H

#include <stdio.h>
#include <stdint.h>

static int eh_test_failures;

#define EH_CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    eh_test_failures++; } } while (0)

#define EH_CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { \
    fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, _a, #b, _b); \
    eh_test_failures++; } } while (0)

#define EH_TEST_DONE() do { \
    if (eh_test_failures) { fprintf(stderr, "%d check(s) failed\n", eh_test_failures); return 1; } \
    printf("ok\n"); return 0; } while (0)

/* Deterministic pseudo-random numbers (xorshift32) for test data. */
static uint32_t eh_test_rng = 0x12345678u;
static inline uint32_t eh_test_rand(void)
{
    eh_test_rng ^= eh_test_rng << 13;
    eh_test_rng ^= eh_test_rng >> 17;
    eh_test_rng ^= eh_test_rng << 5;
    return eh_test_rng;
}

#endif
