/* The ten procedural 3D object families of the built-in renderer, named as
 * CIFAR-10's classes.  Each family has a few sub-types (`variant`) and six
 * proportions shape[0..5] in [0, 1] (documented per family in objects.c), so
 * that a class is not one rigid shape.
 *
 * Object coordinates: x forward (the object's front), y up, z sideways. */
#ifndef DRMM_OBJECTS_H
#define DRMM_OBJECTS_H

#include "mesh.h"

#define OBJECTS_N_CLASSES 10
#define OBJECTS_N_SHAPE 6

/* Family sets: the first (the framed and clutter scenes; kept as they were
 * so those scenes render byte-identically) and the studio scene's, whose
 * families differ more between classes (objects.c). */
enum { OBJECTS_SET_FIRST = 0, OBJECTS_SET_STUDIO = 1, OBJECTS_N_SETS };

/* "airplane", "automobile", ... "truck" (static strings). */
extern const char *const objects_class_names[OBJECTS_N_CLASSES];

/* Number of sub-types of a class in a family set (>= 1; 0 for a bad set or
 * label). */
int objects_n_variants(int set, int label);

/* Clears m and builds the mesh of class `label` of family set `set`,
 * sub-type `variant` (0 <= variant < objects_n_variants(set, label)) with
 * proportions shape[6],
 * then normalises it to the unit sphere (mesh_normalize).  Returns 0, or -1
 * for a bad label or variant or when memory is short (m->oom). */
int objects_build(mesh *m, int set, int label, int variant, const float shape[OBJECTS_N_SHAPE]);

#endif
