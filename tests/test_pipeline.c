/* `make pipeline PROFILE=smoke` as a user runs it, into a temporary store and
 * report directory: the whole pipeline with two training runs at a time
 * (make -j2) against one store, the report with its tables, CSV files and
 * charts covering every run; a second run that does nothing and is fast; a
 * rebuilt-but-unchanged program that redoes nothing; a changed setting that
 * redoes exactly the runs it concerns; a training interrupted by Ctrl-C and
 * resumed by the next make pipeline; and clear errors for an unknown
 * DATASET or PROFILE, a bad LABELS value and missing MNIST or CIFAR-10 files.
 * Under the sanitizers (DRMM_SANITIZED) the data is smaller. */
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "check.h"
#include "fixture.h"
#include "xml_check.h"

static const char *bin;
static char db[1100], rep[1100], common[4096];


/* An integer from the store at path; -1 (with a message unless quiet) when the query fails. */
static long long sql_int_q(const char *path, const char *sql, int quiet)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK && sqlite3_busy_timeout(h, 10000) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    } else if (!quiet) {
        printf("  sql failed: %s: %s\n", sql, sqlite3_errmsg(h));
    }
    sqlite3_close(h);
    return v;
}

static long long sql_int_in(const char *path, const char *sql)
{
    return sql_int_q(path, sql, 0);
}

static long long sql_int(const char *sql)
{
    return sql_int_in(db, sql);
}

static int file_has(const char *path, const char *needle)
{
    char *s = fx_read(path, NULL);
    int r = s && strstr(s, needle);
    free(s);
    return r;
}

static int lines(const char *path)
{
    char *s = fx_read(path, NULL);
    int n = 0;
    for (char *p = s; p && *p; p++)
        n += *p == '\n';
    free(s);
    return s ? n : -1;
}

static double mtime(const char *path)
{
    struct stat sb;
    if (stat(path, &sb))
        return -1;
    return sb.st_mtim.tv_sec + sb.st_mtim.tv_nsec * 1e-9;
}

/* make [flags] pipeline COMMON extra; returns the exit status, *secs the time;
 * prints make's output on failure when want_ok. */
static int pipeline(const char *flags, const char *extra, double *secs, char **err, int want_ok)
{
    double t0 = clock_seconds();
    int rc = fx_run(err, "make --no-print-directory %s pipeline %s %s", flags, common, extra);
    if (secs)
        *secs = clock_seconds() - t0;
    if (rc != 0 && want_ok) {
        char *out = fx_stdout();
        printf("make pipeline %s failed (%d):\n%s\n%s\n", extra, rc, out, *err);
        free(out);
    }
    return rc;
}

