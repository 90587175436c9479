/* edrmm: the Evolutionary DRMM of a trained run (src/run/edrmm.h): a tree
 * over its classes from agglomerative clustering of the rendered class
 * templates, and coarse-to-fine inference along it on the test images
 * against the model's flat inference, written to the store (edrmm_trees,
 * edrmm_nodes) for the report. */
#include <cblas.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_kernel.h"
#include "cli.h"
#include "clock.h"
#include "dataset.h"
#include "edrmm.h"
#include "error.h"
#include "evaluator.h"
#include "exitcodes.h"
#include "run_model.h"
#include "split_data.h"
#include "store.h"
#include "store_edrmm.h"

static const char *prog = "edrmm";

typedef struct edrmm_options {
    const char *store_path;
    int64_t run_id, checkpoint_id;
    int template_images, test_limit, batch, threads;
} edrmm_options;

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: edrmm --store FILE --run RUN_ID [OPTIONS]\n"
        "The Evolutionary DRMM (supplement, section F) of a run's checkpoint: a tree over its classes by\n"
        "agglomerative clustering (average linkage, Euclidean distance) of the class templates it renders,\n"
        "and coarse-to-fine inference along the tree (at each node the child whose classes have the highest\n"
        "mean log probability) on the test images against flat inference (the most probable class).  Writes\n"
        "one row of edrmm_trees and one of edrmm_nodes per node (schema/010_edrmm.sql) for `report`.\n"
        "\n"
        "  --store FILE          the SQLite experiment store (required)\n"
        "  --run RUN_ID          the run (required)\n"
        "  --checkpoint ID       a checkpoint of the run [the latest]\n"
        "  --template-images N   training images whose renderings make the class templates [2000]\n"
        "  --test-limit N        classify the first N test images (0: all) [0]\n"
        "  --batch N             images per pass [100]\n"
        "  --threads N           worker threads [the run's]\n"
        "  --help, --version\n"
        "\n"
        "A checkpoint of fewer than %d steps has its BN statistics re-estimated on the training images as\n"
        "evaluate does, so that the flat error is the evaluated one.\n"
        "Class c's template is the mean, over the training images the model assigns to c, of the image\n"
        "rendered from c through that image's own switches (README, \"The E-DRMM\").\n"
        "Output: 'edrmm run=R tree=T classes=K images=N flat_error_pct=F tree_error_pct=E agree_pct=A' and\n"
        "the tree in Newick form ('newick=...', leaves by class number).\n"
        "Exit status: 0 ok, 1 runtime failure, 2 bad flags, 3 invalid input (unknown run or checkpoint, a\n"
        "run without a checkpoint, a model of one class, templates that are not finite), 4 store problem (no\n"
        "such store, not a database, read-only, locked).\n",
        EVAL_RECALIBRATE_BELOW);
}

/* The subtree of v in Newick form (children in index order) into b. */
static void newick(const edrmm_tree *t, int v, char *b, size_t n)
{
    size_t len = strlen(b);
    if (v < t->K) {
        snprintf(b + len, n - len, "%d", v);
        return;
    }
    snprintf(b + len, n - len, "(");
    int first = 1;
    for (int u = 0; u < t->n_nodes; u++)
        if (t->parent[u] == v) {
            if (!first) {
                len = strlen(b);
                snprintf(b + len, n - len, ",");
            }
            first = 0;
            newick(t, u, b, n);
        }
    len = strlen(b);
    snprintf(b + len, n - len, ")");
}

