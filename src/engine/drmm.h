/* The Deep Rendering Mixture Model: bottom-up inference (a CNN whose ReLU and
 * max-pool switches are the nuisance latents a-hat and t-hat), top-down
 * rendering of the image from the inferred class through those latents with
 * the shared filters, the four losses of the semi-supervised DRMM
 *     L = aH*LH + aRC*LRC + aKL*LKL + aNN*LNN  (+ aRCL*LRCL + aMM*LMM as options)
 * and their exact gradients (masks are constants).  See DRMM-SPEC sections
 * 2-4 and README.md for the options.
 *
 * A batch holds n images, the first n_lab labelled.  The unsupervised terms
 * (RC, KL, NN) use the unlabelled rows [n_lab, n), or every row with
 * unsup_both.  The engine knows nothing of files or the store: parameters
 * and statistics leave it as named tensors.
 *
 * Three parts, as in llm.c: the configuration (drmm_config) and the model
 * (struct drmm: parameters, gradients, BN statistics, per-thread scratch) are
 * the engine's; the activations (drmm_acts: what a pass computes, the state a
 * caller reads back) are the caller's.  Every pass takes the caller's
 * drmm_acts, made by drmm_acts_create for the largest batch it will see, and
 * fills it; nothing of a pass stays in the model. */
#ifndef DRMM_DRMM_H
#define DRMM_DRMM_H

#include <stdint.h>

#include "arch.h"
#include "named_tensor.h"

struct err_t;

/* How the top-down pass scales what it renders. */
typedef enum {
    TD_SCALE_LITERAL = 0,  /* tied weights only: no BN scale, mean-pool undone by copying */
    TD_SCALE_ADJOINT = 1,  /* exact adjoint of the bottom-up map with the masks fixed:
                              each layer's gamma/sigma, mean-pool undone by copy / (h*w) */
    TD_SCALE_ADJOINT_CONST = 2 /* the same rendering, its scales gamma/sigma held constant
                              in the gradient: LRC and LNN reach the filters and the top
                              level only, not gamma or the BN statistics of the
                              bottom-up pass (diagnosis of their coupling) */
} td_scale_mode;

/* What the top-down pass starts from. */
typedef enum {
    TD_TOP_ONEHOT = 0,     /* one-hot of the predicted class (argmax of q) */
    TD_TOP_SOFTMAX = 1,    /* the class posterior q itself (gradient flows into q) */
    TD_TOP_ACTIVATIONS = 2 /* diagnosis: the last conv layer's own activations (times the
                              amplitude), a what-where autoencoder: what the switches can
                              carry when the top is not the class */
} td_top_mode;

/* Learnable top-level parameters. */
typedef enum {
    TD_PARAM_NONE = 0,
    TD_PARAM_AMPLITUDE = 1,  /* a scalar multiplying the top signal: "top.amplitude" */
    TD_PARAM_TEMPLATE = 2,   /* a template mu_c per class over the last conv layer's
                                channels and positions: "top.template" [K][C][H][W] */
    TD_PARAM_BN = 3          /* the Neural Rendering Model's top-down pass: no free top
                                parameter (the class enters through the classifier's
                                weights); a BatchNorm of its own after every transposed
                                convolution, the rendered image included:
                                "tdN.bn.gamma", "tdN.bn.beta" [cin of conv N] and their
                                running statistics "tdN.bn.running_mean", ".running_var"
                                (batch statistics of the top-down rows in training) */
} td_param_mode;

/* The top-down filters. */
typedef enum {
    TD_WEIGHTS_TIED = 0,     /* the bottom-up filters (the DRMM) */
    TD_WEIGHTS_COPY = 1,     /* filters of their own, "tdN.weight", initialised as a copy
                                of the bottom-up ones */
    TD_WEIGHTS_INDEPENDENT = 2 /* filters of their own, initialised independently */
} td_weights_mode;

