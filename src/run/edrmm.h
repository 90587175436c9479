/* The Evolutionary DRMM (supplement, section F): a DRMM whose classes are
 * the leaves of an evolutionary tree, each node's template its parent's plus
 * an additive mutation, and whose inference (Eqs. 46-47) is a decision tree:
 * from the root, choose the child whose template matches the image best
 * ("ChooseChild(Filter(I))"), down to a leaf.
 *
 * What the supplement leaves open, and what is chosen here (README, "The
 * E-DRMM"):
 * - the tree is not learned by the paper's method (none is given); it is
 *   built from a trained DRMM by agglomerative clustering (average linkage,
 *   Euclidean distance) of its rendered class templates: class c's template
 *   is the mean, over the training images the model assigns to c, of the
 *   image rendered top-down from c through that image's own switches (the
 *   class template averaged over the nuisances seen in the data);
 * - a node's template is the ancestor of its leaves, the mean of their
 *   templates (additive mutations of mean zero).  With an image's switches
 *   g fixed by the bottom-up pass, a class score is linear in the class's
 *   template, so the ancestor's score is the mean of its classes' scores;
 *   the decision at a node takes the child whose classes' mean log
 *   probability (drmm_predict; the logits less one per-image constant, the
 *   same argmax) is highest.  With a single split of all classes this is
 *   flat inference exactly.
 * Everything is deterministic: ties go to the lowest index. */
#ifndef DRMM_EDRMM_H
#define DRMM_EDRMM_H

#include "drmm.h"

struct err_t;

/* A tree over K classes: nodes 0..K-1 are the classes (leaves), nodes
 * K..n_nodes-1 internal, one of them the root (parent -1).  Children of a
 * node are taken in index order. */
typedef struct edrmm_tree {
    int K, n_nodes, root;
    int *parent;       /* [n_nodes] */
    double *height;    /* [n_nodes]: the linkage distance at which the node was formed; 0 at leaves */
} edrmm_tree;

/* Allocates a tree of K leaves and n_nodes nodes, parents -1, heights 0. */
int  edrmm_tree_alloc(edrmm_tree *t, int K, int n_nodes, struct err_t *e);
void edrmm_tree_free(edrmm_tree *t);

/* Checks that t is a tree over its K classes: K >= 2, one root, an internal
 * root, every parent internal and in range, no cycle, every internal node
 * with at least one child and every leaf under the root.  Sets t->root. */
int edrmm_tree_check(edrmm_tree *t, struct err_t *e);

/* Agglomerative clustering (average linkage, Euclidean distance) of K
 * templates of P floats into a binary tree (K - 1 internal nodes, node K + j
 * formed by the j-th merge, its height the average distance between the two
 * merged clusters).  t is allocated (edrmm_tree_free).  Fewer than two
 * templates or a non-finite value is an input error. */
int edrmm_cluster(const float *templates, int K, int P, edrmm_tree *t, struct err_t *e);

/* in[v * K + c] = 1 when class c is under node v (v itself for a leaf). */
int edrmm_membership(const edrmm_tree *t, unsigned char **in, struct err_t *e);

/* Coarse-to-fine inference of n images from their class probabilities
 * (n * K, drmm_predict): pred[i] the leaf reached.  With labels (may be
 * NULL), per node v: arrived[v] images whose true class is under v that
 * reached v, right[v] those of them v sent towards their class (a leaf:
 * the images of its class that reached it, both counts; n_nodes long, zeroed here; may be NULL).  A probability outside [0, 1]
 * or NaN is an input error naming the image. */
int edrmm_classify(const edrmm_tree *t, const float *probs, int n, const int *labels, int *pred, long *arrived,
                   long *right, struct err_t *e);

/* The class templates of a model: templates[c] (K * C*H*W) the mean of the
 * renderings from c through the switches of each of the n images x that
 * the model assigns to c (batches of `batch`), counts[c] their number; a
 * class no image is assigned to is rendered with every switch on (count 0). */
int edrmm_templates(drmm *m, const float *x, int n, int batch, float *templates, int *counts, struct err_t *e);

#endif
