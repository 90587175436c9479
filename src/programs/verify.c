/* verify: checks a whole store: SQLite's integrity and foreign-key checks,
 * then every dataset and every checkpoint against the SHA-256 recorded when
 * it was written.  One line per item on stdout, a summary last; exit status
 * says whether the store is sound. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "exitcodes.h"
#include "store.h"

static const char *prog = "verify";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: verify --store FILE [--quiet]\n"
        "Checks the experiment store FILE without changing it: SQLite's PRAGMA integrity_check and\n"
        "foreign_key_check, then every dataset's images, labels and names against the SHA-256 recorded\n"
        "at ingest, and every checkpoint's tensors and state against the SHA-256 recorded when it was\n"
        "written (checkpoints from before schema migration 5 have none and are listed as unchecked).\n"
        "Train, evaluate and decode make the same content check on what they read, always.\n"
        "\n"
        "  --store FILE   the store (required; it is opened read-only and never created)\n"
        "  --quiet        print only damaged items and the summary\n"
        "  --help, --version\n"
        "\n"
        "Output: one line per item, 'ok', 'DAMAGED' or 'unchecked', its kind and name and what was found;\n"
        "then 'store FILE: sound' or 'store FILE: DAMAGED (...)'.  To repair: a damaged dataset is\n"
        "restored with ingest --force from its source; a damaged checkpoint is dropped by resuming or\n"
        "evaluating an earlier one, or by training the run again; SQLite-level damage needs a backup\n"
        "(or sqlite3 FILE .recover).\n"
        "Exit status: 0 sound, 1 runtime failure, 2 bad flags, 3 damage found (integrity, foreign keys,\n"
        "a dataset or a checkpoint), 4 the store cannot be opened (no such store, not a database, newer or\n"
        "older schema, unreadable).\n");
}

static void print_item(const char *kind, const char *what, int ok, const char *msg, void *arg)
{
    int quiet = *(const int *)arg;
    if (quiet && ok != 0)
        return;
    printf("%-9s %-12s %s: %s\n", ok > 0 ? "ok" : ok == 0 ? "DAMAGED" : "unchecked", kind, what, msg);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *store_path = NULL;
    int quiet = 0, c;
    enum { O_STORE = 1000, O_QUIET, O_HELP, O_VERSION };
    static const struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: store_path = optarg; break;
        case O_QUIET: quiet = 1; break;
        case 'h':
        case O_HELP: usage(stdout); return EXIT_OK;
        case O_VERSION:
            cli_print_version(prog);
            return EXIT_OK;
        default:
            fprintf(stderr, "%s: unknown option or missing value '%s'; try --help\n", prog, argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (cli_no_operands(prog, argc, argv))
        return EXIT_USAGE;
    if (!store_path) {
        fprintf(stderr, "%s: --store FILE is required; try --help\n", prog);
        return EXIT_USAGE;
    }
    err_t e = {.msg = ""};
    store *st;
    if (store_open(store_path, STORE_READONLY | STORE_MUSTEXIST, &st, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        return store_fail_kind() == STORE_FAIL_RUNTIME ? EXIT_RUNTIME : EXIT_STORE;
    }
    store_verify_counts n;
    int code = EXIT_OK;
    if (store_verify(st, print_item, &quiet, &n, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        code = store_fail_kind() == STORE_FAIL_STORE ? EXIT_STORE : EXIT_RUNTIME;
    } else {
        int damaged = !n.integrity_ok || n.fk_violations || n.bad_datasets || n.bad_checkpoints;
        printf("store %s: %s (integrity %s, %d foreign-key violations, %d/%d datasets damaged, "
               "%d/%d checkpoints damaged, %d unchecked)\n", store_path, damaged ? "DAMAGED" : "sound",
               n.integrity_ok ? "ok" : "FAILED", n.fk_violations, n.bad_datasets, n.datasets, n.bad_checkpoints,
               n.checkpoints, n.unchecked_checkpoints);
        if (damaged) {
            fprintf(stderr, "%s: %s: damage found; see the DAMAGED lines above and verify --help for repairs\n", prog,
                    store_path);
            code = EXIT_BADDATA;
        }
    }
    store_close(st);
    return code;
}
