/* decode and analysis end to end on a store built with the library: a small
 * synthetic dataset (with latents), a dataset without latents, runs with
 * and without checkpoints (a DRMM and a supervised-only "CNN" of a tiny
 * architecture).  Checks: layers, shapes and values written (against the
 * engine's own activations, within the 8-bit step), the SRHT projection
 * keeps inner products, a rerun writes nothing, clear errors with the
 * documented exit status and an unchanged store, the `decoding` view, the
 * report and its PNG charts. */
#include <cblas.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "arch.h"
#include "dataset.h"
#include "decoder.h"
#include "drmm.h"
#include "error.h"
#include "exitcodes.h"
#include "pngio.h"
#include "quant.h"
#include "rng.h"
#include "split_data.h"
#include "store.h"
#include "store_decode.h"
#include "synth.h"

static const char *bin;

static const char *ARCH =
    "input channels=1 height=32 width=32\n"
    "conv filters=8 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=16 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=10 size=1 pad=valid\n"
    "meanpool\n";

static int64_t make_run(store *s, const char *name, const char *dataset, int supervised, int with_ckpt)
{
    err_t e = {.msg = ""};
    store_kv cfg[1] = {{"supervised_only", supervised ? "1" : "0"}};
    store_run_info in = {.name = name, .dataset = dataset, .architecture = ARCH, .config = cfg, .n_config = 1,
                         .n_labels = 100, .label_seed = 1, .seed = 3, .threads = 1};
    int64_t id = 0;
    CHECK(store_create_run(s, &in, &id, &e) == 0, "create run %s: %s", name, e.msg);
    if (with_ckpt) {
        arch a;
        drmm_config dc;
        drmm_config_default(&dc);
        drmm *m = NULL;
        CHECK(arch_parse(&a, ARCH, "test", &e) == 0 && drmm_create(&m, &a, &dc, 3 + supervised, &e) == 0, "%s", e.msg);
        named_tensor t[64];
        int nt = drmm_tensors(m, t, 64);
        CHECK(store_put_checkpoint(s, id, 1, 10, t, nt, NULL, 0, NULL, &e) == 0, "checkpoint: %s", e.msg);
        drmm_free(m);
        arch_free(&a);
    }
    CHECK(store_set_run_status(s, id, "FINISHED", NULL, &e) == 0, "%s", e.msg);
    return id;
}

static void build_store(const char *path)
{
    err_t e = {.msg = ""};
    store *s;
    CHECK(store_open(path, 0, &s, &e) == 0, "%s", e.msg);
    synth_config sc;
    synth_config_default(&sc);
    synth_config_preset(&sc, SYNTH_PRESET_FRAMED); /* the scene the checks below were written for */
    sc.n_train = 300;
    sc.n_test = 240;
    sc.supersample = 1;
    sc.seed = 5;
    dataset d;
    CHECK(synth_render(&sc, &d, &e) == 0, "render: %s", e.msg);
    CHECK(store_put_dataset(s, "synth", &d, 0, NULL, NULL, &e) == 0, "%s", e.msg);
    dataset_free(&d);
    /* a dataset without latents */
    dataset n;
    CHECK(dataset_alloc(&n, 40, 1, 32, 32, 10, 0, &e) == 0, "%s", e.msg);
    for (int i = 0; i < 40; i++) {
        n.labels[i] = i % 10;
        n.split[i] = i < 20 ? SPLIT_TRAIN : SPLIT_TEST;
    }
    for (long k = 0; k < 40L * 1024; k++) n.pixels[k] = (uint8_t)(k * 37);
    for (int c = 0; c < 10; c++) {
        char b[16];
        snprintf(b, sizeof b, "c%d", c);
        n.class_names[c] = strdup(b);
    }
    n.source = strdup("test");
    CHECK(store_put_dataset(s, "nolatents", &n, 0, NULL, NULL, &e) == 0, "%s", e.msg);
    dataset_free(&n);
    make_run(s, "drmm", "synth", 0, 1);        /* 1 */
    make_run(s, "cnn", "synth", 1, 1);         /* 2 */
    make_run(s, "empty", "synth", 0, 0);       /* 3: no checkpoint */
    make_run(s, "plain", "nolatents", 0, 1);   /* 4: dataset without latents */
    store_close(s);
}