static void test_bad_variables(void)
{
    char *err = NULL;
    int rc = pipeline("", "DATASET=bogus", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "DATASET=bogus is unknown: use synthetic, fashion-mnist, mnist, cifar10, svhn or png:DIR"),
          "unknown DATASET (%d): %s", rc, err);
    free(err);
    rc = pipeline("", "PROFILE=bogus", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "PROFILE=bogus is unknown: use one of default long paper smoke"), "unknown PROFILE (%d): %s",
          rc, err);
    free(err);
    rc = pipeline("", "LABELS=abc", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "not a number: abc"), "LABELS=abc (%d): %s", rc, err);
    free(err);
    /* typos on the command line are refused, not ignored (issue 19) */
    rc = pipeline("", "dataset=synthetic profile=smoke", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "unknown variables dataset (did you mean DATASET?) profile (did you mean PROFILE?)") &&
          strstr(err, "make pipeline takes: DATASET PROFILE STORE"), "lower-case variables refused (%d): %s", rc, err);
    free(err);
    rc = pipeline("", "EPOCH=2", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "unknown variable EPOCH (did you mean EPOCHS?)"), "EPOCH=2 refused (%d): %s", rc, err);
    free(err);
    rc = pipeline("", "FOO=1", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "unknown variable FOO;"), "FOO=1 refused (%d): %s", rc, err);
    free(err);
    /* make test's TESTS reaches the pipelines the tests run: let through */
    rc = pipeline("", "TESTS=test_pipeline DATASET=bogus", NULL, &err, 0);
    CHECK(rc == 2 && !strstr(err, "unknown variable") && strstr(err, "DATASET=bogus is unknown"),
          "TESTS let through (%d): %s", rc, err);
    free(err);
    rc = pipeline("", "JOBS=0", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "JOBS=0"), "JOBS=0 (%d): %s", rc, err);
    free(err);
    rc = pipeline("", "MODELS=gan", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "MODELS: unknown gan"), "MODELS=gan (%d): %s", rc, err);
    free(err);
    rc = pipeline("", "MODE=unsup", NULL, &err, 0);
    CHECK(rc == 2 && strstr(err, "MODE=unsup: use semisup (the default), supervised or pretrain"), "MODE=unsup (%d): %s",
          rc, err);
    free(err);
    char extra[2048];
    snprintf(extra, sizeof extra, "DATASET=mnist MNIST_DIR=%s", fx_path("no-mnist"));
    rc = pipeline("", extra, NULL, &err, 0);
    CHECK(rc != 0 && strstr(err, "MNIST is missing from") && strstr(err, "t10k-labels-idx1-ubyte") &&
          strstr(err, "https://"), "missing MNIST: where to get it (%d): %s", rc, err);
    free(err);
    snprintf(extra, sizeof extra, "DATASET=cifar10 CIFAR10_DIR=%s", fx_path("no-cifar"));
    rc = pipeline("", extra, NULL, &err, 0);
    CHECK(rc != 0 && strstr(err, "CIFAR-10 (binary version) is missing from") && strstr(err, "cifar-10-binary.tar.gz"),
          "missing CIFAR-10: where to get it (%d): %s", rc, err);
    free(err);
    snprintf(extra, sizeof extra, "DATASET=svhn SVHN_DIR=%s", fx_path("no-svhn"));
    rc = pipeline("", extra, NULL, &err, 0);
    CHECK(rc != 0 && strstr(err, "SVHN (format 2, cropped digits) is missing from") && strstr(err, "train_32x32.mat") &&
          strstr(err, "http://ufldl.stanford.edu/housenumbers/test_32x32.mat"), "missing SVHN: where to get it (%d): %s",
          rc, err);
    free(err);
    rc = fx_run(&err, "make --no-print-directory pipeline-plan DATASET=svhn SVHN_DIR=/data/svhn PROFILE=smoke STORE=%s",
                fx_path("svhn-plan.db"));
    char *plan = fx_stdout();
    CHECK(rc == 0 && strstr(plan, "dataset    svhn (stored as svhn)") && strstr(plan, "ingest     --svhn /data/svhn") &&
          strstr(plan, "--a-kl 0.2") == NULL && strstr(plan, "--a-kl 1 "), "DATASET=svhn planned (%d): %s %s", rc, plan, err);
    free(plan);
    free(err);
    snprintf(extra, sizeof extra, "DATASET=png:%s", fx_path("no-pngs"));
    rc = pipeline("", extra, NULL, &err, 0);
    CHECK(rc != 0 && strstr(err, "no directory"), "png: missing directory (%d): %s", rc, err);
    free(err);
    CHECK(access(db, F_OK) != 0, "no store created by a refused pipeline");
}

/* Without -j, the pipeline runs as many programs at a time as there are
 * cores (JOBS), one thread each; JOBS=1 or -j1: one at a time, two threads. */
