/* The store: migrations (once, also with several processes opening a new
 * store together), tables, views and indexes; datasets, runs, metrics,
 * checkpoints and evaluations round-trip; and every failure (newer schema,
 * not a database, locked, read-only, full disk, unknown ids, conflicting
 * dataset) gives a clear message and leaves the store unchanged.  Two
 * processes writing metrics at once lose nothing. */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "dataset.h"
#include "error.h"
#include "store.h"

static int count(store *s, const char *sql)
{
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static double real(store *s, const char *sql)
{
    sqlite3_stmt *st;
    double x = NAN;
    if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        x = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return x;
}

static void make_dataset(dataset *d, int n, int seed)
{
    err_t e;
    if (dataset_alloc(d, n, 1, 3, 2, 3, 2, &e) < 0)
        exit(1);
    for (long i = 0; i < n * 6L; i++)
        d->pixels[i] = (uint8_t)(i * 13 + seed);
    for (int i = 0; i < n; i++) {
        d->labels[i] = i % 3;
        d->split[i] = i % 4 == 3 ? SPLIT_TEST : SPLIT_TRAIN;
        d->latents[2 * i] = (float)i / 3;
        d->latents[2 * i + 1] = -(float)seed;
    }
    d->class_names[0] = strdup("cat");
    d->class_names[1] = strdup("dog \"big\"");
    d->class_names[2] = strdup("emu");
    d->latent_names[0] = strdup("angle");
    d->latent_names[1] = strdup("depth");
    d->source = strdup("test");
}

static int same_dataset(const dataset *a, const dataset *b)
{
    if (a->n != b->n || a->channels != b->channels || a->height != b->height || a->width != b->width ||
        a->n_classes != b->n_classes || a->n_latents != b->n_latents)
        return 0;
    for (int c = 0; c < a->n_classes; c++)
        if (strcmp(a->class_names[c], b->class_names[c]))
            return 0;
    for (int c = 0; c < a->n_latents; c++)
        if (strcmp(a->latent_names[c], b->latent_names[c]))
            return 0;
    return !memcmp(a->pixels, b->pixels, (size_t)a->n * dataset_image_size(a)) &&
           !memcmp(a->labels, b->labels, a->n * sizeof *a->labels) && !memcmp(a->split, b->split, a->n) &&
           !memcmp(a->latents, b->latents, (size_t)a->n * a->n_latents * sizeof(float));
}

static int64_t new_run(store *s, const char *name, const char *a_kl, const char *a_nn, const char *sup, err_t *e)
{
    store_kv cfg[] = {{"a_h", "1"}, {"a_rc", "0.5"}, {"a_kl", a_kl}, {"a_nn", a_nn}, {"supervised_only", sup},
                      {"kl_sign", "+1"}, {"unsup_half", "unlabelled"}, {"lr", "0.001"}};
    int ids[] = {0, 4, 8};
    store_run_info info = {.name = name, .dataset = "toy", .architecture = "conv 32 5x5\n", .config = cfg,
                           .n_config = 8, .n_labels = 3, .label_seed = 7, .label_ids = ids, .n_label_ids = 3,
                           .seed = 42, .threads = 2, .openblas_core = "Haswell"};
    int64_t id = 0;
    if (store_create_run(s, &info, &id, e) < 0)
        return -1;
    return id;
}

/* Expects rc == -1 with kind and a message holding need, and the store at
 * path unchanged against fp. */
static void expect_fail(const char *name, int rc, int kind, const err_t *e, const char *need, const char *path,
                        const char *fp)
{
    char now[65];
    if (getenv("VERBOSE"))
        printf("%s: %s\n", name, e->msg);
    CHECK(rc == -1, "%s: expected failure", name);
    CHECK(store_fail_kind() == kind, "%s: failure kind %d, expected %d", name, store_fail_kind(), kind);
    CHECK(e->kind == (kind == STORE_FAIL_CONFLICT || kind == STORE_FAIL_NOTFOUND ? ERR_INPUT : ERR_RUNTIME),
          "%s: err_t kind %d", name, e->kind);
    CHECK(strstr(e->msg, need) != NULL, "%s: message lacks '%s': %s", name, need, e->msg);
    CHECK(strstr(e->msg, path) != NULL, "%s: message lacks the store path: %s", name, e->msg);
    fx_store_fingerprint(path, now);
    CHECK(strcmp(now, fp) == 0, "%s: store changed", name);
}

int main(void)
{
    err_t e = {0};
    store *s = NULL;
    fx_tmpdir("store");
    const char *path = fx_path("s.db");

    /* ---- migrations, tables, views, indexes ---- */
    CHECK(store_open(path, 0, &s, &e) == 0, "open new: %s", e.msg);
    if (!s)
        return check_done();
    CHECK(store_schema_version(s) == store_known_schema_version() && store_known_schema_version() >= 1,
          "schema version %d", store_schema_version(s));
    CHECK(count(s, "PRAGMA user_version") == store_known_schema_version(), "user_version");
    CHECK(sqlite3_stricmp(sqlite3_db_filename(store_db(s), "main"), "") != 0, "file-backed");
    {
        sqlite3_stmt *st;
        sqlite3_prepare_v2(store_db(s), "PRAGMA journal_mode", -1, &st, NULL);
        sqlite3_step(st);
        CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0, "WAL mode");
        sqlite3_finalize(st);
    }
    CHECK(count(s, "PRAGMA foreign_keys") == 1, "foreign keys on");
    static const char *tables[] = {"datasets", "dataset_classes", "dataset_latents", "images", "runs", "run_config",
                                   "run_labelled", "metrics", "metrics_latest", "checkpoints", "checkpoint_tensors",
                                   "checkpoint_blobs", "evaluations", "predictions", "edrmm_trees", "edrmm_nodes"};
    static const char *views[] = {"runs_summary", "ablation", "run_settings", "latest_test_evaluation",
                                  "datasets_summary"};
    static const char *indexes[] = {"metrics_run_name_step", "checkpoints_run", "evaluations_run_split",
                                    "evaluations_checkpoint", "runs_dataset", "edrmm_trees_run"};
    char q[256];
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'", tables[i]);
        CHECK(count(s, q) == 1, "table %s exists", tables[i]);
    }
    for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
        snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name = '%s'", views[i]);
        CHECK(count(s, q) == 1, "view %s exists", views[i]);
    }
    for (size_t i = 0; i < sizeof indexes / sizeof *indexes; i++) {
        snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '%s'", indexes[i]);
        CHECK(count(s, q) == 1, "index %s exists", indexes[i]);
    }
    /* the metrics history query uses its index */
    {
        sqlite3_stmt *st;
        int uses = 0;
        sqlite3_prepare_v2(store_db(s), "EXPLAIN QUERY PLAN SELECT value FROM metrics WHERE run_id = 1 AND name = 'loss' "
                           "ORDER BY step", -1, &st, NULL);
        while (sqlite3_step(st) == SQLITE_ROW)
            uses |= strstr((const char *)sqlite3_column_text(st, 3), "metrics_run_name_step") != NULL;
        sqlite3_finalize(st);
        CHECK(uses, "metrics query uses metrics_run_name_step");
    }
    int nschema = count(s, "SELECT count(*) FROM sqlite_schema");
    store_close(s);
    CHECK(store_open(path, 0, &s, &e) == 0, "reopen: %s", e.msg);
    CHECK(count(s, "SELECT count(*) FROM sqlite_schema") == nschema, "reopen applies nothing twice");

    /* ---- datasets ---- */
    dataset d, d2, back;
    make_dataset(&d, 12, 1);
    make_dataset(&d2, 12, 2);
    int outcome = -1;
    char sha[65], sha2[65], fp[65];
    CHECK(store_put_dataset(s, "toy", &d, 0, &outcome, sha, &e) == 0 && outcome == STORE_PUT_INSERTED,
          "put dataset: %s", e.msg);
    CHECK(store_get_dataset(s, "toy", &back, &e) == 0 && same_dataset(&d, &back), "dataset round trip: %s", e.msg);
    dataset_free(&back);
    CHECK(count(s, "SELECT n_train * 100 + n_test FROM datasets WHERE name = 'toy'") == 903, "split sizes 9 + 3");
    CHECK(count(s, "SELECT json_array_length(class_names) FROM datasets") == 3, "class names as JSON");
    fx_store_fingerprint(path, fp);
    CHECK(store_put_dataset(s, "toy", &d, 0, &outcome, NULL, &e) == 0 && outcome == STORE_PUT_UNCHANGED,
          "same content is a no-op: %s", e.msg);
    {
        char now[65];
        fx_store_fingerprint(path, now);
        CHECK(strcmp(now, fp) == 0, "no-op leaves the store unchanged");
    }
    expect_fail("different content", store_put_dataset(s, "toy", &d2, 0, &outcome, sha2, &e), STORE_FAIL_CONFLICT, &e,
                "--force", path, fp);
    {
        store *f = NULL;
        const char *fpth = fx_path("force.db");
        CHECK(store_open(fpth, 0, &f, &e) == 0 && store_put_dataset(f, "toy", &d, 0, NULL, NULL, &e) == 0,
              "force store: %s", e.msg);
        CHECK(store_put_dataset(f, "toy", &d2, 1, &outcome, sha2, &e) == 0 && outcome == STORE_PUT_REPLACED,
              "force replaces: %s", e.msg);
        CHECK(store_get_dataset(f, "toy", &back, &e) == 0 && same_dataset(&d2, &back), "replaced content read back");
        dataset_free(&back);
        CHECK(count(f, "SELECT count(*) FROM images") == 12 && count(f, "SELECT count(*) FROM dataset_classes") == 3,
              "replaced: old rows gone");
        store_close(f);
    }
    CHECK(store_get_dataset(s, "nope", &back, &e) == -1 && store_fail_kind() == STORE_FAIL_NOTFOUND &&
          strstr(e.msg, "nope"), "unknown dataset: %s", e.msg);

    /* ---- runs, metrics, checkpoints, evaluations, views ---- */
    int64_t r1 = new_run(s, "full", "1", "0.5", "0", &e);
    int64_t r2 = new_run(s, "cnn", "1", "1", "1", &e);   /* a CNN run carries the unused default weights */
    int64_t r3 = new_run(s, "running", "1", "0", "0", &e);
    CHECK(r1 > 0 && r2 > 0 && r3 > 0, "create runs: %s", e.msg);
    store_metric m[] = {{1, 100, "loss", 2.0}, {1, 100, "lh", 1.5}, {2, 200, "loss", 1.0}, {2, 200, "lh", 0.7},
                        {2, 200, "lrc", 0.2}, {2, 200, "train_error", 0.1}};
    CHECK(store_add_metrics(s, r1, m, 6, &e) == 0, "add metrics: %s", e.msg);
    store_metric old[] = {{1, 50, "loss", 9.0}};
    CHECK(store_add_metrics(s, r1, old, 1, &e) == 0, "add an older metric: %s", e.msg);
    CHECK(count(s, "SELECT count(*) FROM metrics") == 7, "history keeps every value");
    CHECK(real(s, "SELECT value FROM metrics_latest WHERE name = 'loss'") == 1.0, "latest is the highest step");
    float w[2 * 3] = {1, 2, 3, 4, 5, -0.5f}, bias[1] = {0.25f};
    named_tensor ts[2] = {{"conv1.weight", 2, {2, 3}, w}, {"conv1.bias", 1, {1}, bias}};
    uint64_t rng_state[4] = {1, 2, 3, 0xffffffffffffffffull};
    store_blob bl[1] = {{"rng", rng_state, sizeof rng_state}};
    int64_t c1 = 0, c2 = 0;
    CHECK(store_put_checkpoint(s, r1, 1, 100, ts, 2, bl, 1, &c1, &e) == 0, "checkpoint 1: %s", e.msg);
    w[0] = 10;
    CHECK(store_put_checkpoint(s, r1, 2, 200, ts, 2, bl, 1, &c2, &e) == 0 && c2 > c1, "checkpoint 2: %s", e.msg);
    {
        store_checkpoint c;
        CHECK(store_get_checkpoint(s, r1, 0, &c, &e) == 0, "latest checkpoint: %s", e.msg);
        const named_tensor *t = store_checkpoint_tensor(&c, "conv1.weight");
        const store_blob *b = store_checkpoint_blob(&c, "rng");
        CHECK(c.id == c2 && c.epoch == 2 && c.step == 200, "latest is checkpoint 2");
        CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->data[0] == 10 && t->data[5] == -0.5f,
              "tensor round trip");
        CHECK(b && b->size == sizeof rng_state && memcmp(b->data, rng_state, sizeof rng_state) == 0, "blob round trip");
        store_checkpoint_free(&c);
        CHECK(store_get_checkpoint(s, r1, c1, &c, &e) == 0 && store_checkpoint_tensor(&c, "conv1.weight")->data[0] == 1,
              "checkpoint by id: %s", e.msg);
        store_checkpoint_free(&c);
        CHECK(count(s, "SELECT count(*) FROM checkpoint_tensors WHERE shape = '2,3' AND dtype = 'f32' "
                       "AND length(data) = 24") == 2, "shape text and f32 data");
        CHECK(store_get_checkpoint(s, r2, 0, &c, &e) == -1 && store_fail_kind() == STORE_FAIL_NOTFOUND,
              "run without checkpoint: %s", e.msg);
    }
    /* pruning keeps the newest checkpoints and drops the others' tensors and blobs */
    {
        int64_t c3 = 0, c4 = 0;
        CHECK(store_put_checkpoint(s, r3, 1, 10, ts, 2, bl, 1, &c3, &e) == 0 &&
              store_put_checkpoint(s, r3, 2, 20, ts, 2, bl, 1, &c4, &e) == 0 &&
              store_put_checkpoint(s, r3, 3, 30, ts, 2, bl, 1, NULL, &e) == 0, "run 3 checkpoints: %s", e.msg);
        CHECK(store_prune_checkpoints(s, r3, 0, &e) == -1 &&
              count(s, "SELECT count(*) FROM checkpoints WHERE run_id = 3") == 3, "keep 0 is refused");
        CHECK(store_prune_checkpoints(s, r3, 2, &e) == 0, "prune: %s", e.msg);
        snprintf(q, sizeof q, "SELECT count(*) FROM checkpoints WHERE id = %lld", (long long)c3);
        CHECK(count(s, "SELECT count(*) FROM checkpoints WHERE run_id = 3") == 2 && count(s, q) == 0,
              "prune keeps the newest 2");
        snprintf(q, sizeof q, "SELECT count(*) FROM checkpoint_tensors WHERE checkpoint_id = %lld", (long long)c3);
        CHECK(count(s, q) == 0, "pruned tensors are gone");
        snprintf(q, sizeof q, "SELECT count(*) FROM checkpoint_blobs WHERE checkpoint_id = %lld", (long long)c3);
        CHECK(count(s, q) == 0, "pruned blobs are gone");
        CHECK(count(s, "SELECT count(*) FROM checkpoints WHERE run_id = 1") == 2, "other runs untouched");
    }
    double cerr[3] = {0.1, 0.2, 0.3};
    long conf[9] = {9, 1, 0, 0, 8, 2, 1, 2, 7};
    int sidx[2] = {3, 7}, slab[2] = {0, 1}, spred[2] = {0, 2};
    float probs[6] = {0.8f, 0.1f, 0.1f, 0.2f, 0.3f, 0.5f};
    store_evaluation ev = {.run_id = r1, .checkpoint_id = c2, .split = SPLIT_TEST, .n_images = 30, .error = 0.2,
                           .recon_error = 0.05, .n_classes = 3, .class_errors = cerr, .confusion = conf,
                           .n_predictions = 2, .sample_idx = sidx, .labels = slab, .predicted = spred, .probs = probs};
    int64_t ev1 = 0;
    CHECK(store_put_evaluation(s, &ev, &ev1, &e) == 0 && ev1 > 0, "evaluation: %s", e.msg);
    ev.run_id = r2; ev.checkpoint_id = 0; ev.error = 0.3; ev.recon_error = NAN; ev.n_predictions = 0;
    CHECK(store_put_evaluation(s, &ev, NULL, &e) == 0, "evaluation 2: %s", e.msg);
    ev.split = SPLIT_TRAIN; ev.error = 0.01;
    CHECK(store_put_evaluation(s, &ev, NULL, &e) == 0, "train evaluation: %s", e.msg);
    CHECK(count(s, "SELECT count(*) FROM predictions WHERE length(probs) = 12") == 2, "predictions stored");
    CHECK(count(s, "SELECT json_extract(confusion, '$[1][2]') FROM evaluations WHERE id = 1") == 2, "confusion JSON");
    CHECK(store_set_run_status(s, r1, "FINISHED", NULL, &e) == 0 && store_set_run_status(s, r2, "FINISHED", NULL, &e) == 0,
          "finish runs: %s", e.msg);
    CHECK(store_set_run_status(s, r3, "DONE", NULL, &e) == -1 && strstr(e.msg, "DONE"), "bad status refused");
    CHECK(count(s, "SELECT count(*) FROM runs WHERE ended IS NOT NULL") == 2, "end times set");
    CHECK(count(s, "SELECT count(*) FROM runs_summary") == 3, "runs_summary: one row per run");
    CHECK(real(s, "SELECT loss FROM runs_summary WHERE name = 'full'") == 1.0, "runs_summary: final loss");
    CHECK(real(s, "SELECT test_error FROM runs_summary WHERE name = 'full'") == 0.2, "runs_summary: test error");
    CHECK(real(s, "SELECT a_nn FROM runs_summary WHERE name = 'full'") == 0.5, "runs_summary: loss weight");
    CHECK(count(s, "SELECT dataset = 'toy' AND n_labels = 3 AND status = 'FINISHED' FROM runs_summary WHERE name = 'cnn'"),
          "runs_summary: dataset, labels, status");
    CHECK(isnan(real(s, "SELECT test_error FROM runs_summary WHERE name = 'running'")), "running run has no test error");
    CHECK(count(s, "SELECT count(*) FROM ablation") == 2, "ablation: two finished configurations");
    CHECK(real(s, "SELECT test_error FROM ablation WHERE kl_on = 1 AND nn_on = 1 AND supervised_only = 0") == 0.2,
          "ablation: full model row");
    CHECK(real(s, "SELECT test_error FROM ablation WHERE kl_on = 0 AND nn_on = 0 AND supervised_only = 1") == 0.3,
          "ablation: supervised-only row uses the test, not the train, evaluation");
    /* migration 7: weights a supervised_only run does not use are NULL in the views, kept in run_config */
    CHECK(count(s, "SELECT a_rc IS NULL AND a_kl IS NULL AND a_nn IS NULL AND a_rcl IS NULL AND a_h = 1 "
                   "FROM run_settings s JOIN runs r ON r.id = s.run_id WHERE r.name = 'cnn'") == 1,
          "run_settings: NULL for the weights a CNN run does not use");
    CHECK(count(s, "SELECT count(*) FROM runs_summary WHERE a_kl > 0 AND supervised_only = 1") == 0 &&
          count(s, "SELECT count(*) FROM runs_summary WHERE a_kl > 0") == 2, "WHERE a_kl > 0: no CNN run");
    CHECK(count(s, "SELECT count(*) FROM run_config c JOIN runs r ON r.id = c.run_id "
                   "WHERE r.name = 'cnn' AND c.key = 'a_kl' AND c.value = '1'") == 1,
          "run_config keeps the CNN run's resolved a_kl (for resume)");
    CHECK(count(s, "SELECT a_rc = 0.5 AND a_nn = 0.5 AND a_rcl IS NULL FROM run_settings WHERE run_id = 1") == 1,
          "run_settings: a DRMM run's weights (a_rcl absent from its config: NULL)");
    {
        store_run r;
        CHECK(store_get_run(s, r1, &r, &e) == 0, "get run: %s", e.msg);
        CHECK(r.n_label_ids == 3 && r.label_ids[2] == 8 && r.seed == 42 && r.label_seed == 7, "run labels and seeds");
        CHECK(store_run_config(&r, "unsup_half") && strcmp(store_run_config(&r, "unsup_half"), "unlabelled") == 0,
              "run config value");
        CHECK(strstr(r.config_json, "\"a_rc\": 0.5") && strstr(r.config_json, "\"kl_sign\": \"+1\""),
              "config JSON: %s", r.config_json);
        CHECK(strcmp(r.status, "FINISHED") == 0 && r.git_commit && strlen(r.git_commit) > 0, "run status and commit");
        store_run_free(&r);
    }

    /* ---- failures leave the store unchanged ---- */
    fx_store_fingerprint(path, fp);
    expect_fail("unknown run (metrics)", store_add_metrics(s, 999, m, 1, &e), STORE_FAIL_NOTFOUND, &e, "999", path, fp);
    expect_fail("unknown run (status)", store_set_run_status(s, 999, "FAILED", "x", &e), STORE_FAIL_NOTFOUND, &e,
                "no run with id 999", path, fp);
    {
        store_run_info bad = {.name = "x", .dataset = "missing", .architecture = ""};
        int64_t id;
        expect_fail("run on unknown dataset", store_create_run(s, &bad, &id, &e), STORE_FAIL_NOTFOUND, &e, "missing",
                    path, fp);
    }
    /* metrics batch with a bad entry: nothing of the batch remains */
    {
        store_metric mixed[] = {{3, 300, "loss", 0.5}, {3, 300, NULL, 0}};
        expect_fail("half-bad metric batch", store_add_metrics(s, r1, mixed, 2, &e), STORE_FAIL_RUNTIME, &e,
                    "no name", path, fp);
    }
    /* locked: another connection holds BEGIN IMMEDIATE */
    {
        store *other = NULL;
        CHECK(store_open(path, 0, &other, &e) == 0 && store_begin(other, &e) == 0, "second writer: %s", e.msg);
        store_set_busy_timeout(s, 100, &e);
        int rc = store_add_metrics(s, r1, m, 2, &e);
        store_rollback(other);
        store_close(other);
        store_set_busy_timeout(s, 10000, &e);
        expect_fail("locked", rc, STORE_FAIL_STORE, &e, "locked by another process", path, fp);
    }
    /* read-only connection */
    {
        store *ro = NULL;
        CHECK(store_open(path, STORE_READONLY, &ro, &e) == 0, "open read-only: %s", e.msg);
        dataset got;
        CHECK(ro && store_get_dataset(ro, "toy", &got, &e) == 0, "read-only can read: %s", e.msg);
        dataset_free(&got);
        if (ro)
            expect_fail("read-only", store_put_dataset(ro, "other", &d2, 0, NULL, NULL, &e), STORE_FAIL_STORE, &e,
                        "read-only", path, fp);
        store_close(ro);
    }
    /* read-only file (permissions; root ignores them, so only as a user) */
    if (geteuid() != 0) {
        const char *rop = fx_path("ro.db");
        store *t = NULL;
        CHECK(store_open(rop, 0, &t, &e) == 0, "ro.db: %s", e.msg);
        store_close(t);
        char fro[65];
        fx_store_fingerprint(rop, fro);
        CHECK(chmod(rop, 0444) == 0, "chmod");
        expect_fail("read-only file", store_open(rop, 0, &t, &e), STORE_FAIL_STORE, &e, "read-only", rop, fro);
    }
    /* full disk, simulated with max_page_count */
    {
        int pages = count(s, "PRAGMA page_count");
        snprintf(q, sizeof q, "PRAGMA max_page_count = %d", pages + 1);
        sqlite3_exec(store_db(s), q, NULL, NULL, NULL);
        dataset big;
        make_dataset(&big, 3000, 5);
        int rc = store_put_dataset(s, "big", &big, 0, NULL, NULL, &e);
        dataset_free(&big);
        expect_fail("full", rc, STORE_FAIL_STORE, &e, "full", path, fp);
        sqlite3_exec(store_db(s), "PRAGMA max_page_count = 1073741823", NULL, NULL, NULL);
    }
    store_close(s);
    s = NULL;
    /* newer schema */
    {
        const char *np = fx_path("newer.db");
        sqlite3 *db;
        sqlite3_open(np, &db);
        sqlite3_exec(db, "CREATE TABLE future (x); PRAGMA user_version = 99;", NULL, NULL, NULL);
        sqlite3_close(db);
        char fn[65];
        fx_store_fingerprint(np, fn);
        expect_fail("newer schema", store_open(np, 0, &s, &e), STORE_FAIL_STORE, &e, "newer", np, fn);
        CHECK(strstr(e.msg, "99") != NULL, "newer schema: names the version: %s", e.msg);
        expect_fail("newer schema read-only", store_open(np, STORE_READONLY, &s, &e), STORE_FAIL_STORE, &e, "newer",
                    np, fn);
    }
    /* not a database */
    {
        const char *tp = fx_path("text.db");
        const char *text = "this is a text file, long enough to look like something: 0123456789abcdef\n"
                           "and more text so that the header check fails for certain..................\n";
        fx_write(tp, text, strlen(text), 0);
        char ft[65];
        fx_store_fingerprint(tp, ft);
        expect_fail("not a database", store_open(tp, 0, &s, &e), STORE_FAIL_STORE, &e, "not an SQLite database", tp, ft);
        expect_fail("missing read-only store", store_open(fx_path("absent.db"), STORE_READONLY, &s, &e),
                    STORE_FAIL_STORE, &e, "absent.db", fx_path("absent.db"), "absent");
        expect_fail("store in a missing directory", store_open(fx_path("no/such/dir.db"), 0, &s, &e), STORE_FAIL_STORE,
                    &e, "cannot open", fx_path("no/such/dir.db"), "absent");
    }

    /* ---- several processes open a new store together ---- */
    {
        const char *cp = fx_path("concurrent.db");
        enum { NPROC = 8 };
        pid_t pids[NPROC];
        for (int i = 0; i < NPROC; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                store *c = NULL;
                err_t ce;
                int rc = store_open(cp, 0, &c, &ce);
                if (rc < 0)
                    fprintf(stderr, "child %d: %s\n", i, ce.msg);
                store_close(c);
                _exit(rc < 0 ? 1 : 0);
            }
        }
        int all_ok = 1;
        for (int i = 0; i < NPROC; i++) {
            int st;
            waitpid(pids[i], &st, 0);
            all_ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        CHECK(all_ok, "concurrent open: every process succeeds");
        CHECK(store_open(cp, 0, &s, &e) == 0, "concurrent store opens: %s", e.msg);
        CHECK(count(s, "PRAGMA user_version") == store_known_schema_version(), "concurrent: schema version");
        CHECK(count(s, "SELECT count(*) FROM sqlite_schema") == nschema, "concurrent: schema applied once");
        /* two processes writing metrics at once lose nothing */
        dataset small;
        make_dataset(&small, 4, 3);
        CHECK(store_put_dataset(s, "toy", &small, 0, NULL, NULL, &e) == 0, "toy: %s", e.msg);
        dataset_free(&small);
        int64_t ra = new_run(s, "a", "1", "1", "0", &e), rb = new_run(s, "b", "1", "1", "0", &e);
        store_close(s);
        s = NULL;
        enum { BATCHES = 100, PER = 5 };
        pid_t w[2];
        for (int k = 0; k < 2; k++) {
            w[k] = fork();
            if (w[k] == 0) {
                store *c = NULL;
                err_t ce;
                if (store_open(cp, 0, &c, &ce) < 0)
                    _exit(1);
                for (int b = 0; b < BATCHES; b++) {
                    store_metric mm[PER];
                    for (int j = 0; j < PER; j++)
                        mm[j] = (store_metric){b, (long)b * PER + j, j % 2 ? "loss" : "lh", b + j * 0.1};
                    if (store_add_metrics(c, k ? rb : ra, mm, PER, &ce) < 0) {
                        fprintf(stderr, "writer %d: %s\n", k, ce.msg);
                        _exit(1);
                    }
                }
                store_close(c);
                _exit(0);
            }
        }
        int wok = 1;
        for (int k = 0; k < 2; k++) {
            int st;
            waitpid(w[k], &st, 0);
            wok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        CHECK(wok, "two writers both succeed");
        CHECK(store_open(cp, 0, &s, &e) == 0, "reopen: %s", e.msg);
        CHECK(count(s, "SELECT count(*) FROM metrics") == 2 * BATCHES * PER, "two writers: no metric lost (%d)",
              count(s, "SELECT count(*) FROM metrics"));
        CHECK(count(s, "SELECT count(*) FROM metrics_latest") == 4, "two writers: latest per run and name");
        {
            sqlite3_stmt *st;
            sqlite3_prepare_v2(store_db(s), "PRAGMA integrity_check", -1, &st, NULL);
            CHECK(sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0,
                  "integrity_check ok");
            sqlite3_finalize(st);
        }
        store_close(s);
    }
    dataset_free(&d);
    dataset_free(&d2);
    fx_cleanup();
    return check_done();
}
