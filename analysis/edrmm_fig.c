/* The E-DRMM's class tree as a picture (see edrmm_fig.h). */
#include "edrmm_fig.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "figure.h"
#include "plot.h"

#define MARGIN 16
#define TITLE_H 70
#define TREE_H 300
#define THUMB 48     /* a template's side in pixels, about */
#define NAMES_H 120

typedef struct tree_fig {
    int K, N, C, H, W, n_images;
    long flat_correct, tree_correct;
    int *parent;
    double *height, *x, *y;
    long *arrived, *right;
    float *tmpl;         /* K * C*H*W */
    char (*name)[64];    /* K class names */
} tree_fig;

static void tree_fig_free(tree_fig *t)
{
    free(t->parent); free(t->height); free(t->x); free(t->y); free(t->arrived); free(t->right); free(t->tmpl);
    free(t->name);
}

static int load(sqlite3 *db, int64_t id, tree_fig *t, err_t *e)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    const char *head = "SELECT t.n_classes, t.channels, t.height, t.width, t.n_images, t.flat_correct, "
                       "t.tree_correct, r.dataset_id FROM edrmm_trees t JOIN runs r ON r.id = t.run_id WHERE t.id = ?1";
    if (sqlite3_prepare_v2(db, head, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "reading E-DRMM tree %lld: %s", (long long)id, sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        err_input(e, "no E-DRMM tree %lld in the store (edrmm_trees)", (long long)id);
        goto done;
    }
    t->K = sqlite3_column_int(st, 0);
    t->C = sqlite3_column_int(st, 1);
    t->H = sqlite3_column_int(st, 2);
    t->W = sqlite3_column_int(st, 3);
    t->n_images = sqlite3_column_int(st, 4);
    t->flat_correct = sqlite3_column_int64(st, 5);
    t->tree_correct = sqlite3_column_int64(st, 6);
    int64_t dataset = sqlite3_column_int64(st, 7);
    sqlite3_finalize(st);
    st = NULL;
    if (t->K < 2 || t->K > 4096 || (t->C != 1 && t->C != 3) || t->H < 1 || t->W < 1 || t->H > 4096 || t->W > 4096) {
        err_input(e, "E-DRMM tree %lld: %d classes of %dx%dx%d templates cannot be drawn", (long long)id, t->K, t->C,
                  t->H, t->W);
        goto done;
    }
    const long P = (long)t->C * t->H * t->W;
    t->N = 2 * t->K - 1;   /* at most; counted below */
    t->parent = malloc(sizeof(int) * t->N);
    t->height = calloc(t->N, sizeof(double));
    t->x = calloc(t->N, sizeof(double));
    t->y = calloc(t->N, sizeof(double));
    t->arrived = calloc(t->N, sizeof(long));
    t->right = calloc(t->N, sizeof(long));
    t->tmpl = calloc((size_t)t->K * P, sizeof(float));
    t->name = calloc(t->K, sizeof *t->name);
    if (!t->parent || !t->height || !t->x || !t->y || !t->arrived || !t->right || !t->tmpl || !t->name) {
        err_set(e, "out of memory");
        goto done;
    }
    for (int c = 0; c < t->K; c++)
        snprintf(t->name[c], sizeof t->name[c], "%d", c);
    if (sqlite3_prepare_v2(db, "SELECT label, name FROM dataset_classes WHERE dataset_id = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return err_set(e, "reading class names: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, dataset);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int c = sqlite3_column_int(st, 0);
        const char *nm = (const char *)sqlite3_column_text(st, 1);
        if (c >= 0 && c < t->K && nm && *nm)
            snprintf(t->name[c], sizeof t->name[c], "%d %.48s", c, nm);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT node, parent, height, arrived, routed_right, template FROM edrmm_nodes "
                               "WHERE tree_id = ?1 ORDER BY node", -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "reading E-DRMM nodes: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, id);
    int n = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int v = sqlite3_column_int(st, 0);
        if (v != n || n >= t->N) {
            err_input(e, "E-DRMM tree %lld: node %d where node %d was expected (at most %d nodes)", (long long)id, v,
                      n, t->N);
            goto done;
        }
        t->parent[v] = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 1);
        t->height[v] = sqlite3_column_double(st, 2);
        t->arrived[v] = sqlite3_column_int64(st, 3);
        t->right[v] = sqlite3_column_int64(st, 4);
        if (v < t->K) {
            if (sqlite3_column_bytes(st, 5) != P * (long)sizeof(float)) {
                err_input(e, "E-DRMM tree %lld: node %d's template has %d bytes, not %ld", (long long)id, v,
                          sqlite3_column_bytes(st, 5), P * (long)sizeof(float));
                goto done;
            }
            memcpy(t->tmpl + (size_t)v * P, sqlite3_column_blob(st, 5), sizeof(float) * P);
        }
        n++;
    }
    if (r != SQLITE_DONE) {
        err_set(e, "reading E-DRMM nodes: %s", sqlite3_errmsg(db));
        goto done;
    }
    t->N = n;
    for (int v = 0; v < n; v++)
        if (t->parent[v] >= n || (t->parent[v] >= 0 && t->parent[v] < t->K) || t->parent[v] == v) {
            err_input(e, "E-DRMM tree %lld: node %d has parent %d", (long long)id, v, t->parent[v]);
            goto done;
        }
    rc = 0;
