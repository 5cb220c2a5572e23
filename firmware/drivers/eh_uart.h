/*
 * UART bus drivers, one file per peripheral type (uart_<driver>.c), apart from any board.
 * A board links exactly one of them (board.json "uart": {"driver": ...}) and calls it from
 * its hal.c. All of them: 8N1, no flow control, polled (except where noted); the receive
 * interrupt may wake the core from sleep (eh_uart_rx_wake), it never moves a byte.
 */
#ifndef EH_UART_H
#define EH_UART_H

#include <stdint.h>

typedef struct {
    uintptr_t base;    /* peripheral base address */
    uint32_t clock_hz; /* clock feeding the baud generator (ignored where not needed) */
    uint32_t baud;     /* e.g. 115200 */
    int32_t tx_pin;    /* GPIO pin number where the peripheral routes pins, else -1 */
    int32_t rx_pin;
} eh_uart_config;

void eh_uart_init(const eh_uart_config *cfg);
/* Blocking write of n bytes. */
void eh_uart_write(const uint8_t *buf, uint32_t n);
/* Non-blocking: 1 and *byte if a byte was waiting, else 0. */
int eh_uart_read(uint8_t *byte);
/* Wait until everything written has left (before a reset or exit). */
void eh_uart_flush(void);
/* Drivers that receive on an interrupt (uart_nrf_uarte.c) define this; the board's vector
   table points the peripheral's IRQ at it. */
void eh_uart_irq_handler(void);

/* Sleeping while the link is quiet (the HAL's eh_hal_idle, on boards whose board.json gives
   "uart": {"irq": N}): the receive interrupt only wakes the core, no handler runs and every byte
   is still taken by eh_uart_read. eh_uart_rx_pending: 1 while a received byte waits (consumes
   nothing). eh_uart_rx_wake(1): the peripheral raises its interrupt line while a byte waits;
   eh_uart_rx_wake(0): it stops, and the peripheral's own interrupt status is cleared (the line
   is low on return). */
int eh_uart_rx_pending(void);
void eh_uart_rx_wake(int on);

#endif
