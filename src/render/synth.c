/* The built-in synthetic renderer (see synth.h for the scene, the latents
 * and their ranges).  This file draws the latents, composes the background,
 * drives the rasteriser per image and spreads images over threads.
 *
 * Determinism: image i's latents come from rng_split(seed, i) alone and its
 * label from a per-split shuffle seeded from the same seed; every image is
 * rendered by the same code whatever thread renders it, so the output bytes
 * do not depend on the number of threads.
 *
 * Memory: synth_render allocates the dataset (caller frees with
 * dataset_free); a synth_renderer owns its copy of the configuration
 * sizes and any loaded OBJ meshes (synth_renderer_free). */
#include "synth.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "mesh.h"
#include "obj.h"
#include "objects.h"
#include "raster.h"
#include "rng.h"
#include "threads.h"

#define DEG (3.14159265358979323846 / 180.0)
#define MAX_IMAGES 10000000
#define TAG_LABELS_TRAIN 0x7261696e6c61626cULL /* tags far from image indices */
#define TAG_LABELS_TEST 0x746573746c61626cULL

static const char *const latent_names[SYNTH_N_LATENTS] = {
    "slant", "tilt", "x", "y", "depth", "light_azimuth", "light_elevation", "ambient", "albedo",
    "bg_level", "bg_angle", "bg_gradient", "bg_noise", "bg_pattern", "variant",
    "shape_0", "shape_1", "shape_2", "shape_3", "shape_4", "shape_5",
};

_Static_assert(SYNTH_N_CLASSES == OBJECTS_N_CLASSES, "class counts differ");
_Static_assert(SYNTH_N_SHAPE == OBJECTS_N_SHAPE, "shape counts differ");
_Static_assert(SYNTH_N_LATENTS == SYNTH_SHAPE0 + SYNTH_N_SHAPE, "latent enum and count differ");

/* The room2 preset's backdrop, window elevation (degrees) and x, y half
 * ranges (calibration: datasets/README.md). */
#define ROOM2_BACKDROP 0.12
#define ROOM2_WINDOW_ELEVATION 48.0
#define ROOM2_X 0.24f
#define ROOM2_Y 0.22f

static const char *const preset_names[SYNTH_N_PRESETS] = {"framed", "clutter", "studio", "room", "room2"};

const char *synth_class_name(int label)
{
    return label >= 0 && label < SYNTH_N_CLASSES ? objects_class_names[label] : NULL;
}

const char *synth_latent_name(int i)
{
    return i >= 0 && i < SYNTH_N_LATENTS ? latent_names[i] : NULL;
}

const char *synth_preset_name(int preset)
{
    return preset >= 0 && preset < SYNTH_N_PRESETS ? preset_names[preset] : NULL;
}

int synth_preset_parse(const char *name)
{
    for (int p = 0; name && p < SYNTH_N_PRESETS; p++)
        if (strcmp(name, preset_names[p]) == 0)
            return p;
    return -1;
}

