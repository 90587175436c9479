/* The training loop with checkpoints and exact resume (see trainer.h). */
#include "clock.h"
#include "trainer.h"

#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch.h"
#include "error.h"
#include "optim.h"
#include "rng.h"
#include "run_env.h"
#include "run_model.h"
#include "split_data.h"

#define MAX_TENSORS 512

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int trainer_choose_labels(const int *labels, int n, int classes, int count, uint64_t label_seed,
                          int *rows, err_t *e)
{
    if (count % classes)
        return err_input(e, "labels = %d is not divisible by the %d classes: ask for a multiple of %d",
                       count, classes, classes);
    if (count > n)
        return err_input(e, "labels = %d but there are only %d training images: ask for at most %d", count, n,
                         n - n % classes);
    int per = count / classes;
    int *order = malloc(sizeof(int) * n);
    int *taken = calloc(classes, sizeof(int));
    if (!order || !taken) {
        free(order);
        free(taken);
        return err_set(e, "out of memory");
    }
    for (int i = 0; i < n; i++)
        order[i] = i;
    rng_t r;
    rng_seed(&r, label_seed);
    rng_shuffle(&r, order, n);
    int k = 0;
    for (int i = 0; i < n && k < count; i++) {
        int c = labels[order[i]];
        if (c >= 0 && c < classes && taken[c] < per) {
            taken[c]++;
            rows[k++] = order[i];
        }
    }
    int rc = 0;
    for (int c = 0; c < classes && !rc; c++)
        if (taken[c] < per)
            rc = err_input(e, "labels = %d needs %d images of class %d but the training set has only %d: ask for at most %d labels",
                         count, per, c, taken[c], taken[c] * classes);
    free(order);
    free(taken);
    if (!rc)
        qsort(rows, count, sizeof(int), cmp_int);
    return rc;
}

/* Everything the loop needs; the blobs of a checkpoint mirror `pos`, `sums`,
 * the permutations and the RNG. */
typedef struct loop {
    store *st;
    int64_t run_id;
    train_config cfg;
    drmm *m;
    drmm_acts *acts;               /* the activations of a step (cfg.batch rows) */
    optim opt;
    split_data train;
    split_data valid;              /* held-out training images (cfg.valid), or empty */
    int channels, height, width;
    int *lab_rows, n_lab_rows;     /* rows of `train` in the labelled subset */
    int *perm_l, *perm_u;
    rng_t data_rng;
    rng_t aug_rng;                 /* augmentation draws (apart, so that the data order
                                      does not depend on augmentation) */
    int64_t pos[4];                /* epochs done, global step, labelled cursor, unlabelled cursor */
    double sums[12];               /* partial epoch: lh, lrc, lkl, lnn, total, x2, errors, lab rows, steps, seconds, lrcl,
                                      lmm (checkpoints before LMM have the first 11) */
    long steps_per_epoch;
    int half;
    int n_lab;                     /* labelled rows per step: half, or 0 (labels = 0) */
    int rows;                      /* rows per step: the batch, or half of it for the
                                      supervised-only CNN and for unsupervised runs */
    float *xb;
    int *yb;
    double store_seconds;
    store_lease lease;             /* this process owns the run while training it */
    const train_group *grp;        /* data-parallel group, or NULL */
    float *xs;                     /* this member's share of the batch (grp only) */
    int *ys;
    int share_lab, share_n;        /* its labelled rows and rows */
} loop;

enum { S_LH, S_LRC, S_LKL, S_LNN, S_TOTAL, S_X2, S_ERR, S_LAB, S_STEPS, S_SECONDS, S_LRCL, S_LMM, S_COUNT };
enum { P_EPOCHS, P_STEP, P_LCUR, P_UCUR };

static void free_loop(loop *L)
{
    drmm_acts_free(L->acts);
    drmm_free(L->m);
    optim_free(&L->opt);
    split_data_free(&L->train);
    split_data_free(&L->valid);
    free(L->lab_rows);
    free(L->perm_l);
    free(L->perm_u);
    free(L->xb);
    free(L->yb);
    free(L->xs);
    free(L->ys);
}

/* This process writes the store: always, but in a group member 0 only. */
static int writer(const loop *L) { return !L->grp || L->grp->rank == 0; }

/* A group: every member trains on an even share of each batch's labelled
 * and unlabelled rows (drmm_shard). */
static int setup_group(loop *L, err_t *e)
{
    const train_group *g = L->grp;
    const int n_unl = L->rows - L->n_lab;
    if (L->cfg.mode == TRAIN_PRETRAIN)   /* the shares would change between the phases */
        return err_input(e, "mode = pretrain does not train data-parallel over %s: train it with one process (bin/train)",
                         g->kind);
    if (L->n_lab % g->size || n_unl % g->size)
        return err_input(e, "batch = %d: the %d labelled and %d unlabelled rows of a step do not split evenly over %d %s: "
                         "use a batch whose labelled and unlabelled halves are multiples of %d", L->cfg.batch, L->n_lab,
                         n_unl, g->size, g->kind, g->size);
    L->share_lab = L->n_lab / g->size;
    L->share_n = L->share_lab + n_unl / g->size;
    drmm_shard s = {.sum = g->sum, .ctx = g->ctx, .lab_first = g->rank * L->share_lab,
                    .unl_first = g->rank * (n_unl / g->size)};
    L->xs = malloc(sizeof(float) * (size_t)L->share_n * L->train.pixels);
    L->ys = malloc(sizeof(int) * L->share_n);
    if (!L->xs || !L->ys)
        return err_set(e, "out of memory for the batch share");
    return drmm_set_shard(L->m, &s, e);
}

