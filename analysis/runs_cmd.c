/* Listing, diffing, comparing and exporting runs (see runs_cmd.h).  Every
 * query is built with sqlite3_mprintf's %Q / %w quoting, so names from the
 * command line cannot change the SQL. */
#include "runs_cmd.h"

#include <ctype.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sqltable.h"

/* runs sql (owned, freed here; NULL: out of memory) into t */
static int query(sqlite3 *db, char *sql, sqltable *t, err_t *e)
{
    if (!sql) {
        memset(t, 0, sizeof *t);
        return err_set(e, "out of memory");
    }
    int rc = sqltable_query(db, sql, t, e);
    sqlite3_free(sql);
    return rc;
}

int runs_list(sqlite3 *db, const char *experiment, const char *dataset, const char *tag, sqltable *t, err_t *e)
{
    char *where = sqlite3_mprintf("WHERE 1");
    if (where && experiment) {
        char *w = sqlite3_mprintf("%s AND substr(s.name, 1, %d) = '%q/'", where, (int)strlen(experiment) + 1, experiment);
        sqlite3_free(where);
        where = w;
    }
    if (where && dataset) {
        char *w = sqlite3_mprintf("%s AND s.dataset = %Q", where, dataset);
        sqlite3_free(where);
        where = w;
    }
    if (where && tag) {
        char *w = sqlite3_mprintf("%s AND s.run_id IN (SELECT run_id FROM run_tags WHERE tag = %Q)", where, tag);
        sqlite3_free(where);
        where = w;
    }
    char *sql = where ? sqlite3_mprintf(
        "SELECT s.run_id, s.name, s.dataset, s.status, s.n_labels, s.supervised_only, s.a_rc, s.a_kl, s.a_nn, s.epochs, "
        "s.loss, s.train_error, s.test_error, s.started, p.tags, p.notes "
        "FROM runs_summary s JOIN run_provenance p ON p.run_id = s.run_id %s ORDER BY s.run_id", where) : NULL;
    sqlite3_free(where);
    return query(db, sql, t, e);
}

