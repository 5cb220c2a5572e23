/*
 * edgehost kernels: common types shared by every kernel family.
 *
 * Conventions (all families):
 *  - C99, no malloc, no global state; every buffer is passed in by the caller.
 *  - Every kernel returns an eh_status; EH_OK (0) on success, a negative code when an
 *    argument is rejected. A rejected call writes nothing.
 *  - Type suffixes: _f32 float32, _q15 int16 fixed point, _q7/_s8 int8, _b1 bit-packed binary.
 *  - Fixed-point arithmetic saturates, it never wraps. Right shifts of negative values are
 *    arithmetic (floor), which every supported compiler (GCC, Clang) guarantees.
 *  - Spikes are uint8 arrays holding 0 or 1, one per neuron.
 */
#ifndef EH_COMMON_H
#define EH_COMMON_H

#ifndef EH_CDEF
#include <stdint.h>
#endif

#define EH_KERNELS_VERSION_MAJOR 0
#define EH_KERNELS_VERSION_MINOR 1

typedef enum {
    EH_OK = 0,
    EH_ERR_NULL = -1,   /* a required pointer is NULL */
    EH_ERR_SIZE = -2,   /* a size is zero, too large, or inconsistent with another */
    EH_ERR_RANGE = -3,  /* a parameter value is outside its documented range */
    EH_ERR_ARG = -4     /* an invalid combination of arguments (e.g. a mode) */
} eh_status;

/* How a spiking neuron resets after it fired at the previous step. */
typedef enum {
    EH_RESET_SUBTRACT = 0,    /* v -= threshold */
    EH_RESET_ZERO = 1,        /* v = 0 (see each kernel for which terms are dropped) */
    EH_RESET_NONE = 2,        /* no reset (LIF and CuBa-LIF only: eh_lif.h) */
    EH_RESET_SUBTRACT_NOW = 3 /* snnTorch's reset_delay=False subtraction (LIF, CuBa-LIF: eh_lif.h) */
} eh_reset;

/* Human-readable name of a status code (never NULL). */
const char *eh_status_str(int32_t status);

#endif /* EH_COMMON_H */
