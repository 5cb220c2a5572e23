/* basic family: bad arguments are rejected without touching the outputs; exact-size heap
 * buffers for many sizes (ASan catches any access past the end); the DSP path of eh_fc_s8,
 * compiled here with C emulations of SMLAD/SXTB16/SXTAB16 (EH_DSP_EMULATE), is bit-exact with
 * the portable path over random and extreme data; eh_fc_spike_t_q15 in both of its chunkings
 * equals the spike layer's reference on the transposed weights. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_basic.h"

/* The same source built a second time with the emulated DSP instructions. */
#define EH_DSP_EMULATE 1
#define eh_fc_s8 eh_fc_s8_dsp_emulated
#include "../../kernels_c/src/basic/eh_fc_s8.c"
#undef eh_fc_s8
#undef EH_DSP_EMULATE

/* eh_fc_spike_t_q15 built a second time with the cores' chunking (8 accumulators, one row per
 * pass), so its path is checked here under ASan too. */
#define EH_FC_T_CORE_PATH 1
#define eh_fc_spike_t_q15 eh_fc_spike_t_q15_core
#include "../../kernels_c/src/basic/eh_fc_spike_t_q15.c"
#undef eh_fc_spike_t_q15

static void test_bad_arguments(void)
{
    int16_t x[3] = {1, 2, 3}, w[6] = {1, 2, 3, 4, 5, 6}, y[2] = {7, 7};
    int8_t x8[3] = {1, 2, 3}, w8[6] = {1, 2, 3, 4, 5, 6}, y8[2] = {7, 7};
    int32_t mult = 1 << 30, sh = 0, badmult = -1, badsh = 31, badsh2 = -32, b[2] = {0, 0};
    int32_t mult2[2] = {1 << 30, -5}, sh2[2] = {0, 0};
    uint8_t s[3] = {1, 0, 1}, sbad[3] = {1, 2, 0}, dec_shift = 3;
    float fx[3] = {1, 2, 3}, fw[6] = {0}, fy[2] = {7, 7}, beta = 0.5f, badbeta = 1.5f;
    uint32_t idx = 99;
    uint16_t counts[3] = {0, 0, 0};
    eh_leak_q15 leak = {0, &dec_shift, 1}, badleak = {0, &dec_shift, 2};

    EH_CHECK_EQ(eh_fc_f32(3, 2, 0, fw, 0, fy), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_f32(3, 2, fx, 0, 0, fy), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_f32(3, 2, fx, fw, 0, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_f32(0, 2, fx, fw, 0, fy), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_f32(3, 0, fx, fw, 0, fy), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_f32(0x10000u, 0x10000u, fx, fw, 0, fy), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_q15(3, 2, x, w, b, 32, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_q15(3, 2, 0, w, b, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_q15(0, 2, x, w, b, 0, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_spike_q15(3, 2, sbad, w, b, 0, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_spike_q15(3, 2, s, w, b, 32, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_spike_q15(3, 2, s, 0, b, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, &mult, &sh, 0, 0, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, 0, &sh, 0, 0, y8), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, &mult, 0, 0, 0, y8), EH_ERR_NULL);
    EH_CHECK_EQ(eh_fc_s8(3, 0, x8, 0, w8, b, &mult, &sh, 0, 0, y8), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 129, w8, b, &mult, &sh, 0, 0, y8), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, -128, w8, b, &mult, &sh, 0, 0, y8), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, &mult, &sh, 0, 128, y8), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, &badmult, &sh, 0, 0, y8), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, &mult, &badsh, 0, 0, y8), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, &mult, &badsh2, 0, 0, y8), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, mult2, sh2, 1, 0, y8), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_fc_s8(3, 2, x8, 0, w8, b, &mult, &sh, 2, 0, y8), EH_ERR_ARG);
    EH_CHECK(y[0] == 7 && y[1] == 7 && y8[0] == 7 && y8[1] == 7 && fy[0] == 7.0f);

    EH_CHECK_EQ(eh_relu_f32(0, fx, fy), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_relu_q15(3, x, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_argmax_f32(3, fx, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_argmax_q15(0, x, &idx), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_argmax_s32(2, 0, &idx), EH_ERR_NULL);
    EH_CHECK(idx == 99);
    EH_CHECK_EQ(eh_li_step_f32(3, fx, fy, &badbeta, 1), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_li_step_f32(3, fx, fy, &beta, 2), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_li_step_f32(3, fx, fy, 0, 1), EH_ERR_NULL);
    EH_CHECK_EQ(eh_li_step_q15(3, x, y, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_li_step_q15(3, x, y, &badleak), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_quantize_f32_q15(3, fx, 0.0f, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_quantize_f32_q15(3, fx, -1.0f, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_dequantize_q15_f32(3, x, 0.0f, fy), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_spike_count_u16(3, s, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_spike_count_u16(0, s, counts), EH_ERR_SIZE);
    EH_CHECK(y[0] == 7 && fy[0] == 7.0f && counts[0] == 0);
    EH_CHECK_EQ(eh_li_step_q15(2, x, y, &leak), EH_OK);
}

static int8_t r8(void) { return (int8_t)(eh_test_rand() & 0xFFu); }

static void test_exact_buffers_and_dsp_path(void)
{
    uint32_t n_in, n_out, k;
    for (n_in = 1; n_in <= 41; n_in += 2) {
        for (n_out = 1; n_out <= 9; n_out++) {
            const uint32_t nw = n_in * n_out;
            int8_t *x8 = malloc(n_in), *w8 = malloc(nw), *y8 = malloc(n_out), *z8 = malloc(n_out);
            int16_t *x = malloc(n_in * 2), *w = malloc(nw * 2), *y = malloc(n_out * 2);
            uint8_t *s = malloc(n_in);
            float *fx = malloc(n_in * 4), *fw = malloc(nw * 4), *fy = malloc(n_out * 4), *fb = malloc(n_out * 4);
            int32_t *b = malloc(n_out * 4), *m = malloc(n_out * 4), *sh = malloc(n_out * 4);
            const int extreme = (n_in + n_out) % 3 == 0;
            const int32_t xo = extreme ? 128 : (int32_t)(eh_test_rand() % 256u) - 127;
            const int32_t yo = extreme ? -128 : (int32_t)(eh_test_rand() % 256u) - 128;
            for (k = 0; k < n_in; k++) {
                x8[k] = extreme ? -128 : r8(); x[k] = (int16_t)eh_test_rand();
                s[k] = (uint8_t)(eh_test_rand() & 1u); fx[k] = (float)x8[k];
            }
            for (k = 0; k < nw; k++) { w8[k] = extreme ? -128 : r8(); w[k] = (int16_t)eh_test_rand(); fw[k] = (float)w8[k]; }
            for (k = 0; k < n_out; k++) {
                b[k] = extreme ? (k & 1 ? INT32_MAX : INT32_MIN) : (int32_t)(eh_test_rand() % 20001u) - 10000;
                m[k] = (int32_t)(eh_test_rand() >> 1);
                sh[k] = (int32_t)(eh_test_rand() % 62u) - 31;
                fb[k] = 1.0f;
            }
            EH_CHECK_EQ(eh_fc_f32(n_in, n_out, fx, fw, fb, fy), EH_OK);
            EH_CHECK_EQ(eh_fc_q15(n_in, n_out, x, w, b, n_out % 32u, y), EH_OK);
            EH_CHECK_EQ(eh_fc_spike_q15(n_in, n_out, s, w, b, 3, y), EH_OK);
            EH_CHECK_EQ(eh_fc_s8(n_in, n_out, x8, xo, w8, b, m, sh, 1, yo, y8), EH_OK);
            EH_CHECK_EQ(eh_fc_s8_dsp_emulated(n_in, n_out, x8, xo, w8, b, m, sh, 1, yo, z8), EH_OK);
            EH_CHECK(memcmp(y8, z8, n_out) == 0);
            EH_CHECK_EQ(eh_fc_s8(n_in, n_out, x8, xo, w8, 0, m, sh, 0, yo, y8), EH_OK);
            EH_CHECK_EQ(eh_fc_s8_dsp_emulated(n_in, n_out, x8, xo, w8, 0, m, sh, 0, yo, z8), EH_OK);
            EH_CHECK(memcmp(y8, z8, n_out) == 0);
            free(x8); free(w8); free(y8); free(z8); free(x); free(w); free(y); free(s);
            free(fx); free(fw); free(fy); free(fb); free(b); free(m); free(sh);
        }
    }
}

/* A layer wide enough that the DSP path's 32-bit partial sums need the 64-bit block sum:
 * 70000 inputs of (-128 + 128) * -128 = -32768 each would wrap a 32-bit accumulator. */
static void test_fc_s8_wide_rows(void)
{
    const uint32_t n_in = 70001u, n_out = 4u;
    int8_t *x = malloc(n_in), *w = malloc(n_in * n_out), y[4], z[4];
    int32_t m = INT32_MAX, sh = -20;
    uint32_t k;
    for (k = 0; k < n_in; k++) x[k] = 127;
    for (k = 0; k < n_in * n_out; k++) w[k] = k < n_in ? -128 : (k < 2 * n_in ? 127 : r8());
    EH_CHECK_EQ(eh_fc_s8(n_in, n_out, x, 128, w, 0, &m, &sh, 0, 0, y), EH_OK);
    EH_CHECK_EQ(eh_fc_s8_dsp_emulated(n_in, n_out, x, 128, w, 0, &m, &sh, 0, 0, z), EH_OK);
    EH_CHECK(memcmp(y, z, 4) == 0);
    /* row 0: 70001 * 255 * -128 saturates to INT32_MIN; * (2^31-1)/2^31 / 2^20 -> -2048 -> -128 */
    EH_CHECK_EQ(y[0], -128);
    EH_CHECK_EQ(y[1], 127);
    free(x); free(w);
}

/* The header's arithmetic for eh_fc_spike_q15, written plainly: sat32 after each addition in
 * increasing input order, then round-half-up shift and sat16. */
static int16_t spike_ref_row(const uint8_t *s, const int16_t *row, uint32_t n_in, int32_t b, uint32_t shift)
{
    int64_t acc = b;
    uint32_t i;
    for (i = 0; i < n_in; i++) {
        if (!s[i]) continue;
        acc += row[i];
        if (acc > INT32_MAX) acc = INT32_MAX;
        if (acc < INT32_MIN) acc = INT32_MIN;
    }
    if (shift > 0u) acc = (acc + ((int64_t)1 << (shift - 1u))) >> shift;
    return (int16_t)(acc > INT16_MAX ? INT16_MAX : (acc < INT16_MIN ? INT16_MIN : acc));
}

/* The spike layer against the reference: sizes across the 32-input blocks and the kernel's
 * 1024-input mask cache, activities 0 % .. 100 %, biases at the int32 limits (the saturating
 * path), a spike vector at an odd address, exact-size heap buffers. */
static void test_fc_spike_reference(void)
{
    static const uint32_t n_ins[] = {1, 3, 31, 32, 33, 64, 95, 1023, 1024, 1025, 1056, 2081};
    static const uint32_t pct[] = {0, 5, 15, 50, 100};
    uint32_t a, p, k, o;
    for (a = 0; a < sizeof n_ins / sizeof n_ins[0]; a++) {
        for (p = 0; p < sizeof pct / sizeof pct[0]; p++) {
            const uint32_t n_in = n_ins[a], n_out = 1u + (a + p) % 9u, shift = (a * 7u + p) % 32u;
            uint8_t *sbuf = malloc(n_in + 1u), *s = sbuf + 1;
            int16_t *w = malloc((size_t)n_in * n_out * 2u), *y = malloc(n_out * 2u);
            int32_t *b = malloc(n_out * 4u);
            for (k = 0; k < n_in; k++) s[k] = (uint8_t)(eh_test_rand() % 100u < pct[p]);
            for (k = 0; k < n_in * n_out; k++)
                w[k] = p == 4u && (k & 1u) ? 32767 : (int16_t)eh_test_rand();
            for (k = 0; k < n_out; k++)
                b[k] = k % 3u == 0u ? (k & 1u ? INT32_MAX : INT32_MIN)
                                   : (int32_t)(eh_test_rand() % 20001u) - 10000;
            EH_CHECK_EQ(eh_fc_spike_q15(n_in, n_out, s, w, b, shift, y), EH_OK);
            for (o = 0; o < n_out; o++)
                EH_CHECK_EQ(y[o], spike_ref_row(s, w + o * n_in, n_in, b[o], shift));
            EH_CHECK_EQ(eh_fc_spike_q15(n_in, n_out, s, w, 0, shift, y), EH_OK);
            for (o = 0; o < n_out; o++) EH_CHECK_EQ(y[o], spike_ref_row(s, w + o * n_in, n_in, 0, shift));
            /* a bad spike anywhere (here the last) rejects the call before any output is written */
            for (o = 0; o < n_out; o++) y[o] = 7;
            s[n_in - 1u] = 2;
            EH_CHECK_EQ(eh_fc_spike_q15(n_in, n_out, s, w, b, shift, y), EH_ERR_RANGE);
            for (o = 0; o < n_out; o++) EH_CHECK_EQ(y[o], 7);
            free(sbuf); free(w); free(y); free(b);
        }
    }
}

typedef eh_status (*fc_spike_t_fn)(uint32_t, uint32_t, const uint8_t *, const int16_t *, const int32_t *,
                                   uint32_t, int16_t *);

/* Both builds of eh_fc_spike_t_q15 (the host's and the cores' chunking) against the reference on
 * the transposed matrix: outputs across the chunks (8 and 256), inputs across the 32-input blocks
 * and the mask cache, activities 0 % .. 100 %, biases at the int32 limits, exact-size buffers. */
static void test_fc_spike_t_reference(void)
{
    static const uint32_t n_ins[] = {1, 3, 31, 32, 33, 95, 1023, 1024, 1025, 2081};
    static const uint32_t n_outs[] = {1, 7, 8, 9, 63, 255, 256, 257, 300};
    static const uint32_t pct[] = {0, 5, 15, 50, 100};
    static const fc_spike_t_fn fns[2] = {eh_fc_spike_t_q15, eh_fc_spike_t_q15_core};
    uint32_t a, c, p, k, o, f;
    for (a = 0; a < sizeof n_ins / sizeof n_ins[0]; a++) {
        for (c = 0; c < sizeof n_outs / sizeof n_outs[0]; c++) {
            const uint32_t n_in = n_ins[a], n_out = n_outs[c], nw = n_in * n_out;
            int16_t *w, *wt, *y;
            int32_t *b;
            uint8_t *sbuf, *s;
            if (nw > 300000u) continue; /* a short run: not the largest products */
            w = malloc(nw * 2u);
            wt = malloc(nw * 2u);
            y = malloc(n_out * 2u);
            b = malloc(n_out * 4u);
            sbuf = malloc(n_in + 1u);
            s = sbuf + 1;
            for (p = 0; p < sizeof pct / sizeof pct[0]; p++) {
                const uint32_t shift = (a * 7u + c * 3u + p) % 32u;
                for (k = 0; k < n_in; k++) s[k] = (uint8_t)(eh_test_rand() % 100u < pct[p]);
                for (o = 0; o < n_out; o++)
                    for (k = 0; k < n_in; k++) {
                        const int16_t v = p == 4u && ((o + k) & 1u) ? 32767 : (int16_t)eh_test_rand();
                        w[o * n_in + k] = v;
                        wt[k * n_out + o] = v;
                    }
                for (o = 0; o < n_out; o++)
                    b[o] = o % 5u == 0u ? (o & 1u ? INT32_MAX : INT32_MIN)
                                        : (int32_t)(eh_test_rand() % 20001u) - 10000;
                for (f = 0; f < 2u; f++) {
                    EH_CHECK_EQ(fns[f](n_in, n_out, s, wt, b, shift, y), EH_OK);
                    for (o = 0; o < n_out; o++)
                        EH_CHECK_EQ(y[o], spike_ref_row(s, w + o * n_in, n_in, b[o], shift));
                    EH_CHECK_EQ(fns[f](n_in, n_out, s, wt, 0, shift, y), EH_OK);
                    for (o = 0; o < n_out; o++) EH_CHECK_EQ(y[o], spike_ref_row(s, w + o * n_in, n_in, 0, shift));
                    /* a bad spike (the last) rejects the call before any output is written */
                    for (o = 0; o < n_out; o++) y[o] = 7;
                    s[n_in - 1u] = 2;
                    EH_CHECK_EQ(fns[f](n_in, n_out, s, wt, b, shift, y), EH_ERR_RANGE);
                    for (o = 0; o < n_out; o++) EH_CHECK_EQ(y[o], 7);
                    s[n_in - 1u] = 1;
                }
            }
            free(w); free(wt); free(y); free(b); free(sbuf);
        }
    }
}

/* More than 65535 active inputs with extreme weights: the accumulators reach the int32 limits at
 * different inputs (the saturating path, with the room measured again after each saturation). */
static void test_fc_spike_t_saturation(void)
{
    const uint32_t n_in = 65600u, n_out = 11u;
    static const fc_spike_t_fn fns[2] = {eh_fc_spike_t_q15, eh_fc_spike_t_q15_core};
    int16_t *w = malloc(n_in * n_out * 2u), *wt = malloc(n_in * n_out * 2u), y[11];
    int32_t b[11];
    uint8_t *s = malloc(n_in);
    uint32_t k, o, f;
    for (k = 0; k < n_in; k++) s[k] = (uint8_t)(k % 97u != 5u);
    for (o = 0; o < n_out; o++) {
        b[o] = o % 3u == 0u ? INT32_MAX : (o % 3u == 1u ? INT32_MIN : (int32_t)(eh_test_rand() % 1000u));
        for (k = 0; k < n_in; k++) {
            const int16_t v = o < 4u ? (int16_t)(k < n_in / 2u ? -32768 : 32767)
                                     : (o < 8u ? (int16_t)(k & 1u ? 32767 : -32768) : (int16_t)eh_test_rand());
            w[o * n_in + k] = v;
            wt[k * n_out + o] = v;
        }
    }
    for (f = 0; f < 2u; f++) {
        EH_CHECK_EQ(fns[f](n_in, n_out, s, wt, b, 0, y), EH_OK);
        for (o = 0; o < n_out; o++) EH_CHECK_EQ(y[o], spike_ref_row(s, w + o * n_in, n_in, b[o], 0));
        EH_CHECK_EQ(fns[f](n_in, n_out, s, wt, b, 17, y), EH_OK);
        for (o = 0; o < n_out; o++) EH_CHECK_EQ(y[o], spike_ref_row(s, w + o * n_in, n_in, b[o], 17));
    }
    free(w); free(wt); free(s);
}

static void test_fc_spike_t_bad_arguments(void)
{
    static const fc_spike_t_fn fns[2] = {eh_fc_spike_t_q15, eh_fc_spike_t_q15_core};
    int16_t wt[6] = {1, 2, 3, 4, 5, 6}, y[2] = {7, 7};
    int32_t b[2] = {0, 0};
    uint8_t s[3] = {1, 0, 1}, sbad[3] = {1, 2, 0};
    uint32_t f;
    for (f = 0; f < 2u; f++) {
        EH_CHECK_EQ(fns[f](3, 2, 0, wt, b, 0, y), EH_ERR_NULL);
        EH_CHECK_EQ(fns[f](3, 2, s, 0, b, 0, y), EH_ERR_NULL);
        EH_CHECK_EQ(fns[f](3, 2, s, wt, b, 0, 0), EH_ERR_NULL);
        EH_CHECK_EQ(fns[f](0, 2, s, wt, b, 0, y), EH_ERR_SIZE);
        EH_CHECK_EQ(fns[f](3, 0, s, wt, b, 0, y), EH_ERR_SIZE);
        EH_CHECK_EQ(fns[f](0x10000u, 0x10000u, s, wt, b, 0, y), EH_ERR_SIZE);
        EH_CHECK_EQ(fns[f](3, 2, s, wt, b, 32, y), EH_ERR_RANGE);
        EH_CHECK_EQ(fns[f](3, 2, sbad, wt, b, 0, y), EH_ERR_RANGE);
        EH_CHECK(y[0] == 7 && y[1] == 7);
        /* and a good call: y = b + rows 0 and 2 of wt = {1 + 5, 2 + 6} */
        EH_CHECK_EQ(fns[f](3, 2, s, wt, b, 0, y), EH_OK);
        EH_CHECK(y[0] == 6 && y[1] == 8);
        y[0] = y[1] = 7;
    }
}

static void test_values(void)
{
    int16_t x[2] = {32767, -32768}, y[3];
    float fx[4] = {-1.0f, 2.0f, 2.0f, 0.5f};
    uint32_t idx;
    uint16_t c[2] = {65535, 1};
    uint8_t s[2] = {1, 1};
    EH_CHECK_EQ(eh_relu_q15(2, x, y), EH_OK);
    EH_CHECK(y[0] == 32767 && y[1] == 0);
    EH_CHECK_EQ(eh_argmax_f32(4, fx, &idx), EH_OK);
    EH_CHECK_EQ(idx, 1);
    EH_CHECK_EQ(eh_spike_count_u16(2, s, c), EH_OK);
    EH_CHECK(c[0] == 65535 && c[1] == 2);
    fx[0] = 0.5f; fx[1] = -2.5f; fx[2] = 40000.0f;
    EH_CHECK_EQ(eh_quantize_f32_q15(3, fx, 1.0f, y), EH_OK);
    EH_CHECK(y[0] == 1 && y[1] == -3 && y[2] == 32767);
}

int main(void)
{
    test_bad_arguments();
    test_exact_buffers_and_dsp_path();
    test_fc_s8_wide_rows();
    test_fc_spike_reference();
    test_fc_spike_t_reference();
    test_fc_spike_t_saturation();
    test_fc_spike_t_bad_arguments();
    test_values();
    EH_TEST_DONE();
}
