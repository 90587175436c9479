/* bin/train and bin/evaluate as a user runs them, on a small generated
 * dataset in a real store: a run and its records, reproducibility, exact
 * resume after a stop, SIGINT and kill -9 during training, two trainings
 * writing to one store at once, and every bad input giving a clear message,
 * the documented exit status and an unchanged store. */
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dataset.h"
#include "error.h"
#include "fixture.h"
#include "xml_check.h"
#include "pngio.h"
#include "shapes.h"
#include "store.h"

#define S 12
#define K 4

static const char *bin;
static const char *db;
static const char *archf;

static const char *ARCH =
    "# small test net\n"
    "input channels=1 height=12 width=12\n"
    "conv filters=8 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=8 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=4 size=1 pad=valid\n"
    "meanpool\n";

#define COMMON "--dataset shapes --arch %s --batch 32 --labels 40 --threads 2 --quiet"

static void make_store(const char *path)
{
    dataset d;
    err_t e;
    int ntrain = 480, ntest = 160, n = ntrain + ntest;
    if (dataset_alloc(&d, n, 1, S, S, K, 0, &e)) {
        printf("%s\n", e.msg);
        exit(1);
    }
    float *x = malloc(sizeof(float) * n * S * S);
    shapes_make(5, n, K, S, x, d.labels);
    for (long k = 0; k < (long)n * S * S; k++)
        d.pixels[k] = (uint8_t)(x[k] * 255 + 0.5f);
    for (int i = 0; i < n; i++)
        d.split[i] = i < ntrain ? SPLIT_TRAIN : SPLIT_TEST;
    const char *names[K] = {"hbar", "vbar", "diagonal", "square"};
    for (int c = 0; c < K; c++)
        d.class_names[c] = strdup(names[c]);
    d.source = strdup("generated shapes");
    store *st;
    if (store_open(path, 0, &st, &e) || store_put_dataset(st, "shapes", &d, 0, NULL, NULL, &e)) {
        printf("store: %s\n", e.msg);
        exit(1);
    }
    store_close(st);
    dataset_free(&d);
    free(x);
}

static long long sql_int(const char *sql)
{
    return fx_sql_int(db, sql);
}

static char *sql_text(const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            v = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

/* Hash of the parameters of a run's latest checkpoint. */
static char *params_hash(int run)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(hex(data), '') FROM (SELECT t.data FROM checkpoint_tensors t "
             "WHERE t.checkpoint_id = (SELECT id FROM checkpoints WHERE run_id = %d ORDER BY step DESC, id DESC LIMIT 1) "
             "ORDER BY t.name)", run);
    return sql_text(sql);
}

