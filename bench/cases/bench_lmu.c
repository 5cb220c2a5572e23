/*
 * Benchmark cases of the LMU family; unit "step" (one call = one time step of the cell).
 *
 *   lmu_q15, lmu_f32  an LMU cell with 6 inputs, 4 memory channels of order d = 4, 8, 16 and
 *                     32 hidden units: E_x, E_h, W_x, W_h, W_m and a hidden bias (no E_m),
 *                     Q15 with per-matrix shifts and hard-tanh, float32 with the rational tanh.
 *   l2mu_q15          a HAR-sized L2MU: 6 input channels x 16 LIF neurons (96), one encoder
 *                     layer of 64 LIF, memory 10 channels x order 7 (70 LIF), u 10 LIF, hidden
 *                     120 LIF, 7 leaky-integrator outputs: 367 neurons, ~39 k int16 weights.
 *                     One run() = eh_l2mu_step_q15 + eh_l2mu_readout_q15. setup() runs 8 warm-up
 *                     steps on a triangle-wave input so the spike state is a typical one (about
 *                     a third of the neurons spike per step with these weights).
 *
 * The values are pseudo-random (eh_bench_rand); the cost does not depend on them except
 * through the spike counts in l2mu_q15. Buffers are shared by all cases (one runs at a time).
 */
#include <stdint.h>

#include "eh_bench.h"
#include "eh_lmu.h"

#define LMU_NX 6u
#define LMU_NU 4u
#define LMU_NH 32u
#define LMU_DMAX 16u
#define LMU_NM_MAX (LMU_NU * LMU_DMAX)

#define L2_NCH 6u
#define L2_POP 16u
#define L2_NIN (L2_NCH * L2_POP)
#define L2_ENC 64u
#define L2_NU 10u
#define L2_ORDER 7u
#define L2_NM (L2_NU * L2_ORDER)
#define L2_NH 120u
#define L2_NO 7u
/* Q15 scratch: P + Q + n_h + n_m with P = max population (120), Q = max input layer (96). */
#define L2_SCRATCH (L2_NH + L2_NIN + L2_NH + L2_NM)

static union {
    struct {
        int16_t x[LMU_NX], m[LMU_NM_MAX], h[LMU_NH], scratch[LMU_NU + LMU_DMAX + LMU_NH];
        int16_t e_x[LMU_NU * LMU_NX], e_h[LMU_NU * LMU_NH], a[LMU_DMAX * LMU_DMAX], b[LMU_DMAX];
        int16_t w_x[LMU_NH * LMU_NX], w_h[LMU_NH * LMU_NH], w_m[LMU_NH * LMU_NM_MAX];
        int32_t b_h[LMU_NH];
    } q;
    struct {
        float x[LMU_NX], m[LMU_NM_MAX], h[LMU_NH], scratch[LMU_NU + LMU_DMAX + LMU_NH];
        float e_x[LMU_NU * LMU_NX], e_h[LMU_NU * LMU_NH], a[LMU_DMAX * LMU_DMAX], b[LMU_DMAX];
        float w_x[LMU_NH * LMU_NX], w_h[LMU_NH * LMU_NH], w_m[LMU_NH * LMU_NM_MAX], b_h[LMU_NH];
    } f;
    struct {
        int16_t w_in[L2_NIN], w_enc[L2_ENC * L2_NIN], e_x[L2_NU * L2_ENC], e_h[L2_NU * L2_NH];
        int16_t a[L2_ORDER * L2_ORDER], b[L2_ORDER], w_x[L2_NH * L2_ENC], w_h[L2_NH * L2_NH];
        int16_t w_m[L2_NH * L2_NM], w_o[L2_NO * L2_NH];
        int32_t b_in[L2_NIN];
        int16_t v_in[L2_NIN], v_enc[L2_ENC], v_u[L2_NU], v_m[L2_NM], v_h[L2_NH], v_o[L2_NO];
        uint8_t s_in[L2_NIN], s_enc[L2_ENC], s_u[L2_NU], s_m[L2_NM], s_h[L2_NH], s_o[L2_NO];
        int16_t scratch[L2_SCRATCH];
        int16_t x[L2_NCH];
    } l2;
} pool;

