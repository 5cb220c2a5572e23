/* eh_conv1d_s8: bad arguments are rejected without touching the output; exact-size heap buffers
 * over many shapes (ASan catches any access past an end); the DSP path, compiled here with C
 * emulations of SMLAD/SXTB16/SXTAB16 (EH_DSP_EMULATE), is bit-exact with the portable path over
 * random and extreme data, and both equal a direct transcription of the header's formula. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_test_s8.h"
#include "eh_basic.h"

/* The same source built a second time with the emulated DSP instructions. */
#define EH_DSP_EMULATE 1
#define eh_conv1d_s8 eh_conv1d_s8_dsp_emulated
#include "../../kernels_c/src/basic/eh_conv1d_s8.c"
#undef eh_conv1d_s8
#undef EH_DSP_EMULATE

static void test_bad_arguments(void)
{
    int8_t x[8 * 5], w[3 * 3 * 5], y[8 * 3];
    int32_t mult = 1 << 30, sh = 0, badmult = -1, badsh = 31, b[3] = {0, 0, 0};
    int32_t mult3[3] = {1, 2, -5}, sh3[3] = {0, 0, 0};
    eh_conv1d_s8_dims d = {5, 8, 3, 3, 1, 1, 8}, e;
    size_t i;
    memset(x, 1, sizeof x);
    memset(w, 1, sizeof w);
    memset(y, 0x5A, sizeof y);
    EH_CHECK_EQ(eh_conv1d_s8(0, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv1d_s8(&d, 0, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, 0, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, 0, &sh, 0, 0, -128, 127, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, 0, 0, 0, -128, 127, y), EH_ERR_NULL);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, 0), EH_ERR_NULL);
    e = d; e.n_in = 0;  EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.t_in = 0;  EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.n_out = 0; EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.taps = 0;  EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.stride = 0; EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.t_out = 0; EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.pad = 3;   EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.t_out = 10; EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.n_in = 16385; e.taps = 4; e.pad = 0; e.t_out = 1;
    EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    e = d; e.t_in = 0x10000u; e.n_in = 0x10000u; e.taps = 1; e.pad = 0;
    EH_CHECK_EQ(eh_conv1d_s8(&e, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &sh, 2, 0, -128, 127, y), EH_ERR_ARG);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 129, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, -128, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &sh, 0, 128, -128, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &sh, 0, -129, -128, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, -129, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, 5, 4, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, -128, 128, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &badmult, &sh, 0, 0, -128, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &badsh, 0, 0, -128, 127, y), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, mult3, sh3, 1, 0, -128, 127, y), EH_ERR_RANGE);
    for (i = 0; i < sizeof y; i++) EH_CHECK_EQ(y[i], 0x5A); /* nothing written */
    EH_CHECK_EQ(eh_conv1d_s8(&d, x, 0, w, b, &mult, &sh, 0, 0, -128, 127, y), EH_OK);
}

static void reference(const eh_conv1d_s8_dims *d, const int8_t *x, int32_t xo, const int8_t *w, const int32_t *b,
                      const int32_t *mult, const int32_t *shift, uint32_t pc, int32_t yo, int32_t lo, int32_t hi, int8_t *y)
{
    for (uint32_t t = 0; t < d->t_out; t++)
        for (uint32_t o = 0; o < d->n_out; o++) {
            int64_t acc = b ? b[o] : 0, s;
            int32_t v;
            for (uint32_t k = 0; k < d->taps; k++) {
                int64_t p = (int64_t)t * d->stride - d->pad + k;
                if (p < 0 || p >= d->t_in) continue;
                for (uint32_t c = 0; c < d->n_in; c++)
                    acc += ((int64_t)x[p * d->n_in + c] + xo) * w[(o * d->taps + k) * d->n_in + c];
            }
            if (acc > INT32_MAX) acc = INT32_MAX;
            if (acc < INT32_MIN) acc = INT32_MIN;
            s = (int64_t)eh_test_requant(acc, mult[pc ? o : 0], shift[pc ? o : 0]) + yo;
            v = s > 127 ? 127 : s < -128 ? -128 : (int32_t)s;
            y[t * d->n_out + o] = (int8_t)(v < lo ? lo : v > hi ? hi : v);
        }
}

