/* Benchmark cases of the binary family: fc_b1 (int32 dot products) at three sizes, one conv1d. */
#include "eh_bench.h"
#include "eh_binary.h"

#define FC_MAX_IN 2048u
#define FC_MAX_OUT 512u

static uint32_t fc_x[FC_MAX_IN / 32u];
static uint32_t fc_w[FC_MAX_OUT * (FC_MAX_IN / 32u)];
static int32_t fc_y[FC_MAX_OUT];

static void fill(uint32_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) p[i] = eh_bench_rand();
}

static void fc_setup(void)
{
    fill(fc_x, FC_MAX_IN / 32u);
    fill(fc_w, FC_MAX_OUT * (FC_MAX_IN / 32u));
}

static void fc_256x64(void) { (void)eh_fc_b1_s32(256u, 64u, fc_x, fc_w, fc_y); }
static void fc_1024x256(void) { (void)eh_fc_b1_s32(1024u, 256u, fc_x, fc_w, fc_y); }
static void fc_2048x512(void) { (void)eh_fc_b1_s32(2048u, 512u, fc_x, fc_w, fc_y); }

/* conv1d: 128 input channels, 64 frames, 64 output channels, 3 taps, stride 1, 'same' (pad 1). */
#define CV_IN 128u
#define CV_T 64u
#define CV_OUT 64u
#define CV_TAPS 3u
static uint32_t cv_x[CV_T * (CV_IN / 32u)];
static uint32_t cv_w[CV_OUT * CV_TAPS * (CV_IN / 32u)];
static int32_t cv_y[CV_T * CV_OUT];
static const eh_conv1d_b1_dims cv_dims = {CV_IN, CV_T, CV_OUT, CV_TAPS, 1u, 1u, CV_T};

static void cv_setup(void)
{
    fill(cv_x, CV_T * (CV_IN / 32u));
    fill(cv_w, CV_OUT * CV_TAPS * (CV_IN / 32u));
}

static void cv_run(void) { (void)eh_conv1d_b1_s32(&cv_dims, cv_x, cv_w, cv_y); }

const eh_bench_case eh_bench_cases_binary[] = {
    {"fc_b1", "256x64", "mac", 256u * 64u, fc_setup, fc_256x64},
    {"fc_b1", "1024x256", "mac", 1024u * 256u, fc_setup, fc_1024x256},
    {"fc_b1", "2048x512", "mac", 2048u * 512u, fc_setup, fc_2048x512},
    /* units: output frames x output channels x taps x input channels (padding MACs included) */
    {"conv1d_b1", "c128t64o64k3", "mac", CV_T * CV_OUT * CV_TAPS * CV_IN, cv_setup, cv_run},
};
const uint32_t eh_bench_n_binary = sizeof eh_bench_cases_binary / sizeof eh_bench_cases_binary[0];
