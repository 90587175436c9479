/* The Evolutionary DRMM: class tree and coarse-to-fine inference (see edrmm.h). */
#include "edrmm.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* log p floored at the smallest float (a probability that underflowed to 0
 * in single precision): finite, so that a node's mean stays comparable. */
static double log_prob(float p) { return log(p > FLT_TRUE_MIN ? (double)p : (double)FLT_TRUE_MIN); }

int edrmm_tree_alloc(edrmm_tree *t, int K, int n_nodes, err_t *e)
{
    memset(t, 0, sizeof *t);
    if (K < 2 || n_nodes <= K)
        return err_input(e, "a class tree needs at least 2 classes and an internal node (got %d classes, %d nodes)",
                         K, n_nodes);
    t->parent = malloc(sizeof(int) * n_nodes);
    t->height = calloc(n_nodes, sizeof(double));
    if (!t->parent || !t->height) {
        edrmm_tree_free(t);
        return err_set(e, "out of memory");
    }
    for (int v = 0; v < n_nodes; v++)
        t->parent[v] = -1;
    t->K = K;
    t->n_nodes = n_nodes;
    t->root = -1;
    return 0;
}

void edrmm_tree_free(edrmm_tree *t)
{
    free(t->parent);
    free(t->height);
    memset(t, 0, sizeof *t);
}

int edrmm_tree_check(edrmm_tree *t, err_t *e)
{
    if (t->K < 2 || t->n_nodes <= t->K || !t->parent)
        return err_input(e, "a class tree needs at least 2 classes and an internal node (got %d classes, %d nodes)",
                         t->K, t->n_nodes);
    int root = -1;
    for (int v = 0; v < t->n_nodes; v++) {
        int p = t->parent[v];
        if (p == -1) {
            if (root >= 0)
                return err_input(e, "class tree: nodes %d and %d both have no parent (one root expected)", root, v);
            root = v;
        } else if (p < t->K || p >= t->n_nodes || p == v) {
            return err_input(e, "class tree: node %d has parent %d, not an internal node (%d..%d) other than itself",
                             v, p, t->K, t->n_nodes - 1);
        }
    }
    if (root < 0)
        return err_input(e, "class tree: every node has a parent (no root)");
    if (root < t->K)
        return err_input(e, "class tree: the root is class %d, a leaf", root);
    char *kids = calloc(t->n_nodes, 1);
    if (!kids)
        return err_set(e, "out of memory");
    for (int v = 0; v < t->n_nodes; v++)
        if (t->parent[v] >= 0)
            kids[t->parent[v]] = 1;
    int bad = -1;
    for (int v = t->K; v < t->n_nodes && bad < 0; v++)
        if (!kids[v])
            bad = v;
    free(kids);
    if (bad >= 0)
        return err_input(e, "class tree: internal node %d has no child", bad);
    /* every node reaches the root in fewer than n_nodes steps (else a cycle) */
    for (int v = 0; v < t->n_nodes; v++) {
        int u = v, steps = 0;
        while (u != root && steps <= t->n_nodes) {
            u = t->parent[u];
            steps++;
        }
        if (u != root)
            return err_input(e, "class tree: node %d is on a cycle, not under the root %d", v, root);
    }
    t->root = root;
    return 0;
}

