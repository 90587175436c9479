/* Merging stores (see store.h): copies the datasets and runs of one store
 * (a shard) into another, renumbering the integer ids.
 *
 * Every table of the schema is either copied or named here as left out
 * (run_leases); a table this file does not know stops the merge, so a
 * migration that adds a table must say here how it is merged.  The tables
 * form two trees: a dataset with its classes, latents and images; a run
 * with its configuration, labelled subset, tags and notes, metrics, checkpoints (tensors,
 * blobs), evaluations (predictions), decoded layers (activations, decoding
 * results), E-DRMM trees (nodes).  One description per table (tables[]) says which column ties it
 * to its parent, which integer id it renumbers and which other id it
 * refers to; the same walk over that description copies a run or computes
 * its digest: SHA-256 of every row of the run's tree in rowid order without
 * the local integer ids, so the same run in two stores has one digest. */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

/* The id kinds renumbered by a merge. */
enum { M_NONE = -1, M_DATASET, M_RUN, M_CKPT, M_EVAL, M_LAYER, M_EDRMM, M_KINDS };

typedef struct table_desc {
    const char *name;
    const char *key;      /* column holding the parent's id */
    int key_kind;         /* the parent's kind */
    const char *own;      /* the table's INTEGER PRIMARY KEY, renumbered; NULL: none */
    int own_kind;         /* kind of the rows' own ids (M_NONE: not referred to) */
    const char *ref;      /* another id the rows refer to, or NULL */
    int ref_kind;
} table_desc;

/* Parents before children; a table's rows are copied in rowid order. */
static const table_desc tables[] = {
    {"datasets", "id", M_DATASET, "id", M_DATASET, NULL, M_NONE},
    {"dataset_classes", "dataset_id", M_DATASET, NULL, M_NONE, NULL, M_NONE},
    {"dataset_latents", "dataset_id", M_DATASET, NULL, M_NONE, NULL, M_NONE},
    {"images", "dataset_id", M_DATASET, NULL, M_NONE, NULL, M_NONE},
    {"runs", "id", M_RUN, "id", M_RUN, "dataset_id", M_DATASET},
    {"run_config", "run_id", M_RUN, NULL, M_NONE, NULL, M_NONE},
    {"run_labelled", "run_id", M_RUN, NULL, M_NONE, NULL, M_NONE},
    {"run_tags", "run_id", M_RUN, NULL, M_NONE, NULL, M_NONE},
    {"run_notes", "run_id", M_RUN, "id", M_NONE, NULL, M_NONE},
    {"metrics", "run_id", M_RUN, "id", M_NONE, NULL, M_NONE},
    {"metrics_latest", "run_id", M_RUN, NULL, M_NONE, NULL, M_NONE},
    {"checkpoints", "run_id", M_RUN, "id", M_CKPT, NULL, M_NONE},
    {"checkpoint_tensors", "checkpoint_id", M_CKPT, NULL, M_NONE, NULL, M_NONE},
    {"checkpoint_blobs", "checkpoint_id", M_CKPT, NULL, M_NONE, NULL, M_NONE},
    {"evaluations", "run_id", M_RUN, "id", M_EVAL, "checkpoint_id", M_CKPT},
    {"predictions", "evaluation_id", M_EVAL, NULL, M_NONE, NULL, M_NONE},
    {"decode_layers", "run_id", M_RUN, "id", M_LAYER, "checkpoint_id", M_CKPT},
    {"activations", "layer_id", M_LAYER, NULL, M_NONE, NULL, M_NONE},
    {"decoding_results", "layer_id", M_LAYER, "id", M_NONE, NULL, M_NONE},
    {"edrmm_trees", "run_id", M_RUN, "id", M_EDRMM, "checkpoint_id", M_CKPT},
    {"edrmm_nodes", "tree_id", M_EDRMM, NULL, M_NONE, NULL, M_NONE},
};
#define N_TABLES ((int)(sizeof tables / sizeof tables[0]))

/* Tables deliberately not merged: a lease belongs to a process training a
 * run in the shard's own store; fits of the shallow mixture model (bin/rmm)
 * belong to no run, take seconds to minutes, and are redone in the merged
 * store rather than copied. */
