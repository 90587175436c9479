/* Reliability of the store as a hostile user finds it (issue 15), driving
 * bin/ as a user would:
 *  - a byte flipped inside a stored image or checkpoint passes SQLite's
 *    integrity_check but is refused by train, evaluate and resume with a
 *    message naming the dataset or checkpoint; bin/verify finds it (exit 3);
 *    ingest --force repairs a dataset;
 *  - a run is trained by one process at a time: a held lease refuses a
 *    second train --resume (exit 4), a dead or silent holder is taken over,
 *    runs_summary shows a crashed run as STALE;
 *  - read-side programs given a missing store say "no such store" and create
 *    nothing;
 *  - kill -9 at several points of ingest's write leaves the store as it was
 *    (or complete, after the commit);
 *  - a full filesystem (a small tmpfs, when root) fails with a clear message
 *    and loses nothing committed; a read-only mount likewise. */
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dataset.h"
#include "dataset_hash.h"
#include "error.h"
#include "exitcodes.h"
#include "fixture.h"
#include "shapes.h"
#include "store.h"

#define S 12
#define K 4

static const char *bin, *db, *archf;

static const char *ARCH =
    "input channels=1 height=12 width=12\n"
    "conv filters=8 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=4 size=1 pad=valid\n"
    "meanpool\n";

#define COMMON "--dataset shapes --arch %s --batch 32 --labels 40 --threads 1 --quiet"

static void make_dataset(dataset *d)
{
    err_t e;
    int ntrain = 320, ntest = 80, n = ntrain + ntest;
    if (dataset_alloc(d, n, 1, S, S, K, 0, &e)) {
        printf("%s\n", e.msg);
        exit(1);
    }
    float *x = malloc(sizeof(float) * n * S * S);
    shapes_make(5, n, K, S, x, d->labels);
    for (long k = 0; k < (long)n * S * S; k++)
        d->pixels[k] = (uint8_t)(x[k] * 255 + 0.5f);
    for (int i = 0; i < n; i++)
        d->split[i] = i < ntrain ? SPLIT_TRAIN : SPLIT_TEST;
    const char *names[K] = {"hbar", "vbar", "diagonal", "square"};
    for (int c = 0; c < K; c++)
        d->class_names[c] = strdup(names[c]);
    d->source = strdup("generated shapes");
    free(x);
}

/* Stores `shapes` in path (force: replace); returns the outcome. */
static int put_shapes(const char *path, int force)
{
    dataset d;
    err_t e;
    store *st;
    int outcome = -1;
    make_dataset(&d);
    if (store_open(path, 0, &st, &e) || store_put_dataset(st, "shapes", &d, force, &outcome, NULL, &e)) {
        printf("store: %s\n", e.msg);
        exit(1);
    }
    store_close(st);
    dataset_free(&d);
    return outcome;
}

