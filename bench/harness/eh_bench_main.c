/*
 * The on-target bench harness: runs every benchmark case linked into the image, one at a time,
 * between the two markers the QEMU instruction-counting plugin watches, and reports each case
 * over the UART. Protocol (one line each, fields separated by '|', all numbers decimal):
 *
 *   EHB|hello|<board>|<core>|<counter_kind>|<clock_hz>
 *   EHB|mode|<all|quick>
 *   EHB|calib|<counter delta>       the empty case (the markers' own overhead)
 *   EHB|case|<i>|<family>|<kernel>|<shape>|<unit>|<units>|<counter delta>
 *   EHB|check|<name>|<compared>|<mismatches>   a case's on-target self-check (eh_bench_check),
 *                                              printed from its setup(), before its case line
 *   EHB|done|<cases run>
 *
 * Quick mode runs, of each kernel name in a family, only the case with the fewest units. It is
 * chosen by the word eh_bench_mode, which the host patches in a copy of the ELF (its symbol
 * gives the place) before loading it: nothing is read from the host at run time, so the
 * image runs the same instructions every time.
 *
 * <i> counts the measured cases in the order they ran (0, 1, ...): it is the same index the
 * plugin prints (eh_count: case=<i>), which is how the host pairs the two. The counter delta is
 * eh_hal_counter() read just outside the two markers; the host subtracts the calibration delta.
 *
 * The calibration and every case go through the same noinline measure(), so the overhead the
 * empty case measures is exactly the overhead of every other case: a case's figure is the
 * instructions executed by its run() beyond those of an empty function.
 */
#include <stdint.h>

#include "eh_bench.h"
#include "eh_bench_markers.h"
#include "eh_hal.h"

#define EH_BENCH_FAMILY(f)                                                                    \
    extern const eh_bench_case eh_bench_cases_##f[] __attribute__((weak));                    \
    extern const uint32_t eh_bench_n_##f __attribute__((weak));

EH_BENCH_FAMILY(lif)
EH_BENCH_FAMILY(basic)
EH_BENCH_FAMILY(binary)
EH_BENCH_FAMILY(mst)
EH_BENCH_FAMILY(shiftadd)
EH_BENCH_FAMILY(lmu)
EH_BENCH_FAMILY(conv2d)

typedef struct {
    const char *name;
    const eh_bench_case *cases; /* NULL when the family is not linked in */
    const uint32_t *n;
} eh_bench_family;

static void put_str(const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0') n++;
    eh_hal_uart_write((const uint8_t *)s, n);
}

static void put_u32(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    put_str(&buf[i]);
}

static void put_field(const char *s)
{
    put_str("|");
    put_str(s != 0 ? s : "");
}

static int str_eq(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

void eh_bench_check(const char *name, uint32_t compared, uint32_t mismatches)
{
    put_str("EHB|check");
    put_field(name);
    put_str("|");
    put_u32(compared);
    put_str("|");
    put_u32(mismatches);
    put_str("\n");
}

static void eh_bench_empty(void)
{
}

/* One measurement: setup (not measured), then run() between the markers. Returns the board
 * counter's delta across the markers (wraps like the counter). noipa: no specialised clone for
 * the calibration case, so every case runs the very same instructions around run(). */
__attribute__((noinline, noipa)) static uint32_t measure(const eh_bench_case *c)
{
    uint32_t t0, t1;
    c->setup();
    t0 = eh_hal_counter();
    eh_bench_begin();
    c->run();
    eh_bench_end();
    t1 = eh_hal_counter();
    return t1 - t0;
}

/* In quick mode a case runs only if no case of the same kernel in its family has fewer units
 * (the first one wins a tie). */
static int selected(const eh_bench_case *cases, uint32_t n, uint32_t k, int quick)
{
    uint32_t j;
    if (!quick) return 1;
    for (j = 0; j < n; j++) {
        if (j == k || !str_eq(cases[j].kernel, cases[k].kernel)) continue;
        if (cases[j].units < cases[k].units || (cases[j].units == cases[k].units && j < k)) return 0;
    }
    return 1;
}

/* Run mode, in read-only memory. The host (edgehost.bench) patches EH_BENCH_MODE_QUICK over
 * EH_BENCH_MODE_ALL in a copy of the ELF; any other value runs every case. */
#define EH_BENCH_MODE_ALL 0x30424845u   /* "EHB0" */
#define EH_BENCH_MODE_QUICK 0x31424845u /* "EHB1" */
__attribute__((used)) const volatile uint32_t eh_bench_mode = EH_BENCH_MODE_ALL;

int main(void)
{
    const eh_bench_family families[] = {
        {"lif", eh_bench_cases_lif, &eh_bench_n_lif},
        {"basic", eh_bench_cases_basic, &eh_bench_n_basic},
        {"binary", eh_bench_cases_binary, &eh_bench_n_binary},
        {"mst", eh_bench_cases_mst, &eh_bench_n_mst},
        {"shiftadd", eh_bench_cases_shiftadd, &eh_bench_n_shiftadd},
        {"lmu", eh_bench_cases_lmu, &eh_bench_n_lmu},
        {"conv2d", eh_bench_cases_conv2d, &eh_bench_n_conv2d},
    };
    const eh_bench_case calib = {"", "", "", 1u, eh_bench_empty, eh_bench_empty};
    const eh_board_info *info;
    uint32_t f, k, index = 0;
    int quick;

    eh_hal_init();
    info = eh_hal_board();
    put_str("EHB|hello");
    put_field(info->board);
    put_field(info->core);
    put_field(info->counter_kind);
    put_str("|");
    put_u32(info->clock_hz);
    quick = eh_bench_mode == EH_BENCH_MODE_QUICK;
    put_str(quick ? "\nEHB|mode|quick\n" : "\nEHB|mode|all\n");

    put_str("EHB|calib|");
    put_u32(measure(&calib));
    put_str("\n");

    for (f = 0; f < sizeof families / sizeof families[0]; f++) {
        const eh_bench_family *fam = &families[f];
        uint32_t n;
        if (fam->cases == 0 || fam->n == 0) continue;
        n = *fam->n;
        for (k = 0; k < n; k++) {
            const eh_bench_case *c = &fam->cases[k];
            uint32_t delta;
            if (!selected(fam->cases, n, k, quick)) continue;
            delta = measure(c);
            put_str("EHB|case|");
            put_u32(index);
            put_field(fam->name);
            put_field(c->kernel);
            put_field(c->shape);
            put_field(c->unit);
            put_str("|");
            put_u32(c->units);
            put_str("|");
            put_u32(delta);
            put_str("\n");
            index++;
        }
    }
    put_str("EHB|done|");
    put_u32(index);
    put_str("\n");
    eh_hal_exit(0);
    return 0;
}
