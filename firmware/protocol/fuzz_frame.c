/*
 * libFuzzer target of the device side of the link: the COBS deframer, the frame header and CRC
 * checks (eh_proto.c) and every command's payload parser with the model interpreter behind it
 * (firmware/runtime/eh_runtime.c), driven through eh_runtime_feed() exactly as the UART does.
 * Built with ASan+UBSan by bench/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
 *
 * The input is a program of operations, so that mutations reach the parsers behind the CRC:
 *   op % 4 == 0  RAW   u8 n, n bytes fed as they are (line noise, partial frames, bad COBS)
 *   op % 4 == 1  REQ   u8 code, u16 seq, u16 n, n payload bytes: a frame with a correct CRC,
 *                      sent as 0x00 COBS 0x00; op bit 4: then xor frame[k] with x (u8 k, u8 x);
 *                      bit 5: version byte from the input (u8); bit 6: no final delimiter
 *   op % 4 == 2  LOAD  u8 mode, u16 n, n blob bytes: LOAD_BEGIN n, LOAD_CHUNKs, LOAD_COMMIT n crc;
 *                      mode bit 0: repair the blob's hash and CRC first (as fuzz_model_load.c);
 *                      bit 1: a wrong CRC in COMMIT; bits 2..3: chunk size (max, 61, 7, 100);
 *                      n is taken modulo 16 KiB (the seeds' blobs are a few KiB)
 *   op % 4 == 3  RUN   u8 kind: 0 STEP (the loaded model's input size), 1 INFER (u8 steps),
 *                      2 TRACE (u16 layer, u32 offset), 3 RESET_STATE, 4 HELLO, 5 PING,
 *                      6 FRAGMENT (u8 xid, u8 index, u8 k, k bytes; op bit 4: xor byte u8 with u8),
 *                      7 staged RUN as it comes (u8 xid, u8 k, u8 flags, u16 T, u32 input CRC),
 *                      8 a whole staged INFER (u8 xid, u8 k, u8 steps, u8 flags, u32 fragments to
 *                        skip (bit i: fragment i not sent), the rows), its RUN sent twice
 * Invariants checked (abort on violation): every byte the device sends decodes into frames with
 * a good CRC and version 1, or into compact answers of staged INFER with a good CRC-32; an intact
 * request gets as its last frame the answer with its seq (the response code, or a NAK with
 * SEQ_VALID naming the request code); every NAK with SEQ_VALID to a TRACE carries a message;
 * a fragment is never answered; an intact RUN gets only compact answers of its transfer id, and
 * a repeated RUN after DONE the same DONE bytes (run once, answered from the cache).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eh_fw_config.h"
#include "eh_hal.h"
#include "eh_proto.h"
#include "eh_runtime.h"

/* ---- HAL: the UART output goes into a buffer the checks decode ---- */

static const eh_board_info fz_info = {"fuzz", "host", 1000000u, "calls"};
static uint8_t fz_out[1u << 16];
static uint32_t fz_out_len;
static uint32_t fz_counter;

void eh_hal_init(void) {}
const eh_board_info *eh_hal_board(void) { return &fz_info; }
uint32_t eh_hal_counter(void) { return ++fz_counter; }
int eh_hal_uart_read(uint8_t *byte) { (void)byte; return 0; }
void eh_hal_idle(void) {}
void eh_hal_exit(int code) { (void)code; abort(); }

void eh_hal_uart_write(const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (fz_out_len < sizeof fz_out) fz_out[fz_out_len++] = buf[i];
}

/* ---- input reader ---- */

typedef struct {
    const uint8_t *p;
    size_t n;
} fz_in;

