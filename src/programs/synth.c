/* bin/synth: renders the built-in synthetic dataset (src/render/synth.h) and
 * writes it as PNG files plus a latents CSV, a contact sheet and per-latent
 * histograms.  Storing it in the SQLite store is bin/ingest's job (it calls
 * the same synth_render).  Summary on stdout, progress on stderr. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bins.h"
#include "blas_kernel.h"
#include "clock.h"
#include "dataset.h"
#include "decoding.h"
#include "cli.h"
#include "error.h"
#include "exitcodes.h"
#include "histogram.h"
#include "pngio.h"
#include "sheet.h"
#include "synth.h"

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: synth [options]\n"
        "Renders grayscale images of ten 3D object classes (CIFAR-10's names) with known\n"
        "nuisance latents (slant, tilt, x, y, depth, light, background, shape; see\n"
        "src/render/synth.h) and writes them out.  At least one output is required.\n"
        "\n"
        "Outputs:\n"
        "  --png-dir DIR        write DIR/NNNNN.png, DIR/latents.csv (file,label,split,<latents>;\n"
        "                       label an integer, split train/test), DIR/classes.txt and\n"
        "                       DIR/scene.txt (the preset and its constants, for blender_render.py)\n"
        "  --sheet FILE.png     contact sheet: one row per class, --per-class examples\n"
        "  --per-class K        examples per class on the sheet (default 12)\n"
        "  --zoom Z             sheet enlargement (default 3)\n"
        "  --hist-dir DIR       one histogram PNG per latent: DIR/hist_<latent>.png\n"
        "  --export-meshes DIR  write the procedural families as DIR/<class>_v<k>.obj (shape\n"
        "                       proportions 0.5) for --mesh-dir and datasets/blender_render.py\n"
        "  --decode N           raw-pixel decoding of each latent from the first N test images\n"
        "                       (PCA 10 components of the pixels, 10 equal-frequency bins, softmax\n"
        "                       regression, 5-fold cross-validation: as bin/analysis does for a layer);\n"
        "                       prints the error per latent against chance (0.90)\n"
        "Data:\n"
        "  --count N            images in all (default 60000)\n"
        "  --test N             of which test images (default N/6, i.e. 10000 of 60000)\n"
        "  --size WxH | N       image size (default 32x32; 8..1024)\n"
        "  --supersample S      S x S samples per pixel (default 4; 1..16)\n"
        "  --seed N             random seed (default 1)\n"
        "  --threads T          worker threads (default 2); output does not depend on T\n"
        "  --mesh-dir DIR       load <class>*.obj meshes from DIR (classes without a file\n"
        "                       keep their procedural family)\n"
        "  --preset NAME        the scene: room2 (default; studio inside a dark backdrop that is\n"
        "                       brighter towards a window fixed in the world, so the\n"
        "                       background follows the view; window 48 degrees up, x and y\n"
        "                       wider), room (the same with the window 60 degrees up, the\n"
        "                       backdrop dimmer, x and y narrower), studio (the object scaled to a\n"
        "                       common silhouette area and centred on it, lit from the sky,\n"
        "                       distinct families with darker parts, black background), framed (the\n"
        "                       object is the subject, plain background) or clutter (the first\n"
        "                       scene: small objects on a textured background); room, studio,\n"
        "                       framed and clutter render byte-identically to before; the range\n"
        "                       flags below change the preset's ranges, whatever their order\n"
        "  --flat-background    no gradient or noise in the background\n"
        "  --haze H             aerial perspective: at depth d the object's shade moves towards\n"
        "                       the background by min(0.9, H * (d - 2)) (0..1; default: the\n"
        "                       preset's, src/render/synth.h), applied after the preset\n"
        "  --slant A:B, --tilt A:B, --x A:B, --y A:B, --depth A:B,\n"
        "  --light-azimuth A:B, --light-elevation A:B, --ambient A:B, --albedo A:B,\n"
        "  --bg-level A:B, --bg-gradient A:B, --bg-noise A:B\n"
        "                       latent ranges (degrees, image half-widths, object radii,\n"
        "                       intensities in [0, 1]); defaults: the preset's (src/render/synth.h)\n"
        "  -q, --quiet          no progress on stderr\n"
        "  -h, --help, -V, --version\n"
        "\n"
        "Exit status: 0 ok, 1 runtime or I/O failure (unwritable output, unreadable mesh\n"
        "directory), 2 usage error (bad flag, invalid size, count or range), 3 invalid\n"
        "input (a malformed .obj file or one named for no class in --mesh-dir).\n");
}

static int parse_int(const char *s, const char *flag, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "synth: %s '%s': expected an integer in %ld..%ld\n", flag, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_range(const char *s, const char *flag, synth_range *r)
{
    char *end;
    errno = 0;
    double a = strtod(s, &end);
    if (end == s || *end != ':' || errno) {
        fprintf(stderr, "synth: %s '%s': expected MIN:MAX\n", flag, s);
        return -1;
    }
    const char *t = end + 1;
    double b = strtod(t, &end);
    if (end == t || *end || errno || !isfinite(a) || !isfinite(b)) {
        fprintf(stderr, "synth: %s '%s': expected MIN:MAX\n", flag, s);
        return -1;
    }
    r->min = (float)a;
    r->max = (float)b;
    return 0;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "synth: cannot create directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "synth: %s exists and is not a directory\n", dir);
        return -1;
    }
    return 0;
}

static void progress(long done, long total, void *arg)
{
    (void)arg;
    fprintf(stderr, "\rsynth: rendered %ld / %ld", done, total);
    if (done == total)
        fprintf(stderr, "\n");
}

static int write_png_dir(const char *dir, const dataset *d, const synth_config *cfg, err_t *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/latents.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return err_set(e, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "file,label,split");
    for (int k = 0; k < d->n_latents; k++)
        fprintf(f, ",%s", d->latent_names[k]);
    fprintf(f, "\n");
    int digits = d->n > 100000 ? 7 : 5;
    long isz = dataset_image_size(d);
    for (int i = 0; i < d->n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%0*d.png", digits, i);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (png_write(path, d->pixels + i * isz, d->width, d->height, d->channels, e) != 0) {
            fclose(f);
            return -1;
        }
        fprintf(f, "%s,%d,%s", name, d->labels[i], d->split[i] == SPLIT_TRAIN ? "train" : "test");
        for (int k = 0; k < d->n_latents; k++)
            fprintf(f, ",%.9g", d->latents[(size_t)i * d->n_latents + k]);
        fprintf(f, "\n");
    }
    if (ferror(f) | (fclose(f) != 0)) {
        snprintf(path, sizeof path, "%s/latents.csv", dir);
        return err_set(e, "%s: write failed (disk full?)", path);
    }
    /* The scene constants that are not latents, for datasets/blender_render.py. */
    snprintf(path, sizeof path, "%s/scene.txt", dir);
    f = fopen(path, "w");
    if (!f)
        return err_set(e, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "preset %s\nhaze %.9g\n", synth_preset_name(cfg->preset), cfg->haze);
    if (cfg->light_world || cfg->size_silhouette)
        fprintf(f, "light_world %d\nsky_floor %.9g\nsilhouette %d\nmax_silhouette_scale %.9g\n", cfg->light_world,
                SYNTH_SKY_FLOOR, cfg->size_silhouette, SYNTH_MAX_SILHOUETTE_SCALE);
    if (cfg->backdrop > 0)
        fprintf(f, "backdrop %.9g\nwindow_azimuth %.9g\nwindow_elevation %.9g\n", cfg->backdrop,
                SYNTH_WINDOW_AZIMUTH, cfg->window_elevation);
    if (ferror(f) | (fclose(f) != 0))
        return err_set(e, "%s: write failed", path);
    snprintf(path, sizeof path, "%s/classes.txt", dir);
    f = fopen(path, "w");
    if (!f)
        return err_set(e, "%s: cannot create: %s", path, strerror(errno));
    for (int c = 0; c < d->n_classes; c++)
        fprintf(f, "%d %s\n", c, d->class_names[c]);
    if (ferror(f) | (fclose(f) != 0))
        return err_set(e, "%s: write failed", path);
    return 0;
}

