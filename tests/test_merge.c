/* bin/merge on real stores: two runs trained in two stores (shards) and
 * merged give the same views and report tables as the same runs trained in
 * one store; merging twice adds nothing; every run has a distinct v4 UUID,
 * also after migrating a store made before UUIDs (which also gains the
 * E-DRMM tables); a shard of a newer
 * schema, conflicting content (same UUID, other records; a dataset name with
 * other data), a damaged shard and bad flags are refused with their message
 * and exit status, leaving the target as it was. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dataset.h"
#include "error.h"
#include "fixture.h"
#include "shapes.h"
#include "store.h"

#define S 12
#define K 4

static const char *bin, *archf;

static const char *ARCH =
    "input channels=1 height=12 width=12\n"
    "conv filters=8 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=8 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=4 size=1 pad=valid\n"
    "meanpool\n";

/* A store holding dataset name of shapes drawn with seed, with a latent. */
static void make_store(const char *path, const char *name, int seed)
{
    dataset d;
    err_t e = {.msg = ""};
    int ntrain = 240, ntest = 80, n = ntrain + ntest;
    if (dataset_alloc(&d, n, 1, S, S, K, 1, &e)) {
        printf("%s\n", e.msg);
        exit(1);
    }
    float *x = malloc(sizeof(float) * n * S * S);
    shapes_make((uint64_t)seed, n, K, S, x, d.labels);
    for (long k = 0; k < (long)n * S * S; k++)
        d.pixels[k] = (uint8_t)(x[k] * 255 + 0.5f);
    for (int i = 0; i < n; i++)
        d.split[i] = i < ntrain ? SPLIT_TRAIN : SPLIT_TEST;
    for (int c = 0; c < K; c++) {
        char nm[16];
        snprintf(nm, sizeof nm, "c%d", c);
        d.class_names[c] = strdup(nm);
    }
    d.latent_names[0] = strdup("phase");
    for (int i = 0; i < n; i++)
        d.latents[i] = (float)(i % 7);
    d.source = strdup("generated shapes");
    store *st;
    if (store_open(path, 0, &st, &e) || store_put_dataset(st, name, &d, 0, NULL, NULL, &e)) {
        printf("store: %s\n", e.msg);
        exit(1);
    }
    store_close(st);
    dataset_free(&d);
    free(x);
}

/* Trains, evaluates and (DRMM) decodes one grid run of the model into db. */
static int train_run(const char *db, const char *model)
{
    int cnn = !strcmp(model, "cnn");
    char name[64];
    snprintf(name, sizeof name, "t/%s/n40/s1", model);
    const char *flags = cnn ? "--supervised-only 1" : "--a-kl 1 --a-nn 1";
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --store %s --arch %s --dataset shapes --name %s --epochs 2 --batch 32 --labels 40 "
                    "--seed 1 --label-seed 1 --threads 1 --quiet %s", bin, db, archf, name, flags);
    int ok = rc == 0;
    if (!ok)
        printf("  train %s: %d %s\n", name, rc, err);
    free(err);
    char *out = fx_stdout();
    int id = 0;
    char *p = strstr(out, "run_id=");
    if (p)
        id = atoi(p + 7);
    free(out);
    ok = ok && id > 0 && fx_run(NULL, "%s/evaluate --store %s --run %d --threads 1", bin, db, id) == 0;
    if (ok && !cnn)
        ok = fx_run(NULL, "%s/decode --store %s --run %d --samples 40 --threads 1", bin, db, id) == 0 &&
             fx_run(NULL, "%s/analysis --store %s --run %d --latents phase --out %s.decoding.md", bin, db, id, db) == 0 &&
             fx_run(NULL, "%s/edrmm --store %s --run %d --template-images 60 --threads 1", bin, db, id) == 0;
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every row of view (or table) in db, without the columns that name a
 * place or a time (ids, timestamps, speeds), rows sorted: caller frees. */
