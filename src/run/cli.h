/* What the programs share: integer flag values checked against a range,
 * the exit status a failure maps to (exitcodes.h), and creating the
 * directories an output file goes into. */
#ifndef DRMM_CLI_H
#define DRMM_CLI_H

struct err_t;

/* Parses s as a decimal integer in [lo, hi] into *out; on failure prints
 * "prog: flag s: expected an integer in [lo, hi]" on stderr and returns -1. */
int cli_long(const char *prog, const char *flag, const char *s, long lo, long hi, long *out);

/* The exit status of a failure with message e: EXIT_STORE for a store
 * problem, EXIT_BADDATA for an unknown dataset/run/checkpoint, a content
 * conflict or invalid input, else EXIT_RUNTIME. */
int cli_exit_status(const struct err_t *e);

/* Creates the missing parent directories of a file path (like mkdir -p of
 * its directory).  Returns 0, or -1 with errno set. */
int cli_make_parent_dirs(const char *path);

#endif
