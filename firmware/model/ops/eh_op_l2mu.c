/*
 * The L2MU layer, l2mu_q15 (48, format 1.1): a spiking Legendre memory unit and its readout in one
 * layer (eh_l2mu_step_q15 then eh_l2mu_readout_q15). Param 0 "cell" is a descriptor of 66 u32
 * (dimensions, readout kind, shifts, population flags, array counts), param 1 "data" the arrays it
 * counts, each 4-aligned. States: q15 v/i_syn (state), spikes (state), q15 scratch (an activation
 * of this layer only); the output is the readout's membrane (state). Same rules, order and
 * messages as edgehost/blob/l2mu.py; see docs/model-format.md.
 *
 * The steps run the unchecked kernels (the kernel's own checks run once, at load). The kernel
 * structs of the first EH_MODEL_L2MU_CACHE L2MU layers are built at their first step and kept in
 * the eh_model (they depend on the blob and the arena only).
 */
#include "eh_lmu.h"
#include "eh_op.h"

/* ---- the descriptor (param 0), the arrays (param 1), the state layout ---- */
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
#define L2FAIL(...) eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 0 (cell): " __VA_ARGS__)
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
                    return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 1 (data): %s entry %u (%d) outside [1, 32767]",
                                l, nm, L2_ARRAY_NAMES[a], i, v);
            } else if (es == 1) {
                uint32_t v = q[i];
                if (v < 1 || v > 15)
                    return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 1 (data): %s entry %u (%u) outside [1, 15]",
                                l, nm, L2_ARRAY_NAMES[a], i, v);
            } else {
                uint32_t v = rd16(q + 2 * i);
                if (v > 32768u)
                    return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param 1 (data): %s entry %u (%u) outside [0, 32768]",
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

/* ---- the operator ------------------------------------------------------------------------- */
static int32_t check_param(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    l2desc d;
    if (k == 0) { /* cell */
        if (cnt != L2_WORDS)
            return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %u", c->l, c->nm, k,
                              c->op->p[k].name, cnt, (uint32_t)L2_WORDS);
        l2_read(&d, p);
        return l2_check_desc(c->m, c->l, c->nm, &d, c->n_in, c->n_out);
    }
    l2_read(&d, c->p[0]); /* data: the arrays param 0 counts */
    if ((uint64_t)cnt != l2_data_bytes(&d))
        return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): %u entries, expected %U (the arrays of param 0, each 4-aligned)",
                          c->l, c->nm, k, c->op->p[k].name, cnt, l2_data_bytes(&d));
    return l2_check_data(c->m, c->l, c->nm, &d, p);
}

/* the state tensors (sizes from the descriptor), then the kernel's own checks of the cell */
static int32_t check_post(eh_check *c)
{
    static const uint8_t want_dt[3] = {DT_Q15, DT_SPK, DT_Q15}, want_kind[3] = {1, 1, 0};
    eh_model *m = c->m;
    uint32_t sz[3];
    eh_status kst;
    l2desc d;
    l2_read(&d, c->p[0]);
    l2_state_sizes(&d, sz);
    for (uint32_t k = 0; k < 3; k++)
        if (t_dt(m, c->st[k]) != want_dt[k] || t_kind(m, c->st[k]) != want_kind[k] || t_n(m, c->st[k]) != sz[k])
            return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state %u tensor %u must be a %s %s tensor of %u elements", c->l,
                              c->nm, k, c->st[k], eh_op_dt_names[want_dt[k]], want_kind[k] ? "state" : "activation", sz[k]);
    kst = run_l2mu(m, c->r, 0, 0, 0, 0, 0, 1);
    if (kst != EH_OK)
        return eh_op_fail(m, EH_MODEL_E_KERNEL, "layer %u (%s): the L2MU kernel refuses the cell: %s", c->l, c->nm, eh_status_str(kst));
    return EH_MODEL_OK;
}

static eh_status step_l2mu(eh_model *m, const eh_args *a)
{
    return run_l2mu(m, a->r, (const int16_t *)a->x, (int16_t *)a->y, (int16_t *)a->s[0], (uint8_t *)a->s[1], (int16_t *)a->s[2], 0);
}

const eh_op eh_op_l2mu[1] = {
    {.code = 48, .name = "l2mu_q15", .in_dt = {DT_Q15}, .out_dt = DT_Q15, .out_state = 1, .n_states = 3, .state_dt = DT_Q15,
     .scratch = 1, .n_params = 2, .p = {{P_OP, 4, C_NONE, ABS_NO, "cell"}, {P_OP, 1, C_NONE, ABS_NO, "data"}},
     .check_param = check_param, .check_post = check_post, .step = step_l2mu},
};
