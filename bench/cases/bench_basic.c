/* Benchmark cases of the basic family: dense layers at three sizes, a spike-driven layer at two
 * activities (row-major and input-major weights). All cases share one static arena (they run
 * one at a time), sized for the largest. */
#include "eh_bench.h"
#include "eh_basic.h"

#define EH_BENCH_MAX_IN 2048u
#define EH_BENCH_MAX_OUT 512u

static union {
    struct { int8_t x[EH_BENCH_MAX_IN]; int8_t w[EH_BENCH_MAX_IN * EH_BENCH_MAX_OUT]; int8_t y[EH_BENCH_MAX_OUT];
             int32_t b[EH_BENCH_MAX_OUT], mult[EH_BENCH_MAX_OUT], shift[EH_BENCH_MAX_OUT]; } s8;
    struct { int16_t x[EH_BENCH_MAX_IN]; int16_t w[EH_BENCH_MAX_IN * EH_BENCH_MAX_OUT]; int16_t y[EH_BENCH_MAX_OUT];
             int32_t b[EH_BENCH_MAX_OUT]; uint8_t s[EH_BENCH_MAX_IN]; } q15;
} arena;

static uint32_t n_in, n_out;

static void setup_s8(uint32_t ni, uint32_t no)
{
    uint32_t k;
    n_in = ni; n_out = no;
    for (k = 0; k < ni; k++) arena.s8.x[k] = (int8_t)eh_bench_rand();
    for (k = 0; k < ni * no; k++) arena.s8.w[k] = (int8_t)eh_bench_rand();
    for (k = 0; k < no; k++) {
        arena.s8.b[k] = (int32_t)(eh_bench_rand() % 20001u) - 10000;
        arena.s8.mult[k] = (int32_t)(0x40000000u | (eh_bench_rand() >> 2));
        arena.s8.shift[k] = -9;
    }
}

static void run_s8(void)
{
    (void)eh_fc_s8(n_in, n_out, arena.s8.x, 3, arena.s8.w, arena.s8.b, arena.s8.mult, arena.s8.shift,
                   1, -5, arena.s8.y);
}

static void setup_q15(uint32_t ni, uint32_t no)
{
    uint32_t k;
    n_in = ni; n_out = no;
    for (k = 0; k < ni; k++) {
        arena.q15.x[k] = (int16_t)eh_bench_rand();
        arena.q15.s[k] = (uint8_t)((eh_bench_rand() & 3u) == 0u); /* ~25 % of inputs spike */
    }
    for (k = 0; k < ni * no; k++) arena.q15.w[k] = (int16_t)eh_bench_rand();
    for (k = 0; k < no; k++) arena.q15.b[k] = (int32_t)(eh_bench_rand() % 20001u) - 10000;
}

static void run_q15(void)
{
    (void)eh_fc_q15(n_in, n_out, arena.q15.x, arena.q15.w, arena.q15.b, 15, arena.q15.y);
}

static void run_spike(void)
{
    (void)eh_fc_spike_q15(n_in, n_out, arena.q15.s, arena.q15.w, arena.q15.b, 4, arena.q15.y);
}

/* The same layer with the weights input-major (the arena's weights read as wt[1024][256]). */
static void run_spike_t(void)
{
    (void)eh_fc_spike_t_q15(n_in, n_out, arena.q15.s, arena.q15.w, arena.q15.b, 4, arena.q15.y);
}

/* The spike layer at ~15 % activity (3 inputs in 20), the rate of a sparse SNN layer. */
static void setup_spike_15(uint32_t ni, uint32_t no)
{
    uint32_t k;
    setup_q15(ni, no);
    for (k = 0; k < ni; k++) arena.q15.s[k] = (uint8_t)(eh_bench_rand() % 20u < 3u);
}

static void setup_spike15_1024(void) { setup_spike_15(1024, 256); }

static void setup_s8_256(void) { setup_s8(256, 64); }
static void setup_s8_1024(void) { setup_s8(1024, 256); }
static void setup_s8_2048(void) { setup_s8(2048, 512); }
static void setup_q15_256(void) { setup_q15(256, 64); }
static void setup_q15_1024(void) { setup_q15(1024, 256); }
static void setup_q15_2048(void) { setup_q15(2048, 512); }

const eh_bench_case eh_bench_cases_basic[] = {
    {"fc_s8", "256x64", "mac", 256u * 64u, setup_s8_256, run_s8},
    {"fc_s8", "1024x256", "mac", 1024u * 256u, setup_s8_1024, run_s8},
    {"fc_s8", "2048x512", "mac", 2048u * 512u, setup_s8_2048, run_s8},
    {"fc_q15", "256x64", "mac", 256u * 64u, setup_q15_256, run_q15},
    {"fc_q15", "1024x256", "mac", 1024u * 256u, setup_q15_1024, run_q15},
    {"fc_q15", "2048x512", "mac", 2048u * 512u, setup_q15_2048, run_q15},
    {"fc_spike_q15", "1024x256", "mac", 1024u * 256u, setup_q15_1024, run_spike},
    {"fc_spike_q15", "1024x256@15%", "mac", 1024u * 256u, setup_spike15_1024, run_spike},
    {"fc_spike_t_q15", "1024x256", "mac", 1024u * 256u, setup_q15_1024, run_spike_t},
    {"fc_spike_t_q15", "1024x256@15%", "mac", 1024u * 256u, setup_spike15_1024, run_spike_t},
};
const uint32_t eh_bench_n_basic = sizeof eh_bench_cases_basic / sizeof eh_bench_cases_basic[0];
