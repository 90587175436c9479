/* Strict CSV reader (see csv.h).  The whole table is held in memory; every
 * string is owned by the csv_table and released by csv_free. */
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Splits one line (without its newline) into fields, appending to *fields.
 * Returns the field count, or -1 with a message. */
static int split_line(const char *path, int lineno, const char *line, char ***fields, err_t *e)
{
    int n = 0, cap = 0;
    char **f = NULL;
    size_t len = strlen(line);
    char *buf = malloc(len + 1);
    if (!buf)
        return err_set(e, "out of memory");
    const char *p = line;
    for (;;) {
        size_t k = 0;
        int col = (int)(p - line) + 1;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0') {
                    err_input(e, "%s:%d:%d: unterminated quoted field; close the quote", path, lineno, col);
                    goto fail;
                }
                if (*p == '"') {
                    if (p[1] == '"') { buf[k++] = '"'; p += 2; continue; }
                    p++;
                    break;
                }
                buf[k++] = *p++;
            }
            if (*p != ',' && *p != '\0') {
                err_input(e, "%s:%d:%d: text after a closing quote; quote the whole field", path, lineno,
                        (int)(p - line) + 1);
                goto fail;
            }
        } else {
            while (*p != ',' && *p != '\0') {
                if (*p == '"') {
                    err_input(e, "%s:%d:%d: quote inside an unquoted field; quote the whole field", path, lineno,
                            (int)(p - line) + 1);
                    goto fail;
                }
                buf[k++] = *p++;
            }
        }
        buf[k] = '\0';
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            char **nf = realloc(f, cap * sizeof *nf);
            if (!nf) { err_set(e, "out of memory"); goto fail; }
            f = nf;
        }
        if (!(f[n] = strdup(buf))) { err_set(e, "out of memory"); goto fail; }
        n++;
        if (*p == '\0')
            break;
        p++;                      /* the comma */
    }
    free(buf);
    *fields = f;
    return n;
fail:
    for (int i = 0; i < n; i++)
        free(f[i]);
    free(f);
    free(buf);
    return -1;
}

static void free_fields(char **f, int n)
{
    if (!f)
        return;
    for (int i = 0; i < n; i++)
        free(f[i]);
    free(f);
}

int csv_read(const char *path, csv_table *t, err_t *e)
{
    int rc = -1, cap = 0, lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, "%s: cannot open (%s); check the path", path, strerror(errno));
    if (!(t->path = strdup(path))) {
        err_set(e, "out of memory");
        goto done;
    }
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if ((size_t)len != strlen(line)) {
            err_input(e, "%s:%d: NUL byte in the line; this is not a text CSV file", path, lineno);
            goto done;
        }
        char *text = line;
        if (lineno == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)   /* a UTF-8 byte order mark */
            text += 3;
        if (*text == '\0')
            continue;
        char **fields = NULL;
        int nf = split_line(path, lineno, text, &fields, e);
        if (nf < 0)
            goto done;
        if (!t->header) {
            t->header = fields;
            t->ncols = nf;
            for (int i = 0; i < nf; i++) {
                if (fields[i][0] == '\0') {
                    err_input(e, "%s:%d:%d: empty column name in the header; name every column", path, lineno, i + 1);
                    goto done;
                }
                for (int j = 0; j < i; j++)
                    if (strcmp(fields[i], fields[j]) == 0) {
                        err_input(e, "%s:%d:%d: duplicate column name '%s' in the header; rename one of them",
                                path, lineno, i + 1, fields[i]);
                        goto done;
                    }
            }
            continue;
        }
        if (nf != t->ncols) {
            if (nf < t->ncols)
                err_input(e, "%s:%d: missing field(s): %d of %d (first missing: column %d '%s'); "
                           "every row needs a value for every header column", path, lineno, nf, t->ncols,
                        nf + 1, t->header[nf]);
            else
                err_input(e, "%s:%d:%d: extra field(s): %d fields but the header has %d; "
                           "remove the extra values or add header columns", path, lineno, t->ncols + 1, nf, t->ncols);
            free_fields(fields, nf);
            goto done;
        }
        if (t->nrows == cap) {
            cap = cap ? 2 * cap : 64;
            char ***nr = realloc(t->rows, cap * sizeof *nr);
            int *nl = realloc(t->lines, cap * sizeof *nl);
            if (nr) t->rows = nr;
            if (nl) t->lines = nl;
            if (!nr || !nl) {
                free_fields(fields, nf);
                err_set(e, "out of memory");
                goto done;
            }
        }
        t->rows[t->nrows] = fields;
        t->lines[t->nrows++] = lineno;
    }
    if (ferror(f)) {
        err_set(e, "%s: read error (%s)", path, strerror(errno));
        goto done;
    }
    if (!t->header) {
        err_input(e, "%s: empty file; the first line must be the header", path);
        goto done;
    }
    rc = 0;
done:
    free(line);
    fclose(f);
    if (rc < 0)
        csv_free(t);
    return rc;
}

void csv_free(csv_table *t)
{
    if (!t)
        return;
    free_fields(t->header, t->ncols);
    for (int r = 0; r < t->nrows; r++)
        free_fields(t->rows[r], t->ncols);
    free(t->rows);
    free(t->lines);
    free(t->path);
    memset(t, 0, sizeof *t);
}

int csv_column(const csv_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->header[i], name) == 0)
            return i;
    return -1;
}

int csv_get_long(const csv_table *t, int row, int col, long *out, err_t *e)
{
    const char *s = t->rows[row][col];
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || s[0] == ' ')
        return err_input(e, "%s:%d:%d: field '%s' is '%s', expected an integer; fix the value",
                       t->path, t->lines[row], col + 1, t->header[col], s);
    *out = v;
    return 0;
}

int csv_get_double(const csv_table *t, int row, int col, double *out, err_t *e)
{
    const char *s = t->rows[row][col];
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || s[0] == ' ' || !isfinite(v))
        return err_input(e, "%s:%d:%d: field '%s' is '%s', expected a finite number; fix the value",
                       t->path, t->lines[row], col + 1, t->header[col], s);
    *out = v;
    return 0;
}
