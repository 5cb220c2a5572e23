/* Firmware entry: the board's startup has run eh_hal_init(); serve the host link for ever. */
#include "eh_runtime.h"

int main(void)
{
    eh_runtime_run();
    return 0;
}
