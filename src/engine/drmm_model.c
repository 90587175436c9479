/* The model's making (see drmm.h): the parameter table (which named tensor
 * lives where in the flat arrays), creation with the initialisation, and the
 * accessors.  The activations are in drmm_acts.c. */
#include "drmm_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "bn.h"
#include "conv.h"
#include "error.h"
#include "pool.h"
#include "postconv.h"
#include "rng.h"
#include "winograd.h"

void drmm_config_default(drmm_config *c)
{
    memset(c, 0, sizeof *c);
    c->a_h = 1.0f;
    c->a_rc = 10.0f;
    c->a_kl = 1.0f;
    c->a_nn = 1.0f;
    c->kl_literal = 0;
    c->unsup_both = 0;
    c->td_scale = TD_SCALE_ADJOINT;
    c->td_top = TD_TOP_ONEHOT;
    c->td_true_label = 0;
    c->td_param = TD_PARAM_TEMPLATE;
    c->td_init = 1.0f;
    c->bn_momentum = 0.99f;
    c->bn_eps = 1e-5f;
    c->threads = 1;
}


/* ---- parameter table ---- */

static long add_info(drmm *m, int cap, int is_stat, const char *name, int ndim, const int *shape)
{
    if (m->par.ninfo == cap)
        abort();   /* build_layout's count above is wrong: a bug, not an input error */
    param_info *p = &m->par.info[m->par.ninfo++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= shape[i];
    }
    p->is_stat = is_stat;
    long *total = is_stat ? &m->par.nstats : &m->par.nparams;
    p->off = *total;
    *total += p->numel;
    return p->off;
}

static int build_layout(drmm *m)
{
    /* per block: weight, gamma, beta, running mean, running var, and the top-down
       weight, gamma, beta, running mean, running var; dense 2; top 1; input 2 */
    int cap = 10 * m->nb + 5;
    m->par.info = calloc(cap, sizeof *m->par.info);
    if (!m->par.info)
        return -1;
    char name[NT_NAME_MAX];
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const conv_geom *g = &b->ab->g;
        int ws[4] = {g->cout, g->cin, g->k, g->k}, cs[1] = {g->cout};
        snprintf(name, sizeof name, "conv%d.weight", l + 1);
        b->w_off = add_info(m, cap, 0, name, 4, ws);
        b->gamma_off = b->beta_off = b->rmean_off = b->rvar_off = -1;
        b->tdw_off = b->tdg_off = b->tdb_off = b->tdrm_off = b->tdrv_off = -1;
        if (b->ab->bn) {
            snprintf(name, sizeof name, "conv%d.bn.gamma", l + 1);
            b->gamma_off = add_info(m, cap, 0, name, 1, cs);
            snprintf(name, sizeof name, "conv%d.bn.beta", l + 1);
            b->beta_off = add_info(m, cap, 0, name, 1, cs);
        }
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const conv_geom *g = &b->ab->g;
        int ws[4] = {g->cout, g->cin, g->k, g->k}, cs[1] = {g->cin};
        if (m->cfg.td_weights != TD_WEIGHTS_TIED) {
            snprintf(name, sizeof name, "td%d.weight", l + 1);
            b->tdw_off = add_info(m, cap, 0, name, 4, ws);
        }
        if (m->cfg.td_param == TD_PARAM_BN) {
            snprintf(name, sizeof name, "td%d.bn.gamma", l + 1);
            b->tdg_off = add_info(m, cap, 0, name, 1, cs);
            snprintf(name, sizeof name, "td%d.bn.beta", l + 1);
            b->tdb_off = add_info(m, cap, 0, name, 1, cs);
        }
    }
    m->par.dense_w_off = m->par.dense_b_off = m->par.amp_off = m->par.tmpl_off = m->par.in_mean_off = m->par.in_std_off = -1;
    if (m->a.dense) {
        int ws[2] = {m->K, m->F}, bs[1] = {m->K};
        m->par.dense_w_off = add_info(m, cap, 0, "dense.weight", 2, ws);
        m->par.dense_b_off = add_info(m, cap, 0, "dense.bias", 1, bs);
    }
    if (m->cfg.td_param == TD_PARAM_AMPLITUDE) {
        int s[1] = {1};
        m->par.amp_off = add_info(m, cap, 0, "top.amplitude", 1, s);
    } else if (m->cfg.td_param == TD_PARAM_TEMPLATE) {
        const arch_block *ab = m->b[m->nb - 1].ab;
        int s[4] = {m->K, ab->g.cout, ab->g.ho, ab->g.wo};
        m->par.tmpl_off = add_info(m, cap, 0, "top.template", 4, s);
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        if (!b->ab->bn)
            continue;
        int cs[1] = {b->ab->g.cout};
        snprintf(name, sizeof name, "conv%d.bn.running_mean", l + 1);
        b->rmean_off = add_info(m, cap, 1, name, 1, cs);
        snprintf(name, sizeof name, "conv%d.bn.running_var", l + 1);
        b->rvar_off = add_info(m, cap, 1, name, 1, cs);
    }
    for (int l = 0; l < m->nb && m->cfg.td_param == TD_PARAM_BN; l++) {
        block *b = &m->b[l];
        int cs[1] = {b->ab->g.cin};
        snprintf(name, sizeof name, "td%d.bn.running_mean", l + 1);
        b->tdrm_off = add_info(m, cap, 1, name, 1, cs);
        snprintf(name, sizeof name, "td%d.bn.running_var", l + 1);
        b->tdrv_off = add_info(m, cap, 1, name, 1, cs);
    }
    if (m->cfg.in_norm) {
        int cs[1] = {m->a.channels};
        m->par.in_mean_off = add_info(m, cap, 1, "input.mean", 1, cs);
        m->par.in_std_off = add_info(m, cap, 1, "input.std", 1, cs);
    }
    return 0;
}