static eh_lmu_q15 lmu_q;
static eh_lmu_f32 lmu_f;
static eh_l2mu_q15 l2;
static eh_l2mu_state_q15 l2_state;
static const uint8_t l2_shift2 = 2;
static const int16_t l2_thr_in = 1500, l2_thr_u = 1000, l2_thr_m = 1000, l2_thr_h = 1500;

static volatile eh_status last_status; /* keeps the result observable */

static int16_t rand_q15(int32_t span)
{
    /* uniform in [-span, span) */
    return (int16_t)((int32_t)(eh_bench_rand() % (uint32_t)(2 * span)) - span);
}

static void fill_q15(int16_t *p, uint32_t n, int32_t span)
{
    uint32_t k;
    for (k = 0; k < n; k++) p[k] = rand_q15(span);
}

static void fill_f32(float *p, uint32_t n, float scale)
{
    uint32_t k;
    for (k = 0; k < n; k++) p[k] = scale * (float)rand_q15(32768) / 32768.0f;
}

/* ---- LMU -------------------------------------------------------------------------------- */

static void setup_lmu_q15(uint32_t order)
{
    const uint32_t n_m = LMU_NU * order;
    uint32_t k;
    fill_q15(pool.q.x, LMU_NX, 8192);
    fill_q15(pool.q.m, n_m, 8192);
    fill_q15(pool.q.h, LMU_NH, 8192);
    fill_q15(pool.q.e_x, LMU_NU * LMU_NX, 16384);
    fill_q15(pool.q.e_h, LMU_NU * LMU_NH, 4096);
    fill_q15(pool.q.a, order * order, 2048);
    for (k = 0; k < order; k++) pool.q.a[k * order + k] = 30000; /* near identity, like Abar */
    fill_q15(pool.q.b, order, 8192);
    fill_q15(pool.q.w_x, LMU_NH * LMU_NX, 16384);
    fill_q15(pool.q.w_h, LMU_NH * LMU_NH, 4096);
    fill_q15(pool.q.w_m, LMU_NH * n_m, 4096);
    for (k = 0; k < LMU_NH; k++) pool.q.b_h[k] = rand_q15(1024);
    lmu_q.n_x = LMU_NX; lmu_q.n_h = LMU_NH; lmu_q.n_u = LMU_NU; lmu_q.order = order;
    lmu_q.e_x = pool.q.e_x; lmu_q.e_h = pool.q.e_h; lmu_q.e_m = 0;
    lmu_q.a = pool.q.a; lmu_q.b = pool.q.b;
    lmu_q.w_x = pool.q.w_x; lmu_q.w_h = pool.q.w_h; lmu_q.w_m = pool.q.w_m; lmu_q.b_h = pool.q.b_h;
    lmu_q.s_ex = 15; lmu_q.s_eh = 15; lmu_q.s_em = 15; lmu_q.s_a = 15; lmu_q.s_b = 15;
    lmu_q.s_wx = 15; lmu_q.s_wh = 15; lmu_q.s_wm = 15;
    lmu_q.clamp = 8192; lmu_q.act = EH_LMU_ACT_HARDTANH;
}

static void setup_lmu_f32(uint32_t order)
{
    const uint32_t n_m = LMU_NU * order;
    uint32_t k;
    fill_f32(pool.f.x, LMU_NX, 1.0f);
    fill_f32(pool.f.m, n_m, 1.0f);
    fill_f32(pool.f.h, LMU_NH, 1.0f);
    fill_f32(pool.f.e_x, LMU_NU * LMU_NX, 1.0f);
    fill_f32(pool.f.e_h, LMU_NU * LMU_NH, 0.25f);
    fill_f32(pool.f.a, order * order, 0.0625f);
    for (k = 0; k < order; k++) pool.f.a[k * order + k] = 0.9f;
    fill_f32(pool.f.b, order, 0.25f);
    fill_f32(pool.f.w_x, LMU_NH * LMU_NX, 0.5f);
    fill_f32(pool.f.w_h, LMU_NH * LMU_NH, 0.125f);
    fill_f32(pool.f.w_m, LMU_NH * n_m, 0.125f);
    fill_f32(pool.f.b_h, LMU_NH, 0.125f);
    lmu_f.n_x = LMU_NX; lmu_f.n_h = LMU_NH; lmu_f.n_u = LMU_NU; lmu_f.order = order;
    lmu_f.e_x = pool.f.e_x; lmu_f.e_h = pool.f.e_h; lmu_f.e_m = 0;
    lmu_f.a = pool.f.a; lmu_f.b = pool.f.b;
    lmu_f.w_x = pool.f.w_x; lmu_f.w_h = pool.f.w_h; lmu_f.w_m = pool.f.w_m; lmu_f.b_h = pool.f.b_h;
    lmu_f.act = EH_LMU_ACT_TANH;
}

