/* The generative side of a trained DRMM (`generate`):
 *
 * - switch statistics: how often each unit's switches are on, per class,
 *   over the bottom-up passes of training images (the class being the
 *   model's own inferred class c-hat, so that no label beyond those the
 *   model trained with is used);
 * - sampling: for a class c, switches drawn top-down from those frequencies
 *   (per max-pooling window: the position t from how often each position won
 *   the window, then a from how often the winner was on; without max-pool, a
 *   from its frequency), rendered with drmm_render;
 * - activity maximisation (supplement, section E): with the switches g
 *   fixed, the class score is affine in the image, S_c(I) = <R_c(g), I> + b,
 *   R_c(g) the rendering of class c's classifier row down through g
 *   (drmm_score_gradient).  Under ||I|| = r its maximiser is
 *   I = r R_c(g) / ||R_c(g)||, the template rendered along the active
 *   paths; the closed form is the self-consistent one, g the switches of I
 *   itself, found by iterating the map to a fixed point.  Compared with
 *   projected gradient ascent on the sphere ||I|| = r;
 * - unit images: a unit of block l rendered to pixel space (drmm_render_unit)
 *   through the switches of the image, among a sample, where its channel is
 *   most active, at that position.
 * Everything is deterministic under the seed. */
#ifndef DRMM_GENERATOR_H
#define DRMM_GENERATOR_H

#include <stdint.h>

#include "drmm.h"

struct err_t;

typedef struct switch_stats {
    int nb, K;
    long off[ARCH_MAX_BLOCKS + 1];   /* block l's units are [off[l], off[l+1]) of a class's row */
    long *n_class;                   /* [K] images counted per class */
    uint32_t *on, *won;              /* [K][off[nb]]: switch on (a*t), won its window (t) */
} switch_stats;

/* Counts the switches of n images x (batches of `batch`), each under its
 * predicted class. */
int  switch_stats_collect(drmm *m, const float *x, int n, int batch, switch_stats *s, struct err_t *e);
void switch_stats_free(switch_stats *s);

/* n samples of class cls (n * C*H*W into out), from the class's switch
 * frequencies, or from those of every class when no image was inferred as
 * cls (*pooled set to 1, else 0), rendered in A (made for at least n rows:
 * drmm_switches(A, ...) reads the drawn switches afterwards).  The draws
 * depend on seed and cls only. */
int generate_samples(drmm *m, drmm_acts *A, const switch_stats *s, int cls, int n, uint64_t seed, float *out,
                     int *pooled, struct err_t *e);

typedef struct actmax_row {
    double score;        /* S_c of the image returned */
    double start_score;  /* S_c of the start, scaled to the radius */
    int iterations;      /* closed form: maps applied until the fixed point (or the limit) */
    int converged;       /* closed form: a fixed point was reached */
    int flat;            /* closed form: the score's gradient vanished at an iterate (the score does not
                            depend on the image there: no maximiser to render); that iterate is returned */
} actmax_row;

/* For each row i, the closed-form activity-maximising image of class
 * classes[i] with ||I|| = radius (n * C*H*W into out), from start (row i
 * of n images, scaled to the radius).  M(I) = r R_c(g(I)) / ||R_c(g(I))||
 * is the maximiser for I's switches; a fixed point of M (I's own switches
 * render I) is the closed form.  Each iteration tests M(I) for one (M(M(I))
 * = M(I), to 1e-6 r) and otherwise moves I <- r (I + beta M(I)) / ||.||
 * (beta 1, halved when the score falls: the fixed points are M's); after
 * max_iters without one, the M(I) of the highest score is returned
 * (converged 0).  Where the score is convex in the image (a maximum of
 * affine functions, as in max-sum inference) a fixed point exists; with
 * ReLU networks of mixed signs the maximum can sit on a switching boundary,
 * where there is none. */
int actmax_closed_form(drmm *m, const int *classes, int n, const float *start, double radius, int max_iters,
                       float *out, actmax_row *rows, struct err_t *e);

/* Projected gradient ascent on ||I|| = radius from start (n images):
 * `steps` steps I <- r (I + step r g / ||g||) / ||.||, g the gradient of the
 * score. */
int actmax_ascent(drmm *m, const int *classes, int n, const float *start, double radius, int steps, double step,
                  float *out, actmax_row *rows, struct err_t *e);

typedef struct unit_pick {
    int image;           /* index into x of the most activating image */
    int unit;            /* the unit (channel * ho*wo + y * wo + x) */
    float activation;    /* its activation (after BN and ReLU) */
} unit_pick;

/* For channels [0, nch) of every block l: the unit of that channel most
 * active over the n images x (one bottom-up pass, batches of `batch`),
 * rendered to pixel space through that image's switches: image (l, c) at
 * out + (l * nch + c) * C*H*W, pick at picks[l * nch + c] (may be NULL).  A
 * block with fewer than nch channels leaves the rest zero, their activation
 * -infinity. */
int unit_images(drmm *m, const float *x, int n, int batch, int nch, float *out, unit_pick *picks,
                struct err_t *e);

#endif
