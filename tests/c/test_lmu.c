/* LMU family: bad arguments are rejected without touching the state; exact-size heap buffers
 * (so ASan catches any access one past the end), scratch of exactly the documented length. */
#include <stdlib.h>
#include <string.h>
#include "eh_test.h"
#include "eh_lmu.h"
#include "../../kernels_c/src/lmu/eh_lmu_internal.h"

static int16_t *rnd16(uint32_t n)
{
    int16_t *p = malloc(n * sizeof *p);
    uint32_t k;
    for (k = 0; k < n; k++) p[k] = (int16_t)eh_test_rand();
    return p;
}

static float *rndf(uint32_t n)
{
    float *p = malloc(n * sizeof *p);
    uint32_t k;
    for (k = 0; k < n; k++) p[k] = (float)((int32_t)(eh_test_rand() % 2001u) - 1000) / 256.0f;
    return p;
}

static int32_t *rnd32(uint32_t n)
{
    int32_t *p = malloc(n * sizeof *p);
    uint32_t k;
    for (k = 0; k < n; k++) p[k] = (int32_t)eh_test_rand();
    return p;
}

/* ---- LMU -------------------------------------------------------------------------------- */

static void test_lmu_bad_arguments(void)
{
    int16_t x[2] = {1, 2}, m[6] = {0}, h[4] = {0}, w[64], scratch[16];
    int32_t bh[4] = {0};
    float fx[2] = {1, 2}, fm[6] = {0}, fh[4] = {0}, fw[64], fs[16];
    eh_lmu_q15 c, good;
    eh_lmu_f32 f, fgood;
    uint32_t k;
    for (k = 0; k < 64; k++) { w[k] = 1000; fw[k] = 1.0f; }
    memset(&good, 0, sizeof good);
    good.n_x = 2; good.n_h = 4; good.n_u = 2; good.order = 3;
    good.e_x = w; good.a = w; good.b = w; good.w_m = w; good.e_h = w; good.w_h = w; good.b_h = bh;
    good.s_a = 15; good.clamp = 100; good.act = EH_LMU_ACT_HARDTANH;
    memset(&fgood, 0, sizeof fgood);
    fgood.n_x = 2; fgood.n_h = 4; fgood.n_u = 2; fgood.order = 3;
    fgood.e_x = fw; fgood.a = fw; fgood.b = fw; fgood.w_m = fw; fgood.act = EH_LMU_ACT_TANH;

    EH_CHECK_EQ(eh_lmu_step_q15(0, x, m, h, scratch, 9), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lmu_step_q15(&good, 0, m, h, scratch, 9), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lmu_step_q15(&good, x, 0, h, scratch, 9), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lmu_step_q15(&good, x, m, 0, scratch, 9), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lmu_step_q15(&good, x, m, h, 0, 9), EH_ERR_NULL);
    c = good; c.e_x = 0; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_NULL);
    c = good; c.a = 0; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_NULL);
    c = good; c.b = 0; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_NULL);
    c = good; c.w_m = 0; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_NULL);
    c = good; c.n_x = 0; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_SIZE);
    c = good; c.order = 0; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_SIZE);
    c = good; c.n_h = 65536; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_SIZE);
    c = good; c.n_u = 4097; c.order = 16; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_lmu_step_q15(&good, x, m, h, scratch, 8), EH_ERR_SIZE); /* needs 2 + 3 + 4 */
    c = good; c.s_a = 32; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_RANGE);
    c = good; c.s_wh = 200; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_RANGE);
    c = good; c.clamp = 0; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_RANGE);
    c = good; c.clamp = -7; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_RANGE);
    c = good; c.act = EH_LMU_ACT_TANH; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_ARG);
    c = good; c.act = (eh_lmu_act)9; EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_ERR_ARG);
    for (k = 0; k < 6; k++) EH_CHECK(m[k] == 0);
    for (k = 0; k < 4; k++) EH_CHECK(h[k] == 0);
    c = good; c.clamp = 0; c.act = EH_LMU_ACT_RELU; /* clamp only matters for HARDTANH */
    EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, scratch, 9), EH_OK);

    EH_CHECK_EQ(eh_lmu_step_f32(0, fx, fm, fh, fs, 9), EH_ERR_NULL);
    EH_CHECK_EQ(eh_lmu_step_f32(&fgood, fx, fm, fh, 0, 9), EH_ERR_NULL);
    f = fgood; f.w_m = 0; EH_CHECK_EQ(eh_lmu_step_f32(&f, fx, fm, fh, fs, 9), EH_ERR_NULL);
    f = fgood; f.n_u = 0; EH_CHECK_EQ(eh_lmu_step_f32(&f, fx, fm, fh, fs, 9), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_lmu_step_f32(&fgood, fx, fm, fh, fs, 8), EH_ERR_SIZE);
    f = fgood; f.act = (eh_lmu_act)4; EH_CHECK_EQ(eh_lmu_step_f32(&f, fx, fm, fh, fs, 9), EH_ERR_ARG);
    for (k = 0; k < 6; k++) EH_CHECK(fm[k] == 0.0f);
    for (k = 0; k < 4; k++) EH_CHECK(fh[k] == 0.0f);
    EH_CHECK_EQ(eh_lmu_step_f32(&fgood, fx, fm, fh, fs, 9), EH_OK);
    for (k = 0; k < 4; k++) EH_CHECK(fh[k] >= -1.0f && fh[k] <= 1.0f);
}

