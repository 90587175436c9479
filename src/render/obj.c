/* Wavefront OBJ loading (see obj.h). */
#include "obj.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

/* Parses one face corner "a", "a/t", "a//n" or "a/t/n"; returns the
 * 0-based vertex index through *idx, or -1 on a malformed token. */
static int corner_index(const char *tok, int nv, int *idx)
{
    char *end;
    errno = 0;
    long k = strtol(tok, &end, 10);
    if (end == tok || errno || (*end != '\0' && *end != '/'))
        return -1;
    if (k > 0)
        k = k - 1;
    else if (k < 0)
        k = nv + k;
    else
        return -1;
    if (k < 0 || k >= nv)
        return -2;
    *idx = (int)k;
    return 0;
}

int obj_load(const char *path, mesh *m, err_t *e)
{
    mesh_clear(m);
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, "%s: cannot open OBJ file: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = -1;
    int *poly = NULL, poly_cap = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == 'v' && (p[1] == ' ' || p[1] == '\t')) {
            float x[3];
            char *q = p + 1, *end;
            for (int k = 0; k < 3; k++) {
                x[k] = strtof(q, &end);
                if (end == q) {
                    err_input(e, "%s:%ld: malformed vertex (need 'v x y z')", path, lineno);
                    goto done;
                }
                q = end;
            }
            if (mesh_add_vertex(m, x[0], x[1], x[2]) < 0) {
                err_set(e, "%s: out of memory", path);
                goto done;
            }
        } else if (strncmp(p, "usemtl tone_", 12) == 0) {
            /* The renderer's own material names: a part's albedo factor. */
            char *end;
            float tone = strtof(p + 12, &end);
            if (end == p + 12 || !(tone > 0 && tone <= 1)) {
                err_input(e, "%s:%ld: material 'tone_%.20s': the factor must be in (0, 1]", path, lineno, p + 12);
                goto done;
            }
            m->dark = 1.0f - tone;
        } else if (p[0] == 'f' && (p[1] == ' ' || p[1] == '\t')) {
            int n = 0;
            char *save = NULL;
            for (char *tok = strtok_r(p + 1, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
                int idx, r = corner_index(tok, m->nv, &idx);
                if (r == -1) {
                    err_input(e, "%s:%ld: malformed face corner '%s'", path, lineno, tok);
                    goto done;
                }
                if (r == -2) {
                    err_input(e, "%s:%ld: face refers to vertex '%s' but only %d vertices are defined so far",
                            path, lineno, tok, m->nv);
                    goto done;
                }
                if (n == poly_cap) {
                    int nc = poly_cap ? 2 * poly_cap : 16;
                    int *np = realloc(poly, (size_t)nc * sizeof *np);
                    if (!np) {
                        err_set(e, "%s: out of memory", path);
                        goto done;
                    }
                    poly = np;
                    poly_cap = nc;
                }
                poly[n++] = idx;
            }
            if (n < 3) {
                err_input(e, "%s:%ld: face with %d corners (need at least 3)", path, lineno, n);
                goto done;
            }
            for (int k = 1; k + 1 < n; k++)
                mesh_add_triangle(m, poly[0], poly[k], poly[k + 1]);
            if (m->oom) {
                err_set(e, "%s: out of memory", path);
                goto done;
            }
        }
    }
    if (ferror(f)) {
        err_set(e, "%s: read error", path);
        goto done;
    }
    if (m->nt == 0) {
        err_input(e, "%s: no faces ('f' lines) in OBJ file", path);
        goto done;
    }
    if (mesh_normalize(m) != 0) {
        err_input(e, "%s: degenerate mesh (all vertices at one point, or not finite)", path);
        goto done;
    }
    rc = 0;
done:
    free(poly);
    free(line);
    fclose(f);
    if (rc != 0)
        mesh_clear(m);
    return rc;
}

int obj_save(const char *path, const mesh *m, err_t *e)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return err_set(e, "%s: cannot create OBJ file: %s", path, strerror(errno));
    fprintf(f, "# written by the DRMM synthetic renderer: %d vertices, %d triangles\n", m->nv, m->nt);
    for (int i = 0; i < m->nv; i++)
        fprintf(f, "v %.7g %.7g %.7g\n", m->v[3 * i], m->v[3 * i + 1], m->v[3 * i + 2]);
    float tone = 1.0f;
    for (int t = 0; t < m->nt; t++) {
        if (m->tone[t] != tone) /* parts of another albedo: usemtl tone_<factor> */
            fprintf(f, "usemtl tone_%.3g\n", tone = m->tone[t]);
        fprintf(f, "f %d %d %d\n", m->tri[3 * t] + 1, m->tri[3 * t + 1] + 1, m->tri[3 * t + 2] + 1);
    }
    if (ferror(f) | (fclose(f) != 0))
        return err_set(e, "%s: write failed (disk full?)", path);
    return 0;
}

