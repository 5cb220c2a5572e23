/*
 * Nordic UARTE (nRF52 series, EasyDMA). Real hardware only: QEMU 7.2 has no nRF52 machine.
 *
 * EasyDMA reads and writes RAM only, so transmitted bytes are copied to a RAM buffer first
 * (the caller's may be in flash). Reception runs continuously: one-byte DMA transfers chained
 * by the ENDRX->STARTRX short into two alternating buffers; the interrupt handler
 * (eh_uart_irq_handler, in the board's vector table at the UARTE's IRQ) moves each received
 * byte into a ring that eh_uart_read drains. At 115200 baud the handler has 87 us per byte.
 */
#include "eh_uart.h"

#define TASKS_STARTRX 0x000u
#define TASKS_STOPRX 0x004u
#define TASKS_STARTTX 0x008u
#define TASKS_STOPTX 0x00Cu
#define EVENTS_ENDRX 0x110u
#define EVENTS_ENDTX 0x120u
#define EVENTS_ERROR 0x124u
#define EVENTS_RXTO 0x144u
#define EVENTS_RXSTARTED 0x14Cu
#define EVENTS_TXSTARTED 0x150u
#define SHORTS 0x200u
#define INTENSET 0x304u
#define INTENCLR 0x308u
#define ERRORSRC 0x480u
#define ENABLE 0x500u
#define PSEL_RTS 0x508u
#define PSEL_TXD 0x50Cu
#define PSEL_CTS 0x510u
#define PSEL_RXD 0x514u
#define BAUDRATE 0x524u
#define RXD_PTR 0x534u
#define RXD_MAXCNT 0x538u
#define TXD_PTR 0x544u
#define TXD_MAXCNT 0x548u
#define CONFIG 0x56Cu

#define ENABLE_UARTE 8u
#define SHORTS_ENDRX_STARTRX (1u << 5)
#define INT_ENDRX (1u << 4)
#define INT_ERROR (1u << 9)
#define INT_RXSTARTED (1u << 19)
#define PSEL_DISCONNECTED 0xFFFFFFFFu

#define GPIO_P0 0x50000000u
#define GPIO_P1 0x50000300u
#define GPIO_OUTSET 0x508u
#define GPIO_PIN_CNF 0x700u
#define NVIC_ISER 0xE000E100u

#define RING_BYTES 256u
#define TX_CHUNK 64u

static uintptr_t uart_base;
static uint8_t rx_dma[2];
static volatile uint32_t rx_active; /* index of the buffer the DMA is filling */
static uint8_t ring[RING_BYTES];
static volatile uint32_t ring_head, ring_tail;
static uint8_t tx_buf[TX_CHUNK];

static inline volatile uint32_t *reg(uint32_t off)
{
    return (volatile uint32_t *)(uart_base + off);
}

static uint32_t baud_reg(uint32_t baud)
{
    switch (baud) {
    case 9600: return 0x00275000u;
    case 19200: return 0x004EA000u;
    case 38400: return 0x009D0000u;
    case 57600: return 0x00EB0000u;
    case 230400: return 0x03B00000u;
    case 460800: return 0x07400000u;
    case 921600: return 0x0F000000u;
    case 1000000: return 0x10000000u;
    default: return 0x01D60000u; /* 115200 */
    }
}

/* PSEL value and GPIO configuration for a pin number counted over both ports (P1.n = 32+n). */
static uint32_t pin_select(int32_t pin, int output)
{
    if (pin < 0)
        return PSEL_DISCONNECTED;
    uintptr_t port = pin < 32 ? GPIO_P0 : GPIO_P1;
    uint32_t bit = (uint32_t)pin & 31u;
    volatile uint32_t *cnf = (volatile uint32_t *)(port + GPIO_PIN_CNF + 4u * bit);
    if (output) {
        *(volatile uint32_t *)(port + GPIO_OUTSET) = 1u << bit; /* idle high */
        *cnf = 1u;                                              /* output, input buffer off */
    } else {
        *cnf = 0u; /* input, buffer connected, no pull */
    }
    return (uint32_t)pin; /* PORT in bit 5, PIN in bits 0..4, CONNECT (bit 31) = 0 */
}

