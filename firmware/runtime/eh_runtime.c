/* The firmware runtime: protocol dispatch over the HAL. See eh_runtime.h, docs/protocol.md. */
#include "eh_runtime.h"

#include "eh_fw_config.h"
#include "eh_hal.h"
#include "eh_proto.h"

#if defined(EH_HAVE_MODEL) || (defined(__has_include) && __has_include("eh_model.h"))
#define EH_RT_MODEL 1
#include "eh_model.h"
#else
#define EH_RT_MODEL 0
#endif

#define EH_RT_FRAME (EH_FW_MAX_PAYLOAD + EH_PROTO_OVERHEAD)
#define EH_RT_NAK_MSG 48u  /* messages of NAKs to unreadable frames */
#define EH_RT_MSG_MAX 200u /* longest NAK message (the model's error text can be 160) */
#define EH_RT_NAK_FRAME (EH_PROTO_OVERHEAD + 1u + EH_RT_NAK_MSG)

static uint8_t rt_rx[EH_RT_FRAME];
/* The response to the last executed request: also the retry cache. */
static uint8_t rt_tx[EH_RT_FRAME];
static uint32_t rt_tx_len;
static uint8_t rt_cache_valid;
static uint16_t rt_cache_seq;
static uint32_t rt_cache_crc;
/* NAKs of frames that could not be read (never cached). */
static uint8_t rt_nak[EH_RT_NAK_FRAME];
static eh_deframer rt_df;

/* Model loading state. */
static uint8_t rt_blob[EH_FW_BLOB_SIZE] __attribute__((aligned(8)));
static uint32_t rt_load_total, rt_load_received;
static uint8_t rt_load_active;
#if EH_RT_MODEL
static uint8_t rt_arena[EH_FW_ARENA_SIZE] __attribute__((aligned(8)));
static eh_model rt_model;
#endif
static uint8_t rt_model_loaded;

/* Staged INFER (docs/protocol.md, "Staged INFER"): fragments of one input land here; the bits
 * say which fragments arrived. RUN executes it once; its answer is kept in rt_tx (the retry
 * cache) until a version-1 request replaces it. */
#define RT_STAGE_NONE 0u
#define RT_STAGE_FILLING 1u
#define RT_STAGE_DONE 2u
static uint8_t rt_stage[EH_FW_MAX_PAYLOAD] __attribute__((aligned(4)));
static uint8_t rt_stage_bits[EH_SRUN_MAX_FRAGS / 8u];
static uint8_t rt_stage_state, rt_stage_xid, rt_stage_k, rt_stage_cached;
static uint8_t rt_stage_flags;      /* DONE: the RUN's flags (without the tag and TWICE) */
static uint16_t rt_stage_t;         /* DONE: the RUN's T */
static uint32_t rt_stage_crc;       /* DONE: the RUN's input CRC-32 */
/* set by a good fragment or RUN, cleared by a good version-1 frame: while set, frames that
 * cannot be read are not NAKed (the host is sending fragments; NAKs would only flood the link) */
static uint8_t rt_quiet;

/* ---- output ---- */

static void rt_send(const uint8_t *raw, uint32_t n)
{
    /* COBS-encode straight from the frame buffer, one block at a time: no encode buffer. */
    static const uint8_t zero = 0;
    uint32_t pos = 0;
    eh_hal_uart_write(&zero, 1); /* a leading delimiter ends any partial frame at the host */
    for (;;) {
        uint32_t run = 0;
        uint8_t code;
        while (pos + run < n && raw[pos + run] != 0 && run < 254u) run++;
        code = (uint8_t)(run + 1u);
        eh_hal_uart_write(&code, 1);
        if (run) eh_hal_uart_write(raw + pos, run);
        pos += run;
        if (pos == n) break;
        if (run == 254u) continue;
        pos++;
    }
    eh_hal_uart_write(&zero, 1);
}

static uint32_t rt_strcpy(uint8_t *dst, uint32_t cap, const char *s)
{
    uint32_t n = 0;
    if (!s) return 0;
    while (s[n] && n < cap) {
        dst[n] = (uint8_t)s[n];
        n++;
    }
    return n;
}

