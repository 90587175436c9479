/* Drives bin/synth as a user would: bad flags, sizes, counts and ranges exit
 * 2 with a clear message; unwritable outputs exit 1; --png-dir writes PNGs
 * and a CSV that the PNG-directory reader (src/io/pngdir.c) loads back with
 * the same pixels, labels, splits and latents as synth_render; the contact
 * sheet and histograms are readable PNGs.  Binaries are in $BIN (default bin). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "dataset.h"
#include "error.h"
#include "pngdir.h"
#include "pngio.h"
#include "synth.h"

static const char *bin;
static char dir[64];
static char out[8192]; /* stderr + stdout of the last run */

/* Runs "$BIN/synth ARGS", returns its exit status; output into out. */
static int run(const char *fmt, ...)
{
    char args[2048], cmd[4096], log[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    snprintf(cmd, sizeof cmd, "%s/synth %s >'%s' 2>&1", bin, args, log);
    int st = system(cmd);
    out[0] = 0;
    FILE *f = fopen(log, "r");
    if (f) {
        size_t n = fread(out, 1, sizeof out - 1, f);
        out[n] = 0;
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect(int want, const char *word, const char *args)
{
    int rc = run("%s", args);
    CHECK(rc == want && strstr(out, word) != NULL, "synth %s: exit %d (want %d), output: %s", args, rc, want, out);
}

int main(void)
{
    bin = getenv("BIN") && *getenv("BIN") ? getenv("BIN") : "bin";
    snprintf(dir, sizeof dir, "/tmp/test_synth_cli.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/synth", bin);
    if (access(path, X_OK) != 0) {
        printf("FAIL: %s not built (run make)\n", path);
        return 1;
    }

    expect(0, "Usage: synth", "--help");
    expect(0, "synth ", "--version");
    expect(2, "nothing to write", "--count 10");
    expect(2, "--count", "--count 0 --sheet /tmp/x.png");
    expect(2, "--count", "--count abc --sheet /tmp/x.png");
    expect(2, "--test 20 is more than --count 10", "--count 10 --test 20 --sheet /tmp/x.png");
    expect(2, "--size", "--size 4 --count 10 --sheet /tmp/x.png");
    expect(2, "--size", "--size 32x --count 10 --sheet /tmp/x.png");
    expect(2, "--supersample", "--supersample 0 --count 10 --sheet /tmp/x.png");
    expect(2, "--threads", "--threads 0 --count 10 --sheet /tmp/x.png");
    expect(2, "expected MIN:MAX", "--x 0.2 --count 10 --sheet /tmp/x.png");
    expect(2, "minimum above maximum", "--slant 40:10 --count 10 --sheet /tmp/x.png");
    expect(2, "depth range", "--depth 0.5:3 --count 10 --sheet /tmp/x.png");
    expect(2, "leave the frame", "--x -0.9:0.9 --count 10 --sheet /tmp/x.png");
    expect(2, "unknown option --frobnicate (try --help)", "--frobnicate");
    expect(2, "unexpected argument", "--count 10 --sheet /tmp/x.png extra");
    expect(1, "cannot write the contact sheet", "--count 10 --sheet /nonexistent-dir-drmm/s.png");
    expect(1, "cannot create directory", "--count 10 --png-dir /nonexistent-dir-drmm/sub");
    expect(1, "mesh directory", "-q --count 10 --sheet /tmp/x.png --mesh-dir /nonexistent-dir-drmm");

    {
        char meshdir[256], objp[300];
        snprintf(meshdir, sizeof meshdir, "%s/badmesh", dir);
        snprintf(objp, sizeof objp, "%s/horse.obj", meshdir);
        mkdir(meshdir, 0777);
        FILE *g = fopen(objp, "w");
        fputs("v 0 0 0\nf 1 2 3\n", g);
        fclose(g);
        char args[600];
        snprintf(args, sizeof args, "-q --count 10 --sheet %s/x.png --mesh-dir %s", dir, meshdir);
        expect(3, "horse.obj:2", args);
        snprintf(args, sizeof args, "--export-meshes %s/exported", dir);
        expect(0, "procedural meshes", args);
        snprintf(args, sizeof args, "-q --count 20 --sheet %s/x.png --mesh-dir %s/exported", dir, dir);
        expect(0, "contact sheet", args);
    }

    /* A small set as PNGs + CSV, sheet and histograms. */
    int rc = run("-q --count 60 --test 10 --seed 5 --png-dir %s/png --sheet %s/sheet.png --hist-dir %s/hist", dir, dir,
                 dir);
    CHECK(rc == 0 && strstr(out, "rendered 60 images (50 train, 10 test)"), "render: exit %d: %s", rc, out);
    char csv[512], pdir[512];
    snprintf(csv, sizeof csv, "%s/png/latents.csv", dir);
    snprintf(pdir, sizeof pdir, "%s/png", dir);
    FILE *f = fopen(csv, "r");
    char header[1024] = "";
    if (f) {
        if (!fgets(header, sizeof header, f))
            header[0] = 0;
        fclose(f);
    }
    const char *want = "file,label,split,slant,tilt,x,y,depth,light_azimuth,";
    CHECK(strncmp(header, want, strlen(want)) == 0, "header: %s", header);
    dataset d, ref;
    err_t e = {0};
    CHECK(pngdir_read(pdir, csv, 10, &d, &e) == 0, "pngdir_read: %s", e.msg);
    synth_config c;
    synth_config_default(&c);
    c.n_train = 50;
    c.n_test = 10;
    c.seed = 5;
    CHECK(synth_render(&c, &ref, &e) == 0, "synth_render: %s", e.msg);
    if (d.n == 60 && ref.n == 60) {
        CHECK(d.channels == 1 && d.width == 32 && d.height == 32, "read shape");
        CHECK(memcmp(d.pixels, ref.pixels, 60 * 1024) == 0, "pixels differ from synth_render");
        CHECK(memcmp(d.labels, ref.labels, 60 * sizeof(int)) == 0, "labels differ");
        CHECK(memcmp(d.split, ref.split, 60) == 0, "splits differ");
        CHECK(d.n_latents == SYNTH_N_LATENTS, "read %d latents", d.n_latents);
        int lat_same = d.n_latents == SYNTH_N_LATENTS;
        for (long i = 0; lat_same && i < 60L * SYNTH_N_LATENTS; i++)
            if (d.latents[i] != ref.latents[i])
                lat_same = 0;
        CHECK(lat_same, "latents differ after the CSV round trip");
        dataset_free(&d);
    } else {
        CHECK(0, "read %d images", d.n);
    }
    dataset_free(&ref);

    uint8_t *px = NULL;
    int w, h, ch;
    snprintf(path, sizeof path, "%s/sheet.png", dir);
    CHECK(png_read(path, &px, &w, &h, &ch, &e) == 0 && ch == 1 && w > 300 && h > 300, "sheet: %s", e.msg);
    free(px);
    px = NULL;
    snprintf(path, sizeof path, "%s/hist/hist_depth.png", dir);
    CHECK(png_read(path, &px, &w, &h, &ch, &e) == 0 && ch == 1, "histogram: %s", e.msg);
    free(px);

    /* Presets and range flags: --preset clutter gives synth_render's clutter images and
     * scene.txt says so; range flags apply after the preset whatever their order;
     * --decode prints the five latents' errors. */
    expect(2, "--preset 'bogus'", "--preset bogus --count 10 --sheet /tmp/x.png");
    expect(2, "bg_noise range", "--bg-noise 0:2 --count 10 --sheet /tmp/x.png");
    expect(2, "--decode", "--decode 5 --count 100");
    expect(2, "only 10 test images", "-q --decode 50 --count 60");
    rc = run("-q --count 40 --test 0 --seed 5 --x -0.1:0.1 --preset clutter --png-dir %s/clutter", dir);
    CHECK(rc == 0, "clutter: %s", out);
    {
        synth_config cc;
        synth_config_default(&cc);
        synth_config_preset(&cc, SYNTH_PRESET_CLUTTER);
        cc.n_train = 40, cc.n_test = 0, cc.seed = 5, cc.x = (synth_range){-0.1f, 0.1f};
        snprintf(csv, sizeof csv, "%s/clutter/latents.csv", dir);
        snprintf(pdir, sizeof pdir, "%s/clutter", dir);
        dataset dc, rc_ref;
        int ok = pngdir_read(pdir, csv, 10, &dc, &e) == 0;
        CHECK(ok, "clutter read: %s", e.msg);
        CHECK(synth_render(&cc, &rc_ref, &e) == 0, "clutter render: %s", e.msg);
        if (ok && dc.n == 40 && rc_ref.n == 40) {
            CHECK(memcmp(dc.pixels, rc_ref.pixels, 40 * 1024) == 0, "clutter pixels differ from synth_render");
            int in = 1;
            for (int i = 0; i < 40; i++)
                in &= fabsf(dc.latents[(size_t)i * SYNTH_N_LATENTS + SYNTH_X]) <= 0.1f &&
                      dc.latents[(size_t)i * SYNTH_N_LATENTS + SYNTH_DEPTH] >= 3.2f;
            CHECK(in, "--x before --preset still applies, over clutter's depth");
        }
        if (ok)
            dataset_free(&dc);
        dataset_free(&rc_ref);
        snprintf(path, sizeof path, "%s/clutter/scene.txt", dir);
        FILE *g = fopen(path, "r");
        char txt[200] = "";
        if (g) {
            size_t n = fread(txt, 1, sizeof txt - 1, g);
            txt[n] = 0;
            fclose(g);
        }
        CHECK(strcmp(txt, "preset clutter\nhaze 0\n") == 0, "clutter scene.txt: '%s'", txt);
        snprintf(path, sizeof path, "%s/png/scene.txt", dir);
        g = fopen(path, "r");
        txt[0] = 0;
        if (g) {
            size_t n = fread(txt, 1, sizeof txt - 1, g);
            txt[n] = 0;
            fclose(g);
        }
        CHECK(strcmp(txt, "preset room2\nhaze 0\nlight_world 1\nsky_floor 0.05\nsilhouette 1\n"
                          "max_silhouette_scale 3\nbackdrop 0.12\nwindow_azimuth 0\nwindow_elevation 48\n") == 0,
              "room2 (the default) scene.txt: '%s'", txt);
    }
    rc = run("-q --count 300 --test 200 --decode 200");
    CHECK(rc == 0 && strstr(out, "raw-pixel decoding, 200 test images") && strstr(out, "slant") &&
              strstr(out, "depth") && strstr(out, "chance"),
          "decode: exit %d: %s", rc, out);

    /* Thread count does not change the files. */
    rc = run("-q --count 40 --threads 1 --png-dir %s/t1", dir);
    CHECK(rc == 0, "t1: %s", out);
    rc = run("-q --count 40 --threads 3 --png-dir %s/t3", dir);
    CHECK(rc == 0, "t3: %s", out);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "diff -r '%s/t1' '%s/t3' >/dev/null", dir, dir);
    CHECK(system(cmd) == 0, "outputs differ between 1 and 3 threads");

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("warning: could not remove %s\n", dir);
    return check_done();
}
