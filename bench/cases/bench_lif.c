/*
 * Benchmark cases of the LIF family: one time step of n neurons; unit "neuron_step".
 *
 * Q15 kernels are measured as an interpreter runs them after validating the parameters once at
 * load: "lif_q15", "lif_q15_decay" and "cubalif_q15" time eh_lif_step_q15_unchecked /
 * eh_cubalif_step_q15_unchecked; the "_checked" names time the checked eh_lif_step_q15 /
 * eh_cubalif_step_q15 (check + the same update) on the same data.
 *
 *   lif_q15        shared threshold, multiplier-free leak v - (v >> 4), reset by subtraction
 *   lif_q15_decay  per-neuron Q15 decay and threshold, reset by subtraction
 *   lif_f32        shared beta and threshold, reset by subtraction
 *   cubalif_q15    per-neuron decays (syn and mem) and thresholds, reset by subtraction
 *   cubalif_f32    shared alpha, beta, threshold, reset by subtraction
 *
 * Inputs are random with about one neuron in eight spiking on entry, so the reset branch is
 * taken as in a typical layer. The Q15 state is consistent, as a running network's is: a
 * neuron spiking on entry holds a v above its threshold (the SIMD path of the DSP cores runs
 * a block holding a spike with v < 0, which only a hand-made state has, through the plain loop).
 * The buffers are shared by all cases (one case runs at a time).
 *
 * On-target self-check (setup of lif_q15 n=256, so it runs in --quick too): the unchecked and
 * checked Q15 steps against a plain C reference loop written here from eh_lif.h, over random
 * sizes (1..67, not multiples of 4 included), every leak kind (shared / per-neuron shift and
 * decay, decays 0 and 32768), shared / per-neuron thresholds (1 and 32767 included), both
 * resets, and random v, x, spikes with saturating values and inconsistent states; reported as
 * "EHB|check|lif_q15|<compared>|<mismatches>" (the bench run fails on a mismatch).
 */
#include <stdint.h>

#include "eh_bench.h"
#include "eh_lif.h"

#define LIF_N_MAX 1024u

/* One pool of state for every case: run() never mixes cases. */
static union {
    struct {
        int16_t x[LIF_N_MAX], v[LIF_N_MAX], i_syn[LIF_N_MAX], thr[LIF_N_MAX];
        uint16_t decay[LIF_N_MAX], decay_syn[LIF_N_MAX];
    } q;
    struct {
        float x[LIF_N_MAX], v[LIF_N_MAX], i_syn[LIF_N_MAX];
    } f;
} pool;
static uint8_t spikes[LIF_N_MAX];

static uint8_t shift_leak = 4;
static int16_t thr_shared_q15 = 8192;
static float beta_f32 = 0.9375f, alpha_f32 = 0.8125f, thr_f32 = 1.0f;

static volatile eh_status last_status; /* keeps the result observable */

static int16_t rand_q15(int32_t span)
{
    /* uniform in [-span, span) */
    return (int16_t)((int32_t)(eh_bench_rand() % (uint32_t)(2 * span)) - span);
}

static float rand_f32(void)
{
    /* uniform in [-1, 1) with 2^-15 steps, exactly representable */
    return (float)rand_q15(32768) / 32768.0f;
}

static void fill_spikes(uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) spikes[k] = (uint8_t)((eh_bench_rand() & 7u) == 0u);
}

static void setup_q15(uint32_t n)
{
    uint32_t k;
    fill_spikes(n);
    for (k = 0; k < n; k++) {
        pool.q.x[k] = rand_q15(4096);
        pool.q.v[k] = rand_q15(16384);
        pool.q.i_syn[k] = rand_q15(8192);
        pool.q.thr[k] = (int16_t)(4096 + (eh_bench_rand() & 8191u));
        pool.q.decay[k] = (uint16_t)(26000u + (eh_bench_rand() % 6768u));
        pool.q.decay_syn[k] = (uint16_t)(20000u + (eh_bench_rand() % 12768u));
        if (spikes[k]) {
            /* a spike on entry: v above the neuron's (and the shared) threshold */
            const int32_t t = pool.q.thr[k] > thr_shared_q15 ? pool.q.thr[k] : thr_shared_q15;
            pool.q.v[k] = (int16_t)(t + 1 + (int32_t)(eh_bench_rand() % (uint32_t)(32767 - t)));
        }
    }
}

