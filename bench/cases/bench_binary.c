/* Benchmark cases of the binary family: fc_b1 (int32 dot products) at three sizes, one conv1d.
 *
 * On-target self-check (setup of fc_b1 256x64, so it runs in --quick too): eh_fc_b1_s32, _bits,
 * _s8 and eh_conv1d_b1_s32 (the Thumb-2 assembly on Cortex-M4, the custom unit on rv32-sim, the
 * portable C elsewhere) against dot products computed here one word at a time from eh_binary.h,
 * over every K from 1 to 80 and sizes around 16-word blocks and longer rows (96, 480..736, 993..1500,
 * 2048, 2079: heads of 1, 2, 3, 5, 7, 8, 9 and 15 words before blocks), 1 to 9 rows, random words
 * with random padding bits, all-ones and all-zero rows; reported as "EHB|check|fc_b1|<compared>|<mismatches>". */
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

/* --- self-check --- */
static uint32_t ref_pop(uint32_t v)
{
    uint32_t c = 0;
    for (; v != 0u; v &= v - 1u) c++;
    return c;
}

static int32_t ref_dot(uint32_t k, const uint32_t *x, const uint32_t *w)
{
    const uint32_t nw = (k + 31u) / 32u, tail = (k % 32u) ? (1u << (k % 32u)) - 1u : 0xFFFFFFFFu;
    uint32_t j, c = 0;
    for (j = 0; j < nw; j++) c += ref_pop((x[j] ^ w[j]) & (j + 1u == nw ? tail : 0xFFFFFFFFu));
    return (int32_t)k - 2 * (int32_t)c;
}

#define CK_ROWS 9u
#define CK_MAXW 66u
static uint32_t ck_x[CK_MAXW + 1u], ck_w[CK_ROWS * CK_MAXW + 1u], ck_bits[1];
static int32_t ck_y[CK_ROWS + 1u], ck_thr[CK_ROWS];
static int8_t ck_y8[CK_ROWS];
static int32_t ck_mult[CK_ROWS];

static void check_fc(uint32_t k, uint32_t rows, uint32_t pattern, uint32_t *compared, uint32_t *bad)
{
    const uint32_t nw = (k + 31u) / 32u;
    uint32_t i, r;
    for (i = 0; i < nw; i++) ck_x[i] = pattern == 1u ? 0xFFFFFFFFu : eh_bench_rand();
    for (i = 0; i < rows * nw; i++) ck_w[i] = pattern == 1u ? 0u : pattern == 2u ? ck_x[i % nw] : eh_bench_rand();
    for (r = 0; r < rows; r++) {
        ck_thr[r] = (int32_t)(eh_bench_rand() % (2u * k + 2u)) - (int32_t)k;
        ck_mult[r] = 1 << 20;
    }
    ck_y[rows] = 0x5A5A5A5A; /* guard: nothing written past the rows */
    (void)eh_fc_b1_s32(k, rows, ck_x, ck_w, ck_y);
    (void)eh_fc_b1_bits(k, rows, ck_x, ck_w, ck_thr, ck_bits);
    (void)eh_fc_b1_s8(k, rows, ck_x, ck_w, ck_mult, 0, 20u, ck_y8);
    for (r = 0; r < rows; r++) {
        const int32_t d = ref_dot(k, ck_x, ck_w + r * nw);
        *compared += 3u;
        *bad += (uint32_t)(ck_y[r] != d);
        *bad += (uint32_t)(((ck_bits[0] >> r) & 1u) != (uint32_t)(d < ck_thr[r]));
        *bad += (uint32_t)(ck_y8[r] != (int8_t)(d > 127 ? 127 : d < -128 ? -128 : d));
    }
    *bad += (uint32_t)(ck_y[rows] != 0x5A5A5A5A);
}

/* conv1d with 3 taps, stride 1, pad 1 over t_in = 3 frames of k channels (rows at a stride of
 * 3 * nw words: the count_rows path). */
static void check_conv(uint32_t k, uint32_t rows, uint32_t *compared, uint32_t *bad)
{
    const uint32_t nw = (k + 31u) / 32u;
    const eh_conv1d_b1_dims d = {k, 3u, rows, 3u, 1u, 1u, 3u};
    static uint32_t cx[3u * 8u], cw[4u * 3u * 8u], zero[8];
    static int32_t cy[3u * 4u];
    uint32_t i, t, o, tap;
    for (i = 0; i < 3u * nw; i++) cx[i] = eh_bench_rand();
    for (i = 0; i < rows * 3u * nw; i++) cw[i] = eh_bench_rand();
    (void)eh_conv1d_b1_s32(&d, cx, cw, cy);
    for (t = 0; t < 3u; t++) {
        for (o = 0; o < rows; o++) {
            int32_t s = 0;
            for (tap = 0; tap < 3u; tap++) {
                const uint32_t pos = t + tap; /* padded position; frame pos - 1 */
                s += ref_dot(k, (pos == 0u || pos > 3u) ? zero : cx + (pos - 1u) * nw, cw + (o * 3u + tap) * nw);
            }
            *compared += 1u;
            *bad += (uint32_t)(cy[t * rows + o] != s);
        }
    }
}

