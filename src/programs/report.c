/* report: the Markdown report of an experiment grid (analysis/grid_report.h)
 * from the store's views: the paper's Tables 1, 2 and 5, the reconstruction
 * check, training and validation curves, per-class errors and confusion
 * matrices, nuisance decoding and every run's provenance, each table with its
 * SQL query (analysis/sql/) and a CSV file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas_kernel.h"
#include "cli.h"
#include "error.h"
#include "exitcodes.h"
#include "grid_report.h"
#include "store.h"

static const char *prog = "report";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: report --store FILE --dataset NAME [OPTIONS]\n"
        "Writes the report of an experiment grid: test error by model and labels (the paper's Table 1), the\n"
        "error reduction of each penalty (Table 2), DRMM +KL+NN against the CNN (Table 5) with a computed\n"
        "verdict, the reconstruction check (LRC against mean(I^2)) and grids, training curves and the error\n"
        "on the validation split by epoch (PNG and SVG, bands over the seeds), the test error of each class\n"
        "and the confusion matrices, the nuisance decoding of `analysis` (Figure 4), the E-DRMM of `edrmm` (the\n"
        "class tree of each run that has one, its test error against flat inference) and each run's\n"
        "configuration, data hash, git commit and runtime.  Every table is an SQL query over the store's\n"
        "views (shown in the report; built in from analysis/sql/NAME.sql, which make install copies to\n"
        "share/drmm/sql for sqlite3) and a CSV file NAME.csv next to it.  Runs belong to an experiment by\n"
        "name: EXPERIMENT/MODEL/nLABELS/sSEED, as the pipeline (make pipeline) names them; the model is\n"
        "read from each run's configuration.\n"
        "\n"
        "  --store FILE           the SQLite experiment store (required; must exist)\n"
        "  --dataset NAME         the dataset (required)\n"
        "  --experiment NAME      the experiment (the runs' name prefix) [the dataset's only one]\n"
        "  --out FILE.md          the report [reports/<dataset>/report.md]; CSV and PNG files next to it\n"
        "  --decoding FILE.md     the decoding report of `analysis` to link, with its decoding_<latent>.png\n"
        "  --grid RUN_ID:FILE.png a reconstruction grid of a run (evaluate --grid); repeatable, up to %d\n"
        "  --generated FILE.md    the figures of `generate` (its generate_NAME.md, in the report's directory):\n"
        "                         sections on samples, activity maximisation and units rendered to pixels;\n"
        "                         repeatable, up to %d\n"
        "  --rmm FILE.md          the figures of `rmm` (its rmm.md, in the report's directory): a section on\n"
        "                         the shallow Rendering Mixture Model\n"
        "  --well-below R         LRC counts as well below mean(I^2) when LRC / mean(I^2) < R [0.5]\n"
        "  --command TEXT         the command that made the report, to state in it\n"
        "  --notes TEXT           a paragraph for the report's summary (e.g. the profile)\n"
        "  --no-verdict REASON    mark the report as not meaningful (e.g. a smoke run: REASON says why) and\n"
        "                         draw no verdict from its numbers\n"
        "  --help, --version\n"
        "\n"
        "Output: 'report=FILE runs=N in_tables=N compared=N drmm_clearly_better=N drmm_runs=N recon_well_below=N'.\n"
        "Exit status: 0 ok, 1 runtime failure (e.g. unwritable output), 2 bad flags, 3 invalid input (unknown\n"
        "dataset or experiment, no runs, missing grid, decoding, generated or rmm file, such a file outside\n"
        "the report's directory), 4 store problem (missing, not a database, newer schema, locked).\n",
        GRID_REPORT_MAX_GRIDS, GRID_REPORT_MAX_GENERATED);
}

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    grid_report_spec sp = {.well_below = 0.5};
    const char *store_path = NULL, *dataset = NULL, *experiment = NULL, *out = NULL;
    enum { O_STORE = 1000, O_DATASET, O_EXPERIMENT, O_OUT, O_DECODING, O_GRID, O_WELL, O_COMMAND, O_NOTES,
           O_NO_VERDICT, O_GENERATED, O_RMM, O_HELP, O_VERSION };
    struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"dataset", required_argument, NULL, O_DATASET},
        {"experiment", required_argument, NULL, O_EXPERIMENT}, {"out", required_argument, NULL, O_OUT},
        {"decoding", required_argument, NULL, O_DECODING}, {"grid", required_argument, NULL, O_GRID},
        {"well-below", required_argument, NULL, O_WELL}, {"command", required_argument, NULL, O_COMMAND},
        {"notes", required_argument, NULL, O_NOTES}, {"no-verdict", required_argument, NULL, O_NO_VERDICT},
        {"generated", required_argument, NULL, O_GENERATED}, {"rmm", required_argument, NULL, O_RMM},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: store_path = optarg; break;
        case O_DATASET: dataset = optarg; break;
        case O_EXPERIMENT: experiment = optarg; break;
        case O_OUT: out = optarg; break;
        case O_DECODING: sp.decoding_md = optarg; break;
        case O_RMM: sp.rmm_md = optarg; break;
        case O_GRID: {
            char *colon = strchr(optarg, ':'), *end;
            errno = 0;
            long long id = colon ? strtoll(optarg, &end, 10) : 0;
            if (!colon || end != colon || errno || id < 1 || !colon[1]) {
                fprintf(stderr, "%s: --grid %s: expected RUN_ID:FILE.png\n", prog, optarg);
                return EXIT_USAGE;
            }
            if (sp.n_grids == GRID_REPORT_MAX_GRIDS) {
                fprintf(stderr, "%s: at most %d --grid\n", prog, GRID_REPORT_MAX_GRIDS);
                return EXIT_USAGE;
            }
            sp.grid_run[sp.n_grids] = id;
            sp.grid_png[sp.n_grids++] = colon + 1;
            break;
        }
        case O_WELL: {
            char *end;
            double v = strtod(optarg, &end);
            if (!*optarg || *end || !(v > 0) || !isfinite(v)) {
                fprintf(stderr, "%s: --well-below %s: expected a positive number\n", prog, optarg);
                return EXIT_USAGE;
            }
            sp.well_below = v;
            break;
        }
        case O_GENERATED:
            if (sp.n_generated == GRID_REPORT_MAX_GENERATED) {
                fprintf(stderr, "%s: at most %d --generated\n", prog, GRID_REPORT_MAX_GENERATED);
                return EXIT_USAGE;
            }
            sp.generated_md[sp.n_generated++] = optarg;
            break;
        case O_COMMAND: sp.command = optarg; break;
        case O_NOTES: sp.notes = optarg; break;
        case O_NO_VERDICT:
            if (!*optarg) {
                fprintf(stderr, "%s: --no-verdict needs a reason (e.g. 'a smoke run of 1 epoch')\n", prog);
                return EXIT_USAGE;
            }
            sp.no_verdict = optarg;
            break;
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
    if (!store_path || !dataset) {
        fprintf(stderr, "%s: --store FILE and --dataset NAME are required; try --help\n", prog);
        return EXIT_USAGE;
    }
    blas_kernel_report(prog, 0);
    if (access(store_path, F_OK) != 0) {
        fprintf(stderr, "%s: %s: no such store; run the pipeline (make pipeline) or ingest and train first\n", prog,
                store_path);
        return EXIT_STORE;
    }
    err_t e = {.msg = ""};
    store *st;
    if (store_open(store_path, 0, &st, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        return store_fail_kind() == STORE_FAIL_STORE ? EXIT_STORE : EXIT_RUNTIME;
    }
    int code = EXIT_OK;
    char **names = NULL;
    int n_names = 0;
    char md[4096];
    if (grid_report_experiments(store_db(st), dataset, &names, &n_names, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        code = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_STORE;
        goto done;
    }
    if (experiment) {
        int found = 0;
        for (int i = 0; i < n_names; i++)
            if (!strcmp(names[i], experiment)) found = 1;
        if (!found) {
            fprintf(stderr, "%s: dataset %s has no runs of experiment '%s' (experiments:", prog, dataset, experiment);
            for (int i = 0; i < n_names; i++)
                fprintf(stderr, "%s '%s'", i ? "," : "", names[i]);
            fprintf(stderr, "%s)\n", n_names ? "" : " none");
            code = EXIT_BADDATA;
            goto done;
        }
    } else if (n_names == 1) {
        experiment = names[0];
    } else {
        if (!n_names)
            fprintf(stderr, "%s: dataset %s has no runs; train some first (make pipeline)\n", prog, dataset);
        else {
            fprintf(stderr, "%s: dataset %s has runs of several experiments; choose one with --experiment:", prog,
                    dataset);
            for (int i = 0; i < n_names; i++)
                fprintf(stderr, "%s '%s'", i ? "," : "", names[i]);
            fprintf(stderr, "\n");
        }
        code = EXIT_BADDATA;
        goto done;
    }
    if (out)
        snprintf(md, sizeof md, "%s", out);
    else
        snprintf(md, sizeof md, "reports/%s/report.md", dataset);
    if (cli_make_parent_dirs(md)) {
        fprintf(stderr, "%s: cannot create the directory of %s: %s\n", prog, md, strerror(errno));
        code = EXIT_RUNTIME;
        goto done;
    }
    sp.store_path = store_path;
    sp.dataset = dataset;
    sp.experiment = experiment;
    sp.out_md = md;
    grid_report_outcome o;
    if (grid_report_write(store_db(st), &sp, &o, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        code = e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
        goto done;
    }
    printf("report=%s runs=%d in_tables=%d compared=%d drmm_clearly_better=%d drmm_runs=%d recon_well_below=%d\n", md,
           o.n_runs, o.n_ok, o.n_compared, o.n_clearly, o.n_drmm, o.n_recon_ok);
done:
    for (int i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    store_close(st);
    return code;
}
