/* bin/report on stores built here through the store API with known test
 * errors, losses and settings: the tables' numbers (means, standard
 * deviations, reductions) against values computed by hand, the computed
 * verdicts both ways (the Figure 4 verdict on known decoding errors), the grid as the latest run of each name, runs on
 * replaced data kept out of the tables, CSV files, charts, the store left
 * unchanged, the migration applied to a version-3 store, the query files of
 * analysis/sql run by the report and by sqlite3 alike, and every bad input
 * with its message and exit status. */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "dataset.h"
#include "error.h"
#include "fixture.h"
#include "pngio.h"
#include "report_sql.h"
#include "shapes.h"
#include "store.h"
#include "xml_check.h"

#define S 12
#define K 4

static const char *bin, *db;

static void put_dataset(store *st, const char *name, int seed, int ntest)
{
    dataset d;
    err_t e = {.msg = ""};
    int ntrain = 40, n = ntrain + ntest;
    if (dataset_alloc(&d, n, 1, S, S, K, 0, &e)) {
        printf("%s\n", e.msg);
        exit(1);
    }
    float *x = malloc(sizeof(float) * n * S * S);
    shapes_make((uint64_t)seed, n, K, S, x, d.labels);
    for (long k = 0; k < (long)n * S * S; k++)
        d.pixels[k] = (uint8_t)(x[k] * 255 + 0.5f);
    for (int i = 0; i < n; i++)
        d.split[i] = i < ntrain ? SPLIT_TRAIN : SPLIT_TEST;
    for (int c = 0; c < K; c++) {
        char nm[16];
        snprintf(nm, sizeof nm, "c%d", c);
        d.class_names[c] = strdup(nm);
    }
    d.source = strdup("generated shapes");
    if (store_put_dataset(st, name, &d, 1, NULL, NULL, &e)) {
        printf("store: %s\n", e.msg);
        exit(1);
    }
    dataset_free(&d);
    free(x);
}

/* A finished run named EXP/MODEL/nL/sSEED of the given model with 3 epochs of
 * metrics (LRC falling to lrc, mean(I^2) x2) and a test evaluation with the
 * given error (NAN: none); status other than FINISHED leaves it at that. */
static int64_t add_run(store *st, const char *dataset, const char *exp, const char *model, int labels, int seed,
                       double error, double lrc, double x2, const char *status)
{
    err_t e = {.msg = ""};
    int cnn = !strcmp(model, "cnn"), kl = strstr(model, "kl") != NULL, nn = strstr(model, "nn") && !cnn;
    char name[128], sl[16], ss[16];
    snprintf(name, sizeof name, "%s/%s/n%d/s%d", exp, model, labels, seed);
    snprintf(sl, sizeof sl, "%d", labels);
    snprintf(ss, sizeof ss, "%d", seed);
    store_kv cfg[] = {{"a_h", "1"}, {"a_rc", "0.5"}, {"a_kl", kl ? "0.2" : "0"}, {"a_nn", nn ? "0.5" : "0"},
                      {"supervised_only", cnn ? "1" : "0"}, {"epochs", "3"}, {"labels", sl}, {"seed", ss},
                      {"optimizer", "adam"}};
    store_run_info in = {.name = name, .dataset = dataset, .architecture = "input channels=1 height=12 width=12\n",
                         .config = cfg, .n_config = 9, .n_labels = labels, .label_seed = (uint64_t)seed,
                         .seed = (uint64_t)seed, .threads = 1, .openblas_core = "Test", .host = "testhost"};
    int64_t id;
    if (store_create_run(st, &in, &id, &e)) {
        printf("create run: %s\n", e.msg);
        exit(1);
    }
    for (int ep = 1; ep <= 3; ep++) {
        double l = cnn ? NAN : lrc + (3 - ep) * 0.05;
        store_metric m[] = {{ep, ep * 10, "lh", 2.0 / ep}, {ep, ep * 10, "train_error", 0.5 / ep},
                            {ep, ep * 10, "lrc", l}, {ep, ep * 10, "x2", x2}, {ep, ep * 10, "loss", 1.0 / ep},
                            {ep, ep * 10, "images_per_s", 500}};
        store_metric v = {ep, ep * 10, "valid_error", error + (3 - ep) * 0.1};
        if (store_add_metrics(st, id, m, cnn ? 2 : 6, &e) || store_add_metrics(st, id, &v, 1, &e)) {
            printf("metrics: %s\n", e.msg);
            exit(1);
        }
    }
    if (!isnan(error)) {
        /* 100 test images, 25 per class (label i % K); the first error x 100
           predicted as the next class or the one after */
        double ce[K] = {0};
        long conf[K * K] = {0};
        int idx[100], lab[100], pred[100], wrong = (int)lround(error * 100);
        for (int i = 0; i < 100; i++) {
            idx[i] = 40 + i;
            lab[i] = i % K;
            pred[i] = i < wrong ? (lab[i] + 1 + (i % 3 == 0)) % K : lab[i];
            conf[lab[i] * K + pred[i]]++;
            ce[lab[i]] += (pred[i] != lab[i]) / 25.0;
        }
        store_evaluation ev = {.run_id = id, .split = SPLIT_TEST, .n_images = 100, .error = error,
                               .recon_error = cnn ? NAN : lrc * 1.1, .x2 = x2, .n_classes = K, .class_errors = ce,
                               .confusion = conf, .n_predictions = 100, .sample_idx = idx, .labels = lab,
                               .predicted = pred};
        if (store_put_evaluation(st, &ev, NULL, &e)) {
            printf("evaluation: %s\n", e.msg);
            exit(1);
        }
    }
    if (store_set_run_status(st, id, status, strcmp(status, "FAILED") ? NULL : "non-finite loss", &e)) {
        printf("status: %s\n", e.msg);
        exit(1);
    }
    return id;
}

static void bad(int want, const char *needle, const char *args);

static const char *MODELS[5] = {"drmm", "drmm+nn", "drmm+kl", "drmm+kl+nn", "cnn"};

