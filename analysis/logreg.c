/* Softmax regression by L-BFGS (see logreg.h). */
#include "logreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void logreg_options_default(logreg_options *o)
{
    o->l2 = 1e-4;
    o->max_iter = 300;
    o->tol = 1e-4;
    o->memory = 10;
}

double logreg_objective(const float *x, const int *y, int n, int f, int k, double l2,
                        const double *theta, double *grad)
{
    const int p = f + 1;
    double z[256];
    double loss = 0;
    if (grad)
        memset(grad, 0, sizeof(double) * k * p);
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * f;
        double mx = -INFINITY;
        for (int c = 0; c < k; c++) {
            const double *t = theta + (size_t)c * p;
            double s = t[f];
            for (int j = 0; j < f; j++)
                s += t[j] * xi[j];
            z[c] = s;
            if (s > mx) mx = s;
        }
        double sum = 0;
        for (int c = 0; c < k; c++) {
            z[c] = exp(z[c] - mx);
            sum += z[c];
        }
        loss += log(sum) + mx - (log(z[y[i]]) + mx);
        if (grad) {
            for (int c = 0; c < k; c++) {
                double g = z[c] / sum - (c == y[i]);
                double *gc = grad + (size_t)c * p;
                for (int j = 0; j < f; j++)
                    gc[j] += g * xi[j];
                gc[f] += g;
            }
        }
    }
    loss /= n;
    double reg = 0;
    for (int i = 0; i < k * p; i++)
        reg += theta[i] * theta[i];
    if (grad)
        for (int i = 0; i < k * p; i++)
            grad[i] = grad[i] / n + l2 * theta[i];
    return loss + 0.5 * l2 * reg;
}

int logreg_predict(const double *theta, int f, int k, const float *x)
{
    int best = 0;
    double bz = -INFINITY;
    for (int c = 0; c < k; c++) {
        const double *t = theta + (size_t)c * (f + 1);
        double s = t[f];
        for (int j = 0; j < f; j++)
            s += t[j] * x[j];
        if (s > bz) bz = s, best = c;
    }
    return best;
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double maxabs(const double *a, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

int logreg_fit(const float *x, const int *y, int n, int f, int k, const logreg_options *o,
               double *theta, int *iters, err_t *e)
{
    if (n < 1 || f < 0 || k < 2 || k > 256)
        return err_input(e, "logistic regression: bad sizes (n %d, features %d, classes %d)", n, f, k);
    for (int i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= k)
            return err_input(e, "logistic regression: label %d of sample %d is outside [0, %d)", y[i], i, k);
    const int P = k * (f + 1), M = o->memory > 0 ? o->memory : 10;
    double *buf = malloc(sizeof(double) * ((size_t)P * (4 + 2 * M) + 2 * M));
    if (!buf)
        return err_set(e, "logistic regression: out of memory");
    double *g = buf, *d = g + P, *xn = d + P, *gn = xn + P;
    double *S = gn + P, *Yv = S + (size_t)M * P, *rho = Yv + (size_t)M * P, *alpha = rho + M;
    double fx = logreg_objective(x, y, n, f, k, o->l2, theta, g);
    int m = 0, head = 0, it;
    for (it = 0; it < o->max_iter; it++) {
        if (maxabs(g, P) < o->tol)
            break;
        /* two-loop recursion: d = -H g */
        memcpy(d, g, sizeof(double) * P);
        for (int j = 0; j < m; j++) {
            int s = (head - 1 - j + M) % M;
            alpha[s] = rho[s] * dot(S + (size_t)s * P, d, P);
            for (int i = 0; i < P; i++)
                d[i] -= alpha[s] * Yv[(size_t)s * P + i];
        }
        double gamma = 1.0;
        if (m > 0) {
            int s = (head - 1 + M) % M;
            gamma = dot(S + (size_t)s * P, Yv + (size_t)s * P, P) / dot(Yv + (size_t)s * P, Yv + (size_t)s * P, P);
        } else {
            double gn2 = maxabs(g, P);
            gamma = gn2 > 1 ? 1.0 / gn2 : 1.0;
        }
        for (int i = 0; i < P; i++)
            d[i] *= gamma;
        for (int j = m - 1; j >= 0; j--) {
            int s = (head - 1 - j + M) % M;
            double beta = rho[s] * dot(Yv + (size_t)s * P, d, P);
            for (int i = 0; i < P; i++)
                d[i] += (alpha[s] - beta) * S[(size_t)s * P + i];
        }
        for (int i = 0; i < P; i++)
            d[i] = -d[i];
        double gd = dot(g, d, P);
        if (gd >= 0) {   /* not a descent direction: restart with steepest descent */
            for (int i = 0; i < P; i++)
                d[i] = -g[i];
            gd = dot(g, d, P);
            m = 0;
        }
        /* backtracking Armijo line search */
        double step = 1.0, fn = 0;
        int ok = 0;
        for (int ls = 0; ls < 60; ls++) {
            for (int i = 0; i < P; i++)
                xn[i] = theta[i] + step * d[i];
            fn = logreg_objective(x, y, n, f, k, o->l2, xn, gn);
            if (fn <= fx + 1e-4 * step * gd) {
                ok = 1;
                break;
            }
            step *= 0.5;
        }
        if (!ok || fn >= fx)
            break;   /* no decrease representable: converged to rounding */
        double *sv = S + (size_t)head * P, *yv = Yv + (size_t)head * P;
        for (int i = 0; i < P; i++) {
            sv[i] = xn[i] - theta[i];
            yv[i] = gn[i] - g[i];
        }
        double sy = dot(sv, yv, P);
        if (sy > 1e-300) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % M;
            if (m < M) m++;
        }
        memcpy(theta, xn, sizeof(double) * P);
        memcpy(g, gn, sizeof(double) * P);
        fx = fn;
    }
    if (iters)
        *iters = it;
    free(buf);
    return 0;
}
