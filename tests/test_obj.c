/* Tests for src/render/obj.c: loading generated OBJ files (quads, v/vt/vn
 * corners, negative indices, ignored statements), normalisation, clear
 * errors with file:line, a mesh directory with class prefixes, rendering
 * with an OBJ mesh in place of a procedural family, and darker parts
 * (usemtl tone_F) saved and loaded again. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dataset.h"
#include "error.h"
#include "mesh.h"
#include "obj.h"
#include "synth.h"

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* A 2 x 1 x 1 box: 8 vertices, 6 quad faces written in mixed corner styles. */
static const char *box_obj =
    "# a box\n"
    "mtllib box.mtl\n"
    "o box\n"
    "v -1 -0.5 -0.5\nv 1 -0.5 -0.5\nv 1 0.5 -0.5\nv -1 0.5 -0.5\n"
    "v -1 -0.5 0.5\nv 1 -0.5 0.5\nv 1 0.5 0.5\nv -1 0.5 0.5\n"
    "vt 0 0\nvt 1 0\nvt 1 1\nvn 0 0 1\n"
    "usemtl grey\ns off\n"
    "f 1 2 3 4\n"
    "f 5/1 6/2 7/3 8/1\n"
    "f 1//1 2//1 6//1 5//1\n"
    "f 4/1/1 3/2/1 7/3/1 8/1/1\n"
    "f -8 -4 -1 -5\n"
    "f 2 3 7 6\n";

