/*
 * Binary fully connected layers over a minimum spanning tree of their weight rows (format 1.4):
 * mst_fc_b1_f32 (34), mst_fc_b1_bits (42). eh_mst_fc_b1 writes the dot products in node order
 * into the scratch (state 0, s32 [n_out + ceil(n_in / 2)]: the dot products, then the kernel's
 * 2 n_in bytes), then the output stage runs in channel order:
 *   f32: y[c] = (float)dot x scale[c] + bias[c] (affine f32[2 n_out]: scale then bias);
 *   bits: bit c = dot < threshold[c] (threshold s32[n_out] in [-n_in, n_in + 1]).
 * Param 0 "tree" u32 [4 n + 3]: n_roots, n_diff, parent[n] (int32), channel[n], node_of[n],
 * diff_start[n + 1]; param 1 "root_w" u32 [n_roots W]; param 2 "diff" u16 [n_diff] (absent when
 * n_diff is 0).
 */
#include "eh_mst.h"
#include "eh_op.h"

#define MST_MAX_K 32768u

/* ---- mst_fc_b1_*: param 0 "tree" u32 [4 n + 3]: n_roots, n_diff, parent[n] (int32), channel[n],
 * node_of[n], diff_start[n + 1]; param 2 "diff" u16 [n_diff]. Same order and messages as
 * edgehost/blob/model.py (_check_mst_tree, _check_mst_diff). */
static int32_t mst_check_tree(eh_model *m, uint32_t l, const char *nm, const uint8_t *w, uint32_t n_in, uint32_t n)
{
    uint32_t n_roots = rd32(w), n_diff = rd32(w + 4), roots = 0;
    const uint8_t *par = w + 8, *ch = par + 4 * n, *inv = ch + 4 * n, *ds = inv + 4 * n;
    uint64_t lim;
    if (n_roots < 1 || n_roots > n)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): n_roots %u outside [1, %u]", l, nm, n_roots, n);
    lim = (uint64_t)(n - n_roots) * n_in;
    if ((uint64_t)n_diff > lim)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): n_diff %u > %U ((n_out - n_roots) x n_in)", l, nm,
                    n_diff, lim);
    if (rd32(ds) != 0 || rd32(ds + 4 * n) != n_diff)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): diff_start[0] %u and diff_start[%u] %u must be 0 and n_diff (%u)",
                    l, nm, rd32(ds), n, rd32(ds + 4 * n), n_diff);
    for (uint32_t p = 0; p < n; p++) {
        uint32_t a = rd32(ds + 4 * p), b = rd32(ds + 4 * p + 4), c = rd32(ch + 4 * p);
        int32_t pa = (int32_t)rd32(par + 4 * p);
        if (b < a)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: diff_start %u < %u", l, nm, p, b, a);
        if (pa < -1 || pa >= (int32_t)p)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: parent %d outside [-1, %d]", l, nm, p, pa,
                        (int32_t)p - 1);
        if (pa == -1 && b != a)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: a root owns %u codes", l, nm, p, b - a);
        if (c >= n)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: channel %u outside [0, %u]", l, nm, p, c, n - 1);
        if (rd32(inv + 4 * c) != p)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): node %u: node_of[%u] is %u, not %u (channel is not a permutation)",
                        l, nm, p, c, rd32(inv + 4 * c), p);
        roots += pa == -1;
    }
    if (roots != n_roots)
        return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (tree): %u roots, n_roots says %u", l, nm, roots, n_roots);
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
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 2 (diff): node %u: code %u (position %u) outside [0, %u]",
                            l, nm, p, j, pos, n_in - 1);
            if (j > a && pos <= rd16(d + 2 * j - 2) >> 1)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 2 (diff): node %u: code %u (position %u) not after position %u",
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


static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    eh_model *m = c->m;
    const char *pn = c->op->p[k].name;
    uint32_t n_out = c->n_out, W = c->W;
    const uint8_t *tree = c->p[0];
    int32_t rc;
    if (c->op->p[k].kind != P_OP) return EH_MODEL_OK; /* the threshold of mst_fc_b1_bits: a generic P_VEC */
    switch (k) {
    case 0:
        if ((uint64_t)cnt != 4u * (uint64_t)n_out + 3u)
            return eh_op_fail(m, EH_MODEL_E_PARAM,
                              "layer %u (%s): param %u (%s): %u entries, expected %U (n_roots, n_diff, parent, channel, node_of, diff_start)",
                              c->l, c->nm, k, pn, cnt, 4u * (uint64_t)n_out + 3u);
        rc = mst_check_tree(m, c->l, c->nm, p, c->n_in, n_out);
        if (rc == EH_MODEL_OK && rd32(p + 4) == 0) c->absent_ok |= 1u << 2; /* no diff codes: param 2 absent */
        return rc;
    case 1:
        if ((uint64_t)cnt != (uint64_t)rd32(tree) * W)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (n_roots x %u)", c->l, c->nm,
                              k, pn, cnt, (uint64_t)rd32(tree) * W, W);
        return EH_MODEL_OK;
    case 2:
        if (cnt != rd32(tree + 4))
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u (n_diff)", c->l, c->nm, k,
                              pn, cnt, rd32(tree + 4));
        return mst_check_diff(m, c->l, c->nm, tree, p, c->n_in, n_out);
    default: /* affine */
        if ((uint64_t)cnt != 2u * (uint64_t)n_out)
            return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (scale then bias)", c->l,
                              c->nm, k, pn, cnt, 2u * (uint64_t)n_out);
        return eh_op_check_values(c, k, &c->op->p[k], 0, p, cnt, 0);
    }
}

