/*
 * Benchmark cases of the LIF family: one time step of n neurons; unit "neuron_step".
 *
 *   lif_q15        shared threshold, multiplier-free leak v - (v >> 4), reset by subtraction
 *                  (the kernel's fast path)
 *   lif_q15_decay  per-neuron Q15 decay and threshold, reset by subtraction (general path)
 *   lif_f32        shared beta and threshold, reset by subtraction
 *   cubalif_q15    per-neuron decays (syn and mem) and thresholds, reset by subtraction
 *   cubalif_f32    shared alpha, beta, threshold, reset by subtraction
 *
 * Inputs are random with about one neuron in eight spiking on entry, so the reset branch is
 * taken as in a typical layer. The buffers are shared by all cases (one case runs at a time).
 */
#include <stdint.h>

#include "eh_bench.h"
#include "eh_lif.h"

#define LIF_N_MAX 1024u

/* One pool of state for every case: run() never mixes cases. */
static union {
    struct {
        int16_t x[LIF_N_MAX], v[LIF_N_MAX], i_syn[LIF_N_MAX], thr[LIF_N_MAX];
        uint16_t decay[LIF_N_MAX], decay_syn[LIF_N_MAX];
    } q;
    struct {
        float x[LIF_N_MAX], v[LIF_N_MAX], i_syn[LIF_N_MAX];
    } f;
} pool;
static uint8_t spikes[LIF_N_MAX];

static uint8_t shift_leak = 4;
static int16_t thr_shared_q15 = 8192;
static float beta_f32 = 0.9375f, alpha_f32 = 0.8125f, thr_f32 = 1.0f;

static volatile eh_status last_status; /* keeps the result observable */

static int16_t rand_q15(int32_t span)
{
    /* uniform in [-span, span) */
    return (int16_t)((int32_t)(eh_bench_rand() % (uint32_t)(2 * span)) - span);
}

static float rand_f32(void)
{
    /* uniform in [-1, 1) with 2^-15 steps, exactly representable */
    return (float)rand_q15(32768) / 32768.0f;
}

static void fill_spikes(uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) spikes[k] = (uint8_t)((eh_bench_rand() & 7u) == 0u);
}

static void setup_q15(uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        pool.q.x[k] = rand_q15(4096);
        pool.q.v[k] = rand_q15(16384);
        pool.q.i_syn[k] = rand_q15(8192);
        pool.q.thr[k] = (int16_t)(4096 + (eh_bench_rand() & 8191u));
        pool.q.decay[k] = (uint16_t)(26000u + (eh_bench_rand() % 6768u));
        pool.q.decay_syn[k] = (uint16_t)(20000u + (eh_bench_rand() % 12768u));
    }
    fill_spikes(n);
}

static void setup_f32(uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        pool.f.x[k] = 0.25f * rand_f32();
        pool.f.v[k] = rand_f32();
        pool.f.i_syn[k] = 0.5f * rand_f32();
    }
    fill_spikes(n);
}

static void run_lif_q15(uint32_t n)
{
    const eh_leak_q15 leak = {0, &shift_leak, 1u};
    last_status = eh_lif_step_q15(n, pool.q.x, pool.q.v, spikes, &leak, &thr_shared_q15, 1u,
                                  EH_RESET_SUBTRACT);
}

static void run_lif_q15_decay(uint32_t n)
{
    const eh_leak_q15 leak = {pool.q.decay, 0, n};
    last_status = eh_lif_step_q15(n, pool.q.x, pool.q.v, spikes, &leak, pool.q.thr, n,
                                  EH_RESET_SUBTRACT);
}

static void run_lif_f32(uint32_t n)
{
    last_status = eh_lif_step_f32(n, pool.f.x, pool.f.v, spikes, &beta_f32, 1u, &thr_f32, 1u,
                                  EH_RESET_SUBTRACT);
}

static void run_cubalif_q15(uint32_t n)
{
    const eh_leak_q15 leak_syn = {pool.q.decay_syn, 0, n};
    const eh_leak_q15 leak_mem = {pool.q.decay, 0, n};
    last_status = eh_cubalif_step_q15(n, pool.q.x, pool.q.i_syn, pool.q.v, spikes, &leak_syn,
                                      &leak_mem, pool.q.thr, n, EH_RESET_SUBTRACT);
}

static void run_cubalif_f32(uint32_t n)
{
    last_status = eh_cubalif_step_f32(n, pool.f.x, pool.f.i_syn, pool.f.v, spikes, &alpha_f32, 1u,
                                      &beta_f32, 1u, &thr_f32, 1u, EH_RESET_SUBTRACT);
}

/* setup/run take no arguments: one small wrapper pair per (kernel, n). */
#define LIF_CASE_FNS(name, kind, n)                                                           \
    static void setup_##name##_##n(void) { setup_##kind((n)); }                                \
    static void run_##name##_##n(void) { run_##name((n)); }

LIF_CASE_FNS(lif_q15, q15, 256)
LIF_CASE_FNS(lif_q15, q15, 1024)
LIF_CASE_FNS(lif_q15_decay, q15, 256)
LIF_CASE_FNS(lif_q15_decay, q15, 1024)
LIF_CASE_FNS(lif_f32, f32, 256)
LIF_CASE_FNS(lif_f32, f32, 1024)
LIF_CASE_FNS(cubalif_q15, q15, 256)
LIF_CASE_FNS(cubalif_q15, q15, 1024)
LIF_CASE_FNS(cubalif_f32, f32, 256)
LIF_CASE_FNS(cubalif_f32, f32, 1024)

#define LIF_CASE(name, n) {#name, "n=" #n, "neuron_step", (n), setup_##name##_##n, run_##name##_##n}

const eh_bench_case eh_bench_cases_lif[] = {
    LIF_CASE(lif_q15, 256),       LIF_CASE(lif_q15, 1024),
    LIF_CASE(lif_q15_decay, 256), LIF_CASE(lif_q15_decay, 1024),
    LIF_CASE(lif_f32, 256),       LIF_CASE(lif_f32, 1024),
    LIF_CASE(cubalif_q15, 256),   LIF_CASE(cubalif_q15, 1024),
    LIF_CASE(cubalif_f32, 256),   LIF_CASE(cubalif_f32, 1024),
};

const uint32_t eh_bench_n_lif = sizeof eh_bench_cases_lif / sizeof eh_bench_cases_lif[0];
