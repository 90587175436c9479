/* The E-DRMM's class trees in the store (see store_edrmm.h). */
#include "store_edrmm.h"

#include <stdlib.h>

#include "store_internal.h"

int store_put_edrmm_tree(store *s, const store_edrmm_tree *t, int64_t *tree_id, err_t *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    const long P = (long)t->channels * t->height * t->width;
    float *le = NULL;
    if (t->n_classes < 2 || t->n_nodes <= t->n_classes || P < 1 || t->n_images < 0)
        return store_fail(STORE_FAIL_RUNTIME, e, "%s: an E-DRMM tree needs 2 classes, an internal node and a "
                          "template shape", s->path);
    if (!(le = malloc(sizeof(float) * P)))
        return store_fail(STORE_FAIL_RUNTIME, e, "out of memory");
    if (store_wbegin(s, e) < 0) {
        free(le);
        return -1;
    }
    if (store_prepare(s, &st, "INSERT INTO edrmm_trees (run_id, checkpoint_id, n_classes, linkage, rule, "
                              "template_images, channels, height, width, split, n_images, flat_correct, "
                              "tree_correct, agree, bn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, t->run_id);
    sqlite3_bind_int64(st, 2, t->checkpoint_id);
    sqlite3_bind_int(st, 3, t->n_classes);
    store_bind_text(st, 4, t->linkage);
    store_bind_text(st, 5, t->rule);
    sqlite3_bind_int(st, 6, t->template_images);
    sqlite3_bind_int(st, 7, t->channels);
    sqlite3_bind_int(st, 8, t->height);
    sqlite3_bind_int(st, 9, t->width);
    sqlite3_bind_int(st, 10, t->split);
    sqlite3_bind_int(st, 11, t->n_images);
    sqlite3_bind_int64(st, 12, t->flat_correct);
    sqlite3_bind_int64(st, 13, t->tree_correct);
    sqlite3_bind_int64(st, 14, t->agree);
    store_bind_text(st, 15, t->bn);
    if (store_step_done(s, st, "writing an E-DRMM tree (is the run and checkpoint in the store?)", e) < 0)
        goto done;
    *tree_id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO edrmm_nodes (tree_id, node, parent, height, n_leaves, arrived, "
                              "routed_right, template_count, template) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0)
        goto done;
    for (int v = 0; v < t->n_nodes; v++) {
        sqlite3_bind_int64(st, 1, *tree_id);
        sqlite3_bind_int(st, 2, v);
        if (t->parent[v] >= 0)
            sqlite3_bind_int(st, 3, t->parent[v]);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_double(st, 4, t->height_of[v]);
        sqlite3_bind_int(st, 5, t->n_leaves[v]);
        sqlite3_bind_int64(st, 6, t->arrived[v]);
        sqlite3_bind_int64(st, 7, t->routed_right[v]);
        if (v < t->n_classes)
            sqlite3_bind_int(st, 8, t->template_count[v]);
        else
            sqlite3_bind_null(st, 8);
        store_f32_to_le(le, t->templates + (size_t)v * P, (size_t)P);
        sqlite3_bind_blob64(st, 9, le, (sqlite3_uint64)(sizeof(float) * P), SQLITE_STATIC);
        if (store_step_done(s, st, "writing an E-DRMM tree node", e) < 0)
            goto done;
    }
    ok = 1;
done:
    sqlite3_finalize(st);
    free(le);
    return store_wend(s, ok, e);
}