static void fc_check_setup(void)
{
    /* rows of 3 to 65 words: no block, whole blocks, and 1..15 head words before one or more
     * blocks (545: 2 head words, 600: 3, 650: 5, 736: 7, 1090: 3, 1250: 8, 1312: 9, 1500: 15) */
    static const uint32_t sizes[] = {96u, 480u, 481u, 511u, 512u, 513u, 543u, 544u, 545u, 600u, 650u, 736u,
                                     993u, 1000u, 1024u, 1025u, 1090u, 1250u, 1312u, 1500u, 2048u, 2079u};
    uint32_t compared = 0, bad = 0, k, i;
    for (k = 1u; k <= 80u; k++) check_fc(k, 1u + k % CK_ROWS, 0u, &compared, &bad);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_fc(sizes[i], 1u + i % CK_ROWS, 0u, &compared, &bad);
        check_fc(sizes[i], 4u, 1u + i % 2u, &compared, &bad); /* all differ / all equal */
    }
    for (k = 150u; k <= 256u; k += 53u) check_conv(k, 1u + k % 4u, &compared, &bad);
    eh_bench_check("fc_b1", compared, bad);
    fc_setup();
}

static void fc_256x64(void) { (void)eh_fc_b1_s32(256u, 64u, fc_x, fc_w, fc_y); }
static void fc_1024x256(void) { (void)eh_fc_b1_s32(1024u, 256u, fc_x, fc_w, fc_y); }
static void fc_2048x512(void) { (void)eh_fc_b1_s32(2048u, 512u, fc_x, fc_w, fc_y); }
/* Tails: rows of 32 to 48 words (64 rows each). A row's words go to the Harley-Seal code as items
 * of 1, 2, 4, 8 words (nw mod 16) and 16-word blocks; docs/benchmarks.md compares each row length
 * with 32 words plus one 16-word block's share per word, (count(48) - count(32)) / 16. */
static void fc_t32(void) { (void)eh_fc_b1_s32(1024u, 64u, fc_x, fc_w, fc_y); }
static void fc_t33(void) { (void)eh_fc_b1_s32(1056u, 64u, fc_x, fc_w, fc_y); }
static void fc_t34(void) { (void)eh_fc_b1_s32(1088u, 64u, fc_x, fc_w, fc_y); }
static void fc_t35(void) { (void)eh_fc_b1_s32(1120u, 64u, fc_x, fc_w, fc_y); }
static void fc_t37(void) { (void)eh_fc_b1_s32(1184u, 64u, fc_x, fc_w, fc_y); }
static void fc_t48(void) { (void)eh_fc_b1_s32(1536u, 64u, fc_x, fc_w, fc_y); }

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
    {"fc_b1", "256x64", "mac", 256u * 64u, fc_check_setup, fc_256x64},
    {"fc_b1", "1024x256", "mac", 1024u * 256u, fc_setup, fc_1024x256},
    {"fc_b1", "2048x512", "mac", 2048u * 512u, fc_setup, fc_2048x512},
    {"fc_b1", "1024x64", "mac", 1024u * 64u, fc_setup, fc_t32},
    {"fc_b1", "1056x64", "mac", 1056u * 64u, fc_setup, fc_t33},
    {"fc_b1", "1088x64", "mac", 1088u * 64u, fc_setup, fc_t34},
    {"fc_b1", "1120x64", "mac", 1120u * 64u, fc_setup, fc_t35},
    {"fc_b1", "1184x64", "mac", 1184u * 64u, fc_setup, fc_t37},
    {"fc_b1", "1536x64", "mac", 1536u * 64u, fc_setup, fc_t48},
    /* units: output frames x output channels x taps x input channels (padding MACs included) */
    {"conv1d_b1", "c128t64o64k3", "mac", CV_T * CV_OUT * CV_TAPS * CV_IN, cv_setup, cv_run},
};
const uint32_t eh_bench_n_binary = sizeof eh_bench_cases_binary / sizeof eh_bench_cases_binary[0];
