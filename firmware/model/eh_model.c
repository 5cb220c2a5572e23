/*
 * .ehm loader and interpreter. The checks run in the same order as edgehost.blob.read() (Python),
 * so both accept the same blobs and fail with the same code. See docs/model-format.md.
 */
#include "eh_model.h"

#include <stdarg.h>
#include <string.h>

#include "eh_basic.h"
#include "eh_binary.h"
#include "eh_lif.h"
#include "eh_lmu.h"
#include "eh_mst.h"
#include "eh_shiftadd.h"

#define HDR 64u
#define LREC 64u
#define TREC 32u
#define NONE_ID 0xFFFFu
#define MAX_ELEMS (1u << 24)
#define F32_MAX 3.402823466e+38f

/* layer types */
enum {
    T_INPUT_Q15 = 1, T_INPUT_F32, T_FC_F32, T_FC_Q15, T_FC_SPIKE_Q15, T_LIF_F32, T_LIF_Q15,
    T_CUBALIF_F32, T_CUBALIF_Q15, T_LI_F32, T_LI_Q15, T_RELU_F32, T_RELU_Q15, T_ARGMAX,
    T_SPIKE_COUNT, T_DEQUANT, T_SPIKE_F32,
    T_INPUT_S8 = 18, T_DEQUANT_S8 = 19, T_FC_S8 = 20, /* format 1.2: TFLite int8 */
    T_LIF_ADAPT_F32 = 21, T_LIF_ADAPT_Q15 = 22,       /* format 1.3: two inputs (x, x_th) */
    T_FC_B1_F32 = 32, T_CONV1D_B1_BITS = 33, T_MST_FC_B1_F32 = 34, T_FC_B1_BITS = 35, T_PACK_SPIKES_B1 = 36,
    T_CONV1D_B1_F32 = 37, T_CONV1D_B1_S32 = 38, T_CONV1D_B1_S8 = 39, T_SHIFTADD_FC_Q15 = 40, T_BCQ_FC_Q15 = 41,
    T_MST_FC_B1_BITS = 42, T_PACK_SIGNS_B1 = 43, /* format 1.4 (except 32, 35, 36) */
    T_L2MU_Q15 = 48, T_LAST = T_L2MU_Q15
};

/* parameter kinds and value checks */
enum { P_NONE, P_NORM, P_W, P_BIAS, P_PN, P_LEAK, P_WB1, P_VEC, P_L2CELL, P_L2DATA, P_ZP, P_RQ, P_Q8,
       P_WCONV, P_THRCONV, P_MSTTREE, P_MSTROOT, P_MSTDIFF, P_AFFINE, P_POW2, P_BCQA, P_BCQW };
enum { C_NONE, C_FINITE, C_UNIT, C_POS, C_THR15, C_THRB1, C_S8 };
#define MST_MAX_K 32768u
#define BCQ_MAX_K 65535u
#define BCQ_MAX_Q 8u

typedef struct {
    uint8_t kind, elsize, check;
    const char *name;
} pspec;

typedef struct {
    const char *name;
    uint8_t in_dt[3];       /* allowed input dtypes (0 = none) */
    uint8_t out_dt;
    uint8_t out_state;      /* output tensor is a state tensor */
    uint8_t same_n;
    uint8_t n_states;
    uint8_t state_dt;
    uint8_t n_params;
    uint8_t shift, reset, leaks, n_out_one;
    pspec p[4];
    uint8_t in2_dt;         /* dtype of the second input (record offset 14); 0 = no second input */
    uint8_t scratch;        /* the last state slot is the kernel's scratch (an activation of this layer) */
    uint8_t window;         /* state 0 is a u32 window of taps frames (conv1d_b1_*) */
    uint8_t shift_max;      /* 0: 31 if shift else 0 */
    uint32_t max_n_in;      /* 0: no limit */
} lspec;

#define F32 EH_MODEL_DT_F32
#define Q15 EH_MODEL_DT_Q15
#define SPK EH_MODEL_DT_SPIKE
#define B1 EH_MODEL_DT_B1
#define S8 EH_MODEL_DT_S8
#define U32 EH_MODEL_DT_U32
#define S32 EH_MODEL_DT_S32

static const lspec SPECS[T_LAST + 1] = {
    [T_INPUT_Q15] = {"input_q15", {F32}, Q15, 0, 1, 0, 0, 2, 0, 0, 0, 0,
                     {{P_NORM, 4, C_FINITE, "offset"}, {P_NORM, 4, C_FINITE, "mul"}}},
    [T_INPUT_F32] = {"input_f32", {F32}, F32, 0, 1, 0, 0, 2, 0, 0, 0, 0,
                     {{P_NORM, 4, C_FINITE, "offset"}, {P_NORM, 4, C_FINITE, "mul"}}},
    [T_FC_F32] = {"fc_f32", {F32}, F32, 0, 0, 0, 0, 2, 0, 0, 0, 0,
                  {{P_W, 4, C_NONE, "weight"}, {P_BIAS, 4, C_NONE, "bias"}}},
    [T_FC_Q15] = {"fc_q15", {Q15}, Q15, 0, 0, 0, 0, 2, 1, 0, 0, 0,
                  {{P_W, 2, C_NONE, "weight"}, {P_BIAS, 4, C_NONE, "bias"}}},
    [T_FC_SPIKE_Q15] = {"fc_spike_q15", {SPK}, Q15, 0, 0, 0, 0, 2, 1, 0, 0, 0,
                        {{P_W, 2, C_NONE, "weight"}, {P_BIAS, 4, C_NONE, "bias"}}},
    [T_LIF_F32] = {"lif_f32", {F32}, SPK, 1, 1, 1, F32, 2, 0, 1, 0, 0,
                   {{P_PN, 4, C_UNIT, "beta"}, {P_PN, 4, C_POS, "threshold"}}},
    [T_LIF_Q15] = {"lif_q15", {Q15}, SPK, 1, 1, 1, Q15, 2, 0, 1, 1, 0,
                   {{P_LEAK, 0, C_NONE, "leak"}, {P_PN, 2, C_THR15, "threshold"}}},
    [T_CUBALIF_F32] = {"cubalif_f32", {F32}, SPK, 1, 1, 2, F32, 3, 0, 1, 0, 0,
                       {{P_PN, 4, C_UNIT, "alpha"}, {P_PN, 4, C_UNIT, "beta"},
                        {P_PN, 4, C_POS, "threshold"}}},
    [T_CUBALIF_Q15] = {"cubalif_q15", {Q15}, SPK, 1, 1, 2, Q15, 3, 0, 1, 2, 0,
                       {{P_LEAK, 0, C_NONE, "syn_leak"}, {P_LEAK, 0, C_NONE, "mem_leak"},
                        {P_PN, 2, C_THR15, "threshold"}}},
    [T_LI_F32] = {"li_f32", {F32}, F32, 1, 1, 0, 0, 1, 0, 0, 0, 0, {{P_PN, 4, C_UNIT, "beta"}}},
    [T_LI_Q15] = {"li_q15", {Q15}, Q15, 1, 1, 0, 0, 1, 0, 0, 1, 0, {{P_LEAK, 0, C_NONE, "leak"}}},
    [T_RELU_F32] = {"relu_f32", {F32}, F32, 0, 1, 0, 0, 0, 0, 0, 0, 0, {{0}}},
    [T_RELU_Q15] = {"relu_q15", {Q15}, Q15, 0, 1, 0, 0, 0, 0, 0, 0, 0, {{0}}},
    [T_ARGMAX] = {"argmax", {F32, Q15, EH_MODEL_DT_S32}, EH_MODEL_DT_U32, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                  {{0}}},
    [T_SPIKE_COUNT] = {"spike_count", {SPK}, EH_MODEL_DT_U16, 1, 1, 0, 0, 0, 0, 0, 0, 0, {{0}}},
    [T_DEQUANT] = {"dequant", {Q15}, F32, 0, 1, 0, 0, 0, 0, 0, 0, 0, {{0}}},
    [T_SPIKE_F32] = {"spike_f32", {SPK}, F32, 0, 1, 0, 0, 0, 0, 0, 0, 0, {{0}}},
    /* int8 (TFLite): zero point s32[1] in [-128, 127]; the scale is the s8 tensor's */
    [T_INPUT_S8] = {"input_s8", {F32}, S8, 0, 1, 0, 0, 1, 0, 0, 0, 0, {{P_ZP, 4, C_S8, "zero_point"}}},
    [T_DEQUANT_S8] = {"dequant_s8", {S8}, F32, 0, 1, 0, 0, 1, 0, 0, 0, 0, {{P_ZP, 4, C_S8, "zero_point"}}},
    /* requant: mult[C] then shift[C] (C = 1 per tensor or n_out per channel); quant: x_offset,
     * y_offset, act_min, act_max */
    [T_FC_S8] = {"fc_s8", {S8}, S8, 0, 0, 0, 0, 4, 0, 0, 0, 0,
                 {{P_W, 1, C_NONE, "weight"}, {P_BIAS, 4, C_NONE, "bias"}, {P_RQ, 4, C_NONE, "requant"},
                  {P_Q8, 4, C_NONE, "quant"}}},
    /* LIF with threshold adaptation: input x, input2 x_th (n elements, the membrane's scale);
     * states v, a; the output spikes (state) */
    [T_LIF_ADAPT_F32] = {"lif_adapt_f32", {F32}, SPK, 1, 1, 2, F32, 3, 0, 1, 0, 0,
                         {{P_PN, 4, C_UNIT, "beta"}, {P_PN, 4, C_UNIT, "beta_th"}, {P_PN, 4, C_POS, "threshold"}},
                         F32},
    [T_LIF_ADAPT_Q15] = {"lif_adapt_q15", {Q15}, SPK, 1, 1, 2, Q15, 3, 0, 1, 2, 0,
                         {{P_LEAK, 0, C_NONE, "mem_leak"}, {P_LEAK, 0, C_NONE, "th_leak"},
                          {P_PN, 2, C_THR15, "threshold"}},
                         Q15},
    [T_FC_B1_F32] = {"fc_b1_f32", {B1}, F32, 0, 0, 0, 0, 3, 0, 0, 0, 0,
                     {{P_WB1, 4, C_NONE, "weight"}, {P_VEC, 4, C_FINITE, "scale"}, {P_BIAS, 4, C_NONE, "bias"}}},
    [T_FC_B1_BITS] = {"fc_b1_bits", {B1}, B1, 0, 0, 0, 0, 2, 0, 0, 0, 0,
                      {{P_WB1, 4, C_NONE, "weight"}, {P_VEC, 4, C_THRB1, "threshold"}}},
    [T_PACK_SPIKES_B1] = {"pack_spikes_b1", {SPK}, B1, 0, 1, 0, 0, 0, 0, 0, 0, 0, {{0}}},
    /* format 1.4. conv1d_b1_*: streaming, one frame per step; state 0 the window u32 [taps * W] */
    [T_CONV1D_B1_BITS] = {"conv1d_b1_bits", {B1}, B1, 0, 0, 1, U32, 2, 0, 0, 0, 0,
                          {{P_WCONV, 4, C_NONE, "weight"}, {P_THRCONV, 4, C_NONE, "threshold"}}, .window = 1},
    [T_CONV1D_B1_F32] = {"conv1d_b1_f32", {B1}, F32, 0, 0, 1, U32, 3, 0, 0, 0, 0,
                         {{P_WCONV, 4, C_NONE, "weight"}, {P_VEC, 4, C_FINITE, "scale"}, {P_BIAS, 4, C_NONE, "bias"}},
                         .window = 1},
    [T_CONV1D_B1_S32] = {"conv1d_b1_s32", {B1}, S32, 0, 0, 1, U32, 1, 0, 0, 0, 0, {{P_WCONV, 4, C_NONE, "weight"}},
                         .window = 1},
    [T_CONV1D_B1_S8] = {"conv1d_b1_s8", {B1}, S8, 0, 0, 1, U32, 3, 1, 0, 0, 0,
                        {{P_WCONV, 4, C_NONE, "weight"}, {P_VEC, 4, C_NONE, "mult"}, {P_BIAS, 4, C_NONE, "bias"}},
                        .window = 1, .shift_max = 62},
    /* mst_fc_b1_*: state 0 an s32 scratch [n_out + ceil(n_in / 2)]: dot products in node order, then
     * the kernel's 2 n_in bytes */
    [T_MST_FC_B1_F32] = {"mst_fc_b1_f32", {B1}, F32, 0, 0, 1, S32, 4, 0, 0, 0, 0,
                         {{P_MSTTREE, 4, C_NONE, "tree"}, {P_MSTROOT, 4, C_NONE, "root_w"}, {P_MSTDIFF, 2, C_NONE, "diff"},
                          {P_AFFINE, 4, C_FINITE, "affine"}},
                         .scratch = 1, .max_n_in = MST_MAX_K},
    [T_MST_FC_B1_BITS] = {"mst_fc_b1_bits", {B1}, B1, 0, 0, 1, S32, 4, 0, 0, 0, 0,
                          {{P_MSTTREE, 4, C_NONE, "tree"}, {P_MSTROOT, 4, C_NONE, "root_w"}, {P_MSTDIFF, 2, C_NONE, "diff"},
                           {P_VEC, 4, C_THRB1, "threshold"}},
                          .scratch = 1, .max_n_in = MST_MAX_K},
    [T_SHIFTADD_FC_Q15] = {"shiftadd_fc_q15", {Q15}, Q15, 0, 0, 0, 0, 2, 1, 0, 0, 0,
                           {{P_POW2, 1, C_NONE, "weight"}, {P_BIAS, 4, C_NONE, "bias"}}},
    /* bcq_fc_q15: state 0 the look-up tables, s32 scratch [256 ceil(n_in / 8)] */
    [T_BCQ_FC_Q15] = {"bcq_fc_q15", {Q15}, Q15, 0, 0, 1, S32, 3, 1, 0, 0, 0,
                      {{P_BCQA, 1, C_NONE, "alpha_exp"}, {P_BCQW, 4, C_NONE, "weight"}, {P_BIAS, 4, C_NONE, "bias"}},
                      .scratch = 1, .shift_max = 62, .max_n_in = BCQ_MAX_K},
    [T_PACK_SIGNS_B1] = {"pack_signs_b1", {S8, Q15, F32}, B1, 0, 1, 0, 0, 0, 0, 0, 0, 0, {{0}}},
    /* states: q15 v/i_syn (state), spikes (state), q15 scratch (activation of this layer only);
     * the output is the readout's membrane (state). Checked by the l2mu_* functions below. */
    [T_L2MU_Q15] = {"l2mu_q15", {Q15}, Q15, 1, 0, 3, Q15, 2, 0, 0, 0, 0,
                    {{P_L2CELL, 4, C_NONE, "cell"}, {P_L2DATA, 1, C_NONE, "data"}}, .scratch = 1},
};

