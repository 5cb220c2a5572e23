/*
 * Benchmark cases of the LMU family; unit "step" (one call = one time step of the cell).
 *
 *   lmu_q15, lmu_f32  an LMU cell with 6 inputs, 4 memory channels of order d = 4, 8, 16 and
 *                     32 hidden units: E_x, E_h, W_x, W_h, W_m and a hidden bias (no E_m),
 *                     Q15 with per-matrix shifts and hard-tanh, float32 with the rational tanh.
 *   l2mu_q15          a HAR-sized L2MU: 6 input channels x 16 LIF neurons (96), one encoder
 *                     layer of 64 LIF, memory 10 channels x order 7 (70 LIF), u 10 LIF, hidden
 *                     120 LIF, 7 leaky-integrator outputs: 367 neurons, ~39 k int16 weights.
 *                     One run() = eh_l2mu_step_q15_unchecked + eh_l2mu_readout_q15_unchecked
 *                     (what an interpreter pays per step once eh_l2mu_check_q15 /
 *                     eh_l2mu_readout_check_q15 passed at load); "l2mu_q15_checked" times the
 *                     checked eh_l2mu_step_q15 + eh_l2mu_readout_q15 on the same state. setup()
 *                     runs 8 warm-up steps on a triangle-wave input so the spike state is a
 *                     typical one (about a third of the neurons spike per step with these weights).
 *   l2mu_q15_har      the HAR demo's model size (host/edgehost/demos/har): 6 channels x pop 8
 *                     (48), one encoder layer of 32, memory n_u 8 x order 6 (48), hidden 64, 6
 *                     leaky-integrator outputs; per-neuron Q15 decay and threshold in every
 *                     population (the decay path), reset by subtraction, every matrix present
 *                     (E_x, E_h, E_m, W_x, W_h, W_m), the demo's shifts. Random weights, inputs
 *                     (triangle waves) and thresholds chosen for a realistic activity. One
 *                     run() = a whole 2-s window: 40 unchecked steps + readouts from a zero
 *                     state (the unit is the step: the figure is the mean per step). Activity
 *                     over the window (spiking neurons on exit of each step, of the 200 in
 *                     in/enc/u/m/h): mean 13.8 %, from 2.0 % to 25.5 % per step; per population
 *                     in 20.9 %, enc 15.5 %, u 16.6 %, m 6.4 %, h 12.9 % (measured by running
 *                     this file's setup and run natively). "l2mu_q15_har_checked" runs the
 *                     checked pair. Budget: a 2-s window under 640,000 instructions.
 *
 * On-target self-check (setup of l2mu_q15_har, so it runs in --quick too): the unchecked and
 * checked L2MU step and readout against a plain reference written here from eh_lmu.h (int64
 * sums over every weight, the LIF update of eh_lif.h), over random cells of the HAR sizes with
 * 0, 1 or 2 encoder layers, full-range weights and int32 biases, shifts in [0, 31], optional
 * matrices absent, random decays / shifts / thresholds / resets (extremes included), random and
 * saturated states, several steps each; reported as "EHB|check|l2mu_q15|<compared>|<mismatches>".
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

/* The HAR demo's model (and the self-check's cells, which also use a second encoder of 16). */
#define H_NCH 6u
#define H_POP 8u
#define H_NIN (H_NCH * H_POP)
#define H_ENC 32u
#define H_ENC2 16u
#define H_NU 8u
#define H_ORDER 6u
#define H_NM (H_NU * H_ORDER)
#define H_NH 64u
#define H_NO 6u
#define H_SX_MAX H_NIN /* the largest s_x: no encoder layer */
/* Q15 scratch: P + Q + n_h + n_m, P = 64 (h), Q = 48 (input layer) */
#define H_SCRATCH (H_NH + H_NIN + H_NH + H_NM)
#define H_NPOP 7 /* in, enc0, enc1, u, m, h, o */

typedef struct {
    uint16_t decay[H_NH];
    uint8_t shift[H_NH];
    int16_t thr[H_NH];
    uint16_t decay_syn[H_NH];
    uint8_t shift_syn[H_NH];
} har_params;

typedef struct {
    int16_t v[H_NH], i_syn[H_NH];
    uint8_t s[H_NH];
} har_pop_state;

