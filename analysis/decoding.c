/* PCA + binning + cross-validated softmax regression (see decoding.h). */
#include "decoding.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bins.h"
#include "error.h"
#include "rng.h"
#include "threads.h"

void decoding_options_default(decoding_options *o)
{
    memset(o, 0, sizeof *o);
    o->bins = 10;
    o->folds = 5;
    o->seed = 1;
    o->threads = 1;
    pca_options_default(&o->pca);
    logreg_options_default(&o->lr);
}

int decoding_cv(const float *Z, int n, int k, const int *bin, int nbins, int folds, uint64_t seed,
                const logreg_options *lr, double *error, double *chance, err_t *e)
{
    if (folds < 2 || n < folds || k < 1 || nbins < 2)
        return err_input(e, "cross-validation needs >= 2 folds, >= 2 bins and as many samples as folds "
                         "(have %d samples, %d folds, %d bins)", n, folds, nbins);
    int *perm = malloc(sizeof(int) * n), *fold = malloc(sizeof(int) * n), *ytr = malloc(sizeof(int) * n);
    float *xtr = malloc(sizeof(float) * (size_t)n * k), *xs = malloc(sizeof(float) * k);
    double *theta = malloc(sizeof(double) * nbins * (k + 1)), *mu = malloc(sizeof(double) * k),
           *sd = malloc(sizeof(double) * k);
    int *count = malloc(sizeof(int) * nbins);
    int rc = -1;
    if (!perm || !fold || !ytr || !xtr || !xs || !theta || !mu || !sd || !count) {
        err_set(e, "decoding: out of memory");
        goto done;
    }
    rng_t r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++)
        perm[i] = i;
    rng_shuffle(&r, perm, n);
    for (int i = 0; i < n; i++)
        fold[perm[i]] = i % folds;
    long wrong = 0;
    for (int f = 0; f < folds; f++) {
        int m = 0;
        for (int c = 0; c < k; c++)
            mu[c] = sd[c] = 0;
        memset(count, 0, sizeof(int) * nbins);
        for (int i = 0; i < n; i++)
            if (fold[i] != f) {
                for (int c = 0; c < k; c++)
                    mu[c] += Z[(size_t)i * k + c];
                count[bin[i]]++;
                m++;
            }
        for (int c = 0; c < k; c++)
            mu[c] /= m;
        for (int i = 0; i < n; i++)
            if (fold[i] != f)
                for (int c = 0; c < k; c++) {
                    double dlt = Z[(size_t)i * k + c] - mu[c];
                    sd[c] += dlt * dlt;
                }
        for (int c = 0; c < k; c++) {
            sd[c] = sqrt(sd[c] / (m > 1 ? m - 1 : 1));
            if (!(sd[c] > 0))
                sd[c] = 1;
        }
        int j = 0;
        for (int i = 0; i < n; i++)
            if (fold[i] != f) {
                for (int c = 0; c < k; c++)
                    xtr[(size_t)j * k + c] = (float)((Z[(size_t)i * k + c] - mu[c]) / sd[c]);
                ytr[j++] = bin[i];
            }
        memset(theta, 0, sizeof(double) * nbins * (k + 1));
        if (logreg_fit(xtr, ytr, m, k, nbins, lr, theta, NULL, e))
            goto done;
        for (int i = 0; i < n; i++)
            if (fold[i] == f) {
                for (int c = 0; c < k; c++)
                    xs[c] = (float)((Z[(size_t)i * k + c] - mu[c]) / sd[c]);
                wrong += logreg_predict(theta, k, nbins, xs) != bin[i];
            }
    }
    *error = (double)wrong / n;
    memset(count, 0, sizeof(int) * nbins);
    int top = 0;
    for (int i = 0; i < n; i++)
        if (++count[bin[i]] > top)
            top = count[bin[i]];
    *chance = 1.0 - (double)top / n;
    rc = 0;