static int fill_tensors(drmm *m, named_tensor *out, int max, int with_stats)
{
    int n = 0;
    for (int i = 0; i < m->par.ninfo; i++) {
        const param_info *p = &m->par.info[i];
        if (p->is_stat && !with_stats)
            continue;
        if (n < max) {
            named_tensor *t = &out[n];
            snprintf(t->name, sizeof t->name, "%s", p->name);
            t->ndim = p->ndim;
            memcpy(t->shape, p->shape, sizeof t->shape);
            t->data = (p->is_stat ? m->par.stats : m->par.params) + p->off;
        }
        n++;
    }
    return n;
}

int drmm_tensors(drmm *m, named_tensor *out, int max) { return fill_tensors(m, out, max, 1); }
int drmm_param_tensors(drmm *m, named_tensor *out, int max) { return fill_tensors(m, out, max, 0); }
long drmm_num_params(const drmm *m) { return m->par.nparams; }
float *drmm_params(drmm *m) { return m->par.params; }
float *drmm_grads(drmm *m) { return m->par.grads; }
const drmm_config *drmm_get_config(const drmm *m) { return &m->cfg; }
const arch *drmm_get_arch(const drmm *m) { return &m->a; }
/* ---- creation ---- */


static float *eye_fill(float *eye, int K, float v)
{
    if (eye)
        for (int c = 0; c < K; c++)
            eye[(long)c * K + c] = v;
    return eye;
}

static int check_config(const arch *a, const drmm_config *cfg, err_t *e)
{
    if (a->nblocks < 1)
        return err_set(e, "architecture has no conv layer");
    if (cfg->threads < 1)
        return err_set(e, "threads must be at least 1 (got %d)", cfg->threads);
    if (!(cfg->bn_momentum >= 0 && cfg->bn_momentum < 1) || !(cfg->bn_eps > 0))
        return err_set(e, "BN momentum must be in [0, 1) and eps positive");
    if (cfg->td_top == TD_TOP_ACTIVATIONS && cfg->td_param == TD_PARAM_BN)
        return err_input(e, "td_param = bn renders the class through the classifier: use td_top = onehot or softmax");
    if (cfg->a_mm != 0 && cfg->td_param != TD_PARAM_BN)
        return err_input(e, "a_mm (BN moment matching) compares the top-down BN's statistics: use td_param = bn");
    if (!(cfg->dropout >= 0 && cfg->dropout < 1))
        return err_input(e, "dropout %g: the rate must be in [0, 1)", cfg->dropout);
    if (cfg->dropout > 0 && !a->dense && a->nblocks < 2)
        return err_input(e, "dropout at the classifier's input needs a dense layer or at least two conv layers "
                            "(here the classifier's input is the image)");
    if (cfg->td_top == TD_TOP_ACTIVATIONS && cfg->td_param == TD_PARAM_TEMPLATE)
        return err_input(e, "td_top = activations renders from the activations, not from a class template: "
                            "use td_param = amplitude or none");
    return 0;
}

