/* Procedural mesh families for the ten classes (see objects.h).
 *
 * Each builder takes six proportions s[0..5] in [0, 1] and a sub-type.
 * Per family (variants; s0..s5):
 *   airplane   0 airliner (low wing, engines), 1 high wing, 2 delta;
 *              fuselage length, fuselage radius, span, chord, sweep, dihedral
 *   automobile 0 sedan, 1 hatchback, 2 SUV;
 *              length, width, body height, wheel radius, cabin length, cabin height
 *   bird       0 perched (folded wings, legs), 1 flying (spread wings);
 *              body length, body girth, body pitch, head size, beak length, wing span
 *   cat        0 standing tail up, 1 standing tail low, 2 sitting;
 *              body length, leg length, tail curl, head size, ear size, girth
 *   deer       0 stag (antlers), 1 doe;
 *              body length, leg length, neck angle, neck length, antler size, stride
 *   dog        0 floppy ears, 1 pricked ears;
 *              body length, leg length, snout length, head size, tail angle, girth
 *   frog       0 sitting, 1 leaping;
 *              body width, body length, eye size, leg size, body pitch, head size
 *   horse      0 standing, 1 grazing, 2 galloping;
 *              body length, leg length, neck length, head length, girth, tail angle
 *   ship       0 cargo (containers), 1 liner (decks, funnels), 2 sailing ship;
 *              hull length/width ratio, hull depth, superstructure size,
 *              count (containers, funnels, masts), bow taper, superstructure position
 *   truck      0 box truck, 1 tanker, 2 flatbed with load;
 *              length, cab height, cargo height, wheel radius, cab length, width
 * Units are arbitrary (the mesh is normalised to the unit sphere at the end).
 * That is the first set (OBJECTS_SET_FIRST: framed, clutter; unchanged so
 * those scenes render as before).  The studio set (OBJECTS_SET_STUDIO,
 * documented above its builders) keeps the airplane (no delta wing), the
 * automobile (no SUV), the frog and the ship, replaces the bird, cat, deer,
 * dog, horse and truck with more distinct families, uses the middle 60% of
 * every proportion's range and gives some parts a darker tone (mesh.h).
 */
#include "objects.h"

#include <math.h>
#include <stddef.h>

const char *const objects_class_names[OBJECTS_N_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
};

static const int n_variants[OBJECTS_N_SETS][OBJECTS_N_CLASSES] = {
    {3, 3, 2, 3, 2, 2, 2, 3, 3, 3},
    {2, 2, 2, 2, 2, 2, 2, 2, 3, 3},
};

int objects_n_variants(int set, int label)
{
    return set >= 0 && set < OBJECTS_N_SETS && label >= 0 && label < OBJECTS_N_CLASSES ? n_variants[set][label] : 0;
}

static float lerp(float a, float b, float t)
{
    return a + (b - a) * t;
}

#define P3(x, y, z) ((const float[3]){(x), (y), (z)})
static const mat3 I3 = {{1, 0, 0, 0, 1, 0, 0, 0, 1}};

/* Ellipsoid / box / limb shorthands. */
static void ell(mesh *m, float x, float y, float z, float rx, float ry, float rz, mat3 r, int nu, int nv)
{
    mesh_add_ellipsoid(m, P3(x, y, z), P3(rx, ry, rz), r, nu, nv);
}

static void box(mesh *m, float x, float y, float z, float hx, float hy, float hz, mat3 r)
{
    mesh_add_box(m, P3(x, y, z), P3(hx, hy, hz), r);
}

static void limb(mesh *m, float ax, float ay, float az, float bx, float by, float bz, float ra, float rb)
{
    mesh_add_limb(m, P3(ax, ay, az), P3(bx, by, bz), ra, rb, 6);
}

/* A leg from the hip (x, y, z) down to the ground, swung by `swing` radians
 * about z (positive = foot forward), with a knee bend. */
static void leg(mesh *m, float x, float y, float z, float len, float r, float swing, float bend)
{
    float kx = x + 0.5f * len * sinf(swing), ky = y - 0.5f * len * cosf(swing);
    float fx = kx + 0.5f * len * sinf(swing - bend), fy = ky - 0.5f * len * cosf(swing - bend);
    limb(m, x, y, z, kx, ky, z, r, r * 0.8f);
    limb(m, kx, ky, z, fx, fy, z, r * 0.8f, r * 0.65f);
}

static void wheel(mesh *m, float x, float y, float z, float r, float w)
{
    mesh_add_limb(m, P3(x, y, z - w), P3(x, y, z + w), r, r, 10);
}

/* ---- airplane ---- */
static void airplane(mesh *m, int var, const float *s)
{
    float L = lerp(3.0f, 4.2f, s[0]), R = lerp(0.2f, 0.32f, s[1]);
    float span = lerp(2.6f, 4.0f, s[2]), chord = lerp(0.45f, 0.8f, s[3]);
    float sweep = lerp(0.0f, 0.5f, s[4]), dih = lerp(0.0f, 0.15f, s[5]);
    float wy = -0.5f * R, wx = 0.05f * L;
    int horiz_tail = 1;
    if (var == 1) {
        wy = 0.85f * R;
        sweep *= 0.2f;
        dih *= 0.3f;
        span *= 1.1f;
    } else if (var == 2) {
        sweep = lerp(0.75f, 1.0f, s[4]);
        chord *= 1.8f;
        span *= 0.75f;
        wx = -0.12f * L;
        wy = 0;
        horiz_tail = 0;
    }
    ell(m, 0, 0, 0, 0.5f * L, R, R, I3, 14, 8);
    float q = span / 4;
    for (int side = -1; side <= 1; side += 2) {
        float cx = wx - sinf(sweep) * q, cy = wy + sinf(dih) * q;
        box(m, cx, cy, side * q, chord / 2, 0.035f, q, mat3_euler(-side * dih, -side * sweep, 0));
        if (var == 0)
            limb(m, wx + 0.35f, wy - 0.18f, side * span * 0.2f, wx - 0.3f, wy - 0.18f, side * span * 0.2f, 0.12f, 0.1f);
        if (horiz_tail)
            box(m, -0.5f * L + 0.25f, 0.2f * R, side * span * 0.09f, 0.18f, 0.025f, span * 0.09f,
                mat3_euler(0, -side * sweep, 0));
    }
    float fh = lerp(0.45f, 0.7f, s[3]);
    box(m, -0.5f * L + 0.3f, R + fh / 2 - 0.05f, 0, 0.25f, fh / 2, 0.03f, mat3_euler(0, 0, 0.45f));
}