static const char *const left_out[] = {"run_leases", "rmm_fits", "rmm_loglik"};

/* old id -> new id, per kind, for the run (or dataset) being copied. */
typedef struct idmap {
    int64_t *old, *new;
    int n, cap;
} idmap;

typedef struct walk {
    store *dst;                 /* target (copy) */
    store *src;                 /* the store read */
    int hashing;                /* 1: digest into h instead of copying */
    sha256_ctx h;
    idmap map[M_KINDS];
    sqlite3_stmt *ins[N_TABLES];   /* INSERT statements of the target, prepared on first use */
    err_t *e;
} walk;

static int map_put(idmap *m, int64_t old, int64_t new)
{
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 64;
        int64_t *o = realloc(m->old, cap * sizeof *o);
        if (!o)
            return -1;
        m->old = o;
        int64_t *n = realloc(m->new, cap * sizeof *n);
        if (!n)
            return -1;
        m->new = n;
        m->cap = cap;
    }
    m->old[m->n] = old;
    m->new[m->n++] = new;
    return 0;
}

static int map_get(const idmap *m, int64_t old, int64_t *new)
{
    for (int i = m->n - 1; i >= 0; i--)
        if (m->old[i] == old) {
            *new = m->new[i];
            return 0;
        }
    return -1;
}

/* The INSERT of table t with the columns of the shard's row statement r
 * (all but t's own id). */
static int insert_stmt(walk *w, int t, sqlite3_stmt *r)
{
    if (w->ins[t])
        return 0;
    store_sbuf b = {0};
    const table_desc *d = &tables[t];
    int bad = store_sbuf_printf(&b, "INSERT INTO main.%s (", d->name) < 0, first = 1;
    for (int i = 0; i < sqlite3_column_count(r); i++) {
        const char *c = sqlite3_column_name(r, i);
        if (d->own && !strcmp(c, d->own))
            continue;
        bad |= store_sbuf_printf(&b, "%s\"%s\"", first ? "" : ", ", c) < 0;
        first = 0;
    }
    bad |= store_sbuf_add(&b, ") VALUES (", 10) < 0;
    for (int i = 0, k = 0; i < sqlite3_column_count(r); i++)
        if (!(d->own && !strcmp(sqlite3_column_name(r, i), d->own)))
            bad |= store_sbuf_printf(&b, "%s?", k++ ? ", " : "") < 0;
    bad |= store_sbuf_add(&b, ")", 2) < 0;
    if (bad) {
        free(b.p);
        return store_fail(STORE_FAIL_RUNTIME, w->e, "out of memory");
    }
    int rc = store_prepare(w->dst, &w->ins[t], b.p, w->e);
    free(b.p);
    return rc;
}

/* Maps the id v of kind k (NULL stays NULL); fails naming the row when the
 * id is not among those copied. */
static int remap(walk *w, int k, sqlite3_value *v, const char *table, const char *col, int64_t *out, int *is_null)
{
    *is_null = sqlite3_value_type(v) == SQLITE_NULL;
    if (*is_null)
        return 0;
    int64_t old = sqlite3_value_int64(v);
    if (map_get(&w->map[k], old, out) == 0)
        return 0;
    return store_fail(STORE_FAIL_STORE, w->e, "%s: %s.%s refers to id %" PRId64 ", which is not part of the same "
                      "run or dataset; check the store with verify", w->src->path, table, col, old);
}

static int walk_rows(walk *w, int t, int64_t parent);

