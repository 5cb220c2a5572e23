/*
 * Helpers shared by the interpreter core and the operators: error messages without printf, the
 * dtype table, and the value checks of the generic parameter kinds (eh_op.h).
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