/* ---- automobile ---- */
/* dark: the tone of the cabin's glass and of the tyres is 1 - dark (0 in the
 * first set: one albedo for the whole car). */
static void automobile(mesh *m, int var, const float *s, float dark)
{
    float L = lerp(3.6f, 4.6f, s[0]), W = lerp(1.6f, 1.9f, s[1]), hb = lerp(0.45f, 0.65f, s[2]);
    float rw = lerp(0.3f, 0.4f, s[3]), lc = L * lerp(0.4f, 0.55f, s[4]), hc = lerp(0.4f, 0.55f, s[5]);
    if (var == 2) {
        hb *= 1.35f;
        rw *= 1.15f;
        hc *= 1.1f;
        lc = L * lerp(0.55f, 0.7f, s[4]);
    }
    float yb = rw * 0.55f;
    box(m, 0, yb + hb / 2, 0, L / 2, hb / 2, W / 2, I3);
    /* Cabin: a loft whose height profile gives sloped windscreens. */
    float xr = var == 0 ? -0.5f * L + 0.55f : -0.5f * L + 0.05f;
    float xf = xr + lc;
    float rear_slope = var == 0 ? 0.35f : 0.08f;
    float xs[4] = {xr, xr + rear_slope, xf - 0.45f, xf};
    float hs[4] = {0.02f, hc, hc, 0.02f};
    if (var != 0)
        hs[0] = hc * 0.9f;
    float yz[4 * 4 * 2];
    float y0 = yb + hb - 0.01f, hw = 0.45f * W;
    for (int i = 0; i < 4; i++) {
        float w = hw * (hs[i] > 0.1f ? 0.92f : 1.0f);
        float *p = yz + i * 8;
        p[0] = y0, p[1] = -hw;
        p[2] = y0, p[3] = hw;
        p[4] = y0 + hs[i], p[5] = w;
        p[6] = y0 + hs[i], p[7] = -w;
    }
    m->dark = dark;
    mesh_add_loft(m, 4, xs, 4, yz);
    float wx = L / 2 - rw * 1.35f;
    for (int side = -1; side <= 1; side += 2)
        for (int f = -1; f <= 1; f += 2)
            wheel(m, f * wx, rw, side * (W / 2 - 0.08f), rw, 0.13f);
    m->dark = 0;
}

/* ---- bird ---- */
static void bird(mesh *m, int var, const float *s)
{
    float bl = lerp(0.55f, 0.8f, s[0]), bg = lerp(0.26f, 0.36f, s[1]);
    float pitch = var == 0 ? lerp(0.25f, 0.7f, s[2]) : lerp(-0.1f, 0.15f, s[2]);
    float hr = lerp(0.17f, 0.25f, s[3]), beak = lerp(0.12f, 0.4f, s[4]);
    float span = lerp(1.6f, 2.8f, s[5]);
    mat3 rb = mat3_euler(0, 0, pitch);
    float c = cosf(pitch), sn = sinf(pitch);
    ell(m, 0, 0, 0, bl, bg, bg * 0.95f, rb, 12, 8);
    float hx = (bl + hr * 0.5f) * c, hy = (bl + hr * 0.5f) * sn + hr * 0.6f;
    ell(m, hx, hy, 0, hr, hr, hr * 0.9f, I3, 10, 6);
    limb(m, hx + hr * 0.8f, hy, 0, hx + hr * 0.8f + beak, hy - beak * 0.15f, 0, hr * 0.35f, 0.01f);
    /* Tail: a flat box behind, continuing the body line. */
    float tl = bl * 0.7f;
    box(m, -(bl + tl * 0.4f) * c, -(bl + tl * 0.4f) * sn, 0, tl / 2, 0.02f, bg * 0.7f, mat3_euler(0, 0, pitch - 0.15f));
    if (var == 0) {
        for (int side = -1; side <= 1; side += 2) {
            ell(m, -0.1f * bl * c, 0, side * bg * 0.8f, bl * 0.85f, bg * 0.65f, bg * 0.25f, rb, 10, 6);
            float lx = -0.05f, ly = -bg * 0.8f;
            limb(m, lx, ly, side * bg * 0.4f, lx + 0.05f, ly - 0.45f, side * bg * 0.4f, 0.035f, 0.025f);
        }
    } else {
        float up = lerp(-0.1f, 0.5f, s[2] * 0.5f + s[5] * 0.5f);
        for (int side = -1; side <= 1; side += 2) {
            float q = span / 4;
            box(m, 0.05f, sinf(up) * q, side * (q + bg * 0.5f), bl * 0.45f, 0.025f, q, mat3_euler(-side * up, 0, 0));
        }
    }
}

/* ---- quadruped helpers ---- */
static void ears(mesh *m, float hx, float hy, float hr, float size, int pricked)
{
    for (int side = -1; side <= 1; side += 2) {
        if (pricked)
            limb(m, hx - hr * 0.1f, hy + hr * 0.6f, side * hr * 0.5f, hx - hr * 0.2f, hy + hr * 0.6f + size,
                 side * hr * 0.65f, size * 0.45f, 0.01f);
        else
            ell(m, hx - hr * 0.2f, hy - hr * 0.1f, side * hr * 0.95f, size * 0.35f, size, size * 0.12f,
                mat3_euler(0, 0, -0.2f), 6, 4);
    }
}

