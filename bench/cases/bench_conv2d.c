/* Benchmark cases of the conv2d family (#14): the event-driven Q15 convolution at 5, 10 and 20 %
 * input activity against the dense Q15 one of the same shape, on two layers of a spiking CNN
 * for 34x34 event-camera frames:
 *   L1: 2x34x34 -> 8, 5x5, stride 2 (-> 8x15x15)
 *   L2: 8x15x15 -> 16, 3x3, stride 1, padding 1 (-> 16x15x15)
 * plus the float32 reference on L1. Every case's unit is the dense layer's MAC (output values x
 * taps x input channels per group, padding taps included), so per-unit figures of the dense and
 * the event-driven cases of one layer compare directly; their ratio is the speed-up.
 *
 * On-target self-check (setup of the dense L1 case, the smallest conv2d_q15 case, so it runs in
 * --quick too): eh_conv2d_q15 (the SMLALD path on cores with the DSP extension, the portable C
 * elsewhere) against a sum written here from eh_conv2d.h over 24 random geometries (strides,
 * asymmetric padding, dilation, groups, full-range data with saturation), and
 * eh_conv2d_spike_q15 against eh_conv2d_q15 on the same spikes; reported as
 * "EHB|check|conv2d|<compared>|<mismatches>".
 *
 * Binary conv2d (XNOR/popcount): a 3x3, 64 -> 64 channel layer on a 16x16 map (a BNN's middle
 * layer), unit the binary MAC (output values x 9 taps x 64 input channels, padding taps
 * included): with "same" padding excluded (PAD_ZERO, the default), +1 (PAD_ONE), and without
 * padding ("valid", 14x14 out); the _bits kernel (batch norm folded into thresholds, the
 * BNN layer as deployed) and _s32. On-target self-check (setup of conv2d_b1_s32, so it runs in
 * --quick too): both kernels (the Harley-Seal assembly on Cortex-M4, the portable paths
 * elsewhere) against a per-word XOR-popcount loop written here from eh_conv2d.h over 40 random
 * geometries (c_in multiple of 32 or not, padding bits random, c_out across 32-channel blocks,
 * strides, asymmetric padding, dilation, both pad values, a kernel too large for the gathered
 * row), reported as "EHB|check|conv2d_b1|<compared>|<mismatches>". */
#include "eh_bench.h"
#include "eh_conv2d.h"

#define MAX_X 2312u    /* 2 * 34 * 34 and 8 * 15 * 15 */
#define MAX_Y 3600u    /* 16 * 15 * 15 */
#define MAX_W 1152u    /* 16 * 8 * 3 * 3 */

static int16_t x[MAX_X], w[MAX_W], y[MAX_Y];
static uint8_t s[MAX_X];
static int32_t b[16], scratch[MAX_Y];
static float xf[2u * 34u * 34u], wf[8u * 2u * 25u], bf[8], yf[8u * 15u * 15u];

static const eh_conv2d_dims L1 = {2u, 34u, 34u, 8u, 5u, 5u, 2u, 2u, 0u, 0u, 0u, 0u, 1u, 1u, 1u};
static const eh_conv2d_dims L2 = {8u, 15u, 15u, 16u, 3u, 3u, 1u, 1u, 1u, 1u, 1u, 1u, 1u, 1u, 1u};

static void fill(const eh_conv2d_dims *d, uint32_t pct)
{
    const uint32_t n_in = d->c_in * d->h_in * d->w_in, n_w = d->c_out * d->c_in * d->k_h * d->k_w;
    uint32_t i;
    for (i = 0; i < n_in; i++) {
        x[i] = (int16_t)eh_bench_rand();
        s[i] = (uint8_t)(eh_bench_rand() % 100u < pct);
    }
    for (i = 0; i < n_w; i++) w[i] = (int16_t)((int32_t)(eh_bench_rand() % 4001u) - 2000);
    for (i = 0; i < d->c_out; i++) b[i] = (int32_t)(eh_bench_rand() % 20001u) - 10000;
}

/* --- self-check --- */
#define CK_X 600u
#define CK_W 600u
#define CK_Y 700u
static int16_t ck_x[CK_X], ck_w[CK_W], ck_y[CK_Y + 1u], ck_y2[CK_Y];
static uint8_t ck_s[CK_X];
static int32_t ck_b[8], ck_scratch[CK_Y];

static uint32_t rnd(uint32_t n) { return eh_bench_rand() % n; }

