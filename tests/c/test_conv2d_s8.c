/* eh_conv2d_s8, eh_maxpool2d_s8, eh_avgpool2d_s8 (int8, channel-last): bad arguments are rejected
 * without touching the output; exact-size heap buffers over many shapes (ASan catches any access
 * past an end); the DSP path of the convolution, compiled here with C emulations of
 * SMLAD/SXTB16/SXTAB16 (EH_DSP_EMULATE), is bit-exact with the portable path, and both equal a
 * direct transcription of the header's formula (any groups, stride, dilation, padding). */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_test_s8.h"
#include "eh_conv2d.h"

/* The same source built a second time with the emulated DSP instructions. */
#define EH_DSP_EMULATE 1
#define eh_conv2d_s8 eh_conv2d_s8_dsp_emulated
#include "../../kernels_c/src/conv2d/eh_conv2d_s8.c"
#undef eh_conv2d_s8
#undef EH_DSP_EMULATE

#define ALL -128, 127

static void test_bad_arguments(void)
{
    int8_t x[5 * 6 * 4], w[6 * 3 * 3 * 4], y[5 * 6 * 6];
    int32_t mult = 1 << 30, sh = -3, badmult = -1, badsh = 31, b[6] = {0};
    int32_t mult6[6] = {1, 2, 3, 4, 5, -5}, sh6[6] = {0};
    eh_conv2d_dims d = {4, 5, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, e;
    eh_pool2d_dims p = {4, 5, 6, 2, 2, 2, 2, 0, 0, 1, 0}, q;
    size_t i;
    memset(x, 1, sizeof x);
    memset(w, 1, sizeof w);
    memset(y, 0x5A, sizeof y);
    EH_CHECK_EQ(eh_conv2d_s8(0, x, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_s8(&d, 0, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, 0, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, 0, &sh, 0, 0, ALL, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, 0, 0, 0, ALL, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, ALL, 0), EH_ERR_NULL);
    e = d; e.c_in = 0;     EH_CHECK_EQ(eh_conv2d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_SIZE);
    e = d; e.stride_w = 0; EH_CHECK_EQ(eh_conv2d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_RANGE);
    e = d; e.groups = 3;   EH_CHECK_EQ(eh_conv2d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_SIZE);
    e = d; e.pad_left = 3; EH_CHECK_EQ(eh_conv2d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_RANGE);
    /* (c_in / groups) k_h k_w = 65537 > EH_CONV2D_S8_MAX_ROW: checked after the geometry */
    e = d; e.c_in = 65537; e.c_out = 1; e.k_h = 1; e.k_w = 1; e.h_in = 1; e.w_in = 1; e.pad_top = e.pad_left = e.pad_bottom = e.pad_right = 0;
    EH_CHECK_EQ(eh_conv2d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_SIZE);
    e = d; e.c_in = 7282; e.c_out = 1; e.h_in = 3; e.w_in = 3; /* 7282 * 9 = 65538 */
    EH_CHECK_EQ(eh_conv2d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &sh, 2, 0, ALL, y), EH_ERR_ARG);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 129, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, -128, w, b, &mult, &sh, 0, 0, ALL, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &sh, 0, 128, ALL, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &sh, 0, -129, ALL, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, -129, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, 5, 4, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, -128, 128, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &badmult, &sh, 0, 0, ALL, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &badsh, 0, 0, ALL, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, mult6, sh6, 1, 0, ALL, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_maxpool2d_s8(0, x, ALL, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_maxpool2d_s8(&p, 0, ALL, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_avgpool2d_s8(&p, x, ALL, 0), EH_ERR_NULL);
    q = p; q.k_w = 0;    EH_CHECK_EQ(eh_avgpool2d_s8(&q, x, ALL, y), EH_ERR_SIZE);
    q = p; q.pad_top = 2; EH_CHECK_EQ(eh_maxpool2d_s8(&q, x, ALL, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_maxpool2d_s8(&p, x, -129, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_avgpool2d_s8(&p, x, 3, 2, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_avgpool2d_s8(&p, x, -128, 128, y), EH_ERR_RANGE);
    for (i = 0; i < sizeof y; i++) EH_CHECK_EQ(y[i], 0x5A); /* nothing written */
    EH_CHECK_EQ(eh_conv2d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, ALL, y), EH_OK);
    EH_CHECK_EQ(eh_maxpool2d_s8(&p, x, ALL, y), EH_OK);
}

static uint32_t out_size(uint32_t in, uint32_t pb, uint32_t pa, uint32_t k, uint32_t dil, uint32_t s)
{
    return (in + pb + pa - (dil * (k - 1u) + 1u)) / s + 1u;
}

static void reference(const eh_conv2d_dims *d, const int8_t *x, int32_t xo, const int8_t *w, const int32_t *b,
                      const int32_t *mult, const int32_t *shift, uint32_t pc, int32_t yo, int32_t lo, int32_t hi, int8_t *y)
{
    const uint32_t ho = out_size(d->h_in, d->pad_top, d->pad_bottom, d->k_h, d->dil_h, d->stride_h);
    const uint32_t wo = out_size(d->w_in, d->pad_left, d->pad_right, d->k_w, d->dil_w, d->stride_w);
    const uint32_t cg = d->c_in / d->groups, og = d->c_out / d->groups;
    for (uint32_t oy = 0; oy < ho; oy++)
        for (uint32_t ox = 0; ox < wo; ox++)
            for (uint32_t o = 0; o < d->c_out; o++) {
                int64_t acc = b ? b[o] : 0, s;
                int32_t v;
                for (uint32_t ky = 0; ky < d->k_h; ky++)
                    for (uint32_t kx = 0; kx < d->k_w; kx++) {
                        int64_t iy = (int64_t)oy * d->stride_h - d->pad_top + (int64_t)ky * d->dil_h;
                        int64_t ix = (int64_t)ox * d->stride_w - d->pad_left + (int64_t)kx * d->dil_w;
                        if (iy < 0 || iy >= d->h_in || ix < 0 || ix >= d->w_in) continue;
                        for (uint32_t j = 0; j < cg; j++)
                            acc += ((int64_t)x[(iy * d->w_in + ix) * d->c_in + (o / og) * cg + j] + xo) *
                                   w[((o * d->k_h + ky) * d->k_w + kx) * cg + j];
                    }
                if (acc > INT32_MAX) acc = INT32_MAX;
                if (acc < INT32_MIN) acc = INT32_MIN;
                s = (int64_t)eh_test_requant(acc, mult[pc ? o : 0], shift[pc ? o : 0]) + yo;
                v = s > 127 ? 127 : s < -128 ? -128 : (int32_t)s;
                y[(oy * wo + ox) * d->c_out + o] = (int8_t)(v < lo ? lo : v > hi ? hi : v);
            }
}

static void test_random_shapes(void)
{
    for (int it = 0; it < 1500; it++) {
        eh_conv2d_dims d;
        uint32_t nx, nw, ny, pc = eh_test_rand() & 1u, nq, i, extreme = it % 7 == 0, ho, wo, sh, sw;
        int32_t xo, yo, lo, hi;
        int8_t *x, *w, *y0, *y1, *y2;
        int32_t *b, *mult, *shift;
        uint32_t r = eh_test_rand() % 4u;
        d.groups = r == 0 ? 1u + eh_test_rand() % 3u : 1u;       /* one in four grouped */
        d.c_in = d.groups * (1u + eh_test_rand() % (r == 0 ? 4u : 9u));
        d.c_out = d.groups * (1u + eh_test_rand() % 5u);
        if (it % 9 == 0) { d.groups = d.c_in; d.c_out = d.c_in * (1u + eh_test_rand() % 2u); } /* depthwise */
        d.k_h = 1u + eh_test_rand() % 4u;
        d.k_w = 1u + eh_test_rand() % 4u;
        if (it % 25 == 0) { d.k_h = 8u + eh_test_rand() % 3u; d.k_w = 8u + eh_test_rand() % 3u; } /* > 64 taps */
        d.stride_h = 1u + eh_test_rand() % 3u;
        d.stride_w = 1u + eh_test_rand() % 3u;
        d.dil_h = (eh_test_rand() % 5u == 0) ? 2u : 1u;
        d.dil_w = (eh_test_rand() % 5u == 0) ? 2u : 1u;
        sh = d.dil_h * (d.k_h - 1u) + 1u;
        sw = d.dil_w * (d.k_w - 1u) + 1u;
        d.pad_top = eh_test_rand() % sh; d.pad_bottom = eh_test_rand() % sh;
        d.pad_left = eh_test_rand() % sw; d.pad_right = eh_test_rand() % sw;
        d.h_in = 1u + eh_test_rand() % (d.k_h > 4u ? 14u : 9u);
        d.w_in = 1u + eh_test_rand() % (d.k_w > 4u ? 14u : 9u);
        if (d.h_in + d.pad_top + d.pad_bottom < sh) d.h_in = sh;
        if (d.w_in + d.pad_left + d.pad_right < sw) d.w_in = sw;
        ho = out_size(d.h_in, d.pad_top, d.pad_bottom, d.k_h, d.dil_h, d.stride_h);
        wo = out_size(d.w_in, d.pad_left, d.pad_right, d.k_w, d.dil_w, d.stride_w);
        nx = d.h_in * d.w_in * d.c_in; nw = d.c_out * d.k_h * d.k_w * (d.c_in / d.groups); ny = ho * wo * d.c_out;
        nq = pc ? d.c_out : 1u;
        x = malloc(nx); w = malloc(nw); y0 = malloc(ny); y1 = malloc(ny); y2 = malloc(ny);
        b = (eh_test_rand() & 3u) ? malloc(4u * d.c_out) : 0;
        mult = malloc(4u * nq); shift = malloc(4u * nq);
        for (i = 0; i < nx; i++) x[i] = extreme ? (int8_t)((eh_test_rand() & 1u) ? 127 : -128) : (int8_t)eh_test_rand();
        for (i = 0; i < nw; i++) w[i] = extreme ? -128 : (int8_t)eh_test_rand();
        for (i = 0; b && i < d.c_out; i++) b[i] = extreme ? (int32_t)eh_test_rand() : (int32_t)(eh_test_rand() % 40001u) - 20000;
        for (i = 0; i < nq; i++) {
            mult[i] = (int32_t)((1u << 30) + (eh_test_rand() >> 2));
            shift[i] = extreme ? (int32_t)(eh_test_rand() % 62u) - 31 : -(int32_t)(eh_test_rand() % 14u);
        }
        xo = extreme ? ((it & 8) ? 128 : -127) : (int32_t)(eh_test_rand() % 256u) - 127;
        yo = (int32_t)(eh_test_rand() % 256u) - 128;
        lo = (int32_t)(eh_test_rand() % 256u) - 128;
        hi = lo + (int32_t)(eh_test_rand() % (uint32_t)(128 - lo));
        if (it % 3 == 0) { lo = -128; hi = 127; }
        EH_CHECK_EQ(eh_conv2d_s8(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y0), EH_OK);
        EH_CHECK_EQ(eh_conv2d_s8_dsp_emulated(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y1), EH_OK);
        reference(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y2);
        EH_CHECK(memcmp(y0, y1, ny) == 0);
        EH_CHECK(memcmp(y0, y2, ny) == 0);
        free(x); free(w); free(y0); free(y1); free(y2); free(b); free(mult); free(shift);
    }
}

static void test_pools(void)
{
    for (int it = 0; it < 1000; it++) {
        eh_pool2d_dims p;
        uint32_t ho, wo, nx, ny, i;
        int32_t lo, hi;
        int8_t *x, *y0, *y1;
        p.c = 1u + eh_test_rand() % 9u;
        p.k_h = 1u + eh_test_rand() % 4u;
        p.k_w = 1u + eh_test_rand() % 4u;
        if (it % 10 == 0) { p.k_h = 8u + eh_test_rand() % 4u; p.k_w = 8u + eh_test_rand() % 4u; } /* > 64 taps */
        p.stride_h = 1u + eh_test_rand() % 3u;
        p.stride_w = 1u + eh_test_rand() % 3u;
        p.pad_top = eh_test_rand() % p.k_h; p.pad_bottom = eh_test_rand() % p.k_h;
        p.pad_left = eh_test_rand() % p.k_w; p.pad_right = eh_test_rand() % p.k_w;
        p.h_in = 1u + eh_test_rand() % (p.k_h > 4u ? 16u : 9u);
        p.w_in = 1u + eh_test_rand() % (p.k_w > 4u ? 16u : 9u);
        if (p.h_in + p.pad_top + p.pad_bottom < p.k_h) p.h_in = p.k_h;
        if (p.w_in + p.pad_left + p.pad_right < p.k_w) p.w_in = p.k_w;
        ho = out_size(p.h_in, p.pad_top, p.pad_bottom, p.k_h, 1u, p.stride_h);
        wo = out_size(p.w_in, p.pad_left, p.pad_right, p.k_w, 1u, p.stride_w);
        nx = p.h_in * p.w_in * p.c; ny = ho * wo * p.c;
        x = malloc(nx); y0 = malloc(ny); y1 = malloc(ny);
        for (i = 0; i < nx; i++) x[i] = it % 5 == 0 ? (int8_t)((eh_test_rand() & 1u) ? 127 : -128) : (int8_t)eh_test_rand();
        lo = (int32_t)(eh_test_rand() % 256u) - 128;
        hi = lo + (int32_t)(eh_test_rand() % (uint32_t)(128 - lo));
        if (it % 2 == 0) { lo = -128; hi = 127; }
        EH_CHECK_EQ(eh_maxpool2d_s8(&p, x, lo, hi, y0), EH_OK);
        EH_CHECK_EQ(eh_avgpool2d_s8(&p, x, lo, hi, y1), EH_OK);
        for (uint32_t oy = 0; oy < ho; oy++)
            for (uint32_t ox = 0; ox < wo; ox++)
                for (uint32_t c = 0; c < p.c; c++) {
                    int32_t mx = -1000, sum = 0, n = 0, v;
                    for (uint32_t ky = 0; ky < p.k_h; ky++)
                        for (uint32_t kx = 0; kx < p.k_w; kx++) {
                            int64_t iy = (int64_t)oy * p.stride_h - p.pad_top + ky;
                            int64_t ix = (int64_t)ox * p.stride_w - p.pad_left + kx;
                            if (iy < 0 || iy >= p.h_in || ix < 0 || ix >= p.w_in) continue;
                            v = x[(iy * p.w_in + ix) * p.c + c];
                            if (v > mx) mx = v;
                            sum += v;
                            n++;
                        }
                    EH_CHECK(n >= 1);
                    v = sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n;
                    mx = mx < lo ? lo : mx > hi ? hi : mx;
                    v = v < lo ? lo : v > hi ? hi : v;
                    EH_CHECK_EQ(y0[(oy * wo + ox) * p.c + c], mx);
                    EH_CHECK_EQ(y1[(oy * wo + ox) * p.c + c], v);
                }
        free(x); free(y0); free(y1);
    }
}

int main(void)
{
    test_bad_arguments();
    test_random_shapes();
    test_pools();
    EH_TEST_DONE();
}