/* ---- cat ---- */
static void cat(mesh *m, int var, const float *s)
{
    float bl = lerp(0.75f, 1.0f, s[0]), ll = lerp(0.45f, 0.7f, s[1]), curl = s[2];
    float hr = lerp(0.25f, 0.33f, s[3]), ear = lerp(0.14f, 0.24f, s[4]), g = lerp(0.24f, 0.34f, s[5]);
    if (var == 2) {
        /* Sitting: body pitched up, hind legs folded, front legs straight. */
        float p = 0.75f;
        ell(m, 0, ll * 0.6f, 0, bl * 0.8f, g, g * 0.95f, mat3_euler(0, 0, p), 12, 8);
        float hx = bl * 0.8f * cosf(p) + hr * 0.3f, hy = ll * 0.6f + bl * 0.8f * sinf(p) + hr * 0.8f;
        ell(m, hx, hy, 0, hr, hr * 0.9f, hr, I3, 10, 6);
        ears(m, hx, hy, hr, ear, 1);
        for (int side = -1; side <= 1; side += 2) {
            limb(m, hx - hr * 0.3f, hy - hr * 1.2f, side * g * 0.5f, hx - hr * 0.1f, 0, side * g * 0.5f, 0.07f, 0.06f);
            ell(m, -bl * 0.45f, ll * 0.25f, side * g * 0.8f, bl * 0.4f, ll * 0.3f, 0.09f, I3, 8, 6);
        }
        float tx = -bl * 0.7f, ty = 0.05f;
        limb(m, tx, ty, 0, tx - 0.2f, 0.03f, 0.4f + 0.3f * curl, 0.05f, 0.045f);
        return;
    }
    float y = ll;
    ell(m, 0, y, 0, bl, g, g * 0.9f, I3, 12, 8);
    float hx = bl + hr * 0.5f, hy = y + g * 0.8f;
    ell(m, hx, hy, 0, hr, hr * 0.9f, hr, I3, 10, 6);
    limb(m, hx + hr * 0.6f, hy - hr * 0.25f, 0, hx + hr * 1.05f, hy - hr * 0.3f, 0, hr * 0.4f, hr * 0.3f);
    ears(m, hx, hy, hr, ear, 1);
    float stride = (s[0] - 0.5f) * 0.3f;
    for (int side = -1; side <= 1; side += 2) {
        leg(m, bl * 0.7f, y, side * g * 0.55f, ll + 0.05f, 0.07f, stride * side, 0.1f);
        leg(m, -bl * 0.7f, y, side * g * 0.55f, ll + 0.05f, 0.08f, -stride * side, -0.2f);
    }
    float a1 = var == 0 ? lerp(0.9f, 1.4f, curl) : lerp(-0.6f, -0.2f, curl);
    float tl = bl * 0.8f;
    float t1x = -bl * 0.95f - tl * 0.5f * cosf(a1), t1y = y + g * 0.3f + tl * 0.5f * sinf(a1);
    limb(m, -bl * 0.95f, y + g * 0.3f, 0, t1x, t1y, 0, 0.055f, 0.05f);
    float a2 = a1 + (var == 0 ? -1.2f * curl : 0.4f);
    limb(m, t1x, t1y, 0, t1x - tl * 0.5f * cosf(a2), t1y + tl * 0.5f * sinf(a2), 0, 0.05f, 0.04f);
}

/* A deer's antlers: a beam each side from above the head at (hx, hy),
 * swept back by back * size and out by out * size, radii r0 to r1, with
 * `tines` tines at fractions step, 2 step, ... of the beam, each reaching
 * forward by fwd * size and up by 0.3 size, radius tine_r to 0.01. */
typedef struct antler_shape {
    float back, out, r0, r1;
    int tines;
    float step, fwd, tine_r;
} antler_shape;

static void antlers(mesh *m, float hx, float hy, float ant, antler_shape a)
{
    for (int side = -1; side <= 1; side += 2) {
        float bx = hx - 0.02f, by = hy + 0.1f, bz = side * 0.06f;
        float tx = bx - a.back * ant, ty = by + ant, tz = side * a.out * ant;
        limb(m, bx, by, bz, tx, ty, tz, a.r0, a.r1);
        for (int k = 1; k <= a.tines; k++) {
            float f = a.step * k;
            float px = bx + (tx - bx) * f, py = by + (ty - by) * f, pz = bz + (tz - bz) * f;
            limb(m, px, py, pz, px + a.fwd * ant, py + 0.3f * ant, pz, a.tine_r, 0.01f);
        }
    }
}

/* ---- deer ---- */
static void deer(mesh *m, int var, const float *s)
{
    float bl = lerp(0.8f, 1.05f, s[0]), ll = lerp(0.95f, 1.3f, s[1]), na = lerp(0.7f, 1.2f, s[2]);
    float nl = lerp(0.55f, 0.8f, s[3]), ant = lerp(0.4f, 0.8f, s[4]), stride = lerp(-0.25f, 0.25f, s[5]);
    float g = 0.3f, y = ll;
    ell(m, 0, y, 0, bl, g * 1.1f, g, I3, 12, 8);
    float nx = bl * 0.8f, ny = y + g * 0.5f;
    float hx = nx + nl * cosf(na), hy = ny + nl * sinf(na);
    limb(m, nx, ny, 0, hx, hy, 0, 0.16f, 0.1f);
    /* Head: elongated, pointing forward and down. */
    ell(m, hx + 0.12f, hy, 0, 0.22f, 0.11f, 0.1f, mat3_euler(0, 0, -0.4f), 8, 6);
    ears(m, hx, hy, 0.12f, 0.14f, 1);
    if (var == 0)
        antlers(m, hx, hy, ant, (antler_shape){0.15f, 0.35f, 0.025f, 0.015f, 2, 0.35f, 0.2f, 0.018f});
    for (int side = -1; side <= 1; side += 2) {
        leg(m, bl * 0.75f, y, side * g * 0.5f, ll + 0.05f, 0.055f, stride * side, 0.05f);
        leg(m, -bl * 0.75f, y, side * g * 0.5f, ll + 0.05f, 0.065f, -stride * side, -0.15f);
    }
    limb(m, -bl * 0.98f, y + g * 0.5f, 0, -bl * 1.12f, y + g * 0.8f, 0, 0.06f, 0.03f);
}