static void test_run_and_records(void)
{
    char *err = NULL;
    int rc = fx_run(&err, "DRMM_PIPELINE_COMMAND='make pipeline DATASET=shapes' %s/train --store %s --name ref "
                          "--epochs 4 " COMMON, bin, db, archf);
    char *out = fx_stdout();
    CHECK(rc == 0, "train exits 0 (got %d): %s", rc, err);
    CHECK(out && strstr(out, "run_id=1 status=FINISHED epochs=4"), "summary on stdout: %s", out);
    free(out);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE id = 1 AND status = 'FINISHED' AND ended IS NOT NULL") == 1,
          "run recorded as FINISHED");
    CHECK(sql_int("SELECT COUNT(*) FROM run_labelled WHERE run_id = 1") == 40, "40 labelled ids recorded");
    CHECK(sql_int("SELECT MAX(n) - MIN(n) FROM (SELECT COUNT(*) AS n FROM run_labelled r JOIN images i "
                  "ON i.idx = r.sample_idx GROUP BY i.label)") == 0, "labelled subset is class-balanced");
    CHECK(sql_int("SELECT COUNT(*) FROM run_config WHERE run_id = 1 AND key IN ('a_h','a_rc','a_kl','a_nn','kl_sign',"
                  "'unsup_half','td_scale','seed','label_seed','threads','lr_start','optimizer')") == 12,
          "full configuration recorded");
    CHECK(sql_int("SELECT COUNT(*) FROM metrics WHERE run_id = 1 AND name = 'lh'") == 4, "one LH per epoch");
    CHECK(sql_int("SELECT COUNT(*) FROM metrics_latest WHERE run_id = 1 AND name IN ('lh','lrc','lkl','lnn','loss',"
                  "'train_error','images_per_s')") == 7, "latest metrics");
    CHECK(sql_int("SELECT COUNT(*) FROM checkpoints WHERE run_id = 1") == 2, "older checkpoints pruned to 2");
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE id = 1 AND git_commit != '' AND host != '' AND openblas_core != ''") == 1,
          "provenance recorded");
    /* migration 8: argv, the pipeline's command, the diff of a dirty build, libraries, CPU */
    char *argv_json = sql_text("SELECT argv FROM runs WHERE id = 1");
    char want[1024];
    snprintf(want, sizeof want, "[\"%s/train\", \"--store\", \"%s\", \"--name\", \"ref\", \"--epochs\", \"4\", ", bin, db);
    CHECK(argv_json && !strncmp(argv_json, want, strlen(want)) && strstr(argv_json, "\"--quiet\"]"),
          "argv recorded as a JSON array: %s", argv_json);
    free(argv_json);
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE id = 1 AND command = 'make pipeline DATASET=shapes'") == 1,
          "the pipeline's command (DRMM_PIPELINE_COMMAND) recorded");
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE id = 1 AND openblas LIKE 'OpenBLAS %(kernel ' || openblas_core || ')' "
                  "AND sqlite_version = sqlite_version() AND libpng_version LIKE '1.%' AND cpu_model != '' "
                  "AND cpu_model IS NOT NULL") == 1, "library versions and CPU model recorded");
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE id = 1 AND ((git_dirty = 1 AND git_diff_bytes > 0 "
                  "AND length(git_diff_sha256) = 64 AND length(CAST(git_diff AS BLOB)) = MIN(git_diff_bytes, 65536) "
                  "AND git_diff LIKE 'diff --git %') OR (git_dirty = 0 AND git_diff IS NULL AND git_diff_bytes IS NULL))") == 1,
          "the build's diff recorded exactly when it was dirty");
    rc = fx_run(&err, "%s/evaluate --store %s --run 1", bin, db);
    out = fx_stdout();
    CHECK(rc == 0 && out && strstr(out, "evaluation_id=1 run_id=1") && strstr(out, "images=160"),
          "evaluate: rc %d: %s %s", rc, out, err);
    free(out);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM predictions WHERE evaluation_id = 1") == 160, "per-sample predictions");
    /* the reconstruction grid: a row per class, 3 input | I-hat pairs per row */
    const char *grid = fx_path("grid.png");
    rc = fx_run(&err, "%s/evaluate --store %s --run 1 --grid %s --grid-per-class 3 --no-predictions", bin, db, grid);
    free(err);
    uint8_t *px = NULL;
    int w = 0, h = 0, ch = 0;
    err_t e = {.msg = ""};
    CHECK(rc == 0 && png_read(grid, &px, &w, &h, &ch, &e) == 0 && ch == 3, "evaluate --grid writes a PNG: rc %d %s",
          rc, e.msg);
    /* its SVG: the class names, "input" and "render" as text, the cells as
       images enlarged to 96 px (8 x 12), 3 pairs per class */
    char *svg = fx_read(fx_path("grid.svg"), NULL), msg[256] = "";
    CHECK(svg && xml_check(svg, msg, sizeof msg) == 0, "the grid's SVG is well formed: %s", msg);
    int images = 0;
    for (const char *q = svg ? strstr(svg, "<image ") : NULL; q; q = strstr(q + 1, "<image "))
        images++;
    CHECK(images == 2 * 3 * K, "%d images in the SVG (want %d)", images, 2 * 3 * K);
    CHECK(svg && strstr(svg, ">0 hbar</text>") && strstr(svg, ">3 square</text>") && strstr(svg, ">input</text>") &&
          strstr(svg, ">render</text>"), "rows named by class, pairs headed input and render");
    const char *im = svg ? strstr(svg, "<image x=\"") : NULL;
    double ix = im ? atof(im + 10) : -1, iy = im ? atof(strstr(im, " y=\"") + 4) : -1;
    int iw = im ? atoi(strstr(im, " width=\"") + 8) : 0;
    CHECK(iw == 8 * S, "cells enlarged 8 times: %d px", iw);
    free(svg);
    /* the first input cell holds class 0's first test image, byte for byte, each pixel an 8 x 8 block */
    if (px && ch == 3 && iw == 8 * S && ix >= 0 && ix + iw <= w && iy >= 0 && iy + iw <= h) {
        int n = 640, *labels = malloc(sizeof(int) * n);
        float *x = malloc(sizeof(float) * n * S * S);
        shapes_make(5, n, K, S, x, labels);   /* the store's images (make_store) */
        int first = 480;
        while (labels[first] != 0)
            first++;
        int same = 0;
        for (int y = 0; y < 8 * S; y++)
            for (int c = 0; c < 8 * S; c++) {
                const uint8_t *p = px + ((size_t)((int)iy + y) * w + (int)ix + c) * 3;
                uint8_t want = (uint8_t)(x[(long)first * S * S + (y / 8) * S + c / 8] * 255 + 0.5f);
                same += p[0] == want && p[1] == want && p[2] == want;
            }
        CHECK(same == 64 * S * S, "grid's first cell is class 0's first test image (%d of %d pixels)", same,
              64 * S * S);
        free(labels);
        free(x);
    }
    free(px);
    long long permille = sql_int("SELECT CAST(test_error * 1000 AS INTEGER) FROM runs_summary WHERE run_id = 1");
    CHECK(permille < 600, "test error %.3f below chance 0.75 in runs_summary (120 steps)", permille / 1000.0);
    CHECK(sql_int("SELECT COUNT(*) FROM runs_summary WHERE run_id = 1 AND test_x2 > 0.01 AND test_recon_error > 0") == 1,
          "evaluation records mean(I^2) next to the reconstruction error");
}

