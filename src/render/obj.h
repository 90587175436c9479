/* Wavefront OBJ meshes for the synthetic renderer, instead of (or beside)
 * the procedural families.
 *
 * Only geometry is read: `v x y z` and `f a b c ...` (any number of corners,
 * fan-triangulated; `a`, `a/t`, `a//n`, `a/t/n`; negative indices count from
 * the latest vertex), and `usemtl tone_F` (0 < F <= 1: the faces after it
 * have albedo factor F, as obj_save writes the darker parts of the studio
 * families; other materials leave the factor as it is, 1 at the start).
 * Every other statement (vt, vn, g, o, s, mtllib, l, ...) is ignored.
 * Meshes are expected with y up and the object's front towards +x (as the
 * procedural families); they are centred and scaled to the unit sphere on
 * loading.
 *
 * A mesh directory holds files named <class><anything>.obj, the class being
 * one of the renderer's class names as a prefix of the lower-cased file name
 * (e.g. airplane.obj, airplane_cessna.obj, horse-glmark2.obj).  Files are
 * taken in byte order of their names, which fixes each file's index within
 * its class (the `variant` latent).  Other files (not ending in .obj) are
 * ignored; a .obj whose name starts with no class name is an error.
 *
 * Memory: obj_load fills a caller-owned mesh; an obj_library owns its meshes
 * and names, released by obj_library_free. */
#ifndef DRMM_OBJ_H
#define DRMM_OBJ_H

#include "mesh.h"

struct err_t;

#define OBJ_MAX_CLASSES 64

/* Loads path into m (cleared first) and normalises it.  Returns 0, or -1
 * with a message naming the file and line (unreadable, malformed vertex or
 * face, index out of range, no faces, a tone_F outside (0, 1]). */
int obj_load(const char *path, mesh *m, struct err_t *e);

/* Writes m to path as an OBJ file (v and f lines, %.7g coordinates;
 * `usemtl tone_F` before faces whose tone differs from the previous face's,
 * none for a mesh of tone 1 throughout).
 * Returns 0, or -1 with a message naming the file. */
int obj_save(const char *path, const mesh *m, struct err_t *e);

typedef struct obj_library {
    int n_classes;
    int count[OBJ_MAX_CLASSES];     /* meshes per class (may be 0) */
    mesh *meshes[OBJ_MAX_CLASSES];  /* count[c] meshes per class */
    char **files[OBJ_MAX_CLASSES];  /* count[c] file names per class */
    int total;                      /* meshes over all classes */
} obj_library;

/* Loads every .obj in dir into lib, by class.  Returns 0, or -1 with a
 * message (unreadable directory, no .obj files, a file named for no class,
 * a malformed file). */
int obj_load_dir(const char *dir, const char *const *class_names, int n_classes,
                 obj_library *lib, struct err_t *e);
void obj_library_free(obj_library *lib);

#endif
