/* 3x5 pixel font (see font.h).  Each glyph is five rows of three bits,
 * written as five octal digits, top row first, left pixel = bit 2. */
#include "font.h"

#include <ctype.h>
#include <string.h>

static int glyph(int c)
{
    static const char chars[] = "0123456789abcdefghijklmnopqrstuvwxyz.-_:=()/+%";
    static const int bits[] = {
        075557, 026227, 071747, 071717, 055711, 074717, 074757, 071122, 075757, 075717,
        025755, 065656, 034443, 065556, 074647, 074644, 034553, 055755, 072227, 011152,
        055655, 044447, 057755, 065555, 025552, 065644, 025563, 065655, 034216, 072222,
        055557, 055552, 055775, 055255, 055222, 071247,
        000002, 000700, 000007, 002020, 007070, 012221, 042224, 011244, 002720, 051245,
    };
    c = tolower(c);
    const char *p = c ? strchr(chars, c) : NULL;
    return p ? bits[p - chars] : 0;
}

int font_width(const char *text, int scale)
{
    return (int)strlen(text) * 4 * scale;
}

void font_draw(uint8_t *img, int w, int h, int x, int y, const char *text, int scale, uint8_t value)
{
    for (int k = 0; text[k]; k++) {
        int g = glyph((unsigned char)text[k]);
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 3; c++) {
                if (!((g >> (3 * (4 - r) + (2 - c))) & 1))
                    continue;
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) {
                        int px = x + (k * 4 + c) * scale + dx, py = y + r * scale + dy;
                        if (px >= 0 && px < w && py >= 0 && py < h)
                            img[py * w + px] = value;
                    }
            }
    }
}