/* the scratch tensor, then the kernel's own checks of the layout (the steps run it unchecked) */
static int32_t check_post(eh_check *c)
{
    eh_mst_b1 lay;
    const uint32_t *chan;
    eh_status kst;
    int32_t rc = eh_op_check_scratch(c, 0, c->n_out + (c->n_in + 1u) / 2u);
    if (rc) return rc;
    mst_layout(c->m, c->r, &lay, &chan);
    kst = eh_mst_check_b1(&lay, 2u * c->n_in);
    if (kst != EH_OK)
        return eh_op_fail(c->m, EH_MODEL_E_KERNEL, "layer %u (%s): the MST kernel refuses the layout: %s", c->l, c->nm,
                          eh_status_str(kst));
    return EH_MODEL_OK;
}

/* dot products in node order into the scratch, then the output stage in channel order */
static eh_status step_mst_fc_b1_f32(eh_model *m, const eh_args *a)
{
    uint32_t n_out = a->n_out;
    eh_mst_b1 lay;
    const uint32_t *chan;
    const int32_t *dot = (const int32_t *)a->s[0];
    const float *aff = (const float *)param(m, a->r, 3);
    mst_layout(m, a->r, &lay, &chan);
    eh_mst_fc_b1_unchecked(&lay, (const uint32_t *)a->x, (uint8_t *)((int32_t *)a->s[0] + n_out), (int32_t *)a->s[0]);
    for (uint32_t p = 0; p < n_out; p++) {
        uint32_t c = chan[p];
        float t = (float)dot[p] * aff[c];
        ((float *)a->y)[c] = t + aff[n_out + c];
    }
    return EH_OK;
}

static eh_status step_mst_fc_b1_bits(eh_model *m, const eh_args *a)
{
    uint32_t n_out = a->n_out;
    eh_mst_b1 lay;
    const uint32_t *chan;
    const int32_t *dot = (const int32_t *)a->s[0], *thr = (const int32_t *)param(m, a->r, 3);
    uint32_t *yw = (uint32_t *)a->y;
    mst_layout(m, a->r, &lay, &chan);
    eh_mst_fc_b1_unchecked(&lay, (const uint32_t *)a->x, (uint8_t *)((int32_t *)a->s[0] + n_out), (int32_t *)a->s[0]);
    memset(yw, 0, 4u * ((n_out + 31u) / 32u));
    for (uint32_t p = 0; p < n_out; p++) {
        uint32_t c = chan[p];
        if (dot[p] < thr[c]) yw[c >> 5] |= 1u << (c & 31u);
    }
    return EH_OK;
}

#define TREE {P_OP, 4, C_NONE, ABS_NO, "tree"}
#define ROOT_W {P_OP, 4, C_NONE, ABS_NO, "root_w"}
#define DIFF {P_OP, 2, C_NONE, ABS_IF, "diff"}

const eh_op eh_op_mst_fc_b1[2] = {
    {.code = 34, .name = "mst_fc_b1_f32", .in_dt = {DT_B1}, .out_dt = DT_F32, .n_states = 1, .state_dt = DT_S32, .scratch = 1,
     .max_n_in = MST_MAX_K, .n_params = 4, .p = {TREE, ROOT_W, DIFF, {P_OP, 4, C_FINITE, ABS_NO, "affine"}},
     .check_param = check_param, .check_post = check_post, .step = step_mst_fc_b1_f32},
    {.code = 42, .name = "mst_fc_b1_bits", .in_dt = {DT_B1}, .out_dt = DT_B1, .n_states = 1, .state_dt = DT_S32, .scratch = 1,
     .max_n_in = MST_MAX_K, .n_params = 4, .p = {TREE, ROOT_W, DIFF, {P_VEC, 4, C_THRB1, ABS_NO, "threshold"}},
     .check_param = check_param, .check_post = check_post, .step = step_mst_fc_b1_bits},
};
