/*
 * The model loader and interpreter on a blob built here byte by byte (fc_f32 2->3, relu_f32),
 * under ASan+UBSan: results, every API error path, truncations and single-byte corruptions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eh_model.h"
#include "eh_test.h"

#define TOTAL 328u

static uint32_t crc_ref(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t fnv_ref(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) { h ^= p[i]; h *= 16777619u; }
    return h;
}

static void w16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { w16(p, v & 0xFFFFu); w16(p + 2, v >> 16); }
static void wf(uint8_t *p, float f) { uint32_t u; memcpy(&u, &f, 4); w32(p, u); }

static void seal(uint8_t *b)
{
    w32(b + 20, fnv_ref(b + 24, TOTAL - 24));
    w32(b + 16, crc_ref(b + 20, TOTAL - 20));
}

static void tensor(uint8_t *r, uint32_t off, uint32_t n)
{
    r[0] = EH_MODEL_DT_F32; r[1] = 0; r[2] = 1; r[3] = 0;
    w32(r + 4, off); w32(r + 8, 4 * n); w32(r + 12, n); wf(r + 28, 1.0f);
}

static void make_blob(uint8_t *b)
{
    const float w[6] = {1, 2, 3, 4, -1, 0}, bias[3] = {0.5f, 0, 0};
    memset(b, 0, TOTAL);
    memcpy(b, "EHMB", 4);
    w16(b + 4, 1); w16(b + 6, 0); w32(b + 12, TOTAL);
    w16(b + 24, 2); w16(b + 26, 3); w16(b + 28, 0); w16(b + 30, 2);
    w32(b + 32, 64); w32(b + 36, 192); w32(b + 40, 288); w32(b + 44, TOTAL - 288); w32(b + 48, 32);
    /* layer 0: fc_f32 t0 -> t1 */
    b[64] = 3; w16(b + 68, 0); w16(b + 70, 1); w16(b + 72, 0xFFFF); w16(b + 74, 0xFFFF); w16(b + 76, 0xFFFF);
    w32(b + 80, 2); w32(b + 84, 3);
    w32(b + 96, 288); w32(b + 100, 24); w32(b + 104, 312); w32(b + 108, 12);
    /* layer 1: relu_f32 t1 -> t2 */
    b[128] = 12; w16(b + 132, 1); w16(b + 134, 2); w16(b + 136, 0xFFFF); w16(b + 138, 0xFFFF); w16(b + 140, 0xFFFF);
    w32(b + 144, 3); w32(b + 148, 3);
    tensor(b + 192, 0, 2);
    tensor(b + 224, 8, 3);
    tensor(b + 256, 20, 3);
    for (int i = 0; i < 6; i++) wf(b + 288 + 4 * i, w[i]);
    for (int i = 0; i < 3; i++) wf(b + 312 + 4 * i, bias[i]);
    seal(b);
}

static eh_model m;

