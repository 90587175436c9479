/* The experiment grid's report (see grid_report.h).  Every query of
 * analysis/sql/ runs first (its result also goes to a CSV file); the
 * Markdown is then written top to bottom, the summary's verdicts computed
 * from those results, the charts drawn from them. */
#include "grid_report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "figure.h"
#include "edrmm_fig.h"
#include "filters_fig.h"
#include "plot.h"
#include "report_sql.h"
#include "sqltable.h"
#include "version.h"

#define MAX_LABELS 64
#define MAX_EPOCH_POINTS 40
#define MAX_CLASSES 1024

/* The report's queries, each analysis/sql/NAME.sql with its result in NAME.csv. */
enum { T_DATA, T_RUNS, T_T1, T_T2, T_T5, T_RECON, T_CURVES, T_CLASSES, T_CONFUSION, T_DECODING, T_FIG4, T_ARCH,
       T_COMMON, T_DIFF, T_EDRMM, N_TABLES };
static const char *const query_name[N_TABLES] = {
    [T_DATA] = "dataset", [T_RUNS] = "runs", [T_T1] = "table1_test_error", [T_T2] = "table2_penalty_reduction",
    [T_T5] = "table5_drmm_vs_cnn", [T_RECON] = "reconstruction", [T_CURVES] = "curves", [T_CLASSES] = "class_errors",
    [T_CONFUSION] = "confusion", [T_DECODING] = "decoding", [T_FIG4] = "figure4", [T_ARCH] = "architecture",
    [T_COMMON] = "config_common", [T_DIFF] = "config_by_run", [T_EDRMM] = "edrmm"};

typedef struct query {
    char csv[64];          /* file name of the result: NAME.csv */
    char *sql;             /* the statement as run, parameters as literals (sqlite3_free) */
    sqltable t;
} query;

typedef struct ctx {
    sqlite3 *db;
    const grid_report_spec *sp;
    FILE *f;
    char dir[PATH_MAX];
    query q[N_TABLES];
} ctx;

/* ---- small helpers ---- */

/* Prints s as a Markdown table cell (| escaped, line breaks as spaces). */
static void md_cell(FILE *f, const char *s)
{
    fputc(' ', f);
    if (!s || !*s)
        fputc('-', f);
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
    fputs(" |", f);
}

static void md_num(FILE *f, double v, const char *fmt)
{
    char b[64];
    if (isnan(v))
        snprintf(b, sizeof b, "-");
    else
        snprintf(b, sizeof b, fmt, v);
    md_cell(f, b);
}

/* A table's header row of n cells and its rule: "---" under the first cell
 * (the row names) and rule under the others ("---", or "---:" to align
 * numbers right). */
static void md_head(FILE *f, const char *const *cells, int n, const char *rule)
{
    fputc('|', f);
    for (int i = 0; i < n; i++)
        md_cell(f, cells[i]);
    fputs("\n|---|", f);
    for (int i = 1; i < n; i++)
        fprintf(f, "%s|", rule);
    fputc('\n', f);
}

/* md_head of the n (at most 16) cells given as arguments, rule "---". */
static void md_header(FILE *f, int n, ...)
{
    const char *cells[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && i < 16; i++)
        cells[i] = va_arg(ap, const char *);
    va_end(ap);
    md_head(f, cells, n < 16 ? n : 16, "---");
}

/* "12.34 ± 0.56", or "12.34" without a spread. */
static void pm(char *b, size_t n, double mean, double std)
{
    if (isnan(mean))
        snprintf(b, n, "-");
    else if (isnan(std))
        snprintf(b, n, "%.2f", mean);
    else
        snprintf(b, n, "%.2f ± %.2f", mean, std);
}

/* The query and a link to its CSV, after the table it made. */
static void show_query(ctx *c, int k)
{
    fprintf(c->f, "<details><summary>Query (result: <a href=\"%s\">%s</a>)</summary>\n\n```sql\n%s\n```\n\n</details>\n\n",
            c->q[k].csv, c->q[k].csv, c->q[k].sql);
}

/* Distinct values of an integer column in row order (the queries sort). */
static int distinct_ints(const sqltable *t, const char *col, long *out, int max)
{
    int n = 0;
    for (int r = 0; r < t->n_rows; r++) {
        double v = sqltable_num(t, r, col);
        if (isnan(v))
            continue;
        int seen = 0;
        for (int i = 0; i < n; i++)
            if (out[i] == (long)v) seen = 1;
        if (!seen && n < max)
            out[n++] = (long)v;
    }
    for (int i = 1; i < n; i++)   /* ascending */
        for (int j = i; j > 0 && out[j] < out[j - 1]; j--) {
            long t2 = out[j]; out[j] = out[j - 1]; out[j - 1] = t2;
        }
    return n;
}

/* Distinct strings of a column in row order (borrowed from t). */
static int distinct_strs(const sqltable *t, const char *col, const char **out, int max)
{
    int n = 0;
    for (int r = 0; r < t->n_rows; r++) {
        const char *s = sqltable_str(t, r, col);
        if (!s)
            continue;
        int seen = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(out[i], s)) seen = 1;
        if (!seen && n < max)
            out[n++] = s;
    }
    return n;
}

/* Row of t where col1 == v1 (number) and col2 == s2 (string), or -1. */
static int find_row(const sqltable *t, const char *col1, long v1, const char *col2, const char *s2)
{
    for (int r = 0; r < t->n_rows; r++) {
        const char *s = sqltable_str(t, r, col2);
        if ((long)sqltable_num(t, r, col1) == v1 && s && !strcmp(s, s2))
            return r;
    }
    return -1;
}

/* The path of file as seen from the report's directory: its base name when
 * it lies in that directory, else the path as given. */
static const char *rel_to_report(const ctx *c, const char *file, char *buf, size_t n)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", file);
    char *slash = strrchr(d, '/');
    const char *base = slash ? slash + 1 : file;
    if (slash)
        *slash = 0;
    else
        snprintf(d, sizeof d, ".");
    char a[PATH_MAX], b[PATH_MAX];
    if (realpath(d, a) && realpath(c->dir, b) && !strcmp(a, b))
        snprintf(buf, n, "%s", base);
    else
        snprintf(buf, n, "%s", file);
    return buf;
}

/* ---- the queries ---- */

/* Runs every query of the report (analysis/sql/NAME.sql), each result also
 * written to NAME.csv. */
static int fetch_all(ctx *c, err_t *e)
{
    report_sql_params p = {.experiment = c->sp->experiment, .dataset = c->sp->dataset,
                           .well_below = c->sp->well_below};
    for (int k = 0; k < N_TABLES; k++) {
        query *q = &c->q[k];
        snprintf(q->csv, sizeof q->csv, "%s.csv", query_name[k]);
        if (report_sql_run(c->db, query_name[k], &p, &q->t, &q->sql, e))
            return -1;
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", c->dir, q->csv);
        if (sqltable_write_csv(&q->t, path, e))
            return -1;
    }
    return 0;
}

/* ---- sections ---- */

