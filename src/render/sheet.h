/* Contact sheets: a PNG with one row per class (labelled with the class
 * name) and the first `per_class` images of that class in dataset order. */
#ifndef DRMM_SHEET_H
#define DRMM_SHEET_H

struct dataset;
struct err_t;

/* Writes the sheet of d to path (gray PNG for 1-channel data, RGB for 3),
 * each image enlarged `zoom` times (1..16), per_class 1..100 columns.
 * Classes with fewer images leave their cells empty.  Returns 0, or -1 with
 * a message (bad arguments, unwritable path). */
int sheet_write(const char *path, const struct dataset *d, int per_class, int zoom, struct err_t *e);

#endif