static void test_parallel_default(void)
{
    struct { const char *flags, *want; } c[] = {
        {"", sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "threads    1 per program" : "threads    2 per program"},
        {"JOBS=1", "threads    2 per program"},
        {"-j1", "threads    2 per program"},
        {"-j2 JOBS=1", "threads    1 per program"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *err = NULL;
        int rc = fx_run(&err, "make --no-print-directory pipeline-plan %s %s", common, c[i].flags);
        char *out = fx_stdout();
        CHECK(rc == 0 && out && strstr(out, c[i].want), "make pipeline-plan %s: '%s' (%d): %s", c[i].flags, c[i].want,
              rc, out ? out : "");
        free(out);
        free(err);
    }
}

static void test_full_run(void)
{
    char *err = NULL, p[1200];
    double secs;
    int rc = pipeline("", "JOBS=2", &secs, &err, 1);
    printf("smoke pipeline with JOBS=2: %.1f s\n", secs);
    CHECK(rc == 0, "make pipeline PROFILE=smoke JOBS=2 exits 0 (got %d)", rc);
    if (!err)
        err = strdup("");
    /* the profile, its time and the progress of each training (issue 19) */
    CHECK(strstr(err, "pipeline: synthetic, profile smoke (pipeline/profiles/smoke.mk; as shipped: about 1 min") &&
          strstr(err, "5 of 5 runs to train"), "says the profile, its time and the runs to train: %s", err);
    CHECK(strstr(err, "pipeline: run 1 of 5 smoke/cnn/n100/s1: epoch 1/1 step ") &&
          strstr(err, "pipeline: run 5 of 5 smoke/drmm+kl+nn/n100/s1: epoch 1/1 step ") && strstr(err, "% done, ETA "),
          "an epoch line per run with run k of N and the ETA: %s", err);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM runs") == 5, "5 runs: 4 DRMM settings + the CNN");
    CHECK(sql_int("SELECT COUNT(*) FROM runs_summary WHERE status = 'FINISHED' AND test_error IS NOT NULL") == 5,
          "every run finished and evaluated");
    CHECK(sql_int("SELECT COUNT(DISTINCT model) FROM grid_runs WHERE experiment = 'smoke'") == 5, "the 5 models");
    CHECK(sql_int("SELECT MAX(threads) FROM runs") == 1, "one thread per training with two programs at a time");
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE command LIKE 'make pipeline %PROFILE=smoke%' AND argv LIKE '[%train\", %'") == 5,
          "each run records the pipeline's command and its argv");
    CHECK(sql_int("SELECT COUNT(*) FROM runs a JOIN runs b ON a.id < b.id AND a.started < b.ended "
                  "AND b.started < a.ended") > 0, "two trainings ran at the same time against the store");
    CHECK(sql_int("SELECT COUNT(DISTINCT run_id) FROM decode_layers") == 2, "DRMM +KL+NN and CNN decoded");
    CHECK(sql_int("SELECT COUNT(*) FROM decoding") > 0, "decoding results");

    snprintf(p, sizeof p, "%s/report.md", rep);
    const char *sections[] = {"## Summary", "## Table 1", "## Table 2", "## Table 5", "## Reconstruction",
                              "## Training curves", "## Nuisance decoding", "## Runs", "### Configuration",
                              "DRMM +KL+NN against the CNN", "LRC fell well below mean(I²) in"};
    for (int i = 0; i < 11; i++)
        CHECK(file_has(p, sections[i]), "report has '%s'", sections[i]);
    CHECK(file_has(p, "recon_drmm+kl+nn_n100_s1.png") && file_has(p, "decoding_x.png") &&
          file_has(p, "curves_lrc_n100.png"), "report shows the grid, decoding and curve charts");
    const char *files[] = {"table1_test_error.csv", "table2_penalty_reduction.csv", "table5_drmm_vs_cnn.csv",
                           "reconstruction.csv", "curves.csv", "decoding.csv", "runs.csv", "config_common.csv",
                           "config_by_run.csv", "dataset.csv", "architecture.csv", "decoding.md",
                           "curves_lh_n100.png", "curves_lrc_n100.png", "curves_train_error_n100.png",
                           "decoding_slant.png", "recon_drmm_n100_s1.png", "recon_drmm+nn_n100_s1.png",
                           "recon_drmm+kl_n100_s1.png", "recon_drmm+kl+nn_n100_s1.png"};
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof p, "%s/%s", rep, files[i]);
        CHECK(lines(p) >= 1 || strstr(files[i], ".png"), "%s written", files[i]);
        CHECK(access(p, R_OK) == 0, "%s exists", files[i]);
    }
    /* the first layer's filters of DRMM +KL+NN and the CNN, from their checkpoints */
    snprintf(p, sizeof p, "%s/report.md", rep);
    CHECK(file_has(p, "### First-layer filters") && file_has(p, "](filters.png)") && !file_has(p, "Not drawn"),
          "report shows the first-layer filters");
    snprintf(p, sizeof p, "%s/filters.svg", rep);
    char *fsvg = fx_read(p, NULL), fmsg[256] = "";
    CHECK(fsvg && xml_check(fsvg, fmsg, sizeof fmsg) == 0, "filters.svg well formed: %s", fmsg);
    CHECK(fsvg && strstr(fsvg, ">DRMM +KL+NN (run ") && strstr(fsvg, ">CNN (run ") &&
              strstr(fsvg, ": 32 filters of 5x5</text>"), "filters.svg names both runs and ConvSmall's 32 5x5 filters");
    free(fsvg);
    snprintf(p, sizeof p, "%s/filters.png", rep);
    CHECK(access(p, R_OK) == 0, "filters.png written");
    /* the E-DRMM of DRMM +KL+NN and the CNN (bin/edrmm): the table and a tree each */
    snprintf(p, sizeof p, "%s/report.md", rep);
    CHECK(file_has(p, "## The E-DRMM: inference as a decision tree") && file_has(p, "the E-DRMM's class tree](edrmm_run") &&
          !file_has(p, "not drawn:"), "report has the E-DRMM section and its trees");
    snprintf(p, sizeof p, "%s/edrmm.csv", rep);
    CHECK(access(p, R_OK) == 0, "edrmm.csv written");
    /* the generative side of DRMM +KL+NN and the CNN (bin/generate) */
    snprintf(p, sizeof p, "%s/report.md", rep);
    const char *gen_sections[] = {"## Samples from the model", "## Activity maximisation",
                                  "## Units of every layer rendered to pixels (Figure 6)",
                                  "![samples of DRMM +KL+NN](samples_drmm+kl+nn.png)", "![samples of CNN](samples_cnn.png)",
                                  "![activity maximisation of DRMM +KL+NN](actmax_drmm+kl+nn.png)",
                                  "![activity maximisation of CNN](actmax_cnn.png)",
                                  "![units of DRMM +KL+NN rendered to pixels](units_drmm+kl+nn.png)",
                                  "![units of CNN rendered to pixels](units_cnn.png)",
                                  "| cosine (closed form, ascent) |"};
    for (int i = 0; i < 10; i++)
        CHECK(file_has(p, gen_sections[i]), "report has '%s'", gen_sections[i]);
    const char *gen_files[] = {"samples_drmm+kl+nn", "samples_cnn", "actmax_drmm+kl+nn", "actmax_cnn",
                               "units_drmm+kl+nn", "units_cnn"};
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s.png", rep, gen_files[i]);
        CHECK(access(p, R_OK) == 0, "%s.png written", gen_files[i]);
        snprintf(p, sizeof p, "%s/%s.svg", rep, gen_files[i]);
        char *g = fx_read(p, NULL), gmsg[256] = "";
        CHECK(g && xml_check(g, gmsg, sizeof gmsg) == 0, "%s.svg well formed: %s", gen_files[i], gmsg);
        free(g);
    }
    /* the shallow Rendering Mixture Model (bin/rmm) */
    snprintf(p, sizeof p, "%s/report.md", rep);
    CHECK(file_has(p, "## The shallow Rendering Mixture Model (Figures 3 and 6)") &&
              file_has(p, "![RMM templates](rmm_templates.png)") && file_has(p, "![RMM reconstructions](rmm_recon.png)") &&
              file_has(p, "FROM rmm_loglik WHERE fit_id = 1"), "report has the shallow RMM's section");
    const char *rmm_files[] = {"rmm_templates", "rmm_recon", "rmm_loglik"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s.png", rep, rmm_files[i]);
        CHECK(access(p, R_OK) == 0, "%s.png written", rmm_files[i]);
    }
    snprintf(p, sizeof p, "%s/runs.csv", rep);
    CHECK(lines(p) == 6, "runs.csv: header + 5 runs (%d lines)", lines(p));
    char *runs = fx_read(p, NULL);
    for (int id = 1; id <= 5; id++) {
        char needle[32];
        snprintf(needle, sizeof needle, "\n%d,smoke/", id);
        CHECK(runs && strstr(runs, needle), "runs.csv lists run %d", id);
    }
    free(runs);
    snprintf(p, sizeof p, "%s/table1_test_error.csv", rep);
    CHECK(lines(p) == 6 && file_has(p, "100,DRMM +KL+NN,1,") && file_has(p, "100,CNN,1,"),
          "Table 1: every model at 100 labels");
    snprintf(p, sizeof p, "%s/table5_drmm_vs_cnn.csv", rep);
    CHECK(lines(p) == 2, "Table 5: one label count");

    /* a smoke report: marked as not meaningful, no verdict */
    snprintf(p, sizeof p, "%s/report.md", rep);
    CHECK(file_has(p, "(not meaningful: no verdict)") && file_has(p, "**Not meaningful: no verdict.** A smoke run"),
          "the smoke report says its numbers mean nothing");
    const char *verdicts[] = {"beats the CNN", "does not beat", "no clear difference", "shows here", "does not show",
                              "shows at", "the reconstruction term trains", "only partly", "did not train well"};
    for (int i = 0; i < 9; i++)
        CHECK(!file_has(p, verdicts[i]), "the smoke report draws no verdict ('%s')", verdicts[i]);
    CHECK(file_has(p, "## Errors by class") && file_has(p, "Confusion matrix: CNN, 100 labels") &&
          file_has(p, "curves_valid_error_n100.png"), "per-class errors, confusion matrices, held-out curve");
    CHECK(file_has(p, "(recon_drmm+kl+nn_n100_s1.png) ([SVG](recon_drmm+kl+nn_n100_s1.svg))") &&
          file_has(p, "(curves_lh_n100.png) ([SVG](curves_lh_n100.svg))"), "the report links each SVG");
    /* every chart and grid also as a well-formed SVG with its labels as text */
    const char *svgs[][2] = {{"curves_valid_error_n100.svg", ">validation error %</text>"},
                             {"curves_lh_n100.svg", ">DRMM +KL+NN</text>"},
                             {"decoding_slant.svg", ">chance</text>"},
                             {"recon_drmm+kl+nn_n100_s1.svg", ">render</text>"}};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", rep, svgs[i][0]);
        char *svg = fx_read(p, NULL), msg[256] = "";
        CHECK(svg && xml_check(svg, msg, sizeof msg) == 0 && strstr(svg, svgs[i][1]), "%s: well formed, has %s: %s",
              svgs[i][0], svgs[i][1], msg);
        free(svg);
    }
    /* the confusion matrices are the evaluations' predictions counted */
    snprintf(p, sizeof p, "%s/confusion.csv", rep);
    long long cells = sql_int("SELECT COUNT(*) FROM (SELECT g.run_id, p.label, p.predicted FROM predictions p "
                              "JOIN latest_test_evaluation t ON t.id = p.evaluation_id "
                              "JOIN grid_runs g ON g.run_id = t.run_id WHERE g.experiment = 'smoke' "
                              "GROUP BY 1, 2, 3)");
    long long total = sql_int("SELECT SUM(n_images) FROM latest_test_evaluation");
    char *cm = fx_read(p, NULL);
    long long sum = 0, nonzero = 0;
    int agree = 1;
    for (char *line = cm ? strchr(cm, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        long nl, order, runs, tc, pc, imgs;
        char model[64];
        if (sscanf(line + 1, "%ld,%63[^,],%ld,%ld,%ld,%ld,%ld", &nl, model, &order, &runs, &tc, &pc, &imgs) != 7)
            continue;
        sum += imgs;
        if (!imgs)
            continue;
        nonzero++;
        char q[512];
        snprintf(q, sizeof q, "SELECT COUNT(*) FROM predictions p JOIN latest_test_evaluation t ON t.id = p.evaluation_id "
                 "JOIN grid_runs g ON g.run_id = t.run_id WHERE g.experiment = 'smoke' AND g.model = '%s' "
                 "AND p.label = %ld AND p.predicted = %ld", model, tc, pc);
        agree &= sql_int(q) == imgs;
    }
    free(cm);
    CHECK(agree && nonzero == cells && sum == total && total > 0,
          "confusion.csv: every cell is its predictions' count (%lld cells, %lld of %lld images)", nonzero, sum, total);
}