int synth_config_preset(synth_config *cfg, int preset)
{
    if (!synth_preset_name(preset))
        return -1;
    cfg->window_elevation = 60; /* room's (room2 sets its own); unused without a backdrop */
    switch (preset) {
    case SYNTH_PRESET_FRAMED:
        /* The object is the subject: its bounding sphere spans 0.5 to 1 of
         * the frame's width; plain background with a mild gradient; light
         * from above (so slant shows in the shading) and haze (so depth
         * shows in the contrast). */
        cfg->slant = (synth_range){-30.0f, 70.0f};
        cfg->tilt = (synth_range){-180.0f, 180.0f};
        cfg->x = (synth_range){-0.2f, 0.2f};
        cfg->y = (synth_range){-0.2f, 0.2f};
        cfg->depth = (synth_range){2.0f, 4.0f};
        cfg->light_azimuth = (synth_range){45.0f, 135.0f};
        cfg->light_elevation = (synth_range){10.0f, 45.0f};
        cfg->ambient = (synth_range){0.2f, 0.4f};
        cfg->albedo = (synth_range){0.6f, 1.0f};
        cfg->bg_level = (synth_range){0.0f, 0.25f};
        cfg->bg_gradient = (synth_range){0.0f, 0.1f};
        cfg->bg_noise = (synth_range){0.0f, 0.0f};
        cfg->max_reach = 1.25;
        cfg->haze = 0.15;
        break;
    case SYNTH_PRESET_CLUTTER:
        /* The first scene (kept byte-identical): small objects on a
         * textured background. */
        cfg->slant = (synth_range){-10.0f, 50.0f};
        cfg->tilt = (synth_range){-180.0f, 180.0f};
        cfg->x = (synth_range){-0.5f, 0.5f};
        cfg->y = (synth_range){-0.5f, 0.5f};
        cfg->depth = (synth_range){3.2f, 5.0f};
        cfg->light_azimuth = (synth_range){-180.0f, 180.0f};
        cfg->light_elevation = (synth_range){20.0f, 70.0f};
        cfg->ambient = (synth_range){0.3f, 0.5f};
        cfg->albedo = (synth_range){0.6f, 1.0f};
        cfg->bg_level = (synth_range){0.05f, 0.5f};
        cfg->bg_gradient = (synth_range){0.0f, 0.3f};
        cfg->bg_noise = (synth_range){0.0f, 0.08f};
        cfg->max_reach = 1.2;
        cfg->haze = 0;
        break;
    case SYNTH_PRESET_STUDIO:
    case SYNTH_PRESET_ROOM:
    case SYNTH_PRESET_ROOM2:
        /* The object is the subject, scaled to a common silhouette area (so
         * depth is the projected size) and centred on its silhouette; lit
         * from the sky (so the view elevation shows in which faces are
         * lit); a black background (any level or gradient takes principal
         * components from the five latents and hides the object's area).
         * Ranges calibrated with the raw-pixel decoding (datasets/README.md). */
        cfg->slant = (synth_range){-50.0f, 85.0f};
        cfg->tilt = (synth_range){-180.0f, 180.0f};
        cfg->x = preset == SYNTH_PRESET_ROOM ? (synth_range){-0.22f, 0.22f} : (synth_range){-0.2f, 0.2f};
        cfg->y = (synth_range){-0.2f, 0.2f};
        cfg->depth = (synth_range){2.5f, 7.0f};
        cfg->light_azimuth = (synth_range){20.0f, 160.0f};
        cfg->light_elevation = (synth_range){70.0f, 90.0f};
        cfg->ambient = (synth_range){0.8f, 0.9f};
        cfg->albedo = (synth_range){0.85f, 1.0f};
        cfg->bg_level = (synth_range){0.0f, 0.0f};
        cfg->bg_gradient = (synth_range){0.0f, 0.0f};
        cfg->bg_noise = (synth_range){0.0f, 0.0f};
        cfg->max_reach = 1.25;
        cfg->haze = 0;
        cfg->light_world = 1;
        cfg->size_silhouette = 1;
        /* room: the studio inside a backdrop that is brighter towards a
         * window fixed in the world, so the background's level and gradient
         * follow the view (slant and tilt show in it), and x a little wider
         * (calibrated with the raw-pixel decoding: datasets/README.md). */
        cfg->backdrop = preset == SYNTH_PRESET_ROOM ? 0.1 : 0;
        /* room2: the window lower and the backdrop a little brighter, so
         * tilt shows in the first layer of a network too, and x and y
         * wider, which gives back to x, y and depth what the brighter
         * backdrop takes (calibrated with the raw-pixel and first-layer
         * decoding: datasets/README.md). */
        if (preset == SYNTH_PRESET_ROOM2) {
            cfg->backdrop = ROOM2_BACKDROP;
            cfg->window_elevation = ROOM2_WINDOW_ELEVATION;
            cfg->x = (synth_range){-ROOM2_X, ROOM2_X};
            cfg->y = (synth_range){-ROOM2_Y, ROOM2_Y};
        }
        break;
    default:
        return -1;
    }
    if (preset != SYNTH_PRESET_STUDIO && preset != SYNTH_PRESET_ROOM && preset != SYNTH_PRESET_ROOM2) {
        cfg->light_world = cfg->size_silhouette = 0;
        cfg->backdrop = 0;
    }
    cfg->preset = preset;
    return 0;
}

void synth_config_default(synth_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->n_train = 50000;
    cfg->n_test = 10000;
    cfg->width = cfg->height = 32;
    cfg->supersample = 4;
    cfg->threads = 2;
    cfg->seed = 1;
    cfg->mesh_dir = NULL;
    cfg->flat_background = 0;
    synth_config_preset(cfg, SYNTH_PRESET_ROOM2);
}

static int check_range(const char *name, synth_range r, double lo, double hi, err_t *e)
{
    if (!isfinite(r.min) || !isfinite(r.max))
        return err_input(e, "%s range [%g, %g] is not finite", name, r.min, r.max);
    if (r.min > r.max)
        return err_input(e, "%s range [%g, %g]: minimum above maximum", name, r.min, r.max);
    if (r.min < lo || r.max > hi)
        return err_input(e, "%s range [%g, %g] outside the allowed [%g, %g]", name, r.min, r.max, lo, hi);
    return 0;
}

