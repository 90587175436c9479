/* The built-in synthetic renderer: images of ten 3D object classes (named as
 * CIFAR-10's) with known nuisance latents, as in section 5.4 of the DRMM paper.
 *
 * Scene.  The object (a procedural mesh family per class, or an OBJ mesh)
 * is centred on the area-weighted centroid of its surface and scaled so its
 * farthest vertex is at distance 1 (the unit "bounding sphere").  It is
 * turned by `tilt` degrees about its vertical axis (azimuth; 0 = side view
 * with the front pointing right in the image, 90 = seen from the front,
 * -90 = from behind) and then by `slant` degrees about the camera's
 * horizontal axis (elevation of the view: 0 = seen level, positive = seen
 * from above).  Its centre is placed at camera depth `depth` (units of the
 * bounding-sphere radius) and projects to image position (x, y), in units of
 * the image half-width and half-height: -1 = left/bottom edge, +1 =
 * right/top edge, 0 = centre (y grows upwards).  The camera is a pinhole
 * with a horizontal field of view of 2*atan(SYNTH_TAN_HALF_FOV) (~53 deg), so
 * the bounding sphere spans a radius of about 1/(SYNTH_TAN_HALF_FOV*depth)
 * image half-widths; validation refuses ranges that would let it reach
 * beyond max_reach half-widths from the centre.  Shading is flat Lambert
 * plus ambient from one directional light on the camera's side; with haze
 * > 0 each object sample then moves towards the background behind it by
 * the share min(0.9, haze * max(0, depth - 2)) (aerial perspective); pixels
 * are box-filtered over supersample x supersample samples.  The background
 * is a level plus a linear gradient plus low-contrast value noise (two
 * octaves), all given by latents.
 *
 * Presets (synth_config_preset) set the ranges below and max_reach, haze:
 *   framed (SYNTH_PRESET_FRAMED): the object is the subject,
 *     as in a CIFAR-10 photo (the bounding sphere spans 1 to 0.5 of the
 *     frame's width over depth 2..4, max_reach 1.25); plain background of
 *     varying level with a mild gradient and no noise; light from above
 *     (so the view elevation shows in the shading) and haze 0.15 (so depth
 *     shows in the contrast).
 *   clutter (SYNTH_PRESET_CLUTTER): the first scene, kept byte-identical:
 *     small objects (bounding sphere 0.4 to 0.625 half-widths) anywhere in
 *     the middle of a textured background, light from any side, no haze,
 *     max_reach 1.2.  Backgrounds are on average darker than the lit
 *     objects in both.
 *   studio (SYNTH_PRESET_STUDIO): the object scaled per image to the
 *     silhouette area of a unit disc at its depth and centred on its
 *     silhouette (size_silhouette), so depth is the projected size and x, y
 *     the silhouette's centroid; the sun fixed in the world and the ambient
 *     light from the sky (light_world); the studio family set (objects.h:
 *     more distinct classes, darker parts); a black background; no
 *     haze; max_reach 1.25 (of the silhouette's equal-area disc).
 *   room (SYNTH_PRESET_ROOM): studio seen inside a backdrop fixed in the
 *     world and brighter towards a window (backdrop 0.1, window elevation
 *     60), so the dark background's level and gradient follow slant and
 *     tilt; x [-0.22, 0.22].
 *   room2 (SYNTH_PRESET_ROOM2, the default): room with the window lower
 *     (48) and the backdrop a little brighter (0.12), so that tilt shows in
 *     a network's first layer too; x [-0.24, 0.24], y [-0.22, 0.22].
 *
 * Latents (per image, one float each, in this order; ranges framed | clutter
 * | studio; room as studio but x [-0.22, 0.22]; room2 as studio but x
 * [-0.24, 0.24] and y [-0.22, 0.22]):
 *   slant            deg   [-30, 70]  | [-10, 50]   | [-50, 85]   view elevation (see above)
 *   tilt             deg   [-180, 180) all three                   azimuth about the vertical axis
 *   x                      [-0.2, 0.2] | [-0.5, 0.5] | [-0.2, 0.2]  image position of the centre
 *   y                      [-0.2, 0.2] | [-0.5, 0.5] | [-0.2, 0.2]  (studio: of the silhouette's centroid)
 *   depth                  [2, 4]     | [3.2, 5.0]  | [2.5, 7]    distance of the centre from the camera
 *                                                                 (studio: in silhouette radii)
 *   light_azimuth    deg   [45, 135]  | [-180, 180) | [20, 160]   light direction in the image plane
 *                                                    (0 = from the right, 90 = from above); studio:
 *                                                    about the world's vertical (0 = from the
 *                                                    right, 90 = from the viewer's side)
 *   light_elevation  deg   [10, 45]   | [20, 70]    | [70, 90]    angle between light and image plane;
 *                                                    studio: above the horizon
 *   ambient                [0.2, 0.4] | [0.3, 0.5]  | [0.8, 0.9]  (studio: from the sky)
 *   albedo                 [0.6, 1.0] | [0.6, 1.0]  | [0.85, 1]   object reflectance
 *   bg_level               [0, 0.25]  | [0.05, 0.5] | 0           background mean intensity
 *   bg_angle         deg   [-180, 180) all three                   gradient direction
 *   bg_gradient            [0, 0.1]   | [0, 0.3]    | 0           gradient amplitude (peak to peak along
 *                                                    its direction across the image)
 *   bg_noise               0          | [0, 0.08]   | 0           value-noise amplitude
 *   bg_pattern             {0..65535}  integer seed of the noise pattern
 *   variant                {0..k-1}    class sub-type (procedural) or the
 *                                      index of the OBJ file within its class
 *   shape_0 .. shape_5     [0, 1]      class-specific proportions (objects.c
 *                                      documents each family)
 * Pixel value = 255 * clamp(shade or background, 0, 1), shade = albedo *
 * tone * (A + (1 - ambient) * max(0, n.l)) (then hazed), tone the part's
 * albedo factor (1 but for the studio families' darker parts), A = ambient,
 * or with the light from the sky ambient * (SYNTH_SKY_FLOOR + (1 -
 * SYNTH_SKY_FLOOR) * (1 + n.up) / 2).
 * The image is a deterministic function of (label, latents) and the
 * renderer's haze: re-rendering from the recorded latents gives the same
 * bytes.  All presets draw the latents in the same order from the same
 * stream, so the clutter preset reproduces the first scene exactly.
 *
 * Determinism: image i's latents come from its own RNG stream,
 * rng_split(seed, i), and its label from a seeded balanced shuffle, so the
 * output is byte-identical for any thread count. */
