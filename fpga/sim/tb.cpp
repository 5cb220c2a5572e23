// Verilator testbench of the edgehost SoC (eh_sim_top.v): loads an RV32 ELF into the RAM, runs
// the SoC cycle by cycle and bridges its UART to a local TCP server socket, like QEMU's
// `-chardev socket,server=on,wait=on`: it waits for a client before the first cycle, pauses
// while no client is connected, and accepts the next one after a disconnect. It also pauses
// while the firmware only waits for input (PicoRV32 has no WFI): when a 1024-cycle window saw
// the CPU read the UART's line status at least IDLE_POLLS times, send nothing, take nothing, and
// no byte is queued either way, the simulation stops until the socket has something (poll()),
// instead of simulating the idle loop at full speed on a host core. Simulated time stands still
// meanwhile, so cycle counts (rdcycle) are as without the pause; the firmware merely sees the
// next byte arrive sooner in cycles.
//
//   eh-rv32-sim --elf FW.elf --port N [--no-cfu]          # a board for `edgehost flash`, HIL
//   eh-rv32-sim --elf B.elf --uart-file F --count BEGIN,END [--max-cycles N]   # bench
//
// With --count (two addresses: eh_bench_begin, eh_bench_end) it counts the instructions started
// between the markers and prints the lines of the project's QEMU counting plugin
// (bench/qemu_plugin/eh_count.c) to stderr: `eh_count: calib raw=..`, `case=i raw=n insns=..`,
// `exit total=.. pairs=..`; plus `eh_sim: cycles=.. instructions=..` at the end.
// Exit status: the firmware's exit code (exit register), 99 on a CPU trap, 98 at --max-cycles,
// 2 on bad arguments or an image that does not fit.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "Veh_sim_top.h"
#include "verilated.h"

static const uint32_t RAM_BASE = 0x80000000u;
static const uint32_t RAM_BYTES = 1u << 23;

static void die(const char *msg)
{
    fprintf(stderr, "eh_sim: %s\n", msg);
    exit(2);
}

// PT_LOAD segments of an ELF32 little-endian RISC-V image -> a $readmemh file (word addresses
// relative to the RAM's start).
static void elf_to_hex(const char *elf, const char *hexpath)
{
    FILE *f = fopen(elf, "rb");
    if (!f) { fprintf(stderr, "eh_sim: cannot open %s: %s\n", elf, strerror(errno)); exit(2); }
    std::vector<uint8_t> d;
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) d.insert(d.end(), buf, buf + n);
    fclose(f);
    auto u16 = [&](size_t o) { return (uint32_t)d[o] | (uint32_t)d[o + 1] << 8; };
    auto u32 = [&](size_t o) { return u16(o) | u16(o + 2) << 16; };
    if (d.size() < 52 || memcmp(d.data(), "\x7f" "ELF", 4) != 0) die("not an ELF file");
    if (d[4] != 1 || d[5] != 1 || u16(18) != 243) die("not a 32-bit little-endian RISC-V ELF");
    uint32_t phoff = u32(28), phentsize = u16(42), phnum = u16(44);
    std::vector<uint8_t> image;
    std::vector<bool> used;
    uint32_t lo = 0xFFFFFFFFu, hi = 0;
    FILE *h = fopen(hexpath, "w");
    if (!h) die("cannot write the memory file");
    for (uint32_t i = 0; i < phnum; i++) {
        size_t o = phoff + (size_t)i * phentsize;
        if (o + 32 > d.size()) die("truncated program header");
        uint32_t type = u32(o), off = u32(o + 4), paddr = u32(o + 12), filesz = u32(o + 16);
        if (type != 1 || filesz == 0) continue;
        if (paddr < RAM_BASE || (uint64_t)paddr + filesz > (uint64_t)RAM_BASE + RAM_BYTES) {
            fprintf(stderr, "eh_sim: segment at 0x%08x (+%u bytes) is outside the RAM 0x%08x..0x%08x\n",
                    paddr, filesz, RAM_BASE, RAM_BASE + RAM_BYTES);
            exit(2);
        }
        if ((size_t)off + filesz > d.size()) die("truncated segment");
        // whole words; a partial first/last word is padded with zeros (segments are 4-aligned
        // in the project's linker script)
        uint32_t a0 = (paddr - RAM_BASE) & ~3u, a1 = (paddr - RAM_BASE + filesz + 3u) & ~3u;
        fprintf(h, "@%x\n", a0 / 4);
        for (uint32_t a = a0; a < a1; a += 4) {
            uint32_t w = 0;
            for (uint32_t b = 0; b < 4; b++) {
                uint32_t addr = a + b, rel = addr - (paddr - RAM_BASE);
                if (addr >= paddr - RAM_BASE && rel < filesz) w |= (uint32_t)d[off + rel] << (8 * b);
            }
            fprintf(h, "%08x\n", w);
        }
        if (a0 < lo) lo = a0;
        if (a1 > hi) hi = a1;
    }
    fclose(h);
    if (hi == 0) die("the ELF has no loadable segment");
}