static void test_lmu_exact_buffers(void)
{
    uint32_t n_x, n_u, order, n_h;
    for (n_x = 1; n_x <= 5; n_x += 2)
    for (n_u = 1; n_u <= 3; n_u++)
    for (order = 1; order <= 12; order += 1 + order / 4)
    for (n_h = 1; n_h <= 7; n_h += 3) {
        const uint32_t n_m = n_u * order, ns = n_u + order + n_h;
        eh_lmu_q15 c;
        eh_lmu_f32 f;
        int16_t *x = rnd16(n_x), *m = rnd16(n_m), *h = rnd16(n_h), *s = rnd16(ns);
        int16_t *ex = rnd16(n_u * n_x), *eh = rnd16(n_u * n_h), *em = rnd16(n_u * n_m);
        int16_t *a = rnd16(order * order), *b = rnd16(order), *wx = rnd16(n_h * n_x);
        int16_t *wh = rnd16(n_h * n_h), *wm = rnd16(n_h * n_m);
        int32_t *bh = rnd32(n_h);
        float *fx = rndf(n_x), *fm = rndf(n_m), *fh = rndf(n_h), *fs = rndf(ns);
        float *fex = rndf(n_u * n_x), *feh = rndf(n_u * n_h), *fem = rndf(n_u * n_m);
        float *fa = rndf(order * order), *fb = rndf(order), *fwx = rndf(n_h * n_x);
        float *fwh = rndf(n_h * n_h), *fwm = rndf(n_h * n_m), *fbh = rndf(n_h);
        uint32_t k, act;
        memset(&c, 0, sizeof c);
        c.n_x = n_x; c.n_h = n_h; c.n_u = n_u; c.order = order;
        c.e_x = ex; c.e_h = eh; c.e_m = em; c.a = a; c.b = b; c.w_x = wx; c.w_h = wh; c.w_m = wm; c.b_h = bh;
        c.s_ex = 14; c.s_eh = 15; c.s_em = 16; c.s_a = 15; c.s_b = 15; c.s_wx = 15; c.s_wh = 15; c.s_wm = 17;
        c.clamp = 8192;
        memset(&f, 0, sizeof f);
        f.n_x = n_x; f.n_h = n_h; f.n_u = n_u; f.order = order;
        f.e_x = fex; f.e_h = feh; f.e_m = fem; f.a = fa; f.b = fb; f.w_x = fwx; f.w_h = fwh; f.w_m = fwm; f.b_h = fbh;
        for (act = 0; act <= 3; act++) {
            c.act = (eh_lmu_act)(act > 2u ? 2u : act);
            f.act = (eh_lmu_act)act;
            EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, s, ns), EH_OK);
            EH_CHECK_EQ(eh_lmu_step_f32(&f, fx, fm, fh, fs, ns), EH_OK);
        }
        for (k = 0; k < n_h; k++) EH_CHECK(h[k] >= -8192 && h[k] <= 8192); /* last act: hardtanh */
        for (k = 0; k < n_h; k++) EH_CHECK(!(fh[k] < -1.0f) && !(fh[k] > 1.0f)); /* last: tanh */
        /* optional terms absent */
        c.e_h = 0; c.e_m = 0; c.w_x = 0; c.w_h = 0; c.b_h = 0;
        f.e_h = 0; f.e_m = 0; f.w_x = 0; f.w_h = 0; f.b_h = 0;
        EH_CHECK_EQ(eh_lmu_step_q15(&c, x, m, h, s, ns), EH_OK);
        EH_CHECK_EQ(eh_lmu_step_f32(&f, fx, fm, fh, fs, ns), EH_OK);
        free(x); free(m); free(h); free(s); free(ex); free(eh); free(em); free(a); free(b);
        free(wx); free(wh); free(wm); free(bh);
        free(fx); free(fm); free(fh); free(fs); free(fex); free(feh); free(fem); free(fa); free(fb);
        free(fwx); free(fwh); free(fwm); free(fbh);
    }
}