/* ---- dog ---- */
static void dog(mesh *m, int var, const float *s)
{
    float bl = lerp(0.7f, 1.0f, s[0]), ll = lerp(0.5f, 0.85f, s[1]), sn = lerp(0.15f, 0.4f, s[2]);
    float hr = lerp(0.22f, 0.32f, s[3]), ta = lerp(-0.4f, 1.2f, s[4]), g = lerp(0.28f, 0.4f, s[5]);
    float y = ll;
    ell(m, 0, y, 0, bl, g, g * 0.9f, I3, 12, 8);
    float hx = bl + hr * 0.3f, hy = y + g + hr * 0.5f;
    limb(m, bl * 0.75f, y + g * 0.3f, 0, hx, hy, 0, g * 0.6f, hr * 0.7f);
    ell(m, hx, hy, 0, hr, hr * 0.9f, hr * 0.85f, I3, 10, 6);
    limb(m, hx + hr * 0.5f, hy - hr * 0.2f, 0, hx + hr * 0.7f + sn, hy - hr * 0.35f, 0, hr * 0.5f, hr * 0.38f);
    ears(m, hx, hy, hr, lerp(0.18f, 0.26f, s[3]), var == 1);
    float stride = (s[1] - 0.5f) * 0.4f;
    for (int side = -1; side <= 1; side += 2) {
        leg(m, bl * 0.72f, y, side * g * 0.55f, ll + 0.05f, 0.085f, stride * side, 0.05f);
        leg(m, -bl * 0.72f, y, side * g * 0.55f, ll + 0.05f, 0.095f, -stride * side, -0.2f);
    }
    float tl = bl * 0.6f;
    limb(m, -bl * 0.95f, y + g * 0.4f, 0, -bl * 0.95f - tl * cosf(ta), y + g * 0.4f + tl * sinf(ta), 0, 0.07f, 0.035f);
}

/* ---- frog ---- */
static void frog(mesh *m, int var, const float *s)
{
    float bw = lerp(0.45f, 0.65f, s[0]), bl = lerp(0.6f, 0.8f, s[1]), er = lerp(0.1f, 0.16f, s[2]);
    float lg = lerp(0.8f, 1.2f, s[3]), pitch = lerp(0.15f, 0.45f, s[4]), hs = lerp(0.8f, 1.1f, s[5]);
    float y = 0.3f;
    ell(m, 0, y, 0, bl, 0.3f, bw, mat3_euler(0, 0, pitch), 12, 8);
    float hx = bl * 0.85f * cosf(pitch), hy = y + bl * 0.85f * sinf(pitch);
    ell(m, hx, hy, 0, 0.3f * hs, 0.2f * hs, bw * 0.8f, mat3_euler(0, 0, pitch * 0.5f), 10, 6);
    for (int side = -1; side <= 1; side += 2) {
        ell(m, hx, hy + 0.16f * hs, side * bw * 0.5f, er, er, er, I3, 8, 6);
        /* Front legs: short, straight down. */
        limb(m, hx - 0.1f, hy - 0.1f, side * bw * 0.7f, hx + 0.05f, 0, side * bw * 0.85f, 0.06f, 0.05f);
        float hipx = -bl * 0.7f, hipz = side * bw * 0.8f;
        if (var == 0) {
            /* Folded hind legs: thigh forward, shin back, flat foot. */
            float kx = hipx + 0.45f * lg, kz = side * (bw + 0.25f * lg);
            limb(m, hipx, y, hipz, kx, 0.12f, kz, 0.11f * lg, 0.08f * lg);
            limb(m, kx, 0.12f, kz, hipx - 0.05f, 0.05f, kz, 0.08f * lg, 0.06f * lg);
            box(m, hipx + 0.1f, 0.02f, kz + side * 0.05f, 0.2f * lg, 0.02f, 0.08f * lg, I3);
        } else {
            /* Leaping: hind legs stretched back. */
            float kx = hipx - 0.4f * lg, ky = y - 0.05f;
            limb(m, hipx, y, hipz, kx, ky, hipz + side * 0.1f, 0.1f * lg, 0.07f * lg);
            limb(m, kx, ky, hipz + side * 0.1f, kx - 0.45f * lg, ky - 0.1f, hipz + side * 0.15f, 0.07f * lg, 0.05f * lg);
            box(m, kx - 0.55f * lg, ky - 0.12f, hipz + side * 0.15f, 0.15f * lg, 0.02f, 0.07f * lg, I3);
        }
    }
}

