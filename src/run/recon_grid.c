/* Reconstruction grid PNG (see recon_grid.h). */
#include "recon_grid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>
#include <stdio.h>

#include "error.h"
#include "figure.h"

/* the images are enlarged to about TARGET_PX pixels; gaps between input and
 * render, between pairs and between rows; font sizes */
enum { TARGET_PX = 96, PAIR_GAP = 4, PAIRS_GAP = 18, ROW_GAP = 8, LABEL_PT = 14, HEAD_PT = 12 };

int recon_grid_init(recon_grid *g, int classes, int per_class, int channels, int height, int width, err_t *e)
{
    memset(g, 0, sizeof *g);
    if (channels != 1 && channels != 3)
        return err_input(e, "reconstruction grid: %d channels (only gray or RGB images can be drawn)", channels);
    g->classes = classes;
    g->per_class = per_class;
    g->channels = channels;
    g->height = height;
    g->width = width;
    size_t cells = (size_t)classes * per_class * channels * height * width;
    g->count = calloc(classes, sizeof(int));
    g->x = calloc(cells, sizeof(float));
    g->ihat = calloc(cells, sizeof(float));
    if (!g->count || !g->x || !g->ihat) {
        recon_grid_free(g);
        return err_set(e, "out of memory");
    }
    return 0;
}

void recon_grid_add(recon_grid *g, const float *x, const float *ihat, const int *labels, int n)
{
    size_t P = (size_t)g->channels * g->height * g->width;
    for (int i = 0; i < n; i++) {
        int c = labels[i];
        if (c < 0 || c >= g->classes || g->count[c] >= g->per_class)
            continue;
        size_t at = ((size_t)c * g->per_class + g->count[c]++) * P;
        memcpy(g->x + at, x + i * P, sizeof(float) * P);
        memcpy(g->ihat + at, ihat + i * P, sizeof(float) * P);
    }
}

static uint8_t to_byte(float v)
{
    if (!(v > 0))
        return 0;
    return v >= 1 ? 255 : (uint8_t)(v * 255.0f + 0.5f);
}

/* One CHW image as HWC bytes in out. */
static void to_pixels(const recon_grid *g, const float *img, uint8_t *out)
{
    int C = g->channels, H = g->height, W = g->width;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int ch = 0; ch < C; ch++)
                out[((size_t)y * W + x) * C + ch] = to_byte(img[((size_t)ch * H + y) * W + x]);
}

int recon_grid_write(const recon_grid *g, const char *const *class_names, const char *path, err_t *e)
{
    static const uint8_t black[3] = {0, 0, 0}, frame[3] = {96, 96, 96}, grey[3] = {90, 90, 90};
    int H = g->height, W = g->width, C = g->channels, big = H > W ? H : W;
    int s = (TARGET_PX + big - 1) / big;   /* enlargement: each pixel an s x s block */
    if (s < 1)
        s = 1;
    double cw = W * s, chh = H * s;
    figure *f = NULL;
    uint8_t *pix = malloc((size_t)C * H * W);
    if (!pix)
        return err_set(e, "out of memory");
    /* the labels' widths decide the left margin: measured on a scratch figure */
    if (figure_new(&f, 16, 16, e)) {
        free(pix);
        return -1;
    }
    char (*names)[96] = calloc((size_t)g->classes, sizeof *names);
    double label_w = 0;
    for (int c = 0; names && c < g->classes; c++) {
        if (class_names && class_names[c] && *class_names[c])
            snprintf(names[c], sizeof names[c], "%d %s", c, class_names[c]);
        else
            snprintf(names[c], sizeof names[c], "class %d", c);
        double w = figure_text_width(f, names[c], LABEL_PT, 0);
        if (w > label_w)
            label_w = w;
    }
    figure_free(f);
    f = NULL;
    if (!names) {
        free(pix);
        return err_set(e, "out of memory");
    }
    const char *title = "test images (input) and their top-down renderings (render), by true class";
    double left = ceil(12 + label_w + 12), top = 30 + 2 * LABEL_PT, pair_w = 2 * cw + PAIR_GAP;   /* whole pixels: no blending */
    int width = (int)ceil(left + g->per_class * pair_w + (g->per_class - 1) * PAIRS_GAP + 12);
    int height = (int)ceil(top + g->classes * (chh + ROW_GAP) + 4);
    int rc = -1;
    if (figure_new(&f, width, height, e))
        goto done;
    double tw = figure_text_width(f, title, LABEL_PT, 1);
    if (tw + 24 > width) {   /* a narrow grid: a wider figure for the title */
        figure_free(f);
        width = (int)ceil(tw + 24);
        if (figure_new(&f, width, height, e))
            goto done;
    }
    figure_text(f, 12, 8 + LABEL_PT, title, LABEL_PT, FIG_LEFT, 1, 0, black);
    for (int k = 0; k < g->per_class; k++) {
        double x0 = left + k * (pair_w + PAIRS_GAP);
        figure_text(f, x0 + cw / 2, top - 8, "input", HEAD_PT, FIG_CENTRE, 0, 0, grey);
        figure_text(f, x0 + cw + PAIR_GAP + cw / 2, top - 8, "render", HEAD_PT, FIG_CENTRE, 0, 0, grey);
    }
    size_t P = (size_t)C * H * W;
    for (int c = 0; c < g->classes; c++) {
        double y0 = top + c * (chh + ROW_GAP);
        figure_text(f, left - 12, y0 + chh / 2 + LABEL_PT * 0.35, names[c], LABEL_PT, FIG_RIGHT, 0, 0, black);
        for (int k = 0; k < g->per_class; k++) {
            double x0 = left + k * (pair_w + PAIRS_GAP);
            figure_rect(f, x0 - 1, y0 - 1, pair_w + 2, chh + 2, frame);   /* mid-grey frame: black and white stand out */
            if (k >= g->count[c])
                continue;
            size_t at = ((size_t)c * g->per_class + k) * P;
            to_pixels(g, g->x + at, pix);
            figure_image(f, x0, y0, s, pix, W, H, C);
            to_pixels(g, g->ihat + at, pix);
            figure_image(f, x0 + cw + PAIR_GAP, y0, s, pix, W, H, C);
        }
    }
    rc = figure_write(f, path, e);
done:
    figure_free(f);
    free(names);
    free(pix);
    return rc;
}

void recon_grid_free(recon_grid *g)
{
    free(g->count);
    free(g->x);
    free(g->ihat);
    memset(g, 0, sizeof *g);
}
