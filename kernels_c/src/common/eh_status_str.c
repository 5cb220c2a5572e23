#include "eh_common.h"

const char *eh_status_str(int32_t status)
{
    switch (status) {
    case EH_OK: return "ok";
    case EH_ERR_NULL: return "null pointer";
    case EH_ERR_SIZE: return "bad size";
    case EH_ERR_RANGE: return "parameter out of range";
    case EH_ERR_ARG: return "invalid argument combination";
    default: return "unknown status";
    }
}