/* MODE=pretrain: the DRMM models train with --mode pretrain under the
 * experiment smoke-pretrain, the CNN as in every mode. */
static void test_mode_plan(void)
{
    char *err = NULL;
    int rc = fx_run(&err, "JOBS=1 make --no-print-directory pipeline-plan %s MODE=pretrain MODELS='cnn drmm+kl+nn'", common);
    char *out = fx_stdout();
    CHECK(rc == 0 && out && strstr(out, "--name smoke-pretrain/drmm+kl+nn/n100/s1") &&
              strstr(out, "--a-nn 1 --mode pretrain") && strstr(out, "--name smoke-pretrain/cnn/n100/s1") &&
              !strstr(out, "--supervised-only 1 --mode"), "MODE=pretrain reaches the DRMM's training only: %s", out);
    free(out);
    free(err);
}

/* The command recorded in the report holds the variables of the command
 * line and those taken from the environment, but not JOBS or THREADS. */
static void test_recorded_command(void)
{
    char *err = NULL;
    int rc = fx_run(&err, "MODELS='cnn drmm' EPOCHS=2 JOBS=1 make --no-print-directory pipeline-plan %s LABELS=50",
                    common);
    char *out = fx_stdout();
    CHECK(rc == 0 && out && strstr(out, "command    make pipeline ") && strstr(out, "LABELS=50") &&
          strstr(out, "models cnn drmm") && strstr(out, "MODELS=cnn\\ drmm") && strstr(out, "PROFILE=smoke") &&
          !strstr(out, "EPOCHS=2") &&
          !strstr(out, "JOBS="), "environment variables that take effect are recorded (EPOCHS is the profile's): %s",
          out);
    free(out);
    free(err);
}