typedef struct {
    har_pop_state pop[H_NPOP];
} har_state_bufs;

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
    struct {
        int16_t w_in[H_NIN], w_enc0[H_ENC * H_NIN], w_enc1[H_ENC2 * H_ENC];
        int16_t e_x[H_NU * H_SX_MAX], e_h[H_NU * H_NH], e_m[H_NU * H_NM];
        int16_t a[H_ORDER * H_ORDER], b[H_ORDER];
        int16_t w_x[H_NH * H_SX_MAX], w_h[H_NH * H_NH], w_m[H_NH * H_NM], w_o[H_NO * H_NH];
        int32_t b_in[H_NIN], b_enc0[H_ENC], b_enc1[H_ENC2], b_o[H_NO];
        har_params par[H_NPOP];
        har_state_bufs st[3]; /* 0: the kernel under test / the bench, 1: checked, 2: reference */
        int16_t scratch[H_SCRATCH], x[H_NCH];
    } har;
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
    eh_l2mu_step_q15_unchecked(&l2, pool.l2.x, &l2_state, pool.l2.scratch);
    eh_l2mu_readout_q15_unchecked(&l2, &l2_state, pool.l2.scratch);
}

static void run_l2mu_q15_checked(void)
{
    last_status = eh_l2mu_step_q15(&l2, pool.l2.x, &l2_state, pool.l2.scratch, L2_SCRATCH);
    last_status = eh_l2mu_readout_q15(&l2, &l2_state, pool.l2.scratch, L2_SCRATCH);
}

/* ---- L2MU, the HAR demo's size ------------------------------------------------------------ */

static eh_l2mu_q15 har;
static eh_l2mu_state_q15 har_state[3];

/* the state structs over buffer set b */
static void har_bind_state(uint32_t b)
{
    har_state_bufs *sb = &pool.har.st[b];
    eh_l2mu_pop_state_q15 *p[H_NPOP];
    uint32_t k;
    p[0] = &har_state[b].in; p[1] = &har_state[b].enc[0]; p[2] = &har_state[b].enc[1];
    p[3] = &har_state[b].u; p[4] = &har_state[b].m; p[5] = &har_state[b].h; p[6] = &har_state[b].o;
    for (k = 0; k < H_NPOP; k++) {
        p[k]->v = sb->pop[k].v;
        p[k]->s = sb->pop[k].s;
        p[k]->i_syn = sb->pop[k].i_syn;
    }
}

static eh_l2mu_pop_q15 *har_pop(uint32_t k)
{
    eh_l2mu_pop_q15 *p[H_NPOP];
    p[0] = &har.pop_in; p[1] = &har.pop_enc[0]; p[2] = &har.pop_enc[1]; p[3] = &har.pop_u;
    p[4] = &har.pop_m; p[5] = &har.pop_h; p[6] = &har.pop_o;
    return p[k];
}

static void har_cell_common(uint32_t n_enc)
{
    har.dims.n_ch = H_NCH; har.dims.pop = H_POP; har.dims.n_enc = n_enc;
    har.dims.enc[0] = n_enc > 0u ? H_ENC : 0u; har.dims.enc[1] = n_enc > 1u ? H_ENC2 : 0u;
    har.dims.n_u = H_NU; har.dims.order = H_ORDER; har.dims.n_h = H_NH; har.dims.n_o = H_NO;
    har.w_in = pool.har.w_in; har.b_in = pool.har.b_in;
    har.w_enc[0] = n_enc > 0u ? pool.har.w_enc0 : 0; har.b_enc[0] = n_enc > 0u ? pool.har.b_enc0 : 0;
    har.w_enc[1] = n_enc > 1u ? pool.har.w_enc1 : 0; har.b_enc[1] = n_enc > 1u ? pool.har.b_enc1 : 0;
    har.e_x = pool.har.e_x; har.e_h = pool.har.e_h; har.e_m = pool.har.e_m;
    har.a = pool.har.a; har.b = pool.har.b;
    har.w_x = pool.har.w_x; har.w_h = pool.har.w_h; har.w_m = pool.har.w_m;
    har.w_o = pool.har.w_o; har.b_o = pool.har.b_o;
    har_bind_state(0u);
    har_bind_state(1u);
    har_bind_state(2u);
}

static void har_zero_state(uint32_t b)
{
    har_state_bufs *sb = &pool.har.st[b];
    uint32_t k, j;
    for (k = 0; k < H_NPOP; k++)
        for (j = 0; j < H_NH; j++) {
            sb->pop[k].v[j] = 0;
            sb->pop[k].i_syn[j] = 0;
            sb->pop[k].s[j] = 0;
        }
}