static uint32_t get8(fz_in *in)
{
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static uint32_t get16(fz_in *in) { uint32_t a = get8(in); return a | (get8(in) << 8); }
static uint32_t get32(fz_in *in) { uint32_t a = get16(in); return a | (get16(in) << 16); }

static uint32_t take(fz_in *in, uint8_t *dst, uint32_t want)
{
    uint32_t k = want < in->n ? want : (uint32_t)in->n;
    memcpy(dst, in->p, k);
    in->p += k;
    in->n -= k;
    return k;
}

/* ---- the device's answers ---- */

#define FZ_FRAME (EH_FW_MAX_PAYLOAD + EH_PROTO_OVERHEAD)

typedef struct {
    uint8_t code, flags, status;
    uint16_t seq;
    uint32_t len;
    uint8_t payload[FZ_FRAME];
} fz_answer;

static fz_answer fz_last;
static uint8_t fz_sans[FZ_FRAME];   /* the last compact answer of staged INFER */
static uint32_t fz_sans_len, fz_sans_count;
static uint32_t fz_in_bytes;   /* the loaded model's input bytes (from LOAD_COMMIT's answer) */
static uint32_t fz_n_layers;

/* Decodes everything sent since `from`; every frame must be whole and valid. Returns the
 * number of frames (the last one in fz_last). */
static uint32_t fz_check_output(uint32_t from)
{
    static uint8_t buf[FZ_FRAME + 16];
    eh_deframer d;
    uint32_t frames = 0;
    eh_deframer_init(&d, buf, sizeof buf);
    for (uint32_t i = from; i < fz_out_len; i++) {
        int32_t r = eh_deframer_push(&d, fz_out[i]);
        eh_frame_hdr h;
        const uint8_t *pl;
        if (r == EH_DF_NONE) continue;
        if (r != EH_DF_FRAME) abort();                                   /* bad COBS from the device */
        if (d.len > 0 && buf[0] >= EH_SANS_DONE && buf[0] <= EH_SANS_MISSING_LIST) {
            /* a compact answer of staged INFER: whole, with its CRC-32 */
            if (d.len < 6 || eh_crc32(0, buf, d.len - 4u) != eh_rd32(buf + d.len - 4u)) abort();
            memcpy(fz_sans, buf, d.len);
            fz_sans_len = d.len;
            fz_sans_count++;
            continue;
        }
        if (eh_frame_parse(buf, d.len, &h, &pl) != EH_PST_OK) abort();  /* bad CRC / length / version */
        fz_last.code = h.code;
        fz_last.flags = h.flags;
        fz_last.status = h.status;
        fz_last.seq = h.seq;
        fz_last.len = h.length;
        memcpy(fz_last.payload, pl, h.length);
        frames++;
    }
    if (d.raw != 0) abort(); /* the device left a frame unfinished */
    return frames;
}

static void fz_feed(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) eh_runtime_feed(p[i]);
}

/* Sends one request (a frame with a good CRC) and checks its answer. */
static const fz_answer *fz_request(uint8_t code, uint16_t seq, const uint8_t *payload, uint32_t n)
{
    static uint8_t raw[FZ_FRAME + 64], enc[EH_COBS_MAX(FZ_FRAME + 64) + 2];
    uint32_t len, elen, mark;
    static const uint8_t zero = 0;
    fz_out_len = 0; /* each request's answers are checked on their own */
    mark = 0;
    if (n > EH_FW_MAX_PAYLOAD + 32u) n = EH_FW_MAX_PAYLOAD + 32u;
    memcpy(raw + EH_PROTO_HEADER, payload, n);
    len = eh_frame_finish(raw, sizeof raw, code, seq, 0, 0, n);
    if (!len) abort();
    elen = eh_cobs_encode(raw, len, enc, sizeof enc);
    if (!elen) abort();
    fz_feed(&zero, 1);
    fz_feed(enc, elen);
    fz_feed(&zero, 1);
    if (fz_check_output(mark) == 0) {
        /* no answer at all: only an oversize frame while staged INFER's fragments come in (the
           device NAKs no unreadable frame then, docs/protocol.md) */
        if (n > EH_FW_MAX_PAYLOAD) return &fz_last;
        abort();
    }
    if (n <= EH_FW_MAX_PAYLOAD) {
        /* fits the device buffer: answered as itself */
        if (fz_last.seq != seq) abort();
        if (fz_last.code == EH_RSP_NAK) {
            if (!(fz_last.flags & EH_FLAG_SEQ_VALID) || fz_last.len < 1 || fz_last.payload[0] != code) abort();
            if (code == EH_CMD_TRACE && fz_last.len < 2) abort(); /* a TRACE refusal says why */
        } else if (fz_last.code != (uint8_t)(code | EH_RSP_BIT)) {
            abort();
        }
    } else if (fz_last.code != EH_RSP_NAK || fz_last.status != EH_PST_OVERSIZE) {
        abort();
    }
    return &fz_last;
}

