/*
 * Marker functions for the instruction counter. Kept in their own file, never inlined and
 * opaque to inter-procedural analysis (noipa), so every call stays a real call to one fixed
 * address. The empty asm with a memory clobber is a compiler barrier: no memory access of the
 * measured run() moves across a marker. Each body is a single return instruction.
 */
#include "eh_bench_markers.h"

__attribute__((noinline, noipa)) void eh_bench_begin(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline, noipa)) void eh_bench_end(void)
{
    __asm__ volatile("" ::: "memory");
}
