/*
 * The board interface the firmware runtime is written against. Each board implements it in
 * its folder (boards/<name>/), using a bus driver from firmware/drivers/ (UART by peripheral
 * type, apart from any board). Nothing in the runtime touches a register directly.
 */
#ifndef EH_HAL_H
#define EH_HAL_H

#include <stdint.h>

typedef struct {
    const char *board;        /* board name as in boards/<name>/board.json */
    const char *core;         /* "cortex-m4f", "cortex-m0", "rv32imc", "host" */
    uint32_t clock_hz;        /* core clock the board runs at (nominal on emulators) */
    const char *counter_kind; /* what eh_hal_counter() counts: "cycles", "instructions",
                                 "ticks" ...; emulators say what they offer honestly */
} eh_board_info;

/* Clocks, FPU, UART (115200 8N1 on real boards), the counter. Called once from startup. */
void eh_hal_init(void);

const eh_board_info *eh_hal_board(void);

/* Blocking write of n bytes to the host link. */
void eh_hal_uart_write(const uint8_t *buf, uint32_t n);

/* Non-blocking read: returns 1 and stores a byte if one was waiting, else 0. */
int eh_hal_uart_read(uint8_t *byte);

/* Called when eh_hal_uart_read found nothing: sleep until a byte may have arrived (or anything
   else wakes the core; returning early is allowed, and boards that cannot sleep return at once).
   Reads nothing: the caller polls again. On an emulator this is what keeps an idle board from
   using a host core. */
void eh_hal_idle(void);

/* Free-running 32-bit counter (see counter_kind); wraps. */
uint32_t eh_hal_counter(void);

/* Leave: semihosting / test-device exit on emulators, a reset on real boards. */
void eh_hal_exit(int code);

#endif
