/* Writing a run's layer activations for the decoding analysis (see decoder.h). */
#include "clock.h"
#include "decoder.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "quant.h"
#include "rng.h"
#include "run_model.h"
#include "split_data.h"
#include "store_decode.h"

void decode_options_default(decode_options *o)
{
    memset(o, 0, sizeof *o);
    o->samples = 2000;
    o->max_dims = 8192;
    o->projection_seed = 1;
    o->bn = EVAL_BN_AUTO;
    o->recalibrate_images = 10000;
    o->batch = 100;
}


/* ---- subsampled randomized Hadamard transform ---- */

int srht_init(srht *t, long d, int k, uint64_t seed, err_t *e)
{
    memset(t, 0, sizeof *t);
    long p = 1;
    while (p < d)
        p *= 2;
    if (k < 1 || k > p)
        return err_set(e, "projection of %ld values to %d is not possible", d, k);
    t->d = d;
    t->p = p;
    t->k = k;
    t->sign = malloc(sizeof(float) * p);
    t->coord = malloc(sizeof(int) * p);
    t->work = malloc(sizeof(float) * p);
    if (!t->sign || !t->coord || !t->work) {
        srht_free(t);
        return err_set(e, "out of memory for a projection of %ld values", d);
    }
    rng_t r;
    rng_seed(&r, seed);
    for (long j = 0; j < p; j++)
        t->sign[j] = (rng_next(&r) >> 63) ? 1.0f : -1.0f;
    for (long j = 0; j < p; j++)
        t->coord[j] = (int)j;
    for (int j = 0; j < k; j++) {   /* partial Fisher-Yates: k distinct coordinates */
        long m = j + (long)rng_below(&r, (uint32_t)(p - j));
        int tmp = t->coord[j];
        t->coord[j] = t->coord[m];
        t->coord[m] = tmp;
    }
    /* ascending, so that neighbouring outputs read nearby memory */
    for (int j = 1; j < k; j++) {
        int v = t->coord[j], i = j - 1;
        while (i >= 0 && t->coord[i] > v) {
            t->coord[i + 1] = t->coord[i];
            i--;
        }
        t->coord[i + 1] = v;
    }
    return 0;
}

void srht_apply(srht *t, const float *x, float *out)
{
    float *w = t->work;
    for (long j = 0; j < t->d; j++)
        w[j] = t->sign[j] * x[j];
    for (long j = t->d; j < t->p; j++)
        w[j] = 0;
    for (long h = 1; h < t->p; h *= 2)
        for (long i = 0; i < t->p; i += 2 * h)
            for (long j = i; j < i + h; j++) {
                float a = w[j], b = w[j + h];
                w[j] = a + b;
                w[j + h] = a - b;
            }
    /* H/sqrt(p) is orthogonal; keeping k of p rows scaled by sqrt(p/k) keeps norms in expectation */
    float s = 1.0f / sqrtf((float)t->k);
    for (int c = 0; c < t->k; c++)
        out[c] = w[t->coord[c]] * s;
}

void srht_free(srht *t)
{
    free(t->sign);
    free(t->coord);
    free(t->work);
    memset(t, 0, sizeof *t);
}

/* ---- decoding ---- */

typedef struct layer_buf {
    store_decode_layer info;
    int block;                 /* conv block, or -1 for the scores */
    long raw;                  /* values per sample before projection */
    int present;
    srht proj;
    int projected;
    uint8_t *q;
    float *lo, *step;
} layer_buf;