/* Runs sql (no result) on path; 0 on success. */
static int sql_exec(const char *path, const char *sql)
{
    sqlite3 *h;
    int rc = sqlite3_open(path, &h);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        printf("  sql failed: %s: %s\n", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

static char *sql_text(const char *path, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            v = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v ? v : strdup("");
}

static int integrity_ok(const char *path)
{
    char *t = sql_text(path, "PRAGMA integrity_check");
    int ok = strcmp(t, "ok") == 0;
    free(t);
    return ok;
}

/* A copy of db at name (VACUUM INTO); returns its path (static buffer of fx_path). */
static const char *copy_store(const char *name)
{
    const char *p = fx_path("%s", name);
    unlink(p);
    char sql[1200];
    snprintf(sql, sizeof sql, "VACUUM INTO '%s'", p);
    sql_exec(db, sql);
    return p;
}

/* A command that must fail: status, message, store unchanged. */
static void refused(const char *what, const char *store_file, int want, const char *need, const char *fmt, ...)
{
    char cmd[4096], before[65], after[65], *err = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fx_store_fingerprint(store_file, before);
    int rc = fx_run(&err, "%s", cmd);
    fx_store_fingerprint(store_file, after);
    if (getenv("VERBOSE"))
        printf("%s: rc=%d: %s", what, rc, err);
    CHECK(rc == want, "%s: exit %d (want %d): %s", what, rc, want, err);
    CHECK(need == NULL || strstr(err, need), "%s: message lacks '%s': %s", what, need, err);
    CHECK(strcmp(before, after) == 0, "%s: store unchanged", what);
    free(err);
}

/* A command that must exit with status want (0, or 130 after --stop-after-steps). */
static int run_want(const char *what, int want, const char *fmt, ...)
{
    char cmd[4096], *err = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = fx_run(&err, "%s", cmd);
    CHECK(rc == want, "%s: exit %d (want %d): %s", what, rc, want, err);
    free(err);
    return rc;
}
#define run_ok(what, ...) run_want(what, 0, __VA_ARGS__)
#define run_stopped(what, ...) run_want(what, 130, __VA_ARGS__)

/* Flips bit `mask` of byte `at` of the blob in column col of the row of
 * table chosen by `where` (SQL), through SQLite (so the file stays a valid
 * database: integrity_check cannot see it). */
static void flip_byte(const char *path, const char *table, const char *col, const char *where, int at, int mask)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    char sql[1024];
    sqlite3_open(path, &h);
    snprintf(sql, sizeof sql, "SELECT rowid, %s FROM %s WHERE %s", col, table, where);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        printf("  flip_byte: %s: %s\n", sql, sqlite3_errmsg(h));
        exit(1);
    }
    long long rowid = sqlite3_column_int64(st, 0);
    int n = sqlite3_column_bytes(st, 1);
    unsigned char *b = malloc(n);
    memcpy(b, sqlite3_column_blob(st, 1), n);
    sqlite3_finalize(st);
    b[at % n] ^= (unsigned char)mask;
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = ? WHERE rowid = %lld", table, col, rowid);
    sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    sqlite3_bind_blob(st, 1, b, n, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        printf("  flip_byte update: %s\n", sqlite3_errmsg(h));
    sqlite3_finalize(st);
    sqlite3_close(h);
    free(b);
}

/* ---- 1. content verification ---- */
static void test_verification(void)
{
    char *err = NULL;
    /* a sound store */
    int rc = fx_run(&err, "%s/verify --store %s", bin, db);
    char *out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "sound") && strstr(out, "ok        dataset      shapes"),
          "verify a sound store: exit %d: %s%s", rc, out, err);
    CHECK(strstr(out, "checkpoint") != NULL, "verify lists checkpoints: %s", out);
    free(out);
    free(err);

    /* one byte flipped in one stored image: SQLite sees nothing wrong */
    const char *bad = copy_store("bad-image.db");
    flip_byte(bad, "images", "pixels", "idx = 7", 20, 1);
    {
        /* make sure the flip really changed the bytes: compare with the intact store */
        char *h1 = sql_text(db, "SELECT hex(pixels) FROM images WHERE idx = 7"), *h2 = sql_text(bad, "SELECT hex(pixels) FROM images WHERE idx = 7");
        CHECK(strlen(h1) == strlen(h2) && strcmp(h1, h2) != 0, "a byte of image 7 differs, same length: %zu %zu",
              strlen(h1), strlen(h2));
        free(h1);
        free(h2);
    }
    CHECK(integrity_ok(bad), "PRAGMA integrity_check still says ok");
    refused("train on a damaged dataset", bad, EXIT_STORE, "dataset 'shapes' does not match its recorded SHA-256",
            "%s/train --store %s --name damaged --epochs 1 " COMMON, bin, bad, archf);
    refused("evaluate on a damaged dataset", bad, EXIT_STORE, "dataset 'shapes'",
            "%s/evaluate --store %s --run 1", bin, bad);
    refused("verify a damaged dataset", bad, EXIT_BADDATA, "damage found", "%s/verify --store %s", bin, bad);
    out = fx_stdout();
    CHECK(strstr(out, "DAMAGED   dataset      shapes") && strstr(out, "store ") && strstr(out, "DAMAGED ("),
          "verify names the damaged dataset: %s", out);
    free(out);
    /* ingest --force of the same content repairs it; an intact copy is left alone */
    CHECK(put_shapes(bad, 1) == STORE_PUT_REPLACED, "--force repairs the damaged dataset");
    rc = fx_run(&err, "%s/verify --store %s --quiet", bin, bad);
    CHECK(rc == 0, "verify after the repair: exit %d: %s", rc, err);
    free(err);
    CHECK(put_shapes(bad, 1) == STORE_PUT_UNCHANGED, "--force on intact content is a no-op");
    run_ok("train after the repair", "%s/train --store %s --name repaired --epochs 1 " COMMON, bin, bad, archf);

    /* one byte flipped in a checkpoint tensor */
    const char *badck = copy_store("bad-ckpt.db");
    long long ck = fx_sql_int(badck, "SELECT max(id) FROM checkpoints WHERE run_id = 1");
    char sql[1024];
    snprintf(sql, sizeof sql, "checkpoint_id = %lld ORDER BY rowid LIMIT 1", ck);
    flip_byte(badck, "checkpoint_tensors", "data", sql, 8, 4);
    CHECK(integrity_ok(badck), "checkpoint flip: integrity_check still ok");
    char need[128];
    snprintf(need, sizeof need, "checkpoint %lld of run 1", ck);
    refused("evaluate a damaged checkpoint", badck, EXIT_STORE, need, "%s/evaluate --store %s --run 1", bin, badck);
    refused("verify a damaged checkpoint", badck, EXIT_BADDATA, "damage found", "%s/verify --store %s", bin, badck);
    out = fx_stdout();
    CHECK(strstr(out, "DAMAGED   checkpoint") && strstr(out, need), "verify names the checkpoint: %s", out);
    free(out);
    /* resume from a damaged checkpoint (run 2 is INTERRUPTED) */
    long long ck2 = fx_sql_int(badck, "SELECT max(id) FROM checkpoints WHERE run_id = 2");
    snprintf(sql, sizeof sql, "UPDATE checkpoint_blobs SET data = zeroblob(length(data)) WHERE checkpoint_id = %lld "
             "AND name = 'position'", ck2);
    sql_exec(badck, sql);
    snprintf(need, sizeof need, "checkpoint %lld of run 2", ck2);
    refused("resume from a damaged checkpoint", badck, EXIT_STORE, need, "%s/train --store %s --resume 2", bin, badck);

    /* a store that is no database, a missing store */
    const char *junk = fx_path("junk.db");
    fx_write(junk, "not a database, only text long enough to be taken for a header.................", 80, 0);
    refused("verify not a database", junk, EXIT_STORE, "not an SQLite database", "%s/verify --store %s", bin, junk);
    refused("verify bad flag", db, EXIT_USAGE, "try --help", "%s/verify --store %s --frobnicate", bin, db);
    refused("verify without --store", db, EXIT_USAGE, "--store FILE is required", "%s/verify", bin);
}