/* Parameters, gradients, statistics, per-thread scratch and per-channel
 * buffers (the batch buffers come with the first batch). -1: out of memory. */
static int alloc_model(drmm *m)
{
    m->par.params = calloc(m->par.nparams, sizeof(float));
    m->par.grads = calloc(m->par.nparams, sizeof(float));
    m->par.stats = calloc(m->par.nstats ? m->par.nstats : 1, sizeof(float));
    m->scr.col = calloc(m->threads, sizeof(float *));
    m->scr.tgrad = calloc(m->threads, sizeof(float *));
    m->scr.dscale = calloc(m->threads, sizeof(float *));
    m->scr.ycol = calloc(m->threads, sizeof(float *));
    m->scr.nn_part = calloc(m->threads, sizeof(double));
    m->scr.red_size = m->par.sc_total > 8 + 2L * m->nb ? m->par.sc_total : 8 + 2L * m->nb;
    for (int l = 0; l < m->nb; l++) {
        long c2 = 2L * (m->b[l].ab->g.cout > m->b[l].ab->g.cin ? m->b[l].ab->g.cout : m->b[l].ab->g.cin);
        if (c2 > m->scr.red_size)
            m->scr.red_size = c2;
    }
    m->scr.red = calloc(m->scr.red_size, sizeof(double));
    if (!m->scr.red)
        return -1;
    if (!m->par.params || !m->par.grads || !m->par.stats || !m->scr.col || !m->scr.tgrad || !m->scr.dscale || !m->scr.ycol || !m->scr.nn_part)
        return -1;
    for (int t = 0; t < m->threads; t++) {
        m->scr.col[t] = malloc(sizeof(float) * (m->scr.col_size ? m->scr.col_size : 1));
        m->scr.tgrad[t] = calloc(m->par.nparams, sizeof(float));
        m->scr.dscale[t] = calloc(m->par.sc_total, sizeof(float));
        m->scr.ycol[t] = malloc(sizeof(float) * m->scr.ycol_size);
        if (!m->scr.col[t] || !m->scr.tgrad[t] || !m->scr.dscale[t] || !m->scr.ycol[t])
            return -1;
    }
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        int C = b->ab->g.cout;
        if (!(b->dacts->dsigma = calloc(C, sizeof(float))))
            return -1;
    }
    return 0;
}

/* Initialises the parameters from seed (drmm.h).  -1: out of memory. */
static int init_params(drmm *m, uint64_t seed)
{
    const drmm_config *cfg = &m->cfg;
    rng_t r;
    rng_seed(&r, seed);
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const conv_geom *g = &b->ab->g;
        long nw = (long)g->cout * g->cin * g->k * g->k;
        double sd = sqrt(2.0 / (g->cin * g->k * g->k));
        for (long i = 0; i < nw; i++)
            m->par.params[b->w_off + i] = (float)(sd * rng_normal(&r));
        if (b->ab->bn) {
            for (int c = 0; c < g->cout; c++) {
                m->par.params[b->gamma_off + c] = 1.0f;
                m->par.params[b->beta_off + c] = 0.0f;
                m->par.stats[b->rmean_off + c] = 0.0f;
                m->par.stats[b->rvar_off + c] = 1.0f;
            }
        }
    }
    if (m->a.dense) {
        double sd = sqrt(1.0 / m->F);
        for (long i = 0; i < (long)m->K * m->F; i++)
            m->par.params[m->par.dense_w_off + i] = (float)(sd * rng_normal(&r));
    }
    /* the top-down additions draw after everything else, so that the
       bottom-up initialisation does not depend on them */
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        const conv_geom *g = &b->ab->g;
        long nw = (long)g->cout * g->cin * g->k * g->k;
        /* independent filters: He-normal over the transposed fan-in */
        double sd = sqrt(2.0 / (g->cout * g->k * g->k));
        if (b->tdw_off >= 0)
            for (long i = 0; i < nw; i++)
                m->par.params[b->tdw_off + i] = cfg->td_weights == TD_WEIGHTS_COPY ? m->par.params[b->w_off + i]
                                                                                 : (float)(sd * rng_normal(&r));
        for (int c = 0; b->tdg_off >= 0 && c < g->cin; c++) {
            m->par.params[b->tdg_off + c] = 1.0f;
            m->par.params[b->tdb_off + c] = 0.0f;
            m->par.stats[b->tdrm_off + c] = 0.0f;
            m->par.stats[b->tdrv_off + c] = 1.0f;
        }
    }
    for (int c = 0; m->par.in_mean_off >= 0 && c < m->a.channels; c++) {
        m->par.stats[m->par.in_mean_off + c] = 0.0f;
        m->par.stats[m->par.in_std_off + c] = 1.0f;
    }
    if (m->par.amp_off >= 0)
        m->par.params[m->par.amp_off] = cfg->td_init;
    if (m->par.tmpl_off >= 0) {
        /* template of class c = td_init * the default rendering of one-hot(c) */
        float *eye = calloc((size_t)m->K * m->K, sizeof(float));
        int bad = !eye || render_top_default(m, eye_fill(eye, m->K, cfg->td_init), m->par.params + m->par.tmpl_off, m->K);
        free(eye);
        if (bad)
            return -1;
    }
    return 0;
}

