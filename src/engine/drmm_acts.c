/* The activations (drmm_acts): the caller's, made for a batch size and
 * bound to the model while a pass runs (acts_bind, acts_unbind), with what a
 * caller reads back from them; and the activation gradients, the model's own
 * scratch of one call, grown to the largest batch seen. */
#include "drmm_internal.h"

#include <stdlib.h>

#include "error.h"

void drmm_acts_free(drmm_acts *A)
{
    if (!A)
        return;
    for (int l = 0; l < A->m->nb && A->layer; l++) {
        layer_acts *L = &A->layer[l];
        if (L->pooled != L->act) free(L->pooled);
        free(L->act); free(L->xhat); free(L->a); free(L->t); free(L->z); free(L->zs); free(L->sin); free(L->td_xhat);
        free(L->mean); free(L->var); free(L->scale); free(L->bn_scale); free(L->bn_shift); free(L->td_mean);
        free(L->td_var); free(L->mm);
    }
    free(A->layer);
    free(A->logits); free(A->logq); free(A->q); free(A->e); free(A->top);
    free(A->pred); free(A->xs); free(A->drop); free(A->dmask);
    free(A);
}

int drmm_acts_create(const drmm *m, int n, drmm_acts **out, err_t *e)
{
    *out = NULL;
    if (n < 1)
        return err_set(e, "activations for %d rows: need at least one", n);
    drmm_acts *A = calloc(1, sizeof *A);
    if (!A)
        return err_set(e, "out of memory for the activations of %d images", n);
    A->m = m;
    A->drop_size = m->a.dense ? m->F : block_in(&m->b[m->nb - 1]);
    int ok = (A->layer = calloc(m->nb, sizeof *A->layer)) != NULL;
#define ALLOCF(p, count) do { if (ok && !((p) = malloc(sizeof(float) * (size_t)(count)))) ok = 0; } while (0)
#define ALLOCB(p, count) do { if (ok && !((p) = malloc((size_t)(count)))) ok = 0; } while (0)
#define ZALLOC(p, count, size) do { if (ok && !((p) = calloc((size_t)(count), size))) ok = 0; } while (0)
    for (int l = 0; l < m->nb && ok; l++) {
        const block *b = &m->b[l];
        layer_acts *L = &A->layer[l];
        const int C = b->ab->g.cout, cin = b->ab->g.cin;
        long out = block_out(b) * n, pooled = block_pooled(b) * n, in = block_in(b) * n;
        ALLOCF(L->act, out); ALLOCF(L->xhat, out); ALLOCB(L->a, out);
        ALLOCF(L->z, out); ALLOCF(L->zs, out); ALLOCF(L->sin, in);
        if (b->ab->pool == POOL_MAX)
            ALLOCB(L->t, out);
        if (m->cfg.td_param == TD_PARAM_BN)
            ALLOCF(L->td_xhat, in);
        if (b->ab->pool != POOL_NONE)
            ALLOCF(L->pooled, pooled);
        else
            L->pooled = L->act;
        ZALLOC(L->mean, C, sizeof(float)); ZALLOC(L->var, C, sizeof(float)); ZALLOC(L->scale, C, sizeof(float));
        ZALLOC(L->bn_scale, C, sizeof(float)); ZALLOC(L->bn_shift, C, sizeof(float));
        ZALLOC(L->td_mean, cin, sizeof(float)); ZALLOC(L->td_var, cin, sizeof(float));
        ZALLOC(L->mm, 5L * cin, sizeof(double));
    }
    long nk = (long)n * m->K;
    ALLOCF(A->logits, nk); ALLOCF(A->logq, nk); ALLOCF(A->q, nk); ALLOCF(A->e, nk);
    ALLOCF(A->top, (long)n * m->F);
    if (m->cfg.in_norm)
        ALLOCF(A->xs, (long)n * m->P);
    if (m->cfg.dropout > 0) {
        ALLOCF(A->drop, n * A->drop_size);
        ALLOCF(A->dmask, n * A->drop_size);
    }
    ZALLOC(A->pred, n, sizeof(int));
#undef ZALLOC
    if (!ok) {
        drmm_acts_free(A);
        return err_set(e, "out of memory for the activations of %d images", n);
    }
    A->cap = n;
    *out = A;
    return 0;
}

