/* Triangle meshes and primitives (see mesh.h).  Triangle winding is not
 * relied upon: the rasteriser shades both sides. */
#include "mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mesh_init(mesh *m)
{
    memset(m, 0, sizeof *m);
}

void mesh_free(mesh *m)
{
    if (!m)
        return;
    free(m->v);
    free(m->tri);
    free(m->tone);
    memset(m, 0, sizeof *m);
}

void mesh_clear(mesh *m)
{
    m->nv = m->nt = 0;
    m->oom = 0;
    m->dark = 0;
}

int mesh_add_vertex(mesh *m, float x, float y, float z)
{
    if (m->oom)
        return -1;
    if (m->nv == m->cap_v) {
        int cap = m->cap_v ? 2 * m->cap_v : 256;
        float *v = realloc(m->v, (size_t)cap * 3 * sizeof *v);
        if (!v) {
            m->oom = 1;
            return -1;
        }
        m->v = v;
        m->cap_v = cap;
    }
    float *p = m->v + 3 * (size_t)m->nv;
    p[0] = x;
    p[1] = y;
    p[2] = z;
    return m->nv++;
}

int mesh_add_triangle(mesh *m, int a, int b, int c)
{
    if (m->oom)
        return -1;
    if (m->nt == m->cap_t) {
        int cap = m->cap_t ? 2 * m->cap_t : 256;
        int *t = realloc(m->tri, (size_t)cap * 3 * sizeof *t);
        if (!t) {
            m->oom = 1;
            return -1;
        }
        m->tri = t;
        float *tn = realloc(m->tone, (size_t)cap * sizeof *tn);
        if (!tn) {
            m->oom = 1;
            return -1;
        }
        m->tone = tn;
        m->cap_t = cap;
    }
    m->tone[m->nt] = 1.0f - m->dark;
    int *p = m->tri + 3 * (size_t)m->nt;
    p[0] = a;
    p[1] = b;
    p[2] = c;
    return m->nt++;
}

static void quad(mesh *m, int a, int b, int c, int d)
{
    mesh_add_triangle(m, a, b, c);
    mesh_add_triangle(m, a, c, d);
}

mat3 mat3_euler(float rx, float ry, float rz)
{
    float cx = cosf(rx), sx = sinf(rx), cy = cosf(ry), sy = sinf(ry), cz = cosf(rz), sz = sinf(rz);
    /* Rz * Ry * Rx */
    mat3 r = {{
        cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx,
        sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx,
        -sy,     cy * sx,                cy * cx,
    }};
    return r;
}

static int add_xf(mesh *m, const float c[3], mat3 r, float x, float y, float z)
{
    const float *a = r.m;
    return mesh_add_vertex(m, c[0] + a[0] * x + a[1] * y + a[2] * z,
                           c[1] + a[3] * x + a[4] * y + a[5] * z,
                           c[2] + a[6] * x + a[7] * y + a[8] * z);
}

void mesh_add_box(mesh *m, const float c[3], const float h[3], mat3 r)
{
    int base = m->nv;
    for (int i = 0; i < 8; i++)
        add_xf(m, c, r, (i & 1) ? h[0] : -h[0], (i & 2) ? h[1] : -h[1], (i & 4) ? h[2] : -h[2]);
    if (m->oom)
        return;
    static const int f[6][4] = {{0, 1, 3, 2}, {4, 5, 7, 6}, {0, 1, 5, 4},
                                {2, 3, 7, 6}, {0, 2, 6, 4}, {1, 3, 7, 5}};
    for (int i = 0; i < 6; i++)
        quad(m, base + f[i][0], base + f[i][1], base + f[i][2], base + f[i][3]);
}

void mesh_add_ellipsoid(mesh *m, const float c[3], const float rad[3], mat3 r, int nu, int nv)
{
    if (nu < 3)
        nu = 3;
    if (nv < 2)
        nv = 2;
    int top = add_xf(m, c, r, 0, rad[1], 0);
    int ring0 = m->nv;
    for (int j = 1; j < nv; j++) {
        float th = (float)M_PI * j / nv;
        float y = cosf(th), s = sinf(th);
        for (int i = 0; i < nu; i++) {
            float ph = 2.0f * (float)M_PI * i / nu;
            add_xf(m, c, r, rad[0] * s * cosf(ph), rad[1] * y, rad[2] * s * sinf(ph));
        }
    }
    int bottom = add_xf(m, c, r, 0, -rad[1], 0);
    if (m->oom)
        return;
    for (int i = 0; i < nu; i++) {
        int i2 = (i + 1) % nu;
        mesh_add_triangle(m, top, ring0 + i, ring0 + i2);
        for (int j = 0; j < nv - 2; j++)
            quad(m, ring0 + j * nu + i, ring0 + j * nu + i2, ring0 + (j + 1) * nu + i2, ring0 + (j + 1) * nu + i);
        int last = ring0 + (nv - 2) * nu;
        mesh_add_triangle(m, bottom, last + i2, last + i);
    }
}

