/* The engine's convolution calls, per block: the bottom-up convolution and
 * its transpose (the top-down rendering, the backward pass to the input) by
 * Winograd where wino_choose picked it for the shape (3x3 with >= 16
 * channels in and out), unless drmm_set_conv_im2col turned it off, and by
 * im2col + sgemm (conv.h) elsewhere.  The choice goes by shape alone, so
 * the results depend neither on the machine's speed nor on the threads.
 * The weight gradients (bottom-up and top-down) by Winograd wherever the
 * bottom-up convolution uses it (wino_weight_grad). */
#include "drmm_internal.h"

#include <stdlib.h>

#include "conv.h"
#include "winograd.h"

int wino_conv_init(wino_conv *wc, const conv_geom *g, int transposed)
{
    if (transposed)
        wino_transpose_geom(g, &wc->g);
    else
        wc->g = *g;
    wc->m = wino_choose(&wc->g);
    wc->U = NULL;
    if (wc->m && !(wc->U = malloc(sizeof(float) * wino_weights_size(&wc->g, wc->m))))
        return -1;
    return 0;
}

int block_conv_form(const drmm *m, const wino_conv *wc) { return m->conv_im2col ? 0 : wc->m; }


void block_conv_prepare(drmm *m, wino_conv *wc, const float *w, int transposed)
{
    if (block_conv_form(m, wc))
        wino_weights(&wc->g, wc->m, w, transposed, wc->U);
}

int block_conv_samples(const drmm *m, const block *b, int n)
{
    return block_conv_form(m, &b->wf) ? wino_batch_samples(&b->wf.g, b->wf.m, n) : conv_batch_samples(&b->ab->g, n);
}

int block_transpose_samples(const drmm *m, const block *b, int n)
{
    return block_conv_form(m, &b->wt) ? wino_batch_samples(&b->wt.g, b->wt.m, n) : conv_batch_samples(&b->ab->g, n);
}

void block_conv(const drmm *m, const block *b, int S, const float *x, const float *w, int cm, float *y, float *work)
{
    const conv_geom *g = &b->ab->g;
    if (block_conv_form(m, &b->wf))
        wino_forward(&b->wf.g, b->wf.m, S, x, b->wf.U, cm, y, work);
    else if (cm)
        conv_forward_cm(g, S, x, w, y, work);
    else
        conv_forward_batch(g, S, x, w, y, work);
}

void block_conv_transpose(const drmm *m, const block *b, int S, const float *y, const float *w, float *x, float *work)
{
    if (block_conv_form(m, &b->wt))
        wino_forward(&b->wt.g, b->wt.m, S, y, b->wt.U, 0, x, work);
    else
        conv_transpose_batch(&b->ab->g, S, y, w, x, work);
}

void block_weight_grad(const drmm *m, const block *b, int n, const float *dy, const float *x, float *dw, float *work)
{
    const conv_geom *g = &b->ab->g;
    if (block_conv_form(m, &b->wf)) {
        wino_weight_grad(&b->wf.g, b->wf.m, n, dy, x, dw, work);
        return;
    }
    for (int i = 0, S; i < n; i += S) {
        S = conv_batch_samples(g, n - i);
        conv_weight_grad_batch(g, S, dy + i * block_out(b), x + i * block_in(b), dw, work);
    }
}

long block_conv_work(const block *b)
{
    long s = conv_batch_col_size(&b->ab->g);
    const wino_conv *wc[2] = {&b->wf, &b->wt};
    for (int i = 0; i < 2; i++)
        if (wc[i]->m && wino_work_size(&wc[i]->g, wc[i]->m) > s)
            s = wino_work_size(&wc[i]->g, wc[i]->m);
    if (b->wf.m && wino_grad_work_size(&b->wf.g, b->wf.m) > s)
        s = wino_grad_work_size(&b->wf.g, b->wf.m);
    return s;
}

void drmm_set_conv_im2col(drmm *m, int on) { m->conv_im2col = on != 0; }

const char *drmm_conv_path(const drmm *m, int l, int transposed)
{
    const conv_geom *g = &m->b[l].ab->g;
    switch (block_conv_form(m, transposed ? &m->b[l].wt : &m->b[l].wf)) {
    case 4: return "Winograd F(4x4,3x3)";
    case 2: return "Winograd F(2x2,3x3)";
    default: return g->k == 1 && g->pad == 0 ? "sgemm (1x1)" : "im2col+sgemm";
    }
}
