/* What the programs share: the command-line rules (long options by their
 * exact names only, with a suggestion for a misspelt one; one --version
 * format), integer flag values checked against a range, the exit status a
 * failure maps to (exitcodes.h), and creating the directories an output
 * file goes into. */
#ifndef DRMM_CLI_H
#define DRMM_CLI_H

struct err_t;
struct option;

/* Checks every "--name" and "--name=value" argument of argv (up to a "--")
 * against opts (terminated by a zero entry) before getopt_long runs:
 * getopt_long takes any unambiguous prefix, so --epoch would silently be
 * --epochs; here a long option must be spelt out in full.  On the first
 * unknown name prints "prog: unknown option --NAME; did you mean --CLOSEST?
 * (try --help)" (the suggestion when one is close: a prefix, or a few
 * letters apart) and returns -1: the program exits with EXIT_USAGE.  The
 * value after an option that takes one is skipped.  Returns 0 otherwise. */
int cli_check_options(const char *prog, int argc, char *const *argv, const struct option *opts);

/* The closest of opts' names to name (prefix of it, or the smallest edit
 * distance within about a third of its length), or NULL. */
const char *cli_closest_option(const char *name, const struct option *opts);

/* Prints the one --version line of every program on stdout:
 * "PROG (drmm) VERSION, git COMMIT" and " (dirty)" when the tree it was
 * built from had uncommitted changes. */
void cli_print_version(const char *prog);

/* After getopt_long: when an operand is left (argv[optind]), prints "prog:
 * unexpected argument 'X'; try --help" and returns -1 (the program exits
 * with EXIT_USAGE); else 0. */
int cli_no_operands(const char *prog, int argc, char *const *argv);

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
