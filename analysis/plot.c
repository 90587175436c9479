/* Line charts as PNG and SVG (see plot.h). */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "figure.h"

/* Okabe-Ito: distinguishable with the common colour blindnesses */
static const uint8_t palette[PLOT_MAX_SERIES][3] = {
    {0, 114, 178}, {213, 94, 0}, {0, 158, 115}, {204, 121, 167},
    {230, 159, 0}, {86, 180, 233}, {0, 0, 0}, {240, 228, 66},
};
static const uint8_t black[3] = {0, 0, 0}, grid[3] = {230, 230, 230}, grey[3] = {110, 110, 110};

enum { TITLE_PT = 16, NOTE_PT = 12, TICK_PT = 12, LABEL_PT = 13, LEGEND_PT = 12 };

void plot_nice_range(double vmin, double vmax, double *lo, double *hi, double *step)
{
    if (!isfinite(vmin) || !isfinite(vmax)) {
        *lo = 0;
        *hi = 1;
        *step = 0.2;
        return;
    }
    if (!(vmax > vmin)) {
        double d = vmin != 0 ? fabs(vmin) * 0.1 : 1;
        vmin -= d;
        vmax += d;
    }
    double raw = (vmax - vmin) / 5, mag = pow(10, floor(log10(raw))), m[] = {1, 2, 2.5, 5, 10};
    double s = 10 * mag;
    for (int i = 0; i < 5; i++)
        if (m[i] * mag >= raw * (1 - 1e-9)) { s = m[i] * mag; break; }
    *step = s;
    *lo = floor(vmin / s + 1e-9) * s;
    *hi = ceil(vmax / s - 1e-9) * s;
}

static int fitted(const plot_chart *ch, double *lo, double *hi, double *step)
{
    double vmin = INFINITY, vmax = -INFINITY;
#define TAKE(v) do { double v_ = (v); if (isfinite(v_)) { if (v_ < vmin) vmin = v_; if (v_ > vmax) vmax = v_; } } while (0)
    for (int s = 0; s < ch->n_series; s++)
        for (int i = 0; i < ch->n_x; i++) {
            TAKE(ch->series[s].y[i]);
            if (ch->series[s].lo) TAKE(ch->series[s].lo[i]);
            if (ch->series[s].hi) TAKE(ch->series[s].hi[i]);
        }
    TAKE(ch->ref);
#undef TAKE
    if (vmin > vmax)
        return -1;
    double pad = (vmax - vmin) * 0.04;
    plot_nice_range(vmin - pad, vmax + pad, lo, hi, step);
    if (vmin >= 0 && *lo < 0)   /* a non-negative quantity keeps a non-negative axis */
        *lo = 0;
    return 0;
}