/* ---- L2MU ------------------------------------------------------------------------------- */

typedef struct {
    eh_l2mu_q15 c;
    eh_l2mu_state_q15 st;
    eh_l2mu_f32 f;
    eh_l2mu_state_f32 fst;
    void *mem[128];
    uint32_t n_mem;
    uint32_t scratch_q15, scratch_f32;
} l2mu_fixture;

static void *keep(l2mu_fixture *fx, void *p)
{
    fx->mem[fx->n_mem++] = p;
    return p;
}

static void *zeros(l2mu_fixture *fx, uint32_t n, uint32_t size)
{
    return keep(fx, calloc(n, size));
}

static void pop_setup(l2mu_fixture *fx, eh_l2mu_pop_q15 *p, eh_l2mu_pop_state_q15 *s,
                      eh_l2mu_pop_f32 *fp, eh_l2mu_pop_state_f32 *fs, uint32_t n, int cuba)
{
    int16_t *thr = keep(fx, malloc(n * sizeof *thr));
    uint8_t *sh = keep(fx, malloc(n));
    uint16_t *dec = keep(fx, malloc(n * sizeof *dec));
    float *beta = keep(fx, malloc(n * sizeof *beta)), *fthr = keep(fx, malloc(n * sizeof *fthr));
    uint32_t k;
    for (k = 0; k < n; k++) {
        thr[k] = (int16_t)(500 + eh_test_rand() % 3000u);
        sh[k] = (uint8_t)(1 + eh_test_rand() % 15u);
        dec[k] = (uint16_t)(eh_test_rand() % 32769u);
        beta[k] = (float)(eh_test_rand() % 1001u) / 1000.0f;
        fthr[k] = 0.25f + (float)(eh_test_rand() % 100u) / 50.0f;
    }
    memset(p, 0, sizeof *p);
    p->leak.shift = sh; p->leak.len = n;
    if (cuba) { p->leak_syn.decay = dec; p->leak_syn.len = n; }
    p->thr = thr; p->thr_len = n; p->reset = cuba ? EH_RESET_ZERO : EH_RESET_SUBTRACT;
    s->v = zeros(fx, n, sizeof(int16_t)); s->s = zeros(fx, n, 1);
    s->i_syn = cuba ? zeros(fx, n, sizeof(int16_t)) : 0;
    memset(fp, 0, sizeof *fp);
    fp->beta = beta; fp->beta_len = n; fp->thr = fthr; fp->thr_len = 1;
    if (cuba) { fp->alpha = beta; fp->alpha_len = 1; }
    fp->reset = p->reset;
    fs->v = zeros(fx, n, sizeof(float)); fs->s = zeros(fx, n, 1);
    fs->i_syn = cuba ? zeros(fx, n, sizeof(float)) : 0;
}

#define W16(n) ((int16_t *)keep(fx, rnd16(n)))
#define WF(n) ((float *)keep(fx, rndf(n)))