/* uniform in [lo, hi] */
static int32_t rand_range(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(eh_bench_rand() % (uint32_t)(hi - lo + 1));
}

static const uint32_t har_pop_n[H_NPOP] = {H_NIN, H_ENC, H_ENC2, H_NU, H_NM, H_NH, H_NO};

/* ---- on-target self-check of the L2MU: a plain reference from eh_lmu.h -------------------- */

static int64_t ref_rs(int64_t v, uint32_t s)
{
    return s == 0u ? v : (v + ((int64_t)1 << (s - 1u))) >> s;
}

static int16_t ref_sat(int64_t v)
{
    return (int16_t)(v > INT16_MAX ? INT16_MAX : (v < INT16_MIN ? INT16_MIN : v));
}

static int32_t ref_leak(const eh_leak_q15 *lk, uint32_t k, int32_t y)
{
    const uint32_t j = lk->len == 1u ? 0u : k;
    if (lk->decay != 0) return (y * (int32_t)lk->decay[j] + (1 << 14)) >> 15;
    return y - (y >> lk->shift[j]);
}

/* eh_lif.h's LIF / CuBa-LIF update of one population */
static void ref_pop(const eh_l2mu_pop_q15 *p, eh_l2mu_pop_state_q15 *st, uint32_t n,
                    const int16_t *cur)
{
    uint32_t k;
    const int cuba = p->leak_syn.decay != 0 || p->leak_syn.shift != 0;
    for (k = 0; k < n; k++) {
        const int32_t t = p->thr[p->thr_len == 1u ? 0u : k];
        int32_t in = cur[k], u;
        if (cuba) {
            in = ref_sat(ref_leak(&p->leak_syn, k, st->i_syn[k]) + in);
            st->i_syn[k] = (int16_t)in;
        }
        if (p->reset == EH_RESET_SUBTRACT)
            u = ref_sat(ref_leak(&p->leak, k, st->v[k]) + in - (st->s[k] ? t : 0));
        else if (cuba)
            u = st->s[k] ? 0 : ref_sat(ref_leak(&p->leak, k, st->v[k]) + in);
        else
            u = ref_sat((st->s[k] ? 0 : ref_leak(&p->leak, k, st->v[k])) + in);
        st->v[k] = (int16_t)u;
        st->s[k] = (uint8_t)(u > t);
    }
}

static int64_t ref_ssum(const int16_t *w, const uint8_t *s, uint32_t n)
{
    int64_t acc = 0;
    uint32_t k;
    for (k = 0; k < n; k++)
        if (s[k]) acc += w[k];
    return acc;
}

static int16_t ref_cur[H_NM > H_NH ? H_NM : H_NH];
static uint8_t ref_sm_prev[H_NM];

