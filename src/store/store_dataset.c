/* Datasets in the store: rows of datasets, dataset_classes, dataset_latents
 * and images (see store.h and schema/001_initial.sql).  Loaded datasets are
 * owned by the caller. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_hash.h"

static int names_json(store_sbuf *b, char **names, int n)
{
    if (store_sbuf_add(b, "[", 1) < 0)
        return -1;
    for (int i = 0; i < n; i++)
        if ((i && store_sbuf_add(b, ",", 1) < 0) || store_sbuf_json_str(b, names[i]) < 0)
            return -1;
    return store_sbuf_add(b, "]", 1);
}

/* Checks what the readers guarantee, so a bad dataset never reaches the store. */
static int check_dataset(store *s, const char *name, const dataset *d, err_t *e)
{
    if (!name || !*name)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: a dataset needs a non-empty name", s->path);
    if (d->n <= 0 || d->channels <= 0 || d->height <= 0 || d->width <= 0 || d->n_classes <= 0 || d->n_latents < 0)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: dataset '%s' has invalid sizes (n=%d, %dx%dx%d, %d classes)",
                          s->path, name, d->n, d->channels, d->height, d->width, d->n_classes);
    for (int i = 0; i < d->n; i++) {
        if (d->labels[i] < 0 || d->labels[i] >= d->n_classes)
            return store_fail(STORE_FAIL_RUNTIME, e, "%s: dataset '%s': image %d has label %d outside [0, %d)",
                              s->path, name, i, d->labels[i], d->n_classes);
        if (d->split[i] != SPLIT_TRAIN && d->split[i] != SPLIT_TEST)
            return store_fail(STORE_FAIL_RUNTIME, e, "%s: dataset '%s': image %d has split %d", s->path, name, i,
                              d->split[i]);
    }
    return 0;
}