done:
    free(perm); free(fold); free(ytr); free(xtr); free(xs); free(theta); free(mu); free(sd); free(count);
    return rc;
}

typedef struct task {
    const float *Z;
    int n, k;
    const float *const *latent;
    const int *circular;
    int nl;
    const decoding_options *o;
    decoding_out *out;
    atomic_int next;                /* the next latent to take */
    atomic_int failed;              /* a latent failed: the others stop */
    err_t *err;                     /* [nl]: each latent's error, "" when none */
} task;

/* One thread of the pool: takes the next latent until none is left (the
 * latents take unequal times, so a static split would leave threads idle). */
static void worker(void *ctx, int tid, int t0, int t1)
{
    (void)tid;
    (void)t0;
    (void)t1;
    task *t = ctx;
    int *bin = malloc(sizeof(int) * t->n);
    for (int j; !atomic_load(&t->failed) && (j = atomic_fetch_add(&t->next, 1)) < t->nl;) {
        err_t *e = &t->err[j];
        int used = bin ? bins_equal_frequency(t->latent[j], t->n, t->o->bins, t->circular[j], bin, e)
                       : err_set(e, "decoding: out of memory");
        if (used >= 0) {
            t->out[j].bins_used = used;
            if (!decoding_cv(t->Z, t->n, t->k, bin, t->o->bins, t->o->folds, t->o->seed, &t->o->lr,
                             &t->out[j].error, &t->out[j].chance, e))
                continue;
        }
        atomic_store(&t->failed, 1);
    }
    free(bin);
}

int decoding_analyse(const float *X, int n, long d, const float *const *latent, const int *circular, int nl,
                     const decoding_options *o, decoding_out *out, double *explained, err_t *e)
{
    const int k = o->pca.k;
    float *Z = malloc(sizeof(float) * (size_t)n * k);
    double *var = malloc(sizeof(double) * k);
    if (!Z || !var) {
        free(Z); free(var);
        return err_set(e, "decoding: out of memory");
    }
    if (pca_scores(X, n, d, &o->pca, Z, var, e)) {
        free(Z); free(var);
        return -1;
    }
    if (explained) {
        double total = 0;
        double *s1 = calloc(d, sizeof(double)), *s2 = calloc(d, sizeof(double));
        if (!s1 || !s2) {
            free(s1); free(s2); free(Z); free(var);
            return err_set(e, "decoding: out of memory");
        }
        for (int i = 0; i < n; i++) {
            const float *x = X + (size_t)i * d;
            for (long j = 0; j < d; j++) {
                s1[j] += x[j];
                s2[j] += (double)x[j] * x[j];
            }
        }
        for (long j = 0; j < d; j++)
            total += (s2[j] - s1[j] * s1[j] / n) / (n - 1);
        free(s1); free(s2);
        double part = 0;
        for (int c = 0; c < k; c++)
            part += var[c];
        *explained = total > 0 ? part / total : NAN;
    }
    free(var);
    task t = {.Z = Z, .n = n, .k = k, .latent = latent, .circular = circular, .nl = nl, .o = o, .out = out};
    atomic_init(&t.next, 0);
    atomic_init(&t.failed, 0);
    int nt = o->threads < 1 ? 1 : o->threads > nl ? nl : o->threads;
    tpool *pool = NULL;
    int rc = 0;
    if (!(t.err = calloc(nl > 0 ? nl : 1, sizeof *t.err)))
        rc = err_set(e, "decoding: out of memory");
    else if (tpool_create(&pool, nt, e))
        rc = -1;
    else {
        tpool_for(pool, nt, worker, &t);   /* one item per thread */
        tpool_free(pool);
        for (int j = 0; j < nl && !rc; j++)   /* the first failed latent's error */
            if (t.err[j].msg[0]) {
                *e = t.err[j];
                rc = -1;
            }
        if (!rc && atomic_load(&t.failed))
            rc = err_set(e, "decoding: a latent failed");
    }
    free(t.err);
    free(Z);
    return rc;
}