static void build_store(void)
{
    store *st;
    err_t e = {.msg = ""};
    if (store_open(db, 0, &st, &e)) {
        printf("store: %s\n", e.msg);
        exit(1);
    }
    put_dataset(st, "shapes", 1, 100);
    put_dataset(st, "empty", 2, 20);
    /* e2: a run on the dataset's first content, then the content replaced */
    add_run(st, "shapes", "e2", "drmm", 100, 1, 0.50, 0.09, 0.1, "FINISHED");
    put_dataset(st, "shapes", 3, 100);
    add_run(st, "shapes", "e2", "cnn", 100, 1, 0.10, 0, 0.1, "FINISHED");
    add_run(st, "shapes", "e2", "drmm+kl+nn", 100, 1, 0.20, 0.09, 0.1, "FINISHED");
    /* e1: 5 models x labels {100, 200} x seeds {1, 2, 3}; an earlier CNN run
     * (replaced by a later one of the same name) and a failed run */
    add_run(st, "shapes", "e1", "cnn", 100, 1, 0.90, 0, 0.1, "FINISHED");
    static const double err100[5][3] = {{0.20, 0.22, 0.21}, {0.19, 0.21, 0.20}, {0.12, 0.14, 0.13},
                                        {0.10, 0.12, 0.11}, {0.30, 0.32, 0.31}};
    static const double err200[5][3] = {{0.30, 0.30, 0.30}, {0.30, 0.30, 0.30}, {0.28, 0.28, 0.28},
                                        {0.19, 0.26, 0.29}, {0.20, 0.25, 0.30}};
    for (int m = 0; m < 5; m++)
        for (int s = 0; s < 3; s++) {
            double lrc = m == 3 ? 0.02 : 0.09;   /* only +KL+NN reconstructs well: 0.2 x2 */
            add_run(st, "shapes", "e1", MODELS[m], 100, s + 1, err100[m][s], lrc, 0.1, "FINISHED");
            add_run(st, "shapes", "e1", MODELS[m], 200, s + 1, err200[m][s], lrc, 0.1, "FINISHED");
        }
    add_run(st, "shapes", "e1", "drmm", 300, 1, NAN, 0.09, 0.1, "FAILED");
    store_close(st);
}

/* Field `field` (0-based) of the CSV line of path that starts with prefix, as
 * a number (NAN if absent).  Fields here hold no quoted commas. */