static void test_reproducible_and_resume(void)
{
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --store %s --name again --epochs 4 " COMMON, bin, db, archf);
    free(err);
    char *h1 = params_hash(1), *h2 = params_hash(2);
    CHECK(rc == 0 && h1 && h2 && strcmp(h1, h2) == 0, "same seed and threads: identical parameters");
    /* stop mid-epoch 2, then resume: the same numbers as without a stop */
    rc = fx_run(&err, "%s/train --store %s --name stopped --epochs 4 --stop-after-steps 50 " COMMON, bin, db, archf);
    CHECK(rc == 130, "a stop exits 130 (got %d): %s", rc, err);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE id = 3 AND status = 'INTERRUPTED'") == 1, "status INTERRUPTED");
    rc = fx_run(&err, "%s/train --store %s --resume 3 --stop-after-steps 70", bin, db);
    CHECK(rc == 130, "second stop (got %d): %s", rc, err);
    free(err);
    rc = fx_run(&err, "%s/train --store %s --resume 3", bin, db);
    CHECK(rc == 0, "resume finishes (got %d): %s", rc, err);
    free(err);
    char *h3 = params_hash(3);
    CHECK(h3 && h1 && strcmp(h1, h3) == 0, "resumed run ends with exactly the parameters of an uninterrupted one");
    CHECK(sql_int("SELECT COUNT(*) FROM metrics WHERE run_id = 3 AND name = 'lh'") == 4, "no epoch's metrics lost");
    char *l1 = sql_text("SELECT group_concat(value) FROM (SELECT value FROM metrics WHERE run_id = 1 AND name = 'lh' ORDER BY epoch)");
    char *l3 = sql_text("SELECT group_concat(value) FROM (SELECT value FROM metrics WHERE run_id = 3 AND name = 'lh' ORDER BY epoch)");
    CHECK(l1 && l3 && !strcmp(l1, l3), "per-epoch LH identical after stops and resumes: %s vs %s", l1, l3);
    rc = fx_run(&err, "%s/train --store %s --resume 3", bin, db);
    CHECK(rc == 3 && err && strstr(err, "already finished"), "resuming a finished run is refused (%d): %s", rc, err);
    free(err);
    free(h1); free(h2); free(h3); free(l1); free(l3);
}

/* The semi-supervised study's options together (the NRM-style top-down BN,
 * standardised input, untied filters, augmentation, a warm-up fraction, a
 * validation split, BN moment matching, dropout): reproducible, resumed bit-exactly, validated each
 * epoch, and evaluated with the true-class and wrong-class renderings. */
#define NRM "--td-param bn --td-scale literal --in-norm 1 --td-weights copy --a-rc 0.5 --a-kl 0.5 --a-nn 0.5 " \
            "--td-true-label 1 --unsup-half both --unsup-warmup 0 --unsup-warmup-frac 0.3 " \
            "--augment-shift 2 --augment-flip 1 --valid 100 --a-mm 0.5 --dropout 0.3"
static void test_study_options(void)
{
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --store %s --name nrm-a --epochs 3 " NRM " " COMMON, bin, db, archf);
    CHECK(rc == 0, "NRM-style run finishes (%d): %s", rc, err);
    free(err);
    rc = fx_run(&err, "%s/train --store %s --name nrm-b --epochs 3 " NRM " " COMMON, bin, db, archf);
    free(err);
    int a = (int)sql_int("SELECT id FROM runs WHERE name = 'nrm-a'"), b = (int)sql_int("SELECT id FROM runs WHERE name = 'nrm-b'");
    char *ha = params_hash(a), *hb = params_hash(b);
    CHECK(rc == 0 && ha && hb && !strcmp(ha, hb), "same seed: identical parameters with augmentation and standardisation");
    rc = fx_run(&err, "%s/train --store %s --name nrm-c --epochs 3 --stop-after-steps 17 " NRM " " COMMON, bin, db, archf);
    CHECK(rc == 130, "a stop mid-epoch (got %d): %s", rc, err);
    free(err);
    int c = (int)sql_int("SELECT id FROM runs WHERE name = 'nrm-c'");
    rc = fx_run(&err, "%s/train --store %s --resume %d", bin, db, c);
    CHECK(rc == 0, "resume finishes (%d): %s", rc, err);
    free(err);
    char *hc = params_hash(c);
    CHECK(hc && ha && !strcmp(ha, hc), "resumed NRM-style run ends with exactly the parameters of an uninterrupted one");
    {   /* float keys stored as the shortest decimal (issue 19): found by equality in SQL */
        char w[256];
        snprintf(w, sizeof w, "SELECT COUNT(*) FROM run_config WHERE run_id = %d AND key = 'unsup_warmup_frac' AND value = '0.3'", c);
        CHECK(sql_int(w) == 1, "unsup_warmup_frac 0.3 stored as '0.3' (and resumed exactly, above)");
        snprintf(w, sizeof w, "SELECT COUNT(*) FROM run_config WHERE run_id = %d AND value LIKE '%%00000%%'", c);
        CHECK(sql_int(w) == 0, "no float noise in the stored configuration");
    }
    char q[512];
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM metrics WHERE run_id = %d AND name = 'valid_error' AND value >= 0 AND value <= 1", a);
    CHECK(sql_int(q) == 3, "valid_error recorded after each of the 3 epochs");
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM metrics WHERE run_id = %d AND name = 'lmm' AND value > 0", a);
    CHECK(sql_int(q) == 3, "the moment-matching loss LMM recorded after each of the 3 epochs");
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM checkpoint_tensors t JOIN checkpoints k ON k.id = t.checkpoint_id "
                          "WHERE k.run_id = %d AND t.name IN ('input.mean', 'input.std', 'td1.bn.gamma', "
                          "'td1.bn.running_var', 'td3.weight')", a);
    CHECK(sql_int(q) >= 5, "checkpoints hold the standardisation, the top-down BN and the top-down filters");
    rc = fx_run(&err, "%s/evaluate --store %s --run %d", bin, db, a);
    CHECK(rc == 0, "evaluate the NRM-style run (%d): %s", rc, err);
    free(err);
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM evaluations WHERE run_id = %d AND recon_true > 0 AND recon_wrong > 0 "
                          "AND xvar > 0 AND recon_error > 0", a);
    CHECK(sql_int(q) == 1, "the evaluation records the true- and wrong-class renderings and the variance");
    /* held-out images are never trained on: a run holding out all but the
       labelled images still trains, and one holding out every image is refused */
    rc = fx_run(&err, "%s/train --store %s --name nrm-bad --epochs 1 --valid 480 " COMMON, bin, db, archf);
    CHECK(rc == 3 && err && strstr(err, "valid = 480 but there are only 480 training images"),
          "holding out every training image: exit 3 (%d): %s", rc, err);
    free(err);
    rc = fx_run(&err, "%s/train --store %s --name nrm-bad --epochs 1 --unsup-warmup 1 --unsup-warmup-frac 0.2 " COMMON,
                bin, db, archf);
    CHECK(rc == 2 && err && strstr(err, "not both"), "a warm-up in epochs and as a fraction: exit 2 (as an odd batch) (%d): %s", rc, err);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE name = 'nrm-bad'") == 0, "refused runs leave no record");
    free(ha); free(hb); free(hc);
}

