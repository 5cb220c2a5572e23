/*
 * A test HAL for building the runtime natively (with ASan+UBSan) in the Python tests: the host
 * link is stdin/stdout (pipes), the counter counts nanoseconds, EOF on stdin ends the process.
 * Not a board: the `host` board (boards/host/) is what users run.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "eh_hal.h"

static const eh_board_info info = {"native-test", "host", 1000000000u, "nanoseconds"};

void eh_hal_init(void) {}

const eh_board_info *eh_hal_board(void) { return &info; }

void eh_hal_uart_write(const uint8_t *buf, uint32_t n)
{
    while (n) {
        ssize_t k = write(1, buf, n);
        if (k <= 0) exit(3);
        buf += k;
        n -= (uint32_t)k;
    }
}

int eh_hal_uart_read(uint8_t *byte)
{
    ssize_t k = read(0, byte, 1);
    if (k == 1) return 1;
    exit(0); /* EOF or error: the test closed the pipe */
}

void eh_hal_idle(void) {} /* eh_hal_uart_read blocks */

uint32_t eh_hal_counter(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

void eh_hal_exit(int code) { exit(code); }
