/* Line charts as PNG (see plot.h). */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "font.h"
#include "pngio.h"

static const uint8_t palette[PLOT_MAX_SERIES][3] = {
    {31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {255, 127, 14},
    {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {23, 190, 207},
};

typedef struct canvas {
    uint8_t *rgb, *mask;
    int w, h;
} canvas;

static void px(canvas *c, int x, int y, const uint8_t col[3])
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->rgb + ((size_t)y * c->w + x) * 3;
    p[0] = col[0]; p[1] = col[1]; p[2] = col[2];
}

static void rect(canvas *c, int x0, int y0, int x1, int y1, const uint8_t col[3])
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            px(c, x, y, col);
}

/* A line of thickness t; dashed: on 6 px, off 4 px. */
static void line(canvas *c, double x0, double y0, double x1, double y1, int t, int dashed, const uint8_t col[3])
{
    double dx = x1 - x0, dy = y1 - y0, len = sqrt(dx * dx + dy * dy);
    int steps = (int)ceil(len * 2) + 1;
    for (int s = 0; s <= steps; s++) {
        double f = (double)s / steps, along = f * len;
        if (dashed && fmod(along, 10.0) >= 6.0)
            continue;
        int x = (int)lround(x0 + f * dx), y = (int)lround(y0 + f * dy);
        rect(c, x - t / 2, y - t / 2, x - t / 2 + t - 1, y - t / 2 + t - 1, col);
    }
}

static void text(canvas *c, int x, int y, const char *s, int scale, const uint8_t col[3])
{
    int tw = font_width(s, scale), th = 5 * scale;
    memset(c->mask, 0, (size_t)c->w * c->h);
    font_draw(c->mask, c->w, c->h, x, y, s, scale, 255);
    for (int yy = y; yy < y + th; yy++)
        for (int xx = x; xx < x + tw; xx++)
            if (xx >= 0 && yy >= 0 && xx < c->w && yy < c->h && c->mask[(size_t)yy * c->w + xx])
                px(c, xx, yy, col);
}

