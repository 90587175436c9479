/* A grid of images as a figure (see image_grid.h). */
#include "image_grid.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "figure.h"

enum { TARGET_PX = 64, COL_GAP = 6, ROW_GAP = 8, LABEL_PT = 13, HEAD_PT = 11 };

/* One CHW image as HWC bytes in out, on the grid's scale. */
static void to_pixels(const image_grid *g, const float *img, uint8_t *out)
{
    const int C = g->channels, H = g->height, W = g->width;
    const long P = (long)C * H * W;
    float lo = 0, hi = 1;
    if (g->scale != IMAGE_SCALE_UNIT) {
        float mn = img[0], mx = img[0], amax = 0;
        for (long k = 0; k < P; k++) {
            mn = fminf(mn, img[k]);
            mx = fmaxf(mx, img[k]);
            amax = fmaxf(amax, fabsf(img[k]));
        }
        if (g->scale == IMAGE_SCALE_MINMAX) {
            lo = mn;
            hi = mx > mn ? mx : mn + 1;
        } else {
            lo = -(amax > 0 ? amax : 1);
            hi = -lo;
        }
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int ch = 0; ch < C; ch++) {
                float v = (img[((long)ch * H + y) * W + x] - lo) / (hi - lo);
                out[((long)y * W + x) * C + ch] = !(v > 0) ? 0 : v >= 1 ? 255 : (uint8_t)(v * 255.0f + 0.5f);
            }
}

int image_grid_write(const image_grid *g, const char *png, err_t *e)
{
    static const uint8_t black[3] = {0, 0, 0}, frame[3] = {96, 96, 96}, grey[3] = {90, 90, 90};
    if (g->channels != 1 && g->channels != 3)
        return err_input(e, "image grid: %d channels (only gray or RGB images can be drawn)", g->channels);
    if (g->rows < 1 || g->cols < 1 || g->height < 1 || g->width < 1)
        return err_set(e, "image grid: empty (%d x %d images of %d x %d)", g->rows, g->cols, g->height, g->width);
    const int H = g->height, W = g->width, C = g->channels, big = H > W ? H : W;
    const int s = big >= TARGET_PX ? 1 : (TARGET_PX + big - 1) / big;
    const double cw = W * s, chh = H * s;
    figure *f = NULL;
    uint8_t *pix = malloc((size_t)C * H * W);
    if (!pix)
        return err_set(e, "out of memory");
    int rc = -1;
    if (figure_new(&f, 16, 16, e))   /* a scratch figure to measure the labels */
        goto done;
    double label_w = 0, head_w = 0;
    for (int r = 0; r < g->rows; r++)
        label_w = fmax(label_w, figure_text_width(f, g->row_names[r], LABEL_PT, 0));
    for (int c = 0; g->col_heads && c < g->cols; c++)
        head_w = fmax(head_w, figure_text_width(f, g->col_heads[c], HEAD_PT, 0));
    const double title_w = figure_text_width(f, g->title, LABEL_PT, 1);
    figure_free(f);
    f = NULL;
    const double colw = fmax(cw, head_w) + COL_GAP;
    const double left = ceil(12 + label_w + 12), top = 22 + LABEL_PT + (g->col_heads ? HEAD_PT + 10 : 4);
    int width = (int)ceil(fmax(left + g->cols * colw + 12, title_w + 24));
    int height = (int)ceil(top + g->rows * (chh + ROW_GAP) + 4);
    if (figure_new(&f, width, height, e))
        goto done;
    figure_text(f, 12, 8 + LABEL_PT, g->title, LABEL_PT, FIG_LEFT, 1, 0, black);
    for (int c = 0; g->col_heads && c < g->cols; c++)
        figure_text(f, left + c * colw + cw / 2, top - 8, g->col_heads[c], HEAD_PT, FIG_CENTRE, 0, 0, grey);
    const long P = (long)C * H * W;
    for (int r = 0; r < g->rows; r++) {
        double y0 = top + r * (chh + ROW_GAP);
        figure_text(f, left - 12, y0 + chh / 2 + LABEL_PT * 0.35, g->row_names[r], LABEL_PT, FIG_RIGHT, 0, 0, black);
        for (int c = 0; c < g->cols; c++) {
            double x0 = floor(left + c * colw);
            figure_rect(f, x0 - 1, y0 - 1, cw + 2, chh + 2, frame);
            if (g->present && !g->present[(long)r * g->cols + c])
                continue;
            to_pixels(g, g->images + ((long)r * g->cols + c) * P, pix);
            figure_image(f, x0, y0, s, pix, W, H, C);
        }
    }
    rc = figure_write(f, png, e);
done:
    figure_free(f);
    free(pix);
    return rc;
}
