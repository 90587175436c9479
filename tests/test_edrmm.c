/* The E-DRMM (src/run/edrmm.h): average-linkage clustering of known
 * templates (the merges and their heights), coarse-to-fine inference (equal
 * to flat inference on a single split of all classes; a worked case where
 * the tree's choice differs from the flat one; the per-node counts), the
 * class templates of a small model (the mean of the renderings through each
 * image's switches: one image's is its reconstruction; deterministic), and
 * bad trees, templates and probabilities refused. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "check.h"
#include "drmm.h"
#include "edrmm.h"
#include "error.h"
#include "rng.h"

static const char *NET =
    "input channels=1 height=8 width=8\n"
    "conv filters=4 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=6 size=3 pad=full\n"
    "conv filters=3 size=1 pad=valid\n"
    "meanpool\n";

static void clustering(void)
{
    err_t e;
    edrmm_tree t;
    /* two pairs on a line: {0,1} and {2,3} at distance 1, joined at the mean of 10, 11, 9, 10 */
    const float pairs[4 * 2] = {0, 0, 1, 0, 10, 0, 11, 0};
    CHECK(edrmm_cluster(pairs, 4, 2, &t, &e) == 0, "cluster: %s", e.msg);
    CHECK(t.n_nodes == 7 && t.root == 6, "4 classes: 7 nodes, root 6 (%d, %d)", t.n_nodes, t.root);
    CHECK(t.parent[0] == 4 && t.parent[1] == 4 && t.parent[2] == 5 && t.parent[3] == 5 && t.parent[4] == 6 &&
          t.parent[5] == 6 && t.parent[6] == -1, "pairs merged first, tie to the lower index");
    CHECK_CLOSE(t.height[4], 1, 1e-12, "height of {0,1}");
    CHECK_CLOSE(t.height[5], 1, 1e-12, "height of {2,3}");
    CHECK_CLOSE(t.height[6], 10, 1e-12, "height of the root: the average distance");
    CHECK(edrmm_tree_check(&t, &e) == 0, "a clustered tree is a tree: %s", e.msg);
    edrmm_tree_free(&t);

    /* 0, 2, 5, 12: {0,2} at 2; with 5 at (5+3)/2 = 4 (single linkage: 3, complete: 5); with 12 at 29/3 */
    const float line[4] = {0, 2, 5, 12};
    CHECK(edrmm_cluster(line, 4, 1, &t, &e) == 0, "cluster: %s", e.msg);
    CHECK(t.parent[0] == 4 && t.parent[1] == 4 && t.parent[2] == 5 && t.parent[4] == 5 && t.parent[3] == 6 &&
          t.parent[5] == 6, "the merges of 0, 2, 5, 12");
    CHECK_CLOSE(t.height[4], 2, 1e-12, "height of {0,2}");
    CHECK_CLOSE(t.height[5], 4, 1e-12, "height of {0,2,5}: average linkage");
    CHECK_CLOSE(t.height[6], 29.0 / 3, 1e-12, "height of the root");
    unsigned char *in = NULL;
    CHECK(edrmm_membership(&t, &in, &e) == 0, "membership: %s", e.msg);
    CHECK(in && in[5 * 4 + 0] && in[5 * 4 + 1] && in[5 * 4 + 2] && !in[5 * 4 + 3] && in[6 * 4 + 3] && in[3 * 4 + 3] &&
          !in[3 * 4 + 2], "classes under each node");
    free(in);
    edrmm_tree_free(&t);

    /* bad templates */
    const float nan_t[3] = {0, NAN, 1};
    CHECK(edrmm_cluster(nan_t, 3, 1, &t, &e) == -1 && e.kind == ERR_INPUT && strstr(e.msg, "class 1") &&
          strstr(e.msg, "not finite"), "a NaN template refused naming its class (%s)", e.msg);
    CHECK(edrmm_cluster(line, 1, 1, &t, &e) == -1 && e.kind == ERR_INPUT && strstr(e.msg, "at least 2"),
          "one template refused (%s)", e.msg);
}