static void setup_f32(uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        pool.f.x[k] = 0.25f * rand_f32();
        pool.f.v[k] = rand_f32();
        pool.f.i_syn[k] = 0.5f * rand_f32();
    }
    fill_spikes(n);
}

static void run_lif_q15(uint32_t n)
{
    const eh_leak_q15 leak = {0, &shift_leak, 1u};
    eh_lif_step_q15_unchecked(n, pool.q.x, pool.q.v, spikes, &leak, &thr_shared_q15, 1u,
                              EH_RESET_SUBTRACT);
}

static void run_lif_q15_checked(uint32_t n)
{
    const eh_leak_q15 leak = {0, &shift_leak, 1u};
    last_status = eh_lif_step_q15(n, pool.q.x, pool.q.v, spikes, &leak, &thr_shared_q15, 1u,
                                  EH_RESET_SUBTRACT);
}

static void run_lif_q15_decay(uint32_t n)
{
    const eh_leak_q15 leak = {pool.q.decay, 0, n};
    eh_lif_step_q15_unchecked(n, pool.q.x, pool.q.v, spikes, &leak, pool.q.thr, n,
                              EH_RESET_SUBTRACT);
}

static void run_lif_q15_decay_checked(uint32_t n)
{
    const eh_leak_q15 leak = {pool.q.decay, 0, n};
    last_status = eh_lif_step_q15(n, pool.q.x, pool.q.v, spikes, &leak, pool.q.thr, n,
                                  EH_RESET_SUBTRACT);
}

static void run_lif_f32(uint32_t n)
{
    last_status = eh_lif_step_f32(n, pool.f.x, pool.f.v, spikes, &beta_f32, 1u, &thr_f32, 1u,
                                  EH_RESET_SUBTRACT);
}

static void run_cubalif_q15(uint32_t n)
{
    const eh_leak_q15 leak_syn = {pool.q.decay_syn, 0, n};
    const eh_leak_q15 leak_mem = {pool.q.decay, 0, n};
    eh_cubalif_step_q15_unchecked(n, pool.q.x, pool.q.i_syn, pool.q.v, spikes, &leak_syn,
                                  &leak_mem, pool.q.thr, n, EH_RESET_SUBTRACT);
}

static void run_cubalif_q15_checked(uint32_t n)
{
    const eh_leak_q15 leak_syn = {pool.q.decay_syn, 0, n};
    const eh_leak_q15 leak_mem = {pool.q.decay, 0, n};
    last_status = eh_cubalif_step_q15(n, pool.q.x, pool.q.i_syn, pool.q.v, spikes, &leak_syn,
                                      &leak_mem, pool.q.thr, n, EH_RESET_SUBTRACT);
}

static void run_cubalif_f32(uint32_t n)
{
    last_status = eh_cubalif_step_f32(n, pool.f.x, pool.f.i_syn, pool.f.v, spikes, &alpha_f32, 1u,
                                      &beta_f32, 1u, &thr_f32, 1u, EH_RESET_SUBTRACT);
}

/* ---- on-target self-check ---------------------------------------------------------------- */

#define CHK_N_MAX 67u
#define CHK_LEN 72u /* CHK_N_MAX + an offset, a multiple of 4: every array starts 8-aligned */
#define CHK_TRIALS 2000u

static struct __attribute__((aligned(8))) {
    int16_t x[CHK_LEN], v[CHK_LEN], i_syn[CHK_LEN], thr[CHK_LEN];
    int16_t v_ref[CHK_LEN], i_ref[CHK_LEN], v_chk[CHK_LEN], i_chk[CHK_LEN];
    int16_t v0[CHK_LEN], i0[CHK_LEN];
    uint16_t decay[CHK_LEN], decay_syn[CHK_LEN];
    uint8_t shift[CHK_LEN], shift_syn[CHK_LEN];
    uint8_t s0[CHK_LEN], s_ref[CHK_LEN], s_out[CHK_LEN], s_chk[CHK_LEN];
} chk;

/* int16 with the extremes and values near them over-represented */
static int16_t chk_q15(void)
{
    const uint32_t r = eh_bench_rand();
    switch (r & 7u) {
    case 0: return INT16_MAX;
    case 1: return INT16_MIN;
    case 2: return (int16_t)(INT16_MAX - (int32_t)((r >> 8) & 255u));
    case 3: return (int16_t)(INT16_MIN + (int32_t)((r >> 8) & 255u));
    default: return (int16_t)(r >> 16);
    }
}

