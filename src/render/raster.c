/* Z-buffered triangle rasteriser with flat Lambert shading (see raster.h).
 * Depth is tested on 1/z, which is linear in screen space, so the z-buffer
 * is exact for a pinhole camera.  Both faces of a triangle are shaded (the
 * normal is flipped towards the camera), so meshes need not be closed or
 * consistently wound. */
#include "raster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void raster_buf_init(raster_buf *b)
{
    memset(b, 0, sizeof *b);
}

void raster_buf_free(raster_buf *b)
{
    if (!b)
        return;
    free(b->zinv);
    free(b->shade);
    free(b->xv);
    memset(b, 0, sizeof *b);
}

static int reserve(raster_buf *b, int nsamples, int nvertices)
{
    if (nsamples > b->cap_samples) {
        float *z = malloc((size_t)nsamples * sizeof *z), *s = malloc((size_t)nsamples * sizeof *s);
        if (!z || !s) {
            free(z);
            free(s);
            return -1;
        }
        free(b->zinv);
        free(b->shade);
        b->zinv = z;
        b->shade = s;
        b->cap_samples = nsamples;
    }
    if (nvertices > b->cap_vertices) {
        int cap = nvertices < 1024 ? 1024 : nvertices;
        float *x = realloc(b->xv, (size_t)cap * 6 * sizeof *x);
        if (!x)
            return -1;
        b->xv = x;
        b->cap_vertices = cap;
    }
    return 0;
}

long raster_draw(const mesh *m, const raster_view *v, raster_buf *b)
{
    int W = v->width, H = v->height;
    if (reserve(b, W * H, m->nv) != 0)
        return -1;
    memset(b->zinv, 0, (size_t)W * H * sizeof *b->zinv);
    for (int i = 0; i < W * H; i++)
        b->shade[i] = -1.0f;

    const float *R = v->rot.m;
    float cx = 0.5f * W, cy = 0.5f * H, f = v->focal;
    for (int i = 0; i < m->nv; i++) {
        const float *p = m->v + 3 * i;
        float X = R[0] * p[0] + R[1] * p[1] + R[2] * p[2] + v->pos[0];
        float Y = R[3] * p[0] + R[4] * p[1] + R[5] * p[2] + v->pos[1];
        float Z = R[6] * p[0] + R[7] * p[1] + R[8] * p[2] + v->pos[2];
        float *o = b->xv + 6 * i;
        float zi = Z > 1e-6f ? 1.0f / Z : 0.0f;
        o[0] = cx + f * X * zi;
        o[1] = cy - f * Y * zi;
        o[2] = zi;
        o[3] = X;
        o[4] = Y;
        o[5] = Z;
    }

    long covered = 0;
    int sky = v->sky[0] != 0 || v->sky[1] != 0 || v->sky[2] != 0;
    for (int t = 0; t < m->nt; t++) {
        const float *a = b->xv + 6 * m->tri[3 * t];
        const float *c1 = b->xv + 6 * m->tri[3 * t + 1];
        const float *c2 = b->xv + 6 * m->tri[3 * t + 2];
        if (a[5] < 0.05f || c1[5] < 0.05f || c2[5] < 0.05f)
            continue;
        float area = (c1[0] - a[0]) * (c2[1] - a[1]) - (c2[0] - a[0]) * (c1[1] - a[1]);
        if (fabsf(area) < 1e-9f)
            continue;
        float minx = fminf(a[0], fminf(c1[0], c2[0])), maxx = fmaxf(a[0], fmaxf(c1[0], c2[0]));
        float miny = fminf(a[1], fminf(c1[1], c2[1])), maxy = fmaxf(a[1], fmaxf(c1[1], c2[1]));
        int i0 = (int)ceilf(minx - 0.5f), i1 = (int)floorf(maxx - 0.5f);
        int j0 = (int)ceilf(miny - 0.5f), j1 = (int)floorf(maxy - 0.5f);
        if (i0 < 0)
            i0 = 0;
        if (j0 < 0)
            j0 = 0;
        if (i1 > W - 1)
            i1 = W - 1;
        if (j1 > H - 1)
            j1 = H - 1;
        if (i0 > i1 || j0 > j1)
            continue;

        /* Flat shade from the camera-space normal, turned to face the camera. */
        float e1[3] = {c1[3] - a[3], c1[4] - a[4], c1[5] - a[5]};
        float e2[3] = {c2[3] - a[3], c2[4] - a[4], c2[5] - a[5]};
        float n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
        float nl = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(nl > 0))
            continue;
        if (n[0] * a[3] + n[1] * a[4] + n[2] * a[5] > 0)
            nl = -nl;
        float ndl = (n[0] * v->light[0] + n[1] * v->light[1] + n[2] * v->light[2]) / nl;
        float amb = v->ambient;
        if (sky)
            amb *= v->sky_floor + (1.0f - v->sky_floor) * 0.5f * (1.0f + (n[0] * v->sky[0] + n[1] * v->sky[1] + n[2] * v->sky[2]) / nl);
        float shade = v->albedo * (amb + (1.0f - v->ambient) * (ndl > 0 ? ndl : 0));
        if (m->tone[t] != 1.0f)
            shade *= m->tone[t];

        /* Edge functions, normalised by the area so they are barycentrics. */
        float inv = 1.0f / area;
        float A0 = (c1[1] - c2[1]) * inv, B0 = (c2[0] - c1[0]) * inv;
        float A1 = (c2[1] - a[1]) * inv, B1 = (a[0] - c2[0]) * inv;
        float px = i0 + 0.5f, py = j0 + 0.5f;
        float w0r = ((c2[0] - c1[0]) * (py - c1[1]) - (c2[1] - c1[1]) * (px - c1[0])) * inv;
        float w1r = ((a[0] - c2[0]) * (py - c2[1]) - (a[1] - c2[1]) * (px - c2[0])) * inv;
        float z0 = a[2], z1 = c1[2], z2 = c2[2];
        for (int j = j0; j <= j1; j++) {
            float w0 = w0r, w1 = w1r;
            float *zrow = b->zinv + (size_t)j * W, *srow = b->shade + (size_t)j * W;
            for (int i = i0; i <= i1; i++) {
                float w2 = 1.0f - w0 - w1;
                if (w0 >= 0 && w1 >= 0 && w2 >= 0) {
                    float zi = w0 * z0 + w1 * z1 + w2 * z2;
                    if (zi > zrow[i]) {
                        if (zrow[i] == 0)
                            covered++;
                        zrow[i] = zi;
                        srow[i] = shade;
                    }
                }
                w0 += A0;
                w1 += A1;
            }
            w0r += B0;
            w1r += B1;
        }
    }
    return covered;
}
