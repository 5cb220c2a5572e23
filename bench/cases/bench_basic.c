/* Benchmark cases of the basic family: dense layers at three sizes, a spike-driven layer at two
 * activities (row-major and input-major weights), the two int8 1-D convolutions of the HAR CNN
 * (docs/har.md). All cases share one static arena (they run one at a time), sized for the largest. */
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

/* The int8 1-D convolutions of the HAR CNN (conv 6->16 taps 5 stride 2 pad 2 over 40 positions,
 * conv 16->32 taps 3 stride 2 pad 1 over 20), per-channel requantisation with the model's ranges
 * (mult in [2^30, 2^31), shift -7 to -10). Their own random sequence, so that the data of the
 * cases after them does not change. */
static eh_conv1d_s8_dims conv_d;
static int32_t conv_x_offset;
static uint32_t conv_rand_state = 0x2545F491u;

static uint32_t conv_rand(void)
{
    conv_rand_state ^= conv_rand_state << 13;
    conv_rand_state ^= conv_rand_state >> 17;
    conv_rand_state ^= conv_rand_state << 5;
    return conv_rand_state;
}

static void setup_conv_s8(uint32_t c_in, uint32_t t_in, uint32_t c_out, uint32_t taps, uint32_t stride, uint32_t pad,
                          int32_t x_offset)
{
    uint32_t k;
    conv_d.n_in = c_in; conv_d.t_in = t_in; conv_d.n_out = c_out; conv_d.taps = taps; conv_d.stride = stride;
    conv_d.pad = pad; conv_d.t_out = (t_in + 2u * pad - taps) / stride + 1u;
    conv_x_offset = x_offset;
    for (k = 0; k < c_in * t_in; k++) arena.s8.x[k] = (int8_t)conv_rand();
    for (k = 0; k < c_out * taps * c_in; k++) arena.s8.w[k] = (int8_t)conv_rand();
    for (k = 0; k < c_out; k++) {
        arena.s8.b[k] = (int32_t)(conv_rand() % 8001u) - 4000;
        arena.s8.mult[k] = (int32_t)(0x40000000u | (conv_rand() >> 2));
        arena.s8.shift[k] = -7 - (int32_t)(conv_rand() % 4u);
    }
}

static void run_conv_s8(void)
{
    (void)eh_conv1d_s8(&conv_d, arena.s8.x, conv_x_offset, arena.s8.w, arena.s8.b, arena.s8.mult, arena.s8.shift, 1,
                       -128, -128, 127, arena.s8.y);
}

static void setup_conv_har1(void) { setup_conv_s8(6, 40, 16, 5, 2, 2, -4); }
static void setup_conv_har2(void) { setup_conv_s8(16, 20, 32, 3, 2, 1, 128); }

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
    {"conv1d_s8", "c6t40o16k5s2", "mac", 20u * 16u * 5u * 6u, setup_conv_har1, run_conv_s8},
    {"conv1d_s8", "c16t20o32k3s2", "mac", 10u * 32u * 3u * 16u, setup_conv_har2, run_conv_s8},
};
const uint32_t eh_bench_n_basic = sizeof eh_bench_cases_basic / sizeof eh_bench_cases_basic[0];