/* Raw-pixel decoding of the five paper latents and the lighting from the
 * first n test images (the pixels scaled to [0, 1]), with the analysis'
 * defaults (decoding.h); a table on stdout. */
static int decode_pixels(const dataset *d, int n, err_t *e)
{
    static const int which[] = {SYNTH_SLANT, SYNTH_TILT, SYNTH_X, SYNTH_Y, SYNTH_DEPTH, SYNTH_LIGHT_AZIMUTH,
                                SYNTH_LIGHT_ELEVATION, SYNTH_BG_LEVEL};
    enum { NL = sizeof which / sizeof which[0] };
    long isz = dataset_image_size(d);
    int first = 0;
    while (first < d->n && d->split[first] != SPLIT_TEST)
        first++;
    if (d->n - first < n)
        return err_input(e, "--decode %d: only %d test images (raise --count or --test)", n, d->n - first);
    float *X = malloc(sizeof(float) * (size_t)n * isz), *lat[NL] = {0};
    int circ[NL], rc = -1;
    decoding_out out[NL];
    double explained = 0;
    if (!X)
        return err_set(e, "out of memory");
    for (long i = 0; i < (long)n * isz; i++)
        X[i] = d->pixels[(size_t)first * isz + i] / 255.0f;
    for (int j = 0; j < NL; j++) {
        if (!(lat[j] = malloc(sizeof(float) * n))) {
            err_set(e, "out of memory");
            goto done;
        }
        for (int i = 0; i < n; i++)
            lat[j][i] = d->latents[(size_t)(first + i) * d->n_latents + which[j]];
        circ[j] = bins_latent_is_circular(d->latent_names[which[j]]);
    }
    decoding_options o;
    decoding_options_default(&o);
    o.threads = 2;
    if (decoding_analyse(X, n, isz, (const float *const *)lat, circ, NL, &o, out, &explained, e) != 0)
        goto done;
    printf("raw-pixel decoding, %d test images, PCA %d (%.0f%% of the variance), %d equal-frequency bins, "
           "%d folds:\n", n, o.pca.k, 100 * explained, o.bins, o.folds);
    printf("  %-16s %8s %8s\n", "latent", "error", "chance");
    for (int j = 0; j < NL; j++)
        printf("  %-16s %7.1f%% %7.1f%%\n", d->latent_names[which[j]], 100 * out[j].error, 100 * out[j].chance);
    rc = 0;
done:
    free(X);
    for (int j = 0; j < NL; j++)
        free(lat[j]);
    return rc;
}