static double csv_num(const char *path, const char *prefix, int field)
{
    char *s = fx_read(path, NULL);
    double v = NAN;
    if (!s)
        return v;
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        if (!strncmp(line, prefix, strlen(prefix))) {
            char *p = line;
            for (int i = 0; i < field && p; i++) {
                p = strchr(p, ',');
                if (p)
                    p++;
            }
            if (p && *p && *p != ',')
                v = strtod(p, NULL);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(s);
    return v;
}

static int csv_lines(const char *path)
{
    char *s = fx_read(path, NULL);
    int n = 0;
    for (char *p = s; p && *p; p++)
        n += *p == '\n';
    free(s);
    return n;
}

static int contains(const char *path, const char *needle)
{
    char *s = fx_read(path, NULL);
    int r = s && strstr(s, needle);
    free(s);
    return r;
}

static void test_report_e1(void)
{
    char fp0[65], fp1[65], *err = NULL;
    fx_store_fingerprint(db, fp0);
    char md[1100];
    snprintf(md, sizeof md, "%s", fx_path("r1/report.md"));
    int rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment e1 --out %s --command 'make x'", bin, db, md);
    char *out = fx_stdout();
    CHECK(rc == 0, "report e1 exits 0 (got %d): %s", rc, err);
    CHECK(out && strstr(out, "runs=31 in_tables=30 compared=2 drmm_clearly_better=1 drmm_runs=24 recon_well_below=6"),
          "outcome line: %s", out);
    free(out);
    free(err);
    fx_store_fingerprint(db, fp1);
    CHECK(!strcmp(fp0, fp1), "the report does not change the store");

    const char *t1 = fx_path("r1/table1_test_error.csv");
    CHECK(csv_lines(t1) == 11, "Table 1: header + 5 models x 2 label counts (%d lines)", csv_lines(t1));
    CHECK_CLOSE(csv_num(t1, "100,DRMM +KL+NN,", 3), 11.0, 1e-9, "mean error of DRMM +KL+NN at 100 labels (%)");
    CHECK_CLOSE(csv_num(t1, "100,DRMM +KL+NN,", 4), 1.0, 1e-9, "its sample standard deviation (%)");
    CHECK_CLOSE(csv_num(t1, "100,CNN,", 3), 31.0, 1e-9, "the CNN's mean uses the latest run of each name (not 90%)");
    CHECK(csv_num(t1, "100,CNN,", 2) == 3, "3 CNN runs at 100 labels");
    double m = (19 + 26 + 29) / 3.0, sd = sqrt(((19 - m) * (19 - m) + (26 - m) * (26 - m) + (29 - m) * (29 - m)) / 2);
    CHECK_CLOSE(csv_num(t1, "200,DRMM +KL+NN,", 4), sd, 1e-9, "standard deviation at 200 labels");
    CHECK(isnan(csv_num(t1, "300,", 0)), "the failed run is in no table");

    const char *t2 = fx_path("r1/table2_penalty_reduction.csv");
    CHECK(csv_lines(t2) == 7, "Table 2: header + 3 penalties x 2 label counts");
    CHECK_CLOSE(csv_num(t2, "100,DRMM +KL+NN,", 6), 10.0, 1e-9, "reduction of +KL+NN at 100 labels (points)");
    CHECK_CLOSE(csv_num(t2, "100,DRMM +NN,", 6), 1.0, 1e-9, "reduction of +NN at 100 labels");

    const char *t5 = fx_path("r1/table5_drmm_vs_cnn.csv");
    CHECK(csv_lines(t5) == 3, "Table 5: header + 2 label counts");
    CHECK_CLOSE(csv_num(t5, "100,", 7), 20.0, 1e-9, "DRMM +KL+NN 20 points below the CNN at 100 labels");
    CHECK_CLOSE(csv_num(t5, "100,", 8), 100 * sqrt(0.01 * 0.01 / 3 + 0.01 * 0.01 / 3), 1e-9, "SE over the seeds");
    CHECK(csv_num(t5, "100,", 11) == 1 && csv_num(t5, "200,", 11) == 0 && csv_num(t5, "200,", 10) == 1,
          "clearly lower at 100 labels; lower but not clearly at 200");

    const char *rec = fx_path("r1/reconstruction.csv");
    CHECK_CLOSE(csv_num(rec, "100,DRMM +KL+NN,", 6), 0.2, 1e-9, "LRC / mean(I^2) of +KL+NN");
    CHECK_CLOSE(csv_num(rec, "100,DRMM +KL+NN,", 3), 0.12, 1e-9, "first epoch's LRC");
    CHECK(csv_num(rec, "100,DRMM +KL+NN,", 8) == 3 && csv_num(rec, "100,DRMM,", 8) == 0, "runs well below counted");
    CHECK_CLOSE(csv_num(rec, "100,DRMM +KL+NN,", 11), 0.22, 1e-9, "held-out reconstruction ratio");

    CHECK(csv_lines(fx_path("r1/runs.csv")) == 32, "runs.csv: header + 31 grid runs");
    CHECK(csv_lines(fx_path("r1/curves.csv")) == 1 + 2 * (4 * 6 + 3) * 3,
          "curves: per label count, 4 DRMMs x (lh, train_error, lrc, x2, loss, valid_error) + CNN x (lh, "
          "train_error, valid_error), 3 epochs");
    /* bands: the lowest and highest seed (valid_error = test error + 0.1 at epoch 2) */
    CHECK_CLOSE(csv_num(fx_path("r1/curves.csv"), "200,DRMM +KL+NN,3,valid_error,2,", 6), 0.29, 1e-9,
                "curves: highest seed");
    CHECK_CLOSE(csv_num(fx_path("r1/curves.csv"), "200,DRMM +KL+NN,3,valid_error,2,", 7), 0.39, 1e-9,
                "curves: highest seed");
    CHECK(contains(md, "the DRMM beats the CNN") && contains(md, "no clear difference") &&
          contains(md, "shows at 1 of 2 label counts"), "verdicts computed per label count");
    CHECK(contains(md, "LRC fell well below mean(I²) in 6 of 24 DRMM runs"), "reconstruction verdict");
    CHECK(contains(md, "FROM grid_errors") && contains(md, "FROM grid_drmm_vs_cnn") &&
          contains(md, "table1_test_error.csv"), "queries and CSV names shown");
    CHECK(contains(md, "FAILED: non-finite loss"), "the failed run is listed with its error");
    CHECK(contains(md, "by `make x`"), "the command is stated");
    CHECK(contains(md, "No reconstruction grid was given"), "says there is no grid");
    CHECK(contains(md, "No grid run has decoding results"), "says there is no decoding");
    const char *pngs[] = {"curves_lh_n100.png", "curves_lrc_n100.png", "curves_train_error_n200.png",
                          "curves_valid_error_n100.png"};
    for (int i = 0; i < 4; i++) {
        uint8_t *px = NULL;
        int w, h, ch;
        err_t e = {.msg = ""};
        CHECK(png_read(fx_path("r1/%s", pngs[i]), &px, &w, &h, &ch, &e) == 0 && w == 900 && h == 460,
              "%s is a chart: %s", pngs[i], e.msg);
        free(px);
        CHECK(contains(md, pngs[i]), "report shows %s", pngs[i]);
    }
    const char *csvs[] = {"dataset", "runs", "table1_test_error", "table2_penalty_reduction", "table5_drmm_vs_cnn",
                          "reconstruction", "curves", "decoding", "figure4", "architecture", "config_common",
                          "config_by_run"};
    for (int i = 0; i < 12; i++)
        CHECK(csv_lines(fx_path("r1/%s.csv", csvs[i])) >= 1, "%s.csv written", csvs[i]);
    CHECK(contains(fx_path("r1/config_by_run.csv"), "a_kl") && !contains(fx_path("r1/config_by_run.csv"), "optimizer"),
          "differing keys by run, common ones apart");
}

/* Runs without checkpoints (this fixture's): the filters section says why
 * it has no picture. */
static void test_report_no_filters(void)
{
    CHECK(contains(fx_path("r1/report.md"), "### First-layer filters\n\nNot drawn: run ") &&
              contains(fx_path("r1/report.md"), "has no checkpoint with a first convolution"),
          "filters: not drawn, and why");
}

/* The SVG beside each chart: well formed, its labels as text. */
/* The first line of path without its line break ("" if none); static. */
static const char *first_line(const char *path)
{
    static char line[4096];
    char *s = fx_read(path, NULL);
    snprintf(line, sizeof line, "%s", s ? s : "");
    line[strcspn(line, "\r\n")] = 0;
    free(s);
    return line;
}

/* analysis/sql/: every query file has a header naming its CSV file, runs
 * with its parameters bound and shows them as literals, and run by sqlite3
 * as the README says gives the rows of the report's CSV; a malformed query
 * or an unknown name is refused naming the file. */
static void test_query_files(void)
{
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open the store read-only");
    report_sql_params p = {.experiment = "e1", .dataset = "shapes", .well_below = 0.5};
    CHECK(report_sql_n == 15, "15 query files embedded (%d)", report_sql_n);
    for (int i = 0; i < report_sql_n; i++) {
        const char *name = report_sql_names[i], *text = report_sql_texts[i], *body = report_sql_body(text);
        char csv[128], *shown = NULL, *err = NULL;
        snprintf(csv, sizeof csv, "%s.csv", name);
        const char *at = strstr(text, csv);
        CHECK(!strncmp(text, "-- ", 3) && at && at < body && *body && strncmp(body, "--", 2),
              "%s.sql: a header comment naming %s, then the query", name, csv);
        sqltable t;
        err_t e = {.msg = ""};
        int rc = report_sql_run(h, name, &p, &t, &shown, &e);
        CHECK(rc == 0, "%s.sql runs: %s", name, e.msg);
        CHECK(shown && !strstr(shown, ":experiment") && !strstr(shown, ":dataset") && !strstr(shown, ":well_below") &&
                  (!strstr(body, ":experiment") || strstr(shown, "'e1'")),
              "%s.sql shown with its parameters as literals: %s", name, shown ? shown : "(none)");
        sqlite3_free(shown);
        const char *out = fx_path("cli_%s.csv", name);
        rc = fx_run(&err, "sqlite3 -csv -header %s -cmd '.parameter set :experiment e1' "
                          "-cmd '.parameter set :dataset shapes' -cmd '.parameter set :well_below 0.5' "
                          "'.read analysis/sql/%s.sql' > %s", db, name, out);
        char report_head[4096];
        snprintf(report_head, sizeof report_head, "%s", first_line(fx_path("r1/%s", csv)));
        int want = csv_lines(fx_path("r1/%s", csv));   /* sqlite3 prints no header without rows */
        CHECK(rc == 0 && (want == 1 ? csv_lines(out) == 0 : !strcmp(first_line(out), report_head) &&
                                                             csv_lines(out) == want),
              "sqlite3 .read analysis/sql/%s.sql: the columns and rows of r1/%s (%d, %s; %d lines against %d)", name,
              csv, rc, err, csv_lines(out), want);
        CHECK(t.n_rows > 0 || csv_lines(out) <= 1, "%s: %d rows", name, t.n_rows);
        sqltable_free(&t);
        free(err);
    }
    CHECK_CLOSE(csv_num(fx_path("cli_table1_test_error.csv"), "100,\"DRMM +KL+NN\",", 3), 11.0, 1e-9,
                "Table 1 through sqlite3: mean error of DRMM +KL+NN at 100 labels (percent)");
    CHECK(contains(fx_path("r1/report.md"), "WHERE experiment = 'e1' AND dataset = 'shapes'"),
          "the report shows its queries with the values it bound");
    char abs_bin[4096], *err = NULL;
    if (!realpath(bin, abs_bin))
        snprintf(abs_bin, sizeof abs_bin, "%s", bin);
    int rc = fx_run(&err, "cd / && %s/report --store %s --dataset shapes --experiment e1 --out %s", abs_bin, db,
                    fx_path("r_cwd/report.md"));
    CHECK(rc == 0, "the report run from another directory (%d): %s", rc, err);
    free(err);
    rc = fx_run(&err, "cmp %s %s", fx_path("r_cwd/table1_test_error.csv"), fx_path("r1/table1_test_error.csv"));
    CHECK(rc == 0, "run from another directory, the report runs its embedded queries: the same Table 1 (%d): %s", rc,
          err);
    free(err);
    static const struct { const char *text, *needle; } bad[] = {
        {"-- x\nSELECT :other;\n", "analysis/sql/bad.sql: unknown parameter :other"},
        {"-- x\nSELECT 1;\nSELECT 2;\n", "analysis/sql/bad.sql: more than one statement"},
        {"-- only a comment\n", "analysis/sql/bad.sql: no statement"},
        {"-- x\nSELECT nope FROM grid_runs;\n", "analysis/sql/bad.sql: no such column: nope"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sqltable t;
        char *shown = NULL;
        err_t e = {.msg = ""};
        int rc = report_sql_exec(h, "bad", bad[i].text, &p, &t, &shown, &e);
        CHECK(rc && !shown && strstr(e.msg, bad[i].needle), "refused: %s (%s)", bad[i].needle, e.msg);
        sqltable_free(&t);
    }
    sqltable t;
    char *shown = NULL;
    err_t e = {.msg = ""};
    CHECK(report_sql_run(h, "absent", &p, &t, &shown, &e) && strstr(e.msg, "no report query analysis/sql/absent.sql"),
          "an unknown query's name refused: %s", e.msg);
    sqltable_free(&t);
    sqlite3_close(h);
}

static void test_report_svg(void)
{
    char *svg = fx_read(fx_path("r1/curves_valid_error_n100.svg"), NULL), msg[256] = "";
    CHECK(svg && xml_check(svg, msg, sizeof msg) == 0, "curves_valid_error_n100.svg well formed: %s", msg);
    const char *labels[] = {">shapes, 100 labels: held-out (validation) error by epoch</text>", ">DRMM +KL+NN</text>",
                            ">CNN</text>", ">epoch</text>", ">validation error %</text>",
                            ">line: mean over the seeds (up to 3 runs); band: lowest to highest seed</text>"};
    for (int i = 0; svg && i < 6; i++)
        CHECK(strstr(svg, labels[i]), "the SVG has %s", labels[i]);
    CHECK(svg && strstr(svg, "fill-opacity="), "bands over the seeds");
    free(svg);
    svg = fx_read(fx_path("r1/curves_lrc_n100.svg"), NULL);
    CHECK(svg && strstr(svg, ">mean(I²): LRC of rendering nothing</text>"), "LRC chart: the reference named");
    free(svg);
}

/* Per-class errors and confusion matrices: the CSV against the stored
 * predictions and the class errors computed here. */
static void test_report_classes(void)
{
    const char *ce = fx_path("r1/class_errors.csv"), *cm = fx_path("r1/confusion.csv");
    CHECK(csv_lines(ce) == 1 + 2 * 5 * K, "class errors: 2 label counts x 5 models x %d classes (%d lines)", K,
          csv_lines(ce));
    CHECK(csv_lines(cm) == 1 + 2 * 5 * K * K, "confusion: 2 x 5 x %d x %d cells (%d lines)", K, K, csv_lines(cm));
    /* class errors of the CNN at 100 labels: seeds with 30, 32 and 31 wrong */
    static const int wrong[3] = {30, 32, 31};
    for (int c = 0; c < K; c++) {
        double sum = 0;
        for (int s = 0; s < 3; s++) {
            int n = 0;
            for (int i = c; i < wrong[s]; i += K) n++;
            sum += n / 25.0;
        }
        char prefix[64];
        snprintf(prefix, sizeof prefix, "100,CNN,4,%d,c%d,3,", c, c);
        CHECK_CLOSE(csv_num(ce, prefix, 6), 100 * sum / 3, 1e-9, "class error of the CNN, mean over the seeds");
    }
    /* every confusion cell of every model and label count against the
       predictions of the same runs' latest test evaluations */
    sqlite3 *h;
    sqlite3_stmt *st;
    int rows = 0, same = 0;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h,
                           "SELECT g.n_labels, g.model, MIN(g.model_order), p.label, p.predicted, COUNT(*)\n"
                           "FROM predictions p JOIN latest_test_evaluation t ON t.id = p.evaluation_id\n"
                           "JOIN grid_runs g ON g.run_id = t.run_id\n"
                           "WHERE g.experiment = 'e1' AND g.status = 'FINISHED' AND g.current_data = 1\n"
                           "GROUP BY 1, 2, 4, 5", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            char prefix[128];
            snprintf(prefix, sizeof prefix, "%d,%s,%d,3,%d,%d,", sqlite3_column_int(st, 0),
                     (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2), sqlite3_column_int(st, 3),
                     sqlite3_column_int(st, 4));
            rows++;
            same += csv_num(cm, prefix, 6) == sqlite3_column_int(st, 5);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    CHECK(rows > 2 * 5 * K && same == rows, "confusion cells equal the predictions' counts (%d of %d)", same, rows);
    /* class 0 of the CNN: images 0, 4, ..., 28 wrong in each seed; those divisible by 3 (0, 12, 24) taken
       for class 2, the other five for class 1 */
    CHECK(csv_num(cm, "100,CNN,4,3,0,1,", 6) == 3 * 5 && csv_num(cm, "100,CNN,4,3,0,2,", 6) == 3 * 3 &&
          csv_num(cm, "100,CNN,4,3,0,0,", 6) == 3 * 25 - 24, "class 0 of the CNN: 15 taken for 1, 9 for 2, 51 right");
    const char *md = fx_path("r1/report.md");
    CHECK(contains(md, "## Errors by class") && contains(md, "Confusion matrix: CNN, 100 labels (3 runs)") &&
          contains(md, "| 0 c0 |") && contains(md, "json_each(t.confusion)"), "the section, its names and queries");
}

/* --no-verdict: the report says so, and no verdict is drawn. */
static void test_no_verdict(void)
{
    char *err = NULL, md[1100];
    snprintf(md, sizeof md, "%s", fx_path("r3/report.md"));
    int rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment e1 --out %s --no-verdict 'a smoke test'",
                    bin, db, md);
    CHECK(rc == 0, "report --no-verdict exits 0 (%d): %s", rc, err);
    free(err);
    free(fx_stdout());
    CHECK(contains(md, "(not meaningful: no verdict)") && contains(md, "**Not meaningful: no verdict.** a smoke test."),
          "marked as not meaningful, with the reason");
    const char *verdicts[] = {"beats the CNN", "does not beat", "no clear difference", "shows at", "shows here",
                              "does not show", "the reconstruction term trains", "only partly",
                              "did not train well", "| yes |", "| no |"};
    for (int i = 0; i < 11; i++)
        CHECK(!contains(md, verdicts[i]), "no verdict '%s'", verdicts[i]);
    CHECK(contains(md, "| (no verdict) |") && contains(md, "DRMM +KL+NN 11.00% against CNN 31.00%"),
          "the numbers stay, without verdicts");
    bad(2, "--no-verdict needs a reason", "--store x.db --dataset d --no-verdict ''");
}

static void test_report_e2(void)
{
    char *err = NULL;
    char md[1100], grid[1100];
    snprintf(md, sizeof md, "%s", fx_path("r2/report.md"));
    snprintf(grid, sizeof grid, "%s", fx_path("grid.png"));
    uint8_t px[12] = {0};
    err_t e = {.msg = ""};
    CHECK(png_write(grid, px, 2, 2, 3, &e) == 0, "a grid PNG: %s", e.msg);
    int rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment e2 --out %s --grid 2:%s", bin, db, md, grid);
    char *out = fx_stdout();
    CHECK(rc == 0 && out && strstr(out, "runs=3 in_tables=2 compared=1 drmm_clearly_better=0"), "report e2: %d %s %s",
          rc, out, err);
    free(out);
    free(err);
    CHECK(contains(md, "higher by 10.00 points: **the DRMM does not beat the CNN**") &&
          contains(md, "**does not show here**"), "a DRMM worse than the CNN is said to be so");
    CHECK(contains(md, "(old data)"), "the run on the replaced data is marked");
    CHECK(contains(md, "run 2: CNN, 100 labels, seed 1") && contains(md, grid),
          "grid captioned from the store and shown");
}

/* Decoding results of run id at a new checkpoint: layers conv1, conv2,
 * conv3, scores (indices 0..3), per latent of lat the four errors err[][4],
 * chance 0.9. */
static void add_decoding(sqlite3 *h, int64_t id, int n_lat, const char *const *lat, const double (*err)[4])
{
    static const char *const layers[4] = {"conv1", "conv2", "conv3", "scores"};
    char *sql = sqlite3_mprintf("INSERT INTO checkpoints (run_id, epoch, step) VALUES (%lld, 3, 30)", (long long)id);
    CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "checkpoint: %s", sqlite3_errmsg(h));
    sqlite3_free(sql);
    long long ck = sqlite3_last_insert_rowid(h);
    for (int l = 0; l < 4; l++) {
        sql = sqlite3_mprintf("INSERT INTO decode_layers (run_id, checkpoint_id, layer, layer_index, channels, height, "
                              "width, dims, projection, split, n_samples, bn) VALUES (%lld, %lld, '%s', %d, 4, 2, 2, "
                              "16, 'none', 1, 200, 'eval')", (long long)id, ck, layers[l], l);
        CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "layer: %s", sqlite3_errmsg(h));
        sqlite3_free(sql);
        long long lid = sqlite3_last_insert_rowid(h);
        for (int j = 0; j < n_lat; j++) {
            sql = sqlite3_mprintf("INSERT INTO decoding_results (layer_id, latent, circular, components, bins, "
                                  "bins_used, folds, l2, samples, error, chance) VALUES (%lld, '%s', 0, 10, 10, 10, "
                                  "5, 0.0001, 200, %.6f, 0.9)", lid, lat[j], err[j][l]);
            CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "result: %s", sqlite3_errmsg(h));
            sqlite3_free(sql);
        }
    }
}