static int16_t ref_out(const eh_conv2d_dims *d, uint32_t o, uint32_t oy, uint32_t ox, uint32_t shift)
{
    const uint32_t cg = d->c_in / d->groups, grp = o / (d->c_out / d->groups);
    int64_t acc = ck_b[o];
    uint32_t j, ky, kx;
    for (j = 0; j < cg; j++)
        for (ky = 0; ky < d->k_h; ky++)
            for (kx = 0; kx < d->k_w; kx++) {
                const int32_t iy = (int32_t)(oy * d->stride_h + ky * d->dil_h) - (int32_t)d->pad_top;
                const int32_t ix = (int32_t)(ox * d->stride_w + kx * d->dil_w) - (int32_t)d->pad_left;
                if (iy < 0 || ix < 0 || iy >= (int32_t)d->h_in || ix >= (int32_t)d->w_in) continue;
                acc += (int32_t)ck_w[((o * cg + j) * d->k_h + ky) * d->k_w + kx] *
                       (int32_t)ck_x[((grp * cg + j) * d->h_in + (uint32_t)iy) * d->w_in + (uint32_t)ix];
            }
    if (shift) acc = (acc + ((int64_t)1 << (shift - 1u))) >> shift;
    return (int16_t)(acc > 32767 ? 32767 : acc < -32768 ? -32768 : acc);
}

static void check_setup(void)
{
    uint32_t compared = 0, bad = 0, it, i, o, oy, ox, ho, wo;
    for (it = 0; it < 24u; it++) {
        eh_conv2d_dims d;
        uint32_t sh, n_in, n_w;
        d.groups = 1u + rnd(2);
        d.c_in = d.groups * (1u + rnd(3));
        d.c_out = d.groups * (1u + rnd(4));
        d.k_h = 1u + rnd(5); d.k_w = 1u + rnd(5);
        d.dil_h = 1u + rnd(2); d.dil_w = it % 3u == 0u ? 2u : 1u;
        d.stride_h = 1u + rnd(2); d.stride_w = 1u + rnd(2);
        d.pad_top = rnd(d.dil_h * (d.k_h - 1u) + 1u); d.pad_bottom = rnd(d.dil_h * (d.k_h - 1u) + 1u);
        d.pad_left = rnd(d.dil_w * (d.k_w - 1u) + 1u); d.pad_right = rnd(d.dil_w * (d.k_w - 1u) + 1u);
        d.h_in = 5u + rnd(8); d.w_in = 5u + rnd(9);
        if (eh_conv2d_out_size(&d, &ho, &wo) != EH_OK) continue;
        n_in = d.c_in * d.h_in * d.w_in;
        n_w = d.c_out * (d.c_in / d.groups) * d.k_h * d.k_w;
        if (n_in > CK_X || n_w > CK_W || d.c_out * ho * wo > CK_Y) continue;
        sh = it % 2u ? 15u : rnd(32);
        for (i = 0; i < n_in; i++) ck_x[i] = (int16_t)eh_bench_rand();
        for (i = 0; i < n_w; i++) ck_w[i] = it % 4u == 1u ? (int16_t)-32768 : (int16_t)eh_bench_rand();
        for (i = 0; i < d.c_out; i++) ck_b[i] = (int32_t)eh_bench_rand();
        ck_y[d.c_out * ho * wo] = 0x5A5A; /* guard */
        (void)eh_conv2d_q15(&d, ck_x, ck_w, ck_b, sh, ck_y);
        for (o = 0; o < d.c_out; o++)
            for (oy = 0; oy < ho; oy++)
                for (ox = 0; ox < wo; ox++) {
                    compared++;
                    bad += (uint32_t)(ck_y[(o * ho + oy) * wo + ox] != ref_out(&d, o, oy, ox, sh));
                }
        bad += (uint32_t)(ck_y[d.c_out * ho * wo] != 0x5A5A);
        /* spikes: event-driven == dense on x = s (small biases: the scatter path) */
        for (i = 0; i < n_in; i++) ck_s[i] = (uint8_t)(rnd(4) == 0u), ck_x[i] = ck_s[i];
        for (i = 0; i < d.c_out; i++) ck_b[i] = (int32_t)rnd(200001u) - 100000;
        (void)eh_conv2d_q15(&d, ck_x, ck_w, ck_b, sh, ck_y);
        (void)eh_conv2d_spike_q15(&d, ck_s, ck_w, ck_b, sh, ck_scratch, ck_y2);
        for (i = 0; i < d.c_out * ho * wo; i++) {
            compared++;
            bad += (uint32_t)(ck_y[i] != ck_y2[i]);
        }
    }
    eh_bench_check("conv2d", compared, bad);
}

static void setup_l1_dense(void) { check_setup(); fill(&L1, 10u); }
static void setup_l1_5(void) { fill(&L1, 5u); }
static void setup_l1_10(void) { fill(&L1, 10u); }
static void setup_l1_20(void) { fill(&L1, 20u); }
static void setup_l2_dense(void) { fill(&L2, 10u); }
static void setup_l2_5(void) { fill(&L2, 5u); }
static void setup_l2_10(void) { fill(&L2, 10u); }
static void setup_l2_20(void) { fill(&L2, 20u); }

