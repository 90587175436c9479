/* Contact sheet PNGs (see sheet.h).  The sheet buffer is allocated and
 * freed here. */
#include "sheet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "font.h"
#include "pngio.h"

int sheet_write(const char *path, const dataset *d, int per_class, int zoom, err_t *e)
{
    if (per_class < 1 || per_class > 100)
        return err_set(e, "%s: contact sheet columns per class = %d: must be 1..100", path, per_class);
    if (zoom < 1 || zoom > 16)
        return err_set(e, "%s: contact sheet zoom = %d: must be 1..16", path, zoom);
    if (d->channels != 1 && d->channels != 3)
        return err_set(e, "%s: contact sheet needs 1 or 3 channels, not %d", path, d->channels);
    if (d->n_classes < 1 || d->n_classes > 1000)
        return err_set(e, "%s: contact sheet for %d classes (must be 1..1000)", path, d->n_classes);
    int C = d->channels, th = d->height * zoom, tw = d->width * zoom, gap = 2, scale = 2;
    int label_w = 0;
    for (int c = 0; c < d->n_classes; c++) {
        const char *name = d->class_names && d->class_names[c] ? d->class_names[c] : "?";
        int w = font_width(name, scale);
        if (w > label_w)
            label_w = w;
    }
    label_w += 2 * gap + 4;
    int W = label_w + per_class * (tw + gap) + gap, H = d->n_classes * (th + gap) + gap;
    if ((long)W * H > 100000000L)
        return err_set(e, "%s: contact sheet of %dx%d pixels is too large; lower zoom or columns", path, W, H);
    /* Draw a gray label layer, then expand to the channel count. */
    uint8_t *gray = malloc((size_t)W * H);
    uint8_t *img = malloc((size_t)W * H * C);
    int *filled = calloc(d->n_classes, sizeof *filled);
    if (!gray || !img || !filled) {
        free(gray);
        free(img);
        free(filled);
        return err_set(e, "%s: out of memory for a %dx%d contact sheet", path, W, H);
    }
    memset(gray, 32, (size_t)W * H);
    for (int c = 0; c < d->n_classes; c++) {
        const char *name = d->class_names && d->class_names[c] ? d->class_names[c] : "?";
        font_draw(gray, W, H, gap + 2, gap + c * (th + gap) + (th - 5 * scale) / 2, name, scale, 230);
    }
    for (long i = 0; i < (long)W * H; i++)
        for (int k = 0; k < C; k++)
            img[i * C + k] = gray[i];
    long isz = dataset_image_size(d);
    for (int i = 0; i < d->n; i++) {
        int c = d->labels[i];
        if (c < 0 || c >= d->n_classes || filled[c] >= per_class)
            continue;
        int x0 = label_w + filled[c] * (tw + gap), y0 = gap + c * (th + gap);
        const uint8_t *src = d->pixels + i * isz;
        for (int y = 0; y < th; y++)
            for (int x = 0; x < tw; x++)
                for (int k = 0; k < C; k++)
                    img[((size_t)(y0 + y) * W + x0 + x) * C + k] =
                        src[(size_t)k * d->height * d->width + (y / zoom) * d->width + x / zoom];
        filled[c]++;
    }
    int rc = png_write(path, img, W, H, C, e);
    free(gray);
    free(img);
    free(filled);
    return rc;
}