/* The Figure 4 verdict on known numbers (experiment f4): the DRMM +KL+NN's
 * errors are the means of two seeds (seed 2 alone would make x rise at
 * conv2), an earlier checkpoint's results are ignored, the margin is 5
 * points.  x: the CNN rises at conv2, the DRMM at the scores (shows); y:
 * both rise at conv2 (does not show); depth: neither rises (does not
 * show); tilt: 88% and 87% at conv1 against a chance of 90% (not
 * decodable, no verdict). */
static void test_figure4(void)
{
    store *st;
    err_t e = {.msg = ""};
    CHECK(store_open(db, 0, &st, &e) == 0, "store: %s", e.msg);
    int64_t d1 = add_run(st, "shapes", "f4", "drmm+kl+nn", 100, 1, 0.2, 0.02, 0.1, "FINISHED");
    int64_t d2 = add_run(st, "shapes", "f4", "drmm+kl+nn", 100, 2, 0.2, 0.02, 0.1, "FINISHED");
    int64_t cn = add_run(st, "shapes", "f4", "cnn", 100, 1, 0.3, 0, 0.1, "FINISHED");
    store_close(st);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK, "open the store");
    static const char *const lat[4] = {"depth", "tilt", "x", "y"};
    static const double early[4][4] = {{0.1, 0.1, 0.1, 0.1}, {0.1, 0.1, 0.1, 0.1}, {0.1, 0.9, 0.9, 0.9},
                                       {0.1, 0.1, 0.1, 0.1}};
    static const double drmm1[4][4] = {{0.60, 0.61, 0.62, 0.64}, {0.88, 0.89, 0.89, 0.90}, {0.50, 0.50, 0.53, 0.80},
                                       {0.40, 0.50, 0.60, 0.85}};
    static const double drmm2[4][4] = {{0.60, 0.61, 0.62, 0.64}, {0.88, 0.89, 0.89, 0.90}, {0.50, 0.58, 0.55, 0.80},
                                       {0.40, 0.50, 0.60, 0.85}};
    static const double cnn[4][4] = {{0.60, 0.62, 0.63, 0.64}, {0.87, 0.88, 0.89, 0.90}, {0.48, 0.60, 0.70, 0.85},
                                     {0.40, 0.50, 0.60, 0.85}};
    add_decoding(h, d1, 4, lat, early);
    add_decoding(h, d1, 4, lat, drmm1);
    add_decoding(h, d2, 4, lat, drmm2);
    add_decoding(h, cn, 4, lat, cnn);
    sqlite3_close(h);
    char *err = NULL, md[1100];
    snprintf(md, sizeof md, "%s", fx_path("r4/report.md"));
    int rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment f4 --out %s", bin, db, md);
    CHECK(rc == 0, "report f4: %d %s", rc, err);
    free(err);
    free(fx_stdout());
    char *text = fx_read(md, NULL);
    const char *rule = text ? strstr(text, "**Figure 4 verdict.** The rule") : NULL;
    const char *first = text ? strstr(text, "| x |") : NULL;
    CHECK(rule && first && rule < first && strstr(rule, "by more than 5 points"), "the rule, with its margin, before the numbers");
    CHECK(text && strstr(text, "DRMM +KL+NN against the CNN, 100 labels:"), "the pair named");
    CHECK(text && strstr(text, "| x | conv1 (50.0%) | scores | conv1 (48.0%) | conv2 | 90.0% | **shows** |"),
          "x: the CNN rises at conv2, the DRMM (mean of two seeds) at the scores");
    CHECK(text && strstr(text, "| y | conv1 (40.0%) | conv2 | conv1 (40.0%) | conv2 | 90.0% | does not show |"),
          "y: both rise at conv2");
    CHECK(text && strstr(text, "| depth | conv1 (60.0%) | never | conv1 (60.0%) | never | 90.0% | does not show |"),
          "depth: neither rises");
    CHECK(text && strstr(text, "| tilt | conv1 (88.0%) | never | conv1 (87.0%) | never | 90.0% | no verdict: not decodable |"),
          "tilt: not decodable");
    CHECK(text && strstr(text, "So the Figure 4 pattern **shows for x**; it does not show for depth, y; no verdict "
                               "(not decodable at the first layer) for tilt."),
          "the verdict per latent");
    free(text);
    CHECK(csv_lines(fx_path("r4/figure4.csv")) == 5 &&
              csv_num(fx_path("r4/figure4.csv"), "100,x,", 8) == 50.0,
          "figure4.csv: 4 latents, x's DRMM first-layer error the mean of the seeds' latest checkpoints");
    /* not meaningful: the numbers without the verdicts */
    snprintf(md, sizeof md, "%s", fx_path("r5/report.md"));
    rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment f4 --out %s --no-verdict 'a test'", bin, db,
                md);
    CHECK(rc == 0, "report f4 --no-verdict: %d %s", rc, err);
    free(err);
    free(fx_stdout());
    CHECK(!contains(md, "**shows**") && !contains(md, "So the Figure 4 pattern") && contains(md, "| x | conv1 (50.0%)"),
          "no verdict: the numbers stay");
}