/* Parses the comma-separated list into want[0..nblocks] (nblocks = scores). */
static int parse_layers(const char *list, int nblocks, int *want, err_t *e)
{
    char valid[512];
    size_t len = 0;
    for (int l = 0; l < nblocks && len < sizeof valid; l++)
        len += (size_t)snprintf(valid + len, sizeof valid - len, "conv%d, ", l + 1);
    if (len < sizeof valid)
        snprintf(valid + len, sizeof valid - len, "scores");
    if (!list || !strcmp(list, "all")) {
        for (int l = 0; l <= nblocks; l++)
            want[l] = 1;
        return 0;
    }
    for (int l = 0; l <= nblocks; l++)
        want[l] = 0;
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        char name[64];
        if (n == 0 || n >= sizeof name)
            return err_input(e, "bad layer list '%s': give comma-separated names among %s", list, valid);
        memcpy(name, p, n);
        name[n] = 0;
        int found = -1;
        if (!strcmp(name, "scores"))
            found = nblocks;
        else if (!strncmp(name, "conv", 4) && name[4]) {
            char *end;
            long v = strtol(name + 4, &end, 10);
            if (!*end && v >= 1 && v <= nblocks && name[4] != '0' && name[4] != '+')
                found = (int)v - 1;
        }
        if (found < 0)
            return err_input(e, "unknown layer '%s' for this run: its layers are %s", name, valid);
        want[found] = 1;
        p = q ? q + 1 : p + n;
    }
    return 0;
}

