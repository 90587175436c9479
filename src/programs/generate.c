/* generate: the generative side of a trained run, drawn as figures with a
 * Markdown fragment for the report (src/run/generator.h): samples per class
 * (switches drawn from their frequencies in the training data), closed-form
 * activity-maximising images against gradient ascent, and units of every
 * layer rendered to pixel space.  Reads the store, never writes it. */
#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blas_kernel.h"
#include "cli.h"
#include "clock.h"
#include "dataset.h"
#include "error.h"
#include "evaluator.h"
#include "exitcodes.h"
#include "generator.h"
#include "image_grid.h"
#include "run_model.h"
#include "split_data.h"
#include "store.h"

static const char *prog = "generate";

typedef struct gen_options {
    const char *store_path, *out_dir, *name, *label, *classes;
    int64_t run_id, checkpoint_id;
    uint64_t seed;
    int samples, stats_images, am_iters, am_steps, filter_images, filter_channels, threads, batch;
    double am_step;
} gen_options;

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: generate --store FILE --run RUN_ID --out-dir DIR [OPTIONS]\n"
        "Draws the generative side of a run's checkpoint: samples per class, activity-maximising images and\n"
        "units of every layer rendered to pixel space, as figures (PNG and SVG) with a Markdown fragment for\n"
        "`report --generated`.  Reads the store, never writes it.\n"
        "\n"
        "  --store FILE          the SQLite experiment store (required)\n"
        "  --run RUN_ID          the run (required)\n"
        "  --checkpoint ID       a checkpoint of the run [the latest]\n"
        "  --out-dir DIR         where the files go (created if missing; required)\n"
        "  --name NAME           the files' suffix: samples_NAME.png, actmax_NAME.png, units_NAME.png,\n"
        "                        generate_NAME.md [run<RUN_ID>]\n"
        "  --label TEXT          the model's name in titles [the run's name]\n"
        "  --classes LIST        comma-separated classes to draw [all]\n"
        "  --seed N              the samples' seed [1]\n"
        "  --samples N           samples per class [8]\n"
        "  --stats-images N      training images whose switches give the frequencies (and the BN\n"
        "                        re-estimation of a checkpoint of fewer than %d steps, as evaluate) [2000]\n"
        "  --am-iters N          closed form: iterations looking for the fixed point [30]\n"
        "  --am-steps N          gradient ascent: steps [100]\n"
        "  --am-step F           gradient ascent: step as a fraction of the norm [0.05]\n"
        "  --filter-images N     training images searched for each unit's strongest response [500]\n"
        "  --filter-channels N   channels of each layer drawn [8]\n"
        "  --threads N           worker threads [the run's]\n"
        "  --help, --version\n"
        "\n"
        "What is drawn (README, \"The generative side\"): a sample of class c renders c top-down through\n"
        "switches drawn per unit from how often they were on in the bottom-up passes of the training images\n"
        "the model assigns to c; the closed-form activity-maximising image is the class's template rendered\n"
        "through its own switches at norm r (the training images' mean norm), beside projected gradient\n"
        "ascent from the same start; a unit of layer l is rendered down through the switches of the image\n"
        "where its channel responds most.\n"
        "Output: one line per figure on stdout, and a line per class of the activity maximisation.\n"
        "Exit status: 0 ok, 1 runtime failure, 2 bad flags, 3 invalid input (unknown run or class, a run\n"
        "without a checkpoint, images that cannot be drawn), 4 store problem (no such store, not a database).\n",
        EVAL_RECALIBRATE_BELOW);
}

