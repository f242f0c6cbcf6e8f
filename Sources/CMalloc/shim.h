#ifndef ACCORD_CMALLOC_SHIM_H
#define ACCORD_CMALLOC_SHIM_H
// glibc's allocator controls (malloc_trim), for a long fold that hands freed memory back to the
// system between chunks (Journal/Format.md §9.4.5; ReadModelFile.returnFreedMemory).
#include <malloc.h>
#endif