static uint16_t fz_seq;

static uint16_t next_seq(void)
{
    if (++fz_seq == 0) fz_seq = 1;
    return fz_seq;
}

static void op_raw(fz_in *in)
{
    uint8_t buf[256];
    uint32_t n = take(in, buf, get8(in));
    uint32_t mark = fz_out_len;
    fz_feed(buf, n);
    (void)fz_check_output(mark);
}

static void op_req(fz_in *in, uint32_t op)
{
    static uint8_t payload[EH_FW_MAX_PAYLOAD + 64];
    static uint8_t raw[FZ_FRAME + 64], enc[EH_COBS_MAX(FZ_FRAME + 64) + 2];
    static const uint8_t zero = 0;
    uint8_t code = (uint8_t)get8(in);
    uint16_t seq = (uint16_t)get16(in);
    uint32_t n = get16(in) % (EH_FW_MAX_PAYLOAD + 64u), len, elen, mark = fz_out_len;
    n = take(in, payload, n);
    if (!(op & 0x70u)) {
        (void)fz_request(code, seq, payload, n);
        return;
    }
    memcpy(raw + EH_PROTO_HEADER, payload, n);
    len = eh_frame_finish(raw, sizeof raw, code, seq, 0, 0, n);
    if (!len) abort();
    if (op & 0x10u) {
        uint32_t k = get8(in);
        raw[k % len] ^= (uint8_t)get8(in);
    }
    if (op & 0x20u) raw[0] = (uint8_t)get8(in);
    elen = eh_cobs_encode(raw, len, enc, sizeof enc);
    fz_feed(&zero, 1);
    fz_feed(enc, elen);
    if (!(op & 0x40u)) fz_feed(&zero, 1);
    else {
        fz_feed(&zero, 1); /* end the partial frame before checking: the device must answer it */
    }
    (void)fz_check_output(mark);
}

static void repair(uint8_t *b, uint32_t n)
{
    uint32_t total, h = 2166136261u;
    if (n < 64) return;
    total = eh_rd32(b + 12);
    if (total < 24 || total > n) return;
    for (uint32_t i = 24; i < total; i++) h = (h ^ b[i]) * 16777619u;
    eh_wr32(b + 20, h);
    eh_wr32(b + 16, eh_crc32(0, b + 20, total - 20));
}

static void op_load(fz_in *in)
{
    static uint8_t blob[1u << 16];
    static uint8_t pl[EH_FW_MAX_PAYLOAD];
    static const uint32_t sizes[4] = {EH_FW_MAX_PAYLOAD - 4u, 61u, 7u, 100u};
    uint32_t mode = get8(in);
    uint32_t n = take(in, blob, get16(in) % (16u * 1024u));
    uint32_t chunk = sizes[(mode >> 2) & 3u], crc;
    const fz_answer *a;
    if (mode & 1u) repair(blob, n);
    eh_wr32(pl, n);
    a = fz_request(EH_CMD_LOAD_BEGIN, next_seq(), pl, 4);
    if (a->code == EH_RSP_NAK) return;
    fz_in_bytes = 0;
    for (uint32_t off = 0; off < n; off += chunk) {
        uint32_t k = n - off < chunk ? n - off : chunk;
        eh_wr32(pl, off);
        memcpy(pl + 4, blob + off, k);
        a = fz_request(EH_CMD_LOAD_CHUNK, next_seq(), pl, 4u + k);
        if (a->code == EH_RSP_NAK) abort(); /* in-order chunks of an announced blob are accepted */
    }
    crc = eh_crc32(0, blob, n) ^ ((mode & 2u) ? 1u : 0u);
    eh_wr32(pl, n);
    eh_wr32(pl + 4, crc);
    a = fz_request(EH_CMD_LOAD_COMMIT, next_seq(), pl, 8);
    if (a->code != EH_RSP_NAK && a->len == 20) {
        fz_in_bytes = eh_rd32(a->payload + 8);
        fz_n_layers = eh_rd32(a->payload + 16);
    }
}

