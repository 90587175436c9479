/* The generative side (src/run/generator.h) on a small model: switch
 * statistics, sampling (deterministic under the seed, one winner per pooling
 * window, finite), the closed-form activity-maximising image (a fixed point
 * of its map, against gradient ascent from the same start), the rendered
 * units (the most active unit picked), and bad input refused. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "check.h"
#include "drmm.h"
#include "error.h"
#include "generator.h"
#include "rng.h"

static const char *NET =
    "input channels=1 height=8 width=8\n"
    "conv filters=4 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=6 size=3 pad=full\n"
    "conv filters=3 size=1 pad=valid\n"
    "meanpool\n";

/* convex: nonnegative weights above the first block (gamma stays 1), so
 * that the score is a maximum of affine functions of the image and the
 * closed form has a fixed point (the maximiser of a region's template lies
 * in that region) */
static drmm *model(int convex)
{
    arch a;
    err_t e;
    drmm *m = NULL;
    drmm_config cfg;
    drmm_config_default(&cfg);
    if (arch_parse(&a, NET, "test", &e) || drmm_create(&m, &a, &cfg, 5, &e))
        printf("model: %s\n", e.msg);
    arch_free(&a);
    named_tensor t[32];
    int nt = m ? drmm_param_tensors(m, t, 32) : 0;
    for (int i = 0; i < nt && convex; i++)
        if (!strcmp(t[i].name, "conv2.weight") || !strcmp(t[i].name, "conv3.weight"))
            for (long k = 0; k < nt_numel(&t[i]); k++)
                t[i].data[k] = fabsf(t[i].data[k]);
    return m;
}

static int all_finite(const float *v, long n)
{
    for (long k = 0; k < n; k++)
        if (!isfinite(v[k]))
            return 0;
    return 1;
}