static void ref_l2mu_step(const eh_l2mu_q15 *c, const int16_t *x, eh_l2mu_state_q15 *st)
{
    const eh_l2mu_dims *d = &c->dims;
    const uint32_t n_in = d->n_ch * d->pop, n_m = d->n_u * d->order;
    const uint8_t *prev = st->in.s;
    uint32_t prev_n = n_in, k, j, o, ch, r;
    for (ch = 0; ch < d->n_ch; ch++)
        for (k = 0; k < d->pop; k++) {
            const uint32_t i = ch * d->pop + k;
            ref_cur[i] = ref_sat(ref_rs((int64_t)c->w_in[i] * x[ch], c->s_in) + (c->b_in ? c->b_in[i] : 0));
        }
    ref_pop(&c->pop_in, &st->in, n_in, ref_cur);
    for (k = 0; k < d->n_enc; k++) {
        for (o = 0; o < d->enc[k]; o++)
            ref_cur[o] = ref_sat(ref_rs(ref_ssum(c->w_enc[k] + o * prev_n, prev, prev_n), c->s_enc[k]) +
                                 (c->b_enc[k] ? c->b_enc[k][o] : 0));
        ref_pop(&c->pop_enc[k], &st->enc[k], d->enc[k], ref_cur);
        prev = st->enc[k].s;
        prev_n = d->enc[k];
    }
    for (j = 0; j < n_m; j++) ref_sm_prev[j] = st->m.s[j];
    for (ch = 0; ch < d->n_u; ch++) {
        int64_t acc = ref_rs(ref_ssum(c->e_x + ch * prev_n, prev, prev_n), c->s_ex);
        if (c->e_h) acc += ref_rs(ref_ssum(c->e_h + ch * d->n_h, st->h.s, d->n_h), c->s_eh);
        if (c->e_m) acc += ref_rs(ref_ssum(c->e_m + ch * n_m, ref_sm_prev, n_m), c->s_em);
        ref_cur[ch] = ref_sat(acc);
    }
    ref_pop(&c->pop_u, &st->u, d->n_u, ref_cur);
    for (ch = 0; ch < d->n_u; ch++)
        for (r = 0; r < d->order; r++)
            ref_cur[ch * d->order + r] = ref_sat(
                ref_rs(ref_ssum(c->a + r * d->order, ref_sm_prev + ch * d->order, d->order), c->s_a) +
                (st->u.s[ch] ? ref_rs(c->b[r], c->s_b) : 0));
    ref_pop(&c->pop_m, &st->m, n_m, ref_cur);
    for (j = 0; j < d->n_h; j++) {
        int64_t acc = ref_rs(ref_ssum(c->w_m + j * n_m, st->m.s, n_m), c->s_wm);
        if (c->w_x) acc += ref_rs(ref_ssum(c->w_x + j * prev_n, prev, prev_n), c->s_wx);
        if (c->w_h) acc += ref_rs(ref_ssum(c->w_h + j * d->n_h, st->h.s, d->n_h), c->s_wh);
        ref_cur[j] = ref_sat(acc);
    }
    ref_pop(&c->pop_h, &st->h, d->n_h, ref_cur);
}

static void ref_l2mu_readout(const eh_l2mu_q15 *c, eh_l2mu_state_q15 *st)
{
    const eh_l2mu_dims *d = &c->dims;
    uint32_t o;
    for (o = 0; o < d->n_o; o++)
        ref_cur[o] = ref_sat(ref_rs(ref_ssum(c->w_o + o * d->n_h, st->h.s, d->n_h), c->s_o) +
                             (c->b_o ? c->b_o[o] : 0));
    if (c->readout == EH_L2MU_READOUT_LIF) {
        ref_pop(&c->pop_o, &st->o, d->n_o, ref_cur);
        return;
    }
    for (o = 0; o < d->n_o; o++)
        st->o.v[o] = ref_sat(ref_leak(&c->pop_o.leak, o, st->o.v[o]) + ref_cur[o]);
}

/* int16 with the extremes over-represented, or uniform in [-span, span) */
static int16_t chk_q15(int32_t span)
{
    const uint32_t r = eh_bench_rand();
    switch (r & 15u) {
    case 0: return INT16_MAX;
    case 1: return INT16_MIN;
    case 2: return (int16_t)(INT16_MAX - (int32_t)((r >> 8) & 63u));
    default: return rand_q15(span);
    }
}

static void chk_fill(int16_t *p, uint32_t n)
{
    const int32_t span = (int32_t)1 << (1u + eh_bench_rand() % 15u); /* 2 .. 32768 */
    uint32_t k;
    for (k = 0; k < n; k++) p[k] = chk_q15(span);
}

static int32_t chk_bias(void)
{
    const uint32_t r = eh_bench_rand();
    if ((r & 15u) == 0u) return (r & 16u) ? INT32_MAX : INT32_MIN;
    return (int32_t)(eh_bench_rand() % 65536u) - 32768;
}

static uint8_t chk_shift(void)
{
    const uint32_t r = eh_bench_rand();
    return (uint8_t)((r & 7u) == 0u ? r % 32u : r % 9u);
}

