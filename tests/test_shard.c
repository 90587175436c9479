/* Data-parallel batches (drmm_shard) without MPI: a group of R models in
 * one process, each trained by a thread of its own on its share of the
 * global batch, with a sum callback that adds the members' arrays in rank
 * order behind a barrier (what MPI_Allreduce does across processes).  The
 * losses, gradients, BN statistics and, after a few SGD steps, parameters of
 * every member must equal those of one model trained on the whole batch, to
 * float tolerance, for the top-down variants that reduce something
 * different (the template and BN scale, the NRM's top-down BN with LMM,
 * LRCL, dropout and leaky switches, unsup_both with a softmax top, the
 * supervised-only and unlabelled-only batches), with 1 and 2 threads per
 * member; and a group of one equals the model alone. */
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drmm.h"
#include "error.h"
#include "rng.h"

static const char *NET_POOLS =
    "input channels=1 height=8 width=8\n"
    "conv filters=3 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=4 size=3 pad=full\n"
    "conv filters=3 size=1 pad=valid\n"
    "meanpool\n";

static const char *NET_DENSE =
    "input channels=2 height=6 width=6\n"
    "conv filters=3 size=3 pad=valid bn=0\n"
    "conv filters=4 size=3 pad=full\n"
    "maxpool\n"
    "dense outputs=3\n";

enum { MAX_RANKS = 4 };

/* The group: each member's array, and the sum rank 0 computes. */
typedef struct group {
    int R;
    pthread_barrier_t bar;
    double *slot[MAX_RANKS];
    int count[MAX_RANKS];
    double *sum;
    int cap, mismatch;
    long calls;
} group;

typedef struct member {
    group *g;
    int rank;
} member;

static void group_sum(double *v, int count, void *ctx)
{
    member *me = ctx;
    group *g = me->g;
    g->slot[me->rank] = v;
    g->count[me->rank] = count;
    pthread_barrier_wait(&g->bar);
    if (me->rank == 0) {
        g->calls++;
        for (int r = 1; r < g->R; r++)
            g->mismatch |= g->count[r] != count;
        if (count > g->cap) {
            g->sum = realloc(g->sum, sizeof(double) * count);
            g->cap = count;
        }
        for (int k = 0; k < count; k++) {
            double s = 0;
            for (int r = 0; r < g->R; r++)
                s += g->slot[r][k];
            g->sum[k] = s;
        }
    }
    pthread_barrier_wait(&g->bar);
    memcpy(v, g->sum, sizeof(double) * count);
    pthread_barrier_wait(&g->bar);   /* nobody reuses sum before all have read it */
}

/* One member's step: its share of the global batch and what it got. */
typedef struct step_job {
    drmm *m;
    const float *x;      /* the share's rows */
    const int *labels;
    int n_lab, n, flags, calibrate;
    uint64_t drop_key;
    drmm_losses L;
    int rc;
    err_t e;
} step_job;

static void *run_step(void *p)
{
    step_job *j = p;
    drmm_set_dropout_key(j->m, j->drop_key);
    drmm_acts *acts = NULL;
    j->rc = drmm_acts_create(j->m, j->n, &acts, &j->e);
    if (!j->rc && j->calibrate)
        j->rc = drmm_calibrate_amplitude(j->m, acts, j->x, j->labels, j->n_lab, j->n, &j->e);
    if (!j->rc)
        j->rc = drmm_train_batch(j->m, acts, j->x, j->labels, j->n_lab, j->n, j->flags, &j->L, &j->e);
    drmm_acts_free(acts);
    return NULL;
}

static double max_rel_diff(const float *a, const float *b, long n)
{
    double d = 0, s = 1e-3;
    for (long k = 0; k < n; k++) {
        d = fmax(d, fabs((double)a[k] - b[k]));
        s = fmax(s, fabs((double)a[k]));
    }
    return d / s;
}

static int make_model(drmm **m, const char *net, const drmm_config *cfg)
{
    arch a;
    err_t e;
    if (arch_parse(&a, net, "test", &e)) {
        printf("arch: %s\n", e.msg);
        return -1;
    }
    int rc = drmm_create(m, &a, cfg, 3, &e);
    if (rc)
        printf("create: %s\n", e.msg);
    arch_free(&a);
    return rc;
}

/* The statistics (BN running averages) of a model, as one array. */
static long model_stats(drmm *m, float *out)
{
    named_tensor t[64];
    int nt = drmm_tensors(m, t, 64), np = drmm_param_tensors(m, t + nt, 64 - nt);
    long k = 0;
    for (int i = np; i < nt; i++)
        for (long q = 0; q < nt_numel(&t[i]); q++) {
            if (out)
                out[k] = t[i].data[q];
            k++;
        }
    return k;
}

