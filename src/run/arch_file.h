/* Architecture files: the program reads the file, the engine parses the
 * text (arch_parse, format in arch.h); the engine opens no files. */
#ifndef DRMM_ARCH_FILE_H
#define DRMM_ARCH_FILE_H

#include "arch.h"

struct err_t;

/* Reads path (a text file of at most 1 MiB without NUL bytes) and parses it;
 * messages name the file and line. */
int arch_load(arch *a, const char *path, struct err_t *e);

#endif