typedef struct drmm_config {
    float a_h, a_rc, a_kl, a_nn;  /* loss weights */
    float a_rcl;           /* weight of the per-layer reconstruction LRCL: sum over layers
                              l >= 1 of mean (x_l - top-down rendering of x_l)^2, x_l the
                              input of conv layer l (the authors' code had such terms) */
    int kl_literal;        /* 0: the authors' sign, minimising the entropy of q;
                              1: the literal KL(q || uniform) */
    int unsup_both;        /* RC, KL, NN on every row instead of the unlabelled ones */
    td_scale_mode td_scale;
    td_top_mode td_top;
    int td_true_label;     /* labelled rows render from their true label */
    td_param_mode td_param;
    float td_init;         /* initial amplitude (or template scale) */
    td_weights_mode td_weights;
    float a_mm;            /* weight of the Neural Rendering Model's BN moment matching LMM
                              (td_param bn only): sum over blocks l >= 1 of the mean over
                              block l's input channels of KL(N(m_t, v_t) || N(m_b, v_b)), with
                              m_t, v_t the batch mean and variance of the rendering of block
                              l's input before its top-down BN, and m_b, v_b those of the
                              bottom-up input of block l (block l-1's pooled output), both
                              over the rendered rows (variances plus bn_eps) */
    float dropout;         /* dropout rate at the classifier's input in training batches
                              (0: none): the input of the dense layer, or of the last conv
                              block without one.  Inverted: kept units are scaled by
                              1/(1 - rate), so evaluation (no dropout) needs no rescaling.  A
                              batch's mask comes from the key of drmm_set_dropout_key */
    float td_leak;         /* leaky top-down switches (the NRM's 0.1): units whose ReLU is
                              off but which won their pooling window render times td_leak
                              instead of 0 (0: the DRMM's hard switches) */
    int in_norm;           /* standardise the input per channel with "input.mean" and
                              "input.std" (statistics of the model, set by
                              drmm_set_input_norm): the network, LRC and I-hat work on
                              (x - mean) / std */
    float bn_momentum;     /* running = momentum * running + (1 - momentum) * batch */
    float bn_eps;
    int threads;           /* worker threads over the batch (the caller sets OpenBLAS to 1 thread) */
} drmm_config;

/* Defaults: the paper's MNIST weights aH=1, aKL=1, aNN=1 with aRC=10 (LRC is
 * a mean over pixels: at the paper's 0.2 the reconstruction does not train;
 * reports/topdown/ has the measurements), authors' KL sign, unlabelled half,
 * adjoint top-down from the one-hot class with a learnable class template,
 * BN momentum 0.99, eps 1e-5, 1 thread. */
void drmm_config_default(drmm_config *c);

typedef struct drmm_losses {
    double lh, lrc, lkl, lnn, lrcl, lmm, total;
    double x2;             /* mean(I^2) over the rows LRC uses: LRC of rendering zero */
    int n_lab, n_unsup;    /* rows in the supervised and unsupervised terms */
    int lab_errors;        /* labelled rows whose predicted class is wrong */
} drmm_losses;

typedef struct drmm drmm;
typedef struct drmm_acts drmm_acts;

/* Builds the model for an architecture (copied) and initialises the
 * parameters from seed: conv weights He-normal N(0, 2/(cin*k*k)), BN gamma 1
 * and beta 0, running mean 0 and var 1, dense weights N(0, 1/features) and
 * bias 0, amplitude td_init, template = td_init times the rendering of each
 * class's one-hot through the dense layer and the last pooling.
 * The model's workers split the batch and each calls sgemm: the caller sets
 * OpenBLAS to one thread (openblas_set_num_threads(1)); the engine leaves
 * BLAS state alone. */
int  drmm_create(drmm **out, const arch *a, const drmm_config *cfg, uint64_t seed, struct err_t *e);
void drmm_free(drmm *m);

/* The activations of passes of up to n rows of model m (caller-owned: free
 * with drmm_acts_free, before the model).  A pass of more rows is refused.
 * One drmm_acts serves any number of passes, each overwriting it; several
 * may exist for one model. */
int  drmm_acts_create(const drmm *m, int n, drmm_acts **out, struct err_t *e);
void drmm_acts_free(drmm_acts *A);

const drmm_config *drmm_get_config(const drmm *m);
const arch *drmm_get_arch(const drmm *m);

/* All trainable parameters, and their gradients, as flat arrays. */
long   drmm_num_params(const drmm *m);
float *drmm_params(drmm *m);
float *drmm_grads(drmm *m);

/* Named views: trainable parameters first (in the order of the flat array),
 * then BN running statistics ("convN.bn.running_mean", ".running_var").
 * Writes at most max entries; returns the total count. */
int drmm_tensors(drmm *m, named_tensor *out, int max);
/* The trainable subset only (named like the parameters). */
int drmm_param_tensors(drmm *m, named_tensor *out, int max);

enum {
    DRMM_BACKWARD = 1,      /* compute gradients into drmm_grads (overwritten) */
    DRMM_UPDATE_STATS = 2   /* update the BN running averages */
};

/* One training batch in training mode (BN batch statistics): bottom-up,
 * top-down on the unsupervised rows, losses, and with DRMM_BACKWARD the
 * gradient of the total loss.  x: n images (C*H*W floats each), labels: the
 * first n_lab labels.  Returns -1 (message in e) on bad sizes or a
 * non-finite loss. */
