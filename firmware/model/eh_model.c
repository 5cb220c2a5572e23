/*
 * .ehm loader and interpreter core. The checks run in the same order as edgehost.blob.read()
 * (Python), so both accept the same blobs and fail with the same code. See docs/model-format.md.
 *
 * This file never names an operator: it checks the header, the tensor records, the parts of a
 * layer record every layer type shares (driven by the layer type's eh_op spec), the graph, the
 * lifetimes and the memory plan, and walks the schedule at each step. Everything specific to a
 * layer type is in its operator file (ops/eh_op_*.c), found through eh_op_table (eh_op.h).
 */
#include "eh_model.h"

#include <string.h>

#include "eh_op.h"

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

/* first[]: 0 not written, 1 the model input, w + 2 written by layer w.
 * last[]:  0 never read, r + 1 last read by layer r (n_layers: after the last layer), 255 state slot.
 * delayed: bit t, tensor t is the output of a layer whose output any layer may read (out_early: the
 * delay of format 1.5), found from the type codes of the records before the layers are checked. */
#define SLOT 255u
#define BIT(a, t) (((a)[(t) >> 3] >> ((t) & 7u)) & 1u)
#define IS_SCRATCH(m, t) BIT((m)->scratch, t)

/* The parameters of a layer (k = 0..3), in order: unused slots, absent, place, alignment, length,
 * then the operator's check_param, then the count and the values of the generic kinds. */
static int32_t check_params(eh_check *c)
{
    eh_model *m = c->m;
    const eh_op *op = c->op;
    const uint8_t *r = c->r;
    const char *nm = c->nm;
    uint32_t l = c->l, n_in = c->n_in, n_out = c->n_out, leak_i = 0;
    for (uint32_t k = 0; k < 4; k++) {
        uint32_t off = rd32(r + 32 + 8 * k), len = rd32(r + 36 + 8 * k);
        const eh_pspec *ps = &op->p[k];
        uint32_t es = ps->elsize, leak_shift = 0, cnt, ok;
        const uint8_t *p;
        int32_t rc;
        if (k >= op->n_params) {
            if (off || len) return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u unused but offset/length not 0", l, nm, k);
            continue;
        }
        if (ps->kind == P_LEAK) {
            leak_shift = (c->leak_bits >> leak_i) & 1u;
            es = leak_shift ? 1u : 2u;
            leak_i++;
        }
        if (len == 0) {
            if (off)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): length 0 but offset 0x%x", l, nm, k, ps->name, off);
            if (ps->absent == ABS_NO || (ps->absent == ABS_IF && !((c->absent_ok >> k) & 1u)))
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): missing (length 0)", l, nm, k, ps->name);
            continue;
        }
        if (off < c->weights_off || off > c->total || len > c->total - off)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): offset 0x%x + %u outside the weight section [0x%x, 0x%x)",
                              l, nm, k, ps->name, off, len, c->weights_off, c->total);
        if (off % 4u)
            return eh_op_fail(m, EH_MODEL_E_ALIGN, "layer %u (%s): param %u (%s): offset 0x%x not a multiple of 4", l, nm, k, ps->name, off);
        if (len % es)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): length %u not a multiple of %u", l, nm, k, ps->name, len, es);
        cnt = len / es;
        p = m->blob + off;
        if (op->check_param) {
            rc = op->check_param(c, k, p, cnt);
            if (rc) return rc;
        }
        if (ps->kind != P_OP) {
            switch (ps->kind) {
            case P_W: ok = (uint64_t)cnt == (uint64_t)n_out * n_in; break;
            case P_BIAS:
            case P_VEC: ok = cnt == n_out; break;
            default: ok = cnt == 1 || cnt == n_out; break;
            }
            if (!ok) {
                if (ps->kind == P_W)
                    return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", l, nm, k, ps->name,
                                      cnt, n_out * n_in);
                if (ps->kind == P_BIAS)
                    return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u or 0", l, nm, k,
                                      ps->name, cnt, n_out);
                if (ps->kind == P_VEC)
                    return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", l, nm, k, ps->name,
                                      cnt, n_out);
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected 1 or %u", l, nm, k,
                                  ps->name, cnt, n_out);
            }
            rc = eh_op_check_values(c, k, ps, leak_shift, p, cnt, c->thr_lim);
            if (rc) return rc;
        }
        c->p[k] = p;
        c->cnt[k] = cnt;
    }
    return EH_MODEL_OK;
}

