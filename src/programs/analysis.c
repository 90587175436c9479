/* analysis: the linear decoding of nuisance latents from decoded layer
 * activations (decode), per run, layer and latent: PCA, equal-frequency
 * bins, cross-validated softmax regression (analysis/decoding.h); results to
 * the store (view `decoding`) and a Markdown report with PNG charts. */
#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_kernel.h"
#include "bins.h"
#include "cli.h"
#include "clock.h"
#include "decoding.h"
#include "error.h"
#include "exitcodes.h"
#include "report.h"
#include "store.h"
#include "store_decode.h"

static const char *prog = "analysis";

#define MAX_RUNS 64
#define MAX_LATENTS 32
#define MAX_LAYERS 64

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: analysis --store FILE (--dataset NAME | --run RUN_ID ...) [OPTIONS]\n"
        "Linear decoding of nuisance latents from the layer activations written by `decode`: for each run,\n"
        "layer and latent, PCA of the activations, the latent quantised into equal-frequency bins, and a\n"
        "multinomial logistic regression predicting the bin, scored by k-fold cross-validation against\n"
        "chance. Results go to the store (view `decoding`); a Markdown report with one PNG chart per latent\n"
        "(error against layer, one line per run, chance dashed) is written.\n"
        "\n"
        "  --store FILE         the SQLite experiment store (required)\n"
        "  --dataset NAME       every FINISHED run of the dataset that has decoded layers\n"
        "  --run RUN_ID         a run (repeatable; instead of or with --dataset)\n"
        "  --latents LIST       comma-separated latent names [slant,tilt,x,y,depth]\n"
        "  --circular LIST      latents that are angles in degrees, binned on the circle\n"
        "                       [tilt,light_azimuth,bg_angle]\n"
        "  --components K       principal components [10]\n"
        "  --pca auto|gram|randomized\n"
        "                       exact PCA through the n x n Gram matrix, or randomized subspace iteration;\n"
        "                       auto: gram up to %d samples [auto]\n"
        "  --power-iters Q      subspace iterations of the randomized PCA [3]\n"
        "  --bins B             equal-frequency bins per latent [10]\n"
        "  --folds F            cross-validation folds [5]\n"
        "  --l2 L               L2 penalty of the logistic regression [1e-4]\n"
        "  --seed S             seed of the PCA test matrix and the folds [1]\n"
        "  --threads T          threads (OpenBLAS for the PCA, and latents in parallel) [2]\n"
        "  --out FILE.md        the report [reports/<dataset>/decoding.md]; charts next to it\n"
        "  --by run|model       one line per run, or per model (DRMM semi-supervised, CNN = supervised_only)\n"
        "                       with the runs of a model (e.g. seeds) averaged layer by layer [run]\n"
        "  --no-report          results to the store only\n"
        "  --force              recompute results already in the store\n"
        "  --help, --version\n"
        "\n"
        "Angles: wrapped to [0, 360) and binned by rank, so equal angles share a bin (-180 = 180).\n"
        "Output: one line per (run, layer, latent) 'run=N layer=L latent=X error=E chance=C', then 'report=FILE'.\n"
        "Exit status: 0 ok, 1 runtime failure, 2 bad flags, 3 invalid input (unknown run or dataset, nothing\n"
        "decoded, dataset without latents, unknown latent), 4 store problem (no such store: analysis never\n"
        "creates one).\n", PCA_GRAM_MAX_N);
}

/* Splits a comma list into at most max strdup'ed names; returns the count or -1. */
static int split_list(const char *flag, const char *s, char **out, int max)
{
    int n = 0;
    const char *p = s;
    while (1) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == 0 || n == max) {
            fprintf(stderr, "%s: %s %s: expected up to %d comma-separated names\n", prog, flag, s, max);
            return -1;
        }
        out[n] = strndup(p, len);
        n++;
        if (!q)
            break;
        p = q + 1;
    }
    return n;
}


