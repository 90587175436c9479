/* The shallow Rendering Mixture Model (src/engine/rmm.h, bin/rmm): the
 * E-step's network-layer form equals the posterior computed from the
 * Gaussian densities; exact EM never lowers the log-likelihood (every
 * iteration, on small problems from three seeds); the M-step's closed-form
 * variance equals the responsibility-weighted squared error; patches and
 * reconstructions; bin/rmm end to end (the fit and its log-likelihood per
 * iteration in the store, the figures, report --rmm's section) and its bad
 * input (exit status, message, store unchanged). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "dataset.h"
#include "error.h"
#include "rmm.h"
#include "rng.h"
#include "shapes.h"
#include "store.h"

/* N points in D dimensions from K well-separated means plus noise. */
static double *mixture_data(uint64_t seed, long N, int D, int K)
{
    rng_t r;
    rng_seed(&r, seed);
    double *mu = malloc(sizeof(double) * K * D), *x = malloc(sizeof(double) * N * D);
    for (int k = 0; k < K * D; k++)
        mu[k] = rng_uniform(&r);
    for (long n = 0; n < N; n++) {
        int k = (int)rng_below(&r, K);
        for (int d = 0; d < D; d++)
            x[n * D + d] = mu[k * D + d] + 0.1 * (rng_uniform(&r) - 0.5);
    }
    free(mu);
    return x;
}

static void test_layer_is_posterior(void)
{
    const long N = 50;
    const int D = 9, K = 5;
    double *x = mixture_data(3, N, D, K);
    rmm m;
    err_t e;
    CHECK(rmm_init(&m, x, N, D, K, 7, &e) == 0, "init: %s", e.msg);
    /* move away from the initial state so that pi is not uniform */
    double *g1 = malloc(sizeof(double) * N * K), *g2 = malloc(sizeof(double) * N * K), ll1, ll2;
    rmm_em_step(&m, x, N, g1, &ll1, &e);
    rmm_em_step(&m, x, N, g1, &ll1, &e);
    CHECK(rmm_estep(&m, x, N, g1, &ll1, &e) == 0, "E-step");
    ll2 = rmm_posterior_direct(&m, x, N, g2);
    double worst = 0;
    for (long k = 0; k < N * K; k++)
        worst = fmax(worst, fabs(g1[k] - g2[k]));
    CHECK(worst < 1e-12, "the layer's softmax equals the Gaussian posterior (max difference %g)", worst);
    CHECK_CLOSE(ll1, ll2, 1e-12, "log-likelihood of the layer form and of the densities");
    /* the layer's weights are the templates over sigma2 */
    double *w = malloc(sizeof(double) * K * D), b[5];
    rmm_layer(&m, w, b);
    CHECK_CLOSE(w[2 * D + 3], m.mu[2 * D + 3] / m.sigma2, 1e-15, "w = mu / sigma2");
    free(w);
    free(g1);
    free(g2);
    free(x);
    rmm_free(&m);
}

static void test_em_monotone(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        const long N = 300;
        const int D = 16, K = 6;
        double *x = mixture_data(seed, N, D, 4), *g = malloc(sizeof(double) * N * K), ll[60];
        rmm m;
        err_t e;
        rmm_init(&m, x, N, D, K, seed, &e);
        int drops = 0;
        for (int it = 0; it < 60; it++) {
            rmm_em_step(&m, x, N, g, &ll[it], &e);
            if (it && ll[it] < ll[it - 1] - 1e-12 * fabs(ll[it - 1]))
                drops++;
        }
        CHECK(drops == 0, "seed %llu: the log-likelihood never falls (%d drops)", (unsigned long long)seed, drops);
        CHECK(ll[59] > ll[0] + 0.1, "seed %llu: and it rises (%g -> %g)", (unsigned long long)seed, ll[0], ll[59]);
        /* sigma2 from the M-step equals the weighted squared error at the new means */
        double ll_now;
        rmm_estep(&m, x, N, g, &ll_now, &e);
        rmm_mstep(&m, x, N, g, &e);
        double s = 0;
        for (long n = 0; n < N; n++)
            for (int k = 0; k < K; k++)
                for (int d = 0; d < D; d++) {
                    double r = x[n * D + d] - m.mu[k * D + d];
                    s += g[n * K + k] * r * r;
                }
        CHECK_CLOSE(m.sigma2, s / (N * D), 1e-9, "closed-form sigma2");
        free(x);
        free(g);
        rmm_free(&m);
    }
}