static int32_t check_layer(eh_model *m, uint32_t l, uint32_t weights_off, uint32_t total, const uint8_t *delayed)
{
    const uint8_t *r = lrec(m, l);
    uint32_t code = rd8(r), T = m->n_tensors, tin, tin2, tout, n_in, n_out;
    const eh_op *op = code < EH_OP_CODES ? eh_op_table[code] : 0;
    const uint32_t *st;
    const char *nm;
    eh_check c;
    int32_t rc;

#if defined(EH_OPS_SELECTED)
    /* a build with some operators left out (EH_OPS): the code may be one it lacks */
    if (!op) return eh_op_fail(m, EH_MODEL_E_UNSUPPORTED, "layer %u: type %u unknown or not built into this firmware "
                                          "(edgehost build --model M.ehm builds its operators)", l, code);
#else
    /* every operator is built: the same words as the Python loader */
    if (!op) return eh_op_fail(m, EH_MODEL_E_UNSUPPORTED, "layer %u: type %u unknown", l, code);
#endif
    memset(&c, 0, sizeof c);
    c.m = m;
    c.op = op;
    c.r = r;
    c.nm = nm = op->name;
    c.l = l;
    c.reset = rd8(r + 1);
    c.leak_bits = rd8(r + 2);
    c.tin = tin = rd16(r + 4);
    c.tout = tout = rd16(r + 6);
    for (uint32_t k = 0; k < 3; k++) c.st[k] = rd16(r + 8 + 2 * k);
    st = c.st;
    c.tin2 = tin2 = rd16(r + 14);
    c.n_in = n_in = rd32(r + 16);
    c.n_out = n_out = rd32(r + 20);
    c.shift = rd32(r + 24);
    c.W = (n_in + 31u) / 32u;
    c.thr_lim = n_in;
    c.weights_off = weights_off;
    c.total = total;

    if (rd8(r + 3) || (tin2 && !op->in2_dt) || rd32(r + 28))
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): reserved fields not zero", l, nm);
    if (c.reset > op->reset_max) return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): reset %u invalid", l, nm, c.reset);
    if (c.leak_bits >> op->leaks)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): leak bits 0x%x invalid", l, nm, c.leak_bits);
    if (c.shift > op->shift_max)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): shift %u outside [0, %u]", l, nm, c.shift, (uint32_t)op->shift_max);
    if (tin >= T) return eh_op_fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): input tensor %u >= n_tensors (%u)", l, nm, tin, T);
    if (op->in2_dt && tin2 >= T)
        return eh_op_fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): input2 tensor %u >= n_tensors (%u)", l, nm, tin2, T);
    if (tout >= T) return eh_op_fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): output tensor %u >= n_tensors (%u)", l, nm, tout, T);
    for (uint32_t k = 0; k < op->n_states; k++)
        if (st[k] >= T)
            return eh_op_fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): state %u tensor %u >= n_tensors (%u)", l, nm, k, st[k], T);
    for (uint32_t k = op->n_states; k < 3; k++)
        if (st[k] != EH_NONE_ID)
            return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state slot %u must be 0xffff (unused), got %u", l, nm, k, st[k]);
    {
        uint32_t dt = t_dt(m, tin);
        const uint8_t *in = op->in_dt;
        if (in[0] && dt != in[0] && dt != in[1] && dt != in[2])
            return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): input tensor %u dtype %s, expected %s%s%s%s%s", l, nm, tin,
                              eh_op_dt_names[dt], eh_op_dt_names[in[0]], in[1] ? "/" : "", in[1] ? eh_op_dt_names[in[1]] : "",
                              in[2] ? "/" : "", in[2] ? eh_op_dt_names[in[2]] : "");
    }
    {
        uint32_t want = op->out_dt ? op->out_dt : t_dt(m, tin);
        if (t_dt(m, tout) != want)
            return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): output tensor %u dtype %s, expected %s%s", l, nm, tout,
                              eh_op_dt_names[t_dt(m, tout)], eh_op_dt_names[want], op->out_dt ? "" : " (the input's)");
    }
    if (t_kind(m, tout) != op->out_state)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): output tensor %u kind %s, expected %s", l, nm, tout,
                          t_kind(m, tout) ? "state" : "activation", op->out_state ? "state" : "activation");
    if (n_in != t_n(m, tin))
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_in %u but input tensor %u has %u elements", l, nm, n_in, tin,
                          t_n(m, tin));
    if (op->in2_dt) {
        if (t_dt(m, tin2) != op->in2_dt)
            return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): input2 tensor %u dtype %s, expected %s", l, nm, tin2,
                              eh_op_dt_names[t_dt(m, tin2)], eh_op_dt_names[op->in2_dt]);
        if (t_n(m, tin2) != n_in)
            return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_in %u but input2 tensor %u has %u elements", l, nm, n_in, tin2,
                              t_n(m, tin2));
    }
    if (op->check_io && (rc = op->check_io(&c)) != 0) return rc;
    if (n_out != t_n(m, tout))
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_out %u but output tensor %u has %u elements", l, nm, n_out, tout,
                          t_n(m, tout));
    if (op->same_n && n_in != n_out)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_in %u != n_out %u", l, nm, n_in, n_out);
    if (op->n_out_one && n_out != 1) return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_out %u must be 1", l, nm, n_out);
    if (op->max_n_in && n_in > op->max_n_in)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): n_in %u outside [1, %u]", l, nm, n_in, op->max_n_in);
    if (op->check_states) {
        if ((rc = op->check_states(&c)) != 0) return rc;
    } else if (!op->scratch) { /* scratch layers: check_post, after the params */
        for (uint32_t k = 0; k < op->n_states; k++)
            if (t_dt(m, st[k]) != op->state_dt || t_kind(m, st[k]) != 1 || t_n(m, st[k]) != n_out)
                return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state %u tensor %u must be a %s state tensor of %u elements",
                                  l, nm, k, st[k], eh_op_dt_names[op->state_dt], n_out);
    }
    if ((rc = check_params(&c)) != 0) return rc;
    if (op->check_post && (rc = op->check_post(&c)) != 0) return rc;

    /* dataflow: the inputs exist already (or are a delay's output: its previous step), the
     * outputs are written once */
    if ((m->first[tin] == 0 && !BIT(delayed, tin)) || m->last[tin] == SLOT || IS_SCRATCH(m, tin))
        return eh_op_fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): input tensor %u is not the model input nor written by an earlier layer",
                          l, nm, tin);
    if (op->in2_dt && ((m->first[tin2] == 0 && !BIT(delayed, tin2)) || m->last[tin2] == SLOT || IS_SCRATCH(m, tin2)))
        return eh_op_fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): input2 tensor %u is not the model input nor written by an earlier layer",
                          l, nm, tin2);
    for (uint32_t k = 0; k <= op->n_states; k++) {
        uint32_t t = k == 0 ? tout : st[k - 1];
        if (m->first[t] != 0) {
            if (m->first[t] == 1)
                return eh_op_fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): %s%s tensor %u already written by the model input", l, nm,
                                  k == 0 ? "output" : "state ", k == 0 ? "" : (k == 1 ? "0" : (k == 2 ? "1" : "2")), t);
            return eh_op_fail(m, EH_MODEL_E_GRAPH, "layer %u (%s): %s%s tensor %u already written by layer %u", l, nm,
                              k == 0 ? "output" : "state ", k == 0 ? "" : (k == 1 ? "0" : (k == 2 ? "1" : "2")), t,
                              (uint32_t)m->first[t] - 2);
        }
        m->first[t] = (uint8_t)(l + 2);
    }
    for (uint32_t k = 0; k < op->n_states; k++) {
        if (op->scratch && k == (uint32_t)op->n_states - 1u) { /* the scratch: an activation of this layer only */
            m->last[st[k]] = (uint8_t)(l + 1);
            m->scratch[st[k] >> 3] |= (uint8_t)(1u << (st[k] & 7u));
        } else {
            m->last[st[k]] = SLOT;
        }
    }
    m->last[tin] = (uint8_t)(l + 1);
    if (op->in2_dt) m->last[tin2] = (uint8_t)(l + 1);
    return EH_MODEL_OK;
}

