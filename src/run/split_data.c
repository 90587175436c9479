/* Conversion of a dataset split to float images (see split_data.h). */
#include "split_data.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

int split_data_load(const dataset *d, int split, int limit, split_data *out, err_t *e)
{
    memset(out, 0, sizeof *out);
    int n = 0;
    for (int i = 0; i < d->n; i++)
        n += d->split[i] == split;
    if (limit > 0 && n > limit)
        n = limit;
    if (n == 0)
        return err_input(e, "the dataset has no %s images", split == SPLIT_TRAIN ? "training" : "test");
    long P = dataset_image_size(d);
    out->pixels = (int)P;
    out->x = malloc(sizeof(float) * (size_t)n * P);
    out->labels = malloc(sizeof(int) * n);
    out->idx = malloc(sizeof(int) * n);
    if (!out->x || !out->labels || !out->idx) {
        split_data_free(out);
        return err_set(e, "out of memory for %d images", n);
    }
    int k = 0;
    for (int i = 0; i < d->n && k < n; i++) {
        if (d->split[i] != split)
            continue;
        const uint8_t *p = d->pixels + (size_t)i * P;
        float *x = out->x + (size_t)k * P;
        for (long j = 0; j < P; j++)
            x[j] = p[j] * (1.0f / 255.0f);
        out->labels[k] = d->labels[i];
        out->idx[k] = i;
        k++;
    }
    out->n = n;
    return 0;
}

void split_data_free(split_data *s)
{
    free(s->x);
    free(s->labels);
    free(s->idx);
    memset(s, 0, sizeof *s);
}