int drmm_train_batch(drmm *m, drmm_acts *A, const float *x, const int *labels, int n_lab, int n,
                     int flags, drmm_losses *out, struct err_t *e);

/* Sets the input standardisation's per-channel mean and standard deviation
 * (in_norm models; channels values each).  Returns -1 without in_norm or for a
 * non-positive or non-finite std. */
int drmm_set_input_norm(drmm *m, const float *mean, const float *std, struct err_t *e);

/* Multiplies the unsupervised weights aRC, aKL, aNN, aRCL, aMM by s in the
 * following training batches (1 by default): a warm-up schedule.  The
 * configuration itself is unchanged; the reported losses are unweighted. */
void drmm_set_unsup_scale(drmm *m, float s);

/* The 3x3 convolutions with enough channels, bottom-up and transposed (the
 * top-down rendering, the backward pass to a block's input), are computed by
 * Winograd's F(4x4,3x3) or F(2x2,3x3) (winograd.h; the form and the choice
 * go by the layer's shape alone, so results do not depend on the machine's
 * speed or the thread count), equal to im2col + sgemm within float
 * rounding.  on = 1 computes every convolution by im2col + sgemm instead:
 * for comparisons, and for tests that check bits of that path. */
void drmm_set_conv_im2col(drmm *m, int on);
/* How block l's bottom-up convolution (transposed 0) or its transpose (the
 * top-down rendering and the backward pass to the block's input; 1) is
 * computed now: "Winograd F(4x4,3x3)", "Winograd F(2x2,3x3)", "im2col+sgemm"
 * or "sgemm (1x1)". */
const char *drmm_conv_path(const drmm *m, int l, int transposed);

/* Seeds the dropout mask of the following training batches (dropout > 0):
 * the mask is a function of the key alone, so a caller that sets it from its
 * seed and step number gets the same masks on a resumed run. */
void drmm_set_dropout_key(drmm *m, uint64_t key);

/* Data-parallel training: the processes of a group (MPI ranks, ...) each
 * hold a copy of the model and a share of every global batch, and call
 * drmm_train_batch with their share at the same time.  The global batch is
 * its labelled rows then its unlabelled rows; a process's share is a run of
 * consecutive labelled rows and a run of consecutive unlabelled rows, in
 * that order (n_lab of drmm_train_batch's n rows labelled).  Every batch
 * reduction (BN batch statistics and their backward sums, bottom-up and
 * top-down, LMM's moments, the rows each loss is a mean over, the losses
 * themselves, dL/dsigma of the top-down scale, and at the end the parameter
 * gradients) is summed over the group with `sum`, so each process gets the
 * losses, gradients and BN statistics of the whole batch (to rounding: the
 * order of the additions differs) and, applying the same update, keeps the
 * same parameters.  The engine knows nothing of the transport. */
typedef struct drmm_shard {
    /* Sums v[0 .. count) element-wise over the group, in place: every process
     * calls it in the same order with the same count and receives the same
     * sums.  A transport failure is the callback's to handle (MPI's default
     * handler aborts the job): the engine has no way to continue without the
     * others. */
    void (*sum)(double *v, int count, void *ctx);
    void *ctx;
    int lab_first;     /* index of this process's first labelled row among the global batch's labelled rows */
    int unl_first;     /* index of its first unlabelled row among the global batch's unlabelled rows */
} drmm_shard;

/* Makes the following training batches (drmm_train_batch and
 * drmm_calibrate_amplitude; not drmm_predict, drmm_reconstruct or
 * drmm_bn_recalibrate, which stay local) one process's share of a
 * data-parallel step; NULL (the default) is one process alone, bit for bit
 * the engine without this call.  s is copied.  Returns -1 (message in e) when
 * memory runs out or s has no sum. */
int drmm_set_shard(drmm *m, const drmm_shard *s, struct err_t *e);

/* Class probabilities (n * classes; probs may be NULL) in evaluation mode
 * (running statistics), and in A the activations, pooled outputs and class
 * scores (no switches). */
int drmm_predict(drmm *m, drmm_acts *A, const float *x, int n, float *probs, struct err_t *e);

/* Reconstructions I-hat (n * C*H*W) in evaluation mode, rendered from the
 * predicted class, or from labels when not NULL (and td_true_label ignored),
 * in the units of x (an in_norm model's standardisation undone). */
int drmm_reconstruct(drmm *m, drmm_acts *A, const float *x, const int *labels, int n, float *ihat,
                     struct err_t *e);

/* Re-estimates the BN population statistics: one pass over n images in
 * batches of `batch` with batch statistics; running mean and var become the
 * averages over the batches (var unbiased).  Its activations are its own
 * (made and freed by the call): a caller reads nothing back. */
