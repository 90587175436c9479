/* Checkpoints in the store: named float32 tensors (shape as text such as
 * "32,1,5,5", data little-endian) and named blobs (see store.h).  A loaded
 * store_checkpoint owns its tensors' data and its blobs. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

/* The checkpoint's SHA-256 (checkpoints.sha256, migration 5) covers, in
 * order: "drmm-checkpoint-v1" and a NUL; each tensor as 'T', its name and
 * its shape text (each a uint32 LE length + bytes) and its data (uint64 LE
 * length + the float32 LE bytes as stored); then each blob as 'B', its name
 * and its data likewise.  Tensors and blobs in the order written (rowid). */
static void hash_u32(sha256_ctx *c, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    sha256_update(c, b, 4);
}

static void hash_item(sha256_ctx *c, char tag, const char *name, const char *shape, const void *data, size_t n)
{
    sha256_update(c, &tag, 1);
    size_t ln = name ? strlen(name) : 0;
    hash_u32(c, (uint32_t)ln);
    sha256_update(c, name ? name : "", ln);
    if (tag == 'T') {
        size_t ls = shape ? strlen(shape) : 0;
        hash_u32(c, (uint32_t)ls);
        sha256_update(c, shape ? shape : "", ls);
    }
    hash_u32(c, (uint32_t)((uint64_t)n & 0xffffffffu));
    hash_u32(c, (uint32_t)((uint64_t)n >> 32));
    if (n)
        sha256_update(c, data, n);
}

static void hash_start(sha256_ctx *c)
{
    static const char tag[] = "drmm-checkpoint-v1";
    sha256_init(c);
    sha256_update(c, tag, sizeof tag);
}

