/* Test fixtures shared by the io, store and ingest tests: a temporary
 * directory, small IDX/CIFAR files (raw or gzip), running a program and
 * capturing its exit status and stderr, and a logical fingerprint of a store
 * (to check it is unchanged after a failure, as fx_bad does for a command
 * that must fail).  Static functions: include
 * once per test program, after check.h.  Every returned string is owned by
 * the caller (free). */
#ifndef DRMM_TEST_FIXTURE_H
#define DRMM_TEST_FIXTURE_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "sha256.h"

#define FX_FN static __attribute__((unused))

/* A fresh directory under $TMPDIR (or /tmp); removed by fx_cleanup. */
static char fx_dir[512];

FX_FN const char *fx_tmpdir(const char *tag)
{
    const char *t = getenv("TMPDIR");
    snprintf(fx_dir, sizeof fx_dir, "%s/drmm-%s-XXXXXX", t && *t ? t : "/tmp", tag);
    if (!mkdtemp(fx_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    return fx_dir;
}

FX_FN void fx_cleanup(void)
{
    if (fx_dir[0] && !getenv("KEEP_FIXTURES")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", fx_dir);
    }
}

/* fx_path("x.idx") -> "<dir>/x.idx" in a rotating static buffer. */
FX_FN const char *fx_path(const char *fmt, ...)
{
    static char buf[8][1024];
    static int k;
    char name[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", fx_dir, name);
    return buf[k];
}

/* Writes n bytes to path, gzip-compressed when gz. */
FX_FN void fx_write(const char *path, const void *data, size_t n, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f || (n && gzwrite(f, data, (unsigned)n) != (int)n) || gzclose(f) != Z_OK) {
            fprintf(stderr, "cannot write %s\n", path);
            exit(1);
        }
        return;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

/* Reads a whole file (NUL-terminated); *n its size.  NULL if unreadable. */
FX_FN char *fx_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[len] = '\0';
        if (n)
            *n = (size_t)len;
    }
    return p;
}

FX_FN void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* IDX image bytes for n images of h x w: pixel (i, k) = (i * 31 + k) & 255.
 * *len receives the size; caller frees. */
FX_FN uint8_t *fx_idx_images(int n, int h, int w, size_t *len)
{
    *len = 16 + (size_t)n * h * w;
    uint8_t *b = malloc(*len);
    put_be32(b, 0x803);
    put_be32(b + 4, (uint32_t)n);
    put_be32(b + 8, (uint32_t)h);
    put_be32(b + 12, (uint32_t)w);
    for (size_t i = 0; i < (size_t)n; i++)
        for (size_t k = 0; k < (size_t)h * w; k++)
            b[16 + i * h * w + k] = (uint8_t)((i * 31 + k) & 255);
    return b;
}

/* IDX label bytes: label i = i % n_classes. */
FX_FN uint8_t *fx_idx_labels(int n, int n_classes, size_t *len)
{
    *len = 8 + (size_t)n;
    uint8_t *b = malloc(*len);
    put_be32(b, 0x801);
    put_be32(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++)
        b[8 + i] = (uint8_t)(i % n_classes);
    return b;
}

/* Runs a shell command line with stderr captured; returns the exit status
 * (or 128 + signal) and the stderr text in *err (caller frees). */
/* The first column of the first row of sql on the store at path (opened
 * read-only), or -1 when there is none or the query fails (said on stdout). */
FX_FN long long fx_sql_int(const char *path, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    } else {
        printf("  sql failed: %s: %s\n", sql, sqlite3_errmsg(h));
    }
    sqlite3_close(h);
    return v;
}

FX_FN int fx_run(char **err, const char *fmt, ...)
{
    char cmd[4096], errpath[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(errpath, sizeof errpath, "%s/.stderr", fx_dir);
    char full[6000];
    snprintf(full, sizeof full, "( %s ) >%s/.stdout 2>%s", cmd, fx_dir, errpath);
    int st = system(full);
    if (err) {
        *err = fx_read(errpath, NULL);
        if (!*err)
            *err = strdup("");
    }
    if (st == -1)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The last command's stdout (caller frees). */
FX_FN char *fx_stdout(void)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/.stdout", fx_dir);
    char *s = fx_read(p, NULL);
    return s ? s : strdup("");
}

/* A fingerprint of a store's logical content (user_version, every table's
 * rows in rowid order, the schema), or of its raw bytes when it is not a
 * readable database, or "absent".  Written into hex. */
FX_FN void fx_store_fingerprint(const char *path, char hex[65])
{
    sha256_ctx c;
    sha256_init(&c);
    if (access(path, F_OK) != 0) {
        snprintf(hex, 65, "absent");
        return;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *t = NULL;
    int ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_schema ORDER BY name", -1, &t, NULL) == SQLITE_OK;
    if (ok) {
        int rc;
        while ((rc = sqlite3_step(t)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(t, 0);
            const char *sql = (const char *)sqlite3_column_text(t, 1);
            sha256_update(&c, name, strlen(name) + 1);
            if (sql)
                sha256_update(&c, sql, strlen(sql) + 1);
            char q[512];
            snprintf(q, sizeof q, "SELECT * FROM \"%s\" ORDER BY rowid", name);
            sqlite3_stmt *r;
            if (!sql || strncmp(sql, "CREATE TABLE", 12) != 0 ||
                sqlite3_prepare_v2(db, q, -1, &r, NULL) != SQLITE_OK)
                continue;
            while (sqlite3_step(r) == SQLITE_ROW)
                for (int i = 0; i < sqlite3_column_count(r); i++) {
                    int ty = sqlite3_column_type(r, i);
                    const void *b = sqlite3_column_blob(r, i);
                    int nb = sqlite3_column_bytes(r, i);
                    sha256_update(&c, &ty, sizeof ty);
                    if (b && nb)
                        sha256_update(&c, b, (size_t)nb);
                }
            sqlite3_finalize(r);
        }
        ok = rc == SQLITE_DONE;
        sqlite3_finalize(t);
        t = NULL;
        sqlite3_stmt *v;
        if (ok && sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &v, NULL) == SQLITE_OK) {
            if (sqlite3_step(v) == SQLITE_ROW) {
                int uv = sqlite3_column_int(v, 0);
                sha256_update(&c, &uv, sizeof uv);
            }
            sqlite3_finalize(v);
        }
    }
    sqlite3_finalize(t);
    sqlite3_close(db);
    if (!ok) {
        size_t n;
        char *raw = fx_read(path, &n);
        sha256_init(&c);
        sha256_update(&c, "raw", 3);
        if (raw)
            sha256_update(&c, raw, n);
        free(raw);
    }
    sha256_final_hex(&c, hex);
}

/* A command that must fail: its exit status `want`, `needle` in its stderr,
 * and the store db unchanged (needs check.h). */
FX_FN void fx_bad(const char *what, const char *db, int want, const char *needle, const char *cmd)
{
    char before[65], after[65], *err = NULL;
    fx_store_fingerprint(db, before);
    int rc = fx_run(&err, "%s", cmd);
    fx_store_fingerprint(db, after);
    CHECK(rc == want, "%s: exit %d, want %d (%s)", what, rc, want, err);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    CHECK(!strcmp(before, after), "%s: store changed", what);
    free(err);
}

#endif