/* This member's rows of the batch just assembled (L->xb, L->yb of n rows):
 * the whole batch without a group. */
static void batch_share(loop *L, int n, const float **x, const int **y, int *n_lab, int *rows)
{
    if (!L->grp) {
        *x = L->xb, *y = L->yb, *n_lab = L->n_lab, *rows = n;
        return;
    }
    const int P = L->train.pixels, r = L->grp->rank, sl = L->share_lab, su = L->share_n - sl;
    memcpy(L->xs, L->xb + (size_t)r * sl * P, sizeof(float) * (size_t)sl * P);
    memcpy(L->ys, L->yb + (size_t)r * sl, sizeof(int) * sl);
    memcpy(L->xs + (size_t)sl * P, L->xb + (size_t)(L->n_lab + r * su) * P, sizeof(float) * (size_t)su * P);
    memcpy(L->ys + sl, L->yb + L->n_lab + r * su, sizeof(int) * su);
    *x = L->xs, *y = L->ys, *n_lab = sl, *rows = L->share_n;
}

/* Whether any member of the group was asked to stop (the local flag alone
 * without a group): all stop at the same step. */
static int group_any(const loop *L, int flag)
{
    if (!L->grp)
        return flag;
    double v = flag;
    L->grp->sum(&v, 1, L->grp->ctx);
    return v > 0;
}

/* A group starts from the same state everywhere: the step and the
 * parameters (a checksum) of every member equal member 0's.  Member 0's
 * values reach all as a sum to which the others add 0; then the number of
 * members that differ is summed. */
static int group_check_same(loop *L, err_t *e)
{
    if (!L->grp)
        return 0;
    const float *p = drmm_params(L->m);
    uint32_t h = 2166136261u;   /* FNV-1a of the parameters' bits */
    for (long k = 0; k < drmm_num_params(L->m); k++) {
        uint32_t b;
        memcpy(&b, &p[k], sizeof b);
        h = (h ^ b) * 16777619u;
    }
    const double mine[2] = {(double)L->pos[P_STEP], (double)h};
    double v[3] = {writer(L) ? mine[0] : 0, writer(L) ? mine[1] : 0};
    L->grp->sum(v, 2, L->grp->ctx);
    v[2] = v[0] != mine[0] || v[1] != mine[1];
    L->grp->sum(v + 2, 1, L->grp->ctx);
    if (v[2] > 0)
        return err_input(e, "%.0f of the %d %s start from another state than rank 0 (step %.0f; this one: step %" PRId64
                         "%s): give every rank the same store (a copy of rank 0's, with the run's latest checkpoint)",
                         v[2], L->grp->size, L->grp->kind, v[0], L->pos[P_STEP],
                         v[1] != mine[1] ? ", other parameters" : "");
    return 0;
}

/* The run's note that it trained data-parallel, from which step. */
static int note_group(loop *L, err_t *e)
{
    if (!L->grp)
        return 0;
    char note[256];
    snprintf(note, sizeof note, "data-parallel over %d %s from step %" PRId64 " (each step's %d rows split evenly)",
             L->grp->size, L->grp->kind, L->pos[P_STEP], L->rows);
    return store_note_run(L->st, L->run_id, note, e);
}

/* The rows of the next step (L->pos[P_STEP] done), by mode: labelled
 * n_lab first, then rows - n_lab unlabelled. */
static void set_phase(loop *L)
{
    const train_config *c = &L->cfg;
    if (c->mode == TRAIN_PRETRAIN && L->pos[P_STEP] < train_pretrain_steps(c, (long)c->epochs * L->steps_per_epoch))
        L->n_lab = 0, L->rows = L->half;                     /* pre-training: unlabelled only */
    else if (c->mode != TRAIN_SEMISUP || c->supervised_only)
        L->n_lab = L->half, L->rows = L->half;               /* labelled only */
    else
        L->n_lab = c->labels ? L->half : 0, L->rows = c->labels ? c->batch : L->half;
}