int store_put_checkpoint(store *s, int64_t run_id, int epoch, long step,
                         const named_tensor *t, int nt, const store_blob *b, int nb,
                         int64_t *ckpt_id, err_t *e)
{
    sqlite3_stmt *st = NULL, *exists = NULL;
    sha256_ctx hc;
    char hex[65];
    void *buf = NULL;
    size_t bufcap = 0;
    int ok = 0;
    for (int i = 0; i < nt; i++)
        if (t[i].ndim < 0 || t[i].ndim > NT_MAX_DIMS || nt_numel(&t[i]) < 0 || (nt_numel(&t[i]) > 0 && !t[i].data))
            return store_fail(STORE_FAIL_RUNTIME, e, "%s: checkpoint tensor '%s' has an invalid shape or no data",
                              s->path, t[i].name);
    if (store_wbegin(s, e) < 0)
        return -1;
    if (store_prepare(s, &exists, "SELECT 1 FROM runs WHERE id = ?", e) < 0)
        goto done;
    sqlite3_bind_int64(exists, 1, run_id);
    int rc = sqlite3_step(exists);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            store_fail(STORE_FAIL_NOTFOUND, e, "%s: no run with id %lld for the checkpoint", s->path, (long long)run_id);
        else
            store_fail_sql(s, rc, "looking up a run", e);
        goto done;
    }
    if (store_prepare(s, &st, "INSERT INTO checkpoints (run_id, epoch, step) VALUES (?, ?, ?)", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int(st, 2, epoch);
    sqlite3_bind_int64(st, 3, step);
    if (store_step_done(s, st, "writing a checkpoint", e) < 0)
        goto done;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    st = NULL;
    hash_start(&hc);
    if (store_prepare(s, &st, "INSERT INTO checkpoint_tensors (checkpoint_id, name, shape, dtype, data) "
                              "VALUES (?, ?, ?, 'f32', ?)", e) < 0)
        goto done;
    for (int i = 0; i < nt; i++) {
        char shape[NT_MAX_DIMS * 12 + 1] = "";
        size_t len = 0;
        for (int d = 0; d < t[i].ndim; d++)
            len += (size_t)snprintf(shape + len, sizeof shape - len, d ? ",%d" : "%d", t[i].shape[d]);
        size_t bytes = (size_t)nt_numel(&t[i]) * 4;
        if (bytes > bufcap) {
            void *p = realloc(buf, bytes);
            if (!p) {
                store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
                goto done;
            }
            buf = p;
            bufcap = bytes;
        }
        store_f32_to_le(buf, t[i].data, (size_t)nt_numel(&t[i]));
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, t[i].name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, shape, -1, SQLITE_TRANSIENT);
        hash_item(&hc, 'T', t[i].name, shape, buf, bytes);
        sqlite3_bind_blob64(st, 4, bytes ? buf : "", bytes, SQLITE_STATIC);
        if (store_step_done(s, st, "writing checkpoint tensors (names must be unique)", e) < 0)
            goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO checkpoint_blobs (checkpoint_id, name, data) VALUES (?, ?, ?)", e) < 0)
        goto done;
    for (int i = 0; i < nb; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, b[i].name, -1, SQLITE_TRANSIENT);
        hash_item(&hc, 'B', b[i].name, NULL, b[i].data, b[i].size);
        sqlite3_bind_blob64(st, 3, b[i].size ? b[i].data : "", b[i].size, SQLITE_STATIC);
        if (store_step_done(s, st, "writing checkpoint blobs (names must be unique)", e) < 0)
            goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    sha256_final_hex(&hc, hex);
    if (store_prepare(s, &st, "UPDATE checkpoints SET sha256 = ? WHERE id = ?", e) < 0)
        goto done;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    if (store_step_done(s, st, "writing the checkpoint's hash", e) < 0)
        goto done;
    if (ckpt_id)
        *ckpt_id = id;
    ok = 1;
done:
    sqlite3_finalize(exists);
    sqlite3_finalize(st);
    free(buf);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* Parses "a,b,c" into t->shape. */
static int parse_shape(const char *text, named_tensor *t)
{
    t->ndim = 0;
    if (!text || !*text)
        return 0;                 /* a scalar */
    const char *p = text;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 1L << 30 || t->ndim == NT_MAX_DIMS)
            return -1;
        t->shape[t->ndim++] = (int)v;
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    return 0;
}

int store_get_checkpoint(store *s, int64_t run_id, int64_t ckpt_id, store_checkpoint *c, err_t *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0, rc, cap = 0;
    sha256_ctx hc;
    char recorded[65], now[65];
    memset(c, 0, sizeof *c);
    if (ckpt_id > 0) {
        if (store_prepare(s, &st, "SELECT id, run_id, epoch, step, sha256 FROM checkpoints WHERE id = ?", e) < 0)
            return -1;
        sqlite3_bind_int64(st, 1, ckpt_id);
    } else {
        if (store_prepare(s, &st, "SELECT id, run_id, epoch, step, sha256 FROM checkpoints WHERE run_id = ? "
                                  "ORDER BY step DESC, id DESC LIMIT 1", e) < 0)
            return -1;
        sqlite3_bind_int64(st, 1, run_id);
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        if (ckpt_id > 0)
            store_fail(STORE_FAIL_NOTFOUND, e, "%s: no checkpoint with id %lld; list them with: sqlite3 %s "
                       "'SELECT * FROM checkpoints'", s->path, (long long)ckpt_id, s->path);
        else
            store_fail(STORE_FAIL_NOTFOUND, e, "%s: run %lld has no checkpoint (unknown run, or it stopped before "
                       "its first checkpoint); start a new run", s->path, (long long)run_id);
        goto done;
    }
    if (rc != SQLITE_ROW) {
        store_fail_sql(s, rc, "reading a checkpoint", e);
        goto done;
    }
    c->id = sqlite3_column_int64(st, 0);
    c->run_id = sqlite3_column_int64(st, 1);
    c->epoch = sqlite3_column_int(st, 2);
    c->step = (long)sqlite3_column_int64(st, 3);
    const char *rec = (const char *)sqlite3_column_text(st, 4);
    snprintf(recorded, sizeof recorded, "%s", rec ? rec : "");
    sqlite3_finalize(st);
    hash_start(&hc);
    st = NULL;
    if (store_prepare(s, &st, "SELECT name, shape, data FROM checkpoint_tensors WHERE checkpoint_id = ? "
                              "ORDER BY rowid", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, c->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (c->n_tensors == cap) {
            cap = cap ? 2 * cap : 32;
            named_tensor *p = realloc(c->tensors, cap * sizeof *p);
            if (!p) {
                store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
                goto done;
            }
            c->tensors = p;
        }
        named_tensor *t = &c->tensors[c->n_tensors];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", (const char *)sqlite3_column_text(st, 0));
        long bytes = sqlite3_column_bytes(st, 2);
        if (parse_shape((const char *)sqlite3_column_text(st, 1), t) < 0 || nt_numel(t) * 4 != bytes) {
            store_fail(STORE_FAIL_STORE, e, "%s: checkpoint %lld tensor '%s': shape '%s' does not match %ld bytes of "
                       "data; the store is inconsistent", s->path, (long long)c->id, t->name,
                       (const char *)sqlite3_column_text(st, 1), bytes);
            goto done;
        }
        t->data = malloc(bytes ? (size_t)bytes : 1);
        if (!t->data) {
            store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
            goto done;
        }
        c->n_tensors++;
        hash_item(&hc, 'T', (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                  sqlite3_column_blob(st, 2), (size_t)bytes);
        store_le_to_f32(t->data, sqlite3_column_blob(st, 2), (size_t)nt_numel(t));
    }
    if (rc != SQLITE_DONE) {
        store_fail_sql(s, rc, "reading checkpoint tensors", e);
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "SELECT name, data FROM checkpoint_blobs WHERE checkpoint_id = ? ORDER BY rowid", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, c->id);
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (c->n_blobs == cap) {
            cap = cap ? 2 * cap : 8;
            store_blob *p = realloc(c->blobs, cap * sizeof *p);
            if (!p) {
                store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
                goto done;
            }
            c->blobs = p;
        }
        store_blob *b = &c->blobs[c->n_blobs];
        memset(b, 0, sizeof *b);
        snprintf(b->name, sizeof b->name, "%s", (const char *)sqlite3_column_text(st, 0));
        b->size = (size_t)sqlite3_column_bytes(st, 1);
        if (!(b->data = malloc(b->size ? b->size : 1))) {
            store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
            goto done;
        }
        if (b->size)
            memcpy(b->data, sqlite3_column_blob(st, 1), b->size);
        c->n_blobs++;
        hash_item(&hc, 'B', (const char *)sqlite3_column_text(st, 0), NULL, b->data, b->size);
    }
    if (rc != SQLITE_DONE) {
        store_fail_sql(s, rc, "reading checkpoint blobs", e);
        goto done;
    }
    sha256_final_hex(&hc, now);
    if (recorded[0] && strcmp(recorded, now) != 0) {
        store_fail(STORE_FAIL_STORE, e, "%s: checkpoint %lld of run %lld (epoch %d, step %ld) does not match its "
                   "recorded SHA-256 (recorded %.12s..., stored content %.12s...): its tensors or state were altered "
                   "or damaged. Check the whole store with bin/verify --store %s; use an earlier checkpoint "
                   "(evaluate --checkpoint ID; sqlite3 %s 'SELECT * FROM checkpoints WHERE run_id = %lld') or "
                   "train the run again", s->path, (long long)c->id, (long long)c->run_id, c->epoch, c->step,
                   recorded, now, s->path, s->path, (long long)c->run_id);
        goto done;
    }
    ok = 1;
done:
    sqlite3_finalize(st);
    if (!ok)
        store_checkpoint_free(c);
    return ok ? 0 : -1;
}

void store_checkpoint_free(store_checkpoint *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_tensors; i++)
        free(c->tensors[i].data);
    free(c->tensors);
    for (int i = 0; i < c->n_blobs; i++)
        free(c->blobs[i].data);
    free(c->blobs);
    memset(c, 0, sizeof *c);
}

const named_tensor *store_checkpoint_tensor(const store_checkpoint *c, const char *name)
{
    for (int i = 0; i < c->n_tensors; i++)
        if (strcmp(c->tensors[i].name, name) == 0)
            return &c->tensors[i];
    return NULL;
}

const store_blob *store_checkpoint_blob(const store_checkpoint *c, const char *name)
{
    for (int i = 0; i < c->n_blobs; i++)
        if (strcmp(c->blobs[i].name, name) == 0)
            return &c->blobs[i];
    return NULL;
}

int store_prune_checkpoints(store *s, int64_t run_id, int keep, err_t *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (keep < 1)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: must keep at least one checkpoint", s->path);
    if (store_wbegin(s, e) < 0)
        return -1;
    if (store_prepare(s, &st, "DELETE FROM checkpoints WHERE run_id = ?1 AND id NOT IN "
                              "(SELECT id FROM checkpoints WHERE run_id = ?1 ORDER BY step DESC, id DESC LIMIT ?2)", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int(st, 2, keep);
    if (store_step_done(s, st, "pruning old checkpoints", e) < 0)
        goto done;
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    return ok ? 0 : -1;
}
