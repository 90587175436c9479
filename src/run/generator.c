/* The generative side of a trained DRMM (see generator.h). */
#include "generator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rng.h"

static long units_of(const arch_block *b) { return (long)b->g.cout * b->g.ho * b->g.wo; }

int switch_stats_collect(drmm *m, const float *x, int n, int batch, switch_stats *s, err_t *e)
{
    memset(s, 0, sizeof *s);
    const arch *a = drmm_get_arch(m);
    const int P = a->channels * a->height * a->width;
    if (n < 1 || batch < 1)
        return err_input(e, "switch statistics need at least one image (got %d)", n);
    s->nb = a->nblocks;
    s->K = a->classes;
    for (int l = 0; l < s->nb; l++)
        s->off[l + 1] = s->off[l] + units_of(&a->blocks[l]);
    const long T = s->off[s->nb];
    s->n_class = calloc(s->K, sizeof(long));
    s->on = calloc((size_t)s->K * T, sizeof(uint32_t));
    s->won = calloc((size_t)s->K * T, sizeof(uint32_t));
    uint8_t *mask = malloc((size_t)T);
    drmm_acts *acts = NULL;
    if (!s->n_class || !s->on || !s->won || !mask) {
        free(mask);
        switch_stats_free(s);
        return err_set(e, "out of memory");
    }
    if (drmm_acts_create(m, n < batch ? n : batch, &acts, e))
        goto fail;
    for (int i0 = 0; i0 < n; i0 += batch) {
        int rows = n - i0 < batch ? n - i0 : batch;
        if (drmm_infer(m, acts, x + (long)i0 * P, rows, e))
            goto fail;
        const float *q = drmm_acts_probs(acts);
        for (int i = 0; i < rows; i++) {
            int c = 0;
            for (int k = 1; k < s->K; k++)
                if (q[(long)i * s->K + k] > q[(long)i * s->K + c])
                    c = k;
            s->n_class[c]++;
            for (int l = 0; l < s->nb; l++)
                if (drmm_switches(acts, l, i, mask + s->off[l], e))
                    goto fail;
            uint32_t *on = s->on + (long)c * T, *won = s->won + (long)c * T;
            for (long k = 0; k < T; k++) {
                on[k] += mask[k] & 1;
                won[k] += (mask[k] >> 1) & 1;
            }
        }
    }
    free(mask);
    drmm_acts_free(acts);
    return 0;
fail:
    free(mask);
    drmm_acts_free(acts);
    switch_stats_free(s);
    return -1;
}

void switch_stats_free(switch_stats *s)
{
    free(s->n_class);
    free(s->on);
    free(s->won);
    memset(s, 0, sizeof *s);
}

/* Draws one row's switches of block l (mask: the block's units) from the
 * counts on/won over `count` images (per unit, already summed over the classes used). */
static void draw_block(const arch_block *b, const double *on, const double *won, double count, rng_t *r,
                       uint8_t *mask)
{
    const long U = units_of(b);
    if (b->pool != POOL_MAX) {
        for (long k = 0; k < U; k++) {
            uint8_t bit = count > 0 && rng_uniform(r) < on[k] / count;
            mask[k] = (uint8_t)(bit | bit << 1);
        }
        return;
    }
    memset(mask, 0, (size_t)U);
    const int W = b->g.wo, HW = b->g.ho * b->g.wo;
    for (int c = 0; c < b->g.cout; c++)
        for (int py = 0; py < b->hp; py++)
            for (int px = 0; px < b->wp; px++) {
                long k4[4];
                double tot = 0;
                for (int d = 0; d < 4; d++) {
                    k4[d] = (long)c * HW + (2 * py + d / 2) * W + 2 * px + d % 2;
                    tot += won[k4[d]];
                }
                if (!(tot > 0))
                    continue;   /* no winner seen: nothing rendered here */
                double u = rng_uniform(r) * tot;
                int d = 0;
                while (d < 3 && u >= won[k4[d]]) {
                    u -= won[k4[d]];
                    d++;
                }
                while (won[k4[d]] <= 0)   /* rounding at the end: the last position that won */
                    d--;
                long k = k4[d];
                mask[k] = (uint8_t)(2 | (rng_uniform(r) < on[k] / won[k]));
            }
}