static int listen_fd = -1, client_fd = -1;

static void accept_client()
{
    for (;;) {
        int c = accept(listen_fd, nullptr, nullptr);
        if (c >= 0) {
            int one = 1;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
            client_fd = c;
            return;
        }
        if (errno != EINTR) { perror("eh_sim: accept"); exit(2); }
    }
}

static std::string txbuf;

// LSR reads in one 1024-cycle window, with nothing sent or taken, that mark the firmware's idle
// loop (eh_runtime_run polls LSR every few dozen cycles; inside an inference it reads none; a
// transmission writes THR, which rules the window out).
static const uint32_t IDLE_POLLS = 4;

static void flush_tx(bool block)
{
    while (client_fd >= 0 && !txbuf.empty()) {
        ssize_t n = send(client_fd, txbuf.data(), txbuf.size(), MSG_NOSIGNAL);
        if (n > 0) { txbuf.erase(0, (size_t)n); continue; }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!block) return;
            struct pollfd p = {client_fd, POLLOUT, 0};
            poll(&p, 1, 100);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        close(client_fd);  // the client went away: what was not sent is lost (as in QEMU)
        client_fd = -1;
        txbuf.clear();
    }
}

int main(int argc, char **argv)
{
    const char *elf = nullptr, *uart_file = nullptr;
    int port = -1;
    bool cfu = true, counting = false;
    uint32_t begin = 0, end = 0;
    uint64_t max_cycles = 0;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> const char * {
            if (i + 1 >= argc) { fprintf(stderr, "eh_sim: %s needs a value\n", a.c_str()); exit(2); }
            return argv[++i];
        };
        if (a == "--elf") elf = val();
        else if (a == "--port") port = atoi(val());
        else if (a == "--uart-file") uart_file = val();
        else if (a == "--no-cfu") cfu = false;
        else if (a == "--max-cycles") max_cycles = strtoull(val(), nullptr, 0);
        else if (a == "--count") {
            const char *v = val();
            const char *comma = strchr(v, ',');
            if (!comma) die("--count needs BEGIN,END");
            begin = (uint32_t)strtoul(v, nullptr, 0);
            end = (uint32_t)strtoul(comma + 1, nullptr, 0);
            counting = true;
        } else {
            fprintf(stderr, "eh_sim: unknown argument %s\n", a.c_str());
            return 2;
        }
    }
    if (!elf || (port < 0) == (uart_file == nullptr))
        die("usage: eh-rv32-sim --elf FILE (--port N | --uart-file FILE) [--no-cfu] "
            "[--count BEGIN,END] [--max-cycles N]");

    char hexpath[] = "/tmp/eh-rv32-sim-XXXXXX";
    int hfd = mkstemp(hexpath);
    if (hfd < 0) die("cannot create a temporary file");
    close(hfd);
    elf_to_hex(elf, hexpath);

    FILE *uart_out = nullptr;
    if (uart_file) {
        uart_out = fopen(uart_file, "wb");
        if (!uart_out) die("cannot open the --uart-file");
    } else {
        listen_fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            fprintf(stderr, "eh_sim: Failed to bind 127.0.0.1:%d: address already in use? (%s)\n", port,
                    strerror(errno));
            return 2;
        }
        listen(listen_fd, 1);
        fprintf(stderr, "eh_sim: waiting for a connection on 127.0.0.1:%d\n", port);
    }

    std::string plus = std::string("+mem=") + hexpath;
    const char *vargs[] = {argv[0], plus.c_str()};
    Verilated::commandArgs(2, vargs);
    Veh_sim_top *top = new Veh_sim_top;
    top->clk = 0;
    top->resetn = 0;
    top->cfu_enable = cfu;
    top->rx_valid = 0;
    top->rx_data = 0;
    top->eval();
    unlink(hexpath);
    if (client_fd < 0 && listen_fd >= 0) accept_client();

    std::deque<uint8_t> rx;
    uint64_t cycle = 0, instructions = 0, pairs = 0, calib = 0, window = 0;
    bool inside = false, have_calib = false;
    uint32_t lsr_reads = 0;
    bool window_busy = false;
    int code = -1;
    for (;;) {
        // falling edge: inputs settle, then look at what happens at the next rising edge
        top->clk = 0;
        top->resetn = cycle >= 4;
        top->rx_valid = !rx.empty();
        top->rx_data = rx.empty() ? 0 : rx.front();
        top->eval();
        bool tx = top->tx_valid, took = top->rx_valid && top->rx_ready;
        uint8_t txd = top->tx_data;
        if (top->dbg_lsr_read) lsr_reads++;
        if (tx || took) window_busy = true;
        if (top->dbg_launch && top->resetn) {
            instructions++;
            if (counting) {
                uint32_t pc = top->dbg_pc;
                if (pc == begin) {
                    if (inside) fprintf(stderr, "eh_count: error begin while a window is open (pair %llu)\n",
                                        (unsigned long long)pairs);
                    inside = true;
                    window = 0;
                } else if (pc == end) {
                    if (!inside) {
                        fprintf(stderr, "eh_count: error end without begin (pair %llu)\n", (unsigned long long)pairs);
                    } else if (!have_calib) {
                        calib = window;
                        have_calib = true;
                        fprintf(stderr, "eh_count: calib raw=%llu\n", (unsigned long long)window);
                    } else {
                        fprintf(stderr, "eh_count: case=%llu raw=%llu insns=%lld\n", (unsigned long long)(pairs - 1),
                                (unsigned long long)window, (long long)window - (long long)calib);
                    }
                    if (inside) pairs++;
                    inside = false;
                }
                if (inside) window++;
            }
        }
        top->clk = 1;
        top->eval();
        cycle++;
        if (tx) {
            if (uart_out) fputc(txd, uart_out);
            else txbuf.push_back((char)txd);
        }
        if (took) rx.pop_front();
        if (top->exit_valid) { code = top->exit_code; break; }
        if (top->trap) { code = 99; fprintf(stderr, "eh_sim: the CPU trapped at cycle %llu\n", (unsigned long long)cycle); break; }
        if (max_cycles && cycle >= max_cycles) { code = 98; fprintf(stderr, "eh_sim: --max-cycles reached\n"); break; }
        if (listen_fd >= 0 && ((cycle & 1023u) == 0 || txbuf.size() >= 4096)) {
            flush_tx(txbuf.size() >= 4096);
            bool idle = (cycle & 1023u) == 0 && !window_busy && lsr_reads >= IDLE_POLLS && rx.empty() &&
                        txbuf.empty() && !top->tx_valid && client_fd >= 0;
            if ((cycle & 1023u) == 0) { lsr_reads = 0; window_busy = false; }
            if (idle) {  // the firmware waits for input: so do we, off the CPU
                struct pollfd p = {client_fd, POLLIN, 0};
                while (poll(&p, 1, 1000) < 0 && errno == EINTR) {
                }
            }
            if (client_fd >= 0 && rx.size() < 4096) {
                uint8_t b[4096];
                ssize_t n = recv(client_fd, b, sizeof b, 0);
                if (n > 0) rx.insert(rx.end(), b, b + n);
                else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    close(client_fd);
                    client_fd = -1;
                }
            }
            if (client_fd < 0) {  // pause until the next client
                txbuf.clear();
                rx.clear();
                accept_client();
            }
        }
    }
    if (listen_fd >= 0) flush_tx(true);
    if (uart_out) fclose(uart_out);
    if (counting) {
        if (inside) fprintf(stderr, "eh_count: error begin without end at exit\n");
        fprintf(stderr, "eh_count: exit total=%llu pairs=%llu\n", (unsigned long long)instructions,
                (unsigned long long)pairs);
    }
    fprintf(stderr, "eh_sim: exit code=%d cycles=%llu instructions=%llu\n", code, (unsigned long long)cycle,
            (unsigned long long)instructions);
    top->final();
    delete top;
    if (client_fd >= 0) close(client_fd);
    return code;
}