/* The command the report records makes the same report again. */
static void test_reproduce(void)
{
    char p[1200], *err = NULL;
    snprintf(p, sizeof p, "%s/report.md", rep);
    char *before = fx_read(p, NULL), cmd[4096] = "";
    const char *at = before ? strstr(before, "by `make pipeline ") : NULL;
    if (at) {
        at += 4;
        const char *end = strchr(at, '`');
        snprintf(cmd, sizeof cmd, "%.*s", end ? (int)(end - at) : 0, at);
    }
    CHECK(*cmd && strstr(cmd, "PROFILE=smoke") && strstr(cmd, db) && !strstr(cmd, "JOBS="),
          "the report records its command: %s", cmd);
    remove(p);
    int rc = fx_run(&err, "%s", cmd);
    CHECK(rc == 0, "the recorded command runs (%d): %s", rc, err);
    free(err);
    char *after = fx_read(p, NULL);
    /* the same report but for the time it was written (first paragraph) */
    const char *b = before ? strstr(before, " from the store ") : NULL, *a = after ? strstr(after, " from the store ") : NULL;
    CHECK(a && b && !strcmp(a, b), "the recorded command makes the same report");
    free(before);
    free(after);
}

static void test_nothing_to_do(void)
{
    char fp0[65], fp1[65], *err = NULL, p[1200];
    snprintf(p, sizeof p, "%s/report.md", rep);
    double t_report = mtime(p), secs;
    fx_store_fingerprint(db, fp0);
    int rc = pipeline("", "", &secs, &err, 1);
    char *out = fx_stdout();
    printf("second make pipeline: %.2f s\n", secs);
    CHECK(rc == 0 && secs < 20, "second run exits 0 in seconds (%d, %.1f s)", rc, secs);
    CHECK(!strstr(err, "pipeline: train") && !strstr(err, "pipeline: evaluate") && !strstr(err, "pipeline: ingest") &&
          !strstr(err, "pipeline: report="), "second run redoes no stage: %s", err);
    CHECK(out && strstr(out, "pipeline: synthetic, profile smoke: report"), "says where the report is: %s", out);
    free(out);
    free(err);
    fx_store_fingerprint(db, fp1);
    CHECK(!strcmp(fp0, fp1), "store unchanged by the second run");
    CHECK(mtime(p) == t_report, "report not rewritten");

    /* a program relinked without changes (new mtime): its fingerprint is the same */
    snprintf(p, sizeof p, "touch %s/train %s/evaluate", bin, bin);
    CHECK(system(p) == 0, "touch the programs");
    /* with make -j2: the stages' sub-makes share the jobserver (no "-j1"
     * fallback, which would run one program at a time) */
    rc = pipeline("-j2", "", &secs, &err, 1);
    CHECK(rc == 0 && !strstr(err, "pipeline: train") && !strstr(err, "pipeline: evaluate"),
          "an unchanged program redoes nothing (%d): %s", rc, err);
    CHECK(!strstr(err, "jobserver unavailable"), "make -j2 pipeline: the sub-makes get the jobserver: %s", err);
    free(err);
    fx_store_fingerprint(db, fp1);
    CHECK(!strcmp(fp0, fp1), "store unchanged");
}