/* `steps` SGD steps of one model on the whole batch and of a group of R on
 * its shares; compares every step's losses and gradients and, at the end,
 * parameters and BN statistics. */
static void shard_case(const char *name, const char *net, const drmm_config *cfg, int R, int n, int n_lab)
{
    drmm *full, *part[MAX_RANKS];
    if (make_model(&full, net, cfg)) {
        CHECK(0, "%s: model", name);
        return;
    }
    group g = {.R = R};
    member mem[MAX_RANKS];
    pthread_barrier_init(&g.bar, NULL, R);
    err_t e;
    for (int r = 0; r < R; r++) {
        CHECK(make_model(&part[r], net, cfg) == 0, "%s: member %d", name, r);
        mem[r] = (member){&g, r};
        drmm_shard s = {.sum = group_sum, .ctx = &mem[r], .lab_first = r * (n_lab / R),
                        .unl_first = r * ((n - n_lab) / R)};
        CHECK(drmm_set_shard(part[r], &s, &e) == 0, "%s: set shard: %s", name, e.msg);
    }
    const arch *a = drmm_get_arch(full);
    const int P = a->channels * a->height * a->width, nl = n_lab / R, nu = (n - n_lab) / R;
    const long np = drmm_num_params(full);
    float *x = malloc(sizeof(float) * n * P), *xs[MAX_RANKS];
    int *labels = malloc(sizeof(int) * n), *ls[MAX_RANKS];
    for (int r = 0; r < R; r++) {
        xs[r] = malloc(sizeof(float) * (nl + nu) * P);
        ls[r] = malloc(sizeof(int) * (nl + nu));
    }
    rng_t rng;
    rng_seed(&rng, 17);
    double worst_loss = 0, worst_grad = 0;
    int bad = 0;
    const int steps = 3;
    for (int step = 0; step < steps; step++) {
        for (long k = 0; k < (long)n * P; k++)
            x[k] = (float)rng_uniform(&rng);
        for (int i = 0; i < n; i++)
            labels[i] = (int)rng_below(&rng, (uint32_t)a->classes);
        /* rank r: labelled rows [r nl, (r+1) nl), unlabelled rows n_lab + [r nu, (r+1) nu) */
        for (int r = 0; r < R; r++) {
            memcpy(xs[r], x + (long)r * nl * P, sizeof(float) * nl * P);
            memcpy(ls[r], labels + r * nl, sizeof(int) * nl);
            memcpy(xs[r] + (long)nl * P, x + (long)(n_lab + r * nu) * P, sizeof(float) * nu * P);
        }
        const uint64_t key = 1000 + step;
        const int flags = DRMM_BACKWARD | DRMM_UPDATE_STATS, calibrate = step == 0 && cfg->td_param != TD_PARAM_BN && n_lab < n;
        step_job fj = {.m = full, .x = x, .labels = labels, .n_lab = n_lab, .n = n, .flags = flags,
                       .calibrate = calibrate, .drop_key = key};
        run_step(&fj);
        CHECK(fj.rc == 0, "%s: full batch: %s", name, fj.e.msg);
        step_job pj[MAX_RANKS];
        pthread_t th[MAX_RANKS];
        for (int r = 0; r < R; r++) {
            pj[r] = (step_job){.m = part[r], .x = xs[r], .labels = ls[r], .n_lab = nl, .n = nl + nu, .flags = flags,
                               .calibrate = calibrate, .drop_key = key};
            pthread_create(&th[r], NULL, run_step, &pj[r]);
        }
        for (int r = 0; r < R; r++)
            pthread_join(th[r], NULL);
        for (int r = 0; r < R; r++) {
            CHECK(pj[r].rc == 0, "%s: member %d: %s", name, r, pj[r].e.msg);
            const drmm_losses *A = &fj.L, *B = &pj[r].L;
            const double la[] = {A->lh, A->lrc, A->lkl, A->lnn, A->lrcl, A->lmm, A->total, A->x2},
                         lb[] = {B->lh, B->lrc, B->lkl, B->lnn, B->lrcl, B->lmm, B->total, B->x2};
            for (int k = 0; k < 8; k++) {
                /* relative, or absolute near 0 (LKL of a near-uniform q is a difference) */
                double d = fabs(la[k] - lb[k]) / fmax(1e-2, fabs(la[k]));
                worst_loss = fmax(worst_loss, d);
                bad += d > 1e-5;
            }
            bad += A->n_lab != B->n_lab || A->n_unsup != B->n_unsup || A->lab_errors != B->lab_errors;
            double gd = max_rel_diff(drmm_grads(full), drmm_grads(part[r]), np);
            worst_grad = fmax(worst_grad, gd);
            bad += gd > 1e-4;
            if (r > 0)   /* every member gets the same sums */
                bad += memcmp(drmm_grads(part[0]), drmm_grads(part[r]), sizeof(float) * np) != 0;
        }
        /* the same SGD step everywhere */
        float *models[MAX_RANKS + 1] = {drmm_params(full)};
        const float *grads[MAX_RANKS + 1] = {drmm_grads(full)};
        for (int r = 0; r < R; r++) {
            models[r + 1] = drmm_params(part[r]);
            grads[r + 1] = drmm_grads(part[r]);
        }
        for (int q = 0; q <= R; q++)
            for (long k = 0; k < np; k++)
                models[q][k] -= 0.05f * grads[q][k];
    }
    CHECK(bad == 0 && !g.mismatch, "%s: %d values differ (worst relative: losses %.2g, gradients %.2g)%s", name, bad,
          worst_loss, worst_grad, g.mismatch ? "; members summed different counts" : "");
    double pd = 0, sd = 0;
    long ns = model_stats(full, NULL);
    float *s0 = malloc(sizeof(float) * (ns ? ns : 1)), *s1 = malloc(sizeof(float) * (ns ? ns : 1));
    model_stats(full, s0);
    for (int r = 0; r < R; r++) {
        pd = fmax(pd, max_rel_diff(drmm_params(full), drmm_params(part[r]), np));
        model_stats(part[r], s1);
        sd = fmax(sd, max_rel_diff(s0, s1, ns));
    }
    CHECK(pd < 1e-4 && sd < 1e-4, "%s: after %d steps parameters differ by %.2g, BN statistics by %.2g", name, steps,
          pd, sd);
    printf("  %s, %d ranks: losses within %.1e, gradients %.1e, parameters after %d steps %.1e, BN statistics %.1e "
           "(%ld sums)\n", name, R, worst_loss, worst_grad, steps, pd, sd, g.calls);
    for (int r = 0; r < R; r++) {
        drmm_free(part[r]);
        free(xs[r]);
        free(ls[r]);
    }
    drmm_free(full);
    free(x);
    free(labels);
    free(s0);
    free(s1);
    free(g.sum);
    pthread_barrier_destroy(&g.bar);
}