static pid_t spawn_train(const char *name, int epochs)
{
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "exec %s/train --store %s --name %s --epochs %d " COMMON " >/dev/null 2>&1",
                 bin, db, name, epochs, archf);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_for(const char *sql, long long want, double seconds)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (double t = 0; t < seconds; t += 0.02) {
        if (sql_int(sql) >= want)
            return 1;
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void test_signals(void)
{
    /* SIGINT: a checkpoint, status INTERRUPTED, exit 130, then resume */
    pid_t pid = spawn_train("sigint", 12);
    int ok = wait_for("SELECT COUNT(*) FROM checkpoints c JOIN runs r ON r.id = c.run_id WHERE r.name = 'sigint'", 1, 60);
    CHECK(ok, "first checkpoint of the run appears");
    kill(pid, SIGINT);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 130, "SIGINT: exit 130 (status %d)", status);
    long long id = sql_int("SELECT id FROM runs WHERE name = 'sigint'");
    char q[256];
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM runs WHERE id = %lld AND status = 'INTERRUPTED'", id);
    CHECK(sql_int(q) == 1, "SIGINT: status INTERRUPTED");
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --store %s --resume %lld", bin, db, id);
    CHECK(rc == 0, "resume after SIGINT finishes (%d): %s", rc, err);
    free(err);

    /* kill -9: the store stays sound and the run resumes from its last checkpoint */
    pid = spawn_train("killed", 12);
    ok = wait_for("SELECT COUNT(*) FROM checkpoints c JOIN runs r ON r.id = c.run_id WHERE r.name = 'killed'", 1, 60);
    CHECK(ok, "killed run: first checkpoint appears");
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    char *ic = sql_text("PRAGMA integrity_check");
    CHECK(ic && !strcmp(ic, "ok"), "integrity_check after kill -9: %s", ic);
    free(ic);
    id = sql_int("SELECT id FROM runs WHERE name = 'killed'");
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM metrics WHERE run_id = %lld AND name = 'lh'", id);
    long long epochs_before = sql_int(q);
    CHECK(epochs_before >= 1, "finished epochs' metrics kept (%lld)", epochs_before);
    rc = fx_run(&err, "%s/train --store %s --resume %lld", bin, db, id);
    CHECK(rc == 0, "resume after kill -9 finishes (%d): %s", rc, err);
    free(err);
    CHECK(sql_int(q) == 12, "every epoch's metrics present after the resume (%lld)", sql_int(q));
}

static void test_concurrent(void)
{
    long long before = sql_int("SELECT COUNT(*) FROM metrics");
    pid_t a = spawn_train("para", 3), b = spawn_train("parb", 3);
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    CHECK(WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0,
          "two trainings on one store both succeed (%d, %d)", sa, sb);
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE name IN ('para','parb') AND status = 'FINISHED'") == 2, "both FINISHED");
    CHECK(sql_int("SELECT COUNT(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.name IN ('para','parb') AND m.name = 'lh'") == 6,
          "no metric lost");
    CHECK(sql_int("SELECT COUNT(*) FROM metrics") > before, "metrics written");
}

