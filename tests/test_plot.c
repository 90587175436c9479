/* Line charts (analysis/plot.c) and figures (src/io/figure.c): the SVG is
 * well formed, keeps every label as text (the characters the old bitmap font
 * could not draw included), fits the y range to the data, draws the points
 * where the axis says, in the same place as the PNG, with a band, distinct
 * dash patterns and markers per series and a dashed reference line; the PNG
 * has anti-aliased text in the title; bad charts and paths are refused with
 * the path named. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "figure.h"
#include "fixture.h"
#include "plot.h"
#include "pngio.h"
#include "xml_check.h"

/* The y attribute of the <text> element whose content is exactly s, or NAN. */
static double text_y(const char *svg, const char *s)
{
    char needle[128];
    snprintf(needle, sizeof needle, ">%s</text>", s);
    const char *p = strstr(svg, needle);
    if (!p)
        return NAN;
    while (p > svg && strncmp(p, "<text ", 6))
        p--;
    const char *y = strstr(p, " y=\"");
    return y ? atof(y + 4) : NAN;
}

/* The centres of the first n elements "<tag ..." with fill colour fill; returns how many. */
static int centres(const char *svg, const char *tag, const char *fill, double *x, double *y, int n)
{
    int k = 0;
    char open[32], f[32];
    snprintf(open, sizeof open, "<%s ", tag);
    snprintf(f, sizeof f, "fill=\"%s\"", fill);
    for (const char *p = strstr(svg, open); p && k < n; p = strstr(p + 1, open)) {
        const char *end = strchr(p, '>');
        const char *fp = strstr(p, f);
        if (!end || !fp || fp > end)
            continue;
        if (!strcmp(tag, "circle")) {
            x[k] = atof(strstr(p, "cx=\"") + 4);
            y[k] = atof(strstr(p, "cy=\"") + 4);
        } else {   /* polygon: the mean of its points */
            const char *q = strstr(p, "points=\"") + 8;
            double sx = 0, sy = 0;
            int m = 0;
            while (*q != '"') {
                char *e;
                double a = strtod(q, &e);
                sx += a;
                sy += strtod(e + 1, &e);
                m++;
                q = e;
                while (*q == ' ') q++;
            }
            x[k] = sx / m;
            y[k] = sy / m;
        }
        k++;
    }
    return k;
}