/* Copies (or hashes) one row of table t, then its children. */
static int walk_row(walk *w, int t, sqlite3_stmt *r)
{
    const table_desc *d = &tables[t];
    int n = sqlite3_column_count(r);
    int64_t own_old = 0, own_new = 0;
    if (w->hashing) {
        sha256_update(&w->h, d->name, strlen(d->name) + 1);
        for (int i = 0; i < n; i++) {
            const char *c = sqlite3_column_name(r, i);
            if ((d->own && !strcmp(c, d->own)) || !strcmp(c, d->key) || (d->ref && !strcmp(c, d->ref)))
                continue;
            int ty = sqlite3_column_type(r, i);
            const void *p = ty == SQLITE_TEXT ? (const void *)sqlite3_column_text(r, i) : sqlite3_column_blob(r, i);
            int nb = sqlite3_column_bytes(r, i);
            sha256_update(&w->h, c, strlen(c) + 1);
            sha256_update(&w->h, &ty, sizeof ty);
            sha256_update(&w->h, &nb, sizeof nb);
            if (p && nb)
                sha256_update(&w->h, p, (size_t)nb);
        }
    } else {
        if (insert_stmt(w, t, r) < 0)
            return -1;
        sqlite3_stmt *ins = w->ins[t];
        for (int i = 0, k = 1; i < n; i++) {
            const char *c = sqlite3_column_name(r, i);
            if (d->own && !strcmp(c, d->own))
                continue;
            int kind = !strcmp(c, d->key) && !(d->own && !strcmp(d->own, d->key)) ? d->key_kind
                       : d->ref && !strcmp(c, d->ref)          ? d->ref_kind
                                                               : M_NONE;
            if (kind == M_NONE) {
                sqlite3_bind_value(ins, k++, sqlite3_column_value(r, i));
                continue;
            }
            int64_t id = 0;
            int is_null;
            if (remap(w, kind, sqlite3_column_value(r, i), d->name, c, &id, &is_null) < 0)
                return -1;
            if (is_null)
                sqlite3_bind_null(ins, k++);
            else
                sqlite3_bind_int64(ins, k++, id);
        }
        char what[96];
        snprintf(what, sizeof what, "copying a row of %s", d->name);
        if (store_step_done(w->dst, ins, what, w->e) < 0)
            return -1;
        own_new = sqlite3_last_insert_rowid(w->dst->db);
    }
    if (!d->own || d->own_kind == M_NONE)
        return 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(sqlite3_column_name(r, i), d->own))
            own_old = sqlite3_column_int64(r, i);
    if (!w->hashing && map_put(&w->map[d->own_kind], own_old, own_new) < 0)
        return store_fail(STORE_FAIL_RUNTIME, w->e, "out of memory");
    for (int c = t + 1; c < N_TABLES; c++)
        if (tables[c].key_kind == d->own_kind && tables[c].own_kind != d->own_kind && walk_rows(w, c, own_old) < 0)
            return -1;
    return 0;
}

/* The rows of table t whose key column is parent, in rowid order. */
static int walk_rows(walk *w, int t, int64_t parent)
{
    const table_desc *d = &tables[t];
    char sql[160];
    sqlite3_stmt *r;
    snprintf(sql, sizeof sql, "SELECT * FROM main.%s WHERE \"%s\" = ? ORDER BY rowid", d->name, d->key);
    if (store_prepare(w->src, &r, sql, w->e) < 0)
        return -1;
    sqlite3_bind_int64(r, 1, parent);
    int rc;
    while ((rc = sqlite3_step(r)) == SQLITE_ROW)
        if (walk_row(w, t, r) < 0) {
            sqlite3_finalize(r);
            return -1;
        }
    sqlite3_finalize(r);
    if (rc != SQLITE_DONE) {
        char what[96];
        snprintf(what, sizeof what, "reading %s", d->name);
        return store_fail_sql(w->src, rc, what, w->e);
    }
    return 0;
}

static int table_index(const char *name)
{
    for (int t = 0; t < N_TABLES; t++)
        if (!strcmp(tables[t].name, name))
            return t;
    return -1;
}

/* Digest of the run run_id of s (its whole tree, without integer ids). */
static int run_digest(store *s, int64_t run_id, char hex[65], err_t *e)
{
    walk w = {.src = s, .hashing = 1, .e = e};
    sha256_init(&w.h);
    int rc = walk_rows(&w, table_index("runs"), run_id);
    if (rc == 0)
        sha256_final_hex(&w.h, hex);
    return rc;
}