/* ---- horse ---- */
static void horse(mesh *m, int var, const float *s)
{
    float bl = lerp(1.0f, 1.25f, s[0]), ll = lerp(1.05f, 1.4f, s[1]), nl = lerp(0.75f, 1.0f, s[2]);
    float hl = lerp(0.45f, 0.6f, s[3]), g = lerp(0.38f, 0.48f, s[4]), ta = lerp(-1.3f, -0.6f, s[5]);
    float y = ll;
    ell(m, 0, y, 0, bl, g, g * 0.85f, I3, 12, 8);
    float na = var == 1 ? -0.9f : lerp(0.8f, 1.1f, s[2]);
    float nx = bl * 0.8f, ny = y + g * 0.4f;
    float tx = nx + nl * cosf(na), ty = ny + nl * sinf(na);
    limb(m, nx, ny, 0, tx, ty, 0, g * 0.55f, 0.14f);
    float ha = var == 1 ? -1.4f : -0.75f;
    limb(m, tx, ty, 0, tx + hl * cosf(ha), ty + hl * sinf(ha), 0, 0.14f, 0.09f);
    ears(m, tx, ty, 0.12f, 0.12f, 1);
    float st = var == 2 ? 0.55f : (s[0] - 0.5f) * 0.2f;
    for (int side = -1; side <= 1; side += 2) {
        float fs = var == 2 ? (side > 0 ? st : st * 0.6f) : st * side;
        float bs = var == 2 ? (side > 0 ? -st : -st * 0.6f) : -st * side;
        leg(m, bl * 0.75f, y, side * g * 0.5f, ll + 0.05f, 0.09f, fs, var == 2 ? 0.5f : 0.05f);
        leg(m, -bl * 0.75f, y, side * g * 0.5f, ll + 0.05f, 0.1f, bs, -0.2f);
    }
    float tl = 0.8f;
    limb(m, -bl * 0.97f, y + g * 0.5f, 0, -bl * 0.97f + tl * cosf(ta) * -0.5f, y + g * 0.5f + tl * sinf(ta), 0, 0.08f, 0.05f);
}

/* ---- ship ---- */
/* dark: the hull's tone is 1 - dark (0 in the first set). */
static void ship(mesh *m, int var, const float *s, float dark)
{
    float L = 4.0f, W = L / lerp(5.0f, 8.0f, s[0]), D = lerp(0.3f, 0.5f, s[1]);
    float sup = lerp(0.7f, 1.2f, s[2]), taper = lerp(0.2f, 0.45f, s[4]), pos = s[5];
    int count = 1 + (int)(s[3] * 2.999f);
    /* Hull: trapezoid cross-sections, tapering to the bow. */
    float xs[5] = {-L / 2, -L / 2 + 0.2f, L / 2 - taper * L, L / 2 - taper * L * 0.4f, L / 2};
    float ws[5] = {0.8f, 1.0f, 1.0f, 0.6f, 0.02f};
    float yz[5 * 4 * 2];
    for (int i = 0; i < 5; i++) {
        float w = 0.5f * W * ws[i], top = D * (i == 4 ? 1.15f : 1.0f);
        float *p = yz + i * 8;
        p[0] = 0, p[1] = -0.5f * w;
        p[2] = 0, p[3] = 0.5f * w;
        p[4] = top, p[5] = w;
        p[6] = top, p[7] = -w;
    }
    m->dark = dark;
    mesh_add_loft(m, 5, xs, 4, yz);
    m->dark = 0;
    float deck = D;
    if (var == 0) {
        /* Bridge aft, containers forward. */
        float bx = -L / 2 + 0.35f + pos * 0.3f;
        box(m, bx, deck + 0.35f * sup, 0, 0.2f, 0.35f * sup, W * 0.42f, I3);
        int rows = 2 + count * 2;
        float x0 = bx + 0.35f, x1 = L / 2 - taper * L;
        float cl = (x1 - x0) / rows;
        for (int r = 0; r < rows; r++) {
            float h = 0.12f * (1 + ((r * 7 + count) % 3)) * sup;
            box(m, x0 + cl * (r + 0.5f), deck + h / 2, 0, cl * 0.45f, h / 2, W * 0.4f, I3);
        }
    } else if (var == 1) {
        float lx = L * 0.55f * sup, cx = -0.1f + (pos - 0.5f) * 0.4f;
        box(m, cx, deck + 0.15f, 0, lx / 2, 0.15f, W * 0.45f, I3);
        box(m, cx + 0.1f, deck + 0.42f, 0, lx * 0.4f, 0.12f, W * 0.4f, I3);
        for (int k = 0; k < count; k++) {
            float fx = cx + lx * 0.35f * ((count == 1) ? 0 : (k / (float)(count - 1) - 0.5f));
            limb(m, fx, deck + 0.5f, 0, fx - 0.08f, deck + 0.85f * sup + 0.1f, 0, 0.1f, 0.09f);
        }
    } else {
        /* Sailing ship: masts with sails (thin boxes). */
        box(m, -L / 2 + 0.4f, deck + 0.12f, 0, 0.3f, 0.12f, W * 0.4f, I3);
        for (int k = 0; k < count; k++) {
            float mx = (count == 1) ? 0.1f : lerp(-0.9f, 0.9f, k / (float)(count - 1)) * (L / 2 - 0.5f) / 1.1f;
            float mh = (1.4f + 0.4f * (k == count / 2)) * sup;
            limb(m, mx, deck, 0, mx, deck + mh, 0, 0.035f, 0.025f);
            box(m, mx, deck + mh * 0.55f, 0, 0.03f, mh * 0.38f, W * 0.9f * sup, mat3_euler(0, 0.3f * (pos - 0.5f), 0));
        }
    }
}