int synth_config_validate(const synth_config *cfg, err_t *e)
{
    if (!cfg)
        return err_input(e, "synth: no configuration");
    if (cfg->n_train < 0 || cfg->n_train > MAX_IMAGES)
        return err_input(e, "n_train = %d: must be 0..%d", cfg->n_train, MAX_IMAGES);
    if (cfg->n_test < 0 || cfg->n_test > MAX_IMAGES)
        return err_input(e, "n_test = %d: must be 0..%d", cfg->n_test, MAX_IMAGES);
    long total = (long)cfg->n_train + cfg->n_test;
    if (total < 1 || total > MAX_IMAGES)
        return err_input(e, "n_train + n_test = %ld: must be 1..%d", total, MAX_IMAGES);
    if (cfg->width < 8 || cfg->width > 1024 || cfg->height < 8 || cfg->height > 1024)
        return err_input(e, "image size %dx%d: width and height must be 8..1024", cfg->width, cfg->height);
    if ((double)total * cfg->width * cfg->height > 64e9)
        return err_input(e, "%ld images of %dx%d would need more than 64 GB; render fewer or smaller images",
                       total, cfg->width, cfg->height);
    if (cfg->supersample < 1 || cfg->supersample > 16)
        return err_input(e, "supersample = %d: must be 1..16 (samples per pixel side)", cfg->supersample);
    if (cfg->threads < 1 || cfg->threads > 256)
        return err_input(e, "threads = %d: must be 1..256", cfg->threads);
    if (check_range("slant", cfg->slant, -90, 90, e) || check_range("tilt", cfg->tilt, -360, 360, e) ||
        check_range("x", cfg->x, -1, 1, e) || check_range("y", cfg->y, -1, 1, e) ||
        check_range("depth", cfg->depth, 1.5, 1000, e) ||
        check_range("light_azimuth", cfg->light_azimuth, -360, 360, e) ||
        check_range("light_elevation", cfg->light_elevation, 0, 90, e) ||
        check_range("ambient", cfg->ambient, 0, 1, e) || check_range("albedo", cfg->albedo, 0, 1, e) ||
        check_range("bg_level", cfg->bg_level, 0, 1, e) || check_range("bg_gradient", cfg->bg_gradient, 0, 2, e) ||
        check_range("bg_noise", cfg->bg_noise, 0, 1, e))
        return -1;
    if (!synth_preset_name(cfg->preset))
        return err_input(e, "preset = %d: must be 0..%d", cfg->preset, SYNTH_N_PRESETS - 1);
    if (!(cfg->haze >= 0 && cfg->haze <= 1))
        return err_input(e, "haze = %g: must be 0..1", cfg->haze);
    if (!(cfg->backdrop >= 0 && cfg->backdrop <= 1))
        return err_input(e, "backdrop = %g: must be 0..1", cfg->backdrop);
    if (!(cfg->window_elevation >= -90 && cfg->window_elevation <= 90))
        return err_input(e, "window_elevation = %g: must be -90..90 degrees", cfg->window_elevation);
    if (!(cfg->max_reach >= 0.5 && cfg->max_reach <= 3))
        return err_input(e, "max_reach = %g: must be 0.5..3 image half-widths", cfg->max_reach);
    /* Keep the bounding sphere essentially in frame. */
    double rad_x = 1.0 / (SYNTH_TAN_HALF_FOV * cfg->depth.min);
    double rad_y = rad_x * cfg->width / cfg->height;
    double ex = fmax(fabs(cfg->x.min), fabs(cfg->x.max)) + rad_x;
    double ey = fmax(fabs(cfg->y.min), fabs(cfg->y.max)) + rad_y;
    if (ex > cfg->max_reach + 1e-9 || ey > cfg->max_reach + 1e-9)
        return err_input(e, "objects would leave the frame: at depth %g the object's radius is %.2f image "
                          "half-widths, and with x in [%g, %g], y in [%g, %g] it reaches %.2f (at most %.2f "
                          "allowed in the %s scene); narrow the x/y ranges or raise the minimum depth",
                       cfg->depth.min, rad_x, cfg->x.min, cfg->x.max, cfg->y.min, cfg->y.max, fmax(ex, ey),
                       cfg->max_reach, preset_names[cfg->preset]);
    return 0;
}

/* ---- renderer ---- */