int main(void)
{
    uint32_t *blob_words = malloc(TOTAL + 8), *arena_words = malloc(36);
    uint8_t *blob = (uint8_t *)blob_words, *arena = (uint8_t *)arena_words;
    float x[2] = {2, 1}, y[3];
    uint32_t out_len = 0;
    const uint8_t *data;
    uint32_t len;
    uint8_t dt;
    EH_CHECK(blob && arena);
    make_blob(blob);

    EH_CHECK(eh_model_load(&m, blob, TOTAL, arena, 32) == 0);
    EH_CHECK(eh_model_arena_used(&m) == 32 && eh_model_input_bytes(&m) == 8 && eh_model_output_bytes(&m) == 12);
    EH_CHECK(eh_model_n_layers(&m) == 2 && eh_model_hash(&m) == fnv_ref(blob + 24, TOTAL - 24));
    EH_CHECK(eh_model_error(&m)[0] == 0);
    EH_CHECK(eh_model_step(&m, (const uint8_t *)x, 8, (uint8_t *)y, 12, &out_len) == 0 && out_len == 12);
    EH_CHECK(y[0] == 4.5f && y[1] == 10.0f && y[2] == 0.0f);
    EH_CHECK(eh_model_layer_output(&m, 0, &data, &len, &dt) == 0 && len == 12 && dt == EH_MODEL_DT_F32);
    {
        float fc[3];
        memcpy(fc, data, 12);
        EH_CHECK(fc[0] == 4.5f && fc[1] == 10.0f && fc[2] == -2.0f);
    }
    EH_CHECK(eh_model_layer_output(&m, 2, &data, &len, &dt) == EH_MODEL_E_IO);
    EH_CHECK(eh_model_layer_output(&m, 0, NULL, &len, &dt) == EH_MODEL_E_NULL);
    EH_CHECK(eh_model_layer_type(&m, 1) == 12 && eh_model_layer_type(&m, 2) == 0);

    /* step argument errors keep the model loaded */
    EH_CHECK(eh_model_step(&m, (const uint8_t *)x, 4, (uint8_t *)y, 12, &out_len) == EH_MODEL_E_IO);
    EH_CHECK(strstr(eh_model_error(&m), "input 4 bytes (model takes 8)") != NULL);
    EH_CHECK(eh_model_step(&m, (const uint8_t *)x, 8, (uint8_t *)y, 8, &out_len) == EH_MODEL_E_IO);
    EH_CHECK(eh_model_step(&m, NULL, 8, (uint8_t *)y, 12, &out_len) == EH_MODEL_E_NULL);
    EH_CHECK(eh_model_step(&m, (const uint8_t *)x, 8, (uint8_t *)y, 12, &out_len) == 0);
    EH_CHECK(eh_model_reset_state(&m) == 0);
    for (int i = 0; i < 32; i++) EH_CHECK(arena[i] == 0);

    /* NULLs and alignment */
    EH_CHECK(eh_model_load(NULL, blob, TOTAL, arena, 32) == EH_MODEL_E_NULL);
    EH_CHECK(eh_model_error(NULL)[0] != 0 && eh_model_hash(NULL) == 0 && eh_model_arena_used(NULL) == 0);
    EH_CHECK(eh_model_reset_state(NULL) == EH_MODEL_E_NULL);
    EH_CHECK(eh_model_load(&m, NULL, TOTAL, arena, 32) == EH_MODEL_E_NULL);
    EH_CHECK(eh_model_load(&m, blob, TOTAL, NULL, 32) == EH_MODEL_E_NULL);
    EH_CHECK(eh_model_load(&m, blob, TOTAL, arena + 2, 30) == EH_MODEL_E_ALIGN);
    memmove(blob + 4, blob, TOTAL);
    EH_CHECK(eh_model_load(&m, blob + 4, TOTAL, arena, 32) == 0);   /* 4-aligned is enough */
    memmove(blob + 2, blob + 4, TOTAL);
    EH_CHECK(eh_model_load(&m, blob + 2, TOTAL, arena, 32) == EH_MODEL_E_ALIGN);
    EH_CHECK(strstr(eh_model_error(&m), "blob: buffer not 4-byte aligned") != NULL);
    make_blob(blob);

    /* the arena must hold the plan */
    EH_CHECK(eh_model_load(&m, blob, TOTAL, arena, 28) == EH_MODEL_E_ARENA);
    EH_CHECK(strcmp(eh_model_error(&m), "header: arena_size 32 > arena given (28)") == 0);
    EH_CHECK(eh_model_step(&m, (const uint8_t *)x, 8, (uint8_t *)y, 12, &out_len) == EH_MODEL_E_NOT_LOADED);
    EH_CHECK(eh_model_n_layers(&m) == 0);

    /* every truncation fails (exact-size heap copies: ASan sees any over-read) */
    for (uint32_t n = 0; n < TOTAL; n++) {
        uint8_t *c = malloc(n ? n : 1);
        EH_CHECK(c != NULL);
        memcpy(c, blob, n);
        EH_CHECK(eh_model_load(&m, c, n, arena, 32) < 0);
        EH_CHECK(eh_model_error(&m)[0] != 0);
        free(c);
    }
    /* every single-byte change fails: the CRC (or a header check before it) catches it */
    for (uint32_t i = 0; i < TOTAL; i++) {
        blob[i] ^= 0x5A;
        EH_CHECK(eh_model_load(&m, blob, TOTAL, arena, 32) < 0);
        blob[i] ^= 0x5A;
    }
    /* named fields after the CRC: a weight offset past the end, an overlapping plan */
    w32(blob + 96, TOTAL - 8);
    seal(blob);
    EH_CHECK(eh_model_load(&m, blob, TOTAL, arena, 32) == EH_MODEL_E_PARAM);
    EH_CHECK(strstr(eh_model_error(&m), "layer 0 (fc_f32): param 0 (weight): offset 0x140 + 24 outside the weight section") != NULL);
    make_blob(blob);
    w32(blob + 256 + 4, 12);   /* relu output over the fc output, both live at layer 1 */
    seal(blob);
    EH_CHECK(eh_model_load(&m, blob, TOTAL, arena, 32) == EH_MODEL_E_OVERLAP);
    EH_CHECK(strstr(eh_model_error(&m), "tensor 2: arena [0xc, +12) overlaps tensor 1 while both are live") != NULL);
    make_blob(blob);
    EH_CHECK(eh_model_load(&m, blob, TOTAL, arena, 32) == 0);
    EH_CHECK(strcmp(eh_model_status_str(EH_MODEL_E_OVERLAP), "overlap") == 0);
    free(blob_words);
    free(arena_words);
    EH_TEST_DONE();
}