int plot_render(const plot_chart *ch, int W, int H, uint8_t **out, err_t *e)
{
    *out = NULL;
    if (ch->n_x < 1 || ch->n_series < 0 || ch->n_series > PLOT_MAX_SERIES || !(ch->ymax > ch->ymin) ||
        !(ch->ystep > 0) || W < 200 || H < 150)
        return err_set(e, "plot: bad chart (%d categories, %d series, y range [%g, %g])", ch->n_x, ch->n_series,
                       ch->ymin, ch->ymax);
    canvas c = {.rgb = malloc((size_t)W * H * 3), .mask = malloc((size_t)W * H), .w = W, .h = H};
    if (!c.rgb || !c.mask) {
        free(c.rgb); free(c.mask);
        return err_set(e, "plot: out of memory");
    }
    memset(c.rgb, 255, (size_t)W * H * 3);
    static const uint8_t black[3] = {0, 0, 0}, grid[3] = {225, 225, 225}, gray[3] = {110, 110, 110};
    const int S = 2;                          /* font scale: 6 x 10 px characters */
    int legend_w = 0;
    for (int i = 0; i < ch->n_series; i++) {
        int w = font_width(ch->series[i].label ? ch->series[i].label : "", S);
        if (w > legend_w) legend_w = w;
    }
    if (ch->ref_label && font_width(ch->ref_label, S) > legend_w)
        legend_w = font_width(ch->ref_label, S);
    const int left = 60, top = 50, bottom = H - 60, right = W - (legend_w + 50);
    if (right - left < 100) {
        free(c.rgb); free(c.mask);
        return err_set(e, "plot: %d px are too narrow for the legend", W);
    }
    /* title and y label */
    if (ch->title)
        text(&c, (W - font_width(ch->title, S)) / 2, 10, ch->title, S, black);
    if (ch->ylabel)
        text(&c, 8, top - 22, ch->ylabel, S, black);
    /* y grid, ticks and labels */
    double span = ch->ymax - ch->ymin;
#define YPIX(v) (bottom - ((v) - ch->ymin) / span * (bottom - top))
    for (int k = 0;; k++) {
        double v = ch->ymin + k * ch->ystep;
        if (v > ch->ymax + 1e-9 * span)
            break;
        int y = (int)lround(YPIX(v));
        line(&c, left, y, right, y, 1, 0, grid);
        line(&c, left - 5, y, left, y, 1, 0, black);
        char lab[32];
        snprintf(lab, sizeof lab, "%g", v * (ch->yscale ? ch->yscale : 1));
        text(&c, left - 9 - font_width(lab, S), y - 5, lab, S, black);
    }
    /* x ticks and labels: categories at the centres of equal slots */
    double slot = (double)(right - left) / ch->n_x;
#define XPIX(i) (left + slot * ((i) + 0.5))
    for (int i = 0; i < ch->n_x; i++) {
        int x = (int)lround(XPIX(i));
        line(&c, x, bottom, x, bottom + 5, 1, 0, black);
        const char *lab = ch->xticks[i];
        text(&c, x - font_width(lab, S) / 2, bottom + 10, lab, S, black);
    }
    if (ch->xlabel)
        text(&c, left + (right - left - font_width(ch->xlabel, S)) / 2, bottom + 32, ch->xlabel, S, black);
    /* axes */
    line(&c, left, top, left, bottom, 2, 0, black);
    line(&c, left, bottom, right, bottom, 2, 0, black);
    /* reference line */
    if (!isnan(ch->ref) && ch->ref >= ch->ymin && ch->ref <= ch->ymax)
        line(&c, left, YPIX(ch->ref), right, YPIX(ch->ref), 2, 1, gray);
    /* series */
    for (int s = 0; s < ch->n_series; s++) {
        const double *y = ch->series[s].y;
        const uint8_t *col = palette[s];
        int prev = -1;
        for (int i = 0; i < ch->n_x; i++) {
            if (isnan(y[i]))
                continue;
            double v = y[i] < ch->ymin ? ch->ymin : y[i] > ch->ymax ? ch->ymax : y[i];
            double pv = prev >= 0 ? (y[prev] < ch->ymin ? ch->ymin : y[prev] > ch->ymax ? ch->ymax : y[prev]) : 0;
            if (prev >= 0)
                line(&c, XPIX(prev), YPIX(pv), XPIX(i), YPIX(v), 3, 0, col);
            prev = i;
        }
        for (int i = 0; i < ch->n_x; i++)
            if (!isnan(y[i])) {
                double v = y[i] < ch->ymin ? ch->ymin : y[i] > ch->ymax ? ch->ymax : y[i];
                int x = (int)lround(XPIX(i)), yy = (int)lround(YPIX(v));
                rect(&c, x - 4, yy - 4, x + 4, yy + 4, col);
            }
    }
    /* legend */
    int lx = right + 20, ly = top;
    for (int s = 0; s < ch->n_series; s++, ly += 22) {
        line(&c, lx, ly + 5, lx + 20, ly + 5, 3, 0, palette[s]);
        rect(&c, lx + 6, ly + 1, lx + 14, ly + 9, palette[s]);
        text(&c, lx + 26, ly, ch->series[s].label ? ch->series[s].label : "", S, black);
    }
    if (!isnan(ch->ref) && ch->ref_label) {
        line(&c, lx, ly + 5, lx + 20, ly + 5, 2, 1, gray);
        text(&c, lx + 26, ly, ch->ref_label, S, black);
    }
#undef XPIX
#undef YPIX
    free(c.mask);
    *out = c.rgb;
    return 0;
}

int plot_write_png(const char *path, const plot_chart *c, int width, int height, err_t *e)
{
    uint8_t *rgb;
    if (plot_render(c, width, height, &rgb, e))
        return -1;
    int rc = png_write(path, rgb, width, height, 3, e);
    free(rgb);
    return rc;
}