/* sends a decoded compact frame as 0x00 COBS 0x00 */
static void fz_send_compact(const uint8_t *raw, uint32_t n)
{
    static uint8_t enc[EH_COBS_MAX(FZ_FRAME + 64) + 2];
    static const uint8_t zero = 0;
    uint32_t elen = eh_cobs_encode(raw, n, enc, sizeof enc);
    if (!elen) abort();
    fz_feed(&zero, 1);
    fz_feed(enc, elen);
    fz_feed(&zero, 1);
}

/* ends whatever partial frame an earlier RAW op left (the device may NAK it), then forgets
 * the output, so that the checks see only the answers to what follows */
static void fz_end_partial(void)
{
    static const uint8_t zero = 0;
    uint32_t mark = fz_out_len;
    fz_feed(&zero, 1);
    (void)fz_check_output(mark);
    fz_out_len = 0;
}

static uint32_t fz_fragment(uint8_t *f, uint32_t xid, uint32_t idx, const uint8_t *data, uint32_t k)
{
    f[0] = (uint8_t)(EH_FRAG_BIT | (xid & 0x7Fu));
    f[1] = (uint8_t)idx;
    memcpy(f + 2, data, k);
    eh_wr16(f + 2 + k, eh_crc16(f, 2u + k));
    return k + EH_FRAG_OVERHEAD;
}

static uint32_t fz_srun(uint8_t *f, uint32_t xid, uint32_t k, uint32_t flags, uint32_t t, uint32_t crc)
{
    f[0] = (uint8_t)EH_SRUN;
    f[1] = (uint8_t)xid;
    f[2] = (uint8_t)k;
    f[3] = (uint8_t)flags;
    eh_wr16(f + 4, (uint16_t)t);
    eh_wr32(f + 6, crc);
    eh_wr32(f + 10, eh_crc32(0, f, 10));
    return EH_SRUN_LEN;
}

static void op_fragment(fz_in *in, uint32_t op)
{
    static uint8_t f[300], data[256];
    uint32_t xid = get8(in), idx = get8(in), k = get8(in) % 64u + 1u, n;
    k = take(in, data, k);
    if (!k) return;
    n = fz_fragment(f, xid, idx, data, k);
    if (op & 0x10u) {
        uint32_t at = get8(in);
        f[at % n] ^= (uint8_t)get8(in);
    }
    fz_end_partial();
    fz_send_compact(f, n);
    /* a fragment (even a damaged one: it starts as a compact frame or becomes noise) never
       gets a version-1 answer; an intact one gets nothing at all */
    if (!(op & 0x10u) && fz_out_len != 0) abort();
    (void)fz_check_output(0);
}

static void fz_expect_sans(uint32_t xid, uint32_t before)
{
    if (fz_sans_count == before) abort();               /* an intact RUN is answered */
    if (fz_sans[1] != (uint8_t)(xid & 0x7Fu)) abort();  /* ... about its own transfer */
}

static void op_srun(fz_in *in)
{
    uint8_t f[EH_SRUN_LEN];
    uint32_t xid = get8(in) & 0x7Fu, k = get8(in), flags = get8(in), t = get16(in), crc = get32(in);
    uint32_t before;
    fz_end_partial();
    before = fz_sans_count;
    fz_send_compact(f, fz_srun(f, xid, k, flags, t, crc));
    (void)fz_check_output(0);
    fz_expect_sans(xid, before);
}