static void test_random_shapes(void)
{
    for (int it = 0; it < 1500; it++) {
        eh_conv1d_s8_dims d;
        uint32_t nx, nw, ny, pc = eh_test_rand() & 1u, nq, i, extreme = it % 7 == 0;
        int32_t xo, yo, lo, hi;
        int8_t *x, *w, *y0, *y1, *y2;
        int32_t *b, *mult, *shift;
        d.n_in = 1u + eh_test_rand() % 19u;
        d.n_out = 1u + eh_test_rand() % 13u;
        d.taps = 1u + eh_test_rand() % 7u;
        d.stride = 1u + eh_test_rand() % 3u;
        d.pad = eh_test_rand() % d.taps;
        d.t_in = 1u + eh_test_rand() % 25u;
        d.t_out = 1u + eh_test_rand() % ((d.t_in + d.pad - 1u) / d.stride + 1u);
        nx = d.t_in * d.n_in; nw = d.n_out * d.taps * d.n_in; ny = d.t_out * d.n_out;
        nq = pc ? d.n_out : 1u;
        x = malloc(nx); w = malloc(nw); y0 = malloc(ny); y1 = malloc(ny); y2 = malloc(ny);
        b = (eh_test_rand() & 3u) ? malloc(4u * d.n_out) : 0;
        mult = malloc(4u * nq); shift = malloc(4u * nq);
        for (i = 0; i < nx; i++) x[i] = extreme ? (int8_t)((eh_test_rand() & 1u) ? 127 : -128) : (int8_t)eh_test_rand();
        for (i = 0; i < nw; i++) w[i] = extreme ? -128 : (int8_t)eh_test_rand();
        for (i = 0; b && i < d.n_out; i++) b[i] = extreme ? (int32_t)eh_test_rand() : (int32_t)(eh_test_rand() % 40001u) - 20000;
        for (i = 0; i < nq; i++) {
            mult[i] = (int32_t)((1u << 30) + (eh_test_rand() >> 2));
            shift[i] = extreme ? (int32_t)(eh_test_rand() % 62u) - 31 : -(int32_t)(eh_test_rand() % 14u);
        }
        xo = extreme ? ((it & 8) ? 128 : -127) : (int32_t)(eh_test_rand() % 256u) - 127;
        yo = (int32_t)(eh_test_rand() % 256u) - 128;
        lo = (int32_t)(eh_test_rand() % 256u) - 128;
        hi = lo + (int32_t)(eh_test_rand() % (uint32_t)(128 - lo));
        if (it % 3 == 0) { lo = -128; hi = 127; }
        EH_CHECK_EQ(eh_conv1d_s8(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y0), EH_OK);
        EH_CHECK_EQ(eh_conv1d_s8_dsp_emulated(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y1), EH_OK);
        reference(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y2);
        EH_CHECK(memcmp(y0, y1, ny) == 0);
        EH_CHECK(memcmp(y0, y2, ny) == 0);
        free(x); free(w); free(y0); free(y1); free(y2); free(b); free(mult); free(shift);
    }
}

/* The DSP path's own requantisation (SMMULR, rounding shift, SSAT; taken when every shift is
 * <= -1 and |b| + taps n_in 255 128 < 2^30) at its edges: any mult in [0, 2^31), shifts -1 and -31,
 * biases at the bound and one past it (the other path), both activation forms, per tensor and per
 * channel, with and without bias. */
static void test_dsp_requant_edges(void)
{
    for (int it = 0; it < 3000; it++) {
        eh_conv1d_s8_dims d;
        uint32_t nx, nw, ny, pc = eh_test_rand() & 1u, nq, i, sat = it % 5 == 0;
        int32_t xo, yo, lo, hi, lim;
        int8_t *x, *w, *y0, *y1, *y2;
        int32_t *b, *mult, *shift;
        d.n_in = 1u + eh_test_rand() % 17u;
        d.n_out = 1u + eh_test_rand() % 11u;
        d.taps = 1u + eh_test_rand() % 5u;
        d.stride = 1u + eh_test_rand() % 3u;
        d.pad = eh_test_rand() % d.taps;
        d.t_in = 1u + eh_test_rand() % 21u;
        d.t_out = 1u + eh_test_rand() % ((d.t_in + d.pad - 1u) / d.stride + 1u);
        nx = d.t_in * d.n_in; nw = d.n_out * d.taps * d.n_in; ny = d.t_out * d.n_out;
        nq = pc ? d.n_out : 1u;
        lim = (1 << 30) - 1 - (int32_t)(d.taps * d.n_in * 32640u);
        x = malloc(nx); w = malloc(nw); y0 = malloc(ny); y1 = malloc(ny); y2 = malloc(ny);
        b = (eh_test_rand() & 3u) ? malloc(4u * d.n_out) : 0;
        mult = malloc(4u * nq); shift = malloc(4u * nq);
        for (i = 0; i < nx; i++) x[i] = sat ? (int8_t)((eh_test_rand() & 1u) ? 127 : -128) : (int8_t)eh_test_rand();
        for (i = 0; i < nw; i++) w[i] = sat ? (int8_t)((eh_test_rand() & 1u) ? 127 : -128) : (int8_t)eh_test_rand();
        for (i = 0; b && i < d.n_out; i++) {
            uint32_t r = eh_test_rand() % 8u;
            b[i] = r == 0 ? lim : r == 1 ? -lim : r == 2 && it % 11 == 0 ? lim + 1 : (int32_t)(eh_test_rand() % 2000001u) - 1000000;
        }
        for (i = 0; i < nq; i++) {
            uint32_t r = eh_test_rand() % 6u;
            mult[i] = r == 0 ? 0 : r == 1 ? INT32_MAX : (int32_t)(eh_test_rand() >> 1);
            r = eh_test_rand() % 5u;
            shift[i] = r == 0 ? -1 : r == 1 ? -31 : -1 - (int32_t)(eh_test_rand() % 16u);
            if (it % 13 == 0 && i == nq - 1u) shift[i] = 0; /* one channel leaves the DSP requantisation */
        }
        xo = (int32_t)(eh_test_rand() % 256u) - 127;
        yo = (int32_t)(eh_test_rand() % 256u) - 128;
        lo = (int32_t)(eh_test_rand() % 256u) - 128;
        hi = lo + (int32_t)(eh_test_rand() % (uint32_t)(128 - lo));
        if (it % 2 == 0) { lo = -128; hi = 127; }
        EH_CHECK_EQ(eh_conv1d_s8(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y0), EH_OK);
        EH_CHECK_EQ(eh_conv1d_s8_dsp_emulated(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y1), EH_OK);
        reference(&d, x, xo, w, b, mult, shift, pc, yo, lo, hi, y2);
        EH_CHECK(memcmp(y0, y1, ny) == 0);
        EH_CHECK(memcmp(y0, y2, ny) == 0);
        free(x); free(w); free(y0); free(y1); free(y2); free(b); free(mult); free(shift);
    }
}

int main(void)
{
    test_bad_arguments();
    test_random_shapes();
    test_dsp_requant_edges();
    EH_TEST_DONE();
}