static const char *const DT_NAMES[9] = {"?", "f32", "q15", "spike", "s8", "s32", "u16", "u32", "b1"};
static const uint8_t DT_SIZE[9] = {0, 4, 2, 1, 1, 4, 2, 4, 4};

/* bytes of a tensor of n elements (b1: ceil(n / 32) words) */
static uint32_t dt_bytes(uint32_t dt, uint32_t n)
{
    return dt == EH_MODEL_DT_B1 ? 4u * ((n + 31u) / 32u) : n * DT_SIZE[dt];
}

/* codes kept for layer families that have not landed (none at present: 33, 34 and 40 landed in 1.4) */
static const char *reserved_name(uint32_t code)
{
    (void)code;
    return 0;
}

/* ---- little-endian field access ---------------------------------------------------------- */
static uint32_t rd8(const uint8_t *p) { return p[0]; }
static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static float rdf32(const uint8_t *p)
{
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- error messages without printf: %s, %u (uint32_t), %d (int32_t), %x (uint32_t hex) ---- */
static void put_c(char *e, uint32_t *k, char c)
{
    if (*k + 1 < EH_MODEL_ERROR_LEN) e[(*k)++] = c;
}

static void put_u(char *e, uint32_t *k, uint32_t v, uint32_t base)
{
    char d[12];
    uint32_t n = 0;
    do {
        uint32_t r = v % base;
        d[n++] = (char)(r < 10 ? '0' + r : 'a' + r - 10);
        v /= base;
    } while (v);
    while (n) put_c(e, k, d[--n]);
}

static int32_t fail(eh_model *m, int32_t code, const char *fmt, ...)
{
    va_list ap;
    uint32_t k = 0;
    char *e = m->error;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') { put_c(e, &k, *fmt); continue; }
        fmt++;
        if (*fmt == 's') {
            const char *s = va_arg(ap, const char *);
            while (*s) put_c(e, &k, *s++);
        } else if (*fmt == 'u') {
            put_u(e, &k, va_arg(ap, uint32_t), 10);
        } else if (*fmt == 'd') {
            int32_t v = va_arg(ap, int32_t);
            if (v < 0) { put_c(e, &k, '-'); put_u(e, &k, (uint32_t)0 - (uint32_t)v, 10); }
            else put_u(e, &k, (uint32_t)v, 10);
        } else if (*fmt == 'x') {
            put_u(e, &k, va_arg(ap, uint32_t), 16);
        } else if (*fmt == 'U') { /* uint64_t, decimal */
            uint64_t v = va_arg(ap, uint64_t);
            char d[21];
            uint32_t n = 0;
            do { d[n++] = (char)('0' + (uint32_t)(v % 10u)); v /= 10u; } while (v);
            while (n) put_c(e, &k, d[--n]);
        } else {
            put_c(e, &k, *fmt);
        }
    }
    va_end(ap);
    e[k] = 0;
    m->loaded = 0;
    return code;
}

/* ---- checksums ---------------------------------------------------------------------------- */
static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    static const uint32_t nib[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ nib[c & 15u];
        c = (c >> 4) ^ nib[c & 15u];
    }
    return c ^ 0xFFFFFFFFu;
}

static uint32_t fnv1a32(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* ---- record access (valid only after the header checks) ----------------------------------- */
static const uint8_t *lrec(const eh_model *m, uint32_t l) { return m->blob + HDR + LREC * l; }
static const uint8_t *trec(const eh_model *m, uint32_t t)
{
    return m->blob + HDR + LREC * m->n_layers + TREC * t;
}
static uint32_t t_dt(const eh_model *m, uint32_t t) { return rd8(trec(m, t)); }
static uint32_t t_kind(const eh_model *m, uint32_t t) { return rd8(trec(m, t) + 1); }
static uint32_t t_off(const eh_model *m, uint32_t t) { return rd32(trec(m, t) + 4); }
static uint32_t t_size(const eh_model *m, uint32_t t) { return rd32(trec(m, t) + 8); }
static uint32_t t_n(const eh_model *m, uint32_t t)
{
    const uint8_t *r = trec(m, t);
    uint32_t n = 1, ndim = rd8(r + 2);
    for (uint32_t k = 0; k < ndim; k++) n *= rd32(r + 12 + 4 * k);
    return n;
}
static float t_scale(const eh_model *m, uint32_t t) { return rdf32(trec(m, t) + 28); }
static void *t_ptr(const eh_model *m, uint32_t t) { return m->arena + t_off(m, t); }

/* first[]: 0 not written, 1 the model input, w + 2 written by layer w.
 * last[]:  0 never read, r + 1 last read by layer r (n_layers: after the last layer), 255 state slot. */
#define SLOT 255u
#define IS_SCRATCH(m, t) (((m)->scratch[(t) >> 3] >> ((t) & 7u)) & 1u)

static int32_t check_param_values(eh_model *m, uint32_t l, const char *lname, uint32_t k,
                                  const pspec *ps, uint32_t leak_shift, const uint8_t *p, uint32_t cnt,
                                  uint32_t n_in)
{
    for (uint32_t i = 0; i < cnt; i++) {
        if (ps->kind == P_LEAK) {
            if (leak_shift) {
                uint32_t s = p[i];
                if (s < 1 || s > 15)
                    return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%u) outside [1, 15]",
                                l, lname, k, ps->name, i, s);
            } else {
                uint32_t d = rd16(p + 2 * i);
                if (d > 32768u)
                    return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%u) outside [0, 32768]",
                                l, lname, k, ps->name, i, d);
            }
        } else if (ps->check == C_THR15) {
            int32_t v = (int32_t)(int16_t)rd16(p + 2 * i);
            if (v < 1)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [1, 32767]",
                            l, lname, k, ps->name, i, v);
        } else if (ps->kind == P_POW2) {
            uint32_t v = p[i];
            if (v & 0x60u)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%u) has reserved bits 6..5 set",
                            l, lname, k, ps->name, i, v);
        } else if (ps->kind == P_BCQA) {
            int32_t v = (int32_t)(int8_t)p[i];
            if (v < -24 || v > 24)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [-24, 24]",
                            l, lname, k, ps->name, i, v);
        } else if (ps->check == C_THRB1 || ps->kind == P_THRCONV) { /* n_in: taps x n_in for conv1d */
            int32_t v = (int32_t)rd32(p + 4 * i);
            if (v < -(int32_t)n_in || v > (int32_t)n_in + 1)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [-%u, %u]",
                            l, lname, k, ps->name, i, v, n_in, n_in + 1);
        } else if (ps->check == C_S8) {
            int32_t v = (int32_t)rd32(p + 4 * i);
            if (v < -128 || v > 127)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [-128, 127]",
                            l, lname, k, ps->name, i, v);
        } else if (ps->kind == P_RQ) {
            int32_t v = (int32_t)rd32(p + 4 * i);
            if (i < cnt / 2u && v < 0)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (mult %d) outside [0, 2147483647]",
                            l, lname, k, ps->name, i, v);
            if (i >= cnt / 2u && (v < -31 || v > 30))
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (shift %d) outside [-31, 30]",
                            l, lname, k, ps->name, i, v);
        } else if (ps->kind == P_Q8) {
            static const char *const q8_names[4] = {"x_offset", "y_offset", "act_min", "act_max"};
            int32_t v = (int32_t)rd32(p + 4 * i);
            int32_t lo = i == 0 ? -127 : i == 3 ? (int32_t)rd32(p + 8) : -128, hi = i == 0 ? 128 : 127;
            if (v < lo || v > hi)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%s %d) outside [%d, %d]",
                            l, lname, k, ps->name, i, q8_names[i], v, lo, hi);
        } else if (ps->check != C_NONE) {
            float v = rdf32(p + 4 * i);
            int ok;
            const char *what;
            if (ps->check == C_FINITE) { ok = v >= -F32_MAX && v <= F32_MAX; what = "not finite"; }
            else if (ps->check == C_UNIT) { ok = v >= 0.0f && v <= 1.0f; what = "outside [0, 1]"; }
            else { ok = v > 0.0f && v <= F32_MAX; what = "not > 0 and finite"; }
            if (!ok)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u %s",
                            l, lname, k, ps->name, i, what);
        }
    }
    return EH_MODEL_OK;
}

/* ---- the L2MU layer (type 48): descriptor (param 0), arrays (param 1), state layout ---------
 * Same rules, order and messages as edgehost/blob/l2mu.py; see docs/model-format.md. */
#define L2_DIMS 9
#define L2_W_READOUT 9
#define L2_W_SHIFTS 10
#define L2_N_SHIFTS 12
#define L2_W_FLAGS 22
#define L2_N_POPS 7
#define L2_W_COUNTS 29
#define L2_N_WEIGHTS 16
#define L2_N_ARRAYS 37
#define L2_WORDS 66
#define L2_MAX_DIM 65535u
#define L2F_RESET_ZERO 1u
#define L2F_LEAK_SHIFT 2u
#define L2F_CUBA 4u
#define L2F_SYN_SHIFT 8u

enum { D_N_CH, D_POP, D_N_ENC, D_ENC0, D_ENC1, D_N_U, D_ORDER, D_N_H, D_N_O };
enum { A_W_IN, A_B_IN, A_W_ENC0, A_B_ENC0, A_W_ENC1, A_B_ENC1, A_E_X, A_E_H, A_E_M, A_A, A_B,
       A_W_X, A_W_H, A_W_M, A_W_O, A_B_O, A_POPS };
