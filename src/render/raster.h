/* Software rasteriser for the synthetic renderer: perspective pinhole camera,
 * z-buffer, flat Lambert + ambient (uniform or from the sky) shading, times
 * the triangle's tone (mesh.h), at the supersampled resolution.
 * The caller composes the result over a background and box-filters it.
 *
 * Camera coordinates: x right, y up, z away from the camera (depth); the
 * image's top-left sample is (0, 0) and sample (i, j) has its centre at
 * (i + 0.5, j + 0.5).
 *
 * Memory: a raster_buf owns its arrays (raster_buf_free releases them); it is
 * scratch for one thread and is reused across images. */
#ifndef DRMM_RASTER_H
#define DRMM_RASTER_H

#include "mesh.h"

typedef struct raster_view {
    int width, height;     /* in samples (output size x supersampling) */
    float focal;           /* focal length in samples */
    mat3 rot;              /* object -> camera rotation */
    float pos[3];          /* object origin in camera coordinates (pos[2] > 0) */
    float light[3];        /* unit vector towards the light, camera coordinates */
    float ambient, albedo; /* shade = albedo * (ambient + (1 - ambient) * max(0, n.l)) */
    float sky[3];          /* zeros: the ambient light is the same from every side; else
                              the world's up in camera coordinates, and the ambient light
                              comes from the sky: the ambient term is ambient *
                              (sky_floor + (1 - sky_floor) * (1 + n.sky) / 2), all of it
                              for faces turned up, sky_floor of it for faces turned down */
    float sky_floor;
} raster_view;

typedef struct raster_buf {
    float *zinv;   /* width*height: 1/z of the nearest surface, 0 = none */
    float *shade;  /* width*height: shade in [0,1], or -1 where no surface */
    float *xv;     /* 6 per vertex: screen x, y, 1/z, camera x, y, z */
    int cap_samples, cap_vertices;
} raster_buf;

void raster_buf_init(raster_buf *b);
void raster_buf_free(raster_buf *b);

/* Draws m seen through v into b (resizing b as needed; previous contents
 * are cleared).  Triangles with a vertex closer than z = 0.05 are skipped.
 * Returns the number of samples covered, or -1 when memory is short. */
long raster_draw(const mesh *m, const raster_view *v, raster_buf *b);

#endif
