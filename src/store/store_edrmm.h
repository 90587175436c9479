/* The E-DRMM's class trees in the store (tables edrmm_trees and edrmm_nodes
 * of schema/010_edrmm.sql), written by `edrmm`, read by the report's
 * queries (analysis/sql/edrmm*.sql).  Same conventions as store.h:
 * functions return 0 or -1 with a message in e and store_fail_kind() set. */
#ifndef DRMM_STORE_EDRMM_H
#define DRMM_STORE_EDRMM_H

#include <stdint.h>

#include "store.h"

struct err_t;

typedef struct store_edrmm_tree {
    int64_t run_id, checkpoint_id;
    int n_classes, n_nodes;
    const char *linkage, *rule, *bn;
    int template_images;
    int channels, height, width;
    int split, n_images;
    long flat_correct, tree_correct, agree;
    /* per node (n_nodes): */
    const int *parent;            /* -1 at the root */
    const double *height_of;      /* linkage height */
    const int *n_leaves;
    const long *arrived, *routed_right;
    const int *template_count;    /* n_classes (leaves only) */
    const float *templates;       /* n_nodes * channels*height*width */
} store_edrmm_tree;

/* Writes a tree and its nodes in one transaction; *tree_id gets its id. */
int store_put_edrmm_tree(store *s, const store_edrmm_tree *t, int64_t *tree_id, struct err_t *e);

#endif