static int run_edrmm(const edrmm_options *o, err_t *e)
{
    store *st = NULL;
    run_model rm;
    int have_rm = 0, rcode = -1;
    dataset d;
    split_data train, test;
    edrmm_tree t;
    memset(&d, 0, sizeof d);
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    memset(&t, 0, sizeof t);
    float *tmpl = NULL, *probs = NULL;
    drmm_acts *A = NULL;
    int *counts = NULL, *pred = NULL, *n_leaves = NULL;
    long *arrived = NULL, *right = NULL;
    unsigned char *in = NULL;
    double t0 = clock_seconds();
    if (store_open(o->store_path, STORE_MUSTEXIST, &st, e))
        return -1;
    if (run_model_open(st, o->run_id, o->checkpoint_id, o->threads, &rm, e))
        goto done;
    have_rm = 1;
    const arch *a = &rm.arch;
    const int K = a->classes, P = a->channels * a->height * a->width;
    if (K < 2) {
        err_input(e, "run %" PRId64 ": a model of %d class has no class tree", o->run_id, K);
        goto done;
    }
    /* BN statistics as evaluate re-estimates them (its default image count), so that flat inference here
     * is the model's evaluated one */
    eval_options eo;
    eval_options_default(&eo);
    int recal = rm.ckpt.step < EVAL_RECALIBRATE_BELOW;
    int n_load = recal && eo.recalibrate_images > o->template_images ? eo.recalibrate_images : o->template_images;
    if (store_get_dataset(st, rm.run.dataset, &d, e) ||
        split_data_load(&d, SPLIT_TRAIN, n_load, &train, e) ||
        split_data_load(&d, SPLIT_TEST, o->test_limit, &test, e))
        goto done;
    if (train.pixels != P || test.pixels != P) {
        err_input(e, "dataset %s does not match the run's architecture", rm.run.dataset);
        goto done;
    }
    if (train.n < 1 || test.n < 1) {
        err_input(e, "dataset %s has %d training and %d test images; the E-DRMM needs both", rm.run.dataset, train.n,
                  test.n);
        goto done;
    }
    if (recal && drmm_bn_recalibrate(rm.m, train.x, train.n < eo.recalibrate_images ? train.n : eo.recalibrate_images,
                                     rm.cfg.batch, e))
        goto done;
    const int n_tmpl = train.n < o->template_images ? train.n : o->template_images;
    const int N = 2 * K - 1;
    tmpl = malloc(sizeof(float) * (size_t)N * P);
    counts = malloc(sizeof(int) * K);
    probs = malloc(sizeof(float) * (size_t)test.n * K);
    pred = malloc(sizeof(int) * test.n);
    n_leaves = calloc(N, sizeof(int));
    arrived = malloc(sizeof(long) * N);
    right = malloc(sizeof(long) * N);
    if (!tmpl || !counts || !probs || !pred || !n_leaves || !arrived || !right) {
        err_set(e, "out of memory");
        goto done;
    }
    fprintf(stderr, "%s: run %" PRId64 ": class templates from %d training images\n", prog, o->run_id, n_tmpl);
    if (edrmm_templates(rm.m, train.x, n_tmpl, o->batch, tmpl, counts, e) ||
        edrmm_cluster(tmpl, K, P, &t, e) || edrmm_membership(&t, &in, e))
        goto done;
    /* internal nodes' templates: the mean of their classes' (the ancestor) */
    for (int v = K; v < N; v++) {
        float *tv = tmpl + (size_t)v * P;
        memset(tv, 0, sizeof(float) * P);
        for (int c = 0; c < K; c++)
            if (in[(size_t)v * K + c]) {
                n_leaves[v]++;
                for (int k = 0; k < P; k++)
                    tv[k] += tmpl[(size_t)c * P + k];
            }
        for (int k = 0; k < P; k++)
            tv[k] /= n_leaves[v];
    }
    for (int c = 0; c < K; c++)
        n_leaves[c] = 1;
    fprintf(stderr, "%s: run %" PRId64 ": classifying %d test images\n", prog, o->run_id, test.n);
    if (drmm_acts_create(rm.m, o->batch, &A, e))
        goto done;
    for (int i0 = 0; i0 < test.n; i0 += o->batch) {
        int rows = test.n - i0 < o->batch ? test.n - i0 : o->batch;
        if (drmm_predict(rm.m, A, test.x + (size_t)i0 * P, rows, probs + (size_t)i0 * K, e))
            goto done;
    }
    if (edrmm_classify(&t, probs, test.n, test.labels, pred, arrived, right, e))
        goto done;
    long flat_ok = 0, tree_ok = 0, agree = 0;
    for (int i = 0; i < test.n; i++) {
        int f = 0;
        for (int c = 1; c < K; c++)
            if (probs[(size_t)i * K + c] > probs[(size_t)i * K + f])
                f = c;
        flat_ok += f == test.labels[i];
        tree_ok += pred[i] == test.labels[i];
        agree += f == pred[i];
    }
    store_edrmm_tree row = {.run_id = o->run_id, .checkpoint_id = rm.ckpt.id, .n_classes = K, .n_nodes = N,
                            .linkage = "average", .rule = "mean-log-prob", .bn = recal ? "recalibrated" : "running",
                            .template_images = n_tmpl, .channels = a->channels, .height = a->height,
                            .width = a->width, .split = SPLIT_TEST, .n_images = test.n, .flat_correct = flat_ok,
                            .tree_correct = tree_ok, .agree = agree, .parent = t.parent, .height_of = t.height,
                            .n_leaves = n_leaves, .arrived = arrived, .routed_right = right,
                            .template_count = counts, .templates = tmpl};
    int64_t tree_id;
    if (store_put_edrmm_tree(st, &row, &tree_id, e))
        goto done;
    char nw[16384] = "";
    newick(&t, t.root, nw, sizeof nw);
    printf("edrmm run=%" PRId64 " tree=%" PRId64 " classes=%d images=%d flat_error_pct=%.2f tree_error_pct=%.2f "
           "agree_pct=%.2f newick=%s;\n", o->run_id, tree_id, K, test.n, 100.0 * (test.n - flat_ok) / test.n,
           100.0 * (test.n - tree_ok) / test.n, 100.0 * agree / test.n, nw);
    fprintf(stderr, "%s: run %" PRId64 ": tree %" PRId64 " written (%.1f s)\n", prog, o->run_id, tree_id,
            clock_seconds() - t0);
    rcode = 0;
done:
    drmm_acts_free(A);
    free(tmpl); free(counts); free(probs); free(pred); free(n_leaves); free(arrived); free(right); free(in);
    edrmm_tree_free(&t);
    split_data_free(&train);
    split_data_free(&test);
    dataset_free(&d);
    if (have_rm)
        run_model_close(&rm);
    store_close(st);
    return rcode;
}

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    edrmm_options o = {.template_images = 2000, .batch = 100};
    enum { O_STORE = 1000, O_RUN, O_CKPT, O_TMPL, O_LIMIT, O_BATCH, O_THREADS, O_HELP, O_VERSION };
    struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"run", required_argument, NULL, O_RUN},
        {"checkpoint", required_argument, NULL, O_CKPT}, {"template-images", required_argument, NULL, O_TMPL},
        {"test-limit", required_argument, NULL, O_LIMIT}, {"batch", required_argument, NULL, O_BATCH},
        {"threads", required_argument, NULL, O_THREADS}, {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: o.store_path = optarg; break;
        case O_RUN: if (cli_long(prog, "--run", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.run_id = v; break;
        case O_CKPT: if (cli_long(prog, "--checkpoint", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.checkpoint_id = v; break;
        case O_TMPL: if (cli_long(prog, "--template-images", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.template_images = (int)v; break;
        case O_LIMIT: if (cli_long(prog, "--test-limit", optarg, 0, INT_MAX, &v)) return EXIT_USAGE; o.test_limit = (int)v; break;
        case O_BATCH: if (cli_long(prog, "--batch", optarg, 1, 100000, &v)) return EXIT_USAGE; o.batch = (int)v; break;
        case O_THREADS: if (cli_long(prog, "--threads", optarg, 1, 256, &v)) return EXIT_USAGE; o.threads = (int)v; break;
        case 'h':
        case O_HELP: usage(stdout); return EXIT_OK;
        case O_VERSION: cli_print_version(prog); return EXIT_OK;
        default: fprintf(stderr, "%s: try --help\n", prog); return EXIT_USAGE;
        }
    }
    if (cli_no_operands(prog, argc, argv))
        return EXIT_USAGE;
    if (!o.store_path || !o.run_id) {
        fprintf(stderr, "%s: --store FILE and --run RUN_ID are required; try --help\n", prog);
        return EXIT_USAGE;
    }
    blas_kernel_report(prog, 0);
    openblas_set_num_threads(1);
    err_t e = {.msg = ""};
    if (run_edrmm(&o, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        return cli_exit_status(&e);
    }
    return EXIT_OK;
}
