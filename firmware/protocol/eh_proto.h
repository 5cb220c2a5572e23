/*
 * edgehost host link protocol: framing (COBS, 0x00 delimiters), the frame header, CRC-32 and
 * the command / response / status codes. docs/protocol.md describes every byte; the Python
 * twin is host/edgehost/link/protocol.py.
 *
 * This file holds no board code and no static state: every buffer is the caller's, so it builds
 * on every core and natively (the tests build it with ASan+UBSan against the Python codec).
 *
 * Decoded frame (little endian):
 *   0  u8  version   EH_PROTO_VERSION
 *   1  u8  code      command (host -> device), response = command | 0x80, EH_RSP_NAK, EH_EVT_*
 *   2  u16 seq       chosen by the host, echoed in the response
 *   4  u8  status    0 in requests and OK responses; an eh_proto_status in a NAK
 *   5  u8  flags     EH_FLAG_* (NAK only)
 *   6  u16 length    payload bytes that follow
 *   8  payload[length]
 *   8+length  u32 CRC-32 (IEEE 802.3, as zlib.crc32) of bytes 0 .. 8+length-1
 * On the wire: COBS(decoded frame) followed by 0x00; a sender may also put a 0x00 before it.
 */
#ifndef EH_PROTO_H
#define EH_PROTO_H

#include <stdint.h>

#define EH_PROTO_VERSION 1u
/* INFER flags (request bytes 2..3); HELLO features bit 2 says the firmware knows them */
#define EH_INFER_CONTINUE 1u
#define EH_PROTO_HEADER 8u
#define EH_PROTO_CRC 4u
#define EH_PROTO_OVERHEAD (EH_PROTO_HEADER + EH_PROTO_CRC)
/* Largest COBS encoding of n bytes (without the delimiter). */
#define EH_COBS_MAX(n) ((n) + (n) / 254u + 1u)

/* Staged INFER over a lossy link (docs/protocol.md, "Staged INFER"): compact frames told apart
 * from version-1 frames by their byte 0 (a version-1 frame always starts with 1).
 *   fragment (host -> device, never answered): u8 0x80 | xid (7-bit transfer id), u8 index,
 *            k data bytes (every fragment of a transfer has the same k, the last padded),
 *            u16 CRC-16 of the bytes before it
 *   RUN      (host -> device): u8 0x40, u8 xid, u8 k, u8 flags, u16 T, u32 CRC-32 of the
 *            T * input bytes, u32 CRC-32 of the 10 bytes before it (14 bytes)
 *   answers  (device -> host): u8 kind, u8 xid, ..., u32 CRC-32 of the bytes before it
 *            DONE    0x41: u32 counter delta, output of the last step
 *            MISSING 0x42: u8 tag, u8 n fragments - 1, ceil(n / 8) bytes of received bits
 *            MISSING 0x44: u8 tag, u8 n fragments - 1, the missing indices (fewer than n / 8)
 *            REFUSED 0x43: u8 status, ASCII message
 * RUN flags: bit 0 CONTINUE (as INFER), bits 1..2 extra answer copies (0..3), bits 3..7 a tag
 * MISSING echoes. */
#define EH_FRAG_BIT 0x80u
#define EH_FRAG_OVERHEAD 4u
#define EH_SRUN 0x40u
#define EH_SRUN_LEN 14u
#define EH_SANS_DONE 0x41u
#define EH_SANS_MISSING 0x42u
#define EH_SANS_REFUSED 0x43u
#define EH_SANS_MISSING_LIST 0x44u
#define EH_SRUN_CONTINUE 0x01u
#define EH_SRUN_COPIES_SHIFT 1u
#define EH_SRUN_TAG_SHIFT 3u
#define EH_SRUN_MAX_FRAGS 256u

/* Commands (host -> device). A response carries code | EH_RSP_BIT. */
enum {
    EH_CMD_HELLO = 0x01,       /* -> board info (docs/protocol.md: HELLO payload) */
    EH_CMD_PING = 0x02,        /* empty -> empty */
    EH_CMD_ECHO = 0x03,        /* bytes -> the same bytes */
    EH_CMD_LOAD_BEGIN = 0x10,  /* u32 total length */
    EH_CMD_LOAD_CHUNK = 0x11,  /* u32 offset, bytes */
    EH_CMD_LOAD_COMMIT = 0x12, /* u32 total length, u32 CRC-32 of the blob */
    EH_CMD_INFER = 0x20,       /* u16 steps, u16 flags (EH_INFER_CONTINUE), steps * input bytes */
    EH_CMD_STEP = 0x21,        /* input bytes of one step */
    EH_CMD_RESET_STATE = 0x22, /* empty */
    EH_CMD_TRACE = 0x23        /* u16 layer, u16 0, u32 offset */
};
#define EH_RSP_BIT 0x80u
#define EH_RSP_NAK 0xFFu       /* a request was refused; status says why */
#define EH_EVT_BOOT 0x7Eu      /* unsolicited, seq 0: the firmware (re)started; payload as HELLO */