int decode_run(store *st, const decode_options *o, decode_result *r, err_t *e)
{
    memset(r, 0, sizeof *r);
    if (o->batch < 2 || o->samples < 2)
        return err_set(e, "decode needs a batch and a sample count of at least 2");
    double t0 = clock_seconds();
    run_model rm;
    dataset d;
    split_data data, train;
    memset(&d, 0, sizeof d);
    memset(&data, 0, sizeof data);
    memset(&train, 0, sizeof train);
    layer_buf *L = NULL;
    float *probs = NULL, *tmp = NULL;
    drmm_acts *acts = NULL;
    char **lat_names = NULL;
    int n_lat = 0, nl = 0, rc = -1;
    if (run_model_open(st, o->run_id, o->checkpoint_id, o->threads, &rm, e))
        return -1;
    const int nb = rm.arch.nblocks, K = rm.arch.classes;
    r->checkpoint_id = rm.ckpt.id;
    snprintf(r->status, sizeof r->status, "%s", rm.run.status ? rm.run.status : "");
    int want[ARCH_MAX_BLOCKS + 1];
    if (parse_layers(o->layers, nb, want, e))
        goto done;
    if (store_dataset_latent_names(st, rm.run.dataset, &lat_names, &n_lat, e))
        goto done;
    if (n_lat == 0) {
        err_input(e, "dataset %s of run %" PRId64 " has no latents: nuisance decoding needs a dataset rendered "
                  "with its latents (e.g. ingest --synthetic)", rm.run.dataset, o->run_id);
        goto done;
    }
    L = calloc(nb + 1, sizeof *L);
    if (!L) {
        err_set(e, "out of memory");
        goto done;
    }
    int missing = 0;
    for (int l = 0; l <= nb; l++) {
        if (!want[l])
            continue;
        layer_buf *b = &L[nl++];
        b->block = l < nb ? l : -1;
        store_decode_layer *in = &b->info;
        in->run_id = o->run_id;
        in->checkpoint_id = rm.ckpt.id;
        in->layer_index = l;
        if (l < nb) {
            snprintf(in->layer, sizeof in->layer, "conv%d", l + 1);
            in->channels = rm.arch.blocks[l].g.cout;
            in->height = rm.arch.blocks[l].g.ho;
            in->width = rm.arch.blocks[l].g.wo;
        } else {
            snprintf(in->layer, sizeof in->layer, "scores");
            in->channels = K;
            in->height = in->width = 1;
        }
        b->raw = (long)in->channels * in->height * in->width;
        int found = store_find_decode_layer(st, rm.ckpt.id, in->layer, NULL, e);
        if (found < 0)
            goto done;
        b->present = found;
        if (found)
            r->layers_present++;
        else
            missing++;
    }
    if (!missing) {
        r->seconds = clock_seconds() - t0;
        rc = 0;
        goto done;
    }
    if (store_get_dataset(st, rm.run.dataset, &d, e) || split_data_load(&d, SPLIT_TEST, o->samples, &data, e))
        goto done;
    if (data.pixels != rm.arch.channels * rm.arch.height * rm.arch.width) {
        err_input(e, "dataset %s does not match the run's architecture", rm.run.dataset);
        goto done;
    }
    if (data.n < 2) {
        err_input(e, "dataset %s has %d test images: decode needs at least 2", rm.run.dataset, data.n);
        goto done;
    }
    if (drmm_acts_create(rm.m, o->batch, &acts, e))
        goto done;
    int recal = o->bn == EVAL_BN_RECALIBRATE || (o->bn == EVAL_BN_AUTO && rm.ckpt.step < EVAL_RECALIBRATE_BELOW);
    if (recal) {
        if (split_data_load(&d, SPLIT_TRAIN, o->recalibrate_images, &train, e) ||
            drmm_bn_recalibrate(rm.m, train.x, train.n, rm.cfg.batch, e))
            goto done;
        r->recalibrated = 1;
    }
    const int n = data.n;
    long maxraw = K;
    for (int i = 0; i < nl; i++) {
        layer_buf *b = &L[i];
        if (b->raw > maxraw)
            maxraw = b->raw;
        if (b->present)
            continue;
        store_decode_layer *in = &b->info;
        in->split = SPLIT_TEST;
        in->n_samples = n;
        snprintf(in->bn, sizeof in->bn, "%s", recal ? "recalibrated" : "running");
        if (o->max_dims > 0 && b->raw > o->max_dims) {
            uint64_t seed = o->projection_seed + 1000003ull * (uint64_t)in->layer_index;
            if (srht_init(&b->proj, b->raw, o->max_dims, seed, e))
                goto done;
            b->projected = 1;
            in->dims = o->max_dims;
            snprintf(in->projection, sizeof in->projection, "srht:%" PRIu64, seed);
        } else {
            in->dims = (int)b->raw;
            snprintf(in->projection, sizeof in->projection, "none");
        }
        b->q = malloc((size_t)n * in->dims);
        b->lo = malloc(sizeof(float) * n);
        b->step = malloc(sizeof(float) * n);
        if (!b->q || !b->lo || !b->step) {
            err_set(e, "out of memory for %d x %d activations of %s", n, in->dims, in->layer);
            goto done;
        }
    }
    probs = malloc(sizeof(float) * (size_t)o->batch * K);
    tmp = malloc(sizeof(float) * maxraw);
    if (!probs || !tmp) {
        err_set(e, "out of memory");
        goto done;
    }
    const int P = data.pixels;
    for (int s = 0; s < n; s += o->batch) {
        int rows = s + o->batch <= n ? o->batch : n - s;
        if (drmm_predict(rm.m, acts, data.x + (size_t)s * P, rows, probs, e))
            goto done;
        for (int i = 0; i < nl; i++) {
            layer_buf *b = &L[i];
            if (b->present)
                continue;
            const float *act = b->block >= 0 ? drmm_acts_block(acts, b->block, NULL, NULL, NULL)
                                             : drmm_acts_logits(acts);
            for (int row = 0; row < rows; row++) {
                const float *v = act + (size_t)row * b->raw;
                if (b->projected) {
                    srht_apply(&b->proj, v, tmp);
                    v = tmp;
                }
                int si = s + row;
                quant_encode(v, b->info.dims, b->q + (size_t)si * b->info.dims, &b->lo[si], &b->step[si]);
            }
        }
    }
    r->samples = n;
    for (int i = 0; i < nl; i++) {
        layer_buf *b = &L[i];
        if (b->present)
            continue;
        if (store_put_decode_layer(st, &b->info, data.idx, b->lo, b->step, b->q, e)) {
            err_prefix(e, "writing layer %s", b->info.layer);
            goto done;
        }
        r->layers_written++;
        r->bytes += (long long)n * b->info.dims;
    }
    r->seconds = clock_seconds() - t0;
    rc = 0;
done:
    if (L)
        for (int i = 0; i < nl; i++) {
            srht_free(&L[i].proj);
            free(L[i].q); free(L[i].lo); free(L[i].step);
        }
    free(L); free(probs); free(tmp);
    drmm_acts_free(acts);
    for (int i = 0; i < n_lat; i++)
        free(lat_names[i]);
    free(lat_names);
    split_data_free(&data);
    split_data_free(&train);
    dataset_free(&d);
    run_model_close(&rm);
    return rc;
}