static void l2mu_setup(l2mu_fixture *fx, uint32_t n_ch, uint32_t pop, uint32_t n_enc, uint32_t enc0,
                       uint32_t enc1, uint32_t n_u, uint32_t order, uint32_t n_h, uint32_t n_o, int cuba)
{
    eh_l2mu_q15 *c = &fx->c;
    eh_l2mu_f32 *f = &fx->f;
    uint32_t n_in = n_ch * pop, n_m = n_u * order, n_sx = n_in, k, p_max, q_max;
    uint32_t sizes[2];
    memset(fx, 0, sizeof *fx);
    sizes[0] = enc0; sizes[1] = enc1;
    c->dims.n_ch = n_ch; c->dims.pop = pop; c->dims.n_enc = n_enc; c->dims.enc[0] = enc0;
    c->dims.enc[1] = enc1; c->dims.n_u = n_u; c->dims.order = order; c->dims.n_h = n_h; c->dims.n_o = n_o;
    f->dims = c->dims;
    c->w_in = W16(n_in); c->b_in = keep(fx, rnd32(n_in)); c->s_in = 4;
    f->w_in = WF(n_in); f->b_in = WF(n_in);
    pop_setup(fx, &c->pop_in, &fx->st.in, &f->pop_in, &fx->fst.in, n_in, cuba);
    p_max = n_in; q_max = n_in;
    for (k = 0; k < n_enc; k++) {
        c->w_enc[k] = W16(sizes[k] * n_sx); c->s_enc[k] = 6;
        f->w_enc[k] = WF(sizes[k] * n_sx);
        if (k == 0) { c->b_enc[k] = keep(fx, rnd32(sizes[k])); f->b_enc[k] = WF(sizes[k]); }
        pop_setup(fx, &c->pop_enc[k], &fx->st.enc[k], &f->pop_enc[k], &fx->fst.enc[k], sizes[k], !cuba);
        n_sx = sizes[k];
        if (sizes[k] > p_max) p_max = sizes[k];
        if (sizes[k] > q_max) q_max = sizes[k];
    }
    c->e_x = W16(n_u * n_sx); c->e_h = W16(n_u * n_h); c->e_m = W16(n_u * n_m);
    c->a = W16(order * order); c->b = W16(order);
    c->w_x = W16(n_h * n_sx); c->w_h = W16(n_h * n_h); c->w_m = W16(n_h * n_m);
    c->w_o = W16(n_o * n_h); c->b_o = keep(fx, rnd32(n_o));
    c->s_ex = 5; c->s_eh = 5; c->s_em = 5; c->s_a = 3; c->s_b = 2; c->s_wx = 5; c->s_wh = 5; c->s_wm = 5; c->s_o = 4;
    f->e_x = WF(n_u * n_sx); f->e_h = WF(n_u * n_h); f->e_m = WF(n_u * n_m); f->a = WF(order * order);
    f->b = WF(order); f->w_x = WF(n_h * n_sx); f->w_h = WF(n_h * n_h); f->w_m = WF(n_h * n_m);
    f->w_o = WF(n_o * n_h); f->b_o = WF(n_o);
    pop_setup(fx, &c->pop_u, &fx->st.u, &f->pop_u, &fx->fst.u, n_u, cuba);
    pop_setup(fx, &c->pop_m, &fx->st.m, &f->pop_m, &fx->fst.m, n_m, !cuba);
    pop_setup(fx, &c->pop_h, &fx->st.h, &f->pop_h, &fx->fst.h, n_h, cuba);
    pop_setup(fx, &c->pop_o, &fx->st.o, &f->pop_o, &fx->fst.o, n_o, 0);
    if (n_u > p_max) p_max = n_u;
    if (n_m > p_max) p_max = n_m;
    if (n_h > p_max) p_max = n_h;
    if (n_o > p_max) p_max = n_o;
    fx->scratch_q15 = p_max + q_max + n_h + n_m;
    fx->scratch_f32 = p_max;
}

static void l2mu_free(l2mu_fixture *fx)
{
    uint32_t k;
    for (k = 0; k < fx->n_mem; k++) free(fx->mem[k]);
    fx->n_mem = 0;
}

