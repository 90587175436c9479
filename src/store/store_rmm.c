/* Fits of the shallow Rendering Mixture Model (see store_rmm.h). */
#include "store_rmm.h"

#include "store_internal.h"
#include "version.h"

int store_put_rmm_fit(store *s, const store_rmm_fit *f, int64_t *id, err_t *e)
{
    int64_t ds;
    if (store_wbegin(s, e) < 0)
        return -1;
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (store_find_dataset(s, f->dataset, &ds, NULL, e) < 0 ||
        store_prepare(s, &st, "INSERT INTO rmm_fits (dataset_id, components, patch, stride, images, patches, iterations, "
                      "seed, sigma2, templates, git_commit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, ds);
    sqlite3_bind_int(st, 2, f->components);
    sqlite3_bind_int(st, 3, f->patch);
    sqlite3_bind_int(st, 4, f->stride);
    sqlite3_bind_int(st, 5, f->images);
    sqlite3_bind_int64(st, 6, f->patches);
    sqlite3_bind_int(st, 7, f->iterations);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)f->seed);
    sqlite3_bind_double(st, 9, f->sigma2);
    sqlite3_bind_blob(st, 10, f->templates, (int)(sizeof(float) * (size_t)f->components * f->dim), SQLITE_STATIC);
    sqlite3_bind_text(st, 11, drmm_git_commit, -1, SQLITE_STATIC);
    if (store_step_done(s, st, "recording a mixture fit", e) < 0)
        goto done;
    *id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT INTO rmm_loglik (fit_id, iteration, loglik) VALUES (?, ?, ?)", e) < 0)
        goto done;
    for (int i = 0; i < f->iterations; i++) {
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_int(st, 2, i + 1);
        sqlite3_bind_double(st, 3, f->loglik[i]);
        if (store_step_done(s, st, "recording a log-likelihood", e) < 0)
            goto done;
    }
    ok = 1;
done:
    sqlite3_finalize(st);
    return store_wend(s, ok, e);
}
