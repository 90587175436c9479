/* PNG files through libpng: 8-bit gray or RGB images in and out. */
#ifndef DRMM_PNGIO_H
#define DRMM_PNGIO_H

#include <stdint.h>

struct err_t;

/* Writes an 8-bit image with `channels` 1 (gray) or 3 (RGB), interleaved
 * (HWC), rows top to bottom.  Returns 0, or -1 with a message naming path. */
int png_write(const char *path, const uint8_t *pixels, int width, int height,
              int channels, struct err_t *e);

/* Reads a PNG into a newly allocated 8-bit HWC buffer (*pixels, caller frees).
 * Palette, 16-bit, low bit depth and alpha are converted so that *channels is
 * 1 (gray) or 3 (RGB).  Returns 0, or -1 with a message naming path and the
 * problem (not a PNG, truncated, corrupt). */
int png_read(const char *path, uint8_t **pixels, int *width, int *height,
             int *channels, struct err_t *e);

#endif