static void test_l2mu_exact_buffers(void)
{
    uint32_t n_ch, n_enc, order, n_h, t, round;
    for (round = 0; round < 2; round++)
    for (n_ch = 1; n_ch <= 6; n_ch += 5)
    for (n_enc = 0; n_enc <= 2; n_enc++)
    for (order = 1; order <= 9; order += 4)
    for (n_h = 1; n_h <= 33; n_h += 16) {
        l2mu_fixture fx;
        int16_t *s, x[6];
        float *fs, fxin[6];
        l2mu_setup(&fx, n_ch, 3 + round, n_enc, 5, 9, 2 + round, order, n_h, 3, (int)round);
        s = keep(&fx, malloc(fx.scratch_q15 * sizeof *s));
        fs = keep(&fx, malloc(fx.scratch_f32 * sizeof *fs));
        EH_CHECK_EQ(eh_l2mu_step_q15(&fx.c, x, &fx.st, s, fx.scratch_q15 - 1), EH_ERR_SIZE);
        EH_CHECK_EQ(eh_l2mu_step_f32(&fx.f, fxin, &fx.fst, fs, fx.scratch_f32 - 1), EH_ERR_SIZE);
        for (t = 0; t < 6; t++) {
            uint32_t k;
            for (k = 0; k < 6; k++) {
                x[k] = (int16_t)eh_test_rand();
                fxin[k] = (float)((int32_t)(eh_test_rand() % 400u) - 200) / 50.0f;
            }
            EH_CHECK_EQ(eh_l2mu_step_q15(&fx.c, x, &fx.st, s, fx.scratch_q15), EH_OK);
            EH_CHECK_EQ(eh_l2mu_readout_q15(&fx.c, &fx.st, s, fx.c.dims.n_o + fx.c.dims.n_h), EH_OK);
            EH_CHECK_EQ(eh_l2mu_step_f32(&fx.f, fxin, &fx.fst, fs, fx.scratch_f32), EH_OK);
            EH_CHECK_EQ(eh_l2mu_readout_f32(&fx.f, &fx.fst, fs, fx.f.dims.n_o), EH_OK);
            fx.c.readout = fx.f.readout = (t & 1) ? EH_L2MU_READOUT_LIF : EH_L2MU_READOUT_LI;
        }
        for (t = 0; t < fx.c.dims.n_h; t++) EH_CHECK(fx.st.h.s[t] <= 1u && fx.fst.h.s[t] <= 1u);
        EH_CHECK_EQ(eh_l2mu_readout_q15(&fx.c, &fx.st, s, fx.c.dims.n_o + fx.c.dims.n_h - 1), EH_ERR_SIZE);
        l2mu_free(&fx);
    }
}

static int q15_state_is_zero(const l2mu_fixture *fx)
{
    uint32_t k, bad = 0, n_in = fx->c.dims.n_ch * fx->c.dims.pop, n_m = fx->c.dims.n_u * fx->c.dims.order;
    for (k = 0; k < n_in; k++) bad |= (uint32_t)(fx->st.in.v[k] != 0) | fx->st.in.s[k];
    for (k = 0; k < fx->c.dims.n_u; k++) bad |= (uint32_t)(fx->st.u.v[k] != 0) | fx->st.u.s[k];
    for (k = 0; k < n_m; k++) bad |= (uint32_t)(fx->st.m.v[k] != 0) | fx->st.m.s[k];
    for (k = 0; k < fx->c.dims.n_h; k++) bad |= (uint32_t)(fx->st.h.v[k] != 0) | fx->st.h.s[k];
    for (k = 0; k < fx->c.dims.n_o; k++) bad |= (uint32_t)(fx->st.o.v[k] != 0) | fx->st.o.s[k];
    return bad == 0;
}

