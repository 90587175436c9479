/* The engine's inside, shared by its files (see drmm.h for the interface):
 * the model's structs, the job a parallel loop gets, and the functions one
 * file calls in another.  Parallel over the batch (per-sample convolutions, per-channel
 * normalisation).  The activations are the caller's (drmm_acts, bound to the
 * model while a pass runs); the model's own batch buffers (the activation
 * gradients) are allocated for the largest batch seen.
 *
 * Per conv block l, bottom-up:  act = conv(x); act = BN(act) (xhat kept);
 * act = ReLU(act) (switch a-hat); pooled = pool(act) (switch t-hat for
 * max-pool).  One mask per block keeps the product a-hat * t-hat: it is all
 * the top-down pass and the backward pass need.
 * Top-down (rows [u0, n)): z = unpool(signal from above)   <- LNN measured here
 *                          zs = z * a * t * scale          (scale = gamma/sigma or 1)
 *                          sin = conv^T(zs)                (sin of block 0 = I-hat)
 *                          sin = BN_td(sin)                (td_param bn only; xhat kept)
 * The top-down filters are the bottom-up ones, or tdN.weight (td_weights). 
 * drmm_predict runs a leaner bottom-up (job_predict): BN with the running
 * statistics, ReLU and pooling fused in one pass, no switches, each thread
 * taking groups of rows through the whole network. */
#ifndef DRMM_INTERNAL_H
#define DRMM_INTERNAL_H

#include <stdint.h>

#include "drmm.h"
#include "threads.h"

struct err_t;


/* The parts of the model, as llm.c separates them:
 *   drmm_config   what the model is (drmm.h; copied at creation, never changed)
 *   model_params  the flat trainable parameters, their gradients and the BN
 *                 statistics, with the table of where each named tensor lives
 *                 and the per-block offsets (struct block)
 *   drmm_acts     what a pass fills: per block (layer_acts) the bottom-up
 *                 activations, switches and batch statistics, the top-down
 *                 renderings; per batch the class scores and top signals.
 *                 The caller's (drmm_acts_create, for up to cap rows): every
 *                 pass takes one, and the model points at it (m->A, and each
 *                 block's acts) only while the pass runs (acts_bind,
 *                 acts_unbind), so nothing of a pass stays in the model
 *   model_dacts   the gradients of those activations: scratch of one call,
 *                 allocated for the largest batch seen (ensure_dacts)
 *   model_scratch per-thread work space and partial sums */

/* Block l's activations, [N][C][H][W] at the conv output unless noted. */
typedef struct layer_acts {
    float *act, *xhat, *pooled;        /* pooled: [N][C][hp][wp] (== act without pooling) */
    uint8_t *a;                        /* switches a-hat * t-hat */
    uint8_t *t;                        /* t-hat (max-pool only) */
    float *mean, *var, *scale;         /* [C]: batch statistics, top-down scale */
    float *bn_scale, *bn_shift;        /* [C]: evaluation-mode BN as an affine (drmm_predict) */
    /* top-down */
    float *z, *zs;                     /* unpooled signal from above, times switches and scale */
    float *sin;                        /* [N][cin][h][w]: the rendering of this block's input */
    float *td_xhat;                    /* [N][cin][h][w], top-down BN only */
    float *td_mean, *td_var;           /* [cin]: top-down BN batch statistics */
    double *mm;                        /* [5][cin]: LMM's derivatives and m_b (mm_block) */
} layer_acts;

/* Block l's activation gradients. */
typedef struct layer_dacts {
    float *dact, *dpooled;             /* (dpooled == dact without pooling) */
    float *dh_extra;                   /* gradient into the post-ReLU activations from the top
                                          (what-where top), or NULL */
    float *dpooled_extra;              /* gradient into the pooled output from LRCL, or NULL */
    float *dz, *dsin;
    float *dsigma;                     /* [C]: dL/dsigma from the top-down scale */
} layer_dacts;

/* A 3x3 convolution the engine may compute by Winograd (winograd.h,
 * drmm_conv.c): the form wino_choose picked for its shape (0: im2col +
 * sgemm), its geometry as a convolution, and its transformed filters, made
 * at the start of each pass that uses them (NULL when m is 0). */
typedef struct wino_conv {
    int m;
    conv_geom g;
    float *U;
} wino_conv;

