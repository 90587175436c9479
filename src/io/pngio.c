/* PNG reading and writing through libpng (see pngio.h).
 *
 * libpng reports errors by calling an error function that must not return;
 * ours copies the message into a per-call context and longjmps back to the
 * setjmp in png_read / png_write, which then frees everything it holds.
 * Everything that must be freed on that path lives in a context struct that is
 * not modified between setjmp and longjmp in a way the compiler could cache in
 * a register (the pointers are set before setjmp or accessed through a
 * volatile-qualified pointer), so nothing leaks.
 *
 * Bad content (not a PNG, truncated, corrupt) is reported with err_input;
 * failures to open or write files with err_set.
 *
 * Memory: png_read allocates *pixels (caller frees with free()); png_write
 * only reads its input. */
#include "pngio.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef struct png_ctx {
    jmp_buf jmp;
    char msg[256];
    FILE *f;
    const char *path;
} png_ctx;

static void ctx_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jmp, 1);
}

static void ctx_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings (e.g. unknown chunks) are not the caller's business */
}

/* A read function that tells a truncated file apart from other errors. */
static void ctx_read_data(png_structp png, png_bytep data, png_size_t len)
{
    png_ctx *c = png_get_io_ptr(png);
    size_t got = fread(data, 1, len, c->f);
    if (got != len) {
        if (ferror(c->f))
            png_error(png, "read error");
        png_error(png, "file is truncated (unexpected end of file)");
    }
}

static void ctx_write_data(png_structp png, png_bytep data, png_size_t len)
{
    png_ctx *c = png_get_io_ptr(png);
    if (fwrite(data, 1, len, c->f) != len)
        png_error(png, "write error (disk full?)");
}

static void ctx_flush(png_structp png)
{
    png_ctx *c = png_get_io_ptr(png);
    fflush(c->f);
}

int png_write(const char *path, const uint8_t *pixels, int width, int height,
              int channels, err_t *e)
{
    if (!path || !pixels)
        return err_set(e, "png_write: NULL path or pixels");
    if (width <= 0 || height <= 0 || width > 1000000 || height > 1000000)
        return err_set(e, "%s: invalid PNG size %dx%d (must be 1..1000000)", path, width, height);
    if (channels != 1 && channels != 3)
        return err_set(e, "%s: PNG channels must be 1 (gray) or 3 (RGB), not %d", path, channels);

    png_ctx c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.f = fopen(path, "wb");
    if (!c.f)
        return err_set(e, "%s: cannot create PNG file: %s", path, strerror(errno));

    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, ctx_error, ctx_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        fclose(c.f);
        remove(path);
        return err_set(e, "%s: out of memory creating a PNG writer", path);
    }
    /* png and info are not modified after setjmp; safe to use after longjmp. */
    if (setjmp(c.jmp)) {
        png_destroy_write_struct(&png, &info);
        fclose(c.f);
        remove(path);
        return err_set(e, "%s: cannot write PNG: %s", path, c.msg);
    }
    png_set_write_fn(png, &c, ctx_write_data, ctx_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * channels;
    for (int y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    int closed = fclose(c.f);
    if (closed != 0) {
        int err = errno;
        remove(path);
        return err_set(e, "%s: cannot finish writing PNG: %s", path, strerror(err));
    }
    return 0;
}

int png_read(const char *path, uint8_t **pixels, int *width, int *height,
             int *channels, err_t *e)
{
    if (!path || !pixels || !width || !height || !channels)
        return err_set(e, "png_read: NULL argument");
    *pixels = NULL;

    png_ctx c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.f = fopen(path, "rb");
    if (!c.f)
        return err_set(e, "%s: cannot open PNG file: %s", path, strerror(errno));

    unsigned char sig[8];
    size_t got = fread(sig, 1, sizeof sig, c.f);
    if (got < sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        fclose(c.f);
        if (got < sizeof sig && got > 0 && png_sig_cmp(sig, 0, got) == 0)
            return err_input(e, "%s: PNG file is truncated (only %zu bytes)", path, got);
        return err_input(e, "%s: not a PNG file (bad signature)", path);
    }

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, ctx_error, ctx_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(c.f);
        return err_set(e, "%s: out of memory creating a PNG reader", path);
    }
    /* Buffers allocated after setjmp are reached through a volatile pointer
     * so their values survive the longjmp. */
    uint8_t *volatile buf = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(c.jmp)) {
        free(rows);
        free(buf);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(c.f);
        if (strstr(c.msg, "truncated"))
            return err_input(e, "%s: PNG %s", path, c.msg);
        if (strstr(c.msg, "out of memory"))
            return err_set(e, "%s: cannot read PNG: %s", path, c.msg);
        if (strstr(c.msg, "out of range"))
            return err_input(e, "%s: cannot read PNG: %s", path, c.msg);
        return err_input(e, "%s: corrupt PNG: %s", path, c.msg);
    }
    png_set_read_fn(png, &c, ctx_read_data);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (w == 0 || h == 0 || w > 100000 || h > 100000 || (size_t)w * h > (size_t)1 << 28)
        png_error(png, "image size out of range (at most 100000 per side, 2^28 pixels)");

    /* Normalise to 8-bit gray or RGB. */
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16)
        png_set_strip_16(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int ch = png_get_channels(png, info);
    if (ch != 1 && ch != 3)
        png_error(png, "unexpected channel count after conversion");
    if (png_get_bit_depth(png, info) != 8)
        png_error(png, "unexpected bit depth after conversion");
    size_t stride = png_get_rowbytes(png, info);
    if (stride != (size_t)w * ch)
        png_error(png, "unexpected row size after conversion");

    buf = malloc((size_t)h * stride);
    rows = malloc(h * sizeof *rows);
    if (!buf || !rows)
        png_error(png, "out of memory for the pixels");
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = buf + (size_t)y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(c.f);
    *pixels = buf;
    *width = (int)w;
    *height = (int)h;
    *channels = ch;
    return 0;
}