/* A failing command: exit status, a message with `needle`, store unchanged. */
static void bad(const char *what, int want_rc, const char *needle, const char *fmt, const char *a1, const char *a2)
{
    char before[65], after[65], cmd[2048];
    fx_store_fingerprint(db, before);
    snprintf(cmd, sizeof cmd, fmt, a1, a2);
    char *err = NULL;
    int rc = fx_run(&err, "%s", cmd);
    fx_store_fingerprint(db, after);
    CHECK(rc == want_rc, "%s: exit %d (want %d): %s", what, rc, want_rc, err);
    CHECK(err && strstr(err, needle), "%s: message mentions '%s': %s", what, needle, err);
    CHECK(!strcmp(before, after), "%s: store unchanged", what);
    free(err);
}

static void test_bad_input(void)
{
    char base[1024];
    snprintf(base, sizeof base, "%s/train --store %s --name bad", bin, db);
    const char *badarch = fx_path("bad.arch"), *wrongsize = fx_path("wrong.arch"), *badcfg = fx_path("bad.cfg");
    const char *text = "input channels=1 height=12 width=12\nconv filters=8 size=3 pad=half\npool2\n";
    fx_write(badarch, text, strlen(text), 0);
    const char *ws = "input channels=1 height=28 width=28\nconv filters=4 size=3 pad=half\nmeanpool\n";
    fx_write(wrongsize, ws, strlen(ws), 0);
    const char *cfg = "epochs = 2\n# fine\nlabels = forty\n";
    fx_write(badcfg, cfg, strlen(cfg), 0);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --dataset shapes --arch %%s %%s", base);
    bad("unknown layer in the architecture file", 3, "bad.arch:3: unknown layer 'pool2'", cmd, badarch, "");
    bad("architecture for other images", 3, "architecture expects 1x28x28", cmd, wrongsize, "");
    bad("architecture for other images names the file", 3, "wrong.arch: the architecture expects", cmd, wrongsize, "");
    const char *wrongk = fx_path("wrongk.arch");
    const char *wk = "input channels=1 height=12 width=12\nconv filters=3 size=3 pad=half\nmeanpool\n";
    fx_write(wrongk, wk, strlen(wk), 0);
    bad("architecture with other classes names the file", 3, "wrongk.arch: the architecture outputs 3 classes", cmd,
        wrongk, "");
    bad("labels not divisible by the classes", 3, "not divisible by the 4 classes", cmd, archf, "--labels 42");
    bad("more labels than images of a class", 3, "ask for at most", cmd, archf, "--labels 4004");
    bad("unknown dataset", 3, "no dataset named 'nope'", "%s --dataset nope --arch %s", base, archf);
    bad("non-numeric flag", 2, "--epochs: epochs = 'abc'", cmd, archf, "--epochs abc");
    bad("odd batch", 2, "must be even", cmd, archf, "--batch 31");
    bad("unknown flag", 2, "try --help", cmd, archf, "--frobnicate 1");
    bad("bad config line", 3, "bad.cfg:3: labels = 'forty'", "%s --dataset shapes --arch archs/convsmall.arch --config %s", base, badcfg);
    bad("missing architecture file", 3, "cannot open architecture file", cmd, "/nonexistent.arch", "");
    snprintf(cmd, sizeof cmd, "%s/train --store %s --resume %%s%%s", bin, db);
    bad("unknown run to resume", 3, "no run with id 999", cmd, "999", "");
    snprintf(cmd, sizeof cmd, "%s/evaluate --store %s --run %%s%%s", bin, db);
    bad("evaluate an unknown run", 3, "no run with id 999", cmd, "999", "");
    bad("evaluate with a bad split", 2, "--split", cmd, "1", " --split validation");
    bad("grid into a missing directory", 1, "/nonexistent/g.png", cmd, "1", " --grid /nonexistent/g.png");
    bad("grid with zero images per class", 2, "--grid-per-class", cmd, "1", " --grid x.png --grid-per-class 0");
    /* a store that is not a database */
    const char *junk = fx_path("junk.db");
    fx_write(junk, "this is not sqlite, just text that is long enough to look like a file header", 77, 0);
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --store %s --name x --dataset shapes --arch %s", bin, junk, archf);
    CHECK(rc == 4 && err && strstr(err, junk), "not a database: exit 4 naming the file (%d): %s", rc, err);
    free(err);
    /* a non-finite loss: the run is marked FAILED with the message, exit 1 */
    rc = fx_run(&err, "%s/train --store %s --name diverge --epochs 2 --lr-start 100 --lr-end 100 --optimizer sgd "
                      "--td-calibrate 0 --unsup-warmup 0 --td-param amplitude --a-rc 0.2 " COMMON, bin, db, archf);
    CHECK(rc == 1 && err && strstr(err, "non-finite loss"), "non-finite loss: exit 1 (%d): %s", rc, err);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM runs WHERE name = 'diverge' AND status = 'FAILED' AND error LIKE '%non-finite%'") == 1,
          "diverging run marked FAILED with its message");
}

/* A stop that lands exactly on an epoch boundary writes one checkpoint at
 * that step (the end of the epoch's), and the resumed run still ends with
 * the uninterrupted run's parameters. */