/* Model, optimiser and buffers for L->cfg, L->train and the labelled rows. */
static int setup(loop *L, const arch *a, err_t *e)
{
    const train_config *c = &L->cfg;
    L->half = c->batch / 2;
    L->steps_per_epoch = L->train.n / L->half;
    if (L->steps_per_epoch < 1)
        return err_input(e, "batch = %d is larger than twice the %d training images: lower the batch", c->batch, L->train.n);
    if (c->mode == TRAIN_PRETRAIN && (long)c->epochs * L->steps_per_epoch < 2)
        return err_input(e, "mode = pretrain with 1 step in all: pre-training and fine-tuning take a step each at least: "
                         "give more epochs or a smaller batch");
    set_phase(L);
    L->channels = a->channels;
    L->height = a->height;
    L->width = a->width;
    /* the model's workers split the batch, each calling sgemm: OpenBLAS
       threads of its own on top would oversubscribe the cores (the engine
       leaves BLAS state to its callers) */
    openblas_set_num_threads(1);
    if (drmm_create(&L->m, a, &c->model, c->seed, e) || drmm_acts_create(L->m, c->batch, &L->acts, e))
        return -1;
    if (L->grp && setup_group(L, e))
        return -1;
    optim_config oc = c->optim;
    oc.total_steps = (long)c->epochs * L->steps_per_epoch;
    if (optim_init(&L->opt, &oc, drmm_num_params(L->m), e))
        return -1;
    L->perm_l = malloc(sizeof(int) * (L->n_lab_rows ? L->n_lab_rows : 1));
    L->perm_u = malloc(sizeof(int) * L->train.n);
    L->xb = malloc(sizeof(float) * (size_t)c->batch * L->train.pixels);
    L->yb = malloc(sizeof(int) * c->batch);
    if (!L->perm_l || !L->perm_u || !L->xb || !L->yb)
        return err_set(e, "out of memory for the training buffers");
    return 0;
}

static int write_checkpoint(loop *L, const store_metric *metrics, int nmetrics, err_t *e)
{
    if (!writer(L))
        return 0;
    named_tensor t[MAX_TENSORS];
    int nt = drmm_tensors(L->m, t, MAX_TENSORS);
    named_tensor params[MAX_TENSORS];
    int np = drmm_param_tensors(L->m, params, MAX_TENSORS);
    if (nt > MAX_TENSORS / 3 || np > MAX_TENSORS / 3)
        return err_set(e, "model has too many tensors to checkpoint");
    nt += optim_tensors(&L->opt, params, np, drmm_params(L->m), t + nt, MAX_TENSORS - nt);
    int64_t ostep = L->opt.step;
    store_blob b[7] = {
        {"rng.data", L->data_rng.s, sizeof L->data_rng.s},
        {"position", L->pos, sizeof L->pos},
        {"epoch_sums", L->sums, sizeof L->sums},
        {"perm.labelled", L->perm_l, sizeof(int) * L->n_lab_rows},
        {"perm.unlabelled", L->perm_u, sizeof(int) * L->train.n},
        {"optim.step", &ostep, sizeof ostep},
        {"rng.augment", L->aug_rng.s, sizeof L->aug_rng.s},
    };
    double t0 = clock_seconds();
    int rc = 0;
    if (store_begin(L->st, e))
        return -1;
    if (store_lease_renew(L->st, &L->lease, 1, e) ||   /* only the lease holder writes checkpoints */
        (nmetrics && store_add_metrics(L->st, L->run_id, metrics, nmetrics, e)) ||
        store_put_checkpoint(L->st, L->run_id, (int)L->pos[P_EPOCHS], (long)L->pos[P_STEP], t, nt, b, 7, NULL, e) ||
        store_prune_checkpoints(L->st, L->run_id, L->cfg.keep_checkpoints, e) || store_commit(L->st, e)) {
        store_rollback(L->st);
        rc = -1;
    }
    L->store_seconds += clock_seconds() - t0;
    return rc;
}

/* Restores the loop state from a checkpoint (after setup). */
static int restore(loop *L, const store_checkpoint *c, err_t *e)
{
    if (model_load_tensors(L->m, c, e))
        return -1;
    named_tensor params[MAX_TENSORS], ot[MAX_TENSORS];
    int np = drmm_param_tensors(L->m, params, MAX_TENSORS);
    int no = optim_tensors(&L->opt, params, np, drmm_params(L->m), ot, MAX_TENSORS);
    for (int i = 0; i < no; i++) {
        const named_tensor *src = store_checkpoint_tensor(c, ot[i].name);
        if (!src || nt_numel(src) != nt_numel(&ot[i]))
            return err_set(e, "checkpoint %" PRId64 " lacks optimiser state '%s'", c->id, ot[i].name);
        memcpy(ot[i].data, src->data, sizeof(float) * nt_numel(&ot[i]));
    }
    struct { const char *name; void *dst; size_t size; } want[6] = {
        {"rng.data", L->data_rng.s, sizeof L->data_rng.s},
        {"position", L->pos, sizeof L->pos},
        {"epoch_sums", L->sums, sizeof L->sums},
        {"perm.labelled", L->perm_l, sizeof(int) * L->n_lab_rows},
        {"perm.unlabelled", L->perm_u, sizeof(int) * L->train.n},
        {"optim.step", NULL, sizeof(int64_t)},
    };
    for (int i = 0; i < 6; i++) {
        const store_blob *b = store_checkpoint_blob(c, want[i].name);
        if (b && want[i].dst == L->sums && b->size == sizeof(double) * S_LMM) {   /* before LMM: no lmm sum */
            memset(L->sums, 0, sizeof L->sums);
            memcpy(L->sums, b->data, b->size);
            continue;
        }
        if (!b || b->size != want[i].size)
            return err_set(e, "checkpoint %" PRId64 ": state '%s' missing or of the wrong size", c->id, want[i].name);
        if (want[i].dst)
            memcpy(want[i].dst, b->data, b->size);
        else {
            int64_t s;
            memcpy(&s, b->data, sizeof s);
            L->opt.step = (long)s;
        }
    }
    /* checkpoints written before augmentation existed have no augmentation
       state: acceptable only for a run that does not augment */
    const store_blob *ab = store_checkpoint_blob(c, "rng.augment");
    if (ab && ab->size == sizeof L->aug_rng.s)
        memcpy(L->aug_rng.s, ab->data, ab->size);
    else if (L->cfg.augment_shift || L->cfg.augment_flip)
        return err_set(e, "checkpoint %" PRId64 ": augmentation state 'rng.augment' missing or of the wrong size", c->id);
    return 0;
}

