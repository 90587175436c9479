/* decode: writes the per-layer activations of a run's checkpoint on
 * held-out images with latents to the store, for `analysis` (see
 * src/run/decoder.h for what is stored and how). */
#include <cblas.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_kernel.h"
#include "decoder.h"
#include "cli.h"
#include "error.h"
#include "exitcodes.h"
#include "store.h"

static const char *prog = "decode";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: decode --store FILE --run RUN_ID [OPTIONS]\n"
        "Runs the bottom-up pass of a run's checkpoint (evaluation mode) on held-out (test) images that carry\n"
        "nuisance latents and writes each layer's activations to the store for `analysis`.  Meant for\n"
        "FINISHED runs; another status is decoded with a warning.\n"
        "\n"
        "  --store FILE         the SQLite experiment store (required)\n"
        "  --run RUN_ID         the run (required)\n"
        "  --checkpoint ID      a checkpoint of the run [the latest]\n"
        "  --layers LIST        comma-separated layers: conv1..convN (a conv block's output after BN and\n"
        "                       ReLU, before pooling) and scores (class scores) [all]\n"
        "  --samples N          decode the first N test images [2000]\n"
        "  --max-dims N         values stored per sample and layer; a larger layer is reduced by a fixed\n"
        "                       subsampled randomized Hadamard transform (inner products kept to about\n"
        "                       1/sqrt(N)); 0 stores every value [8192]\n"
        "  --projection-seed S  seed of that transform [1]\n"
        "  --bn auto|running|recalibrate\n"
        "                       BN statistics, as in evaluate: auto re-estimates them on training images\n"
        "                       for checkpoints of fewer than %d steps [auto]\n"
        "  --recalibrate-images N  training images for the re-estimation [10000]\n"
        "  --batch N            images per pass [100]\n"
        "  --threads N          worker threads [the run's]\n"
        "  --help, --version\n"
        "\n"
        "Storage: one byte per value with a per-sample scale (value = lo + step * byte), one transaction per\n"
        "layer; layers already decoded for the checkpoint are skipped, so a rerun does nothing.\n"
        "Output: 'run_id=N checkpoint_id=N samples=N layers_written=N layers_present=N bytes=N bn=... seconds=S'.\n"
        "Exit status: 0 ok, 1 runtime failure, 2 bad flags, 3 invalid input (unknown run, run without a\n"
        "checkpoint, dataset without latents, unknown layer name), 4 store problem (no such store: decode\n"
        "never creates one; a dataset or checkpoint that does not match its recorded SHA-256).\n", EVAL_RECALIBRATE_BELOW);
}

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    const char *store_path = NULL;
    decode_options o;
    decode_options_default(&o);
    enum { O_STORE = 1000, O_RUN, O_CKPT, O_LAYERS, O_SAMPLES, O_MAXDIMS, O_PSEED, O_BN, O_RECAL, O_BATCH,
           O_THREADS, O_HELP, O_VERSION };
    struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"run", required_argument, NULL, O_RUN},
        {"checkpoint", required_argument, NULL, O_CKPT}, {"layers", required_argument, NULL, O_LAYERS},
        {"samples", required_argument, NULL, O_SAMPLES}, {"max-dims", required_argument, NULL, O_MAXDIMS},
        {"projection-seed", required_argument, NULL, O_PSEED}, {"bn", required_argument, NULL, O_BN},
        {"recalibrate-images", required_argument, NULL, O_RECAL}, {"batch", required_argument, NULL, O_BATCH},
        {"threads", required_argument, NULL, O_THREADS},
        {"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: store_path = optarg; break;
        case O_RUN: if (cli_long(prog, "--run", optarg, 1, INT64_MAX, &v)) return EXIT_USAGE; o.run_id = v; break;
        case O_CKPT: if (cli_long(prog, "--checkpoint", optarg, 1, INT64_MAX, &v)) return EXIT_USAGE; o.checkpoint_id = v; break;
        case O_LAYERS: o.layers = optarg; break;
        case O_SAMPLES: if (cli_long(prog, "--samples", optarg, 2, 10000000, &v)) return EXIT_USAGE; o.samples = (int)v; break;
        case O_MAXDIMS: if (cli_long(prog, "--max-dims", optarg, 0, 1 << 24, &v)) return EXIT_USAGE; o.max_dims = (int)v; break;
        case O_PSEED: if (cli_long(prog, "--projection-seed", optarg, 0, INT64_MAX, &v)) return EXIT_USAGE; o.projection_seed = (uint64_t)v; break;
        case O_BN:
            if (!strcmp(optarg, "auto")) o.bn = EVAL_BN_AUTO;
            else if (!strcmp(optarg, "running")) o.bn = EVAL_BN_RUNNING;
            else if (!strcmp(optarg, "recalibrate")) o.bn = EVAL_BN_RECALIBRATE;
            else { fprintf(stderr, "%s: --bn %s: use auto, running or recalibrate\n", prog, optarg); return EXIT_USAGE; }
            break;
        case O_RECAL: if (cli_long(prog, "--recalibrate-images", optarg, 2, 10000000, &v)) return EXIT_USAGE; o.recalibrate_images = (int)v; break;
        case O_BATCH: if (cli_long(prog, "--batch", optarg, 2, 100000, &v)) return EXIT_USAGE; o.batch = (int)v; break;
        case O_THREADS: if (cli_long(prog, "--threads", optarg, 1, 256, &v)) return EXIT_USAGE; o.threads = (int)v; break;
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
    decode_result r;
    if (decode_run(st, &o, &r, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        code = cli_exit_status(&e);
    } else {
        if (strcmp(r.status, "FINISHED"))
            fprintf(stderr, "%s: warning: run %" PRId64 " is %s, not FINISHED: decoded its checkpoint %" PRId64 "\n",
                    prog, o.run_id, r.status, r.checkpoint_id);
        printf("run_id=%" PRId64 " checkpoint_id=%" PRId64 " samples=%d layers_written=%d layers_present=%d "
               "bytes=%lld bn=%s seconds=%.2f\n", o.run_id, r.checkpoint_id, r.samples, r.layers_written,
               r.layers_present, r.bytes, r.layers_written ? (r.recalibrated ? "recalibrated" : "running") : "-",
               r.seconds);
    }
    store_close(st);
    return code;
}