done:
    sqlite3_finalize(st);
    return rc;
}

/* Places the leaves under v left to right from *next (slot units) and every
 * node at the mean of its children; returns -1 on a cycle (depth > N). */
static int place(tree_fig *t, int v, int depth, int *next)
{
    if (depth > t->N)
        return -1;
    if (v < t->K) {
        t->x[v] = (*next)++;
        return 0;
    }
    double sum = 0;
    int k = 0;
    for (int u = 0; u < t->N; u++)
        if (t->parent[u] == v) {
            if (place(t, u, depth + 1, next))
                return -1;
            sum += t->x[u];
            k++;
        }
    t->x[v] = k ? sum / k : *next;
    return 0;
}

int edrmm_figure(sqlite3 *db, int64_t tree_id, const char *title, const char *png, err_t *e)
{
    tree_fig t;
    memset(&t, 0, sizeof t);
    figure *fig = NULL;
    uint8_t *pix = NULL;
    int rc = -1;
    if (load(db, tree_id, &t, e))
        goto done;
    int root = -1, next = 0;
    for (int v = 0; v < t.N; v++)
        if (t.parent[v] < 0)
            root = root < 0 ? v : -2;
    if (root < t.K || place(&t, root, 0, &next) || next != t.K) {
        err_input(e, "E-DRMM tree %lld is not one tree over its %d classes", (long long)tree_id, t.K);
        goto done;
    }
    const int side = t.W > t.H ? t.W : t.H, scale = THUMB / side > 1 ? THUMB / side : 1;
    const double slot = fmax(t.W * scale + 14, 64);
    const int width = (int)fmax(760, 2 * MARGIN + 60 + t.K * slot), height = TITLE_H + TREE_H + t.H * scale + NAMES_H;
    double hmax = 0, hlo, hstep;
    for (int v = 0; v < t.N; v++)
        hmax = fmax(hmax, t.height[v]);
    plot_nice_range(0, hmax > 0 ? hmax : 1, &hlo, &hmax, &hstep);
    const double x0 = MARGIN + 60, ytop = TITLE_H + 10, ybot = TITLE_H + TREE_H;
    for (int v = 0; v < t.N; v++) {
        t.x[v] = x0 + (t.x[v] + 0.5) * slot;
        t.y[v] = ybot - (t.height[v] - hlo) / (hmax - hlo) * (ybot - ytop);
    }
    pix = malloc((size_t)t.H * t.W * t.C);
    if (!pix) {
        err_set(e, "out of memory");
        goto done;
    }
    if (figure_new(&fig, width, height, e))
        goto done;
    static const uint8_t ink[3] = {30, 30, 30}, grey[3] = {120, 120, 120}, line[3] = {0, 114, 178},
                         frame[3] = {200, 200, 200};
    figure_text(fig, MARGIN, 22, title, 14, FIG_LEFT, 1, 0, ink);
    char note[256];
    snprintf(note, sizeof note, "%d test images: coarse-to-fine inference %.2f%% error, flat inference %.2f%%",
             t.n_images, 100.0 * (t.n_images - t.tree_correct) / (t.n_images ? t.n_images : 1),
             100.0 * (t.n_images - t.flat_correct) / (t.n_images ? t.n_images : 1));
    figure_text(fig, MARGIN, 40, note, 11, FIG_LEFT, 0, 0, grey);
    figure_text(fig, MARGIN, 55, "at each joint: the share of the images of its classes that it sent towards their "
                "class; under each class its template", 11, FIG_LEFT, 0, 0, grey);
    /* the height axis: linkage distance */
    double ax[4] = {x0 - 10, ytop, x0 - 10, ybot};
    figure_line(fig, ax, 2, 1, FIG_SOLID, grey);
    for (double h = hlo; h <= hmax + 1e-9 * hmax; h += hstep) {
        double yy = ybot - (h - hlo) / (hmax - hlo) * (ybot - ytop);
        char lab[32];
        snprintf(lab, sizeof lab, "%.3g", h);
        double tk[4] = {x0 - 14, yy, x0 - 10, yy};
        figure_line(fig, tk, 2, 1, FIG_SOLID, grey);
        figure_text(fig, x0 - 17, yy + 4, lab, 10, FIG_RIGHT, 0, 0, grey);
    }
    figure_text(fig, MARGIN + 4, (ytop + ybot) / 2, "template distance", 11, FIG_CENTRE, 0, -90, grey);
    for (int v = t.K; v < t.N; v++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int u = 0; u < t.N; u++)
            if (t.parent[u] == v) {
                double seg[4] = {t.x[u], t.y[u], t.x[u], t.y[v]};
                figure_line(fig, seg, 2, 2, FIG_SOLID, line);
                lo = fmin(lo, t.x[u]);
                hi = fmax(hi, t.x[u]);
            }
        double bar[4] = {lo, t.y[v], hi, t.y[v]};
        figure_line(fig, bar, 2, 2, FIG_SOLID, line);
        char lab[32];
        if (t.arrived[v])
            snprintf(lab, sizeof lab, "%.0f%%", 100.0 * t.right[v] / t.arrived[v]);
        else
            snprintf(lab, sizeof lab, "-");
        figure_text(fig, t.x[v], t.y[v] - 5, lab, 10, FIG_CENTRE, 0, 0, ink);
    }
    const long P = (long)t.C * t.H * t.W;
    for (int c = 0; c < t.K; c++) {
        const float *tm = t.tmpl + (size_t)c * P;
        float mn = INFINITY, mx = -INFINITY;
        for (long k = 0; k < P; k++) {
            mn = fminf(mn, tm[k]);
            mx = fmaxf(mx, tm[k]);
        }
        for (int ch = 0; ch < t.C; ch++)
            for (int p = 0; p < t.H * t.W; p++)
                pix[p * t.C + ch] = (uint8_t)lrintf(mx > mn ? 255 * (tm[(long)ch * t.H * t.W + p] - mn) / (mx - mn) : 128);
        double ix = t.x[c] - t.W * scale / 2.0, iy = ybot + 8;
        figure_rect(fig, ix - 1, iy - 1, t.W * scale + 2, t.H * scale + 2, frame);
        figure_image(fig, ix, iy, scale, pix, t.W, t.H, t.C);
        figure_text(fig, t.x[c] + 4, iy + t.H * scale + 10, t.name[c], 11, FIG_RIGHT, 0, -90, ink);
    }
    rc = figure_write(fig, png, e);
done:
    tree_fig_free(&t);
    free(pix);
    figure_free(fig);
    return rc;
}
