/* A tiny 3x5 pixel font (digits, lower-case letters, a few symbols;
 * upper case is drawn as lower case) for labelling the renderer's contact
 * sheets and histograms. */
#ifndef DRMM_FONT_H
#define DRMM_FONT_H

#include <stdint.h>

/* Width in pixels of text drawn at the given scale (4 * scale per character,
 * including one column of spacing). */
int font_width(const char *text, int scale);

/* Draws text into a gray image img[h][w] with its top-left corner at (x, y),
 * each font pixel a scale x scale block of `value`; clipped to the image.
 * Unknown characters are drawn as blanks. */
void font_draw(uint8_t *img, int w, int h, int x, int y, const char *text, int scale, uint8_t value);

#endif
