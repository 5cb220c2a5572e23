/* The host board's "reset": eh_hal_init() runs before main(), as the reset handler does on
   the microcontrollers, so the firmware's main() is the same on every board. */
#include "eh_hal.h"

__attribute__((constructor)) static void eh_host_startup(void)
{
    eh_hal_init();
}
