/* Multinomial logistic regression (softmax) with an L2 penalty, fitted by
 * L-BFGS in double precision; deterministic.
 *
 * Model: p(c | x) = softmax_c(W_c . x + b_c) over k classes, x in R^f.
 * Objective: (1/n) sum_i -log p(y_i | x_i) + (l2 / 2) (||W||^2 + ||b||^2).
 * The bias is penalised too so that the minimiser is unique (strictly
 * convex) for any l2 > 0, even for separable data or an absent class. */
#ifndef DRMM_LOGREG_H
#define DRMM_LOGREG_H

struct err_t;

typedef struct logreg_options {
    double l2;          /* penalty weight [1e-4] */
    int max_iter;       /* L-BFGS iterations [300] */
    double tol;         /* stop when max |gradient| < tol [1e-4] */
    int memory;         /* L-BFGS history [10] */
} logreg_options;

void logreg_options_default(logreg_options *o);

/* theta: k x (f + 1) row-major, row c = (W_c, b_c); caller-allocated.  On
 * entry it is the starting point (zeros is a good default).  x: n x f
 * (float, row-major), y: n labels in [0, k).  *iters (may be NULL) receives
 * the iterations used.  Returns 0, or -1 with a message in e. */
int logreg_fit(const float *x, const int *y, int n, int f, int k, const logreg_options *o,
               double *theta, int *iters, struct err_t *e);

/* Objective and gradient (k x (f + 1)) at theta; grad may be NULL. */
double logreg_objective(const float *x, const int *y, int n, int f, int k, double l2,
                        const double *theta, double *grad);

/* Most probable class of one sample. */
int logreg_predict(const double *theta, int f, int k, const float *x);

#endif