static void setup_l1_f32(void)
{
    uint32_t i;
    for (i = 0; i < 2u * 34u * 34u; i++) xf[i] = (float)(int32_t)(eh_bench_rand() % 2001u) / 1000.0f - 1.0f;
    for (i = 0; i < 8u * 2u * 25u; i++) wf[i] = (float)(int32_t)(eh_bench_rand() % 2001u) / 1000.0f - 1.0f;
    for (i = 0; i < 8u; i++) bf[i] = 0.5f;
}

static void run_l1_dense(void) { (void)eh_conv2d_q15(&L1, x, w, b, 8u, y); }
static void run_l1_spike(void) { (void)eh_conv2d_spike_q15(&L1, s, w, b, 8u, scratch, y); }
static void run_l2_dense(void) { (void)eh_conv2d_q15(&L2, x, w, b, 8u, y); }
static void run_l2_spike(void) { (void)eh_conv2d_spike_q15(&L2, s, w, b, 8u, scratch, y); }
static void run_l1_f32(void) { (void)eh_conv2d_f32(&L1, xf, wf, bf, yf); }

#define L1_MACS (8u * 15u * 15u * 2u * 25u) /* 90000 */
#define L2_MACS (16u * 15u * 15u * 8u * 9u) /* 259200 */

/* --- event-driven, saturating 16-bit currents (QADD16 on Cortex-M4) --- */
static int16_t b16[16], scratch16[MAX_Y];

static void fill_sat(const eh_conv2d_dims *d, uint32_t pct)
{
    uint32_t i;
    fill(d, pct);
    for (i = 0; i < d->c_out; i++) b16[i] = (int16_t)b[i];
}

/* Self-check: eh_conv2d_spike_sat_q15 against the header's arithmetic written out as a plain
 * scatter (spikes in (ci, iy, ix) order, every tap tested, sat16 at every addition), saturating
 * weights, 24 geometries. */
static int16_t cks_w[CK_W];
static int16_t cks_b[8];
static int32_t cks_ref[CK_Y];

static void check_sat(void)
{
    uint32_t compared = 0, bad = 0, it, i, o, ho, wo;
    for (it = 0; it < 24u; it++) {
        eh_conv2d_dims d;
        uint32_t cg, og, n_in, n_w, ci, iy, ix, ky, kx;
        d.groups = 1u + rnd(2);
        d.c_in = d.groups * (1u + rnd(3));
        d.c_out = d.groups * (1u + rnd(6));
        d.k_h = 1u + rnd(5); d.k_w = 1u + rnd(5);
        d.dil_h = 1u + rnd(2); d.dil_w = 1u + rnd(2);
        d.stride_h = 1u + rnd(2); d.stride_w = 1u + rnd(2);
        d.pad_top = rnd(d.dil_h * (d.k_h - 1u) + 1u); d.pad_bottom = rnd(d.dil_h * (d.k_h - 1u) + 1u);
        d.pad_left = rnd(d.dil_w * (d.k_w - 1u) + 1u); d.pad_right = rnd(d.dil_w * (d.k_w - 1u) + 1u);
        d.h_in = 3u + rnd(8); d.w_in = 3u + rnd(9);
        if (eh_conv2d_out_size(&d, &ho, &wo) != EH_OK) continue;
        cg = d.c_in / d.groups; og = d.c_out / d.groups;
        n_in = d.c_in * d.h_in * d.w_in;
        n_w = d.c_out * cg * d.k_h * d.k_w;
        if (n_in > CK_X || n_w > CK_W || d.c_out * ho * wo > CK_Y) continue;
        for (i = 0; i < n_in; i++) ck_s[i] = (uint8_t)(rnd(3) == 0u);
        for (i = 0; i < n_w; i++) cks_w[i] = (int16_t)eh_bench_rand();
        for (i = 0; i < d.c_out; i++) cks_b[i] = (int16_t)eh_bench_rand();
        ck_y[d.c_out * ho * wo] = 0x5A5A; /* guard */
        bad += (uint32_t)(eh_conv2d_spike_sat_q15(&d, ck_s, cks_w, cks_b, (int16_t *)ck_scratch, ck_y) != EH_OK);
        for (o = 0; o < d.c_out; o++)
            for (i = 0; i < ho * wo; i++) cks_ref[o * ho * wo + i] = cks_b[o];
        for (ci = 0; ci < d.c_in; ci++)
            for (iy = 0; iy < d.h_in; iy++)
                for (ix = 0; ix < d.w_in; ix++) {
                    if (!ck_s[(ci * d.h_in + iy) * d.w_in + ix]) continue;
                    for (ky = 0; ky < d.k_h; ky++)
                        for (kx = 0; kx < d.k_w; kx++) {
                            const int32_t ty = (int32_t)(iy + d.pad_top) - (int32_t)(ky * d.dil_h);
                            const int32_t tx = (int32_t)(ix + d.pad_left) - (int32_t)(kx * d.dil_w);
                            uint32_t oy, ox, j;
                            if (ty < 0 || tx < 0 || (uint32_t)ty % d.stride_h || (uint32_t)tx % d.stride_w) continue;
                            oy = (uint32_t)ty / d.stride_h; ox = (uint32_t)tx / d.stride_w;
                            if (oy >= ho || ox >= wo) continue;
                            for (j = 0; j < og; j++) {
                                int32_t *a = &cks_ref[((ci / cg) * og + j) * ho * wo + oy * wo + ox];
                                *a += cks_w[((ci * d.k_h + ky) * d.k_w + kx) * og + j];
                                *a = *a > 32767 ? 32767 : *a < -32768 ? -32768 : *a;
                            }
                        }
                }
        for (i = 0; i < d.c_out * ho * wo; i++) {
            compared++;
            bad += (uint32_t)(ck_y[i] != (int16_t)cks_ref[i]);
        }
        bad += (uint32_t)(ck_y[d.c_out * ho * wo] != 0x5A5A);
    }
    eh_bench_check("conv2d_spike_sat", compared, bad);
}

