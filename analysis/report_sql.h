/* The report's SQL: one query per file analysis/sql/NAME.sql, embedded into
 * the binaries at build time (scripts/report_sql.sh writes
 * report_sql_files.c), so that a report runs the queries of its program's
 * version wherever it is run from.  A file is a header of "--" comment
 * lines (what the query computes, which table and CSV file of the report it
 * makes, its parameters) and one statement with named parameters
 * (:experiment, :dataset, :well_below), which the report binds and a user
 * sets with sqlite3's `.parameter set` (README, "The report"). */
#ifndef DRMM_REPORT_SQL_H
#define DRMM_REPORT_SQL_H

#include "sqltable.h"

struct err_t;
struct sqlite3;

/* The files, sorted by name (generated): names without ".sql", texts whole. */
extern const char *const report_sql_names[];
extern const char *const report_sql_texts[];
extern const int report_sql_n;

/* The values of the parameters a query may use. */
typedef struct report_sql_params {
    const char *experiment;   /* :experiment, the runs' name prefix (grid_runs.experiment) */
    const char *dataset;      /* :dataset, the dataset's name */
    double well_below;        /* :well_below, "LRC well below mean(I^2)": LRC / mean(I^2) below this */
} report_sql_params;

/* The embedded text of analysis/sql/NAME.sql, or NULL when there is no
 * such file. */
const char *report_sql_text(const char *name);

/* The statement of a file's text: the text after its header comment (a
 * pointer into text). */
const char *report_sql_body(const char *text);

/* Runs the query NAME with p's values bound into *t (the caller frees it
 * with sqltable_free, also after a failure).  *shown gets the statement as
 * run, the parameters written as SQL literals (for the report to print; the
 * caller frees it with sqlite3_free; NULL after a failure).  An unknown
 * name, a parameter other than the three, or more than one statement is an
 * error naming the file. */
int report_sql_run(struct sqlite3 *db, const char *name, const report_sql_params *p, sqltable *t, char **shown,
                   struct err_t *e);

/* The same for the text of a query file (name only names it in errors). */
int report_sql_exec(struct sqlite3 *db, const char *name, const char *text, const report_sql_params *p, sqltable *t,
                    char **shown, struct err_t *e);

#endif
