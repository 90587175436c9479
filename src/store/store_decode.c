/* Decoded activations and decoding results (see store_decode.h). */
#include "store_decode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"
#include "store_internal.h"

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

#define LAYER_COLUMNS "id, run_id, checkpoint_id, layer, layer_index, channels, height, width, dims, " \
                      "projection, split, n_samples, bn"

static void read_layer(sqlite3_stmt *st, store_decode_layer *l)
{
    memset(l, 0, sizeof *l);
    l->id = sqlite3_column_int64(st, 0);
    l->run_id = sqlite3_column_int64(st, 1);
    l->checkpoint_id = sqlite3_column_int64(st, 2);
    copy_text(l->layer, sizeof l->layer, sqlite3_column_text(st, 3));
    l->layer_index = sqlite3_column_int(st, 4);
    l->channels = sqlite3_column_int(st, 5);
    l->height = sqlite3_column_int(st, 6);
    l->width = sqlite3_column_int(st, 7);
    l->dims = sqlite3_column_int(st, 8);
    copy_text(l->projection, sizeof l->projection, sqlite3_column_text(st, 9));
    l->split = sqlite3_column_int(st, 10);
    l->n_samples = sqlite3_column_int(st, 11);
    copy_text(l->bn, sizeof l->bn, sqlite3_column_text(st, 12));
}

