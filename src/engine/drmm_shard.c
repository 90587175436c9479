/* Data-parallel batches (drmm.h, drmm_shard): the group-wide sums a
 * process's share of a batch needs to compute what the whole batch would,
 * through the caller's sum callback.  The engine itself knows nothing of the
 * transport (MPI lives in src/mpi/mpi_group.c, built into bin/train-mpi).  Every function is called
 * from the model's own thread between parallel loops, never inside one. */
#include "drmm_internal.h"

#include <stdlib.h>
#include <string.h>

#include "bn.h"
#include "error.h"

int drmm_set_shard(drmm *m, const drmm_shard *s, err_t *e)
{
    if (!s) {
        memset(&m->shard, 0, sizeof m->shard);
        free(m->scr.gsum);
        m->scr.gsum = NULL;
        return 0;
    }
    if (!s->sum)
        return err_set(e, "drmm_set_shard: no sum callback");
    if (s->lab_first < 0 || s->unl_first < 0)
        return err_set(e, "drmm_set_shard: negative first rows %d, %d", s->lab_first, s->unl_first);
    if (!m->scr.gsum && !(m->scr.gsum = malloc(sizeof(double) * m->par.nparams)))
        return err_set(e, "out of memory for the gradient sums of %ld parameters", m->par.nparams);
    m->shard = *s;
    return 0;
}

void shard_sum(const drmm *m, double *v, int count)
{
    if (m->A->dist && count > 0)
        m->shard.sum(v, count, m->shard.ctx);
}

long shard_row(const drmm *m, int i)
{
    if (!m->A->dist)
        return i;
    if (i < m->A->n_lab)
        return (long)m->shard.lab_first + i;
    return (long)m->A->n_lab_all + m->shard.unl_first + (i - m->A->n_lab);
}

/* One of the two sums of each channel over the local rows: the values (mu
 * NULL) or their squared deviations from mu[c]. */
typedef struct stats_job {
    const float *in;
    int n, C, hw;
    const double *mu;
    double *out;
} stats_job;

static void job_channel_sums(void *ctx, int tid, int c0, int c1)
{
    (void)tid;
    stats_job *j = ctx;
    for (int c = c0; c < c1; c++)
        j->out[c] = j->mu ? bn_channel_sq_dev(j->n, j->C, j->hw, c, j->in, j->mu[c])
                          : bn_channel_sum(j->n, j->C, j->hw, c, j->in);
}

void shard_bn_stats(drmm *m, const float *in, int n, long n_all, int C, int hw, float *mean, float *var)
{
    const double M = (double)n_all * hw;
    double *mu = m->scr.red, *sq = m->scr.red + C;
    stats_job j = {.in = in, .n = n, .C = C, .hw = hw, .out = mu};
    tpool_for(m->pool, C, job_channel_sums, &j);
    shard_sum(m, mu, C);
    for (int c = 0; c < C; c++)
        mu[c] /= M;
    j.mu = mu;
    j.out = sq;
    tpool_for(m->pool, C, job_channel_sums, &j);
    shard_sum(m, sq, C);
    for (int c = 0; c < C; c++) {
        mean[c] = (float)mu[c];
        var[c] = (float)(sq[c] / M);
    }
}

void shard_sum_grads(drmm *m)
{
    if (!m->A->dist)
        return;
    const long np = m->par.nparams;
    for (long k = 0; k < np; k++)
        m->scr.gsum[k] = m->par.grads[k];
    /* in pieces an int counts */
    for (long k = 0; k < np; k += 1L << 30)
        shard_sum(m, m->scr.gsum + k, (int)(np - k < (1L << 30) ? np - k : 1L << 30));
    for (long k = 0; k < np; k++)
        m->par.grads[k] = (float)m->scr.gsum[k];
}
