/* ARM CMSDK APB UART (MPS2 boards; QEMU mps2-an385/an386). */
#include "eh_uart.h"

#define UART_DATA 0x00u
#define UART_STATE 0x04u
#define UART_CTRL 0x08u
#define UART_INTCLEAR 0x0Cu
#define UART_BAUDDIV 0x10u
#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)
#define CTRL_RX_INTEN (1u << 3)
#define INT_RX (1u << 1)

static uintptr_t uart_base;

static inline volatile uint32_t *reg(uint32_t off)
{
    return (volatile uint32_t *)(uart_base + off);
}

void eh_uart_init(const eh_uart_config *cfg)
{
    uart_base = cfg->base;
    uint32_t div = cfg->baud ? cfg->clock_hz / cfg->baud : 16u;
    if (div < 16u)
        div = 16u; /* the smallest divider the peripheral accepts */
    *reg(UART_CTRL) = 0;
    *reg(UART_BAUDDIV) = div;
    *reg(UART_INTCLEAR) = 0xFu;
    *reg(UART_CTRL) = CTRL_TX_EN | CTRL_RX_EN;
}

void eh_uart_write(const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while (*reg(UART_STATE) & STATE_TX_FULL) {
        }
        *reg(UART_DATA) = buf[i];
    }
}

int eh_uart_read(uint8_t *byte)
{
    if (!(*reg(UART_STATE) & STATE_RX_FULL))
        return 0;
    *byte = (uint8_t)*reg(UART_DATA);
    return 1;
}

int eh_uart_rx_pending(void)
{
    return (*reg(UART_STATE) & STATE_RX_FULL) != 0;
}

/* The RX interrupt status is latched (set when a byte arrives with RX_INTEN on) until written
   to INTCLEAR; reading DATA does not clear it. */
void eh_uart_rx_wake(int on)
{
    if (on) {
        *reg(UART_CTRL) = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INTEN;
    } else {
        *reg(UART_CTRL) = CTRL_TX_EN | CTRL_RX_EN;
        *reg(UART_INTCLEAR) = INT_RX;
    }
}

void eh_uart_flush(void)
{
    while (*reg(UART_STATE) & STATE_TX_FULL) {
    }
}