enum { POP_IN, POP_ENC0, POP_ENC1, POP_U, POP_M, POP_H, POP_O };

static const char *const L2_DIM_NAMES[L2_DIMS] = {"n_ch", "pop", "n_enc", "enc0", "enc1", "n_u", "order", "n_h", "n_o"};
static const char *const L2_SHIFT_NAMES[L2_N_SHIFTS] = {"s_in", "s_enc0", "s_enc1", "s_ex", "s_eh", "s_em",
                                                        "s_a", "s_b", "s_wx", "s_wh", "s_wm", "s_o"};
static const char *const L2_POP_NAMES[L2_N_POPS] = {"in", "enc0", "enc1", "u", "m", "h", "o"};
static const char *const L2_ARRAY_NAMES[L2_N_ARRAYS] = {
    "w_in", "b_in", "w_enc0", "b_enc0", "w_enc1", "b_enc1", "e_x", "e_h", "e_m", "a", "b", "w_x", "w_h", "w_m",
    "w_o", "b_o",
    "pop_in.leak", "pop_in.syn_leak", "pop_in.threshold", "pop_enc0.leak", "pop_enc0.syn_leak",
    "pop_enc0.threshold", "pop_enc1.leak", "pop_enc1.syn_leak", "pop_enc1.threshold", "pop_u.leak",
    "pop_u.syn_leak", "pop_u.threshold", "pop_m.leak", "pop_m.syn_leak", "pop_m.threshold", "pop_h.leak",
    "pop_h.syn_leak", "pop_h.threshold", "pop_o.leak", "pop_o.syn_leak", "pop_o.threshold"};

typedef struct {
    uint32_t w[L2_WORDS];
} l2desc;

static void l2_read(l2desc *d, const uint8_t *p)
{
    for (uint32_t i = 0; i < L2_WORDS; i++) d->w[i] = rd32(p + 4 * i);
}

static uint32_t l2_flags(const l2desc *d, uint32_t pop) { return d->w[L2_W_FLAGS + pop]; }
static uint32_t l2_count(const l2desc *d, uint32_t a) { return d->w[L2_W_COUNTS + a]; }
static uint32_t l2_n_in(const l2desc *d) { return d->w[D_N_CH] * d->w[D_POP]; }
static uint32_t l2_n_m(const l2desc *d) { return d->w[D_N_U] * d->w[D_ORDER]; }
static uint32_t l2_n_sx(const l2desc *d)
{
    return d->w[D_N_ENC] == 2 ? d->w[D_ENC1] : (d->w[D_N_ENC] == 1 ? d->w[D_ENC0] : l2_n_in(d));
}
static int l2_active(const l2desc *d, uint32_t pop)
{
    return !(pop == POP_ENC0 && d->w[D_N_ENC] < 1) && !(pop == POP_ENC1 && d->w[D_N_ENC] < 2);
}
static uint32_t l2_pop_size(const l2desc *d, uint32_t pop)
{
    switch (pop) {
    case POP_IN: return l2_n_in(d);
    case POP_ENC0: return d->w[D_ENC0];
    case POP_ENC1: return d->w[D_ENC1];
    case POP_U: return d->w[D_N_U];
    case POP_M: return l2_n_m(d);
    case POP_H: return d->w[D_N_H];
    default: return d->w[D_N_O];
    }
}

/* bytes per entry of array a */
static uint32_t l2_elsize(const l2desc *d, uint32_t a)
{
    if (a < A_POPS) return (a == A_B_IN || a == A_B_ENC0 || a == A_B_ENC1 || a == A_B_O) ? 4u : 2u;
    {
        uint32_t pop = (a - A_POPS) / 3u, which = (a - A_POPS) % 3u, f = l2_flags(d, pop);
        if (which == 0) return (f & L2F_LEAK_SHIFT) ? 1u : 2u;
        if (which == 1) return (f & L2F_SYN_SHIFT) ? 1u : 2u;
        return 2u;
    }
}

/* allowed counts of array a: {v0} (n_ok == 1) or {v0, v1}; *li_thr: the li readout's threshold */
static void l2_expected(const l2desc *d, uint32_t a, uint32_t *v0, uint32_t *v1, uint32_t *n_ok, int *li_thr)
{
    uint32_t n_sx = l2_n_sx(d), n_m = l2_n_m(d), n_h = d->w[D_N_H], n_u = d->w[D_N_U], n_o = d->w[D_N_O];
    *li_thr = 0;
    *n_ok = 1;
    *v0 = 0;
    *v1 = 0;
    if (a >= A_POPS) {
        uint32_t pop = (a - A_POPS) / 3u, which = (a - A_POPS) % 3u;
        if (!l2_active(d, pop)) return;
        if (which == 1 && !(l2_flags(d, pop) & L2F_CUBA)) return;
        if (which == 2 && pop == POP_O && d->w[L2_W_READOUT] == 1) { *li_thr = 1; return; }
        *v0 = 1;
        *v1 = l2_pop_size(d, pop);
        *n_ok = 2;
        return;
    }
    switch (a) {
    case A_W_IN: *v0 = l2_n_in(d); return;
    case A_E_X: *v0 = n_u * n_sx; return;
    case A_A: *v0 = d->w[D_ORDER] * d->w[D_ORDER]; return;
    case A_B: *v0 = d->w[D_ORDER]; return;
    case A_W_M: *v0 = n_h * n_m; return;
    case A_W_O: *v0 = n_o * n_h; return;
    case A_B_IN: *v1 = l2_n_in(d); break;
    case A_E_H: *v1 = n_u * n_h; break;
    case A_E_M: *v1 = n_u * n_m; break;
    case A_W_X: *v1 = n_h * n_sx; break;
    case A_W_H: *v1 = n_h * n_h; break;
    case A_B_O: *v1 = n_o; break;
    case A_W_ENC0: if (d->w[D_N_ENC] >= 1) *v0 = d->w[D_ENC0] * l2_n_in(d); return;
    case A_W_ENC1: if (d->w[D_N_ENC] >= 2) *v0 = d->w[D_ENC1] * d->w[D_ENC0]; return;
    case A_B_ENC0: if (d->w[D_N_ENC] >= 1) *v1 = d->w[D_ENC0]; else return; break;
    default: /* A_B_ENC1 */ if (d->w[D_N_ENC] >= 2) *v1 = d->w[D_ENC1]; else return; break;
    }
    *n_ok = 2; /* 0 (absent) or v1 */
}

static int32_t l2_check_desc(eh_model *m, uint32_t l, const char *nm, const l2desc *d, uint32_t n_in, uint32_t n_out)
{
#define L2FAIL(...) fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (cell): " __VA_ARGS__)
    const uint32_t n_enc = d->w[D_N_ENC];
    for (uint32_t i = 0; i < L2_DIMS; i++) {
        uint32_t v = d->w[i];
        if (i == D_N_ENC) {
            if (v > 2) return L2FAIL("n_enc %u outside [0, 2]", l, nm, v);
        } else if ((i == D_ENC0 && n_enc < 1) || (i == D_ENC1 && n_enc < 2)) {
            if (v != 0) return L2FAIL("%s %u must be 0 (n_enc %u)", l, nm, L2_DIM_NAMES[i], v, n_enc);
        } else if (v < 1 || v > L2_MAX_DIM) {
            return L2FAIL("%s %u outside [1, 65535]", l, nm, L2_DIM_NAMES[i], v);
        }
    }
    if (l2_n_in(d) > L2_MAX_DIM) return L2FAIL("n_ch * pop %u > 65535", l, nm, l2_n_in(d));
    if (l2_n_m(d) > L2_MAX_DIM) return L2FAIL("n_u * order %u > 65535", l, nm, l2_n_m(d));
    if (d->w[D_N_CH] != n_in) return L2FAIL("n_ch %u but n_in is %u", l, nm, d->w[D_N_CH], n_in);
    if (d->w[D_N_O] != n_out) return L2FAIL("n_o %u but n_out is %u", l, nm, d->w[D_N_O], n_out);
    if (d->w[L2_W_READOUT] > 1) return L2FAIL("readout %u is neither 0 (lif) nor 1 (li)", l, nm, d->w[L2_W_READOUT]);
    for (uint32_t i = 0; i < L2_N_SHIFTS; i++)
        if (d->w[L2_W_SHIFTS + i] > 31u)
            return L2FAIL("%s %u outside [0, 31]", l, nm, L2_SHIFT_NAMES[i], d->w[L2_W_SHIFTS + i]);
    for (uint32_t p = 0; p < L2_N_POPS; p++) {
        uint32_t f = l2_flags(d, p);
        if (f > 15u) return L2FAIL("pop_%s flags 0x%x has unknown bits", l, nm, L2_POP_NAMES[p], f);
        if (!l2_active(d, p) && f) return L2FAIL("pop_%s flags 0x%x must be 0 (n_enc %u)", l, nm, L2_POP_NAMES[p], f, n_enc);
        if ((f & L2F_SYN_SHIFT) && !(f & L2F_CUBA))
            return L2FAIL("pop_%s flags 0x%x: a synaptic leak kind without a synaptic leak", l, nm, L2_POP_NAMES[p], f);
        if (p == POP_O && d->w[L2_W_READOUT] == 1 && (f & (L2F_CUBA | L2F_RESET_ZERO)))
            return L2FAIL("pop_o flags 0x%x: the li readout takes no synaptic leak and no reset", l, nm, f);
    }
    for (uint32_t a = 0; a < L2_N_ARRAYS; a++) {
        uint32_t v0, v1, n_ok, c = l2_count(d, a);
        int li_thr;
        l2_expected(d, a, &v0, &v1, &n_ok, &li_thr);
        if (c == v0 || (n_ok == 2 && c == v1)) continue;
        if (li_thr) return L2FAIL("%s count %u, expected 0 (the li readout has no threshold)", l, nm, L2_ARRAY_NAMES[a], c);
        if (n_ok == 1) return L2FAIL("%s count %u, expected %u", l, nm, L2_ARRAY_NAMES[a], c, v0);
        return L2FAIL("%s count %u, expected %u or %u", l, nm, L2_ARRAY_NAMES[a], c, v0, v1);
    }
    return EH_MODEL_OK;
#undef L2FAIL
}

static uint32_t l2_a4(uint32_t n) { return (n + 3u) & ~3u; }

/* bytes of the data parameter the descriptor implies (64-bit: counts up to 65535^2) */
static uint64_t l2_data_bytes(const l2desc *d)
{
    uint64_t t = 0;
    for (uint32_t a = 0; a < L2_N_ARRAYS; a++) t += ((uint64_t)l2_count(d, a) * l2_elsize(d, a) + 3u) & ~(uint64_t)3u;
    return t;
}

static int32_t l2_check_data(eh_model *m, uint32_t l, const char *nm, const l2desc *d, const uint8_t *p)
{
    uint32_t pos = 0;
    for (uint32_t a = 0; a < L2_N_ARRAYS; a++) {
        uint32_t n = l2_count(d, a), es = l2_elsize(d, a);
        const uint8_t *q = p + pos;
        pos += l2_a4(n * es); /* fits: the total was checked against the parameter's length */
        if (a < A_POPS || n == 0) continue;
        for (uint32_t i = 0; i < n; i++) {
            if ((a - A_POPS) % 3u == 2u) {
                int32_t v = (int32_t)(int16_t)rd16(q + 2 * i);
                if (v < 1)
                    return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 1 (data): %s entry %u (%d) outside [1, 32767]",
                                l, nm, L2_ARRAY_NAMES[a], i, v);
            } else if (es == 1) {
                uint32_t v = q[i];
                if (v < 1 || v > 15)
                    return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 1 (data): %s entry %u (%u) outside [1, 15]",
                                l, nm, L2_ARRAY_NAMES[a], i, v);
            } else {
                uint32_t v = rd16(q + 2 * i);
                if (v > 32768u)
                    return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 1 (data): %s entry %u (%u) outside [0, 32768]",
                                l, nm, L2_ARRAY_NAMES[a], i, v);
            }
        }
    }
    return EH_MODEL_OK;
}

