/* train: trains a DRMM (or, with --supervised-only, the plain CNN baseline)
 * on a dataset of the store, semi-supervised with a class-balanced labelled
 * subset; records the run, per-epoch metrics and checkpoints in the store.
 * Progress on stderr, the run id and final numbers on stdout. */
#include <cblas.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas_kernel.h"
#include "arch.h"
#include "arch_file.h"
#include "cli.h"
#include "clock.h"
#include "error.h"
#include "exitcodes.h"
#include "store.h"
#include "train_config.h"
#include "trainer.h"
#ifdef DRMM_MPI
#include "mpi_group.h"
#endif

#define EXIT_INTERRUPTED 130

#ifdef DRMM_MPI
static const char *prog = "train-mpi";
#else
static const char *prog = "train";
#endif
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: train --store FILE --dataset NAME --arch FILE --name RUN [--config FILE] [OPTIONS]\n"
        "       train --store FILE --resume RUN_ID\n"
        "Trains a Deep Rendering Mixture Model semi-supervised: every step has batch/2 labelled images\n"
        "(a class-balanced subset of --labels images, cycled) and batch/2 unlabelled ones (a shuffled pass\n"
        "over all training images).  --supervised-only trains the same network as a plain CNN on the\n"
        "labelled images (LH only).  The run, its configuration, metrics and checkpoints go to the store.\n"
        "\n"
        "  --store FILE      the SQLite experiment store (required)\n"
        "  --dataset NAME    dataset in the store (see: ingest)\n"
        "  --arch FILE       architecture file (archs/convsmall.arch, ...)\n"
        "  --name RUN        a name for the run\n"
        "  --config FILE     'key = value' lines with the keys below; flags override the file\n"
        "  --resume RUN_ID   continue an interrupted run from its last checkpoint, with its recorded\n"
        "                    configuration (no other options allowed)\n"
        "  --stop-after-steps N  stop like an interrupt (checkpoint, status INTERRUPTED) once N steps\n"
        "                    of the run are done: time-boxed sessions; continue with --resume\n"
        "  --quiet           no progress on stderr\n"
        "  --progress-file FILE  keep FILE up to date (at most once a second and after every epoch) with\n"
        "                    'STEP TOTAL_STEPS EPOCH EPOCHS EPOCHS_DONE' and the progress line (for make pipeline)\n"
        "  --help, --version\n"
        "\n"
        "Configuration (flag --key-name VALUE, config file key_name = VALUE; defaults in brackets):\n");
    train_config c;
    train_config_default(&c);
    for (int i = 0; i < train_config_count(); i++) {
        char flag[64], val[64];
        snprintf(flag, sizeof flag, "%s", train_config_key(i));
        for (char *p = flag; *p; p++)
            if (*p == '_')
                *p = '-';
        train_config_value(&c, i, val, sizeof val);
        fprintf(f, "  --%-18s %s [%s]\n", flag, train_config_help(i), val);
    }
    fprintf(f,
        "\n"
        "Data-parallel: bin/train-mpi (built when mpicc exists) is this program over MPI: under\n"
        "'mpirun -np N' every rank trains on 1/N of each step's labelled and unlabelled rows with the\n"
        "batch statistics and gradients summed over the ranks, which gives the losses of one process with\n"
        "the same batch (to float rounding); rank 0 alone writes the store, and the run gets a note with\n"
        "the number of ranks.  The batch's halves must be multiples of N; --resume works with any N.\n"
        "Threads: --threads N runs N workers over the batch (OpenBLAS itself runs one thread each); the\n"
        "same seed and thread count give bit-identical results.  OPENBLAS_CORETYPE chooses the BLAS kernel.\n"
        "Output: 'run_id=N status=... epochs=... lh=... lrc=... train_error=...' on stdout.\n"
        "Exit status: 0 finished, 1 runtime failure (e.g. a non-finite loss: the run is marked FAILED),\n"
        "2 bad flags, 3 invalid input (architecture, configuration, labels, unknown run), 4 store problem\n"
        "(no such store: train never creates one; not a database, locked, full, a dataset or checkpoint that\n"
        "does not match its recorded SHA-256, or the run is being trained by another process),\n"
        "130 interrupted by SIGINT/SIGTERM (a checkpoint is written; resume with --resume).\n");
}

typedef struct progress_state {
    int tty, quiet;
    const char *file;     /* --progress-file, or NULL */
    double last_write;    /* clock_seconds() of the last write of file */
} progress_state;

/* Replaces ps->file (through a temporary and rename, so a reader never sees
 * half a file) with the position and the progress line.  Failures are
 * ignored: progress is a convenience, never a reason to stop training. */