#ifndef DRMM_SYNTH_H
#define DRMM_SYNTH_H

#include <stdint.h>

struct dataset;
struct err_t;

#define SYNTH_N_CLASSES 10
#define SYNTH_N_SHAPE 6
#define SYNTH_N_LATENTS (15 + SYNTH_N_SHAPE)
#define SYNTH_TAN_HALF_FOV 0.5
#define SYNTH_MAX_SILHOUETTE_SCALE 3.0
#define SYNTH_SKY_FLOOR 0.05
/* The room presets' window azimuth, in the world as the light_world sun
 * (degrees; its elevation is synth_config.window_elevation). */
#define SYNTH_WINDOW_AZIMUTH 0.0

/* Latent indices (columns of dataset.latents). */
enum {
    SYNTH_SLANT = 0, SYNTH_TILT, SYNTH_X, SYNTH_Y, SYNTH_DEPTH,
    SYNTH_LIGHT_AZIMUTH, SYNTH_LIGHT_ELEVATION, SYNTH_AMBIENT, SYNTH_ALBEDO,
    SYNTH_BG_LEVEL, SYNTH_BG_ANGLE, SYNTH_BG_GRADIENT, SYNTH_BG_NOISE, SYNTH_BG_PATTERN,
    SYNTH_VARIANT, SYNTH_SHAPE0
};

typedef struct synth_range {
    float min, max;       /* drawn uniformly; min == max fixes the latent */
} synth_range;

typedef struct synth_config {
    int n_train;          /* images in SPLIT_TRAIN (default 50000), first in the dataset */
    int n_test;           /* images in SPLIT_TEST (default 10000), after the train images */
    int width, height;    /* output size, 8..1024 (default 32x32) */
    int supersample;      /* samples per pixel side, 1..16 (default 4 = 4x4) */
    int threads;          /* worker threads, 1..256 (default 2) */
    uint64_t seed;        /* default 1 */
    const char *mesh_dir; /* NULL: procedural meshes; else a directory of .obj
                             files named <class>*.obj (see obj.h); not owned */
    int flat_background;  /* 1: bg_gradient = bg_noise = 0 (default 0) */
    int preset;           /* SYNTH_PRESET_*: the scene the ranges below came from
                             (set by synth_config_preset; recorded in the source) */
    /* Ranges of the nuisance latents (the preset's; see above); validated. */
    synth_range slant, tilt, x, y, depth;
    synth_range light_azimuth, light_elevation;
    synth_range ambient, albedo, bg_level, bg_gradient, bg_noise;
    /* Largest distance from the image centre, in image half-widths, that the
     * object's bounding sphere may reach with the x/y/depth ranges (framed
     * 1.4: large objects may be cropped a little, as in photos; clutter 1.2). */
    double max_reach;
    /* Aerial perspective: at camera distance depth the object's shade moves
     * towards the background by min(0.9, haze * max(0, depth - 2)) (framed
     * 0.2, clutter 0: none). */
    double haze;
    /* Light frame: 0 = the camera's (light_azimuth in the image plane,
     * light_elevation from the image plane towards the viewer; framed,
     * clutter); 1 = the world's (light_azimuth about the vertical from the
     * viewer's right, 90 = from the viewer's side, light_elevation above the
     * horizon), and the ambient light comes from the sky (faces turned down
     * get SYNTH_SKY_FLOOR of it), so the view elevation changes which faces
     * are lit (studio). */
    int light_world;
    /* Object size: 0 = the bounding sphere has radius 1 (framed, clutter);
     * 1 = per image, the object is scaled so that its silhouette has the
     * area of a unit disc seen face-on at the same distance (at most
     * SYNTH_MAX_SILHOUETTE_SCALE times the bounding-sphere size), so depth
     * maps to the projected size whatever the class and the view, and moved
     * so that the silhouette's centroid images at (x, y); both measured on
     * a 96x96 coverage probe of the object at distance 4 (studio). */
    int size_silhouette;
    /* Backdrop: 0 = none (framed, clutter, studio); b > 0 = the background
     * is seen inside a backdrop fixed in the world, brighter towards a
     * window (SYNTH_WINDOW_AZIMUTH and window_elevation, in the frame of
     * light_world): each background pixel adds b * (1 + d.w) / 2, d its
     * unit viewing direction and w the window's, both in the object's
     * frame, so the background's level and gradient change with slant and
     * tilt only (room: 0.1; room2: 0.12).  0..1. */
    double backdrop;
    /* The window's elevation above the horizon, degrees (room: 60; room2:
     * 48).  -90..90. */
    double window_elevation;
    /* Optional progress report, called from the calling thread about every
     * 1% with the number of images done; NULL for none. */
    void (*progress)(long done, long total, void *arg);
    void *progress_arg;
} synth_config;