/* Images per second; 0 before any time has passed. */
static double per_second(double images, double seconds)
{
    return seconds > 0 ? images / seconds : 0;
}

/* The epoch's training speed so far (its steps of L->rows images). */
static double epoch_images_per_s(const loop *L)
{
    return per_second(L->sums[S_STEPS] * L->rows, L->sums[S_SECONDS]);
}

static void epoch_metrics(const loop *L, int epoch, store_metric *m, int *n, double *err_out, drmm_losses *mean)
{
    const double *s = L->sums;
    double steps = s[S_STEPS] > 0 ? s[S_STEPS] : 1;
    mean->lh = s[S_LH] / steps;
    mean->lrc = s[S_LRC] / steps;
    mean->lkl = s[S_LKL] / steps;
    mean->lnn = s[S_LNN] / steps;
    mean->total = s[S_TOTAL] / steps;
    mean->lrcl = s[S_LRCL] / steps;
    mean->lmm = s[S_LMM] / steps;
    mean->x2 = s[S_X2] / steps;
    double err = s[S_LAB] > 0 ? s[S_ERR] / s[S_LAB] : NAN;
    *err_out = err;
    double ips = epoch_images_per_s(L);
    long step = (long)L->pos[P_STEP];
    int k = 0;
    m[k++] = (store_metric){epoch, step, "lh", mean->lh};
    if (!L->cfg.supervised_only) {
        m[k++] = (store_metric){epoch, step, "lrc", mean->lrc};
        m[k++] = (store_metric){epoch, step, "lkl", mean->lkl};
        m[k++] = (store_metric){epoch, step, "lnn", mean->lnn};
        m[k++] = (store_metric){epoch, step, "x2", mean->x2};
        if (L->cfg.model.a_rcl != 0)
            m[k++] = (store_metric){epoch, step, "lrcl", mean->lrcl};
        if (L->cfg.model.a_mm != 0)
            m[k++] = (store_metric){epoch, step, "lmm", mean->lmm};
    }
    m[k++] = (store_metric){epoch, step, "loss", mean->total};
    m[k++] = (store_metric){epoch, step, "train_error", err};
    m[k++] = (store_metric){epoch, step, "images_per_s", ips};
    m[k++] = (store_metric){epoch, step, "lr", optim_lr(&L->opt)};
    m[k++] = (store_metric){epoch, step, "epoch_seconds", s[S_SECONDS]};
    *n = k;
}

/* Translates one image (C x H x W) by (dy, dx) pixels, edge pixels
 * replicated, and mirrors it left-right when flip is set; into dst. */
static void shift_flip(const float *src, float *dst, int C, int H, int W, int dy, int dx, int flip)
{
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++) {
            int sy = y - dy;
            sy = sy < 0 ? 0 : sy >= H ? H - 1 : sy;
            const float *row = src + ((long)c * H + sy) * W;
            float *out = dst + ((long)c * H + y) * W;
            for (int x = 0; x < W; x++) {
                int sx = (flip ? W - 1 - x : x) - dx;
                out[x] = row[sx < 0 ? 0 : sx >= W ? W - 1 : sx];
            }
        }
}

/* Copies training row `row` into batch slot n, augmented as configured. */
static void put_row(loop *L, int n, int row)
{
    const int P = L->train.pixels, s = L->cfg.augment_shift;
    const float *src = L->train.x + (size_t)row * P;
    float *dst = L->xb + (size_t)n * P;
    if (!s && !L->cfg.augment_flip) {
        memcpy(dst, src, sizeof(float) * P);
        return;
    }
    int dy = s ? (int)rng_below(&L->aug_rng, 2 * s + 1) - s : 0;
    int dx = s ? (int)rng_below(&L->aug_rng, 2 * s + 1) - s : 0;
    int flip = L->cfg.augment_flip ? (int)rng_below(&L->aug_rng, 2) : 0;
    shift_flip(src, dst, L->channels, L->height, L->width, dy, dx, flip);
}

/* Assembles step's batch: L->n_lab labelled rows (cycled), then
 * L->rows - L->n_lab unlabelled (none for the supervised-only CNN and the
 * supervised phases).  Returns the rows. */
static int next_batch(loop *L)
{
    int n = 0;
    for (int i = 0; i < L->n_lab; i++, n++) {
        if (L->pos[P_LCUR] == 0)
            rng_shuffle(&L->data_rng, L->perm_l, L->n_lab_rows);
        int row = L->lab_rows[L->perm_l[L->pos[P_LCUR]]];
        L->pos[P_LCUR] = (L->pos[P_LCUR] + 1) % L->n_lab_rows;
        put_row(L, n, row);
        L->yb[n] = L->train.labels[row];
    }
    for (int i = 0; i < L->rows - L->n_lab; i++, n++) {
        int row = L->perm_u[L->pos[P_UCUR]++];
        put_row(L, n, row);
        L->yb[n] = -1;
    }
    return n;
}