static void run_lmu_q15(void)
{
    last_status = eh_lmu_step_q15(&lmu_q, pool.q.x, pool.q.m, pool.q.h, pool.q.scratch,
                                  LMU_NU + lmu_q.order + LMU_NH);
}

static void run_lmu_f32(void)
{
    last_status = eh_lmu_step_f32(&lmu_f, pool.f.x, pool.f.m, pool.f.h, pool.f.scratch,
                                  LMU_NU + lmu_f.order + LMU_NH);
}

#define LMU_CASE_FNS(d)                                                                       \
    static void setup_lmu_q15_##d(void) { setup_lmu_q15((d)); }                                \
    static void setup_lmu_f32_##d(void) { setup_lmu_f32((d)); }

LMU_CASE_FNS(4)
LMU_CASE_FNS(8)
LMU_CASE_FNS(16)

/* ---- L2MU ------------------------------------------------------------------------------- */

static void l2_pop(eh_l2mu_pop_q15 *p, const int16_t *thr)
{
    p->leak.decay = 0;
    p->leak.shift = &l2_shift2;
    p->leak.len = 1;
    p->leak_syn.decay = 0;
    p->leak_syn.shift = 0;
    p->leak_syn.len = 0;
    p->thr = thr;
    p->thr_len = 1;
    p->reset = EH_RESET_SUBTRACT;
}

static void l2_input(uint32_t t)
{
    uint32_t c;
    for (c = 0; c < L2_NCH; c++) {
        /* a triangle wave of period 10 + 3c steps, amplitude 8000 */
        const uint32_t per = 10u + 3u * c, ph = t % per;
        const int32_t tri = (int32_t)(ph < per / 2u ? ph : per - ph) * 32000 / (int32_t)per - 8000;
        pool.l2.x[c] = (int16_t)tri;
    }
}

