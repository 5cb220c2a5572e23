/*
 * Line-oriented driver of the C framing code for the Python tests (tests/test_protocol.py),
 * built natively with ASan+UBSan. One command per stdin line, one answer line on stdout:
 *   C <hex>                          -> crc32 as 8 hex digits
 *   H <hex>                          -> crc16 (CCITT-FALSE, fragments) as 4 hex digits
 *   E <hex>                          -> COBS encoding (hex); "ERR" if the buffer is too small
 *   D <cap> <hex>                    -> deframer events over the bytes, space separated:
 *                                       F:<hex> (frame) or X<status>:<hex> (error, partial bytes)
 *   P <hex>                          -> parse: <status> <have_seq> <seq> <code> <length> <payload hex|->
 *   B <code> <seq> <status> <flags> <cap> <hex payload>  -> frame bytes (hex) or "ERR"
 * Buffers are heap blocks of the exact size so ASan sees any overrun.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eh_proto.h"

static uint8_t *unhex(const char *s, uint32_t *n)
{
    size_t len = strlen(s);
    uint8_t *out = malloc(len / 2 + 1);
    if (!out) exit(2);
    *n = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        unsigned v;
        if (sscanf(s + i, "%2x", &v) != 1) exit(2);
        out[(*n)++] = (uint8_t)v;
    }
    return out;
}

static void puthex(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) printf("%02x", p[i]);
}

int main(void)
{
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char op = line[0];
        char *arg = line[1] ? line + 2 : line + 1;
        uint32_t n = 0;
        if (op == 'C') {
            uint8_t *b = unhex(arg, &n);
            printf("%08x", (unsigned)eh_crc32(0, b, n));
            free(b);
        } else if (op == 'H') {
            uint8_t *b = unhex(arg, &n);
            printf("%04x", (unsigned)eh_crc16(b, n));
            free(b);
        } else if (op == 'E') {
            uint8_t *b = unhex(arg, &n);
            uint32_t cap = EH_COBS_MAX(n);
            uint8_t *o = malloc(cap);
            uint32_t k = eh_cobs_encode(b, n, o, cap);
            if (k) puthex(o, k); else printf("ERR");
            /* one byte short must fail, never overrun */
            if (k && eh_cobs_encode(b, n, o, k - 1u) != 0) printf(" SHORT-OK");
            free(o);
            free(b);
        } else if (op == 'D') {
            unsigned cap;
            char *sp = strchr(arg, ' ');
            if (sscanf(arg, "%u", &cap) != 1) exit(2);
            uint8_t *b = unhex(sp ? sp + 1 : "", &n);
            uint8_t *buf = malloc(cap ? cap : 1);
            eh_deframer d;
            eh_deframer_init(&d, buf, cap);
            int first = 1;
            for (uint32_t i = 0; i < n; i++) {
                int32_t r = eh_deframer_push(&d, b[i]);
                if (r == EH_DF_NONE) continue;
                printf(first ? "" : " ");
                first = 0;
                if (r == EH_DF_FRAME) printf("F:");
                else printf("X%d:", (int)-r);
                puthex(buf, d.len);
            }
            free(buf);
            free(b);
        } else if (op == 'P') {
            uint8_t *b = unhex(arg, &n);
            uint8_t *exact = malloc(n ? n : 1);
            memcpy(exact, b, n);
            eh_frame_hdr h;
            const uint8_t *pl = 0;
            int32_t st = eh_frame_parse(exact, n, &h, &pl);
            printf("%d %d %u %u %u ", (int)st, h.have_seq, h.seq, h.code, h.length);
            if (pl) puthex(pl, h.length); else printf("-");
            free(exact);
            free(b);
        } else if (op == 'B') {
            unsigned code, seq, status, flags, cap;
            static char hex[1 << 19];
            hex[0] = 0;
            int k = sscanf(arg, "%u %u %u %u %u %s", &code, &seq, &status, &flags, &cap, hex);
            if (k < 5) exit(2);
            uint8_t *p = unhex(hex, &n);
            uint8_t *buf = malloc(cap ? cap : 1);
            if (EH_PROTO_HEADER + n <= cap) memcpy(buf + EH_PROTO_HEADER, p, n);
            uint32_t len = eh_frame_finish(buf, cap, (uint8_t)code, (uint16_t)seq, (uint8_t)status,
                                           (uint8_t)flags, n);
            if (len) puthex(buf, len); else printf("ERR");
            free(buf);
            free(p);
        } else {
            exit(2);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
