/* ingest: reads a labelled image dataset (MNIST-format IDX, CIFAR-10 binary
 * batches, or a directory of PNG images with a CSV of labels and latents)
 * and stores it, with its content hash, in the experiment store.
 * Re-ingesting identical content is a no-op; the same name with different
 * content is refused unless --force.  Summary on stdout, progress and errors
 * on stderr; exit codes in src/core/exitcodes.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blas_kernel.h"
#include "clock.h"
#include "cifar.h"
#include "svhn.h"
#include "dataset.h"
#include "cli.h"
#include "error.h"
#include "exitcodes.h"
#include "idx.h"
#include "pngdir.h"
#include "store.h"
#include "synth.h"

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

static const char *prog = "ingest";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: ingest --store FILE [--name NAME] SOURCE [--force]\n"
        "Reads a labelled image dataset and stores it in the experiment store FILE\n"
        "(created if missing).\n"
        "\n"
        "SOURCE is one of:\n"
        "  --fashion-mnist[=DIR]   Fashion-MNIST IDX files in DIR (default " FASHION_MNIST_DIR ",\n"
        "                          Debian package dataset-fashion-mnist); name defaults to fashion-mnist\n"
        "  --mnist DIR             MNIST digits: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];\n"
        "                          name defaults to mnist\n"
        "  --idx-images F --idx-labels F [--idx-test-images F --idx-test-labels F]\n"
        "                          any IDX pair (raw or .gz) as the train split, optionally a test pair;\n"
        "                          --classes fashion|mnist|N names the classes (default mnist: 0..9)\n"
        "  --cifar10 DIR           CIFAR-10 binary batches: DIR/data_batch_1..5.bin, DIR/test_batch.bin\n"
        "                          (and DIR/batches.meta.txt for names); name defaults to cifar10\n"
        "  --svhn DIR              SVHN digits (format 2, 32x32 RGB): DIR/train_32x32.mat and DIR/test_32x32.mat\n"
        "                          from " SVHN_URL " (labels 1..10, 10 the digit 0, stored as\n"
        "                          the digit); name defaults to svhn\n"
        "  --png-dir DIR --csv F   PNG images (8-bit gray or RGB, same size) listed in a CSV with the header\n"
        "                          file,label[,split][,latent...]; --classes N fixes the label range\n"
        "                          (default: largest label + 1)\n"
        "  --synthetic             the built-in renderer of 3D objects with nuisance latents (src/render/synth.h):\n"
        "                          --n-train N --n-test N (default 50000 + 10000), --size S (32), --seed S,\n"
        "                          --supersample K (4), --threads T (2), --mesh-dir DIR (OBJ meshes instead of\n"
        "                          the procedural ones), --flat-background, --preset room2|room|studio|\n"
        "                          framed|clutter (the scene: room2, the default: studio inside a backdrop lit\n"
        "                          from a window; room: the same with a higher window and narrower x and y;\n"
        "                          studio: a common silhouette size and light from the sky; framed, the one\n"
        "                          before; clutter, the first scene); name defaults to\n"
        "                          synthetic\n"
        "\n"
        "Options:\n"
        "  --store FILE   the SQLite store (required)\n"
        "  --name NAME    dataset name in the store (required for --idx-* and --png-dir)\n"
        "  --force        replace a stored dataset of the same name whose content differs\n"
        "  --busy-timeout MS  how long to wait for another writer to release the store (default 10000)\n"
        "  --help         this help;  --version  version and git commit\n"
        "\n"
        "Re-ingesting identical content is a no-op.  Output: a summary (name, images per split,\n"
        "sha256, elapsed seconds) on stdout.\n"
        "\n"
        "Exit status: 0 ok (stored or already present), 1 runtime or I/O failure (missing or\n"
        "unreadable file), 2 usage error, 3 invalid input data (corrupt, truncated, bad CSV,\n"
        "labels out of range; or the name exists with different content and no --force),\n"
        "4 store problem (not a database, newer schema, locked, read-only, full).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "; see ingest --help\n");
    return EXIT_USAGE;
}

/* 0 if path is readable (a directory when dir), else prints why and returns -1. */
static int check_path(const char *path, int dir)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "%s: %s: %s; check the path\n", prog, path, strerror(errno));
        return -1;
    }
    if (dir && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: %s: not a directory; pass the directory that holds the files\n", prog, path);
        return -1;
    }
    if (!dir && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: %s: is a directory; pass a file\n", prog, path);
        return -1;
    }
    if (access(path, R_OK) < 0) {
        fprintf(stderr, "%s: %s: %s; check the permissions\n", prog, path, strerror(errno));
        return -1;
    }
    return 0;
}

