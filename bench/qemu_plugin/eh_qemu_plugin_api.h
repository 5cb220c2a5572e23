/*
 * The part of QEMU's TCG plugin API (API version 1, as in QEMU 7.2) that eh_count.c uses,
 * declared from the public API documentation (docs/devel/tcg-plugins.rst, "API" section).
 * Debian's QEMU is built with plugin support but ships no qemu-plugin.h; QEMU resolves these
 * symbols in its own executable when it dlopen()s the plugin. Only what is used is declared;
 * the layouts below must match the QEMU the plugin is loaded into (checked at install time via
 * info->version).
 */
#ifndef EH_QEMU_PLUGIN_API_H
#define EH_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EH_QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

/* The API level this plugin is written against (QEMU 7.2 is level 1). */
#define EH_QEMU_PLUGIN_API_VERSION 1

typedef uint64_t qemu_plugin_id_t;

/* System information handed to qemu_plugin_install(). */
typedef struct qemu_info_t {
    const char *target_name; /* "arm", "riscv32", ... */
    struct {
        int min; /* oldest API level this QEMU accepts */
        int cur; /* its current API level */
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

/* Opaque handles, valid only inside the translation callback. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

/* Called on every translation of a block of guest code (not on every execution). */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);

size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

/* Run cb(vcpu, userdata) each time insn is executed (before it executes). */
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);

/* Generated code adds imm to *ptr each time insn is executed (not atomic). */
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);

/* Memory accesses (eh_stack.c): the callback gets the access's info and guest virtual address. */
typedef uint32_t qemu_plugin_meminfo_t;
enum qemu_plugin_mem_rw {
    QEMU_PLUGIN_MEM_R = 1,
    QEMU_PLUGIN_MEM_W,
    QEMU_PLUGIN_MEM_RW,
};
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
                                      void *userdata);

void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

/* Write a string to QEMU's log (the -D file when -d plugin is given, else stderr). */
void qemu_plugin_outs(const char *string);

#endif
