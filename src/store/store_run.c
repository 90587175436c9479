/* Runs, their configuration, labelled subsets, metrics and evaluations in
 * the store (see store.h).  Inputs are borrowed; a store_run read back owns
 * its strings and arrays (store_run_free). */
#include "store_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uuid.h"
#include "version.h"

/* 0 if run_id exists; NOTFOUND failure otherwise. */
static int run_exists(store *s, int64_t run_id, err_t *e)
{
    sqlite3_stmt *st;
    if (store_prepare(s, &st, "SELECT 1 FROM runs WHERE id = ?", e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return store_fail(STORE_FAIL_NOTFOUND, e, "%s: no run with id %lld; list the runs with: sqlite3 %s "
                          "'SELECT run_id, name, status FROM runs_summary'", s->path, (long long)run_id, s->path);
    return store_fail_sql(s, rc, "looking up a run", e);
}

static int is_number(const char *v)
{
    char *end;
    if (!v || !*v)
        return 0;
    double x = strtod(v, &end);
    return *end == '\0' && isfinite(x) && v[0] != ' ' && v[0] != '+' && v[0] != '.' &&
           strncmp(v, "0x", 2) != 0 && strncmp(v, "-0x", 3) != 0;
}

int store_create_run(store *s, const store_run_info *in, int64_t *run_id, err_t *e)
{
    int ok = 0;
    sqlite3_stmt *st = NULL;
    store_sbuf cfg = {0}, args = {0};
    char host[256] = "unknown", sha[65], uuid[UUID_TEXT_LEN + 1];
    int64_t ds;
    if (!in->name || !in->dataset || !in->architecture)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: a run needs a name, a dataset and an architecture", s->path);
    if (in->host)
        snprintf(host, sizeof host, "%s", in->host);
    else if (gethostname(host, sizeof host) < 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    int bad = store_sbuf_add(&cfg, "{", 1);
    for (int i = 0; i < in->n_config && !bad; i++) {
        bad |= (i && store_sbuf_add(&cfg, ", ", 2) < 0) || store_sbuf_json_str(&cfg, in->config[i].key) < 0 ||
               store_sbuf_add(&cfg, ": ", 2) < 0;
        const char *v = in->config[i].value ? in->config[i].value : "";
        bad |= is_number(v) ? store_sbuf_add(&cfg, v, strlen(v)) < 0 : store_sbuf_json_str(&cfg, v) < 0;
    }
    bad |= store_sbuf_add(&cfg, "}", 1) < 0;
    if (in->argv) {
        bad |= store_sbuf_add(&args, "[", 1) < 0;
        for (int i = 0; i < in->argc && !bad; i++)
            bad |= (i && store_sbuf_add(&args, ", ", 2) < 0) || store_sbuf_json_str(&args, in->argv[i]) < 0;
        bad |= store_sbuf_add(&args, "]", 1) < 0;
    }
    if (bad) {
        free(cfg.p);
        free(args.p);
        return store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
    }
    if (uuid_v4(uuid, e) < 0) {
        free(cfg.p);
        free(args.p);
        store_set_fail_kind(STORE_FAIL_RUNTIME);
        return -1;
    }
    if (store_wbegin(s, e) < 0)
        goto done_notx;
    if (store_find_dataset(s, in->dataset, &ds, sha, e) < 0)
        goto done;
    if (store_prepare(s, &st,
                      "INSERT INTO runs (name, dataset_id, dataset_sha256, architecture, config_json, n_labels, "
                      "label_seed, seed, git_commit, git_dirty, program_version, host, threads, openblas_core, argv, command, "
                      "git_diff, git_diff_bytes, git_diff_sha256, openblas, sqlite_version, libpng_version, cpu_model, uuid) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
                      "?20, ?21, ?22, ?23, ?24)", e) < 0)
        goto done;
    sqlite3_bind_text(st, 1, in->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, ds);
    sqlite3_bind_text(st, 3, sha, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, in->architecture, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, cfg.p, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 6, in->n_labels);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)in->label_seed);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)in->seed);
    sqlite3_bind_text(st, 9, drmm_git_commit, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, drmm_git_dirty);
    sqlite3_bind_text(st, 11, drmm_version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 13, in->threads);
    sqlite3_bind_text(st, 14, in->openblas_core ? in->openblas_core : "unknown", -1, SQLITE_TRANSIENT);
    store_bind_text(st, 15, args.p);
    store_bind_text(st, 16, in->command);
    if (drmm_git_dirty) {
        sqlite3_bind_text(st, 17, drmm_git_diff, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 18, drmm_git_diff_bytes);
        sqlite3_bind_text(st, 19, drmm_git_diff_sha256, -1, SQLITE_STATIC);
    }
    store_bind_text(st, 20, in->openblas);
    sqlite3_bind_text(st, 21, sqlite3_libversion(), -1, SQLITE_STATIC);
    store_bind_text(st, 22, in->libpng_version);
    store_bind_text(st, 23, in->cpu_model);
    sqlite3_bind_text(st, 24, uuid, -1, SQLITE_TRANSIENT);
    if (store_step_done(s, st, "creating a run", e) < 0)
        goto done;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO run_config (run_id, key, value) VALUES (?, ?, ?)", e) < 0)
        goto done;
    for (int i = 0; i < in->n_config; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, in->config[i].key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, in->config[i].value ? in->config[i].value : "", -1, SQLITE_TRANSIENT);
        if (store_step_done(s, st, "writing the run configuration (keys must be unique)", e) < 0)
            goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO run_labelled (run_id, sample_idx) VALUES (?, ?)", e) < 0)
        goto done;
    for (int i = 0; i < in->n_label_ids; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, in->label_ids[i]);
        if (store_step_done(s, st, "writing the labelled sample ids (must be unique)", e) < 0)
            goto done;
    }
    if (run_id)
        *run_id = id;
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
done_notx:
    free(cfg.p);
    free(args.p);
    return ok ? 0 : -1;
}

