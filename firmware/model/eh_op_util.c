/*
 * Helpers shared by the interpreter core and the operators: error messages without printf, the
 * dtype table, the value checks of the generic parameter kinds, the 2-D geometry checks shared
 * by the conv2d / pool2d operators and their int8 channel-last twins, and the reset options shared
 * by the LIF and CubaLIF operators (eh_op.h), so a build with any subset of operators links.
 */
#include <stdarg.h>

#include "eh_op.h"

const char *const eh_op_dt_names[9] = {"?", "f32", "q15", "spike", "s8", "s32", "u16", "u32", "b1"};
static const uint8_t DT_SIZE[9] = {0, 4, 2, 1, 1, 4, 2, 4, 4};

uint32_t eh_op_dt_bytes(uint32_t dt, uint32_t n)
{
    return dt == EH_MODEL_DT_B1 ? 4u * ((n + 31u) / 32u) : n * DT_SIZE[dt];
}

/* ---- error messages ---------------------------------------------------------------------------- */
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

/* A float32 value as "%g" prints it (6 significant digits, correctly rounded, half to even;
 * trailing zeros dropped; exponent form below 1e-4 and from 1e6), from its exact decimal expansion:
 * m 2^e as an integer in base 10^4 (m 5^-e / 10^-e for e < 0, at most 112 digits); no
 * floating-point arithmetic, no libc. Writes at most 14 characters and a NUL to o. Only error
 * messages use it. */
static void fmt_g(char *o, float f)
{
    enum { P = 6 };
    uint32_t u, m, limb[30], nl = 2, nd = 0, i, mul, n2;
    int32_t e2, X;
    char d[124];
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) u = 0x7FC00000u; /* NaN: "nan" whatever its sign */
    if (u >> 31) *o++ = '-';
    u &= 0x7FFFFFFFu;
    if (u >= 0x7F800000u) {
        memcpy(o, u > 0x7F800000u ? "nan" : "inf", 4);
        return;
    }
    m = u & 0x7FFFFFu;
    e2 = (int32_t)(u >> 23);
    if (e2) m |= 0x800000u;
    e2 = (e2 ? e2 : 1) - 150;
    limb[0] = m % 10000u;
    limb[1] = m / 10000u;
    mul = e2 < 0 ? 5u : 2u;
    for (n2 = (uint32_t)(e2 < 0 ? -e2 : e2); n2 > 0; n2--) {
        uint32_t carry = 0;
        for (i = 0; i < nl; i++) {
            uint32_t t = limb[i] * mul + carry;
            limb[i] = t % 10000u;
            carry = t / 10000u;
        }
        if (carry) limb[nl++] = carry;
    }
    for (i = nl; i-- > 0;) /* the digits, most significant first, without leading zeros */
        for (uint32_t p = 1000u; p; p /= 10u) {
            char c = (char)('0' + limb[i] / p % 10u);
            if (nd || c != '0') d[nd++] = c;
        }
    if (nd == 0) { o[0] = '0'; o[1] = 0; return; }
    X = (int32_t)nd - 1 - (e2 < 0 ? -e2 : 0); /* the decimal exponent of the first digit */
    if (nd > P) {
        uint32_t up = d[P] > '5';
        if (d[P] == '5') {
            up = (uint32_t)(d[P - 1] - '0') & 1u; /* a tie: to even */
            for (i = P + 1; i < nd; i++) up |= d[i] != '0';
        }
        nd = P;
        for (i = P; up && i-- > 0;) {
            up = d[i] == '9';
            d[i] = up ? '0' : (char)(d[i] + 1);
        }
        if (up) { d[0] = '1'; X++; }
    }
    while (nd > 1 && d[nd - 1] == '0') nd--;
    if (X < -4 || X >= P) { /* d.ddde+XX */
        uint32_t ax = (uint32_t)(X < 0 ? -X : X);
        for (i = 0; i < nd; i++) {
            *o++ = d[i];
            if (i == 0 && nd > 1) *o++ = '.';
        }
        *o++ = 'e';
        *o++ = X < 0 ? '-' : '+';
        if (ax >= 10) *o++ = (char)('0' + ax / 10u);
        else *o++ = '0';
        *o++ = (char)('0' + ax % 10u);
    } else if (X < 0) { /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (n2 = 1; n2 < (uint32_t)-X && n2 < 5u; n2++) *o++ = '0'; /* X >= -4 here */
        for (i = 0; i < nd; i++) *o++ = d[i];
    } else { /* ddd[.ddd] */
        for (i = 0; i <= (uint32_t)X || i < nd; i++) {
            if (i == (uint32_t)X + 1) *o++ = '.';
            *o++ = i < nd ? d[i] : '0';
        }
    }
    *o = 0;
}