int runs_resolve(sqlite3 *db, const char *ref, long long *id, err_t *e)
{
    int digits = *ref != 0;
    for (const char *p = ref; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    char *sql = digits ? sqlite3_mprintf("SELECT id FROM runs WHERE id = %s", ref)
                       : sqlite3_mprintf("SELECT MAX(id) FROM runs WHERE name = %Q", ref);
    sqltable t;
    if (query(db, sql, &t, e))
        return -1;
    const char *v = t.n_rows ? t.cells[0] : NULL;
    *id = v ? atoll(v) : 0;
    sqltable_free(&t);
    if (!v)
        return err_input(e, "no run %s '%s' (list them with: runs --store FILE list)", digits ? "with id" : "named", ref);
    return 0;
}

int runs_diff(sqlite3 *db, long long a, long long b, int all, sqltable *t, err_t *e)
{
    /* provenance fields as (key, value) rows of each run */
    const char *fields =
        "SELECT id AS run_id, 'name' AS key, name AS value FROM runs UNION ALL "
        "SELECT r.id, 'dataset', d.name FROM runs r JOIN datasets d ON d.id = r.dataset_id UNION ALL "
        "SELECT id, 'dataset_sha256', dataset_sha256 FROM runs UNION ALL "
        "SELECT id, 'status', status FROM runs UNION ALL "
        "SELECT id, 'n_labels', n_labels FROM runs UNION ALL "
        "SELECT id, 'git_commit', git_commit || CASE WHEN git_dirty THEN ' (dirty)' ELSE '' END FROM runs UNION ALL "
        "SELECT id, 'host', host FROM runs UNION ALL "
        "SELECT id, 'threads', threads FROM runs UNION ALL "
        "SELECT id, 'openblas_core', openblas_core FROM runs UNION ALL "
        "SELECT id, 'architecture', replace(trim(architecture), char(10), '; ') FROM runs UNION ALL "
        "SELECT id, 'git_diff_sha256', git_diff_sha256 FROM runs UNION ALL "
        "SELECT id, 'git_diff_bytes', git_diff_bytes FROM runs UNION ALL "
        "SELECT id, 'argv', argv FROM runs UNION ALL "
        "SELECT id, 'command', command FROM runs UNION ALL "
        "SELECT id, 'cpu_model', cpu_model FROM runs UNION ALL "
        "SELECT id, 'openblas', openblas FROM runs UNION ALL "
        "SELECT id, 'sqlite_version', sqlite_version FROM runs UNION ALL "
        "SELECT id, 'libpng_version', libpng_version FROM runs UNION ALL "
        "SELECT run_id, 'tags', tags FROM run_provenance UNION ALL "
        "SELECT run_id, 'notes', notes FROM run_provenance";
    /* final numbers: latest metrics and the latest test evaluation */
    const char *numbers =
        "SELECT run_id, name AS key, value FROM metrics_latest UNION ALL "
        "SELECT run_id, 'test_error', error FROM latest_test_evaluation UNION ALL "
        "SELECT run_id, 'test_recon_error', recon_error FROM latest_test_evaluation";
    char *sql = sqlite3_mprintf(
        "WITH f AS (%s), n AS (%s), "
        "side(section, ord, key, va, vb) AS ("
        "  SELECT 'run', 0, k.key, (SELECT value FROM f WHERE run_id = %lld AND key = k.key),"
        "         (SELECT value FROM f WHERE run_id = %lld AND key = k.key)"
        "  FROM (SELECT DISTINCT key FROM f WHERE run_id IN (%lld, %lld)) k "
        "  UNION ALL "
        "  SELECT 'config', 1, k.key, (SELECT value FROM run_config WHERE run_id = %lld AND key = k.key),"
        "         (SELECT value FROM run_config WHERE run_id = %lld AND key = k.key)"
        "  FROM (SELECT DISTINCT key FROM run_config WHERE run_id IN (%lld, %lld)) k "
        "  UNION ALL "
        "  SELECT 'final', 2, k.key, (SELECT value FROM n WHERE run_id = %lld AND key = k.key),"
        "         (SELECT value FROM n WHERE run_id = %lld AND key = k.key)"
        "  FROM (SELECT DISTINCT key FROM n WHERE run_id IN (%lld, %lld)) k) "
        "SELECT section, key, va AS run_%lld, vb AS run_%lld, "
        "       CASE WHEN section = 'final' THEN vb - va END AS b_minus_a "
        "FROM side WHERE %d OR section = 'final' OR va IS NOT vb ORDER BY ord, key",
        fields, numbers, a, b, a, b, a, b, a, b, a, b, a, b, a, b, all);
    return query(db, sql, t, e);
}

int runs_attach(sqlite3 *db, const char *path, err_t *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_input(e, "%s: cannot open the baseline store: %m", path);
    fclose(f);
    char *sql = sqlite3_mprintf("ATTACH DATABASE %Q AS base", path);
    if (!sql)
        return err_set(e, "out of memory");
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    sqlite3_free(sql);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "SELECT 1 FROM base.grid_errors LIMIT 1", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        err_input(e, "%s: not a store with the grid views (%s); open it once with a program of this version",
                  path, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int runs_compare(sqlite3 *db, const char *experiment, const char *baseline, int in_base, sqltable *t, err_t *e)
{
    const char *bs = in_base ? "base" : "main";
    /* the experiment and the baseline must have runs */
    const char *names[2] = {experiment, baseline};
    for (int i = 0; i < 2; i++) {
        sqltable c;
        if (query(db, sqlite3_mprintf("SELECT COUNT(*) FROM %s.grid_runs WHERE experiment = %Q", i && in_base ? "base" : "main",
                                      names[i]), &c, e))
            return -1;
        int n = c.n_rows && c.cells[0] ? atoi(c.cells[0]) : 0;
        sqltable_free(&c);
        if (!n) {
            memset(t, 0, sizeof *t);
            return err_input(e, "no runs of experiment '%s'%s (the runs' names begin with EXPERIMENT/; see: runs list)",
                             names[i], i && in_base ? " in the baseline store" : "");
        }
    }
    char *sql = sqlite3_mprintf(
        "WITH x AS (SELECT * FROM main.grid_errors WHERE experiment = %Q), "
        "b AS (SELECT * FROM %s.grid_errors WHERE experiment = %Q), "
        "k AS (SELECT dataset, n_labels, model FROM x UNION SELECT dataset, n_labels, model FROM b) "
        "SELECT k.dataset, k.n_labels, k.model, b.mean_error AS baseline_error, b.n_runs AS baseline_runs, "
        "       x.mean_error AS error, x.n_runs AS runs, x.mean_error - b.mean_error AS change "
        "FROM k LEFT JOIN x ON x.dataset = k.dataset AND x.n_labels = k.n_labels AND x.model = k.model "
        "LEFT JOIN b ON b.dataset = k.dataset AND b.n_labels = k.n_labels AND b.model = k.model "
        "ORDER BY k.dataset, k.n_labels, COALESCE(x.model_order, b.model_order)",
        experiment, bs, baseline);
    return query(db, sql, t, e);
}

int runs_export(sqlite3 *db, const char *name, sqltable *t, err_t *e)
{
    sqltable c;
    if (query(db, sqlite3_mprintf("SELECT COUNT(*) FROM sqlite_schema WHERE type IN ('view', 'table') AND name = %Q",
                                  name), &c, e))
        return -1;
    int n = c.n_rows && c.cells[0] ? atoi(c.cells[0]) : 0;
    sqltable_free(&c);
    if (!n) {
        memset(t, 0, sizeof *t);
        sqltable v;
        if (query(db, sqlite3_mprintf("SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema "
                                      "WHERE type = 'view' ORDER BY name)"), &v, e))
            return -1;
        err_input(e, "no view or table named '%s'; the views: %s", name, v.n_rows && v.cells[0] ? v.cells[0] : "none");
        sqltable_free(&v);
        return -1;
    }
    return query(db, sqlite3_mprintf("SELECT * FROM \"%w\"", name), t, e);
}

/* ---- output ---- */

static const char *shortest(double v, char *buf, size_t len);

/* is s a finite number in full? */
static int numeric(const char *s, double *v)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s))
        return 0;
    *v = strtod(s, &end);
    return !*end && isfinite(*v) && strncmp(s, "0x", 2) && strncmp(s, "-0x", 3);
}