/* The family set a preset's scene uses. */
static int objects_set_of(int preset)
{
    return preset == SYNTH_PRESET_STUDIO || preset == SYNTH_PRESET_ROOM || preset == SYNTH_PRESET_ROOM2
               ? OBJECTS_SET_STUDIO
               : OBJECTS_SET_FIRST;
}

struct synth_renderer {
    int width, height, ss;
    uint64_t seed;
    int flat_background;
    synth_range ranges[7]; /* slant, tilt, x, y, depth, light_azimuth, light_elevation */
    synth_range ambient, albedo, bg_level, bg_gradient, bg_noise;
    double haze, backdrop, window_elevation;
    int light_world, size_silhouette;
    int mesh_set;         /* OBJECTS_SET_* */
    obj_library lib;
    int have_lib;
    rng_t base;
};

/* Per-thread scratch. */
typedef struct scratch {
    mesh m;
    raster_buf rb, probe;
    float *bg;
} scratch;

static void scratch_init(scratch *s)
{
    mesh_init(&s->m);
    raster_buf_init(&s->rb);
    raster_buf_init(&s->probe);
    s->bg = NULL;
}

static void scratch_free(scratch *s)
{
    mesh_free(&s->m);
    raster_buf_free(&s->rb);
    raster_buf_free(&s->probe);
    free(s->bg);
}

int synth_renderer_new(synth_renderer **out, const synth_config *cfg, err_t *e)
{
    *out = NULL;
    if (synth_config_validate(cfg, e) != 0)
        return -1;
    synth_renderer *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(e, "out of memory for the renderer");
    r->width = cfg->width;
    r->height = cfg->height;
    r->ss = cfg->supersample;
    r->seed = cfg->seed;
    r->flat_background = cfg->flat_background;
    synth_range rr[7] = {cfg->slant, cfg->tilt, cfg->x, cfg->y, cfg->depth, cfg->light_azimuth, cfg->light_elevation};
    memcpy(r->ranges, rr, sizeof rr);
    r->ambient = cfg->ambient;
    r->albedo = cfg->albedo;
    r->bg_level = cfg->bg_level;
    r->bg_gradient = cfg->bg_gradient;
    r->bg_noise = cfg->bg_noise;
    r->haze = cfg->haze;
    r->backdrop = cfg->backdrop;
    r->window_elevation = cfg->window_elevation;
    r->light_world = cfg->light_world;
    r->size_silhouette = cfg->size_silhouette;
    r->mesh_set = objects_set_of(cfg->preset);
    rng_seed(&r->base, cfg->seed);
    if (cfg->mesh_dir) {
        if (obj_load_dir(cfg->mesh_dir, objects_class_names, SYNTH_N_CLASSES, &r->lib, e) != 0) {
            free(r);
            return err_prefix(e, "mesh directory");
        }
        r->have_lib = 1;
    }
    *out = r;
    return 0;
}

void synth_renderer_free(synth_renderer *r)
{
    if (!r)
        return;
    if (r->have_lib)
        obj_library_free(&r->lib);
    free(r);
}

static float draw(rng_t *g, synth_range r)
{
    return (float)(r.min + (r.max - r.min) * rng_uniform(g));
}

static int n_variants_of(const synth_renderer *r, int label)
{
    if (r->have_lib && r->lib.count[label] > 0)
        return r->lib.count[label];
    return objects_n_variants(r->mesh_set, label);
}

void synth_sample_latents(const synth_renderer *r, long index, int label, float *lat)
{
    rng_t g = rng_split(&r->base, (uint64_t)index);
    for (int k = 0; k < 7; k++)
        lat[k] = draw(&g, r->ranges[k]);
    /* Every preset draws in this order, so the clutter preset's images are
     * those of the first scene, byte for byte. */
    lat[SYNTH_AMBIENT] = draw(&g, r->ambient);
    lat[SYNTH_ALBEDO] = draw(&g, r->albedo);
    lat[SYNTH_BG_LEVEL] = draw(&g, r->bg_level);
    lat[SYNTH_BG_ANGLE] = draw(&g, (synth_range){-180.0f, 180.0f});
    lat[SYNTH_BG_GRADIENT] = draw(&g, r->bg_gradient);
    lat[SYNTH_BG_NOISE] = draw(&g, r->bg_noise);
    lat[SYNTH_BG_PATTERN] = (float)rng_below(&g, 65536);
    int nv = (label >= 0 && label < SYNTH_N_CLASSES) ? n_variants_of(r, label) : 1;
    lat[SYNTH_VARIANT] = (float)rng_below(&g, (uint32_t)nv);
    for (int k = 0; k < SYNTH_N_SHAPE; k++)
        lat[SYNTH_SHAPE0 + k] = (float)rng_uniform(&g);
    if (r->flat_background) {
        lat[SYNTH_BG_GRADIENT] = 0;
        lat[SYNTH_BG_NOISE] = 0;
    }
}