/* elements of state 0 (q15 v, i_syn), state 1 (spikes), state 2 (q15 scratch) */
static void l2_state_sizes(const l2desc *d, uint32_t sz[3])
{
    uint32_t nv = 0, ns = 0, q = l2_n_in(d), pmax;
    for (uint32_t p = 0; p < L2_N_POPS; p++) {
        uint32_t n;
        if (!l2_active(d, p)) continue;
        n = l2_pop_size(d, p);
        if (p != POP_O) { nv += n; ns += n; }
        else if (d->w[L2_W_READOUT] == 0) ns += n;
        if (l2_flags(d, p) & L2F_CUBA) nv += n;
    }
    if (d->w[D_N_ENC] >= 1 && d->w[D_ENC0] > q) q = d->w[D_ENC0];
    if (d->w[D_N_ENC] >= 2 && d->w[D_ENC1] > q) q = d->w[D_ENC1];
    pmax = q;
    if (d->w[D_N_U] > pmax) pmax = d->w[D_N_U];
    if (l2_n_m(d) > pmax) pmax = l2_n_m(d);
    if (d->w[D_N_H] > pmax) pmax = d->w[D_N_H];
    if (d->w[D_N_O] > pmax) pmax = d->w[D_N_O];
    sz[0] = nv;
    sz[1] = ns;
    sz[2] = pmax + q + d->w[D_N_H] + l2_n_m(d);
}

static void l2_pop(const l2desc *d, uint32_t pop, const void *const arr[L2_N_ARRAYS], eh_l2mu_pop_q15 *cp)
{
    uint32_t f = l2_flags(d, pop), a = A_POPS + 3u * pop;
    memset(cp, 0, sizeof *cp);
    if (f & L2F_LEAK_SHIFT) cp->leak.shift = (const uint8_t *)arr[a];
    else cp->leak.decay = (const uint16_t *)arr[a];
    cp->leak.len = l2_count(d, a);
    if (f & L2F_CUBA) {
        if (f & L2F_SYN_SHIFT) cp->leak_syn.shift = (const uint8_t *)arr[a + 1];
        else cp->leak_syn.decay = (const uint16_t *)arr[a + 1];
        cp->leak_syn.len = l2_count(d, a + 1);
    }
    cp->thr = (const int16_t *)arr[a + 2];
    cp->thr_len = l2_count(d, a + 2);
    cp->reset = (f & L2F_RESET_ZERO) ? EH_RESET_ZERO : EH_RESET_SUBTRACT;
}

/* One L2MU step and readout on a loaded model: the kernel structs from the blob in place. */
/* One step of an L2MU layer with the unchecked kernels (the cell passed the kernel's own checks
 * when the model was loaded), or, with check_only, those checks alone (no state touched). */
static eh_status l2mu_build(const eh_model *m, const uint8_t *r, int16_t *out, int16_t *sv, uint8_t *ss,
                            int check_only, eh_l2mu_q15 *cp, eh_l2mu_state_q15 *stp);

static eh_status run_l2mu(eh_model *m, const uint8_t *r, const int16_t *x, int16_t *out, int16_t *sv, uint8_t *ss,
                          int16_t *scratch, int check_only)
{
    eh_l2mu_q15 c;
    eh_l2mu_state_q15 st;
    if (check_only) return l2mu_build(m, r, out, sv, ss, 1, &c, &st);
#if EH_MODEL_L2MU_CACHE > 0
    /* the structs depend on the blob and the arena only: build them at the first step of the
     * layer (the slots are emptied by eh_model_load), then reuse them */
    for (uint32_t k = 0; k < EH_MODEL_L2MU_CACHE; k++) {
        if (m->l2mu[k].layer == r) {
            eh_l2mu_step_q15_unchecked(&m->l2mu[k].cell, x, &m->l2mu[k].state, scratch);
            eh_l2mu_readout_q15_unchecked(&m->l2mu[k].cell, &m->l2mu[k].state, scratch);
            return EH_OK;
        }
        if (m->l2mu[k].layer == 0) {
            l2mu_build(m, r, out, sv, ss, 0, &m->l2mu[k].cell, &m->l2mu[k].state);
            m->l2mu[k].layer = r;
            eh_l2mu_step_q15_unchecked(&m->l2mu[k].cell, x, &m->l2mu[k].state, scratch);
            eh_l2mu_readout_q15_unchecked(&m->l2mu[k].cell, &m->l2mu[k].state, scratch);
            return EH_OK;
        }
    }
#endif
    l2mu_build(m, r, out, sv, ss, 0, &c, &st);
    eh_l2mu_step_q15_unchecked(&c, x, &st, scratch);
    eh_l2mu_readout_q15_unchecked(&c, &st, scratch);
    return EH_OK;
}

/* The kernel structs of an L2MU layer from the blob in place (and the arena's state tensors),
 * or, with check_only, the kernel's own checks of the cell (no state pointers). */
static eh_status l2mu_build(const eh_model *m, const uint8_t *r, int16_t *out, int16_t *sv, uint8_t *ss,
                            int check_only, eh_l2mu_q15 *cp, eh_l2mu_state_q15 *stp)
{
    l2desc d;
    const void *arr[L2_N_ARRAYS];
    const uint8_t *data = m->blob + rd32(r + 40);
    uint32_t pos = 0, pv = 0, ps = 0;
    l2_read(&d, m->blob + rd32(r + 32));
    for (uint32_t a = 0; a < L2_N_ARRAYS; a++) {
        uint32_t n = l2_count(&d, a);
        arr[a] = n ? (const void *)(data + pos) : (const void *)0;
        pos += l2_a4(n * l2_elsize(&d, a));
    }
    memset(cp, 0, sizeof *cp);
    memset(stp, 0, sizeof *stp);
    cp->dims.n_ch = d.w[D_N_CH];
    cp->dims.pop = d.w[D_POP];
    cp->dims.n_enc = d.w[D_N_ENC];
    cp->dims.enc[0] = d.w[D_ENC0];
    cp->dims.enc[1] = d.w[D_ENC1];
    cp->dims.n_u = d.w[D_N_U];
    cp->dims.order = d.w[D_ORDER];
    cp->dims.n_h = d.w[D_N_H];
    cp->dims.n_o = d.w[D_N_O];
    cp->w_in = (const int16_t *)arr[A_W_IN];
    cp->b_in = (const int32_t *)arr[A_B_IN];
    cp->w_enc[0] = (const int16_t *)arr[A_W_ENC0];
    cp->b_enc[0] = (const int32_t *)arr[A_B_ENC0];
    cp->w_enc[1] = (const int16_t *)arr[A_W_ENC1];
    cp->b_enc[1] = (const int32_t *)arr[A_B_ENC1];
    cp->e_x = (const int16_t *)arr[A_E_X];
    cp->e_h = (const int16_t *)arr[A_E_H];
    cp->e_m = (const int16_t *)arr[A_E_M];
    cp->a = (const int16_t *)arr[A_A];
    cp->b = (const int16_t *)arr[A_B];
    cp->w_x = (const int16_t *)arr[A_W_X];
    cp->w_h = (const int16_t *)arr[A_W_H];
    cp->w_m = (const int16_t *)arr[A_W_M];
    cp->w_o = (const int16_t *)arr[A_W_O];
    cp->b_o = (const int32_t *)arr[A_B_O];
    cp->s_in = (uint8_t)d.w[L2_W_SHIFTS + 0];
    cp->s_enc[0] = (uint8_t)d.w[L2_W_SHIFTS + 1];
    cp->s_enc[1] = (uint8_t)d.w[L2_W_SHIFTS + 2];
    cp->s_ex = (uint8_t)d.w[L2_W_SHIFTS + 3];
    cp->s_eh = (uint8_t)d.w[L2_W_SHIFTS + 4];
    cp->s_em = (uint8_t)d.w[L2_W_SHIFTS + 5];
    cp->s_a = (uint8_t)d.w[L2_W_SHIFTS + 6];
    cp->s_b = (uint8_t)d.w[L2_W_SHIFTS + 7];
    cp->s_wx = (uint8_t)d.w[L2_W_SHIFTS + 8];
    cp->s_wh = (uint8_t)d.w[L2_W_SHIFTS + 9];
    cp->s_wm = (uint8_t)d.w[L2_W_SHIFTS + 10];
    cp->s_o = (uint8_t)d.w[L2_W_SHIFTS + 11];
    cp->readout = d.w[L2_W_READOUT] ? EH_L2MU_READOUT_LI : EH_L2MU_READOUT_LIF;
    {
        eh_l2mu_pop_q15 *cps[L2_N_POPS] = {&cp->pop_in, &cp->pop_enc[0], &cp->pop_enc[1], &cp->pop_u, &cp->pop_m, &cp->pop_h, &cp->pop_o};
        eh_l2mu_pop_state_q15 *sps[L2_N_POPS] = {&stp->in, &stp->enc[0], &stp->enc[1], &stp->u, &stp->m, &stp->h, &stp->o};
        for (uint32_t p = 0; p < L2_N_POPS; p++) {
            uint32_t n;
            if (!l2_active(&d, p)) continue;
            n = l2_pop_size(&d, p);
            l2_pop(&d, p, arr, cps[p]);
            if (check_only) continue;
            /* layout (edgehost.blob.l2mu.state_layout): per population v then i_syn in state 0,
             * s in state 1; the readout's v is the output tensor, its s only for a LIF readout */
            if (p != POP_O) { sps[p]->v = sv + pv; pv += n; }
            else sps[p]->v = out;
            if (l2_flags(&d, p) & L2F_CUBA) { sps[p]->i_syn = sv + pv; pv += n; }
            if (p != POP_O || d.w[L2_W_READOUT] == 0) { sps[p]->s = ss + ps; ps += n; }
        }
    }
    if (check_only) {
        uint32_t sz[3];
        eh_status rc;
        l2_state_sizes(&d, sz);
        rc = eh_l2mu_check_q15(cp, sz[2]);
        if (rc == EH_OK) rc = eh_l2mu_readout_check_q15(cp, sz[2]);
        return rc;
    }
    return EH_OK;
}

/* ---- mst_fc_b1_*: param 0 "tree" u32 [4 n + 3]: n_roots, n_diff, parent[n] (int32), channel[n],
 * node_of[n], diff_start[n + 1]; param 2 "diff" u16 [n_diff]. Same order and messages as
 * edgehost/blob/model.py (_check_mst_tree, _check_mst_diff). */
static int32_t mst_check_tree(eh_model *m, uint32_t l, const char *nm, const uint8_t *w, uint32_t n_in, uint32_t n)
{
    uint32_t n_roots = rd32(w), n_diff = rd32(w + 4), roots = 0;
    const uint8_t *par = w + 8, *ch = par + 4 * n, *inv = ch + 4 * n, *ds = inv + 4 * n;
    uint64_t lim;
    if (n_roots < 1 || n_roots > n)
        return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): n_roots %u outside [1, %u]", l, nm, n_roots, n);
    lim = (uint64_t)(n - n_roots) * n_in;
    if ((uint64_t)n_diff > lim)
        return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): n_diff %u > %U ((n_out - n_roots) x n_in)", l, nm,
                    n_diff, lim);
    if (rd32(ds) != 0 || rd32(ds + 4 * n) != n_diff)
        return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): diff_start[0] %u and diff_start[%u] %u must be 0 and n_diff (%u)",
                    l, nm, rd32(ds), n, rd32(ds + 4 * n), n_diff);
    for (uint32_t p = 0; p < n; p++) {
        uint32_t a = rd32(ds + 4 * p), b = rd32(ds + 4 * p + 4), c = rd32(ch + 4 * p);
        int32_t pa = (int32_t)rd32(par + 4 * p);
        if (b < a)
            return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: diff_start %u < %u", l, nm, p, b, a);
        if (pa < -1 || pa >= (int32_t)p)
            return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: parent %d outside [-1, %d]", l, nm, p, pa,
                        (int32_t)p - 1);
        if (pa == -1 && b != a)
            return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: a root owns %u codes", l, nm, p, b - a);
        if (c >= n)
            return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: channel %u outside [0, %u]", l, nm, p, c, n - 1);
        if (rd32(inv + 4 * c) != p)
            return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: node_of[%u] is %u, not %u (channel is not a permutation)",
                        l, nm, p, c, rd32(inv + 4 * c), p);
        roots += pa == -1;
    }
    if (roots != n_roots)
        return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): %u roots, n_roots says %u", l, nm, roots, n_roots);
    return EH_MODEL_OK;
}

