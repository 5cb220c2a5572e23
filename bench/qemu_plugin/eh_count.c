/*
 * eh_count: a QEMU TCG plugin that counts executed guest instructions exactly between two
 * marker functions.
 *
 *   qemu-system-arm ... -plugin libeh_count.so,begin=0xADDR,end=0xADDR -d plugin -D counts.log
 *
 * begin / end are the addresses of eh_bench_begin() and eh_bench_end() from the ELF's symbol
 * table (bit 0, the Thumb bit, is ignored). Every translated guest instruction gets an inline
 * "add 1" on a 64-bit counter, so the count is exact whatever the shape of the translation
 * blocks and however a block is left (an exception mid-block, an exit). The first
 * instruction of each marker gets an exec callback that reads the counter:
 *
 *   raw = counter at entry of eh_bench_end - counter at entry of eh_bench_begin
 *       = instructions executed from the first instruction of eh_bench_begin (included) to
 *         the first instruction of eh_bench_end (excluded).
 *
 * Protocol with the harness (bench/harness/): the first begin/end pair wraps an empty case;
 * its raw count is the markers' own overhead (the body of eh_bench_begin, the call through
 * the case's function pointer, the return of an empty function) and is subtracted from every
 * later pair. Output, one line per pair, through qemu_plugin_outs:
 *
 *   eh_count: calib raw=<n>
 *   eh_count: case=<i> raw=<n> insns=<n - calib>      (i = 0, 1, ... in harness order)
 *   eh_count: error <what>                             (marker misuse; the host fails the run)
 *   eh_count: exit total=<instructions executed> pairs=<completed pairs>
 *
 * Single vCPU only: the inline counter is not atomic, so the plugin refuses -smp > 1.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eh_plugin_args.h"

EH_QEMU_PLUGIN_EXPORT int qemu_plugin_version = EH_QEMU_PLUGIN_API_VERSION;

enum { MARK_BEGIN = 1, MARK_END = 2 };

static uint64_t insn_count;    /* every executed guest instruction */
static uint64_t marker_addr[3]; /* [MARK_BEGIN], [MARK_END] */
static uint64_t open_at;       /* counter at the last begin */
static int window_open;
static uint64_t calib;
static uint64_t pairs;         /* completed begin/end pairs, calibration included */
static int tag_begin = MARK_BEGIN, tag_end = MARK_END;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    qemu_plugin_outs(line);
}

static void on_marker(unsigned int vcpu, void *udata)
{
    const int which = *(const int *)udata;
    (void)vcpu;
    if (which == MARK_BEGIN) {
        if (window_open) {
            out("eh_count: error begin while a window is open (pair %" PRIu64 ")\n", pairs);
        }
        window_open = 1;
        open_at = insn_count;
        return;
    }
    if (!window_open) {
        out("eh_count: error end without begin (pair %" PRIu64 ")\n", pairs);
        return;
    }
    window_open = 0;
    {
        const uint64_t raw = insn_count - open_at;
        if (pairs == 0) {
            calib = raw;
            out("eh_count: calib raw=%" PRIu64 "\n", raw);
        } else {
            out("eh_count: case=%" PRIu64 " raw=%" PRIu64 " insns=%" PRId64 "\n", pairs - 1u, raw,
                (int64_t)(raw - calib));
        }
        pairs++;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    const size_t n = qemu_plugin_tb_n_insns(tb);
    size_t i;
    (void)id;
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const uint64_t pc = qemu_plugin_insn_vaddr(insn);
        /* The marker callback is registered first, so on a marker instruction it reads the
         * counter before that instruction's own increment; either order would cancel out in
         * end - begin, this one makes "begin included, end excluded" literal. */
        if (pc == marker_addr[MARK_BEGIN]) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, &tag_begin);
        } else if (pc == marker_addr[MARK_END]) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, &tag_end);
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &insn_count, 1);
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    if (window_open) out("eh_count: error begin without end at exit\n");
    out("eh_count: exit total=%" PRIu64 " pairs=%" PRIu64 "\n", insn_count, pairs);
}

EH_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                              int argc, char **argv)
{
    if (!eh_plugin_check("eh_count", info) ||
        !eh_plugin_two_addrs("eh_count", argc, argv, "begin", &marker_addr[MARK_BEGIN], "end",
                             &marker_addr[MARK_END]))
        return -1;
    marker_addr[MARK_BEGIN] &= ~(uint64_t)1; /* Thumb bit */
    marker_addr[MARK_END] &= ~(uint64_t)1;
    if (marker_addr[MARK_BEGIN] == 0 || marker_addr[MARK_BEGIN] == marker_addr[MARK_END]) {
        fprintf(stderr, "eh_count: needs begin=ADDR,end=ADDR (two distinct addresses)\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, 0);
    out("eh_count: target=%s begin=0x%" PRIx64 " end=0x%" PRIx64 "\n", info->target_name,
        marker_addr[MARK_BEGIN], marker_addr[MARK_END]);
    return 0;
}
