/* runs: the store's runs from the command line: list them, diff two runs'
 * provenance, configuration and final numbers, compare an experiment against
 * a baseline (in the same store or another), export any view as CSV or
 * JSON, and tag runs or add notes to them.  A
 * program of its own rather than options of `report`: report writes the
 * Markdown report of one experiment grid to files; these are quick queries
 * over any runs whose answer goes to stdout, for a terminal or a script. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "error.h"
#include "exitcodes.h"
#include "runs_cmd.h"
#include "store.h"

static const char *prog = "runs";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: runs --store FILE [--csv | --json] COMMAND ...\n"
        "Lists, diffs, compares and exports the runs of a store (read-only), and tags runs or adds\n"
        "notes to them (the only commands that write).  Commands:\n"
        "\n"
        "  list [--experiment NAME] [--dataset NAME] [--tag TAG]\n"
        "                    one line per run (runs_summary): id, name, dataset, status, labels, loss\n"
        "                    weights (NULL where a run does not use them), final loss and errors, tags, notes\n"
        "  diff A B [--all]  runs A and B side by side (a run id, or a name: its latest run): the\n"
        "                    provenance (commit, diff, argv, command, host, CPU, libraries, tags, notes)\n"
        "                    and configuration keys that differ (--all: every key), then every final\n"
        "                    metric, test error and reconstruction error with B - A\n"
        "  tag RUN TAG       adds TAG (letters, digits and . _ : + -, at most 64) to the run\n"
        "  note RUN TEXT     adds a free-form note (at most 4096 bytes) to the run\n"
        "  compare --experiment NAME --baseline NAME [--baseline-store FILE]\n"
        "                    Table 1 (grid_errors: mean test error by dataset, labels and model) of an\n"
        "                    experiment against a baseline experiment, with the change (negative: lower\n"
        "                    error); the baseline from another store with --baseline-store\n"
        "  export VIEW       every row of a view (or table) of the store, e.g. runs_summary, grid_runs\n"
        "\n"
        "  --store FILE      the SQLite experiment store (required; must exist)\n"
        "  --csv, --json     CSV (RFC 4180, NULL empty) or a JSON array of objects (NULL as null) instead\n"
        "                    of aligned columns (NULL as -)\n"
        "  --help, --version\n"
        "\n"
        "Experiments: the part of a run's name before the first '/' (make pipeline names runs\n"
        "PROFILE/MODEL/nLABELS/sSEED).  Reals are printed as the shortest text that reads back to the\n"
        "same value.\n"
        "Exit status: 0 ok, 1 runtime failure, 2 bad flags, 3 unknown run, experiment or view, or a bad tag\n"
        "or note,\n"
        "4 store problem (missing, not a database, newer schema, locked).\n");
}

static int fail(const err_t *e, int code)
{
    fprintf(stderr, "%s: %s\n", prog, e->msg);
    return code;
}

int main(int argc, char **argv)
{
    const char *store_path = NULL, *experiment = NULL, *dataset = NULL, *baseline = NULL, *baseline_store = NULL;
    const char *tag = NULL;
    runs_format fmt = RUNS_TEXT;
    int all = 0;
    enum { O_STORE = 1000, O_CSV, O_JSON, O_EXPERIMENT, O_DATASET, O_BASELINE, O_BASESTORE, O_ALL, O_TAG, O_HELP, O_VERSION };
    struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"csv", no_argument, NULL, O_CSV},
        {"json", no_argument, NULL, O_JSON}, {"experiment", required_argument, NULL, O_EXPERIMENT},
        {"dataset", required_argument, NULL, O_DATASET}, {"baseline", required_argument, NULL, O_BASELINE},
        {"baseline-store", required_argument, NULL, O_BASESTORE}, {"all", no_argument, NULL, O_ALL},
        {"tag", required_argument, NULL, O_TAG},
        {"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: store_path = optarg; break;
        case O_CSV: fmt = RUNS_CSV; break;
        case O_JSON: fmt = RUNS_JSON; break;
        case O_EXPERIMENT: experiment = optarg; break;
        case O_DATASET: dataset = optarg; break;
        case O_BASELINE: baseline = optarg; break;
        case O_BASESTORE: baseline_store = optarg; break;
        case O_ALL: all = 1; break;
        case O_TAG: tag = optarg; break;
        case 'h':
        case O_HELP: usage(stdout); return EXIT_OK;
        case O_VERSION:
            cli_print_version(prog);
            return EXIT_OK;
        default:
            fprintf(stderr, "%s: try --help\n", prog);
            return EXIT_USAGE;
        }
    }
    if (!store_path) {
        fprintf(stderr, "%s: --store FILE is required; try --help\n", prog);
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: a command is required: list, diff, compare, export, tag or note; try --help\n", prog);
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    int writes = !strcmp(cmd, "tag") || !strcmp(cmd, "note");
    int want = !strcmp(cmd, "list") || !strcmp(cmd, "compare") ? 0 : !strcmp(cmd, "diff") || writes ? 2
             : !strcmp(cmd, "export") ? 1 : -1;
    if (want < 0) {
        fprintf(stderr, "%s: unknown command '%s': use list, diff, compare, export, tag or note; try --help\n", prog,
                cmd);
        return EXIT_USAGE;
    }
    if (nargs != want) {
        fprintf(stderr, "%s: %s takes %s; try --help\n", prog, cmd,
                want == 0 ? "no arguments" : want == 1 ? "one view name"
                : !strcmp(cmd, "tag") ? "a run (id or name) and a tag" : !strcmp(cmd, "note") ? "a run (id or name) and a text"
                : "two runs (ids or names)");
        return EXIT_USAGE;
    }
    if (!strcmp(cmd, "compare") && (!experiment || !baseline)) {
        fprintf(stderr, "%s: compare needs --experiment NAME and --baseline NAME; try --help\n", prog);
        return EXIT_USAGE;
    }
    struct stat sb;
    if (stat(store_path, &sb)) {
        fprintf(stderr, "%s: %s: no such store\n", prog, store_path);
        return EXIT_STORE;
    }
    err_t e = {.msg = ""};
    store *st;
    if (store_open(store_path, writes ? STORE_MUSTEXIST : STORE_READONLY, &st, &e))
        return fail(&e, cli_exit_status(&e));
    sqltable t;
    memset(&t, 0, sizeof t);
    int rc;
    if (!strcmp(cmd, "list")) {
        rc = runs_list(store_db(st), experiment, dataset, tag, &t, &e);
    } else if (!strcmp(cmd, "diff")) {
        long long a, b;
        rc = runs_resolve(store_db(st), args[0], &a, &e) || runs_resolve(store_db(st), args[1], &b, &e) ||
             runs_diff(store_db(st), a, b, all, &t, &e) ? -1 : 0;
    } else if (!strcmp(cmd, "compare")) {
        rc = (baseline_store && runs_attach(store_db(st), baseline_store, &e)) ||
             runs_compare(store_db(st), experiment, baseline, baseline_store != NULL, &t, &e) ? -1 : 0;
    } else if (writes) {
        long long id;
        rc = runs_resolve(store_db(st), args[0], &id, &e) ||
             (!strcmp(cmd, "tag") ? store_tag_run(st, id, args[1], &e) : store_note_run(st, id, args[1], &e)) ? -1 : 0;
        if (!rc)
            fprintf(stderr, "%s: run %lld: %s added\n", prog, id, cmd);
    } else {
        rc = runs_export(store_db(st), args[0], &t, &e);
    }
    int code = EXIT_OK;
    if (rc)
        code = cli_exit_status(&e);
    else if (!writes && runs_print(stdout, &t, fmt, &e))
        code = EXIT_RUNTIME;
    if (code)
        fprintf(stderr, "%s: %s\n", prog, e.msg);
    sqltable_free(&t);
    store_close(st);
    return code;
}