void eh_uart_init(const eh_uart_config *cfg)
{
    uart_base = cfg->base;
    *reg(ENABLE) = 0;
    *reg(PSEL_RTS) = PSEL_DISCONNECTED;
    *reg(PSEL_CTS) = PSEL_DISCONNECTED;
    *reg(PSEL_TXD) = pin_select(cfg->tx_pin, 1);
    *reg(PSEL_RXD) = pin_select(cfg->rx_pin, 0);
    *reg(BAUDRATE) = baud_reg(cfg->baud);
    *reg(CONFIG) = 0;
    ring_head = ring_tail = 0;
    rx_active = 0;
    *reg(EVENTS_ENDRX) = 0;
    *reg(EVENTS_RXSTARTED) = 0;
    *reg(EVENTS_ENDTX) = 0;
    *reg(EVENTS_ERROR) = 0;
    *reg(ENABLE) = ENABLE_UARTE;
    *reg(SHORTS) = SHORTS_ENDRX_STARTRX;
    *reg(RXD_PTR) = (uint32_t)(uintptr_t)&rx_dma[0];
    *reg(RXD_MAXCNT) = 1;
    *reg(INTENSET) = INT_ENDRX | INT_RXSTARTED | INT_ERROR;
    /* The UARTE0 interrupt is IRQ 2 on the nRF52 (its address bits 12..17 give the ID). */
    uint32_t irq = (uint32_t)((uart_base >> 12) & 0x3Fu);
    *(volatile uint32_t *)(NVIC_ISER + 4u * (irq / 32u)) = 1u << (irq % 32u);
    *reg(TASKS_STARTRX) = 1;
}

void eh_uart_irq_handler(void)
{
    if (*reg(EVENTS_ERROR)) {
        *reg(EVENTS_ERROR) = 0;
        *reg(ERRORSRC) = *reg(ERRORSRC); /* write 1 to clear */
    }
    if (*reg(EVENTS_ENDRX)) {
        *reg(EVENTS_ENDRX) = 0;
        uint32_t next = (ring_head + 1u) % RING_BYTES;
        if (next != ring_tail) { /* a full ring drops the byte */
            ring[ring_head] = rx_dma[rx_active];
            ring_head = next;
        }
        rx_active ^= 1u;
    }
    if (*reg(EVENTS_RXSTARTED)) {
        *reg(EVENTS_RXSTARTED) = 0;
        /* The transfer just started fills rx_dma[rx_active]; the next one the other. */
        *reg(RXD_PTR) = (uint32_t)(uintptr_t)&rx_dma[rx_active ^ 1u];
    }
}

void eh_uart_write(const uint8_t *buf, uint32_t n)
{
    while (n) {
        uint32_t chunk = n < TX_CHUNK ? n : TX_CHUNK;
        for (uint32_t i = 0; i < chunk; i++)
            tx_buf[i] = buf[i];
        *reg(EVENTS_ENDTX) = 0;
        *reg(TXD_PTR) = (uint32_t)(uintptr_t)tx_buf;
        *reg(TXD_MAXCNT) = chunk;
        *reg(TASKS_STARTTX) = 1;
        while (!*reg(EVENTS_ENDTX)) {
        }
        *reg(EVENTS_ENDTX) = 0;
        buf += chunk;
        n -= chunk;
    }
}

int eh_uart_read(uint8_t *byte)
{
    uint32_t tail = ring_tail;
    if (tail == ring_head)
        return 0;
    *byte = ring[tail];
    ring_tail = (tail + 1u) % RING_BYTES;
    return 1;
}

int eh_uart_rx_pending(void)
{
    return ring_tail != ring_head;
}

/* Reception always runs on this driver's interrupt (its handler fills the ring): nothing to
   switch. */
void eh_uart_rx_wake(int on)
{
    (void)on;
}

void eh_uart_flush(void)
{
    /* eh_uart_write returns after ENDTX of its last transfer: nothing is pending. */
}