static int32_t ref_sat16(int32_t u)
{
    return u > INT16_MAX ? INT16_MAX : (u < INT16_MIN ? INT16_MIN : u);
}

/* eh_lif.h's leak, written from the header */
static int32_t ref_leak(const eh_leak_q15 *lk, uint32_t k, int32_t y)
{
    const uint32_t j = lk->len == 1u ? 0u : k;
    if (lk->decay != 0) return (y * (int32_t)lk->decay[j] + (1 << 14)) >> 15;
    return y - (y >> lk->shift[j]);
}

static void ref_lif(uint32_t n, const int16_t *x, int16_t *v, uint8_t *s, const eh_leak_q15 *lk,
                    const int16_t *thr, uint32_t thr_len, eh_reset reset)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        const int32_t t = thr[thr_len == 1u ? 0u : k];
        int32_t u;
        if (reset == EH_RESET_SUBTRACT)
            u = ref_leak(lk, k, v[k]) + x[k] - (s[k] ? t : 0);
        else
            u = (s[k] ? 0 : ref_leak(lk, k, v[k])) + x[k];
        u = ref_sat16(u);
        v[k] = (int16_t)u;
        s[k] = (uint8_t)(u > t);
    }
}

static void ref_cubalif(uint32_t n, const int16_t *x, int16_t *i_syn, int16_t *v, uint8_t *s,
                        const eh_leak_q15 *ls, const eh_leak_q15 *lm, const int16_t *thr,
                        uint32_t thr_len, eh_reset reset)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        const int32_t t = thr[thr_len == 1u ? 0u : k];
        const int32_t i = ref_sat16(ref_leak(ls, k, i_syn[k]) + x[k]);
        int32_t u;
        i_syn[k] = (int16_t)i;
        if (reset == EH_RESET_SUBTRACT)
            u = ref_sat16(ref_leak(lm, k, v[k]) + i - (s[k] ? t : 0));
        else
            u = s[k] ? 0 : ref_sat16(ref_leak(lm, k, v[k]) + i);
        v[k] = (int16_t)u;
        s[k] = (uint8_t)(u > t);
    }
}

static void chk_leak(eh_leak_q15 *lk, uint16_t *decay, uint8_t *shift, uint32_t n, uint32_t r)
{
    uint32_t k;
    const int use_decay = (r & 1u) != 0u;
    lk->len = (r & 2u) ? n : 1u;
    lk->decay = use_decay ? decay : 0;
    lk->shift = use_decay ? 0 : shift;
    for (k = 0; k < lk->len; k++) {
        const uint32_t q = eh_bench_rand();
        decay[k] = (q & 7u) == 0u ? 32768u : ((q & 7u) == 1u ? 0u : (uint16_t)((q >> 8) % 32769u));
        shift[k] = (uint8_t)(1u + (q >> 20) % 15u);
    }
}

static uint32_t chk_diff(const int16_t *a, const int16_t *b, const uint8_t *sa, const uint8_t *sb,
                         uint32_t n)
{
    uint32_t k, bad = 0;
    for (k = 0; k < n; k++) bad |= (uint32_t)(a[k] != b[k]) | (uint32_t)(sa[k] != sb[k]);
    return bad;
}

/* Move x, thr, the per-neuron leak arrays and the kernel-side v / spikes up by off (x by
 * off_x) elements for a call, and back after it (memmove by hand, in the right direction). */
static void chk_move16(int16_t *a, uint32_t n, uint32_t from, uint32_t to)
{
    uint32_t k;
    if (to > from) for (k = n; k-- > 0;) a[k + to] = a[k + from];
    else if (to < from) for (k = 0; k < n; k++) a[k + to] = a[k + from];
}

static void chk_move16u(uint16_t *a, uint32_t n, uint32_t from, uint32_t to)
{
    chk_move16((int16_t *)a, n, from, to);
}

static void chk_move8(uint8_t *a, uint32_t n, uint32_t from, uint32_t to)
{
    uint32_t k;
    if (to > from) for (k = n; k-- > 0;) a[k + to] = a[k + from];
    else if (to < from) for (k = 0; k < n; k++) a[k + to] = a[k + from];
}