int32_t eh_op_fail(eh_model *m, int32_t code, const char *fmt, ...)
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
        } else if (*fmt == 'g') { /* a float32 passed as double */
            char g[16];
            fmt_g(g, (float)va_arg(ap, double));
            for (const char *s = g; *s; s++) put_c(e, &k, *s);
        } else {
            put_c(e, &k, *fmt);
        }
    }
    va_end(ap);
    e[k] = 0;
    m->loaded = 0;
    return code;
}

/* ---- the generic parameter value checks ------------------------------------------------------- */
int32_t eh_op_check_values(eh_check *c, uint32_t k, const eh_pspec *ps, uint32_t leak_shift, const uint8_t *p,
                           uint32_t cnt, uint32_t lim)
{
    eh_model *m = c->m;
    uint32_t l = c->l;
    const char *nm = c->nm;
    for (uint32_t i = 0; i < cnt; i++) {
        if (ps->kind == P_LEAK) {
            if (leak_shift) {
                uint32_t s = p[i];
                if (s < 1 || s > 15)
                    return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%u) outside [1, 15]",
                                      l, nm, k, ps->name, i, s);
            } else {
                uint32_t d = rd16(p + 2 * i);
                if (d > 32768u)
                    return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%u) outside [0, 32768]",
                                      l, nm, k, ps->name, i, d);
            }
        } else if (ps->check == C_THR15) {
            int32_t v = (int32_t)(int16_t)rd16(p + 2 * i);
            if (v < 1)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [1, 32767]",
                                  l, nm, k, ps->name, i, v);
        } else if (ps->check == C_THRB1) {
            int32_t v = (int32_t)rd32(p + 4 * i);
            if (v < -(int32_t)lim || v > (int32_t)lim + 1)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u (%d) outside [-%u, %u]",
                                  l, nm, k, ps->name, i, v, lim, lim + 1);
        } else if (ps->check != C_NONE) {
            float v = rdf32(p + 4 * i);
            int ok;
            const char *what;
            if (ps->check == C_FINITE) { ok = v >= -EH_F32_MAX && v <= EH_F32_MAX; what = "not finite"; }
            else if (ps->check == C_UNIT) { ok = v >= 0.0f && v <= 1.0f; what = "outside [0, 1]"; }
            else { ok = v > 0.0f && v <= EH_F32_MAX; what = "not > 0 and finite"; }
            if (!ok)
                return eh_op_fail(m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): entry %u %s", l, nm, k, ps->name, i,
                                  what);
        } else {
            return EH_MODEL_OK;
        }
    }
    return EH_MODEL_OK;
}

int32_t eh_op_check_scratch(eh_check *c, uint32_t k, uint32_t want)
{
    eh_model *m = c->m;
    uint32_t t = c->st[k];
    if (t_dt(m, t) != DT_S32 || t_kind(m, t) != 0 || t_n(m, t) != want)
        return eh_op_fail(m, EH_MODEL_E_LAYER, "layer %u (%s): state %u tensor %u must be a s32 activation tensor of %u elements",
                          c->l, c->nm, k, t, want);
    return EH_MODEL_OK;
}

/* ---- the 2-D geometry parameters (ops/eh_op_conv2d.c, eh_op_pool2d.c, eh_op_conv2d_s8.c,
 * eh_op_pool2d_s8.c; the same rules and messages as edgehost/ops/conv2d.py and pool2d.py) ----- */
#define GEOM2D_MAXD 65535u
#define FAIL(...) eh_op_fail(c->m, EH_MODEL_E_PARAM, __VA_ARGS__)

static const char *const conv2d_geom_names[15] = {"c_in", "h_in", "w_in", "c_out", "k_h", "k_w", "stride_h", "stride_w",
                                                  "pad_top", "pad_left", "pad_bottom", "pad_right", "dil_h", "dil_w", "groups"};

void eh_op_conv2d_dims_of(const uint8_t *g, eh_conv2d_dims *d)
{
    d->c_in = rd32(g); d->h_in = rd32(g + 4); d->w_in = rd32(g + 8); d->c_out = rd32(g + 12);
    d->k_h = rd32(g + 16); d->k_w = rd32(g + 20); d->stride_h = rd32(g + 24); d->stride_w = rd32(g + 28);
    d->pad_top = rd32(g + 32); d->pad_left = rd32(g + 36); d->pad_bottom = rd32(g + 40); d->pad_right = rd32(g + 44);
    d->dil_h = rd32(g + 48); d->dil_w = rd32(g + 52); d->groups = rd32(g + 56);
}

