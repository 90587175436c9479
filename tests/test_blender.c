/* Tests for datasets/blender_render.py, the optional Cycles renderer.
 * Without Blender: the script's dry run plans one block per mesh and
 * rejects bad inputs, and its port of the background (level, gradient,
 * value noise; the room scene's backdrop) matches the C renderer pixel for
 * pixel away from the object.
 * With `blender` on PATH: renders a few images headless and reads them back
 * with the PNG-directory reader; skipped with a message otherwise.  Needs
 * python3 (skipped with a message when absent) and bin/synth ($BIN). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "dataset.h"
#include "error.h"
#include "pngdir.h"
#include "pngio.h"

static char dir[64];
static char out[8192];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096], log[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd - 300, fmt, ap);
    va_end(ap);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    char full[4500];
    snprintf(full, sizeof full, "( %s ) >'%s' 2>&1", cmd, log);
    int st = system(full);
    out[0] = 0;
    FILE *f = fopen(log, "r");
    if (f) {
        size_t n = fread(out, 1, sizeof out - 1, f);
        out[n] = 0;
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The script's --background-only images of the synth directory dir/SUB
 * against its PNGs: at least 60% of the pixels of every one of the n
 * images within 1 (the rest is the object). */
static void backgrounds_match(const char *script, const char *sub, int n)
{
    int rc = sh("python3 %s --csv %s/%s/latents.csv --mesh-dir %s/meshes --out %s/bg-%s --background-only", script,
                dir, sub, dir, dir, sub);
    CHECK(rc == 0, "%s: background-only: %s", sub, out);
    int images_ok = 0;
    for (int i = 0; i < n; i++) {
        char a[256], b[256];
        snprintf(a, sizeof a, "%s/%s/%05d.png", dir, sub, i);
        snprintf(b, sizeof b, "%s/bg-%s/%05d.png", dir, sub, i);
        uint8_t *pa = NULL, *pb = NULL;
        int wa, ha, ca, wb, hb, cb;
        err_t e = {0};
        if (png_read(a, &pa, &wa, &ha, &ca, &e) == 0 && png_read(b, &pb, &wb, &hb, &cb, &e) == 0 && wa == wb &&
            ha == hb && ca == cb) {
            int same = 0;
            for (int k = 0; k < wa * ha; k++)
                same += abs(pa[k] - pb[k]) <= 1;
            if (same > wa * ha * 6 / 10)
                images_ok++;
            else
                printf("%s image %d: only %d of %d pixels match the background\n", sub, i, same, wa * ha);
        }
        free(pa);
        free(pb);
    }
    CHECK(images_ok == n, "%s: backgrounds match in %d of %d images", sub, images_ok, n);
}

int main(void)
{
    const char *bin = getenv("BIN") && *getenv("BIN") ? getenv("BIN") : "bin";
    const char *script = "datasets/blender_render.py";
    if (access(script, R_OK) != 0) {
        printf("SKIP: %s not found (run from the repository root)\n", script);
        return check_done();
    }
    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        printf("SKIP: python3 not installed; blender_render.py not checked\n");
        return check_done();
    }
    snprintf(dir, sizeof dir, "/tmp/test_blender.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    /* framed: a background with a level and a gradient for the port to match (studio's is black) */
    int rc = sh("%s/synth -q --preset framed --count 40 --seed 3 --png-dir %s/png --export-meshes %s/meshes", bin, dir,
                dir);
    CHECK(rc == 0, "synth: %s", out);

    rc = sh("python3 %s --csv %s/png/latents.csv --mesh-dir %s/meshes --out %s/o --dry-run", script, dir, dir, dir);
    CHECK(rc == 0 && strstr(out, "40 images of 32x32 in"), "dry run: exit %d: %s", rc, out);
    rc = sh("python3 %s --csv %s/png/latents.csv --mesh-dir %s/meshes --out %s/o --dry-run --limit 5 --size 48x40",
            script, dir, dir, dir);
    CHECK(rc == 0 && strstr(out, "5 images of 48x40"), "limit/size: exit %d: %s", rc, out);

    /* Bad inputs. */
    sh("mkdir -p %s/empty", dir);
    rc = sh("python3 %s --csv %s/png/latents.csv --mesh-dir %s/empty --out %s/o --dry-run", script, dir, dir, dir);
    CHECK(rc == 3 && strstr(out, "no mesh for class"), "empty mesh dir: exit %d: %s", rc, out);
    rc = sh("printf 'file,label\\na.png,1\\n' > %s/bad.csv; python3 %s --csv %s/bad.csv --mesh-dir %s/meshes --out %s/o "
            "--dry-run",
            dir, script, dir, dir, dir);
    CHECK(rc == 3 && strstr(out, "missing columns"), "bad csv: exit %d: %s", rc, out);
    rc = sh("python3 %s --csv %s/nonexistent.csv --mesh-dir %s/meshes --out %s/o --dry-run", script, dir, dir, dir);
    CHECK(rc == 3 && strstr(out, "nonexistent.csv"), "missing csv: exit %d: %s", rc, out);
    rc = sh("python3 %s --csv x.csv", script);
    CHECK(rc == 2 && strstr(out, "required"), "usage: exit %d: %s", rc, out);
    rc = sh("python3 %s --csv %s/png/latents.csv --mesh-dir %s/meshes --out %s/o", script, dir, dir, dir);
    CHECK(rc == 2 && strstr(out, "run inside Blender"), "no bpy: exit %d: %s", rc, out);

    /* The background port matches the C renderer away from the object,
     * and the room scenes' backdrop too (scene.txt carries its constants:
     * the window's elevation differs between room and room2). */
    backgrounds_match(script, "png", 40);
    static const char *const rooms[2] = {"room", "room2"};
    for (int k = 0; k < 2; k++) {
        rc = sh("%s/synth -q --preset %s --depth 5:7 --count 40 --seed 3 --png-dir %s/%s", bin, rooms[k], dir,
                rooms[k]); /* small objects */
        CHECK(rc == 0, "synth %s: %s", rooms[k], out);
        backgrounds_match(script, rooms[k], 40);
    }

    if (system("command -v blender >/dev/null 2>&1") != 0) {
        printf("SKIP: blender not installed; the Cycles render itself was not run "
               "(apt-get install blender to run it)\n");
    } else {
        rc = sh("blender -b -P %s -- --csv %s/png/latents.csv --mesh-dir %s/meshes --out %s/cycles --limit 10 "
                "--samples 4",
                script, dir, dir, dir);
        CHECK(rc == 0, "blender: exit %d: %s", rc, out);
        char csv[256], pdir[256];
        snprintf(csv, sizeof csv, "%s/cycles/latents.csv", dir);
        snprintf(pdir, sizeof pdir, "%s/cycles", dir);
        dataset d;
        err_t e = {0};
        CHECK(pngdir_read(pdir, csv, 10, &d, &e) == 0 && d.n == 10, "read Cycles output: %s", e.msg);
        if (d.n == 10)
            dataset_free(&d);
    }
    sh("rm -rf '%s'", dir);
    return check_done();
}
