/* The first convolution's learned filters of trained runs as a picture (as
 * in the DRMM supplement's Figure 6): one row of tiles per run, each filter
 * a tile scaled by its own largest absolute weight (mid-grey 0, lighter
 * positive, darker negative; colour for three input channels), read from
 * each run's latest checkpoint in the store. */
#ifndef DRMM_FILTERS_FIG_H
#define DRMM_FILTERS_FIG_H

#include <sqlite3.h>
#include <stdint.h>

struct err_t;

/* Draws the filters (tensor "conv1.weight") of runs[0..n) with their
 * labels into png (and the SVG beside it).  Returns 0, or -1 with a message
 * (a run without a checkpoint or without that tensor, a malformed tensor). */
int filters_figure(sqlite3 *db, const int64_t *runs, const char *const *labels, int n, const char *png,
                   struct err_t *e);

#endif