/* Every table of the shard must be one this file merges or leaves out. */
static int check_tables(store *shard, err_t *e)
{
    sqlite3_stmt *st;
    if (store_prepare(shard, &st, "SELECT name FROM main.sqlite_schema WHERE type = 'table' "
                      "AND name NOT LIKE 'sqlite_%' ORDER BY name", e) < 0)
        return -1;
    int rc, bad = 0;
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int known = table_index(name) >= 0;
        for (size_t i = 0; i < sizeof left_out / sizeof left_out[0]; i++)
            known |= !strcmp(name, left_out[i]);
        if (!known) {
            store_fail(STORE_FAIL_RUNTIME, e, "%s: table %s is not known to the merge (src/store/store_merge.c must "
                       "say how to merge every table of the schema)", shard->path, name);
            bad = 1;
        }
    }
    sqlite3_finalize(st);
    if (bad)
        return -1;
    return rc == SQLITE_DONE ? 0 : store_fail_sql(shard, rc, "listing the tables", e);
}

/* Runs a query on s with one int64 or text parameter (NULL: none) that
 * returns one int64 (or none: *found 0). */
static int query_id(store *s, const char *sql, const char *text, int64_t *out, int *found, err_t *e)
{
    sqlite3_stmt *st;
    if (store_prepare(s, &st, sql, e) < 0)
        return -1;
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail_sql(s, rc, "looking up the target", e);
}

/* The shard's datasets: the target's dataset with the same content (SHA-256;
 * the same name first), or a copy; a name taken by other content conflicts. */
static int merge_datasets(walk *w, store_merge_counts *n)
{
    sqlite3_stmt *st;
    if (store_prepare(w->src, &st, "SELECT id, name, sha256 FROM main.datasets ORDER BY id", w->e) < 0)
        return -1;
    int rc, ret = -1;
    int t = table_index("datasets");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), to;
        const char *name = (const char *)sqlite3_column_text(st, 1), *sha = (const char *)sqlite3_column_text(st, 2);
        int found;
        sqlite3_stmt *q;
        if (store_prepare(w->dst, &q, "SELECT id FROM main.datasets WHERE sha256 = ?1 ORDER BY name = ?2 DESC, id "
                          "LIMIT 1", w->e) < 0)
            goto done;
        sqlite3_bind_text(q, 1, sha, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        found = rc == SQLITE_ROW;
        if (found)
            to = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            store_fail_sql(w->dst, rc, "looking up a dataset", w->e);
            goto done;
        }
        if (found) {
            if (map_put(&w->map[M_DATASET], id, to) < 0) {
                store_fail(STORE_FAIL_RUNTIME, w->e, "out of memory");
                goto done;
            }
            n->datasets_present++;
            continue;
        }
        if (query_id(w->dst, "SELECT id FROM main.datasets WHERE name = ?", name, &to, &found, w->e) < 0)
            goto done;
        if (found) {
            store_fail(STORE_FAIL_CONFLICT, w->e, "%s: dataset '%s' has other content (SHA-256 %.12s...) than the "
                       "dataset of that name in %s; merge only stores made from the same data, or rename one of them",
                       w->src->path, name, sha, w->dst->path);
            goto done;
        }
        if (walk_rows(w, t, id) < 0)
            goto done;
        n->datasets_copied++;
    }
    if (rc != SQLITE_DONE) {
        store_fail_sql(w->src, rc, "listing the datasets", w->e);
        goto done;
    }
    ret = 0;
done:
    sqlite3_finalize(st);
    return ret;
}

