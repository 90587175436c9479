/* The store's connection: open, pragmas, migrations, transactions and the
 * mapping of SQLite result codes to messages (see store.h).  The store
 * struct owns its connection and its copy of the path. */
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

extern const char *const store_migrations[];   /* build/gen/schema_sql.c */
extern const int store_n_migrations;

static _Thread_local int fail_kind;

int store_fail_kind(void)
{
    return fail_kind;
}

void store_set_fail_kind(int kind)
{
    fail_kind = kind;
}

int store_fail(int kind, err_t *e, const char *fmt, ...)
{
    fail_kind = kind;
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        /* a conflicting dataset or an unknown id is a problem with the request */
        e->kind = kind == STORE_FAIL_CONFLICT || kind == STORE_FAIL_NOTFOUND ? ERR_INPUT : ERR_RUNTIME;
    }
    return -1;
}

int store_fail_sql(store *s, int rc, const char *what, err_t *e)
{
    const char *m = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    const char *p = s->path;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return store_fail(STORE_FAIL_STORE, e, "%s: the store is locked by another process (waited %d ms while %s: %s); "
                          "retry when the other writer has finished, or stop it", p, s->busy_ms, what, m);
    case SQLITE_READONLY:
        if (s->readonly)
            return store_fail(STORE_FAIL_STORE, e, "%s: the store was opened read-only and cannot be written (%s: %s); "
                              "open it read-write", p, what, m);
        return store_fail(STORE_FAIL_STORE, e, "%s: the store is read-only (%s: %s); make the file and its directory "
                          "writable, or pass another --store", p, what, m);
    case SQLITE_FULL:
        return store_fail(STORE_FAIL_STORE, e, "%s: the disk or the store is full (%s: %s); free disk space and retry "
                          "(nothing was written)", p, what, m);
    case SQLITE_NOTADB:
        return store_fail(STORE_FAIL_STORE, e, "%s: not an SQLite database (%s: %s); pass the path of a store or a new "
                          "file name", p, what, m);
    case SQLITE_CORRUPT:
        return store_fail(STORE_FAIL_STORE, e, "%s: the store is corrupt (%s: %s); check it with "
                          "sqlite3 %s 'PRAGMA integrity_check' and restore a backup", p, what, m, p);
    case SQLITE_CANTOPEN:
        return store_fail(STORE_FAIL_STORE, e, "%s: cannot open the store (%s: %s); check that the directory exists "
                          "and is writable", p, what, m);
    case SQLITE_IOERR:
        return store_fail(STORE_FAIL_STORE, e, "%s: I/O error on the store (%s: %s); check the disk and free space", p,
                          what, m);
    case SQLITE_NOMEM:
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: out of memory (%s)", p, what);
    default:
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: %s failed: %s", p, what, m);
    }
}

void store_test_crash_point(const char *point)
{
    const char *want = getenv("DRMM_TEST_CRASH");
    if (want && *want && strcmp(want, point) == 0)
        raise(SIGKILL);
}

int store_prepare(store *s, sqlite3_stmt **st, const char *sql, err_t *e)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return store_fail_sql(s, rc, "preparing a statement", e);
    }
    return 0;
}

int store_step_done(store *s, sqlite3_stmt *st, const char *what, err_t *e)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_fail_sql(s, rc, what, e);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return 0;
}

int store_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    return text ? sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static int exec(store *s, const char *sql, const char *what, err_t *e)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_fail_sql(s, rc, what, e);
}

/* PRAGMA journal_mode = WAL.  While another process is creating or
 * converting the same store, SQLite can answer SQLITE_BUSY at once, without
 * calling the busy handler (the change needs an exclusive lock); so the
 * switch is retried every 10 ms, up to the busy timeout. */
static int switch_to_wal(store *s, err_t *e)
{
    for (int waited = 0;; waited += 10) {
        int rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) || waited >= s->busy_ms)
            return store_fail_sql(s, rc, "switching to WAL mode", e);
        usleep(10000);
    }
}