int drmm_bn_recalibrate(drmm *m, const float *x, int n, int batch, struct err_t *e);

/* Multiplies the amplitude or template so that, on this batch, the rendered
 * images have mean(I-hat^2) = mean(I^2).  No effect with TD_PARAM_NONE. */
int drmm_calibrate_amplitude(drmm *m, drmm_acts *A, const float *x, const int *labels, int n_lab, int n,
                             struct err_t *e);

/* What the last pass into A left there (borrowed from A; overwritten by the
 * next pass into A). */
/* Rows of the last pass. */
int drmm_acts_rows(const drmm_acts *A);
/* After a bottom-up pass (every pass but drmm_render, drmm_render_unit): a
 * hash of every switch (a-hat, t-hat, derived from the activations) and
 * predicted class, to detect that a perturbation crossed a kink. */
uint64_t drmm_acts_switch_hash(const drmm_acts *A);
/* After drmm_train_batch or drmm_reconstruct: I-hat of rows [first, n), in
 * the units the network works in (standardised with in_norm); NULL (first = n
 * = 0) when the pass rendered nothing. */
const float *drmm_acts_ihat(const drmm_acts *A, int *first, int *n);
/* After a bottom-up pass: class probabilities (n * classes). */
const float *drmm_acts_probs(const drmm_acts *A);
/* After a bottom-up pass: class scores (logits, n * classes). */
const float *drmm_acts_logits(const drmm_acts *A);
/* After a bottom-up pass: the activations of conv block `block` (0-based),
 * [n][channels][h][w], after BN and ReLU and before pooling.  NULL if block
 * is out of range.  channels, h, w may be NULL. */
const float *drmm_acts_block(const drmm_acts *A, int block, int *channels, int *h, int *w);

/* ---- the generative side: rendering from chosen latents ----
 * A switch mask of block l for one row holds channels*ho*wo bytes at the
 * conv output (drmm_acts_block's shape): bit 0 set where the unit renders
 * (a-hat * t-hat), bit 1 where it won its max-pooling window (t-hat; blocks
 * without max-pool ignore it; it matters only with td_leak). */

/* The bottom-up pass alone of n images in evaluation mode, keeping in A the
 * switches (drmm_switches), activations (drmm_acts_block) and class scores
 * (drmm_acts_probs, drmm_acts_logits); nothing is rendered. */
int drmm_infer(drmm *m, drmm_acts *A, const float *x, int n, struct err_t *e);

/* Writes the switch mask of block `block` of row `row` of the last pass into
 * A that kept switches (drmm_train_batch, drmm_reconstruct, drmm_infer,
 * drmm_score_gradient, drmm_render; not drmm_predict) to mask. */
int drmm_switches(const drmm_acts *A, int block, int row, uint8_t *mask, struct err_t *e);

/* Renders n images (n * C*H*W into ihat, in the units of the input like
 * drmm_reconstruct) from the classes labels[i] with the model's own
 * top-down pass in evaluation mode, through the switches masks[l] (block l's
 * masks of the n rows, one after the other; masks NULL or masks[l] NULL:
 * every switch of the block on).  A model whose top-down pass starts from its
 * activations (TD_TOP_ACTIVATIONS) is refused. */
int drmm_render(drmm *m, drmm_acts *A, const int *labels, int n, const uint8_t *const *masks, float *ihat,
                struct err_t *e);

/* Renders one unit per row to pixel space: a one at units[i] (an index into
 * block `block`'s conv output, channel * ho*wo + y * wo + x) and zero
 * elsewhere, its own switch on, taken down through the blocks below with the
 * model's top-down pass in evaluation mode and the switches masks[0 ..
 * block-1] (as drmm_render; NULL: all on).  out: n * C*H*W, scaled like the
 * input (an in_norm model's std applied, no mean added).  For block 0 this is
 * the unit's filter placed at its position, times its top-down scale. */
int drmm_render_unit(drmm *m, drmm_acts *A, int block, const int *units, int n, const uint8_t *const *masks,
                     float *out, struct err_t *e);

/* The gradient of the class score (logit) classes[i] of image i with respect
 * to the image, n * C*H*W into grad, in evaluation mode (BN running
 * statistics, no dropout), the switches of the image held fixed (at a kink
 * the one-sided derivative of the side the switches say).  It is the exact
 * adjoint of the bottom-up map rendered from the classifier's row of class c
 * whatever the model's top-down options; the logits are
 * drmm_acts_logits(A) afterwards. */
int drmm_score_gradient(drmm *m, drmm_acts *A, const float *x, const int *classes, int n, float *grad,
                        struct err_t *e);

#endif