static void chk_pop(uint32_t k, int allow_cuba)
{
    har_params *pp = &pool.har.par[k];
    eh_l2mu_pop_q15 *p = har_pop(k);
    const uint32_t r = eh_bench_rand(), n = har_pop_n[k];
    uint32_t j;
    for (j = 0; j < n; j++) {
        const uint32_t q = eh_bench_rand();
        pp->decay[j] = (q & 7u) == 0u ? 32768u : ((q & 7u) == 1u ? 0u : (uint16_t)((q >> 8) % 32769u));
        pp->shift[j] = (uint8_t)(1u + (q >> 24) % 15u);
        pp->decay_syn[j] = (uint16_t)((q >> 4) % 32769u);
        pp->shift_syn[j] = (uint8_t)(1u + (q >> 20) % 15u);
        pp->thr[j] = (q & 0x300u) == 0u ? 1 : ((q & 0x300u) == 0x100u ? INT16_MAX : (int16_t)(1 + (q >> 17) % 4000u));
    }
    p->leak.len = (r & 1u) ? n : 1u;
    p->leak.decay = (r & 2u) ? pp->decay : 0;
    p->leak.shift = (r & 2u) ? 0 : pp->shift;
    p->leak_syn.len = (r & 4u) ? n : 1u;
    p->leak_syn.decay = 0;
    p->leak_syn.shift = 0;
    if (allow_cuba && (r & 0x30u) == 0u) {
        if (r & 8u) p->leak_syn.decay = pp->decay_syn;
        else p->leak_syn.shift = pp->shift_syn;
    }
    p->thr = pp->thr;
    p->thr_len = (r & 0x40u) ? n : 1u;
    p->reset = (r & 0x80u) ? EH_RESET_ZERO : EH_RESET_SUBTRACT;
}

static uint32_t chk_state_diff(uint32_t a, uint32_t b)
{
    uint32_t k, j, bad = 0;
    for (k = 0; k < H_NPOP; k++)
        for (j = 0; j < har_pop_n[k]; j++)
            bad |= (uint32_t)(pool.har.st[a].pop[k].v[j] != pool.har.st[b].pop[k].v[j]) |
                   (uint32_t)(pool.har.st[a].pop[k].s[j] != pool.har.st[b].pop[k].s[j]) |
                   (uint32_t)(pool.har.st[a].pop[k].i_syn[j] != pool.har.st[b].pop[k].i_syn[j]);
    return bad;
}

static void self_check_l2mu(void)
{
    static int done = 0; /* once per image: both HAR cases call it */
    uint32_t cell_i, t, k, j, compared = 0, mismatches = 0;
    if (done) return;
    done = 1;
    for (cell_i = 0; cell_i < 24u; cell_i++) {
        const uint32_t r = eh_bench_rand();
        har_cell_common(r % 3u);
        chk_fill(pool.har.w_in, H_NIN);
        chk_fill(pool.har.w_enc0, H_ENC * H_NIN);
        chk_fill(pool.har.w_enc1, H_ENC2 * H_ENC);
        chk_fill(pool.har.e_x, H_NU * H_SX_MAX);
        chk_fill(pool.har.e_h, H_NU * H_NH);
        chk_fill(pool.har.e_m, H_NU * H_NM);
        chk_fill(pool.har.a, H_ORDER * H_ORDER);
        chk_fill(pool.har.b, H_ORDER);
        chk_fill(pool.har.w_x, H_NH * H_SX_MAX);
        chk_fill(pool.har.w_h, H_NH * H_NH);
        chk_fill(pool.har.w_m, H_NH * H_NM);
        chk_fill(pool.har.w_o, H_NO * H_NH);
        for (k = 0; k < H_NIN; k++) pool.har.b_in[k] = chk_bias();
        for (k = 0; k < H_ENC; k++) pool.har.b_enc0[k] = chk_bias();
        for (k = 0; k < H_ENC2; k++) pool.har.b_enc1[k] = chk_bias();
        for (k = 0; k < H_NO; k++) pool.har.b_o[k] = chk_bias();
        if (r & 8u) har.b_in = 0;
        if (r & 16u) { har.b_enc[0] = 0; har.b_enc[1] = 0; }
        if (r & 32u) har.b_o = 0;
        if (r & 64u) har.e_h = 0;
        if (r & 128u) har.e_m = 0;
        if (r & 256u) har.w_x = 0;
        if (r & 512u) har.w_h = 0;
        har.s_in = chk_shift(); har.s_enc[0] = chk_shift(); har.s_enc[1] = chk_shift();
        har.s_ex = chk_shift(); har.s_eh = chk_shift(); har.s_em = chk_shift();
        har.s_a = chk_shift(); har.s_b = chk_shift(); har.s_wx = chk_shift();
        har.s_wh = chk_shift(); har.s_wm = chk_shift(); har.s_o = chk_shift();
        for (k = 0; k < H_NPOP; k++) chk_pop(k, k + 1u < H_NPOP);
        har.readout = (r & 1024u) ? EH_L2MU_READOUT_LIF : EH_L2MU_READOUT_LI;
        if (har.readout == EH_L2MU_READOUT_LIF && (r & 2048u)) chk_pop(H_NPOP - 1u, 1);
        /* a random state (saturated values, spikes that do not match v), the same in all three */
        for (k = 0; k < H_NPOP; k++)
            for (j = 0; j < H_NH; j++) {
                const int16_t v = chk_q15(32768), i = chk_q15(32768);
                const uint8_t s = (uint8_t)((eh_bench_rand() & 3u) == 0u);
                for (t = 0; t < 3u; t++) {
                    pool.har.st[t].pop[k].v[j] = v;
                    pool.har.st[t].pop[k].i_syn[j] = i;
                    pool.har.st[t].pop[k].s[j] = s;
                }
            }
        if (eh_l2mu_check_q15(&har, H_SCRATCH) != EH_OK || eh_l2mu_readout_check_q15(&har, H_SCRATCH) != EH_OK) {
            mismatches++;
            continue;
        }
        for (t = 0; t < 6u; t++) {
            for (k = 0; k < H_NCH; k++) pool.har.x[k] = chk_q15(32768);
            ref_l2mu_step(&har, pool.har.x, &har_state[2]);
            ref_l2mu_readout(&har, &har_state[2]);
            eh_l2mu_step_q15_unchecked(&har, pool.har.x, &har_state[0], pool.har.scratch);
            eh_l2mu_readout_q15_unchecked(&har, &har_state[0], pool.har.scratch);
            mismatches += eh_l2mu_step_q15(&har, pool.har.x, &har_state[1], pool.har.scratch, H_SCRATCH) != EH_OK;
            mismatches += eh_l2mu_readout_q15(&har, &har_state[1], pool.har.scratch, H_SCRATCH) != EH_OK;
            mismatches += chk_state_diff(0u, 2u) + chk_state_diff(1u, 2u);
            compared += 2u;
        }
    }
    eh_bench_check("l2mu_q15", compared, mismatches);
}

