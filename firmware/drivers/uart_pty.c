/*
 * The "UART" of the host board: a pseudo-terminal. eh_uart_init opens the master
 * (posix_openpt/grantpt/unlockpt), puts the slave side in raw mode and keeps it open (so
 * the master does not read EIO while no client is attached), and prints exactly one line
 * `EDGEHOST_PORT <slave path>` to stdout, flushed. The host tools open that path.
 *
 * Output waits for the client's first byte: a client opening the pty flushes what is waiting
 * (pyserial does, on open), so anything written before it had connected could be lost.
 * eh_uart_write therefore blocks until input has arrived once (it looks with poll(), consuming
 * nothing); the client must speak first. On the QEMU boards `wait=on` does the same job.
 */
#define _XOPEN_SOURCE 600
#define _DEFAULT_SOURCE
#include "eh_uart.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int master_fd = -1;
static int slave_fd = -1;
static uint32_t idle_reads;
static int client_spoke;

static void die(const char *what)
{
    fprintf(stderr, "edgehost host board: %s: %s\n", what, strerror(errno));
    exit(70);
}

void eh_uart_init(const eh_uart_config *cfg)
{
    (void)cfg;
    if (master_fd >= 0)
        return;
    master_fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (master_fd < 0)
        die("posix_openpt");
    if (grantpt(master_fd) != 0)
        die("grantpt");
    if (unlockpt(master_fd) != 0)
        die("unlockpt");
    const char *name = ptsname(master_fd);
    if (!name)
        die("ptsname");
    slave_fd = open(name, O_RDWR | O_NOCTTY);
    if (slave_fd < 0)
        die("open pty slave");
    struct termios t;
    if (tcgetattr(slave_fd, &t) != 0)
        die("tcgetattr");
    cfmakeraw(&t);
    if (tcsetattr(slave_fd, TCSANOW, &t) != 0)
        die("tcsetattr");
    int flags = fcntl(master_fd, F_GETFL);
    if (flags < 0 || fcntl(master_fd, F_SETFL, flags | O_NONBLOCK) != 0)
        die("fcntl O_NONBLOCK");
    printf("EDGEHOST_PORT %s\n", name);
    fflush(stdout);
}

void eh_uart_write(const uint8_t *buf, uint32_t n)
{
    while (!client_spoke) {
        struct pollfd p = {master_fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0 && (p.revents & POLLIN))
            client_spoke = 1;
    }
    while (n) {
        ssize_t k = write(master_fd, buf, n);
        if (k < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                struct pollfd p = {master_fd, POLLOUT, 0};
                (void)poll(&p, 1, 10);
                continue;
            }
            die("write to pty");
        }
        buf += k;
        n -= (uint32_t)k;
    }
}

int eh_uart_read(uint8_t *byte)
{
    ssize_t k = read(master_fd, byte, 1);
    if (k == 1) {
        idle_reads = 0;
        client_spoke = 1;
        return 1;
    }
    if (k < 0 && errno != EAGAIN && errno != EINTR && errno != EIO)
        die("read from pty");
    /* Busy polling is what a microcontroller does; a process sharing a machine should not:
       after a run of empty reads, wait up to 1 ms for input before saying "nothing". */
    if (++idle_reads >= 1000u) {
        struct pollfd p = {master_fd, POLLIN, 0};
        (void)poll(&p, 1, 1);
    }
    return 0;
}

int eh_uart_rx_pending(void)
{
    struct pollfd p = {master_fd, POLLIN, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

void eh_uart_rx_wake(int on)
{
    (void)on;
}

void eh_uart_flush(void)
{
    /* What we wrote waits in the slave's input queue until the client reads it; closing the
       master (exit) discards it. The kernel moves written bytes into that queue a little later
       (the tty flip buffer), so: wait up to 50 ms for them to show there, then up to 2 s for
       the client to read them all. */
    int seen = 0;
    for (int i = 0; i < 2000 && slave_fd >= 0; i++) {
        int pending = 0;
        if (ioctl(slave_fd, FIONREAD, &pending) != 0)
            return;
        if (pending > 0)
            seen = 1;
        else if (seen || i >= 50)
            return;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}
