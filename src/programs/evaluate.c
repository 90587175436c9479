/* evaluate: runs a run's checkpoint on a split of its dataset and writes an
 * evaluation (error, per-class errors, confusion matrix, reconstruction
 * error, per-sample predictions) to the store; prints a summary on stdout. */
#include <cblas.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_kernel.h"
#include "dataset.h"
#include "cli.h"
#include "error.h"
#include "evaluator.h"
#include "exitcodes.h"
#include "store.h"

static const char *prog = "evaluate";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: evaluate --store FILE --run RUN_ID [OPTIONS]\n"
        "Evaluates a run's checkpoint on a split of its dataset and stores the evaluation.\n"
        "\n"
        "  --store FILE         the SQLite experiment store (required)\n"
        "  --run RUN_ID         the run (required)\n"
        "  --checkpoint ID      a checkpoint of the run [the latest]\n"
        "  --split test|train   [test]\n"
        "  --bn auto|running|recalibrate\n"
        "                       BN statistics: the checkpoint's running averages, or re-estimated in one\n"
        "                       pass over training images; auto re-estimates for checkpoints of fewer\n"
        "                       than %d steps, whose running averages are not yet usable [auto]\n"
        "  --recalibrate-images N  training images for the re-estimation [10000]\n"
        "  --batch N            images per pass [100]\n"
        "  --limit N            evaluate only the first N images of the split [all]\n"
        "  --threads N          worker threads [the run's]\n"
        "  --no-predictions     do not store per-sample predictions\n"
        "  --grid FILE.png      also write a reconstruction grid: per class (a row), the first K\n"
        "                       images of the split each beside its reconstruction I-hat, both on the\n"
        "                       same scale ([0,1] -> black..white, clipped)\n"
        "  --grid-per-class K   images per class in the grid [4]\n"
        "  --help, --version\n"
        "\n"
        "Output: 'evaluation_id=N run_id=N checkpoint_id=N split=test images=N error=E recon_error=R x2=X\n"
        "xvar=V recon_true=T recon_wrong=W bn=running|recalibrated' on stdout: x2 = mean(I^2), the\n"
        "reconstruction error of rendering zero; xvar the images' variance about their channel means;\n"
        "recon_true, recon_wrong the reconstruction error rendering from the true class and a wrong one\n"
        "(recon_error renders from the predicted class).\n"
        "Exit status: 0 ok, 1 runtime failure, 2 bad flags, 3 invalid input (unknown run, no checkpoint),\n"
        "4 store problem (no such store: evaluate never creates one; not a database, locked, a dataset or\n"
        "checkpoint that does not match its recorded SHA-256).\n", EVAL_RECALIBRATE_BELOW);
}

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    const char *store_path = NULL;
    eval_options o;
    eval_options_default(&o);
    enum { O_STORE = 1000, O_RUN, O_CKPT, O_SPLIT, O_BN, O_RECAL, O_BATCH, O_LIMIT, O_THREADS, O_NOPRED, O_GRID, O_GRIDK, O_HELP, O_VERSION };
    struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"run", required_argument, NULL, O_RUN},
        {"checkpoint", required_argument, NULL, O_CKPT}, {"split", required_argument, NULL, O_SPLIT},
        {"bn", required_argument, NULL, O_BN}, {"recalibrate-images", required_argument, NULL, O_RECAL},
        {"batch", required_argument, NULL, O_BATCH}, {"limit", required_argument, NULL, O_LIMIT},
        {"threads", required_argument, NULL, O_THREADS}, {"no-predictions", no_argument, NULL, O_NOPRED},
        {"grid", required_argument, NULL, O_GRID}, {"grid-per-class", required_argument, NULL, O_GRIDK},
        {"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: store_path = optarg; break;
        case O_RUN: if (cli_long(prog, "--run", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.run_id = v; break;
        case O_CKPT: if (cli_long(prog, "--checkpoint", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.checkpoint_id = v; break;
        case O_SPLIT:
            if (!strcmp(optarg, "test")) o.split = SPLIT_TEST;
            else if (!strcmp(optarg, "train")) o.split = SPLIT_TRAIN;
            else { fprintf(stderr, "%s: --split %s: use test or train\n", prog, optarg); return EXIT_USAGE; }
            break;
        case O_BN:
            if (!strcmp(optarg, "auto")) o.bn = EVAL_BN_AUTO;
            else if (!strcmp(optarg, "running")) o.bn = EVAL_BN_RUNNING;
            else if (!strcmp(optarg, "recalibrate")) o.bn = EVAL_BN_RECALIBRATE;
            else { fprintf(stderr, "%s: --bn %s: use auto, running or recalibrate\n", prog, optarg); return EXIT_USAGE; }
            break;
        case O_RECAL: if (cli_long(prog, "--recalibrate-images", optarg, 2, INT_MAX, &v)) return EXIT_USAGE; o.recalibrate_images = (int)v; break;
        case O_BATCH: if (cli_long(prog, "--batch", optarg, 2, INT_MAX, &v)) return EXIT_USAGE; o.batch = (int)v; break;
        case O_LIMIT: if (cli_long(prog, "--limit", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.limit = (int)v; break;
        case O_THREADS: if (cli_long(prog, "--threads", optarg, 1, 256, &v)) return EXIT_USAGE; o.threads = (int)v; break;
        case O_NOPRED: o.store_predictions = 0; break;
        case O_GRID: o.grid_path = optarg; break;
        case O_GRIDK: if (cli_long(prog, "--grid-per-class", optarg, 1, 64, &v)) return EXIT_USAGE; o.grid_per_class = (int)v; break;
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
    if (!store_path || !o.run_id) {
        fprintf(stderr, "%s: --store FILE and --run RUN_ID are required; try --help\n", prog);
        return EXIT_USAGE;
    }
    blas_kernel_report(prog, 0);
    openblas_set_num_threads(1);
    err_t e = {.msg = ""};
    store *st;
    int code = EXIT_OK;
    if (store_open(store_path, STORE_MUSTEXIST, &st, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        return store_fail_kind() == STORE_FAIL_STORE ? EXIT_STORE : EXIT_RUNTIME;
    }
    eval_result r;
    if (evaluate_run(st, &o, &r, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        code = cli_exit_status(&e);
    } else {
        printf("evaluation_id=%" PRId64 " run_id=%" PRId64 " checkpoint_id=%" PRId64 " step=%ld split=%s images=%d "
               "error=%.4f recon_error=%.6g x2=%.6g xvar=%.6g recon_true=%.6g recon_wrong=%.6g bn=%s seconds=%.2f\n",
               r.evaluation_id, o.run_id, r.checkpoint_id, r.checkpoint_step, o.split == SPLIT_TEST ? "test" : "train",
               r.n, r.error, r.recon_error, r.x2, r.xvar, r.recon_true, r.recon_wrong,
               r.recalibrated ? "recalibrated" : "running", r.seconds);
    }
    store_close(st);
    return code;
}