/* Value noise lattice: a hash of (pattern, ix, iy) to [-1, 1]. */
static float lattice(uint32_t pattern, int ix, int iy)
{
    uint64_t z = ((uint64_t)pattern << 40) ^ ((uint64_t)(uint32_t)ix << 20) ^ (uint64_t)(uint32_t)iy;
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (float)((z >> 40) * (2.0 / 16777216.0) - 1.0);
}

static float smooth_noise(uint32_t pattern, float u, float v)
{
    int ix = (int)floorf(u), iy = (int)floorf(v);
    float fx = u - ix, fy = v - iy;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    float a = lattice(pattern, ix, iy), b = lattice(pattern, ix + 1, iy);
    float c = lattice(pattern, ix, iy + 1), d = lattice(pattern, ix + 1, iy + 1);
    return (a + (b - a) * fx) + ((c + (d - c) * fx) - (a + (b - a) * fx)) * fy;
}

/* Background at pixel resolution: level + gradient + two octaves of noise,
 * plus the backdrop seen through the camera turned by R (object -> camera). */
static void background(const synth_renderer *r, const float *lat, const mat3 *R, float *bg)
{
    /* The window's direction in the object's (world) frame, as the light's
     * in light_world: right, up, towards the viewer at tilt 0. */
    double wa = SYNTH_WINDOW_AZIMUTH * DEG, we = r->window_elevation * DEG;
    float win[3] = {(float)(cos(we) * cos(wa)), (float)sin(we), (float)(-cos(we) * sin(wa))};
    float half = (float)r->backdrop * 0.5f, tx = (float)SYNTH_TAN_HALF_FOV, ty = tx * r->height / r->width;
    int W = r->width, H = r->height;
    float level = lat[SYNTH_BG_LEVEL], grad = lat[SYNTH_BG_GRADIENT], amp = lat[SYNTH_BG_NOISE];
    float ca = cosf((float)(lat[SYNTH_BG_ANGLE] * DEG)), sa = sinf((float)(lat[SYNTH_BG_ANGLE] * DEG));
    uint32_t pattern = (uint32_t)lat[SYNTH_BG_PATTERN];
    float cell = 4.0f / W; /* 4 lattice cells across the image */
    for (int j = 0; j < H; j++)
        for (int i = 0; i < W; i++) {
            float u = (i + 0.5f) / W * 2 - 1, v = 1 - (j + 0.5f) / H * 2;
            float val = level + 0.5f * grad * (u * ca + v * sa);
            if (half > 0) {
                /* The pixel's viewing direction, camera -> world (R^T). */
                float dc[3] = {u * tx, v * ty, 1}, dot = 0;
                float n = sqrtf(dc[0] * dc[0] + dc[1] * dc[1] + 1);
                for (int k = 0; k < 3; k++)
                    dot += (R->m[k] * dc[0] + R->m[3 + k] * dc[1] + R->m[6 + k]) * win[k];
                val += half * (1 + dot / n);
            }
            if (amp > 0) {
                float n1 = smooth_noise(pattern, (i + 0.5f) * cell, (j + 0.5f) * cell);
                float n2 = smooth_noise(pattern ^ 0x5555u, (i + 0.5f) * cell * 2, (j + 0.5f) * cell * 2);
                val += amp * (n1 + 0.5f * n2) / 1.5f;
            }
            bg[j * W + i] = val;
        }
}

/* Aerial perspective: the share of the background in the object's colour
 * at camera distance depth, haze per unit of depth beyond 2 radii (at most
 * 0.9). */
static double haze_of(double haze, double depth)
{
    double h = haze * (depth - 2.0);
    return h < 0 ? 0 : h > 0.9 ? 0.9 : h;
}