static void inference(void)
{
    err_t e;
    edrmm_tree t;
    /* a single split of all classes: coarse-to-fine is flat inference */
    const int K = 6, n = 300;
    CHECK(edrmm_tree_alloc(&t, K, K + 1, &e) == 0, "alloc: %s", e.msg);
    for (int c = 0; c < K; c++)
        t.parent[c] = K;
    CHECK(edrmm_tree_check(&t, &e) == 0 && t.root == K, "the star is a tree: %s", e.msg);
    rng_t r;
    rng_seed(&r, 3);
    float *p = malloc(sizeof(float) * n * K);
    int *lab = malloc(sizeof(int) * n), *pred = malloc(sizeof(int) * n);
    long arrived[7], right[7];
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int c = 0; c < K; c++)
            s += p[i * K + c] = (float)exp(4 * rng_uniform(&r));
        for (int c = 0; c < K; c++)
            p[i * K + c] /= (float)s;
        lab[i] = (int)(rng_uniform(&r) * K) % K;
    }
    p[0] = 1;   /* probabilities that underflowed to 0: still compared */
    for (int c = 1; c < K; c++)
        p[c] = 0;
    CHECK(edrmm_classify(&t, p, n, lab, pred, arrived, right, &e) == 0, "classify: %s", e.msg);
    int same = 0;
    long correct = 0;
    for (int i = 0; i < n; i++) {
        int f = 0;
        for (int c = 1; c < K; c++)
            if (p[i * K + c] > p[i * K + f])
                f = c;
        same += f == pred[i];
        correct += f == lab[i];
    }
    CHECK(same == n, "single split: the tree's class is the flat one for every image (%d of %d)", same, n);
    CHECK(arrived[K] == n && right[K] == correct, "the root: every image arrived (%ld), %ld sent right (%ld)",
          arrived[K], right[K], correct);
    long leaf_sum = 0;
    for (int c = 0; c < K; c++)
        leaf_sum += right[c] * (arrived[c] == right[c]);
    CHECK(leaf_sum == correct, "leaves count the images of their class that reached them");
    edrmm_tree_free(&t);

    /* ((0,1),2): the pair's mean log probability (log .5 + log .05) / 2 = -1.84 loses to log .45 = -0.80 */
    CHECK(edrmm_tree_alloc(&t, 3, 5, &e) == 0, "alloc: %s", e.msg);
    t.parent[0] = t.parent[1] = 3;
    t.parent[3] = t.parent[2] = 4;
    CHECK(edrmm_tree_check(&t, &e) == 0 && t.root == 4, "((0,1),2) is a tree: %s", e.msg);
    const float q[2 * 3] = {0.5f, 0.05f, 0.45f, 0.05f, 0.9f, 0.05f};
    const int ql[2] = {0, 1};
    int qp[2];
    CHECK(edrmm_classify(&t, q, 2, ql, qp, arrived, right, &e) == 0, "classify: %s", e.msg);
    CHECK(qp[0] == 2 && qp[1] == 1, "coarse-to-fine: image 0 to class 2 (flat: 0), image 1 to class 1 (%d, %d)",
          qp[0], qp[1]);
    CHECK(arrived[4] == 2 && right[4] == 1 && arrived[3] == 1 && right[3] == 1 && arrived[1] == 1 && right[1] == 1 &&
          arrived[0] == 0, "per-node counts");

    /* bad probabilities and labels */
    float bad[3] = {0.5f, NAN, 0.5f};
    CHECK(edrmm_classify(&t, bad, 1, NULL, qp, NULL, NULL, &e) == -1 && e.kind == ERR_INPUT &&
          strstr(e.msg, "image 0: class 1"), "a NaN probability refused naming image and class (%s)", e.msg);
    bad[1] = 1.5f;
    CHECK(edrmm_classify(&t, bad, 1, NULL, qp, NULL, NULL, &e) == -1 && e.kind == ERR_INPUT, "a probability > 1 refused");
    const int badl[1] = {3};
    CHECK(edrmm_classify(&t, q, 1, badl, qp, NULL, NULL, &e) == -1 && e.kind == ERR_INPUT && strstr(e.msg, "label 3"),
          "a label outside the tree refused (%s)", e.msg);

    /* bad trees */
    t.parent[4] = 3;   /* 3 -> 4 -> 3 */
    t.parent[3] = 4;
    CHECK(edrmm_tree_check(&t, &e) == -1 && e.kind == ERR_INPUT && strstr(e.msg, "no root"), "no root (%s)", e.msg);
    t.parent[4] = -1;
    t.parent[2] = -1;
    CHECK(edrmm_tree_check(&t, &e) == -1 && strstr(e.msg, "both have no parent"), "two roots (%s)", e.msg);
    t.parent[2] = 0;
    CHECK(edrmm_tree_check(&t, &e) == -1 && strstr(e.msg, "not an internal node"), "a leaf as parent (%s)", e.msg);
    t.parent[2] = 4;
    t.parent[3] = 3;
    CHECK(edrmm_tree_check(&t, &e) == -1 && strstr(e.msg, "not an internal node"), "its own parent (%s)", e.msg);
    t.parent[0] = t.parent[1] = 4;
    t.parent[3] = 4;
    CHECK(edrmm_tree_check(&t, &e) == -1 && strstr(e.msg, "node 3 has no child"), "an empty internal node (%s)",
          e.msg);
    edrmm_tree_free(&t);
    CHECK(edrmm_tree_alloc(&t, 2, 4, &e) == 0, "alloc");
    t.parent[1] = 2;   /* 0 alone at the top, 2 and 3 each other's parent */
    t.parent[2] = 3;
    t.parent[3] = 2;
    CHECK(edrmm_tree_check(&t, &e) == -1 && strstr(e.msg, "root is class 0"), "a leaf as root refused (%s)", e.msg);
    edrmm_tree_free(&t);
    CHECK(edrmm_tree_alloc(&t, 1, 2, &e) == -1 && e.kind == ERR_INPUT, "one class refused (%s)", e.msg);
    free(p);
    free(lab);
    free(pred);
}