/* A version-3 store (migrations 1-3) gains the report's views when opened. */
static void test_migration(void)
{
    const char *old = fx_path("v3.db");
    sqlite3 *h;
    int ok = sqlite3_open(old, &h) == SQLITE_OK;
    const char *files[] = {"schema/001_initial.sql", "schema/002_decoding.sql", "schema/003_evaluation_x2.sql"};
    for (int i = 0; i < 3 && ok; i++) {
        char *sql = fx_read(files[i], NULL);
        ok = sql && sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK;
        free(sql);
    }
    ok = ok && sqlite3_exec(h, "PRAGMA user_version = 3", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(h);
    CHECK(ok, "version 3 store (tests run from the repository root)");
    char *err = NULL;
    int rc = fx_run(&err, "%s/report --store %s --dataset none", bin, old);
    CHECK(rc == 3 && err && strstr(err, "no dataset named 'none'") && strstr(err, "datasets: none"),
          "empty store: unknown dataset (%d): %s", rc, err);
    free(err);
    CHECK(fx_sql_int(old, "PRAGMA user_version") >= 4 &&
          fx_sql_int(old, "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('grid_runs', 'grid_errors', "
                       "'grid_penalty_effect', 'grid_drmm_vs_cnn', 'grid_reconstruction', 'grid_curves', "
                       "'grid_config', 'runs_dataset_name')") == 8, "migration 4: views and index");
    CHECK(fx_sql_int(old, "SELECT COUNT(*) FROM pragma_table_info('run_settings') WHERE name = 'a_rcl'") == 1,
          "migration 7: run_settings redefined on an old store");
    CHECK(fx_sql_int(old, "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name IN ('argv', 'command', 'git_diff', "
                          "'git_diff_bytes', 'git_diff_sha256', 'openblas', 'sqlite_version', 'libpng_version', "
                          "'cpu_model')") == 9 &&
          fx_sql_int(old, "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('run_tags', 'run_notes', 'run_provenance', "
                          "'run_tags_tag', 'run_notes_run')") == 5, "migration 8: provenance columns, tags, notes");
}

static void bad(int want, const char *needle, const char *args)
{
    char fp0[65], fp1[65], *err = NULL;
    fx_store_fingerprint(db, fp0);
    int rc = fx_run(&err, "%s/report %s", bin, args);
    CHECK(rc == want && err && strstr(err, needle), "report %s: exit %d (want %d), stderr: %s", args, rc, want, err);
    fx_store_fingerprint(db, fp1);
    CHECK(!strcmp(fp0, fp1), "report %s: store unchanged", args);
    free(err);
}

static void test_bad_inputs(void)
{
    char a[2048];
    bad(2, "--store FILE and --dataset NAME are required", "");
    bad(2, "try --help", "--store x.db --dataset d --bogus");
    bad(2, "unexpected argument", "--store x.db --dataset d extra");
    bad(2, "expected RUN_ID:FILE.png", "--store x.db --dataset d --grid nothing.png");
    bad(2, "expected RUN_ID:FILE.png", "--store x.db --dataset d --grid 0:x.png");
    bad(2, "expected a positive number", "--store x.db --dataset d --well-below -1");
    snprintf(a, sizeof a, "--store %s --dataset shapes", fx_path("missing.db"));
    bad(4, "no such store", a);
    const char *text = fx_path("notdb.db");
    fx_write(text, "this is not a database, just text\n", 34, 0);
    snprintf(a, sizeof a, "--store %s --dataset shapes", text);
    bad(4, "not a", a);
    snprintf(a, sizeof a, "--store %s --dataset nope --out %s", db, fx_path("rb/report.md"));
    bad(3, "no dataset named 'nope' in the store (datasets: empty, shapes)", a);
    snprintf(a, sizeof a, "--store %s --dataset shapes --out %s", db, fx_path("rb/report.md"));
    bad(3, "several experiments; choose one with --experiment: 'e1', 'e2'", a);
    snprintf(a, sizeof a, "--store %s --dataset shapes --experiment e9 --out %s", db, fx_path("rb/report.md"));
    bad(3, "no runs of experiment 'e9' (experiments: 'e1', 'e2', 'f4')", a);
    snprintf(a, sizeof a, "--store %s --dataset empty --out %s", db, fx_path("rb/report.md"));
    bad(3, "dataset empty has no runs", a);
    snprintf(a, sizeof a, "--store %s --dataset shapes --experiment e1 --grid 3:%s --out %s", db,
             fx_path("nonexistent.png"), fx_path("rb/report.md"));
    bad(3, "nonexistent.png", a);
    snprintf(a, sizeof a, "--store %s --dataset shapes --experiment e1 --decoding %s --out %s", db,
             fx_path("nonexistent.md"), fx_path("rb/report.md"));
    bad(3, "decoding report", a);
    snprintf(a, sizeof a, "--store %s --dataset shapes --experiment e1 --out /proc/drmm-no/report.md", db);
    bad(1, "cannot create the directory", a);
    struct stat sb;
    CHECK(stat(fx_path("rb/report.md"), &sb) != 0, "no report written by a failed call");
    char *err = NULL;
    CHECK(fx_run(&err, "%s/report --help", bin) == 0, "--help exits 0");
    free(err);
    CHECK(fx_run(&err, "%s/report --version", bin) == 0, "--version exits 0");
    char *out = fx_stdout();
    CHECK(out && strstr(out, "report (drmm)"), "--version: %s", out);
    free(out);
    free(err);
}

/* runs ARGS: exit status, *out its stdout (caller frees), *err its stderr */
static int runs(char **out, char **err, const char *args)
{
    int rc = fx_run(err, "%s/runs --store %s %s", bin, db, args);
    *out = fx_stdout();
    return rc;
}

/* bin/runs: list, diff, compare against a baseline, export; the store unchanged */
static void test_runs(void)
{
    char fp0[65], fp1[65], *out, *err, args[1200];
    fx_store_fingerprint(db, fp0);
    int rc = runs(&out, &err, "--csv list --experiment e2");
    CHECK(rc == 0 && !strncmp(out, "run_id,name,dataset,status,n_labels,supervised_only,a_rc,a_kl,a_nn,", 67) &&
          strstr(out, ",e2/cnn/n100/s1,shapes,FINISHED,100,1,,,,3,") && strstr(out, ",e2/drmm+kl+nn/n100/s1,shapes,") &&
          !strstr(out, "e1/"), "list --experiment e2 as CSV, no weights for the CNN (%d): %s %s", rc, out, err);
    free(out), free(err);
    rc = runs(&out, &err, "list");
    CHECK(rc == 0 && strstr(out, "run_id  name") && strstr(out, "e1/drmm+kl+nn/n200/s3"), "list as text (%d): %s", rc, err);
    free(out), free(err);
    rc = runs(&out, &err, "--csv diff e2/drmm/n100/s1 e2/drmm+kl+nn/n100/s1");
    CHECK(rc == 0 && strstr(out, "section,key,run_") && strstr(out, "\nconfig,a_kl,0,0.2,\n") &&
          strstr(out, "\nconfig,a_nn,0,0.5,\n") && !strstr(out, "config,a_h,") &&
          strstr(out, "\nfinal,test_error,0.5,0.2,-0.3\n") && strstr(out, "\nrun,dataset_sha256,"),
          "diff by name: differing keys and the final numbers with B - A (%d): %s %s", rc, out, err);
    free(out), free(err);
    rc = runs(&out, &err, "--csv diff --all 1 2");
    CHECK(rc == 0 && strstr(out, "\nconfig,a_h,1,1,\n"), "diff --all by id shows equal keys too (%d): %s", rc, out);
    free(out), free(err);
    rc = runs(&out, &err, "--csv compare --experiment e2 --baseline e1");
    CHECK(rc == 0 && !strncmp(out, "dataset,n_labels,model,baseline_error,baseline_runs,error,runs,change\n", 70) &&
          strstr(out, "\nshapes,100,CNN,0.31") && strstr(out, "\nshapes,200,DRMM,0.3,3,,,\n"),
          "compare against a baseline experiment (%d): %s %s", rc, out, err);
    {
        char *out2, *err2;
        snprintf(args, sizeof args, "--csv compare --experiment e2 --baseline e1 --baseline-store %s", db);
        rc = runs(&out2, &err2, args);
        CHECK(rc == 0 && !strcmp(out, out2), "the baseline from another store (%d): %s %s", rc, out2, err2);
        free(out2), free(err2);
    }
    free(out), free(err);
    rc = runs(&out, &err, "--json export grid_errors");
    CHECK(rc == 0 && out[0] == '[' && strstr(out, "{\"experiment\": \"e1\", \"dataset\": \"shapes\", \"n_labels\": 100, ") &&
          strstr(out, "\"std_error\": null"), "export a view as JSON (%d): %.300s %s", rc, out, err);
    free(out), free(err);
    struct { int want; const char *args, *needle; } bad[] = {
        {3, "export nope", "no view or table named 'nope'; the views: ablation"},
        {3, "diff 1 99999", "no run with id '99999'"},
        {3, "diff 1 no/such/run", "no run named 'no/such/run'"},
        {3, "compare --experiment e1 --baseline e9", "no runs of experiment 'e9'"},
        {3, "compare --experiment e1 --baseline e1 --baseline-store /nonexistent.db", "cannot open the baseline store"},
        {2, "frobnicate", "unknown command 'frobnicate'"},
        {2, "diff 1", "diff takes two runs"},
        {2, "compare --experiment e1", "compare needs --experiment NAME and --baseline NAME"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = runs(&out, &err, bad[i].args);
        CHECK(rc == bad[i].want && strstr(err, bad[i].needle), "runs %s: %d, '%s': %s", bad[i].args, rc, bad[i].needle,
              err);
        free(out), free(err);
    }
    rc = fx_run(&err, "%s/runs --store %s list", bin, fx_path("absent.db"));
    CHECK(rc == 4 && strstr(err, "no such store"), "missing store: %d %s", rc, err);
    free(err);
    fx_store_fingerprint(db, fp1);
    CHECK(!strcmp(fp0, fp1), "runs leaves the store unchanged");
}

/* bin/runs tag and note: written to the store, shown by list and diff;
 * bad ones refused with the store unchanged */
static void test_runs_tags_notes(void)
{
    char fp0[65], fp1[65], *out, *err;
    int rc = runs(&out, &err, "tag e2/drmm/n100/s1 baseline-v2");
    CHECK(rc == 0 && strstr(err, "tag added"), "tag a run by name (%d): %s", rc, err);
    free(out), free(err);
    rc = runs(&out, &err, "tag e2/drmm/n100/s1 baseline-v2");
    CHECK(rc == 0, "the same tag again is a no-op (%d): %s", rc, err);
    free(out), free(err);
    rc = runs(&out, &err, "tag e2/drmm/n100/s1 a.b:c+d_e");
    free(out), free(err);
    rc = runs(&out, &err, "note e2/drmm/n100/s1 'lr too high, see epoch 3'");
    CHECK(rc == 0, "note a run (%d): %s", rc, err);
    free(out), free(err);
    rc = runs(&out, &err, "note e2/drmm/n100/s1 'second thought'");
    free(out), free(err);
    rc = runs(&out, &err, "--csv list --tag baseline-v2");
    CHECK(rc == 0 && strstr(out, ",tags,notes\n") &&
          strstr(out, ",e2/drmm/n100/s1,") && strstr(out, ",\"a.b:c+d_e,baseline-v2\",\"lr too high, see epoch 3 | second thought\"\n") &&
          !strstr(out, "e2/cnn"), "list --tag: only the tagged run, with its tags and notes (%d): %s %s", rc, out, err);
    free(out), free(err);
    rc = runs(&out, &err, "--csv diff e2/drmm/n100/s1 e2/drmm+kl+nn/n100/s1");
    CHECK(rc == 0 && strstr(out, "\nrun,tags,\"a.b:c+d_e,baseline-v2\",,\n") &&
          strstr(out, "\nrun,notes,\"lr too high, see epoch 3 | second thought\",,\n"), "diff shows tags and notes (%d): %s", rc, out);
    free(out), free(err);
    fx_store_fingerprint(db, fp0);
    struct { int want; const char *args, *needle; } bad[] = {
        {3, "tag e2/drmm/n100/s1 'two words'", "tag 'two words': use 1 to 64 letters"},
        {3, "tag e2/drmm/n100/s1 a,b", "no spaces or commas"},
        {3, "tag e2/drmm/n100/s1 ''", "tag '': use"},
        {3, "tag 99999 x", "no run with id '99999'"},
        {3, "note no/such/run text", "no run named 'no/such/run'"},
        {3, "note 1 '   '", "not only blanks"},
        {2, "tag 1", "tag takes a run (id or name) and a tag"},
        {2, "note 1 a b", "note takes a run (id or name) and a text"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = runs(&out, &err, bad[i].args);
        CHECK(rc == bad[i].want && strstr(err, bad[i].needle), "runs %s: %d, '%s': %s", bad[i].args, rc, bad[i].needle,
              err);
        free(out), free(err);
    }
    fx_store_fingerprint(db, fp1);
    CHECK(!strcmp(fp0, fp1), "refused tags and notes leave the store unchanged");
}

int main(void)
{
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    fx_tmpdir("report");
    db = strdup(fx_path("s.db"));
    build_store();
    test_report_e1();
    test_query_files();
    test_report_svg();
    test_report_no_filters();
    test_report_classes();
    test_no_verdict();
    test_report_e2();
    test_figure4();
    test_migration();
    test_bad_inputs();
    test_runs();
    test_runs_tags_notes();
    fx_cleanup();
    free((void *)db);
    return check_done();
}