/* The classes to draw: all, or the list (each in [0, K)). */
static int parse_classes(const char *list, int K, int *out, int *n, err_t *e)
{
    *n = 0;
    if (!list) {
        for (int c = 0; c < K; c++)
            out[(*n)++] = c;
        return 0;
    }
    const char *p = list;
    while (*p) {
        char *end;
        errno = 0;
        long c = strtol(p, &end, 10);
        if (end == p || errno || (*end && *end != ','))
            return err_input(e, "--classes %s: expected comma-separated class numbers", list);
        if (c < 0 || c >= K)
            return err_input(e, "--classes: class %ld is not a class of this model (0..%d)", c, K - 1);
        if (*n == K)
            return err_input(e, "--classes %s: more than the model's %d classes", list, K);
        out[(*n)++] = (int)c;
        p = *end ? end + 1 : end;
    }
    if (!*n)
        return err_input(e, "--classes: no class given");
    return 0;
}

static const char *class_name(const dataset *d, int K, int c, char *buf, size_t n)
{
    if (d->n_classes == K && d->class_names && d->class_names[c] && *d->class_names[c])
        snprintf(buf, n, "%d %s", c, d->class_names[c]);
    else
        snprintf(buf, n, "class %d", c);
    return buf;
}

static int generate(const gen_options *o, err_t *e)
{
    store *st = NULL;
    run_model rm;
    int have_rm = 0;
    dataset d;
    split_data train;
    switch_stats ss;
    memset(&d, 0, sizeof d);
    memset(&train, 0, sizeof train);
    memset(&ss, 0, sizeof ss);
    drmm_acts *acts = NULL;
    float *imgs = NULL, *start = NULL, *cf = NULL, *ga = NULL, *cf2 = NULL, *pair = NULL;
    char (*names)[96] = NULL;
    const char **rnames = NULL;
    actmax_row *rc = NULL, *rg = NULL, *r2 = NULL;
    FILE *md = NULL;
    int *cls = NULL, ncls = 0, rcode = -1;
    char path[PATH_MAX], mdtmp[PATH_MAX + 8], mdpath[PATH_MAX], name[64], title[512];
    double t0 = clock_seconds();
    if (store_open(o->store_path, STORE_MUSTEXIST | STORE_READONLY, &st, e))
        return -1;
    if (run_model_open(st, o->run_id, o->checkpoint_id, o->threads, &rm, e))
        goto done;
    have_rm = 1;
    const arch *a = &rm.arch;
    const int K = a->classes, P = a->channels * a->height * a->width;
    if (a->channels != 1 && a->channels != 3) {
        err_input(e, "run %" PRId64 ": %d-channel images cannot be drawn (only gray or RGB)", o->run_id, a->channels);
        goto done;
    }
    cls = malloc(sizeof(int) * K);
    names = calloc(K > 64 ? K : 64, sizeof *names);
    rnames = calloc(K > 64 ? K : 64, sizeof *rnames);
    if (!cls || !names || !rnames) {
        err_set(e, "out of memory");
        goto done;
    }
    if (parse_classes(o->classes, K, cls, &ncls, e))
        goto done;
    if (store_get_dataset(st, rm.run.dataset, &d, e) ||
        split_data_load(&d, SPLIT_TRAIN, o->stats_images > o->filter_images ? o->stats_images : o->filter_images,
                        &train, e))
        goto done;
    if (train.pixels != P) {
        err_input(e, "dataset %s does not match the run's architecture", rm.run.dataset);
        goto done;
    }
    const int n_stats = train.n < o->stats_images ? train.n : o->stats_images;
    const int n_filt = train.n < o->filter_images ? train.n : o->filter_images;
    int recal = rm.ckpt.step < EVAL_RECALIBRATE_BELOW;
    if (recal && drmm_bn_recalibrate(rm.m, train.x, n_stats, rm.cfg.batch, e))
        goto done;
    snprintf(name, sizeof name, "%s", o->name);
    const char *label = o->label ? o->label : rm.run.name;
    if (cli_make_parent_dirs(strcat(strcpy(path, o->out_dir), "/x")) && errno != EEXIST) {
        err_set(e, "cannot create %s: %s", o->out_dir, strerror(errno));
        goto done;
    }
    snprintf(mdpath, sizeof mdpath, "%s/generate_%s.md", o->out_dir, name);
    snprintf(mdtmp, sizeof mdtmp, "%s.tmp", mdpath);
    md = fopen(mdtmp, "w");
    if (!md) {
        err_set(e, "cannot write %s: %s", mdtmp, strerror(errno));
        goto done;
    }
    char ck[160];
    snprintf(ck, sizeof ck, "run %" PRId64 ", checkpoint %" PRId64 " (step %ld)%s", o->run_id, rm.ckpt.id,
             rm.ckpt.step, recal ? ", BN statistics re-estimated on the training images" : "");

    /* ---- 1. samples ---- */
    if (switch_stats_collect(rm.m, train.x, n_stats, o->batch, &ss, e))
        goto done;
    imgs = malloc(sizeof(float) * (size_t)ncls * o->samples * P);
    if (!imgs) {
        err_set(e, "out of memory");
        goto done;
    }
    if (drmm_acts_create(rm.m, o->samples, &acts, e))
        goto done;
    int n_pooled = 0;
    for (int i = 0; i < ncls; i++) {
        int pooled;
        if (generate_samples(rm.m, acts, &ss, cls[i], o->samples, o->seed, imgs + (size_t)i * o->samples * P, &pooled, e))
            goto done;
        n_pooled += pooled;
        class_name(&d, K, cls[i], names[i], sizeof names[i]);
        if (pooled)
            strncat(names[i], " *", sizeof names[i] - strlen(names[i]) - 1);
        rnames[i] = names[i];
    }
    double smin = INFINITY, smax = -INFINITY, smean = 0;
    for (size_t k = 0; k < (size_t)ncls * o->samples * P; k++) {
        smin = fmin(smin, imgs[k]);
        smax = fmax(smax, imgs[k]);
        smean += imgs[k];
    }
    smean /= (double)ncls * o->samples * P;
    snprintf(title, sizeof title, "%s: samples by class (seed %llu), each stretched to its own range", label,
             (unsigned long long)o->seed);
    snprintf(path, sizeof path, "%s/samples_%s.png", o->out_dir, name);
    image_grid g1 = {.title = title, .rows = ncls, .cols = o->samples, .channels = a->channels, .height = a->height,
                     .width = a->width, .images = imgs, .row_names = rnames, .scale = IMAGE_SCALE_MINMAX};
    if (image_grid_write(&g1, path, e))
        goto done;
    printf("samples %s: %d classes x %d, seed %llu, switch frequencies from %d training images; pixel values "
           "%.4g..%.4g, mean %.4g\n", path, ncls, o->samples, (unsigned long long)o->seed, n_stats, smin, smax, smean);
    fprintf(md, "<!-- samples -->\n**%s** (%s): %d samples per class, seed %llu; switch frequencies from the "
                "bottom-up passes of the first %d training images, each under its inferred class%s; pixel values "
                "%.3g to %.3g (mean %.3g), each sample stretched to its own range.\n\n"
                "![samples of %s](samples_%s.png) ([SVG](samples_%s.svg))\n\n",
            label, ck, o->samples, (unsigned long long)o->seed, n_stats,
            n_pooled ? " (classes marked * had no image inferred as theirs and use every class's frequencies)" : "",
            smin, smax, smean, label, name, name);

    /* ---- 2. activity maximisation ---- */
    start = calloc((size_t)ncls * P, sizeof(float));
    cf = malloc(sizeof(float) * (size_t)ncls * P);
    ga = malloc(sizeof(float) * (size_t)ncls * P);
    cf2 = malloc(sizeof(float) * (size_t)ncls * P);
    pair = malloc(sizeof(float) * (size_t)ncls * 2 * P);
    rc = malloc(sizeof *rc * ncls);
    rg = malloc(sizeof *rg * ncls);
    r2 = malloc(sizeof *r2 * ncls);
    if (!start || !cf || !ga || !cf2 || !pair || !rc || !rg || !r2) {
        err_set(e, "out of memory");
        goto done;
    }
    double radius = 0;
    for (int i = 0; i < n_stats; i++) {
        double s2 = 0;
        for (int k = 0; k < P; k++) {
            s2 += (double)train.x[(size_t)i * P + k] * train.x[(size_t)i * P + k];
            start[k] += train.x[(size_t)i * P + k] / n_stats;
        }
        radius += sqrt(s2) / n_stats;
    }
    for (int i = 1; i < ncls; i++)
        memcpy(start + (size_t)i * P, start, sizeof(float) * P);
    if (actmax_closed_form(rm.m, cls, ncls, start, radius, o->am_iters, cf, rc, e) ||
        actmax_ascent(rm.m, cls, ncls, start, radius, o->am_steps, o->am_step, ga, rg, e) ||
        actmax_closed_form(rm.m, cls, ncls, ga, radius, o->am_iters, cf2, r2, e))
        goto done;
    for (int i = 0; i < ncls; i++) {
        memcpy(pair + (size_t)(2 * i) * P, cf + (size_t)i * P, sizeof(float) * P);
        memcpy(pair + (size_t)(2 * i + 1) * P, ga + (size_t)i * P, sizeof(float) * P);
        class_name(&d, K, cls[i], names[i], sizeof names[i]);
        rnames[i] = names[i];
    }
    static const char *const am_heads[2] = {"closed form", "gradient ascent"};
    snprintf(title, sizeof title, "%s: images of norm %.3g maximising each class score", label, radius);
    snprintf(path, sizeof path, "%s/actmax_%s.png", o->out_dir, name);
    image_grid g2 = {.title = title, .rows = ncls, .cols = 2, .channels = a->channels, .height = a->height,
                     .width = a->width, .images = pair, .row_names = rnames, .col_heads = am_heads,
                     .scale = IMAGE_SCALE_MINMAX};
    if (image_grid_write(&g2, path, e))
        goto done;
    printf("actmax %s: %d classes, norm %.6g, closed form up to %d iterations, gradient ascent %d steps of %g\n", path,
           ncls, radius, o->am_iters, o->am_steps, o->am_step);
    fprintf(md, "<!-- actmax -->\n**%s** (%s): norm r = %.4g (the mean norm of the first %d training images), "
                "both from their mean image; closed form up to %d iterations, gradient ascent %d steps of %g r.\n\n"
                "![activity maximisation of %s](actmax_%s.png) ([SVG](actmax_%s.svg))\n\n"
                "| class | score at the start | closed form: score | fixed point | gradient ascent: score | "
                "cosine (closed form, ascent) | ascent's end a closed form (cosine) |\n"
                "|---|---:|---:|---|---:|---:|---|\n",
            label, ck, radius, n_stats, o->am_iters, o->am_steps, o->am_step, label, name, name);
    for (int i = 0; i < ncls; i++) {
        double ab = 0, c2 = 0;
        for (int k = 0; k < P; k++) {
            ab += (double)cf[(size_t)i * P + k] * ga[(size_t)i * P + k];
            c2 += (double)cf2[(size_t)i * P + k] * ga[(size_t)i * P + k];
        }
        ab /= radius * radius;
        c2 /= radius * radius;
        char fp[96], end[64];
        if (rc[i].flat)
            snprintf(fp, sizeof fp, "no: the score is flat there (zero gradient)");
        else
            snprintf(fp, sizeof fp, rc[i].converged ? "yes, %d iterations" : "no (%d iterations)", rc[i].iterations);
        if (r2[i].flat)
            snprintf(end, sizeof end, "no: flat there");
        else
            snprintf(end, sizeof end, r2[i].converged ? "yes (%.4f)" : "no (%.4f)", c2);
        printf("actmax class %d: start %.6g closed-form %.6g fixed-point %s ascent %.6g cosine %.6f "
               "ascent-end-closed-form %s\n", cls[i], rc[i].start_score, rc[i].score, fp, rg[i].score, ab, end);
        fprintf(md, "| %s | %.4g | %.4g | %s | %.4g | %.3f | %s |\n", names[i], rc[i].start_score, rc[i].score, fp,
                rg[i].score, ab, end);
    }
    fprintf(md, "\n");

    /* ---- 3. units of every layer rendered to pixel space ---- */
    int nch = 0;   /* columns: the most channels drawn of a layer */
    for (int l = 0; l < a->nblocks; l++)
        if (a->blocks[l].g.cout > nch)
            nch = a->blocks[l].g.cout;
    if (nch > o->filter_channels)
        nch = o->filter_channels;
    free(imgs);
    imgs = calloc((size_t)a->nblocks * nch * P, sizeof(float));
    unsigned char *present = calloc((size_t)a->nblocks * nch, 1);
    unit_pick *picks = malloc(sizeof *picks * a->nblocks * nch);
    if (!imgs || !present || !picks) {
        free(present);
        free(picks);
        err_set(e, "out of memory");
        goto done;
    }
    int silent = 0;
    if (unit_images(rm.m, train.x, n_filt, o->batch, nch, imgs, picks, e)) {
        free(present);
        free(picks);
        goto done;
    }
    for (int l = 0; l < a->nblocks; l++) {
        for (int k = 0; k < nch && k < a->blocks[l].g.cout; k++) {
            present[l * nch + k] = 1;
            silent += !(picks[l * nch + k].activation > 0);
        }
        snprintf(names[l], sizeof names[l], "conv%d", l + 1);
        rnames[l] = names[l];
    }
    free(picks);
    snprintf(title, sizeof title, "%s: units of each layer rendered to pixels (0 mid-grey)", label);
    snprintf(path, sizeof path, "%s/units_%s.png", o->out_dir, name);
    image_grid g3 = {.title = title, .rows = a->nblocks, .cols = nch, .channels = a->channels, .height = a->height,
                     .width = a->width, .images = imgs, .row_names = rnames, .present = present,
                     .scale = IMAGE_SCALE_SYMMETRIC};
    int wrc = image_grid_write(&g3, path, e);
    free(present);
    if (wrc)
        goto done;
    printf("units %s: %d layers x up to %d channels, strongest responses over %d training images, %d channels "
           "never active\n", path, a->nblocks, nch, n_filt, silent);
    fprintf(md, "<!-- units -->\n**%s** (%s): channels 0-%d of each layer; each the unit of the channel most active "
                "over the first %d training images, rendered down through that image's switches%s.\n\n"
                "![units of %s rendered to pixels](units_%s.png) ([SVG](units_%s.svg))\n\n",
            label, ck, nch - 1, n_filt, silent ? " (some channels were never active: their unit at the first "
                                                 "image's strongest position, switch forced on)" : "",
            label, name, name);
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
    printf("markdown %s (%.1f s)\n", mdpath, clock_seconds() - t0);
    rcode = 0;
done:
    if (md) {
        fclose(md);
        remove(mdtmp);
    }
    free(imgs); free(start); free(cf); free(ga); free(cf2); free(pair); free(names); free(rnames);
    free(rc); free(rg); free(r2); free(cls);
    switch_stats_free(&ss);
    drmm_acts_free(acts);
    split_data_free(&train);
    dataset_free(&d);
    if (have_rm)
        run_model_close(&rm);
    store_close(st);
    return rcode;
}

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    gen_options o = {.seed = 1, .samples = 8, .stats_images = 2000, .am_iters = 30, .am_steps = 100,
                     .am_step = 0.05, .filter_images = 500, .filter_channels = 8, .batch = 100};
    enum { O_STORE = 1000, O_RUN, O_CKPT, O_OUT, O_NAME, O_LABEL, O_CLASSES, O_SEED, O_SAMPLES, O_STATS, O_AMI,
           O_AMS, O_AMSTEP, O_FIMG, O_FCH, O_THREADS, O_HELP, O_VERSION };
    struct option opts[] = {
        {"store", required_argument, NULL, O_STORE}, {"run", required_argument, NULL, O_RUN},
        {"checkpoint", required_argument, NULL, O_CKPT}, {"out-dir", required_argument, NULL, O_OUT},
        {"name", required_argument, NULL, O_NAME}, {"label", required_argument, NULL, O_LABEL},
        {"classes", required_argument, NULL, O_CLASSES}, {"seed", required_argument, NULL, O_SEED},
        {"samples", required_argument, NULL, O_SAMPLES}, {"stats-images", required_argument, NULL, O_STATS},
        {"am-iters", required_argument, NULL, O_AMI}, {"am-steps", required_argument, NULL, O_AMS},
        {"am-step", required_argument, NULL, O_AMSTEP}, {"filter-images", required_argument, NULL, O_FIMG},
        {"filter-channels", required_argument, NULL, O_FCH}, {"threads", required_argument, NULL, O_THREADS},
        {"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    char defname[64] = "";
    if (cli_check_options(prog, argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: o.store_path = optarg; break;
        case O_RUN: if (cli_long(prog, "--run", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.run_id = v; break;
        case O_CKPT: if (cli_long(prog, "--checkpoint", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.checkpoint_id = v; break;
        case O_OUT: o.out_dir = optarg; break;
        case O_NAME:
            if (!*optarg || strlen(optarg) > 48 || strpbrk(optarg, "/ \t\n")) {
                fprintf(stderr, "%s: --name %s: 1 to 48 characters, no slash or space\n", prog, optarg);
                return EXIT_USAGE;
            }
            o.name = optarg;
            break;
        case O_LABEL: o.label = optarg; break;
        case O_CLASSES: o.classes = optarg; break;
        case O_SEED: if (cli_long(prog, "--seed", optarg, 0, LONG_MAX, &v)) return EXIT_USAGE; o.seed = (uint64_t)v; break;
        case O_SAMPLES: if (cli_long(prog, "--samples", optarg, 1, 64, &v)) return EXIT_USAGE; o.samples = (int)v; break;
        case O_STATS: if (cli_long(prog, "--stats-images", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.stats_images = (int)v; break;
        case O_AMI: if (cli_long(prog, "--am-iters", optarg, 1, 100000, &v)) return EXIT_USAGE; o.am_iters = (int)v; break;
        case O_AMS: if (cli_long(prog, "--am-steps", optarg, 0, 100000, &v)) return EXIT_USAGE; o.am_steps = (int)v; break;
        case O_AMSTEP: {
            char *end;
            o.am_step = strtod(optarg, &end);
            if (end == optarg || *end || !(o.am_step > 0) || o.am_step > 10) {
                fprintf(stderr, "%s: --am-step %s: expected a number in (0, 10]\n", prog, optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case O_FIMG: if (cli_long(prog, "--filter-images", optarg, 1, INT_MAX, &v)) return EXIT_USAGE; o.filter_images = (int)v; break;
        case O_FCH: if (cli_long(prog, "--filter-channels", optarg, 1, 64, &v)) return EXIT_USAGE; o.filter_channels = (int)v; break;
        case O_THREADS: if (cli_long(prog, "--threads", optarg, 1, 256, &v)) return EXIT_USAGE; o.threads = (int)v; break;
        case 'h':
        case O_HELP: usage(stdout); return EXIT_OK;
        case O_VERSION: cli_print_version(prog); return EXIT_OK;
        default: fprintf(stderr, "%s: try --help\n", prog); return EXIT_USAGE;
        }
    }
    if (cli_no_operands(prog, argc, argv))
        return EXIT_USAGE;
    if (!o.store_path || !o.run_id || !o.out_dir) {
        fprintf(stderr, "%s: --store FILE, --run RUN_ID and --out-dir DIR are required; try --help\n", prog);
        return EXIT_USAGE;
    }
    if (!o.name) {
        snprintf(defname, sizeof defname, "run%" PRId64, o.run_id);
        o.name = defname;
    }
    blas_kernel_report(prog, 0);
    openblas_set_num_threads(1);
    err_t e = {.msg = ""};
    if (generate(&o, &e)) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        return cli_exit_status(&e);
    }
    return EXIT_OK;
}