static void templates(void)
{
    arch a;
    err_t e;
    drmm *m = NULL;
    drmm_config cfg;
    drmm_config_default(&cfg);
    if (arch_parse(&a, NET, "test", &e) || drmm_create(&m, &a, &cfg, 5, &e)) {
        CHECK(0, "model: %s", e.msg);
        return;
    }
    arch_free(&a);
    const int P = 64, K = 3, n = 40;
    rng_t r;
    rng_seed(&r, 11);
    float *x = malloc(sizeof(float) * n * P), *t1 = malloc(sizeof(float) * K * P), *t2 = malloc(sizeof(float) * K * P);
    float *rec = malloc(sizeof(float) * P), *on = malloc(sizeof(float) * P), probs[3];
    int c1[3], c2[3];
    for (int k = 0; k < n * P; k++)
        x[k] = (float)rng_uniform(&r);

    /* one image: its class's template is its reconstruction; the others rendered with every switch on */
    CHECK(edrmm_templates(m, x, 1, 16, t1, c1, &e) == 0, "templates: %s", e.msg);
    drmm_acts *A = NULL;
    CHECK(drmm_acts_create(m, 1, &A, &e) == 0, "%s", e.msg);
    CHECK(drmm_predict(m, A, x, 1, probs, &e) == 0 && drmm_reconstruct(m, A, x, NULL, 1, rec, &e) == 0, "%s", e.msg);
    int c = 0;
    for (int k = 1; k < K; k++)
        if (probs[k] > probs[c])
            c = k;
    CHECK(c1[c] == 1 && c1[0] + c1[1] + c1[2] == 1, "the image counted under its class %d", c);
    double diff = 0, scale = 0;
    for (int k = 0; k < P; k++) {
        diff = fmax(diff, fabs(t1[c * P + k] - rec[k]));
        scale = fmax(scale, fabs(rec[k]));
    }
    CHECK(scale > 0 && diff <= 1e-5 * scale, "one image: the template is its reconstruction (%g of %g)", diff, scale);
    int other = (c + 1) % K;
    CHECK(drmm_render(m, A, &other, 1, NULL, on, &e) == 0, "%s", e.msg);
    CHECK(memcmp(on, t1 + other * P, sizeof(float) * P) == 0, "a class without images: every switch on");

    /* many images in batches: counts, finite, the same in one batch, deterministic */
    CHECK(edrmm_templates(m, x, n, 7, t1, c1, &e) == 0 && edrmm_templates(m, x, n, 7, t2, c2, &e) == 0, "%s", e.msg);
    CHECK(c1[0] + c1[1] + c1[2] == n, "every image counted once");
    CHECK(memcmp(t1, t2, sizeof(float) * K * P) == 0 && memcmp(c1, c2, sizeof c1) == 0, "deterministic");
    CHECK(edrmm_templates(m, x, n, n, t2, c2, &e) == 0, "%s", e.msg);
    diff = 0;
    for (int k = 0; k < K * P; k++)
        diff = fmax(diff, fabs(t1[k] - t2[k]));
    CHECK(diff < 1e-5, "batches of 7 or one batch: the same templates (%g)", diff);
    CHECK(edrmm_templates(m, x, n, 0, t2, c2, &e) == -1 && e.kind == ERR_INPUT, "batch 0 refused (%s)", e.msg);

    /* the tree of the model's templates */
    edrmm_tree t;
    CHECK(edrmm_cluster(t1, K, P, &t, &e) == 0 && edrmm_tree_check(&t, &e) == 0 && t.n_nodes == 5, "%s", e.msg);
    edrmm_tree_free(&t);
    free(x); free(t1); free(t2); free(rec); free(on);
    drmm_acts_free(A);
    drmm_free(m);
}

int main(void)
{
    openblas_set_num_threads(1);
    clustering();
    inference();
    templates();
    return check_done();
}