int32_t eh_model_load(eh_model *m, const uint8_t *blob, uint32_t len, uint8_t *arena, uint32_t arena_size)
{
    const uint16_t one = 1;
    uint32_t total, L, T, inp, outp, weights_off, weights_len, arena_need, end = 0;
    uint8_t delayed[EH_MODEL_MAX_TENSORS / 8];
    int32_t rc;

    if (!m) return EH_MODEL_E_NULL;
    memset(m, 0, sizeof *m);
    if (!blob) return eh_op_fail(m, EH_MODEL_E_NULL, "blob: NULL");
    if (!arena) return eh_op_fail(m, EH_MODEL_E_NULL, "arena: NULL");
    if (*(const uint8_t *)&one != 1) return eh_op_fail(m, EH_MODEL_E_UNSUPPORTED, "core: not little endian");
    if (((uintptr_t)blob & 3u) != 0) return eh_op_fail(m, EH_MODEL_E_ALIGN, "blob: buffer not 4-byte aligned");
    if (((uintptr_t)arena & 3u) != 0) return eh_op_fail(m, EH_MODEL_E_ALIGN, "arena: buffer not 4-byte aligned");

    if (len < EH_HDR) return eh_op_fail(m, EH_MODEL_E_LENGTH, "blob: %u bytes, shorter than the 64-byte header", len);
    if (memcmp(blob, "EHMB", 4) != 0) return eh_op_fail(m, EH_MODEL_E_MAGIC, "header: magic is not 'EHMB'");
    if (rd16(blob + 4) != EH_MODEL_VERSION_MAJOR || rd16(blob + 6) > EH_MODEL_VERSION_MINOR)
        return eh_op_fail(m, EH_MODEL_E_VERSION, "header: format version %u.%u not supported (this loader reads 1.0 to 1.%u)",
                          rd16(blob + 4), rd16(blob + 6), (uint32_t)EH_MODEL_VERSION_MINOR);
    total = rd32(blob + 12);
    if (total < EH_HDR || total > len)
        return eh_op_fail(m, EH_MODEL_E_LENGTH, "header: total_len %u outside [64, %u] (bytes given)", total, len);
    if (crc32(blob + 20, total - 20) != rd32(blob + 16))
        return eh_op_fail(m, EH_MODEL_E_CRC, "header: crc32 0x%x does not match the content (0x%x)", rd32(blob + 16),
                          crc32(blob + 20, total - 20));
    if (fnv1a32(blob + 24, total - 24) != rd32(blob + 20))
        return eh_op_fail(m, EH_MODEL_E_HASH, "header: model_hash 0x%x does not match the content (0x%x)", rd32(blob + 20),
                          fnv1a32(blob + 24, total - 24));
    L = rd16(blob + 24);
    T = rd16(blob + 26);
    inp = rd16(blob + 28);
    outp = rd16(blob + 30);
    weights_off = rd32(blob + 40);
    weights_len = rd32(blob + 44);
    arena_need = rd32(blob + 48);
    if (rd32(blob + 8) != 0) return eh_op_fail(m, EH_MODEL_E_HEADER, "header: flags 0x%x has unknown bits", rd32(blob + 8));
    for (uint32_t i = 52; i < EH_HDR; i++)
        if (blob[i]) return eh_op_fail(m, EH_MODEL_E_HEADER, "header: reserved bytes 52..63 are not zero");
    if (L < 1 || L > EH_MODEL_MAX_LAYERS) return eh_op_fail(m, EH_MODEL_E_COUNT, "header: n_layers %u outside [1, 128]", L);
    if (T < 1 || T > EH_MODEL_MAX_TENSORS) return eh_op_fail(m, EH_MODEL_E_COUNT, "header: n_tensors %u outside [1, 256]", T);
    if (rd32(blob + 32) != EH_HDR) return eh_op_fail(m, EH_MODEL_E_LAYOUT, "header: layers_offset %u is not 64", rd32(blob + 32));
    if (rd32(blob + 36) != EH_HDR + EH_LREC * L)
        return eh_op_fail(m, EH_MODEL_E_LAYOUT, "header: tensors_offset %u is not %u (64 + 64 * n_layers)", rd32(blob + 36),
                          EH_HDR + EH_LREC * L);
    {
        uint32_t want = (EH_HDR + EH_LREC * L + EH_TREC * T + 7u) & ~7u;
        if (weights_off != want) return eh_op_fail(m, EH_MODEL_E_LAYOUT, "header: weights_offset %u is not %u", weights_off, want);
    }
    if (weights_off > total || weights_len != total - weights_off)
        return eh_op_fail(m, EH_MODEL_E_LAYOUT, "header: weights_offset %u + weights_len %u is not total_len (%u)", weights_off,
                          weights_len, total);
    if (inp >= T) return eh_op_fail(m, EH_MODEL_E_COUNT, "header: input_tensor %u >= n_tensors (%u)", inp, T);
    if (outp >= T) return eh_op_fail(m, EH_MODEL_E_COUNT, "header: output_tensor %u >= n_tensors (%u)", outp, T);
    if (arena_need % 4u) return eh_op_fail(m, EH_MODEL_E_ARENA, "header: arena_size %u is not a multiple of 4", arena_need);
    if (arena_need > arena_size)
        return eh_op_fail(m, EH_MODEL_E_ARENA, "header: arena_size %u > arena given (%u)", arena_need, arena_size);

    m->blob = blob;
    m->n_layers = L;
    m->n_tensors = T;
    for (uint32_t t = 0; t < T; t++) {
        const uint8_t *r = trec(m, t);
        uint32_t dt = rd8(r), kind = rd8(r + 1), ndim = rd8(r + 2), off = rd32(r + 4), size = rd32(r + 8);
        uint32_t elems = 1;
        float scale = rdf32(r + 28);
        if (dt < 1 || dt > 8) return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: dtype %u unknown", t, dt);
        if (kind > 1) return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: kind %u is neither 0 (activation) nor 1 (state)", t, kind);
        if (ndim < 1 || ndim > 4) return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: ndim %u outside [1, 4]", t, ndim);
        if (rd8(r + 3)) return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: flags %u not zero", t, rd8(r + 3));
        for (uint32_t k = 0; k < 4; k++) {
            uint32_t d = rd32(r + 12 + 4 * k);
            if (k < ndim) {
                if (d < 1 || d > EH_MAX_ELEMS)
                    return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: dim %u = %u outside [1, 16777216]", t, k, d);
                if ((uint64_t)elems * d > EH_MAX_ELEMS)
                    return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: more than 16777216 elements", t);
                elems *= d;
            } else if (d != 0) {
                return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: dim %u = %u beyond ndim %u must be 0", t, k, d, ndim);
            }
        }
        if (size != eh_op_dt_bytes(dt, elems))
            return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: size %u bytes, expected %u (%u x %s)", t, size,
                              eh_op_dt_bytes(dt, elems), elems, eh_op_dt_names[dt]);
        if (off % 4u) return eh_op_fail(m, EH_MODEL_E_ALIGN, "tensor %u: arena offset 0x%x not a multiple of 4", t, off);
        if (off > arena_need || size > arena_need - off)
            return eh_op_fail(m, EH_MODEL_E_ARENA, "tensor %u: arena offset 0x%x + %u past arena_size (%u)", t, off, size, arena_need);
        if (!(scale > 0.0f && scale <= EH_F32_MAX)) return eh_op_fail(m, EH_MODEL_E_TENSOR, "tensor %u: scale not > 0 and finite", t);
        if (off + size > end) end = off + size;
    }
    /* the outputs that layers anywhere in the schedule may read (format 1.5: the delays') */
    memset(delayed, 0, sizeof delayed);
    for (uint32_t l = 0; l < L; l++) {
        const uint8_t *r = lrec(m, l);
        uint32_t code = rd8(r), t = rd16(r + 6);
        if (code < EH_OP_CODES && eh_op_table[code] && eh_op_table[code]->out_early && t < T)
            delayed[t >> 3] |= (uint8_t)(1u << (t & 7u));
    }
    m->first[inp] = 1;
    for (uint32_t l = 0; l < L; l++) {
        rc = check_layer(m, l, weights_off, total, delayed);
        if (rc) return rc;
    }
    if (m->first[outp] < 2) return eh_op_fail(m, EH_MODEL_E_GRAPH, "header: output_tensor %u is not written by any layer", outp);
    if (m->last[outp] == SLOT || IS_SCRATCH(m, outp))
        return eh_op_fail(m, EH_MODEL_E_GRAPH, "header: output_tensor %u is a layer's internal state", outp);
    m->last[outp] = (uint8_t)(L + 1);
    for (uint32_t t = 0; t < T; t++) {
        if (m->first[t] == 0) return eh_op_fail(m, EH_MODEL_E_GRAPH, "tensor %u: not written by any layer", t);
        if (m->last[t] == 0)
            return eh_op_fail(m, EH_MODEL_E_GRAPH, "tensor %u: written by layer %u but never read", t, (uint32_t)m->first[t] - 2);
    }
    for (uint32_t a = 0; a < T; a++) {
        uint32_t oa = t_off(m, a), sa = t_size(m, a);
        for (uint32_t b = a + 1; b < T; b++) {
            uint32_t ob = t_off(m, b), sb = t_size(m, b);
            if (oa < ob + sb && ob < oa + sa) {
                int32_t wa = (int32_t)m->first[a] - 2, wb = (int32_t)m->first[b] - 2;
                int32_t ra = (int32_t)m->last[a] - 1, rb = (int32_t)m->last[b] - 1;
                if (t_kind(m, a) || t_kind(m, b))
                    return eh_op_fail(m, EH_MODEL_E_OVERLAP, "tensor %u: arena [0x%x, +%u) overlaps tensor %u (a state tensor shares no bytes)",
                                      b, ob, sb, a);
                if (!(ra < wb || rb < wa))
                    return eh_op_fail(m, EH_MODEL_E_OVERLAP,
                                      "tensor %u: arena [0x%x, +%u) overlaps tensor %u while both are live (layers %d..%d and %d..%d)",
                                      b, ob, sb, a, wa, ra, wb, rb);
            }
        }
    }
    if (arena_need != ((end + 3u) & ~3u))
        return eh_op_fail(m, EH_MODEL_E_ARENA, "header: arena_size %u is not the end of the last tensor rounded up to 4 (%u)",
                          arena_need, (end + 3u) & ~3u);

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
static int32_t run_layer(eh_model *m, uint32_t l)
{
    const uint8_t *r = lrec(m, l);
    uint32_t code = rd8(r);
    const eh_op *op = code < EH_OP_CODES ? eh_op_table[code] : 0;
    eh_args a;
    eh_status st;
    if (!op) return eh_op_fail(m, EH_MODEL_E_UNSUPPORTED, "layer %u: type %u not supported", l, code);
    a.r = r;
    a.x = t_ptr(m, rd16(r + 4));
    a.y = t_ptr(m, rd16(r + 6));
    for (uint32_t k = 0; k < op->n_states; k++) a.s[k] = t_ptr(m, rd16(r + 8 + 2 * k));
    a.n_in = rd32(r + 16);
    a.n_out = rd32(r + 20);
    st = op->step(m, &a);
    if (st != EH_OK) {
        int32_t rc = eh_op_fail(m, EH_MODEL_E_KERNEL, "layer %u (%s): kernel returned %s", l, op->name, eh_status_str(st));
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
        eh_op_fail(m, EH_MODEL_E_NULL, "step: NULL input, output or out_len");
        m->loaded = 1;
        return EH_MODEL_E_NULL;
    }
    if (in_len != m->input_bytes || out_cap < m->output_bytes) {
        eh_op_fail(m, EH_MODEL_E_IO, "step: input %u bytes (model takes %u), output room %u (model gives %u)", in_len,
                   m->input_bytes, out_cap, m->output_bytes);
        m->loaded = 1;
        return EH_MODEL_E_IO;
    }
    if (t_dt(m, m->input_tensor) == EH_MODEL_DT_SPIKE) {
        for (uint32_t i = 0; i < in_len; i++)
            if (in[i] > 1) {
                eh_op_fail(m, EH_MODEL_E_IO, "step: input spike %u is %u, not 0 or 1", i, (uint32_t)in[i]);
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
