/* Benchmark cases of the shiftadd family: power-of-two weights and BCQ (q = 3 planes) at three
 * sizes. All cases share one static arena (they run one at a time), sized for the largest. */
#include "eh_bench.h"
#include "eh_shiftadd.h"

#define EH_BENCH_MAX_IN 2048u
#define EH_BENCH_MAX_OUT 512u
#define EH_BENCH_Q 3u

static union {
    struct { int16_t x[EH_BENCH_MAX_IN]; uint8_t w[EH_BENCH_MAX_IN * EH_BENCH_MAX_OUT];
             int32_t b[EH_BENCH_MAX_OUT]; int16_t y[EH_BENCH_MAX_OUT]; } p2;
    struct { int16_t x[EH_BENCH_MAX_IN]; uint32_t w[EH_BENCH_MAX_OUT * EH_BENCH_Q * (EH_BENCH_MAX_IN / 32u)];
             int8_t e[EH_BENCH_MAX_OUT * EH_BENCH_Q]; int32_t b[EH_BENCH_MAX_OUT];
             int32_t table[256u * (EH_BENCH_MAX_IN / 8u)]; int16_t y[EH_BENCH_MAX_OUT]; } bcq;
} arena;

static uint32_t n_in, n_out;

static void setup_p2(uint32_t ni, uint32_t no)
{
    uint32_t k;
    n_in = ni; n_out = no;
    for (k = 0; k < ni; k++) arena.p2.x[k] = (int16_t)eh_bench_rand();
    for (k = 0; k < ni * no; k++) {
        /* exponents p in [-8, 6], random sign, about 1 in 8 weights zero */
        const uint32_t r = eh_bench_rand();
        arena.p2.w[k] = (r & 7u) == 0u ? 0u : (uint8_t)((r & 0x80u) | (8u + (r >> 8) % 15u));
    }
    for (k = 0; k < no; k++) arena.p2.b[k] = (int32_t)(eh_bench_rand() % 20001u) - 10000;
}

static void run_p2(void)
{
    (void)eh_shiftadd_fc_q15(n_in, n_out, arena.p2.x, arena.p2.w, arena.p2.b, 12, arena.p2.y);
}

static void setup_bcq(uint32_t ni, uint32_t no)
{
    uint32_t k;
    n_in = ni; n_out = no;
    for (k = 0; k < ni; k++) arena.bcq.x[k] = (int16_t)eh_bench_rand();
    for (k = 0; k < no * EH_BENCH_Q * ((ni + 31u) / 32u); k++) arena.bcq.w[k] = eh_bench_rand();
    for (k = 0; k < no * EH_BENCH_Q; k++) arena.bcq.e[k] = (int8_t)(-(int32_t)(k % EH_BENCH_Q) * 2);
    for (k = 0; k < no; k++) arena.bcq.b[k] = (int32_t)(eh_bench_rand() % 20001u) - 10000;
}

static void run_bcq(void)
{
    (void)eh_bcq_fc_q15(n_in, n_out, EH_BENCH_Q, arena.bcq.x, arena.bcq.w, arena.bcq.e, arena.bcq.b, 12,
                        arena.bcq.table, 256u * (EH_BENCH_MAX_IN / 8u), arena.bcq.y);
}

static void setup_p2_256(void) { setup_p2(256, 64); }
static void setup_p2_1024(void) { setup_p2(1024, 256); }
static void setup_p2_2048(void) { setup_p2(2048, 512); }
static void setup_bcq_256(void) { setup_bcq(256, 64); }
static void setup_bcq_1024(void) { setup_bcq(1024, 256); }
static void setup_bcq_2048(void) { setup_bcq(2048, 512); }

const eh_bench_case eh_bench_cases_shiftadd[] = {
    {"shiftadd_fc", "256x64", "mac", 256u * 64u, setup_p2_256, run_p2},
    {"shiftadd_fc", "1024x256", "mac", 1024u * 256u, setup_p2_1024, run_p2},
    {"shiftadd_fc", "2048x512", "mac", 2048u * 512u, setup_p2_2048, run_p2},
    {"bcq_fc", "256x64", "mac", 256u * 64u, setup_bcq_256, run_bcq},
    {"bcq_fc", "1024x256", "mac", 1024u * 256u, setup_bcq_1024, run_bcq},
    {"bcq_fc", "2048x512", "mac", 2048u * 512u, setup_bcq_2048, run_bcq},
};
const uint32_t eh_bench_n_shiftadd = sizeof eh_bench_cases_shiftadd / sizeof eh_bench_cases_shiftadd[0];