/* Scene presets.  New values are appended only (stores record the name). */
typedef enum {
    SYNTH_PRESET_FRAMED = 0,  /* the object is the subject */
    SYNTH_PRESET_CLUTTER = 1, /* the first scene: small objects on a textured background */
    SYNTH_PRESET_STUDIO = 2,  /* common silhouette size, light from the sky */
    SYNTH_PRESET_ROOM = 3,    /* studio inside a backdrop lit from a window */
    SYNTH_PRESET_ROOM2 = 4,   /* the default: room with a lower window, wider x and y */
    SYNTH_N_PRESETS
} synth_preset;

/* Fills every field with its default (60,000 images, 32x32, 4x4, 2 threads,
 * the room2 preset). */
void synth_config_default(synth_config *cfg);

/* Sets the scene fields of cfg (preset, the latent ranges, max_reach, haze,
 * light_world, size_silhouette, backdrop, window_elevation) to the preset's, leaving sizes, counts, seed, threads and mesh_dir alone.
 * Returns 0, or -1 for an unknown preset. */
int synth_config_preset(synth_config *cfg, int preset);

/* "framed" / "clutter" / "studio" / "room" / "room2" (static strings; NULL for an unknown
 * value), and the reverse (-1 for an unknown name). */
const char *synth_preset_name(int preset);
int synth_preset_parse(const char *name);

/* Checks every field; returns 0, or -1 with a message naming the field, its
 * value and the allowed range. */
int synth_config_validate(const synth_config *cfg, struct err_t *e);

/* Renders n_train + n_test gray images into *out (allocated here with
 * dataset_alloc; the caller frees it with dataset_free): 1 channel,
 * height x width, labels 0..9 balanced within each split (counts differ by at
 * most one), class names as CIFAR-10's, SYNTH_N_LATENTS latents named as
 * above, source "synth:seed=...".  Returns 0, or -1 with a message (invalid
 * config, unreadable mesh directory, out of memory). */
int synth_render(const synth_config *cfg, struct dataset *out, struct err_t *e);

/* Writes the procedural families' sub-types of a preset's scene (framed and
 * clutter share the first set; studio and room have their own) as OBJ files into the
 * existing directory dir: <class>_v<variant>.obj with every shape_k = 0.5.  Such a
 * directory works as mesh_dir (file k of a class is variant k) and as the
 * mesh directory of datasets/blender_render.py.  Returns 0, or -1 with a
 * message naming the file. */
int synth_export_meshes(const char *dir, int preset, struct err_t *e);

/* Class and latent names (static strings). */
const char *synth_class_name(int label);
const char *synth_latent_name(int i);

/* ---- Rendering one image from explicit latents (tests, tools) ---- */

typedef struct synth_renderer synth_renderer;

/* Prepares meshes (procedural, or loaded from cfg->mesh_dir) for cfg's
 * image size and supersampling.  *r is owned by the caller: free it with
 * synth_renderer_free.  Returns 0 or -1 with a message. */
int synth_renderer_new(synth_renderer **r, const synth_config *cfg, struct err_t *e);
void synth_renderer_free(synth_renderer *r);

/* Draws the latents of image `index` exactly as synth_render does for a
 * given label (SYNTH_N_LATENTS floats into latents). */
void synth_sample_latents(const synth_renderer *r, long index, int label, float *latents);

/* Renders one image of class `label` with the given latents into
 * out[height * width] (row-major, top row first).  Safe to call from
 * several threads at once on the same renderer.  Returns 0, or -1 with a
 * message for a bad label or latent (e.g. a variant with no mesh). */
int synth_render_image(const synth_renderer *r, int label, const float *latents,
                       uint8_t *out, struct err_t *e);

#endif
