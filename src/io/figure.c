/* A figure as PNG (cairo, DejaVu Sans) and SVG (written directly); see figure.h. */
#include "figure.h"

#include <cairo/cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pngio.h"

#define FONT "DejaVu Sans"

struct figure {
    int w, h;
    cairo_surface_t *surf;
    cairo_t *cr;
    char *svg;          /* the SVG body, grown by open_memstream */
    size_t svg_len;
    FILE *svg_f;
    int failed;         /* out of memory somewhere */
};

int figure_new(figure **out, int width, int height, err_t *e)
{
    *out = NULL;
    if (width < 1 || height < 1 || width > 16384 || height > 16384)
        return err_set(e, "figure: bad size %d x %d", width, height);
    figure *f = calloc(1, sizeof *f);
    if (!f)
        return err_set(e, "out of memory");
    f->w = width;
    f->h = height;
    f->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    f->cr = cairo_create(f->surf);
    f->svg_f = open_memstream(&f->svg, &f->svg_len);
    if (cairo_status(f->cr) != CAIRO_STATUS_SUCCESS || !f->svg_f) {
        figure_free(f);
        return err_set(e, "figure: out of memory for %d x %d pixels", width, height);
    }
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);   /* widths as in the SVG */
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(f->cr, fo);
    cairo_font_options_destroy(fo);
    cairo_set_source_rgb(f->cr, 1, 1, 1);
    cairo_paint(f->cr);
    fprintf(f->svg_f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
    *out = f;
    return 0;
}

void figure_free(figure *f)
{
    if (!f)
        return;
    if (f->cr)
        cairo_destroy(f->cr);
    if (f->surf)
        cairo_surface_destroy(f->surf);
    if (f->svg_f)
        fclose(f->svg_f);
    free(f->svg);
    free(f);
}

static void src(figure *f, const uint8_t c[3], double alpha)
{
    cairo_set_source_rgba(f->cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, alpha);
}

static void font(figure *f, double size, int bold)
{
    cairo_select_font_face(f->cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(f->cr, size);
}

double figure_text_width(figure *f, const char *s, double size, int bold)
{
    cairo_text_extents_t t;
    font(f, size, bold);
    cairo_text_extents(f->cr, s, &t);
    return t.x_advance;
}

/* dash patterns in units of the line width */
static int dashes(fig_dash d, double width, double *out)
{
    double u = width < 1 ? 1 : width;
    switch (d) {
    case FIG_DASHED: out[0] = 5 * u; out[1] = 3 * u; return 2;
    case FIG_DOTTED: out[0] = 1 * u; out[1] = 2 * u; return 2;
    case FIG_DASHDOT: out[0] = 6 * u; out[1] = 2.5 * u; out[2] = 1 * u; out[3] = 2.5 * u; return 4;
    default: return 0;
    }
}

static void svg_colour(FILE *o, const char *attr, const uint8_t c[3])
{
    fprintf(o, " %s=\"#%02x%02x%02x\"", attr, c[0], c[1], c[2]);
}

void figure_line(figure *f, const double *xy, int n, double width, fig_dash dash, const uint8_t rgb[3])
{
    double d[4];
    int nd = dashes(dash, width, d);
    cairo_t *cr = f->cr;
    cairo_save(cr);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, dash == FIG_DOTTED ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT);
    cairo_set_dash(cr, d, nd, 0);
    src(f, rgb, 1);
    int i = 0;
    while (i < n) {
        while (i < n && (isnan(xy[2 * i]) || isnan(xy[2 * i + 1])))
            i++;
        int start = i;
        while (i < n && !isnan(xy[2 * i]) && !isnan(xy[2 * i + 1]))
            i++;
        if (i - start < 2)
            continue;
        for (int k = start; k < i; k++)
            (k == start ? cairo_move_to : cairo_line_to)(cr, xy[2 * k], xy[2 * k + 1]);
        cairo_stroke(cr);
        fprintf(f->svg_f, "<polyline fill=\"none\" stroke-width=\"%g\" stroke-linejoin=\"round\"", width);
        svg_colour(f->svg_f, "stroke", rgb);
        if (dash == FIG_DOTTED)
            fprintf(f->svg_f, " stroke-linecap=\"round\"");
        if (nd) {
            fprintf(f->svg_f, " stroke-dasharray=\"");
            for (int k = 0; k < nd; k++)
                fprintf(f->svg_f, "%s%g", k ? "," : "", d[k]);
            fprintf(f->svg_f, "\"");
        }
        fprintf(f->svg_f, " points=\"");
        for (int k = start; k < i; k++)
            fprintf(f->svg_f, "%s%.2f,%.2f", k > start ? " " : "", xy[2 * k], xy[2 * k + 1]);
        fprintf(f->svg_f, "\"/>\n");
    }
    cairo_restore(cr);
}