/* A short account of a run for a conflict message. */
static void run_account(store *s, int64_t id, char *buf, size_t n)
{
    sqlite3_stmt *st;
    snprintf(buf, n, "?");
    if (sqlite3_prepare_v2(s->db, "SELECT status, (SELECT COUNT(*) FROM metrics WHERE run_id = ?1), "
                           "(SELECT COUNT(*) FROM checkpoints WHERE run_id = ?1), "
                           "(SELECT COUNT(*) FROM evaluations WHERE run_id = ?1), "
                           "(SELECT COUNT(*) FROM decode_layers WHERE run_id = ?1) FROM runs WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, n, "run %" PRId64 ", %s, %d metrics, %d checkpoints, %d evaluations, %d decoded layers", id,
                 (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 2),
                 sqlite3_column_int(st, 3), sqlite3_column_int(st, 4));
    sqlite3_finalize(st);
}

/* One shard run: present (same digest), conflicting, or copied. */
static int merge_run(walk *w, int64_t id, const char *uuid, const char *name, store_merge_fn fn, void *arg,
                     store_merge_counts *n)
{
    int64_t to;
    int found;
    if (query_id(w->dst, "SELECT id FROM main.runs WHERE uuid = ?", uuid, &to, &found, w->e) < 0)
        return -1;
    if (found) {
        char a[65], b[65];
        if (run_digest(w->src, id, a, w->e) < 0 || run_digest(w->dst, to, b, w->e) < 0)
            return -1;
        if (strcmp(a, b) != 0) {
            char sa[200], sb[200];
            run_account(w->src, id, sa, sizeof sa);
            run_account(w->dst, to, sb, sizeof sb);
            return store_fail(STORE_FAIL_CONFLICT, w->e, "%s: run %s ('%s') is already in %s with other content "
                              "(shard: %s; target: %s); a run changed after it was merged (e.g. it was still training "
                              "or was evaluated again) cannot be merged again: merge into a fresh store, or delete "
                              "the run from one of them", w->src->path, uuid, name, w->dst->path, sa, sb);
        }
        n->runs_present++;
        if (fn)
            fn(w->src->path, id, uuid, to, 0, arg);
        return 0;
    }
    for (int k = M_RUN; k < M_KINDS; k++)
        w->map[k].n = 0;
    if (walk_rows(w, table_index("runs"), id) < 0)
        return -1;
    if (map_get(&w->map[M_RUN], id, &to) < 0)
        return store_fail(STORE_FAIL_RUNTIME, w->e, "%s: run %" PRId64 " was not copied", w->src->path, id);
    n->runs_copied++;
    if (fn)
        fn(w->src->path, id, uuid, to, 1, arg);
    return 0;
}

int store_merge(store *s, store *shard, store_merge_fn fn, void *arg, store_merge_counts *n, err_t *e)
{
    walk w = {.dst = s, .src = shard, .e = e};
    sqlite3_stmt *st = NULL;
    int ok = 0, rc;
    if (store_schema_version(shard) != store_schema_version(s))
        return store_fail(STORE_FAIL_STORE, e, "%s has schema version %d and %s %d; open both with this program "
                          "first", shard->path, store_schema_version(shard), s->path, store_schema_version(s));
    if (check_tables(shard, e) < 0)
        return -1;
    if (store_wbegin(s, e) < 0)
        return -1;
    if (merge_datasets(&w, n) < 0)
        goto done;
    if (store_prepare(shard, &st, "SELECT id, uuid, name FROM main.runs ORDER BY id", e) < 0)
        goto done;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *uuid = (const char *)sqlite3_column_text(st, 1), *name = (const char *)sqlite3_column_text(st, 2);
        if (!uuid) {
            store_fail(STORE_FAIL_STORE, e, "%s: run %" PRId64 " ('%s') has no UUID; it was written outside this "
                       "program: set one (SELECT lower(hex(randomblob(16))))", shard->path, id, name);
            goto done;
        }
        char *u = strdup(uuid), *nm = strdup(name ? name : "");
        int r = u && nm ? merge_run(&w, id, u, nm, fn, arg, n) : store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
        free(u);
        free(nm);
        if (r < 0)
            goto done;
    }
    if (rc != SQLITE_DONE) {
        store_fail_sql(shard, rc, "listing the runs", e);
        goto done;
    }
    ok = 1;
done:
    sqlite3_finalize(st);
    for (int t = 0; t < N_TABLES; t++)
        sqlite3_finalize(w.ins[t]);
    for (int k = 0; k < M_KINDS; k++) {
        free(w.map[k].old);
        free(w.map[k].new);
    }
    int kind = store_fail_kind();
    if (store_wend(s, ok, e) < 0 && ok)
        return -1;
    if (!ok)
        store_set_fail_kind(kind);
    return ok ? 0 : -1;
}