/* The error on the held-out images (BN running statistics), in batches. */
static int valid_error(loop *L, double *out, err_t *e)
{
    const int K = drmm_get_arch(L->m)->classes, P = L->valid.pixels;
    long wrong = 0;
    for (int s = 0; s < L->valid.n; s += L->cfg.batch) {
        int rows = L->valid.n - s < L->cfg.batch ? L->valid.n - s : L->cfg.batch;
        if (drmm_predict(L->m, L->acts, L->valid.x + (size_t)s * P, rows, NULL, e))
            return -1;
        const float *q = drmm_acts_probs(L->acts);
        for (int i = 0; i < rows; i++) {
            int best = 0;
            for (int c = 1; c < K; c++)
                if (q[(long)i * K + c] > q[(long)i * K + best])
                    best = c;
            wrong += best != L->valid.labels[s + i];
        }
    }
    *out = (double)wrong / L->valid.n;
    return 0;
}

static int run_loop(loop *L, const train_hooks *h, train_outcome *out, err_t *e)
{
    const train_config *c = &L->cfg;
    const long total = (long)c->epochs * L->steps_per_epoch;
    store_metric step_m[64];
    int n_step_m = 0;
    memset(out, 0, sizeof *out);
    out->run_id = L->run_id;
    double trained = 0, images_this_session = 0;
    long steps_this_session = 0;
    while (L->pos[P_EPOCHS] < c->epochs) {
        int epoch = (int)L->pos[P_EPOCHS] + 1;
        long in_epoch = (long)(L->pos[P_STEP] - L->pos[P_EPOCHS] * L->steps_per_epoch);
        for (; in_epoch < L->steps_per_epoch; in_epoch++) {
            if (writer(L) && store_lease_renew(L->st, &L->lease, 0, e))   /* heartbeat every STORE_LEASE_RENEW_S */
                return -1;
            if (group_any(L, h && ((h->stop && *h->stop) || (h->stop_at_step > 0 && L->pos[P_STEP] >= h->stop_at_step)))) {
                /* before an epoch's first step (and its reshuffle, redone on
                   resume) the state is that of the previous epoch's
                   checkpoint, written at this very step: nothing to add */
                if (!(in_epoch == 0 && L->pos[P_STEP] > 0) && write_checkpoint(L, step_m, n_step_m, e))
                    return -1;
                out->status = TRAIN_INTERRUPTED;
                goto done;
            }
            set_phase(L);   /* mode pretrain: unlabelled rows until its pre-training steps are done */
            if (in_epoch == 0) {
                /* a new epoch: reshuffle the unlabelled pass */
                for (int i = 0; i < L->train.n; i++)
                    L->perm_u[i] = i;
                rng_shuffle(&L->data_rng, L->perm_u, L->train.n);
                L->pos[P_UCUR] = 0;
                memset(L->sums, 0, sizeof L->sums);
            }
            int n = next_batch(L), share_lab, share_n;
            const float *xb;
            const int *yb;
            double t0 = clock_seconds();
            batch_share(L, n, &xb, &yb, &share_lab, &share_n);
            drmm_losses s;
            if (L->pos[P_STEP] == 0 && c->td_calibrate && !c->supervised_only && !c->init_from &&
                drmm_calibrate_amplitude(L->m, L->acts, xb, yb, share_lab, share_n, e))
                return -1;
            if (c->unsup_warmup > 0 || c->unsup_warmup_frac > 0) {
                double len = c->unsup_warmup > 0 ? c->unsup_warmup * L->steps_per_epoch : c->unsup_warmup_frac * total;
                double ramp = (double)L->pos[P_STEP] / len;
                drmm_set_unsup_scale(L->m, (float)(ramp < 1 ? ramp : 1));
            }
            /* the dropout mask: a function of the seed and the step alone, so a resumed run draws the same */
            drmm_set_dropout_key(L->m, (c->seed ^ 0x64726f706f7574ULL) + (uint64_t)L->pos[P_STEP] * 0x9e3779b97f4a7c15ULL);
            if (drmm_train_batch(L->m, L->acts, xb, yb, share_lab, share_n, DRMM_BACKWARD | DRMM_UPDATE_STATS, &s, e))
                return err_prefix(e, "epoch %d step %ld", epoch, in_epoch + 1);
            optim_update(&L->opt, drmm_params(L->m), drmm_grads(L->m), NULL);
            double dt = clock_seconds() - t0;
            trained += dt;
            steps_this_session++;
            images_this_session += n;
            L->pos[P_STEP]++;
            double add[S_COUNT] = {s.lh, s.lrc, s.lkl, s.lnn, s.total, s.x2, s.lab_errors, s.n_lab, 1, dt, s.lrcl, s.lmm};
            for (int k = 0; k < S_COUNT; k++)
                L->sums[k] += add[k];
            if (c->log_every && L->pos[P_STEP] % c->log_every == 0 && n_step_m + 4 <= 64) {
                long gs = (long)L->pos[P_STEP];
                step_m[n_step_m++] = (store_metric){epoch, gs, "step_loss", s.total};
                step_m[n_step_m++] = (store_metric){epoch, gs, "step_lh", s.lh};
                if (!c->supervised_only) {
                    step_m[n_step_m++] = (store_metric){epoch, gs, "step_lrc", s.lrc};
                    step_m[n_step_m++] = (store_metric){epoch, gs, "step_lnn", s.lnn};
                }
                if (n_step_m + 4 > 64 && !writer(L))
                    n_step_m = 0;
                if (n_step_m + 4 > 64) {   /* flush in batches */
                    double t1 = clock_seconds();
                    if (store_add_metrics(L->st, L->run_id, step_m, n_step_m, e))
                        return -1;
                    L->store_seconds += clock_seconds() - t1;
                    n_step_m = 0;
                }
            }
            if (h && h->progress) {
                train_progress p = {.epoch = epoch, .epochs = c->epochs, .step = in_epoch + 1,
                                    .steps_per_epoch = L->steps_per_epoch, .global_step = (long)L->pos[P_STEP],
                                    .total_steps = total, .lr = optim_lr(&L->opt)};
                double k = L->sums[S_STEPS];
                p.mean = (drmm_losses){.lh = L->sums[S_LH] / k, .lrc = L->sums[S_LRC] / k, .lkl = L->sums[S_LKL] / k,
                                       .lnn = L->sums[S_LNN] / k, .total = L->sums[S_TOTAL] / k, .x2 = L->sums[S_X2] / k};
                p.train_error = L->sums[S_LAB] > 0 ? L->sums[S_ERR] / L->sums[S_LAB] : NAN;
                p.images_per_s = per_second(images_this_session, trained);
                p.eta_s = (total - L->pos[P_STEP]) * trained / steps_this_session;
                h->progress(&p, h->arg);
            }
        }
        /* end of epoch: metrics and checkpoint in one transaction */
        L->pos[P_EPOCHS]++;
        store_metric m[64 + 16];
        int nm;
        double err;
        drmm_losses mean;
        epoch_metrics(L, epoch, m, &nm, &err, &mean);
        if (L->valid.n && writer(L)) {
            double verr;
            if (valid_error(L, &verr, e))
                return -1;
            m[nm++] = (store_metric){epoch, (long)L->pos[P_STEP], "valid_error", verr};
        }
        memcpy(m + nm, step_m, sizeof(store_metric) * n_step_m);
        nm += n_step_m;
        n_step_m = 0;
        if (write_checkpoint(L, m, nm, e))
            return -1;
        out->last_epoch = mean;
        out->last_train_error = err;
        if (h && h->progress) {
            train_progress p = {.epoch = epoch, .epochs = c->epochs, .step = L->steps_per_epoch,
                                .steps_per_epoch = L->steps_per_epoch, .global_step = (long)L->pos[P_STEP],
                                .total_steps = total, .mean = mean, .train_error = err, .epoch_done = 1,
                                .lr = optim_lr(&L->opt)};
            p.images_per_s = epoch_images_per_s(L);
            p.eta_s = steps_this_session ? (total - L->pos[P_STEP]) * trained / steps_this_session : 0;
            h->progress(&p, h->arg);
        }
    }
    out->status = TRAIN_FINISHED;
done:
    out->epochs_done = (int)L->pos[P_EPOCHS];
    out->steps_done = (long)L->pos[P_STEP];
    out->train_seconds = trained;
    out->store_seconds = L->store_seconds;
    out->images_per_s = per_second(images_this_session, trained);
    return 0;
}

