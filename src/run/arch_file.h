/* Architecture files: the program reads the file, the engine parses the
 * text (arch_parse, format in arch.h); the engine opens no files. */
#ifndef DRMM_ARCH_FILE_H
#define DRMM_ARCH_FILE_H

#include "arch.h"

struct err_t;

/* Reads path (a text file of at most 1 MiB without NUL bytes) and parses it;
 * messages name the file and line.  A bare name that is no file here
 * (`convsmall`) is looked up as NAME and NAME.arch in DRMM_ARCH_DIR: the
 * repository's archs/ for a local build, PREFIX/share/drmm/archs for an
 * installed one (make install). */
int arch_load(arch *a, const char *path, struct err_t *e);

#endif
