/*
 * libFuzzer target of the model loader: load any input, and when it loads run a few steps on a
 * zero input. The first input byte picks a mode: bit 0 set = repair the model hash and the CRC
 * after the mutation (so that mutations reach the checks behind the CRC); the blob is the rest.
 * Built by firmware/model/CMakeLists.txt (clang only) and bench/fuzz/run.sh:
 *   clang -fsanitize=fuzzer,address,undefined ...
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eh_model.h"

static eh_model model;
static uint8_t arena[1u << 16];
static uint8_t io_in[1u << 14], io_out[1u << 14];

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void repair(uint8_t *b, uint32_t n)
{
    uint32_t total, h = 2166136261u, c = 0xFFFFFFFFu;
    if (n < 64) return;
    total = rd32(b + 12);
    if (total < 24 || total > n) return;
    for (uint32_t i = 24; i < total; i++) h = (h ^ b[i]) * 16777619u;
    wr32(b + 20, h);
    for (uint32_t i = 20; i < total; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    wr32(b + 16, ~c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *blob;
    uint32_t out_len, n;
    if (size < 1 || size > (1u << 20)) return 0;
    n = (uint32_t)size - 1u;
    blob = malloc(n ? n : 1); /* exact size (and 16-aligned) so ASan sees any over-read */
    if (!blob) return 0;
    memcpy(blob, data + 1, n);
    if (data[0] & 1u) repair(blob, n);
    if (eh_model_load(&model, blob, n, arena, sizeof arena) == 0) {
        uint32_t ib = eh_model_input_bytes(&model);
        if (ib <= sizeof io_in && eh_model_output_bytes(&model) <= sizeof io_out) {
            for (uint32_t i = 0; i < ib; i++) io_in[i] = (uint8_t)(i * 37u + 11u);
            for (int s = 0; s < 3; s++) {
                /* a float input can be anything: NaN, inf; spikes must be 0/1 */
                int32_t rc = eh_model_step(&model, io_in, ib, io_out, sizeof io_out, &out_len);
                if (rc != 0 && rc != EH_MODEL_E_IO) abort();
            }
        }
    }
    free(blob);
    return 0;
}