/* ---- truck ---- */
/* dark: the tyres' tone is 1 - dark (0 in the first set). */
static void truck(mesh *m, int var, const float *s, float dark)
{
    float L = lerp(5.0f, 7.0f, s[0]), hc = lerp(1.1f, 1.5f, s[1]), hg = lerp(1.2f, 1.8f, s[2]);
    float rw = lerp(0.4f, 0.52f, s[3]), lc = lerp(1.1f, 1.5f, s[4]), W = lerp(1.9f, 2.4f, s[5]);
    float yb = rw * 1.2f;
    /* Chassis. */
    box(m, 0, yb, 0, L / 2, 0.12f, W * 0.42f, I3);
    /* Cab at the front, with a sloped top front edge. */
    float cx0 = L / 2 - lc;
    float xs[3] = {cx0, L / 2 - 0.25f, L / 2};
    float hs[3] = {hc, hc, hc * 0.75f};
    float yz[3 * 4 * 2];
    for (int i = 0; i < 3; i++) {
        float *p = yz + i * 8, w = W / 2;
        p[0] = yb, p[1] = -w;
        p[2] = yb, p[3] = w;
        p[4] = yb + hs[i], p[5] = w;
        p[6] = yb + hs[i], p[7] = -w;
    }
    mesh_add_loft(m, 3, xs, 4, yz);
    float gx1 = cx0 - 0.15f, gx0 = -L / 2, gl = gx1 - gx0;
    if (var == 0) {
        box(m, (gx0 + gx1) / 2, yb + 0.1f + hg / 2, 0, gl / 2, hg / 2, W / 2, I3);
    } else if (var == 1) {
        float r = hg * 0.42f;
        mesh_add_limb(m, P3(gx0 + 0.1f, yb + 0.15f + r, 0), P3(gx1, yb + 0.15f + r, 0), r, r, 14);
    } else {
        box(m, (gx0 + gx1) / 2, yb + 0.15f, 0, gl / 2, 0.05f, W / 2, I3);
        float h = hg * 0.45f;
        box(m, (gx0 + gx1) / 2 - 0.1f * gl, yb + 0.2f + h / 2, 0, gl * 0.32f, h / 2, W * 0.42f, I3);
        for (int side = -1; side <= 1; side += 2)
            box(m, (gx0 + gx1) / 2, yb + 0.35f, side * W / 2, gl / 2, 0.2f, 0.03f, I3);
    }
    m->dark = dark;
    for (int side = -1; side <= 1; side += 2) {
        float z = side * (W / 2 - 0.15f);
        wheel(m, L / 2 - lc * 0.55f, rw, z, rw, 0.17f);
        wheel(m, gx0 + gl * 0.25f, rw, z, rw, 0.17f);
        wheel(m, gx0 + gl * 0.25f + 2.15f * rw, rw, z, rw, 0.17f);
    }
    m->dark = 0;
}

/* ---- the studio scene's families (OBJECTS_SET_STUDIO) ----
 * Built to differ more between classes than the first set in a small gray
 * image: the cat short-legged with a big round head and a tail held
 * straight up, the dog with a long thick snout and hanging ears, the deer
 * slender on long thin legs with an upright neck and large antlers, the
 * horse heavy on thick legs with a long head, a mane and a hanging tail,
 * the bird perched (no spread wings, unlike an airplane), the truck a tall
 * cargo box behind a lower cab.  Some parts are darker (mesh.tone): the
 * car's glass cabin (0.35) and tyres, the truck's tyres (0.3), the ship's
 * hull (0.55), the horse's mane and tail and the dog's hanging ears (0.5). */

/* bird: 0 perched songbird (body pitched 0.3-0.6 rad), 1 upright perched
 * bird (pitched 0.9-1.2 rad, as an owl); s as the first set's bird. */
static void bird_studio(mesh *m, int var, const float *s)
{
    float bl = lerp(0.55f, 0.75f, s[0]), bg = lerp(0.3f, 0.38f, s[1]);
    float pitch = var == 0 ? lerp(0.3f, 0.6f, s[2]) : lerp(0.9f, 1.2f, s[2]);
    float hr = lerp(0.22f, 0.28f, s[3]), beak = lerp(0.15f, 0.3f, s[4]);
    mat3 rb = mat3_euler(0, 0, pitch);
    float c = cosf(pitch), sn = sinf(pitch), y = 0.5f;
    ell(m, 0, y, 0, bl, bg, bg * 0.95f, rb, 12, 8);
    float hx = (bl * 0.85f) * c + hr * 0.3f, hy = y + (bl * 0.85f) * sn + hr * 0.7f;
    ell(m, hx, hy, 0, hr, hr, hr * 0.9f, I3, 10, 6);
    limb(m, hx + hr * 0.8f, hy, 0, hx + hr * 0.8f + beak, hy - beak * 0.2f, 0, hr * 0.35f, 0.01f);
    float tl = bl * 0.9f, ta = pitch - 0.25f;
    box(m, -(bl + tl * 0.35f) * c, y - (bl + tl * 0.35f) * sn, 0, tl / 2, 0.02f, bg * 0.6f, mat3_euler(0, 0, ta));
    for (int side = -1; side <= 1; side += 2) {
        ell(m, -0.1f * bl * c, y - 0.1f * bl * sn, side * bg * 0.8f, bl * 0.85f, bg * 0.7f, bg * 0.25f, rb, 10, 6);
        limb(m, 0.05f, y - bg * 0.7f, side * bg * 0.4f, 0.1f, 0, side * bg * 0.4f, 0.035f, 0.025f);
        limb(m, 0.1f, 0, side * bg * 0.4f, 0.3f, 0, side * bg * 0.4f, 0.025f, 0.02f);
    }
}

/* cat: 0 standing, 1 sitting; body length, leg length, tail curl, head size,
 * ear size, girth. */
