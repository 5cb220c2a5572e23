/*
 * Host-only harness of the model loader and interpreter, for the Python tests and the fuzz
 * test (built with ASan+UBSan). Every blob is copied into a heap buffer of exactly its size and
 * the arena is a heap buffer of exactly the size given, so any out-of-bounds access is caught.
 *
 *   eh_model_tool check ARENA_BYTES < frames    frames: (uint32 LE length, bytes)*; one line per
 *                                               blob: "rc arena_used hash in_bytes out_bytes
 *                                               n_layers error"
 *   eh_model_tool run BLOB ARENA_BYTES < inputs  inputs: steps x input_bytes; per step writes the
 *                                               output, then per layer uint32 LE length (0xffffffff
 *                                               when clobbered), uint8 dtype and the bytes
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eh_model.h"

static eh_model model;

static uint8_t *read_all(FILE *f, uint32_t *len)
{
    size_t cap = 1 << 16, n = 0, k;
    uint8_t *buf = malloc(cap);
    if (!buf) return NULL;
    while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); return NULL; }
            buf = nb;
            cap *= 2;
        }
    }
    *len = (uint32_t)n;
    return buf;
}

static int check(uint32_t arena_size)
{
    uint8_t hdr[4];
    uint8_t *arena = malloc(arena_size ? arena_size : 1);
    if (!arena) return 2;
    while (fread(hdr, 1, 4, stdin) == 4) {
        uint32_t len = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8) | ((uint32_t)hdr[2] << 16) | ((uint32_t)hdr[3] << 24);
        uint8_t *blob = malloc(len ? len : 1);
        int32_t rc;
        if (!blob || fread(blob, 1, len, stdin) != len) { free(blob); free(arena); return 2; }
        rc = eh_model_load(&model, blob, len, arena, arena_size);
        printf("%d %u %u %u %u %u %s\n", (int)rc, (unsigned)eh_model_arena_used(&model),
               (unsigned)eh_model_hash(&model), (unsigned)eh_model_input_bytes(&model),
               (unsigned)eh_model_output_bytes(&model), (unsigned)eh_model_n_layers(&model),
               eh_model_error(&model));
        free(blob);
    }
    free(arena);
    return 0;
}

static void put32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, 4, stdout);
}

static int run(const char *path, uint32_t arena_size)
{
    FILE *f = fopen(path, "rb");
    uint32_t blen, ilen, out_len;
    uint8_t *file, *blob, *arena, *in, *out;
    int32_t rc;
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return 2; }
    file = read_all(f, &blen);
    fclose(f);
    if (!file) return 2;
    blob = malloc(blen ? blen : 1);
    arena = malloc(arena_size ? arena_size : 1);
    if (!blob || !arena) return 2;
    memcpy(blob, file, blen);
    free(file);
    rc = eh_model_load(&model, blob, blen, arena, arena_size);
    if (rc) { fprintf(stderr, "load: %d %s\n", (int)rc, eh_model_error(&model)); return 3; }
    in = read_all(stdin, &ilen);
    out = malloc(eh_model_output_bytes(&model));
    if (!in || !out) return 2;
    for (uint32_t pos = 0; pos + eh_model_input_bytes(&model) <= ilen; pos += eh_model_input_bytes(&model)) {
        uint8_t *step_in = malloc(eh_model_input_bytes(&model));
        if (!step_in) return 2;
        memcpy(step_in, in + pos, eh_model_input_bytes(&model));
        rc = eh_model_step(&model, step_in, eh_model_input_bytes(&model), out, eh_model_output_bytes(&model), &out_len);
        free(step_in);
        if (rc) { fprintf(stderr, "step: %d %s\n", (int)rc, eh_model_error(&model)); return 4; }
        fwrite(out, 1, out_len, stdout);
        for (uint32_t l = 0; l < eh_model_n_layers(&model); l++) {
            const uint8_t *d;
            uint32_t n;
            uint8_t dt;
            rc = eh_model_layer_output(&model, l, &d, &n, &dt);
            if (rc == EH_MODEL_E_CLOBBERED) { put32(0xFFFFFFFFu); continue; }
            if (rc) return 5;
            put32(n);
            fwrite(&dt, 1, 1, stdout);
            fwrite(d, 1, n, stdout);
        }
    }
    free(in);
    free(out);
    free(blob);
    free(arena);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "check") == 0) return check((uint32_t)strtoul(argv[2], NULL, 0));
    if (argc == 4 && strcmp(argv[1], "run") == 0) return run(argv[2], (uint32_t)strtoul(argv[3], NULL, 0));
    fprintf(stderr, "usage: eh_model_tool check ARENA_BYTES < frames | run BLOB ARENA_BYTES < inputs\n");
    return 2;
}
