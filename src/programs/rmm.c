/* rmm: the shallow Rendering Mixture Model (supplement, Figures 3 and 6;
 * src/engine/rmm.h) fitted by exact EM to the training images of a stored
 * dataset.  Records the fit and its log-likelihood per iteration in the
 * store (rmm_fits, rmm_loglik), and draws the templates, reconstructions
 * and the log-likelihood curve as figures with a Markdown fragment for
 * `report --rmm`. */
#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_kernel.h"
#include "cli.h"
#include "clock.h"
#include "dataset.h"
#include "error.h"
#include "exitcodes.h"
#include "image_grid.h"
#include "plot.h"
#include "rmm.h"
#include "split_data.h"
#include "store.h"
#include "store_rmm.h"

static const char *prog = "rmm";

typedef struct rmm_options {
    const char *store_path, *dataset, *out_dir;
    int components, patch, stride, images, iterations, show;
    uint64_t seed;
} rmm_options;

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: rmm --store FILE --dataset NAME --out-dir DIR [OPTIONS]\n"
        "Fits the shallow Rendering Mixture Model by exact EM to the training images of a dataset: K\n"
        "templates over the P x P patches at stride S (P = the image size: whole images), one shared noise\n"
        "variance, the E-step computed as a network layer (a linear map whose weights are the templates,\n"
        "then a softmax).  Records the fit and its log-likelihood per iteration in the store (tables\n"
        "rmm_fits, rmm_loglik) and writes rmm_templates.png, rmm_recon.png, rmm_loglik.png (with SVGs) and\n"
        "rmm.md, the fragment for `report --rmm`, to DIR.\n"
        "\n"
        "  --store FILE        the SQLite experiment store (required; must exist)\n"
        "  --dataset NAME      the dataset (required)\n"
        "  --out-dir DIR       where the figures go (created if missing; required)\n"
        "  --components K      templates [32]\n"
        "  --patch P           patch size in pixels, 0: the whole image [0]\n"
        "  --stride S          patch stride [P]\n"
        "  --images N          the first N training images [10000]\n"
        "  --iterations N      EM iterations [30]\n"
        "  --seed N            chooses the patches the templates start from [1]\n"
        "  --show N            images in the reconstruction figure [16]\n"
        "  --help, --version\n"
        "\n"
        "Output: 'fit_id=N patches=N iterations=N loglik=L sigma2=S decreases=N' on stdout (loglik: mean\n"
        "log-likelihood per patch in nats at the last E-step; decreases: iterations where it fell, 0 for\n"
        "exact EM), progress on stderr.\n"
        "Exit status: 0 ok, 1 runtime failure, 2 bad flags, 3 invalid input (unknown dataset, a patch that\n"
        "does not fit the images, fewer patches than templates), 4 store problem (no such store, not a\n"
        "database, locked).  On failure the store is as it was.\n");
}