static void test_srht(void)
{
    err_t e = {.msg = ""};
    srht t;
    const long d = 3000;
    const int k = 1024;
    CHECK(srht_init(&t, d, k, 7, &e) == 0, "%s", e.msg);
    rng_t r;
    rng_seed(&r, 1);
    float *x = malloc(sizeof(float) * d), *y = malloc(sizeof(float) * d), px[1024], py[1024];
    double worst = 0;
    for (int trial = 0; trial < 10; trial++) {
        for (long j = 0; j < d; j++) {
            x[j] = (float)fabs(rng_normal(&r));
            y[j] = (float)(0.5 * x[j] + fabs(rng_normal(&r)));
        }
        srht_apply(&t, x, px);
        srht_apply(&t, y, py);
        double a = 0, b = 0, nx = 0, ny = 0;
        for (long j = 0; j < d; j++) { a += (double)x[j] * y[j]; nx += (double)x[j] * x[j]; ny += (double)y[j] * y[j]; }
        for (int j = 0; j < k; j++) b += (double)px[j] * py[j];
        double rel = fabs(a - b) / sqrt(nx * ny);
        if (rel > worst) worst = rel;
    }
    /* expected ~ 1/sqrt(k) = 0.03 */
    CHECK(worst < 0.1, "SRHT keeps inner products: worst relative error %.4f", worst);
    srht_free(&t);
    free(x); free(y);
}

/* Runs cmd expecting status want and a message containing needle, with the store unchanged. */
/* The byte encoding of activations: each value back within half a step, the
 * extremes exact, a constant vector as step 0. */
static void test_quant(void)
{
    enum { D = 1000 };
    float v[D], back[D], lo, step;
    uint8_t q[D];
    rng_t r;
    rng_seed(&r, 3);
    for (int j = 0; j < D; j++)
        v[j] = (float)(3.0 * rng_normal(&r) - 1.0);
    quant_encode(v, D, q, &lo, &step);
    quant_decode(q, D, lo, step, back);
    double worst = 0, mn = v[0], mx = v[0];
    for (int j = 0; j < D; j++) {
        worst = fmax(worst, fabs((double)back[j] - v[j]));
        mn = fmin(mn, v[j]);
        mx = fmax(mx, v[j]);
    }
    CHECK(lo == (float)mn && fabs(step - (mx - mn) / 255) < 1e-6, "lo = the minimum, step = range / 255");
    CHECK(worst <= step / 2 * 1.0001, "round trip within half a step: %g against step %g", worst, step);
    int has0 = 0, has255 = 0;
    for (int j = 0; j < D; j++)
        has0 |= q[j] == 0, has255 |= q[j] == 255;
    CHECK(has0 && has255, "the minimum encodes as 0 and the maximum as 255");
    for (int j = 0; j < D; j++)
        v[j] = 0.25f;
    quant_encode(v, D, q, &lo, &step);
    quant_decode(q, D, lo, step, back);
    CHECK(step == 0 && lo == 0.25f && back[D - 1] == 0.25f && q[0] == 0, "a constant vector: step 0, decoded exactly");
}