/* Migration 5 on a store of schema 4, and checkpoints written before it
 * (no sha256) are read unchecked and listed as such by verify. */
extern const char *const store_migrations[];
static void test_migration(void)
{
    const char *old = fx_path("v4.db");
    sqlite3 *h;
    sqlite3_open(old, &h);
    int ok = 1;
    for (int k = 0; k < 4; k++)
        ok &= sqlite3_exec(h, store_migrations[k], NULL, NULL, NULL) == SQLITE_OK;
    ok &= sqlite3_exec(h, "PRAGMA user_version = 4", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(h);
    CHECK(ok, "a store of schema 4");
    CHECK(fx_sql_int(old, "SELECT count(*) FROM sqlite_schema WHERE name = 'run_leases'") == 0, "schema 4 has no leases");
    put_shapes(old, 0);   /* opens and migrates */
    CHECK(fx_sql_int(old, "PRAGMA user_version") == store_known_schema_version() && store_known_schema_version() >= 5,
          "migrated to %d", store_known_schema_version());
    CHECK(fx_sql_int(old, "SELECT count(*) FROM sqlite_schema WHERE name = 'run_leases'") == 1, "run_leases created");
    CHECK(fx_sql_int(old, "SELECT count(*) FROM pragma_table_info('checkpoints') WHERE name = 'sha256'") == 1,
          "checkpoints.sha256 added");
    CHECK(fx_sql_int(old, "SELECT count(*) FROM pragma_table_info('runs_summary') WHERE name IN ('lease_host', "
                       "'lease_pid', 'heartbeat')") == 3, "runs_summary has the lease columns");
    /* checkpoints without a hash (written before migration 5) */
    const char *pre = copy_store("pre5.db");
    sql_exec(pre, "UPDATE checkpoints SET sha256 = NULL");
    char *err = NULL;
    int rc = fx_run(&err, "%s/verify --store %s", bin, pre);
    char *out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "unchecked checkpoint") && strstr(out, "sound"),
          "verify lists old checkpoints as unchecked: %d: %s%s", rc, out, err);
    free(out);
    free(err);
    run_ok("evaluate from an unhashed checkpoint", "%s/evaluate --store %s --run 1", bin, pre);
}