static void setup_sat_l1_5(void) { check_sat(); fill_sat(&L1, 5u); }
static void setup_sat_l1_10(void) { fill_sat(&L1, 10u); }
static void setup_sat_l1_20(void) { fill_sat(&L1, 20u); }
static void setup_sat_l2_5(void) { fill_sat(&L2, 5u); }
static void setup_sat_l2_10(void) { fill_sat(&L2, 10u); }
static void setup_sat_l2_20(void) { fill_sat(&L2, 20u); }
static void run_sat_l1(void) { (void)eh_conv2d_spike_sat_q15(&L1, s, w, b16, scratch16, y); }
static void run_sat_l2(void) { (void)eh_conv2d_spike_sat_q15(&L2, s, w, b16, scratch16, y); }

/* --- binary conv2d --- */
#define B1_C 64u
#define B1_HW 16u
#define B1_CW (B1_C / 32u)
static uint32_t b1_x[B1_HW * B1_HW * B1_CW], b1_w[B1_C * 9u * B1_CW], b1_yb[B1_HW * B1_HW * B1_CW];
static int32_t b1_thr[B1_C], b1_y[B1_C * B1_HW * B1_HW];
static const eh_conv2d_dims B1S = {B1_C, B1_HW, B1_HW, B1_C, 3u, 3u, 1u, 1u, 1u, 1u, 1u, 1u, 1u, 1u, 1u};
static const eh_conv2d_dims B1V = {B1_C, B1_HW, B1_HW, B1_C, 3u, 3u, 1u, 1u, 0u, 0u, 0u, 0u, 1u, 1u, 1u};

#define CKB_X 1100u
#define CKB_W 4700u
#define CKB_Y 2400u
static uint32_t ckb_x[CKB_X], ckb_w[CKB_W], ckb_yb[CKB_Y + 1u];
static int32_t ckb_y[CKB_Y + 1u], ckb_thr[80];

static uint32_t popc(uint32_t v) /* SWAR, written here (not the kernels' helpers) */
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0F0F0F0Fu;
    return (v * 0x01010101u) >> 24;
}

static int32_t ref_b1(const eh_conv2d_dims *d, uint32_t pv, uint32_t o, uint32_t oy, uint32_t ox)
{
    const uint32_t cw = (d->c_in + 31u) / 32u;
    const uint32_t tail = (d->c_in & 31u) ? (1u << (d->c_in & 31u)) - 1u : 0xFFFFFFFFu;
    int32_t acc = 0;
    uint32_t ky, kx, j;
    for (ky = 0; ky < d->k_h; ky++)
        for (kx = 0; kx < d->k_w; kx++) {
            const int32_t iy = (int32_t)(oy * d->stride_h + ky * d->dil_h) - (int32_t)d->pad_top;
            const int32_t ix = (int32_t)(ox * d->stride_w + kx * d->dil_w) - (int32_t)d->pad_left;
            const uint32_t *wt = ckb_w + ((o * d->k_h + ky) * d->k_w + kx) * cw;
            const int in = iy >= 0 && ix >= 0 && iy < (int32_t)d->h_in && ix < (int32_t)d->w_in;
            uint32_t diff = 0;
            if (!in && pv == 0u) continue;
            for (j = 0; j < cw; j++) {
                const uint32_t xv = in ? ckb_x[((uint32_t)iy * d->w_in + (uint32_t)ix) * cw + j] : 0u;
                diff += popc((xv ^ wt[j]) & (j + 1u == cw ? tail : 0xFFFFFFFFu));
            }
            acc += (int32_t)d->c_in - 2 * (int32_t)diff;
        }
    return acc;
}

