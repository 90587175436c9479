/* The report of an experiment grid (the pipeline's runs of one dataset):
 * Markdown with the paper's Tables 1, 2 and 5, the reconstruction check
 * (LRC against mean(I^2)) with reconstruction grids, training curves and the
 * validation error by epoch (PNG and SVG, plot.h), the test error of each
 * class and the confusion matrices, the nuisance decoding of analysis (Figure 4), the generative
 * side drawn by `generate` (samples, activity maximisation, units rendered to pixels), the E-DRMM of
 * `edrmm` (each run's class tree and its coarse-to-fine test error), and every run's
 * configuration, data hash, git commit and runtime.  Every table is the
 * result of an SQL query, analysis/sql/NAME.sql (report_sql.h), over the
 * store's views (schema/004_report.sql): the report prints the query and
 * writes its result as NAME.csv next to the Markdown file.  Verdicts (does the DRMM beat the CNN, did LRC fall well
 * below mean(I^2)) are computed from those results, unless the report is
 * marked as not meaningful (no_verdict: a smoke run). */
#ifndef DRMM_GRID_REPORT_H
#define DRMM_GRID_REPORT_H

#include <stdint.h>

struct err_t;
struct sqlite3;

#define GRID_REPORT_MAX_GRIDS 16
#define GRID_REPORT_MAX_GENERATED 8

typedef struct grid_report_spec {
    const char *store_path;      /* the store as the user names it (shown in commands) */
    const char *dataset;
    const char *experiment;      /* run names EXPERIMENT/...; see grid_runs */
    const char *out_md;          /* report file; CSV and PNG files go next to it */
    const char *decoding_md;     /* analysis' decoding report to link and show, or NULL */
    int n_grids;                 /* reconstruction grids (bin/evaluate --grid) */
    int64_t grid_run[GRID_REPORT_MAX_GRIDS];
    const char *grid_png[GRID_REPORT_MAX_GRIDS];
    int n_generated;             /* Markdown fragments of `generate` (in the report's directory) */
    const char *generated_md[GRID_REPORT_MAX_GENERATED];
    const char *rmm_md;          /* Markdown fragment of `rmm` (in the report's directory), or NULL */
    const char *command;         /* how the report was made, or NULL */
    const char *notes;           /* a paragraph for the summary (e.g. the profile), or NULL */
    const char *no_verdict;      /* why the numbers mean nothing (e.g. a smoke test): the report says so
                                    and draws no verdict; NULL: verdicts computed */
    double well_below;           /* "LRC well below mean(I^2)": LRC / mean(I^2) below this */
} grid_report_spec;

/* What the report found (for the caller to print). */
typedef struct grid_report_outcome {
    int n_runs, n_ok;            /* grid runs; finished with a test evaluation on the present data */
    int n_compared, n_clearly;   /* label counts with DRMM +KL+NN and CNN; where the DRMM is clearly lower */
    int n_drmm, n_recon_ok;      /* finished DRMM runs; those with LRC / mean(I^2) < well_below */
} grid_report_outcome;

/* The experiments of dataset in the store (distinct grid_runs.experiment,
 * sorted); *names and each name are owned by the caller (free).  A dataset
 * that is not in the store is an input error (ERR_INPUT). */
int grid_report_experiments(struct sqlite3 *db, const char *dataset, char ***names, int *n, struct err_t *e);

/* Writes sp->out_md, its CSV files and PNG charts.  An experiment without
 * runs is an input error. */
int grid_report_write(struct sqlite3 *db, const grid_report_spec *sp, grid_report_outcome *out, struct err_t *e);

#endif