void obj_library_free(obj_library *lib)
{
    if (!lib)
        return;
    for (int c = 0; c < lib->n_classes && c < OBJ_MAX_CLASSES; c++) {
        for (int i = 0; i < lib->count[c]; i++) {
            if (lib->meshes[c])
                mesh_free(&lib->meshes[c][i]);
            if (lib->files[c])
                free(lib->files[c][i]);
        }
        free(lib->meshes[c]);
        free(lib->files[c]);
    }
    memset(lib, 0, sizeof *lib);
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_obj(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 4 && strcasecmp(d->d_name + n - 4, ".obj") == 0 && d->d_name[0] != '.';
}

/* The class whose name is the longest prefix of the lower-cased file name. */
static int class_of(const char *file, const char *const *names, int n)
{
    int best = -1;
    size_t best_len = 0;
    for (int c = 0; c < n; c++) {
        size_t k = strlen(names[c]);
        if (k <= best_len)
            continue;
        size_t i = 0;
        while (i < k && file[i] && tolower((unsigned char)file[i]) == names[c][i])
            i++;
        if (i == k) {
            best = c;
            best_len = k;
        }
    }
    return best;
}

int obj_load_dir(const char *dir, const char *const *class_names, int n_classes,
                 obj_library *lib, err_t *e)
{
    memset(lib, 0, sizeof *lib);
    if (n_classes <= 0 || n_classes > OBJ_MAX_CLASSES)
        return err_set(e, "obj_load_dir: %d classes (must be 1..%d)", n_classes, OBJ_MAX_CLASSES);
    lib->n_classes = n_classes;
    struct dirent **list = NULL;
    int n = scandir(dir, &list, is_obj, name_cmp);
    if (n < 0)
        return err_set(e, "%s: cannot read mesh directory: %s", dir, strerror(errno));
    int rc = -1;
    int *cls = NULL;
    if (n == 0) {
        err_input(e, "%s: no .obj files in the mesh directory", dir);
        goto done;
    }
    /* Count per class, then allocate, then load. */
    cls = malloc((size_t)n * sizeof *cls);
    if (!cls) {
        err_set(e, "out of memory loading meshes from %s", dir);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        cls[i] = class_of(list[i]->d_name, class_names, n_classes);
        if (cls[i] < 0) {
            char known[512] = "";
            for (int c = 0; c < n_classes; c++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", c ? ", " : "", class_names[c]);
            err_input(e, "%s/%s: file name starts with no class name (%s); rename or remove it",
                    dir, list[i]->d_name, known);
            goto done;
        }
        lib->count[cls[i]]++;
    }
    for (int c = 0; c < n_classes; c++) {
        if (!lib->count[c])
            continue;
        lib->meshes[c] = calloc(lib->count[c], sizeof(mesh));
        lib->files[c] = calloc(lib->count[c], sizeof(char *));
        if (!lib->meshes[c] || !lib->files[c]) {
            err_set(e, "out of memory loading meshes from %s", dir);
            goto done;
        }
    }
    int filled[OBJ_MAX_CLASSES];
    memset(filled, 0, sizeof filled);
    for (int i = 0; i < n; i++) {
        int c = cls[i], k = filled[c];
        size_t len = strlen(dir) + strlen(list[i]->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            err_set(e, "out of memory loading meshes from %s", dir);
            goto done;
        }
        snprintf(path, len, "%s/%s", dir, list[i]->d_name);
        lib->files[c][k] = path;
        filled[c]++;
        mesh_init(&lib->meshes[c][k]);
        if (obj_load(path, &lib->meshes[c][k], e) != 0)
            goto done;
        lib->total++;
    }
    rc = 0;
done:
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    free(cls);
    /* Arrays are calloc'ed, so entries not yet loaded are zero and free safely. */
    if (rc != 0)
        obj_library_free(lib);
    return rc;
}