int edrmm_cluster(const float *templates, int K, int P, edrmm_tree *t, err_t *e)
{
    memset(t, 0, sizeof *t);
    if (K < 2 || P < 1)
        return err_input(e, "clustering needs at least 2 templates of at least 1 value (got %d of %d)", K, P);
    for (long k = 0; k < (long)K * P; k++)
        if (!isfinite(templates[k]))
            return err_input(e, "template of class %ld, value %ld is not finite (%g): the model renders no usable "
                             "template", k / P, k % P, templates[k]);
    if (edrmm_tree_alloc(t, K, 2 * K - 1, e))
        return -1;
    double *d = malloc(sizeof(double) * K * K);
    int *node = malloc(sizeof(int) * K), *size = malloc(sizeof(int) * K);
    if (!d || !node || !size) {
        free(d); free(node); free(size);
        edrmm_tree_free(t);
        return err_set(e, "out of memory");
    }
    for (int i = 0; i < K; i++) {
        node[i] = i;   /* cluster i (alive while node[i] >= 0) is tree node node[i] */
        size[i] = 1;
        d[i * K + i] = 0;
        for (int j = 0; j < i; j++) {
            double s = 0;
            for (int k = 0; k < P; k++) {
                double x = (double)templates[(long)i * P + k] - templates[(long)j * P + k];
                s += x * x;
            }
            d[i * K + j] = d[j * K + i] = sqrt(s);
        }
    }
    for (int m = 0; m < K - 1; m++) {
        int a = -1, b = -1;
        for (int i = 0; i < K; i++)
            for (int j = i + 1; j < K && node[i] >= 0; j++)
                if (node[j] >= 0 && (a < 0 || d[i * K + j] < d[a * K + b])) {
                    a = i;
                    b = j;
                }
        int v = K + m;
        t->parent[node[a]] = v;
        t->parent[node[b]] = v;
        t->height[v] = d[a * K + b];
        /* average linkage (Lance-Williams): the merged cluster takes a's slot */
        for (int k = 0; k < K; k++)
            if (node[k] >= 0 && k != a && k != b)
                d[a * K + k] = d[k * K + a] = (size[a] * d[a * K + k] + size[b] * d[b * K + k]) / (size[a] + size[b]);
        size[a] += size[b];
        node[a] = v;
        node[b] = -1;
    }
    free(d); free(node); free(size);
    t->root = 2 * K - 2;
    return 0;
}

int edrmm_membership(const edrmm_tree *t, unsigned char **in, err_t *e)
{
    *in = calloc((size_t)t->n_nodes * t->K, 1);
    if (!*in)
        return err_set(e, "out of memory");
    for (int c = 0; c < t->K; c++)
        for (int u = c, steps = 0; u >= 0 && steps <= t->n_nodes; u = t->parent[u], steps++)
            (*in)[(size_t)u * t->K + c] = 1;
    return 0;
}

int edrmm_classify(const edrmm_tree *t, const float *probs, int n, const int *labels, int *pred, long *arrived,
                   long *right, err_t *e)
{
    const int K = t->K, N = t->n_nodes;
    if (t->root < K || t->root >= N)
        return err_input(e, "class tree: no root (check the tree first)");
    for (long k = 0; k < (long)n * K; k++)
        if (!(probs[k] >= 0 && probs[k] <= 1))
            return err_input(e, "image %ld: class %ld has probability %g, not in [0, 1]", k / K, k % K, probs[k]);
    if (labels)
        for (int i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= K)
                return err_input(e, "image %d: label %d is not a class of the tree (0..%d)", i, labels[i], K - 1);
    unsigned char *in;
    if (edrmm_membership(t, &in, e))
        return -1;
    int *count = calloc(N, sizeof(int));
    if (!count) {
        free(in);
        return err_set(e, "out of memory");
    }
    for (int v = 0; v < N; v++)
        for (int c = 0; c < K; c++)
            count[v] += in[(size_t)v * K + c];
    if (arrived)
        memset(arrived, 0, sizeof(long) * N);
    if (right)
        memset(right, 0, sizeof(long) * N);
    for (int i = 0; i < n; i++) {
        const float *p = probs + (long)i * K;
        int v = t->root;
        while (v >= K) {
            int best = -1;
            double best_s = 0;
            for (int u = 0; u < N; u++) {
                if (t->parent[u] != v)
                    continue;
                double s = 0;
                for (int c = 0; c < K; c++)
                    if (in[(size_t)u * K + c])
                        s += log_prob(p[c]);
                s /= count[u];
                if (best < 0 || s > best_s) {
                    best = u;
                    best_s = s;
                }
            }
            if (labels && in[(size_t)v * K + labels[i]]) {
                if (arrived)
                    arrived[v]++;
                if (right && in[(size_t)best * K + labels[i]])
                    right[v]++;
            }
            v = best;
        }
        if (labels && labels[i] == v) {   /* a leaf: the images of its class that reached it */
            if (arrived)
                arrived[v]++;
            if (right)
                right[v]++;
        }
        pred[i] = v;
    }
    free(in);
    free(count);
    return 0;
}