/* Builds a NAK in buf: payload = request code, message. */
static uint32_t rt_build_nak(uint8_t *buf, uint32_t cap, uint16_t seq, uint8_t flags, int32_t status,
                             uint8_t req_code, const char *msg)
{
    uint8_t *p = buf + EH_PROTO_HEADER;
    uint32_t n = 1;
    uint32_t room = cap - EH_PROTO_OVERHEAD - 1u;
    p[0] = req_code;
    if (room > EH_RT_MSG_MAX) room = EH_RT_MSG_MAX;
    n += rt_strcpy(p + 1, room, msg);
    return eh_frame_finish(buf, cap, (uint8_t)EH_RSP_NAK, seq, (uint8_t)status, flags, n);
}

/* ---- commands: each writes its response payload at rt_tx + EH_PROTO_HEADER ---- */

#define RT_OUT (rt_tx + EH_PROTO_HEADER)
#define RT_OUT_CAP EH_FW_MAX_PAYLOAD

typedef struct {
    int32_t status;   /* EH_PST_OK or a NAK status */
    uint32_t len;     /* response payload length when OK */
    const char *msg;  /* NAK message */
} rt_result;

static rt_result rt_ok(uint32_t len)
{
    rt_result r = {EH_PST_OK, len, 0};
    return r;
}

static rt_result rt_err(int32_t status, const char *msg)
{
    rt_result r = {status, 0, msg};
    return r;
}

static uint32_t rt_put_str(uint8_t *p, uint32_t room, const char *s)
{
    uint32_t n;
    if (room == 0) return 0;
    n = rt_strcpy(p + 1, room - 1u > 255u ? 255u : room - 1u, s);
    p[0] = (uint8_t)n;
    return n + 1u;
}

/* HELLO / BOOT payload (docs/protocol.md). */
static uint32_t rt_info(uint8_t *p, uint32_t cap)
{
    const eh_board_info *b = eh_hal_board();
    uint32_t n = 40;
    uint8_t features = 0;
    uint32_t hash = 0, used = 0, in_b = 0, out_b = 0, layers = 0;
#if EH_RT_MODEL
    /* 4: INFER takes flag bit 0 CONTINUE (no reset); 8: staged INFER (fragments + RUN), docs/protocol.md */
    features |= 1u | 4u | 8u;
    if (rt_model_loaded) {
        hash = eh_model_hash(&rt_model);
        used = eh_model_arena_used(&rt_model);
        in_b = eh_model_input_bytes(&rt_model);
        out_b = eh_model_output_bytes(&rt_model);
        layers = eh_model_n_layers(&rt_model);
    }
    eh_wr32(p + 20, EH_FW_ARENA_SIZE);
#else
    eh_wr32(p + 20, 0);
#endif
    if (rt_model_loaded) features |= 2u;
    p[0] = (uint8_t)EH_PROTO_VERSION;
    p[1] = EH_FW_VERSION_MAJOR;
    p[2] = EH_FW_VERSION_MINOR;
    p[3] = EH_FW_VERSION_PATCH;
    eh_wr16(p + 4, (uint16_t)EH_FW_MAX_PAYLOAD);
    p[6] = features;
    p[7] = 0;
    eh_wr32(p + 8, b->clock_hz);
    eh_wr32(p + 12, hash);
    eh_wr32(p + 16, EH_FW_BLOB_SIZE);
    eh_wr32(p + 24, used);
    eh_wr32(p + 28, in_b);
    eh_wr32(p + 32, out_b);
    eh_wr32(p + 36, layers);
    n += rt_put_str(p + n, cap - n, b->board);
    n += rt_put_str(p + n, cap - n, b->core);
    n += rt_put_str(p + n, cap - n, b->counter_kind);
    return n;
}

static rt_result rt_load_begin(const uint8_t *in, uint32_t n)
{
    uint32_t total;
    if (n != 4) return rt_err(EH_PST_BAD_PAYLOAD, "LOAD_BEGIN takes u32 length");
    total = eh_rd32(in);
    if (total == 0) return rt_err(EH_PST_BAD_PAYLOAD, "blob length is 0");
    if (total > EH_FW_BLOB_SIZE) return rt_err(EH_PST_TOO_BIG, "blob larger than EH_FW_BLOB_SIZE");
    rt_model_loaded = 0; /* the blob buffer is about to change under the model */
    rt_load_total = total;
    rt_load_received = 0;
    rt_load_active = 1;
    eh_wr32(RT_OUT, EH_FW_BLOB_SIZE);
    return rt_ok(4);
}

