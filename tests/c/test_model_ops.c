/*
 * The operator table (every entry's code, name and spec) and the format-1.5 layers, under
 * ASan+UBSan, on blobs built here byte by byte: add_f32/add_q15 (fan-in), delay (a recurrent
 * edge read before the delay runs), the same-step resets and v_reset of lif_* / cubalif_*, with
 * their results (from the equations in docs/model-format.md) and their error messages; then every
 * single-byte change of each blob (hash and CRC repaired) through load and three steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eh_model.h"
#include "eh_op.h"
#include "eh_test.h"

/* ---- a blob writer ------------------------------------------------------------------------- */
typedef struct {
    uint8_t dt, kind;
    uint32_t n;
    float scale;
} tdesc;

typedef struct {
    uint8_t type, reset, leak;
    uint16_t in, out, st[3], in2;
    uint32_t n_in, n_out, shift;
    const void *p[4];
    uint32_t plen[4];
} ldesc;

#define CAP 4096u
#define NO 0xFFFFu

static void w16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { w16(p, v & 0xFFFFu); w16(p + 2, v >> 16); }
static uint32_t r32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint32_t crc_ref(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void seal(uint8_t *b)
{
    uint32_t total = r32(b + 12), h = 2166136261u;
    for (uint32_t i = 24; i < total; i++) { h ^= b[i]; h *= 16777619u; }
    w32(b + 20, h);
    w32(b + 16, crc_ref(b + 20, total - 20));
}

static uint32_t tbytes(const tdesc *t)
{
    static const uint32_t sz[9] = {0, 4, 2, 1, 1, 4, 2, 4, 4};
    return t->dt == EH_MODEL_DT_B1 ? 4u * ((t->n + 31u) / 32u) : t->n * sz[t->dt];
}

/* Tensors get their own bytes in order (no reuse). Returns the blob's length; *arena_size set. */
static uint32_t build(uint8_t *b, uint32_t minor, const ldesc *L, uint32_t nl, const tdesc *T, uint32_t nt, uint32_t in,
                      uint32_t out, uint32_t *arena_size)
{
    uint32_t toff = 64u + 64u * nl, woff = (toff + 32u * nt + 7u) & ~7u, pos = woff, a = 0;
    memset(b, 0, CAP);
    memcpy(b, "EHMB", 4);
    w16(b + 4, 1);
    w16(b + 6, minor);
    w16(b + 24, nl);
    w16(b + 26, nt);
    w16(b + 28, in);
    w16(b + 30, out);
    w32(b + 32, 64);
    w32(b + 36, toff);
    w32(b + 40, woff);
    for (uint32_t t = 0; t < nt; t++) {
        uint8_t *r = b + toff + 32u * t;
        r[0] = T[t].dt; r[1] = T[t].kind; r[2] = 1;
        w32(r + 4, a);
        w32(r + 8, tbytes(&T[t]));
        w32(r + 12, T[t].n);
        memcpy(r + 28, &T[t].scale, 4);
        a = (a + tbytes(&T[t]) + 3u) & ~3u;
    }
    for (uint32_t l = 0; l < nl; l++) {
        uint8_t *r = b + 64u + 64u * l;
        r[0] = L[l].type; r[1] = L[l].reset; r[2] = L[l].leak;
        w16(r + 4, L[l].in); w16(r + 6, L[l].out);
        for (int k = 0; k < 3; k++) w16(r + 8 + 2 * k, L[l].st[k]);
        w16(r + 14, L[l].in2);
        w32(r + 16, L[l].n_in); w32(r + 20, L[l].n_out); w32(r + 24, L[l].shift);
        for (int k = 0; k < 4; k++) {
            if (!L[l].plen[k]) continue;
            memcpy(b + pos, L[l].p[k], L[l].plen[k]);
            w32(r + 32 + 8 * k, pos);
            w32(r + 36 + 8 * k, L[l].plen[k]);
            pos = (pos + L[l].plen[k] + 7u) & ~7u;
        }
    }
    w32(b + 12, pos);
    w32(b + 44, pos - woff);
    w32(b + 48, a);
    *arena_size = a;
    seal(b);
    return pos;
}

static eh_model m;
static uint32_t blob_words[CAP / 4], arena_words[CAP / 4];
static uint8_t *const blob = (uint8_t *)blob_words;
static uint8_t *const arena = (uint8_t *)arena_words;

static int32_t load(uint32_t len, uint32_t arena_size) { return eh_model_load(&m, blob, len, arena, arena_size); }

static int expect_error(uint32_t len, uint32_t asz, int32_t code, const char *msg)
{
    int32_t rc = load(len, asz);
    if (rc != code || strcmp(eh_model_error(&m), msg) != 0) {
        fprintf(stderr, "expected %d '%s'\n     got %d '%s'\n", (int)code, msg, (int)rc, eh_model_error(&m));
        return 0;
    }
    return 1;
}

/* every single-byte change, hash and CRC repaired: no sanitizer report; when it loads, 3 steps */
static void mutate_all(uint32_t len)
{
    uint8_t *c = malloc(len), in[64], out[64]; /* exact size: ASan sees any over-read */
    EH_CHECK(c != NULL);
    if (!c) return;
    for (uint32_t i = 0; i < len; i++) {
        for (uint32_t v = 0; v < 4; v++) {
            static const uint8_t x[4] = {0x01, 0x80, 0xFF, 0x5A};
            uint32_t ib, out_len;
            memcpy(c, blob, len);
            c[i] ^= x[v];
            if (i >= 24) {
                uint32_t total = r32(c + 12);
                if (total >= 64 && total <= len) seal(c);
            }
            if (eh_model_load(&m, c, len, arena, sizeof arena_words) != 0) continue;
            ib = eh_model_input_bytes(&m);
            if (ib > sizeof in || eh_model_output_bytes(&m) > sizeof out) continue;
            for (uint32_t k = 0; k < ib; k++) in[k] = (uint8_t)(k * 37u + i);
            for (int s = 0; s < 3; s++) {
                int32_t rc = eh_model_step(&m, in, ib, out, sizeof out, &out_len);
                EH_CHECK(rc == 0 || rc == EH_MODEL_E_IO);
            }
        }
    }
    free(c);
}

/* ---- the table ------------------------------------------------------------------------------ */
static void test_table(void)
{
    uint32_t n = 0;
    for (uint32_t c = 0; c < EH_OP_CODES; c++) {
        const eh_op *op = eh_op_table[c];
        if (!op) continue;
        n++;
        EH_CHECK_EQ(op->code, c);
        EH_CHECK(op->name != NULL && op->step != NULL);
        EH_CHECK(op->n_params <= 4 && op->n_states <= 3);
        for (uint32_t k = 0; k < op->n_params; k++) EH_CHECK(op->p[k].name != NULL && op->p[k].kind != P_NONE);
        for (uint32_t d = c + 1; d < EH_OP_CODES; d++)
            if (eh_op_table[d]) EH_CHECK(strcmp(op->name, eh_op_table[d]->name) != 0);
    }
    {
        /* 1..55 are all there (44..47 and 52: the HAR baselines' layers; 53..55: the int8 2-D CNN
         * layers), 0 not; 56..63 (int8 conv1d, fc_spike_t_q15, spike unpacking, ...) are counted as
         * they register them */
        uint32_t other = 0;
        for (uint32_t c = 1; c <= 55; c++) EH_CHECK(eh_op_table[c] != NULL);
        EH_CHECK(eh_op_table[53] != NULL && strcmp(eh_op_table[53]->name, "conv2d_s8") == 0);
        EH_CHECK(eh_op_table[54] != NULL && strcmp(eh_op_table[54]->name, "maxpool2d_s8") == 0);
        EH_CHECK(eh_op_table[55] != NULL && strcmp(eh_op_table[55]->name, "avgpool2d_s8") == 0);
        EH_CHECK(eh_op_table[57] != NULL && strcmp(eh_op_table[57]->name, "fc_spike_t_q15") == 0);
        for (uint32_t c = 56; c < EH_OP_CODES; c++)
            if (eh_op_table[c]) other++;
        EH_CHECK(eh_op_table[0] == NULL);
        EH_CHECK_EQ(n, 55u + other);
    }
}

/* ---- add and delay ---------------------------------------------------------------------------- */
static void test_add_delay(void)
{
    /* t0 x f32[3] -> fc_f32 -> t1; add_f32(t0, t1) -> t2 */
    static const float w[9] = {1, 0, 0, 0, 2, 0, 0, 0, -1}, bias[3] = {0.5f, 0, 0};
    tdesc T[3] = {{EH_MODEL_DT_F32, 0, 3, 1}, {EH_MODEL_DT_F32, 0, 3, 1}, {EH_MODEL_DT_F32, 0, 3, 1}};
    ldesc L[2] = {{3, 0, 0, 0, 1, {NO, NO, NO}, 0, 3, 3, 0, {w, bias}, {36, 12}},
                  {23, 0, 0, 0, 2, {NO, NO, NO}, 1, 3, 3, 0, {0}, {0}}};
    uint32_t asz, len = build(blob, 5, L, 2, T, 3, 0, 2, &asz), ol;
    float x[3] = {1.5f, -2, 4}, y[3];
    EH_CHECK(load(len, asz) == 0);
    EH_CHECK(eh_model_step(&m, (const uint8_t *)x, 12, (uint8_t *)y, 12, &ol) == 0);
    EH_CHECK(y[0] == 1.5f + 2.0f && y[1] == -6.0f && y[2] == 0.0f);
    mutate_all(len);

    /* errors of add: input2 dtype, elements, reserved (input2 on a one-input layer) */
    T[1].dt = EH_MODEL_DT_Q15;
    L[0].type = 4; /* fc_q15 t0 (f32): input dtype first */
    len = build(blob, 5, L, 2, T, 3, 0, 2, &asz);
    EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 0 (fc_q15): input tensor 0 dtype f32, expected q15"));
    L[0].type = 3;
    T[1].dt = EH_MODEL_DT_F32;
    T[1].n = 4;
    L[0].n_out = 4;
    {
        static const float w12[12] = {0};
        static const float b4[4] = {0};
        L[0].p[0] = w12; L[0].plen[0] = 48; L[0].p[1] = b4; L[0].plen[1] = 16;
        len = build(blob, 5, L, 2, T, 3, 0, 2, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 1 (add_f32): n_in 3 but input2 tensor 1 has 4 elements"));
        L[0].p[0] = w; L[0].plen[0] = 36; L[0].p[1] = bias; L[0].plen[1] = 12;
    }
    T[1].n = 3;
    L[0].n_out = 3;

    /* add_q15: the same scale for input, input2 and output (the message prints them as %g) */
    {
        static const int16_t wq[9] = {16384, 0, 0, 0, 16384, 0, 0, 0, 16384};
        static const float off[1] = {0}, mul[1] = {1000};
        int16_t yq[3];
        tdesc Q[5] = {{EH_MODEL_DT_F32, 0, 3, 1}, {EH_MODEL_DT_Q15, 0, 3, 0.0013f}, {EH_MODEL_DT_Q15, 0, 3, 0.0013f},
                      {EH_MODEL_DT_Q15, 0, 3, 0.0013f}, {EH_MODEL_DT_Q15, 0, 3, 0.0013f}};
        ldesc QL[4] = {{1, 0, 0, 0, 1, {NO, NO, NO}, 0, 3, 3, 0, {off, mul}, {4, 4}},
                       {4, 0, 0, 1, 2, {NO, NO, NO}, 0, 3, 3, 15, {wq}, {18}},
                       {4, 0, 0, 2, 3, {NO, NO, NO}, 0, 3, 3, 14, {wq}, {18}},
                       {24, 0, 0, 2, 4, {NO, NO, NO}, 3, 3, 3, 0, {0}, {0}}};
        float xq[3] = {10, -20, 32};
        len = build(blob, 5, QL, 4, Q, 5, 0, 4, &asz);
        EH_CHECK(load(len, asz) == 0);
        /* q = x * 1000 = 10000, -20000, 32000; fc 0.5 (shift 15) = 5000 ...; fc again x0.5 << 1 = same */
        EH_CHECK(eh_model_step(&m, (const uint8_t *)xq, 12, (uint8_t *)yq, 6, &ol) == 0);
        EH_CHECK(yq[0] == 10000 && yq[1] == -20000 && yq[2] == 32000); /* 5000 + 5000 ...; 16000 + 16000 */
        xq[2] = 40; /* 32767 after quantising: 16384 + 16384 saturates to 32767 */
        EH_CHECK(eh_model_step(&m, (const uint8_t *)xq, 12, (uint8_t *)yq, 6, &ol) == 0);
        EH_CHECK(yq[2] == 32767);
        mutate_all(len);
        Q[3].scale = 0.0012f;
        len = build(blob, 5, QL, 4, Q, 5, 0, 4, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER,
                              "layer 3 (add_q15): input2 tensor 3 scale 0.0012 differs from input tensor 2 scale 0.0013"));
        Q[3].scale = 0.0013f;
        Q[4].scale = 1.0f / 3.0f;
        len = build(blob, 5, QL, 4, Q, 5, 0, 4, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER,
                              "layer 3 (add_q15): output tensor 4 scale 0.333333 differs from input tensor 2 scale 0.0013"));
        Q[4].scale = 0.0013f;
        Q[4].n = 2; /* add: n_out 2, then n_in 3 != n_out 2 */
        QL[3].n_out = 2;
        len = build(blob, 5, QL, 4, Q, 5, 0, 4, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 3 (add_q15): n_in 3 != n_out 2"));
    }

    /* delay: y_t = x_t + y_(t-1) (add reads the delay's output before the delay runs) */
    {
        tdesc D[3] = {{EH_MODEL_DT_F32, 0, 2, 1}, {EH_MODEL_DT_F32, 0, 2, 1}, {EH_MODEL_DT_F32, 1, 2, 1}};
        ldesc DL[2] = {{23, 0, 0, 0, 1, {NO, NO, NO}, 2, 2, 2, 0, {0}, {0}},
                       {25, 0, 0, 1, 2, {NO, NO, NO}, 0, 2, 2, 0, {0}, {0}}};
        float xd[2] = {1, -0.5f}, yd[2];
        const uint8_t *data;
        uint32_t dl;
        uint8_t dt;
        len = build(blob, 5, DL, 2, D, 3, 0, 1, &asz);
        EH_CHECK(load(len, asz) == 0);
        for (int s = 1; s <= 4; s++) {
            EH_CHECK(eh_model_step(&m, (const uint8_t *)xd, 8, (uint8_t *)yd, 8, &ol) == 0);
            EH_CHECK(yd[0] == (float)s && yd[1] == -0.5f * (float)s);
        }
        EH_CHECK(eh_model_layer_output(&m, 1, &data, &dl, &dt) == 0 && dl == 8 && dt == EH_MODEL_DT_F32);
        EH_CHECK(memcmp(data, yd, 8) == 0);
        EH_CHECK(eh_model_reset_state(&m) == 0);
        EH_CHECK(eh_model_step(&m, (const uint8_t *)xd, 8, (uint8_t *)yd, 8, &ol) == 0 && yd[0] == 1.0f);
        mutate_all(len);
        /* the delay's errors */
        D[2].dt = EH_MODEL_DT_Q15;
        len = build(blob, 5, DL, 2, D, 3, 0, 1, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 0 (add_f32): input2 tensor 2 dtype q15, expected f32"));
        D[2].dt = EH_MODEL_DT_F32;
        DL[0].in2 = 0; /* add reads x twice: the delay's output is then read by nobody */
        len = build(blob, 5, DL, 2, D, 3, 0, 1, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_GRAPH, "tensor 2: written by layer 1 but never read"));
        DL[0].in2 = 2;
        D[2].kind = 0;
        len = build(blob, 5, DL, 2, D, 3, 0, 1, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 1 (delay): output tensor 2 kind activation, expected state"));
        D[2].kind = 1;
        DL[1].type = 12; /* relu, not a delay: the add reads a tensor not written yet */
        D[2].kind = 0;
        len = build(blob, 5, DL, 2, D, 3, 0, 1, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_GRAPH,
                              "layer 0 (add_f32): input2 tensor 2 is not the model input nor written by an earlier layer"));
        D[2].kind = 1;
        DL[1].type = 25;
        len = build(blob, 4, DL, 2, D, 3, 0, 1, &asz); /* the loader does not tie layers to the minor */
        EH_CHECK(load(len, asz) == 0);
        len = build(blob, 7, DL, 2, D, 3, 0, 1, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_VERSION, "header: format version 1.7 not supported (this loader reads 1.0 to 1.6)"));
    }
    /* delay of spikes (any dtype) and the dtype rule */
    {
        static const float beta[1] = {0.5f}, thr[1] = {1.0f};
        tdesc S[4] = {{EH_MODEL_DT_F32, 0, 5, 1}, {EH_MODEL_DT_SPIKE, 1, 5, 1}, {EH_MODEL_DT_F32, 1, 5, 1},
                      {EH_MODEL_DT_SPIKE, 1, 5, 1}};
        ldesc SL[2] = {{6, 0, 0, 0, 1, {2, NO, NO}, 0, 5, 5, 0, {beta, thr}, {4, 4}},
                       {25, 0, 0, 1, 3, {NO, NO, NO}, 0, 5, 5, 0, {0}, {0}}};
        len = build(blob, 5, SL, 2, S, 4, 0, 3, &asz);
        EH_CHECK(load(len, asz) == 0);
        mutate_all(len);
        S[3].dt = EH_MODEL_DT_Q15;
        len = build(blob, 5, SL, 2, S, 4, 0, 3, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 1 (delay): output tensor 3 dtype q15, expected spike (the input's)"));
        S[3].dt = EH_MODEL_DT_SPIKE;
        S[3].n = 4;
        SL[1].n_out = 4;
        len = build(blob, 5, SL, 2, S, 4, 0, 3, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 1 (delay): n_in 5 != n_out 4"));
    }
}

/* ---- the reset options of lif / cubalif ------------------------------------------------------- */
/* f32 LIF (or CuBa with alpha) from the equations: v = beta v + x (cuba: i = alpha i + x, v = beta v + i);
 * s = v > thr; next-step (bit 1 clear): the reset of s_prev first; same-step: after the spike. */
static void lif_ref(int cuba, uint32_t reset, const float *vr, float alpha, float beta, float thr, const float *x, int steps,
                    float *v_out, uint8_t *s_out)
{
    float v = 0, i = 0;
    uint8_t s = 0;
    for (int t = 0; t < steps; t++) {
        float in = x[t];
        if (cuba) { i = alpha * i + x[t]; in = i; }
        if (!(reset & 2u) && s) v = (reset & 1u) ? 0.0f : beta * v + in - thr; /* lif zero keeps the input */
        else v = beta * v + in;
        if (!(reset & 2u) && s && (reset & 1u)) v = cuba ? 0.0f : in;
        s = v > thr;
        if ((reset & 2u) && s) v = (reset & 1u) ? (vr ? *vr : 0.0f) : v - thr;
        v_out[t] = v;
        s_out[t] = s;
    }
}

static void test_resets(void)
{
    static const float beta[1] = {0.5f}, alpha[1] = {0.5f}, thr[1] = {1.0f}, vres[1] = {-0.5f};
    static const float xs[6] = {0.75f, 0.75f, 0.75f, 0.75f, 3.0f, 0.25f};
    for (int cuba = 0; cuba < 2; cuba++) {
        for (uint32_t reset = 0; reset < 4; reset++) {
            for (int with_vr = 0; with_vr < 2; with_vr++) {
                tdesc T[4] = {{EH_MODEL_DT_F32, 0, 1, 1}, {EH_MODEL_DT_SPIKE, 1, 1, 1}, {EH_MODEL_DT_F32, 1, 1, 1},
                              {EH_MODEL_DT_F32, 1, 1, 1}};
                ldesc L[1] = {{cuba ? 8 : 6, (uint8_t)reset, 0, 0, 1, {2, cuba ? 3 : NO, NO}, 0, 1, 1, 0, {0}, {0}}};
                uint32_t asz, len, ol, kv = cuba ? 3u : 2u;
                float v_ref[6];
                uint8_t s_ref[6], y;
                if (cuba) {
                    L[0].p[0] = alpha; L[0].p[1] = beta; L[0].p[2] = thr;
                    L[0].plen[0] = L[0].plen[1] = L[0].plen[2] = 4;
                } else {
                    L[0].p[0] = beta; L[0].p[1] = thr;
                    L[0].plen[0] = L[0].plen[1] = 4;
                }
                if (with_vr) { L[0].p[kv] = vres; L[0].plen[kv] = 4; }
                len = build(blob, 5, L, 1, T, cuba ? 4 : 3, 0, 1, &asz);
                if (with_vr && reset != 3) {
                    char msg[160];
                    snprintf(msg, sizeof msg, "layer 0 (%s): param %u (v_reset): only with reset to a value in the same step (reset 3)",
                             cuba ? "cubalif_f32" : "lif_f32", (unsigned)kv);
                    EH_CHECK(expect_error(len, asz, EH_MODEL_E_PARAM, msg));
                    continue;
                }
                EH_CHECK(load(len, asz) == 0);
                lif_ref(cuba, reset, with_vr ? vres : NULL, 0.5f, 0.5f, 1.0f, xs, 6, v_ref, s_ref);
                for (int t = 0; t < 6; t++) {
                    float v;
                    EH_CHECK(eh_model_step(&m, (const uint8_t *)&xs[t], 4, &y, 1, &ol) == 0);
                    memcpy(&v, arena + (cuba ? 12 : 8), 4); /* the membrane: state 0 (lif) / state 1 (cuba) */
                    if (y != s_ref[t] || v != v_ref[t])
                        fprintf(stderr, "cuba %d reset %u vr %d t %d: s %u v %g, expected %u %g\n", cuba, (unsigned)reset, with_vr, t,
                                y, (double)v, s_ref[t], (double)v_ref[t]);
                    EH_CHECK(y == s_ref[t] && v == v_ref[t]);
                }
                if (reset == 3 && with_vr) mutate_all(len);
            }
        }
    }
    /* reset 6 (4 and 5 are the format-1.6 modes none / subtract-now) and lif_adapt's bit 1 */
    {
        tdesc T[3] = {{EH_MODEL_DT_F32, 0, 1, 1}, {EH_MODEL_DT_SPIKE, 1, 1, 1}, {EH_MODEL_DT_F32, 1, 1, 1}};
        ldesc L[1] = {{6, 6, 0, 0, 1, {2, NO, NO}, 0, 1, 1, 0, {beta, thr}, {4, 4}}};
        uint32_t asz, len = build(blob, 6, L, 1, T, 3, 0, 1, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 0 (lif_f32): reset 6 invalid"));
        static const float two[2] = {0, 0};
        L[0].reset = 3;
        L[0].p[2] = two; /* v_reset: 1 or n entries, finite */
        L[0].plen[2] = 8;
        len = build(blob, 5, L, 1, T, 3, 0, 1, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_PARAM, "layer 0 (lif_f32): param 2 (v_reset): 2 entries, expected 1 or 1"));
    }
    /* q15: lif_q15 and cubalif_q15, decay 0.5 (16384), thr 1000; sat16 and v_reset -300 */
    for (int cuba = 0; cuba < 2; cuba++) {
        for (uint32_t reset = 2; reset < 4; reset++) {
            static const uint16_t half[1] = {16384};
            static const int16_t thr_q[1] = {1000}, vr_q[1] = {-300};
            static const int16_t xq[6] = {750, 750, 750, 750, 32767, 250};
            tdesc T[4] = {{EH_MODEL_DT_Q15, 0, 1, 1}, {EH_MODEL_DT_SPIKE, 1, 1, 1}, {EH_MODEL_DT_Q15, 1, 1, 1},
                          {EH_MODEL_DT_Q15, 1, 1, 1}};
            ldesc L[1] = {{cuba ? 9 : 7, (uint8_t)reset, 0, 0, 1, {2, cuba ? 3 : NO, NO}, 0, 1, 1, 0, {0}, {0}}};
            uint32_t asz, len, ol;
            int32_t v = 0;
            uint8_t y;
            if (cuba) { /* syn_leak 0: i = x; mem_leak 0.5 */
                static const uint16_t zero[1] = {0};
                L[0].p[0] = zero; L[0].p[1] = half; L[0].p[2] = thr_q;
                L[0].plen[0] = L[0].plen[1] = L[0].plen[2] = 2;
                if (reset == 3) { L[0].p[3] = vr_q; L[0].plen[3] = 2; }
            } else {
                L[0].p[0] = half; L[0].p[1] = thr_q;
                L[0].plen[0] = L[0].plen[1] = 2;
                if (reset == 3) { L[0].p[2] = vr_q; L[0].plen[2] = 2; }
            }
            len = build(blob, 5, L, 1, T, cuba ? 4 : 3, 0, 1, &asz);
            EH_CHECK(load(len, asz) == 0);
            for (int t = 0; t < 6; t++) {
                int16_t vm;
                int32_t s;
                v = ((16384 * v + 16384) >> 15) + xq[t]; /* leak(v) + x (cuba: i = x) */
                if (v > 32767) v = 32767;
                s = v > 1000;
                if (s) v = reset == 3 ? -300 : v - 1000;
                EH_CHECK(eh_model_step(&m, (const uint8_t *)&xq[t], 2, &y, 1, &ol) == 0);
                memcpy(&vm, arena + (cuba ? 12 : 8), 2);
                EH_CHECK(y == (uint8_t)s && vm == v);
            }
            mutate_all(len);
        }
    }
}

/* ---- conv2d and pooling (format 1.6) ----------------------------------------------------------
 * spikes [1][4][5] -> conv2d_spike_q15 (2 channels, 3x3, stride (1, 2), pad (1, 1, 1, 0), bias, shift 1;
 * state 0 the s32 scratch) -> q15 [2][4][2] -> sumpool2d_q15 / avgpool2d_q15 2x2 stride 2 -> q15 [2][2][1] */
static void test_conv2d_pool(void)
{
    static const uint32_t geom[15] = {1, 4, 5, 2, 3, 3, 1, 2, 1, 1, 1, 0, 1, 1, 1};
    static const uint32_t pgeom[11] = {2, 4, 2, 2, 2, 2, 2, 0, 0, 0, 0};
    static const int32_t bias[2] = {-3, 1000};
    static int16_t w[18];
    uint8_t x[20];
    int16_t y[4], conv[2][4][2];
    tdesc T[4] = {{EH_MODEL_DT_SPIKE, 0, 20, 1}, {EH_MODEL_DT_Q15, 0, 16, 1}, {EH_MODEL_DT_S32, 0, 16, 1},
                  {EH_MODEL_DT_Q15, 0, 4, 1}};
    ldesc L[2] = {{28, 0, 0, 0, 1, {2, NO, NO}, 0, 20, 16, 1, {geom, w, bias}, {60, 36, 8}},
                  {30, 0, 0, 1, 3, {NO, NO, NO}, 0, 16, 4, 0, {pgeom}, {44}}};
    uint32_t asz, len, ol;
    for (int i = 0; i < 18; i++) w[i] = (int16_t)(i * 777 - 5000);
    for (int i = 0; i < 20; i++) x[i] = (uint8_t)((i * 7) % 3 == 0);
    /* the convolution from its definition, then the output stage sat16(rshift_round(acc, 1)) */
    for (int o = 0; o < 2; o++)
        for (int oy = 0; oy < 4; oy++)
            for (int ox = 0; ox < 2; ox++) {
                int64_t acc = bias[o];
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = oy - 1 + ky, ix = ox * 2 - 1 + kx;
                        if (iy >= 0 && iy < 4 && ix >= 0 && ix < 5) acc += (int64_t)w[o * 9 + ky * 3 + kx] * x[iy * 5 + ix];
                    }
                acc = (acc + 1) >> 1;
                conv[o][oy][ox] = (int16_t)(acc > 32767 ? 32767 : acc < -32768 ? -32768 : acc);
            }
    for (int pass = 0; pass < 2; pass++) {
        L[1].type = pass ? 50 : 30;
        len = build(blob, 6, L, 2, T, 4, 0, 3, &asz);
        EH_CHECK_EQ(load(len, asz), 0);
        EH_CHECK_EQ(eh_model_step(&m, x, 20, (uint8_t *)y, 8, &ol), 0);
        for (int o = 0; o < 2; o++)
            for (int py = 0; py < 2; py++) {
                int64_t s = (int64_t)conv[o][2 * py][0] + conv[o][2 * py][1] + conv[o][2 * py + 1][0] + conv[o][2 * py + 1][1];
                int64_t want = pass ? (2 * s + 4 >= 0 ? (2 * s + 4) / 8 : -((-(2 * s + 4) + 7) / 8)) : s;
                want = want > 32767 ? 32767 : want < -32768 ? -32768 : want;
                EH_CHECK_EQ(y[o * 2 + py], want);
            }
        mutate_all(len);
    }
    /* errors: a kernel larger than the padded input; an output size that does not match */
    {
        uint32_t g2[15];
        memcpy(g2, geom, sizeof g2);
        g2[4] = 7; /* k_h 7 > 4 + 1 + 1 */
        L[0].p[0] = g2;
        len = build(blob, 6, L, 2, T, 4, 0, 3, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_PARAM,
                              "layer 0 (conv2d_spike_q15): param 0 (geom): kernel span 7 x 3 larger than the padded input 6 x 6"));
        g2[4] = 3;
        g2[11] = 3; /* pad_right 3 >= the kernel's 3 columns */
        len = build(blob, 6, L, 2, T, 4, 0, 3, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_PARAM,
                              "layer 0 (conv2d_spike_q15): param 0 (geom): pad_right 3 outside [0, 2] (the kernel span - 1)"));
        memcpy(g2, geom, sizeof g2);
        g2[7] = 1; /* stride_w 1: 4 x 4 outputs per channel, n_out says 16 */
        len = build(blob, 6, L, 2, T, 4, 0, 3, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_PARAM,
                              "layer 0 (conv2d_spike_q15): param 0 (geom): output c_out x h_out x w_out = 2 x 4 x 4, n_out is 16"));
        L[0].p[0] = geom;
        L[1].type = 31; /* sumpool2d_spike_q15 on a q15 input */
        len = build(blob, 6, L, 2, T, 4, 0, 3, &asz);
        EH_CHECK(expect_error(len, asz, EH_MODEL_E_LAYER, "layer 1 (sumpool2d_spike_q15): input tensor 1 dtype q15, expected spike"));
        L[1].type = 30;
    }
}

int main(void)
{
    test_table();
    test_add_delay();
    test_resets();
    test_conv2d_pool();
    EH_TEST_DONE();
}