static int render_with(const synth_renderer *r, int label, const float *lat, uint8_t *out,
                       scratch *s, err_t *e)
{
    if (label < 0 || label >= SYNTH_N_CLASSES)
        return err_input(e, "label %d: must be 0..%d", label, SYNTH_N_CLASSES - 1);
    for (int k = 0; k < SYNTH_N_LATENTS; k++)
        if (!isfinite(lat[k]))
            return err_input(e, "latent %s is not finite", latent_names[k]);
    if (!(lat[SYNTH_DEPTH] >= 1.5f))
        return err_input(e, "latent depth = %g: must be at least 1.5", lat[SYNTH_DEPTH]);
    int variant = (int)lat[SYNTH_VARIANT];
    int nv = n_variants_of(r, label);
    if (variant < 0 || variant >= nv || (float)variant != lat[SYNTH_VARIANT])
        return err_input(e, "latent variant = %g for class %s: must be an integer 0..%d", lat[SYNTH_VARIANT],
                       objects_class_names[label], nv - 1);
    const mesh *m;
    if (r->have_lib && r->lib.count[label] > 0) {
        m = &r->lib.meshes[label][variant];
    } else {
        if (objects_build(&s->m, r->mesh_set, label, variant, lat + SYNTH_SHAPE0) != 0)
            return err_set(e, "out of memory building a %s mesh", objects_class_names[label]);
        m = &s->m;
    }

    int W = r->width, H = r->height, S = r->ss;
    if (!s->bg) {
        s->bg = malloc((size_t)W * H * sizeof *s->bg);
        if (!s->bg)
            return err_set(e, "out of memory for a %dx%d background", W, H);
    }

    /* Object -> camera: tilt about the vertical axis, then slant about the
     * camera's horizontal axis (positive slant shows the top). */
    double t = lat[SYNTH_TILT] * DEG, sl = lat[SYNTH_SLANT] * DEG;
    float ct = (float)cos(t), st = (float)sin(t), cs = (float)cos(sl), ss = (float)sin(sl);
    /* Ry(t) = [[ct,0,st],[0,1,0],[-st,0,ct]];  Rs = [[1,0,0],[0,cs,ss],[0,-ss,cs]] */
    raster_view v;
    mat3 R = {{ct, 0, st, ss * -st, cs, ss * ct, cs * -st, -ss, cs * ct}};
    v.rot = R;
    double tanh_ = SYNTH_TAN_HALF_FOV, depth = lat[SYNTH_DEPTH];
    double la = lat[SYNTH_LIGHT_AZIMUTH] * DEG, le = lat[SYNTH_LIGHT_ELEVATION] * DEG;
    if (r->light_world) {
        /* Towards the light in the world (right, up, towards the viewer),
         * then turned by the view elevation as the object is. */
        float lx = (float)(cos(le) * cos(la)), ly = (float)sin(le), lz = (float)(-cos(le) * sin(la));
        v.light[0] = lx;
        v.light[1] = cs * ly + ss * lz;
        v.light[2] = -ss * ly + cs * lz;
        /* The ambient light from the sky: the world's up, turned likewise. */
        v.sky[0] = 0;
        v.sky[1] = cs;
        v.sky[2] = -ss;
        v.sky_floor = (float)SYNTH_SKY_FLOOR;
    } else {
        v.sky[0] = v.sky[1] = v.sky[2] = 0;
        v.sky_floor = 1;
        v.light[0] = (float)(cos(le) * cos(la));
        v.light[1] = (float)(cos(le) * sin(la));
        v.light[2] = (float)(-sin(le));
    }
    v.ambient = lat[SYNTH_AMBIENT];
    v.albedo = lat[SYNTH_ALBEDO];
    double scale = 1; /* object size in bounding-sphere radii */
    double off_x = 0, off_y = 0;
    if (r->size_silhouette) {
        /* The silhouette's area at depth probe_depth on a PROBE x PROBE
         * grid (the object fits: its bounding sphere spans half the width),
         * against that of the unit disc; an object scaled by k at depth d
         * images as the unit object at depth d / k. */
        enum { PROBE = 96 };
        const double probe_depth = 4.0;
        raster_view pv = v;
        pv.pos[0] = pv.pos[1] = 0;
        pv.pos[2] = (float)probe_depth;
        pv.width = pv.height = PROBE;
        pv.focal = (float)(0.5 * PROBE / tanh_);
        long covered = raster_draw(m, &pv, &s->probe);
        if (covered < 0)
            return err_set(e, "out of memory for a %dx%d probe buffer", PROBE, PROBE);
        double disc = 3.14159265358979323846 * (pv.focal / probe_depth) * (pv.focal / probe_depth);
        scale = covered > 0 ? sqrt(disc / (double)covered) : SYNTH_MAX_SILHOUETTE_SCALE;
        if (scale > SYNTH_MAX_SILHOUETTE_SCALE)
            scale = SYNTH_MAX_SILHOUETTE_SCALE;
        if (covered > 0) {
            /* The silhouette's centroid, in object units across the line of
             * sight (exact at the probe's distance, close elsewhere): the
             * object is moved so that it, not the surface's centroid, images
             * at (x, y). */
            double su = 0, sv = 0;
            for (int j = 0; j < PROBE; j++)
                for (int i = 0; i < PROBE; i++)
                    if (s->probe.zinv[j * PROBE + i] > 0)
                        su += i + 0.5 - 0.5 * PROBE, sv += 0.5 * PROBE - (j + 0.5);
            off_x = su / covered * probe_depth / pv.focal;
            off_y = sv / covered * probe_depth / pv.focal;
        }
    }
    v.pos[0] = (float)(lat[SYNTH_X] * depth * tanh_ / scale - off_x);
    v.pos[1] = (float)(lat[SYNTH_Y] * depth * tanh_ * H / W / scale - off_y);
    v.pos[2] = (float)(depth / scale);
    v.width = W * S;
    v.height = H * S;
    v.focal = (float)(0.5 * W * S / tanh_);
    if (raster_draw(m, &v, &s->rb) < 0)
        return err_set(e, "out of memory for a %dx%d sample buffer", W * S, H * S);

    background(r, lat, &v.rot, s->bg);
    float inv = 1.0f / (S * S);
    const float *sh = s->rb.shade;
    float haze = r->haze > 0 ? (float)haze_of(r->haze, lat[SYNTH_DEPTH]) : 0.0f;
    for (int j = 0; j < H; j++)
        for (int i = 0; i < W; i++) {
            float bgv = s->bg[j * W + i], sum = 0, osum = 0;
            int hit = 0;
            for (int sj = 0; sj < S; sj++) {
                const float *row = sh + (size_t)(j * S + sj) * W * S + i * S;
                for (int si = 0; si < S; si++) {
                    sum += row[si] >= 0 ? row[si] : bgv;
                    if (row[si] >= 0)
                        hit++, osum += row[si];
                }
            }
            float val = sum * inv;
            /* Haze: each object sample moves towards the background by the
             * share haze (a separate term, so haze 0 leaves the first
             * scene's arithmetic, and bytes, as they were). */
            if (haze > 0 && hit)
                val += haze * ((float)hit * bgv - osum) * inv;
            val = val < 0 ? 0 : val > 1 ? 1 : val;
            out[j * W + i] = (uint8_t)(val * 255.0f + 0.5f);
        }
    return 0;
}