static void chk_shift_views(uint32_t n, uint32_t off, uint32_t off_x)
{
    chk_move16(chk.x, n, 0u, off_x);
    chk_move16(chk.thr, n, 0u, off);
    chk_move16(chk.v, n, 0u, off);
    chk_move16(chk.v_chk, n, 0u, off);
    chk_move16u(chk.decay, n, 0u, off);
    chk_move8(chk.shift, n, 0u, off);
    chk_move8(chk.s_out, n, 0u, off);
    chk_move8(chk.s_chk, n, 0u, off);
}

static void chk_unshift_views(uint32_t n, uint32_t off, uint32_t off_x)
{
    chk_move16(chk.x, n, off_x, 0u);
    chk_move16(chk.thr, n, off, 0u);
    chk_move16u(chk.decay, n, off, 0u);
    chk_move8(chk.shift, n, off, 0u);
}

static eh_leak_q15 chk_leak_view(const eh_leak_q15 *lk, uint32_t off)
{
    eh_leak_q15 r = *lk;
    if (r.decay != 0) r.decay += off;
    if (r.shift != 0) r.shift += off;
    return r;
}

static void self_check(void)
{
    uint32_t trial, compared = 0, mismatches = 0;
    for (trial = 0; trial < CHK_TRIALS; trial++) {
        const uint32_t r = eh_bench_rand();
        const uint32_t off = (r >> 12) & 1u, off_x = ((r >> 13) & 7u) == 0u ? 1u - off : off;
        const uint32_t n = trial < 8u ? trial + 1u : 1u + (r >> 8) % CHK_N_MAX;
        const eh_reset reset = (r & 4u) ? EH_RESET_ZERO : EH_RESET_SUBTRACT;
        const uint32_t thr_len = (r & 8u) ? n : 1u;
        const int consistent = (r & 16u) != 0u;
        eh_leak_q15 lk, ls;
        uint32_t k;
        chk_leak(&lk, chk.decay, chk.shift, n, r);
        chk_leak(&ls, chk.decay_syn, chk.shift_syn, n, r >> 5);
        for (k = 0; k < n; k++) {
            const int16_t t = chk_q15();
            chk.thr[k] = (k < thr_len) ? (t < 1 ? (int16_t)(t == INT16_MIN ? 1 : -t) : t) : 0;
            chk.x[k] = chk_q15();
            chk.v0[k] = chk_q15();
            chk.i0[k] = chk_q15();
            chk.s0[k] = (uint8_t)((eh_bench_rand() & 3u) == 0u);
        }
        for (k = 0; k < n; k++) {
            const int16_t t = chk.thr[thr_len == 1u ? 0u : k];
            if (consistent) chk.s0[k] = (uint8_t)(chk.v0[k] > t);
        }
        /* LIF: reference, unchecked, checked */
        for (k = 0; k < n; k++) {
            chk.v_ref[k] = chk.v0[k]; chk.v[k] = chk.v0[k]; chk.v_chk[k] = chk.v0[k];
            chk.s_ref[k] = chk.s0[k]; chk.s_out[k] = chk.s0[k]; chk.s_chk[k] = chk.s0[k];
        }
        ref_lif(n, chk.x, chk.v_ref, chk.s_ref, &lk, chk.thr, thr_len, reset);
        /* the kernels see the same data at an offset of 0 or 1 element (both alignments of
         * the SIMD path, or mixed alignments, which take the plain loop) */
        chk_shift_views(n, off, off_x);
        {
            const eh_leak_q15 lk_o = chk_leak_view(&lk, off);
            eh_lif_step_q15_unchecked(n, chk.x + off_x, chk.v + off, chk.s_out + off, &lk_o,
                                      chk.thr + off, thr_len, reset);
            mismatches += chk_diff(chk.v_ref, chk.v + off, chk.s_ref, chk.s_out + off, n);
            mismatches += eh_lif_step_q15(n, chk.x + off_x, chk.v_chk + off, chk.s_chk + off, &lk_o,
                                          chk.thr + off, thr_len, reset) != EH_OK;
            mismatches += chk_diff(chk.v_ref, chk.v_chk + off, chk.s_ref, chk.s_chk + off, n);
        }
        chk_unshift_views(n, off, off_x);
        compared += 2u;
        /* CuBa-LIF */
        for (k = 0; k < n; k++) {
            chk.v_ref[k] = chk.v0[k]; chk.v[k] = chk.v0[k]; chk.v_chk[k] = chk.v0[k];
            chk.i_ref[k] = chk.i0[k]; chk.i_syn[k] = chk.i0[k]; chk.i_chk[k] = chk.i0[k];
            chk.s_ref[k] = chk.s0[k]; chk.s_out[k] = chk.s0[k]; chk.s_chk[k] = chk.s0[k];
        }
        ref_cubalif(n, chk.x, chk.i_ref, chk.v_ref, chk.s_ref, &ls, &lk, chk.thr, thr_len, reset);
        eh_cubalif_step_q15_unchecked(n, chk.x, chk.i_syn, chk.v, chk.s_out, &ls, &lk, chk.thr,
                                      thr_len, reset);
        mismatches += chk_diff(chk.v_ref, chk.v, chk.s_ref, chk.s_out, n);
        mismatches += chk_diff(chk.i_ref, chk.i_syn, chk.s_ref, chk.s_out, n);
        mismatches += eh_cubalif_step_q15(n, chk.x, chk.i_chk, chk.v_chk, chk.s_chk, &ls, &lk,
                                          chk.thr, thr_len, reset) != EH_OK;
        mismatches += chk_diff(chk.v_ref, chk.v_chk, chk.s_ref, chk.s_chk, n);
        mismatches += chk_diff(chk.i_ref, chk.i_chk, chk.s_ref, chk.s_chk, n);
        compared += 2u;
    }
    eh_bench_check("lif_q15", compared, mismatches);
}