/* Block l: its architecture, where its tensors live, its activations. */
typedef struct block {
    const arch_block *ab;
    long w_off, gamma_off, beta_off;   /* offsets into params (gamma/beta -1 without BN) */
    long rmean_off, rvar_off;          /* offsets into stats (-1 without BN) */
    long sc_off;                       /* offset of this block's channels in dscale rows */
    long tdw_off;                      /* top-down filters of their own, or -1 (tied) */
    long tdg_off, tdb_off;             /* top-down BN gamma/beta [cin], or -1 */
    long tdrm_off, tdrv_off;           /* top-down BN running statistics [cin], or -1 */
    layer_acts *acts;                  /* &m->A->layer[l] while a pass runs, else NULL */
    layer_dacts *dacts;                /* &m->dacts.layer[l] */
    wino_conv wf, wt;                  /* the bottom-up convolution, its transpose (top-down pass,
                                          backward pass to the input) */
} block;

typedef struct param_info {
    char name[NT_NAME_MAX];
    int ndim, shape[NT_MAX_DIMS];
    long off, numel;
    int is_stat;                       /* 1: lives in stats, not params */
} param_info;

typedef struct model_params {
    long nparams, nstats;
    float *params, *grads, *stats;     /* one allocation each */
    param_info *info;                  /* the named tensors, in checkpoint order */
    int ninfo;
    long dense_w_off, dense_b_off, amp_off, tmpl_off, in_mean_off, in_std_off;  /* or -1 */
    long sc_total;                     /* channels of all blocks (dscale rows) */
} model_params;

struct drmm_acts {
    const struct drmm *m;              /* the model it was made for */
    layer_acts *layer;                 /* [nb] */
    int cap;                           /* rows the buffers hold */
    float *logits, *logq, *q;          /* [cap][K] */
    float *e;                          /* [cap][K]: the top vector (one-hot or q) */
    float *top;                        /* [cap][F]: the top signal at the features */
    int *pred;                         /* [cap]: predicted class */
    float *xs;                         /* the standardised input (in_norm), cap rows */
    int n, n_lab, u0, have_td;         /* rows, labelled rows, first top-down row, rendered? */
    int dist;                          /* this pass is a share of a data-parallel batch (drmm_shard) */
    int n_all, n_lab_all, nu_all;      /* the whole batch's rows, labelled rows and rendered rows
                                          (n, n_lab and n - u0 unless dist): what the means and BN
                                          statistics divide by */
    int train;                         /* BN mode of the last pass */
    /* dropout at the classifier's input (cfg.dropout > 0, training batches only) */
    int drop_on;                       /* the last bottom-up pass dropped units */
    long drop_size;                    /* units per row: F with a dense layer, else the
                                          last block's input */
    float *drop, *dmask;               /* [cap][drop_size]: the dropped input, the mask
                                          (0 or 1/(1 - rate)) */
};

typedef struct model_dacts {
    layer_dacts *layer;                /* [nb] */
    int cap;                           /* rows the buffers hold */
    float *dlogits, *de, *dtop;        /* de doubles as v = amp * e in the forward pass */
} model_dacts;

typedef struct model_scratch {
    float **col, **tgrad, **dscale;    /* per thread: im2col, weight gradients, dL/dscale */
    float **ycol;                      /* conv outputs of several samples (drmm_predict) */
    double *nn_part;                   /* per thread: LNN partial sums */
    double *red;                       /* red_size values: sums of a batch reduction (per channel, ...) */
    long red_size;
    double *gsum;                      /* nparams values: the gradients' sum over a shard's group */
    long col_size, ycol_size;
} model_scratch;

struct drmm {
    arch a;
    drmm_config cfg;
    float unsup_scale;                 /* drmm_set_unsup_scale */
    int conv_im2col;                   /* drmm_set_conv_im2col */
    uint64_t drop_key;                 /* drmm_set_dropout_key */
    drmm_shard shard;                  /* drmm_set_shard (sum NULL: one process) */
    int nb, K, F, P;                   /* blocks, classes, top features, pixels per image */
    int threads;
    tpool *pool;
    block *b;                          /* [nb] */
    model_params par;
    drmm_acts *A;                      /* the caller's activations while a pass runs, else NULL */
    model_dacts dacts;
    model_scratch scr;
};