/* a cell as shown: reals with more than 15 digits (SQLite's %.17g) as the
 * shortest text that reads back to the same double; integers as they are */
static const char *cell(const char *s, char *buf, size_t len)
{
    double v;
    if (!numeric(s, &v) || strlen(s) < 16)
        return s;
    return shortest(v, buf, len);
}

/* for reading on a terminal: reals to 6 significant digits */
static const char *cell_text(const char *s, char *buf, size_t len)
{
    double v;
    if (!numeric(s, &v) || !strpbrk(s, ".eE"))
        return s;
    snprintf(buf, len, "%.6g", v);
    return buf;
}

static const char *shortest(double v, char *buf, size_t len)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

int runs_print(FILE *f, const sqltable *t, runs_format fmt, err_t *e)
{
    char buf[64];
    if (fmt == RUNS_CSV) {
        for (int c = 0; c < t->n_cols; c++) {
            if (c)
                fputc(',', f);
            sqltable_csv_field(f, t->cols[c]);
        }
        fputc('\n', f);
        for (int r = 0; r < t->n_rows; r++) {
            for (int c = 0; c < t->n_cols; c++) {
                if (c)
                    fputc(',', f);
                sqltable_csv_field(f, cell(t->cells[(size_t)r * t->n_cols + c], buf, sizeof buf));
            }
            fputc('\n', f);
        }
    } else if (fmt == RUNS_JSON) {
        fputs("[", f);
        for (int r = 0; r < t->n_rows; r++) {
            fputs(r ? ",\n {" : "\n {", f);
            for (int c = 0; c < t->n_cols; c++) {
                const char *s = t->cells[(size_t)r * t->n_cols + c];
                double v;
                if (c)
                    fputs(", ", f);
                json_str(f, t->cols[c]);
                fputs(": ", f);
                if (!s)
                    fputs("null", f);
                else if (numeric(s, &v))
                    fputs(cell(s, buf, sizeof buf), f);
                else
                    json_str(f, s);
            }
            fputs("}", f);
        }
        fputs(t->n_rows ? "\n]\n" : "]\n", f);
    } else {
        int *w = calloc(t->n_cols ? (size_t)t->n_cols : 1, sizeof *w);
        if (!w)
            return err_set(e, "out of memory");
        for (int c = 0; c < t->n_cols; c++) {
            w[c] = (int)strlen(t->cols[c]);
            for (int r = 0; r < t->n_rows; r++) {
                const char *s = cell_text(t->cells[(size_t)r * t->n_cols + c], buf, sizeof buf);
                int l = s ? (int)strlen(s) : 1;
                w[c] = l > w[c] ? l : w[c];
            }
        }
        for (int c = 0; c < t->n_cols; c++)
            fprintf(f, "%-*s%s", c + 1 < t->n_cols ? w[c] : 0, t->cols[c], c + 1 < t->n_cols ? "  " : "\n");
        for (int r = 0; r < t->n_rows; r++)
            for (int c = 0; c < t->n_cols; c++) {
                const char *s = cell_text(t->cells[(size_t)r * t->n_cols + c], buf, sizeof buf);
                fprintf(f, "%-*s%s", c + 1 < t->n_cols ? w[c] : 0, s ? s : "-", c + 1 < t->n_cols ? "  " : "\n");
            }
        free(w);
    }
    if (ferror(f) || fflush(f))
        return err_set(e, "writing the output failed");
    return 0;
}