/* The benchmark's cell: per-neuron decay and threshold everywhere, reset by subtraction, the
 * demo's shifts; weights, biases and thresholds scaled for 5-20 % activity. */
static void setup_l2mu_q15_har_cell(void)
{
    uint32_t k, j;
    self_check_l2mu();
    har_cell_common(1u);
    fill_q15(pool.har.w_in, H_NIN, 32767);
    for (k = 0; k < H_NIN; k++) pool.har.b_in[k] = rand_range(-300, 500);
    fill_q15(pool.har.w_enc0, H_ENC * H_NIN, 32767);
    for (k = 0; k < H_ENC; k++) pool.har.b_enc0[k] = rand_range(0, 250);
    fill_q15(pool.har.e_x, H_NU * H_ENC, 32767);
    fill_q15(pool.har.e_h, H_NU * H_NH, 32767);
    fill_q15(pool.har.e_m, H_NU * H_NM, 32767);
    fill_q15(pool.har.a, H_ORDER * H_ORDER, 8000);
    fill_q15(pool.har.b, H_ORDER, 32767);
    fill_q15(pool.har.w_x, H_NH * H_ENC, 32767);
    fill_q15(pool.har.w_h, H_NH * H_NH, 32767);
    fill_q15(pool.har.w_m, H_NH * H_NM, 32767);
    fill_q15(pool.har.w_o, H_NO * H_NH, 32767);
    for (k = 0; k < H_NO; k++) pool.har.b_o[k] = rand_range(-64, 64);
    /* the trained model's shifts (demos/har/model/l2mu_hapt_q15.npz) */
    har.s_in = 16; har.s_enc[0] = 7; har.s_enc[1] = 0; har.s_ex = 6; har.s_eh = 6; har.s_em = 7;
    har.s_a = 2; har.s_b = 3; har.s_wx = 7; har.s_wh = 8; har.s_wm = 8; har.s_o = 5;
    har.readout = EH_L2MU_READOUT_LI;
    for (k = 0; k < H_NPOP; k++) {
        /* thresholds per population: [lo, lo + 400] */
        static const int16_t thr_lo[H_NPOP] = {1150, 800, 500, 1500, 850, 450, 500};
        har_params *pp = &pool.har.par[k];
        eh_l2mu_pop_q15 *p = har_pop(k);
        for (j = 0; j < har_pop_n[k]; j++) {
            pp->decay[j] = (uint16_t)rand_range(26000, 32000);
            pp->thr[j] = (int16_t)rand_range(thr_lo[k], thr_lo[k] + 400);
        }
        p->leak.decay = pp->decay; p->leak.shift = 0; p->leak.len = har_pop_n[k];
        p->leak_syn.decay = 0; p->leak_syn.shift = 0; p->leak_syn.len = 0;
        p->thr = pp->thr; p->thr_len = har_pop_n[k];
        p->reset = EH_RESET_SUBTRACT;
    }
    har_zero_state(0u);
}