static void section_summary(ctx *c, grid_report_outcome *o)
{
    FILE *f = c->f;
    const sqltable *runs = &c->q[T_RUNS].t, *t5 = &c->q[T_T5].t, *rec = &c->q[T_RECON].t;
    const char *models[8];
    int nm = distinct_strs(runs, "model", models, 8);
    long labels[MAX_LABELS], seeds[MAX_LABELS];
    int nl = distinct_ints(runs, "n_labels", labels, MAX_LABELS), ns = distinct_ints(runs, "seed", seeds, MAX_LABELS);
    double secs = 0;
    o->n_runs = runs->n_rows;
    o->n_ok = 0;
    for (int r = 0; r < runs->n_rows; r++) {
        const char *st = sqltable_str(runs, r, "status");
        if (st && !strcmp(st, "FINISHED") && sqltable_num(runs, r, "current_data") == 1 &&
            !isnan(sqltable_num(runs, r, "test_error_pct")))
            o->n_ok++;
        double s = sqltable_num(runs, r, "seconds");
        if (!isnan(s))
            secs += s;
    }
    fprintf(f, "## Summary\n\n- **Grid**: %d runs of experiment `%s` on `%s`; models", o->n_runs, c->sp->experiment,
            c->sp->dataset);
    for (int i = 0; i < nm; i++)
        fprintf(f, "%s %s", i ? "," : "", models[i]);
    fprintf(f, "; labels");
    for (int i = 0; i < nl; i++)
        fprintf(f, "%s %ld", i ? "," : "", labels[i]);
    fprintf(f, "; seeds");
    for (int i = 0; i < ns; i++)
        fprintf(f, "%s %ld", i ? "," : "", seeds[i]);
    fprintf(f, ". %d of them finished with a test evaluation on the present data and are in the tables", o->n_ok);
    if (o->n_ok < o->n_runs)
        fprintf(f, " (the others are listed under [Runs](#runs))");
    fprintf(f, ". Training took %.0f s (%.1f min) in all: the sum of the runs' wall times, which overlap when "
               "runs train in parallel.\n", secs, secs / 60);
    const char *nv = c->sp->no_verdict;
    if (nv)
        fprintf(f, "- **Not meaningful: no verdict.** %s. The report draws no conclusion from its numbers.\n", nv);
    /* Table 5 verdict */
    o->n_compared = t5->n_rows;
    o->n_clearly = 0;
    fprintf(f, "- **DRMM +KL+NN against the CNN** (the paper's Table 5: 6.48%% against 23.44%% at 4K labels on its "
               "synthetic set):");
    if (!t5->n_rows)
        fprintf(f, " no label count has both a finished DRMM +KL+NN run and a finished CNN run: nothing to compare.\n");
    else
        fprintf(f, "\n");
    for (int r = 0; r < t5->n_rows; r++) {
        double dr = sqltable_num(t5, r, "drmm_error_pct"), cn = sqltable_num(t5, r, "cnn_error_pct");
        double red = sqltable_num(t5, r, "reduction_pct"), se = sqltable_num(t5, r, "reduction_se_pct");
        int lower = sqltable_num(t5, r, "drmm_lower") == 1, clearly = sqltable_num(t5, r, "drmm_clearly_lower") == 1;
        const char *basis = sqltable_str(t5, r, "se_basis");
        o->n_clearly += clearly;
        fprintf(f, "  - %s labels: DRMM +KL+NN %.2f%% against CNN %.2f%% (%s and %s runs)%s",
                sqltable_str(t5, r, "n_labels"), dr, cn, sqltable_str(t5, r, "drmm_runs"),
                sqltable_str(t5, r, "cnn_runs"), nv ? ".\n" : ": ");
        if (nv)
            continue;
        if (clearly)
            fprintf(f, "lower by %.2f points, more than twice the standard error of the difference (%.2f points, "
                       "over the %s): **the DRMM beats the CNN**.\n", red, se, basis ? basis : "?");
        else if (lower)
            fprintf(f, "lower by %.2f points, but within twice the standard error of the difference (%.2f points, "
                       "over the %s): **no clear difference**.\n", red, se, basis ? basis : "?");
        else
            fprintf(f, "the DRMM is %s by %.2f points: **the DRMM does not beat the CNN**.\n",
                    red == 0 ? "equal, different" : "higher", fabs(red));
    }
    if (t5->n_rows && !nv) {
        if (o->n_clearly == t5->n_rows)
            fprintf(f, "  - So the paper's finding **shows here** at %s.\n",
                    t5->n_rows == 1 ? "this label count" : "every label count");
        else if (o->n_clearly)
            fprintf(f, "  - So the paper's finding **shows at %d of %d label counts** only.\n", o->n_clearly,
                    t5->n_rows);
        else
            fprintf(f, "  - So the paper's finding **does not show here**.\n");
    }
    /* reconstruction verdict */
    o->n_drmm = 0;
    o->n_recon_ok = 0;
    for (int r = 0; r < rec->n_rows; r++) {
        o->n_drmm += (int)sqltable_num(rec, r, "n_runs");
        double k = sqltable_num(rec, r, "runs_well_below");
        o->n_recon_ok += isnan(k) ? 0 : (int)k;
    }
    fprintf(f, "- **Reconstruction** (LRC against mean(I²), the LRC of rendering nothing; \"well below\" = "
               "LRC / mean(I²) < %g at the last epoch): ", c->sp->well_below);
    if (!o->n_drmm)
        fprintf(f, "no finished DRMM run.\n");
    else {
        fprintf(f, "LRC fell well below mean(I²) in %d of %d DRMM runs", o->n_recon_ok, o->n_drmm);
        if (!nv)
            fprintf(f, o->n_recon_ok == o->n_drmm ? ": **the reconstruction term trains**" :
                       o->n_recon_ok ? ": **only partly**" : ": **the reconstruction did not train well**");
        fprintf(f, " (LRC / mean(I²), training, and on the test images:");
        for (int r = 0; r < rec->n_rows; r++)
            fprintf(f, "%s %s %s labels %.3f and %.3f", r ? ";" : "", sqltable_str(rec, r, "model"),
                    sqltable_str(rec, r, "n_labels"), sqltable_num(rec, r, "lrc_ratio"),
                    sqltable_num(rec, r, "test_recon_ratio"));
        fprintf(f, ").\n");
    }
    if (c->sp->notes && *c->sp->notes)
        fprintf(f, "- %s\n", c->sp->notes);
    fprintf(f, "\n");
}

static void section_data(ctx *c)
{
    const sqltable *t = &c->q[T_DATA].t;
    FILE *f = c->f;
    fprintf(f, "## Data\n\n");
    md_header(f, 7, "dataset", "source", "sha256", "train", "test", "shape", "classes / latents");
    for (int r = 0; r < t->n_rows; r++) {
        char cl[64];
        snprintf(cl, sizeof cl, "%s / %s", sqltable_str(t, r, "n_classes"), sqltable_str(t, r, "n_latents"));
        fputc('|', f);
        md_cell(f, sqltable_str(t, r, "name"));
        md_cell(f, sqltable_str(t, r, "source"));
        md_cell(f, sqltable_str(t, r, "sha256"));
        md_cell(f, sqltable_str(t, r, "n_train"));
        md_cell(f, sqltable_str(t, r, "n_test"));
        md_cell(f, sqltable_str(t, r, "shape"));
        md_cell(f, cl);
        fputc('\n', f);
    }
    fprintf(f, "\n");
    show_query(c, T_DATA);
}