int edrmm_templates(drmm *m, const float *x, int n, int batch, float *templates, int *counts, err_t *e)
{
    const arch *a = drmm_get_arch(m);
    const int K = a->classes, P = a->channels * a->height * a->width, nb = a->nblocks;
    if (n < 0 || batch < 1)
        return err_input(e, "class templates: %d images in batches of %d", n, batch);
    long units[ARCH_MAX_BLOCKS], total = 0;
    for (int l = 0; l < nb; l++) {
        units[l] = (long)a->blocks[l].g.cout * a->blocks[l].g.ho * a->blocks[l].g.wo;
        total += units[l];
    }
    const int B = n < batch ? (n > 0 ? n : 1) : batch;
    float *probs = malloc(sizeof(float) * (size_t)B * K), *img = malloc(sizeof(float) * (size_t)B * P);
    double *sum = calloc((size_t)K * P, sizeof(double));
    int *cls = malloc(sizeof(int) * (B > K ? B : K));
    uint8_t *buf = malloc((size_t)B * total);
    drmm_acts *A = NULL;
    int rc = -1;
    if (!probs || !img || !sum || !cls || !buf) {
        err_set(e, "out of memory");
        goto done;
    }
    if (drmm_acts_create(m, B > K ? B : K, &A, e))
        goto done;
    memset(counts, 0, sizeof(int) * K);
    for (int i0 = 0; i0 < n; i0 += B) {
        int rows = n - i0 < B ? n - i0 : B;
        const float *xb = x + (long)i0 * P;
        if (drmm_predict(m, A, xb, rows, probs, e) || drmm_infer(m, A, xb, rows, e))
            goto done;
        const uint8_t *masks[ARCH_MAX_BLOCKS];
        long off = 0;
        for (int l = 0; l < nb; l++) {
            for (int i = 0; i < rows; i++)
                if (drmm_switches(A, l, i, buf + off + (long)i * units[l], e))
                    goto done;
            masks[l] = buf + off;
            off += (long)rows * units[l];
        }
        for (int i = 0; i < rows; i++) {
            int c = 0;
            for (int k = 1; k < K; k++)
                if (probs[(long)i * K + k] > probs[(long)i * K + c])
                    c = k;
            cls[i] = c;
        }
        if (drmm_render(m, A, cls, rows, masks, img, e))
            goto done;
        for (int i = 0; i < rows; i++) {
            counts[cls[i]]++;
            for (int k = 0; k < P; k++)
                sum[(long)cls[i] * P + k] += img[(long)i * P + k];
        }
    }
    int n_empty = 0;
    for (int c = 0; c < K; c++) {
        if (counts[c])
            for (int k = 0; k < P; k++)
                templates[(long)c * P + k] = (float)(sum[(long)c * P + k] / counts[c]);
        else
            cls[n_empty++] = c;
    }
    float *all_on = NULL;
    if (n_empty) {
        all_on = malloc(sizeof(float) * (size_t)n_empty * P);
        if (!all_on) {
            err_set(e, "out of memory");
            goto done;
        }
        if (drmm_render(m, A, cls, n_empty, NULL, all_on, e)) {
            free(all_on);
            goto done;
        }
        for (int j = 0; j < n_empty; j++)
            memcpy(templates + (long)cls[j] * P, all_on + (long)j * P, sizeof(float) * P);
        free(all_on);
    }
    rc = 0;
done:
    drmm_acts_free(A);
    free(probs); free(img); free(sum); free(cls); free(buf);
    return rc;
}