/* Runs the loop and records the final status; the store keeps what it had
 * on any failure (the loop's writes are transactions). */
static int run_and_record(loop *L, const train_hooks *h, train_outcome *out, err_t *e)
{
    int rc = run_loop(L, h, out, e);
    err_t e2;
    if (!writer(L))
        return rc;
    if (rc) {
        if (L->lease.held)   /* a run taken over by another process is not ours to mark */
            store_set_run_status(L->st, L->run_id, "FAILED", e->msg, &e2);
        store_lease_release(L->st, &L->lease, &e2);
        return -1;
    }
    const char *status = out->status == TRAIN_FINISHED ? "FINISHED" : "INTERRUPTED";
    rc = store_set_run_status(L->st, L->run_id, status, NULL, e);
    store_lease_release(L->st, &L->lease, &e2);
    return rc ? -1 : 0;
}

/* Moves the last cfg->valid images of train into valid, then keeps the first
 * cfg->train_limit of the rest (0: all). */
static int carve_valid(const train_config *cfg, split_data *train, split_data *valid, err_t *e)
{
    memset(valid, 0, sizeof *valid);
    if (cfg->valid >= train->n)
        return err_input(e, "valid = %d but there are only %d training images: hold out fewer", cfg->valid, train->n);
    int keep = train->n - cfg->valid;
    if (cfg->valid) {
        const int P = train->pixels, n = cfg->valid;
        valid->x = malloc(sizeof(float) * (size_t)n * P);
        valid->labels = malloc(sizeof(int) * n);
        valid->idx = malloc(sizeof(int) * n);
        if (!valid->x || !valid->labels || !valid->idx) {
            split_data_free(valid);
            return err_set(e, "out of memory for %d validation images", n);
        }
        memcpy(valid->x, train->x + (size_t)keep * P, sizeof(float) * (size_t)n * P);
        memcpy(valid->labels, train->labels + keep, sizeof(int) * n);
        memcpy(valid->idx, train->idx + keep, sizeof(int) * n);
        valid->n = n;
        valid->pixels = P;
    }
    train->n = cfg->train_limit > 0 && cfg->train_limit < keep ? cfg->train_limit : keep;
    return 0;
}

