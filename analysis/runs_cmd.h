/* What `runs` prints (src/programs/runs.c): listings of the store's runs,
 * the difference between two runs, an experiment against a baseline and any
 * view or table, as an aligned text table, CSV or JSON.  Each builds one SQL
 * query over the store's views (schema/README.md) into a sqltable. */
#ifndef DRMM_RUNS_CMD_H
#define DRMM_RUNS_CMD_H

#include <stdio.h>

#include "sqltable.h"

struct err_t;
struct sqlite3;

typedef enum { RUNS_TEXT = 0, RUNS_CSV, RUNS_JSON } runs_format;

/* One row per run of runs_summary with its tags and notes (run_provenance),
 * optionally of one experiment (name prefix "EXPERIMENT/"), one dataset and
 * one tag (NULL: all). */
int runs_list(struct sqlite3 *db, const char *experiment, const char *dataset, const char *tag, sqltable *t,
              struct err_t *e);

/* The run a command-line reference names: a run id, or a run name (its
 * latest run).  ERR_INPUT when there is none. */
int runs_resolve(struct sqlite3 *db, const char *ref, long long *id, struct err_t *e);

/* Runs a and b side by side: the provenance fields and configuration keys
 * (commit, diff, argv, command, host, CPU, libraries, tags, notes, ...)
 * and configuration keys that differ (all with all != 0), then every final metric (latest value),
 * the test error and reconstruction error, with b - a.  Columns: section,
 * key, run_<a>, run_<b>, b_minus_a. */
int runs_diff(struct sqlite3 *db, long long a, long long b, int all, sqltable *t, struct err_t *e);

/* Table 1 (grid_errors) of an experiment against a baseline experiment, per
 * dataset, label count and model: baseline and experiment mean test error
 * and runs, and the change (experiment - baseline; negative: better).  The
 * baseline is in the same store, or in the store attached as `base` (see
 * runs_attach) when in_base != 0. */
int runs_compare(struct sqlite3 *db, const char *experiment, const char *baseline, int in_base, sqltable *t,
                 struct err_t *e);
/* Attaches the store at path (which must exist) as schema `base`. */
int runs_attach(struct sqlite3 *db, const char *path, struct err_t *e);

/* Every row of a view or table of the store (ERR_INPUT naming the views when
 * there is none of that name). */
int runs_export(struct sqlite3 *db, const char *name, sqltable *t, struct err_t *e);

/* Writes t to f: aligned columns (NULL shown as -), CSV (RFC 4180, NULL
 * empty) or a JSON array of objects (NULL as null, numbers as numbers).
 * Reals are shown as the shortest text that reads back to the same double. */
int runs_print(FILE *f, const sqltable *t, runs_format fmt, struct err_t *e);

#endif