int store_find_dataset(store *s, const char *name, int64_t *id, char sha[65], err_t *e)
{
    sqlite3_stmt *st;
    if (store_prepare(s, &st, "SELECT id, sha256 FROM datasets WHERE name = ?", e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        if (id)
            *id = sqlite3_column_int64(st, 0);
        if (sha) {
            const char *h = (const char *)sqlite3_column_text(st, 1);
            snprintf(sha, 65, "%s", h ? h : "");
        }
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        store_fail(STORE_FAIL_NOTFOUND, e, "%s: no dataset named '%s'; ingest it first (bin/ingest --store %s --name %s ...)",
                   s->path, name, s->path, name);
    } else {
        store_fail_sql(s, rc, "looking up a dataset", e);
    }
    sqlite3_finalize(st);
    return ret;
}

static int dataset_intact(store *s, const char *name, err_t *e);

int store_put_dataset(store *s, const char *name, const dataset *d, int force,
                      int *outcome, char sha_out[65], err_t *e)
{
    char sha[65], old[65];
    int64_t id = 0;
    int ok = 0, found;
    sqlite3_stmt *st = NULL;
    store_sbuf cj = {0}, lj = {0};
    uint8_t *lat = NULL;
    if (check_dataset(s, name, d, e) < 0)
        return -1;
    dataset_sha256(d, sha);
    if (sha_out)
        memcpy(sha_out, sha, 65);
    if (names_json(&cj, d->class_names, d->n_classes) < 0 || names_json(&lj, d->latent_names, d->n_latents) < 0) {
        store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
        free(cj.p);
        free(lj.p);
        return -1;
    }
    int n_train = 0;
    for (int i = 0; i < d->n; i++)
        n_train += d->split[i] == SPLIT_TRAIN;
    err_t tmp;
    /* Unchanged content needs no write lock (works on a read-only store). */
    if (!force && !s->in_tx && store_find_dataset(s, name, &id, old, &tmp) == 0 && strcmp(old, sha) == 0) {
        if (outcome)
            *outcome = STORE_PUT_UNCHANGED;
        ok = 1;
        goto done_notx;
    }
    if (store_wbegin(s, e) < 0)
        goto done_notx;
    found = store_find_dataset(s, name, &id, old, &tmp) == 0;
    if (!found && store_fail_kind() != STORE_FAIL_NOTFOUND) {
        if (e)
            *e = tmp;
        goto done;
    }
    if (found && strcmp(old, sha) == 0) {
        /* --force with the same content repairs a damaged copy (and leaves an intact one alone) */
        int intact = force ? dataset_intact(s, name, e) : 1;
        if (intact < 0)
            goto done;
        if (intact) {
            if (outcome)
                *outcome = STORE_PUT_UNCHANGED;
            ok = 1;
            goto done;
        }
    }
    if (found && !force) {
        store_fail(STORE_FAIL_CONFLICT, e, "%s: a dataset named '%s' already exists with different content "
                   "(sha256 %.12s..., new %.12s...); choose another --name, or pass --force to replace it",
                   s->path, name, old, sha);
        goto done;
    }
    static const char *ins =
        "INSERT INTO datasets (name, source, sha256, n_images, channels, height, width, n_classes, class_names, "
        "n_latents, latent_names, n_train, n_test) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
    static const char *upd =
        "UPDATE datasets SET source = ?2, sha256 = ?3, n_images = ?4, channels = ?5, height = ?6, width = ?7, "
        "n_classes = ?8, class_names = ?9, n_latents = ?10, latent_names = ?11, n_train = ?12, n_test = ?13, "
        "created = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE name = ?1";
    if (store_prepare(s, &st, found ? upd : ins, e) < 0)
        goto done;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, d->source ? d->source : "unknown", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, sha, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, d->n);
    sqlite3_bind_int(st, 5, d->channels);
    sqlite3_bind_int(st, 6, d->height);
    sqlite3_bind_int(st, 7, d->width);
    sqlite3_bind_int(st, 8, d->n_classes);
    sqlite3_bind_text(st, 9, cj.p, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 10, d->n_latents);
    sqlite3_bind_text(st, 11, lj.p, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 12, n_train);
    sqlite3_bind_int(st, 13, d->n - n_train);
    if (store_step_done(s, st, "writing the dataset row", e) < 0)
        goto done;
    store_test_crash_point("put_dataset:dataset-row");
    sqlite3_finalize(st);
    st = NULL;
    if (found) {
        static const char *del[3] = {"DELETE FROM images WHERE dataset_id = ?", "DELETE FROM dataset_classes WHERE dataset_id = ?",
                                     "DELETE FROM dataset_latents WHERE dataset_id = ?"};
        for (int k = 0; k < 3; k++) {
            if (store_prepare(s, &st, del[k], e) < 0)
                goto done;
            sqlite3_bind_int64(st, 1, id);
            if (store_step_done(s, st, "removing the replaced dataset's rows", e) < 0)
                goto done;
            sqlite3_finalize(st);
            st = NULL;
        }
    } else {
        id = sqlite3_last_insert_rowid(s->db);
    }
    if (store_prepare(s, &st, "INSERT INTO dataset_classes (dataset_id, label, name) VALUES (?, ?, ?)", e) < 0)
        goto done;
    for (int c = 0; c < d->n_classes; c++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, c);
        sqlite3_bind_text(st, 3, d->class_names[c] ? d->class_names[c] : "", -1, SQLITE_TRANSIENT);
        if (store_step_done(s, st, "writing class names", e) < 0)
            goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO dataset_latents (dataset_id, idx, name) VALUES (?, ?, ?)", e) < 0)
        goto done;
    for (int l = 0; l < d->n_latents; l++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, l);
        sqlite3_bind_text(st, 3, d->latent_names[l] ? d->latent_names[l] : "", -1, SQLITE_TRANSIENT);
        if (store_step_done(s, st, "writing latent names", e) < 0)
            goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO images (dataset_id, idx, split, label, pixels, latents) "
                              "VALUES (?, ?, ?, ?, ?, ?)", e) < 0)
        goto done;
    long isz = dataset_image_size(d);
    if (d->n_latents && !(lat = malloc((size_t)d->n_latents * 4))) {
        store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
        goto done;
    }
    for (int i = 0; i < d->n; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_int(st, 3, d->split[i]);
        sqlite3_bind_int(st, 4, d->labels[i]);
        sqlite3_bind_blob(st, 5, d->pixels + (size_t)i * isz, (int)isz, SQLITE_STATIC);
        if (d->n_latents) {
            store_f32_to_le(lat, d->latents + (size_t)i * d->n_latents, (size_t)d->n_latents);
            sqlite3_bind_blob(st, 6, lat, d->n_latents * 4, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(st, 6);
        }
        if (store_step_done(s, st, "writing images", e) < 0)
            goto done;
        if (i == d->n / 2)
            store_test_crash_point("put_dataset:images-half");
    }
    store_test_crash_point("put_dataset:before-commit");
    if (outcome)
        *outcome = found ? STORE_PUT_REPLACED : STORE_PUT_INSERTED;
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    if (ok)
        store_test_crash_point("put_dataset:after-commit");
done_notx:
    free(cj.p);
    free(lj.p);
    free(lat);
    return ok ? 0 : -1;
}

/* Reads the names of one dataset from table (dataset_classes or
 * dataset_latents) into names[n]; every index 0..n-1 must be present. */