int drmm_acts_rows(const drmm_acts *A) { return A->n; }
const float *drmm_acts_probs(const drmm_acts *A) { return A->q; }
const float *drmm_acts_logits(const drmm_acts *A) { return A->logits; }

const float *drmm_acts_block(const drmm_acts *A, int block, int *channels, int *h, int *w)
{
    if (block < 0 || block >= A->m->nb)
        return NULL;
    const conv_geom *g = &A->m->b[block].ab->g;
    if (channels) *channels = g->cout;
    if (h) *h = g->ho;
    if (w) *w = g->wo;
    return A->layer[block].act;
}

const float *drmm_acts_ihat(const drmm_acts *A, int *first, int *n)
{
    if (!A->have_td) {
        *first = *n = 0;
        return NULL;
    }
    *first = A->u0;
    *n = A->n;
    return A->layer[0].sin;
}

/* Frees the activation gradients' batch-sized buffers (dsigma stays). */
void free_dacts(drmm *m)
{
    for (int l = 0; l < m->nb && m->dacts.layer; l++) {
        layer_dacts *D = &m->dacts.layer[l];
        if (D->dpooled != D->dact) free(D->dpooled);
        free(D->dact); free(D->dz); free(D->dsin); free(D->dh_extra); free(D->dpooled_extra);
        D->dact = D->dpooled = D->dz = D->dsin = D->dh_extra = D->dpooled_extra = NULL;
    }
    free(m->dacts.dlogits); free(m->dacts.de); free(m->dacts.dtop);
    m->dacts.dlogits = m->dacts.de = m->dacts.dtop = NULL;
    m->dacts.cap = 0;
}

/* Makes room for n rows of activation gradients; reallocates only when n
 * exceeds the capacity. */
static int ensure_dacts(drmm *m, int n, err_t *e)
{
    if (n <= m->dacts.cap)
        return 0;
    free_dacts(m);
    int ok = 1;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        long out = block_out(b) * n, pooled = block_pooled(b) * n, in = block_in(b) * n;
        ALLOCF(b->dacts->dact, out); ALLOCF(b->dacts->dz, out); ALLOCF(b->dacts->dsin, in);
        if (l == m->nb - 1 && m->cfg.td_top == TD_TOP_ACTIVATIONS)
            ALLOCF(b->dacts->dh_extra, out);
        if (l < m->nb - 1 && (m->cfg.a_rcl != 0 || m->cfg.a_mm != 0))
            ALLOCF(b->dacts->dpooled_extra, pooled);
        if (b->ab->pool != POOL_NONE)
            ALLOCF(b->dacts->dpooled, pooled);
        else
            b->dacts->dpooled = b->dacts->dact;
    }
    long nk = (long)n * m->K;
    ALLOCF(m->dacts.dlogits, nk); ALLOCF(m->dacts.de, nk); ALLOCF(m->dacts.dtop, (long)n * m->F);
#undef ALLOCF
#undef ALLOCB
    if (!ok) {
        free_dacts(m);
        return err_set(e, "out of memory for a batch of %d images", n);
    }
    m->dacts.cap = n;
    return 0;
}

int acts_bind(drmm *m, drmm_acts *A, int n, err_t *e)
{
    if (!A || A->m != m)
        return err_set(e, "activations made for another model (make them with drmm_acts_create for this one)");
    if (n > A->cap)
        return err_set(e, "a pass of %d images into activations for %d (make them for the largest batch)", n, A->cap);
    if (ensure_dacts(m, n, e))
        return -1;
    m->A = A;
    for (int l = 0; l < m->nb; l++)
        m->b[l].acts = &A->layer[l];
    return 0;
}

void acts_unbind(drmm *m)
{
    m->A = NULL;
    for (int l = 0; l < m->nb; l++)
        m->b[l].acts = NULL;
}