static rt_result rt_load_chunk(const uint8_t *in, uint32_t n)
{
    uint32_t off, len;
    if (n < 5) return rt_err(EH_PST_BAD_PAYLOAD, "LOAD_CHUNK takes u32 offset and data");
    if (!rt_load_active) return rt_err(EH_PST_LOAD_STATE, "LOAD_CHUNK without LOAD_BEGIN");
    off = eh_rd32(in);
    len = n - 4u;
    if (off > rt_load_received) return rt_err(EH_PST_LOAD_STATE, "chunk offset leaves a gap");
    if (off > rt_load_total || len > rt_load_total - off)
        return rt_err(EH_PST_LOAD_STATE, "chunk beyond the announced length");
    for (uint32_t i = 0; i < len; i++) rt_blob[off + i] = in[4 + i];
    if (off + len > rt_load_received) rt_load_received = off + len;
    eh_wr32(RT_OUT, rt_load_received);
    return rt_ok(4);
}

static rt_result rt_load_commit(const uint8_t *in, uint32_t n)
{
    if (n != 8) return rt_err(EH_PST_BAD_PAYLOAD, "LOAD_COMMIT takes u32 length, u32 crc");
    if (!rt_load_active) return rt_err(EH_PST_LOAD_STATE, "LOAD_COMMIT without LOAD_BEGIN");
    if (eh_rd32(in) != rt_load_total) return rt_err(EH_PST_LOAD_STATE, "length differs from LOAD_BEGIN");
    if (rt_load_received != rt_load_total) return rt_err(EH_PST_LOAD_STATE, "blob incomplete");
    rt_load_active = 0;
    if (eh_crc32(0, rt_blob, rt_load_total) != eh_rd32(in + 4))
        return rt_err(EH_PST_LOAD_CRC, "blob CRC-32 mismatch");
#if EH_RT_MODEL
    if (eh_model_load(&rt_model, rt_blob, rt_load_total, rt_arena, EH_FW_ARENA_SIZE) < 0)
        return rt_err(EH_PST_MODEL, eh_model_error(&rt_model));
    rt_model_loaded = 1;
    eh_wr32(RT_OUT + 0, eh_model_hash(&rt_model));
    eh_wr32(RT_OUT + 4, eh_model_arena_used(&rt_model));
    eh_wr32(RT_OUT + 8, eh_model_input_bytes(&rt_model));
    eh_wr32(RT_OUT + 12, eh_model_output_bytes(&rt_model));
    eh_wr32(RT_OUT + 16, eh_model_n_layers(&rt_model));
    return rt_ok(20);
#else
    return rt_err(EH_PST_UNSUPPORTED, "firmware built without model support");
#endif
}

#if EH_RT_MODEL
static rt_result rt_need_model(void)
{
    return rt_model_loaded ? rt_ok(0) : rt_err(EH_PST_NO_MODEL, "no model loaded");
}

static rt_result rt_infer(const uint8_t *in, uint32_t n)
{
    rt_result r = rt_need_model();
    uint32_t steps, flags, in_b, out_len = 0, t0, t1;
    if (r.status) return r;
    if (n < 4) return rt_err(EH_PST_BAD_PAYLOAD, "INFER takes u16 steps, u16 flags, input");
    steps = eh_rd16(in);
    flags = eh_rd16(in + 2);
    if (flags & ~(uint32_t)EH_INFER_CONTINUE) return rt_err(EH_PST_BAD_PAYLOAD, "INFER flags: only bit 0 (CONTINUE) is defined");
    in_b = eh_model_input_bytes(&rt_model);
    /* n <= EH_FW_MAX_PAYLOAD < 2^16, so steps * in_b cannot wrap once in_b <= n */
    if (steps == 0 || in_b == 0 || in_b > n || n - 4u != steps * in_b)
        return rt_err(EH_PST_BAD_PAYLOAD, "INFER input is not steps * input bytes");
    if (eh_model_output_bytes(&rt_model) > RT_OUT_CAP - 8u)
        return rt_err(EH_PST_TOO_BIG, "model output larger than a frame");
    t0 = eh_hal_counter();
    /* CONTINUE: keep the state (a long input split over several frames), as T STEPs would */
    if (!(flags & EH_INFER_CONTINUE) && eh_model_reset_state(&rt_model) < 0)
        return rt_err(EH_PST_MODEL, eh_model_error(&rt_model));
    for (uint32_t t = 0; t < steps; t++) {
        if (eh_model_step(&rt_model, in + 4 + t * in_b, in_b, RT_OUT + 8, RT_OUT_CAP - 8u, &out_len) < 0)
            return rt_err(EH_PST_MODEL, eh_model_error(&rt_model));
    }
    t1 = eh_hal_counter();
    eh_wr32(RT_OUT, t1 - t0);
    eh_wr16(RT_OUT + 4, (uint16_t)steps);
    eh_wr16(RT_OUT + 6, (uint16_t)out_len);
    return rt_ok(8u + out_len);
}