static void test_l2mu_bad_arguments(void)
{
    l2mu_fixture fx;
    int16_t s[400], x[6] = {30000, 30000, 30000, 30000, 30000, 30000}, bad_thr = 0;
    float fs[400], fxin[6] = {9, 9, 9, 9, 9, 9}, bad_beta = 1.5f;
    eh_l2mu_q15 c;
    eh_l2mu_f32 f;
    eh_l2mu_state_q15 st;
    uint8_t bad_shift = 16;
    l2mu_setup(&fx, 6, 4, 1, 10, 0, 3, 4, 11, 2, 1);
    EH_CHECK(fx.scratch_q15 <= 400u);

    EH_CHECK_EQ(eh_l2mu_step_q15(0, x, &fx.st, s, 400), EH_ERR_NULL);
    EH_CHECK_EQ(eh_l2mu_step_q15(&fx.c, 0, &fx.st, s, 400), EH_ERR_NULL);
    EH_CHECK_EQ(eh_l2mu_step_q15(&fx.c, x, 0, s, 400), EH_ERR_NULL);
    EH_CHECK_EQ(eh_l2mu_step_q15(&fx.c, x, &fx.st, 0, 400), EH_ERR_NULL);
    c = fx.c; c.w_enc[0] = 0; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_NULL);
    c = fx.c; c.w_m = 0; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_NULL);
    c = fx.c; c.dims.n_enc = 3; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_SIZE);
    c = fx.c; c.dims.enc[0] = 0; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_SIZE);
    c = fx.c; c.dims.n_u = 10000; c.dims.order = 7; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_SIZE);
    c = fx.c; c.dims.pop = 20000; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_SIZE);
    c = fx.c; c.s_wm = 32; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_RANGE);
    c = fx.c; c.s_enc[0] = 32; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_RANGE);
    /* a bad parameter in the last population checked rejects the step before anything is written */
    c = fx.c; c.pop_h.thr = &bad_thr; c.pop_h.thr_len = 1;
    EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_RANGE);
    c = fx.c; c.pop_h.leak.shift = &bad_shift; c.pop_h.leak.len = 1;
    EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_RANGE);
    c = fx.c; c.pop_h.thr_len = 2; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_SIZE);
    c = fx.c; c.pop_h.reset = (eh_reset)3; EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_ARG);
    c = fx.c; c.pop_m.leak.decay = fx.c.pop_h.leak_syn.decay; /* both decay and shift */
    EH_CHECK_EQ(eh_l2mu_step_q15(&c, x, &fx.st, s, 400), EH_ERR_ARG);
    st = fx.st; st.h.i_syn = 0; /* h is CuBa in this fixture */
    EH_CHECK_EQ(eh_l2mu_step_q15(&fx.c, x, &st, s, 400), EH_ERR_NULL);
    EH_CHECK(q15_state_is_zero(&fx));

    c = fx.c; c.readout = (eh_l2mu_readout)5; EH_CHECK_EQ(eh_l2mu_readout_q15(&c, &fx.st, s, 400), EH_ERR_ARG);
    c = fx.c; c.readout = EH_L2MU_READOUT_LI; c.pop_o.leak_syn = c.pop_h.leak_syn;
    EH_CHECK_EQ(eh_l2mu_readout_q15(&c, &fx.st, s, 400), EH_ERR_ARG);
    c = fx.c; c.s_o = 40; EH_CHECK_EQ(eh_l2mu_readout_q15(&c, &fx.st, s, 400), EH_ERR_RANGE);
    c = fx.c; c.w_o = 0; EH_CHECK_EQ(eh_l2mu_readout_q15(&c, &fx.st, s, 400), EH_ERR_NULL);
    EH_CHECK(q15_state_is_zero(&fx));
    c = fx.c; c.readout = EH_L2MU_READOUT_LI; c.pop_o.thr = 0; /* LI ignores the threshold */
    EH_CHECK_EQ(eh_l2mu_readout_q15(&c, &fx.st, s, 400), EH_OK);
    EH_CHECK_EQ(eh_l2mu_step_q15(&fx.c, x, &fx.st, s, 400), EH_OK);
    EH_CHECK(!q15_state_is_zero(&fx));

    f = fx.f; f.pop_h.beta = &bad_beta; f.pop_h.beta_len = 1;
    EH_CHECK_EQ(eh_l2mu_step_f32(&f, fxin, &fx.fst, fs, 400), EH_ERR_RANGE);
    f = fx.f; f.pop_u.thr = 0; EH_CHECK_EQ(eh_l2mu_step_f32(&f, fxin, &fx.fst, fs, 400), EH_ERR_NULL);
    f = fx.f; f.readout = EH_L2MU_READOUT_LI; f.pop_o.alpha = &bad_beta;
    EH_CHECK_EQ(eh_l2mu_readout_f32(&f, &fx.fst, fs, 400), EH_ERR_ARG);
    EH_CHECK(fx.fst.in.v[0] == 0.0f && fx.fst.h.v[0] == 0.0f && fx.fst.m.s[0] == 0);
    EH_CHECK_EQ(eh_l2mu_step_f32(&fx.f, fxin, &fx.fst, fs, 400), EH_OK);
    l2mu_free(&fx);
}

/* ---- prepare once, step often ------------------------------------------------------------ */

/* eh_l2mu_check_q15 / eh_l2mu_readout_check_q15 return what the checked step / readout return
 * for every cell-level problem, and NULL for a NULL cell. */
