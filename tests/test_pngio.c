/* Tests for src/io/pngio.c: round trips, conversions of palette, 16-bit,
 * low-bit-depth and alpha inputs (written with libpng directly), and clear
 * errors for truncated, garbage, missing and unwritable files. */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "pngio.h"

static char dir[64];

static const char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Writes a PNG with arbitrary libpng settings; rows are given packed as
 * libpng expects them for that format.  Returns 0 on success. */
static int raw_write(const char *path, int w, int h, int depth, int color,
                     const uint8_t *data, size_t stride, const png_color *palette, int npal,
                     const uint8_t *trns, int ntrns)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, color, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, npal);
    if (trns)
        png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, data + (size_t)y * stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f);
}

static void test_roundtrip(int channels)
{
    int w = 7, h = 5;
    uint8_t px[7 * 5 * 3];
    for (int i = 0; i < w * h * channels; i++)
        px[i] = (uint8_t)(i * 37 + 11);
    err_t e = {0};
    const char *p = tmp_path(channels == 1 ? "gray.png" : "rgb.png");
    CHECK(png_write(p, px, w, h, channels, &e) == 0, "write %d channels: %s", channels, e.msg);
    uint8_t *out = NULL;
    int ow = 0, oh = 0, oc = 0;
    CHECK(png_read(p, &out, &ow, &oh, &oc, &e) == 0, "read %d channels: %s", channels, e.msg);
    CHECK(ow == w && oh == h && oc == channels, "size %dx%dx%d", ow, oh, oc);
    CHECK(out && memcmp(out, px, (size_t)w * h * channels) == 0, "pixels differ (%d channels)", channels);
    free(out);
}

static void test_palette(void)
{
    png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {10, 20, 30}};
    uint8_t trns[3] = {255, 128, 0};
    uint8_t idx[2 * 3] = {0, 1, 2, 2, 1, 0};
    const char *p = tmp_path("pal.png");
    CHECK(raw_write(p, 3, 2, 8, PNG_COLOR_TYPE_PALETTE, idx, 3, pal, 3, trns, 3) == 0, "raw palette write");
    uint8_t *out = NULL;
    int w, h, c;
    err_t e = {0};
    CHECK(png_read(p, &out, &w, &h, &c, &e) == 0, "palette read: %s", e.msg);
    CHECK(w == 3 && h == 2 && c == 3, "palette -> %dx%dx%d", w, h, c);
    if (out) {
        CHECK(out[0] == 255 && out[1] == 0 && out[2] == 0, "pixel 0 = %d,%d,%d", out[0], out[1], out[2]);
        CHECK(out[6] == 10 && out[7] == 20 && out[8] == 30, "pixel 2 = %d,%d,%d", out[6], out[7], out[8]);
    }
    free(out);

    /* 2-bit palette */
    uint8_t packed[1] = {0x1B}; /* indices 0,1,2,3 -> use 0,1,2,2 */
    packed[0] = (0 << 6) | (1 << 4) | (2 << 2) | 2;
    p = tmp_path("pal2.png");
    CHECK(raw_write(p, 4, 1, 2, PNG_COLOR_TYPE_PALETTE, packed, 1, pal, 3, NULL, 0) == 0, "raw 2-bit palette");
    out = NULL;
    CHECK(png_read(p, &out, &w, &h, &c, &e) == 0, "2-bit palette read: %s", e.msg);
    CHECK(w == 4 && h == 1 && c == 3, "2-bit palette -> %dx%dx%d", w, h, c);
    if (out)
        CHECK(out[3] == 0 && out[4] == 255 && out[9] == 10, "2-bit palette pixels");
    free(out);
}

static void test_16bit_and_alpha(void)
{
    /* 16-bit gray: high byte kept */
    uint8_t g16[2 * 2 * 2] = {0x12, 0x34, 0xAB, 0xCD, 0xFF, 0xFF, 0x00, 0x01};
    const char *p = tmp_path("g16.png");
    CHECK(raw_write(p, 2, 2, 16, PNG_COLOR_TYPE_GRAY, g16, 4, NULL, 0, NULL, 0) == 0, "raw 16-bit write");
    uint8_t *out = NULL;
    int w, h, c;
    err_t e = {0};
    CHECK(png_read(p, &out, &w, &h, &c, &e) == 0, "16-bit read: %s", e.msg);
    CHECK(w == 2 && h == 2 && c == 1, "16-bit -> %dx%dx%d", w, h, c);
    if (out)
        CHECK(out[0] == 0x12 && out[1] == 0xAB && out[2] == 0xFF && out[3] == 0x00,
              "16-bit pixels %x %x %x %x", out[0], out[1], out[2], out[3]);
    free(out);

    /* 16-bit RGBA -> RGB */
    uint8_t rgba16[1 * 2 * 8] = {0x10, 0, 0x20, 0, 0x30, 0, 0xFF, 0xFF, 0x40, 0, 0x50, 0, 0x60, 0, 0x00, 0x00};
    p = tmp_path("rgba16.png");
    CHECK(raw_write(p, 2, 1, 16, PNG_COLOR_TYPE_RGB_ALPHA, rgba16, 16, NULL, 0, NULL, 0) == 0, "raw rgba16");
    out = NULL;
    CHECK(png_read(p, &out, &w, &h, &c, &e) == 0, "rgba16 read: %s", e.msg);
    CHECK(w == 2 && h == 1 && c == 3, "rgba16 -> %dx%dx%d", w, h, c);
    if (out)
        CHECK(out[0] == 0x10 && out[2] == 0x30 && out[3] == 0x40 && out[5] == 0x60, "rgba16 pixels");
    free(out);

    /* 8-bit gray + alpha -> gray */
    uint8_t ga[3 * 2] = {5, 255, 100, 0, 200, 7};
    p = tmp_path("ga.png");
    CHECK(raw_write(p, 3, 1, 8, PNG_COLOR_TYPE_GRAY_ALPHA, ga, 6, NULL, 0, NULL, 0) == 0, "raw gray+alpha");
    out = NULL;
    CHECK(png_read(p, &out, &w, &h, &c, &e) == 0, "gray+alpha read: %s", e.msg);
    CHECK(w == 3 && h == 1 && c == 1, "gray+alpha -> %dx%dx%d", w, h, c);
    if (out)
        CHECK(out[0] == 5 && out[1] == 100 && out[2] == 200, "gray+alpha pixels");
    free(out);

    /* 1-bit gray -> 0/255 */
    uint8_t bits[1] = {0xA0}; /* 1 0 1 0 */
    p = tmp_path("g1.png");
    CHECK(raw_write(p, 4, 1, 1, PNG_COLOR_TYPE_GRAY, bits, 1, NULL, 0, NULL, 0) == 0, "raw 1-bit");
    out = NULL;
    CHECK(png_read(p, &out, &w, &h, &c, &e) == 0, "1-bit read: %s", e.msg);
    CHECK(w == 4 && h == 1 && c == 1, "1-bit -> %dx%dx%d", w, h, c);
    if (out)
        CHECK(out[0] == 255 && out[1] == 0 && out[2] == 255 && out[3] == 0, "1-bit pixels");
    free(out);
}