int generate_samples(drmm *m, drmm_acts *A, const switch_stats *s, int cls, int n, uint64_t seed, float *out,
                     int *pooled, err_t *e)
{
    const arch *a = drmm_get_arch(m);
    if (cls < 0 || cls >= s->K)
        return err_input(e, "class %d out of range 0..%d", cls, s->K - 1);
    if (n < 1)
        return err_input(e, "at least one sample (got %d)", n);
    const long T = s->off[s->nb];
    int use_all = s->n_class[cls] == 0;
    double *on = calloc((size_t)T, sizeof(double)), *won = calloc((size_t)T, sizeof(double));
    uint8_t *buf = malloc((size_t)n * T);
    int *labels = malloc(sizeof(int) * n);
    const uint8_t *masks[ARCH_MAX_BLOCKS];
    int rc = -1;
    if (!on || !won || !buf || !labels) {
        err_set(e, "out of memory");
        goto done;
    }
    double count = 0;
    for (int c = 0; c < s->K; c++) {
        if (!use_all && c != cls)
            continue;
        count += (double)s->n_class[c];
        for (long k = 0; k < T; k++) {
            on[k] += s->on[(long)c * T + k];
            won[k] += s->won[(long)c * T + k];
        }
    }
    if (!(count > 0)) {
        err_input(e, "no switch statistics (no image counted)");
        goto done;
    }
    rng_t root, r;
    rng_seed(&root, seed);
    r = rng_split(&root, (uint64_t)cls);
    for (int l = 0; l < s->nb; l++) {
        const long U = s->off[l + 1] - s->off[l];
        uint8_t *block_masks = buf + (long)n * s->off[l];   /* the n rows of block l, one after the other */
        for (int i = 0; i < n; i++)
            draw_block(&a->blocks[l], on + s->off[l], won + s->off[l], count, &r, block_masks + (long)i * U);
        masks[l] = block_masks;
    }
    for (int i = 0; i < n; i++)
        labels[i] = cls;
    if (drmm_render(m, A, labels, n, masks, out, e))
        goto done;
    if (pooled)
        *pooled = use_all;
    rc = 0;
done:
    free(on);
    free(won);
    free(buf);
    free(labels);
    return rc;
}

static double norm2(const float *v, long n)
{
    double s = 0;
    for (long k = 0; k < n; k++)
        s += (double)v[k] * v[k];
    return sqrt(s);
}

/* dst = radius * src / ||src|| (src zero: dst zero). */
static void to_sphere(float *dst, const float *src, long P, double radius)
{
    double nrm = norm2(src, P), f = nrm > 0 ? radius / nrm : 0;
    for (long k = 0; k < P; k++)
        dst[k] = (float)(src[k] * f);
}

static int check_actmax(const drmm *m, const int *classes, int n, double radius, err_t *e)
{
    const int K = drmm_get_arch(m)->classes;
    if (n < 1)
        return err_input(e, "at least one class (got %d)", n);
    for (int i = 0; i < n; i++)
        if (classes[i] < 0 || classes[i] >= K)
            return err_input(e, "class %d out of range 0..%d", classes[i], K - 1);
    if (!(radius > 0) || !isfinite(radius))
        return err_input(e, "the norm of the images must be positive (got %g)", radius);
    return 0;
}

