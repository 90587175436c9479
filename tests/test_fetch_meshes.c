/* Tests for datasets/fetch_meshes.sh: shell syntax, usage errors, the 3DS to
 * OBJ conversion on a generated tetrahedron (loaded back with obj_load),
 * a corrupt 3DS file; the real fetch from gl-117-data / glmark2-data runs
 * only when a package is installed and is skipped with a message otherwise
 * (the test never downloads anything). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "mesh.h"
#include "obj.h"
#include "synth.h"

static char dir[64];

static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t put16(uint8_t *p, unsigned v)
{
    p[0] = v & 255;
    p[1] = v >> 8;
    return 2;
}

static size_t put32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (v >> (8 * k)) & 255;
    return 4;
}

static size_t putf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return put32(p, u);
}

/* A 3DS file with one object holding a tetrahedron. */
static size_t tetra_3ds(uint8_t *b)
{
    static const float v[4][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    static const int f[4][3] = {{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}};
    size_t vl = 6 + 2 + 4 * 12, fl = 6 + 2 + 4 * 8, tl = 6 + vl + fl, ol = 6 + 4 + tl, el = 6 + ol, ml = 6 + el;
    size_t o = 0;
    o += put16(b + o, 0x4D4D), o += put32(b + o, (uint32_t)ml);
    o += put16(b + o, 0x3D3D), o += put32(b + o, (uint32_t)el);
    o += put16(b + o, 0x4000), o += put32(b + o, (uint32_t)ol);
    memcpy(b + o, "tet", 4), o += 4;
    o += put16(b + o, 0x4100), o += put32(b + o, (uint32_t)tl);
    o += put16(b + o, 0x4110), o += put32(b + o, (uint32_t)vl), o += put16(b + o, 4);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++)
            o += putf(b + o, v[i][k]);
    o += put16(b + o, 0x4120), o += put32(b + o, (uint32_t)fl), o += put16(b + o, 4);
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 3; k++)
            o += put16(b + o, (unsigned)f[i][k]);
        o += put16(b + o, 0);
    }
    return o;
}

int main(void)
{
    const char *script = "datasets/fetch_meshes.sh";
    if (access(script, R_OK) != 0) {
        printf("SKIP: %s not found (run from the repository root)\n", script);
        return check_done();
    }
    snprintf(dir, sizeof dir, "/tmp/test_fetch.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh -n %s", script);
    CHECK(run(cmd) == 0, "shell syntax");
    snprintf(cmd, sizeof cmd, "sh %s --help >/dev/null", script);
    CHECK(run(cmd) == 0, "--help");
    snprintf(cmd, sizeof cmd, "sh %s 2>/dev/null", script);
    CHECK(run(cmd) == 2, "no OUTDIR is a usage error");
    snprintf(cmd, sizeof cmd, "sh %s a b 2>/dev/null", script);
    CHECK(run(cmd) == 2, "two OUTDIRs is a usage error");

    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        printf("SKIP: python3 not installed; 3DS conversion not checked\n");
    } else {
        uint8_t buf[512];
        size_t n = tetra_3ds(buf);
        char in[128], outp[128];
        snprintf(in, sizeof in, "%s/tet.3ds", dir);
        snprintf(outp, sizeof outp, "%s/cat_tet.obj", dir);
        FILE *f = fopen(in, "wb");
        fwrite(buf, 1, n, f);
        fclose(f);
        snprintf(cmd, sizeof cmd, "sh %s --convert-3ds %s %s", script, in, outp);
        CHECK(run(cmd) == 0, "convert tetrahedron");
        mesh m;
        mesh_init(&m);
        err_t e = {0};
        CHECK(obj_load(outp, &m, &e) == 0, "load converted: %s", e.msg);
        CHECK(m.nv == 4 && m.nt == 4, "converted mesh %d vertices %d triangles", m.nv, m.nt);
        mesh_free(&m);
        /* truncate inside the vertex list: corrupt, exit 3 */
        f = fopen(in, "wb");
        fwrite(buf, 1, n - 40, f);
        fclose(f);
        snprintf(cmd, sizeof cmd, "sh %s --convert-3ds %s %s/x.obj 2>%s/err.txt", script, in, dir, dir);
        CHECK(run(cmd) == 3, "corrupt 3DS exit 3");
        f = fopen(in, "wb");
        fputs("not a 3ds file", f);
        fclose(f);
        CHECK(run(cmd) == 3, "garbage exit 3");
    }

    int have = access("/usr/share/games/gl-117/models", R_OK) == 0 || access("/usr/share/gl-117/models", R_OK) == 0 ||
               access("/usr/share/glmark2/models", R_OK) == 0;
    if (!have) {
        printf("SKIP: gl-117-data and glmark2-data are not installed; the real fetch was not run\n");
    } else {
        snprintf(cmd, sizeof cmd, "sh %s %s/meshes >/dev/null", script, dir);
        CHECK(run(cmd) == 0, "fetch from installed packages");
        char md[128];
        snprintf(md, sizeof md, "%s/meshes", dir);
        /* SOURCES.txt is not an .obj, so the directory loads as a mesh dir */
        obj_library lib;
        const char *names[SYNTH_N_CLASSES];
        for (int c = 0; c < SYNTH_N_CLASSES; c++)
            names[c] = synth_class_name(c);
        err_t e = {0};
        CHECK(obj_load_dir(md, names, SYNTH_N_CLASSES, &lib, &e) == 0 && lib.total > 0, "load fetched: %s", e.msg);
        if (lib.total > 0)
            obj_library_free(&lib);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    run(cmd);
    return check_done();
}
