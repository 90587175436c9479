/* Internals shared by the store's source files (store.c, store_dataset.c,
 * store_run.c, store_checkpoint.c); not part of the public API. */
#ifndef DRMM_STORE_INTERNAL_H
#define DRMM_STORE_INTERNAL_H

#include <sqlite3.h>

#include "error.h"
#include "store.h"

struct store {
    sqlite3 *db;
    char *path;               /* owned */
    int readonly;
    int busy_ms;
    int in_tx;                /* an explicit store_begin is open */
    int version;              /* user_version after migration */
};

/* Records the failure kind for store_fail_kind() and returns -1. */
/* Sets the failure kind store_fail_kind() reports (to restore it after a
 * cleanup call). */
void store_set_fail_kind(int kind);
int store_fail(int kind, struct err_t *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Message and kind for an SQLite result code rc while doing `what`. */
int store_fail_sql(store *s, int rc, const char *what, struct err_t *e);

/* A write unit: BEGIN IMMEDIATE, or a SAVEPOINT inside store_begin.
 * store_wend commits (ok) or rolls back (!ok); returns -1 if !ok or the
 * commit failed. */
int store_wbegin(store *s, struct err_t *e);
int store_wend(store *s, int ok, struct err_t *e);

/* Test hook: kills this process (SIGKILL, as kill -9 does) when the
 * environment variable DRMM_TEST_CRASH equals point.  Used by the tests to
 * show that a write killed at that point leaves the store as it was. */
void store_test_crash_point(const char *point);

int store_prepare(store *s, sqlite3_stmt **st, const char *sql, struct err_t *e);
/* Steps a statement that returns no row, then resets it and clears its bindings. */
int store_step_done(store *s, sqlite3_stmt *st, const char *what, struct err_t *e);
/* Binds text that may be NULL. */
int store_bind_text(sqlite3_stmt *st, int i, const char *text);

/* Appends s to buf as a JSON string literal; buf is realloc'ed (owned by the
 * caller).  Returns 0 or -1 when memory is short. */
typedef struct store_sbuf {
    char *p;
    size_t len, cap;
} store_sbuf;
int store_sbuf_add(store_sbuf *b, const char *s, size_t n);
int store_sbuf_printf(store_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int store_sbuf_json_str(store_sbuf *b, const char *s);

/* Little-endian float32 conversion (identity on little-endian hosts). */
void store_f32_to_le(void *dst, const float *src, size_t n);
void store_le_to_f32(float *dst, const void *src, size_t n);

#endif