/* NAK flags. */
#define EH_FLAG_SEQ_VALID 0x01u /* seq (and the request code in payload[0]) come from a frame
                                   whose CRC checked: this NAK is the answer to that request */

/* Status codes (a NAK's status byte). */
typedef enum {
    EH_PST_OK = 0,
    EH_PST_FRAMING = 1,     /* COBS decoding failed (bad block code before a delimiter) */
    EH_PST_TRUNCATED = 2,   /* shorter than header + CRC, or than its length field says */
    EH_PST_LENGTH = 3,      /* longer than its length field says */
    EH_PST_OVERSIZE = 4,    /* larger than the device's frame buffer */
    EH_PST_CRC = 5,         /* CRC mismatch */
    EH_PST_VERSION = 6,     /* protocol version not supported */
    EH_PST_UNKNOWN_CMD = 7, /* command code not known */
    EH_PST_BAD_PAYLOAD = 8, /* payload length or content invalid for the command */
    EH_PST_NO_MODEL = 9,    /* no model loaded */
    EH_PST_MODEL = 10,      /* the model loader / interpreter refused (message in the NAK) */
    EH_PST_TOO_BIG = 11,    /* does not fit a device buffer (blob, arena, frame) */
    EH_PST_LOAD_STATE = 12, /* LOAD_CHUNK / LOAD_COMMIT out of order (no BEGIN, gap, length) */
    EH_PST_LOAD_CRC = 13,   /* the whole blob's CRC differs from LOAD_COMMIT's */
    EH_PST_UNSUPPORTED = 14, /* this firmware was built without the feature */
    EH_PST_STAGE = 15       /* staged INFER: a stale transfer id, or its answer is no longer held */
} eh_proto_status;

/* CRC-32, reflected polynomial 0xEDB88320, as zlib: crc = eh_crc32(0, p, n), chainable. */
uint32_t eh_crc32(uint32_t crc, const uint8_t *p, uint32_t n);

/* CRC-16/CCITT-FALSE (polynomial 0x1021, not reflected, initial 0xFFFF, no final XOR), as
 * Python's binascii.crc_hqx(data, 0xFFFF): crc16("123456789") = 0x29B1. Fragments carry it. */
uint16_t eh_crc16(const uint8_t *p, uint32_t n);

/* COBS-encodes in[0..n) into out (no delimiter). Returns the encoded length, 0 if cap is too
 * small (EH_COBS_MAX(n) is always enough). */
uint32_t eh_cobs_encode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap);

/* Streaming COBS decoder into a caller buffer of cap bytes. */
typedef struct {
    uint8_t *buf;
    uint32_t cap;
    uint32_t len;      /* decoded bytes of the current frame */
    uint32_t raw;      /* encoded bytes of the current frame seen so far */
    uint8_t code;      /* block code of the current block */
    uint8_t left;      /* data bytes left in the current block */
    uint8_t overflow;  /* the current frame exceeded cap */
    uint8_t bad;       /* the current frame has a COBS error */
} eh_deframer;

enum {
    EH_DF_NONE = 0,  /* nothing complete yet */
    EH_DF_FRAME = 1  /* a frame ended: buf[0..len) holds it, valid until the next push */
    /* negative: a frame ended badly, -EH_PST_FRAMING or -EH_PST_OVERSIZE; buf[0..len) holds
       what was decoded (at most cap bytes) so the header may still be read */
};

void eh_deframer_init(eh_deframer *d, uint8_t *buf, uint32_t cap);
/* Feeds one received byte. Empty frames (consecutive delimiters) are ignored. */
int32_t eh_deframer_push(eh_deframer *d, uint8_t byte);

/* A parsed header. */
typedef struct {
    uint8_t version, code, status, flags;
    uint16_t seq;
    uint16_t length;
    uint8_t have_seq; /* 1 when at least 4 bytes were there to read seq from */
} eh_frame_hdr;

/* Checks a decoded frame: size against its length field, CRC, version (in that order).
 * Returns EH_PST_OK or the first failing eh_proto_status. h is filled as far as the bytes go
 * (h->have_seq says if seq could be read); *payload points into raw when OK. */
int32_t eh_frame_parse(const uint8_t *raw, uint32_t n, eh_frame_hdr *h, const uint8_t **payload);

/* Writes header and CRC around a payload already at raw[EH_PROTO_HEADER ..]. Returns the frame
 * length, 0 when it does not fit cap or len > 65535. */
uint32_t eh_frame_finish(uint8_t *raw, uint32_t cap, uint8_t code, uint16_t seq, uint8_t status,
                         uint8_t flags, uint32_t len);

/* Little-endian helpers. */
static inline uint16_t eh_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t eh_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void eh_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void eh_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

#endif /* EH_PROTO_H */