int main(void)
{
    fx_tmpdir("plot");
    const char *xt[4] = {"1", "2", "3", "4"};
    double a[4] = {0.50, 0.52, 0.54, 0.56}, b[4] = {0.55, NAN, 0.53, 0.51};
    double lo[4] = {0.49, 0.51, 0.53, 0.55}, hi[4] = {0.51, 0.53, 0.55, 0.57};
    plot_series s[2] = {{.label = "run 4", .y = a, .lo = lo, .hi = hi}, {.label = "DRMM +KL+NN (50%)", .y = b}};
    plot_chart c = {.title = "error 50% by epoch", .note = "band: min-max", .xlabel = "epoch",
                    .ylabel = "test error %", .n_x = 4, .xticks = xt, .yscale = 100, .series = s, .n_series = 2,
                    .ref = 0.575, .ref_label = "chance"};
    const int W = 800, H = 440;
    err_t e = {.msg = ""};
    const char *png = fx_path("c.png"), *svgp = fx_path("c.svg");
    CHECK(plot_write(png, &c, W, H, &e) == 0, "%s", e.msg);
    char *svg = fx_read(svgp, NULL), msg[256] = "";
    CHECK(svg != NULL, "the SVG is written next to the PNG");
    if (!svg)
        return check_done();
    CHECK(xml_check(svg, msg, sizeof msg) == 0, "the SVG is well formed: %s", msg);
    const char *labels[] = {"error 50% by epoch", "band: min-max", "epoch", "test error %", "run 4",
                            "DRMM +KL+NN (50%)", "chance"};
    for (int i = 0; i < 7; i++)
        CHECK(!isnan(text_y(svg, labels[i])), "label '%s' is text in the SVG, as written", labels[i]);
    CHECK(strstr(svg, "font-family=\"DejaVu Sans"), "the SVG asks for DejaVu Sans");
    /* y fitted to the data (0.49 to 0.575 with the band and the reference):
       ticks every 2 points from 48 to 58, not from 0 */
    double y48 = text_y(svg, "48"), y58 = text_y(svg, "58");
    CHECK(!isnan(y48) && !isnan(y58) && isnan(text_y(svg, "0")) && isnan(text_y(svg, "60")) && isnan(text_y(svg, "46")),
          "ticks 48..58: y fitted to the data");
    /* the markers of series 1 (circles) lie where the ticks say */
    double mx[4], my[4];
    int n = centres(svg, "circle", "#0072b2", mx, my, 4);
    CHECK(n == 4, "4 markers of series 1 (got %d)", n);
    for (int i = 0; i < n; i++) {
        double want = y48 + (y58 - y48) * (a[i] - 0.48) / 0.10;   /* tick labels sit 0.35 x 12 px below their value */
        CHECK(fabs(my[i] + 12 * 0.35 - want) < 0.6, "marker %d at y %.2f, expected %.2f", i, my[i] + 4.2, want);
        CHECK(i == 0 || mx[i] > mx[i - 1], "markers left to right");
    }
    /* series 2: square markers (polygons), none where the value is missing */
    double px[4], py[4];
    int n2 = centres(svg, "polygon", "#d55e00", px, py, 4);
    CHECK(n2 >= 3 && fabs(px[1] - mx[2]) < 0.6, "series 2 has square markers and none at the missing point");
    CHECK(strstr(svg, "stroke=\"#0072b2\"") && strstr(svg, "stroke=\"#d55e00\" stroke-dasharray="),
          "series 1 solid, series 2 dashed");
    CHECK(strstr(svg, "fill=\"#0072b2\" fill-opacity="), "a translucent band around series 1");
    CHECK(strstr(svg, "stroke=\"#6e6e6e\" stroke-dasharray="), "the reference line is dashed grey");
    /* the PNG: same size, the marker centres in the series' colour, dark
       anti-aliased text in the title */
    uint8_t *img = NULL;
    int w = 0, h = 0, ch = 0;
    CHECK(png_read(png, &img, &w, &h, &ch, &e) == 0 && w == W && h == H && ch == 3, "PNG reads back: %s", e.msg);
    if (img && w == W && h == H && ch == 3) {
        for (int i = 0; i < n; i++) {
            const uint8_t *p = img + ((size_t)lround(my[i] - 0.5) * W + (size_t)lround(mx[i] - 0.5)) * 3;
            CHECK(abs(p[0] - 0) < 40 && abs(p[1] - 114) < 40 && abs(p[2] - 178) < 40,
                  "PNG marker %d in the series' colour (%d %d %d)", i, p[0], p[1], p[2]);
        }
        int dark = 0, mid = 0;
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < W; x++) {
                const uint8_t *p = img + ((size_t)y * W + x) * 3;
                dark += p[0] < 60 && p[1] < 60 && p[2] < 60;
                mid += p[0] > 80 && p[0] < 200 && p[0] == p[1] && p[1] == p[2];
            }
        CHECK(dark > 100 && mid > 20, "title text drawn, anti-aliased (%d dark, %d grey pixels)", dark, mid);
    }
    free(img);
    free(svg);
    /* a fixed range is kept */
    plot_chart fixed = c;
    fixed.ymin = 0;
    fixed.ymax = 1;
    fixed.ystep = 0.25;
    CHECK(plot_write(png, &fixed, W, H, &e) == 0, "%s", e.msg);
    svg = fx_read(svgp, NULL);
    CHECK(svg && !isnan(text_y(svg, "0")) && !isnan(text_y(svg, "100")) && !isnan(text_y(svg, "25")),
          "a fixed y range keeps its ticks");
    free(svg);
    /* refused */
    plot_chart bad = c;
    bad.ystep = 0.1;
    bad.ymax = bad.ymin = 0;
    CHECK(plot_write(png, &bad, W, H, &e) == -1 && strstr(e.msg, "bad chart"), "empty y range refused: %s", e.msg);
    bad = c;
    bad.n_series = PLOT_MAX_SERIES + 1;
    CHECK(plot_write(png, &bad, W, H, &e) == -1, "too many series refused");
    double none[4] = {NAN, NAN, NAN, NAN};
    plot_series empty = {.label = "x", .y = none};
    bad = c;
    bad.series = &empty;
    bad.n_series = 1;
    bad.ref = NAN;
    CHECK(plot_write(png, &bad, W, H, &e) == -1 && strstr(e.msg, "no finite value"), "nothing to draw: %s", e.msg);
    CHECK(plot_write("/nonexistent/dir/c.png", &c, W, H, &e) == -1 && strstr(e.msg, "/nonexistent/dir/c.png"),
          "unwritable path named: %s", e.msg);
    /* figure: text escaped in the SVG, an embedded image, .svg beside any name */
    figure *f;
    CHECK(figure_new(&f, 100, 60, &e) == 0, "%s", e.msg);
    if (f) {
        static const uint8_t black[3] = {0, 0, 0};
        uint8_t pix[4] = {0, 255, 128, 64};
        figure_text(f, 2, 20, "a < b & \"c\"", 12, FIG_LEFT, 0, 0, black);
        figure_image(f, 10, 30, 5, pix, 2, 2, 1);
        CHECK(figure_write(f, fx_path("g.png"), &e) == 0, "%s", e.msg);
        figure_free(f);
        svg = fx_read(fx_path("g.svg"), NULL);
        CHECK(svg && xml_check(svg, msg, sizeof msg) == 0, "figure SVG well formed: %s", msg);
        CHECK(svg && strstr(svg, ">a &lt; b &amp; &quot;c&quot;</text>"), "text escaped");
        CHECK(svg && strstr(svg, "<image x=\"10.00\" y=\"30.00\" width=\"10\" height=\"10\"") &&
              strstr(svg, "data:image/png;base64,iVBORw0KGgo"), "image embedded as PNG, enlarged 5x");
        free(svg);
        uint8_t *g = NULL;
        if (png_read(fx_path("g.png"), &g, &w, &h, &ch, &e) == 0) {
            const uint8_t *p1 = g + ((size_t)32 * 100 + 17) * 3, *p0 = g + ((size_t)32 * 100 + 12) * 3;
            CHECK(p0[0] == 0 && p1[0] == 255 && p1[1] == 255, "the image's pixels as blocks, unsmoothed (%d, %d)", p0[0],
                  p1[0]);
            free(g);
        } else
            CHECK(0, "figure PNG: %s", e.msg);
    }
    char sp[64];
    figure_svg_path("a/b.png", sp, sizeof sp);
    CHECK(!strcmp(sp, "a/b.svg"), "a/b.png -> %s", sp);
    figure_svg_path("a/b", sp, sizeof sp);
    CHECK(!strcmp(sp, "a/b.svg"), "a/b -> %s", sp);
    fx_cleanup();
    return check_done();
}
