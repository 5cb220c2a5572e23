/* conv2d family: bad arguments rejected with nothing written (output and scratch); exact-size
 * heap buffers over random geometries (odd sizes, strides, asymmetric padding, dilation, groups,
 * depthwise) so ASan catches any out-of-bounds access; every kernel equals a naive loop written
 * from eh_conv2d.h; the SMLALD path (its instructions emulated in C) equals the portable one; the
 * event-driven kernel equals the dense one on spikes, the 64-bit gather fallback included. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_conv2d.h"

/* The DSP path of eh_conv2d_q15 compiled on the host with the instructions emulated. */
#define EH_CONV2D_EMULATE_DSP 1
#define eh_conv2d_q15 eh_conv2d_q15_dsp_emu
#include "../../kernels_c/src/conv2d/eh_conv2d_q15.c"
#undef eh_conv2d_q15
eh_status eh_conv2d_q15(const eh_conv2d_dims *d, const int16_t *x, const int16_t *w,
                        const int32_t *b, uint32_t shift, int16_t *y);

static eh_conv2d_dims base_dims(void)
{
    eh_conv2d_dims d;
    memset(&d, 0, sizeof d);
    d.c_in = 2; d.h_in = 5; d.w_in = 6; d.c_out = 4; d.k_h = 3; d.k_w = 3;
    d.stride_h = 1; d.stride_w = 2; d.dil_h = 1; d.dil_w = 1; d.groups = 2;
    d.pad_top = 1; d.pad_left = 1; d.pad_bottom = 0; d.pad_right = 2;
    return d;
}

static int all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *c = p;
    size_t i;
    for (i = 0; i < n; i++)
        if (c[i] != v) return 0;
    return 1;
}

/* Every kernel returns `want` on d and writes nothing. */
static void expect_all(const eh_conv2d_dims *d, eh_status want)
{
    static int16_t x[64], w[64], y[256];
    static uint8_t s[64];
    static float xf[64], wf[64], yf[256];
    static int32_t b[8], scratch[256];
    uint32_t h = 77, wo = 77;
    memset(y, 0xA5, sizeof y);
    memset(yf, 0xA5, sizeof yf);
    memset(scratch, 0xA5, sizeof scratch);
    EH_CHECK_EQ(eh_conv2d_out_size(d, &h, &wo), want);
    EH_CHECK_EQ(eh_conv2d_q15(d, x, w, b, 3, y), want);
    EH_CHECK_EQ(eh_conv2d_q15_dsp_emu(d, x, w, b, 3, y), want);
    EH_CHECK_EQ(eh_conv2d_spike_q15(d, s, w, b, 3, scratch, y), want);
    EH_CHECK_EQ(eh_conv2d_f32(d, xf, wf, 0, yf), want);
    EH_CHECK(h == 77 && wo == 77);
    EH_CHECK(all_bytes(y, sizeof y, 0xA5) && all_bytes(yf, sizeof yf, 0xA5));
    EH_CHECK(all_bytes(scratch, sizeof scratch, 0xA5));
}