static void progress_write(progress_state *ps, const train_progress *p, const char *line)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", ps->file) >= (int)sizeof tmp)
        return;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    int epochs_done = p->epoch_done ? p->epoch : p->epoch - 1;
    int bad = fprintf(f, "%ld %ld %d %d %d\n%s\n", p->global_step, p->total_steps, p->epoch, p->epochs, epochs_done,
                      line) < 0;
    if (fclose(f) || bad || rename(tmp, ps->file))
        remove(tmp);
}

static void progress(const train_progress *p, void *arg)
{
    progress_state *ps = arg;
    double now = clock_seconds();
    int show = !ps->quiet && (ps->tty || p->epoch_done);
    int write = ps->file && (p->epoch_done || now - ps->last_write >= 1.0);
    if (!show && !write)
        return;
    char line[256];
    snprintf(line, sizeof line,
             "epoch %d/%d step %ld/%ld  loss %.4f  LH %.4f  LRC %.4f  LKL %.4f  LNN %.2e  err %.3f  %.0f img/s  ETA %.0fs",
             p->epoch, p->epochs, p->step, p->steps_per_epoch, p->mean.total, p->mean.lh, p->mean.lrc, p->mean.lkl,
             p->mean.lnn, p->train_error, p->images_per_s, p->eta_s);
    if (write) {
        progress_write(ps, p, line);
        ps->last_write = now;
    }
    if (!show)
        return;
    if (ps->tty)
        fprintf(stderr, "\r%s\033[K%s", line, p->epoch_done ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
}

static int fail(const err_t *e, int code)
{
    fprintf(stderr, "%s: %s\n", prog, e->msg);
    return code;
}

/* The program; group: the MPI ranks of bin/train-mpi, or NULL. */
static int train_main(int argc, char **argv, const train_group *group)
{
    const int rank0 = !group || group->rank == 0;
    blas_kernel_setup(argv);
    const char *store_path = NULL, *dataset = NULL, *arch_path = NULL, *run_name = NULL, *config_path = NULL;
    const char *resume = NULL, *progress_file = NULL;
    int quiet = 0;
    long stop_at = 0;
    enum { MAX_KEYS = 96, MAX_SET = 512 };
    int nk = train_config_count();
    static struct option opts[MAX_KEYS + 16];
    static char names[MAX_KEYS][48];
    static const char *set_keys[MAX_SET], *set_vals[MAX_SET];
    static int set_idx[MAX_SET];
    int nset = 0;
    if (nk > MAX_KEYS) {
        fprintf(stderr, "%s: internal error: too many configuration keys\n", prog);
        return EXIT_RUNTIME;
    }
    enum { O_STORE = 1000, O_DATASET, O_ARCH, O_NAME, O_CONFIG, O_RESUME, O_QUIET, O_HELP, O_VERSION, O_STOPAT,
           O_PROGRESS,
           O_KEY = 2000 };
    struct option fixed[] = {
        {"store", required_argument, NULL, O_STORE}, {"dataset", required_argument, NULL, O_DATASET},
        {"arch", required_argument, NULL, O_ARCH}, {"name", required_argument, NULL, O_NAME},
        {"config", required_argument, NULL, O_CONFIG}, {"resume", required_argument, NULL, O_RESUME},
        {"quiet", no_argument, NULL, O_QUIET}, {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION}, {"stop-after-steps", required_argument, NULL, O_STOPAT},
        {"progress-file", required_argument, NULL, O_PROGRESS},
    };
    int nf = (int)(sizeof fixed / sizeof fixed[0]);
    memcpy(opts, fixed, sizeof fixed);
    for (int i = 0; i < nk; i++) {
        snprintf(names[i], sizeof names[i], "%s", train_config_key(i));
        for (char *p = names[i]; *p; p++)
            if (*p == '_')
                *p = '-';
        opts[nf + i] = (struct option){names[i], required_argument, NULL, O_KEY + i};
    }
    int c;
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: store_path = optarg; break;
        case O_DATASET: dataset = optarg; break;
        case O_ARCH: arch_path = optarg; break;
        case O_NAME: run_name = optarg; break;
        case O_CONFIG: config_path = optarg; break;
        case O_RESUME: resume = optarg; break;
        case O_QUIET: quiet = 1; break;
        case O_PROGRESS: progress_file = optarg; break;
        case O_STOPAT: {
            char *end;
            stop_at = strtol(optarg, &end, 10);
            if (!*optarg || *end || stop_at < 1) {
                fprintf(stderr, "%s: --stop-after-steps %s: expected a positive integer\n", prog, optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'h':
        case O_HELP: usage(stdout); return EXIT_OK;
        case O_VERSION:
            cli_print_version(prog);
            return EXIT_OK;
        default:
            if (c >= O_KEY && c < O_KEY + nk && nset < MAX_SET) {
                set_idx[nset] = c - O_KEY;
                set_keys[nset] = train_config_key(c - O_KEY);
                set_vals[nset++] = optarg;
                break;
            }
            fprintf(stderr, "%s: try --help\n", prog);
            return EXIT_USAGE;
        }
    }
    if (cli_no_operands(prog, argc, argv))
        return EXIT_USAGE;
    if (!store_path) {
        fprintf(stderr, "%s: --store FILE is required; try --help\n", prog);
        return EXIT_USAGE;
    }
    int64_t resume_id = 0;
    if (resume) {
        char *end;
        resume_id = strtoll(resume, &end, 10);
        if (!*resume || *end || resume_id <= 0) {
            fprintf(stderr, "%s: --resume %s: expected a run id (a positive integer)\n", prog, resume);
            return EXIT_USAGE;
        }
        if (dataset || arch_path || run_name || config_path || nset) {  /* --stop-after-steps, --quiet, --progress-file are allowed */
            fprintf(stderr, "%s: --resume continues a run with its recorded configuration: give only --store and --resume\n", prog);
            return EXIT_USAGE;
        }
    } else if (!dataset || !arch_path || !run_name) {
        fprintf(stderr, "%s: --dataset, --arch and --name are required (or --resume RUN_ID); try --help\n", prog);
        return EXIT_USAGE;
    }

    err_t e = {.msg = ""};
    train_config cfg;
    train_config_default(&cfg);
    arch a;
    memset(&a, 0, sizeof a);
    if (!resume) {
        if (config_path && train_config_load(&cfg, config_path, &e))
            return fail(&e, EXIT_BADDATA);
        for (int i = 0; i < nset; i++)
            if (train_config_set(&cfg, set_keys[i], set_vals[i], &e)) {
                fprintf(stderr, "%s: --%s: %s\n", prog, names[set_idx[i]], e.msg);
                return EXIT_USAGE;
            }
        if (train_config_check(&cfg, &e))
            return fail(&e, EXIT_USAGE);
        if (arch_load(&a, arch_path, &e))
            return fail(&e, EXIT_BADDATA);
    }

    blas_kernel_report(prog, quiet || !rank0);
    openblas_set_num_threads(1);
    store *st;
    if (store_open(store_path, STORE_MUSTEXIST, &st, &e)) {
        arch_free(&a);
        return fail(&e, cli_exit_status(&e));
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    progress_state ps = {.tty = isatty(2), .quiet = quiet, .file = progress_file, .last_write = -1e9};
    train_hooks hooks = {.progress = (quiet && !progress_file) || !rank0 ? NULL : progress, .arg = &ps,
                         .stop = &stop_requested, .stop_at_step = stop_at, .argc = argc, .argv = argv,
                         .command = getenv("DRMM_PIPELINE_COMMAND"), .group = group};
    train_outcome out;
    int rc = resume ? trainer_resume(st, resume_id, &hooks, &out, &e)
                    : trainer_start(st, dataset, a.text, arch_path, run_name, &cfg, &hooks, &out, &e);
    int code = EXIT_OK;
    if (rc) {
        code = cli_exit_status(&e);
        fprintf(stderr, "%s: %s\n", prog, e.msg);
    } else if (!rank0) {
        code = out.status == TRAIN_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_OK;
    } else {
        printf("run_id=%" PRId64 " status=%s epochs=%d steps=%ld lh=%.6g lrc=%.6g lkl=%.6g lnn=%.6g loss=%.6g "
               "train_error=%.4f images_per_s=%.0f store_overhead=%.2f%%\n",
               out.run_id, out.status == TRAIN_FINISHED ? "FINISHED" : "INTERRUPTED", out.epochs_done, out.steps_done,
               out.last_epoch.lh, out.last_epoch.lrc, out.last_epoch.lkl, out.last_epoch.lnn, out.last_epoch.total,
               out.last_train_error, out.images_per_s,
               out.train_seconds > 0 ? 100 * out.store_seconds / out.train_seconds : 0.0);
        if (out.status == TRAIN_INTERRUPTED) {
            fprintf(stderr, "%s: interrupted; checkpoint written. Resume with: %s --store %s --resume %" PRId64 "\n",
                    prog, prog, store_path, out.run_id);
            code = EXIT_INTERRUPTED;
        }
    }
    store_close(st);
    arch_free(&a);
    return code;
}

int main(int argc, char **argv)
{
#ifdef DRMM_MPI
    train_group group;
    err_t e = {.msg = ""};
    if (mpi_group_init(&argc, &argv, &group, &e))
        return fail(&e, EXIT_RUNTIME);
    int code = train_main(argc, argv, &group);
    return mpi_group_finish(&group, code, code != EXIT_OK && code != EXIT_INTERRUPTED);
#else
    return train_main(argc, argv, NULL);
#endif
}
