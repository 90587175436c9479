/* merge: copies the datasets and runs of one or more stores (shards, e.g.
 * one per cluster task) into a target store in one transaction, renumbering
 * the integer ids; runs are recognised by their UUID, so merging a shard
 * twice adds nothing.  One line per run on stdout, a summary last. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "exitcodes.h"
#include "store.h"
#include "version.h"

static const char *prog = "merge";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: merge --store TARGET [--quiet] SHARD.db...\n"
        "Copies every dataset and run of the stores SHARD.db... into the store TARGET (created if absent),\n"
        "all in one transaction: datasets (one whose content, by SHA-256, is already in TARGET is not\n"
        "copied again), runs with their configuration, labelled subset, metrics, checkpoints,\n"
        "evaluations and predictions, decoded layers, activations and decoding results.  Integer ids are\n"
        "renumbered (runs in the order of the shards given, each shard's in its own order); every run\n"
        "keeps its UUID, by which a run already in TARGET is recognised: with the same content it is not\n"
        "copied again, so merging a shard twice adds nothing.  Run leases are not copied.  A shard of an\n"
        "older schema is migrated in place first (as any program opening it would); each shard is\n"
        "checked as verify does before anything is written.\n"
        "\n"
        "  --store TARGET  the store to merge into (required)\n"
        "  --quiet         no progress on stderr\n"
        "  --help, --version\n"
        "\n"
        "Output: one line per run, 'run SHARD SHARD_ID UUID TARGET_ID copied|present', then a summary.\n"
        "Refused, with TARGET left as it was (a TARGET created by this call is removed): a shard of a\n"
        "newer schema, a damaged shard, a run whose UUID is in TARGET with other content (e.g. a run\n"
        "that was still training when merged before, or evaluated again since), a dataset name with\n"
        "other content in TARGET.\n"
        "Exit status: 0 merged, 1 runtime failure, 2 bad flags, 3 conflicting content or a damaged shard,\n"
        "4 a store cannot be opened (no such store, not a database, newer schema, locked, read-only).\n");
}

static int exit_code(int kind)
{
    switch (kind) {
    case STORE_FAIL_CONFLICT: return EXIT_BADDATA;
    case STORE_FAIL_STORE: case STORE_FAIL_NOTFOUND: case STORE_FAIL_BUSY: return EXIT_STORE;
    default: return EXIT_RUNTIME;
    }
}

static void print_run(const char *shard, int64_t shard_run, const char *uuid, int64_t target_run, int copied,
                      void *arg)
{
    (void)arg;
    printf("run %s %" PRId64 " %s %" PRId64 " %s\n", shard, shard_run, uuid, target_run,
           copied ? "copied" : "present");
}

static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* Opens shard (migrating an older one) and checks it as verify does. */
static int open_shard(const char *path, store **out, int quiet)
{
    err_t e = {.msg = ""};
    if (store_open(path, STORE_MUSTEXIST, out, &e)) {
        fprintf(stderr, "%s: shard %s\n", prog, e.msg);
        return exit_code(store_fail_kind());
    }
    store_verify_counts n;
    if (store_verify(*out, NULL, NULL, &n, &e)) {
        fprintf(stderr, "%s: checking shard %s: %s\n", prog, path, e.msg);
        return exit_code(store_fail_kind());
    }
    if (!n.integrity_ok || n.fk_violations || n.bad_datasets || n.bad_checkpoints) {
        fprintf(stderr, "%s: shard %s is damaged (integrity %s, %d foreign-key violations, %d damaged datasets, "
                "%d damaged checkpoints); nothing was merged: see bin/verify --store %s\n", prog, path,
                n.integrity_ok ? "ok" : "FAILED", n.fk_violations, n.bad_datasets, n.bad_checkpoints, path);
        return EXIT_BADDATA;
    }
    if (!quiet)
        fprintf(stderr, "%s: shard %s: sound\n", prog, path);
    return EXIT_OK;
}

static void remove_store(const char *path)
{
    char p[4096];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

int main(int argc, char **argv)
{
    const char *target = NULL;
    int quiet = 0, c;
    enum { O_STORE = 1000, O_QUIET, O_HELP, O_VERSION };
    static const struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: target = optarg; break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: usage(stdout); return EXIT_OK;
        case O_VERSION:
            printf("merge (drmm) %s, git %s%s\n", drmm_version, drmm_git_commit, drmm_git_dirty ? " (dirty)" : "");
            return EXIT_OK;
        default:
            fprintf(stderr, "%s: unknown option or missing value '%s'; try --help\n", prog, argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (!target) {
        fprintf(stderr, "%s: --store TARGET is required; try --help\n", prog);
        return EXIT_USAGE;
    }
    int n_shards = argc - optind;
    if (n_shards < 1) {
        fprintf(stderr, "%s: no shard given: merge --store TARGET SHARD.db...; try --help\n", prog);
        return EXIT_USAGE;
    }
    char **shard_paths = argv + optind;
    for (int i = 0; i < n_shards; i++)
        if (!strcmp(shard_paths[i], target) || same_file(shard_paths[i], target)) {
            fprintf(stderr, "%s: shard %s is the target store itself; give other stores\n", prog, shard_paths[i]);
            return EXIT_USAGE;
        }

    double t0 = clock_seconds();
    int code = EXIT_OK, created = access(target, F_OK) != 0;
    store **shards = calloc((size_t)n_shards, sizeof *shards);
    store *st = NULL;
    err_t e = {.msg = ""};
    store_merge_counts n = {0};
    if (!shards) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < n_shards && code == EXIT_OK; i++)
        code = open_shard(shard_paths[i], &shards[i], quiet);
    if (code != EXIT_OK)
        goto done;
    if (store_open(target, 0, &st, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        code = exit_code(store_fail_kind());
        goto done;
    }
    if (store_begin(st, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        code = exit_code(store_fail_kind());
        goto done;
    }
    for (int i = 0; i < n_shards; i++) {
        if (!quiet)
            fprintf(stderr, "%s: merging %s into %s\n", prog, shard_paths[i], target);
        if (store_merge(st, shards[i], print_run, NULL, &n, &e)) {
            code = exit_code(store_fail_kind());
            store_rollback(st);
            fprintf(stderr, "%s: %s; nothing was merged\n", prog, e.msg);
            goto done;
        }
    }
    if (store_commit(st, &e)) {
        fprintf(stderr, "%s: %s; nothing was merged\n", prog, e.msg);
        code = exit_code(store_fail_kind());
        goto done;
    }
    printf("merged %d store%s into %s in %.3f s: %d runs copied, %d already present; %d datasets copied, "
           "%d already present\n", n_shards, n_shards == 1 ? "" : "s", target, clock_seconds() - t0, n.runs_copied,
           n.runs_present, n.datasets_copied, n.datasets_present);
done:
    for (int i = 0; i < n_shards; i++)
        if (shards[i])
            store_close(shards[i]);
    free(shards);
    if (st)
        store_close(st);
    if (code != EXIT_OK && created)
        remove_store(target);
    return code;
}
