/*
 * eh_stack: a QEMU TCG plugin that measures the deepest stack a guest reaches: the lowest
 * address written inside the stack region [lo, hi) by any guest store instruction.
 *
 *   qemu-system-arm ... -plugin libeh_stack.so,lo=0xADDR,hi=0xADDR -d plugin -D stack.log
 *
 * lo / hi come from the ELF (host/edgehost/bench/stack.py: the end of .bss and _estack, the
 * initial stack pointer at the top of RAM). Every store instruction gets a memory callback;
 * the depth is hi - (lowest address written). Output through qemu_plugin_outs:
 *
 *   eh_stack: lo=0x.. hi=0x..
 *   eh_stack: depth=<bytes> addr=0x..     each time the depth passes a multiple of 16 bytes
 *   eh_stack: exit depth=<bytes> stores=<stores seen in the region>
 *
 * Not seen: what the core writes itself, outside instructions (the Cortex-M exception entry
 * frame, 32 bytes, or 104 with the FP context). Single vCPU only.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eh_plugin_args.h"

EH_QEMU_PLUGIN_EXPORT int qemu_plugin_version = EH_QEMU_PLUGIN_API_VERSION;

static uint64_t lo, hi, lowest, stores, reported;

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

static void on_store(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)vcpu;
    (void)info;
    (void)udata;
    if (vaddr < lo || vaddr >= hi) return;
    stores++;
    if (vaddr < lowest) {
        lowest = vaddr;
        if (hi - lowest >= reported + 16u) {
            reported = (hi - lowest) & ~(uint64_t)15;
            out("eh_stack: depth=%" PRIu64 " addr=0x%" PRIx64 "\n", hi - lowest, lowest);
        }
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    const size_t n = qemu_plugin_tb_n_insns(tb);
    size_t i;
    (void)id;
    for (i = 0; i < n; i++) {
        qemu_plugin_register_vcpu_mem_cb(qemu_plugin_tb_get_insn(tb, i), on_store, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_W, 0);
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    out("eh_stack: exit depth=%" PRIu64 " stores=%" PRIu64 "\n", hi - lowest, stores);
}

EH_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                              int argc, char **argv)
{
    if (!eh_plugin_check("eh_stack", info) || !eh_plugin_two_addrs("eh_stack", argc, argv, "lo", &lo, "hi", &hi))
        return -1;
    if (lo >= hi) {
        fprintf(stderr, "eh_stack: needs lo=ADDR,hi=ADDR with lo < hi\n");
        return -1;
    }
    lowest = hi;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, 0);
    out("eh_stack: lo=0x%" PRIx64 " hi=0x%" PRIx64 "\n", lo, hi);
    return 0;
}