int actmax_closed_form(drmm *m, const int *classes, int n, const float *start, double radius, int max_iters,
                       float *out, actmax_row *rows, err_t *e)
{
    if (check_actmax(m, classes, n, radius, e))
        return -1;
    const arch *a = drmm_get_arch(m);
    const long P = (long)a->channels * a->height * a->width;
    const int K = a->classes;
    /* cur: the iterates I; map: M(I) = r R_c(g(I)) / ||.||, the maximiser for I's switches; map2: M(M(I)) */
    float *cur = malloc(sizeof(float) * n * P), *map = malloc(sizeof(float) * n * P), *map2 = malloc(sizeof(float) * n * P);
    double *beta = malloc(sizeof(double) * n), *score = malloc(sizeof(double) * n);
    drmm_acts *acts = NULL;
    int rc = -1;
    if (!cur || !map || !map2 || !beta || !score) {
        err_set(e, "out of memory");
        goto out;
    }
    if (drmm_acts_create(m, n, &acts, e))
        goto out;
    const float *logits = drmm_acts_logits(acts);
    for (int i = 0; i < n; i++) {
        to_sphere(cur + i * P, start + i * P, P, radius);
        rows[i] = (actmax_row){.score = -INFINITY};
        beta[i] = 1;
    }
    if (drmm_score_gradient(m, acts, cur, classes, n, map, e))
        goto out;
    for (int i = 0; i < n; i++) {
        score[i] = rows[i].start_score = logits[(long)i * K + classes[i]];
        if (!(norm2(map + i * P, P) > 0)) {   /* a flat score: nothing to render */
            rows[i].flat = 1;
            rows[i].score = score[i];
            memcpy(out + i * P, cur + i * P, sizeof(float) * P);
        }
        to_sphere(map + i * P, map + i * P, P, radius);
    }
    for (int it = 1; it <= max_iters; it++) {
        /* is M(I) a fixed point, M(M(I)) = M(I)?  Then it is the closed form. */
        if (drmm_score_gradient(m, acts, map, classes, n, map2, e))
            goto out;
        int all = 1;
        for (int i = 0; i < n; i++) {
            if (rows[i].converged || rows[i].flat)
                continue;
            double s = logits[(long)i * K + classes[i]];
            if (s > rows[i].score) {
                rows[i].score = s;
                memcpy(out + i * P, map + i * P, sizeof(float) * P);
            }
            to_sphere(map2 + i * P, map2 + i * P, P, radius);
            double diff = 0;
            for (long k = 0; k < P; k++)
                diff = fmax(diff, fabs((double)map2[i * P + k] - map[i * P + k]));
            rows[i].iterations = it;
            if (diff <= 1e-6 * radius && norm2(map2 + i * P, P) > 0) {
                rows[i].converged = 1;
                rows[i].score = s;
                memcpy(out + i * P, map + i * P, sizeof(float) * P);
                continue;
            }
            all = 0;
            /* else a damped step towards M(I), whose fixed points are M's:
               I <- r (I + beta M(I)) / ||.||, beta halved when the score fell */
            float *ci = cur + i * P;
            for (long k = 0; k < P; k++)
                ci[k] += (float)(beta[i] * map[i * P + k]);
            to_sphere(ci, ci, P, radius);
        }
        if (all)
            break;
        if (drmm_score_gradient(m, acts, cur, classes, n, map, e))
            goto out;
        for (int i = 0; i < n; i++) {
            if (rows[i].converged || rows[i].flat)
                continue;
            double s = logits[(long)i * K + classes[i]];
            if (s < score[i] && beta[i] > 1e-3)
                beta[i] /= 2;
            score[i] = s;
            if (!(norm2(map + i * P, P) > 0)) {
                rows[i].flat = 1;
                if (s > rows[i].score) {
                    rows[i].score = s;
                    memcpy(out + i * P, cur + i * P, sizeof(float) * P);
                }
                continue;
            }
            to_sphere(map + i * P, map + i * P, P, radius);
        }
    }
    rc = 0;
out:
    drmm_acts_free(acts);
    free(cur);
    free(map);
    free(map2);
    free(beta);
    free(score);
    return rc;
}

