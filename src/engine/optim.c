/* SGD with momentum and Adam with exponential learning-rate decay (optim.h). */
#include "optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void optim_config_default(optim_config *c)
{
    memset(c, 0, sizeof *c);
    c->kind = OPTIM_ADAM;
    c->lr_start = 1e-3f;
    c->lr_end = 1e-4f;
    c->total_steps = 1;
    c->momentum = 0.9f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
    c->clip_norm = 0;
}

int optim_init(optim *o, const optim_config *c, long n, err_t *e)
{
    memset(o, 0, sizeof *o);
    if (!(c->lr_start > 0) || !(c->lr_end > 0))
        return err_set(e, "learning rates must be positive (start %g, end %g)", c->lr_start, c->lr_end);
    if (c->total_steps < 1)
        return err_set(e, "total steps must be at least 1");
    if (c->kind == OPTIM_SGD && !(c->momentum >= 0 && c->momentum < 1))
        return err_set(e, "SGD momentum must be in [0, 1) (got %g)", c->momentum);
    if (c->kind == OPTIM_ADAM && !(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1 && c->eps > 0))
        return err_set(e, "Adam needs beta1, beta2 in [0, 1) and eps > 0");
    if (c->clip_norm < 0)
        return err_set(e, "clip norm must be >= 0 (0 disables clipping)");
    o->cfg = *c;
    o->n = n;
    o->m = calloc(n ? n : 1, sizeof(float));
    o->v = c->kind == OPTIM_ADAM ? calloc(n ? n : 1, sizeof(float)) : NULL;
    if (!o->m || (c->kind == OPTIM_ADAM && !o->v)) {
        optim_free(o);
        return err_set(e, "out of memory for the optimiser state");
    }
    return 0;
}

void optim_free(optim *o)
{
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

float optim_lr(const optim *o)
{
    const optim_config *c = &o->cfg;
    if (c->total_steps <= 1)
        return c->lr_start;
    double f = (double)o->step / (double)(c->total_steps - 1);
    if (f > 1)
        f = 1;
    return (float)(c->lr_start * pow((double)c->lr_end / c->lr_start, f));
}

void optim_update(optim *o, float *params, float *grads, double *gnorm)
{
    const optim_config *c = &o->cfg;
    double ss = 0;
    for (long i = 0; i < o->n; i++)
        ss += (double)grads[i] * grads[i];
    double norm = sqrt(ss);
    if (gnorm)
        *gnorm = norm;
    if (c->clip_norm > 0 && norm > c->clip_norm) {
        float s = (float)(c->clip_norm / norm);
        for (long i = 0; i < o->n; i++)
            grads[i] *= s;
    }
    float lr = optim_lr(o);
    o->step++;
    if (c->kind == OPTIM_SGD) {
        for (long i = 0; i < o->n; i++) {
            o->m[i] = c->momentum * o->m[i] + grads[i];
            params[i] -= lr * o->m[i];
        }
        return;
    }
    float b1 = c->beta1, b2 = c->beta2;
    float bc1 = (float)(1.0 - pow(b1, (double)o->step)), bc2 = (float)(1.0 - pow(b2, (double)o->step));
    float step = lr / bc1, isq = 1.0f / sqrtf(bc2);
    for (long i = 0; i < o->n; i++) {
        float g = grads[i];
        o->m[i] = b1 * o->m[i] + (1 - b1) * g;
        o->v[i] = b2 * o->v[i] + (1 - b2) * g * g;
        params[i] -= step * o->m[i] / (sqrtf(o->v[i]) * isq + c->eps);
    }
}

int optim_tensors(optim *o, const named_tensor *params, int nparams, const float *base,
                  named_tensor *out, int max)
{
    int k = 0;
    float *state[2] = {o->m, o->v};
    const char *names[2] = {o->cfg.kind == OPTIM_SGD ? "sgd.velocity" : "adam.m", "adam.v"};
    for (int s = 0; s < 2; s++) {
        if (!state[s])
            continue;
        for (int i = 0; i < nparams; i++) {
            if (k < max) {
                named_tensor *t = &out[k];
                *t = params[i];
                snprintf(t->name, sizeof t->name, "%.12s.%.50s", names[s], params[i].name);
                t->data = state[s] + (params[i].data - base);
            }
            k++;
        }
    }
    return k;
}
