/* The shallow Rendering Mixture Model (probabilistic-framework supplement,
 * Figure 3 and Figure 6) and its exact EM algorithm.
 *
 * A patch x (D pixels) is rendered from one of K templates mu_k plus
 * isotropic Gaussian noise of one shared variance sigma2:
 *   p(x) = sum_k pi_k N(x; mu_k, sigma2 I).
 * Patches are the P x P windows of the images at stride S (P = the image
 * size: whole images); the nuisance is which patch, the class which
 * template.
 *
 * E-step as a network layer (Figure 3): the posterior of the template is a
 * softmax over a linear layer whose weights are the templates,
 *   gamma_k(x) = softmax_k(w_k . x + b_k),  w_k = mu_k / sigma2,
 *   b_k = log pi_k - |mu_k|^2 / (2 sigma2)
 * (the |x|^2 / (2 sigma2) of the Gaussian is common to every k and cancels).
 * M-step: mu_k = sum_n gamma_nk x_n / N_k, pi_k = N_k / N, sigma2 =
 * sum_nk gamma_nk |x_n - mu_k|^2 / (N D), N_k = sum_n gamma_nk.  Both steps
 * are exact, so the log-likelihood never decreases; the computation is in
 * double precision.  A template no patch is given to (N_k = 0) keeps its
 * mean with pi_k = 0; sigma2 is floored at RMM_SIGMA2_MIN (a patch set
 * of one value would drive it to 0). */
#ifndef DRMM_RMM_H
#define DRMM_RMM_H

#include <stdint.h>

struct err_t;

#define RMM_SIGMA2_MIN 1e-6

typedef struct rmm {
    int K, D;                 /* templates, pixels per patch */
    double *mu;               /* K x D */
    double *log_pi;           /* K (-inf for pi_k = 0) */
    double sigma2;
} rmm;

/* Patches: the P x P windows at stride S of n images of C x H x W (CHW
 * floats), C*P*P values each, images in order, windows row by row.
 * Returns the number of patches per image, or -1 (P or S out of range). */
int rmm_patch_count(int H, int W, int P, int S);
void rmm_patches(const float *x, int n, int C, int H, int W, int P, int S, double *out);

/* K templates initialised to K distinct patches drawn with the seed,
 * pi uniform, sigma2 the patches' variance about their mean. */
int  rmm_init(rmm *m, const double *x, long N, int D, int K, uint64_t seed, struct err_t *e);
void rmm_free(rmm *m);

/* The E-step as a layer: w (K x D) and b (K) of the linear layer. */
void rmm_layer(const rmm *m, double *w, double *b);
/* Responsibilities gamma (N x K) by the layer (linear map, softmax), and
 * the mean log-likelihood per patch (nats) of the current model.  Returns
 * 0, or -1 (out of memory). */
int rmm_estep(const rmm *m, const double *x, long N, double *gamma, double *loglik, struct err_t *e);
/* The same posterior and log-likelihood from the Gaussian densities
 * directly (log pi_k + log N(x; mu_k, sigma2 I), normalised): the
 * reference the layer form is tested against. */
double rmm_posterior_direct(const rmm *m, const double *x, long N, double *gamma);
/* M-step from the responsibilities. */
int rmm_mstep(rmm *m, const double *x, long N, const double *gamma, struct err_t *e);
/* One EM iteration: E then M; *loglik is the mean log-likelihood per patch
 * of the model before the M-step (that of the E-step's parameters). */
int rmm_em_step(rmm *m, const double *x, long N, double *gamma, double *loglik, struct err_t *e);

/* Reconstruction of images from their patches: each patch replaced by its
 * most probable template, overlapping windows averaged (pixels no window
 * covers stay 0).  gamma from rmm_estep over those patches. */
int rmm_reconstruct(const rmm *m, const double *gamma, int n, int C, int H, int W, int P, int S, float *out,
                    struct err_t *e);

#endif