static void check_b1(void)
{
    static const uint32_t cins[] = {32u, 64u, 96u, 5u, 33u, 64u, 128u, 512u};
    uint32_t compared = 0, bad = 0, it, i, o, oy, ox, ho, wo;
    for (it = 0; it < 40u; it++) {
        eh_conv2d_dims d;
        uint32_t pv = it & 1u, cw, ow, n;
        d.groups = 1u;
        d.c_in = cins[it % 8u];
        d.c_out = 1u + rnd(it % 3u == 0u ? 70u : 33u);
        d.k_h = 1u + rnd(4); d.k_w = 1u + rnd(4);
        if (d.c_in == 512u) d.k_h = d.k_w = 3u, d.c_out = 1u + rnd(8);  /* 144 words: no gathered row */
        d.dil_h = 1u + rnd(2); d.dil_w = it % 5u == 0u ? 2u : 1u;
        d.stride_h = 1u + rnd(2); d.stride_w = 1u + rnd(2);
        d.pad_top = rnd(d.dil_h * (d.k_h - 1u) + 1u); d.pad_bottom = rnd(d.dil_h * (d.k_h - 1u) + 1u);
        d.pad_left = rnd(d.dil_w * (d.k_w - 1u) + 1u); d.pad_right = rnd(d.dil_w * (d.k_w - 1u) + 1u);
        d.h_in = 2u + rnd(7); d.w_in = 2u + rnd(7);
        if (eh_conv2d_out_size(&d, &ho, &wo) != EH_OK) continue;
        cw = (d.c_in + 31u) / 32u;
        ow = (d.c_out + 31u) / 32u;
        n = d.k_h * d.k_w * d.c_in;
        if (d.h_in * d.w_in * cw > CKB_X || d.c_out * d.k_h * d.k_w * cw > CKB_W ||
            d.c_out * ho * wo > CKB_Y || ho * wo * ow > CKB_Y)
            continue;
        for (i = 0; i < d.h_in * d.w_in * cw; i++) ckb_x[i] = eh_bench_rand();
        for (i = 0; i < d.c_out * d.k_h * d.k_w * cw; i++) ckb_w[i] = eh_bench_rand();
        for (i = 0; i < d.c_out; i++) ckb_thr[i] = (int32_t)rnd(2u * n + 2u) - (int32_t)n;
        ckb_y[d.c_out * ho * wo] = 0x5A5A5A5A; /* guards */
        ckb_yb[ho * wo * ow] = 0x5A5A5A5Au;
        bad += (uint32_t)(eh_conv2d_b1_s32(&d, pv, ckb_x, ckb_w, ckb_y) != EH_OK);
        bad += (uint32_t)(eh_conv2d_b1_bits(&d, pv, ckb_x, ckb_w, ckb_thr, ckb_yb) != EH_OK);
        for (o = 0; o < d.c_out; o++)
            for (oy = 0; oy < ho; oy++)
                for (ox = 0; ox < wo; ox++) {
                    const int32_t r = ref_b1(&d, pv, o, oy, ox);
                    const uint32_t bit = (ckb_yb[(oy * wo + ox) * ow + (o >> 5)] >> (o & 31u)) & 1u;
                    compared += 2u;
                    bad += (uint32_t)(ckb_y[(o * ho + oy) * wo + ox] != r);
                    bad += (uint32_t)(bit != (uint32_t)(r < ckb_thr[o]));
                }
        for (i = 0; i < ho * wo; i++) /* padding bits of the output words are 0 */
            bad += (uint32_t)((d.c_out & 31u) != 0u && (ckb_yb[i * ow + ow - 1u] >> (d.c_out & 31u)) != 0u);
        bad += (uint32_t)(ckb_y[d.c_out * ho * wo] != 0x5A5A5A5A) + (uint32_t)(ckb_yb[ho * wo * ow] != 0x5A5A5A5Au);
    }
    eh_bench_check("conv2d_b1", compared, bad);
}

static void setup_b1(void)
{
    uint32_t i;
    for (i = 0; i < B1_HW * B1_HW * B1_CW; i++) b1_x[i] = eh_bench_rand();
    for (i = 0; i < B1_C * 9u * B1_CW; i++) b1_w[i] = eh_bench_rand();
    for (i = 0; i < B1_C; i++) b1_thr[i] = (int32_t)rnd(81u) - 40;
}
static void setup_b1_check(void) { check_b1(); setup_b1(); }

static void run_b1_bits_zero(void) { (void)eh_conv2d_b1_bits(&B1S, EH_CONV2D_B1_PAD_ZERO, b1_x, b1_w, b1_thr, b1_yb); }
static void run_b1_bits_one(void) { (void)eh_conv2d_b1_bits(&B1S, EH_CONV2D_B1_PAD_ONE, b1_x, b1_w, b1_thr, b1_yb); }
static void run_b1_bits_valid(void) { (void)eh_conv2d_b1_bits(&B1V, EH_CONV2D_B1_PAD_ZERO, b1_x, b1_w, b1_thr, b1_yb); }
static void run_b1_s32(void) { (void)eh_conv2d_b1_s32(&B1S, EH_CONV2D_B1_PAD_ZERO, b1_x, b1_w, b1_y); }