static long long count(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    long long v = -1;
    /* read-write, so that a WAL left by a killed writer can be recovered */
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK && sqlite3_busy_timeout(h, 10000) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

/* The stored conv1 of run 1 equals the engine's activations within half a step. */
static void check_values(const char *db)
{
    err_t e = {.msg = ""};
    store *s;
    CHECK(store_open(db, 0, &s, &e) == 0, "%s", e.msg);
    store_decode_layer *L;
    int n;
    CHECK(store_list_decode_layers(s, 1, 0, &L, &n, &e) == 0 && n == 4, "run 1 has 4 decoded layers (%d) %s", n, e.msg);
    if (n != 4) { store_close(s); return; }
    CHECK(!strcmp(L[0].layer, "conv1") && L[0].channels == 8 && L[0].height == 32 && L[0].width == 32 &&
          !strcmp(L[0].projection, "srht:1"), "conv1 shape and projection (%s %dx%dx%d %s)", L[0].layer,
          L[0].channels, L[0].height, L[0].width, L[0].projection);
    CHECK(L[0].dims == 2048 && L[1].dims == 2048 && !strcmp(L[1].projection, "srht:1000004"), "max-dims 2048");
    CHECK(!strcmp(L[2].layer, "conv3") && L[2].dims == 10 * 8 * 8 && !strcmp(L[2].projection, "none"), "conv3 kept");
    CHECK(!strcmp(L[3].layer, "scores") && L[3].dims == 10 && L[3].layer_index == 3, "scores last");
    CHECK(L[0].n_samples == 200 && !strcmp(L[0].bn, "recalibrated"), "200 samples, BN recalibrated (step 10)");
    float *X;
    int *idx;
    CHECK(store_get_activations(s, &L[2], &X, &idx, &e) == 0, "%s", e.msg);
    /* recompute: the model with recalibrated BN as decode does */
    decode_options o;
    decode_options_default(&o);
    dataset d;
    split_data te, tr;
    CHECK(store_get_dataset(s, "synth", &d, &e) == 0 && split_data_load(&d, SPLIT_TEST, 200, &te, &e) == 0 &&
          split_data_load(&d, SPLIT_TRAIN, o.recalibrate_images, &tr, &e) == 0, "%s", e.msg);
    CHECK(idx[0] == te.idx[0] && idx[199] == te.idx[199], "sample indices are the first test images");
    arch a;
    drmm_config dc;
    drmm_config_default(&dc);
    drmm *m;
    store_checkpoint ck;
    CHECK(arch_parse(&a, ARCH, "t", &e) == 0 && drmm_create(&m, &a, &dc, 3, &e) == 0 &&
          store_get_checkpoint(s, 1, 0, &ck, &e) == 0, "%s", e.msg);
    named_tensor t[64];
    int nt = drmm_tensors(m, t, 64);
    for (int i = 0; i < nt; i++) {
        const named_tensor *src = store_checkpoint_tensor(&ck, t[i].name);
        if (src) memcpy(t[i].data, src->data, sizeof(float) * nt_numel(&t[i]));
    }
    float probs[100 * 10];
    drmm_acts *acts = NULL;
    CHECK(drmm_acts_create(m, 100, &acts, &e) == 0, "%s", e.msg);
    CHECK(drmm_bn_recalibrate(m, tr.x, tr.n, 100, &e) == 0 && drmm_predict(m, acts, te.x, 100, probs, &e) == 0, "%s", e.msg);
    int C, H, Wd;
    const float *act = drmm_acts_block(acts, 2, &C, &H, &Wd);
    CHECK(act && C == 10 && H == 8 && Wd == 8, "drmm_acts_block shape %dx%dx%d", C, H, Wd);
    double worst = 0, range = 0;
    for (int i = 0; i < 100 && act; i++)
        for (int j = 0; j < 640; j++) {
            double dd = fabs(X[i * 640 + j] - act[i * 640 + j]);
            if (dd > worst) worst = dd;
            if (fabs(act[i * 640 + j]) > range) range = fabs(act[i * 640 + j]);
        }
    CHECK(worst <= range / 255 * 0.5 + 1e-5, "stored = engine within half a quantisation step: %g (range %g)", worst, range);
    CHECK(drmm_acts_block(acts, 3, NULL, NULL, NULL) == NULL, "block out of range -> NULL");
    /* independent check of the accessor: the last block ends in a global
     * mean-pool whose output is the class scores, so the spatial mean of its
     * (post-ReLU, pre-pool) output must equal the logits */
    const float *lg = drmm_acts_logits(acts);
    double wl = 0;
    for (int i = 0; i < 100 && act; i++)
        for (int c = 0; c < 10; c++) {
            double mean = 0;
            for (int k = 0; k < 64; k++) mean += act[(i * 10 + c) * 64 + k];
            mean /= 64;
            if (fabs(mean - lg[i * 10 + c]) > wl) wl = fabs(mean - lg[i * 10 + c]);
        }
    CHECK(wl < 1e-4, "mean of the last block's output = class scores (max diff %g)", wl);
    free(X); free(idx); free(L);
    store_checkpoint_free(&ck);
    drmm_acts_free(acts);
    drmm_free(m);
    arch_free(&a);
    split_data_free(&te); split_data_free(&tr);
    dataset_free(&d);
    store_close(s);
}

/* A store at schema version 1 (schema/001_initial.sql only) gains the
 * decoding tables and view when opened. */
static void test_migration(void)
{
    size_t len;
    char *sql = fx_read("schema/001_initial.sql", &len);
    CHECK(sql != NULL, "schema/001_initial.sql readable (tests run from the repository root)");
    if (!sql)
        return;
    const char *db = fx_path("v1.db");
    sqlite3 *h;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK && sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK &&
          sqlite3_exec(h, "PRAGMA user_version = 1", NULL, NULL, NULL) == SQLITE_OK, "version 1 store");
    sqlite3_close(h);
    free(sql);
    err_t e = {.msg = ""};
    store *s;
    CHECK(store_open(db, 0, &s, &e) == 0 && store_schema_version(s) == store_known_schema_version() &&
          store_known_schema_version() >= 2, "migrated: %s", e.msg);
    store_close(s);
    CHECK(count(db, "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('decode_layers', 'activations', "
                    "'decoding_results', 'decoding', 'decode_layers_checkpoint')") == 5, "decoding tables, index and view");
}

