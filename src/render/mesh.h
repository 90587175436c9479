/* Triangle meshes and the primitives the procedural object families are
 * built from (boxes, ellipsoids, tapered limbs, lofted hulls), with a tone
 * (albedo factor) per triangle for darker parts.
 *
 * Memory: a mesh owns its vertex and triangle arrays; mesh_free releases
 * them.  mesh_clear keeps the capacity so a per-thread scratch mesh can be
 * rebuilt for every image without allocating. */
#ifndef DRMM_MESH_H
#define DRMM_MESH_H

struct err_t;

typedef struct mesh {
    float *v;         /* nv * 3 coordinates (x forward, y up, z sideways) */
    int *tri;         /* nt * 3 vertex indices */
    float *tone;      /* nt albedo factors in (0, 1] (1 = the object's albedo; dark
                         parts such as tyres and windows less) */
    float dark;       /* 1 - the tone given to triangles added from now on (0 after
                         mesh_init and mesh_clear) */
    int nv, nt;
    int cap_v, cap_t; /* allocated capacity, in vertices and triangles */
    int oom;          /* set when a primitive could not grow the arrays */
} mesh;

/* A rotation as a 3x3 row-major matrix. */
typedef struct mat3 {
    float m[9];
} mat3;

void mesh_init(mesh *m);
void mesh_free(mesh *m);
void mesh_clear(mesh *m);           /* nv = nt = 0, capacity kept, oom reset */

/* Adds a vertex / triangle; on allocation failure sets m->oom and returns -1
 * (every primitive below then does nothing further). */
int mesh_add_vertex(mesh *m, float x, float y, float z);
int mesh_add_triangle(mesh *m, int a, int b, int c);

/* Rotation from Euler angles in radians: R = Rz(rz) * Ry(ry) * Rx(rx). */
mat3 mat3_euler(float rx, float ry, float rz);

/* Box centred at c with half-extents h, rotated by r (about its centre). */
void mesh_add_box(mesh *m, const float c[3], const float h[3], mat3 r);
/* Ellipsoid centred at c with radii rad, rotated by r; nu segments around,
 * nv rings from pole to pole. */
void mesh_add_ellipsoid(mesh *m, const float c[3], const float rad[3], mat3 r, int nu, int nv);
/* Tapered cylinder (closed) from a (radius ra) to b (radius rb), nseg sides. */
void mesh_add_limb(mesh *m, const float a[3], const float b[3], float ra, float rb, int nseg);
/* A closed loft: nst stations along x; at station i the cross-section is the
 * ring of np points (y, z) given in yz[i*np*2 ...] at x = xs[i]. */
void mesh_add_loft(mesh *m, int nst, const float *xs, int np, const float *yz);

/* Moves the area-weighted centroid of the surface to the origin and scales so that the
 * farthest vertex is at distance 1.  Returns -1 for an empty or degenerate
 * mesh (all vertices at one point). */
int mesh_normalize(mesh *m);

#endif
