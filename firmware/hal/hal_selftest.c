/*
 * eh-hal-selftest: proves a board's HAL over its host link, on every board.
 *
 * On start it writes one line
 *     EH-SELFTEST board=<name> core=<core> clock_hz=<n> counter=<counter_kind>\n
 * then serves bytes forever:
 *     0x01          -> 0x01 followed by eh_hal_counter() as 4 bytes, little-endian
 *     0x04, <code>  -> "BYE\n", then eh_hal_exit(code)
 *     anything else -> the same byte back (echo)
 * tests/test_build.py drives it under each QEMU machine and on the host board.
 */
#include <stdint.h>

#include "eh_hal.h"

#define CMD_COUNTER 0x01u
#define CMD_EXIT 0x04u

static void put(const char *s)
{
    uint32_t n = 0;
    while (s[n])
        n++;
    eh_hal_uart_write((const uint8_t *)s, n);
}

static void put_u32(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    put(&buf[i]);
}

static uint8_t get(void)
{
    uint8_t b;
    while (!eh_hal_uart_read(&b))
        eh_hal_idle();
    return b;
}

int main(void)
{
    eh_hal_init(); /* already done by the startup code; calling it again is harmless */
    const eh_board_info *info = eh_hal_board();
    put("EH-SELFTEST board=");
    put(info->board);
    put(" core=");
    put(info->core);
    put(" clock_hz=");
    put_u32(info->clock_hz);
    put(" counter=");
    put(info->counter_kind);
    put("\n");
    for (;;) {
        uint8_t b = get();
        if (b == CMD_COUNTER) {
            uint32_t c = eh_hal_counter();
            uint8_t out[5] = {CMD_COUNTER, (uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16),
                              (uint8_t)(c >> 24)};
            eh_hal_uart_write(out, sizeof out);
        } else if (b == CMD_EXIT) {
            uint8_t code = get();
            put("BYE\n");
            eh_hal_exit(code);
        } else {
            eh_hal_uart_write(&b, 1);
        }
    }
}
