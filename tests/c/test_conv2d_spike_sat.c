/* eh_conv2d_spike_sat_q15: bad arguments rejected with nothing written (output and scratch);
 * exact-size heap buffers over random geometries (odd sizes, strides, asymmetric padding,
 * dilation, groups, depthwise, odd channel counts) so ASan catches any out-of-bounds access; the
 * kernel equals a naive loop written from eh_conv2d.h (spikes in (ci, iy, ix) order, sat16 at
 * every addition), with saturating weights; the QADD16 path (its instruction emulated in C)
 * equals the portable one. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_conv2d.h"

#define EH_CONV2D_EMULATE_DSP 1
#define eh_conv2d_spike_sat_q15 eh_conv2d_spike_sat_q15_dsp_emu
#include "../../kernels_c/src/conv2d/eh_conv2d_spike_sat_q15.c"
#undef eh_conv2d_spike_sat_q15
eh_status eh_conv2d_spike_sat_q15(const eh_conv2d_dims *d, const uint8_t *s, const int16_t *wt,
                                  const int16_t *b, int16_t *scratch, int16_t *y);

static uint32_t rnd(uint32_t n) { return eh_test_rand() % n; }

static int32_t sat(int32_t v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }

/* The header's arithmetic: for each output, its contributions in spike order. */
static void naive(const eh_conv2d_dims *d, const uint8_t *s, const int16_t *wt, const int16_t *b,
                  uint32_t ho, uint32_t wo, int16_t *y)
{
    const uint32_t cg = d->c_in / d->groups, og = d->c_out / d->groups;
    uint32_t o, oy, ox, ci, iy, ix, ky, kx;
    for (o = 0; o < d->c_out; o++)
        for (oy = 0; oy < ho; oy++)
            for (ox = 0; ox < wo; ox++) {
                int32_t acc = b ? b[o] : 0;
                const uint32_t g = o / og;
                for (ci = g * cg; ci < (g + 1u) * cg; ci++)
                    for (iy = 0; iy < d->h_in; iy++)
                        for (ix = 0; ix < d->w_in; ix++) {
                            if (!s[(ci * d->h_in + iy) * d->w_in + ix]) continue;
                            for (ky = 0; ky < d->k_h; ky++)
                                for (kx = 0; kx < d->k_w; kx++)
                                    if (oy * d->stride_h + ky * d->dil_h == iy + d->pad_top &&
                                        ox * d->stride_w + kx * d->dil_w == ix + d->pad_left)
                                        acc = sat(acc + wt[((ci * d->k_h + ky) * d->k_w + kx) * og + (o - g * og)]);
                        }
                y[(o * ho + oy) * wo + ox] = (int16_t)acc;
            }
}

static eh_conv2d_dims base(void)
{
    eh_conv2d_dims d;
    memset(&d, 0, sizeof d);
    d.c_in = 2; d.h_in = 5; d.w_in = 6; d.c_out = 4; d.k_h = 3; d.k_w = 3;
    d.stride_h = 1; d.stride_w = 2; d.dil_h = 1; d.dil_w = 1; d.groups = 2;
    d.pad_top = 1; d.pad_left = 1; d.pad_bottom = 0; d.pad_right = 2;
    return d;
}

static void expect(const eh_conv2d_dims *d, const uint8_t *s, eh_status want)
{
    static int16_t wt[64], b[8], y[256], scratch[256];
    size_t i;
    memset(y, 0xA5, sizeof y);
    memset(scratch, 0xA5, sizeof scratch);
    EH_CHECK_EQ(eh_conv2d_spike_sat_q15(d, s, wt, b, scratch, y), want);
    EH_CHECK_EQ(eh_conv2d_spike_sat_q15_dsp_emu(d, s, wt, b, scratch, y), want);
    for (i = 0; i < 256; i++) EH_CHECK(y[i] == (int16_t)0xA5A5 && scratch[i] == (int16_t)0xA5A5);
}