/* Runs sql (binding run_id to ?1 and text to ?2) in one write transaction
 * after checking that the run exists. */
static int run_add_text(store *s, int64_t run_id, const char *sql, const char *text, const char *what, err_t *e)
{
    int ok = 0;
    sqlite3_stmt *st = NULL;
    if (store_wbegin(s, e) < 0)
        return -1;
    if (run_exists(s, run_id, e) < 0 || store_prepare(s, &st, sql, e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
    if (store_step_done(s, st, what, e) < 0)
        goto done;
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    return ok ? 0 : -1;
}

int store_tag_run(store *s, int64_t run_id, const char *tag, err_t *e)
{
    size_t n = strlen(tag);
    int good = n >= 1 && n <= 64;
    for (const char *p = tag; *p && good; p++)
        good = isalnum((unsigned char)*p) || strchr("._:+-", *p);
    if (!good)
        return err_input(e, "tag '%s': use 1 to 64 letters, digits and . _ : + - (no spaces or commas)", tag);
    return run_add_text(s, run_id, "INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?1, ?2)", tag,
                        "tagging a run", e);
}

int store_note_run(store *s, int64_t run_id, const char *note, err_t *e)
{
    size_t n = strlen(note);
    int blank = 1;
    for (const char *p = note; *p; p++)
        blank &= isspace((unsigned char)*p) != 0;
    if (blank || n > 4096)
        return err_input(e, "a note must be 1 to 4096 bytes and not only blanks (this one: %zu bytes)", n);
    return run_add_text(s, run_id, "INSERT INTO run_notes (run_id, note) VALUES (?1, ?2)", note,
                        "adding a note to a run", e);
}

int store_set_run_status(store *s, int64_t run_id, const char *status, const char *error, err_t *e)
{
    static const char *const valid[] = {"RUNNING", "FINISHED", "FAILED", "INTERRUPTED"};
    int known = 0, ok = 0;
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < 4; i++)
        known |= status && strcmp(status, valid[i]) == 0;
    if (!known)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: run status '%s' is not RUNNING, FINISHED, FAILED or INTERRUPTED",
                          s->path, status ? status : "(null)");
    if (store_wbegin(s, e) < 0)
        return -1;
    if (run_exists(s, run_id, e) < 0)
        goto done;
    if (store_prepare(s, &st, "UPDATE runs SET status = ?1, error = ?2, ended = CASE WHEN ?1 = 'RUNNING' THEN NULL "
                              "ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END WHERE id = ?3", e) < 0)
        goto done;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
    store_bind_text(st, 2, error);
    sqlite3_bind_int64(st, 3, run_id);
    if (store_step_done(s, st, "setting the run status", e) < 0)
        goto done;
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    return ok ? 0 : -1;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? strdup(t) : NULL;
}