static void test_errors(void)
{
    err_t e = {0};
    uint8_t *out = NULL;
    int w, h, c;

    /* missing */
    CHECK(png_read(tmp_path("missing.png"), &out, &w, &h, &c, &e) == -1, "missing file accepted");
    CHECK(strstr(e.msg, "missing.png") && strstr(e.msg, "No such file"), "message: %s", e.msg);
    CHECK(out == NULL, "pixels set on failure");
    CHECK(e.kind == ERR_RUNTIME, "missing file is a runtime error");

    /* garbage */
    const char *p = tmp_path("garbage.png");
    FILE *f = fopen(p, "wb");
    fputs("this is not a PNG file at all, just text\n", f);
    fclose(f);
    CHECK(png_read(p, &out, &w, &h, &c, &e) == -1, "garbage accepted");
    CHECK(strstr(e.msg, "garbage.png") && strstr(e.msg, "not a PNG"), "message: %s", e.msg);
    CHECK(e.kind == ERR_INPUT, "not-a-PNG is an input error");

    /* empty */
    p = tmp_path("empty.png");
    f = fopen(p, "wb");
    fclose(f);
    CHECK(png_read(p, &out, &w, &h, &c, &e) == -1, "empty file accepted");
    CHECK(strstr(e.msg, "empty.png") != NULL, "message: %s", e.msg);

    /* truncated: a valid PNG cut at several lengths */
    uint8_t px[16 * 16];
    for (int i = 0; i < 256; i++)
        px[i] = (uint8_t)(i * 7919 >> 3);
    p = tmp_path("full.png");
    CHECK(png_write(p, px, 16, 16, 1, &e) == 0, "write full: %s", e.msg);
    f = fopen(p, "rb");
    uint8_t bytes[4096];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    size_t cuts[] = {4, 20, 40, n / 2, n - 13};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        const char *q = tmp_path("trunc.png");
        f = fopen(q, "wb");
        fwrite(bytes, 1, cuts[k], f);
        fclose(f);
        out = NULL;
        int rc = png_read(q, &out, &w, &h, &c, &e);
        CHECK(rc == -1, "truncated at %zu accepted", cuts[k]);
        CHECK(strstr(e.msg, "trunc.png") && strstr(e.msg, "truncated"), "cut %zu message: %s", cuts[k], e.msg);
        CHECK(out == NULL, "pixels set for truncated file");
    }

    /* corrupt: flip a byte inside the image data (CRC error) */
    p = tmp_path("corrupt.png");
    bytes[n / 2] ^= 0x5A;
    f = fopen(p, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
    out = NULL;
    CHECK(png_read(p, &out, &w, &h, &c, &e) == -1, "corrupt accepted");
    CHECK(strstr(e.msg, "corrupt.png") && strstr(e.msg, "corrupt"), "message: %s", e.msg);
    CHECK(e.kind == ERR_INPUT, "corrupt PNG is an input error");
    free(out);

    /* unwritable path */
    CHECK(png_write("/nonexistent-dir-drmm/x.png", px, 16, 16, 1, &e) == -1, "unwritable accepted");
    CHECK(strstr(e.msg, "/nonexistent-dir-drmm/x.png") && strstr(e.msg, "cannot create"), "message: %s", e.msg);

    /* invalid arguments */
    CHECK(png_write(tmp_path("bad.png"), px, 0, 16, 1, &e) == -1, "zero width accepted");
    CHECK(strstr(e.msg, "size") != NULL, "message: %s", e.msg);
    CHECK(png_write(tmp_path("bad.png"), px, 4, 4, 2, &e) == -1, "2 channels accepted");
    CHECK(strstr(e.msg, "channels") != NULL, "message: %s", e.msg);
    CHECK(access(tmp_path("bad.png"), F_OK) != 0, "file created for invalid arguments");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_pngio.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_roundtrip(1);
    test_roundtrip(3);
    test_palette();
    test_16bit_and_alpha();
    test_errors();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("warning: could not remove %s\n", dir);
    return check_done();
}