/* dir/base.gz if it exists, else dir/base; into buf. */
static const char *idx_path(char *buf, size_t n, const char *dir, const char *base)
{
    snprintf(buf, n, "%s/%s.gz", dir, base);
    if (access(buf, F_OK) == 0)
        return buf;
    snprintf(buf, n, "%s/%s", dir, base);
    return buf;
}

static int store_exit(void)
{
    switch (store_fail_kind()) {
    case STORE_FAIL_STORE: return EXIT_STORE;
    case STORE_FAIL_CONFLICT: return EXIT_BADDATA;
    default: return EXIT_RUNTIME;
    }
}

enum { OPT_STORE = 256, OPT_NAME, OPT_FORCE, OPT_FASHION, OPT_MNIST, OPT_IDX_IMAGES, OPT_IDX_LABELS,
       OPT_IDX_TEST_IMAGES, OPT_IDX_TEST_LABELS, OPT_CLASSES, OPT_CIFAR, OPT_SVHN, OPT_PNG_DIR, OPT_CSV,
       OPT_SYNTH, OPT_N_TRAIN, OPT_N_TEST, OPT_SIZE, OPT_SEED, OPT_THREADS, OPT_SUPERSAMPLE, OPT_MESH_DIR,
       OPT_FLAT_BG, OPT_PRESET, OPT_BUSY, OPT_HELP, OPT_VERSION };