static void cat_studio(mesh *m, int var, const float *s)
{
    float bl = lerp(0.65f, 0.85f, s[0]), ll = lerp(0.3f, 0.45f, s[1]), curl = s[2];
    float hr = lerp(0.3f, 0.38f, s[3]), ear = lerp(0.2f, 0.3f, s[4]), g = lerp(0.25f, 0.3f, s[5]);
    if (var == 1) {
        float p = 0.8f;
        ell(m, 0, ll * 0.6f + g, 0, bl * 0.75f, g * 1.1f, g, mat3_euler(0, 0, p), 12, 8);
        float hx = bl * 0.75f * cosf(p) + hr * 0.2f, hy = ll * 0.6f + g + bl * 0.75f * sinf(p) + hr * 0.7f;
        ell(m, hx, hy, 0, hr, hr * 0.9f, hr, I3, 10, 6);
        ears(m, hx, hy, hr, ear, 1);
        for (int side = -1; side <= 1; side += 2) {
            limb(m, hx - hr * 0.2f, hy - hr * 1.1f, side * g * 0.5f, hx, 0, side * g * 0.5f, 0.07f, 0.06f);
            ell(m, -bl * 0.35f, ll * 0.3f, side * g * 0.8f, bl * 0.4f, ll * 0.35f, 0.1f, I3, 8, 6);
        }
        limb(m, -bl * 0.6f, 0.06f, 0, -bl * 0.9f, 0.06f, 0.5f + 0.3f * curl, 0.06f, 0.05f);
        return;
    }
    float y = ll + g * 0.5f;
    ell(m, 0, y, 0, bl, g, g * 0.9f, I3, 12, 8);
    float hx = bl + hr * 0.4f, hy = y + g * 0.9f;
    ell(m, hx, hy, 0, hr, hr * 0.9f, hr, I3, 10, 6);
    limb(m, hx + hr * 0.6f, hy - hr * 0.3f, 0, hx + hr * 1.0f, hy - hr * 0.35f, 0, hr * 0.35f, hr * 0.28f);
    ears(m, hx, hy, hr, ear, 1);
    for (int side = -1; side <= 1; side += 2) {
        leg(m, bl * 0.7f, y, side * g * 0.55f, y, 0.075f, 0.05f * side, 0.05f);
        leg(m, -bl * 0.7f, y, side * g * 0.55f, y, 0.085f, -0.05f * side, -0.15f);
    }
    /* Tail straight up, its tip curled. */
    float tl = bl * 1.1f, tx = -bl * 0.95f, ty = y + g * 0.5f;
    limb(m, tx, ty, 0, tx - 0.1f, ty + tl * 0.8f, 0, 0.06f, 0.055f);
    limb(m, tx - 0.1f, ty + tl * 0.8f, 0, tx - 0.1f + (0.15f + 0.2f * curl), ty + tl, 0, 0.055f, 0.04f);
}

/* dog: 0 hanging ears, 1 pricked ears; body length, leg length, snout
 * length, head size, tail angle, girth. */
static void dog_studio(mesh *m, int var, const float *s)
{
    float bl = lerp(0.8f, 1.0f, s[0]), ll = lerp(0.6f, 0.75f, s[1]), sn = lerp(0.35f, 0.55f, s[2]);
    float hr = lerp(0.24f, 0.3f, s[3]), ta = lerp(0.4f, 1.0f, s[4]), g = lerp(0.32f, 0.38f, s[5]);
    float y = ll;
    ell(m, 0, y, 0, bl, g, g * 0.9f, I3, 12, 8);
    float hx = bl + hr * 0.2f, hy = y + g + hr * 0.3f;
    limb(m, bl * 0.7f, y + g * 0.2f, 0, hx, hy, 0, g * 0.65f, hr * 0.75f);
    ell(m, hx, hy, 0, hr, hr * 0.9f, hr * 0.85f, I3, 10, 6);
    /* A long, thick, square snout. */
    box(m, hx + hr * 0.5f + sn * 0.5f, hy - hr * 0.3f, 0, sn * 0.5f + hr * 0.2f, hr * 0.42f, hr * 0.5f, I3);
    if (var == 0) {
        m->dark = 0.5f;
        for (int side = -1; side <= 1; side += 2)
            ell(m, hx - hr * 0.3f, hy - hr * 0.4f, side * hr * 0.95f, 0.08f, hr * 1.1f, 0.04f, mat3_euler(0, 0, -0.15f),
                6, 4);
        m->dark = 0;
    } else {
        ears(m, hx, hy, hr, 0.22f, 1);
    }
    for (int side = -1; side <= 1; side += 2) {
        leg(m, bl * 0.7f, y, side * g * 0.55f, ll + 0.05f, 0.09f, 0.1f * side, 0.05f);
        leg(m, -bl * 0.7f, y, side * g * 0.55f, ll + 0.05f, 0.1f, -0.1f * side, -0.2f);
    }
    float tl = bl * 0.6f;
    limb(m, -bl * 0.95f, y + g * 0.4f, 0, -bl * 0.95f - tl * cosf(ta), y + g * 0.4f + tl * sinf(ta), 0, 0.08f, 0.04f);
}

/* deer: 0 standing, 1 walking (legs apart); body length, leg length, neck
 * angle, neck length, antler size, stride. */
static void deer_studio(mesh *m, int var, const float *s)
{
    float bl = lerp(0.75f, 0.9f, s[0]), ll = lerp(1.2f, 1.45f, s[1]), na = lerp(1.1f, 1.35f, s[2]);
    float nl = lerp(0.6f, 0.75f, s[3]), ant = lerp(0.75f, 1.05f, s[4]);
    float stride = var == 1 ? lerp(0.25f, 0.4f, s[5]) : lerp(-0.08f, 0.08f, s[5]);
    float g = 0.26f, y = ll;
    ell(m, 0, y, 0, bl, g * 1.1f, g, I3, 12, 8);
    float nx = bl * 0.8f, ny = y + g * 0.5f;
    float hx = nx + nl * cosf(na), hy = ny + nl * sinf(na);
    limb(m, nx, ny, 0, hx, hy, 0, 0.13f, 0.08f);
    ell(m, hx + 0.12f, hy, 0, 0.2f, 0.1f, 0.09f, mat3_euler(0, 0, -0.4f), 8, 6);
    ears(m, hx, hy, 0.12f, 0.16f, 1);
    antlers(m, hx, hy, ant, (antler_shape){0.2f, 0.4f, 0.03f, 0.018f, 3, 0.25f, 0.22f, 0.02f});
    for (int side = -1; side <= 1; side += 2) {
        leg(m, bl * 0.75f, y, side * g * 0.5f, ll + 0.05f, 0.045f, stride * side, 0.05f);
        leg(m, -bl * 0.75f, y, side * g * 0.5f, ll + 0.05f, 0.055f, -stride * side, -0.15f);
    }
    limb(m, -bl * 0.98f, y + g * 0.5f, 0, -bl * 1.1f, y + g * 0.9f, 0, 0.06f, 0.03f);
}