static int32_t mst_check_diff(eh_model *m, uint32_t l, const char *nm, const uint8_t *tree, const uint8_t *d, uint32_t n_in,
                              uint32_t n)
{
    const uint8_t *ds = tree + 8 + 12 * n;
    for (uint32_t p = 0; p < n; p++) {
        uint32_t a = rd32(ds + 4 * p), b = rd32(ds + 4 * p + 4);
        for (uint32_t j = a; j < b; j++) {
            uint32_t pos = rd16(d + 2 * j) >> 1;
            if (pos >= n_in)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 2 (diff): node %u: code %u (position %u) outside [0, %u]",
                            l, nm, p, j, pos, n_in - 1);
            if (j > a && pos <= rd16(d + 2 * j - 2) >> 1)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 2 (diff): node %u: code %u (position %u) not after position %u",
                            l, nm, p, j, pos, (uint32_t)(rd16(d + 2 * j - 2) >> 1));
        }
    }
    return EH_MODEL_OK;
}

/* The eh_mst_b1 of an mst_fc_b1_* layer record (valid after the load checks). */
static void mst_layout(const eh_model *m, const uint8_t *r, eh_mst_b1 *lay, const uint32_t **channel)
{
    const uint8_t *w = m->blob + rd32(r + 32);
    uint32_t n = rd32(r + 20);
    lay->n_in = rd32(r + 16);
    lay->n_out = n;
    lay->n_roots = rd32(w);
    lay->n_diff = rd32(w + 4);
    lay->parent = (const int32_t *)(const void *)(w + 8);
    lay->root_w = (const uint32_t *)(const void *)(m->blob + rd32(r + 40));
    lay->diff_start = (const uint32_t *)(const void *)(w + 8 + 12 * n);
    static const uint16_t no_codes[1] = {0}; /* not NULL: the kernel may form diff + 0 */
    lay->diff = rd32(r + 52) ? (const uint16_t *)(const void *)(m->blob + rd32(r + 48)) : no_codes;
    *channel = (const uint32_t *)(const void *)(w + 8 + 4 * n);
}

static uint32_t scratch_elements(uint32_t code, uint32_t n_in, uint32_t n_out)
{
    if (code == T_BCQ_FC_Q15) return 256u * ((n_in + 7u) / 8u);
    return n_out + (n_in + 1u) / 2u; /* mst_fc_b1_*: n_out dot products, then the kernel's 2 K bytes */
}

static int32_t check_layer(eh_model *m, uint32_t l, uint32_t weights_off, uint32_t total)
{
    const uint8_t *r = lrec(m, l);
    uint32_t code = rd8(r), reset = rd8(r + 1), leak_bits = rd8(r + 2);
    uint32_t tin = rd16(r + 4), tout = rd16(r + 6), st[3] = {rd16(r + 8), rd16(r + 10), rd16(r + 12)};
    uint32_t tin2 = rd16(r + 14);
    uint32_t n_in = rd32(r + 16), n_out = rd32(r + 20), shift = rd32(r + 24);
    uint32_t T = m->n_tensors;
    uint32_t norm_cnt = 0, leak_i = 0, taps = 0, W = (n_in + 31u) / 32u, q = 0, smax;
    const uint8_t *tree = 0;
    const lspec *s;
    const char *nm;
    l2desc l2d;

    if (code == 0 || code > T_LAST || SPECS[code].name == 0) {
        const char *rn = reserved_name(code);
        if (rn)
            return fail(m, EH_MODEL_E_UNSUPPORTED, "layer %u: type %u (%s) not supported by this loader", l, code, rn);
        return fail(m, EH_MODEL_E_UNSUPPORTED, "layer %u: type %u unknown", l, code);
    }
    s = &SPECS[code];
    nm = s->name;
    if (rd8(r + 3) || (tin2 && !s->in2_dt) || rd32(r + 28))
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): reserved fields not zero", l, nm);
    if (reset > (uint32_t)(s->reset ? 1 : 0))
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): reset %u invalid", l, nm, reset);
    if (leak_bits >> s->leaks)
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): leak bits 0x%x invalid", l, nm, leak_bits);
    smax = s->shift_max ? s->shift_max : (s->shift ? 31u : 0u);
    if (shift > smax)
        return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): shift %u outside [0, %u]", l, nm, shift, smax);
    if (tin >= T) return fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): input tensor %u >= n_tensors (%u)", l, nm, tin, T);
    if (s->in2_dt && tin2 >= T)
        return fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): input2 tensor %u >= n_tensors (%u)", l, nm, tin2, T);
    if (tout >= T) return fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): output tensor %u >= n_tensors (%u)", l, nm, tout, T);
    for (uint32_t k = 0; k < s->n_states; k++)
        if (st[k] >= T)
            return fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): state %u tensor %u >= n_tensors (%u)", l, nm, k, st[k], T);
    for (uint32_t k = s->n_states; k < 3; k++)
        if (st[k] != NONE_ID)
            return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state slot %u must be 0xffff (unused), got %u", l, nm, k, st[k]);
    {
        uint32_t dt = t_dt(m, tin);
        if (dt != s->in_dt[0] && dt != s->in_dt[1] && dt != s->in_dt[2])
            return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): input tensor %u dtype %s, expected %s%s%s%s%s", l, nm, tin,
                        DT_NAMES[dt], DT_NAMES[s->in_dt[0]], s->in_dt[1] ? "/" : "",
                        s->in_dt[1] ? DT_NAMES[s->in_dt[1]] : "", s->in_dt[2] ? "/" : "",
                        s->in_dt[2] ? DT_NAMES[s->in_dt[2]] : "");
    }
    if (t_dt(m, tout) != s->out_dt)
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): output tensor %u dtype %s, expected %s", l, nm, tout,
                    DT_NAMES[t_dt(m, tout)], DT_NAMES[s->out_dt]);
    if (t_kind(m, tout) != s->out_state)
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): output tensor %u kind %s, expected %s", l, nm, tout,
                    t_kind(m, tout) ? "state" : "activation", s->out_state ? "state" : "activation");
    if (n_in != t_n(m, tin))
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_in %u but input tensor %u has %u elements", l, nm, n_in, tin, t_n(m, tin));
    if (s->in2_dt) {
        if (t_dt(m, tin2) != s->in2_dt)
            return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): input2 tensor %u dtype %s, expected %s", l, nm, tin2,
                        DT_NAMES[t_dt(m, tin2)], DT_NAMES[s->in2_dt]);
        if (t_n(m, tin2) != n_in)
            return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_in %u but input2 tensor %u has %u elements", l, nm, n_in, tin2,
                        t_n(m, tin2));
    }
    if (n_out != t_n(m, tout))
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_out %u but output tensor %u has %u elements", l, nm, n_out, tout, t_n(m, tout));
    if (s->same_n && n_in != n_out)
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_in %u != n_out %u", l, nm, n_in, n_out);
    if (s->n_out_one && n_out != 1)
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_out %u must be 1", l, nm, n_out);
    if (s->max_n_in && n_in > s->max_n_in)
        return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_in %u outside [1, %u]", l, nm, n_in, s->max_n_in);
    for (uint32_t k = 0; k < s->n_states && !s->scratch; k++) { /* scratch layers: after the params */
        if (s->window && k == 0) {
            if (t_dt(m, st[0]) != U32 || t_kind(m, st[0]) != 1 || t_n(m, st[0]) % W)
                return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state 0 tensor %u must be a u32 state tensor of taps x %u elements (the window)",
                            l, nm, st[0], W);
            taps = t_n(m, st[0]) / W;
            if ((uint64_t)taps * n_in > MAX_ELEMS)
                return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): taps %u x n_in %u > 16777216", l, nm, taps, n_in);
            continue;
        }
        if (t_dt(m, st[k]) != s->state_dt || t_kind(m, st[k]) != 1 || t_n(m, st[k]) != n_out)
            return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state %u tensor %u must be a %s state tensor of %u elements",
                        l, nm, k, st[k], DT_NAMES[s->state_dt], n_out);
    }
    for (uint32_t k = 0; k < 4; k++) {
        uint32_t off = rd32(r + 32 + 8 * k), len = rd32(r + 36 + 8 * k);
        const pspec *ps = &s->p[k];
        uint32_t es = ps->elsize, leak_shift = 0, cnt, ok;
        int32_t rc;
        if (k >= s->n_params) {
            if (off || len) return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u unused but offset/length not 0", l, nm, k);
            continue;
        }
        if (ps->kind == P_LEAK) {
            leak_shift = (leak_bits >> leak_i) & 1u;
            es = leak_shift ? 1u : 2u;
            leak_i++;
        }
        if (len == 0) {
            if (off) return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): length 0 but offset 0x%x", l, nm, k, ps->name, off);
            if (ps->kind != P_BIAS && !(ps->kind == P_MSTDIFF && rd32(tree + 4) == 0))
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): missing (length 0)", l, nm, k, ps->name);
            continue;
        }
        if (off < weights_off || off > total || len > total - off)
            return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): offset 0x%x + %u outside the weight section [0x%x, 0x%x)",
                        l, nm, k, ps->name, off, len, weights_off, total);
        if (off % 4u)
            return fail(m, EH_MODEL_E_ALIGN, "layer %u (%s): param %u (%s): offset 0x%x not a multiple of 4", l, nm, k, ps->name, off);
        if (len % es)
            return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): length %u not a multiple of %u", l, nm, k, ps->name, len, es);
        cnt = len / es;
        switch (ps->kind) {
        case P_NORM: ok = cnt >= 1 && n_out % cnt == 0 && (k == 0 || cnt == norm_cnt); norm_cnt = cnt; break;
        case P_W: ok = (uint64_t)cnt == (uint64_t)n_out * n_in; break;
        case P_BIAS: ok = cnt == n_out; break;
        case P_VEC: ok = cnt == n_out; break;
        case P_WB1: ok = (uint64_t)cnt == (uint64_t)n_out * ((n_in + 31u) / 32u); break;
        case P_L2CELL: ok = cnt == L2_WORDS; break;
        case P_L2DATA: ok = (uint64_t)cnt == l2_data_bytes(&l2d); break;
        case P_ZP: ok = cnt == 1; break;
        case P_RQ: ok = cnt == 2 || (uint64_t)cnt == 2u * (uint64_t)n_out; break;
        case P_Q8: ok = cnt == 4; break;
        case P_WCONV: ok = (uint64_t)cnt == (uint64_t)n_out * taps * W; break;
        case P_THRCONV: ok = cnt == n_out; break;
        case P_MSTTREE: ok = (uint64_t)cnt == 4u * (uint64_t)n_out + 3u; break;
        case P_MSTROOT: ok = (uint64_t)cnt == (uint64_t)rd32(tree) * W; break;
        case P_MSTDIFF: ok = cnt == rd32(tree + 4); break;
        case P_AFFINE: ok = (uint64_t)cnt == 2u * (uint64_t)n_out; break;
        case P_POW2: ok = (uint64_t)cnt == (uint64_t)n_out * n_in; break;
        case P_BCQA: ok = cnt % n_out == 0 && cnt / n_out >= 1 && cnt / n_out <= BCQ_MAX_Q; break;
        case P_BCQW: ok = (uint64_t)cnt == (uint64_t)n_out * q * W; break;
        default: ok = cnt == 1 || cnt == n_out; break;
        }
        if (!ok) {
            if (ps->kind == P_L2CELL)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", l, nm, k, ps->name, cnt,
                            (uint32_t)L2_WORDS);
            if (ps->kind == P_L2DATA)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (the arrays of param 0, each 4-aligned)",
                            l, nm, k, ps->name, cnt, l2_data_bytes(&l2d));
            if (ps->kind == P_NORM)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected a divisor of n (the same for offset and mul)", l, nm, k, ps->name, cnt);
            if (ps->kind == P_W)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", l, nm, k, ps->name, cnt, n_out * n_in);
            if (ps->kind == P_BIAS)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u or 0", l, nm, k, ps->name, cnt, n_out);
            if (ps->kind == P_WB1)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", l, nm, k, ps->name, cnt,
                            n_out * ((n_in + 31u) / 32u));
            if (ps->kind == P_ZP)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected 1", l, nm, k, ps->name, cnt);
            if (ps->kind == P_RQ)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected 2 or %U (mult then shift, per tensor or per channel)",
                            l, nm, k, ps->name, cnt, 2u * (uint64_t)n_out);
            if (ps->kind == P_Q8)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected 4", l, nm, k, ps->name, cnt);
            if (ps->kind == P_VEC || ps->kind == P_THRCONV)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", l, nm, k, ps->name, cnt, n_out);
            if (ps->kind == P_WCONV)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U", l, nm, k, ps->name, cnt,
                            (uint64_t)n_out * taps * W);
            if (ps->kind == P_MSTTREE)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (n_roots, n_diff, parent, channel, node_of, diff_start)",
                            l, nm, k, ps->name, cnt, 4u * (uint64_t)n_out + 3u);
            if (ps->kind == P_MSTROOT)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (n_roots x %u)", l, nm, k,
                            ps->name, cnt, (uint64_t)rd32(tree) * W, W);
            if (ps->kind == P_MSTDIFF)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u (n_diff)", l, nm, k, ps->name,
                            cnt, rd32(tree + 4));
            if (ps->kind == P_AFFINE)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (scale then bias)", l, nm, k,
                            ps->name, cnt, 2u * (uint64_t)n_out);
            if (ps->kind == P_POW2)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U", l, nm, k, ps->name, cnt,
                            (uint64_t)n_out * n_in);
            if (ps->kind == P_BCQA)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u x q with q in [1, 8]", l, nm, k,
                            ps->name, cnt, n_out);
            if (ps->kind == P_BCQW)
                return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (n_out x q x %u)", l, nm, k,
                            ps->name, cnt, (uint64_t)n_out * q * W, W);
            return fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected 1 or %u", l, nm, k, ps->name, cnt, n_out);
        }
        if (ps->kind == P_L2CELL) {
            l2_read(&l2d, m->blob + off);
            rc = l2_check_desc(m, l, nm, &l2d, n_in, n_out);
        } else if (ps->kind == P_L2DATA) {
            rc = l2_check_data(m, l, nm, &l2d, m->blob + off);
        } else if (ps->kind == P_MSTTREE) {
            tree = m->blob + off;
            rc = mst_check_tree(m, l, nm, tree, n_in, n_out);
        } else if (ps->kind == P_MSTDIFF) {
            rc = mst_check_diff(m, l, nm, tree, m->blob + off, n_in, n_out);
        } else {
            if (ps->kind == P_BCQA) q = cnt / n_out;
            rc = check_param_values(m, l, nm, k, ps, leak_shift, m->blob + off, cnt, ps->kind == P_THRCONV ? taps * n_in : n_in);
        }
        if (rc) return rc;
    }
    if (code == T_L2MU_Q15) {
        static const uint8_t want_dt[3] = {Q15, SPK, Q15}, want_kind[3] = {1, 1, 0};
        uint32_t sz[3];
        l2_state_sizes(&l2d, sz);
        for (uint32_t k = 0; k < 3; k++)
            if (t_dt(m, st[k]) != want_dt[k] || t_kind(m, st[k]) != want_kind[k] || t_n(m, st[k]) != sz[k])
                return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state %u tensor %u must be a %s %s tensor of %u elements", l, nm, k,
                            st[k], DT_NAMES[want_dt[k]], want_kind[k] ? "state" : "activation", sz[k]);
        /* The steps run the unchecked kernels: the kernel's own checks, once, here. */
        eh_status kst = run_l2mu(m, r, 0, 0, 0, 0, 0, 1);
        if (kst != EH_OK)
            return fail(m, EH_MODEL_E_KERNEL, "layer %u (%s): the L2MU kernel refuses the cell: %s", l, nm, eh_status_str(kst));
    } else if (s->scratch) {
        uint32_t want = scratch_elements(code, n_in, n_out);
        if (t_dt(m, st[0]) != S32 || t_kind(m, st[0]) != 0 || t_n(m, st[0]) != want)
            return fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state 0 tensor %u must be a s32 activation tensor of %u elements", l, nm,
                        st[0], want);
        if (code == T_MST_FC_B1_F32 || code == T_MST_FC_B1_BITS) { /* the steps run the unchecked kernel */
            eh_mst_b1 lay;
            const uint32_t *chan;
            eh_status kst;
            mst_layout(m, r, &lay, &chan);
            kst = eh_mst_check_b1(&lay, 2u * n_in);
            if (kst != EH_OK)
                return fail(m, EH_MODEL_E_KERNEL, "layer %u (%s): the MST kernel refuses the layout: %s", l, nm, eh_status_str(kst));
        }
    }
    /* dataflow */
    if (m->first[tin] == 0 || m->last[tin] == SLOT || IS_SCRATCH(m, tin))
        return fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): input tensor %u is not the model input nor written by an earlier layer", l, nm, tin);
    if (s->in2_dt && (m->first[tin2] == 0 || m->last[tin2] == SLOT || IS_SCRATCH(m, tin2)))
        return fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): input2 tensor %u is not the model input nor written by an earlier layer", l, nm, tin2);
    for (uint32_t k = 0; k <= s->n_states; k++) {
        uint32_t t = k == 0 ? tout : st[k - 1];
        if (m->first[t] != 0) {
            if (m->first[t] == 1)
                return fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): %s%s tensor %u already written by the model input", l, nm,
                            k == 0 ? "output" : "state ", k == 0 ? "" : (k == 1 ? "0" : (k == 2 ? "1" : "2")), t);
            return fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): %s%s tensor %u already written by layer %u", l, nm,
                        k == 0 ? "output" : "state ", k == 0 ? "" : (k == 1 ? "0" : (k == 2 ? "1" : "2")), t,
                        (uint32_t)m->first[t] - 2);
        }
        m->first[t] = (uint8_t)(l + 2);
    }
    for (uint32_t k = 0; k < s->n_states; k++) {
        if (s->scratch && k == (uint32_t)s->n_states - 1u) { /* the scratch: an activation of this layer only */
            m->last[st[k]] = (uint8_t)(l + 1);
            m->scratch[st[k] >> 3] |= (uint8_t)(1u << (st[k] & 7u));
        } else {
            m->last[st[k]] = SLOT;
        }
    }
    m->last[tin] = (uint8_t)(l + 1);
    if (s->in2_dt) m->last[tin2] = (uint8_t)(l + 1);
    return EH_MODEL_OK;
}