void mesh_add_limb(mesh *m, const float a[3], const float b[3], float ra, float rb, int nseg)
{
    if (nseg < 3)
        nseg = 3;
    float d[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    float len = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (len < 1e-6f)
        return;
    for (int k = 0; k < 3; k++)
        d[k] /= len;
    /* Two unit vectors perpendicular to d. */
    float t[3] = {0, 0, 0};
    if (fabsf(d[0]) < 0.9f)
        t[0] = 1;
    else
        t[1] = 1;
    float u[3] = {d[1] * t[2] - d[2] * t[1], d[2] * t[0] - d[0] * t[2], d[0] * t[1] - d[1] * t[0]};
    float ul = sqrtf(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    for (int k = 0; k < 3; k++)
        u[k] /= ul;
    float w[3] = {d[1] * u[2] - d[2] * u[1], d[2] * u[0] - d[0] * u[2], d[0] * u[1] - d[1] * u[0]};
    int ca = mesh_add_vertex(m, a[0], a[1], a[2]);
    int cb = mesh_add_vertex(m, b[0], b[1], b[2]);
    int base = m->nv;
    for (int i = 0; i < nseg; i++) {
        float ph = 2.0f * (float)M_PI * i / nseg, cs = cosf(ph), sn = sinf(ph);
        float o[3] = {u[0] * cs + w[0] * sn, u[1] * cs + w[1] * sn, u[2] * cs + w[2] * sn};
        mesh_add_vertex(m, a[0] + ra * o[0], a[1] + ra * o[1], a[2] + ra * o[2]);
        mesh_add_vertex(m, b[0] + rb * o[0], b[1] + rb * o[1], b[2] + rb * o[2]);
    }
    if (m->oom)
        return;
    for (int i = 0; i < nseg; i++) {
        int i2 = (i + 1) % nseg;
        int a0 = base + 2 * i, b0 = a0 + 1, a1 = base + 2 * i2, b1 = a1 + 1;
        quad(m, a0, b0, b1, a1);
        mesh_add_triangle(m, ca, a0, a1);
        mesh_add_triangle(m, cb, b1, b0);
    }
}

void mesh_add_loft(mesh *m, int nst, const float *xs, int np, const float *yz)
{
    if (nst < 2 || np < 3)
        return;
    int base = m->nv;
    for (int s = 0; s < nst; s++)
        for (int p = 0; p < np; p++)
            mesh_add_vertex(m, xs[s], yz[(s * np + p) * 2], yz[(s * np + p) * 2 + 1]);
    /* End caps: a centre vertex per end. */
    float c0[2] = {0, 0}, c1[2] = {0, 0};
    for (int p = 0; p < np; p++) {
        c0[0] += yz[p * 2] / np;
        c0[1] += yz[p * 2 + 1] / np;
        c1[0] += yz[((nst - 1) * np + p) * 2] / np;
        c1[1] += yz[((nst - 1) * np + p) * 2 + 1] / np;
    }
    int e0 = mesh_add_vertex(m, xs[0], c0[0], c0[1]);
    int e1 = mesh_add_vertex(m, xs[nst - 1], c1[0], c1[1]);
    if (m->oom)
        return;
    for (int s = 0; s + 1 < nst; s++)
        for (int p = 0; p < np; p++) {
            int p2 = (p + 1) % np;
            quad(m, base + s * np + p, base + s * np + p2, base + (s + 1) * np + p2, base + (s + 1) * np + p);
        }
    for (int p = 0; p < np; p++) {
        int p2 = (p + 1) % np;
        mesh_add_triangle(m, e0, base + p, base + p2);
        mesh_add_triangle(m, e1, base + (nst - 1) * np + p2, base + (nst - 1) * np + p);
    }
}

int mesh_normalize(mesh *m)
{
    if (m->nv == 0 || m->nt == 0)
        return -1;
    /* Centre: the area-weighted centroid of the surface, which is close to
     * where the object's silhouette has its centre of mass from any view. */
    double c[3] = {0, 0, 0}, total = 0;
    for (int t = 0; t < m->nt; t++) {
        const float *a = m->v + 3 * m->tri[3 * t], *b = m->v + 3 * m->tri[3 * t + 1],
                    *d = m->v + 3 * m->tri[3 * t + 2];
        double e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, e2[3] = {d[0] - a[0], d[1] - a[1], d[2] - a[2]};
        double n0 = e1[1] * e2[2] - e1[2] * e2[1], n1 = e1[2] * e2[0] - e1[0] * e2[2], n2 = e1[0] * e2[1] - e1[1] * e2[0];
        double area = 0.5 * sqrt(n0 * n0 + n1 * n1 + n2 * n2);
        for (int k = 0; k < 3; k++)
            c[k] += area * (a[k] + b[k] + d[k]) / 3.0;
        total += area;
    }
    if (!(total > 1e-20) || !isfinite(total))
        return -1;
    for (int k = 0; k < 3; k++)
        c[k] /= total;
    double r2 = 0;
    for (int i = 0; i < m->nv; i++) {
        double s = 0;
        for (int k = 0; k < 3; k++) {
            double d = m->v[3 * i + k] - c[k];
            s += d * d;
        }
        if (s > r2)
            r2 = s;
    }
    if (!(r2 > 1e-20) || !isfinite(r2))
        return -1;
    double inv = 1.0 / sqrt(r2);
    for (int i = 0; i < m->nv; i++)
        for (int k = 0; k < 3; k++)
            m->v[3 * i + k] = (float)((m->v[3 * i + k] - c[k]) * inv);
    return 0;
}
