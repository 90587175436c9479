/* SHA-256 of a dataset's decoded content.  Canonical order (version 1):
 *   "drmm-dataset-v1" and a NUL byte;
 *   n, channels, height, width, n_classes, n_latents   as int32 little-endian;
 *   each class name, then each latent name             as uint32 LE length + bytes;
 *   labels (n int32 LE), splits (n bytes), pixels (NCHW bytes),
 *   latents (n * n_latents float32 LE, row-major).
 * A NULL name hashes as the empty string.  The source is not hashed, so the
 * same content ingested from different paths has the same hash. */
#include "dataset_hash.h"

#include <string.h>

#include "sha256.h"

static void put_u32(sha256_ctx *c, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    sha256_update(c, b, 4);
}

static void put_str(sha256_ctx *c, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u32(c, (uint32_t)n);
    if (n)
        sha256_update(c, s, n);
}

int dataset_sha256(const dataset *d, char hex[65])
{
    static const char tag[] = "drmm-dataset-v1";
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, tag, sizeof tag);      /* includes the NUL */
    put_u32(&c, (uint32_t)d->n);
    put_u32(&c, (uint32_t)d->channels);
    put_u32(&c, (uint32_t)d->height);
    put_u32(&c, (uint32_t)d->width);
    put_u32(&c, (uint32_t)d->n_classes);
    put_u32(&c, (uint32_t)d->n_latents);
    for (int i = 0; i < d->n_classes; i++)
        put_str(&c, d->class_names ? d->class_names[i] : NULL);
    for (int i = 0; i < d->n_latents; i++)
        put_str(&c, d->latent_names ? d->latent_names[i] : NULL);
    /* labels and latents in blocks, converted to little-endian */
    uint8_t buf[4096];
    size_t k = 0;
    for (int i = 0; i < d->n; i++) {
        uint32_t v = (uint32_t)d->labels[i];
        buf[k++] = (uint8_t)v; buf[k++] = (uint8_t)(v >> 8);
        buf[k++] = (uint8_t)(v >> 16); buf[k++] = (uint8_t)(v >> 24);
        if (k == sizeof buf) { sha256_update(&c, buf, k); k = 0; }
    }
    sha256_update(&c, buf, k);
    sha256_update(&c, d->split, (size_t)d->n);
    sha256_update(&c, d->pixels, (size_t)d->n * (size_t)dataset_image_size(d));
    k = 0;
    size_t nl = (size_t)d->n * (size_t)d->n_latents;
    for (size_t i = 0; i < nl; i++) {
        uint32_t v;
        memcpy(&v, &d->latents[i], 4);
        buf[k++] = (uint8_t)v; buf[k++] = (uint8_t)(v >> 8);
        buf[k++] = (uint8_t)(v >> 16); buf[k++] = (uint8_t)(v >> 24);
        if (k == sizeof buf) { sha256_update(&c, buf, k); k = 0; }
    }
    sha256_update(&c, buf, k);
    sha256_final_hex(&c, hex);
    return 0;
}