int actmax_ascent(drmm *m, const int *classes, int n, const float *start, double radius, int steps, double step,
                  float *out, actmax_row *rows, err_t *e)
{
    if (check_actmax(m, classes, n, radius, e))
        return -1;
    if (steps < 0 || !(step > 0))
        return err_input(e, "gradient ascent needs steps >= 0 and a positive step (got %d, %g)", steps, step);
    const arch *a = drmm_get_arch(m);
    const long P = (long)a->channels * a->height * a->width;
    const int K = a->classes;
    float *g = malloc(sizeof(float) * n * P);
    if (!g)
        return err_set(e, "out of memory");
    drmm_acts *acts = NULL;
    if (drmm_acts_create(m, n, &acts, e)) {
        free(g);
        return -1;
    }
    const float *logits = drmm_acts_logits(acts);
    for (int i = 0; i < n; i++) {
        to_sphere(out + i * P, start + i * P, P, radius);
        rows[i] = (actmax_row){.iterations = steps};
    }
    for (int s = 0; s <= steps; s++) {
        if (drmm_score_gradient(m, acts, out, classes, n, g, e)) {
            free(g);
            drmm_acts_free(acts);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            double score = logits[(long)i * K + classes[i]];
            if (s == 0)
                rows[i].start_score = score;
            rows[i].score = score;
            if (s == steps)
                continue;
            float *x = out + i * P;
            double gn = norm2(g + i * P, P), f = gn > 0 ? step * radius / gn : 0;
            for (long k = 0; k < P; k++)
                x[k] += (float)(f * g[i * P + k]);
            to_sphere(x, x, P, radius);
        }
    }
    free(g);
    drmm_acts_free(acts);
    return 0;
}

int unit_images(drmm *m, const float *x, int n, int batch, int nch, float *out, unit_pick *picks, err_t *e)
{
    const arch *a = drmm_get_arch(m);
    const int nb = a->nblocks;
    if (nch < 1)
        return err_input(e, "at least one channel per layer (got %d)", nch);
    if (n < 1 || batch < 1)
        return err_input(e, "unit images need at least one image (got %d)", n);
    const long P = (long)a->channels * a->height * a->width;
    unit_pick *best = malloc(sizeof *best * nb * nch);
    uint8_t *buf = NULL;
    drmm_acts *acts = NULL;
    int rc = -1;
    if (!best) {
        err_set(e, "out of memory");
        goto done;
    }
    if (drmm_acts_create(m, n < batch ? n : batch, &acts, e))
        goto done;
    for (int l = 0; l < nb; l++)
        for (int c = 0; c < nch; c++)
            best[l * nch + c] = (unit_pick){.image = 0, .unit = c * a->blocks[l].g.ho * a->blocks[l].g.wo,
                                            .activation = -INFINITY};
    for (int i0 = 0; i0 < n; i0 += batch) {
        int rows = n - i0 < batch ? n - i0 : batch;
        if (drmm_infer(m, acts, x + (long)i0 * P, rows, e))
            goto done;
        for (int l = 0; l < nb; l++) {
            int C, H, W;
            const float *act = drmm_acts_block(acts, l, &C, &H, &W);
            const long HW = (long)H * W;
            for (int i = 0; i < rows; i++)
                for (int c = 0; c < nch && c < C; c++)
                    for (long k = 0; k < HW; k++) {
                        float v = act[((long)i * C + c) * HW + k];
                        unit_pick *b = &best[l * nch + c];
                        if (v > b->activation)
                            *b = (unit_pick){.image = i0 + i, .unit = (int)(c * HW + k), .activation = v};
                    }
        }
    }
    long below = 0;
    for (int l = 0; l < nb; l++)
        below += units_of(&a->blocks[l]);
    buf = malloc((size_t)below);
    if (!buf) {
        err_set(e, "out of memory");
        goto done;
    }
    memset(out, 0, sizeof(float) * nb * nch * P);
    for (int l = 0; l < nb; l++)
        for (int c = 0; c < nch; c++) {
            unit_pick *b = &best[l * nch + c];
            if (picks)
                picks[l * nch + c] = *b;
            if (c >= a->blocks[l].g.cout)
                continue;   /* the layer has fewer channels: left zero, activation -inf */
            const uint8_t *masks[ARCH_MAX_BLOCKS];
            if (drmm_infer(m, acts, x + (long)b->image * P, 1, e))
                goto done;
            long off = 0;
            for (int j = 0; j < l; j++) {
                if (drmm_switches(acts, j, 0, buf + off, e))
                    goto done;
                masks[j] = buf + off;
                off += units_of(&a->blocks[j]);
            }
            if (drmm_render_unit(m, acts, l, &b->unit, 1, l ? masks : NULL, out + ((long)l * nch + c) * P, e))
                goto done;
        }
    rc = 0;
done:
    drmm_acts_free(acts);
    free(best);
    free(buf);
    return rc;
}