static void test_l2mu_check_functions(void)
{
    l2mu_fixture fx;
    int16_t s[400], x[6] = {0};
    int16_t bad_thr = 0;
    uint8_t bad_shift = 16;
    eh_l2mu_q15 c;
    uint32_t k;
    l2mu_setup(&fx, 6, 4, 1, 10, 0, 3, 4, 11, 2, 1);
    EH_CHECK_EQ(eh_l2mu_check_q15(0, 400), EH_ERR_NULL);
    EH_CHECK_EQ(eh_l2mu_readout_check_q15(0, 400), EH_ERR_NULL);
    EH_CHECK_EQ(eh_l2mu_check_q15(&fx.c, fx.scratch_q15), EH_OK);
    EH_CHECK_EQ(eh_l2mu_check_q15(&fx.c, fx.scratch_q15 - 1), EH_ERR_SIZE);
    EH_CHECK_EQ(eh_l2mu_readout_check_q15(&fx.c, fx.c.dims.n_o + fx.c.dims.n_h), EH_OK);
    EH_CHECK_EQ(eh_l2mu_readout_check_q15(&fx.c, fx.c.dims.n_o + fx.c.dims.n_h - 1), EH_ERR_SIZE);
    for (k = 0; k < 16; k++) {
        c = fx.c;
        switch (k) {
        case 0: c.w_enc[0] = 0; break;
        case 1: c.w_m = 0; break;
        case 2: c.dims.n_enc = 3; break;
        case 3: c.dims.enc[0] = 0; break;
        case 4: c.dims.n_u = 10000; c.dims.order = 7; break;
        case 5: c.s_wm = 32; break;
        case 6: c.s_enc[0] = 32; break;
        case 7: c.pop_h.thr = &bad_thr; c.pop_h.thr_len = 1; break;
        case 8: c.pop_h.leak.shift = &bad_shift; c.pop_h.leak.len = 1; break;
        case 9: c.pop_h.thr_len = 2; break;
        case 10: c.pop_h.reset = (eh_reset)3; break;
        case 11: c.pop_m.leak.decay = fx.c.pop_h.leak_syn.decay; break;
        case 12: c.pop_in.thr = 0; break;
        case 13: c.e_x = 0; break;
        case 14: c.pop_u.leak.shift = 0; break;
        default: c.pop_enc[0].leak.len = 5; break;
        }
        EH_CHECK_EQ(eh_l2mu_check_q15(&c, 400), eh_l2mu_step_q15(&c, x, &fx.st, s, 400));
    }
    for (k = 0; k < 5; k++) {
        c = fx.c;
        switch (k) {
        case 0: c.readout = (eh_l2mu_readout)5; break;
        case 1: c.readout = EH_L2MU_READOUT_LI; c.pop_o.leak_syn = c.pop_h.leak_syn; break;
        case 2: c.s_o = 40; break;
        case 3: c.w_o = 0; break;
        default: c.pop_o.thr = &bad_thr; c.pop_o.thr_len = 1; break;
        }
        EH_CHECK_EQ(eh_l2mu_readout_check_q15(&c, 400), eh_l2mu_readout_q15(&c, &fx.st, s, 400));
        EH_CHECK(eh_l2mu_readout_check_q15(&c, 400) != EH_OK);
    }
    EH_CHECK(q15_state_is_zero(&fx));
    l2mu_free(&fx);
}

static void state_copy(const l2mu_fixture *a, l2mu_fixture *b, uint32_t *bad, int compare)
{
    const eh_l2mu_pop_state_q15 *pa[7];
    eh_l2mu_pop_state_q15 *pb[7];
    const eh_l2mu_dims *d = &a->c.dims;
    uint32_t n[7], k, j;
    pa[0] = &a->st.in; pa[1] = &a->st.enc[0]; pa[2] = &a->st.enc[1]; pa[3] = &a->st.u;
    pa[4] = &a->st.m; pa[5] = &a->st.h; pa[6] = &a->st.o;
    pb[0] = &b->st.in; pb[1] = &b->st.enc[0]; pb[2] = &b->st.enc[1]; pb[3] = &b->st.u;
    pb[4] = &b->st.m; pb[5] = &b->st.h; pb[6] = &b->st.o;
    n[0] = d->n_ch * d->pop; n[1] = d->n_enc > 0 ? d->enc[0] : 0; n[2] = d->n_enc > 1 ? d->enc[1] : 0;
    n[3] = d->n_u; n[4] = d->n_u * d->order; n[5] = d->n_h; n[6] = d->n_o;
    for (k = 0; k < 7; k++)
        for (j = 0; j < n[k]; j++) {
            if (compare) {
                *bad |= (uint32_t)(pa[k]->v[j] != pb[k]->v[j]) | (uint32_t)(pa[k]->s[j] != pb[k]->s[j]);
                if (pa[k]->i_syn) *bad |= (uint32_t)(pa[k]->i_syn[j] != pb[k]->i_syn[j]);
            } else {
                pb[k]->v[j] = pa[k]->v[j];
                pb[k]->s[j] = pa[k]->s[j];
                if (pa[k]->i_syn) pb[k]->i_syn[j] = pa[k]->i_syn[j];
            }
        }
}

/* The unchecked step and readout equal the checked ones, with scratch of exactly the checked
 * size (heap, ASan), over the fixture shapes of test_l2mu_exact_buffers and random states. */
