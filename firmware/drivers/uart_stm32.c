/* STM32F1/F2/F4 USART (SR/DR/BRR/CR1 layout; QEMU netduinoplus2's USART1). Clocks and pin
   multiplexing belong to the board (its hal.c), not to this driver. */
#include "eh_uart.h"

#define USART_SR 0x00u
#define USART_DR 0x04u
#define USART_BRR 0x08u
#define USART_CR1 0x0Cu
#define USART_CR2 0x10u
#define USART_CR3 0x14u
#define SR_RXNE (1u << 5)
#define SR_TC (1u << 6)
#define SR_TXE (1u << 7)
#define CR1_RE (1u << 2)
#define CR1_RXNEIE (1u << 5)
#define CR1_TE (1u << 3)
#define CR1_UE (1u << 13)

static uintptr_t uart_base;

static inline volatile uint32_t *reg(uint32_t off)
{
    return (volatile uint32_t *)(uart_base + off);
}

void eh_uart_init(const eh_uart_config *cfg)
{
    uart_base = cfg->base;
    *reg(USART_CR1) = 0;
    /* Oversampling by 16: BRR = clock / baud, rounded (mantissa and fraction together). */
    if (cfg->baud)
        *reg(USART_BRR) = (cfg->clock_hz + cfg->baud / 2u) / cfg->baud;
    *reg(USART_CR2) = 0; /* 1 stop bit */
    *reg(USART_CR3) = 0; /* no flow control */
    *reg(USART_CR1) = CR1_UE | CR1_TE | CR1_RE;
}

void eh_uart_write(const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while (!(*reg(USART_SR) & SR_TXE)) {
        }
        *reg(USART_DR) = buf[i];
    }
}

int eh_uart_read(uint8_t *byte)
{
    if (!(*reg(USART_SR) & SR_RXNE))
        return 0;
    *byte = (uint8_t)*reg(USART_DR);
    return 1;
}

int eh_uart_rx_pending(void)
{
    return (*reg(USART_SR) & SR_RXNE) != 0;
}

/* The line is RXNE AND RXNEIE (no latched status): clearing RXNEIE lowers it, and so does
   reading DR. */
void eh_uart_rx_wake(int on)
{
    *reg(USART_CR1) = CR1_UE | CR1_TE | CR1_RE | (on ? CR1_RXNEIE : 0u);
}

void eh_uart_flush(void)
{
    while (!(*reg(USART_SR) & SR_TC)) {
    }
}