static void test_load(void)
{
    mesh m;
    mesh_init(&m);
    err_t e = {0};
    const char *p = write_file("box.obj", box_obj);
    CHECK(obj_load(p, &m, &e) == 0, "load box: %s", e.msg);
    CHECK(m.nv == 8 && m.nt == 12, "box has %d vertices, %d triangles", m.nv, m.nt);
    double rmax = 0, cx = 0;
    for (int i = 0; i < m.nv; i++) {
        double r = sqrt(m.v[3 * i] * m.v[3 * i] + m.v[3 * i + 1] * m.v[3 * i + 1] + m.v[3 * i + 2] * m.v[3 * i + 2]);
        rmax = r > rmax ? r : rmax;
        cx += m.v[3 * i];
    }
    CHECK_CLOSE(rmax, 1.0, 1e-5, "normalised radius");
    CHECK_CLOSE(cx / m.nv, 0.0, 1e-5, "centred");
    /* The box keeps its proportions: x extent twice the y extent. */
    float xmax = 0, ymax = 0;
    for (int i = 0; i < m.nv; i++) {
        xmax = fmaxf(xmax, m.v[3 * i]);
        ymax = fmaxf(ymax, m.v[3 * i + 1]);
    }
    CHECK_CLOSE(xmax / ymax, 2.0, 1e-4, "aspect");
    /* negative indices resolve against the vertices so far */
    int found = 0;
    for (int t = 0; t < m.nt; t++)
        if (m.tri[3 * t] == 0 && m.tri[3 * t + 1] == 4 && m.tri[3 * t + 2] == 7)
            found = 1;
    CHECK(found, "negative indices not resolved");

    struct { const char *name, *text, *want; } bad[] = {
        {"badv.obj", "v 1 2\nf 1 1 1\n", "badv.obj:1: malformed vertex"},
        {"badf.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n", "badf.obj:4: malformed face"},
        {"range.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\n\nf 1 2 9\n", "range.obj:5: face refers to vertex '9'"},
        {"two.obj", "v 0 0 0\nv 1 0 0\nf 1 2\n", "two.obj:3: face with 2 corners"},
        {"noface.obj", "v 0 0 0\nv 1 0 0\n", "no faces"},
        {"zero.obj", "v 0 0 0\nv 0 0 0\nv 0 0 0\nf 1 2 3\n", "degenerate"},
        {"idx0.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "idx0.obj:4: malformed face corner '0'"},
        {"tone.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl tone_2\nf 1 2 3\n", "tone.obj:4: material 'tone_2"},
        {"tone0.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl tone_x\nf 1 2 3\n", "tone0.obj:4: material"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        p = write_file(bad[k].name, bad[k].text);
        CHECK(obj_load(p, &m, &e) == -1, "%s accepted", bad[k].name);
        CHECK(strstr(e.msg, bad[k].want) != NULL, "%s: message '%s' lacks '%s'", bad[k].name, e.msg, bad[k].want);
        CHECK(m.nv == 0 && m.nt == 0, "%s: mesh not cleared", bad[k].name);
        unlink(p);
    }
    CHECK(obj_load("/nonexistent-drmm.obj", &m, &e) == -1 && strstr(e.msg, "nonexistent-drmm.obj"), "missing: %s",
          e.msg);
    mesh_free(&m);
}

/* Parts of another albedo: obj_save writes usemtl tone_F where the tone
 * changes, obj_load gives the faces after it that tone; other materials
 * keep tone 1. */
static void test_tones(void)
{
    mesh m, m2;
    mesh_init(&m);
    mesh_init(&m2);
    err_t e = {0};
    const char *p = write_file("tones.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nusemtl grey\nf 1 2 3\n"
                                            "usemtl tone_0.25\nf 2 3 4\nusemtl tone_1\nf 1 3 4\n");
    CHECK(obj_load(p, &m, &e) == 0, "load tones: %s", e.msg);
    CHECK(m.nt == 3 && m.tone[0] == 1.0f && fabsf(m.tone[1] - 0.25f) < 1e-6f && m.tone[2] == 1.0f,
          "tones %g %g %g", m.nt > 0 ? m.tone[0] : -1, m.nt > 1 ? m.tone[1] : -1, m.nt > 2 ? m.tone[2] : -1);
    char out[256];
    snprintf(out, sizeof out, "%s/tones_out.obj", dir);
    CHECK(obj_save(out, &m, &e) == 0, "save: %s", e.msg);
    CHECK(obj_load(out, &m2, &e) == 0 && m2.nt == 3, "reload: %s", e.msg);
    int same = m2.nt == 3;
    for (int t = 0; t < m2.nt && same; t++)
        same = fabsf(m2.tone[t] - m.tone[t]) < 1e-3f;
    CHECK(same, "tones not kept by save and load");
    unlink(out);
    unlink(p);
    mesh_free(&m);
    mesh_free(&m2);
}

static void test_dir_and_render(void)
{
    static const char *const names[] = {"airplane", "automobile", "bird", "cat", "deer",
                                        "dog", "frog", "horse", "ship", "truck"};
    err_t e = {0};
    obj_library lib;
    /* box.obj has no class prefix: an error naming it. */
    write_file("box.obj", box_obj);
    CHECK(obj_load_dir(dir, names, 10, &lib, &e) == -1, "unprefixed file accepted");
    CHECK(strstr(e.msg, "box.obj") && strstr(e.msg, "class name"), "message: %s", e.msg);
    char from[256], to[256];
    snprintf(from, sizeof from, "%s/box.obj", dir);
    snprintf(to, sizeof to, "%s/Truck_box.obj", dir);
    CHECK(rename(from, to) == 0, "rename");
    write_file("truck-2.obj", box_obj);
    write_file("catalogue.obj", box_obj); /* "cat" prefix: a cat */
    write_file("notes.txt", "not a mesh\n");
    CHECK(obj_load_dir(dir, names, 10, &lib, &e) == 0, "load dir: %s", e.msg);
    CHECK(lib.total == 3 && lib.count[9] == 2 && lib.count[3] == 1 && lib.count[0] == 0, "counts: total %d truck %d cat %d",
          lib.total, lib.count[9], lib.count[3]);
    /* byte order: "Truck_box.obj" < "truck-2.obj" */
    CHECK(lib.count[9] == 2 && strstr(lib.files[9][0], "Truck_box.obj") && strstr(lib.files[9][1], "truck-2.obj"),
          "order");
    obj_library_free(&lib);

    /* Render: trucks come from the OBJ box, other classes stay procedural. */
    synth_config c;
    synth_config_default(&c);
    c.n_train = 200;
    c.n_test = 0;
    c.mesh_dir = dir;
    dataset d;
    CHECK(synth_render(&c, &d, &e) == 0, "render with meshes: %s", e.msg);
    int trucks = 0, variants_ok = 1;
    for (int i = 0; i < d.n; i++)
        if (d.labels[i] == 9) {
            trucks++;
            float v = d.latents[(size_t)i * SYNTH_N_LATENTS + SYNTH_VARIANT];
            if (v != 0 && v != 1)
                variants_ok = 0;
        }
    CHECK(trucks == 20 && variants_ok, "trucks %d, variants in {0,1}: %d", trucks, variants_ok);
    c.mesh_dir = NULL;
    dataset p;
    CHECK(synth_render(&c, &p, &e) == 0, "render procedural: %s", e.msg);
    long isz = dataset_image_size(&d);
    int truck_same = 0, other_same = 1;
    for (int i = 0; i < d.n; i++) {
        int same = memcmp(d.pixels + i * isz, p.pixels + i * isz, isz) == 0;
        if (d.labels[i] == 9)
            truck_same += same;
        else if (d.labels[i] != 3 && !same)
            other_same = 0;
    }
    CHECK(truck_same == 0, "%d truck images unchanged by the OBJ mesh", truck_same);
    CHECK(other_same, "classes without an OBJ file changed");
    dataset_free(&d);
    dataset_free(&p);

    /* A malformed file in the directory fails the render with its name. */
    write_file("frog.obj", "v 0 0 0\nf 1 2 3\n");
    c.mesh_dir = dir;
    CHECK(synth_render(&c, &d, &e) == -1 && strstr(e.msg, "frog.obj:2"), "malformed mesh: %s", e.msg);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_obj.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_load();
    test_tones();
    test_dir_and_render();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("warning: could not remove %s\n", dir);
    return check_done();
}