static void test_stop_on_epoch_boundary(void)
{
    char *err = NULL;
    /* 480 training images, batch 32: 30 steps per epoch */
    int rc = fx_run(&err, "%s/train --store %s --name boundary --epochs 4 --stop-after-steps 60 " COMMON, bin, db, archf);
    CHECK(rc == 130, "a stop at the end of epoch 2 exits 130 (got %d): %s", rc, err);
    free(err);
    int run = (int)sql_int("SELECT id FROM runs WHERE name = 'boundary'");
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM checkpoints WHERE run_id = %d AND step = 60", run);
    CHECK(sql_int(sql) == 1, "one checkpoint at the boundary step, not two (got %lld)", sql_int(sql));
    rc = fx_run(&err, "%s/train --store %s --resume %d --stop-after-steps 60", bin, db, run);
    CHECK(rc == 130 && sql_int(sql) == 1, "resumed and stopped at once: still one checkpoint at step 60 (rc %d): %s", rc, err);
    free(err);
    rc = fx_run(&err, "%s/train --store %s --resume %d", bin, db, run);
    CHECK(rc == 0, "resume finishes (got %d): %s", rc, err);
    free(err);
    char *h1 = params_hash(1), *hb = params_hash(run);
    CHECK(h1 && hb && strcmp(h1, hb) == 0, "stopped on a boundary and resumed: the uninterrupted run's parameters");
    free(h1);
    free(hb);
}

/* Unsupervised training (labels = 0) and a run started from another's
 * parameters (init_from): the pre-training's reconstruction falls, the
 * fine-tuned run starts exactly from the pre-trained parameters, and every
 * wrong use is refused with exit 2 or 3, naming the cause, with the store
 * unchanged. */
static float max_tensor_diff(int run_a, int run_b, const char *name)
{
    store *st;
    err_t e;
    store_checkpoint a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    float d = INFINITY;
    if (store_open(db, STORE_READONLY, &st, &e))
        return d;
    if (!store_get_checkpoint(st, run_a, 0, &a, &e) && !store_get_checkpoint(st, run_b, 0, &b, &e)) {
        const named_tensor *ta = store_checkpoint_tensor(&a, name), *tb = store_checkpoint_tensor(&b, name);
        if (ta && tb && nt_numel(ta) == nt_numel(tb)) {
            d = 0;
            for (long i = 0; i < nt_numel(ta); i++)
                d = fmaxf(d, fabsf(ta->data[i] - tb->data[i]));
        }
    }
    store_checkpoint_free(&a);
    store_checkpoint_free(&b);
    store_close(st);
    return d;
}

static void test_unsupervised_and_init_from(void)
{
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --store %s --name pre --epochs 3 " COMMON " --labels 0 --a-kl 0 --a-nn 0", bin, db, archf);
    CHECK(rc == 0, "unsupervised pre-training (labels 0) trains (got %d): %s", rc, err);
    free(err);
    int pre = (int)sql_int("SELECT id FROM runs WHERE name = 'pre'");
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT (SELECT value FROM metrics WHERE run_id = %d AND name = 'lrc' AND epoch = 3) < "
             "(SELECT value FROM metrics WHERE run_id = %d AND name = 'lrc' AND epoch = 1)", pre, pre);
    CHECK(sql_int(sql) == 1, "its reconstruction error falls over the epochs");
    snprintf(sql, sizeof sql, "SELECT n_labels FROM runs WHERE id = %d", pre);
    CHECK(sql_int(sql) == 0, "the run records no labelled images (n_labels %lld, run %d)", sql_int(sql), pre);
    /* fine-tuning with a learning rate too small to move a weight: the
       first layer's filters are the pre-trained ones */
    rc = fx_run(&err, "%s/train --store %s --name ft0 --epochs 1 --supervised-only 1 --init-from %d --optimizer sgd "
                "--momentum 0 --lr-start 1e-12 --lr-end 1e-12 " COMMON, bin, db, pre, archf);
    CHECK(rc == 0, "fine-tuning from the pre-trained run (got %d): %s", rc, err);
    free(err);
    int ft0 = (int)sql_int("SELECT id FROM runs WHERE name = 'ft0'");
    float d = max_tensor_diff(pre, ft0, "conv1.weight");
    CHECK(d < 1e-6f, "the fine-tuned run starts from the pre-trained filters (max difference %g)", d);
    snprintf(sql, sizeof sql, "SELECT value FROM run_config WHERE run_id = %d AND key = 'init_from'", ft0);
    CHECK(sql_int(sql) == pre, "init_from is recorded with the run");
    rc = fx_run(&err, "%s/train --store %s --name ft --epochs 2 --supervised-only 1 --init-from %d " COMMON, bin, db, pre, archf);
    CHECK(rc == 0, "fine-tuning at the default rate (got %d): %s", rc, err);
    free(err);
    int fresh = (int)sql_int("SELECT id FROM runs WHERE name = 'ft'");
    CHECK(max_tensor_diff(pre, fresh, "conv1.weight") > 1e-4f, "and the filters then move");

    /* refusals: no run created */
    rc = fx_run(&err, "%s/train --store %s --name st --epochs 4 --stop-after-steps 3 " COMMON, bin, db, archf);
    free(err);
    int stopped = (int)sql_int("SELECT id FROM runs WHERE name = 'st'");
    long long runs = sql_int("SELECT COUNT(*) FROM runs");
    const char *other = fx_path("other.arch");
    const char *OTHER = "input channels=1 height=12 width=12\nconv filters=6 size=3 pad=half\nmaxpool\n"
                        "conv filters=4 size=1 pad=valid\nmeanpool\n";
    fx_write(other, OTHER, strlen(OTHER), 0);
    struct { const char *what, *flags; int arg, want; const char *says; } bad[] = {
        {"no such run", "--supervised-only 1 --init-from %d", 9999, 3, "no such run"},
        {"an unfinished run", "--supervised-only 1 --init-from %d", stopped, 3, "not FINISHED"},
        {"other model options", "--supervised-only 1 --td-param bn --init-from %d", pre, 3, "model options"},
        {"labels 0 for the CNN", "--supervised-only 1 --labels 0 --seed %d", 1, 2, "labels > 0"},
        {"labels 0 with no unsupervised term", "--labels 0 --a-rc 0 --a-kl 0 --a-nn 0 --seed %d", 1, 2, "nothing to train"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char flags[256];
        snprintf(flags, sizeof flags, bad[i].flags, bad[i].arg);
        rc = fx_run(&err, "%s/train --store %s --name bad --epochs 1 " COMMON " %s", bin, db, archf, flags);
        CHECK(rc == bad[i].want && err && strstr(err, bad[i].says), "%s: exit %d (got %d): %s", bad[i].what, bad[i].want,
              rc, err);
        free(err);
    }
    rc = fx_run(&err, "%s/train --store %s --name bad --epochs 1 --dataset shapes --arch %s --batch 32 --labels 40 "
                "--threads 2 --quiet --supervised-only 1 --init-from %d", bin, db, other, pre);
    CHECK(rc == 3 && err && strstr(err, "another architecture"), "another architecture: exit 3 (got %d): %s", rc, err);
    free(err);
    CHECK(sql_int("SELECT COUNT(*) FROM runs") == runs, "no run created by a refused start");
}