static char *view_text(const char *db, const char *view)
{
    static const char *skip[] = {"run_id", "id", "checkpoint_id", "evaluation_id", "layer_id", "dataset_id", "tree_id", "started", "ended",
                                 "seconds", "created", "time", "heartbeat", "images_per_s", "uuid"};
    sqlite3 *h;
    sqlite3_stmt *st;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s", view);
    /* what measures the machine rather than the run: times per epoch */
    if (!strcmp(view, "metrics") || !strcmp(view, "metrics_latest"))
        snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE name NOT IN ('epoch_seconds', 'images_per_s')", view);
    if (!strcmp(view, "checkpoint_blobs"))
        snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE name != 'epoch_sums'", view);
    char **rows = NULL;
    int n = 0;
    size_t total = 1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        printf("  %s: %s: %s\n", db, view, sqlite3_errmsg(h));
        sqlite3_close(h);
        return strdup("(error)");
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t cap = 256, len = 0;
        char *r = malloc(cap);
        r[0] = '\0';
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *c = sqlite3_column_name(st, i);
            int skipped = 0;
            for (size_t k = 0; k < sizeof skip / sizeof skip[0]; k++)
                skipped |= !strcmp(c, skip[k]);
            if (skipped)
                continue;
            char blob[32];
            const char *v;
            if (sqlite3_column_type(st, i) != SQLITE_BLOB) {
                v = sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "NULL";
            } else {   /* its length and FNV-1a hash */
                const unsigned char *p = sqlite3_column_blob(st, i);
                uint32_t hsh = 2166136261u;
                for (int k = 0; k < sqlite3_column_bytes(st, i); k++)
                    hsh = (hsh ^ p[k]) * 16777619u;
                snprintf(blob, sizeof blob, "%d:%08x", sqlite3_column_bytes(st, i), (unsigned)hsh);
                v = blob;
            }
            size_t need = len + strlen(c) + strlen(v) + 4;
            if (need > cap)
                r = realloc(r, cap = 2 * need);
            len += (size_t)sprintf(r + len, "%s=%s;", c, v);
        }
        rows = realloc(rows, (n + 1) * sizeof *rows);
        rows[n++] = r;
        total += len + 1;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    qsort(rows, n, sizeof *rows, cmp_str);
    char *all = malloc(total);
    all[0] = '\0';
    for (int i = 0; i < n; i++) {
        strcat(strcat(all, rows[i]), "\n");
        free(rows[i]);
    }
    free(rows);
    return all;
}

static void check_same_view(const char *a, const char *b, const char *view)
{
    char *x = view_text(a, view), *y = view_text(b, view);
    CHECK(strcmp(x, y) == 0 && strlen(x) > 1, "view %s equal in the merged store and the one-store run:\n%s---\n%s",
          view, x, y);
    free(x);
    free(y);
}

static void check_same_file(const char *dir_a, const char *dir_b, const char *file)
{
    char *x = fx_read(fx_path("%s/%s", dir_a, file), NULL), *y = fx_read(fx_path("%s/%s", dir_b, file), NULL);
    CHECK(x && y && strcmp(x, y) == 0, "report table %s equal:\n%s---\n%s", file, x ? x : "(none)", y ? y : "(none)");
    free(x);
    free(y);
}

static int store_unchanged(const char *db, const char *before)
{
    char hex[65];
    fx_store_fingerprint(db, hex);
    return strcmp(hex, before) == 0;
}

/* merge with the given arguments: exit status, stderr in *err. */
static int merge(char **err, const char *args)
{
    return fx_run(err, "%s/merge --quiet %s", bin, args);
}

static void test_uuids(const char *one)
{
    CHECK(fx_sql_int(one, "SELECT COUNT(*) FROM runs WHERE uuid GLOB "
                     "'[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-*-4*-*-*' "
                     "AND length(uuid) = 36 AND substr(uuid, 20, 1) IN ('8', '9', 'a', 'b')") == 2,
          "every run has a version-4 UUID");
    CHECK(fx_sql_int(one, "SELECT COUNT(DISTINCT uuid) FROM runs") == 2, "UUIDs are distinct");
    /* a store from before migration 9: its runs get UUIDs when it is opened */
    const char *old = fx_path("old.db");
    int rc = fx_run(NULL, "cp %s %s && sqlite3 %s 'DROP TABLE edrmm_nodes; DROP TABLE edrmm_trees; DROP INDEX runs_uuid; "
                    "ALTER TABLE runs DROP COLUMN uuid; DROP TABLE rmm_loglik; DROP TABLE rmm_fits; PRAGMA user_version = 8'",
                    one, old, old);
    CHECK(rc == 0, "made a version-8 store");
    store *st;
    err_t e = {.msg = ""};
    CHECK(store_open(old, 0, &st, &e) == 0, "migrating: %s", e.msg);
    if (st)
        store_close(st);
    CHECK(fx_sql_int(old, "SELECT COUNT(DISTINCT uuid) FROM runs WHERE length(uuid) = 36 AND "
                     "substr(uuid, 15, 1) = '4'") == 2, "migration 9 gives every run a distinct v4 UUID");
    CHECK(fx_sql_int(old, "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('edrmm_trees', 'edrmm_nodes', "
                     "'edrmm_trees_run')") == 3, "migration 10 adds the E-DRMM tables to an old store");
}

