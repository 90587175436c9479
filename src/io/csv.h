/* A small strict CSV reader: a header line, then rows with exactly as many
 * fields as the header.  Fields may be double-quoted (RFC 4180, "" for a
 * quote, no line breaks inside).  Blank lines are skipped; CRLF is accepted.
 * Errors name file:line:column and the field. */
#ifndef DRMM_CSV_H
#define DRMM_CSV_H

struct err_t;

typedef struct csv_table {
    char *path;               /* owned copy, for messages */
    int ncols;
    char **header;            /* ncols owned strings */
    int nrows;
    char ***rows;             /* nrows x ncols owned strings */
    int *lines;               /* nrows: line number of each row in the file */
} csv_table;

/* Reads path into *t (caller frees with csv_free).  Fails on an empty file,
 * an empty or duplicate header name, rows with missing or extra fields and
 * unterminated quotes. */
int  csv_read(const char *path, csv_table *t, struct err_t *e);
void csv_free(csv_table *t);
/* Column index of a header name, or -1. */
int  csv_column(const csv_table *t, const char *name);
/* Strict numeric fields: the whole field must parse (no blanks, no junk);
 * errors name file:line:column, the column name and the text. */
int  csv_get_long(const csv_table *t, int row, int col, long *out, struct err_t *e);
int  csv_get_double(const csv_table *t, int row, int col, double *out, struct err_t *e);

#endif