static rt_result rt_step(const uint8_t *in, uint32_t n)
{
    rt_result r = rt_need_model();
    uint32_t out_len = 0, t0, t1;
    if (r.status) return r;
    if (n != eh_model_input_bytes(&rt_model)) return rt_err(EH_PST_BAD_PAYLOAD, "STEP input size differs from the model's");
    if (eh_model_output_bytes(&rt_model) > RT_OUT_CAP - 4u)
        return rt_err(EH_PST_TOO_BIG, "model output larger than a frame");
    t0 = eh_hal_counter();
    if (eh_model_step(&rt_model, in, n, RT_OUT + 4, RT_OUT_CAP - 4u, &out_len) < 0)
        return rt_err(EH_PST_MODEL, eh_model_error(&rt_model));
    t1 = eh_hal_counter();
    eh_wr32(RT_OUT, t1 - t0);
    return rt_ok(4u + out_len);
}

static rt_result rt_reset_state(uint32_t n)
{
    rt_result r = rt_need_model();
    if (r.status) return r;
    if (n != 0) return rt_err(EH_PST_BAD_PAYLOAD, "RESET_STATE takes no payload");
    if (eh_model_reset_state(&rt_model) < 0) return rt_err(EH_PST_MODEL, eh_model_error(&rt_model));
    return rt_ok(0);
}

/* TRACE refusals name the layer and the count, e.g. "TRACE layer 7: no such layer, the model
 * has 5 layers (0..4)", built in a static buffer (no printf on the device). */
static char rt_trace_msg[128];
static uint32_t rt_trace_len;

static void rt_msg_str(const char *s)
{
    while (*s && rt_trace_len < sizeof rt_trace_msg - 1u) rt_trace_msg[rt_trace_len++] = *s++;
    rt_trace_msg[rt_trace_len] = 0;
}

static void rt_msg_dec(uint32_t v)
{
    char tmp[11];
    uint32_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n && rt_trace_len < sizeof rt_trace_msg - 1u) rt_trace_msg[rt_trace_len++] = tmp[--n];
    rt_trace_msg[rt_trace_len] = 0;
}

static void rt_msg_layer(uint32_t layer)
{
    rt_trace_len = 0;
    rt_msg_str("TRACE layer ");
    rt_msg_dec(layer);
    rt_msg_str(": ");
}

