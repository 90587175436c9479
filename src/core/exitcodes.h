/* Exit codes shared by every program (documented in each program's --help).
 * Library code never exits; main() maps a failure to one of these. */
#ifndef DRMM_EXITCODES_H
#define DRMM_EXITCODES_H

enum {
    EXIT_OK       = 0,   /* success */
    EXIT_RUNTIME  = 1,   /* runtime or I/O failure (file unreadable, out of memory) */
    EXIT_USAGE    = 2,   /* bad command-line flags */
    EXIT_BADDATA  = 3,   /* invalid input data (corrupt file, bad CSV, content conflict) */
    EXIT_STORE    = 4    /* store problem: not a database, newer schema, locked, read-only, full */
};

#endif