int store_find_decode_layer(store *s, int64_t ckpt_id, const char *layer, store_decode_layer *out, err_t *e)
{
    sqlite3_stmt *st = NULL;
    if (store_prepare(s, &st, "SELECT " LAYER_COLUMNS " FROM decode_layers WHERE checkpoint_id = ? AND layer = ?", e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, ckpt_id);
    sqlite3_bind_text(st, 2, layer, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        if (out)
            read_layer(st, out);
        ret = 1;
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        ret = store_fail_sql(s, rc, "looking up a decoded layer", e);
    }
    sqlite3_finalize(st);
    return ret;
}

int store_put_decode_layer(store *s, store_decode_layer *l, const int *sample_idx, const float *lo,
                           const float *step, const uint8_t *data, err_t *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (l->dims < 1 || l->n_samples < 1)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: a decoded layer needs samples and dimensions", s->path);
    if (store_wbegin(s, e) < 0)
        return -1;
    int found = store_find_decode_layer(s, l->checkpoint_id, l->layer, NULL, e);
    if (found < 0)
        goto done;
    if (found) {
        store_fail(STORE_FAIL_CONFLICT, e, "%s: checkpoint %lld already has decoded layer %s", s->path,
                   (long long)l->checkpoint_id, l->layer);
        goto done;
    }
    if (store_prepare(s, &st, "INSERT INTO decode_layers (run_id, checkpoint_id, layer, layer_index, channels, "
                              "height, width, dims, projection, split, n_samples, bn) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, l->run_id);
    sqlite3_bind_int64(st, 2, l->checkpoint_id);
    sqlite3_bind_text(st, 3, l->layer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, l->layer_index);
    sqlite3_bind_int(st, 5, l->channels);
    sqlite3_bind_int(st, 6, l->height);
    sqlite3_bind_int(st, 7, l->width);
    sqlite3_bind_int(st, 8, l->dims);
    sqlite3_bind_text(st, 9, l->projection, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 10, l->split);
    sqlite3_bind_int(st, 11, l->n_samples);
    sqlite3_bind_text(st, 12, l->bn, -1, SQLITE_TRANSIENT);
    if (store_step_done(s, st, "writing a decoded layer", e) < 0)
        goto done;
    l->id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO activations (layer_id, sample_idx, lo, step, data) VALUES (?, ?, ?, ?, ?)", e) < 0)
        goto done;
    for (int i = 0; i < l->n_samples; i++) {
        sqlite3_bind_int64(st, 1, l->id);
        sqlite3_bind_int(st, 2, sample_idx[i]);
        sqlite3_bind_double(st, 3, lo[i]);
        sqlite3_bind_double(st, 4, step[i]);
        sqlite3_bind_blob64(st, 5, data + (size_t)i * l->dims, (sqlite3_uint64)l->dims, SQLITE_STATIC);
        if (store_step_done(s, st, "writing activations (sample indices must be unique)", e) < 0)
            goto done;
    }
    ok = 1;
done:
    sqlite3_finalize(st);
    return store_wend(s, ok, e);
}

int store_list_decode_layers(store *s, int64_t run_id, int64_t ckpt_id, store_decode_layer **out, int *n, err_t *e)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    const char *sql = ckpt_id
        ? "SELECT " LAYER_COLUMNS " FROM decode_layers WHERE run_id = ?1 AND checkpoint_id = ?2 ORDER BY layer_index"
        : "SELECT " LAYER_COLUMNS " FROM decode_layers WHERE run_id = ?1 AND checkpoint_id = "
          "(SELECT l.checkpoint_id FROM decode_layers l JOIN checkpoints c ON c.id = l.checkpoint_id "
          " WHERE l.run_id = ?1 ORDER BY c.step DESC, c.id DESC LIMIT 1) ORDER BY layer_index";
    if (store_prepare(s, &st, sql, e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if (ckpt_id)
        sqlite3_bind_int64(st, 2, ckpt_id);
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            store_decode_layer *p = realloc(*out, sizeof **out * cap);
            if (!p) {
                sqlite3_finalize(st);
                free(*out);
                *out = NULL;
                *n = 0;
                return store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
            }
            *out = p;
        }
        read_layer(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return store_fail_sql(s, rc, "listing decoded layers", e);
    }
    return 0;
}

int store_get_activations(store *s, const store_decode_layer *l, float **X, int **idx, err_t *e)
{
    sqlite3_stmt *st = NULL;
    *X = malloc(sizeof(float) * (size_t)l->n_samples * l->dims);
    *idx = malloc(sizeof(int) * (size_t)l->n_samples);
    int i = 0, rc;
    if (!*X || !*idx) {
        store_fail(STORE_FAIL_RUNTIME, e, "out of memory for %d x %d activations", l->n_samples, l->dims);
        goto fail;
    }
    if (store_prepare(s, &st, "SELECT sample_idx, lo, step, data FROM activations WHERE layer_id = ? ORDER BY sample_idx", e) < 0)
        goto fail;
    sqlite3_bind_int64(st, 1, l->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *q = sqlite3_column_blob(st, 3);
        if (i >= l->n_samples || sqlite3_column_bytes(st, 3) != l->dims || !q) {
            store_fail(STORE_FAIL_STORE, e, "%s: decoded layer %lld (%s) has inconsistent activation rows", s->path,
                       (long long)l->id, l->layer);
            goto fail;
        }
        (*idx)[i] = sqlite3_column_int(st, 0);
        float lo = (float)sqlite3_column_double(st, 1), step = (float)sqlite3_column_double(st, 2);
        quant_decode(q, l->dims, lo, step, *X + (size_t)i * l->dims);
        i++;
    }
    if (rc != SQLITE_DONE) {
        store_fail_sql(s, rc, "reading activations", e);
        goto fail;
    }
    if (i != l->n_samples) {
        store_fail(STORE_FAIL_STORE, e, "%s: decoded layer %lld (%s) has %d of its %d samples", s->path,
                   (long long)l->id, l->layer, i, l->n_samples);
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    free(*X); free(*idx);
    *X = NULL; *idx = NULL;
    return -1;
}

int store_dataset_latent_names(store *s, const char *dataset, char ***names, int *n, err_t *e)
{
    sqlite3_stmt *st = NULL;
    *names = NULL;
    *n = 0;
    if (store_prepare(s, &st, "SELECT l.name FROM dataset_latents l JOIN datasets d ON d.id = l.dataset_id "
                              "WHERE d.name = ? ORDER BY l.idx", e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_TRANSIENT);
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            char **p = realloc(*names, sizeof(char *) * cap);
            if (!p)
                goto oom;
            *names = p;
        }
        char *name = strdup((const char *)sqlite3_column_text(st, 0));
        if (!name)
            goto oom;
        (*names)[(*n)++] = name;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_fail_sql(s, rc, "reading latent names", e);
        goto fail;
    }
    return 0;
oom:
    sqlite3_finalize(st);
    store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
fail:
    for (int i = 0; i < *n; i++)
        free((*names)[i]);
    free(*names);
    *names = NULL;
    *n = 0;
    return -1;
}

int store_get_sample_latents(store *s, int64_t run_id, const char *latent, int n, const int *idx, float *out, err_t *e)
{
    sqlite3_stmt *st = NULL;
    int rc, ret = -1;
    int64_t dataset_id = 0;
    int n_latents = 0, li = -1;
    char dname[256] = "";
    if (store_prepare(s, &st, "SELECT d.id, d.name, d.n_latents FROM runs r JOIN datasets d ON d.id = r.dataset_id "
                              "WHERE r.id = ?", e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return store_fail(STORE_FAIL_NOTFOUND, e, "%s: no run with id %lld", s->path, (long long)run_id);
        return store_fail_sql(s, rc, "looking up a run's dataset", e);
    }
    dataset_id = sqlite3_column_int64(st, 0);
    copy_text(dname, sizeof dname, sqlite3_column_text(st, 1));
    n_latents = sqlite3_column_int(st, 2);
    sqlite3_finalize(st);
    st = NULL;
    if (n_latents == 0)
        return store_fail(STORE_FAIL_NOTFOUND, e, "dataset %s has no latents: nuisance decoding needs a dataset "
                          "rendered with its latents (e.g. ingest --synthetic)", dname);
    char **names;
    int nn;
    if (store_dataset_latent_names(s, dname, &names, &nn, e))
        return -1;
    char list[1024] = "";
    size_t len = 0;
    for (int i = 0; i < nn; i++) {
        if (!strcmp(names[i], latent))
            li = i;
        if (len < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, i ? ", %s" : "%s", names[i]);
        free(names[i]);
    }
    free(names);
    if (li < 0)
        return store_fail(STORE_FAIL_NOTFOUND, e, "dataset %s has no latent '%s' (it has: %s)", dname, latent, list);
    if (store_prepare(s, &st, "SELECT latents FROM images WHERE dataset_id = ? AND idx = ?", e) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, dataset_id);
        sqlite3_bind_int(st, 2, idx[i]);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            if (rc == SQLITE_DONE)
                store_fail(STORE_FAIL_NOTFOUND, e, "dataset %s has no image %d", dname, idx[i]);
            else
                store_fail_sql(s, rc, "reading latents", e);
            goto done;
        }
        const void *b = sqlite3_column_blob(st, 0);
        if (!b || sqlite3_column_bytes(st, 0) != 4 * n_latents) {
            store_fail(STORE_FAIL_NOTFOUND, e, "dataset %s: image %d has no latents", dname, idx[i]);
            goto done;
        }
        store_le_to_f32(&out[i], (const char *)b + 4 * li, 1);
        sqlite3_reset(st);
    }
    ret = 0;
done:
    sqlite3_finalize(st);
    return ret;
}

int store_put_decoding_result(store *s, const store_decoding_result *r, err_t *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (store_wbegin(s, e) < 0)
        return -1;
    if (store_prepare(s, &st, "INSERT OR REPLACE INTO decoding_results (layer_id, latent, circular, components, bins, "
                              "bins_used, folds, l2, samples, error, chance, explained, seconds) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, r->layer_id);
    sqlite3_bind_text(st, 2, r->latent, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, r->circular);
    sqlite3_bind_int(st, 4, r->components);
    sqlite3_bind_int(st, 5, r->bins);
    sqlite3_bind_int(st, 6, r->bins_used);
    sqlite3_bind_int(st, 7, r->folds);
    sqlite3_bind_double(st, 8, r->l2);
    sqlite3_bind_int(st, 9, r->samples);
    sqlite3_bind_double(st, 10, r->error);
    sqlite3_bind_double(st, 11, r->chance);
    if (isnan(r->explained))
        sqlite3_bind_null(st, 12);
    else
        sqlite3_bind_double(st, 12, r->explained);
    sqlite3_bind_double(st, 13, r->seconds);
    if (store_step_done(s, st, "writing a decoding result", e) < 0)
        goto done;
    ok = 1;
done:
    sqlite3_finalize(st);
    return store_wend(s, ok, e);
}

int store_get_decoding_result(store *s, int64_t layer_id, const char *latent, int components, int bins, int folds,
                              double *error, double *chance, err_t *e)
{
    sqlite3_stmt *st = NULL;
    if (store_prepare(s, &st, "SELECT error, chance FROM decoding_results WHERE layer_id = ? AND latent = ? "
                              "AND components = ? AND bins = ? AND folds = ?", e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, layer_id);
    sqlite3_bind_text(st, 2, latent, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, components);
    sqlite3_bind_int(st, 4, bins);
    sqlite3_bind_int(st, 5, folds);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        *error = sqlite3_column_double(st, 0);
        *chance = sqlite3_column_double(st, 1);
        ret = 1;
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        ret = store_fail_sql(s, rc, "reading a decoding result", e);
    }
    sqlite3_finalize(st);
    return ret;
}

int store_list_decoded_runs(store *s, const char *dataset, int64_t **ids, int *n, err_t *e)
{
    *ids = NULL;
    *n = 0;
    int64_t did;
    if (store_find_dataset(s, dataset, &did, NULL, e))
        return -1;
    sqlite3_stmt *st = NULL;
    if (store_prepare(s, &st, "SELECT r.id FROM runs r WHERE r.dataset_id = ? AND r.status = 'FINISHED' "
                              "AND EXISTS (SELECT 1 FROM decode_layers l WHERE l.run_id = r.id) ORDER BY r.id", e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, did);
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *p = realloc(*ids, sizeof(int64_t) * cap);
            if (!p) {
                sqlite3_finalize(st);
                free(*ids);
                *ids = NULL;
                *n = 0;
                return store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
            }
            *ids = p;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return store_fail_sql(s, rc, "listing decoded runs", e);
    }
    return 0;
}