#define B1_MACS (B1_HW * B1_HW * B1_C * 9u * B1_C)              /* 9437184 */
#define B1V_MACS ((B1_HW - 2u) * (B1_HW - 2u) * B1_C * 9u * B1_C) /* 7225344 */

/* --- int8, channel-last (TFLite NHWC): eh_conv2d_s8, eh_maxpool2d_s8, eh_avgpool2d_s8 ---
 * S1: 15x15x8 -> 16, 3x3, padding 1 (L2's shape, channel-last: the dense int8 convolution a
 *     TFLite CNN runs, next to L2's Q15 cases); unit the MAC (padding taps included).
 * S2: depthwise 3x3, 16x16x32, padding 1 (a MobileNet block's first half); unit the MAC.
 * P1: 2x2 stride-2 max and average pooling of 16x16x32; unit the output value.
 * On-target self-check (setup of S1, so it runs in --quick too): eh_conv2d_s8 (the SMLAD path on
 * cores with the DSP extension) against a sum written here from eh_conv2d.h over 24 random
 * geometries (groups, depthwise, strides, asymmetric padding, dilation, per-channel
 * requantisation, full-range data), and both pools against a window loop written here,
 * reported as "EHB|check|conv2d_s8|<compared>|<mismatches>". */
#define S8_X (16u * 16u * 32u)
#define S8_W (32u * 9u)
static int8_t s8x[S8_X], s8w[16u * 9u * 8u + S8_W], s8y[S8_X];
static int32_t s8b[32], s8m[32], s8sh[32];
static const eh_conv2d_dims S1 = {8u, 15u, 15u, 16u, 3u, 3u, 1u, 1u, 1u, 1u, 1u, 1u, 1u, 1u, 1u};
static const eh_conv2d_dims S2 = {32u, 16u, 16u, 32u, 3u, 3u, 1u, 1u, 1u, 1u, 1u, 1u, 1u, 1u, 32u};
static const eh_pool2d_dims P1 = {32u, 16u, 16u, 2u, 2u, 2u, 2u, 0u, 0u, 0u, 0u};

static int32_t ref_rq(int64_t acc, int32_t mult, int32_t shift) /* eh_fc_s8's, from eh_basic.h */
{
    int64_t ab, q;
    int32_t hi;
    uint32_t e, mask, rem;
    if (shift > 0) {
        acc *= (int64_t)1 << shift;
        acc = acc > INT32_MAX ? INT32_MAX : acc < INT32_MIN ? INT32_MIN : acc;
    }
    ab = acc * mult;
    q = ab + (ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30));
    hi = (int32_t)(q / ((int64_t)1 << 31));
    if (shift >= 0) return hi;
    e = (uint32_t)(-shift);
    mask = (uint32_t)((1ull << e) - 1u);
    rem = (uint32_t)hi & mask;
    return (hi >> e) + (rem > (mask >> 1) + (hi < 0 ? 1u : 0u) ? 1 : 0);
}