static rt_result rt_trace(const uint8_t *in, uint32_t n)
{
    rt_result r = rt_need_model();
    const uint8_t *data = 0;
    uint32_t len = 0, off, chunk, layer, n_layers;
    int32_t rc;
    uint8_t dtype = 0;
    if (r.status) return r;
    if (n != 8 || eh_rd16(in + 2) != 0) return rt_err(EH_PST_BAD_PAYLOAD, "TRACE takes u16 layer, u16 0, u32 offset");
    layer = eh_rd16(in);
    n_layers = eh_model_n_layers(&rt_model);
    if (layer >= n_layers) {
        rt_msg_layer(layer);
        rt_msg_str("no such layer, the model has ");
        rt_msg_dec(n_layers);
        rt_msg_str(" layers (0..");
        rt_msg_dec(n_layers - 1u);
        rt_msg_str(")");
        return rt_err(EH_PST_MODEL, rt_trace_msg);
    }
    rc = eh_model_layer_output(&rt_model, layer, &data, &len, &dtype);
    if (rc < 0) {
        rt_msg_layer(layer);
        if (rc == EH_MODEL_E_CLOBBERED) {
            rt_msg_str("its output is reused by a later layer in the arena plan (layers 0..");
            rt_msg_dec(n_layers - 1u);
            rt_msg_str("; convert with --no-reuse to trace it)");
        } else {
            rt_msg_str("refused by the model (");
            rt_msg_str(eh_model_status_str(rc));
            rt_msg_str("), layers 0..");
            rt_msg_dec(n_layers - 1u);
        }
        return rt_err(EH_PST_MODEL, rt_trace_msg);
    }
    off = eh_rd32(in + 4);
    if (off > len) {
        rt_msg_layer(layer);
        rt_msg_str("offset ");
        rt_msg_dec(off);
        rt_msg_str(" beyond its output of ");
        rt_msg_dec(len);
        rt_msg_str(" bytes");
        return rt_err(EH_PST_BAD_PAYLOAD, rt_trace_msg);
    }
    chunk = len - off;
    if (chunk > RT_OUT_CAP - 12u) chunk = RT_OUT_CAP - 12u;
    RT_OUT[0] = dtype;
    RT_OUT[1] = 0;
    eh_wr16(RT_OUT + 2, (uint16_t)n_layers);
    eh_wr32(RT_OUT + 4, len);
    eh_wr32(RT_OUT + 8, off);
    for (uint32_t i = 0; i < chunk; i++) RT_OUT[12 + i] = data[off + i];
    return rt_ok(12u + chunk);
}
#endif

/* ---- staged INFER: fragments and RUN (docs/protocol.md, "Staged INFER") ---- */

/* xid a is newer than b (7-bit serial numbers: 1..63 ahead) */
static int rt_xid_newer(uint32_t a, uint32_t b)
{
    uint32_t d = (a - b) & 0x7Fu;
    return d != 0 && d < 64u;
}

static void rt_stage_adopt(uint8_t xid, uint8_t k)
{
    rt_stage_state = RT_STAGE_FILLING;
    rt_stage_xid = xid;
    rt_stage_k = k;
    rt_stage_cached = 0;
    for (uint32_t i = 0; i < sizeof rt_stage_bits; i++) rt_stage_bits[i] = 0;
}

static void rt_fragment(const uint8_t *f, uint32_t n)
{
    uint32_t k, idx;
    uint8_t xid;
    if (n < EH_FRAG_OVERHEAD + 1u || n > EH_FRAG_OVERHEAD + 255u) return;
    if (eh_crc16(f, n - 2u) != eh_rd16(f + n - 2u)) return; /* damaged: dropped, never answered */
    rt_quiet = 1;
    xid = (uint8_t)(f[0] & 0x7Fu);
    idx = f[1];
    k = n - EH_FRAG_OVERHEAD;
    if (rt_stage_state != RT_STAGE_NONE && xid == rt_stage_xid) {
        if (rt_stage_state == RT_STAGE_DONE || k != rt_stage_k) return;
    } else if (rt_stage_state == RT_STAGE_NONE || rt_xid_newer(xid, rt_stage_xid)) {
        rt_stage_adopt(xid, (uint8_t)k);
    } else {
        return; /* a fragment of an older transfer */
    }
    if ((idx + 1u) * k > sizeof rt_stage) return;
    for (uint32_t i = 0; i < k; i++) rt_stage[idx * k + i] = f[2u + i];
    rt_stage_bits[idx >> 3] |= (uint8_t)(1u << (idx & 7u));
}

/* Finishes a compact answer in buf (kind, xid and body already there): appends the CRC-32. */
static uint32_t rt_sans_finish(uint8_t *buf, uint32_t len)
{
    eh_wr32(buf + len, eh_crc32(0, buf, len));
    return len + 4u;
}

static uint32_t rt_sans_refused(uint8_t *buf, uint32_t cap, uint8_t xid, int32_t status, const char *msg)
{
    buf[0] = (uint8_t)EH_SANS_REFUSED;
    buf[1] = xid;
    buf[2] = (uint8_t)status;
    return rt_sans_finish(buf, 3u + rt_strcpy(buf + 3, cap - 7u, msg));
}