static int read_names(store *s, const char *sql, int64_t id, char **names, int n, const char *what, err_t *e)
{
    sqlite3_stmt *st;
    int rc, got = 0;
    if (store_prepare(s, &st, sql, e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int k = sqlite3_column_int(st, 0);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        if (k < 0 || k >= n || names[k]) {
            sqlite3_finalize(st);
            return store_fail(STORE_FAIL_STORE, e, "%s: %s index %d is invalid or repeated; the store is inconsistent",
                              s->path, what, k);
        }
        if (!(names[k] = strdup(t ? t : ""))) {
            sqlite3_finalize(st);
            return store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
        }
        got++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_fail_sql(s, rc, "reading names", e);
    if (got != n)
        return store_fail(STORE_FAIL_STORE, e, "%s: %d %s names stored, expected %d; the store is inconsistent",
                          s->path, got, what, n);
    return 0;
}

/* Loads dataset name into *out without checking its hash; the recorded
 * hash goes to recorded. */
static int load_dataset(store *s, const char *name, dataset *out, char recorded[65], err_t *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0, rc;
    int64_t id;
    memset(out, 0, sizeof *out);
    if (store_prepare(s, &st, "SELECT id, source, n_images, channels, height, width, n_classes, n_latents, sha256 "
                              "FROM datasets WHERE name = ?", e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        store_fail(STORE_FAIL_NOTFOUND, e, "%s: no dataset named '%s'; list them with: sqlite3 %s 'SELECT * FROM "
                   "datasets_summary'", s->path, name, s->path);
        goto done;
    }
    if (rc != SQLITE_ROW) {
        store_fail_sql(s, rc, "reading a dataset", e);
        goto done;
    }
    id = sqlite3_column_int64(st, 0);
    const char *src = (const char *)sqlite3_column_text(st, 1);
    const char *rec = (const char *)sqlite3_column_text(st, 8);
    snprintf(recorded, 65, "%s", rec ? rec : "");
    err_t ae;
    if (dataset_alloc(out, sqlite3_column_int(st, 2), sqlite3_column_int(st, 3), sqlite3_column_int(st, 4),
                      sqlite3_column_int(st, 5), sqlite3_column_int(st, 6), sqlite3_column_int(st, 7), &ae) < 0) {
        store_fail(STORE_FAIL_RUNTIME, e, "%s: dataset '%s': %s", s->path, name, ae.msg);
        goto done;
    }
    if (!(out->source = strdup(src ? src : ""))) {
        store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (read_names(s, "SELECT label, name FROM dataset_classes WHERE dataset_id = ?", id, out->class_names,
                   out->n_classes, "class", e) < 0 ||
        read_names(s, "SELECT idx, name FROM dataset_latents WHERE dataset_id = ?", id, out->latent_names,
                   out->n_latents, "latent", e) < 0)
        goto done;
    if (store_prepare(s, &st, "SELECT idx, split, label, pixels, latents FROM images WHERE dataset_id = ? "
                              "ORDER BY idx", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, id);
    long isz = dataset_image_size(out);
    int i = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (i >= out->n || sqlite3_column_int(st, 0) != i || sqlite3_column_bytes(st, 3) != isz ||
            sqlite3_column_bytes(st, 4) != out->n_latents * 4) {
            store_fail(STORE_FAIL_STORE, e, "%s: dataset '%s': image row %d is missing or has the wrong size; "
                       "re-ingest the dataset with --force", s->path, name, i);
            goto done;
        }
        out->split[i] = (uint8_t)sqlite3_column_int(st, 1);
        out->labels[i] = sqlite3_column_int(st, 2);
        memcpy(out->pixels + (size_t)i * isz, sqlite3_column_blob(st, 3), (size_t)isz);
        if (out->n_latents)
            store_le_to_f32(out->latents + (size_t)i * out->n_latents, sqlite3_column_blob(st, 4),
                            (size_t)out->n_latents);
        i++;
    }
    if (rc != SQLITE_DONE) {
        store_fail_sql(s, rc, "reading images", e);
        goto done;
    }
    if (i != out->n) {
        store_fail(STORE_FAIL_STORE, e, "%s: dataset '%s' has %d image rows, expected %d; re-ingest it with --force",
                   s->path, name, i, out->n);
        goto done;
    }
    ok = 1;
done:
    sqlite3_finalize(st);
    if (!ok)
        dataset_free(out);
    return ok ? 0 : -1;
}

int store_get_dataset(store *s, const char *name, dataset *out, err_t *e)
{
    char recorded[65], now[65];
    if (load_dataset(s, name, out, recorded, e) < 0)
        return -1;
    dataset_sha256(out, now);
    if (strcmp(recorded, now) != 0) {
        store_fail(STORE_FAIL_STORE, e, "%s: dataset '%s' does not match its recorded SHA-256 (recorded %.12s..., "
                   "stored content %.12s...): its images, labels or names were altered or damaged after ingest. "
                   "Check the whole store with bin/verify --store %s; restore the dataset with bin/ingest --store %s "
                   "--name %s --force and its source (%s)", s->path, name, recorded, now, s->path, s->path, name,
                   out->source ? out->source : "unknown");
        dataset_free(out);
        return -1;
    }
    return 0;
}

/* 1 if the stored content of dataset name hashes to its recorded SHA-256,
 * 0 if not, -1 on failure to read it. */
static int dataset_intact(store *s, const char *name, err_t *e)
{
    dataset d;
    char recorded[65], now[65];
    if (load_dataset(s, name, &d, recorded, e) < 0)
        return store_fail_kind() == STORE_FAIL_STORE ? 0 : -1;   /* missing or mis-sized rows: damaged */
    dataset_sha256(&d, now);
    dataset_free(&d);
    return strcmp(recorded, now) == 0;
}