static void op_staged(fz_in *in)
{
    static uint8_t input[EH_FW_MAX_PAYLOAD + 256], f[300], done[FZ_FRAME];
    uint8_t r[EH_SRUN_LEN];
    uint32_t xid = get8(in) & 0x7Fu, k = get8(in) % 64u + 1u, steps = get8(in) % 16u + 1u;
    uint32_t flags = get8(in), skip = get32(in), x = get32(in) | 1u, ib = fz_in_bytes, total, nfrag, before, rl, dl = 0;
    if (ib == 0 || ib > EH_FW_MAX_PAYLOAD) ib = 4;
    while (steps > 1 && steps * ib > EH_FW_MAX_PAYLOAD) steps--;
    total = steps * ib;
    nfrag = (total + k - 1u) / k;
    memset(input, 0, sizeof input);
    for (uint32_t i = 0; i < total; i++) { /* xorshift32: the rows cost 4 input bytes */
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        input[i] = (uint8_t)(x & 1u);
    }
    fz_end_partial();
    for (uint32_t i = 0; i < nfrag && i < 256u; i++) {
        if (i < 32u && (skip >> i) & 1u) continue;
        fz_send_compact(f, fz_fragment(f, xid, i, input + i * k, k));
    }
    if (fz_out_len != 0) abort(); /* fragments are never answered */
    rl = fz_srun(r, xid, k, flags, steps, eh_crc32(0, input, total));
    before = fz_sans_count;
    fz_send_compact(r, rl);
    (void)fz_check_output(0);
    fz_expect_sans(xid, before);
    if (fz_sans[0] == EH_SANS_DONE) {
        dl = fz_sans_len;
        memcpy(done, fz_sans, dl);
    }
    /* the same RUN again: after DONE, the same bytes from the cache (never run twice) */
    fz_out_len = 0;
    before = fz_sans_count;
    fz_send_compact(r, rl);
    (void)fz_check_output(0);
    fz_expect_sans(xid, before);
    if (dl && (fz_sans_len != dl || memcmp(fz_sans, done, dl) != 0)) abort();
}

static void op_run(fz_in *in, uint32_t op)
{
    static uint8_t pl[EH_FW_MAX_PAYLOAD];
    uint32_t kind = get8(in) % 9u;
    switch (kind) {
    case 6:
        op_fragment(in, op);
        break;
    case 7:
        op_srun(in);
        break;
    case 8:
        op_staged(in);
        break;
    case 0: {
        uint32_t ib = fz_in_bytes <= sizeof pl ? fz_in_bytes : 0;
        for (uint32_t i = 0; i < ib; i++) pl[i] = (uint8_t)get8(in);
        (void)fz_request(EH_CMD_STEP, next_seq(), pl, ib);
        break;
    }
    case 1: {
        uint32_t steps = get8(in) % 8u + 1u, ib = fz_in_bytes;
        if (ib == 0 || 4u + steps * ib > sizeof pl) steps = 1;
        if (4u + steps * ib > sizeof pl) ib = 0;
        eh_wr16(pl, (uint16_t)steps);
        eh_wr16(pl + 2, 0);
        for (uint32_t i = 0; i < steps * ib; i++) pl[4 + i] = (uint8_t)(get8(in) & 1u); /* spikes or small values */
        (void)fz_request(EH_CMD_INFER, next_seq(), pl, 4u + steps * ib);
        break;
    }
    case 2: {
        uint32_t layer = get16(in);
        if (fz_n_layers && (layer & 0x8000u)) layer %= fz_n_layers + 1u;
        eh_wr16(pl, (uint16_t)layer);
        eh_wr16(pl + 2, 0);
        eh_wr32(pl + 4, get32(in));
        (void)fz_request(EH_CMD_TRACE, next_seq(), pl, 8);
        break;
    }
    case 3:
        (void)fz_request(EH_CMD_RESET_STATE, next_seq(), pl, 0);
        break;
    case 4:
        (void)fz_request(EH_CMD_HELLO, next_seq(), pl, 0);
        break;
    default:
        (void)fz_request(EH_CMD_PING, next_seq(), pl, 0);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    fz_out_len = 0;
    fz_seq = 0x4000;
    fz_in_bytes = 0;
    fz_n_layers = 0;
    fz_sans_len = 0;
    fz_sans_count = 0;
    eh_runtime_init();
    (void)fz_check_output(0); /* the BOOT frame */
    while (in.n) {
        uint32_t op = get8(&in);
        fz_out_len = 0; /* the checks only look at what this operation sent */
        switch (op & 3u) {
        case 0: op_raw(&in); break;
        case 1: op_req(&in, op); break;
        case 2: op_load(&in); break;
        default: op_run(&in, op); break;
        }
    }
    return 0;
}
