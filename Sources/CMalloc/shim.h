#ifndef ACCORD_CMALLOC_SHIM_H
#define ACCORD_CMALLOC_SHIM_H
// glibc's allocator controls (malloc_trim, mallopt), for a long fold that hands freed memory back
// to the system between chunks and has large blocks mapped on their own (Journal/Format.md §9.4.5;
// ReadModelFile.returnFreedMemory, ReadModelFile.mapLargeBlocks).
#include <malloc.h>
#endif