static void rt_send_n(const uint8_t *raw, uint32_t n, uint32_t copies)
{
    while (copies--) rt_send(raw, n);
}

static void rt_srun(const uint8_t *f, uint32_t n)
{
    uint8_t xid, k, flags, tag;
    uint32_t t, crc, copies, len, nfrag = 0;
    if (n != EH_SRUN_LEN || eh_crc32(0, f, n - 4u) != eh_rd32(f + n - 4u)) return; /* dropped */
    rt_quiet = 1;
    xid = (uint8_t)(f[1] & 0x7Fu);
    k = f[2];
    flags = (uint8_t)(f[3] & EH_SRUN_CONTINUE);
    tag = (uint8_t)(f[3] >> EH_SRUN_TAG_SHIFT);
    copies = 1u + ((f[3] >> EH_SRUN_COPIES_SHIFT) & 3u);
    t = eh_rd16(f + 4);
    crc = eh_rd32(f + 6);
    if (rt_stage_state == RT_STAGE_DONE && xid == rt_stage_xid) {
        /* already run: the same request is answered from the cache, never run twice */
        if (rt_stage_cached && k == rt_stage_k && flags == rt_stage_flags && t == rt_stage_t && crc == rt_stage_crc)
            rt_send_n(rt_tx, rt_tx_len, copies);
        else
            rt_send_n(rt_nak, rt_sans_refused(rt_nak, sizeof rt_nak, xid, EH_PST_STAGE,
                                              "transfer already run, its answer is no longer held"), copies);
        return;
    }
    if (rt_stage_state == RT_STAGE_NONE || (xid != rt_stage_xid && rt_xid_newer(xid, rt_stage_xid)))
        rt_stage_adopt(xid, k);
    if (xid != rt_stage_xid) {
        rt_send_n(rt_nak, rt_sans_refused(rt_nak, sizeof rt_nak, xid, EH_PST_STAGE, "stale transfer id"), copies);
        return;
    }
#if EH_RT_MODEL
    {
        uint32_t in_b = rt_model_loaded ? eh_model_input_bytes(&rt_model) : 0, total, out_len = 0, t0, t1;
        const char *why = 0;
        int32_t st = EH_PST_BAD_PAYLOAD;
        if (!rt_model_loaded) { st = EH_PST_NO_MODEL; why = "no model loaded"; }
        else if (k == 0 || t == 0 || in_b == 0) why = "RUN: k and T must be >= 1";
        if (!why) {
            total = t * in_b; /* t < 2^16, in_b <= the blob: no wrap on 32 bits for sane models */
            nfrag = (total + k - 1u) / k;
            if (total > sizeof rt_stage || nfrag > EH_SRUN_MAX_FRAGS || nfrag * k > sizeof rt_stage) {
                st = EH_PST_TOO_BIG;
                why = "staged input larger than the staging buffer";
            } else if (eh_model_output_bytes(&rt_model) > sizeof rt_tx - 10u) {
                st = EH_PST_TOO_BIG;
                why = "model output larger than a frame";
            }
        }
        if (why) {
            rt_send_n(rt_nak, rt_sans_refused(rt_nak, sizeof rt_nak, xid, st, why), copies);
            return;
        }
        if (k != rt_stage_k) rt_stage_adopt(xid, k);
        for (uint32_t i = 0; i < nfrag; i++) {
            if (!(rt_stage_bits[i >> 3] & (1u << (i & 7u)))) goto missing;
        }
        if (eh_crc32(0, rt_stage, total) != crc) {
            rt_stage_adopt(xid, k); /* a fragment that passed its CRC-16 damaged: send all again */
            goto missing;
        }
        /* run it, once: from here a repeat is answered from rt_tx */
        rt_stage_state = RT_STAGE_DONE;
        rt_stage_flags = flags;
        rt_stage_t = (uint16_t)t;
        rt_stage_crc = crc;
        rt_stage_cached = 1;
        rt_cache_valid = 0; /* rt_tx no longer holds a version-1 answer */
        t0 = eh_hal_counter();
        if (!(flags & EH_SRUN_CONTINUE) && eh_model_reset_state(&rt_model) < 0) {
            len = rt_sans_refused(rt_tx, sizeof rt_tx, xid, EH_PST_MODEL, eh_model_error(&rt_model));
        } else {
            len = 0;
            for (uint32_t s = 0; s < t && !len; s++) {
                if (eh_model_step(&rt_model, rt_stage + s * in_b, in_b, rt_tx + 6, sizeof rt_tx - 10u, &out_len) < 0)
                    len = rt_sans_refused(rt_tx, sizeof rt_tx, xid, EH_PST_MODEL, eh_model_error(&rt_model));
            }
            if (!len) {
                t1 = eh_hal_counter();
                rt_tx[0] = (uint8_t)EH_SANS_DONE;
                rt_tx[1] = xid;
                eh_wr32(rt_tx + 2, t1 - t0);
                len = rt_sans_finish(rt_tx, 6u + out_len);
            }
        }
        rt_tx_len = len;
        rt_send_n(rt_tx, rt_tx_len, copies);
        return;
    }
missing:
    {
        /* the received bits, or the missing indices when fewer bytes (a short answer gets through) */
        uint32_t m = 0;
        len = (nfrag + 7u) / 8u;
        for (uint32_t i = 0; i < nfrag; i++)
            if (!(rt_stage_bits[i >> 3] & (1u << (i & 7u)))) m++;
        rt_nak[1] = xid;
        rt_nak[2] = tag;
        rt_nak[3] = (uint8_t)(nfrag - 1u); /* n fragments - 1 (1..256) */
        if (m < len) {
            rt_nak[0] = (uint8_t)EH_SANS_MISSING_LIST;
            m = 0;
            for (uint32_t i = 0; i < nfrag; i++)
                if (!(rt_stage_bits[i >> 3] & (1u << (i & 7u)))) rt_nak[4u + m++] = (uint8_t)i;
            len = m;
        } else {
            rt_nak[0] = (uint8_t)EH_SANS_MISSING;
            for (uint32_t i = 0; i < len; i++) {
                uint8_t b = rt_stage_bits[i];
                if (i == len - 1u && (nfrag & 7u)) b &= (uint8_t)((1u << (nfrag & 7u)) - 1u);
                rt_nak[4u + i] = b;
            }
        }
        rt_send_n(rt_nak, rt_sans_finish(rt_nak, 4u + len), copies);
    }
#else
    (void)k; (void)flags; (void)tag; (void)t; (void)crc; (void)nfrag; (void)len;
    rt_send_n(rt_nak, rt_sans_refused(rt_nak, sizeof rt_nak, xid, EH_PST_UNSUPPORTED,
                                      "firmware built without model support"), copies);
#endif
}

