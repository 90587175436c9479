/* Histogram PNGs (see histogram.h).  Layout: title on top, y axis with 0 and
 * the highest count, x axis with the data's minimum, middle and maximum.
 * Buffers are allocated and freed here. */
#include "histogram.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "font.h"
#include "pngio.h"

enum { HW = 360, HH = 220, LEFT = 50, RIGHT = 12, TOP = 26, BOTTOM = 30, SCALE = 2 };

static void fill(uint8_t *img, int x0, int y0, int x1, int y1, uint8_t v)
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            if (x >= 0 && x < HW && y >= 0 && y < HH)
                img[y * HW + x] = v;
}

static void number(char *buf, size_t n, double v)
{
    if (fabs(v) < 5e-3)
        v = 0; /* no "-0.00" */
    if (v == floor(v) && fabs(v) < 1e7)
        snprintf(buf, n, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(buf, n, "%.0f", v);
    else if (fabs(v) >= 1)
        snprintf(buf, n, "%.1f", v);
    else
        snprintf(buf, n, "%.2f", v);
}

int histogram_write(const char *path, const char *title, const float *values, long n, long stride,
                    int nbins, err_t *e)
{
    if (n < 1)
        return err_set(e, "%s: histogram of no values", path);
    if (nbins < 1 || nbins > 200)
        return err_set(e, "%s: histogram bins = %d: must be 1..200", path, nbins);
    if (stride < 1)
        return err_set(e, "%s: histogram stride = %ld: must be at least 1", path, stride);
    double lo = values[0], hi = values[0];
    for (long i = 0; i < n; i++) {
        double v = values[i * stride];
        if (!isfinite(v))
            return err_set(e, "%s: value %ld is not finite", path, i);
        if (v < lo)
            lo = v;
        if (v > hi)
            hi = v;
    }
    long *count = calloc(nbins, sizeof *count);
    uint8_t *img = malloc((size_t)HW * HH);
    if (!count || !img) {
        free(count);
        free(img);
        return err_set(e, "%s: out of memory for a histogram", path);
    }
    double width = hi > lo ? (hi - lo) / nbins : 1.0;
    for (long i = 0; i < n; i++) {
        int b = (int)((values[i * stride] - lo) / width);
        count[b < 0 ? 0 : b >= nbins ? nbins - 1 : b]++;
    }
    long cmax = 1;
    for (int b = 0; b < nbins; b++)
        if (count[b] > cmax)
            cmax = count[b];

    memset(img, 255, (size_t)HW * HH);
    int px0 = LEFT, px1 = HW - RIGHT, py0 = TOP, py1 = HH - BOTTOM;
    int pw = px1 - px0, ph = py1 - py0;
    for (int b = 0; b < nbins; b++) {
        int x0 = px0 + (int)((long)pw * b / nbins), x1 = px0 + (int)((long)pw * (b + 1) / nbins);
        int hgt = (int)((double)ph * count[b] / cmax + 0.5);
        fill(img, x0 + (x1 - x0 > 3 ? 1 : 0), py1 - hgt, x1, py1, 150);
    }
    /* Axes and ticks. */
    fill(img, px0 - 1, py0, px0, py1 + 1, 0);
    fill(img, px0 - 1, py1, px1, py1 + 1, 0);
    char buf[64];
    int ticks[3] = {px0, (px0 + px1) / 2, px1 - 1};
    double tv[3] = {lo, (lo + hi) / 2, hi};
    for (int k = 0; k < 3; k++) {
        fill(img, ticks[k], py1, ticks[k] + 1, py1 + 4, 0);
        number(buf, sizeof buf, tv[k]);
        int tw = font_width(buf, SCALE);
        int x = ticks[k] - tw / 2;
        if (x + tw > HW)
            x = HW - tw;
        font_draw(img, HW, HH, x, py1 + 7, buf, SCALE, 0);
    }
    fill(img, px0 - 4, py0, px0, py0 + 1, 0);
    snprintf(buf, sizeof buf, "%ld", cmax);
    font_draw(img, HW, HH, px0 - 6 - font_width(buf, SCALE), py0, buf, SCALE, 0);
    font_draw(img, HW, HH, px0 - 6 - font_width("0", SCALE), py1 - 10, "0", SCALE, 0);
    char head[160];
    snprintf(head, sizeof head, "%s  (n=%ld)", title ? title : "", n);
    font_draw(img, HW, HH, px0, 8, head, SCALE, 0);
    int rc = png_write(path, img, HW, HH, 1, e);
    free(count);
    free(img);
    return rc;
}