/* Rows: models in query order; columns: label counts; cell(row) formats one. */
static void pivot(FILE *f, const sqltable *t, const char *first, void (*cell)(const sqltable *, int, char *, size_t))
{
    long labels[MAX_LABELS];
    const char *models[8];
    int nl = distinct_ints(t, "n_labels", labels, MAX_LABELS), nm = distinct_strs(t, "model", models, 8);
    char h[MAX_LABELS][48];
    const char *head[MAX_LABELS + 1] = {first};
    for (int j = 0; j < nl; j++) {
        snprintf(h[j], sizeof h[j], "N_L = %ld", labels[j]);
        head[1 + j] = h[j];
    }
    md_head(f, head, 1 + nl, "---");
    for (int i = 0; i < nm; i++) {
        fprintf(f, "|");
        md_cell(f, models[i]);
        for (int j = 0; j < nl; j++) {
            int r = find_row(t, "n_labels", labels[j], "model", models[i]);
            char b[96] = "-";
            if (r >= 0)
                cell(t, r, b, sizeof b);
            md_cell(f, b);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

static void cell_t1(const sqltable *t, int r, char *b, size_t n)
{
    char m[64];
    pm(m, sizeof m, sqltable_num(t, r, "error_pct"), sqltable_num(t, r, "std_pct"));
    int k = (int)sqltable_num(t, r, "n_runs");
    if (k > 1)
        snprintf(b, n, "%s (%d runs)", m, k);
    else
        snprintf(b, n, "%s", m);
}

static void cell_t2(const sqltable *t, int r, char *b, size_t n)
{
    snprintf(b, n, "%+.2f", sqltable_num(t, r, "reduction_pct"));
}

static void section_tables(ctx *c)
{
    FILE *f = c->f;
    fprintf(f, "## Table 1: test error (%%)\n\n"
               "Test error of each model by the number of labelled images N_L: mean ± sample standard deviation "
               "over the seeds (each seed also draws its own labelled subset). DRMM models are trained "
               "semi-supervised on every training image; the CNN is the same bottom-up network trained on the "
               "labelled images only.\n\n");
    if (c->q[T_T1].t.n_rows)
        pivot(f, &c->q[T_T1].t, "model", cell_t1);
    else
        fprintf(f, "No finished run with a test evaluation.\n\n");
    show_query(c, T_T1);

    fprintf(f, "## Table 2: error reduction by the penalties (percentage points)\n\n"
               "Mean test error of the plain DRMM minus that of the DRMM with the penalty, at the same N_L "
               "(positive: the penalty helps).\n\n");
    if (c->q[T_T2].t.n_rows)
        pivot(f, &c->q[T_T2].t, "model", cell_t2);
    else
        fprintf(f, "Needs the plain DRMM and a penalised DRMM at the same N_L; there is none.\n\n");
    show_query(c, T_T2);

    const sqltable *t = &c->q[T_T5].t;
    fprintf(f, "## Table 5: DRMM +KL+NN against the CNN (%%)\n\n"
               "Reduction = CNN error - DRMM error (positive: the DRMM is better). SE = standard error of the "
               "reduction: over the seeds when both models have at least two runs, else from the test set "
               "alone (binomial; blind to the spread over seeds). \"Clearly\" = reduction > 2 SE.\n\n");
    md_header(f, 6, "N_L", "CNN", "DRMM +KL+NN", "reduction", "SE (basis)", "DRMM clearly better");
    for (int r = 0; r < t->n_rows; r++) {
        char a[64], b[64], s[96];
        pm(a, sizeof a, sqltable_num(t, r, "cnn_error_pct"), sqltable_num(t, r, "cnn_std_pct"));
        pm(b, sizeof b, sqltable_num(t, r, "drmm_error_pct"), sqltable_num(t, r, "drmm_std_pct"));
        snprintf(s, sizeof s, "%.2f (%s)", sqltable_num(t, r, "reduction_se_pct"), sqltable_str(t, r, "se_basis"));
        fputc('|', f);
        md_cell(f, sqltable_str(t, r, "n_labels"));
        md_cell(f, a);
        md_cell(f, b);
        md_num(f, sqltable_num(t, r, "reduction_pct"), "%+.2f");
        md_cell(f, s);
        md_cell(f, c->sp->no_verdict ? "(no verdict)" : sqltable_num(t, r, "drmm_clearly_lower") == 1 ? "yes" : "no");
        fputc('\n', f);
    }
    if (!t->n_rows)
        fprintf(f, "| - | - | - | - | - | - |\n");
    fprintf(f, "\n");
    show_query(c, T_T5);
}

static void section_reconstruction(ctx *c)
{
    FILE *f = c->f;
    const sqltable *t = &c->q[T_RECON].t, *runs = &c->q[T_RUNS].t;
    fprintf(f, "## Reconstruction\n\n"
               "LRC = mean over pixels of (I - I-hat)² on the unlabelled half of each training batch, averaged "
               "over an epoch; mean(I²) over the same images is the LRC of rendering nothing. A ratio LRC / "
               "mean(I²) well below 1 means the top-down pass renders the images (\"well below\": under %g, "
               "counted on the last training epoch). The last three columns measure the same on the test "
               "images (`evaluate`).\n\n",
            c->sp->well_below);
    md_header(f, 11, "N_L", "model", "runs", "LRC, epoch 1", "LRC, last epoch", "mean(I²)", "LRC / mean(I²)",
              "runs well below", "test LRC", "test mean(I²)", "test LRC / mean(I²)");
    for (int r = 0; r < t->n_rows; r++) {
        fputc('|', f);
        md_cell(f, sqltable_str(t, r, "n_labels"));
        md_cell(f, sqltable_str(t, r, "model"));
        md_cell(f, sqltable_str(t, r, "n_runs"));
        md_num(f, sqltable_num(t, r, "first_lrc"), "%.4f");
        md_num(f, sqltable_num(t, r, "lrc"), "%.4f");
        md_num(f, sqltable_num(t, r, "x2"), "%.4f");
        md_num(f, sqltable_num(t, r, "lrc_ratio"), "%.3f");
        md_cell(f, sqltable_str(t, r, "runs_well_below"));
        md_num(f, sqltable_num(t, r, "test_recon_error"), "%.4f");
        md_num(f, sqltable_num(t, r, "test_x2"), "%.4f");
        md_num(f, sqltable_num(t, r, "test_recon_ratio"), "%.3f");
        fputc('\n', f);
    }
    if (!t->n_rows)
        fprintf(f, "| - | - | - | - | - | - | - | - | - | - | - |\n");
    fprintf(f, "\n");
    show_query(c, T_RECON);
    if (!c->sp->n_grids) {
        fprintf(f, "No reconstruction grid was given to the report (`evaluate --grid`).\n\n");
        return;
    }
    fprintf(f, "### Reconstruction grids\n\nPer class (one row each, named on the left), test images (input) "
               "beside their top-down renderings I-hat (render), on the same grey scale, enlarged without "
               "smoothing (written by `evaluate --grid`, with an SVG of the same name).\n\n");
    for (int i = 0; i < c->sp->n_grids; i++) {
        char cap[256] = "", rel[PATH_MAX];
        for (int r = 0; r < runs->n_rows; r++)
            if ((int64_t)sqltable_num(runs, r, "run_id") == c->sp->grid_run[i])
                snprintf(cap, sizeof cap, "run %s: %s, %s labels, seed %s", sqltable_str(runs, r, "run_id"),
                         sqltable_str(runs, r, "model"), sqltable_str(runs, r, "n_labels"),
                         sqltable_str(runs, r, "seed"));
        if (!*cap)
            snprintf(cap, sizeof cap, "run %lld", (long long)c->sp->grid_run[i]);
        char svg_full[PATH_MAX], svg_rel[PATH_MAX];
        rel_to_report(c, c->sp->grid_png[i], rel, sizeof rel);
        fprintf(f, "**%s**\n\n![reconstructions of %s](%s)", cap, cap, rel);
        figure_svg_path(c->sp->grid_png[i], svg_full, sizeof svg_full);
        if (access(svg_full, R_OK) == 0) {   /* evaluate --grid writes one beside the PNG */
            figure_svg_path(rel, svg_rel, sizeof svg_rel);
            fprintf(f, " ([SVG](%s))", svg_rel);
        }
        fprintf(f, "\n\n");
    }
}

/* The first layer's filters of DRMM +KL+NN and the CNN (the first seed at
 * the smallest label count of each), as a picture beside the report. */
static void section_filters(ctx *c)
{
    FILE *f = c->f;
    const sqltable *runs = &c->q[T_RUNS].t;
    static const char *const models[] = {"DRMM +KL+NN", "CNN"};
    int64_t ids[2];
    char caps[2][160];
    const char *labels[2];
    int n = 0;
    for (int m = 0; m < 2; m++) {
        int best = -1;
        for (int r = 0; r < runs->n_rows; r++)
            if (!strcmp(sqltable_str(runs, r, "model"), models[m]) &&
                (best < 0 || sqltable_num(runs, r, "n_labels") < sqltable_num(runs, best, "n_labels") ||
                 (sqltable_num(runs, r, "n_labels") == sqltable_num(runs, best, "n_labels") &&
                  sqltable_num(runs, r, "seed") < sqltable_num(runs, best, "seed"))))
                best = r;
        if (best < 0)
            continue;
        ids[n] = (int64_t)sqltable_num(runs, best, "run_id");
        snprintf(caps[n], sizeof caps[n], "%s (run %lld, %s labels, seed %s)", models[m], (long long)ids[n],
                 sqltable_str(runs, best, "n_labels"), sqltable_str(runs, best, "seed"));
        labels[n] = caps[n];
        n++;
    }
    if (!n)
        return;
    char png[PATH_MAX + 16];
    snprintf(png, sizeof png, "%s/filters.png", c->dir);
    err_t e = {.msg = ""};
    fprintf(f, "### First-layer filters\n\n");
    if (filters_figure(c->db, ids, labels, n, png, &e)) {
        fprintf(f, "Not drawn: %s.\n\n", e.msg);
        return;
    }
    fprintf(f, "The first convolution's filters at the last checkpoint, each scaled by its own largest weight "
               "(mid-grey 0, lighter positive, darker negative).\n\n![first-layer filters](filters.png) "
               "([SVG](filters.svg))\n\n");
}

/* The generative side: each of generate's fragments holds three parts
 * (after the lines <!-- samples -->, <!-- actmax -->, <!-- units -->); the
 * report puts each part under its section. */
static const char *const GEN_PARTS[3] = {"<!-- samples -->\n", "<!-- actmax -->\n", "<!-- units -->\n"};
/* The marker of rmm's fragment. */
static const char *const RMM_PART = "<!-- rmm -->\n";

/* Reads a program's Markdown fragment (at most 64 KiB) into *out: it must
 * hold marker and lie in the report's directory (its figures are linked by
 * base name). */
static int read_fragment(const ctx *c, const char *path, const char *marker, const char *program, const char *what,
                         const char *how, char **out, err_t *e)
{
    char rel[PATH_MAX];
    FILE *g = fopen(path, "r");
    if (!g)
        return err_input(e, "%s %s: %s", what, path, strerror(errno));
    char *t = malloc(1 << 16);
    size_t len = t ? fread(t, 1, (1 << 16) - 1, g) : 0;
    fclose(g);
    if (!t)
        return err_set(e, "out of memory");
    t[len] = 0;
    *out = t;
    if (!strstr(t, marker))
        return err_input(e, "%s is not a fragment of `%s` (no %.*s line)", path, program, (int)strlen(marker) - 1,
                         marker);
    if (strchr(rel_to_report(c, path, rel, sizeof rel), '/'))
        return err_input(e, "%s: %s's files must be in the report's directory %s (%s)", path, program, c->dir, how);
    return 0;
}

/* The shallow Rendering Mixture Model's section: rmm's fragment. */
static void section_rmm(ctx *c, const char *text)
{
    const char *p = strstr(text, RMM_PART) + strlen(RMM_PART);
    fprintf(c->f, "## The shallow Rendering Mixture Model (Figures 3 and 6)\n\n"
                  "The supplement's one-layer Rendering Mixture Model trained by EM on the training images, without "
                  "labels (bin/rmm; README, \"Training modes, the shallow RMM and the RFM\"): every patch is rendered from "
                  "one of K templates plus Gaussian noise; the E-step is a network layer (templates as weights, a "
                  "softmax); the M-step averages the patches under their responsibilities. Its templates are the "
                  "learned filters of Figure 6, and each training image is reconstructed from its patches' most "
                  "probable templates.\n\n%s", p);
}

static void section_generative(ctx *c, char *const *text)
{
    FILE *f = c->f;
    static const char *const heads[3] = {
        "## Samples from the model\n\n"
        "Images drawn from the generative model (`generate`): for a class c, the switches of every layer are "
        "drawn top-down, per unit, from how often they were on in the bottom-up passes of training images the "
        "model assigns to c (per max-pooling window: the position t from how often each position won, then a "
        "from how often the winner was on), and c is rendered through them with the model's own top-down "
        "pass. One row per class.\n\n",
        "## Activity maximisation\n\n"
        "The image of norm r that maximises a class score (supplement, section E). With the switches g fixed, "
        "the score is affine in the image, S_c(I) = <R_c(g), I> + b, R_c(g) the classifier's row of c "
        "rendered down through g (the exact adjoint of the bottom-up pass, = dS_c/dI), so the maximiser is "
        "r R_c(g) / ||R_c(g)||: the template rendered along the active paths. The closed form is the "
        "self-consistent one, g the switches of the image itself, found by iteration (a fixed point, when "
        "there is one); beside it projected gradient ascent on ||I|| = r from the same start. The last column "
        "says whether the ascent ended at such a closed-form image (the closed form started from the ascent's "
        "end).\n\n",
        "## Units of every layer rendered to pixels (Figure 6)\n\n"
        "Filters of deeper layers seen in pixel space: a one at a unit of layer l, rendered down through the "
        "layers below with the model's top-down pass and the switches of the training image where the unit's "
        "channel responds most (at that position). Those switches are a configuration the model infers for a "
        "real image; all switches on would render every position of every pooling window at once, which no "
        "image produces. The first row is the first layer's filters placed at their best position.\n\n"};
    for (int part = 0; part < 3; part++) {
        fprintf(f, "%s", heads[part]);
        for (int i = 0; i < c->sp->n_generated; i++) {
            const char *p = strstr(text[i], GEN_PARTS[part]);
            if (!p)
                continue;
            p += strlen(GEN_PARTS[part]);
            const char *end = strstr(p, "<!-- ");
            fprintf(f, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
        }
    }
}

/* The E-DRMM (supplement, section F; `edrmm`): per run with a class tree,
 * the flat and coarse-to-fine test errors and the tree as a dendrogram. */
static void section_edrmm(ctx *c)
{
    FILE *f = c->f;
    const sqltable *t = &c->q[T_EDRMM].t;
    if (!t->n_rows)
        return;
    fprintf(f, "## The E-DRMM: inference as a decision tree (supplement, section F)\n\n"
               "The evolutionary DRMM renders a class by mutating an ancestor template down a tree of classes, and "
               "its inference is a decision tree: from the root, take the child whose template matches the image "
               "best (Eq. 47, ChooseChild(Filter(I))), down to a class. The supplement does not say how the tree "
               "is learned; here (`edrmm`, README \"The E-DRMM\") it is built from the trained model: each class's "
               "template is the mean of the images the model renders from that class through the switches of the "
               "training images it assigns to it, and the classes are clustered by average linkage (Euclidean "
               "distance). A node's template is the mean of its classes' (their ancestor); with the switches of "
               "the bottom-up pass fixed a class score is linear in its template, so a child's score is the mean "
               "log probability of its classes, and coarse-to-fine inference takes the best child at every node. "
               "Flat inference is the model's own (the most probable class); on a tree of one split of all "
               "classes the two are the same.\n\n"
               "Rule, stated before the numbers: coarse-to-fine inference is worse (better) than flat when its "
               "test error exceeds (falls below) the flat one by more than twice sqrt(D) / n, D the images where "
               "the two choose different classes (a bound on the standard error of the paired difference); "
               "otherwise they are not distinguished.\n\n");
    md_header(f, 11, "labels", "model", "seed", "run", "test images", "flat error (%)", "tree error (%)",
              "tree - flat (points)", "same class (%)", "root right (%)", "verdict");
    for (int r = 0; r < t->n_rows; r++) {
        double n = sqltable_num(t, r, "n_images"), fl = sqltable_num(t, r, "flat_error_pct"),
               tr = sqltable_num(t, r, "tree_error_pct"), ag = sqltable_num(t, r, "agree_pct");
        double se = 100 * sqrt(n * (1 - ag / 100)) / n, d = tr - fl;
        fputc('|', f);
        md_cell(f, sqltable_str(t, r, "n_labels"));
        md_cell(f, sqltable_str(t, r, "model"));
        md_cell(f, sqltable_str(t, r, "seed"));
        md_cell(f, sqltable_str(t, r, "run_id"));
        md_cell(f, sqltable_str(t, r, "n_images"));
        md_num(f, fl, "%.2f");
        md_num(f, tr, "%.2f");
        md_num(f, d, "%+.2f");
        md_num(f, ag, "%.1f");
        md_num(f, sqltable_num(t, r, "root_right_pct"), "%.1f");
        md_cell(f, c->sp->no_verdict ? "(no verdict)" : d > 2 * se ? "worse" : d < -2 * se ? "better"
                                                                         : "not distinguished");
        fputc('\n', f);
    }
    fputc('\n', f);
    show_query(c, T_EDRMM);
    for (int r = 0; r < t->n_rows; r++) {
        char png[PATH_MAX + 64], name[64], title[256];
        snprintf(name, sizeof name, "edrmm_run%s.png", sqltable_str(t, r, "run_id"));
        snprintf(png, sizeof png, "%s/%s", c->dir, name);
        snprintf(title, sizeof title, "%s, %s labels, seed %s (run %s): the E-DRMM's class tree",
                 sqltable_str(t, r, "model"), sqltable_str(t, r, "n_labels"), sqltable_str(t, r, "seed"),
                 sqltable_str(t, r, "run_id"));
        err_t e = {.msg = ""};
        if (edrmm_figure(c->db, (int64_t)sqltable_num(t, r, "tree_id"), title, png, &e)) {
            fprintf(f, "Tree of run %s not drawn: %s.\n\n", sqltable_str(t, r, "run_id"), e.msg);
            continue;
        }
        fprintf(f, "![%s](%s) ([SVG](%.*s.svg))\n\n", title, name, (int)strlen(name) - 4, name);
    }
}

/* One chart: metric by epoch for the models at label count L, the mean over
 * the seeds with a band from the lowest to the highest seed.  Returns 1 when
 * drawn, 0 when there is nothing to draw, -1 on error. */
static int curve_chart(ctx *c, long L, const char *metric, const char *what, const char *ylabel, double yscale,
                       int with_x2, char *png, size_t pngn, err_t *e)
{
    const sqltable *t = &c->q[T_CURVES].t;
    const char *models[PLOT_MAX_SERIES];
    int nm = 0, emax = 0, max_runs = 0;
    for (int r = 0; r < t->n_rows; r++) {
        const char *m = sqltable_str(t, r, "metric"), *mo = sqltable_str(t, r, "model");
        if ((long)sqltable_num(t, r, "n_labels") != L || !m || strcmp(m, metric) || !mo ||
            isnan(sqltable_num(t, r, "value")))
            continue;
        int ep = (int)sqltable_num(t, r, "epoch"), seen = 0, k = (int)sqltable_num(t, r, "n_runs");
        if (ep > emax)
            emax = ep;
        if (k > max_runs)
            max_runs = k;
        for (int i = 0; i < nm; i++)
            if (!strcmp(models[i], mo)) seen = 1;
        if (!seen && nm < PLOT_MAX_SERIES)
            models[nm++] = mo;
    }
    if (!nm || emax < 1)
        return 0;                               /* nothing to draw */
    int nx = emax < MAX_EPOCH_POINTS ? emax : MAX_EPOCH_POINTS;
    int epochs[MAX_EPOCH_POINTS];
    char tick[MAX_EPOCH_POINTS][16];
    const char *xt[MAX_EPOCH_POINTS];
    int label_every = nx <= 20 ? 1 : (nx + 9) / 10;
    for (int i = 0; i < nx; i++) {
        epochs[i] = nx == 1 ? emax : 1 + (int)lround((double)i * (emax - 1) / (nx - 1));   /* first and last */
        if (i % label_every == 0 || i == nx - 1)
            snprintf(tick[i], sizeof tick[i], "%d", epochs[i]);
        else
            tick[i][0] = 0;
        xt[i] = tick[i];
    }
    double ys[PLOT_MAX_SERIES][3][MAX_EPOCH_POINTS], x2sum = 0;
    int x2n = 0;
    plot_series ser[PLOT_MAX_SERIES];
    for (int s = 0; s < nm; s++) {
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < nx; i++)
                ys[s][k][i] = NAN;
        ser[s] = (plot_series){.label = models[s], .y = ys[s][0]};
        if (max_runs > 1) {
            ser[s].lo = ys[s][1];
            ser[s].hi = ys[s][2];
        }
    }
    for (int r = 0; r < t->n_rows; r++) {
        const char *m = sqltable_str(t, r, "metric"), *mo = sqltable_str(t, r, "model");
        if ((long)sqltable_num(t, r, "n_labels") != L || !m || !mo)
            continue;
        double v = sqltable_num(t, r, "value");
        int ep = (int)sqltable_num(t, r, "epoch");
        if (with_x2 && !strcmp(m, "x2") && !isnan(v)) {
            x2sum += v;
            x2n++;
            continue;
        }
        if (strcmp(m, metric) || isnan(v))
            continue;
        for (int s = 0; s < nm; s++)
            if (!strcmp(models[s], mo))
                for (int i = 0; i < nx; i++)
                    if (epochs[i] == ep) {
                        ys[s][0][i] = v;
                        ys[s][1][i] = sqltable_num(t, r, "min_value");
                        ys[s][2][i] = sqltable_num(t, r, "max_value");
                    }
    }
    char title[192], note[128];
    snprintf(title, sizeof title, "%s, %ld labels: %s by epoch%s", c->sp->dataset, L, what,
             emax > nx ? " (sampled)" : "");
    if (max_runs > 1)
        snprintf(note, sizeof note, "line: mean over the seeds (up to %d runs); band: lowest to highest seed",
                 max_runs);
    else
        snprintf(note, sizeof note, "one run per model");
    plot_chart ch = {.title = title, .note = note, .xlabel = "epoch", .ylabel = ylabel, .n_x = nx, .xticks = xt,
                     .yscale = yscale, .series = ser, .n_series = nm,
                     .ref = x2n ? x2sum / x2n : NAN, .ref_label = "mean(I²): LRC of rendering nothing"};
    snprintf(png, pngn, "curves_%s_n%ld.png", metric, L);
    char path[PATH_MAX + 160];
    snprintf(path, sizeof path, "%s/%s", c->dir, png);
    if (plot_write(path, &ch, 900, 460, e))
        return -1;
    return 1;
}

static int section_curves(ctx *c, err_t *e)
{
    FILE *f = c->f;
    const sqltable *t = &c->q[T_CURVES].t;
    long labels[MAX_LABELS];
    int nl = distinct_ints(t, "n_labels", labels, MAX_LABELS), valid = 0;
    for (int r = 0; r < t->n_rows; r++)
        if (!strcmp(sqltable_str(t, r, "metric"), "valid_error") && !isnan(sqltable_num(t, r, "value")))
            valid = 1;
    fprintf(f, "## Training curves\n\n"
               "Epoch means of the finished runs, the line the mean over the seeds and the band from the lowest "
               "to the highest seed (when there are several): the cross-entropy LH on the labelled half, the "
               "reconstruction error LRC on the unlabelled half (dashed: mean(I²), the LRC of rendering nothing), "
               "the training error on the labelled half, and the held-out error after every epoch. The held-out "
               "error is the error on a validation split the run held out of its training images (`train --valid "
               "N`, the pipeline's `VALID`; metric `valid_error`), measured with the BN running averages after "
               "each epoch: the test set is measured once, at the end (Table 1), so that no choice is made on "
               "it.%s%s Each chart is also an SVG file of the same name.\n\n",
            nl ? "" : " No finished run has curves.",
            valid || !nl ? "" : " No run held out a validation split here, so there is no held-out curve.");
    for (int j = 0; j < nl; j++) {
        static const struct { const char *metric, *what, *ylabel; double scale; int x2; } ch[] = {
            {"lh", "cross-entropy LH", "LH", 1, 0},
            {"lrc", "reconstruction error LRC", "LRC", 1, 1},
            {"train_error", "training error (labelled half)", "training error %", 100, 0},
            {"valid_error", "held-out (validation) error", "validation error %", 100, 0}};
        fprintf(f, "### N_L = %ld\n\n", labels[j]);
        for (int k = 0; k < 4; k++) {
            char png[128];
            int rc = curve_chart(c, labels[j], ch[k].metric, ch[k].what, ch[k].ylabel, ch[k].scale, ch[k].x2, png,
                                 sizeof png, e);
            if (rc < 0)
                return -1;
            if (rc)
                fprintf(f, "![%s by epoch, %ld labels](%s) ([SVG](%.*s.svg))\n\n", ch[k].what, labels[j], png,
                        (int)strlen(png) - 4, png);
        }
    }
    show_query(c, T_CURVES);
    return 0;
}

/* Per-class test errors and confusion matrices, by label count. */
static void section_classes(ctx *c)
{
    FILE *f = c->f;
    const sqltable *ce = &c->q[T_CLASSES].t, *cm = &c->q[T_CONFUSION].t;
    fprintf(f, "## Errors by class\n\n"
               "The test error of each class (latest test evaluation of each finished run, as `evaluate` stored "
               "it), mean over the seeds, and the confusion matrices summed over the seeds (rows: true class, "
               "columns: predicted class, cells: test images).%s\n\n",
            ce->n_rows ? "" : " No finished run has a test evaluation.");
    long labels[MAX_LABELS];
    int nl = distinct_ints(ce, "n_labels", labels, MAX_LABELS);
    for (int j = 0; j < nl; j++) {
        const char *models[8];
        long classes[MAX_CLASSES];
        char class_head[MAX_CLASSES][24];
        int nm = 0, nc = 0;
        for (int r = 0; r < ce->n_rows; r++) {
            if ((long)sqltable_num(ce, r, "n_labels") != labels[j])
                continue;
            const char *mo = sqltable_str(ce, r, "model");
            int seen = 0;
            for (int i = 0; i < nm; i++)
                if (!strcmp(models[i], mo)) seen = 1;
            if (!seen && nm < 8)
                models[nm++] = mo;
            long k = (long)sqltable_num(ce, r, "class");
            seen = 0;
            for (int i = 0; i < nc; i++)
                if (classes[i] == k) seen = 1;
            if (!seen && nc < MAX_CLASSES)
                classes[nc++] = k;
        }
        fprintf(f, "### N_L = %ld: test error by class (%%)\n\n", labels[j]);
        const char *head[1 + MAX_CLASSES] = {"class"};
        for (int m = 0; m < nm; m++)
            head[1 + m] = models[m];
        md_head(f, head, 1 + nm, "---");
        for (int k = 0; k < nc; k++) {
            fputc('|', f);
            char name[160] = "";
            for (int m = 0; m < nm; m++) {
                int r = -1;
                for (int i = 0; i < ce->n_rows && r < 0; i++)
                    if ((long)sqltable_num(ce, i, "n_labels") == labels[j] &&
                        (long)sqltable_num(ce, i, "class") == classes[k] && !strcmp(sqltable_str(ce, i, "model"), models[m]))
                        r = i;
                if (!m) {
                    const char *cn = r >= 0 ? sqltable_str(ce, r, "class_name") : NULL;
                    snprintf(name, sizeof name, "%ld%s%s", classes[k], cn ? " " : "", cn ? cn : "");
                    md_cell(f, name);
                }
                md_num(f, r >= 0 ? sqltable_num(ce, r, "error_pct") : NAN, "%.1f");
            }
            fputc('\n', f);
        }
        fprintf(f, "\n");
        for (int m = 0; m < nm; m++) {
            int runs = 0;
            for (int r = 0; r < cm->n_rows; r++)
                if ((long)sqltable_num(cm, r, "n_labels") == labels[j] && !strcmp(sqltable_str(cm, r, "model"), models[m]))
                    runs = (int)sqltable_num(cm, r, "n_runs");
            if (!runs)
                continue;
            fprintf(f, "<details><summary>Confusion matrix: %s, %ld labels (%d run%s)</summary>\n\n", models[m],
                    labels[j], runs, runs == 1 ? "" : "s");
            head[0] = "true \\ predicted";
            for (int k = 0; k < nc; k++) {
                snprintf(class_head[k], sizeof class_head[k], "%ld", classes[k]);
                head[1 + k] = class_head[k];
            }
            md_head(f, head, 1 + nc, "---:");
            for (int a = 0; a < nc; a++) {
                fprintf(f, "| %ld |", classes[a]);
                for (int b = 0; b < nc; b++) {
                    double v = NAN;
                    for (int r = 0; r < cm->n_rows; r++)
                        if ((long)sqltable_num(cm, r, "n_labels") == labels[j] &&
                            !strcmp(sqltable_str(cm, r, "model"), models[m]) &&
                            (long)sqltable_num(cm, r, "true_class") == classes[a] &&
                            (long)sqltable_num(cm, r, "predicted_class") == classes[b])
                            v = sqltable_num(cm, r, "images");
                    char cell[32];
                    if (isnan(v))
                        snprintf(cell, sizeof cell, "-");
                    else
                        snprintf(cell, sizeof cell, a == b ? "**%.0f**" : "%.0f", v);
                    md_cell(f, cell);
                }
                fputc('\n', f);
            }
            fprintf(f, "\n</details>\n\n");
        }
    }
    show_query(c, T_CLASSES);
    show_query(c, T_CONFUSION);
}

/* "conv3 (71.2%)": a layer and its error, or "never" for a NULL layer. */
static void layer_cell(FILE *f, const sqltable *t, int r, const char *layer_col, const char *error_col)
{
    const char *ly = sqltable_str(t, r, layer_col);
    char b[96];
    if (!ly)
        snprintf(b, sizeof b, "never");
    else if (error_col)
        snprintf(b, sizeof b, "%s (%.1f%%)", ly, sqltable_num(t, r, error_col));
    else
        snprintf(b, sizeof b, "%s", ly);
    md_cell(f, b);
}

/* The Figure 4 verdict per latent (analysis/sql/figure4.sql): the rule,
 * then per label count and DRMM setting a table and the latents for which
 * the pattern shows.  Not meaningful data (no_verdict) gets the numbers
 * without the verdicts. */
static void figure4_verdict(ctx *c)
{
    FILE *f = c->f;
    const sqltable *t = &c->q[T_FIG4].t;
    const char *nv = c->sp->no_verdict;
    if (!t->n_rows) {
        fprintf(f, "**Figure 4 verdict.** No label count has decoding results of both a DRMM setting and the CNN: "
                   "no verdict.\n\n");
        show_query(c, T_FIG4);
        return;
    }
    double margin = sqltable_num(t, 0, "margin_pct");
    fprintf(f, "**Figure 4 verdict.** The rule, per latent and label count, for each DRMM setting against the CNN "
               "(errors are means over the runs): a model's decoding error *rises* at the first layer (in layer "
               "order, the class scores last) whose error exceeds the model's first-layer error by more than %g "
               "points. The latent is *decodable* when both models' first-layer errors are more than %g points "
               "below chance. The Figure 4 pattern *shows* when the latent is decodable and the CNN's error rises "
               "at an earlier layer than the DRMM's, or the DRMM's never rises; a latent that is not decodable "
               "gets no verdict (analysis/sql/figure4.sql).\n\n", margin, margin);
    long labels[MAX_LABELS];
    const char *models[8];
    int nl = distinct_ints(t, "n_labels", labels, MAX_LABELS), nm = distinct_strs(t, "drmm_model", models, 8);
    for (int a = 0; a < nl; a++)
        for (int m = 0; m < nm; m++) {
            int any = 0;
            for (int r = 0; r < t->n_rows; r++)
                any |= (long)sqltable_num(t, r, "n_labels") == labels[a] && !strcmp(sqltable_str(t, r, "drmm_model"), models[m]);
            if (!any)
                continue;
            fprintf(f, "%s against the CNN, %ld labels:\n\n", models[m], labels[a]);
            md_header(f, 7, "latent", "DRMM: first layer", "DRMM: error rises at", "CNN: first layer",
                      "CNN: error rises at", "chance", "Figure 4 pattern");
            char shows[512] = "", not_shown[512] = "", none[512] = "";
            for (int r = 0; r < t->n_rows; r++) {
                if ((long)sqltable_num(t, r, "n_labels") != labels[a] || strcmp(sqltable_str(t, r, "drmm_model"), models[m]))
                    continue;
                const char *lat = sqltable_str(t, r, "latent");
                double pat = sqltable_num(t, r, "pattern");
                fprintf(f, "|");
                md_cell(f, lat);
                layer_cell(f, t, r, "drmm_first_layer", "drmm_first_error_pct");
                layer_cell(f, t, r, "drmm_rise_layer", NULL);
                layer_cell(f, t, r, "cnn_first_layer", "cnn_first_error_pct");
                layer_cell(f, t, r, "cnn_rise_layer", NULL);
                md_num(f, sqltable_num(t, r, "chance_pct"), "%.1f%%");
                md_cell(f, nv ? "(no verdict)" : isnan(pat) ? "no verdict: not decodable" : pat == 1 ? "**shows**" :
                        "does not show");
                fprintf(f, "\n");
                char *list = isnan(pat) ? none : pat == 1 ? shows : not_shown;
                size_t len = strlen(list);
                snprintf(list + len, 512 - len, "%s%s", len ? ", " : "", lat);
            }
            if (!nv)
                fprintf(f, "\nSo the Figure 4 pattern **shows for %s**; it does not show for %s%s%s.\n\n",
                        *shows ? shows : "no latent", *not_shown ? not_shown : "none",
                        *none ? "; no verdict (not decodable at the first layer) for " : "", none);
            else
                fprintf(f, "\n");
        }
    show_query(c, T_FIG4);
}

static void section_decoding(ctx *c)
{
    FILE *f = c->f;
    const sqltable *t = &c->q[T_DECODING].t;
    fprintf(f, "## Nuisance decoding (Figure 4)\n\n");
    if (!t->n_rows) {
        fprintf(f, "No grid run has decoding results: the dataset has no nuisance latents, or `decode` and "
                   "`analysis` were not run.\n\n");
        show_query(c, T_DECODING);
        return;
    }
    char rel[PATH_MAX];
    if (c->sp->decoding_md)
        fprintf(f, "How much each layer still knows about each nuisance latent: the error of a linear decoder of "
                   "the latent's bin from the first principal components of the layer's activations on test "
                   "images (method and per-run numbers: [%s](%s)). The paper's finding: the DRMM keeps this "
                   "information through most layers, the CNN drops it earlier.\n\n",
                rel_to_report(c, c->sp->decoding_md, rel, sizeof rel), rel);
    figure4_verdict(c);
    const char *latents[64];
    int nlat = distinct_strs(t, "latent", latents, 64);
    if (c->sp->decoding_md) {
        char d[PATH_MAX];
        snprintf(d, sizeof d, "%s", c->sp->decoding_md);
        char *slash = strrchr(d, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(d, sizeof d, ".");
        for (int j = 0; j < nlat; j++) {
            char png[PATH_MAX + 128];
            snprintf(png, sizeof png, "%s/decoding_%s.png", d, latents[j]);
            if (access(png, R_OK) == 0)
                fprintf(f, "![decoding error of %s by layer](%s)\n\n", latents[j],
                        rel_to_report(c, png, rel, sizeof rel));
        }
    }
    long labels[MAX_LABELS];
    const char *models[8];
    int nl = distinct_ints(t, "n_labels", labels, MAX_LABELS), nm = distinct_strs(t, "model", models, 8);
    const char *layers[64];
    int nly = distinct_strs(t, "layer", layers, 64);
    for (int a = 0; a < nl; a++)
        for (int m = 0; m < nm; m++) {
            int any = 0;
            for (int r = 0; r < t->n_rows; r++)
                if ((long)sqltable_num(t, r, "n_labels") == labels[a] && !strcmp(sqltable_str(t, r, "model"), models[m]))
                    any = 1;
            if (!any)
                continue;
            fprintf(f, "**%s, %ld labels**: decoding error %% by layer (chance in the last row)\n\n", models[m],
                    labels[a]);
            const char *head[1 + 64] = {"layer"};
            for (int j = 0; j < nlat; j++)
                head[1 + j] = latents[j];
            md_head(f, head, 1 + nlat, "---");
            for (int l = 0; l <= nly; l++) {
                fprintf(f, "|");
                md_cell(f, l < nly ? layers[l] : "chance");
                for (int j = 0; j < nlat; j++) {
                    double v = NAN;
                    for (int r = 0; r < t->n_rows; r++) {
                        const char *ly = sqltable_str(t, r, "layer"), *lt = sqltable_str(t, r, "latent");
                        if ((long)sqltable_num(t, r, "n_labels") != labels[a] ||
                            strcmp(sqltable_str(t, r, "model"), models[m]) || strcmp(lt, latents[j]))
                            continue;
                        if (l < nly && !strcmp(ly, layers[l]))
                            v = sqltable_num(t, r, "error_pct");
                        else if (l == nly)
                            v = sqltable_num(t, r, "chance_pct");
                    }
                    md_num(f, v, "%.1f");
                }
                fprintf(f, "\n");
            }
            fprintf(f, "\n");
        }
    show_query(c, T_DECODING);
}

static void section_runs(ctx *c)
{
    FILE *f = c->f;
    const sqltable *t = &c->q[T_RUNS].t;
    fprintf(f, "## Runs\n\n"
               "Every run of the grid (the latest run of each name), with its data hash (the SHA-256 of the "
               "dataset content it trained on), the git commit of the program (\"+dirty\": uncommitted changes) "
               "and its wall time. Full values in the CSV.\n\n");
    md_header(f, 13, "run", "model", "N_L", "seed", "status", "epochs", "test error %", "LRC / mean(I²)",
              "runtime s", "images/s", "git commit", "data sha256", "threads, BLAS core");
    for (int r = 0; r < t->n_rows; r++) {
        char commit[64], sha[32], thr[96], status[256];
        const char *gc = sqltable_str(t, r, "git_commit"), *ds = sqltable_str(t, r, "dataset_sha256");
        snprintf(commit, sizeof commit, "%.12s%s", gc ? gc : "?", sqltable_num(t, r, "git_dirty") == 1 ? "+dirty" : "");
        snprintf(sha, sizeof sha, "%.12s%s", ds ? ds : "?", sqltable_num(t, r, "current_data") == 1 ? "" : " (old data)");
        snprintf(thr, sizeof thr, "%s, %s", sqltable_str(t, r, "threads"), sqltable_str(t, r, "openblas_core"));
        const char *st = sqltable_str(t, r, "status"), *em = sqltable_str(t, r, "error_message");
        snprintf(status, sizeof status, "%s%s%s", st ? st : "?", em ? ": " : "", em ? em : "");
        fputc('|', f);
        md_cell(f, sqltable_str(t, r, "run_id"));
        md_cell(f, sqltable_str(t, r, "model"));
        md_cell(f, sqltable_str(t, r, "n_labels"));
        md_cell(f, sqltable_str(t, r, "seed"));
        md_cell(f, status);
        md_cell(f, sqltable_str(t, r, "epochs"));
        md_num(f, sqltable_num(t, r, "test_error_pct"), "%.2f");
        md_num(f, sqltable_num(t, r, "lrc_ratio"), "%.3f");
        md_num(f, sqltable_num(t, r, "seconds"), "%.0f");
        md_num(f, sqltable_num(t, r, "images_per_s"), "%.0f");
        md_cell(f, commit);
        md_cell(f, sha);
        md_cell(f, thr);
        fputc('\n', f);
    }
    fprintf(f, "\n");
    show_query(c, T_RUNS);

    const sqltable *a = &c->q[T_ARCH].t;
    fprintf(f, "### Architecture\n\n");
    for (int r = 0; r < a->n_rows; r++)
        fprintf(f, "%s runs:\n\n```\n%s```\n\n", sqltable_str(a, r, "n_runs"), sqltable_str(a, r, "architecture"));
    show_query(c, T_ARCH);

    const sqltable *cm = &c->q[T_COMMON].t, *df = &c->q[T_DIFF].t;
    fprintf(f, "### Configuration\n\nThe resolved configuration every run recorded (`train --help` explains each "
               "key). Common to all runs:\n\n");
    md_header(f, 2, "key", "value");
    for (int r = 0; r < cm->n_rows; r++) {
        fputc('|', f);
        md_cell(f, sqltable_str(cm, r, "key"));
        md_cell(f, sqltable_str(cm, r, "value"));
        fputc('\n', f);
    }
    fprintf(f, "\n");
    show_query(c, T_COMMON);
    const char *keys[64];
    int nk = distinct_strs(df, "key", keys, 64);
    long ids[1024];
    int nr = 0;
    for (int r = 0; r < df->n_rows && nr < 1024; r++) {
        long id = (long)sqltable_num(df, r, "run_id");
        if (!nr || ids[nr - 1] != id)
            ids[nr++] = id;
    }
    fprintf(f, "Differing between runs:\n\n");
    const char *head[2 + 64] = {"run", "model"};
    for (int k = 0; k < nk; k++)
        head[2 + k] = keys[k];
    md_head(f, head, 2 + nk, "---");
    for (int i = 0; i < nr; i++) {
        const char *model = NULL;
        fprintf(f, "| %ld |", ids[i]);
        for (int r = 0; r < df->n_rows; r++)
            if ((long)sqltable_num(df, r, "run_id") == ids[i])
                model = sqltable_str(df, r, "model");
        md_cell(f, model);
        for (int k = 0; k < nk; k++) {
            const char *v = NULL;
            for (int r = 0; r < df->n_rows; r++)
                if ((long)sqltable_num(df, r, "run_id") == ids[i] && !strcmp(sqltable_str(df, r, "key"), keys[k]))
                    v = sqltable_str(df, r, "value");
            md_cell(f, v);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    show_query(c, T_DIFF);
}

/* ---- entry points ---- */

int grid_report_experiments(sqlite3 *db, const char *dataset, char ***names, int *n, err_t *e)
{
    *names = NULL;
    *n = 0;
    sqltable t, d;
    char *q = sqlite3_mprintf("SELECT name FROM datasets WHERE name = %Q", dataset);
    if (!q)
        return err_set(e, "out of memory");
    int rc = sqltable_query(db, q, &d, e);
    sqlite3_free(q);
    if (rc) {
        sqltable_free(&d);
        return -1;
    }
    int found = d.n_rows > 0;
    sqltable_free(&d);
    if (!found) {
        sqltable all;
        if (sqltable_query(db, "SELECT group_concat(name, ', ') AS names FROM (SELECT name FROM datasets ORDER BY name)",
                           &all, e)) {
            sqltable_free(&all);
            return -1;
        }
        const char *list = all.n_rows ? sqltable_str(&all, 0, "names") : NULL;
        err_input(e, "no dataset named '%s' in the store (datasets: %s)", dataset, list ? list : "none");
        sqltable_free(&all);
        return -1;
    }
    q = sqlite3_mprintf("SELECT DISTINCT experiment FROM grid_runs WHERE dataset = %Q ORDER BY experiment", dataset);
    if (!q)
        return err_set(e, "out of memory");
    rc = sqltable_query(db, q, &t, e);
    sqlite3_free(q);
    if (rc) {
        sqltable_free(&t);
        return -1;
    }
    if (t.n_rows && !(*names = calloc((size_t)t.n_rows, sizeof **names))) {
        sqltable_free(&t);
        return err_set(e, "out of memory");
    }
    for (int r = 0; r < t.n_rows; r++) {
        const char *s = t.cells[r];
        if (!((*names)[r] = strdup(s ? s : ""))) {
            for (int i = 0; i < r; i++) free((*names)[i]);
            free(*names);
            *names = NULL;
            sqltable_free(&t);
            return err_set(e, "out of memory");
        }
    }
    *n = t.n_rows;
    sqltable_free(&t);
    return 0;
}

int grid_report_write(sqlite3 *db, const grid_report_spec *sp, grid_report_outcome *out, err_t *e)
{
    ctx c = {.db = db, .sp = sp};
    grid_report_outcome o = {0};
    char *gen_text[GRID_REPORT_MAX_GENERATED] = {0};   /* generate's fragments */
    char *rmm_text = NULL;                             /* rmm's */
    int rc = -1;
    snprintf(c.dir, sizeof c.dir, "%s", sp->out_md);
    char *slash = strrchr(c.dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(c.dir, sizeof c.dir, ".");
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", sp->out_md);
    for (int i = 0; i < sp->n_grids; i++)
        if (access(sp->grid_png[i], R_OK) != 0) {
            err_input(e, "reconstruction grid %s: %s", sp->grid_png[i], strerror(errno));
            goto done;
        }
    for (int i = 0; i < sp->n_generated; i++)
        if (read_fragment(&c, sp->generated_md[i], GEN_PARTS[0], "generate", "generated figures", "generate --out-dir",
                          &gen_text[i], e))
            goto done;
    if (sp->rmm_md && read_fragment(&c, sp->rmm_md, RMM_PART, "rmm", "mixture model figures", "rmm --out-dir",
                                    &rmm_text, e))
        goto done;
    if (sp->decoding_md && access(sp->decoding_md, R_OK) != 0) {
        err_input(e, "decoding report %s: %s", sp->decoding_md, strerror(errno));
        goto done;
    }
    if (fetch_all(&c, e))
        goto done;
    if (!c.q[T_RUNS].t.n_rows) {
        err_input(e, "dataset %s has no runs of experiment '%s'", sp->dataset, sp->experiment);
        goto done;
    }
    c.f = fopen(tmp, "w");
    if (!c.f) {
        err_set(e, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(c.f, "# DRMM experiments: %s, experiment %s%s\n\n", sp->dataset, sp->experiment,
            sp->no_verdict ? " (not meaningful: no verdict)" : "");
    fprintf(c.f, "Written by `report` %s (git %.12s%s) at %s from the store `%s`%s%s%s. Every table is the result "
                 "of the SQL query shown under it, over the store's views (schema/README.md); each result is also "
                 "in the CSV file named there. Reproduce or extend one with\n"
                 "`sqlite3 -header -column %s \"<query>\"`.\n\n",
            drmm_version, drmm_git_commit, drmm_git_dirty ? "+dirty" : "", when, sp->store_path,
            sp->command ? " by `" : "", sp->command ? sp->command : "", sp->command ? "`" : "", sp->store_path);
    section_summary(&c, &o);
    section_data(&c);
    section_tables(&c);
    section_reconstruction(&c);
    section_filters(&c);
    if (sp->n_generated)
        section_generative(&c, gen_text);
    section_edrmm(&c);
    if (rmm_text)
        section_rmm(&c, rmm_text);
    if (section_curves(&c, e))
        goto done;
    section_classes(&c);
    section_decoding(&c);
    section_runs(&c);
    if (ferror(c.f) | fclose(c.f)) {
        c.f = NULL;
        err_set(e, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    c.f = NULL;
    if (rename(tmp, sp->out_md)) {
        err_set(e, "cannot write %s: %s", sp->out_md, strerror(errno));
        goto done;
    }
    if (out)
        *out = o;
    rc = 0;
done:
    if (c.f) {
        fclose(c.f);
        remove(tmp);
    }
    for (int k = 0; k < N_TABLES; k++) {
        sqlite3_free(c.q[k].sql);
        sqltable_free(&c.q[k].t);
    }
    for (int i = 0; i < GRID_REPORT_MAX_GENERATED; i++)
        free(gen_text[i]);
    free(rmm_text);
    return rc;
}
