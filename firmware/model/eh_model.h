/*
 * The .ehm model loader and interpreter (format: docs/model-format.md, version 1.5).
 *
 * The blob stays in the caller's buffer: weights are used in place (the buffer must be 4-byte
 * aligned). Activations and per-layer state live in the caller's arena, planned at conversion
 * time; nothing is allocated. Every field of the blob is validated by eh_model_load() before
 * anything uses it; a failure leaves the model unloaded and eh_model_error() names the field.
 *
 * C99, no malloc, no libc beyond <stdint.h> and <string.h>; links the kernels of eh_kernels.
 */
#ifndef EH_MODEL_H
#define EH_MODEL_H

#include <stdint.h>

#include "eh_lmu.h"

#define EH_MODEL_VERSION_MAJOR 1
#define EH_MODEL_VERSION_MINOR 6 /* 1.1: the l2mu_q15 layer; 1.2: the int8 layers (input_s8, dequant_s8, fc_s8);
                                  * 1.3: lif_adapt_f32/_q15 (a second input); 1.4: conv1d_b1_*, mst_fc_b1_*,
                                  * shiftadd_fc_q15, bcq_fc_q15, pack_signs_b1; 1.5: graphs (add_f32/_q15,
                                  * delay), same-step resets and v_reset of lif_* / cubalif_*; 1.6: 2-D
                                  * convolutions and pooling, binary conv2d, int8 conv1d; the reset
                                  * values 4 (none) and 5 (snnTorch's same step) of lif_* / cubalif_* */
#define EH_MODEL_MAX_LAYERS 128
#define EH_MODEL_MAX_TENSORS 256
#define EH_MODEL_ERROR_LEN 160
/* L2MU layers whose kernel structs are kept between steps (about 450 bytes each); the others are
 * rebuilt from the blob at each step (same results, ~2,000 more instructions per step). */
#ifndef EH_MODEL_L2MU_CACHE
#define EH_MODEL_L2MU_CACHE 1
#endif

/* Return codes (0 = ok). */
enum {
    EH_MODEL_OK = 0,
    EH_MODEL_E_NULL = -1,        /* a required pointer is NULL */
    EH_MODEL_E_LENGTH = -2,      /* blob shorter than its header or its total_len */
    EH_MODEL_E_MAGIC = -3,
    EH_MODEL_E_VERSION = -4,
    EH_MODEL_E_CRC = -5,
    EH_MODEL_E_HASH = -6,
    EH_MODEL_E_HEADER = -7,      /* flags or reserved header bytes */
    EH_MODEL_E_COUNT = -8,       /* n_layers, n_tensors, input/output tensor ids */
    EH_MODEL_E_LAYOUT = -9,      /* section offsets and lengths */
    EH_MODEL_E_TENSOR = -10,     /* a tensor record */
    EH_MODEL_E_LAYER = -11,      /* a layer record: dtypes, kinds, sizes, fields */
    EH_MODEL_E_PARAM = -12,      /* a parameter: place, length or values */
    EH_MODEL_E_GRAPH = -13,      /* tensor ids, producers and consumers */
    EH_MODEL_E_ARENA = -14,      /* arena size or a tensor outside the arena */
    EH_MODEL_E_OVERLAP = -15,    /* two live tensors share arena bytes */
    EH_MODEL_E_UNSUPPORTED = -16,/* a layer type this build does not run */
    EH_MODEL_E_ALIGN = -17,      /* buffer, parameter or tensor alignment */
    EH_MODEL_E_NOT_LOADED = -18,
    EH_MODEL_E_IO = -19,         /* step input length or output capacity */
    EH_MODEL_E_KERNEL = -20,     /* a kernel rejected its arguments (cannot happen after load) */
    EH_MODEL_E_CLOBBERED = -21   /* layer_output: the tensor was reused by a later layer */
};

/* Tensor dtype codes (the `dtype` of eh_model_layer_output). */
enum {
    EH_MODEL_DT_F32 = 1, EH_MODEL_DT_Q15 = 2, EH_MODEL_DT_SPIKE = 3, EH_MODEL_DT_S8 = 4,
    EH_MODEL_DT_S32 = 5, EH_MODEL_DT_U16 = 6, EH_MODEL_DT_U32 = 7,
    EH_MODEL_DT_B1 = 8 /* bit-packed {-1, +1}: ceil(n / 32) uint32 words */
};

/* A loaded model. Plain data, meant to be a static; read it only through the functions. */
typedef struct eh_model {
    const uint8_t *blob;
    uint32_t blob_len;      /* total_len of the blob */
    uint8_t *arena;
    uint32_t arena_size;    /* given by the caller */
    uint32_t arena_used;    /* the blob's planned arena size */
    uint32_t hash;
    uint32_t n_layers;
    uint32_t n_tensors;
    uint32_t input_tensor;
    uint32_t output_tensor;
    uint32_t input_bytes;
    uint32_t output_bytes;
    uint32_t loaded;
    uint32_t steps;         /* steps since load or reset */
    /* lifetimes: writer + 1 (0 = the model input) and last reader + 1 of each tensor */
    uint8_t first[EH_MODEL_MAX_TENSORS];
    uint8_t last[EH_MODEL_MAX_TENSORS];
    /* bit t: tensor t is a layer's scratch (the l2mu kernel's working memory) */
    uint8_t scratch[EH_MODEL_MAX_TENSORS / 8];
    char error[EH_MODEL_ERROR_LEN];
#if EH_MODEL_L2MU_CACHE > 0
    /* The kernel structs of the first EH_MODEL_L2MU_CACHE L2MU layers, built at their first step
     * (they depend only on the blob and the arena, fixed while the model is loaded) instead of at
     * every step; `layer` is the layer record they were built from (0: empty). */
    struct {
        const uint8_t *layer;
        eh_l2mu_q15 cell;
        eh_l2mu_state_q15 state;
    } l2mu[EH_MODEL_L2MU_CACHE];
#endif
} eh_model;

/* Validate the blob and bind it to the arena. 0 ok, <0 an EH_MODEL_E_* code. */
int32_t eh_model_load(eh_model *m, const uint8_t *blob, uint32_t len, uint8_t *arena,
                      uint32_t arena_size);
/* The last failure: field and reason ("" when none). Never NULL (even for m == NULL). */
const char *eh_model_error(const eh_model *m);
uint32_t eh_model_hash(const eh_model *m);
uint32_t eh_model_arena_used(const eh_model *m);
uint32_t eh_model_input_bytes(const eh_model *m);
uint32_t eh_model_output_bytes(const eh_model *m);
uint32_t eh_model_n_layers(const eh_model *m);
/* Zero the whole arena (membranes, currents, last spikes, counters). */
int32_t eh_model_reset_state(eh_model *m);
/* One time step: in_len must be eh_model_input_bytes(); the output tensor is copied to out. */
int32_t eh_model_step(eh_model *m, const uint8_t *in, uint32_t in_len, uint8_t *out,
                      uint32_t out_cap, uint32_t *out_len);
/* The output tensor of a layer after the last step (EH_MODEL_E_CLOBBERED if a later layer
 * reused its bytes: plan without reuse to trace every layer). */
int32_t eh_model_layer_output(const eh_model *m, uint32_t layer, const uint8_t **data,
                              uint32_t *len, uint8_t *dtype);
/* Added helpers: the type code of a layer (0 if out of range), and a status name. */
uint32_t eh_model_layer_type(const eh_model *m, uint32_t layer);
const char *eh_model_status_str(int32_t status);

#endif /* EH_MODEL_H */