int synth_render_image(const synth_renderer *r, int label, const float *latents, uint8_t *out, err_t *e)
{
    scratch s;
    scratch_init(&s);
    int rc = render_with(r, label, latents, out, &s, e);
    scratch_free(&s);
    return rc;
}

int synth_export_meshes(const char *dir, int preset, err_t *e)
{
    if (!synth_preset_name(preset))
        return err_input(e, "preset = %d: must be 0..%d", preset, SYNTH_N_PRESETS - 1);
    int set = objects_set_of(preset);
    mesh m;
    mesh_init(&m);
    float shape[SYNTH_N_SHAPE];
    for (int k = 0; k < SYNTH_N_SHAPE; k++)
        shape[k] = 0.5f;
    int rc = 0;
    for (int c = 0; c < SYNTH_N_CLASSES && rc == 0; c++)
        for (int v = 0; v < objects_n_variants(set, c) && rc == 0; v++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s_v%d.obj", dir, objects_class_names[c], v);
            if (objects_build(&m, set, c, v, shape) != 0)
                rc = err_set(e, "out of memory building a %s mesh", objects_class_names[c]);
            else
                rc = obj_save(path, &m, e);
        }
    mesh_free(&m);
    return rc;
}

/* ---- whole data set, over threads ---- */

typedef struct job {
    const synth_renderer *r;
    dataset *d;
    long total;
    atomic_long next;     /* next unclaimed image index */
    atomic_long done;     /* images finished */
    atomic_int failed;    /* the first failing thread claims err */
    err_t err;
    const synth_config *cfg;
} job;

#define CHUNK 32

/* One thread of the pool: claims chunks of images until none is left;
 * thread 0 reports the progress. */
