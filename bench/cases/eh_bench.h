/*
 * A benchmark case: one kernel call measured on a core (instructions under QEMU with the
 * project's TCG plugin, cycles where the board has a counter).
 *
 * Each kernel family provides bench/cases/bench_<family>.c defining
 *     const eh_bench_case eh_bench_cases_<family>[];
 *     const uint32_t eh_bench_n_<family>;
 * The harness calls setup() (not measured), then run() exactly once between two markers.
 * Cases use static buffers only (no malloc), filled with eh_bench_rand() in setup().
 */
#ifndef EH_BENCH_H
#define EH_BENCH_H

#include <stdint.h>

typedef struct {
    const char *kernel; /* family and type, e.g. "fc_b1", "lif_q15", "mst_fc_b1" */
    const char *shape;  /* e.g. "1024x256", "n=256", "d=8" */
    const char *unit;   /* "mac", "neuron_step" or "step" */
    uint32_t units;     /* how many units one run() performs */
    void (*setup)(void);
    void (*run)(void);
} eh_bench_case;

/* Deterministic pseudo-random 32-bit numbers (xorshift32), the same on every core. */
static inline uint32_t eh_bench_rand(void)
{
    static uint32_t state = 0x9E3779B9u;
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* An on-target self-check, called from a case's setup(): the harness prints
 *     EHB|check|<name>|<compared>|<mismatches>
 * and the host fails the bench run when mismatches is not 0 (bench/README.md). */
void eh_bench_check(const char *name, uint32_t compared, uint32_t mismatches);

#endif