/* setup/run take no arguments: one small wrapper pair per (kernel, n). */
#define LIF_CASE_FNS(name, kind, n)                                                           \
    static void setup_##name##_##n(void) { setup_##kind((n)); }                                \
    static void run_##name##_##n(void) { run_##name((n)); }

static void setup_lif_q15_256(void)
{
    self_check();
    setup_q15(256u);
}
static void run_lif_q15_256(void) { run_lif_q15(256u); }
LIF_CASE_FNS(lif_q15, q15, 1024)
LIF_CASE_FNS(lif_q15_checked, q15, 256)
LIF_CASE_FNS(lif_q15_checked, q15, 1024)
LIF_CASE_FNS(lif_q15_decay, q15, 256)
LIF_CASE_FNS(lif_q15_decay, q15, 1024)
LIF_CASE_FNS(lif_q15_decay_checked, q15, 256)
LIF_CASE_FNS(lif_q15_decay_checked, q15, 1024)
LIF_CASE_FNS(lif_f32, f32, 256)
LIF_CASE_FNS(lif_f32, f32, 1024)
LIF_CASE_FNS(cubalif_q15, q15, 256)
LIF_CASE_FNS(cubalif_q15, q15, 1024)
LIF_CASE_FNS(cubalif_q15_checked, q15, 256)
LIF_CASE_FNS(cubalif_q15_checked, q15, 1024)
LIF_CASE_FNS(cubalif_f32, f32, 256)
LIF_CASE_FNS(cubalif_f32, f32, 1024)

#define LIF_CASE(name, n) {#name, "n=" #n, "neuron_step", (n), setup_##name##_##n, run_##name##_##n}

const eh_bench_case eh_bench_cases_lif[] = {
    LIF_CASE(lif_q15, 256),               LIF_CASE(lif_q15, 1024),
    LIF_CASE(lif_q15_checked, 256),       LIF_CASE(lif_q15_checked, 1024),
    LIF_CASE(lif_q15_decay, 256),         LIF_CASE(lif_q15_decay, 1024),
    LIF_CASE(lif_q15_decay_checked, 256), LIF_CASE(lif_q15_decay_checked, 1024),
    LIF_CASE(lif_f32, 256),               LIF_CASE(lif_f32, 1024),
    LIF_CASE(cubalif_q15, 256),           LIF_CASE(cubalif_q15, 1024),
    LIF_CASE(cubalif_q15_checked, 256),   LIF_CASE(cubalif_q15_checked, 1024),
    LIF_CASE(cubalif_f32, 256),   LIF_CASE(cubalif_f32, 1024),
};

const uint32_t eh_bench_n_lif = sizeof eh_bench_cases_lif / sizeof eh_bench_cases_lif[0];
