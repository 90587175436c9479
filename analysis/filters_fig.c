/* The first layer's filters as a picture (see filters_fig.h). */
#include "filters_fig.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "figure.h"

#define PER_ROW 16
#define TILE 40      /* a tile's side in pixels, about */
#define GAP 4
#define MARGIN 12
#define LABEL_H 22

typedef struct filters {
    int f, c, k;     /* filters, input channels, size */
    int scale, side; /* a tile: each weight scale x scale pixels, side = k * scale */
    float *w;        /* f * c * k * k */
} filters;

/* conv1.weight of run's latest checkpoint. */
static int load(sqlite3 *db, int64_t run, filters *out, err_t *e)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT shape, data FROM checkpoint_tensors WHERE name = 'conv1.weight' AND checkpoint_id = "
                      "(SELECT id FROM checkpoints WHERE run_id = ?1 ORDER BY step DESC, id DESC LIMIT 1)";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "reading the filters: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, run);
    int rc = -1;
    if (sqlite3_step(st) != SQLITE_ROW) {
        err_input(e, "run %lld has no checkpoint with a first convolution (conv1.weight)", (long long)run);
        goto done;
    }
    const char *shape = (const char *)sqlite3_column_text(st, 0);
    int d[4], used = 0;
    if (!shape || sscanf(shape, "%d,%d,%d,%d%n", &d[0], &d[1], &d[2], &d[3], &used) != 4 || shape[used] ||
        d[0] < 1 || d[0] > 4096 || (d[1] != 1 && d[1] != 3) || d[2] < 1 || d[2] > 64 || d[3] != d[2]) {
        err_input(e, "run %lld: conv1.weight has shape '%s', not filters x 1 or 3 channels x k x k", (long long)run,
                  shape ? shape : "");
        goto done;
    }
    long n = (long)d[0] * d[1] * d[2] * d[3];
    if (sqlite3_column_bytes(st, 1) != n * (long)sizeof(float)) {
        err_input(e, "run %lld: conv1.weight holds %d bytes for shape %s", (long long)run, sqlite3_column_bytes(st, 1),
                  shape);
        goto done;
    }
    out->w = malloc(sizeof(float) * n);
    if (!out->w) {
        err_set(e, "out of memory");
        goto done;
    }
    memcpy(out->w, sqlite3_column_blob(st, 1), sizeof(float) * n);
    out->f = d[0];
    out->c = d[1];
    out->k = d[2];
    out->scale = TILE / d[2] > 1 ? TILE / d[2] : 1;
    out->side = d[2] * out->scale;
    rc = 0;
done:
    sqlite3_finalize(st);
    return rc;
}

/* Filter i as k x k gray or RGB bytes: 128 + 127 w / max|w|. */
static void tile(const filters *fl, int i, uint8_t *pix)
{
    const int k = fl->k, C = fl->c;
    const float *w = fl->w + (long)i * C * k * k;
    float m = 0;
    for (int j = 0; j < C * k * k; j++)
        m = fmaxf(m, fabsf(w[j]));
    for (int c = 0; c < C; c++)
        for (int p = 0; p < k * k; p++)
            pix[p * C + c] = (uint8_t)lrintf(128 + (m > 0 ? 127 * w[c * k * k + p] / m : 0));
}

int filters_figure(sqlite3 *db, const int64_t *runs, const char *const *labels, int n, const char *png, err_t *e)
{
    filters *fl = calloc(n > 0 ? n : 1, sizeof *fl);
    figure *fig = NULL;
    uint8_t *pix = NULL;
    int rc = -1;
    if (!fl)
        return err_set(e, "out of memory");
    int width = 0, height = MARGIN, maxk = 1;
    for (int r = 0; r < n; r++) {
        if (load(db, runs[r], &fl[r], e))
            goto done;
        int side = fl[r].side, cols = fl[r].f < PER_ROW ? fl[r].f : PER_ROW, rows = (fl[r].f + PER_ROW - 1) / PER_ROW;
        int w = 2 * MARGIN + cols * (side + GAP) - GAP;
        width = w > width ? w : width;
        height += LABEL_H + rows * (side + GAP) + MARGIN;
        maxk = fl[r].k > maxk ? fl[r].k : maxk;
    }
    if (width < 320)
        width = 320;
    pix = malloc((size_t)maxk * maxk * 3);
    if (!pix || figure_new(&fig, width, height, e)) {
        if (!pix)
            err_set(e, "out of memory");
        goto done;
    }
    static const uint8_t ink[3] = {30, 30, 30}, frame[3] = {200, 200, 200};
    double y = MARGIN;
    for (int r = 0; r < n; r++) {
        char cap[256];
        snprintf(cap, sizeof cap, "%s: %d filters of %dx%d%s", labels[r], fl[r].f, fl[r].k, fl[r].k,
                 fl[r].c == 3 ? " (RGB)" : "");
        figure_text(fig, MARGIN, y + 15, cap, 13, FIG_LEFT, 1, 0, ink);
        y += LABEL_H;
        int side = fl[r].side;
        for (int i = 0; i < fl[r].f; i++) {
            double x = MARGIN + (i % PER_ROW) * (side + GAP), ty = y + (i / PER_ROW) * (side + GAP);
            tile(&fl[r], i, pix);
            figure_rect(fig, x - 1, ty - 1, side + 2, side + 2, frame);
            figure_image(fig, x, ty, fl[r].scale, pix, fl[r].k, fl[r].k, fl[r].c);
        }
        y += ((fl[r].f + PER_ROW - 1) / PER_ROW) * (side + GAP) + MARGIN;
    }
    rc = figure_write(fig, png, e);
done:
    for (int r = 0; r < n; r++)
        free(fl[r].w);
    free(fl);
    free(pix);
    figure_free(fig);
    return rc;
}