/* Per-channel mean and standard deviation of the training images, set as
 * the model's input standardisation. */
static int set_input_norm(loop *L, err_t *e)
{
    const int C = L->channels, hw = L->height * L->width;
    float *mean = malloc(sizeof(float) * 2 * C), *sd = mean + C;
    if (!mean)
        return err_set(e, "out of memory");
    for (int c = 0; c < C; c++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < L->train.n; i++) {
            const float *p = L->train.x + ((size_t)i * C + c) * hw;
            for (int k = 0; k < hw; k++)
                s += p[k], s2 += (double)p[k] * p[k];
        }
        double cnt = (double)L->train.n * hw, mu = s / cnt, var = s2 / cnt - mu * mu;
        mean[c] = (float)mu;
        sd[c] = (float)sqrt(var > 1e-12 ? var : 1e-12);
    }
    int rc = drmm_set_input_norm(L->m, mean, sd, e);
    free(mean);
    return rc;
}

/* The parameters and BN statistics (and input standardisation) of finished
 * run `from`'s last checkpoint, into L's model: the run must have been
 * trained with the same architecture text. */
static int init_from_run(loop *L, int64_t from, const char *arch_text, err_t *e)
{
    store_run r;
    store_checkpoint ck;
    memset(&r, 0, sizeof r);
    memset(&ck, 0, sizeof ck);
    int rc = -1;
    if (store_get_run(L->st, from, &r, e)) {
        if (store_fail_kind() == STORE_FAIL_NOTFOUND)
            err_input(e, "init_from = %" PRId64 ": no such run in the store (see: runs list)", from);
        goto done;
    }
    if (strcmp(r.status, "FINISHED")) {
        err_input(e, "init_from = %" PRId64 ": run %s is %s, not FINISHED: finish it first (train --resume %" PRId64 ")",
                  from, r.name, r.status, from);
        goto done;
    }
    if (strcmp(r.architecture, arch_text)) {
        err_input(e, "init_from = %" PRId64 ": run %s was trained with another architecture: use the same architecture file",
                  from, r.name);
        goto done;
    }
    if (store_get_checkpoint(L->st, from, 0, &ck, e)) {
        err_prefix(e, "init_from = %" PRId64 " (run %s)", from, r.name);
        goto done;
    }
    if (model_load_tensors(L->m, &ck, e)) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        err_input(e, "init_from = %" PRId64 " (run %s): %s: give the model options run %s was trained with "
                  "(td_param, td_weights, in_norm; see: runs diff)", from, r.name, why, r.name);
        goto done;
    }
    rc = 0;
done:
    store_checkpoint_free(&ck);
    store_run_free(&r);
    return rc;
}

static int load_train_split(store *st, const char *dataset_name, const train_config *cfg, const arch *a,
                            const char *arch_name, dataset *d, split_data *train, split_data *valid, err_t *e)
{
    if (store_get_dataset(st, dataset_name, d, e))
        return -1;
    if (d->channels != a->channels || d->height != a->height || d->width != a->width)
        return err_input(e, "%s: the architecture expects %dx%dx%d images but dataset %s has %dx%dx%d: use a matching "
                         "architecture file (its input line)", arch_name, a->channels, a->height, a->width,
                         dataset_name, d->channels, d->height, d->width);
    if (d->n_classes != a->classes)
        return err_input(e, "%s: the architecture outputs %d classes but dataset %s has %d: use a matching "
                         "architecture file", arch_name, a->classes, dataset_name, d->n_classes);
    if (split_data_load(d, SPLIT_TRAIN, cfg->valid ? 0 : cfg->train_limit, train, e))
        return -1;
    return carve_valid(cfg, train, valid, e);
}