static int user_version(store *s, int *v, err_t *e)
{
    sqlite3_stmt *st;
    if (store_prepare(s, &st, "PRAGMA user_version", e) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_fail_sql(s, rc, "reading the schema version", e);
        sqlite3_finalize(st);
        return -1;
    }
    *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int newer_schema(store *s, int v, err_t *e)
{
    return store_fail(STORE_FAIL_STORE, e, "%s: the store has schema version %d, newer than this program knows (%d); "
                      "use a newer build of drmm (git pull && make) or another --store", s->path, v,
                      store_n_migrations);
}

/* Applies the missing migrations, once, under BEGIN IMMEDIATE. */
static int migrate(store *s, err_t *e)
{
    int v;
    if (user_version(s, &v, e) < 0)
        return -1;
    if (v > store_n_migrations)
        return newer_schema(s, v, e);
    if (v == store_n_migrations) {
        s->version = v;
        return 0;
    }
    if (s->readonly)
        return store_fail(STORE_FAIL_STORE, e, "%s: the store has schema version %d but this program needs %d; "
                          "open it once read-write (e.g. with ingest) to migrate it", s->path, v, store_n_migrations);
    if (exec(s, "BEGIN IMMEDIATE", "starting the schema migration", e) < 0)
        return -1;
    if (user_version(s, &v, e) < 0)          /* another process may have migrated meanwhile */
        goto fail;
    if (v > store_n_migrations) {
        newer_schema(s, v, e);
        goto fail;
    }
    for (int k = v + 1; k <= store_n_migrations; k++) {
        char what[64], pragma[64];
        snprintf(what, sizeof what, "applying schema migration %d", k);
        if (exec(s, store_migrations[k - 1], what, e) < 0)
            goto fail;
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", k);
        if (exec(s, pragma, what, e) < 0)
            goto fail;
    }
    if (exec(s, "COMMIT", "committing the schema migration", e) < 0)
        goto fail;
    s->version = store_n_migrations;
    return 0;
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int store_open(const char *path, int flags, store **out, err_t *e)
{
    *out = NULL;
    fail_kind = STORE_FAIL_NONE;
    store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: out of memory", path);
    }
    s->readonly = (flags & STORE_READONLY) != 0;
    s->busy_ms = 10000;
    int mustexist = (flags & STORE_MUSTEXIST) != 0;
    int oflags = s->readonly ? SQLITE_OPEN_READONLY
                 : mustexist ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if ((s->readonly || mustexist) && (rc & 0xff) == SQLITE_CANTOPEN && access(path, F_OK) != 0)
            store_fail(STORE_FAIL_STORE, e, "%s: no such store; check the path, or create the store with ingest "
                       "(bin/ingest --store %s ...)", path, path);
        else if (s->readonly && (rc & 0xff) == SQLITE_CANTOPEN)
            store_fail(STORE_FAIL_STORE, e, "%s: cannot open the store read-only (%s); check the path (a store is "
                       "created by ingest)", path, sqlite3_errmsg(s->db));
        else
            store_fail_sql(s, rc, "opening", e);
        goto fail;
    }
    sqlite3_busy_timeout(s->db, s->busy_ms);
    if (!s->readonly && sqlite3_db_readonly(s->db, "main") == 1) {
        store_fail(STORE_FAIL_STORE, e, "%s: the store is read-only (file permissions); make the file and its "
                   "directory writable, or pass another --store", path);
        goto fail;
    }
    int v;
    if (user_version(s, &v, e) < 0)          /* not a database? */
        goto fail;
    if (v > store_n_migrations) {
        newer_schema(s, v, e);
        goto fail;
    }
    if (exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys", e) < 0)
        goto fail;
    /* WAL: readers never block the writer; synchronous=NORMAL is safe with
     * WAL (a crash cannot corrupt the store; only a power loss may drop the
     * last commits). */
    if (!s->readonly && (switch_to_wal(s, e) < 0 ||
                         exec(s, "PRAGMA synchronous = NORMAL", "setting synchronous mode", e) < 0))
        goto fail;
    if (migrate(s, e) < 0)
        goto fail;
    *out = s;
    fail_kind = STORE_FAIL_NONE;
    return 0;
fail:
    sqlite3_close(s->db);
    free(s->path);
    free(s);
    return -1;
}

void store_close(store *s)
{
    if (!s)
        return;
    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(s->db);   /* every statement is finalized by its user */
    free(s->path);
    free(s);
}

int store_set_busy_timeout(store *s, int ms, err_t *e)
{
    int rc = sqlite3_busy_timeout(s->db, ms);
    if (rc != SQLITE_OK)
        return store_fail_sql(s, rc, "setting the busy timeout", e);
    s->busy_ms = ms;
    return 0;
}

int store_schema_version(store *s) { return s->version; }
int store_known_schema_version(void) { return store_n_migrations; }
const char *store_path(const store *s) { return s->path; }
sqlite3 *store_db(store *s) { return s->db; }

int store_begin(store *s, err_t *e)
{
    if (s->in_tx)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: store_begin inside an open transaction (a program bug)", s->path);
    if (exec(s, "BEGIN IMMEDIATE", "starting a write transaction", e) < 0)
        return -1;
    s->in_tx = 1;
    return 0;
}

int store_commit(store *s, err_t *e)
{
    if (!s->in_tx)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: store_commit without store_begin (a program bug)", s->path);
    int rc = exec(s, "COMMIT", "committing", e);
    if (rc < 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
    return rc;
}

void store_rollback(store *s)
{
    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
}

int store_wbegin(store *s, err_t *e)
{
    fail_kind = STORE_FAIL_NONE;
    if (s->in_tx)
        return exec(s, "SAVEPOINT store_write", "starting a savepoint", e);
    return exec(s, "BEGIN IMMEDIATE", "starting a write transaction", e);
}

int store_wend(store *s, int ok, err_t *e)
{
    if (s->in_tx) {
        if (ok)
            return exec(s, "RELEASE store_write", "releasing a savepoint", e);
        sqlite3_exec(s->db, "ROLLBACK TO store_write; RELEASE store_write", NULL, NULL, NULL);
        return -1;
    }
    if (ok) {
        if (exec(s, "COMMIT", "committing", e) == 0)
            return 0;
    }
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int store_sbuf_add(store_sbuf *b, const char *str, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, str, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int store_sbuf_printf(store_sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    return store_sbuf_add(b, tmp, (size_t)n);
}

int store_sbuf_json_str(store_sbuf *b, const char *str)
{
    if (store_sbuf_add(b, "\"", 1) < 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *)(str ? str : ""); *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\'; esc[1] = (char)*p;
            if (store_sbuf_add(b, esc, 2) < 0) return -1;
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            if (store_sbuf_add(b, esc, 6) < 0) return -1;
        } else if (store_sbuf_add(b, (const char *)p, 1) < 0) {
            return -1;
        }
    }
    return store_sbuf_add(b, "\"", 1);
}

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

void store_f32_to_le(void *dst, const float *src, size_t n)
{
    if (n == 0)
        return;
    if (host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, &src[i], 4);
        d[4 * i] = (uint8_t)v; d[4 * i + 1] = (uint8_t)(v >> 8);
        d[4 * i + 2] = (uint8_t)(v >> 16); d[4 * i + 3] = (uint8_t)(v >> 24);
    }
}

void store_le_to_f32(float *dst, const void *src, size_t n)
{
    if (n == 0)
        return;
    if (host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 |
                     (uint32_t)s[4 * i + 2] << 16 | (uint32_t)s[4 * i + 3] << 24;
        memcpy(&dst[i], &v, 4);
    }
}