/* The training modes (train --mode, the supplement's Table 3): pretrain
 * trains its first pretrain_frac of the steps on unlabelled rows only (no
 * LH), then on labelled rows; supervised on labelled rows only, with the
 * unsupervised terms on them; both record unsup_half = both; a pretrain run
 * resumed across the switch ends as an uninterrupted one; the modes of one
 * seed share the labelled subset; refusals leave the store unchanged. */
static void test_modes(void)
{
    char *err = NULL, sql[512];
    int rc = fx_run(&err, "%s/train --store %s --name m-pre --epochs 4 --mode pretrain --pretrain-frac 0.5 " COMMON, bin, db,
                    archf);
    CHECK(rc == 0, "mode pretrain trains (got %d): %s", rc, err);
    free(err);
    int pre = (int)sql_int("SELECT id FROM runs WHERE name = 'm-pre'");
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM metrics WHERE run_id = %d AND name = 'lh' AND value = 0 AND epoch <= 2",
             pre);
    CHECK(sql_int(sql) == 2, "pre-training epochs 1-2 have no labelled rows (LH 0)");
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM metrics WHERE run_id = %d AND name = 'lh' AND value > 0 AND epoch > 2",
             pre);
    CHECK(sql_int(sql) == 2, "fine-tuning epochs 3-4 train LH");
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM metrics WHERE run_id = %d AND name = 'lrc' AND value > 0", pre);
    CHECK(sql_int(sql) == 4, "every epoch has a reconstruction term (on the labelled rows when fine-tuning)");
    snprintf(sql, sizeof sql, "SELECT group_concat(key || '=' || value, ' ') FROM (SELECT key, value FROM run_config "
             "WHERE run_id = %d AND key IN ('mode', 'pretrain_frac', 'unsup_half') ORDER BY key)", pre);
    char *cfg = sql_text(sql);
    CHECK(cfg && !strcmp(cfg, "mode=pretrain pretrain_frac=0.5 unsup_half=both"), "recorded: %s", cfg);
    free(cfg);
    snprintf(sql, sizeof sql, "SELECT MAX(step) FROM metrics WHERE run_id = %d", pre);
    long long steps = sql_int(sql);

    rc = fx_run(&err, "%s/train --store %s --name m-sup --epochs 4 --mode supervised " COMMON, bin, db, archf);
    CHECK(rc == 0, "mode supervised trains (got %d): %s", rc, err);
    free(err);
    int sup = (int)sql_int("SELECT id FROM runs WHERE name = 'm-sup'");
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM metrics WHERE run_id = %d AND name IN ('lh', 'lrc') AND value > 0", sup);
    CHECK(sql_int(sql) == 8, "supervised: LH and the reconstruction term (on the labelled rows) in every epoch");
    snprintf(sql, sizeof sql, "SELECT MAX(step) FROM metrics WHERE run_id = %d", sup);
    CHECK(sql_int(sql) == steps, "every mode takes the same steps (%lld)", steps);
    snprintf(sql, sizeof sql, "SELECT (SELECT group_concat(sample_idx) FROM run_labelled WHERE run_id = %d) = "
             "(SELECT group_concat(sample_idx) FROM run_labelled WHERE run_id = 1)", sup);
    CHECK(sql_int(sql) == 1, "the modes of one seed share the labelled subset");

    /* resumed across the switch from pre-training to fine-tuning */
    rc = fx_run(&err, "%s/train --store %s --name m-pre-stop --epochs 4 --mode pretrain --stop-after-steps %lld " COMMON,
                bin, db, steps / 2 - 5, archf);
    CHECK(rc == 130, "a stop before the switch exits 130 (got %d): %s", rc, err);
    free(err);
    int stop = (int)sql_int("SELECT id FROM runs WHERE name = 'm-pre-stop'");
    char resume[64];
    snprintf(resume, sizeof resume, "%d", stop);
    rc = fx_run(&err, "%s/train --store %s --resume %s", bin, db, resume);
    CHECK(rc == 0, "resumed (got %d): %s", rc, err);
    free(err);
    char *h1 = params_hash(pre), *h2 = params_hash(stop);
    CHECK(h1 && h2 && !strcmp(h1, h2), "a pretrain run resumed across the switch ends with the uninterrupted parameters");
    free(h1);
    free(h2);

    long long runs = sql_int("SELECT COUNT(*) FROM runs");
    struct { const char *what, *flags, *says; } bad[] = {
        {"mode supervised for the CNN", "--mode supervised --supervised-only 1", "leave mode = semisup"},
        {"mode pretrain without labels", "--mode pretrain --labels 0", "give labels > 0"},
        {"mode pretrain with nothing to pre-train", "--mode pretrain --a-rc 0 --a-kl 0 --a-nn 0", "nothing to pre-train"},
        {"unknown mode", "--mode unsup", "expected one of semisup|supervised|pretrain"},
        {"pretrain_frac above 1", "--mode pretrain --pretrain-frac 1.5", "expected a number in 0..1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char before[65], after[65];
        fx_store_fingerprint(db, before);
        rc = fx_run(&err, "%s/train --store %s --name bad --epochs 1 " COMMON " %s", bin, db, archf, bad[i].flags);
        fx_store_fingerprint(db, after);
        CHECK(rc == 2 && err && strstr(err, bad[i].says), "%s: exit 2 (got %d): %s", bad[i].what, rc, err);
        CHECK(!strcmp(before, after), "%s: store unchanged", bad[i].what);
        free(err);
    }
    CHECK(sql_int("SELECT COUNT(*) FROM runs") == runs, "no run created by a refused mode");
}