static inline long block_out(const block *b) { return (long)b->ab->g.cout * b->ab->g.ho * b->ab->g.wo; }
static inline long block_pooled(const block *b) { return (long)b->ab->g.cout * b->ab->hp * b->ab->wp; }
static inline long block_in(const block *b) { return (long)b->ab->g.cin * b->ab->g.h * b->ab->g.w; }
/* Where the top-down filters of a block are. */
static inline long td_w_off(const block *b) { return b->tdw_off >= 0 ? b->tdw_off : b->w_off; }

/* The top-down switch of unit k: 1 where a-hat * t-hat is on; with leaky
 * switches, leak where only the ReLU is off (t-hat on, or no max-pool). */
static inline float switch_on(const uint8_t *a, const uint8_t *t, long k, float leak)
{
    return a[k] ? 1.0f : (!t || t[k]) ? leak : 0.0f;
}

/* min(v, 0), as fminf for every value the engine renders (no NaN reaches
 * it: a non-finite loss stops the step) but inlined: fminf is a libm call
 * unless the compiler may ignore NaN. */
static inline float neg_part(float v) { return v < 0.0f ? v : 0.0f; }

/* drmm_conv.c: block b's convolution (bottom-up) and its transpose
 * (top-down, backward to the input), by Winograd or im2col + sgemm. */
int  wino_conv_init(wino_conv *wc, const conv_geom *g, int transposed);   /* -1: out of memory */
/* The transformed filters of w for the pass about to run (a no-op for
 * im2col + sgemm); w as conv_forward takes it, for the transpose too. */
void block_conv_prepare(drmm *m, wino_conv *wc, const float *w, int transposed);
/* m of the Winograd form wc uses now, 0: im2col + sgemm (drmm_set_conv_im2col) */
int  block_conv_form(const drmm *m, const wino_conv *wc);
/* Samples per call for n rows. */
int  block_conv_samples(const drmm *m, const block *b, int n);
int  block_transpose_samples(const drmm *m, const block *b, int n);
/* y = conv(x) of S samples with filters w (prepared in b->wf), NCHW or (cm)
 * channel-major as conv_forward_cm */
void block_conv(const drmm *m, const block *b, int S, const float *x, const float *w, int cm, float *y, float *work);
/* dw += the weight gradient of block b's convolution (the correlation of x
 * at its input side with dy at its output side) summed over n samples: by
 * Winograd where b->wf uses it, else by im2col + sgemm in chunks */
void block_weight_grad(const drmm *m, const block *b, int n, const float *dy, const float *x, float *dw, float *work);
/* x = conv^T(y) of S samples with filters w (prepared in b->wt), as
 * conv_transpose_batch */
void block_conv_transpose(const drmm *m, const block *b, int S, const float *y, const float *w, float *x,
                          float *work);
/* Scratch floats per thread the block's convolutions need (both paths). */
long block_conv_work(const block *b);

/* What a parallel loop over rows or channels of one block gets. */
typedef struct job {
    drmm *m;
    int l;            /* block */
    int n;            /* rows in the batch */
    int u0;           /* first top-down row */
    const float *in;  /* block input */
    float *dx;        /* gradient w.r.t. the block input (NULL: not needed) */
    float rc_coef, nn_coef;
    const float *target;
    const float *dh_extra;   /* extra gradient into this block's activations, or NULL */
    int top;          /* top-down: the block whose z the caller set */
    int exact;        /* top-down: the exact adjoint of the bottom-up map (drmm_score_gradient) */
} job;

/* drmm_shard.c: the reductions of a data-parallel batch (all no-ops unless
 * m->acts.dist).  shard_sum sums v over the group in place. */
void shard_sum(const drmm *m, double *v, int count);
/* The global row index of local row i in the last batch (i itself unless dist). */
long shard_row(const drmm *m, int i);
/* The BN batch statistics of channels [0, C) over rows of hw values at in
 * (n local rows, n_all in the whole batch), summed over the group: mean and
 * var (biased) of each channel, as bn_channel_stats. */
void shard_bn_stats(drmm *m, const float *in, int n, long n_all, int C, int hw, float *mean, float *var);
/* The parameter gradients summed over the group (after the backward pass). */
void shard_sum_grads(drmm *m);

