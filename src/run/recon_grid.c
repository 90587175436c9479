/* Reconstruction grid PNG (see recon_grid.h). */
#include "recon_grid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pngio.h"

enum { GAP = 2, PAIR_GAP = 6 };   /* pixels between input and I-hat, and between pairs */

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

/* Draws one CHW image at (x0, y0) of the HWC canvas. */
static void draw(const recon_grid *g, const float *img, uint8_t *canvas, int cw, int x0, int y0)
{
    int C = g->channels, H = g->height, W = g->width;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int ch = 0; ch < C; ch++)
                canvas[((size_t)(y0 + y) * cw + x0 + x) * C + ch] = to_byte(img[((size_t)ch * H + y) * W + x]);
}

int recon_grid_write(const recon_grid *g, const char *path, err_t *e)
{
    int H = g->height, W = g->width, C = g->channels;
    int pair_w = 2 * W + GAP;
    int cw = PAIR_GAP + g->per_class * (pair_w + PAIR_GAP), ch = GAP + g->classes * (H + GAP);
    uint8_t *canvas = malloc((size_t)cw * ch * C);
    if (!canvas)
        return err_set(e, "out of memory");
    memset(canvas, 96, (size_t)cw * ch * C);   /* mid-gray frame: black and white cells stand out */
    size_t P = (size_t)C * H * W;
    for (int c = 0; c < g->classes; c++)
        for (int k = 0; k < g->count[c]; k++) {
            size_t at = ((size_t)c * g->per_class + k) * P;
            int x0 = PAIR_GAP + k * (pair_w + PAIR_GAP), y0 = GAP + c * (H + GAP);
            draw(g, g->x + at, canvas, cw, x0, y0);
            draw(g, g->ihat + at, canvas, cw, x0 + W + GAP, y0);
        }
    int rc = png_write(path, canvas, cw, ch, C, e);
    free(canvas);
    return rc;
}

void recon_grid_free(recon_grid *g)
{
    free(g->count);
    free(g->x);
    free(g->ihat);
    memset(g, 0, sizeof *g);
}