int main(void)
{
    openblas_set_num_threads(1);
    drmm *m = model(0), *mc = model(1);
    if (!m || !mc)
        return 1;
    const int P = 64, n = 60, K = 3;
    rng_t r;
    rng_seed(&r, 7);
    float *x = malloc(sizeof(float) * n * P);
    for (long k = 0; k < (long)n * P; k++)
        x[k] = (float)rng_uniform(&r);
    err_t e;
    drmm_acts *acts, *acts_c;
    if (drmm_acts_create(m, 16, &acts, &e) || drmm_acts_create(mc, 16, &acts_c, &e))
        return 1;

    /* switch statistics: every image counted once; one winner per pooling window */
    switch_stats s;
    CHECK(switch_stats_collect(m, x, n, 16, &s, &e) == 0, "collect: %s", e.msg);
    long counted = 0;
    for (int c = 0; c < K; c++)
        counted += s.n_class[c];
    CHECK(counted == n, "every image counted under its class (%ld of %d)", counted, n);
    const long T = s.off[s.nb];
    long won0 = 0, on_not_won = 0;
    for (int c = 0; c < K; c++)
        for (long k = s.off[0]; k < s.off[1]; k++) {
            won0 += s.won[c * T + k];
            on_not_won += s.on[c * T + k] > s.won[c * T + k];
        }
    CHECK(won0 == (long)n * 4 * 4 * 4, "block 0: one winner per window per image (%ld)", won0);
    CHECK(on_not_won == 0, "a unit is on only where it won its window");

    /* samples: deterministic under the seed, different under another, finite */
    const int S = 5;
    float *a1 = malloc(sizeof(float) * S * P), *a2 = malloc(sizeof(float) * S * P);
    int pooled = -1;
    CHECK(generate_samples(m, acts, &s, 1, S, 42, a1, &pooled, &e) == 0, "samples: %s", e.msg);
    uint8_t mask[256];
    int bad_windows = 0;
    for (int i = 0; i < S; i++) {
        CHECK(drmm_switches(acts, 0, i, mask, &e) == 0, "switches of a sample: %s", e.msg);
        for (int c = 0; c < 4; c++)
            for (int py = 0; py < 4; py++)
                for (int px = 0; px < 4; px++) {
                    int w = 0;
                    for (int d = 0; d < 4; d++)
                        w += (mask[c * 64 + (2 * py + d / 2) * 8 + 2 * px + d % 2] >> 1) & 1;
                    bad_windows += w != 1;
                }
    }
    CHECK(bad_windows == 0, "a sample's max-pool switches: one winner per window (%d windows otherwise)", bad_windows);
    CHECK(generate_samples(m, acts, &s, 1, S, 42, a2, NULL, &e) == 0 && memcmp(a1, a2, sizeof(float) * S * P) == 0,
          "the same seed draws the same samples");
    CHECK(generate_samples(m, acts, &s, 1, S, 43, a2, NULL, &e) == 0 && memcmp(a1, a2, sizeof(float) * S * P) != 0,
          "another seed draws other samples");
    CHECK(all_finite(a1, (long)S * P), "samples finite");
    double spread = 0;
    for (int k = 0; k < P; k++)
        spread += fabs(a1[k] - a1[P + k]);
    CHECK(spread > 0, "two samples of a class differ");
    CHECK(generate_samples(m, acts, &s, K, S, 42, a2, NULL, &e) == -1 && e.kind == ERR_INPUT && strstr(e.msg, "class 3"),
          "an unknown class refused as bad input (%s)", e.msg);
    CHECK(generate_samples(m, acts, &s, -1, S, 42, a2, NULL, &e) == -1 && e.kind == ERR_INPUT, "class -1 refused");

    /* activity maximisation: the mean image as the start, its norm the radius */
    float start[64] = {0};
    for (int i = 0; i < n; i++)
        for (int k = 0; k < P; k++)
            start[k] += x[(long)i * P + k] / n;
    double radius = 0;
    for (int k = 0; k < P; k++)
        radius += (double)start[k] * start[k];
    radius = sqrt(radius);
    int cls[3] = {0, 1, 2};
    float starts[3 * 64], *cf2 = malloc(sizeof(float) * K * P);
    for (int i = 0; i < K; i++)
        memcpy(starts + i * P, start, sizeof start);
    actmax_row r2[3];
    float *cf = malloc(sizeof(float) * K * P), *ga = malloc(sizeof(float) * K * P), *g = malloc(sizeof(float) * K * P);
    actmax_row rc[3], rg[3];
    for (int convex = 1; convex >= 0; convex--) {
        drmm *mm = convex ? mc : m;
        drmm_acts *am = convex ? acts_c : acts;
        const char *name = convex ? "convex model" : "random model";
        CHECK(actmax_closed_form(mm, cls, K, starts, radius, 100, cf, rc, &e) == 0, "closed form: %s", e.msg);
        CHECK(actmax_ascent(mm, cls, K, starts, radius, 300, 0.05, ga, rg, &e) == 0, "ascent: %s", e.msg);
        /* the closed form from where gradient ascent ended */
        CHECK(actmax_closed_form(mm, cls, K, ga, radius, 100, cf2, r2, &e) == 0, "closed form: %s", e.msg);
        CHECK(drmm_score_gradient(mm, am, cf, cls, K, g, &e) == 0, "gradient at the closed form: %s", e.msg);
        const float *z = drmm_acts_logits(am);
        for (int i = 0; i < K; i++) {
            double gn = 0, na = 0, nb = 0, ab = 0, worst = 0, c2 = 0;
            for (int k = 0; k < P; k++)
                gn += (double)g[i * P + k] * g[i * P + k];
            gn = sqrt(gn);
            for (int k = 0; k < P; k++) {
                worst = fmax(worst, fabs(radius * g[i * P + k] / gn - cf[i * P + k]));
                na += (double)cf[i * P + k] * cf[i * P + k];
                nb += (double)ga[i * P + k] * ga[i * P + k];
                ab += (double)cf[i * P + k] * ga[i * P + k];
                c2 += (double)cf2[i * P + k] * ga[i * P + k];
            }
            double cosine = ab / sqrt(na * nb), cosine2 = c2 / (radius * radius);
            printf("  %s, class %d: closed form %s after %d iterations, score %.4f (start %.4f); gradient ascent "
                   "%.4f, cosine %.4f; the closed form from its end: %s after %d, score %.4f, cosine %.6f\n", name, i,
                   rc[i].converged ? "a fixed point" : "no fixed point", rc[i].iterations, rc[i].score,
                   rc[i].start_score, rg[i].score, cosine, r2[i].converged ? "a fixed point" : "no fixed point",
                   r2[i].iterations, r2[i].score, cosine2);
            CHECK(fabs(sqrt(na) - radius) <= 1e-4 * radius && fabs(sqrt(nb) - radius) <= 1e-4 * radius,
                  "%s, class %d: ||I|| = r for both", name, i);
            CHECK(fabs(z[i * K + i] - rc[i].score) <= 1e-5 * fmax(1.0, fabs(rc[i].score)),
                  "%s, class %d: the score returned is the image's", name, i);
            CHECK(rc[i].score > rc[i].start_score && rg[i].score > rg[i].start_score,
                  "%s, class %d: both raise the score from the start", name, i);
            if (!convex)
                continue;
            CHECK(rc[i].converged, "%s, class %d: the closed form reaches a fixed point", name, i);
            CHECK(worst <= 1e-4 * radius, "%s, class %d: I* = r R_c(g(I*)) / ||R_c(g(I*))|| (max diff %g)", name, i,
                  worst);
            CHECK(r2[i].converged && cosine2 > 0.999 && r2[i].score >= rg[i].score - 1e-4 * fabs(rg[i].score),
                  "%s, class %d: gradient ascent ends at a closed-form image, the template rendered through its own "
                  "switches (cosine %.6f, scores %.5f, %.5f)", name, i, cosine2, r2[i].score, rg[i].score);
        }
    }
    int badc = 7;
    CHECK(actmax_closed_form(m, &badc, 1, starts, radius, 5, cf, rc, &e) == -1 && e.kind == ERR_INPUT,
          "closed form: unknown class refused (%s)", e.msg);
    CHECK(actmax_ascent(m, cls, 1, starts, 0.0, 5, 0.1, ga, rg, &e) == -1 && e.kind == ERR_INPUT,
          "ascent: zero norm refused (%s)", e.msg);

    /* unit images: the most active unit of each channel of each block, rendered; finite, not zero */
    const int NB = 3, NCH = 6;
    float *ui = malloc(sizeof(float) * NB * NCH * P);
    unit_pick picks[3 * 6];
    CHECK(unit_images(m, x, n, 16, NCH, ui, picks, &e) == 0, "unit images: %s", e.msg);
    CHECK(all_finite(ui, (long)NB * NCH * P), "unit images finite");
    int not_max = 0;
    for (int i = 0; i < n; i++) {
        drmm_infer(m, acts, x + (long)i * P, 1, &e);
        for (int l = 0; l < NB; l++) {
            int C, H, W;
            const float *act = drmm_acts_block(acts, l, &C, &H, &W);
            for (int c = 0; c < C && c < NCH; c++)
                for (int k = 0; k < H * W; k++)
                    not_max += act[c * H * W + k] > picks[l * NCH + c].activation;
        }
    }
    CHECK(not_max == 0, "each channel's pick is its most active unit over the images");
    CHECK(isinf(picks[0 * NCH + 5].activation) && isinf(picks[2 * NCH + 3].activation) &&
          !isinf(picks[1 * NCH + 5].activation), "channels a block does not have are marked");
    double mass[3] = {0, 0, 0};
    for (int l = 0; l < NB; l++)
        for (long k = 0; k < (long)NCH * P; k++)
            mass[l] += fabs(ui[(long)l * NCH * P + k]);
    CHECK(mass[0] > 0 && mass[1] > 0 && mass[2] > 0, "every block's units render to something (%g %g %g)", mass[0],
          mass[1], mass[2]);
    float again[64];
    CHECK(drmm_infer(m, acts, x + (long)picks[NCH + 2].image * P, 1, &e) == 0, "infer");
    uint8_t m0[256];
    drmm_switches(acts, 0, 0, m0, &e);
    const uint8_t *mk[1] = {m0};
    CHECK(drmm_render_unit(m, acts, 1, &picks[NCH + 2].unit, 1, mk, again, &e) == 0 &&
          memcmp(again, ui + (long)(NCH + 2) * P, sizeof again) == 0,
          "a unit's image is its rendering through its image's switches");
    CHECK(unit_images(m, x, n, 16, 0, ui, picks, &e) == -1 && e.kind == ERR_INPUT, "no channel refused (%s)", e.msg);

    switch_stats_free(&s);
    free(x); free(a1); free(a2); free(cf); free(cf2); free(ga); free(g); free(ui);
    drmm_acts_free(acts);
    drmm_acts_free(acts_c);
    drmm_free(m);
    drmm_free(mc);
    return check_done();
}
