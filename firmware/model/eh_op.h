/*
 * The operators of the .ehm interpreter (private to firmware/model; TFLM's kernel registration).
 *
 * The interpreter core (eh_model.c) loads the header and the tensor records, walks the layer
 * table and checks the graph, the lifetimes and the memory plan; it never names an operator.
 * Everything that depends on a layer type lives in one operator file, ops/eh_op_<op>.c: one
 * `eh_op` per layer type it implements (the dtype variants of one operator share a file, as
 * TFLM's fully_connected.cc does), exported as one array, its registration. eh_op_table.c maps the
 * layer type codes to them. An eh_op holds:
 *   - its spec: input/output dtypes and kinds, state slots, the parameters (kind, entry size,
 *     value check, name) and the record fields it uses (reset, leak bits, shift);
 *   - its load-time checks, as hooks the core calls at fixed places of the order that
 *     edgehost.blob.read() follows (docs/model-format.md), with the same messages;
 *   - its step (no checks: everything was checked at load).
 * Adding an operator: one file under ops/, its lines in eh_op_table.c, and the Python side.
 *
 * The order of the checks of one layer (eh_model.c, check_layer): the record fields (reserved,
 * reset, leak bits, shift), the tensor ids, the unused state slots, the input dtype, the output
 * dtype and kind, n_in, input2 (dtype, elements), check_io, n_out, same_n, n_out_one, max_n_in,
 * the state tensors (check_states, or the generic rule), the parameters k = 0..3 (unused slots,
 * absent, place, alignment, length, then check_param, then the generic count and values),
 * check_post, the dataflow.
 */
#ifndef EH_OP_H
#define EH_OP_H

#include <stdint.h>
#include <string.h>

#include "eh_common.h"
#include "eh_conv2d.h"
#include "eh_lif.h"
#include "eh_model.h"

#define EH_HDR 64u
#define EH_LREC 64u
#define EH_TREC 32u
#define EH_NONE_ID 0xFFFFu
#define EH_MAX_ELEMS (1u << 24)
#define EH_F32_MAX 3.402823466e+38f
#define EH_OP_CODES 64u /* layer type codes 0 .. 63 (0 and the gaps: unknown) */

/* dtype codes, short */
#define DT_F32 EH_MODEL_DT_F32
#define DT_Q15 EH_MODEL_DT_Q15
#define DT_SPK EH_MODEL_DT_SPIKE
#define DT_S8 EH_MODEL_DT_S8
#define DT_S32 EH_MODEL_DT_S32
#define DT_U16 EH_MODEL_DT_U16
#define DT_U32 EH_MODEL_DT_U32
#define DT_B1 EH_MODEL_DT_B1

/* Parameter kinds. The core checks the count and the values of the generic kinds; a parameter of
 * kind P_OP is the operator's own: its check_param hook checks its count and its values. */
enum {
    P_NONE,
    P_W,    /* entries n_out x n_in ("expected %u") */
    P_BIAS, /* entries n_out; may be absent */
    P_VEC,  /* entries n_out */
    P_PN,   /* entries 1 or n_out */
    P_LEAK, /* a Q15 leak, 1 or n_out entries: u16 decay in [0, 32768], or (leak bit) u8 shift in [1, 15] */
    P_OP
};
/* Value checks of the generic kinds (and of eh_op_check_values). */
enum { C_NONE, C_FINITE, C_UNIT, C_POS, C_THR15, C_THRB1 };
/* May the parameter be absent (length 0)? */
enum { ABS_NO, ABS_OK, ABS_IF /* when bit k of eh_check.absent_ok is set (by an earlier check_param) */ };

typedef struct {
    uint8_t kind, elsize, check, absent; /* elsize 0: the leak kind (1 or 2 bytes by the leak bits) */
    const char *name;
} eh_pspec;

struct eh_op;