static void test_merge_equals_one_store(const char *a, const char *b, const char *one, const char *m)
{
    char *err = NULL;
    char args[4096];
    snprintf(args, sizeof args, "--store %s %s %s", m, a, b);
    int rc = merge(&err, args);
    char *out = fx_stdout();
    CHECK(rc == 0, "merge exits 0 (got %d): %s", rc, err);
    CHECK(strstr(out, "2 runs copied, 0 already present; 1 datasets copied, 1 already present") != NULL,
          "merge summary: %s", out);
    CHECK(strstr(out, " copied\n") != NULL, "one line per run: %s", out);
    free(out);
    free(err);
    static const char *views[] = {"runs_summary", "ablation", "grid_runs", "grid_errors", "grid_drmm_vs_cnn",
                                  "grid_reconstruction", "grid_curves", "grid_config", "datasets_summary",
                                  "latest_test_evaluation", "run_settings", "metrics", "metrics_latest",
                                  "run_labelled", "checkpoint_tensors", "checkpoint_blobs", "predictions",
                                  "decode_layers", "activations", "decoding", "decoding_results", "images", "dataset_classes",
                                  "edrmm_trees", "edrmm_nodes"};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        check_same_view(m, one, views[i]);
    CHECK(fx_sql_int(m, "SELECT COUNT(*) FROM activations") > 0, "activations were copied");
    CHECK(fx_sql_int(m, "SELECT COUNT(*) FROM predictions") == 160, "predictions were copied");
    CHECK(fx_sql_int(m, "SELECT COUNT(*) FROM edrmm_nodes n JOIN edrmm_trees t ON t.id = n.tree_id "
                     "JOIN runs r ON r.id = t.run_id AND r.name = 't/drmm+kl+nn/n40/s1'") > 0,
          "E-DRMM trees were copied with their run");
    char *v = NULL;
    rc = fx_run(&v, "%s/verify --store %s --quiet", bin, m);
    CHECK(rc == 0, "merged store verifies (checkpoint hashes, foreign keys): %s", v);
    free(v);
    /* the report's tables */
    const char *ra = fx_path("rep-merged"), *rb = fx_path("rep-one");
    rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment t --out %s/report.md", bin, m, ra);
    CHECK(rc == 0, "report on the merged store: %s", err);
    free(err);
    rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment t --out %s/report.md", bin, one, rb);
    CHECK(rc == 0, "report on the one store: %s", err);
    free(err);
    static const char *files[] = {"table1_test_error.csv", "table5_drmm_vs_cnn.csv", "reconstruction.csv",
                                  "curves.csv", "config_common.csv", "config_by_run.csv", "architecture.csv",
                                  "dataset.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        check_same_file("rep-merged", "rep-one", files[i]);
}

static void test_idempotent(const char *a, const char *b, const char *m)
{
    char before[65], *err = NULL, args[4096];
    fx_store_fingerprint(m, before);
    snprintf(args, sizeof args, "--store %s %s %s", m, b, a);
    int rc = merge(&err, args);
    char *out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "0 runs copied, 2 already present; 0 datasets copied, 2 already present"),
          "merging again adds nothing: rc %d: %s %s", rc, out, err);
    CHECK(store_unchanged(m, before), "the merged store is unchanged by a second merge");
    free(out);
    free(err);
    /* the same shard twice in one call, into a fresh store */
    const char *f = fx_path("twice.db");
    snprintf(args, sizeof args, "--store %s %s %s", f, a, a);
    rc = merge(&err, args);
    out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "1 runs copied, 1 already present") &&
              fx_sql_int(f, "SELECT COUNT(*) FROM runs") == 1, "a shard given twice: rc %d %s %s", rc, out, err);
    free(out);
    free(err);
    /* a run's tags and notes travel with it */
    const char *tagged = fx_path("tagged.db"), *g = fx_path("tagged-merged.db");
    rc = fx_run(&err, "cp %s %s && %s/runs --store %s tag 1 baseline && %s/runs --store %s note 1 'first try'",
                a, tagged, bin, tagged, bin, tagged);
    CHECK(rc == 0, "tagged a shard's run: %s", err);
    free(err);
    snprintf(args, sizeof args, "--store %s %s", g, tagged);
    rc = merge(&err, args);
    free(fx_stdout());
    CHECK(rc == 0 && fx_sql_int(g, "SELECT COUNT(*) FROM run_tags WHERE tag = 'baseline'") == 1 &&
              fx_sql_int(g, "SELECT COUNT(*) FROM run_notes WHERE note = 'first try'") == 1,
          "the merged run has its tag and note (rc %d): %s", rc, err);
    free(err);
}