int drmm_create(drmm **out, const arch *a, const drmm_config *cfg, uint64_t seed, err_t *e)
{
    *out = NULL;
    if (check_config(a, cfg, e))
        return -1;
    drmm *m = calloc(1, sizeof *m);
    if (!m)
        return err_set(e, "out of memory");
    m->a = *a;
    m->a.text = a->text ? strdup(a->text) : NULL;
    m->cfg = *cfg;
    m->unsup_scale = 1;
    m->nb = a->nblocks;
    m->K = a->classes;
    m->F = a->features;
    m->P = a->channels * a->height * a->width;
    m->threads = cfg->threads;
    m->b = calloc(m->nb, sizeof *m->b);
    m->dacts.layer = calloc(m->nb, sizeof *m->dacts.layer);
    if (!m->b || !m->dacts.layer || (a->text && !m->a.text))
        goto oom;
    for (int l = 0; l < m->nb; l++) {
        block *b = &m->b[l];
        b->ab = &m->a.blocks[l];
        b->dacts = &m->dacts.layer[l];
        const conv_geom *g = &b->ab->g;
        if (wino_conv_init(&b->wf, g, 0) || wino_conv_init(&b->wt, g, 1))
            goto oom;
        /* scratch for either path; drmm_predict's channel-major output of a call */
        long cs = block_conv_work(b), ys = (long)g->cout * CONV_BATCH_COLUMNS;
        if (b->wf.m && (long)g->cout * g->ho * g->wo * wino_batch_samples(g, b->wf.m, 1 << 30) > ys)
            ys = (long)g->cout * g->ho * g->wo * wino_batch_samples(g, b->wf.m, 1 << 30);
        if (cs > m->scr.col_size)
            m->scr.col_size = cs;
        if (ys > m->scr.ycol_size)
            m->scr.ycol_size = ys;
        b->sc_off = m->par.sc_total;
        m->par.sc_total += b->ab->g.cout;
    }
    if (build_layout(m))
        goto oom;
    if (alloc_model(m))
        goto oom;
    if (tpool_create(&m->pool, m->threads, e)) {
        drmm_free(m);
        return -1;
    }

    if (init_params(m, seed))
        goto oom;
    *out = m;
    return 0;
oom:
    drmm_free(m);
    return err_set(e, "out of memory for the model");
}

void drmm_free(drmm *m)
{
    if (!m)
        return;
    if (m->pool)
        tpool_free(m->pool);
    free_dacts(m);
    for (int l = 0; l < m->nb && m->dacts.layer; l++)
        free(m->dacts.layer[l].dsigma);
    for (int l = 0; l < m->nb && m->b; l++) {
        free(m->b[l].wf.U);
        free(m->b[l].wt.U);
    }
    for (int t = 0; t < m->threads; t++) {
        if (m->scr.col) free(m->scr.col[t]);
        if (m->scr.tgrad) free(m->scr.tgrad[t]);
        if (m->scr.dscale) free(m->scr.dscale[t]);
        if (m->scr.ycol) free(m->scr.ycol[t]);
    }
    free(m->scr.col); free(m->scr.tgrad); free(m->scr.dscale); free(m->scr.ycol); free(m->scr.nn_part);
    free(m->scr.red); free(m->scr.gsum);
    free(m->par.params); free(m->par.grads); free(m->par.stats); free(m->par.info); free(m->b);
    free(m->dacts.layer);
    free(m->a.text);
    free(m);
}

