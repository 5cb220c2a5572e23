/*
 * What both of the project's QEMU plugins (eh_count.c, eh_stack.c) do at install: check the
 * plugin API level and a single vCPU, and read two required "key=ADDR" arguments (0x... or
 * decimal). Each function prints its reason to stderr, prefixed with the plugin's name, and
 * returns 0 when QEMU must refuse the plugin.
 */
#ifndef EH_PLUGIN_ARGS_H
#define EH_PLUGIN_ARGS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eh_qemu_plugin_api.h"

static int eh_plugin_check(const char *name, const qemu_info_t *info)
{
    if (info->version.min > EH_QEMU_PLUGIN_API_VERSION || info->version.cur < EH_QEMU_PLUGIN_API_VERSION) {
        fprintf(stderr, "%s: QEMU plugin API %d..%d does not include level %d\n", name, info->version.min,
                info->version.cur, EH_QEMU_PLUGIN_API_VERSION);
        return 0;
    }
    if (info->system_emulation && info->system.smp_vcpus > 1) {
        fprintf(stderr, "%s: needs a single vCPU (got -smp %d)\n", name, info->system.smp_vcpus);
        return 0;
    }
    return 1;
}

/* Parses "0x..." (or decimal) into *addr; 0 on a malformed value. */
static int eh_plugin_addr(const char *s, uint64_t *addr)
{
    char *end = 0;
    unsigned long long v;
    if (s == 0 || *s == '\0') return 0;
    v = strtoull(s, &end, 0);
    if (end == s || *end != '\0') return 0;
    *addr = (uint64_t)v;
    return 1;
}

/* Exactly the arguments k1=ADDR and k2=ADDR, in any order, each once. */
static int eh_plugin_two_addrs(const char *name, int argc, char **argv, const char *k1, uint64_t *v1,
                               const char *k2, uint64_t *v2)
{
    int i, have1 = 0, have2 = 0;
    const size_t n1 = strlen(k1), n2 = strlen(k2);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        int *have = 0;
        uint64_t *v = 0;
        if (strncmp(a, k1, n1) == 0 && a[n1] == '=') {
            have = &have1, v = v1, a += n1 + 1;
        } else if (strncmp(a, k2, n2) == 0 && a[n2] == '=') {
            have = &have2, v = v2, a += n2 + 1;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (expected %s=ADDR,%s=ADDR)\n", name, argv[i], k1, k2);
            return 0;
        }
        if (*have || !eh_plugin_addr(a, v)) {
            fprintf(stderr, "%s: argument '%s': %s\n", name, argv[i], *have ? "given twice" : "not an address");
            return 0;
        }
        *have = 1;
    }
    if (!have1 || !have2) {
        fprintf(stderr, "%s: needs %s=ADDR,%s=ADDR\n", name, k1, k2);
        return 0;
    }
    return 1;
}

#endif /* EH_PLUGIN_ARGS_H */