/* Measures the cost of the dataset check: load with and without hashing. */
static void measure_cost(void)
{
    const char *fm = "/usr/share/datasets/fashion-mnist";
    if (access(fm, R_OK) != 0 || getenv("DRMM_SANITIZED")) {
        printf("(cost of verification not measured: no Fashion-MNIST or sanitized build)\n");
        return;
    }
    const char *p = fx_path("fm.db");
    char *err = NULL;
    if (fx_run(&err, "%s/ingest --store %s --fashion-mnist", bin, p) != 0) {
        printf("(ingest failed: %s)\n", err);
        free(err);
        return;
    }
    free(err);
    store *st;
    err_t e;
    if (store_open(p, STORE_READONLY, &st, &e))
        return;
    dataset d;
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = store_get_dataset(st, "fashion-mnist", &d, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    char hex[65];
    if (rc == 0) {
        dataset_sha256(&d, hex);
        clock_gettime(CLOCK_MONOTONIC, &t2);
        double load = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        double hash = (t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) * 1e-9;
        printf("cost: loading Fashion-MNIST (70000 images, %.1f MB) with its check %.3f s, of which the SHA-256 "
               "about %.3f s (%.0f MB/s)\n", d.n * 784 / 1e6, load, hash, d.n * 784 / 1e6 / hash);
        dataset_free(&d);
    }
    CHECK(rc == 0, "load Fashion-MNIST: %s", e.msg);
    store_close(st);
}

/* ---- 2. leases ---- */
static char host[256];

static void set_lease(const char *path, int run, const char *h, long pid, int age_s)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO run_leases (run_id, host, pid, heartbeat) VALUES (%d, '%s', %ld, "
             "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-%d seconds'))", run, h, pid, age_s);
    sql_exec(path, sql);
}

static const char *summary_status(const char *path, int run)
{
    static char buf[64];
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT status FROM runs_summary WHERE run_id = %d", run);
    char *t = sql_text(path, sql);
    snprintf(buf, sizeof buf, "%s", t);
    free(t);
    return buf;
}

static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