static void run_worker(void *ctx, int tid, int t0, int t1)
{
    (void)t0;
    (void)t1;
    job *j = ctx;
    const int report = tid == 0;
    scratch s;
    scratch_init(&s);
    long size = (long)j->r->width * j->r->height;
    long next_report = j->total / 100 + 1;
    err_t e;
    for (;;) {
        if (atomic_load(&j->failed))
            break;
        long i0 = atomic_fetch_add(&j->next, CHUNK);
        if (i0 >= j->total)
            break;
        long i1 = i0 + CHUNK < j->total ? i0 + CHUNK : j->total;
        for (long i = i0; i < i1; i++) {
            float *lat = j->d->latents + i * SYNTH_N_LATENTS;
            int label = j->d->labels[i];
            synth_sample_latents(j->r, i, label, lat);
            if (render_with(j->r, label, lat, j->d->pixels + i * size, &s, &e) != 0) {
                if (!atomic_exchange(&j->failed, 1))
                    snprintf(j->err.msg, sizeof j->err.msg, "image %ld: %.900s", i, e.msg);
                break;
            }
        }
        long done = atomic_fetch_add(&j->done, i1 - i0) + (i1 - i0);
        if (report && j->cfg->progress && done >= next_report) {
            j->cfg->progress(done, j->total, j->cfg->progress_arg);
            next_report = done + j->total / 100 + 1;
        }
    }
    scratch_free(&s);
}

/* Balanced labels for one split, shuffled with the split's own stream. */
static void split_labels(int *labels, int n, const rng_t *base, uint64_t tag)
{
    for (int i = 0; i < n; i++)
        labels[i] = i % SYNTH_N_CLASSES;
    rng_t g = rng_split(base, tag);
    rng_shuffle(&g, labels, n);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

int synth_render(const synth_config *cfg, dataset *out, err_t *e)
{
    memset(out, 0, sizeof *out);
    synth_renderer *r = NULL;
    if (synth_renderer_new(&r, cfg, e) != 0)
        return -1;
    long total = (long)cfg->n_train + cfg->n_test;
    if (dataset_alloc(out, (int)total, 1, cfg->height, cfg->width, SYNTH_N_CLASSES, SYNTH_N_LATENTS, e) != 0) {
        synth_renderer_free(r);
        return -1;
    }
    for (int c = 0; c < SYNTH_N_CLASSES; c++)
        if (!(out->class_names[c] = dup_str(objects_class_names[c])))
            goto oom;
    for (int k = 0; k < SYNTH_N_LATENTS; k++)
        if (!(out->latent_names[k] = dup_str(latent_names[k])))
            goto oom;
    char src[1200];
    /* The clutter preset keeps the first scene's source string. */
    snprintf(src, sizeof src, "synth:seed=%llu,size=%dx%d,supersample=%d,train=%d,test=%d%s%s%s%s",
             (unsigned long long)cfg->seed, cfg->width, cfg->height, cfg->supersample, cfg->n_train,
             cfg->n_test, cfg->preset != SYNTH_PRESET_CLUTTER ? ",preset=" : "",
             cfg->preset != SYNTH_PRESET_CLUTTER ? preset_names[cfg->preset] : "",
             cfg->mesh_dir ? ",mesh_dir=" : "", cfg->mesh_dir ? cfg->mesh_dir : "");
    if (!(out->source = dup_str(src)))
        goto oom;
    split_labels(out->labels, cfg->n_train, &r->base, TAG_LABELS_TRAIN);
    split_labels(out->labels + cfg->n_train, cfg->n_test, &r->base, TAG_LABELS_TEST);
    for (long i = 0; i < total; i++)
        out->split[i] = i < cfg->n_train ? SPLIT_TRAIN : SPLIT_TEST;

    job j;
    memset(&j, 0, sizeof j);
    j.r = r;
    j.d = out;
    j.total = total;
    j.cfg = cfg;
    atomic_init(&j.next, 0);
    atomic_init(&j.done, 0);
    atomic_init(&j.failed, 0);
    int nt = cfg->threads;
    if (nt > total)
        nt = (int)total;
    tpool *pool = NULL;
    err_t pe;
    if (tpool_create(&pool, nt, &pe) && tpool_create(&pool, 1, e)) {   /* fewer threads: the same output */
        synth_renderer_free(r);
        dataset_free(out);
        return -1;
    }
    tpool_for(pool, tpool_threads(pool), run_worker, &j);   /* one item per thread */
    tpool_free(pool);
    synth_renderer_free(r);
    if (atomic_load(&j.failed)) {
        err_set(e, "synth: %s", j.err.msg);
        dataset_free(out);
        return -1;
    }
    if (cfg->progress)
        cfg->progress(total, total, cfg->progress_arg);
    return 0;
oom:
    synth_renderer_free(r);
    dataset_free(out);
    return err_set(e, "out of memory for the synthetic dataset's names");
}
