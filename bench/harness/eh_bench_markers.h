/*
 * The two marker functions the bench harness calls around each measured run(). The QEMU
 * plugin (bench/qemu_plugin/eh_count.c) is given their addresses from the ELF's symbol table
 * and reads its instruction counter when each one is entered.
 */
#ifndef EH_BENCH_MARKERS_H
#define EH_BENCH_MARKERS_H

void eh_bench_begin(void);
void eh_bench_end(void);

#endif
