#ifndef ACCORD_CLIBDEFLATE_SHIM_H
#define ACCORD_CLIBDEFLATE_SHIM_H
#include <libdeflate.h>
#endif
