/* edgehost link framing: see eh_proto.h and docs/protocol.md. No board code, no state. */
#include "eh_proto.h"

/* CRC-32 (reflected 0xEDB88320) with a 16-entry table: 64 bytes of flash, two lookups a byte. */
static const uint32_t eh_crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

uint32_t eh_crc32(uint32_t crc, const uint8_t *p, uint32_t n)
{
    uint32_t c = ~crc;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ eh_crc32_nibble[c & 15u];
        c = (c >> 4) ^ eh_crc32_nibble[c & 15u];
    }
    return ~c;
}

uint16_t eh_crc16(const uint8_t *p, uint32_t n)
{
    /* nibble table of polynomial 0x1021 (not reflected): 32 bytes of flash */
    static const uint16_t t[16] = {0x0000u, 0x1021u, 0x2042u, 0x3063u, 0x4084u, 0x50A5u, 0x60C6u, 0x70E7u,
                                   0x8108u, 0x9129u, 0xA14Au, 0xB16Bu, 0xC18Cu, 0xD1ADu, 0xE1CEu, 0xF1EFu};
    uint16_t c = 0xFFFFu;
    for (uint32_t i = 0; i < n; i++) {
        c = (uint16_t)((c << 4) ^ t[((c >> 12) ^ (p[i] >> 4)) & 15u]);
        c = (uint16_t)((c << 4) ^ t[((c >> 12) ^ p[i]) & 15u]);
    }
    return c;
}

uint32_t eh_cobs_encode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap)
{
    uint32_t pos = 0, o = 0;
    if (!out || (n && !in)) return 0;
    for (;;) {
        uint32_t run = 0;
        while (pos + run < n && in[pos + run] != 0 && run < 254u) run++;
        if (o + 1u + run > cap) return 0;
        out[o++] = (uint8_t)(run + 1u);
        for (uint32_t i = 0; i < run; i++) out[o++] = in[pos + i];
        pos += run;
        if (pos == n) break;       /* the implicit zero of the last block is the terminator */
        if (run == 254u) continue; /* a full block consumes no zero */
        pos++;                     /* skip the zero this block stands for */
    }
    return o;
}

void eh_deframer_init(eh_deframer *d, uint8_t *buf, uint32_t cap)
{
    d->buf = buf;
    d->cap = cap;
    d->len = 0;
    d->raw = 0;
    d->code = 0;
    d->left = 0;
    d->overflow = 0;
    d->bad = 0;
}

static void eh_deframer_put(eh_deframer *d, uint8_t b)
{
    if (d->len < d->cap) d->buf[d->len++] = b;
    else d->overflow = 1;
}

int32_t eh_deframer_push(eh_deframer *d, uint8_t byte)
{
    if (byte == 0) {
        int32_t r;
        if (d->raw == 0) return EH_DF_NONE; /* idle delimiter */
        if (d->overflow) r = -(int32_t)EH_PST_OVERSIZE;
        else if (d->bad || d->left != 0) r = -(int32_t)EH_PST_FRAMING;
        else r = EH_DF_FRAME;
        d->raw = 0;
        d->code = 0;
        d->left = 0;
        d->overflow = 0;
        d->bad = 0;
        return r;
    }
    if (d->raw == 0) d->len = 0; /* a new frame starts */
    if (d->raw < 0xFFFFFFFFu) d->raw++;
    if (d->left == 0) {
        /* a block code; the previous block (if any and not full) stood for a zero */
        if (d->raw > 1 && d->code != 0xFFu) eh_deframer_put(d, 0);
        d->code = byte;
        d->left = (uint8_t)(byte - 1u);
    } else {
        eh_deframer_put(d, byte);
        d->left--;
    }
    return EH_DF_NONE;
}

int32_t eh_frame_parse(const uint8_t *raw, uint32_t n, eh_frame_hdr *h, const uint8_t **payload)
{
    h->version = n > 0 ? raw[0] : 0;
    h->code = n > 1 ? raw[1] : 0;
    h->have_seq = n >= 4;
    h->seq = n >= 4 ? eh_rd16(raw + 2) : 0;
    h->status = n > 4 ? raw[4] : 0;
    h->flags = n > 5 ? raw[5] : 0;
    h->length = n >= 8 ? eh_rd16(raw + 6) : 0;
    if (payload) *payload = 0;
    if (n < EH_PROTO_OVERHEAD) return EH_PST_TRUNCATED;
    if ((uint32_t)h->length > n - EH_PROTO_OVERHEAD) return EH_PST_TRUNCATED;
    if ((uint32_t)h->length < n - EH_PROTO_OVERHEAD) return EH_PST_LENGTH;
    if (eh_crc32(0, raw, n - EH_PROTO_CRC) != eh_rd32(raw + n - EH_PROTO_CRC)) return EH_PST_CRC;
    if (h->version != EH_PROTO_VERSION) return EH_PST_VERSION;
    if (payload) *payload = raw + EH_PROTO_HEADER;
    return EH_PST_OK;
}

uint32_t eh_frame_finish(uint8_t *raw, uint32_t cap, uint8_t code, uint16_t seq, uint8_t status,
                         uint8_t flags, uint32_t len)
{
    if (len > 0xFFFFu || cap < EH_PROTO_OVERHEAD || len > cap - EH_PROTO_OVERHEAD) return 0;
    raw[0] = (uint8_t)EH_PROTO_VERSION;
    raw[1] = code;
    eh_wr16(raw + 2, seq);
    raw[4] = status;
    raw[5] = flags;
    eh_wr16(raw + 6, (uint16_t)len);
    eh_wr32(raw + EH_PROTO_HEADER + len, eh_crc32(0, raw, EH_PROTO_HEADER + len));
    return EH_PROTO_HEADER + len + EH_PROTO_CRC;
}
