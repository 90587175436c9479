/* The result of one SQL query held in memory as text cells (NULL = SQL
 * NULL), written out as CSV (RFC 4180) for users to reuse.  The report
 * (grid_report.h) builds every table from one of these, so each table it
 * shows is exactly the output of the query it prints. */
#ifndef DRMM_SQLTABLE_H
#define DRMM_SQLTABLE_H

#include <stdio.h>

struct err_t;
struct sqlite3;
struct sqlite3_stmt;

typedef struct sqltable {
    int n_cols, n_rows;
    char **cols;     /* n_cols column names */
    char **cells;    /* n_rows x n_cols, row-major; NULL for SQL NULL */
} sqltable;

/* Runs sql (one statement) on db into *t (caller frees with sqltable_free,
 * also after a failure).  Reals are printed with %.17g so that the text
 * reads back as the same double. */
int  sqltable_query(struct sqlite3 *db, const char *sql, sqltable *t, struct err_t *e);
/* The same for a statement the caller prepared (and bound) and finalizes. */
int  sqltable_read(struct sqlite3_stmt *st, sqltable *t, struct err_t *e);
void sqltable_free(sqltable *t);

/* Writes s to f as one CSV field (RFC 4180: quoted when it holds a comma,
 * quote or line break); nothing for NULL. */
void sqltable_csv_field(FILE *f, const char *s);

/* Index of the column named name, or -1. */
int sqltable_col(const sqltable *t, const char *name);
/* The cell's text (NULL for SQL NULL or an unknown column). */
const char *sqltable_str(const sqltable *t, int row, const char *col);
/* The cell as a number; NAN for SQL NULL, text that is no number or an
 * unknown column. */
double sqltable_num(const sqltable *t, int row, const char *col);

/* Writes the header and rows to path as CSV, one line each (RFC 4180
 * quoting: fields with a comma, quote or
 * line break quoted, quotes doubled; NULL as an empty field). */
int sqltable_write_csv(const sqltable *t, const char *path, struct err_t *e);

#endif