static void test_bad_arguments(void)
{
    eh_conv2d_dims d = base_dims(), bad;
    static int16_t x[64], w[64], y[64];
    static uint8_t s[64];
    static int32_t scratch[64];
    static float f[64];
    uint32_t h, wo;

    EH_CHECK_EQ(eh_conv2d_out_size(&d, &h, &wo), EH_OK);
    EH_CHECK(h == 4 && wo == 4); /* (5+1-3)/1+1, (6+3-3)/2+1 */
    EH_CHECK_EQ(eh_conv2d_out_size(0, &h, &wo), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_out_size(&d, 0, &wo), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_q15(0, x, w, 0, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_q15(&d, 0, w, 0, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_q15(&d, x, 0, 0, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_q15(&d, x, w, 0, 0, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_f32(&d, 0, f, 0, f), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_f32(&d, f, f, 0, 0), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_spike_q15(&d, s, w, 0, 0, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_spike_q15(&d, 0, w, 0, 0, scratch, y), EH_ERR_NULL);

    bad = d; bad.c_in = 0; expect_all(&bad, EH_ERR_SIZE);
    bad = d; bad.w_in = 0; expect_all(&bad, EH_ERR_SIZE);
    bad = d; bad.k_h = 0; expect_all(&bad, EH_ERR_SIZE);
    bad = d; bad.c_out = 65536; expect_all(&bad, EH_ERR_SIZE);
    bad = d; bad.stride_h = 0; expect_all(&bad, EH_ERR_RANGE);
    bad = d; bad.dil_w = 0; expect_all(&bad, EH_ERR_RANGE);
    bad = d; bad.stride_w = 65536; expect_all(&bad, EH_ERR_RANGE);
    bad = d; bad.dil_h = 40000; expect_all(&bad, EH_ERR_RANGE); /* span 80001 */
    bad = d; bad.groups = 0; expect_all(&bad, EH_ERR_RANGE);
    bad = d; bad.groups = 3; expect_all(&bad, EH_ERR_SIZE);
    bad = d; bad.c_out = 3; expect_all(&bad, EH_ERR_SIZE);
    bad = d; bad.pad_top = 3; expect_all(&bad, EH_ERR_RANGE);
    bad = d; bad.pad_right = 3; expect_all(&bad, EH_ERR_RANGE);
    bad = d; bad.h_in = 1; bad.pad_top = 0; expect_all(&bad, EH_ERR_SIZE);
    bad = d; bad.c_in = 65534; bad.h_in = 65535; bad.w_in = 1; bad.k_h = 1; bad.k_w = 1;
    bad.pad_top = bad.pad_left = bad.pad_bottom = bad.pad_right = 0;
    expect_all(&bad, EH_ERR_SIZE); /* 2^32-ish inputs */

    /* shift and spikes: nothing written */
    memset(y, 0xA5, sizeof y);
    memset(scratch, 0xA5, sizeof scratch);
    memset(s, 0, sizeof s);
    EH_CHECK_EQ(eh_conv2d_q15(&d, x, w, 0, 32, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_spike_q15(&d, s, w, 0, 32, scratch, y), EH_ERR_RANGE);
    s[59] = 2; /* the last input */
    EH_CHECK_EQ(eh_conv2d_spike_q15(&d, s, w, 0, 0, scratch, y), EH_ERR_RANGE);
    s[59] = 0; s[13] = 0x80;
    EH_CHECK_EQ(eh_conv2d_spike_q15(&d, s, w, 0, 0, scratch, y), EH_ERR_RANGE);
    EH_CHECK(all_bytes(y, sizeof y, 0xA5) && all_bytes(scratch, sizeof scratch, 0xA5));
}

static uint32_t rnd(uint32_t n) { return eh_test_rand() % n; }

/* The header's formula, straight. */
static int64_t ref_q15(const eh_conv2d_dims *d, uint32_t ho, uint32_t wo, const int16_t *x,
                       const int16_t *w, const int32_t *b, uint32_t o, uint32_t oy, uint32_t ox)
{
    const uint32_t cg = d->c_in / d->groups, og = d->c_out / d->groups, grp = o / og;
    int64_t acc = b ? b[o] : 0;
    uint32_t j, ky, kx;
    (void)ho; (void)wo;
    for (j = 0; j < cg; j++)
        for (ky = 0; ky < d->k_h; ky++)
            for (kx = 0; kx < d->k_w; kx++) {
                const long iy = (long)(oy * d->stride_h) - (long)d->pad_top + (long)(ky * d->dil_h);
                const long ix = (long)(ox * d->stride_w) - (long)d->pad_left + (long)(kx * d->dil_w);
                if (iy < 0 || ix < 0 || iy >= (long)d->h_in || ix >= (long)d->w_in) continue;
                acc += (int64_t)w[((o * cg + j) * d->k_h + ky) * d->k_w + kx] *
                       x[((grp * cg + j) * d->h_in + (uint32_t)iy) * d->w_in + (uint32_t)ix];
            }
    return acc;
}

static int16_t out_q15(int64_t acc, uint32_t s)
{
    if (s) acc = (acc + ((int64_t)1 << (s - 1))) >> s;
    return (int16_t)(acc > 32767 ? 32767 : acc < -32768 ? -32768 : acc);
}

static float ref_f32(const eh_conv2d_dims *d, const float *x, const float *w, const float *b,
                     uint32_t o, uint32_t oy, uint32_t ox)
{
    const uint32_t cg = d->c_in / d->groups, og = d->c_out / d->groups, grp = o / og;
    float acc = 0.0f;
    uint32_t j, ky, kx;
    for (j = 0; j < cg; j++)
        for (ky = 0; ky < d->k_h; ky++)
            for (kx = 0; kx < d->k_w; kx++) {
                const long iy = (long)(oy * d->stride_h) - (long)d->pad_top + (long)(ky * d->dil_h);
                const long ix = (long)(ox * d->stride_w) - (long)d->pad_left + (long)(kx * d->dil_w);
                float p;
                if (iy < 0 || ix < 0 || iy >= (long)d->h_in || ix >= (long)d->w_in) continue;
                p = w[((o * cg + j) * d->k_h + ky) * d->k_w + kx] *
                    x[((grp * cg + j) * d->h_in + (uint32_t)iy) * d->w_in + (uint32_t)ix];
                acc = acc + p;
            }
    return b ? acc + b[o] : acc;
}

static void test_random_geometries(void)
{
    uint32_t it;
    for (it = 0; it < 400; it++) {
        eh_conv2d_dims d;
        uint32_t ho, wo, n_in, n_out, n_w, i, o, oy, ox, span_h, span_w, shift, mode;
        int16_t *x, *w, *y, *y2, *y3;
        uint8_t *s;
        int32_t *b, *scratch;
        float *xf, *wf, *bf, *yf;
        memset(&d, 0, sizeof d);
        d.groups = 1u + rnd(3);
        d.c_in = d.groups * (rnd(4) == 0 ? 1u : 1u + rnd(3));
        d.c_out = d.groups * (1u + rnd(3));
        d.k_h = 1u + rnd(5); d.k_w = 1u + rnd(5);
        d.dil_h = 1u + rnd(3); d.dil_w = 1u + rnd(3);
        d.stride_h = 1u + rnd(3); d.stride_w = 1u + rnd(3);
        span_h = d.dil_h * (d.k_h - 1u) + 1u; span_w = d.dil_w * (d.k_w - 1u) + 1u;
        d.pad_top = rnd(span_h); d.pad_bottom = rnd(span_h);
        d.pad_left = rnd(span_w); d.pad_right = rnd(span_w);
        d.h_in = 1u + rnd(span_h + 8u); d.w_in = 1u + rnd(span_w + 8u);
        if (eh_conv2d_out_size(&d, &ho, &wo) != EH_OK) continue;
        shift = rnd(32); mode = rnd(3);
        n_in = d.c_in * d.h_in * d.w_in; n_out = d.c_out * ho * wo;
        n_w = d.c_out * (d.c_in / d.groups) * d.k_h * d.k_w;
        x = malloc(n_in * sizeof *x); s = malloc(n_in); xf = malloc(n_in * sizeof *xf);
        w = malloc(n_w * sizeof *w); wf = malloc(n_w * sizeof *wf);
        b = malloc(d.c_out * sizeof *b); bf = malloc(d.c_out * sizeof *bf);
        y = malloc(n_out * sizeof *y); y2 = malloc(n_out * sizeof *y2); y3 = malloc(n_out * sizeof *y3);
        scratch = malloc(n_out * sizeof *scratch); yf = malloc(n_out * sizeof *yf);
        for (i = 0; i < n_in; i++) {
            x[i] = (int16_t)eh_test_rand();
            s[i] = (uint8_t)(rnd(4) == 0);
            xf[i] = (float)(int16_t)eh_test_rand() / 256.0f;
        }
        for (i = 0; i < n_w; i++) {
            w[i] = mode == 0 ? (int16_t)eh_test_rand() : (int16_t)(rnd(512) - 256);
            wf[i] = (float)(int16_t)eh_test_rand() / 1024.0f;
        }
        for (i = 0; i < d.c_out; i++) {
            b[i] = mode == 2 ? (rnd(2) ? INT32_MAX : INT32_MIN) : (int32_t)(rnd(1u << 20)) - (1 << 19);
            bf[i] = (float)(int16_t)eh_test_rand() / 64.0f;
        }
        EH_CHECK_EQ(eh_conv2d_q15(&d, x, w, b, shift, y), EH_OK);
        EH_CHECK_EQ(eh_conv2d_q15_dsp_emu(&d, x, w, b, shift, y2), EH_OK);
        EH_CHECK_EQ(eh_conv2d_f32(&d, xf, wf, it % 2 ? bf : 0, yf), EH_OK);
        for (o = 0; o < d.c_out; o++)
            for (oy = 0; oy < ho; oy++)
                for (ox = 0; ox < wo; ox++) {
                    const uint32_t k = (o * ho + oy) * wo + ox;
                    const int16_t r = out_q15(ref_q15(&d, ho, wo, x, w, b, o, oy, ox), shift);
                    const float rf = ref_f32(&d, xf, wf, it % 2 ? bf : 0, o, oy, ox);
                    EH_CHECK_EQ(y[k], r);
                    EH_CHECK_EQ(y2[k], r);
                    EH_CHECK(memcmp(&yf[k], &rf, sizeof rf) == 0);
                }
        /* spikes: equal to the dense kernel on x = s */
        for (i = 0; i < n_in; i++) x[i] = s[i];
        EH_CHECK_EQ(eh_conv2d_q15(&d, x, w, b, shift, y), EH_OK);
        EH_CHECK_EQ(eh_conv2d_spike_q15(&d, s, w, it % 3 ? b : 0, shift, scratch, y3), EH_OK);
        if (it % 3 == 0) EH_CHECK_EQ(eh_conv2d_q15(&d, x, w, 0, shift, y), EH_OK);
        for (i = 0; i < n_out; i++) EH_CHECK_EQ(y3[i], y[i]);
        free(x); free(s); free(xf); free(w); free(wf); free(b); free(bf);
        free(y); free(y2); free(y3); free(scratch); free(yf);
    }
}

int main(void)
{
    test_bad_arguments();
    test_random_geometries();
    EH_TEST_DONE();
}
