/* Allocation of in-memory datasets (see dataset.h). */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

int dataset_alloc(dataset *d, int n, int channels, int height, int width,
                  int n_classes, int n_latents, err_t *e)
{
    memset(d, 0, sizeof *d);
    if (n < 0 || channels <= 0 || height <= 0 || width <= 0 || n_classes <= 0 || n_latents < 0)
        return err_set(e, "invalid dataset sizes (n=%d, %dx%dx%d, %d classes, %d latents)",
                       n, channels, height, width, n_classes, n_latents);
    d->n = n;
    d->channels = channels;
    d->height = height;
    d->width = width;
    d->n_classes = n_classes;
    d->n_latents = n_latents;
    size_t npix = (size_t)n * channels * height * width;
    d->pixels = calloc(npix ? npix : 1, 1);
    d->labels = calloc(n ? n : 1, sizeof *d->labels);
    d->split = calloc(n ? n : 1, 1);
    d->class_names = calloc(n_classes, sizeof *d->class_names);
    d->latent_names = n_latents ? calloc(n_latents, sizeof *d->latent_names) : NULL;
    size_t nlat = (size_t)n * n_latents;
    d->latents = n_latents ? calloc(nlat ? nlat : 1, sizeof *d->latents) : NULL;
    if (!d->pixels || !d->labels || !d->split || !d->class_names ||
        (n_latents && (!d->latent_names || !d->latents))) {
        dataset_free(d);
        return err_set(e, "out of memory for a dataset of %d images of %dx%dx%d", n, channels, height, width);
    }
    return 0;
}

void dataset_free(dataset *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    free(d->split);
    if (d->class_names)
        for (int i = 0; i < d->n_classes; i++)
            free(d->class_names[i]);
    free(d->class_names);
    if (d->latent_names)
        for (int i = 0; i < d->n_latents; i++)
            free(d->latent_names[i]);
    free(d->latent_names);
    free(d->latents);
    free(d->source);
    memset(d, 0, sizeof *d);
}