int plot_write(const char *path, const plot_chart *ch, int W, int H, err_t *e)
{
    if (ch->n_x < 1 || ch->n_series < 0 || ch->n_series > PLOT_MAX_SERIES || W < 200 || H < 150 ||
        (ch->ystep != 0 && (!(ch->ymax > ch->ymin) || !(ch->ystep > 0))))
        return err_set(e, "plot %s: bad chart (%d categories, %d series, y range [%g, %g] step %g)", path, ch->n_x,
                       ch->n_series, ch->ymin, ch->ymax, ch->ystep);
    double y0 = ch->ymin, y1 = ch->ymax, ystep = ch->ystep;
    if (ystep == 0 && fitted(ch, &y0, &y1, &ystep))
        return err_input(e, "plot %s: no finite value to draw", path);
    figure *f;
    if (figure_new(&f, W, H, e))
        return -1;
    double scale = ch->yscale ? ch->yscale : 1;
    /* layout: tick labels' and legend's widths decide the margins */
    double tick_w = 0;
    for (int k = 0;; k++) {
        double v = y0 + k * ystep;
        if (v > y1 + 1e-9 * (y1 - y0))
            break;
        char lab[32];
        snprintf(lab, sizeof lab, "%g", v * scale);
        double w = figure_text_width(f, lab, TICK_PT, 0);
        if (w > tick_w) tick_w = w;
    }
    double legend_w = 0;
    for (int s = 0; s < ch->n_series; s++) {
        double w = figure_text_width(f, ch->series[s].label ? ch->series[s].label : "", LEGEND_PT, 0);
        if (w > legend_w) legend_w = w;
    }
    if (!isnan(ch->ref) && ch->ref_label && figure_text_width(f, ch->ref_label, LEGEND_PT, 0) > legend_w)
        legend_w = figure_text_width(f, ch->ref_label, LEGEND_PT, 0);
    double top = 14 + TITLE_PT + (ch->note ? NOTE_PT + 8 : 0) + 14;
    double left = 12 + (ch->ylabel ? LABEL_PT + 10 : 0) + tick_w + 10, bottom = H - 52;
    double right = W - (legend_w + 60);
    if (right - left < 100) {
        figure_free(f);
        return err_set(e, "plot %s: %d px are too narrow for the legend", path, W);
    }
    if (ch->title)
        figure_text(f, (left + right) / 2, 14 + TITLE_PT, ch->title, TITLE_PT, FIG_CENTRE, 1, 0, black);
    if (ch->note)
        figure_text(f, (left + right) / 2, 14 + TITLE_PT + 8 + NOTE_PT, ch->note, NOTE_PT, FIG_CENTRE, 0, 0, grey);
    if (ch->ylabel)
        figure_text(f, 12 + LABEL_PT, (top + bottom) / 2, ch->ylabel, LABEL_PT, FIG_CENTRE, 0, -90, black);
    double span = y1 - y0;
#define YPIX(v) (bottom - ((v) - y0) / span * (bottom - top))
#define CLAMP(v) ((v) < y0 ? y0 : (v) > y1 ? y1 : (v))
    for (int k = 0;; k++) {
        double v = y0 + k * ystep;
        if (v > y1 + 1e-9 * span)
            break;
        double y = YPIX(v), g[4] = {left, y, right, y}, t[4] = {left - 5, y, left, y};
        figure_line(f, g, 2, 1, FIG_SOLID, grid);
        figure_line(f, t, 2, 1, FIG_SOLID, black);
        char lab[32];
        snprintf(lab, sizeof lab, "%g", fabs(v) < 1e-12 * span ? 0.0 : v * scale);
        figure_text(f, left - 8, y + TICK_PT * 0.35, lab, TICK_PT, FIG_RIGHT, 0, 0, black);
    }
    double slot = (right - left) / ch->n_x;
#define XPIX(i) (left + slot * ((i) + 0.5))
    for (int i = 0; i < ch->n_x; i++) {
        const char *lab = ch->xticks[i];
        if (!lab || !*lab)
            continue;
        double t[4] = {XPIX(i), bottom, XPIX(i), bottom + 5};
        figure_line(f, t, 2, 1, FIG_SOLID, black);
        figure_text(f, XPIX(i), bottom + 8 + TICK_PT, lab, TICK_PT, FIG_CENTRE, 0, 0, black);
    }
    if (ch->xlabel)
        figure_text(f, (left + right) / 2, bottom + 20 + TICK_PT + LABEL_PT, ch->xlabel, LABEL_PT, FIG_CENTRE, 0, 0,
                    black);
    /* bands first, under every line */
    double *xy = malloc(sizeof(double) * 4 * (size_t)ch->n_x);
    if (!xy) {
        figure_free(f);
        return err_set(e, "out of memory");
    }
    for (int s = 0; s < ch->n_series; s++) {
        const plot_series *ps = &ch->series[s];
        if (!ps->lo || !ps->hi)
            continue;
        for (int i = 0; i < ch->n_x;) {
            int n = 0, start = i;
            while (i < ch->n_x && !isnan(ps->lo[i]) && !isnan(ps->hi[i]))
                i++;
            for (int k = start; k < i; k++, n++) {
                xy[2 * n] = XPIX(k);
                xy[2 * n + 1] = YPIX(CLAMP(ps->hi[k]));
            }
            for (int k = i - 1; k >= start; k--, n++) {
                xy[2 * n] = XPIX(k);
                xy[2 * n + 1] = YPIX(CLAMP(ps->lo[k]));
            }
            if (i - start >= 2)
                figure_polygon(f, xy, n, palette[s], 0.18);
            else if (i - start == 1) {   /* one point: an error bar */
                double b[4] = {XPIX(start), xy[1], XPIX(start), xy[3]};
                figure_line(f, b, 2, 1.5, FIG_SOLID, palette[s]);
            }
            if (i == start)
                i++;
        }
    }
    if (!isnan(ch->ref) && ch->ref >= y0 && ch->ref <= y1) {
        double r[4] = {left, YPIX(ch->ref), right, YPIX(ch->ref)};
        figure_line(f, r, 2, 1.5, FIG_DASHED, grey);
    }
    for (int s = 0; s < ch->n_series; s++) {
        const double *y = ch->series[s].y;
        for (int i = 0; i < ch->n_x; i++) {
            xy[2 * i] = XPIX(i);
            xy[2 * i + 1] = isnan(y[i]) ? NAN : YPIX(CLAMP(y[i]));
        }
        /* a gap (NAN) is bridged: the line joins the points there are */
        int n = 0;
        for (int i = 0; i < ch->n_x; i++)
            if (!isnan(xy[2 * i + 1])) {
                xy[2 * n] = xy[2 * i];
                xy[2 * n + 1] = xy[2 * i + 1];
                n++;
            }
        figure_line(f, xy, n, 2.2, (fig_dash)(s % 4), palette[s]);
        for (int i = 0; i < n; i++)
            figure_marker(f, xy[2 * i], xy[2 * i + 1], (fig_marker)(s % FIG_N_MARKERS), 4.5, palette[s]);
    }
    free(xy);
    double a[6] = {left, top, left, bottom, right, bottom};
    figure_line(f, a, 3, 1.5, FIG_SOLID, black);
    /* legend */
    double lx = right + 18, ly = top + 6;
    for (int s = 0; s < ch->n_series; s++, ly += 22) {
        const plot_series *ps = &ch->series[s];
        if (ps->lo && ps->hi)
            figure_rect(f, lx, ly - 6, 30, 12, (const uint8_t[3]){palette[s][0] / 5 + 204, palette[s][1] / 5 + 204,
                                                                   palette[s][2] / 5 + 204});
        double l[4] = {lx, ly, lx + 30, ly};
        figure_line(f, l, 2, 2.2, (fig_dash)(s % 4), palette[s]);
        figure_marker(f, lx + 15, ly, (fig_marker)(s % FIG_N_MARKERS), 4.5, palette[s]);
        figure_text(f, lx + 38, ly + LEGEND_PT * 0.35, ps->label ? ps->label : "", LEGEND_PT, FIG_LEFT, 0, 0, black);
    }
    if (!isnan(ch->ref) && ch->ref_label) {
        double l[4] = {lx, ly, lx + 30, ly};
        figure_line(f, l, 2, 1.5, FIG_DASHED, grey);
        figure_text(f, lx + 38, ly + LEGEND_PT * 0.35, ch->ref_label, LEGEND_PT, FIG_LEFT, 0, 0, black);
    }
#undef XPIX
#undef YPIX
#undef CLAMP
    int rc = figure_write(f, path, e);
    figure_free(f);
    return rc;
}