/* horse: 0 standing, 1 galloping; body length, leg length, neck length,
 * head length, girth, tail angle. */
static void horse_studio(mesh *m, int var, const float *s)
{
    float bl = lerp(1.1f, 1.25f, s[0]), ll = lerp(0.95f, 1.1f, s[1]), nl = lerp(0.8f, 0.95f, s[2]);
    float hl = lerp(0.6f, 0.72f, s[3]), g = lerp(0.46f, 0.52f, s[4]), ta = lerp(-1.45f, -1.2f, s[5]);
    float y = ll;
    ell(m, 0, y, 0, bl, g, g * 0.85f, I3, 12, 8);
    float na = lerp(0.85f, 1.0f, s[2]);
    float nx = bl * 0.75f, ny = y + g * 0.4f;
    float tx = nx + nl * cosf(na), ty = ny + nl * sinf(na);
    limb(m, nx, ny, 0, tx, ty, 0, g * 0.6f, 0.17f);
    /* Mane along the top of the neck. */
    m->dark = 0.5f;
    box(m, (nx + tx) / 2 - 0.12f, (ny + ty) / 2 + 0.12f, 0, nl * 0.5f, 0.06f, 0.05f, mat3_euler(0, 0, na));
    m->dark = 0;
    float ha = -0.8f;
    limb(m, tx, ty, 0, tx + hl * cosf(ha), ty + hl * sinf(ha), 0, 0.16f, 0.11f);
    ears(m, tx, ty, 0.12f, 0.12f, 1);
    float st = var == 1 ? 0.55f : 0.05f;
    for (int side = -1; side <= 1; side += 2) {
        float fs = var == 1 ? (side > 0 ? st : st * 0.6f) : st * side;
        float bs = var == 1 ? (side > 0 ? -st : -st * 0.6f) : -st * side;
        leg(m, bl * 0.75f, y, side * g * 0.5f, ll + 0.05f, 0.12f, fs, var == 1 ? 0.5f : 0.05f);
        leg(m, -bl * 0.75f, y, side * g * 0.5f, ll + 0.05f, 0.13f, bs, -0.2f);
    }
    /* A long tail hanging down. */
    float tl = 0.95f;
    m->dark = 0.5f;
    limb(m, -bl * 0.97f, y + g * 0.5f, 0, -bl * 0.97f - 0.2f, y + g * 0.5f + tl * sinf(ta), 0, 0.1f, 0.07f);
    m->dark = 0;
}

/* truck: 0 box truck, 1 tanker, 2 flatbed with load; as the first set's
 * truck but longer, with a taller cargo box and a cab lower than the box. */
static void truck_studio(mesh *m, int var, const float *s)
{
    float f[OBJECTS_N_SHAPE];
    for (int i = 0; i < OBJECTS_N_SHAPE; i++)
        f[i] = s[i];
    f[0] = 0.6f + 0.4f * s[0];        /* length 6.4..6.8 */
    f[1] = 0.3f * s[1];               /* cab height 1.12..1.2 */
    if (var == 0)
        f[2] = 0.7f + 0.3f * s[2];    /* box height 1.66..1.76 */
    truck(m, var, f, 0.7f);
}

int objects_build(mesh *m, int set, int label, int variant, const float shape[OBJECTS_N_SHAPE])
{
    mesh_clear(m);
    if (set < 0 || set >= OBJECTS_N_SETS || label < 0 || label >= OBJECTS_N_CLASSES || variant < 0 ||
        variant >= n_variants[set][label])
        return -1;
    float s[OBJECTS_N_SHAPE];
    for (int i = 0; i < OBJECTS_N_SHAPE; i++)
        s[i] = shape[i] < 0 ? 0 : shape[i] > 1 ? 1 : shape[i];
    if (set == OBJECTS_SET_STUDIO) {
        /* Proportions over the middle 60% of the first set's ranges. */
        for (int i = 0; i < OBJECTS_N_SHAPE; i++)
            s[i] = 0.2f + 0.6f * s[i];
        switch (label) {
        case 0: airplane(m, variant, s); break;
        case 1: automobile(m, variant, s, 0.65f); break;
        case 2: bird_studio(m, variant, s); break;
        case 3: cat_studio(m, variant, s); break;
        case 4: deer_studio(m, variant, s); break;
        case 5: dog_studio(m, variant, s); break;
        case 6: frog(m, variant, s); break;
        case 7: horse_studio(m, variant, s); break;
        case 8: ship(m, variant, s, 0.45f); break;
        default: truck_studio(m, variant, s); break;
        }
        return m->oom ? -1 : mesh_normalize(m);
    }
    switch (label) {
    case 0: airplane(m, variant, s); break;
    case 1: automobile(m, variant, s, 0); break;
    case 2: bird(m, variant, s); break;
    case 3: cat(m, variant, s); break;
    case 4: deer(m, variant, s); break;
    case 5: dog(m, variant, s); break;
    case 6: frog(m, variant, s); break;
    case 7: horse(m, variant, s); break;
    case 8: ship(m, variant, s, 0); break;
    default: truck(m, variant, s, 0); break;
    }
    if (m->oom)
        return -1;
    return mesh_normalize(m);
}
