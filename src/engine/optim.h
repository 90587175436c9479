/* Optimisers over a flat parameter array: SGD with momentum and Adam, a
 * learning rate decayed exponentially from lr_start to lr_end over the run,
 * and optional clipping of the gradient's global L2 norm.
 *   SGD:  v = momentum * v + g;  p -= lr * v
 *   Adam: m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *         p -= lr * mhat / (sqrt(vhat) + eps)  (bias-corrected)
 *   lr(step) = lr_start * (lr_end / lr_start)^(step / (total_steps - 1)) */
#ifndef DRMM_OPTIM_H
#define DRMM_OPTIM_H

#include "named_tensor.h"

struct err_t;

typedef enum { OPTIM_SGD = 0, OPTIM_ADAM = 1 } optim_kind;

typedef struct optim_config {
    optim_kind kind;
    float lr_start, lr_end;
    long total_steps;      /* steps of the whole run, for the decay */
    float momentum;        /* SGD */
    float beta1, beta2, eps;  /* Adam */
    float clip_norm;       /* 0: no clipping */
} optim_config;

typedef struct optim {
    optim_config cfg;
    long n;                /* parameters */
    long step;             /* updates done */
    float *m, *v;          /* SGD uses m (velocity); Adam both */
} optim;

/* Adam, 1e-3 -> 1e-4, beta 0.9/0.999, eps 1e-8; SGD momentum 0.9; no clipping. */
void optim_config_default(optim_config *c);
int  optim_init(optim *o, const optim_config *c, long n, struct err_t *e);
void optim_free(optim *o);
float optim_lr(const optim *o);   /* learning rate of the next update */
/* One update; grads may be scaled in place by clipping.  *gnorm (may be NULL)
 * receives the gradient norm before clipping. */
void optim_update(optim *o, float *params, float *grads, double *gnorm);
/* The state as named tensors named "<prefix>.<param name>" after the
 * parameters' own tensors (params: the model's named parameter tensors, whose
 * data pointers are offsets into the flat array starting at base).
 * Returns the number written (at most max). */
int optim_tensors(optim *o, const named_tensor *params, int nparams, const float *base,
                  named_tensor *out, int max);

#endif