void figure_polygon(figure *f, const double *xy, int n, const uint8_t rgb[3], double alpha)
{
    if (n < 3)
        return;
    for (int k = 0; k < n; k++)
        (k ? cairo_line_to : cairo_move_to)(f->cr, xy[2 * k], xy[2 * k + 1]);
    cairo_close_path(f->cr);
    src(f, rgb, alpha);
    cairo_fill(f->cr);
    fprintf(f->svg_f, "<polygon");
    svg_colour(f->svg_f, "fill", rgb);
    if (alpha < 1)
        fprintf(f->svg_f, " fill-opacity=\"%g\"", alpha);
    fprintf(f->svg_f, " points=\"");
    for (int k = 0; k < n; k++)
        fprintf(f->svg_f, "%s%.2f,%.2f", k ? " " : "", xy[2 * k], xy[2 * k + 1]);
    fprintf(f->svg_f, "\"/>\n");
}

void figure_rect(figure *f, double x, double y, double w, double h, const uint8_t rgb[3])
{
    cairo_rectangle(f->cr, x, y, w, h);
    src(f, rgb, 1);
    cairo_fill(f->cr);
    fprintf(f->svg_f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"", x, y, w, h);
    svg_colour(f->svg_f, "fill", rgb);
    fprintf(f->svg_f, "/>\n");
}

void figure_marker(figure *f, double x, double y, fig_marker m, double r, const uint8_t rgb[3])
{
    static const uint8_t white[3] = {255, 255, 255};
    double p[8];
    int n = 0;
    switch (m) {
    case FIG_SQUARE: r *= 0.85; n = 4;
        p[0] = x - r; p[1] = y - r; p[2] = x + r; p[3] = y - r; p[4] = x + r; p[5] = y + r; p[6] = x - r; p[7] = y + r;
        break;
    case FIG_TRIANGLE: n = 3;
        p[0] = x; p[1] = y - 1.2 * r; p[2] = x + 1.1 * r; p[3] = y + 0.75 * r; p[4] = x - 1.1 * r; p[5] = y + 0.75 * r;
        break;
    case FIG_TRIANGLE_DOWN: n = 3;
        p[0] = x; p[1] = y + 1.2 * r; p[2] = x + 1.1 * r; p[3] = y - 0.75 * r; p[4] = x - 1.1 * r; p[5] = y - 0.75 * r;
        break;
    case FIG_DIAMOND: n = 4;
        p[0] = x; p[1] = y - 1.25 * r; p[2] = x + r; p[3] = y; p[4] = x; p[5] = y + 1.25 * r; p[6] = x - r; p[7] = y;
        break;
    default: break;
    }
    cairo_t *cr = f->cr;
    if (n)
        for (int k = 0; k < n; k++)
            (k ? cairo_line_to : cairo_move_to)(cr, p[2 * k], p[2 * k + 1]);
    else
        cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    cairo_close_path(cr);
    src(f, rgb, 1);
    cairo_fill_preserve(cr);
    cairo_set_line_width(cr, 1);
    src(f, white, 1);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_stroke(cr);
    if (n) {
        fprintf(f->svg_f, "<polygon points=\"");
        for (int k = 0; k < n; k++)
            fprintf(f->svg_f, "%s%.2f,%.2f", k ? " " : "", p[2 * k], p[2 * k + 1]);
        fprintf(f->svg_f, "\"");
    } else
        fprintf(f->svg_f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\"", x, y, r);
    svg_colour(f->svg_f, "fill", rgb);
    fprintf(f->svg_f, " stroke=\"#ffffff\" stroke-width=\"1\"/>\n");
}

static void xml_text(FILE *o, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        default: fputc(*s, o);
        }
}

void figure_text(figure *f, double x, double y, const char *s, double size, fig_anchor a, int bold, double angle,
                 const uint8_t rgb[3])
{
    if (!s || !*s)
        return;
    double w = figure_text_width(f, s, size, bold);
    double dx = a == FIG_CENTRE ? -w / 2 : a == FIG_RIGHT ? -w : 0;
    cairo_t *cr = f->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle * M_PI / 180);
    cairo_move_to(cr, dx, 0);
    src(f, rgb, 1);
    cairo_show_text(cr, s);
    cairo_restore(cr);
    fprintf(f->svg_f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%g\"%s%s", x, y, size,
            a == FIG_CENTRE ? " text-anchor=\"middle\"" : a == FIG_RIGHT ? " text-anchor=\"end\"" : "",
            bold ? " font-weight=\"bold\"" : "");
    if (angle != 0)
        fprintf(f->svg_f, " transform=\"rotate(%g %.2f %.2f)\"", angle, x, y);
    svg_colour(f->svg_f, "fill", rgb);
    fputc('>', f->svg_f);
    xml_text(f->svg_f, s);
    fputs("</text>\n", f->svg_f);
}