/* A refused merge: exit status, a message containing want, target unchanged. */
static void check_refused(const char *m, const char *shard, int status, const char *want, const char *what)
{
    char before[65], *err = NULL, args[4096];
    fx_store_fingerprint(m, before);
    snprintf(args, sizeof args, "--store %s %s", m, shard);
    int rc = merge(&err, args);
    CHECK(rc == status, "%s: exit %d (got %d): %s", what, status, rc, err);
    CHECK(strstr(err, want) != NULL, "%s: message says '%s': %s", what, want, err);
    CHECK(store_unchanged(m, before), "%s: target unchanged", what);
    free(err);
}

static void test_refusals(const char *a, const char *m)
{
    const char *newer = fx_path("newer.db"), *conf = fx_path("conflict.db"), *dmg = fx_path("damaged.db");
    const char *garbage = fx_path("garbage.db"), *other = fx_path("otherdata.db");
    fx_run(NULL, "cp %s %s && sqlite3 %s 'PRAGMA user_version = 99'", a, newer, newer);
    check_refused(m, newer, 4, "newer than this program knows", "a shard of a newer schema");
    /* same UUID, other content: one metric changed */
    fx_run(NULL, "cp %s %s && sqlite3 %s 'UPDATE metrics SET value = value + 1 WHERE id = (SELECT MIN(id) FROM metrics)'",
           a, conf, conf);
    check_refused(m, conf, 3, "with other content", "same UUID, other content");
    /* the same dataset name with other data */
    make_store(other, "shapes", 9);
    check_refused(m, other, 3, "has other content", "a dataset name with other content");
    /* a checkpoint altered behind SQLite's back */
    fx_run(NULL, "cp %s %s && sqlite3 %s 'UPDATE checkpoint_tensors SET data = zeroblob(length(data)) "
           "WHERE rowid = (SELECT MIN(rowid) FROM checkpoint_tensors)'", a, dmg, dmg);
    check_refused(m, dmg, 3, "is damaged", "a damaged shard");
    fx_write(garbage, "this is not a database, not at all; it is text long enough", 58, 0);
    check_refused(m, garbage, 4, "garbage.db", "not a database");
    check_refused(m, fx_path("missing.db"), 4, "missing.db", "no such shard");
    /* a failed merge into a new target leaves no target behind */
    char *err = NULL, args[4096];
    const char *fresh = fx_path("fresh.db");
    snprintf(args, sizeof args, "--store %s %s %s", fresh, a, conf);
    int rc = merge(&err, args);
    CHECK(rc == 3 && access(fresh, F_OK) != 0, "a refused merge into a new store leaves none: rc %d: %s", rc, err);
    free(err);
    /* bad flags */
    check_refused(m, "", 2, "no shard given", "no shard");
    check_refused(m, m, 2, "is the target store itself", "the target as its own shard");
    rc = fx_run(&err, "%s/merge %s", bin, a);
    CHECK(rc == 2 && strstr(err, "--store TARGET is required"), "no --store: rc %d %s", rc, err);
    free(err);
    rc = fx_run(&err, "%s/merge --store %s --bogus %s", bin, m, a);
    CHECK(rc == 2 && strstr(err, "unknown option"), "unknown option: rc %d %s", rc, err);
    free(err);
}

int main(void)
{
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    fx_tmpdir("merge");
    archf = strdup(fx_path("net.arch"));
    fx_write(archf, ARCH, strlen(ARCH), 0);
    char data[1100], a[1100], b[1100], one[1100], m[1100];
    snprintf(data, sizeof data, "%s", fx_path("data.db"));
    snprintf(a, sizeof a, "%s", fx_path("a.db"));
    snprintf(b, sizeof b, "%s", fx_path("b.db"));
    snprintf(one, sizeof one, "%s", fx_path("one.db"));
    snprintf(m, sizeof m, "%s", fx_path("merged.db"));
    make_store(data, "shapes", 5);
    char *err = NULL;
    int ok = fx_run(&err, "for s in %s %s %s; do sqlite3 %s \"VACUUM INTO '$s'\" || exit 1; done", a, b, one, data) == 0;
    CHECK(ok, "copies of the dataset store: %s", err);
    free(err);
    ok = ok && train_run(a, "drmm+kl+nn") && train_run(b, "cnn") && train_run(one, "drmm+kl+nn") &&
         train_run(one, "cnn");
    CHECK(ok, "the runs trained");
    if (ok) {
        test_uuids(one);
        test_merge_equals_one_store(a, b, one, m);
        test_idempotent(a, b, m);
        test_refusals(a, m);
    }
    fx_cleanup();
    free((char *)archf);
    return check_done();
}