static void check_s8(void)
{
    uint32_t compared = 0, bad = 0, it, i, ho, wo, o, oy, ox;
    for (it = 0; it < 24u; it++) {
        eh_conv2d_dims d;
        eh_pool2d_dims p;
        uint32_t cg, og, pc = it & 1u;
        int32_t xo = (int32_t)rnd(256u) - 127, yo = (int32_t)rnd(256u) - 128, lo = it % 3u ? -128 : -100;
        d.groups = it % 4u == 0u ? 1u + rnd(3) : 1u;
        d.c_in = d.groups * (1u + rnd(it % 4u == 0u ? 4u : 12u));
        d.c_out = d.groups * (1u + rnd(7));
        if (it % 6u == 5u) { d.groups = d.c_in = 1u + rnd(8); d.c_out = d.c_in * (1u + rnd(2)); }
        d.k_h = 1u + rnd(4); d.k_w = 1u + rnd(4);
        d.dil_h = 1u + rnd(2); d.dil_w = it % 5u == 0u ? 2u : 1u;
        d.stride_h = 1u + rnd(2); d.stride_w = 1u + rnd(2);
        d.pad_top = rnd(d.dil_h * (d.k_h - 1u) + 1u); d.pad_bottom = rnd(d.dil_h * (d.k_h - 1u) + 1u);
        d.pad_left = rnd(d.dil_w * (d.k_w - 1u) + 1u); d.pad_right = rnd(d.dil_w * (d.k_w - 1u) + 1u);
        d.h_in = 3u + rnd(8); d.w_in = 3u + rnd(9);
        if (eh_conv2d_out_size(&d, &ho, &wo) != EH_OK) continue;
        cg = d.c_in / d.groups; og = d.c_out / d.groups;
        if (d.h_in * d.w_in * d.c_in > S8_X || d.c_out * d.k_h * d.k_w * cg > sizeof s8w || ho * wo * d.c_out >= S8_X ||
            d.c_out > 32u)
            continue;
        for (i = 0; i < d.h_in * d.w_in * d.c_in; i++) s8x[i] = (int8_t)eh_bench_rand();
        for (i = 0; i < d.c_out * d.k_h * d.k_w * cg; i++) s8w[i] = (int8_t)eh_bench_rand();
        for (i = 0; i < d.c_out; i++) {
            s8b[i] = (int32_t)rnd(200001u) - 100000;
            s8m[i] = (int32_t)((1u << 30) + (eh_bench_rand() >> 2));
            s8sh[i] = -(int32_t)rnd(12u);
        }
        s8y[ho * wo * d.c_out] = 0x5A; /* guard */
        bad += (uint32_t)(eh_conv2d_s8(&d, s8x, xo, s8w, s8b, s8m, s8sh, pc, yo, lo, 127, s8y) != EH_OK);
        for (oy = 0; oy < ho; oy++)
            for (ox = 0; ox < wo; ox++)
                for (o = 0; o < d.c_out; o++) {
                    int64_t acc = s8b[o], v;
                    uint32_t ky, kx, j;
                    for (ky = 0; ky < d.k_h; ky++)
                        for (kx = 0; kx < d.k_w; kx++) {
                            const int32_t iy = (int32_t)(oy * d.stride_h + ky * d.dil_h) - (int32_t)d.pad_top;
                            const int32_t ix = (int32_t)(ox * d.stride_w + kx * d.dil_w) - (int32_t)d.pad_left;
                            if (iy < 0 || ix < 0 || iy >= (int32_t)d.h_in || ix >= (int32_t)d.w_in) continue;
                            for (j = 0; j < cg; j++)
                                acc += ((int32_t)s8x[((uint32_t)iy * d.w_in + (uint32_t)ix) * d.c_in + (o / og) * cg + j] + xo) *
                                       (int32_t)s8w[((o * d.k_h + ky) * d.k_w + kx) * cg + j];
                        }
                    acc = acc > INT32_MAX ? INT32_MAX : acc < INT32_MIN ? INT32_MIN : acc;
                    v = (int64_t)ref_rq(acc, s8m[pc ? o : 0u], s8sh[pc ? o : 0u]) + yo;
                    v = v > 127 ? 127 : v < lo ? lo : v;
                    compared++;
                    bad += (uint32_t)(s8y[(oy * wo + ox) * d.c_out + o] != (int8_t)v);
                }
        bad += (uint32_t)(s8y[ho * wo * d.c_out] != 0x5A);
        /* the pools on the same input, with the conv's input geometry */
        p.c = d.c_in; p.h_in = d.h_in; p.w_in = d.w_in; p.k_h = d.k_h; p.k_w = d.k_w;
        p.stride_h = d.stride_h; p.stride_w = d.stride_w;
        p.pad_top = rnd(d.k_h); p.pad_bottom = rnd(d.k_h); p.pad_left = rnd(d.k_w); p.pad_right = rnd(d.k_w);
        if (eh_pool2d_out_size(&p, &ho, &wo) != EH_OK || ho * wo * p.c > S8_X) continue;
        for (i = 0; i < 2u; i++) {
            bad += (uint32_t)((i ? eh_avgpool2d_s8(&p, s8x, lo, 127, s8y) : eh_maxpool2d_s8(&p, s8x, lo, 127, s8y)) != EH_OK);
            for (oy = 0; oy < ho; oy++)
                for (ox = 0; ox < wo; ox++)
                    for (o = 0; o < p.c; o++) {
                        int32_t mx = -128, sum = 0, n = 0, v;
                        uint32_t ky, kx;
                        for (ky = 0; ky < p.k_h; ky++)
                            for (kx = 0; kx < p.k_w; kx++) {
                                const int32_t iy = (int32_t)(oy * p.stride_h + ky) - (int32_t)p.pad_top;
                                const int32_t ix = (int32_t)(ox * p.stride_w + kx) - (int32_t)p.pad_left;
                                if (iy < 0 || ix < 0 || iy >= (int32_t)p.h_in || ix >= (int32_t)p.w_in) continue;
                                v = s8x[((uint32_t)iy * p.w_in + (uint32_t)ix) * p.c + o];
                                mx = v > mx ? v : mx;
                                sum += v;
                                n++;
                            }
                        v = i ? (sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n) : mx;
                        v = v < lo ? lo : v;
                        compared++;
                        bad += (uint32_t)(s8y[(oy * wo + ox) * p.c + o] != (int8_t)v);
                    }
        }
    }
    eh_bench_check("conv2d_s8", compared, bad);
}