int32_t eh_op_conv2d_check_geom(eh_check *c, const uint8_t *p, uint32_t cnt)
{
    static const uint8_t order[] = {0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14}; /* sizes, then strides and dilations, then groups */
    eh_conv2d_dims d;
    uint64_t span_h, span_w, ext_h, ext_w, n_w;
    uint32_t h_out, w_out, i;
    const uint32_t l = c->l;
    const char *nm = c->nm;
    if (cnt != 15u) return FAIL("layer %u (%s): param 0 (geom): %u entries, expected 15", l, nm, cnt);
    for (i = 0; i < 10u; i++) {
        uint32_t f = order[i], v = rd32(p + 4u * f);
        if (v < 1u || v > GEOM2D_MAXD)
            return FAIL("layer %u (%s): param 0 (geom): %s %u outside [1, 65535]", l, nm, conv2d_geom_names[f], v);
    }
    eh_op_conv2d_dims_of(p, &d);
    span_h = (uint64_t)d.dil_h * (d.k_h - 1u) + 1u;
    span_w = (uint64_t)d.dil_w * (d.k_w - 1u) + 1u;
    if (span_h > GEOM2D_MAXD || span_w > GEOM2D_MAXD)
        return FAIL("layer %u (%s): param 0 (geom): kernel span %U x %U (dilation x (k - 1) + 1) > 65535", l, nm, span_h, span_w);
    if (d.groups < 1u || d.groups > GEOM2D_MAXD)
        return FAIL("layer %u (%s): param 0 (geom): groups %u outside [1, 65535]", l, nm, d.groups);
    if (d.c_in % d.groups || d.c_out % d.groups)
        return FAIL("layer %u (%s): param 0 (geom): groups %u does not divide c_in %u and c_out %u", l, nm, d.groups, d.c_in, d.c_out);
    for (i = 8; i < 12u; i++) {
        uint32_t v = rd32(p + 4u * i);
        uint64_t span = (i % 2u) ? span_w : span_h;
        if (v >= span)
            return FAIL("layer %u (%s): param 0 (geom): %s %u outside [0, %U] (the kernel span - 1)", l, nm, conv2d_geom_names[i], v,
                        span - 1u);
    }
    ext_h = (uint64_t)d.h_in + d.pad_top + d.pad_bottom;
    ext_w = (uint64_t)d.w_in + d.pad_left + d.pad_right;
    if (ext_h < span_h || ext_w < span_w)
        return FAIL("layer %u (%s): param 0 (geom): kernel span %U x %U larger than the padded input %U x %U", l, nm, span_h, span_w,
                    ext_h, ext_w);
    if ((uint64_t)d.c_in * d.h_in * d.w_in != c->n_in)
        return FAIL("layer %u (%s): param 0 (geom): input c_in x h_in x w_in = %U, n_in is %u", l, nm,
                    (uint64_t)d.c_in * d.h_in * d.w_in, c->n_in);
    h_out = (uint32_t)((ext_h - span_h) / d.stride_h + 1u);
    w_out = (uint32_t)((ext_w - span_w) / d.stride_w + 1u);
    if ((uint64_t)d.c_out * h_out * w_out != c->n_out)
        return FAIL("layer %u (%s): param 0 (geom): output c_out x h_out x w_out = %u x %u x %u, n_out is %u", l, nm, d.c_out, h_out,
                    w_out, c->n_out);
    n_w = (uint64_t)d.c_out * (d.c_in / d.groups) * d.k_h * d.k_w;
    if (n_w > EH_CONV2D_MAX_ELEMS) return FAIL("layer %u (%s): param 0 (geom): %U weights > 268435456", l, nm, n_w);
    if (eh_conv2d_out_size(&d, &h_out, &w_out) != EH_OK) /* cannot fail after the checks above */
        return FAIL("layer %u (%s): param 0 (geom): rejected by eh_conv2d_out_size", l, nm);
    return EH_MODEL_OK;
}

static const char *const pool2d_geom_names[11] = {"c", "h_in", "w_in", "k_h", "k_w", "stride_h", "stride_w",
                                                  "pad_top", "pad_left", "pad_bottom", "pad_right"};

void eh_op_pool2d_dims_of(const uint8_t *g, eh_pool2d_dims *d)
{
    d->c = rd32(g); d->h_in = rd32(g + 4); d->w_in = rd32(g + 8); d->k_h = rd32(g + 12); d->k_w = rd32(g + 16);
    d->stride_h = rd32(g + 20); d->stride_w = rd32(g + 24); d->pad_top = rd32(g + 28); d->pad_left = rd32(g + 32);
    d->pad_bottom = rd32(g + 36); d->pad_right = rd32(g + 40);
}