static void test_leases(void)
{
    gethostname(host, sizeof host);
    CHECK(fx_sql_int(db, "SELECT count(*) FROM run_leases") == 0, "no lease left after the trainings");
    /* run 2 was stopped (INTERRUPTED) */
    CHECK(!strcmp(summary_status(db, 2), "INTERRUPTED"), "run 2 INTERRUPTED: %s", summary_status(db, 2));
    /* held by a live process on this host (this test): refused */
    set_lease(db, 2, host, (long)getpid(), 0);
    char need[512];
    snprintf(need, sizeof need, "run 2 is being trained by process %ld on host %s", (long)getpid(), host);
    refused("resume while a live process holds the lease", db, EXIT_STORE, need, "%s/train --store %s --resume 2", bin, db);
    /* held by a live process on another host with a fresh heartbeat: refused */
    set_lease(db, 2, "elsewhere.invalid", 1, 5);
    refused("resume while another host holds the lease", db, EXIT_STORE, "host elsewhere.invalid",
            "%s/train --store %s --resume 2", bin, db);
    /* a crashed RUNNING run: STALE in runs_summary once its heartbeat is old or its lease is gone */
    sql_exec(db, "UPDATE runs SET status = 'RUNNING' WHERE id = 2");
    CHECK(!strcmp(summary_status(db, 2), "RUNNING"), "fresh lease: RUNNING (%s)", summary_status(db, 2));
    set_lease(db, 2, "elsewhere.invalid", 1, STORE_LEASE_TIMEOUT_S + 60);
    CHECK(!strcmp(summary_status(db, 2), "STALE"), "old heartbeat: STALE (%s)", summary_status(db, 2));
    sql_exec(db, "DELETE FROM run_leases");
    CHECK(!strcmp(summary_status(db, 2), "STALE"), "no lease: STALE (%s)", summary_status(db, 2));
    /* taken over: a silent holder on another host */
    set_lease(db, 2, "elsewhere.invalid", 1, STORE_LEASE_TIMEOUT_S + 60);
    run_stopped("resume takes over a silent holder's lease", "%s/train --store %s --resume 2 --stop-after-steps 12 --quiet", bin, db);
    CHECK(fx_sql_int(db, "SELECT count(*) FROM run_leases") == 0, "lease released after the resume");
    /* taken over: a dead pid on this host */
    set_lease(db, 2, host, dead_pid(), 0);
    run_stopped("resume takes over a dead process's lease", "%s/train --store %s --resume 2 --stop-after-steps 14 --quiet", bin, db);
    CHECK(!strcmp(summary_status(db, 2), "INTERRUPTED"), "run 2 INTERRUPTED again: %s", summary_status(db, 2));

    /* two real trainings of one run: the second is refused while the first runs */
    char *err = NULL;
    run_stopped("a long run, stopped", "%s/train --store %s --name long --epochs 100000 --stop-after-steps 2 " COMMON,
           bin, db, archf);
    long long run = fx_sql_int(db, "SELECT max(id) FROM runs");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/train --store %s --resume %lld --quiet > /dev/null 2>&1 & echo $! > %s",
             bin, db, run, fx_path("pid"));
    CHECK(system(cmd) == 0, "start the first trainer");
    char *pidtxt = fx_read(fx_path("pid"), NULL);
    long pid = pidtxt ? atol(pidtxt) : 0;
    free(pidtxt);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT pid FROM run_leases WHERE run_id = %lld", run);
    long holder = 0;
    for (int i = 0; i < 600 && holder != pid; i++) {
        usleep(50000);
        holder = (long)fx_sql_int(db, sql);
    }
    CHECK(pid > 0 && holder == pid, "the first trainer holds the lease (pid %ld, holder %ld)", pid, holder);
    snprintf(need, sizeof need, "is being trained by process %ld", pid);
    int rc = fx_run(&err, "%s/train --store %s --resume %lld --quiet", bin, db, run);
    CHECK(rc == EXIT_STORE && strstr(err, need), "second train --resume refused: exit %d: %s", rc, err);
    free(err);
    CHECK(!strcmp(summary_status(db, (int)run), "RUNNING"), "running run: RUNNING (%s)", summary_status(db, (int)run));
    /* kill -9 the holder: the next resume takes over (same host, pid gone) */
    if (pid > 0) {
        kill((pid_t)pid, SIGKILL);
        for (int i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
            usleep(20000);
    }
    run_stopped("resume after the holder was killed", "%s/train --store %s --resume %lld --stop-after-steps 5010 --quiet",
           bin, db, run);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT step FROM checkpoints WHERE run_id = %lld GROUP BY step "
             "HAVING count(*) > 1)", run);
    CHECK(fx_sql_int(db, sql) == 0, "no two checkpoints at one step");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT step FROM metrics WHERE run_id = %lld AND name = 'loss' "
             "GROUP BY step HAVING count(*) > 1)", run);
    CHECK(fx_sql_int(db, sql) == 0, "no duplicated epoch metrics");
    CHECK(fx_sql_int(db, "SELECT count(*) FROM run_leases") == 0, "no lease left");
}