typedef struct run_work {
    int64_t id;
    store_run info;
    store_decode_layer *layers;
    int n_layers;
    double *error, *chance;     /* n_layers x n_latents */
    char (*names)[32];
} run_work;

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    const char *store_path = NULL, *dataset = NULL, *out = NULL;
    int64_t run_ids[MAX_RUNS];
    int n_runs = 0, no_report = 0, force = 0, by_model = 0;
    char *latents[MAX_LATENTS], *circ_names[MAX_LATENTS];
    int n_lat = -1, n_circ = -1;
    decoding_options o;
    decoding_options_default(&o);
    o.threads = 2;
    enum { O_STORE = 1000, O_DATASET, O_RUN, O_LATENTS, O_CIRC, O_COMP, O_BINS, O_FOLDS, O_L2, O_SEED, O_THREADS,
           O_OUT, O_NOREPORT, O_FORCE, O_PCA, O_POWER, O_BY, O_HELP, O_VERSION };
    struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"dataset", required_argument, NULL, O_DATASET},
        {"run", required_argument, NULL, O_RUN}, {"latents", required_argument, NULL, O_LATENTS},
        {"circular", required_argument, NULL, O_CIRC}, {"components", required_argument, NULL, O_COMP},
        {"bins", required_argument, NULL, O_BINS}, {"folds", required_argument, NULL, O_FOLDS},
        {"l2", required_argument, NULL, O_L2}, {"seed", required_argument, NULL, O_SEED},
        {"threads", required_argument, NULL, O_THREADS}, {"out", required_argument, NULL, O_OUT},
        {"no-report", no_argument, NULL, O_NOREPORT}, {"force", no_argument, NULL, O_FORCE},
        {"by", required_argument, NULL, O_BY}, {"pca", required_argument, NULL, O_PCA}, {"power-iters", required_argument, NULL, O_POWER},
        {"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: store_path = optarg; break;
        case O_DATASET: dataset = optarg; break;
        case O_RUN:
            if (n_runs == MAX_RUNS) { fprintf(stderr, "%s: at most %d --run\n", prog, MAX_RUNS); return EXIT_USAGE; }
            if (cli_long(prog, "--run", optarg, 1, INT64_MAX, &v)) return EXIT_USAGE;
            run_ids[n_runs++] = v;
            break;
        case O_LATENTS: if ((n_lat = split_list("--latents", optarg, latents, MAX_LATENTS)) < 0) return EXIT_USAGE; break;
        case O_CIRC: if ((n_circ = split_list("--circular", optarg, circ_names, MAX_LATENTS)) < 0) return EXIT_USAGE; break;
        case O_COMP: if (cli_long(prog, "--components", optarg, 1, 500, &v)) return EXIT_USAGE; o.pca.k = (int)v; break;
        case O_BINS: if (cli_long(prog, "--bins", optarg, 2, 256, &v)) return EXIT_USAGE; o.bins = (int)v; break;
        case O_FOLDS: if (cli_long(prog, "--folds", optarg, 2, 100, &v)) return EXIT_USAGE; o.folds = (int)v; break;
        case O_L2: {
            char *end;
            double d = strtod(optarg, &end);
            if (!*optarg || *end || !(d > 0) || !isfinite(d)) {
                fprintf(stderr, "%s: --l2 %s: expected a positive number\n", prog, optarg);
                return EXIT_USAGE;
            }
            o.lr.l2 = d;
            break;
        }
        case O_SEED: if (cli_long(prog, "--seed", optarg, 0, INT64_MAX, &v)) return EXIT_USAGE; o.seed = o.pca.seed = (uint64_t)v; break;
        case O_THREADS: if (cli_long(prog, "--threads", optarg, 1, 64, &v)) return EXIT_USAGE; o.threads = (int)v; break;
        case O_OUT: out = optarg; break;
        case O_NOREPORT: no_report = 1; break;
        case O_FORCE: force = 1; break;
        case O_BY:
            if (!strcmp(optarg, "run")) by_model = 0;
            else if (!strcmp(optarg, "model")) by_model = 1;
            else { fprintf(stderr, "%s: --by %s: use run or model\n", prog, optarg); return EXIT_USAGE; }
            break;
        case O_PCA:
            if (!strcmp(optarg, "auto")) o.pca.method = PCA_AUTO;
            else if (!strcmp(optarg, "gram")) o.pca.method = PCA_GRAM;
            else if (!strcmp(optarg, "randomized")) o.pca.method = PCA_RANDOMIZED;
            else { fprintf(stderr, "%s: --pca %s: use auto, gram or randomized\n", prog, optarg); return EXIT_USAGE; }
            break;
        case O_POWER: if (cli_long(prog, "--power-iters", optarg, 0, 50, &v)) return EXIT_USAGE; o.pca.power_iters = (int)v; break;
        case 'h':
        case O_HELP: usage(stdout); return EXIT_OK;
        case O_VERSION:
            cli_print_version(prog);
            return EXIT_OK;
        default: fprintf(stderr, "%s: try --help\n", prog); return EXIT_USAGE;
        }
    }
    if (cli_no_operands(prog, argc, argv))
        return EXIT_USAGE;
    if (!store_path || (!dataset && !n_runs)) {
        fprintf(stderr, "%s: --store FILE and --dataset NAME or --run RUN_ID are required; try --help\n", prog);
        return EXIT_USAGE;
    }
    if (n_lat < 0) {
        const char *def[] = {"slant", "tilt", "x", "y", "depth"};
        n_lat = 5;
        for (int i = 0; i < 5; i++) latents[i] = strdup(def[i]);
    }
    int circular[MAX_LATENTS];
    for (int j = 0; j < n_lat; j++) {
        circular[j] = n_circ < 0 ? bins_latent_is_circular(latents[j]) : 0;
        for (int i = 0; i < n_circ; i++)
            if (!strcmp(circ_names[i], latents[j])) circular[j] = 1;
    }
    blas_kernel_report(prog, 0);
    openblas_set_num_threads(o.threads);
    err_t e = {.msg = ""};
    store *st;
    if (store_open(store_path, STORE_MUSTEXIST, &st, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        for (int j = 0; j < n_lat; j++) free(latents[j]);
        for (int j = 0; j < n_circ; j++) free(circ_names[j]);
        return store_fail_kind() == STORE_FAIL_STORE ? EXIT_STORE : EXIT_RUNTIME;
    }
    int code = EXIT_OK;
    run_work W[MAX_RUNS];
    int nw = 0;
    memset(W, 0, sizeof W);
    char md[1024] = "";
    /* the runs */
    if (dataset) {
        int64_t *ids;
        int n;
        if (store_list_decoded_runs(st, dataset, &ids, &n, &e)) {
            fprintf(stderr, "%s: %s\n", prog, e.msg);
            code = cli_exit_status(&e);
            goto done;
        }
        for (int i = 0; i < n; i++) {
            int dup = 0;
            for (int j = 0; j < n_runs; j++) if (run_ids[j] == ids[i]) dup = 1;
            if (!dup && n_runs < MAX_RUNS) run_ids[n_runs++] = ids[i];
        }
        free(ids);
        char **ln;
        int nln;
        if (store_dataset_latent_names(st, dataset, &ln, &nln, &e)) {
            fprintf(stderr, "%s: %s\n", prog, e.msg);
            code = cli_exit_status(&e);
            goto done;
        }
        for (int i = 0; i < nln; i++) free(ln[i]);
        free(ln);
        if (!nln) {
            fprintf(stderr, "%s: dataset %s has no latents: nuisance decoding needs a dataset rendered with its "
                    "latents (e.g. ingest --synthetic)\n", prog, dataset);
            code = EXIT_BADDATA;
            goto done;
        }
        if (!n_runs) {
            fprintf(stderr, "%s: dataset %s has no finished run with decoded layers: run decode --store %s --run "
                    "RUN_ID first\n", prog, dataset, store_path);
            code = EXIT_BADDATA;
            goto done;
        }
    }
    for (int i = 0; i < n_runs; i++) {
        run_work *w = &W[nw];
        w->id = run_ids[i];
        if (store_get_run(st, w->id, &w->info, &e)) {
            fprintf(stderr, "%s: %s\n", prog, e.msg);
            code = cli_exit_status(&e);
            goto done;
        }
        nw++;
        if (!dataset)
            dataset = W[0].info.dataset;
        if (strcmp(w->info.dataset, dataset)) {
            fprintf(stderr, "%s: run %" PRId64 " is on dataset %s, not %s: one report per dataset\n", prog, w->id,
                    w->info.dataset, dataset);
            code = EXIT_BADDATA;
            goto done;
        }
        if (store_list_decode_layers(st, w->id, 0, &w->layers, &w->n_layers, &e)) {
            fprintf(stderr, "%s: %s\n", prog, e.msg);
            code = cli_exit_status(&e);
            goto done;
        }
        if (!w->n_layers) {
            fprintf(stderr, "%s: run %" PRId64 " (%s) has no decoded layers: run decode --store %s --run %" PRId64 " first\n",
                    prog, w->id, w->info.name, store_path, w->id);
            code = EXIT_BADDATA;
            goto done;
        }
        w->error = malloc(sizeof(double) * w->n_layers * n_lat);
        w->chance = malloc(sizeof(double) * w->n_layers * n_lat);
        w->names = malloc(sizeof *w->names * w->n_layers);
        if (!w->error || !w->chance || !w->names) {
            fprintf(stderr, "%s: out of memory\n", prog);
            code = EXIT_RUNTIME;
            goto done;
        }
    }
    /* each layer: results from the store, or computed */
    for (int r = 0; r < nw; r++) {
        run_work *w = &W[r];
        for (int l = 0; l < w->n_layers; l++) {
            store_decode_layer *L = &w->layers[l];
            snprintf(w->names[l], 32, "%s", L->layer);
            int have = 0;
            for (int j = 0; j < n_lat && !force; j++) {
                int h = store_get_decoding_result(st, L->id, latents[j], o.pca.k, o.bins, o.folds,
                                                  &w->error[l * n_lat + j], &w->chance[l * n_lat + j], &e);
                if (h < 0) {
                    fprintf(stderr, "%s: %s\n", prog, e.msg);
                    code = cli_exit_status(&e);
                    goto done;
                }
                have += h;
            }
            if (have < n_lat) {
                double t0 = clock_seconds();
                float *X = NULL, *lat[MAX_LATENTS] = {0};
                int *idx = NULL, fail = 0;
                decoding_out res[MAX_LATENTS];
                double explained = NAN;
                if (store_get_activations(st, L, &X, &idx, &e))
                    fail = 1;
                for (int j = 0; j < n_lat && !fail; j++) {
                    lat[j] = malloc(sizeof(float) * L->n_samples);
                    if (!lat[j]) { err_set(&e, "out of memory"); fail = 1; break; }
                    if (store_get_sample_latents(st, w->id, latents[j], L->n_samples, idx, lat[j], &e))
                        fail = 1;
                }
                if (!fail && L->n_samples <= o.pca.k)
                    fail = err_input(&e, "run %" PRId64 " layer %s: %d samples are too few for %d components",
                                     w->id, L->layer, L->n_samples, o.pca.k) != 0;
                decoding_options lo = o;
                if (!fail && lo.pca.k > L->dims)
                    lo.pca.k = L->dims;   /* e.g. scores of 10 classes: at most 10 components */
                if (!fail && decoding_analyse(X, L->n_samples, L->dims, (const float *const *)lat, circular, n_lat,
                                              &lo, res, &explained, &e))
                    fail = 1;
                double secs = clock_seconds() - t0;
                if (!fail && store_begin(st, &e))
                    fail = 1;
                for (int j = 0; j < n_lat && !fail; j++) {
                    store_decoding_result dr = {.layer_id = L->id, .latent = latents[j], .circular = circular[j],
                                                .components = o.pca.k, .bins = o.bins, .bins_used = res[j].bins_used,
                                                .folds = o.folds, .samples = L->n_samples, .l2 = o.lr.l2,
                                                .error = res[j].error, .chance = res[j].chance,
                                                .explained = explained, .seconds = secs / n_lat};
                    if (store_put_decoding_result(st, &dr, &e)) {
                        store_rollback(st);
                        fail = 1;
                    }
                    w->error[l * n_lat + j] = res[j].error;
                    w->chance[l * n_lat + j] = res[j].chance;
                }
                if (!fail && store_commit(st, &e))
                    fail = 1;
                free(X);
                free(idx);
                for (int j = 0; j < n_lat; j++) free(lat[j]);
                if (fail) {
                    fprintf(stderr, "%s: run %" PRId64 " layer %s: %s\n", prog, w->id, L->layer, e.msg);
                    code = cli_exit_status(&e);
                    goto done;
                }
            }
            for (int j = 0; j < n_lat; j++)
                printf("run=%" PRId64 " layer=%s latent=%s error=%.4f chance=%.4f%s\n", w->id, L->layer, latents[j],
                       w->error[l * n_lat + j], w->chance[l * n_lat + j], have == n_lat ? " (stored)" : "");
        }
    }
    if (!no_report) {
        if (out)
            snprintf(md, sizeof md, "%s", out);
        else
            snprintf(md, sizeof md, "reports/%s/decoding.md", dataset);
        if (cli_make_parent_dirs(md)) {
            fprintf(stderr, "%s: cannot create the directory of %s: %s\n", prog, md, strerror(errno));
            code = EXIT_RUNTIME;
            goto done;
        }
        report_run rr[MAX_RUNS];
        for (int r = 0; r < nw; r++) {
            const char *so = store_run_config(&W[r].info, "supervised_only");
            rr[r] = (report_run){.run_id = W[r].id, .checkpoint_id = W[r].layers[0].checkpoint_id,
                                 .name = W[r].info.name, .cnn = so && atoi(so) != 0,
                                 .samples = W[r].layers[0].n_samples, .n_layers = W[r].n_layers,
                                 .layers = W[r].names, .error = W[r].error, .chance = W[r].chance};
        }
        report_run *show = rr;
        int n_show = nw;
        report_run grp[2];
        static char gnames[2][MAX_LAYERS][32], glabel[2][512];
        static double gerr[2][MAX_LAYERS * MAX_LATENTS], gch[2][MAX_LAYERS * MAX_LATENTS];
        if (by_model) {
            n_show = 0;
            for (int m = 0; m < 2; m++) {   /* 0: DRMM, 1: CNN */
                int nl = 0, nruns = 0;
                char ids[480] = "";
                size_t len = 0;
                for (int r = 0; r < nw; r++) {
                    if (rr[r].cnn != m)
                        continue;
                    if (len < sizeof ids)
                        len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%lld", nruns ? ", " : "",
                                                (long long)rr[r].run_id);
                    nruns++;
                    for (int l = 0; l < rr[r].n_layers; l++) {
                        int found = 0;
                        for (int i = 0; i < nl; i++)
                            if (!strcmp(gnames[m][i], rr[r].layers[l])) found = 1;
                        if (!found && nl < MAX_LAYERS)
                            snprintf(gnames[m][nl++], 32, "%s", rr[r].layers[l]);
                    }
                }
                if (!nruns)
                    continue;
                snprintf(glabel[m], sizeof glabel[m], "%s: run%s %s", m ? "CNN" : "DRMM", nruns > 1 ? "s" : "", ids);
                for (int i = 1; i < nl; i++)
                    for (int j = i; j > 0 && report_layer_rank(gnames[m][j]) < report_layer_rank(gnames[m][j - 1]); j--) {
                        char t[32];
                        memcpy(t, gnames[m][j], 32); memcpy(gnames[m][j], gnames[m][j - 1], 32); memcpy(gnames[m][j - 1], t, 32);
                    }
                int samples = 0;
                for (int i = 0; i < nl; i++)
                    for (int j = 0; j < n_lat; j++) {
                        double se = 0, sc = 0;
                        int k = 0;
                        for (int r = 0; r < nw; r++) {
                            if (rr[r].cnn != m)
                                continue;
                            samples = rr[r].samples;
                            for (int l = 0; l < rr[r].n_layers; l++)
                                if (!strcmp(rr[r].layers[l], gnames[m][i])) {
                                    se += rr[r].error[l * n_lat + j];
                                    sc += rr[r].chance[l * n_lat + j];
                                    k++;
                                }
                        }
                        gerr[m][i * n_lat + j] = k ? se / k : NAN;
                        gch[m][i * n_lat + j] = k ? sc / k : NAN;
                    }
                grp[n_show++] = (report_run){.name = glabel[m], .cnn = m, .samples = samples, .n_layers = nl,
                                             .layers = gnames[m], .error = gerr[m], .chance = gch[m]};
            }
            show = grp;
        }
        report_spec sp = {.dataset = dataset, .store_path = store_path, .latents = (const char *const *)latents,
                          .circular = circular, .n_latents = n_lat, .components = o.pca.k, .bins = o.bins,
                          .folds = o.folds, .l2 = o.lr.l2};
        if (report_write(md, &sp, show, n_show, &e)) {
            fprintf(stderr, "%s: %s\n", prog, e.msg);
            code = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
            goto done;
        }
        printf("report=%s\n", md);
    }
done:
    for (int r = 0; r < nw; r++) {
        store_run_free(&W[r].info);
        free(W[r].layers); free(W[r].error); free(W[r].chance); free(W[r].names);
    }
    for (int j = 0; j < n_lat; j++) free(latents[j]);
    for (int j = 0; j < n_circ; j++) free(circ_names[j]);
    store_close(st);
    return code;
}
