/* The E-DRMM's class tree as a picture (a dendrogram): the classes along
 * the bottom with their rendered templates and names, each internal node at
 * the height of its merge (the average distance between the templates of
 * the two clusters it joined), labelled with the share of the classified
 * images whose class lies under it that it sent towards their class.  Read
 * from the store's edrmm_trees and edrmm_nodes (schema/010_edrmm.sql). */
#ifndef DRMM_EDRMM_FIG_H
#define DRMM_EDRMM_FIG_H

#include <sqlite3.h>
#include <stdint.h>

struct err_t;

/* Draws tree tree_id with the title into png (and the SVG beside it).
 * Returns 0, or -1 with a message (no such tree, malformed nodes). */
int edrmm_figure(sqlite3 *db, int64_t tree_id, const char *title, const char *png, struct err_t *e);

#endif