int32_t eh_model_load(eh_model *m, const uint8_t *blob, uint32_t len, uint8_t *arena, uint32_t arena_size)
{
    const uint16_t one = 1;
    uint32_t total, L, T, inp, outp, weights_off, weights_len, arena_need, end = 0;
    int32_t rc;

    if (!m) return EH_MODEL_E_NULL;
    memset(m, 0, sizeof *m);
    if (!blob) return fail(m, EH_MODEL_E_NULL, "blob: NULL");
    if (!arena) return fail(m, EH_MODEL_E_NULL, "arena: NULL");
    if (*(const uint8_t *)&one != 1) return fail(m, EH_MODEL_E_UNSUPPORTED, "core: not little endian");
    if (((uintptr_t)blob & 3u) != 0) return fail(m, EH_MODEL_E_ALIGN, "blob: buffer not 4-byte aligned");
    if (((uintptr_t)arena & 3u) != 0) return fail(m, EH_MODEL_E_ALIGN, "arena: buffer not 4-byte aligned");

    if (len < HDR) return fail(m, EH_MODEL_E_LENGTH, "blob: %u bytes, shorter than the 64-byte header", len);
    if (memcmp(blob, "EHMB", 4) != 0) return fail(m, EH_MODEL_E_MAGIC, "header: magic is not 'EHMB'");
    if (rd16(blob + 4) != EH_MODEL_VERSION_MAJOR || rd16(blob + 6) > EH_MODEL_VERSION_MINOR)
        return fail(m, EH_MODEL_E_VERSION, "header: format version %u.%u not supported (this loader reads 1.0 to 1.%u)",
                    rd16(blob + 4), rd16(blob + 6), (uint32_t)EH_MODEL_VERSION_MINOR);
    total = rd32(blob + 12);
    if (total < HDR || total > len)
        return fail(m, EH_MODEL_E_LENGTH, "header: total_len %u outside [64, %u] (bytes given)", total, len);
    if (crc32(blob + 20, total - 20) != rd32(blob + 16))
        return fail(m, EH_MODEL_E_CRC, "header: crc32 0x%x does not match the content (0x%x)", rd32(blob + 16),
                    crc32(blob + 20, total - 20));
    if (fnv1a32(blob + 24, total - 24) != rd32(blob + 20))
        return fail(m, EH_MODEL_E_HASH, "header: model_hash 0x%x does not match the content (0x%x)", rd32(blob + 20),
                    fnv1a32(blob + 24, total - 24));
    L = rd16(blob + 24);
    T = rd16(blob + 26);
    inp = rd16(blob + 28);
    outp = rd16(blob + 30);
    weights_off = rd32(blob + 40);
    weights_len = rd32(blob + 44);
    arena_need = rd32(blob + 48);
    if (rd32(blob + 8) != 0) return fail(m, EH_MODEL_E_HEADER, "header: flags 0x%x has unknown bits", rd32(blob + 8));
    for (uint32_t i = 52; i < HDR; i++)
        if (blob[i]) return fail(m, EH_MODEL_E_HEADER, "header: reserved bytes 52..63 are not zero");
    if (L < 1 || L > EH_MODEL_MAX_LAYERS) return fail(m, EH_MODEL_E_COUNT, "header: n_layers %u outside [1, 128]", L);
    if (T < 1 || T > EH_MODEL_MAX_TENSORS) return fail(m, EH_MODEL_E_COUNT, "header: n_tensors %u outside [1, 256]", T);
    if (rd32(blob + 32) != HDR) return fail(m, EH_MODEL_E_LAYOUT, "header: layers_offset %u is not 64", rd32(blob + 32));
    if (rd32(blob + 36) != HDR + LREC * L)
        return fail(m, EH_MODEL_E_LAYOUT, "header: tensors_offset %u is not %u (64 + 64 * n_layers)", rd32(blob + 36), HDR + LREC * L);
    {
        uint32_t want = (HDR + LREC * L + TREC * T + 7u) & ~7u;
        if (weights_off != want)
            return fail(m, EH_MODEL_E_LAYOUT, "header: weights_offset %u is not %u", weights_off, want);
    }
    if (weights_off > total || weights_len != total - weights_off)
        return fail(m, EH_MODEL_E_LAYOUT, "header: weights_offset %u + weights_len %u is not total_len (%u)", weights_off, weights_len, total);
    if (inp >= T) return fail(m, EH_MODEL_E_COUNT, "header: input_tensor %u >= n_tensors (%u)", inp, T);
    if (outp >= T) return fail(m, EH_MODEL_E_COUNT, "header: output_tensor %u >= n_tensors (%u)", outp, T);
    if (arena_need % 4u) return fail(m, EH_MODEL_E_ARENA, "header: arena_size %u is not a multiple of 4", arena_need);
    if (arena_need > arena_size) return fail(m, EH_MODEL_E_ARENA, "header: arena_size %u > arena given (%u)", arena_need, arena_size);

    m->blob = blob;
    m->n_layers = L;
    m->n_tensors = T;
    for (uint32_t t = 0; t < T; t++) {
        const uint8_t *r = trec(m, t);
        uint32_t dt = rd8(r), kind = rd8(r + 1), ndim = rd8(r + 2), off = rd32(r + 4), size = rd32(r + 8);
        uint32_t elems = 1;
        float scale = rdf32(r + 28);
        if (dt < 1 || dt > 8) return fail(m, EH_MODEL_E_TENSOR, "tensor %u: dtype %u unknown", t, dt);
        if (kind > 1) return fail(m, EH_MODEL_E_TENSOR, "tensor %u: kind %u is neither 0 (activation) nor 1 (state)", t, kind);
        if (ndim < 1 || ndim > 4) return fail(m, EH_MODEL_E_TENSOR, "tensor %u: ndim %u outside [1, 4]", t, ndim);
        if (rd8(r + 3)) return fail(m, EH_MODEL_E_TENSOR, "tensor %u: flags %u not zero", t, rd8(r + 3));
        for (uint32_t k = 0; k < 4; k++) {
            uint32_t d = rd32(r + 12 + 4 * k);
            if (k < ndim) {
                if (d < 1 || d > MAX_ELEMS)
                    return fail(m, EH_MODEL_E_TENSOR, "tensor %u: dim %u = %u outside [1, 16777216]", t, k, d);
                if ((uint64_t)elems * d > MAX_ELEMS)
                    return fail(m, EH_MODEL_E_TENSOR, "tensor %u: more than 16777216 elements", t);
                elems *= d;
            } else if (d != 0) {
                return fail(m, EH_MODEL_E_TENSOR, "tensor %u: dim %u = %u beyond ndim %u must be 0", t, k, d, ndim);
            }
        }
        if (size != dt_bytes(dt, elems))
            return fail(m, EH_MODEL_E_TENSOR, "tensor %u: size %u bytes, expected %u (%u x %s)", t, size, dt_bytes(dt, elems), elems, DT_NAMES[dt]);
        if (off % 4u) return fail(m, EH_MODEL_E_ALIGN, "tensor %u: arena offset 0x%x not a multiple of 4", t, off);
        if (off > arena_need || size > arena_need - off)
            return fail(m, EH_MODEL_E_ARENA, "tensor %u: arena offset 0x%x + %u past arena_size (%u)", t, off, size, arena_need);
        if (!(scale > 0.0f && scale <= F32_MAX)) return fail(m, EH_MODEL_E_TENSOR, "tensor %u: scale not > 0 and finite", t);
        if (off + size > end) end = off + size;
    }
    m->first[inp] = 1;
    for (uint32_t l = 0; l < L; l++) {
        rc = check_layer(m, l, weights_off, total);
        if (rc) return rc;
    }
    if (m->first[outp] < 2) return fail(m, EH_MODEL_E_GRAPH, "header: output_tensor %u is not written by any layer", outp);
    if (m->last[outp] == SLOT || IS_SCRATCH(m, outp)) return fail(m, EH_MODEL_E_GRAPH, "header: output_tensor %u is a layer's internal state", outp);
    m->last[outp] = (uint8_t)(L + 1);
    for (uint32_t t = 0; t < T; t++) {
        if (m->first[t] == 0) return fail(m, EH_MODEL_E_GRAPH, "tensor %u: not written by any layer", t);
        if (m->last[t] == 0) return fail(m, EH_MODEL_E_GRAPH, "tensor %u: written by layer %u but never read", t, (uint32_t)m->first[t] - 2);
    }
    for (uint32_t a = 0; a < T; a++) {
        uint32_t oa = t_off(m, a), sa = t_size(m, a);
        for (uint32_t b = a + 1; b < T; b++) {
            uint32_t ob = t_off(m, b), sb = t_size(m, b);
            if (oa < ob + sb && ob < oa + sa) {
                int32_t wa = (int32_t)m->first[a] - 2, wb = (int32_t)m->first[b] - 2;
                int32_t ra = (int32_t)m->last[a] - 1, rb = (int32_t)m->last[b] - 1;
                if (t_kind(m, a) || t_kind(m, b))
                    return fail(m, EH_MODEL_E_OVERLAP, "tensor %u: arena [0x%x, +%u) overlaps tensor %u (a state tensor shares no bytes)", b, ob, sb, a);
                if (!(ra < wb || rb < wa))
                    return fail(m, EH_MODEL_E_OVERLAP, "tensor %u: arena [0x%x, +%u) overlaps tensor %u while both are live (layers %d..%d and %d..%d)",
                                b, ob, sb, a, wa, ra, wb, rb);
            }
        }
    }
    if (arena_need != ((end + 3u) & ~3u))
        return fail(m, EH_MODEL_E_ARENA, "header: arena_size %u is not the end of the last tensor rounded up to 4 (%u)", arena_need, (end + 3u) & ~3u);

    m->blob_len = total;
    m->arena = arena;
    m->arena_size = arena_size;
    m->arena_used = arena_need;
    m->hash = rd32(blob + 20);
    m->input_tensor = inp;
    m->output_tensor = outp;
    m->input_bytes = t_size(m, inp);
    m->output_bytes = t_size(m, outp);
    m->loaded = 1;
    m->error[0] = 0;
    return eh_model_reset_state(m);
}