static void test_patches(void)
{
    CHECK(rmm_patch_count(28, 28, 7, 7) == 16, "7x7 windows at stride 7 of 28x28");
    CHECK(rmm_patch_count(28, 28, 28, 28) == 1, "the whole image");
    CHECK(rmm_patch_count(5, 5, 3, 1) == 9, "3x3 at stride 1 of 5x5");
    CHECK(rmm_patch_count(5, 5, 6, 1) == -1, "a patch larger than the image");
    float img[16];
    for (int k = 0; k < 16; k++)
        img[k] = (float)k;
    double p[16];
    rmm_patches(img, 1, 1, 4, 4, 2, 2, p);
    CHECK(p[0] == 0 && p[1] == 1 && p[2] == 4 && p[3] == 5 && p[4] == 2 && p[12] == 10 && p[15] == 15,
          "2x2 windows row by row");
    /* a whole-image mixture whose templates are the images reconstructs them */
    rmm m;
    err_t e;
    double x[32];
    for (int k = 0; k < 32; k++)
        x[k] = k < 16 ? (k % 3) / 2.0 : (k % 5) / 4.0;
    CHECK(rmm_init(&m, x, 2, 16, 2, 1, &e) == 0, "init");
    memcpy(m.mu, x, sizeof x);
    m.sigma2 = 0.01;
    double g[4], ll;
    rmm_estep(&m, x, 2, g, &ll, &e);
    float xf[32], out[32];
    for (int k = 0; k < 32; k++)
        xf[k] = (float)x[k];
    CHECK(rmm_reconstruct(&m, g, 2, 1, 4, 4, 4, 4, out, &e) == 0, "reconstruct");
    CHECK(!memcmp(xf, out, sizeof xf), "each image rendered from its own template");
    CHECK(rmm_reconstruct(&m, g, 2, 1, 4, 4, 3, 1, out, &e) < 0 && strstr(e.msg, "do not fit"),
          "patches of another size are refused: %s", e.msg);
    rmm_free(&m);
    CHECK(rmm_init(&m, x, 2, 16, 3, 1, &e) < 0 && strstr(e.msg, "at least as many patches as templates"),
          "fewer patches than templates: %s", e.msg);
}

static const char *bin, *db;

static void make_store(void)
{
    dataset d;
    err_t e;
    const int S = 12, K = 4, n = 400;
    if (dataset_alloc(&d, n, 1, S, S, K, 0, &e))
        exit(1);
    float *x = malloc(sizeof(float) * n * S * S);
    shapes_make(5, n, K, S, x, d.labels);
    for (long k = 0; k < (long)n * S * S; k++)
        d.pixels[k] = (uint8_t)(x[k] * 255 + 0.5f);
    for (int i = 0; i < n; i++)
        d.split[i] = i < 300 ? SPLIT_TRAIN : SPLIT_TEST;
    for (int c = 0; c < K; c++)
        d.class_names[c] = strdup("c");
    d.source = strdup("generated shapes");
    store *st;
    if (store_open(db, 0, &st, &e) || store_put_dataset(st, "shapes", &d, 0, NULL, NULL, &e)) {
        printf("store: %s\n", e.msg);
        exit(1);
    }
    store_close(st);
    dataset_free(&d);
    free(x);
}

static void bad(const char *what, int want, const char *says, const char *flags)
{
    char before[65], after[65], *err = NULL;
    fx_store_fingerprint(db, before);
    int rc = fx_run(&err, "%s/rmm --store %s --out-dir %s %s", bin, db, fx_path("out"), flags);
    fx_store_fingerprint(db, after);
    CHECK(rc == want && err && strstr(err, says), "%s: exit %d (got %d): %s", what, want, rc, err);
    CHECK(!strcmp(before, after), "%s: store unchanged", what);
    free(err);
}

