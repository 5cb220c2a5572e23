/* eh_hal.h for the host board: the firmware as a native process. The link is a
   pseudo-terminal (firmware/drivers/uart_pty.c prints `EDGEHOST_PORT <path>`); the counter is
   CLOCK_MONOTONIC in nanoseconds (low 32 bits); exit is exit(). */
#define _POSIX_C_SOURCE 200809L
#include "eh_board_config.h"
#include "eh_hal.h"
#include "eh_uart.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const eh_board_info info = {EH_BOARD_NAME, EH_BOARD_CORE, EH_CLOCK_HZ, "ns"};
static int initialised;

void eh_hal_init(void)
{
    if (initialised)
        return;
    initialised = 1;
    static const eh_uart_config uart = {0, 0, 0, -1, -1};
    eh_uart_init(&uart);
}

const eh_board_info *eh_hal_board(void)
{
    return &info;
}

void eh_hal_uart_write(const uint8_t *buf, uint32_t n)
{
    eh_uart_write(buf, n);
}

int eh_hal_uart_read(uint8_t *byte)
{
    return eh_uart_read(byte);
}

/* The pty driver's eh_uart_read already waits in poll() once the link has been quiet. */
void eh_hal_idle(void)
{
}

uint32_t eh_hal_counter(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t ns = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
    return (uint32_t)ns;
}

void eh_hal_exit(int code)
{
    eh_uart_flush();
    fflush(stdout);
    exit(code);
}
