/* Whole-store verification (see store.h): SQLite's own checks, then every
 * dataset and checkpoint against its recorded SHA-256 by loading it the way
 * a run does (store_get_dataset, store_get_checkpoint). */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(store_verify_fn fn, void *arg, const char *kind, const char *what, int ok, const char *msg)
{
    if (fn)
        fn(kind, what, ok, msg, arg);
}

/* PRAGMA integrity_check: "ok", or up to 100 lines of problems. */
static int check_integrity(store *s, store_verify_fn fn, void *arg, store_verify_counts *out, err_t *e)
{
    sqlite3_stmt *st;
    if (store_prepare(s, &st, "PRAGMA integrity_check", e) < 0)
        return -1;
    int rc, lines = 0;
    store_sbuf b = {0};
    out->integrity_ok = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (lines == 0 && t && strcmp(t, "ok") == 0)
            out->integrity_ok = 1;
        if (lines < 5 && store_sbuf_printf(&b, "%s%.200s", lines ? "; " : "", t ? t : "") < 0)
            break;
        lines++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        free(b.p);
        /* a store too damaged to scan is damage, not a failure to check */
        if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
            out->integrity_ok = 0;
            report(fn, arg, "integrity", "PRAGMA integrity_check", 0, sqlite3_errmsg(s->db));
            return 0;
        }
        return store_fail_sql(s, rc, "running PRAGMA integrity_check", e);
    }
    report(fn, arg, "integrity", "PRAGMA integrity_check", out->integrity_ok, b.p ? b.p : "");
    free(b.p);
    return 0;
}

static int check_foreign_keys(store *s, store_verify_fn fn, void *arg, store_verify_counts *out, err_t *e)
{
    sqlite3_stmt *st;
    if (store_prepare(s, &st, "PRAGMA foreign_key_check", e) < 0)
        return -1;
    int rc;
    char first[256] = "";
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out->fk_violations++)
            snprintf(first, sizeof first, "first: table %s row %lld refers to a missing row of %s",
                     (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
                     (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_fail_sql(s, rc, "running PRAGMA foreign_key_check", e);
    char msg[400];
    snprintf(msg, sizeof msg, "%d rows refer to missing rows%s%s", out->fk_violations, first[0] ? "; " : "", first);
    report(fn, arg, "foreign_keys", "PRAGMA foreign_key_check", out->fk_violations == 0, msg);
    return 0;
}

/* Collects the text of column 0 (datasets) or the ids (checkpoints) first,
 * so no statement is open while each item is loaded. */
static int check_datasets(store *s, store_verify_fn fn, void *arg, store_verify_counts *out, err_t *e)
{
    sqlite3_stmt *st;
    char **names = NULL;
    int n = 0, cap = 0, rc, ret = -1;
    if (store_prepare(s, &st, "SELECT name FROM datasets ORDER BY id", e) < 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p)
                break;
            names = p;
        }
        if (!(names[n] = strdup(t ? t : "")))
            break;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_ROW)
            store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
        else
            store_fail_sql(s, rc, "listing the datasets", e);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        dataset d;
        err_t de = {.msg = ""};
        out->datasets++;
        if (store_get_dataset(s, names[i], &d, &de) == 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "%d images, content matches its SHA-256", d.n);
            report(fn, arg, "dataset", names[i], 1, msg);
            dataset_free(&d);
        } else if (store_fail_kind() == STORE_FAIL_STORE) {
            out->bad_datasets++;
            report(fn, arg, "dataset", names[i], 0, de.msg);
        } else {
            if (e)
                *e = de;
            goto done;
        }
    }
    ret = 0;
done:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ret;
}

static int check_checkpoints(store *s, store_verify_fn fn, void *arg, store_verify_counts *out, err_t *e)
{
    sqlite3_stmt *st;
    int64_t *ids = NULL;
    int *hashed = NULL;
    int n = 0, cap = 0, rc, ret = -1;
    if (store_prepare(s, &st, "SELECT id, sha256 IS NOT NULL FROM checkpoints ORDER BY id", e) < 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            int64_t *p = realloc(ids, cap * sizeof *p);
            int *q = p ? realloc(hashed, cap * sizeof *q) : NULL;
            if (p)
                ids = p;
            if (!p || !q)
                break;
            hashed = q;
        }
        ids[n] = sqlite3_column_int64(st, 0);
        hashed[n++] = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_ROW)
            store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
        else
            store_fail_sql(s, rc, "listing the checkpoints", e);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        store_checkpoint c;
        err_t ce = {.msg = ""};
        char what[96];
        snprintf(what, sizeof what, "%" PRId64, ids[i]);
        out->checkpoints++;
        if (store_get_checkpoint(s, 0, ids[i], &c, &ce) == 0) {
            char msg[160];
            snprintf(what, sizeof what, "%" PRId64 " (run %" PRId64 ", epoch %d, step %ld)", c.id, c.run_id, c.epoch,
                     c.step);
            if (hashed[i]) {
                snprintf(msg, sizeof msg, "%d tensors, %d blobs, content matches its SHA-256", c.n_tensors, c.n_blobs);
                report(fn, arg, "checkpoint", what, 1, msg);
            } else {
                out->unchecked_checkpoints++;
                report(fn, arg, "checkpoint", what, -1, "written before checksums (schema migration 5): not checked");
            }
            store_checkpoint_free(&c);
        } else if (store_fail_kind() == STORE_FAIL_STORE) {
            out->bad_checkpoints++;
            report(fn, arg, "checkpoint", what, 0, ce.msg);
        } else {
            if (e)
                *e = ce;
            goto done;
        }
    }
    ret = 0;
done:
    free(ids);
    free(hashed);
    return ret;
}

int store_verify(store *s, store_verify_fn fn, void *arg, store_verify_counts *out, err_t *e)
{
    memset(out, 0, sizeof *out);
    if (check_integrity(s, fn, arg, out, e) < 0 || check_foreign_keys(s, fn, arg, out, e) < 0 ||
        check_datasets(s, fn, arg, out, e) < 0 || check_checkpoints(s, fn, arg, out, e) < 0)
        return -1;
    return 0;
}