/* One layer under check (eh_model_load). */
typedef struct {
    eh_model *m;
    const struct eh_op *op;
    const uint8_t *r; /* the layer record */
    const char *nm;   /* the layer type's name */
    uint32_t l, reset, leak_bits, shift;
    uint32_t tin, tin2, tout, st[3];
    uint32_t n_in, n_out;
    uint32_t W;                  /* ceil(n_in / 32): words of a b1 input */
    uint32_t weights_off, total; /* the weight section */
    uint32_t absent_ok;          /* bit k: parameter k may be absent (ABS_IF) */
    uint32_t thr_lim;            /* C_THRB1 values in [-thr_lim, thr_lim + 1]: n_in (check_states may change it) */
    const uint8_t *p[4];         /* the parameters checked so far (NULL: absent or not yet) */
    uint32_t cnt[4];             /* and their entries */
    uint32_t aux[2];             /* the operator's own values between its hooks */
} eh_check;

/* One layer at a step: the record and its tensors in the arena. */
typedef struct {
    const uint8_t *r;
    const void *x; /* input */
    void *y;       /* output */
    void *s[3];    /* state slots (only the spec's n_states) */
    uint32_t n_in, n_out;
} eh_args;

typedef struct eh_op {
    uint8_t code;         /* the layer type code (its index in eh_op_table) */
    const char *name;
    uint8_t in_dt[3];     /* allowed input dtypes (0 = none); all 0: any dtype */
    uint8_t in2_dt;       /* dtype of input2 (record offset 14); 0 = no second input */
    uint8_t out_dt;       /* 0: the input's dtype */
    uint8_t out_state;    /* the output tensor is a state tensor */
    uint8_t out_early;    /* layers anywhere in the schedule may read the output (before this layer:
                           * the previous step's value); format 1.5's delay */
    uint8_t same_n;       /* n_in == n_out */
    uint8_t n_out_one;    /* n_out == 1 */
    uint8_t n_states;     /* state slots used */
    uint8_t state_dt;     /* their dtype (generic rule: state tensors of n_out elements) */
    uint8_t scratch;      /* the last state slot is a scratch (an activation of this layer only);
                           * the states are checked by check_post, after the parameters */
    uint8_t reset_max;    /* largest valid reset byte */
    uint8_t leaks;        /* leak bits used */
    uint8_t shift_max;    /* largest valid shift */
    uint32_t max_n_in;    /* 0: no limit */
    uint8_t n_params;
    eh_pspec p[4];
    /* load-time hooks (NULL: none); each returns EH_MODEL_OK or eh_op_fail(...) */
    int32_t (*check_io)(eh_check *c);     /* after the input2 checks */
    int32_t (*check_states)(eh_check *c); /* instead of the generic state rule */
    int32_t (*check_param)(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt); /* every present param */
    int32_t (*check_post)(eh_check *c);   /* after the parameters */
    eh_status (*step)(eh_model *m, const eh_args *a);
} eh_op;

/* the table (eh_op_table.c): NULL for unknown codes */
extern const eh_op *const eh_op_table[EH_OP_CODES];

