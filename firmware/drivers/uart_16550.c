/* NS16550A-compatible UART with byte-spaced registers (QEMU riscv virt at 0x10000000). */
#include "eh_uart.h"

#define RBR_THR 0u
#define IER 1u
#define FCR 2u
#define LCR 3u
#define MCR 4u
#define LSR 5u
#define DLL 0u
#define DLM 1u
#define LCR_DLAB 0x80u
#define LCR_8N1 0x03u
#define LSR_DR 0x01u
#define LSR_THRE 0x20u
#define LSR_TEMT 0x40u
#define IER_RDA 0x01u /* received data available */

static uintptr_t uart_base;

static inline volatile uint8_t *reg(uint32_t off)
{
    return (volatile uint8_t *)(uart_base + off);
}

void eh_uart_init(const eh_uart_config *cfg)
{
    uart_base = cfg->base;
    *reg(IER) = 0;
    if (cfg->baud && cfg->clock_hz) {
        uint32_t div = (cfg->clock_hz + 8u * cfg->baud) / (16u * cfg->baud);
        if (div == 0)
            div = 1;
        *reg(LCR) = LCR_DLAB;
        *reg(DLL) = (uint8_t)(div & 0xFFu);
        *reg(DLM) = (uint8_t)((div >> 8) & 0xFFu);
    }
    *reg(LCR) = LCR_8N1;
    *reg(FCR) = 0x07u; /* enable and clear both FIFOs */
    *reg(MCR) = 0x03u; /* DTR, RTS */
}

void eh_uart_write(const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while (!(*reg(LSR) & LSR_THRE)) {
        }
        *reg(RBR_THR) = buf[i];
    }
}

int eh_uart_read(uint8_t *byte)
{
    if (!(*reg(LSR) & LSR_DR))
        return 0;
    *byte = *reg(RBR_THR);
    return 1;
}

int eh_uart_rx_pending(void)
{
    return (*reg(LSR) & LSR_DR) != 0;
}

/* The line follows IER and LSR.DR (no latched status): IER = 0 lowers it. */
void eh_uart_rx_wake(int on)
{
    *reg(IER) = on ? IER_RDA : 0u;
}

void eh_uart_flush(void)
{
    while (!(*reg(LSR) & LSR_TEMT)) {
    }
}