static void test_errors(void)
{
    drmm_config cfg;
    drmm_config_default(&cfg);
    drmm *m;
    err_t e;
    CHECK(make_model(&m, NET_POOLS, &cfg) == 0, "model");
    drmm_shard s = {0};
    CHECK(drmm_set_shard(m, &s, &e) != 0 && strstr(e.msg, "sum"), "a shard without a sum is refused: %s", e.msg);
    s.sum = group_sum;
    s.lab_first = -1;
    CHECK(drmm_set_shard(m, &s, &e) != 0 && strstr(e.msg, "negative"), "negative rows refused: %s", e.msg);
    CHECK(drmm_set_shard(m, NULL, &e) == 0, "NULL: back to one process");
    drmm_free(m);
}

int main(void)
{
    openblas_set_num_threads(1);
    drmm_config cfg;
    drmm_config_default(&cfg);
    shard_case("default DRMM (template, adjoint BN scale)", NET_POOLS, &cfg, 2, 8, 4);
    shard_case("default DRMM", NET_POOLS, &cfg, 4, 8, 4);
    shard_case("default DRMM, a group of one", NET_POOLS, &cfg, 1, 8, 4);
    cfg.threads = 2;
    shard_case("default DRMM, 2 threads per member", NET_POOLS, &cfg, 2, 12, 4);
    cfg.threads = 1;

    drmm_config nrm;
    drmm_config_default(&nrm);
    nrm.td_param = TD_PARAM_BN;
    nrm.td_scale = TD_SCALE_LITERAL;
    nrm.a_rc = 0.5f;
    nrm.a_mm = 0.25f;
    nrm.a_rcl = 0.3f;
    nrm.dropout = 0.3f;
    nrm.td_leak = 0.1f;
    shard_case("NRM: top-down BN, LMM, LRCL, dropout, leaky switches", NET_DENSE, &nrm, 2, 8, 4);
    nrm.td_weights = TD_WEIGHTS_INDEPENDENT;
    nrm.in_norm = 0;
    shard_case("NRM with filters of its own", NET_POOLS, &nrm, 2, 8, 2);

    drmm_config both;
    drmm_config_default(&both);
    both.unsup_both = 1;
    both.td_top = TD_TOP_SOFTMAX;
    both.td_param = TD_PARAM_AMPLITUDE;
    both.a_rcl = 0.2f;
    shard_case("unsup_both, softmax top, amplitude, LRCL", NET_DENSE, &both, 2, 8, 4);
    shard_case("supervised only (every row labelled)", NET_DENSE, &cfg, 2, 6, 6);
    shard_case("unlabelled only", NET_POOLS, &cfg, 2, 6, 0);
    test_errors();
    return check_done();
}