static rt_result rt_dispatch(uint8_t code, const uint8_t *in, uint32_t n)
{
    uint32_t i;
    switch (code) {
    case EH_CMD_HELLO:
        if (n != 0) return rt_err(EH_PST_BAD_PAYLOAD, "HELLO takes no payload");
        return rt_ok(rt_info(RT_OUT, RT_OUT_CAP));
    case EH_CMD_PING:
        if (n != 0) return rt_err(EH_PST_BAD_PAYLOAD, "PING takes no payload");
        return rt_ok(0);
    case EH_CMD_ECHO:
        for (i = 0; i < n; i++) RT_OUT[i] = in[i];
        return rt_ok(n);
    case EH_CMD_LOAD_BEGIN:
        return rt_load_begin(in, n);
    case EH_CMD_LOAD_CHUNK:
        return rt_load_chunk(in, n);
    case EH_CMD_LOAD_COMMIT:
        return rt_load_commit(in, n);
#if EH_RT_MODEL
    case EH_CMD_INFER:
        return rt_infer(in, n);
    case EH_CMD_STEP:
        return rt_step(in, n);
    case EH_CMD_RESET_STATE:
        return rt_reset_state(n);
    case EH_CMD_TRACE:
        return rt_trace(in, n);
#else
    case EH_CMD_INFER:
    case EH_CMD_STEP:
    case EH_CMD_RESET_STATE:
    case EH_CMD_TRACE:
        return rt_err(EH_PST_UNSUPPORTED, "firmware built without model support");
#endif
    default:
        return rt_err(EH_PST_UNKNOWN_CMD, "unknown command");
    }
}