static void test_changes(void)
{
    char *err = NULL, p[1200];
    /* the +NN weight: exactly the two runs that use it are redone */
    int rc = pipeline("", "A_NN=0.5", NULL, &err, 1);
    CHECK(rc == 0 && strstr(err, "2 of 5 runs to train") && strstr(err, "run 1 of 2 ") && strstr(err, "run 2 of 2 ") &&
          !strstr(err, "of 5 smoke/"), "A_NN=0.5 exits 0, 2 runs of 5 to train: %s", err);
    CHECK(strstr(err, "train smoke/drmm+nn/n100/s1") && strstr(err, "train smoke/drmm+kl+nn/n100/s1") &&
          !strstr(err, "train smoke/drmm/n100") && !strstr(err, "train smoke/cnn") &&
          !strstr(err, "train smoke/drmm+kl/n100"), "only the +NN runs retrained: %s", err);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM runs") == 7, "2 new runs");
    CHECK(sql_int("SELECT COUNT(*) FROM grid_runs WHERE experiment = 'smoke'") == 5, "the grid still has 5 runs");
    CHECK(sql_int("SELECT COUNT(*) FROM grid_runs WHERE a_nn = 0.5 AND model IN ('DRMM +NN', 'DRMM +KL+NN')") == 2,
          "the grid holds the redone runs");
    snprintf(p, sizeof p, "%s/runs.csv", rep);
    char old_nn[64];   /* the first +NN run (run ids follow the order the runs started in) */
    snprintf(old_nn, sizeof old_nn, "\n%lld,smoke/", sql_int("SELECT MIN(id) FROM runs WHERE name = 'smoke/drmm+nn/n100/s1'"));
    CHECK(lines(p) == 6 && file_has(p, "\n6,smoke/") && file_has(p, "\n7,smoke/") && !file_has(p, old_nn),
          "the report shows the new runs instead of the old");
    /* a second seed of the CNN alone */
    rc = pipeline("", "A_NN=0.5 MODELS=cnn SEEDS='1 2'", NULL, &err, 1);
    CHECK(rc == 0 && strstr(err, "train smoke/cnn/n100/s2") && !strstr(err, "train smoke/cnn/n100/s1"),
          "one new seed (%d): %s", rc, err);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM runs") == 8, "1 new run");
    snprintf(p, sizeof p, "%s/table1_test_error.csv", rep);
    CHECK(file_has(p, "100,CNN,2,"), "Table 1: the CNN over 2 seeds");
}