int store_get_run(store *s, int64_t run_id, store_run *r, err_t *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0, rc, cap;
    memset(r, 0, sizeof *r);
    if (run_exists(s, run_id, e) < 0)
        return -1;
    if (store_prepare(s, &st, "SELECT r.name, d.name, r.architecture, r.config_json, r.status, r.error, r.git_commit, "
                              "r.started, r.ended, r.n_labels, r.label_seed, r.seed FROM runs r "
                              "JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?", e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        store_fail_sql(s, rc, "reading a run", e);
        goto done;
    }
    r->id = run_id;
    r->name = dup_col(st, 0);
    r->dataset = dup_col(st, 1);
    r->architecture = dup_col(st, 2);
    r->config_json = dup_col(st, 3);
    r->status = dup_col(st, 4);
    r->error = dup_col(st, 5);
    r->git_commit = dup_col(st, 6);
    r->started = dup_col(st, 7);
    r->ended = dup_col(st, 8);
    r->n_labels = sqlite3_column_int(st, 9);
    r->label_seed = (uint64_t)sqlite3_column_int64(st, 10);
    r->seed = (uint64_t)sqlite3_column_int64(st, 11);
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "SELECT key, value FROM run_config WHERE run_id = ? ORDER BY rowid", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, run_id);
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n_config == cap) {
            cap = cap ? 2 * cap : 32;
            char **k = realloc(r->keys, cap * sizeof *k);
            if (k) r->keys = k;
            char **v = realloc(r->values, cap * sizeof *v);
            if (v) r->values = v;
            if (!k || !v) {
                store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
                goto done;
            }
        }
        r->keys[r->n_config] = dup_col(st, 0);
        r->values[r->n_config] = dup_col(st, 1);
        r->n_config++;
    }
    if (rc != SQLITE_DONE) {
        store_fail_sql(s, rc, "reading the run configuration", e);
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "SELECT sample_idx FROM run_labelled WHERE run_id = ? ORDER BY sample_idx", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, run_id);
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n_label_ids == cap) {
            cap = cap ? 2 * cap : 256;
            int *p = realloc(r->label_ids, cap * sizeof *p);
            if (!p) {
                store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
                goto done;
            }
            r->label_ids = p;
        }
        r->label_ids[r->n_label_ids++] = sqlite3_column_int(st, 0);
    }
    if (rc != SQLITE_DONE) {
        store_fail_sql(s, rc, "reading the labelled sample ids", e);
        goto done;
    }
    ok = 1;
done:
    sqlite3_finalize(st);
    if (!ok)
        store_run_free(r);
    return ok ? 0 : -1;
}

void store_run_free(store_run *r)
{
    if (!r)
        return;
    free(r->name); free(r->dataset); free(r->architecture); free(r->config_json);
    free(r->status); free(r->error); free(r->git_commit); free(r->started); free(r->ended);
    for (int i = 0; i < r->n_config; i++) {
        free(r->keys[i]);
        free(r->values[i]);
    }
    free(r->keys);
    free(r->values);
    free(r->label_ids);
    memset(r, 0, sizeof *r);
}

const char *store_run_config(const store_run *r, const char *key)
{
    for (int i = 0; i < r->n_config; i++)
        if (r->keys[i] && strcmp(r->keys[i], key) == 0)
            return r->values[i];
    return NULL;
}