int trainer_start(store *st, const char *dataset_name, const char *arch_text, const char *arch_name,
                  const char *run_name, const train_config *cfg, const train_hooks *hooks,
                  train_outcome *out, err_t *e)
{
    loop L;
    memset(&L, 0, sizeof L);
    L.st = st;
    L.cfg = *cfg;
    L.grp = hooks->group;
    arch a;
    dataset d;
    memset(&d, 0, sizeof d);
    int rc = -1;
    /* no unlabelled rows beside the labelled ones in these modes: the
       unsupervised terms go on every row (and the run records so) */
    if (cfg->mode != TRAIN_SEMISUP)
        L.cfg.model.unsup_both = 1;
    cfg = &L.cfg;
    if (train_config_check(cfg, e) || arch_parse(&a, arch_text, arch_name, e))
        return -1;
    if (load_train_split(st, dataset_name, cfg, &a, arch_name, &d, &L.train, &L.valid, e))
        goto done;
    L.n_lab_rows = cfg->labels;
    L.lab_rows = malloc(sizeof(int) * (cfg->labels ? cfg->labels : 1));
    if (!L.lab_rows) {
        err_set(e, "out of memory");
        goto done;
    }
    if (trainer_choose_labels(L.train.labels, L.train.n, d.n_classes, cfg->labels, cfg->label_seed, L.lab_rows, e) ||
        setup(&L, &a, e) || (cfg->model.in_norm && set_input_norm(&L, e)) ||
        (cfg->init_from && init_from_run(&L, cfg->init_from, arch_text, e)) || group_check_same(&L, e))
        goto done;
    /* record the run */
    int nk = train_config_count();
    store_kv kv[128];
    char values[128][64];
    for (int i = 0; i < nk && i < 128; i++) {
        train_config_value(cfg, i, values[i], sizeof values[i]);
        kv[i] = (store_kv){train_config_key(i), values[i]};
    }
    int *ids = malloc(sizeof(int) * (cfg->labels ? cfg->labels : 1));
    if (!ids) {
        err_set(e, "out of memory");
        goto done;
    }
    for (int i = 0; i < cfg->labels; i++)
        ids[i] = L.train.idx[L.lab_rows[i]];
    run_env env;
    run_env_collect(&env);
    store_run_info info = {.name = run_name, .dataset = dataset_name, .architecture = arch_text,
                           .config = kv, .n_config = nk, .n_labels = cfg->labels, .label_seed = cfg->label_seed,
                           .label_ids = ids, .n_label_ids = cfg->labels, .seed = cfg->seed,
                           .threads = cfg->model.threads, .openblas_core = openblas_get_corename(),
                           .argc = hooks->argc, .argv = hooks->argv, .command = hooks->command,
                           .openblas = env.openblas, .libpng_version = env.libpng, .cpu_model = env.cpu_model};
    /* the run is created with its lease held, in one transaction (by
       member 0 of a group alone) */
    int crc = writer(&L) && (store_begin(st, e) || store_create_run(st, &info, &L.run_id, e) ||
                             store_lease_take(st, L.run_id, &L.lease, e) || note_group(&L, e) || store_commit(st, e));
    free(ids);
    if (crc) {
        store_rollback(st);
        L.lease.held = 0;
        goto done;
    }
    for (int i = 0; i < L.n_lab_rows; i++)
        L.perm_l[i] = i;
    rng_seed(&L.data_rng, cfg->seed ^ 0x5eedda7aULL);
    rng_seed(&L.aug_rng, cfg->seed ^ 0xa5a5a5a5a5a5a5a5ULL);
    rc = run_and_record(&L, hooks, out, e);
done:
    store_lease_release(st, &L.lease, &(err_t){.msg = ""});
    free_loop(&L);
    dataset_free(&d);
    arch_free(&a);
    return rc;
}

int trainer_resume(store *st, int64_t run_id, const train_hooks *hooks, train_outcome *out, err_t *e)
{
    loop L;
    memset(&L, 0, sizeof L);
    L.st = st;
    L.run_id = run_id;
    L.grp = hooks->group;
    store_run r;
    store_checkpoint ck;
    arch a;
    dataset d;
    memset(&r, 0, sizeof r);
    memset(&ck, 0, sizeof ck);
    memset(&a, 0, sizeof a);
    memset(&d, 0, sizeof d);
    int rc = -1;
    if (store_get_run(st, run_id, &r, e) || config_from_run(&r, &L.cfg, e))
        goto done;
    if (!strcmp(r.status, "FINISHED")) {
        err_input(e, "run %" PRId64 " (%s) already finished: nothing to resume", run_id, r.name);
        goto done;
    }
    if (writer(&L) && store_lease_take(st, run_id, &L.lease, e))   /* refused while another process trains it */
        goto done;
    if (arch_parse(&a, r.architecture, "architecture of the run", e) ||
        load_train_split(st, r.dataset, &L.cfg, &a, "architecture of the run", &d, &L.train, &L.valid, e))
        goto done;
    /* labelled rows from the recorded sample ids */
    L.n_lab_rows = r.n_label_ids;
    L.lab_rows = malloc(sizeof(int) * (r.n_label_ids ? r.n_label_ids : 1));
    if (!L.lab_rows) {
        err_set(e, "out of memory");
        goto done;
    }
    for (int i = 0, k = 0; i < L.train.n && k < r.n_label_ids; i++)
        if (L.train.idx[i] == r.label_ids[k])
            L.lab_rows[k++] = i;
    if (setup(&L, &a, e))
        goto done;
    if (store_get_checkpoint(st, run_id, 0, &ck, e)) {
        if (store_fail_kind() == STORE_FAIL_NOTFOUND)
            err_input(e, "run %" PRId64 " has no checkpoint to resume from (it stopped before its first epoch ended): start a new run",
                    run_id);
        goto done;
    }
    if (restore(&L, &ck, e) || group_check_same(&L, e) ||
        (writer(&L) && (store_set_run_status(st, run_id, "RUNNING", NULL, e) || note_group(&L, e))))
        goto done;
    rc = run_and_record(&L, hooks, out, e);
done:
    store_lease_release(st, &L.lease, &(err_t){.msg = ""});
    free_loop(&L);
    store_checkpoint_free(&ck);
    store_run_free(&r);
    dataset_free(&d);
    arch_free(&a);
    return rc;
}