/* Ctrl-C (SIGINT to make's process group) during a training: the run is
 * checkpointed, and the next make pipeline resumes it to the end. */
static void test_interrupt(void)
{
    char store[1100], report[1100], cmd[8192];
    snprintf(store, sizeof store, "%s", fx_path("i.db"));
    snprintf(report, sizeof report, "%s", fx_path("i-report"));
    snprintf(cmd, sizeof cmd, "exec make --no-print-directory pipeline %s STORE=%s REPORT_DIR=%s MODELS=cnn EPOCHS=8 "
             ">%s 2>&1", common, store, report, fx_path("i.log"));
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int seen = 0;
    for (int i = 0; i < 1200 && !seen; i++) {   /* up to 2 min for the first epoch */
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        seen = access(store, F_OK) == 0 &&   /* the store may be mid-migration: quiet */
               sql_int_q(store, "SELECT COUNT(*) FROM metrics WHERE name = 'lh'", 1) > 0 &&
               sql_int_q(store, "SELECT COUNT(*) FROM runs WHERE status = 'RUNNING'", 1) == 1;
    }
    CHECK(seen, "the training started");
    kill(-pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0), "make stops on Ctrl-C");
    CHECK(sql_int_in(store, "SELECT COUNT(*) FROM runs WHERE status = 'INTERRUPTED'") == 1, "run checkpointed");
    char *err = NULL;
    snprintf(cmd, sizeof cmd, "STORE=%s REPORT_DIR=%s MODELS=cnn EPOCHS=8", store, report);
    int rc = pipeline("", cmd, NULL, &err, 1);
    CHECK(rc == 0 && strstr(err, "train smoke/cnn/n100/s1: resuming run 1"), "resumed (%d): %s", rc, err);
    free(err);
    CHECK(sql_int_in(store, "SELECT COUNT(*) FROM runs") == 1 &&
          sql_int_in(store, "SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'") == 1 &&
          sql_int_in(store, "SELECT COUNT(*) FROM metrics WHERE run_id = 1 AND name = 'lh'") == 8,
          "one run, finished, with all 8 epochs");
}