const char *eh_model_error(const eh_model *m) { return m ? m->error : "model: NULL"; }
uint32_t eh_model_hash(const eh_model *m) { return m && m->loaded ? m->hash : 0; }
uint32_t eh_model_arena_used(const eh_model *m) { return m && m->loaded ? m->arena_used : 0; }
uint32_t eh_model_input_bytes(const eh_model *m) { return m && m->loaded ? m->input_bytes : 0; }
uint32_t eh_model_output_bytes(const eh_model *m) { return m && m->loaded ? m->output_bytes : 0; }
uint32_t eh_model_n_layers(const eh_model *m) { return m && m->loaded ? m->n_layers : 0; }

uint32_t eh_model_layer_type(const eh_model *m, uint32_t layer)
{
    if (!m || !m->loaded || layer >= m->n_layers) return 0;
    return rd8(lrec(m, layer));
}

int32_t eh_model_reset_state(eh_model *m)
{
    if (!m) return EH_MODEL_E_NULL;
    if (!m->loaded) return EH_MODEL_E_NOT_LOADED;
    memset(m->arena, 0, m->arena_used);
    m->steps = 0;
    return EH_MODEL_OK;
}

/* ---- the interpreter ---------------------------------------------------------------------- */
static const void *param(const eh_model *m, const uint8_t *r, uint32_t k)
{
    uint32_t len = rd32(r + 36 + 8 * k);
    return len ? (const void *)(m->blob + rd32(r + 32 + 8 * k)) : (const void *)0;
}
static uint32_t param_len(const uint8_t *r, uint32_t k) { return rd32(r + 36 + 8 * k); }

static void leak_of(const eh_model *m, const uint8_t *r, uint32_t k, uint32_t shift_kind, eh_leak_q15 *lk)
{
    lk->decay = 0;
    lk->shift = 0;
    if (shift_kind) {
        lk->shift = (const uint8_t *)param(m, r, k);
        lk->len = param_len(r, k);
    } else {
        lk->decay = (const uint16_t *)param(m, r, k);
        lk->len = param_len(r, k) / 2u;
    }
}