static void fill_s8(uint32_t n_w, uint32_t c_out)
{
    uint32_t i;
    for (i = 0; i < S8_X; i++) s8x[i] = (int8_t)eh_bench_rand();
    for (i = 0; i < n_w; i++) s8w[i] = (int8_t)eh_bench_rand();
    for (i = 0; i < c_out; i++) {
        s8b[i] = (int32_t)rnd(20001u) - 10000;
        s8m[i] = (int32_t)((1u << 30) + (eh_bench_rand() >> 2));
        s8sh[i] = -8;
    }
}
static void setup_s8_1(void) { check_s8(); fill_s8(16u * 9u * 8u, 16u); }
static void setup_s8_2(void) { fill_s8(S8_W, 32u); }
static void setup_s8_p(void) { fill_s8(0u, 0u); }
static void run_s8_1(void) { (void)eh_conv2d_s8(&S1, s8x, 5, s8w, s8b, s8m, s8sh, 1u, -3, -128, 127, s8y); }
static void run_s8_2(void) { (void)eh_conv2d_s8(&S2, s8x, 5, s8w, s8b, s8m, s8sh, 1u, -3, -128, 127, s8y); }
static void run_s8_max(void) { (void)eh_maxpool2d_s8(&P1, s8x, -128, 127, s8y); }
static void run_s8_avg(void) { (void)eh_avgpool2d_s8(&P1, s8x, -128, 127, s8y); }

#define S1_MACS (15u * 15u * 16u * 9u * 8u)  /* 259200 */
#define S2_MACS (16u * 16u * 32u * 9u)       /* 73728 */
#define P1_OUT (8u * 8u * 32u)               /* 2048 */

const eh_bench_case eh_bench_cases_conv2d[] = {
    {"conv2d_q15", "2x34x34-8k5s2", "mac", L1_MACS, setup_l1_dense, run_l1_dense},
    {"conv2d_spike_q15", "2x34x34-8k5s2@5%", "mac", L1_MACS, setup_l1_5, run_l1_spike},
    {"conv2d_spike_q15", "2x34x34-8k5s2@10%", "mac", L1_MACS, setup_l1_10, run_l1_spike},
    {"conv2d_spike_q15", "2x34x34-8k5s2@20%", "mac", L1_MACS, setup_l1_20, run_l1_spike},
    {"conv2d_q15", "8x15x15-16k3p1", "mac", L2_MACS, setup_l2_dense, run_l2_dense},
    {"conv2d_spike_q15", "8x15x15-16k3p1@5%", "mac", L2_MACS, setup_l2_5, run_l2_spike},
    {"conv2d_spike_q15", "8x15x15-16k3p1@10%", "mac", L2_MACS, setup_l2_10, run_l2_spike},
    {"conv2d_spike_q15", "8x15x15-16k3p1@20%", "mac", L2_MACS, setup_l2_20, run_l2_spike},
    {"conv2d_spike_sat_q15", "2x34x34-8k5s2@5%", "mac", L1_MACS, setup_sat_l1_5, run_sat_l1},
    {"conv2d_spike_sat_q15", "2x34x34-8k5s2@10%", "mac", L1_MACS, setup_sat_l1_10, run_sat_l1},
    {"conv2d_spike_sat_q15", "2x34x34-8k5s2@20%", "mac", L1_MACS, setup_sat_l1_20, run_sat_l1},
    {"conv2d_spike_sat_q15", "8x15x15-16k3p1@5%", "mac", L2_MACS, setup_sat_l2_5, run_sat_l2},
    {"conv2d_spike_sat_q15", "8x15x15-16k3p1@10%", "mac", L2_MACS, setup_sat_l2_10, run_sat_l2},
    {"conv2d_spike_sat_q15", "8x15x15-16k3p1@20%", "mac", L2_MACS, setup_sat_l2_20, run_sat_l2},
    {"conv2d_f32", "2x34x34-8k5s2", "mac", L1_MACS, setup_l1_f32, run_l1_f32},
    {"conv2d_b1_bits", "64x16x16-64k3p1", "mac", B1_MACS, setup_b1, run_b1_bits_zero},
    {"conv2d_b1_bits", "64x16x16-64k3p1one", "mac", B1_MACS, setup_b1, run_b1_bits_one},
    {"conv2d_b1_bits", "64x16x16-64k3", "mac", B1V_MACS, setup_b1, run_b1_bits_valid},
    {"conv2d_b1_s32", "64x16x16-64k3p1", "mac", B1_MACS, setup_b1_check, run_b1_s32},
    {"conv2d_s8", "15x15x8-16k3p1", "mac", S1_MACS, setup_s8_1, run_s8_1},
    {"conv2d_s8", "dw16x16x32k3p1", "mac", S2_MACS, setup_s8_2, run_s8_2},
    {"maxpool2d_s8", "16x16x32k2s2", "out", P1_OUT, setup_s8_p, run_s8_max},
    {"avgpool2d_s8", "16x16x32k2s2", "out", P1_OUT, setup_s8_p, run_s8_avg},
};
const uint32_t eh_bench_n_conv2d = sizeof eh_bench_cases_conv2d / sizeof eh_bench_cases_conv2d[0];