/* ---- little-endian field access --------------------------------------------------------------- */
static inline uint32_t rd8(const uint8_t *p) { return p[0]; }
static inline uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline float rdf32(const uint8_t *p)
{
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- records and tensors (valid after the header checks) ------------------------------------- */
static inline const uint8_t *lrec(const eh_model *m, uint32_t l) { return m->blob + EH_HDR + EH_LREC * l; }
static inline const uint8_t *trec(const eh_model *m, uint32_t t)
{
    return m->blob + EH_HDR + EH_LREC * m->n_layers + EH_TREC * t;
}
static inline uint32_t t_dt(const eh_model *m, uint32_t t) { return rd8(trec(m, t)); }
static inline uint32_t t_kind(const eh_model *m, uint32_t t) { return rd8(trec(m, t) + 1); }
static inline uint32_t t_off(const eh_model *m, uint32_t t) { return rd32(trec(m, t) + 4); }
static inline uint32_t t_size(const eh_model *m, uint32_t t) { return rd32(trec(m, t) + 8); }
static inline uint32_t t_n(const eh_model *m, uint32_t t)
{
    const uint8_t *r = trec(m, t);
    uint32_t n = 1, ndim = rd8(r + 2);
    for (uint32_t k = 0; k < ndim; k++) n *= rd32(r + 12 + 4 * k);
    return n;
}
static inline float t_scale(const eh_model *m, uint32_t t) { return rdf32(trec(m, t) + 28); }
static inline void *t_ptr(const eh_model *m, uint32_t t) { return m->arena + t_off(m, t); }

/* parameter k of a layer record at a step (NULL when absent) and its length in bytes */
static inline const void *param(const eh_model *m, const uint8_t *r, uint32_t k)
{
    uint32_t len = rd32(r + 36 + 8 * k);
    return len ? (const void *)(m->blob + rd32(r + 32 + 8 * k)) : (const void *)0;
}
static inline uint32_t param_len(const uint8_t *r, uint32_t k) { return rd32(r + 36 + 8 * k); }

/* the Q15 leak of parameter k (shift_kind: the parameter's leak bit) */
static inline void leak_of(const eh_model *m, const uint8_t *r, uint32_t k, uint32_t shift_kind, eh_leak_q15 *lk)
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

/* ---- shared helpers (eh_op_util.c) ------------------------------------------------------------ */
extern const char *const eh_op_dt_names[9];
/* bytes of a tensor of n elements of dtype dt (b1: ceil(n / 32) words) */
uint32_t eh_op_dt_bytes(uint32_t dt, uint32_t n);
/* The error message without printf: %s, %u (uint32_t), %d (int32_t), %x (uint32_t, hex),
 * %U (uint64_t), %g (double, as C's and Python's "%g"). Unloads the model; returns code. */
int32_t eh_op_fail(eh_model *m, int32_t code, const char *fmt, ...);
/* The value checks of the generic kinds on cnt entries at p (leak_shift: the parameter's leak
 * bit; lim: the C_THRB1 bound, entries in [-lim, lim + 1]): "layer L (name): param k (pname):
 * entry i ..." */
int32_t eh_op_check_values(eh_check *c, uint32_t k, const eh_pspec *ps, uint32_t leak_shift, const uint8_t *p,
                           uint32_t cnt, uint32_t lim);
/* A scratch state slot k: an s32 activation tensor of `want` elements. */
int32_t eh_op_check_scratch(eh_check *c, uint32_t k, uint32_t want);

/* ---- the 2-D geometry parameters (eh_op_util.c) ------------------------------------------------ */
/* param 0 "geom" u32[15] of the 2-D convolutions (conv2d_*, conv2d_s8): its rules in order, then
 * c_in h_in w_in = n_in and c_out h_out w_out = n_out ("layer L (name): param 0 (geom): ...") */
int32_t eh_op_conv2d_check_geom(eh_check *c, const uint8_t *p, uint32_t cnt);
void eh_op_conv2d_dims_of(const uint8_t *g, eh_conv2d_dims *d);
/* param 0 "geom" u32[11] of the 2-D poolings (sumpool2d_*, avgpool2d_*, maxpool2d_s8, avgpool2d_s8) */
int32_t eh_op_pool2d_check_geom(eh_check *c, const uint8_t *p, uint32_t cnt);
void eh_op_pool2d_dims_of(const uint8_t *g, eh_pool2d_dims *d);

/* ---- the reset options of the spiking layers (eh_op_util.c; used by ops/eh_op_lif.c, eh_op_cubalif.c) */
/* check_param: the last parameter (v_reset) only with reset 3 */
int32_t eh_op_lif_check_v_reset(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt);
/* same-step reset after the kernel: every neuron i with s[i] set gets v - threshold (parameter
 * k_thr) or v_reset (parameter k_thr + 1; absent: 0), by bit 0 of the record's reset */
void eh_op_lif_reset_f32(const eh_model *m, const uint8_t *r, uint32_t n, float *v, const uint8_t *s, uint32_t k_thr);
void eh_op_lif_reset_q15(const eh_model *m, const uint8_t *r, uint32_t n, int16_t *v, const uint8_t *s, uint32_t k_thr);

#endif /* EH_OP_H */