/* drmm_acts.c */
/* Frees the activation gradients' batch-sized buffers (drmm_free). */
void free_dacts(drmm *m);
/* Starts a pass of n rows into A: checks that A was made for m and holds n
 * rows, makes room for n rows of activation gradients (ensure_dacts), and
 * points m->A and every block's acts at A.  acts_unbind ends the pass. */
int acts_bind(drmm *m, drmm_acts *A, int n, struct err_t *e);
void acts_unbind(drmm *m);
/* The body of a public pass: runs call (an int status) with the caller's
 * activations A bound to m for n_rows rows.  Expects m, A and e in scope. */
#define PASS(n_rows, call)                \
    do {                                  \
        if (acts_bind(m, A, (n_rows), e)) \
            return -1;                    \
        int rc_ = (call);                 \
        acts_unbind(m);                   \
        return rc_;                       \
    } while (0)

/* drmm_forward.c */
/* Checks a batch's sizes and labels and makes room for it. */
int check_batch(drmm *m, const float *x, const int *labels, int n_lab, int n, struct err_t *e);
/* x itself, or (in_norm) x standardised into m->acts.xs (which holds n rows). */
const float *standardise(drmm *m, const float *x, int n);
/* The bottom-up pass of n rows in the BN mode m->acts.train, with dropout at
 * the classifier's input when m->acts.drop_on: activations, switches, batch
 * statistics, class scores. */
void bottom_up(drmm *m, const float *x, int n);

/* Block l's input in the last pass: x (the possibly standardised image) for
 * block 0, else block l-1's pooled output, or its dropped copy (the last
 * block without a dense layer, when the pass dropped units). */
const float *block_input(const drmm *m, int l, const float *x);
/* The dense layer's input in the last pass: the last block's pooled output,
 * or its dropped copy. */
const float *dense_input(const drmm *m);
/* Multiplies the gradient w.r.t. the classifier's input (rows [0, n)) by the
 * dropout mask, when the last pass dropped units. */
void dropout_backward(const drmm *m, float *d, int n);

/* drmm_render.c */
/* Renders rows [u0, n) top-down from the predicted class (or labels: always
 * with force_labels, else for the labelled rows with td_true_label); nn (may
 * be NULL) receives each block's sum of min(0, z)^2. */
void top_down(drmm *m, const int *labels, int force_labels, double *nn);
/* The top signal e (nrows x K, times the amplitude) rendered down to the
 * last block's z level without a template: dense^T, then unpooling. */
int render_top_default(drmm *m, const float *e, float *z, int nrows);
/* The adjoint of unpooling one row of block b (dsrc overwritten). */
void unpool_row_backward(const drmm *m, const block *b, const float *dz, float *dsrc);

/* drmm_loss.c */
/* The losses of the last pass (L overwritten); nn from top_down. */
void losses_forward(const drmm *m, const float *x, const int *labels, const drmm_config *cfg, const double *nn,
                    drmm_losses *L);
/* Block l's moment-matching term (l >= 1, top-down BN; see drmm.h a_mm) over
 * the rendered rows; with d non-NULL (5 * cin values) also, per input channel
 * c, d[5c .. 5c+4] = dLMM/dm_t, dLMM/dv_t, dLMM/dm_b, dLMM/dv_b and m_b. */
double mm_block(const drmm *m, int l, double *d);
/* LH and LKL into dlogits (added). */
void losses_backward_logits(drmm *m, const int *labels, const drmm_config *cfg);

/* drmm_backward.c */
/* The one zeroing of a step: parameter gradients, the threads' partial
 * sums, dlogits and dsigma. */
void grads_zero(drmm *m);
/* The gradient of LRC, LNN and LRCL through the top-down pass: into the
 * top-down parameters, the class template / dense / amplitude, the logits
 * (softmax top), gamma and dsigma (adjoint scale), dh_extra, dpooled_extra. */
void backward_render(drmm *m, const float *x, const drmm_config *cfg);
/* The bottom-up backward pass from dlogits (with the top-down pass's
 * dh_extra and dpooled_extra when td_grad), then the threads' weight
 * gradients summed into grads. */
void backward_bottom_up(drmm *m, const float *x, int td_grad);

#endif