static void test_cli(void)
{
    char *err = NULL;
    int rc = fx_run(&err, "%s/rmm --store %s --dataset shapes --out-dir %s --components 6 --patch 4 --stride 4 "
                          "--iterations 12 --show 8", bin, db, fx_path("rep"));
    char *out = fx_stdout();
    CHECK(rc == 0, "rmm exits 0 (got %d): %s", rc, err);
    CHECK(out && strstr(out, "fit_id=1 patches=2700 iterations=12") && strstr(out, "decreases=0"), "stdout: %s", out);
    free(out);
    free(err);
    CHECK(fx_sql_int(db, "SELECT COUNT(*) FROM rmm_loglik WHERE fit_id = 1") == 12, "12 log-likelihoods stored");
    CHECK(fx_sql_int(db, "SELECT COUNT(*) FROM rmm_loglik a JOIN rmm_loglik b ON b.fit_id = a.fit_id AND "
                         "b.iteration = a.iteration + 1 WHERE b.loglik < a.loglik") == 0,
          "the stored log-likelihood never falls");
    CHECK(fx_sql_int(db, "SELECT length(templates) FROM rmm_fits WHERE id = 1") == 6 * 16 * 4, "templates stored");
    const char *files[] = {"rmm_templates.png", "rmm_templates.svg", "rmm_recon.png", "rmm_loglik.png", "rmm.md"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        CHECK(access(fx_path("rep/%s", files[i]), R_OK) == 0, "%s written", files[i]);
    /* the report's section: a one-run experiment to report on */
    rc = fx_run(&err, "%s/train --store %s --dataset shapes --arch %s --name x/cnn/n40/s1 --labels 40 --epochs 1 "
                "--batch 32 --supervised-only 1 --threads 1 --quiet", bin, db, fx_path("net.arch"));
    CHECK(rc == 0, "a run to report (got %d): %s", rc, err);
    free(err);
    rc = fx_run(&err, "%s/evaluate --store %s --run 1 --no-predictions", bin, db);
    free(err);
    rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment x --out %s --rmm %s", bin, db,
                fx_path("rep/report.md"), fx_path("rep/rmm.md"));
    CHECK(rc == 0, "report --rmm (got %d): %s", rc, err);
    free(err);
    char *md = fx_read(fx_path("rep/report.md"), NULL);
    CHECK(md && strstr(md, "## The shallow Rendering Mixture Model") && strstr(md, "](rmm_templates.png)") &&
          strstr(md, "](rmm_recon.png)") && strstr(md, "FROM rmm_loglik WHERE fit_id = 1"),
          "the report has the section with the figures");
    free(md);
    rc = fx_run(&err, "%s/report --store %s --dataset shapes --experiment x --out %s --rmm %s", bin, db,
                fx_path("rep/report.md"), fx_path("rep/rmm_templates.svg"));
    CHECK(rc == 3 && err && strstr(err, "not a fragment of `rmm`"), "report --rmm with another file (%d): %s", rc, err);
    free(err);

    bad("unknown dataset", 3, "no dataset named 'nope'", "--dataset nope");
    bad("a patch larger than the images", 3, "patches must fit the 12x12 images", "--dataset shapes --patch 13");
    bad("more templates than patches", 3, "at least as many patches as templates",
        "--dataset shapes --images 3 --components 5");
    bad("a bad flag", 2, "--components", "--dataset shapes --components 0");
    bad("a misspelt flag", 2, "unknown option", "--dataset shapes --component 3");
    bad("no dataset", 2, "required", "");
    char *err2 = NULL;
    rc = fx_run(&err2, "%s/rmm --store %s --dataset shapes --out-dir %s", bin, fx_path("none.db"), fx_path("o"));
    CHECK(rc == 4 && err2 && access(fx_path("none.db"), F_OK) != 0, "a missing store: exit 4, not created (%d): %s", rc,
          err2);
    free(err2);
}

int main(void)
{
    test_layer_is_posterior();
    test_em_monotone();
    test_patches();
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    fx_tmpdir("rmm");
    db = strdup(fx_path("store.db"));
    const char *net = "input channels=1 height=12 width=12\nconv filters=4 size=3 pad=half\nmaxpool\n"
                      "conv filters=4 size=1 pad=valid\nmeanpool\n";
    fx_write(fx_path("net.arch"), net, strlen(net), 0);
    make_store();
    test_cli();
    fx_cleanup();
    return check_done();
}