static void har_input(uint32_t t)
{
    uint32_t c;
    for (c = 0; c < H_NCH; c++) {
        /* a triangle wave of period 12 + 5c steps between -8000 and 8000 (2.0 on the demo's
         * input scale of 4096) */
        const uint32_t per = 12u + 5u * c, ph = (t + 3u * c) % per;
        const int32_t tri = (int32_t)(ph < per / 2u ? ph : per - ph) * 32000 / (int32_t)per - 8000;
        pool.har.x[c] = (int16_t)tri;
    }
}

#define H_WINDOW 40u /* one 2-s window of the HAR demo (20 Hz) */

static int16_t har_window_x[H_WINDOW][H_NCH];

/* A fresh window: zero state, the 40 input samples precomputed (run() only steps). */
static void setup_l2mu_q15_har(void)
{
    uint32_t t, c;
    setup_l2mu_q15_har_cell();
    for (t = 0; t < H_WINDOW; t++) {
        har_input(t);
        for (c = 0; c < H_NCH; c++) har_window_x[t][c] = pool.har.x[c];
    }
    if (eh_l2mu_check_q15(&har, H_SCRATCH) != EH_OK || eh_l2mu_readout_check_q15(&har, H_SCRATCH) != EH_OK)
        eh_bench_check("l2mu_q15_har_cell", 1u, 1u);
}

static void run_l2mu_q15_har(void)
{
    uint32_t t;
    for (t = 0; t < H_WINDOW; t++) {
        eh_l2mu_step_q15_unchecked(&har, har_window_x[t], &har_state[0], pool.har.scratch);
        eh_l2mu_readout_q15_unchecked(&har, &har_state[0], pool.har.scratch);
    }
}

static void run_l2mu_q15_har_checked(void)
{
    uint32_t t;
    for (t = 0; t < H_WINDOW; t++) {
        last_status = eh_l2mu_step_q15(&har, har_window_x[t], &har_state[0], pool.har.scratch, H_SCRATCH);
        last_status = eh_l2mu_readout_q15(&har, &har_state[0], pool.har.scratch, H_SCRATCH);
    }
}

const eh_bench_case eh_bench_cases_lmu[] = {
    {"lmu_q15", "x6_u4_d4_h32", "step", 1u, setup_lmu_q15_4, run_lmu_q15},
    {"lmu_q15", "x6_u4_d8_h32", "step", 1u, setup_lmu_q15_8, run_lmu_q15},
    {"lmu_q15", "x6_u4_d16_h32", "step", 1u, setup_lmu_q15_16, run_lmu_q15},
    {"lmu_f32", "x6_u4_d4_h32", "step", 1u, setup_lmu_f32_4, run_lmu_f32},
    {"lmu_f32", "x6_u4_d8_h32", "step", 1u, setup_lmu_f32_8, run_lmu_f32},
    {"lmu_f32", "x6_u4_d16_h32", "step", 1u, setup_lmu_f32_16, run_lmu_f32},
    {"l2mu_q15", "ch6x16_enc64_u10_d7_h120_o7", "step", 1u, setup_l2mu_q15, run_l2mu_q15},
    {"l2mu_q15_checked", "ch6x16_enc64_u10_d7_h120_o7", "step", 1u, setup_l2mu_q15, run_l2mu_q15_checked},
    {"l2mu_q15_har", "ch6x8_enc32_u8_d6_h64_o6_w40", "step", H_WINDOW, setup_l2mu_q15_har,
     run_l2mu_q15_har},
    {"l2mu_q15_har_checked", "ch6x8_enc32_u8_d6_h64_o6_w40", "step", H_WINDOW, setup_l2mu_q15_har,
     run_l2mu_q15_har_checked},
};

const uint32_t eh_bench_n_lmu = sizeof eh_bench_cases_lmu / sizeof eh_bench_cases_lmu[0];
