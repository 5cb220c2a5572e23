/* LIF family: bad arguments are rejected without touching the outputs; exact-size buffers
 * (heap-allocated, so ASan catches any access one past the end) for sizes 1..70. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_lif.h"

static void test_bad_arguments(void)
{
    int16_t x[3] = {1, 2, 3}, v[3] = {0, 0, 0}, thr = 10, bad_thr = 0;
    uint8_t s[3] = {0, 0, 0}, sh = 3, bad_sh = 16;
    uint16_t dec = 30000, bad_dec = 40000;
    float fx[3] = {0}, fv[3] = {0}, fb = 0.5f, fbad = 1.5f, ft = 1.0f, fi[3] = {0};
    float fthr3[3] = {1.0f, 0.0f, 1.0f};
    eh_leak_q15 leak = {0, &sh, 1}, both = {&dec, &sh, 1}, none = {0, 0, 1};
    eh_leak_q15 badshift = {0, &bad_sh, 1}, baddec = {&bad_dec, 0, 1}, badlen = {0, &sh, 2};

    EH_CHECK_EQ(eh_lif_step_q15(3, 0, v, s, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, 0, s, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, 0, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, 0, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &leak, 0, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_step_q15(0, x, v, s, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &leak, &thr, 2, EH_RESET_SUBTRACT), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &badlen, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &leak, &bad_thr, 1, EH_RESET_SUBTRACT), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &badshift, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &baddec, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &both, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_ARG);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &none, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_ARG);
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &leak, &thr, 1, (eh_reset)7), EH_ERR_ARG);
    EH_CHECK(v[0] == 0 && v[1] == 0 && v[2] == 0 && s[0] == 0);

    EH_CHECK_EQ(eh_lif_step_f32(3, fx, fv, s, &fbad, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_step_f32(3, fx, fv, s, &fb, 1, fthr3, 3, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_cubalif_step_f32(3, fx, 0, fv, s, &fb, 1, &fb, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_NULL);
    EH_CHECK_EQ(eh_cubalif_step_f32(3, fx, fi, fv, s, &fbad, 1, &fb, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_cubalif_step_q15(3, x, v, v, s, &leak, &baddec, &thr, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_cubalif_step_q15(3, x, v, v, s, &leak, 0, &thr, 1, EH_RESET_ZERO), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_adapt_step_q15(3, x, 0, v, v, s, &leak, &leak, &thr, 1, EH_RESET_ZERO), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_adapt_step_q15(3, x, x, v, v, s, &leak, &both, &thr, 1, EH_RESET_ZERO), EH_ERR_ARG);
    EH_CHECK_EQ(eh_lif_adapt_step_q15(3, x, x, v, v, s, &leak, &leak, &bad_thr, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_adapt_step_f32(3, fx, fx, fv, fi, s, &fb, 1, &fbad, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK_EQ(eh_lif_adapt_step_f32(0, fx, fx, fv, fi, s, &fb, 1, &fb, 1, &ft, 1, EH_RESET_ZERO), EH_ERR_SIZE);
    EH_CHECK(v[0] == 0 && v[1] == 0 && v[2] == 0 && s[0] == 0);
}

static void test_exact_buffers(void)
{
    uint32_t n;
    for (n = 1; n <= 70; n++) {
        int16_t *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v), *i = malloc(n * sizeof *i);
        int16_t *thr = malloc(n * sizeof *thr);
        uint16_t *dec = malloc(n * sizeof *dec);
        uint8_t *s = malloc(n), *sh = malloc(n);
        float *fx = malloc(n * sizeof *fx), *fv = malloc(n * sizeof *fv), *fi = malloc(n * sizeof *fi);
        float *fb = malloc(n * sizeof *fb), *ft = malloc(n * sizeof *ft);
        uint32_t k;
        eh_leak_q15 lshift = {0, sh, n}, ldec = {dec, 0, n};
        for (k = 0; k < n; k++) {
            x[k] = (int16_t)eh_test_rand(); v[k] = (int16_t)eh_test_rand(); i[k] = (int16_t)eh_test_rand();
            thr[k] = (int16_t)(1 + eh_test_rand() % 32767u); dec[k] = (uint16_t)(eh_test_rand() % 32769u);
            s[k] = (uint8_t)(eh_test_rand() & 1u); sh[k] = (uint8_t)(1 + eh_test_rand() % 15u);
            fx[k] = (float)(int16_t)eh_test_rand(); fv[k] = fx[k] * 0.5f; fi[k] = 1.0f;
            fb[k] = (float)(eh_test_rand() % 1000u) / 1000.0f; ft[k] = 1.0f + (float)k;
        }
        EH_CHECK_EQ(eh_lif_step_q15(n, x, v, s, &lshift, thr, n, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_lif_step_q15(n, x, v, s, &ldec, thr, 1, EH_RESET_ZERO), EH_OK);
        EH_CHECK_EQ(eh_lif_step_q15(n, x, v, s, &lshift, thr, 1, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_cubalif_step_q15(n, x, i, v, s, &ldec, &lshift, thr, n, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_lif_step_f32(n, fx, fv, s, fb, n, ft, n, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_cubalif_step_f32(n, fx, fi, fv, s, fb, n, fb, 1, ft, n, EH_RESET_ZERO), EH_OK);
        EH_CHECK_EQ(eh_lif_adapt_step_q15(n, x, i, v, x, s, &ldec, &lshift, thr, n, EH_RESET_SUBTRACT), EH_OK);
        EH_CHECK_EQ(eh_lif_adapt_step_f32(n, fx, fi, fv, fb, s, fb, n, fb, 1, ft, n, EH_RESET_ZERO), EH_OK);
        for (k = 0; k < n; k++) EH_CHECK(s[k] <= 1u);
        free(x); free(v); free(i); free(thr); free(dec); free(s); free(sh);
        free(fx); free(fv); free(fi); free(fb); free(ft);
    }
}

/* The check functions return what the checked steps return, and write nothing. */
static void test_check_functions(void)
{
    int16_t x[3] = {1, 2, 3}, v[3] = {0, 0, 0}, thr = 10, bad_thr = 0, thr3[3] = {5, 0, 5};
    uint8_t s[3] = {0, 0, 0}, sh = 3, bad_sh = 16;
    uint16_t dec = 30000, bad_dec = 40000;
    eh_leak_q15 leak = {0, &sh, 1}, both = {&dec, &sh, 1}, none = {0, 0, 1};
    eh_leak_q15 badshift = {0, &bad_sh, 1}, baddec = {&bad_dec, 0, 1}, badlen = {0, &sh, 2};
    const eh_leak_q15 *leaks[7] = {&leak, &both, &none, &badshift, &baddec, &badlen, 0};
    const int16_t *thrs[4] = {&thr, &bad_thr, thr3, 0};
    const uint32_t thr_lens[4] = {1, 1, 3, 1};
    const uint32_t ns[3] = {0, 3, 1};
    const eh_reset resets[3] = {EH_RESET_SUBTRACT, EH_RESET_ZERO, (eh_reset)7};
    uint32_t a, b, c, d, e;
    for (a = 0; a < 7; a++)
        for (b = 0; b < 4; b++)
            for (c = 0; c < 3; c++)
                for (d = 0; d < 3; d++) {
                    const uint32_t n = ns[c];
                    EH_CHECK_EQ(eh_lif_check_q15(n, leaks[a], thrs[b], thr_lens[b], resets[d]),
                                eh_lif_step_q15(n, x, v, s, leaks[a], thrs[b], thr_lens[b], resets[d]));
                    for (e = 0; e < 7; e++)
                        EH_CHECK_EQ(eh_cubalif_check_q15(n, leaks[a], leaks[e], thrs[b], thr_lens[b], resets[d]),
                                    eh_cubalif_step_q15(n, x, v, v, s, leaks[a], leaks[e], thrs[b], thr_lens[b],
                                                        resets[d]));
                    v[0] = v[1] = v[2] = 0;
                    s[0] = s[1] = s[2] = 0;
                }
    EH_CHECK_EQ(eh_lif_check_q15(3, &leak, &thr, 1, EH_RESET_SUBTRACT), EH_OK);
    EH_CHECK_EQ(eh_lif_check_q15(3, 0, &thr, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_check_q15(3, &leak, 0, 1, EH_RESET_SUBTRACT), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lif_check_q15(3, &baddec, &bad_thr, 1, (eh_reset)7), EH_ERR_RANGE); /* leak first */
    EH_CHECK_EQ(eh_cubalif_check_q15(3, &leak, &badshift, &thr, 1, EH_RESET_ZERO), EH_ERR_RANGE);
    EH_CHECK(x[0] == 1 && dec == 30000 && sh == 3);
}

/* The unchecked steps equal the checked ones on exact-size heap buffers (ASan), for every leak
 * kind, shared and per-neuron parameters, both resets, and both 4-byte alignments of the int16
 * arrays (the arrays start one element into an allocation of n + 1 when `off` is 1). */
static void test_unchecked_equals_checked(void)
{
    uint32_t n, cfg, off, rm;
    for (rm = 0; rm < 2; rm++) /* rm 1: EH_RESET_NONE and EH_RESET_SUBTRACT_NOW */
    for (n = 1; n <= 45; n++)
        for (off = 0; off < 2; off++)
            for (cfg = 0; cfg < 32; cfg++) {
                int16_t *xa = malloc((n + off) * sizeof *xa), *va = malloc((n + off) * sizeof *va);
                int16_t *vb = malloc((n + off) * sizeof *vb), *ia = malloc((n + off) * sizeof *ia);
                int16_t *ib = malloc((n + off) * sizeof *ib), *ta = malloc((n + off) * sizeof *ta);
                uint16_t *da = malloc((n + off) * sizeof *da);
                uint8_t *sa = malloc(n + off), *sb = malloc(n + off), *ha = malloc(n + off);
                int16_t *x = xa + off, *v = va + off, *v2 = vb + off, *i = ia + off, *i2 = ib + off;
                int16_t *t = ta + off;
                uint16_t *dk = da + off;
                uint8_t *s = sa + off, *s2 = sb + off, *hk = ha + off;
                const uint32_t plen = (cfg & 1u) ? n : 1u, tlen = (cfg & 2u) ? n : 1u;
                const eh_reset reset = (eh_reset)(((cfg & 4u) ? 1u : 0u) + 2u * rm);
                eh_leak_q15 lk = {(cfg & 8u) ? dk : 0, (cfg & 8u) ? 0 : hk, plen};
                eh_leak_q15 ls = {(cfg & 16u) ? 0 : dk, (cfg & 16u) ? hk : 0, plen};
                uint32_t k, bad = 0;
                for (k = 0; k < n; k++) {
                    const uint32_t r = eh_test_rand();
                    x[k] = (int16_t)((r & 3u) == 0u ? ((r & 4u) ? 32767 : -32768) : (int16_t)eh_test_rand());
                    v[k] = v2[k] = (int16_t)((r & 24u) == 0u ? ((r & 32u) ? 32767 : -32768) : (int16_t)eh_test_rand());
                    i[k] = i2[k] = (int16_t)eh_test_rand();
                    t[k] = (int16_t)((r & 0x300u) == 0u ? 1 : 1 + eh_test_rand() % 32767u);
                    dk[k] = (uint16_t)((r & 0xC00u) == 0u ? 32768u : eh_test_rand() % 32769u);
                    hk[k] = (uint8_t)(1 + eh_test_rand() % 15u);
                    s[k] = s2[k] = (uint8_t)((eh_test_rand() & 3u) == 0u);
                }
                EH_CHECK_EQ(eh_lif_check_q15(n, &lk, t, tlen, reset), EH_OK);
                EH_CHECK_EQ(eh_lif_step_q15(n, x, v, s, &lk, t, tlen, reset), EH_OK);
                eh_lif_step_q15_unchecked(n, x, v2, s2, &lk, t, tlen, reset);
                for (k = 0; k < n; k++) bad |= (uint32_t)(v[k] != v2[k]) | (uint32_t)(s[k] != s2[k]);
                EH_CHECK_EQ(eh_cubalif_check_q15(n, &ls, &lk, t, tlen, reset), EH_OK);
                EH_CHECK_EQ(eh_cubalif_step_q15(n, x, i, v, s, &ls, &lk, t, tlen, reset), EH_OK);
                eh_cubalif_step_q15_unchecked(n, x, i2, v2, s2, &ls, &lk, t, tlen, reset);
                for (k = 0; k < n; k++)
                    bad |= (uint32_t)(v[k] != v2[k]) | (uint32_t)(s[k] != s2[k]) | (uint32_t)(i[k] != i2[k]);
                EH_CHECK_EQ(bad, 0);
                free(xa); free(va); free(vb); free(ia); free(ib); free(ta); free(da);
                free(sa); free(sb); free(ha);
            }
}

/* EH_RESET_NONE and EH_RESET_SUBTRACT_NOW (eh_lif.h): the spikes on entry are not read; with
 * SUBTRACT_NOW a membrane still above the threshold on entry needs leak(v) + x - thr above it. */
static void test_none_and_subtract_now(void)
{
    /* no leak (decay 32768), threshold 100 */
    uint16_t one = 32768;
    int16_t thr = 100, x[3] = {-40, 30, 120}, v[3] = {150, 80, 0};
    uint8_t s[3] = {1, 1, 0};
    eh_leak_q15 lk = {&one, 0, 1};
    int16_t i3[3] = {0, 0, 0};
    float xf[3] = {-0.4f, 0.3f, 1.2f}, vf[3] = {1.5f, 0.8f, 0.0f}, bf = 1.0f, tf = 1.0f, af = 0.0f;
    float if3[3] = {0.0f, 0.0f, 0.0f};
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &lk, &thr, 1, EH_RESET_NONE), EH_OK);
    EH_CHECK(v[0] == 110 && v[1] == 110 && v[2] == 120 && s[0] == 1 && s[1] == 1 && s[2] == 1);
    /* snnTorch reset_delay=False: r = v > thr on entry; w = v + x - r thr; s = w > thr;
     * v = w + (r - s) thr */
    v[0] = 150; v[1] = 80; v[2] = 0; s[0] = 0; s[1] = 0; s[2] = 1;
    EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &lk, &thr, 1, EH_RESET_SUBTRACT_NOW), EH_OK);
    EH_CHECK(s[0] == 0 && v[0] == 110);   /* r 1: w = 10, no spike, v = 110 (stays above) */
    EH_CHECK(s[1] == 1 && v[1] == 10);    /* r 0: w = 110, spike, v = 10 */
    EH_CHECK(s[2] == 1 && v[2] == 20);
    v[0] = 150; v[1] = 80; v[2] = 0; s[0] = 0; s[1] = 0; s[2] = 1;
    EH_CHECK_EQ(eh_cubalif_step_q15(3, x, i3, v, s, &lk, &lk, &thr, 1, EH_RESET_SUBTRACT_NOW), EH_OK);
    EH_CHECK(s[0] == 0 && v[0] == 110 && s[1] == 1 && v[1] == 10 && i3[2] == 120);
    EH_CHECK_EQ(eh_lif_step_f32(3, xf, vf, s, &bf, 1, &tf, 1, EH_RESET_SUBTRACT_NOW), EH_OK);
    EH_CHECK(s[0] == 0 && s[1] == 1 && s[2] == 1 && vf[0] > 1.0f && vf[1] < 0.2f);
    vf[0] = 1.5f; vf[1] = 0.8f; vf[2] = 0.0f;
    EH_CHECK_EQ(eh_cubalif_step_f32(3, xf, if3, vf, s, &af, 1, &bf, 1, &tf, 1, EH_RESET_NONE), EH_OK);
    EH_CHECK(s[0] == 1 && s[1] == 1 && s[2] == 1 && vf[2] == 1.2f);
    /* lif_adapt takes neither; an unknown mode changes nothing */
    {
        int16_t a[3] = {0, 0, 0}, v0 = v[0];
        float fa[3] = {0, 0, 0};
        EH_CHECK_EQ(eh_lif_adapt_step_q15(3, x, x, v, a, s, &lk, &lk, &thr, 1, EH_RESET_NONE), EH_ERR_ARG);
        EH_CHECK_EQ(eh_lif_adapt_step_f32(3, xf, xf, vf, fa, s, &bf, 1, &bf, 1, &tf, 1, EH_RESET_SUBTRACT_NOW),
                    EH_ERR_ARG);
        EH_CHECK_EQ(eh_lif_step_q15(3, x, v, s, &lk, &thr, 1, (eh_reset)4), EH_ERR_ARG);
        EH_CHECK_EQ(eh_cubalif_step_f32(3, xf, if3, vf, s, &af, 1, &bf, 1, &tf, 1, (eh_reset)4), EH_ERR_ARG);
        EH_CHECK(v[0] == v0 && a[0] == 0);
    }
}

int main(void)
{
    test_bad_arguments();
    test_exact_buffers();
    test_check_functions();
    test_unchecked_equals_checked();
    test_none_and_subtract_now();
    EH_TEST_DONE();
}