int main(void)
{
    openblas_set_num_threads(1);   /* as the programs do: the engine's workers split the batch */
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    fx_tmpdir("decode");
    test_srht();
    test_quant();
    test_migration();
    const char *db = fx_path("s.db");
    build_store(db);
    char cmd[2048], *err = NULL;

    /* usage */
    snprintf(cmd, sizeof cmd, "%s/decode --store %s", bin, db);
    fx_bad("no run", db, EXIT_USAGE, "required", cmd);
    snprintf(cmd, sizeof cmd, "%s/decode --store %s --run 1 --samples 1", bin, db);
    fx_bad("bad samples", db, EXIT_USAGE, "--samples", cmd);
    /* errors of the request: exit 3, store unchanged */
    snprintf(cmd, sizeof cmd, "%s/decode --store %s --run 3", bin, db);
    fx_bad("run without a checkpoint", db, EXIT_BADDATA, "has no checkpoint", cmd);
    snprintf(cmd, sizeof cmd, "%s/decode --store %s --run 4", bin, db);
    fx_bad("dataset without latents", db, EXIT_BADDATA, "has no latents", cmd);
    snprintf(cmd, sizeof cmd, "%s/decode --store %s --run 1 --layers conv1,conv7", bin, db);
    fx_bad("unknown layer", db, EXIT_BADDATA, "unknown layer 'conv7' for this run: its layers are conv1, conv2, conv3, scores", cmd);
    snprintf(cmd, sizeof cmd, "%s/decode --store %s --run 1 --layers pool1", bin, db);
    fx_bad("unknown layer name", db, EXIT_BADDATA, "unknown layer 'pool1'", cmd);
    snprintf(cmd, sizeof cmd, "%s/decode --store %s --run 99", bin, db);
    fx_bad("unknown run", db, EXIT_BADDATA, "no run with id 99", cmd);
    snprintf(cmd, sizeof cmd, "%s/analysis --store %s --run 1 --no-report", bin, db);
    fx_bad("analysis before decode", db, EXIT_BADDATA, "has no decoded layers: run decode", cmd);
    snprintf(cmd, sizeof cmd, "%s/analysis --store %s --dataset nolatents --no-report", bin, db);
    fx_bad("analysis of a dataset without latents", db, EXIT_BADDATA, "dataset nolatents has no latents", cmd);
    snprintf(cmd, sizeof cmd, "%s/analysis --store %s --dataset synth --no-report", bin, db);
    fx_bad("analysis of a dataset without decoded runs", db, EXIT_BADDATA, "no finished run with decoded layers", cmd);
    snprintf(cmd, sizeof cmd, "%s/analysis --store %s --dataset nosuch --no-report", bin, db);
    fx_bad("analysis of an unknown dataset", db, EXIT_BADDATA, "nosuch", cmd);

    /* decode two runs; layer by layer */
    int rc = fx_run(&err, "%s/decode --store %s --run 1 --samples 200 --max-dims 2048 --layers conv1,conv2", bin, db);
    char *out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "samples=200 layers_written=2 layers_present=0"), "decode 2 layers: %d %s %s", rc, out, err);
    free(out); free(err);
    rc = fx_run(&err, "%s/decode --store %s --run 1 --samples 200 --max-dims 2048", bin, db);
    out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "layers_written=2 layers_present=2"), "decode the rest: %d %s %s", rc, out, err);
    free(out); free(err);
    char before[65], after[65];
    fx_store_fingerprint(db, before);
    rc = fx_run(&err, "%s/decode --store %s --run 1 --samples 200 --max-dims 2048", bin, db);
    out = fx_stdout();
    fx_store_fingerprint(db, after);
    CHECK(rc == 0 && strstr(out, "samples=0 layers_written=0 layers_present=4") && !strcmp(before, after),
          "rerun does nothing: %d %s", rc, out);
    free(out); free(err);
    rc = fx_run(&err, "%s/decode --store %s --run 2 --samples 200 --max-dims 2048", bin, db);
    CHECK(rc == 0, "decode run 2: %s", err);
    free(err);
    CHECK(count(db, "SELECT COUNT(*) FROM activations") == 8 * 200, "8 layers x 200 samples stored");
    CHECK(count(db, "SELECT SUM(length(data)) FROM activations") == 2 * 200LL * (2048 + 2048 + 640 + 10),
          "one byte per value");
    check_values(db);

    /* analysis: dataset report, results in the view */
    const char *md = fx_path("rep/decoding.md");
    rc = fx_run(&err, "%s/analysis --store %s --dataset synth --out %s --latents x,y,tilt --folds 4 --components 8",
                bin, db, md);
    out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "report="), "analysis: %d %s %s", rc, out, err);
    free(out); free(err);
    CHECK(count(db, "SELECT COUNT(*) FROM decoding") == 2 * 4 * 3, "decoding view: 2 runs x 4 layers x 3 latents");
    CHECK(count(db, "SELECT COUNT(*) FROM decoding WHERE error >= 0 AND error <= 1 AND abs(chance - 0.9) < 0.02 "
                    "AND components = 8 AND samples = 200") == 24, "errors, chance and settings in the view");
    CHECK(count(db, "SELECT COUNT(*) FROM decoding WHERE run = 'cnn' AND supervised_only = 1") == 12, "model in the view");
    /* position is visible even to random filters: y decodes from every conv layer better than chance */
    CHECK(count(db, "SELECT COUNT(*) FROM decoding WHERE layer LIKE 'conv%' AND latent = 'y' AND error < chance - 0.1") == 6,
          "y decodes from the conv layers better than chance");
    char *text = fx_read(md, NULL);
    CHECK(text && strstr(text, "# Nuisance decoding: synth") && strstr(text, "![decoding error of tilt by layer](decoding_tilt.png)") &&
          strstr(text, "| conv1 |") && strstr(text, "DRMM (semi-supervised)") && strstr(text, "CNN (supervised only)"),
          "report content");
    free(text);
    uint8_t *px;
    int w, h, ch;
    err_t e = {.msg = ""};
    CHECK(png_read(fx_path("rep/decoding_x.png"), &px, &w, &h, &ch, &e) == 0 && w == 860 && h == 460 && ch == 3,
          "chart PNG: %s", e.msg);
    if (!e.msg[0]) free(px);
    /* one line per model */
    const char *mdm = fx_path("repm/decoding.md");
    rc = fx_run(&err, "%s/analysis --store %s --dataset synth --out %s --latents x,y,tilt --folds 4 --components 8 --by model",
                bin, db, mdm);
    free(err);
    text = fx_read(mdm, NULL);
    CHECK(rc == 0 && text && strstr(text, "| - | DRMM: run 1 | DRMM (semi-supervised) |") &&
          strstr(text, "| - | CNN: run 2 | CNN (supervised only) |"), "--by model report: run N for one run");
    free(text);
    /* rerun: results reused from the store */
    fx_store_fingerprint(db, before);
    rc = fx_run(&err, "%s/analysis --store %s --run 1 --run 2 --no-report --latents x,y,tilt --folds 4 --components 8", bin, db);
    out = fx_stdout();
    fx_store_fingerprint(db, after);
    CHECK(rc == 0 && strstr(out, "(stored)") && !strcmp(before, after), "rerun reuses results: %s", out);
    free(out); free(err);
    snprintf(cmd, sizeof cmd, "%s/analysis --store %s --run 1 --latents colour --no-report", bin, db);
    fx_bad("unknown latent", db, EXIT_BADDATA, "has no latent 'colour' (it has: slant, tilt, x, y, depth", cmd);
    /* kill -9 at various moments: never a partial layer; a rerun completes */
    {
        const char *db2 = fx_path("k.db");
        build_store(db2);
        const char *inv = "SELECT COUNT(*) FROM decode_layers l WHERE n_samples != "
                          "(SELECT COUNT(*) FROM activations a WHERE a.layer_id = l.id)";
        const double delays[] = {0.05, 0.15, 0.3, 0.5, 0.8};
        for (int i = 0; i < 5; i++) {
            rc = fx_run(&err, "timeout -s KILL %.2f %s/decode --store %s --run 1 --max-dims 0; true", delays[i], bin, db2);
            free(err);
            long long bad_layers = count(db2, inv);
            CHECK(rc == 0 && bad_layers == 0, "after kill -9 at %.2f s: %lld partial layers", delays[i], bad_layers);
        }
        rc = fx_run(&err, "%s/decode --store %s --run 1 --max-dims 0", bin, db2);
        out = fx_stdout();
        CHECK(rc == 0 && count(db2, "SELECT COUNT(*) FROM decode_layers WHERE run_id = 1") == 4 && count(db2, inv) == 0,
              "rerun after kills completes: %s %s", out, err);
        free(out); free(err);
    }
    fx_cleanup();
    return check_done();
}