static void setup_l2mu_q15(void)
{
    uint32_t k, t;
    fill_q15(pool.l2.w_in, L2_NIN, 4000);
    for (k = 0; k < L2_NIN; k++) pool.l2.b_in[k] = rand_q15(1000) + 500;
    fill_q15(pool.l2.w_enc, L2_ENC * L2_NIN, 700);
    fill_q15(pool.l2.e_x, L2_NU * L2_ENC, 700);
    fill_q15(pool.l2.e_h, L2_NU * L2_NH, 700);
    fill_q15(pool.l2.a, L2_ORDER * L2_ORDER, 12000);
    fill_q15(pool.l2.b, L2_ORDER, 12000);
    fill_q15(pool.l2.w_x, L2_NH * L2_ENC, 700);
    fill_q15(pool.l2.w_h, L2_NH * L2_NH, 700);
    fill_q15(pool.l2.w_m, L2_NH * L2_NM, 700);
    fill_q15(pool.l2.w_o, L2_NO * L2_NH, 700);
    for (k = 0; k < L2_NIN; k++) { pool.l2.v_in[k] = 0; pool.l2.s_in[k] = 0; }
    for (k = 0; k < L2_ENC; k++) { pool.l2.v_enc[k] = 0; pool.l2.s_enc[k] = 0; }
    for (k = 0; k < L2_NU; k++) { pool.l2.v_u[k] = 0; pool.l2.s_u[k] = 0; }
    for (k = 0; k < L2_NM; k++) { pool.l2.v_m[k] = 0; pool.l2.s_m[k] = 0; }
    for (k = 0; k < L2_NH; k++) { pool.l2.v_h[k] = 0; pool.l2.s_h[k] = 0; }
    for (k = 0; k < L2_NO; k++) { pool.l2.v_o[k] = 0; pool.l2.s_o[k] = 0; }

    l2.dims.n_ch = L2_NCH; l2.dims.pop = L2_POP; l2.dims.n_enc = 1; l2.dims.enc[0] = L2_ENC;
    l2.dims.enc[1] = 0; l2.dims.n_u = L2_NU; l2.dims.order = L2_ORDER; l2.dims.n_h = L2_NH;
    l2.dims.n_o = L2_NO;
    l2.w_in = pool.l2.w_in; l2.b_in = pool.l2.b_in; l2.s_in = 0;
    l2.w_enc[0] = pool.l2.w_enc; l2.b_enc[0] = 0; l2.s_enc[0] = 0;
    l2.w_enc[1] = 0; l2.b_enc[1] = 0; l2.s_enc[1] = 0;
    l2.e_x = pool.l2.e_x; l2.e_h = pool.l2.e_h; l2.e_m = 0;
    l2.a = pool.l2.a; l2.b = pool.l2.b; l2.s_a = 4; l2.s_b = 5;
    l2.w_x = pool.l2.w_x; l2.w_h = pool.l2.w_h; l2.w_m = pool.l2.w_m;
    l2.s_ex = 0; l2.s_eh = 0; l2.s_em = 0; l2.s_wx = 0; l2.s_wh = 0; l2.s_wm = 0;
    l2.w_o = pool.l2.w_o; l2.b_o = 0; l2.s_o = 0;
    l2_pop(&l2.pop_in, &l2_thr_in);
    l2_pop(&l2.pop_enc[0], &l2_thr_in);
    l2_pop(&l2.pop_u, &l2_thr_u);
    l2_pop(&l2.pop_m, &l2_thr_m);
    l2_pop(&l2.pop_h, &l2_thr_h);
    l2_pop(&l2.pop_o, &l2_thr_h);
    l2.readout = EH_L2MU_READOUT_LI;

    l2_state.in.v = pool.l2.v_in; l2_state.in.s = pool.l2.s_in; l2_state.in.i_syn = 0;
    l2_state.enc[0].v = pool.l2.v_enc; l2_state.enc[0].s = pool.l2.s_enc; l2_state.enc[0].i_syn = 0;
    l2_state.u.v = pool.l2.v_u; l2_state.u.s = pool.l2.s_u; l2_state.u.i_syn = 0;
    l2_state.m.v = pool.l2.v_m; l2_state.m.s = pool.l2.s_m; l2_state.m.i_syn = 0;
    l2_state.h.v = pool.l2.v_h; l2_state.h.s = pool.l2.s_h; l2_state.h.i_syn = 0;
    l2_state.o.v = pool.l2.v_o; l2_state.o.s = pool.l2.s_o; l2_state.o.i_syn = 0;

    for (t = 0; t < 8u; t++) {
        l2_input(t);
        last_status = eh_l2mu_step_q15(&l2, pool.l2.x, &l2_state, pool.l2.scratch, L2_SCRATCH);
        last_status = eh_l2mu_readout_q15(&l2, &l2_state, pool.l2.scratch, L2_SCRATCH);
    }
    l2_input(8u);
}

static void run_l2mu_q15(void)
{
    last_status = eh_l2mu_step_q15(&l2, pool.l2.x, &l2_state, pool.l2.scratch, L2_SCRATCH);
    last_status = eh_l2mu_readout_q15(&l2, &l2_state, pool.l2.scratch, L2_SCRATCH);
}

const eh_bench_case eh_bench_cases_lmu[] = {
    {"lmu_q15", "x6_u4_d4_h32", "step", 1u, setup_lmu_q15_4, run_lmu_q15},
    {"lmu_q15", "x6_u4_d8_h32", "step", 1u, setup_lmu_q15_8, run_lmu_q15},
    {"lmu_q15", "x6_u4_d16_h32", "step", 1u, setup_lmu_q15_16, run_lmu_q15},
    {"lmu_f32", "x6_u4_d4_h32", "step", 1u, setup_lmu_f32_4, run_lmu_f32},
    {"lmu_f32", "x6_u4_d8_h32", "step", 1u, setup_lmu_f32_8, run_lmu_f32},
    {"lmu_f32", "x6_u4_d16_h32", "step", 1u, setup_lmu_f32_16, run_lmu_f32},
    {"l2mu_q15", "ch6x16_enc64_u10_d7_h120_o7", "step", 1u, setup_l2mu_q15, run_l2mu_q15},
};

const uint32_t eh_bench_n_lmu = sizeof eh_bench_cases_lmu / sizeof eh_bench_cases_lmu[0];
