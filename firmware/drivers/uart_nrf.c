/* Nordic legacy UART (nRF51 UART0; QEMU microbit; also the nRF52's UART0 in legacy mode):
   one byte at a time through the TXD/RXD registers. */
#include "eh_uart.h"

#define TASKS_STARTRX 0x000u
#define TASKS_STARTTX 0x008u
#define EVENTS_RXDRDY 0x108u
#define EVENTS_TXDRDY 0x11Cu
#define EVENTS_ERROR 0x124u
#define INTENSET 0x304u
#define INTENCLR 0x308u
#define INT_RXDRDY (1u << 2)
#define ENABLE 0x500u
#define PSELTXD 0x50Cu
#define PSELRXD 0x514u
#define RXD 0x518u
#define TXD 0x51Cu
#define BAUDRATE 0x524u
#define CONFIG 0x56Cu
#define ENABLE_UART 4u

static uintptr_t uart_base;

static inline volatile uint32_t *reg(uint32_t off)
{
    return (volatile uint32_t *)(uart_base + off);
}

/* BAUDRATE register values from the nRF51/nRF52 reference manuals. */
static uint32_t baud_reg(uint32_t baud)
{
    switch (baud) {
    case 9600: return 0x00275000u;
    case 19200: return 0x004EA000u;
    case 38400: return 0x009D5000u;
    case 57600: return 0x00EBF000u;
    case 230400: return 0x03AFB000u;
    case 460800: return 0x075F7000u;
    case 921600: return 0x0EBEDFA4u;
    case 1000000: return 0x10000000u;
    default: return 0x01D7E000u; /* 115200 */
    }
}

void eh_uart_init(const eh_uart_config *cfg)
{
    uart_base = cfg->base;
    *reg(ENABLE) = 0;
    if (cfg->tx_pin >= 0)
        *reg(PSELTXD) = (uint32_t)cfg->tx_pin;
    if (cfg->rx_pin >= 0)
        *reg(PSELRXD) = (uint32_t)cfg->rx_pin;
    *reg(BAUDRATE) = baud_reg(cfg->baud);
    *reg(CONFIG) = 0; /* no parity, no flow control */
    *reg(ENABLE) = ENABLE_UART;
    *reg(EVENTS_RXDRDY) = 0;
    *reg(EVENTS_TXDRDY) = 0;
    *reg(EVENTS_ERROR) = 0;
    *reg(TASKS_STARTRX) = 1;
    *reg(TASKS_STARTTX) = 1;
}

void eh_uart_write(const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        *reg(EVENTS_TXDRDY) = 0;
        *reg(TXD) = buf[i];
        while (!*reg(EVENTS_TXDRDY)) {
        }
    }
    *reg(EVENTS_TXDRDY) = 0;
}

int eh_uart_read(uint8_t *byte)
{
    if (!*reg(EVENTS_RXDRDY))
        return 0;
    *reg(EVENTS_RXDRDY) = 0;
    *byte = (uint8_t)*reg(RXD);
    return 1;
}

int eh_uart_rx_pending(void)
{
    return *reg(EVENTS_RXDRDY) != 0;
}

/* The line is EVENTS_RXDRDY AND INTEN.RXDRDY: INTENCLR lowers it. */
void eh_uart_rx_wake(int on)
{
    *reg(on ? INTENSET : INTENCLR) = INT_RXDRDY;
}

void eh_uart_flush(void)
{
    /* eh_uart_write returns once the last byte's TXDRDY event has come: nothing is pending. */
}