/* ---- 3. read-side programs never create a store ---- */
static void test_missing_store(void)
{
    const char *missing = fx_path("missing.db");
    struct { const char *what, *fmt; } c[] = {
        {"evaluate", "%s/evaluate --store %s --run 1"},
        {"decode", "%s/decode --store %s --run 1"},
        {"analysis", "%s/analysis --store %s --dataset shapes"},
        {"train --resume", "%s/train --store %s --resume 1"},
        {"verify", "%s/verify --store %s"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *err = NULL;
        int rc = fx_run(&err, c[i].fmt, bin, missing);
        CHECK(rc == EXIT_STORE && strstr(err, "no such store") && strstr(err, missing),
              "%s with a missing store: exit %d: %s", c[i].what, rc, err);
        CHECK(access(missing, F_OK) != 0, "%s created no store", c[i].what);
        free(err);
    }
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --store %s --name x --epochs 1 " COMMON, bin, missing, archf);
    CHECK(rc == EXIT_STORE && strstr(err, "no such store"), "train with a missing store: exit %d: %s", rc, err);
    CHECK(access(missing, F_OK) != 0, "train created no store");
    free(err);
}

/* ---- 5. kill -9 at points of ingest's write ---- */
static void test_ingest_kill(void)
{
    const char *st = fx_path("ingest.db");
    size_t li, ll, li2, ll2;
    uint8_t *img = fx_idx_images(3000, 8, 8, &li), *lab = fx_idx_labels(3000, 10, &ll);
    uint8_t *img2 = fx_idx_images(2000, 8, 8, &li2), *lab2 = fx_idx_labels(2000, 10, &ll2);
    fx_write(fx_path("k.img"), img, li, 0);
    fx_write(fx_path("k.lab"), lab, ll, 0);
    fx_write(fx_path("k2.img"), img2, li2, 0);
    fx_write(fx_path("k2.lab"), lab2, ll2, 0);
    free(img); free(lab); free(img2); free(lab2);
    setenv("D", fx_dir, 1);
    run_ok("ingest the first dataset", "%s/ingest --store %s --name first --idx-images $D/k.img --idx-labels $D/k.lab", bin, st);
    static const char *points[] = {"put_dataset:dataset-row", "put_dataset:images-half", "put_dataset:before-commit"};
    for (int p = 0; p < 3; p++)
        for (int force = 0; force < 2; force++) {
            char what[128], before[65], after[65], *err = NULL;
            snprintf(what, sizeof what, "kill -9 at %s (%s)", points[p], force ? "replacing with --force" : "new dataset");
            fx_store_fingerprint(st, before);
            int rc = fx_run(&err, "DRMM_TEST_CRASH=%s %s/ingest --store %s --name %s --idx-images $D/k2.img "
                            "--idx-labels $D/k2.lab %s", points[p], bin, st, force ? "first" : "second",
                            force ? "--force" : "");
            fx_store_fingerprint(st, after);
            CHECK(rc == 128 + SIGKILL, "%s: killed (status %d): %s", what, rc, err);
            CHECK(strcmp(before, after) == 0, "%s: store unchanged", what);
            CHECK(integrity_ok(st), "%s: integrity_check ok", what);
            free(err);
            rc = fx_run(&err, "%s/verify --store %s --quiet", bin, st);
            CHECK(rc == 0, "%s: verify says sound (%d): %s", what, rc, err);
            free(err);
        }
    char *err = NULL;
    int rc = fx_run(&err, "DRMM_TEST_CRASH=put_dataset:after-commit %s/ingest --store %s --name second "
                    "--idx-images $D/k2.img --idx-labels $D/k2.lab", bin, st);
    CHECK(rc == 128 + SIGKILL, "kill -9 after the commit: killed (%d)", rc);
    free(err);
    CHECK(fx_sql_int(st, "SELECT count(*) FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE d.name = 'second'")
          == 2000, "kill -9 after the commit: the dataset is complete");
    rc = fx_run(&err, "%s/verify --store %s --quiet", bin, st);
    CHECK(rc == 0, "kill -9 after the commit: verify says sound (%d): %s", rc, err);
    free(err);
}

/* ---- 7. a full filesystem and read-only media (root only: a small tmpfs) ---- */
static void test_full_disk(void)
{
    const char *mnt = fx_path("mnt");
    mkdir(mnt, 0755);
    if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=1536k") != 0) {
        printf("(full-disk and read-only cases skipped: mounting a tmpfs needs root and CAP_SYS_ADMIN)\n");
        return;
    }
    char st[1200];
    snprintf(st, sizeof st, "%s/s.db", mnt);
    size_t li, ll, li2, ll2;
    uint8_t *img = fx_idx_images(200, 8, 8, &li), *lab = fx_idx_labels(200, 10, &ll);
    uint8_t *img2 = fx_idx_images(30000, 8, 8, &li2), *lab2 = fx_idx_labels(30000, 10, &ll2);
    fx_write(fx_path("f.img"), img, li, 0);
    fx_write(fx_path("f.lab"), lab, ll, 0);
    fx_write(fx_path("f2.img"), img2, li2, 0);
    fx_write(fx_path("f2.lab"), lab2, ll2, 0);
    free(img); free(lab); free(img2); free(lab2);
    run_ok("ingest onto the small filesystem", "%s/ingest --store %s --name small --idx-images $D/f.img --idx-labels $D/f.lab",
           bin, st);
    /* 30000 images of 64 bytes do not fit in 1.5 MB */
    refused("ingest onto a full filesystem", st, EXIT_STORE, "full",
            "%s/ingest --store %s --name big --idx-images $D/f2.img --idx-labels $D/f2.lab", bin, st);
    char *err = NULL;
    int rc = fx_run(&err, "%s/verify --store %s --quiet", bin, st);
    CHECK(rc == 0, "after the full disk: the committed dataset is intact (%d): %s", rc, err);
    free(err);
    /* read-only media */
    if (mount("tmpfs", mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=1536k") == 0) {
        refused("ingest onto read-only media", st, EXIT_STORE, "read-only",
                "%s/ingest --store %s --name other --idx-images $D/f.img --idx-labels $D/f.lab", bin, st);
    } else {
        printf("(read-only remount failed: case skipped)\n");
    }
    umount2(mnt, MNT_DETACH);
}

int main(void)
{
    bin = getenv("BIN") && *getenv("BIN") ? getenv("BIN") : "bin";
    fx_tmpdir("reliability");
    db = strdup(fx_path("store.db"));
    archf = strdup(fx_path("net.arch"));
    fx_write(archf, ARCH, strlen(ARCH), 0);
    put_shapes(db, 0);
    /* run 1 finished, run 2 stopped */
    run_ok("train run 1", "%s/train --store %s --name one --epochs 2 " COMMON, bin, db, archf);
    run_stopped("train run 2", "%s/train --store %s --name two --epochs 3 --stop-after-steps 12 " COMMON, bin, db, archf);
    test_verification();
    test_migration();
    test_leases();
    test_missing_store();
    test_ingest_kill();
    test_full_disk();
    measure_cost();
    fx_cleanup();
    return check_done();
}