static int32_t run_layer(eh_model *m, uint32_t l)
{
    const uint8_t *r = lrec(m, l);
    uint32_t code = rd8(r), n_in = rd32(r + 16), n_out = rd32(r + 20), shift = rd32(r + 24);
    eh_reset reset = rd8(r + 1) ? EH_RESET_ZERO : EH_RESET_SUBTRACT;
    uint32_t leak_bits = rd8(r + 2);
    uint32_t tin = rd16(r + 4), tout = rd16(r + 6);
    void *x = t_ptr(m, tin), *y = t_ptr(m, tout);
    void *s0 = 0, *s1 = 0, *s2 = 0;
    eh_status st = EH_OK;
    eh_leak_q15 la, lb;
    if (SPECS[code].n_states > 0) s0 = t_ptr(m, rd16(r + 8));
    if (SPECS[code].n_states > 1) s1 = t_ptr(m, rd16(r + 10));
    if (SPECS[code].n_states > 2) s2 = t_ptr(m, rd16(r + 12));

    switch (code) {
    case T_INPUT_Q15:
    case T_INPUT_F32: {
        const float *off = (const float *)param(m, r, 0), *mul = (const float *)param(m, r, 1);
        uint32_t c_n = param_len(r, 0) / 4u, c = 0;
        const float *xf = (const float *)x;
        for (uint32_t i = 0; i < n_in && st == EH_OK; i++) {
            float t = xf[i] - off[c];
            t = t * mul[c];
            if (code == T_INPUT_Q15) st = eh_quantize_f32_q15(1, &t, 1.0f, (int16_t *)y + i);
            else ((float *)y)[i] = t;
            if (++c == c_n) c = 0;
        }
        break;
    }
    case T_FC_F32:
        st = eh_fc_f32(n_in, n_out, (const float *)x, (const float *)param(m, r, 0), (const float *)param(m, r, 1), (float *)y);
        break;
    case T_FC_Q15:
        st = eh_fc_q15(n_in, n_out, (const int16_t *)x, (const int16_t *)param(m, r, 0), (const int32_t *)param(m, r, 1), shift, (int16_t *)y);
        break;
    case T_FC_SPIKE_Q15:
        st = eh_fc_spike_q15(n_in, n_out, (const uint8_t *)x, (const int16_t *)param(m, r, 0), (const int32_t *)param(m, r, 1), shift, (int16_t *)y);
        break;
    case T_LIF_F32:
        st = eh_lif_step_f32(n_in, (const float *)x, (float *)s0, (uint8_t *)y, (const float *)param(m, r, 0), param_len(r, 0) / 4u,
                             (const float *)param(m, r, 1), param_len(r, 1) / 4u, reset);
        break;
    case T_LIF_Q15:
        leak_of(m, r, 0, leak_bits & 1u, &la);
        st = eh_lif_step_q15(n_in, (const int16_t *)x, (int16_t *)s0, (uint8_t *)y, &la, (const int16_t *)param(m, r, 1),
                             param_len(r, 1) / 2u, reset);
        break;
    case T_CUBALIF_F32:
        st = eh_cubalif_step_f32(n_in, (const float *)x, (float *)s0, (float *)s1, (uint8_t *)y, (const float *)param(m, r, 0),
                                 param_len(r, 0) / 4u, (const float *)param(m, r, 1), param_len(r, 1) / 4u,
                                 (const float *)param(m, r, 2), param_len(r, 2) / 4u, reset);
        break;
    case T_CUBALIF_Q15:
        leak_of(m, r, 0, leak_bits & 1u, &la);
        leak_of(m, r, 1, (leak_bits >> 1) & 1u, &lb);
        st = eh_cubalif_step_q15(n_in, (const int16_t *)x, (int16_t *)s0, (int16_t *)s1, (uint8_t *)y, &la, &lb,
                                 (const int16_t *)param(m, r, 2), param_len(r, 2) / 2u, reset);
        break;
    case T_LIF_ADAPT_F32:
        st = eh_lif_adapt_step_f32(n_in, (const float *)x, (const float *)t_ptr(m, rd16(r + 14)), (float *)s0, (float *)s1,
                                   (uint8_t *)y, (const float *)param(m, r, 0), param_len(r, 0) / 4u,
                                   (const float *)param(m, r, 1), param_len(r, 1) / 4u, (const float *)param(m, r, 2),
                                   param_len(r, 2) / 4u, reset);
        break;
    case T_LIF_ADAPT_Q15:
        leak_of(m, r, 0, leak_bits & 1u, &la);
        leak_of(m, r, 1, (leak_bits >> 1) & 1u, &lb);
        st = eh_lif_adapt_step_q15(n_in, (const int16_t *)x, (const int16_t *)t_ptr(m, rd16(r + 14)), (int16_t *)s0,
                                   (int16_t *)s1, (uint8_t *)y, &la, &lb, (const int16_t *)param(m, r, 2),
                                   param_len(r, 2) / 2u, reset);
        break;
    case T_LI_F32:
        st = eh_li_step_f32(n_in, (const float *)x, (float *)y, (const float *)param(m, r, 0), param_len(r, 0) / 4u);
        break;
    case T_LI_Q15:
        leak_of(m, r, 0, leak_bits & 1u, &la);
        st = eh_li_step_q15(n_in, (const int16_t *)x, (int16_t *)y, &la);
        break;
    case T_RELU_F32: st = eh_relu_f32(n_in, (const float *)x, (float *)y); break;
    case T_RELU_Q15: st = eh_relu_q15(n_in, (const int16_t *)x, (int16_t *)y); break;
    case T_ARGMAX: {
        uint32_t idx = 0, dt = t_dt(m, tin);
        if (dt == EH_MODEL_DT_F32) st = eh_argmax_f32(n_in, (const float *)x, &idx);
        else if (dt == EH_MODEL_DT_Q15) st = eh_argmax_q15(n_in, (const int16_t *)x, &idx);
        else st = eh_argmax_s32(n_in, (const int32_t *)x, &idx);
        if (st == EH_OK) memcpy(y, &idx, 4);
        break;
    }
    case T_SPIKE_COUNT: st = eh_spike_count_u16(n_in, (const uint8_t *)x, (uint16_t *)y); break;
    case T_DEQUANT: st = eh_dequantize_q15_f32(n_in, (const int16_t *)x, t_scale(m, tin), (float *)y); break;
    case T_SPIKE_F32: /* spikes (0/1, as written by the LIF kernels) to 0.0f/1.0f: no kernel needed */
        for (uint32_t i = 0; i < n_in; i++) ((float *)y)[i] = ((const uint8_t *)x)[i] ? 1.0f : 0.0f;
        break;
    case T_INPUT_S8: {
        /* q = sat8(round_half_away(x / scale) + zp), one float32 division (TFLite's reference
         * AffineQuantize); NaN counts as 0 */
        float sc = t_scale(m, tout);
        int32_t zp = (int32_t)rd32((const uint8_t *)param(m, r, 0));
        for (uint32_t i = 0; i < n_in; i++) {
            float v = ((const float *)x)[i] / sc;
            int32_t q;
            float frac;
            if (!(v == v)) v = 0.0f;
            if (v > 1000.0f) v = 1000.0f;
            if (v < -1000.0f) v = -1000.0f;
            q = (int32_t)v; /* truncates; exact below 2^23 */
            frac = v - (float)q;
            if (frac >= 0.5f) q++;
            else if (frac <= -0.5f) q--;
            q += zp;
            ((int8_t *)y)[i] = (int8_t)(q > 127 ? 127 : q < -128 ? -128 : q);
        }
        break;
    }
    case T_DEQUANT_S8: { /* y = (float)(q - zp) * scale, one float32 multiply */
        float sc = t_scale(m, tin);
        int32_t zp = (int32_t)rd32((const uint8_t *)param(m, r, 0));
        for (uint32_t i = 0; i < n_in; i++) ((float *)y)[i] = (float)((int32_t)((const int8_t *)x)[i] - zp) * sc;
        break;
    }
    case T_FC_S8: {
        const int32_t *rq = (const int32_t *)param(m, r, 2), *q8 = (const int32_t *)param(m, r, 3);
        uint32_t c_n = param_len(r, 2) / 8u;
        uint32_t per_channel = c_n == n_out && n_out > 1u;
        st = eh_fc_s8(n_in, n_out, (const int8_t *)x, q8[0], (const int8_t *)param(m, r, 0), (const int32_t *)param(m, r, 1),
                      rq, rq + c_n, per_channel, q8[1], (int8_t *)y);
        for (uint32_t o = 0; o < n_out && st == EH_OK; o++) { /* fused activation (RELU, RELU6...) */
            int8_t *yo = (int8_t *)y + o;
            if (*yo < q8[2]) *yo = (int8_t)q8[2];
            if (*yo > q8[3]) *yo = (int8_t)q8[3];
        }
        break;
    }
    case T_FC_B1_F32:
        st = eh_fc_b1_f32(n_in, n_out, (const uint32_t *)x, (const uint32_t *)param(m, r, 0), (const float *)param(m, r, 1),
                          (const float *)param(m, r, 2), (float *)y);
        break;
    case T_FC_B1_BITS:
        st = eh_fc_b1_bits(n_in, n_out, (const uint32_t *)x, (const uint32_t *)param(m, r, 0), (const int32_t *)param(m, r, 1),
                           (uint32_t *)y);
        break;
    case T_PACK_SPIKES_B1: st = eh_pack_spikes_b1(n_in, (const uint8_t *)x, (uint32_t *)y); break;
    case T_PACK_SIGNS_B1: {
        uint32_t dt = t_dt(m, tin);
        if (dt == EH_MODEL_DT_S8) {
            st = eh_pack_signs_b1(n_in, (const int8_t *)x, (uint32_t *)y);
        } else { /* q15 / f32: bit = (v < 0), padding bits 0 (NaN is not < 0: +1) */
            uint32_t *yw = (uint32_t *)y;
            memset(yw, 0, 4u * ((n_in + 31u) / 32u));
            for (uint32_t i = 0; i < n_in; i++) {
                int neg = dt == Q15 ? ((const int16_t *)x)[i] < 0 : ((const float *)x)[i] < 0.0f;
                if (neg) yw[i >> 5] |= 1u << (i & 31u);
            }
        }
        break;
    }
    case T_CONV1D_B1_BITS:
    case T_CONV1D_B1_F32:
    case T_CONV1D_B1_S32:
    case T_CONV1D_B1_S8: {
        /* streaming: the window holds the last taps frames, oldest first; shift in the new one and
         * compute one output frame (t_in = taps, stride 1, no padding) */
        uint32_t W = (n_in + 31u) / 32u, taps = t_n(m, rd16(r + 8)) / W;
        uint32_t *win = (uint32_t *)s0;
        const uint32_t *w = (const uint32_t *)param(m, r, 0);
        eh_conv1d_b1_dims d;
        memmove(win, win + W, 4u * W * (taps - 1u));
        memcpy(win + W * (taps - 1u), x, 4u * W);
        d.n_in = n_in; d.t_in = taps; d.n_out = n_out; d.taps = taps; d.stride = 1; d.pad = 0; d.t_out = 1;
        if (code == T_CONV1D_B1_BITS) st = eh_conv1d_b1_bits(&d, win, w, (const int32_t *)param(m, r, 1), (uint32_t *)y);
        else if (code == T_CONV1D_B1_F32)
            st = eh_conv1d_b1_f32(&d, win, w, (const float *)param(m, r, 1), (const float *)param(m, r, 2), (float *)y);
        else if (code == T_CONV1D_B1_S32) st = eh_conv1d_b1_s32(&d, win, w, (int32_t *)y);
        else st = eh_conv1d_b1_s8(&d, win, w, (const int32_t *)param(m, r, 1), (const int32_t *)param(m, r, 2), shift, (int8_t *)y);
        break;
    }
    case T_MST_FC_B1_F32:
    case T_MST_FC_B1_BITS: {
        /* dot products in node order into the scratch, then the output stage in channel order */
        eh_mst_b1 lay;
        const uint32_t *chan;
        const int32_t *dot = (const int32_t *)s0;
        mst_layout(m, r, &lay, &chan);
        eh_mst_fc_b1_unchecked(&lay, (const uint32_t *)x, (uint8_t *)((int32_t *)s0 + n_out), (int32_t *)s0);
        if (code == T_MST_FC_B1_F32) {
            const float *aff = (const float *)param(m, r, 3);
            for (uint32_t p = 0; p < n_out; p++) {
                uint32_t c = chan[p];
                float t = (float)dot[p] * aff[c];
                ((float *)y)[c] = t + aff[n_out + c];
            }
        } else {
            const int32_t *thr = (const int32_t *)param(m, r, 3);
            uint32_t *yw = (uint32_t *)y;
            memset(yw, 0, 4u * ((n_out + 31u) / 32u));
            for (uint32_t p = 0; p < n_out; p++) {
                uint32_t c = chan[p];
                if (dot[p] < thr[c]) yw[c >> 5] |= 1u << (c & 31u);
            }
        }
        break;
    }
    case T_SHIFTADD_FC_Q15:
        st = eh_shiftadd_fc_q15(n_in, n_out, (const int16_t *)x, (const uint8_t *)param(m, r, 0), (const int32_t *)param(m, r, 1),
                                shift, (int16_t *)y);
        break;
    case T_BCQ_FC_Q15: {
        uint32_t q = param_len(r, 0) / n_out;
        st = eh_bcq_fc_q15(n_in, n_out, q, (const int16_t *)x, (const uint32_t *)param(m, r, 1), (const int8_t *)param(m, r, 0),
                           (const int32_t *)param(m, r, 2), shift, (int32_t *)s0, t_n(m, rd16(r + 8)), (int16_t *)y);
        break;
    }
    case T_L2MU_Q15: st = run_l2mu(m, r, (const int16_t *)x, (int16_t *)y, (int16_t *)s0, (uint8_t *)s1, (int16_t *)s2, 0); break;
    default: return fail(m, EH_MODEL_E_UNSUPPORTED, "layer %u: type %u not supported", l, code);
    }
    if (st != EH_OK) {
        int32_t rc = fail(m, EH_MODEL_E_KERNEL, "layer %u (%s): kernel returned %s", l, SPECS[code].name, eh_status_str(st));
        m->loaded = 1; /* the model stays usable */
        return rc;
    }
    return EH_MODEL_OK;
}

int32_t eh_model_step(eh_model *m, const uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_cap, uint32_t *out_len)
{
    if (!m) return EH_MODEL_E_NULL;
    if (!m->loaded) return EH_MODEL_E_NOT_LOADED;
    if (!in || !out || !out_len) {
        fail(m, EH_MODEL_E_NULL, "step: NULL input, output or out_len");
        m->loaded = 1;
        return EH_MODEL_E_NULL;
    }
    if (in_len != m->input_bytes || out_cap < m->output_bytes) {
        fail(m, EH_MODEL_E_IO, "step: input %u bytes (model takes %u), output room %u (model gives %u)", in_len,
             m->input_bytes, out_cap, m->output_bytes);
        m->loaded = 1;
        return EH_MODEL_E_IO;
    }
    if (t_dt(m, m->input_tensor) == EH_MODEL_DT_SPIKE) {
        for (uint32_t i = 0; i < in_len; i++)
            if (in[i] > 1) {
                fail(m, EH_MODEL_E_IO, "step: input spike %u is %u, not 0 or 1", i, (uint32_t)in[i]);
                m->loaded = 1;
                return EH_MODEL_E_IO;
            }
    }
    memcpy(t_ptr(m, m->input_tensor), in, in_len);
    for (uint32_t l = 0; l < m->n_layers; l++) {
        int32_t rc = run_layer(m, l);
        if (rc) return rc;
    }
    memcpy(out, t_ptr(m, m->output_tensor), m->output_bytes);
    *out_len = m->output_bytes;
    m->steps++;
    return EH_MODEL_OK;
}

int32_t eh_model_layer_output(const eh_model *m, uint32_t layer, const uint8_t **data, uint32_t *len, uint8_t *dtype)
{
    uint32_t t, o, s;
    if (!m || !data || !len || !dtype) return EH_MODEL_E_NULL;
    if (!m->loaded) return EH_MODEL_E_NOT_LOADED;
    if (layer >= m->n_layers) return EH_MODEL_E_IO;
    t = rd16(lrec(m, layer) + 6);
    o = t_off(m, t);
    s = t_size(m, t);
    /* reused later in the step? any tensor written by a later layer that shares bytes */
    for (uint32_t u = 0; u < m->n_tensors; u++) {
        if (u == t || m->first[u] < 2 || (uint32_t)m->first[u] - 2 <= layer) continue;
        if (t_off(m, u) < o + s && o < t_off(m, u) + t_size(m, u)) return EH_MODEL_E_CLOBBERED;
    }
    *data = m->arena + o;
    *len = s;
    *dtype = (uint8_t)t_dt(m, t);
    return EH_MODEL_OK;
}

const char *eh_model_status_str(int32_t status)
{
    static const char *const names[] = {"ok", "null", "length", "magic", "version", "crc", "hash", "header",
                                        "count", "layout", "tensor", "layer", "param", "graph", "arena",
                                        "overlap", "unsupported", "align", "not loaded", "io", "kernel",
                                        "clobbered"};
    if (status > 0 || status < EH_MODEL_E_CLOBBERED) return "unknown";
    return names[-status];
}