static void test_l2mu_unchecked_equals_checked(void)
{
    uint32_t n_ch, n_enc, order, n_h, t, round, bad = 0;
    for (round = 0; round < 2; round++)
    for (n_ch = 1; n_ch <= 6; n_ch += 5)
    for (n_enc = 0; n_enc <= 2; n_enc++)
    for (order = 1; order <= 9; order += 4)
    for (n_h = 1; n_h <= 33; n_h += 8) {
        l2mu_fixture a, b;
        int16_t *sa, *sb, x[6];
        const uint32_t seed = eh_test_rng;
        l2mu_setup(&a, n_ch, 3 + round, n_enc, 5, 9, 2 + round, order, n_h, 3, (int)round);
        eh_test_rng = seed; /* the same cell and state again */
        l2mu_setup(&b, n_ch, 3 + round, n_enc, 5, 9, 2 + round, order, n_h, 3, (int)round);
        sa = keep(&a, malloc(a.scratch_q15 * sizeof *sa));
        sb = keep(&b, malloc(b.scratch_q15 * sizeof *sb));
        EH_CHECK_EQ(eh_l2mu_check_q15(&b.c, b.scratch_q15), EH_OK);
        EH_CHECK_EQ(eh_l2mu_readout_check_q15(&b.c, b.scratch_q15), EH_OK);
        for (t = 0; t < 8; t++) {
            uint32_t k;
            for (k = 0; k < 6; k++) x[k] = (int16_t)eh_test_rand();
            if (t == 4) { /* a random state, spikes not matching v */
                uint32_t n_in = n_ch * a.c.dims.pop;
                for (k = 0; k < n_in; k++) {
                    a.st.in.v[k] = (int16_t)eh_test_rand();
                    a.st.in.s[k] = (uint8_t)(eh_test_rand() & 1u);
                }
                for (k = 0; k < n_h; k++) {
                    a.st.h.v[k] = (int16_t)eh_test_rand();
                    a.st.h.s[k] = (uint8_t)(eh_test_rand() & 1u);
                }
                state_copy(&a, &b, &bad, 0);
            }
            EH_CHECK_EQ(eh_l2mu_step_q15(&a.c, x, &a.st, sa, a.scratch_q15), EH_OK);
            EH_CHECK_EQ(eh_l2mu_readout_q15(&a.c, &a.st, sa, a.scratch_q15), EH_OK);
            eh_l2mu_step_q15_unchecked(&b.c, x, &b.st, sb);
            eh_l2mu_readout_q15_unchecked(&b.c, &b.st, sb);
            state_copy(&a, &b, &bad, 1);
            a.c.readout = b.c.readout = (t & 1) ? EH_L2MU_READOUT_LIF : EH_L2MU_READOUT_LI;
        }
        l2mu_free(&a);
        l2mu_free(&b);
    }
    EH_CHECK_EQ(bad, 0);
}

/* The fast spike lists (eight bytes at a time on cores with count-zeros) give the plain
 * list: any nonzero byte counts as a spike (2, 0x80, 0xFF too), every length 1..90 from an odd
 * and an even start address, densities from none to all, exact-size buffers. */
static void test_spike_list_fast(void)
{
    static const uint8_t vals[] = {1, 1, 1, 2, 0x80, 0xFF, 0x7F};
    uint32_t n, off, dens, k;
    for (n = 1; n <= 90; n++) {
        for (off = 0; off < 2; off++) {
            for (dens = 0; dens <= 4; dens++) {
                uint8_t *buf = malloc(n + off), *s = buf + off;
                uint16_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
                uint32_t ca, cb;
                for (k = 0; k < n; k++)
                    s[k] = (eh_test_rand() % 4u) < dens ? vals[eh_test_rand() % sizeof vals] : 0u;
                ca = eh_lmu_spike_list(s, n, a);
                cb = eh_lmu_spike_list_fast(s, n, b);
                EH_CHECK_EQ(cb, ca);
                if (cb == ca) EH_CHECK(memcmp(a, b, ca * sizeof *a) == 0);
                free(buf); free(a); free(b);
            }
        }
    }
}

int main(void)
{
    test_spike_list_fast();
    test_l2mu_check_functions();
    test_l2mu_unchecked_equals_checked();
    test_lmu_bad_arguments();
    test_lmu_exact_buffers();
    test_l2mu_exact_buffers();
    test_l2mu_bad_arguments();
    EH_TEST_DONE();
}