int main(int argc, char **argv)
{
    blas_kernel_setup(argv);
    synth_config cfg;
    synth_config_default(&cfg);
    const char *png_dir = NULL, *sheet = NULL, *hist_dir = NULL, *export_dir = NULL;
    int count = 60000, test = -1, per_class = 12, zoom = 3, quiet = 0, decode = 0;
    double haze = -1; /* --haze; < 0: the preset's */
    enum { O_PNG = 256, O_SHEET, O_PER, O_ZOOM, O_HIST, O_COUNT, O_TEST, O_SIZE, O_SS, O_SEED, O_THREADS,
           O_MESH, O_FLAT, O_SLANT, O_TILT, O_X, O_Y, O_DEPTH, O_LAZ, O_LEL, O_EXPORT, O_PRESET, O_AMB, O_ALB,
           O_BGL, O_BGG, O_BGN, O_DECODE, O_HAZE };
    /* Range flags are applied after the preset, whatever the order. */
    enum { N_RANGE_FLAGS = 12 };
    synth_range ranges[N_RANGE_FLAGS];
    int range_set[N_RANGE_FLAGS] = {0};
    static const struct option opts[] = {
        {"png-dir", required_argument, 0, O_PNG}, {"sheet", required_argument, 0, O_SHEET},
        {"per-class", required_argument, 0, O_PER}, {"zoom", required_argument, 0, O_ZOOM},
        {"hist-dir", required_argument, 0, O_HIST}, {"count", required_argument, 0, O_COUNT},
        {"test", required_argument, 0, O_TEST}, {"size", required_argument, 0, O_SIZE},
        {"supersample", required_argument, 0, O_SS}, {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, O_THREADS}, {"mesh-dir", required_argument, 0, O_MESH},
        {"flat-background", no_argument, 0, O_FLAT}, {"slant", required_argument, 0, O_SLANT},
        {"tilt", required_argument, 0, O_TILT}, {"x", required_argument, 0, O_X},
        {"y", required_argument, 0, O_Y}, {"depth", required_argument, 0, O_DEPTH},
        {"light-azimuth", required_argument, 0, O_LAZ}, {"light-elevation", required_argument, 0, O_LEL},
        {"export-meshes", required_argument, 0, O_EXPORT}, {"preset", required_argument, 0, O_PRESET},
        {"ambient", required_argument, 0, O_AMB}, {"albedo", required_argument, 0, O_ALB},
        {"bg-level", required_argument, 0, O_BGL}, {"bg-gradient", required_argument, 0, O_BGG},
        {"bg-noise", required_argument, 0, O_BGN}, {"decode", required_argument, 0, O_DECODE},
        {"haze", required_argument, 0, O_HAZE}, {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    int c;
    if (cli_check_options("synth", argc, argv, opts))
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "qhV", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_PNG: png_dir = optarg; break;
        case O_SHEET: sheet = optarg; break;
        case O_HIST: hist_dir = optarg; break;
        case O_EXPORT: export_dir = optarg; break;
        case O_PER: bad = parse_int(optarg, "--per-class", 1, 100, &per_class); break;
        case O_ZOOM: bad = parse_int(optarg, "--zoom", 1, 16, &zoom); break;
        case O_COUNT: bad = parse_int(optarg, "--count", 1, 10000000, &count); break;
        case O_TEST: bad = parse_int(optarg, "--test", 0, 10000000, &test); break;
        case O_SIZE: {
            int w, h;
            char tail;
            if (sscanf(optarg, "%dx%d%c", &w, &h, &tail) == 2) {
            } else if (sscanf(optarg, "%d%c", &w, &tail) == 1) {
                h = w;
            } else {
                fprintf(stderr, "synth: --size '%s': expected WxH or N\n", optarg);
                bad = -1;
                break;
            }
            if (w < 8 || w > 1024 || h < 8 || h > 1024) {
                fprintf(stderr, "synth: --size '%s': width and height must be 8..1024\n", optarg);
                bad = -1;
            }
            cfg.width = w;
            cfg.height = h;
            break;
        }
        case O_SS: bad = parse_int(optarg, "--supersample", 1, 16, &cfg.supersample); break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno || optarg[0] == '-') {
                fprintf(stderr, "synth: --seed '%s': expected a non-negative integer\n", optarg);
                bad = -1;
            }
            cfg.seed = s;
            break;
        }
        case O_THREADS: bad = parse_int(optarg, "--threads", 1, 256, &cfg.threads); break;
        case O_MESH: cfg.mesh_dir = optarg; break;
        case O_FLAT: cfg.flat_background = 1; break;
        case O_PRESET: {
            int p = synth_preset_parse(optarg);
            if (p < 0) {
                fprintf(stderr, "synth: --preset '%s': expected room2, room, studio, framed or clutter\n", optarg);
                bad = -1;
            } else {
                synth_config_preset(&cfg, p);
            }
            break;
        }
        case O_SLANT: case O_TILT: case O_X: case O_Y: case O_DEPTH: case O_LAZ: case O_LEL:
        case O_AMB: case O_ALB: case O_BGL: case O_BGG: case O_BGN: {
            int k = c < O_PRESET ? c - O_SLANT : 7 + c - O_AMB;
            char flag[40];
            for (const struct option *o = opts; o->name; o++)
                if (o->val == c)
                    snprintf(flag, sizeof flag, "--%s", o->name);
            bad = parse_range(optarg, flag, &ranges[k]);
            range_set[k] = 1;
            break;
        }
        case O_DECODE: bad = parse_int(optarg, "--decode", 20, 100000, &decode); break;
        case O_HAZE: {
            char *end;
            errno = 0;
            haze = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(haze >= 0 && haze <= 1)) {
                fprintf(stderr, "synth: --haze '%s': expected a number in 0..1\n", optarg);
                bad = 1;
            }
            break;
        }
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'V':
            cli_print_version("synth");
            return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
        if (bad)
            return EXIT_USAGE;
    }
    synth_range *fields[N_RANGE_FLAGS] = {&cfg.slant, &cfg.tilt, &cfg.x, &cfg.y, &cfg.depth,
                                          &cfg.light_azimuth, &cfg.light_elevation, &cfg.ambient, &cfg.albedo,
                                          &cfg.bg_level, &cfg.bg_gradient, &cfg.bg_noise};
    for (int k = 0; k < N_RANGE_FLAGS; k++)
        if (range_set[k])
            *fields[k] = ranges[k];
    if (haze >= 0)
        cfg.haze = haze;
    if (optind < argc) {
        fprintf(stderr, "synth: unexpected argument '%s' (see --help)\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (!png_dir && !sheet && !hist_dir && !export_dir && !decode) {
        fprintf(stderr, "synth: nothing to write: give --png-dir, --sheet, --hist-dir, --export-meshes and/or "
                        "--decode (see --help)\n");
        return EXIT_USAGE;
    }
    if (test < 0)
        test = (int)((count + 3) / 6);
    if (test > count) {
        fprintf(stderr, "synth: --test %d is more than --count %d\n", test, count);
        return EXIT_USAGE;
    }
    cfg.n_train = count - test;
    cfg.n_test = test;
    blas_kernel_report("synth", quiet);
    if (!quiet)
        cfg.progress = progress;

    err_t e = {0};
    if (synth_config_validate(&cfg, &e) != 0) {
        fprintf(stderr, "synth: %s\n", e.msg);
        return EXIT_USAGE;
    }
    /* Check outputs are writable before rendering for minutes. */
    if ((png_dir && make_dir(png_dir) != 0) || (hist_dir && make_dir(hist_dir) != 0) ||
        (export_dir && make_dir(export_dir) != 0))
        return EXIT_RUNTIME;
    if (export_dir) {
        if (synth_export_meshes(export_dir, cfg.preset, &e) != 0) {
            fprintf(stderr, "synth: %s\n", e.msg);
            return EXIT_RUNTIME;
        }
        printf("procedural meshes: %s/<class>_v<k>.obj\n", export_dir);
        if (!png_dir && !sheet && !hist_dir && !decode)
            return EXIT_OK;
    }
    int sheet_created = 0;
    if (sheet) {
        sheet_created = access(sheet, F_OK) != 0;
        FILE *f = fopen(sheet, "ab");
        if (!f) {
            fprintf(stderr, "synth: cannot write the contact sheet %s: %s\n", sheet, strerror(errno));
            return EXIT_RUNTIME;
        }
        fclose(f);
    }

    dataset d;
    double t0 = clock_seconds();
    if (synth_render(&cfg, &d, &e) != 0) {
        fprintf(stderr, "synth: %s\n", e.msg);
        if (sheet_created)
            remove(sheet); /* the empty file made by the writability check */
        return e.kind == ERR_INPUT ? EXIT_BADDATA : EXIT_RUNTIME;
    }
    double t1 = clock_seconds();
    int rc = EXIT_OK;
    if (png_dir && write_png_dir(png_dir, &d, &cfg, &e) != 0) {
        fprintf(stderr, "synth: %s\n", e.msg);
        rc = EXIT_RUNTIME;
        goto out;
    }
    if (sheet && sheet_write(sheet, &d, per_class, zoom, &e) != 0) {
        fprintf(stderr, "synth: %s\n", e.msg);
        rc = EXIT_RUNTIME;
        goto out;
    }
    if (hist_dir)
        for (int k = 0; k < d.n_latents; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/hist_%s.png", hist_dir, d.latent_names[k]);
            if (histogram_write(path, d.latent_names[k], d.latents + k, d.n, d.n_latents, 30, &e) != 0) {
                fprintf(stderr, "synth: %s\n", e.msg);
                rc = EXIT_RUNTIME;
                goto out;
            }
        }
    printf("rendered %d images (%d train, %d test) of %dx%d with %dx%d supersampling on %d threads "
           "in %.2f s (%.0f images/s)\n",
           d.n, cfg.n_train, cfg.n_test, cfg.width, cfg.height, cfg.supersample, cfg.supersample, cfg.threads,
           t1 - t0, d.n / (t1 - t0 > 0 ? t1 - t0 : 1e-9));
    if (png_dir)
        printf("images and latents: %s/latents.csv\n", png_dir);
    if (sheet)
        printf("contact sheet: %s\n", sheet);
    if (hist_dir)
        printf("histograms: %s/hist_<latent>.png\n", hist_dir);
    if (decode && decode_pixels(&d, decode, &e) != 0) {
        fprintf(stderr, "synth: %s\n", e.msg);
        rc = e.kind == ERR_INPUT ? EXIT_USAGE : EXIT_RUNTIME;
    }
out:
    dataset_free(&d);
    return rc;
}