static void test_bad_arguments(void)
{
    static uint8_t s[64];
    static int16_t wt[64], y[64], scratch[64];
    eh_conv2d_dims d = base();
    EH_CHECK_EQ(eh_conv2d_spike_sat_q15(0, s, wt, 0, scratch, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_spike_sat_q15(&d, 0, wt, 0, scratch, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_spike_sat_q15(&d, s, 0, 0, scratch, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_spike_sat_q15(&d, s, wt, 0, 0, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv2d_spike_sat_q15(&d, s, wt, 0, scratch, 0), EH_ERR_NULL);
    d = base(); d.c_in = 0; expect(&d, s, EH_ERR_SIZE);
    d = base(); d.stride_w = 0; expect(&d, s, EH_ERR_RANGE);
    d = base(); d.groups = 3; expect(&d, s, EH_ERR_SIZE);
    d = base(); d.pad_right = 3; expect(&d, s, EH_ERR_RANGE);
    d = base(); d.h_in = 1; d.pad_top = 0; expect(&d, s, EH_ERR_SIZE);
    d = base(); s[59] = 2; expect(&d, s, EH_ERR_RANGE); s[59] = 0; /* the last input */
    d = base(); EH_CHECK_EQ(eh_conv2d_spike_sat_q15(&d, s, wt, 0, scratch, y), EH_OK);
}

static void test_random_geometries(void)
{
    uint32_t it;
    for (it = 0; it < 500u; it++) {
        eh_conv2d_dims d;
        uint32_t ho, wo, n_in, n_w, n_out, i, rate;
        uint8_t *s;
        int16_t *wt, *b, *y, *y2, *y3, *scratch;
        memset(&d, 0, sizeof d);
        d.groups = 1u + rnd(3);
        if (rnd(4) == 0u) {
            d.c_in = d.c_out = d.groups * (1u + rnd(2)); /* depthwise when groups == c_in */
            d.groups = d.c_in;
        } else {
            d.c_in = d.groups * (1u + rnd(3));
            d.c_out = d.groups * (1u + rnd(7));
        }
        d.k_h = 1u + rnd(5); d.k_w = 1u + rnd(5);
        d.dil_h = 1u + rnd(3); d.dil_w = 1u + rnd(3);
        d.stride_h = 1u + rnd(3); d.stride_w = 1u + rnd(3);
        d.pad_top = rnd(d.dil_h * (d.k_h - 1u) + 1u); d.pad_bottom = rnd(d.dil_h * (d.k_h - 1u) + 1u);
        d.pad_left = rnd(d.dil_w * (d.k_w - 1u) + 1u); d.pad_right = rnd(d.dil_w * (d.k_w - 1u) + 1u);
        d.h_in = 1u + rnd(12); d.w_in = 1u + rnd(13);
        if (eh_conv2d_out_size(&d, &ho, &wo) != EH_OK) continue;
        n_in = d.c_in * d.h_in * d.w_in;
        n_w = d.c_out * (d.c_in / d.groups) * d.k_h * d.k_w;
        n_out = d.c_out * ho * wo;
        s = malloc(n_in); wt = malloc(n_w * 2u); b = malloc(d.c_out * 2u);
        y = malloc(n_out * 2u); y2 = malloc(n_out * 2u); y3 = malloc(n_out * 2u); scratch = malloc(n_out * 2u);
        rate = 1u + rnd(4);
        for (i = 0; i < n_in; i++) s[i] = (uint8_t)(rnd(5) < rate);
        for (i = 0; i < n_w; i++) wt[i] = it % 3u == 0u ? (int16_t)(rnd(601) - 300) : (int16_t)eh_test_rand();
        for (i = 0; i < d.c_out; i++) b[i] = (int16_t)eh_test_rand();
        EH_CHECK_EQ(eh_conv2d_spike_sat_q15(&d, s, wt, it % 2u ? b : 0, scratch, y), EH_OK);
        EH_CHECK_EQ(eh_conv2d_spike_sat_q15_dsp_emu(&d, s, wt, it % 2u ? b : 0, scratch, y2), EH_OK);
        naive(&d, s, wt, it % 2u ? b : 0, ho, wo, y3);
        for (i = 0; i < n_out; i++) {
            EH_CHECK_EQ(y[i], y3[i]);
            EH_CHECK_EQ(y2[i], y3[i]);
        }
        free(s); free(wt); free(b); free(y); free(y2); free(y3); free(scratch);
    }
}

int main(void)
{
    test_bad_arguments();
    test_random_geometries();
    EH_TEST_DONE();
}