int32_t eh_op_pool2d_check_geom(eh_check *c, const uint8_t *p, uint32_t cnt)
{
    eh_pool2d_dims d;
    uint64_t ext_h, ext_w;
    uint32_t h_out, w_out, i;
    const uint32_t l = c->l;
    const char *nm = c->nm;
    if (cnt != 11u) return FAIL("layer %u (%s): param 0 (geom): %u entries, expected 11", l, nm, cnt);
    for (i = 0; i < 7u; i++) {
        uint32_t v = rd32(p + 4u * i);
        if (v < 1u || v > GEOM2D_MAXD)
            return FAIL("layer %u (%s): param 0 (geom): %s %u outside [1, 65535]", l, nm, pool2d_geom_names[i], v);
    }
    eh_op_pool2d_dims_of(p, &d);
    for (i = 7; i < 11u; i++) {
        uint32_t v = rd32(p + 4u * i), kk = (i % 2u) ? d.k_h : d.k_w;
        if (v >= kk)
            return FAIL("layer %u (%s): param 0 (geom): %s %u outside [0, %u] (the window - 1)", l, nm, pool2d_geom_names[i], v,
                        kk - 1u);
    }
    ext_h = (uint64_t)d.h_in + d.pad_top + d.pad_bottom;
    ext_w = (uint64_t)d.w_in + d.pad_left + d.pad_right;
    if (ext_h < d.k_h || ext_w < d.k_w)
        return FAIL("layer %u (%s): param 0 (geom): window %u x %u larger than the padded input %U x %U", l, nm, d.k_h, d.k_w, ext_h,
                    ext_w);
    if ((uint64_t)d.c * d.h_in * d.w_in != c->n_in)
        return FAIL("layer %u (%s): param 0 (geom): input c x h_in x w_in = %U, n_in is %u", l, nm, (uint64_t)d.c * d.h_in * d.w_in,
                    c->n_in);
    h_out = (uint32_t)((ext_h - d.k_h) / d.stride_h + 1u);
    w_out = (uint32_t)((ext_w - d.k_w) / d.stride_w + 1u);
    if ((uint64_t)d.c * h_out * w_out != c->n_out)
        return FAIL("layer %u (%s): param 0 (geom): output c x h_out x w_out = %u x %u x %u, n_out is %u", l, nm, d.c, h_out, w_out,
                    c->n_out);
    if (eh_pool2d_out_size(&d, &h_out, &w_out) != EH_OK) /* cannot fail after the checks above */
        return FAIL("layer %u (%s): param 0 (geom): rejected by eh_pool2d_out_size", l, nm);
    return EH_MODEL_OK;
}

/* ---- the reset options of the spiking layers (ops/eh_op_lif.c, ops/eh_op_cubalif.c) ------------ */
int32_t eh_op_lif_check_v_reset(eh_check *c, uint32_t k, const uint8_t *p, uint32_t cnt)
{
    (void)p;
    (void)cnt;
    if (k == c->op->n_params - 1u && c->reset != 3u)
        return eh_op_fail(c->m, EH_MODEL_E_PARAM, "layer %u (%s): param %u (%s): only with reset to a value in the same step (reset 3)",
                          c->l, c->nm, k, c->op->p[k].name);
    return EH_MODEL_OK;
}

void eh_op_lif_reset_f32(const eh_model *m, const uint8_t *r, uint32_t n, float *v, const uint8_t *s, uint32_t k_thr)
{
    const float *thr = (const float *)param(m, r, k_thr), *vr = (const float *)param(m, r, k_thr + 1u);
    uint32_t tstep = param_len(r, k_thr) > 4u, vstep = param_len(r, k_thr + 1u) > 4u;
    if (rd8(r + 1) & 1u) {
        for (uint32_t i = 0; i < n; i++)
            if (s[i]) v[i] = vr ? vr[vstep * i] : 0.0f;
    } else {
        for (uint32_t i = 0; i < n; i++)
            if (s[i]) v[i] = v[i] - thr[tstep * i];
    }
}

void eh_op_lif_reset_q15(const eh_model *m, const uint8_t *r, uint32_t n, int16_t *v, const uint8_t *s, uint32_t k_thr)
{
    const int16_t *thr = (const int16_t *)param(m, r, k_thr), *vr = (const int16_t *)param(m, r, k_thr + 1u);
    uint32_t tstep = param_len(r, k_thr) > 2u, vstep = param_len(r, k_thr + 1u) > 2u;
    if (rd8(r + 1) & 1u) {
        for (uint32_t i = 0; i < n; i++)
            if (s[i]) v[i] = vr ? vr[vstep * i] : 0;
    } else {
        for (uint32_t i = 0; i < n; i++) {
            int32_t t = (int32_t)v[i] - thr[tstep * i];
            if (s[i]) v[i] = (int16_t)(t < -32768 ? -32768 : t);
        }
    }
}
