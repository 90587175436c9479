/* A figure drawn once and written twice: as a PNG rasterised by cairo
 * (anti-aliased, text in DejaVu Sans from Debian's fonts-dejavu-core), and as
 * an SVG written here directly, its text kept as <text> elements.
 *
 * Why this split: cairo's own SVG surface draws every glyph as an outline,
 * so its SVG files cannot be searched, selected or edited as text, and a test
 * cannot check their labels; the SVG written here keeps each label as text
 * (font-family "DejaVu Sans", sans-serif as the fall-back) and is a few
 * kilobytes.  The layout is computed once, with cairo's metrics of DejaVu
 * Sans, so the PNG and the SVG show the same figure.  Raster images (the
 * reconstruction grids) are embedded in the SVG as PNG data, unsmoothed.
 *
 * Coordinates are pixels, origin top left, y down.  Drawing calls cannot
 * fail; an error (out of memory) is kept and reported by figure_write. */
#ifndef DRMM_FIGURE_H
#define DRMM_FIGURE_H

#include <stdint.h>

struct err_t;

typedef struct figure figure;

typedef enum { FIG_SOLID, FIG_DASHED, FIG_DOTTED, FIG_DASHDOT } fig_dash;
typedef enum { FIG_LEFT, FIG_CENTRE, FIG_RIGHT } fig_anchor;
typedef enum { FIG_CIRCLE, FIG_SQUARE, FIG_TRIANGLE, FIG_DIAMOND, FIG_TRIANGLE_DOWN, FIG_N_MARKERS } fig_marker;

/* A white width x height figure (*f owned by the caller: figure_free). */
int  figure_new(figure **f, int width, int height, struct err_t *e);
void figure_free(figure *f);

/* Width in pixels of s set in DejaVu Sans of the given size (px). */
double figure_text_width(figure *f, const char *s, double size, int bold);

/* A polyline through n points xy[2n] (NAN points are skipped, breaking the line). */
void figure_line(figure *f, const double *xy, int n, double width, fig_dash dash, const uint8_t rgb[3]);
/* A filled polygon of n points, with opacity alpha in (0, 1]. */
void figure_polygon(figure *f, const double *xy, int n, const uint8_t rgb[3], double alpha);
void figure_rect(figure *f, double x, double y, double w, double h, const uint8_t rgb[3]);
/* A marker of radius r centred at (x, y), filled, with a white rim. */
void figure_marker(figure *f, double x, double y, fig_marker m, double r, const uint8_t rgb[3]);
/* Text with its baseline at y, anchored at x; angle in degrees (-90: reads upwards). */
void figure_text(figure *f, double x, double y, const char *s, double size, fig_anchor a, int bold, double angle,
                 const uint8_t rgb[3]);
/* A raster image (w x h pixels, 1 channel gray or 3 RGB, row-major,
 * interleaved) at (x, y), each pixel a scale x scale block. */
void figure_image(figure *f, double x, double y, int scale, const uint8_t *pix, int w, int h, int channels);

/* Writes the PNG to png_path and the SVG next to it (the same path with
 * .svg in place of .png). */
int figure_write(figure *f, const char *png_path, struct err_t *e);

/* The SVG path of png_path (its .png replaced or .svg appended) into buf. */
void figure_svg_path(const char *png_path, char *buf, unsigned long n);

#endif