int store_add_metrics(store *s, int64_t run_id, const store_metric *m, int n, err_t *e)
{
    sqlite3_stmt *hist = NULL, *last = NULL;
    int ok = 0;
    if (n <= 0)
        return 0;
    if (store_wbegin(s, e) < 0)
        return -1;
    if (run_exists(s, run_id, e) < 0)
        goto done;
    if (store_prepare(s, &hist, "INSERT INTO metrics (run_id, epoch, step, name, value) VALUES (?, ?, ?, ?, ?)", e) < 0 ||
        store_prepare(s, &last, "INSERT INTO metrics_latest (run_id, name, epoch, step, value, time) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
                                "ON CONFLICT (run_id, name) DO UPDATE SET epoch = excluded.epoch, "
                                "step = excluded.step, value = excluded.value, time = excluded.time "
                                "WHERE excluded.step >= metrics_latest.step", e) < 0)
        goto done;
    for (int i = 0; i < n; i++) {
        if (!m[i].name || !*m[i].name) {
            store_fail(STORE_FAIL_RUNTIME, e, "%s: metric %d has no name", s->path, i);
            goto done;
        }
        sqlite3_bind_int64(hist, 1, run_id);
        sqlite3_bind_int(hist, 2, m[i].epoch);
        sqlite3_bind_int64(hist, 3, m[i].step);
        sqlite3_bind_text(hist, 4, m[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_double(hist, 5, m[i].value);
        if (store_step_done(s, hist, "writing metrics", e) < 0)
            goto done;
        sqlite3_bind_int64(last, 1, run_id);
        sqlite3_bind_text(last, 2, m[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int(last, 3, m[i].epoch);
        sqlite3_bind_int64(last, 4, m[i].step);
        sqlite3_bind_double(last, 5, m[i].value);
        if (store_step_done(s, last, "writing the latest metrics", e) < 0)
            goto done;
    }
    ok = 1;
done:
    sqlite3_finalize(hist);
    sqlite3_finalize(last);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    return ok ? 0 : -1;
}

int store_put_evaluation(store *s, const store_evaluation *ev, int64_t *eval_id, err_t *e)
{
    sqlite3_stmt *st = NULL;
    store_sbuf ce = {0}, cm = {0};
    float *le = NULL;
    int ok = 0, bad = 0, k = ev->n_classes;
    if (k <= 0 || !ev->class_errors || !ev->confusion || (ev->split != SPLIT_TRAIN && ev->split != SPLIT_TEST) ||
        (ev->n_predictions > 0 && (!ev->sample_idx || !ev->labels || !ev->predicted)))
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: incomplete evaluation (classes, errors, confusion matrix, "
                          "split and predictions are required)", s->path);
    bad |= store_sbuf_add(&ce, "[", 1) < 0 || store_sbuf_add(&cm, "[", 1) < 0;
    for (int i = 0; i < k && !bad; i++) {
        bad |= store_sbuf_printf(&ce, i ? ", %.9g" : "%.9g", ev->class_errors[i]) < 0;
        bad |= store_sbuf_add(&cm, i ? ", [" : "[", i ? 3 : 1) < 0;
        for (int j = 0; j < k && !bad; j++)
            bad |= store_sbuf_printf(&cm, j ? ", %ld" : "%ld", ev->confusion[(size_t)i * k + j]) < 0;
        bad |= store_sbuf_add(&cm, "]", 1) < 0;
    }
    bad |= store_sbuf_add(&ce, "]", 1) < 0 || store_sbuf_add(&cm, "]", 1) < 0;
    if (bad || (ev->probs && !(le = malloc((size_t)k * 4)))) {
        store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
        goto done_notx;
    }
    if (store_wbegin(s, e) < 0)
        goto done_notx;
    if (run_exists(s, ev->run_id, e) < 0)
        goto done;
    if (store_prepare(s, &st, "INSERT INTO evaluations (run_id, checkpoint_id, split, n_images, error, recon_error, "
                              "class_errors, confusion, x2, recon_true, recon_wrong, xvar) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, ev->run_id);
    if (ev->checkpoint_id > 0)
        sqlite3_bind_int64(st, 2, ev->checkpoint_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, ev->split == SPLIT_TRAIN ? "train" : "test", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, ev->n_images);
    sqlite3_bind_double(st, 5, ev->error);
    if (isnan(ev->recon_error))
        sqlite3_bind_null(st, 6);
    else
        sqlite3_bind_double(st, 6, ev->recon_error);
    sqlite3_bind_text(st, 7, ce.p, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, cm.p, -1, SQLITE_TRANSIENT);
    if (isnan(ev->x2))
        sqlite3_bind_null(st, 9);
    else
        sqlite3_bind_double(st, 9, ev->x2);
    const double render[3] = {ev->recon_true, ev->recon_wrong, ev->xvar};
    for (int i = 0; i < 3; i++)
        if (ev->has_render && !isnan(render[i]))
            sqlite3_bind_double(st, 10 + i, render[i]);
        else
            sqlite3_bind_null(st, 10 + i);
    if (store_step_done(s, st, "writing an evaluation (does the checkpoint exist?)", e) < 0)
        goto done;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO predictions (evaluation_id, sample_idx, label, predicted, probs) "
                              "VALUES (?, ?, ?, ?, ?)", e) < 0)
        goto done;
    for (int i = 0; i < ev->n_predictions; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, ev->sample_idx[i]);
        sqlite3_bind_int(st, 3, ev->labels[i]);
        sqlite3_bind_int(st, 4, ev->predicted[i]);
        if (ev->probs) {
            store_f32_to_le(le, ev->probs + (size_t)i * k, (size_t)k);
            sqlite3_bind_blob(st, 5, le, k * 4, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(st, 5);
        }
        if (store_step_done(s, st, "writing predictions (sample ids must be unique)", e) < 0)
            goto done;
    }
    if (eval_id)
        *eval_id = id;
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
done_notx:
    free(ce.p);
    free(cm.p);
    free(le);
    return ok ? 0 : -1;
}