/* tests/run.sh names each test binary as it starts and gives its time */
static void test_run_sh(void)
{
    const char *t = fx_path("test_fake");
    FILE *f = fopen(t, "w");
    if (f) {
        fputs("#!/bin/sh\necho checking\necho '3 passed, 0 failed'\n", f);
        fclose(f);
    }
    char *err = NULL;
    int rc = fx_run(&err, "chmod +x %s && sh tests/run.sh %s %s", t, t, t);
    char *out = fx_stdout();
    char *start = out ? strstr(out, "[test_fake] running\n[test_fake] checking") : NULL;
    CHECK(rc == 0 && start && strstr(out, "[test_fake] 3 passed, 0 failed\n[test_fake] 0 s\n") &&
          strstr(out, "\n6 passed, 0 failed"), "run.sh: name first, then output, time, totals (%d): %s", rc, out);
    free(out);
    free(err);
}

int main(void)
{
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    int san = getenv("DRMM_SANITIZED") != NULL;
    fx_tmpdir("pipeline");
    snprintf(db, sizeof db, "%s", fx_path("s.db"));
    snprintf(rep, sizeof rep, "%s", fx_path("report"));
    /* a make of its own, not a child of the make running the tests */
    unsetenv("MAKEFLAGS");
    unsetenv("MFLAGS");
    unsetenv("MAKELEVEL");
    unsetenv("MAKEOVERRIDES");
    snprintf(common, sizeof common, "PROFILE=smoke STORE=%s REPORT_DIR=%s%s", db, rep,
             san ? " SAN=1 SYNTH_TRAIN=400 SYNTH_TEST=200 DECODE_SAMPLES=200" : "");
    test_run_sh();
    test_bad_variables();
    test_parallel_default();
    test_recorded_command();
    test_mode_plan();
    test_full_run();
    test_nothing_to_do();
    test_reproduce();
    test_changes();
    test_interrupt();
    fx_cleanup();
    return check_done();
}