/* The Rendering Factor Model's configuration (archs/rfm.arch's layers on
 * 12x12 images: one conv layer, max-pool, a dense classifier; the image
 * rendered from the layer's own factors, --td-top activations): it trains
 * in every mode, its reconstruction error falls, and it evaluates. */
static void test_rfm(void)
{
    const char *rfm = fx_path("rfm.arch");
    const char *text = "input channels=1 height=12 width=12\nconv filters=8 size=5 pad=full\nmaxpool\ndense outputs=4\n";
    fx_write(rfm, text, strlen(text), 0);
    const char *modes[] = {"semisup", "supervised", "pretrain"};
    for (int i = 0; i < 3; i++) {
        char *err = NULL, sql[512];
        int rc = fx_run(&err, "%s/train --store %s --dataset shapes --arch %s --name rfm-%s --batch 32 --labels 40 "
                        "--threads 2 --quiet --epochs 3 --mode %s --td-top activations --td-param amplitude --a-rc 10",
                        bin, db, rfm, modes[i], modes[i]);
        CHECK(rc == 0, "the RFM trains in mode %s (got %d): %s", modes[i], rc, err);
        free(err);
        snprintf(sql, sizeof sql, "SELECT id FROM runs WHERE name = 'rfm-%s'", modes[i]);
        int id = (int)sql_int(sql);
        snprintf(sql, sizeof sql, "SELECT (SELECT value FROM metrics WHERE run_id = %d AND name = 'lrc' AND epoch = 3) < "
                 "(SELECT value FROM metrics WHERE run_id = %d AND name = 'lrc' AND epoch = 1)", id, id);
        CHECK(sql_int(sql) == 1, "mode %s: its reconstruction error falls", modes[i]);
        rc = fx_run(&err, "%s/evaluate --store %s --run %d --no-predictions", bin, db, id);
        char *out = fx_stdout();
        CHECK(rc == 0 && out && strstr(out, " error="), "mode %s: evaluated (got %d): %s", modes[i], rc, err);
        free(out);
        free(err);
    }
}

int main(void)
{
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    fx_tmpdir("train");
    db = strdup(fx_path("store.db"));
    archf = strdup(fx_path("net.arch"));
    fx_write(archf, ARCH, strlen(ARCH), 0);
    make_store(db);
    test_run_and_records();
    test_reproducible_and_resume();
    test_signals();
    test_concurrent();
    test_study_options();
    test_bad_input();
    test_stop_on_epoch_boundary();
    test_unsupervised_and_init_from();
    test_modes();
    test_rfm();
    fx_cleanup();
    return check_done();
}
