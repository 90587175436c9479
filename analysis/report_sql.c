/* The report's queries from analysis/sql/ (see report_sql.h). */
#include "report_sql.h"

#include <ctype.h>
#include <sqlite3.h>
#include <string.h>

#include "error.h"

const char *report_sql_text(const char *name)
{
    for (int i = 0; i < report_sql_n; i++)
        if (!strcmp(report_sql_names[i], name))
            return report_sql_texts[i];
    return NULL;
}

const char *report_sql_body(const char *text)
{
    for (;;) {   /* skip the header: comment lines and blank lines */
        while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
            text++;
        if (text[0] != '-' || text[1] != '-')
            return text;
        text += strcspn(text, "\n");
    }
}

/* Binds every parameter of st from p; an unknown one is an error. */
static int bind_params(sqlite3_stmt *st, const char *name, const report_sql_params *p, err_t *e)
{
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
        const char *pn = sqlite3_bind_parameter_name(st, i);
        int rc;
        if (pn && !strcmp(pn, ":experiment"))
            rc = sqlite3_bind_text(st, i, p->experiment, -1, SQLITE_STATIC);
        else if (pn && !strcmp(pn, ":dataset"))
            rc = sqlite3_bind_text(st, i, p->dataset, -1, SQLITE_STATIC);
        else if (pn && !strcmp(pn, ":well_below"))
            rc = sqlite3_bind_double(st, i, p->well_below);
        else
            return err_set(e, "analysis/sql/%s.sql: unknown parameter %s (a report query may use :experiment, "
                              ":dataset and :well_below)", name, pn ? pn : "?");
        if (rc != SQLITE_OK)
            return err_set(e, "analysis/sql/%s.sql: cannot bind %s: %s", name, pn, sqlite3_errstr(rc));
    }
    return 0;
}

int report_sql_run(sqlite3 *db, const char *name, const report_sql_params *p, sqltable *t, char **shown, err_t *e)
{
    const char *text = report_sql_text(name);
    if (!text) {
        memset(t, 0, sizeof *t);
        *shown = NULL;
        return err_set(e, "no report query analysis/sql/%s.sql in this program (rebuild: the build embeds "
                          "analysis/sql/*.sql)", name);
    }
    return report_sql_exec(db, name, text, p, t, shown, e);
}

int report_sql_exec(sqlite3 *db, const char *name, const char *text, const report_sql_params *p, sqltable *t,
                    char **shown, err_t *e)
{
    memset(t, 0, sizeof *t);
    *shown = NULL;
    const char *body = report_sql_body(text);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v2(db, body, -1, &st, &tail) != SQLITE_OK)
        return err_set(e, "analysis/sql/%s.sql: %s", name, sqlite3_errmsg(db));
    while (tail && isspace((unsigned char)*tail))
        tail++;
    int rc = -1;
    if (!st || (tail && *tail)) {
        err_set(e, "analysis/sql/%s.sql: %s (a report query is one statement)", name,
                st ? "more than one statement, or text after its ;" : "no statement");
        goto done;
    }
    if (bind_params(st, name, p, e))
        goto done;
    if (!(*shown = sqlite3_expanded_sql(st))) {
        err_set(e, "out of memory");
        goto done;
    }
    rc = sqltable_read(st, t, e);
done:
    sqlite3_finalize(st);
    if (rc) {
        sqlite3_free(*shown);
        *shown = NULL;
    }
    return rc;
}
