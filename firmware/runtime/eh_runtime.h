/*
 * The firmware runtime: reads bytes from the host link (eh_hal_uart_read), deframes them,
 * dispatches the commands of docs/protocol.md and writes the responses (eh_hal_uart_write).
 * All buffers are static with build-time sizes (eh_fw_config.h); nothing is allocated.
 */
#ifndef EH_RUNTIME_H
#define EH_RUNTIME_H

#include <stdint.h>

/* Resets the runtime state and sends the BOOT event frame. Call after eh_hal_init(). */
void eh_runtime_init(void);

/* Processes one received byte (answers a frame when it completes). */
void eh_runtime_feed(uint8_t byte);

/* init, then poll the UART for ever. */
void eh_runtime_run(void);

#endif
