/* Query results in memory and as CSV (see sqltable.h). */
#include "sqltable.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void sqltable_free(sqltable *t)
{
    for (int i = 0; i < t->n_cols; i++)
        free(t->cols[i]);
    for (long k = 0; k < (long)t->n_rows * t->n_cols; k++)
        free(t->cells[k]);
    free(t->cols);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

int sqltable_query(sqlite3 *db, const char *sql, sqltable *t, err_t *e)
{
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "query failed (%s): %s", sqlite3_errmsg(db), sql);
    int rc = sqltable_read(st, t, e);
    sqlite3_finalize(st);
    return rc;
}

int sqltable_read(sqlite3_stmt *st, sqltable *t, err_t *e)
{
    memset(t, 0, sizeof *t);
    int rc, nc = sqlite3_column_count(st), cap = 0;
    t->cols = calloc(nc ? (size_t)nc : 1, sizeof *t->cols);
    if (!t->cols)
        goto oom;
    t->n_cols = nc;
    for (int i = 0; i < nc; i++)
        if (!(t->cols[i] = strdup(sqlite3_column_name(st, i))))
            goto oom;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->n_rows == cap) {
            cap = cap ? 2 * cap : 16;
            void *p = realloc(t->cells, sizeof *t->cells * (size_t)cap * (nc ? nc : 1));
            if (!p)
                goto oom;
            t->cells = p;
        }
        char **row = t->cells + (size_t)t->n_rows * nc;
        for (int i = 0; i < nc; i++)
            row[i] = NULL;
        t->n_rows++;
        for (int i = 0; i < nc; i++) {
            int ty = sqlite3_column_type(st, i);
            char buf[64];
            if (ty == SQLITE_NULL)
                continue;
            if (ty == SQLITE_FLOAT) {
                snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, i));
                row[i] = strdup(buf);
            } else if (ty == SQLITE_BLOB) {
                snprintf(buf, sizeof buf, "<blob %d bytes>", sqlite3_column_bytes(st, i));
                row[i] = strdup(buf);
            } else {
                row[i] = strdup((const char *)sqlite3_column_text(st, i));
            }
            if (!row[i])
                goto oom;
        }
    }
    if (rc != SQLITE_DONE)
        return err_set(e, "query failed (%s): %s", sqlite3_errmsg(sqlite3_db_handle(st)), sqlite3_sql(st));
    return 0;
oom:
    return err_set(e, "out of memory reading a query's result");
}

int sqltable_col(const sqltable *t, const char *name)
{
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->cols[i], name))
            return i;
    return -1;
}

const char *sqltable_str(const sqltable *t, int row, const char *col)
{
    int c = sqltable_col(t, col);
    if (c < 0 || row < 0 || row >= t->n_rows)
        return NULL;
    return t->cells[(size_t)row * t->n_cols + c];
}

double sqltable_num(const sqltable *t, int row, const char *col)
{
    const char *s = sqltable_str(t, row, col);
    if (!s || !*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

void sqltable_csv_field(FILE *f, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int sqltable_write_csv(const sqltable *t, const char *path, err_t *e)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return err_set(e, "cannot write %s: %s", path, strerror(errno));
    for (int i = 0; i < t->n_cols; i++) {
        if (i)
            fputc(',', f);
        sqltable_csv_field(f, t->cols[i]);
    }
    fputc('\n', f);
    for (int r = 0; r < t->n_rows; r++) {
        for (int i = 0; i < t->n_cols; i++) {
            if (i)
                fputc(',', f);
            sqltable_csv_field(f, t->cells[(size_t)r * t->n_cols + i]);
        }
        fputc('\n', f);
    }
    if (ferror(f) | fclose(f))
        return err_set(e, "cannot write %s: %s", path, strerror(errno));
    return 0;
}