/* byte 0 of a compact frame of staged INFER (fragments and RUN), never of a version-1 frame */
static int rt_compact(uint32_t n)
{
    return n > 0 && (rt_rx[0] >= EH_FRAG_BIT || rt_rx[0] == EH_SRUN);
}

static void rt_nak_unread(int32_t status, uint32_t n)
{
    /* The frame could not be trusted: report what could be read of its header, uncached.
     * Not while fragments come in (rt_quiet) nor for what starts as a compact frame. */
    eh_frame_hdr h;
    uint32_t len;
    if (rt_quiet || rt_compact(n)) return;
    (void)eh_frame_parse(rt_rx, n, &h, 0);
    len = rt_build_nak(rt_nak, sizeof rt_nak, h.seq, 0, status, h.code,
                       status == EH_PST_OVERSIZE ? "frame larger than the device buffer" : "frame rejected");
    if (len) rt_send(rt_nak, len);
}

static void rt_handle(uint32_t n)
{
    eh_frame_hdr h;
    const uint8_t *payload = 0;
    int32_t st = eh_frame_parse(rt_rx, n, &h, &payload);
    uint32_t crc;
    rt_result r;

    if (rt_compact(n)) {
        if (rt_rx[0] == EH_SRUN) rt_srun(rt_rx, n);
        else rt_fragment(rt_rx, n);
        return;
    }
    if (st == EH_PST_VERSION) {
        /* CRC checked: the seq is real; answer in our version so the host can tell. */
        uint32_t len = rt_build_nak(rt_nak, sizeof rt_nak, h.seq, EH_FLAG_SEQ_VALID, st, h.code,
                                    "protocol version not supported");
        if (len) rt_send(rt_nak, len);
        return;
    }
    if (st != EH_PST_OK) {
        rt_nak_unread(st, n);
        return;
    }
    rt_quiet = 0;
    crc = eh_rd32(rt_rx + n - EH_PROTO_CRC);
    if (h.code != EH_CMD_HELLO && rt_cache_valid && h.seq == rt_cache_seq && crc == rt_cache_crc) {
        rt_send(rt_tx, rt_tx_len); /* a retransmission: the cached answer, not a second execution */
        return;
    }
    if (h.code == EH_CMD_HELLO) rt_stage_state = RT_STAGE_NONE; /* a new host: forget transfers */
    r = rt_dispatch(h.code, payload, h.length);
    rt_stage_cached = 0; /* rt_tx now holds this answer */
    if (r.status == EH_PST_OK)
        rt_tx_len = eh_frame_finish(rt_tx, sizeof rt_tx, (uint8_t)(h.code | EH_RSP_BIT), h.seq, 0, 0, r.len);
    else
        rt_tx_len = rt_build_nak(rt_tx, sizeof rt_tx, h.seq, EH_FLAG_SEQ_VALID, r.status, h.code,
                                 r.msg ? r.msg : "");
    rt_cache_valid = rt_tx_len != 0;
    rt_cache_seq = h.seq;
    rt_cache_crc = crc;
    if (rt_tx_len) rt_send(rt_tx, rt_tx_len);
}

void eh_runtime_feed(uint8_t byte)
{
    int32_t r = eh_deframer_push(&rt_df, byte);
    if (r == EH_DF_FRAME) rt_handle(rt_df.len);
    else if (r < 0) rt_nak_unread(-r, rt_df.len);
}

void eh_runtime_init(void)
{
    uint32_t len;
    eh_deframer_init(&rt_df, rt_rx, sizeof rt_rx);
    rt_cache_valid = 0;
    rt_load_active = 0;
    rt_model_loaded = 0;
    rt_stage_state = RT_STAGE_NONE;
    rt_stage_cached = 0;
    rt_quiet = 0;
    len = eh_frame_finish(rt_tx, sizeof rt_tx, (uint8_t)EH_EVT_BOOT, 0, 0, 0, rt_info(RT_OUT, RT_OUT_CAP));
    if (len) rt_send(rt_tx, len);
}

void eh_runtime_run(void)
{
    eh_runtime_init();
    for (;;) {
        uint8_t b;
        if (eh_hal_uart_read(&b)) eh_runtime_feed(b);
        else eh_hal_idle(); /* sleep until a byte may have come (docs/DEVELOPING.md) */
    }
}