/* Figures and fragment; f, the fit as recorded. */
static int draw(const rmm_options *o, const rmm *m, const split_data *tr, int C, int H, int W, int P, int S,
                const double *ll, int iters, int64_t fit_id, long N, err_t *e)
{
    char path[PATH_MAX], mdpath[PATH_MAX], mdtmp[PATH_MAX + 8], title[256];
    int rc = -1;
    FILE *md = NULL;
    const int K = m->K, cols = K < 8 ? K : 8, rows = (K + cols - 1) / cols, show = o->show < tr->n ? o->show : tr->n;
    float *tmpl = calloc((size_t)rows * cols * m->D, sizeof(float));
    unsigned char *present = calloc((size_t)rows * cols, 1);
    char (*names)[32] = calloc(rows > 2 ? rows : 2, sizeof *names);
    const char **rn = calloc(rows > 2 ? rows : 2, sizeof *rn);
    int per = rmm_patch_count(H, W, P, S);
    double *x = malloc(sizeof(double) * (size_t)show * per * m->D), *gamma = malloc(sizeof(double) * (size_t)show * per * K);
    float *pair = malloc(sizeof(float) * 2 * (size_t)show * C * H * W);
    double *xs = malloc(sizeof(double) * (iters > 0 ? iters : 1));
    char (*ticks)[16] = calloc(iters > 0 ? iters : 1, sizeof *ticks);
    const char **tk = calloc(iters > 0 ? iters : 1, sizeof *tk);
    if (!tmpl || !present || !names || !rn || !x || !gamma || !pair || !xs || !ticks || !tk) {
        err_set(e, "out of memory");
        goto done;
    }
    /* templates, 8 to a row */
    for (int k = 0; k < K; k++) {
        for (int d = 0; d < m->D; d++)
            tmpl[(size_t)k * m->D + d] = (float)m->mu[(size_t)k * m->D + d];
        present[k] = 1;
    }
    for (int r = 0; r < rows; r++) {
        snprintf(names[r], sizeof names[r], "%d-%d", r * cols + 1, r * cols + cols < K ? r * cols + cols : K);
        rn[r] = names[r];
    }
    snprintf(title, sizeof title, "Shallow RMM: the %d templates (%dx%d pixels)", K, P, P);
    snprintf(path, sizeof path, "%s/rmm_templates.png", o->out_dir);
    image_grid g = {.title = title, .rows = rows, .cols = cols, .channels = C, .height = P, .width = P, .images = tmpl,
                    .row_names = rn, .present = present, .scale = IMAGE_SCALE_UNIT};
    if (image_grid_write(&g, path, e))
        goto done;
    /* the first images of the fit and their reconstructions */
    double ll_show;
    rmm_patches(tr->x, show, C, H, W, P, S, x);
    if (rmm_estep(m, x, (long)show * per, gamma, &ll_show, e) ||
        rmm_reconstruct(m, gamma, show, C, H, W, P, S, pair + (size_t)show * C * H * W, e))
        goto done;
    memcpy(pair, tr->x, sizeof(float) * (size_t)show * C * H * W);
    names[0][0] = names[1][0] = 0;
    rn[0] = "image", rn[1] = "rendered";
    snprintf(title, sizeof title, "Shallow RMM: training images and their reconstructions (each patch its most "
             "probable template)");
    snprintf(path, sizeof path, "%s/rmm_recon.png", o->out_dir);
    image_grid g2 = {.title = title, .rows = 2, .cols = show, .channels = C, .height = H, .width = W, .images = pair,
                     .row_names = rn, .scale = IMAGE_SCALE_UNIT};
    if (image_grid_write(&g2, path, e))
        goto done;
    /* the log-likelihood per iteration */
    for (int i = 0; i < iters; i++) {
        xs[i] = ll[i];
        snprintf(ticks[i], sizeof ticks[i], iters <= 15 || (i + 1) % 5 == 0 || i == 0 ? "%d" : "", i + 1);
        tk[i] = ticks[i];
    }
    plot_series s = {.label = "EM", .y = xs};
    plot_chart ch = {.title = "Shallow RMM: log-likelihood per EM iteration", .xlabel = "iteration",
                     .ylabel = "mean log-likelihood per patch (nats)", .n_x = iters, .xticks = tk, .series = &s,
                     .n_series = 1, .ref = NAN};
    snprintf(path, sizeof path, "%s/rmm_loglik.png", o->out_dir);
    if (iters > 0 && plot_write(path, &ch, 720, 360, e))
        goto done;
    snprintf(mdpath, sizeof mdpath, "%s/rmm.md", o->out_dir);
    snprintf(mdtmp, sizeof mdtmp, "%s.tmp", mdpath);
    md = fopen(mdtmp, "w");
    if (!md) {
        err_set(e, "cannot write %s: %s", mdtmp, strerror(errno));
        goto done;
    }
    fprintf(md, "<!-- rmm -->\nFit %" PRId64 " of the store (`rmm --components %d --patch %d --stride %d --images %d "
                "--iterations %d --seed %" PRIu64 "`): %d templates over %ld patches of %dx%d pixels from the first %d "
                "training images; exact EM, the E-step as a layer (weights mu_k / sigma2, bias log pi_k - "
                "|mu_k|^2 / (2 sigma2), softmax). Log-likelihood per patch: %.4f nats after the first E-step, %.4f at "
                "the last; noise variance sigma2 = %.5f (pixels in [0, 1]). The log-likelihood of every iteration is "
                "in the store: `SELECT iteration, loglik FROM rmm_loglik WHERE fit_id = %" PRId64 "`.\n\n"
                "![RMM templates](rmm_templates.png) ([SVG](rmm_templates.svg))\n\n"
                "![RMM reconstructions](rmm_recon.png) ([SVG](rmm_recon.svg))\n\n"
                "![RMM log-likelihood per iteration](rmm_loglik.png) ([SVG](rmm_loglik.svg))\n\n",
            fit_id, K, P, S, o->images, o->iterations, o->seed, K, N, P, P, tr->n, iters ? ll[0] : NAN,
            iters ? ll[iters - 1] : NAN, m->sigma2, fit_id);
    if (ferror(md) | fclose(md)) {
        md = NULL;
        err_set(e, "cannot write %s", mdtmp);
        goto done;
    }
    md = NULL;
    if (rename(mdtmp, mdpath)) {
        err_set(e, "cannot write %s: %s", mdpath, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (md) {
        fclose(md);
        remove(mdtmp);
    }
    free(tmpl); free(present); free(names); free(rn); free(x); free(gamma); free(pair); free(xs); free(ticks); free(tk);
    return rc;
}

static int fit(const rmm_options *o, err_t *e)
{
    store *st = NULL;
    dataset d;
    split_data tr;
    rmm m;
    memset(&d, 0, sizeof d);
    memset(&tr, 0, sizeof tr);
    memset(&m, 0, sizeof m);
    double *x = NULL, *gamma = NULL, *ll = NULL;
    float *tf = NULL;
    int rc = -1;
    char path[PATH_MAX];
    if (store_open(o->store_path, STORE_MUSTEXIST, &st, e) || store_get_dataset(st, o->dataset, &d, e) ||
        split_data_load(&d, SPLIT_TRAIN, o->images, &tr, e))
        goto done;
    const int C = d.channels, H = d.height, W = d.width;
    const int P = o->patch ? o->patch : (H < W ? H : W), S = o->stride ? o->stride : P;
    const int per = rmm_patch_count(H, W, P, S);
    if (per < 0) {
        err_input(e, "--patch %d --stride %d: patches must fit the %dx%d images of %s", P, S, H, W, o->dataset);
        goto done;
    }
    if (tr.n < 1) {
        err_input(e, "dataset %s has no training images", o->dataset);
        goto done;
    }
    const long N = (long)tr.n * per;
    const int D = C * P * P;
    x = malloc(sizeof(double) * (size_t)N * D);
    gamma = malloc(sizeof(double) * (size_t)N * o->components);
    ll = malloc(sizeof(double) * (o->iterations ? o->iterations : 1));
    tf = malloc(sizeof(float) * (size_t)o->components * D);
    if (!x || !gamma || !ll || !tf) {
        err_set(e, "out of memory for %ld patches of %d pixels", N, D);
        goto done;
    }
    rmm_patches(tr.x, tr.n, C, H, W, P, S, x);
    if (rmm_init(&m, x, N, D, o->components, o->seed, e))
        goto done;
    int decreases = 0;
    double t0 = clock_seconds();
    for (int it = 0; it < o->iterations; it++) {
        if (rmm_em_step(&m, x, N, gamma, &ll[it], e))
            goto done;
        decreases += it > 0 && ll[it] < ll[it - 1];
        fprintf(stderr, "rmm: iteration %d/%d  loglik %.6f  sigma2 %.6f  %.1f s\n", it + 1, o->iterations, ll[it],
                m.sigma2, clock_seconds() - t0);
    }
    if (cli_make_parent_dirs(strcat(strcpy(path, o->out_dir), "/x")) && errno != EEXIST) {
        err_set(e, "cannot create %s: %s", o->out_dir, strerror(errno));
        goto done;
    }
    for (long k = 0; k < (long)o->components * D; k++)
        tf[k] = (float)m.mu[k];
    store_rmm_fit f = {.dataset = o->dataset, .components = o->components, .patch = P, .stride = S, .images = tr.n,
                       .patches = N, .seed = o->seed, .sigma2 = m.sigma2, .templates = tf, .dim = D, .loglik = ll,
                       .iterations = o->iterations};
    int64_t id;
    /* the fit is recorded only with its figures */
    if (store_begin(st, e))
        goto done;
    if (store_put_rmm_fit(st, &f, &id, e) || draw(o, &m, &tr, C, H, W, P, S, ll, o->iterations, id, N, e) ||
        store_commit(st, e)) {
        store_rollback(st);
        goto done;
    }
    printf("fit_id=%" PRId64 " patches=%ld iterations=%d loglik=%.6f sigma2=%.6g decreases=%d\n", id, N, o->iterations,
           o->iterations ? ll[o->iterations - 1] : NAN, m.sigma2, decreases);
    rc = 0;
done:
    free(x); free(gamma); free(ll); free(tf);
    rmm_free(&m);
    split_data_free(&tr);
    dataset_free(&d);
    store_close(st);
    return rc;
}

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    rmm_options o = {.components = 32, .images = 10000, .iterations = 30, .seed = 1, .show = 16};
    enum { O_STORE = 1000, O_DATASET, O_OUT, O_K, O_PATCH, O_STRIDE, O_IMAGES, O_ITERS, O_SEED, O_SHOW, O_HELP, O_VERSION };
    struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"dataset", required_argument, NULL, O_DATASET},
        {"out-dir", required_argument, NULL, O_OUT}, {"components", required_argument, NULL, O_K},
        {"patch", required_argument, NULL, O_PATCH}, {"stride", required_argument, NULL, O_STRIDE},
        {"images", required_argument, NULL, O_IMAGES}, {"iterations", required_argument, NULL, O_ITERS},
        {"seed", required_argument, NULL, O_SEED}, {"show", required_argument, NULL, O_SHOW},
        {"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: o.store_path = optarg; break;
        case O_DATASET: o.dataset = optarg; break;
        case O_OUT: o.out_dir = optarg; break;
        case O_K: if (cli_long(prog, "--components", optarg, 1, 4096, &v)) return EXIT_USAGE; o.components = (int)v; break;
        case O_PATCH: if (cli_long(prog, "--patch", optarg, 0, 4096, &v)) return EXIT_USAGE; o.patch = (int)v; break;
        case O_STRIDE: if (cli_long(prog, "--stride", optarg, 1, 4096, &v)) return EXIT_USAGE; o.stride = (int)v; break;
        case O_IMAGES: if (cli_long(prog, "--images", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.images = (int)v; break;
        case O_ITERS: if (cli_long(prog, "--iterations", optarg, 1, 100000, &v)) return EXIT_USAGE; o.iterations = (int)v; break;
        case O_SEED: if (cli_long(prog, "--seed", optarg, 0, LONG_MAX, &v)) return EXIT_USAGE; o.seed = (uint64_t)v; break;
        case O_SHOW: if (cli_long(prog, "--show", optarg, 1, 64, &v)) return EXIT_USAGE; o.show = (int)v; break;
        case 'h':
        case O_HELP: usage(stdout); return EXIT_OK;
        case O_VERSION: cli_print_version(prog); return EXIT_OK;
        default: fprintf(stderr, "%s: try --help\n", prog); return EXIT_USAGE;
        }
    }
    if (cli_no_operands(prog, argc, argv))
        return EXIT_USAGE;
    if (!o.store_path || !o.dataset || !o.out_dir) {
        fprintf(stderr, "%s: --store FILE, --dataset NAME and --out-dir DIR are required; try --help\n", prog);
        return EXIT_USAGE;
    }
    blas_kernel_report(prog, 0);
    openblas_set_num_threads(1);
    err_t e = {.msg = ""};
    if (fit(&o, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        return cli_exit_status(&e);
    }
    return EXIT_OK;
}