static void synth_progress(long done, long total, void *arg)
{
    (void)arg;
    fprintf(stderr, "\r%s: rendering %ld/%ld", prog, done, total);
    if (done == total)
        fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    static const struct option opts[] = {
        {"store", required_argument, NULL, OPT_STORE},
        {"name", required_argument, NULL, OPT_NAME},
        {"force", no_argument, NULL, OPT_FORCE},
        {"fashion-mnist", optional_argument, NULL, OPT_FASHION},
        {"mnist", required_argument, NULL, OPT_MNIST},
        {"idx-images", required_argument, NULL, OPT_IDX_IMAGES},
        {"idx-labels", required_argument, NULL, OPT_IDX_LABELS},
        {"idx-test-images", required_argument, NULL, OPT_IDX_TEST_IMAGES},
        {"idx-test-labels", required_argument, NULL, OPT_IDX_TEST_LABELS},
        {"classes", required_argument, NULL, OPT_CLASSES},
        {"cifar10", required_argument, NULL, OPT_CIFAR},
        {"svhn", required_argument, NULL, OPT_SVHN},
        {"png-dir", required_argument, NULL, OPT_PNG_DIR},
        {"csv", required_argument, NULL, OPT_CSV},
        {"synthetic", no_argument, NULL, OPT_SYNTH},
        {"n-train", required_argument, NULL, OPT_N_TRAIN},
        {"n-test", required_argument, NULL, OPT_N_TEST},
        {"size", required_argument, NULL, OPT_SIZE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"supersample", required_argument, NULL, OPT_SUPERSAMPLE},
        {"mesh-dir", required_argument, NULL, OPT_MESH_DIR},
        {"flat-background", no_argument, NULL, OPT_FLAT_BG},
        {"preset", required_argument, NULL, OPT_PRESET},
        {"busy-timeout", required_argument, NULL, OPT_BUSY},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0}};
    const char *store_file = NULL, *name = NULL, *fashion = NULL, *mnist = NULL, *cifar = NULL, *svhn = NULL;
    const char *png_dir = NULL, *csv = NULL, *classes = NULL;
    const char *idx_img = NULL, *idx_lab = NULL, *idx_timg = NULL, *idx_tlab = NULL;
    int force = 0, want_fashion = 0, want_synth = 0, synth_flags = 0, c;
    long v;
    int busy_ms = 10000;
    synth_config sc;
    synth_config_default(&sc);
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_STORE: store_file = optarg; break;
        case OPT_NAME: name = optarg; break;
        case OPT_FORCE: force = 1; break;
        case OPT_FASHION: want_fashion = 1; fashion = optarg ? optarg : FASHION_MNIST_DIR; break;
        case OPT_MNIST: mnist = optarg; break;
        case OPT_IDX_IMAGES: idx_img = optarg; break;
        case OPT_IDX_LABELS: idx_lab = optarg; break;
        case OPT_IDX_TEST_IMAGES: idx_timg = optarg; break;
        case OPT_IDX_TEST_LABELS: idx_tlab = optarg; break;
        case OPT_CLASSES: classes = optarg; break;
        case OPT_CIFAR: cifar = optarg; break;
        case OPT_SVHN: svhn = optarg; break;
        case OPT_PNG_DIR: png_dir = optarg; break;
        case OPT_CSV: csv = optarg; break;
        case OPT_SYNTH: want_synth = 1; break;
        case OPT_N_TRAIN:
            if (cli_long(prog, "--n-train", optarg, 0, 10000000, &v) < 0) return EXIT_USAGE;
            sc.n_train = (int)v; synth_flags = 1; break;
        case OPT_N_TEST:
            if (cli_long(prog, "--n-test", optarg, 0, 10000000, &v) < 0) return EXIT_USAGE;
            sc.n_test = (int)v; synth_flags = 1; break;
        case OPT_SIZE: {
            int w, h, k = 0;
            if (sscanf(optarg, "%dx%d%n", &w, &h, &k) == 2 && !optarg[k]) {
                sc.width = w; sc.height = h;
            } else if (sscanf(optarg, "%d%n", &w, &k) == 1 && !optarg[k]) {
                sc.width = sc.height = w;
            } else {
                fprintf(stderr, "%s: --size '%s' must be N or WxH, e.g. 32 or 64x48; see ingest --help\n", prog, optarg);
                return EXIT_USAGE;
            }
            synth_flags = 1; break;
        }
        case OPT_SEED:
            if (cli_long(prog, "--seed", optarg, 0, 2147483647L, &v) < 0) return EXIT_USAGE;
            sc.seed = (uint64_t)v; synth_flags = 1; break;
        case OPT_THREADS:
            if (cli_long(prog, "--threads", optarg, 1, 256, &v) < 0) return EXIT_USAGE;
            sc.threads = (int)v; synth_flags = 1; break;
        case OPT_SUPERSAMPLE:
            if (cli_long(prog, "--supersample", optarg, 1, 16, &v) < 0) return EXIT_USAGE;
            sc.supersample = (int)v; synth_flags = 1; break;
        case OPT_MESH_DIR: sc.mesh_dir = optarg; synth_flags = 1; break;
        case OPT_FLAT_BG: sc.flat_background = 1; synth_flags = 1; break;
        case OPT_PRESET:
            if (synth_config_preset(&sc, synth_preset_parse(optarg)) < 0) {
                fprintf(stderr, "%s: --preset '%s' must be room2, room, studio, framed or clutter; see ingest --help\n", prog, optarg);
                return EXIT_USAGE;
            }
            synth_flags = 1; break;
        case OPT_BUSY:
            if (cli_long(prog, "--busy-timeout", optarg, 0, 3600000, &v) < 0) return EXIT_USAGE;
            busy_ms = (int)v; break;
        case 'h':
        case OPT_HELP: usage(stdout); return EXIT_OK;
        case OPT_VERSION:
            cli_print_version(prog);
            return EXIT_OK;
        case '?':
            if (optopt)
                fprintf(stderr, "%s: option --%s needs a value or is unknown; see ingest --help\n", prog,
                        optopt >= OPT_STORE && optopt <= OPT_VERSION ? opts[optopt - OPT_STORE].name : "?");
            else
                fprintf(stderr, "%s: unknown option '%s'; see ingest --help\n", prog, argv[optind - 1]);
            return EXIT_USAGE;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!store_file)
        return usage_error("%s--store FILE is required", "");
    int nsrc = want_synth + want_fashion + !!mnist + !!cifar + !!svhn + !!png_dir + !!(idx_img || idx_lab || idx_timg || idx_tlab);
    if (nsrc != 1)
        return usage_error("%sgive exactly one source: --fashion-mnist, --mnist, --idx-images/--idx-labels, "
                           "--cifar10, --svhn, --png-dir/--csv or --synthetic", "");
    if (synth_flags && !want_synth)
        return usage_error("%s--n-train, --n-test, --size, --seed, --threads, --supersample, --mesh-dir, "
                           "--flat-background and --preset apply only to --synthetic", "");
    if (want_synth) {
        err_t ve;
        if (synth_config_validate(&sc, &ve) < 0) {
            fprintf(stderr, "%s: %s; see ingest --help\n", prog, ve.msg);
            return EXIT_USAGE;
        }
    }
    if ((idx_img || idx_lab || idx_timg || idx_tlab) && (!idx_img || !idx_lab || !idx_timg != !idx_tlab))
        return usage_error("%s--idx-images and --idx-labels go together (and so do --idx-test-images and "
                           "--idx-test-labels)", "");
    if (!!png_dir != !!csv)
        return usage_error("%s--png-dir and --csv go together", "");
    if (classes && !(idx_img || png_dir))
        return usage_error("%s--classes applies only to --idx-images and --png-dir", "");
    if (!name)
        name = want_fashion ? "fashion-mnist" : mnist ? "mnist" : cifar ? "cifar10" : svhn ? "svhn" : want_synth ? "synthetic" : NULL;
    if (!name || !*name)
        return usage_error("%s--name NAME is required for this source", "");
    const char *const *class_names = idx_mnist_classes;
    int n_classes = 0;
    if (classes) {
        char *end;
        if (strcmp(classes, "fashion") == 0)
            class_names = idx_fashion_mnist_classes, n_classes = 10;
        else if (strcmp(classes, "mnist") == 0)
            class_names = idx_mnist_classes, n_classes = 10;
        else if ((n_classes = (int)strtol(classes, &end, 10)) < 1 || *end || n_classes > (png_dir ? 65536 : 256))
            return usage_error("--classes '%s' must be fashion, mnist or a number of classes (1..256 for IDX)",
                               classes);
        else
            class_names = NULL;
    }

    blas_kernel_report(prog, 0);
    int rc = EXIT_RUNTIME;
    err_t e = {0};
    dataset d = {0};
    store *s = NULL;
    double t0 = clock_seconds();

    /* An existing store is opened first, so a bad store fails fast; a new
     * one is created only after the input has been read successfully. */
    if (access(store_file, F_OK) == 0 &&
        (store_open(store_file, 0, &s, &e) < 0 || store_set_busy_timeout(s, busy_ms, &e) < 0)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        store_close(s);
        return store_exit();
    }

    char p[4][4096], src[4200];
    if (want_fashion || mnist) {
        const char *dir = want_fashion ? fashion : mnist;
        if (check_path(dir, 1) < 0)
            goto done;
        idx_pair pairs[2] = {
            {idx_path(p[0], sizeof p[0], dir, "train-images-idx3-ubyte"),
             idx_path(p[1], sizeof p[1], dir, "train-labels-idx1-ubyte"), SPLIT_TRAIN},
            {idx_path(p[2], sizeof p[2], dir, "t10k-images-idx3-ubyte"),
             idx_path(p[3], sizeof p[3], dir, "t10k-labels-idx1-ubyte"), SPLIT_TEST}};
        for (int i = 0; i < 4; i++)
            if (check_path(p[i], 0) < 0)
                goto done;
        snprintf(src, sizeof src, "%s:%s", want_fashion ? "fashion-mnist" : "mnist", dir);
        fprintf(stderr, "%s: reading %s\n", prog, dir);
        if (idx_read(pairs, 2, want_fashion ? idx_fashion_mnist_classes : idx_mnist_classes, 10, src, &d, &e) < 0) {
            rc = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
            goto fail_msg;
        }
    } else if (idx_img) {
        idx_pair pairs[2] = {{idx_img, idx_lab, SPLIT_TRAIN}, {idx_timg, idx_tlab, SPLIT_TEST}};
        int np = idx_timg ? 2 : 1;
        for (int i = 0; i < np; i++)
            if (check_path(pairs[i].images, 0) < 0 || check_path(pairs[i].labels, 0) < 0)
                goto done;
        snprintf(src, sizeof src, "idx:%s", idx_img);
        fprintf(stderr, "%s: reading %s\n", prog, idx_img);
        if (idx_read(pairs, np, class_names, n_classes ? n_classes : 10, src, &d, &e) < 0) {
            rc = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
            goto fail_msg;
        }
    } else if (cifar) {
        if (check_path(cifar, 1) < 0)
            goto done;
        fprintf(stderr, "%s: reading %s\n", prog, cifar);
        if (cifar10_read_dir(cifar, &d, &e) < 0) {
            rc = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
            goto fail_msg;
        }
    } else if (svhn) {
        if (check_path(svhn, 1) < 0)
            goto done;
        fprintf(stderr, "%s: reading %s\n", prog, svhn);
        if (svhn_read_dir(svhn, &d, &e) < 0) {
            rc = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
            goto fail_msg;
        }
    } else if (want_synth) {
        if (sc.mesh_dir && check_path(sc.mesh_dir, 1) < 0)
            goto done;
        fprintf(stderr, "%s: rendering %d + %d synthetic images of %dx%d (scene %s)\n", prog, sc.n_train,
                sc.n_test, sc.width, sc.height, synth_preset_name(sc.preset));
        if (isatty(2)) {
            sc.progress = synth_progress;
            sc.progress_arg = NULL;
        }
        if (synth_render(&sc, &d, &e) < 0) {
            rc = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
            goto fail_msg;
        }
    } else {
        if (check_path(png_dir, 1) < 0 || check_path(csv, 0) < 0)
            goto done;
        fprintf(stderr, "%s: reading %s\n", prog, png_dir);
        if (pngdir_read(png_dir, csv, n_classes, &d, &e) < 0) {
            rc = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
            goto fail_msg;
        }
    }
    double t_read = clock_seconds();
    if (d.n <= 0) {   /* every reader refuses this itself; kept so an empty source never reaches the store */
        fprintf(stderr, "%s: %s: holds no images; nothing to store\n", prog, d.source ? d.source : name);
        rc = EXIT_BADDATA;
        goto done;
    }
    if (!s && (store_open(store_file, 0, &s, &e) < 0 || store_set_busy_timeout(s, busy_ms, &e) < 0)) {
        rc = store_exit();
        goto fail_msg;
    }
    fprintf(stderr, "%s: writing %d images to %s\n", prog, d.n, store_file);
    char sha[65];
    int outcome;
    if (store_put_dataset(s, name, &d, force, &outcome, sha, &e) < 0) {
        rc = store_exit();
        goto fail_msg;
    }
    int n_train = 0;
    for (int i = 0; i < d.n; i++)
        n_train += d.split[i] == SPLIT_TRAIN;
    double t1 = clock_seconds();
    printf("dataset  %s\n", name);
    printf("source   %s\n", d.source);
    printf("images   %d (train %d, test %d)\n", d.n, n_train, d.n - n_train);
    printf("shape    %dx%dx%d, %d classes, %d latents\n", d.channels, d.height, d.width, d.n_classes, d.n_latents);
    printf("sha256   %s\n", sha);
    printf("result   %s\n", outcome == STORE_PUT_UNCHANGED ? "unchanged: identical content already stored (no-op)"
                            : outcome == STORE_PUT_REPLACED ? "replaced (--force)" : "stored");
    printf("elapsed  %.2f s (read %.2f s, store %.2f s)\n", t1 - t0, t_read - t0, t1 - t_read);
    rc = EXIT_OK;
    goto done;
fail_msg:
    fprintf(stderr, "%s: %s\n", prog, e.msg);
done:
    store_close(s);
    dataset_free(&d);
    return rc;
}
