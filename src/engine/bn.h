/* Batch normalisation over n samples of C channels of hw pixels (NCHW), for
 * the channel range [c0, c1) so that callers can split channels over threads.
 * Training uses the batch's statistics (biased variance); evaluation uses the
 * running averages.  in and out may be the same buffer.
 *
 * The ops' convention (conv.h, bn.h, pool.h, activation.h, postconv.h):
 * arguments are sizes and geometry first (with the range of rows, planes or
 * channels a call covers), then the inputs (arrays only read, parameters,
 * scalar settings), then the outputs (arrays written, and arrays updated in
 * place), then caller-owned scratch.  A backward pass overwrites the gradient
 * of its input (din, dx) unless its name ends in _add, when it adds to it;
 * gradients of parameters (dw, dgamma, dbeta) always accumulate (+=): the
 * caller zeroes them once per step. */
#ifndef DRMM_BN_H
#define DRMM_BN_H

/* out = gamma * xhat + beta, xhat = (in - mean) * invstd; saves xhat and the
 * batch mean and var (biased) per channel. */
void bn_forward_train(int n, int C, int hw, int c0, int c1, const float *in,
                      const float *gamma, const float *beta, float eps,
                      float *out, float *xhat, float *mean, float *var);

/* The batch statistics of channel c alone: mean[c] and var[c] (biased) as
 * bn_forward_train computes them; returns its 1/sqrt(var + eps). */
float bn_channel_stats(int n, int C, int hw, int c, const float *in, float eps, float *mean, float *var);

/* The two sums bn_channel_stats takes over channel c of n rows: the sum of
 * the values, and the sum of their squared deviations from mu (in the same
 * order and precision, so that a caller summing them over several
 * processes' rows gets the statistics of the whole batch). */
double bn_channel_sum(int n, int C, int hw, int c, const float *in);
double bn_channel_sq_dev(int n, int C, int hw, int c, const float *in, double mu);

/* Same with the running statistics; xhat may be NULL. */
void bn_forward_eval(int n, int C, int hw, int c0, int c1, const float *in,
                     const float *gamma, const float *beta, const float *run_mean,
                     const float *run_var, float eps, float *out, float *xhat);

/* Backward of bn_forward_train.  din = dL/din (overwritten), dgamma and dbeta
 * accumulate.  dsigma (may be NULL) is an extra dL/dsigma per channel coming
 * from other uses of sigma = sqrt(var + eps) (the DRMM's top-down scale);
 * its effect on din is added.  dout and din may be the same buffer. */
void bn_backward_train(int n, int C, int hw, int c0, int c1, const float *dout,
                       const float *xhat, const float *gamma, const float *var,
                       float eps, const float *dsigma, float *din, float *dgamma,
                       float *dbeta);

/* bn_backward_train in two steps for one channel c, so that a caller can
 * sum each plane of dout while it is in the cache: bn_backward_sums over
 * the channel's planes in row order (s zeroed first), then
 * bn_backward_channel.  The same results bit for bit. */
typedef struct bn_sums {
    double d[8], dx[8];   /* partial sums of dout and dout * xhat (lane j % 8) */
} bn_sums;
void bn_backward_sums(int hw, const float *dout, const float *xhat, bn_sums *s);
void bn_backward_channel(int n, int C, int hw, int c, const bn_sums *s, const float *dout, const float *xhat,
                         const float *gamma, const float *var, float eps, const float *dsigma, float *din,
                         float *dgamma, float *dbeta);

/* The totals of bn_backward_sums' partial sums: sum dout and sum dout * xhat. */
void bn_backward_totals(const bn_sums *s, double *sd, double *sdx);
/* din of channel c for n rows from the totals sd and sdx over a batch of M
 * values (these rows, or the rows of every process of a data-parallel
 * step): bn_backward_channel without the gamma and beta gradients. */
void bn_backward_apply(int n, int C, int hw, int c, double M, double sd, double sdx, const float *dout,
                       const float *xhat, const float *gamma, const float *var, float eps, const float *dsigma,
                       float *din);

/* run = momentum * run + (1 - momentum) * batch (variance made unbiased). */
void bn_update_running(int C, long count, float momentum, const float *mean,
                       const float *var, float *run_mean, float *run_var);

#endif
