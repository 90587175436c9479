/* Line charts (analysis/plot.c): the points land where the axes say, the
 * chance line is dashed, every series and the legend are drawn in their
 * colours, bad charts are refused; the PNG reads back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "error.h"
#include "plot.h"
#include "pngio.h"

static int is(const uint8_t *p, int r, int g, int b) { return p[0] == r && p[1] == g && p[2] == b; }

/* Pixels of colour (r, g, b) within a box around (x, y). */
static int near(const uint8_t *img, int W, int H, int x, int y, int rad, int r, int g, int b)
{
    int n = 0;
    for (int yy = y - rad; yy <= y + rad; yy++)
        for (int xx = x - rad; xx <= x + rad; xx++)
            if (xx >= 0 && yy >= 0 && xx < W && yy < H && is(img + ((size_t)yy * W + xx) * 3, r, g, b)) n++;
    return n;
}

int main(void)
{
    fx_tmpdir("plot");
    const char *xt[4] = {"conv1", "conv2", "conv3", "scores"};
    double a[4] = {0.2, 0.4, 0.6, 0.8}, b[4] = {0.5, NAN, 0.5, 0.5};
    plot_series s[2] = {{"drmm", a}, {"cnn", b}};
    plot_chart c = {.title = "t", .xlabel = "layer", .ylabel = "error %", .n_x = 4, .xticks = xt, .ymin = 0, .ymax = 1,
                    .ystep = 0.2, .yscale = 100, .series = s, .n_series = 2, .ref = 0.9, .ref_label = "chance"};
    const int W = 800, H = 440;
    uint8_t *img = NULL;
    err_t e = {.msg = ""};
    CHECK(plot_render(&c, W, H, &img, &e) == 0, "%s", e.msg);
    if (!img)
        return check_done();
    /* geometry of plot.c: left 60, top 50, bottom H - 60; right = W - (legend + 50) */
    int legend = 6 * 4 * 2;   /* "chance": 6 characters of 8 px */
    int left = 60, top = 50, bottom = H - 60, right = W - (legend + 50);
    double slot = (double)(right - left) / 4;
    for (int i = 0; i < 4; i++) {
        int x = (int)lround(left + slot * (i + 0.5));
        int ya = (int)lround(bottom - a[i] * (bottom - top));
        CHECK(near(img, W, H, x, ya, 3, 31, 119, 180) >= 20, "series 1 marker %d at (%d, %d)", i, x, ya);
        if (!isnan(b[i])) {
            int yb = (int)lround(bottom - b[i] * (bottom - top));
            CHECK(near(img, W, H, x, yb, 3, 214, 39, 40) >= 20, "series 2 marker %d", i);
        }
    }
    /* the missing point of series 2 has no marker (9 x 9 px); the line
     * joins its neighbours across it (3 px thick) */
    {
        int x = (int)lround(left + slot * 1.5), y = (int)lround(bottom - 0.5 * (bottom - top));
        int n = near(img, W, H, x, y, 4, 214, 39, 40);
        CHECK(n > 0 && n <= 30, "no marker where the value is missing, only the line (%d px)", n);
    }
    /* chance: dashed gray at 0.9 (both gray and white pixels along it) */
    {
        int y = (int)lround(bottom - 0.9 * (bottom - top)), gray = 0, white = 0;
        for (int x = left + 5; x < right - 5; x++) {
            const uint8_t *p = img + ((size_t)y * W + x) * 3;
            if (is(p, 110, 110, 110)) gray++;
            else if (is(p, 255, 255, 255) || is(p, 225, 225, 225)) white++;
        }
        CHECK(gray > 100 && white > 50, "dashed chance line: %d gray, %d gaps", gray, white);
    }
    /* axes in black, legend swatches in the series' colours */
    CHECK(near(img, W, H, left, (top + bottom) / 2, 1, 0, 0, 0) >= 3, "y axis");
    CHECK(near(img, W, H, (left + right) / 2, bottom, 1, 0, 0, 0) >= 3, "x axis");
    CHECK(near(img, W, H, right + 30, top + 5, 4, 31, 119, 180) >= 20, "legend swatch 1");
    CHECK(near(img, W, H, right + 30, top + 27, 4, 214, 39, 40) >= 20, "legend swatch 2");
    int dark = 0;
    for (int y = top; y < top + 12; y++)
        for (int x = right + 46; x < right + 46 + 30; x++)
            if (is(img + ((size_t)y * W + x) * 3, 0, 0, 0)) dark++;
    CHECK(dark > 10, "legend text drawn (%d px)", dark);
    free(img);
    /* PNG round trip */
    const char *path = fx_path("c.png");
    CHECK(plot_write_png(path, &c, W, H, &e) == 0, "%s", e.msg);
    uint8_t *px;
    int w, h, ch;
    CHECK(png_read(path, &px, &w, &h, &ch, &e) == 0 && w == W && h == H && ch == 3, "read back: %s", e.msg);
    if (w == W) free(px);
    /* refused */
    plot_chart bad = c;
    bad.ymax = bad.ymin;
    CHECK(plot_render(&bad, W, H, &img, &e) == -1 && strstr(e.msg, "bad chart"), "empty y range refused: %s", e.msg);
    bad = c;
    bad.n_series = PLOT_MAX_SERIES + 1;
    CHECK(plot_render(&bad, W, H, &img, &e) == -1, "too many series refused");
    CHECK(plot_write_png("/nonexistent/dir/c.png", &c, W, H, &e) == -1 && strstr(e.msg, "/nonexistent/dir/c.png"),
          "unwritable path named: %s", e.msg);
    fx_cleanup();
    return check_done();
}