/* cairo's PNG stream writer into a growing buffer */
typedef struct membuf { unsigned char *p; size_t n, cap; int failed; } membuf;

static cairo_status_t membuf_write(void *arg, const unsigned char *data, unsigned int len)
{
    membuf *b = arg;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4096;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

static void base64(FILE *o, const unsigned char *p, size_t n)
{
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(T[v >> 18 & 63], o);
        fputc(T[v >> 12 & 63], o);
        fputc(i + 1 < n ? T[v >> 6 & 63] : '=', o);
        fputc(i + 2 < n ? T[v & 63] : '=', o);
    }
}

void figure_image(figure *f, double x, double y, int scale, const uint8_t *pix, int w, int h, int channels)
{
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        f->failed = 1;
        cairo_surface_destroy(img);
        return;
    }
    cairo_surface_flush(img);
    unsigned char *d = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            const uint8_t *q = pix + ((size_t)r * w + c) * channels;
            uint32_t v = channels == 3 ? (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2]
                                       : (uint32_t)q[0] << 16 | (uint32_t)q[0] << 8 | q[0];
            memcpy(d + (size_t)r * stride + 4 * (size_t)c, &v, 4);
        }
    cairo_surface_mark_dirty(img);
    cairo_t *cr = f->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, w, h);
    cairo_fill(cr);
    cairo_restore(cr);
    membuf b = {0};
    if (cairo_surface_write_to_png_stream(img, membuf_write, &b) != CAIRO_STATUS_SUCCESS || b.failed)
        f->failed = 1;
    else {
        fprintf(f->svg_f, "<image x=\"%.2f\" y=\"%.2f\" width=\"%d\" height=\"%d\" preserveAspectRatio=\"none\" "
                          "style=\"image-rendering:pixelated\" href=\"data:image/png;base64,", x, y, w * scale, h * scale);
        base64(f->svg_f, b.p, b.n);
        fprintf(f->svg_f, "\"/>\n");
    }
    free(b.p);
    cairo_surface_destroy(img);
}

void figure_svg_path(const char *png_path, char *buf, unsigned long n)
{
    size_t len = strlen(png_path);
    if (len >= 4 && !strcmp(png_path + len - 4, ".png"))
        snprintf(buf, n, "%.*s.svg", (int)(len - 4), png_path);
    else
        snprintf(buf, n, "%s.svg", png_path);
}

int figure_write(figure *f, const char *png_path, err_t *e)
{
    if (fflush(f->svg_f) || f->failed || cairo_status(f->cr) != CAIRO_STATUS_SUCCESS)
        return err_set(e, "%s: out of memory drawing the figure", png_path);
    /* PNG: the surface's xRGB words as RGB bytes, through pngio */
    cairo_surface_flush(f->surf);
    const unsigned char *d = cairo_image_surface_get_data(f->surf);
    int stride = cairo_image_surface_get_stride(f->surf);
    uint8_t *rgb = malloc((size_t)f->w * f->h * 3);
    if (!rgb)
        return err_set(e, "out of memory");
    for (int r = 0; r < f->h; r++)
        for (int c = 0; c < f->w; c++) {
            uint32_t v;
            memcpy(&v, d + (size_t)r * stride + 4 * (size_t)c, 4);
            uint8_t *q = rgb + ((size_t)r * f->w + c) * 3;
            q[0] = v >> 16 & 255;
            q[1] = v >> 8 & 255;
            q[2] = v & 255;
        }
    int rc = png_write(png_path, rgb, f->w, f->h, 3, e);
    free(rgb);
    if (rc)
        return -1;
    char svg[4096];
    figure_svg_path(png_path, svg, sizeof svg);
    FILE *o = fopen(svg, "w");
    if (!o)
        return err_set(e, "cannot write %s: %s", svg, strerror(errno));
    fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"DejaVu Sans, Verdana, sans-serif\">\n", f->w, f->h, f->w, f->h);
    fwrite(f->svg, 1, f->svg_len, o);
    fputs("</svg>\n", o);
    if (ferror(o) | fclose(o))
        return err_set(e, "cannot write %s: %s", svg, strerror(errno));
    return 0;
}
