/*
 * Build-time sizes of the firmware runtime's static buffers. Each can be set per board with a
 * compile definition in the board's CMake toolchain file (boards/icebreaker, boards/ulx3s);
 * the defaults below are chosen by core so that every supported board fits its RAM.
 *
 * RAM used by the runtime = 2 * (EH_FW_MAX_PAYLOAD + 12) + EH_FW_MAX_PAYLOAD (staged INFER's
 * staging buffer) + 32 + EH_FW_BLOB_SIZE + EH_FW_ARENA_SIZE + the model struct + ~100 bytes.
 */
#ifndef EH_FW_CONFIG_H
#define EH_FW_CONFIG_H

#define EH_FW_VERSION_MAJOR 0
#define EH_FW_VERSION_MINOR 1
#define EH_FW_VERSION_PATCH 0

#if defined(__ARM_ARCH_6M__)
/* Cortex-M0 (nRF51 micro:bit under QEMU: 16 KB RAM in all). */
#define EH_FW_DEFAULT_PAYLOAD 256u
#define EH_FW_DEFAULT_BLOB (4u * 1024u)
#define EH_FW_DEFAULT_ARENA (4u * 1024u)
#elif defined(__arm__)
/* Cortex-M4F boards (STM32F405: 128 KB SRAM; nRF52840: 256 KB; mps2-an386: 4 MB). */
#define EH_FW_DEFAULT_PAYLOAD 1024u
#define EH_FW_DEFAULT_BLOB (48u * 1024u)
#define EH_FW_DEFAULT_ARENA (32u * 1024u)
#else
/* RISC-V virt (128 MB) and the native host board. */
#define EH_FW_DEFAULT_PAYLOAD 1024u
#define EH_FW_DEFAULT_BLOB (256u * 1024u)
#define EH_FW_DEFAULT_ARENA (128u * 1024u)
#endif

/* Largest payload of a request or a response (the protocol allows up to 65535). */
#ifndef EH_FW_MAX_PAYLOAD
#define EH_FW_MAX_PAYLOAD EH_FW_DEFAULT_PAYLOAD
#endif
/* RAM buffer the model blob is loaded into (it stays there: the model reads its weights in place). */
#ifndef EH_FW_BLOB_SIZE
#define EH_FW_BLOB_SIZE EH_FW_DEFAULT_BLOB
#endif
/* The model's arena (state, activations). */
#ifndef EH_FW_ARENA_SIZE
#define EH_FW_ARENA_SIZE EH_FW_DEFAULT_ARENA
#endif

#if EH_FW_MAX_PAYLOAD < 64 || EH_FW_MAX_PAYLOAD > 65535
#error "EH_FW_MAX_PAYLOAD must be within 64 .. 65535"
#endif

#endif /* EH_FW_CONFIG_H */
