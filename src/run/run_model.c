/* Reading a run's model back from the store (see run_model.h). */
#include "run_model.h"

#include <cblas.h>
#include <inttypes.h>
#include <string.h>

#include "error.h"

int config_from_run(const store_run *r, train_config *cfg, err_t *e)
{
    train_config_default(cfg);
    for (int i = 0; i < r->n_config; i++) {
        if (!train_config_has(r->keys[i]))
            continue;   /* keys of other tools */
        if (train_config_set(cfg, r->keys[i], r->values[i], e))
            return err_prefix(e, "run %" PRId64 " configuration", r->id);
    }
    return 0;
}

int model_load_tensors(drmm *m, const store_checkpoint *c, err_t *e)
{
    named_tensor t[256];
    int nt = drmm_tensors(m, t, 256);
    if (nt > 256)
        return err_set(e, "model has too many tensors (%d)", nt);
    for (int i = 0; i < nt; i++) {
        const named_tensor *src = store_checkpoint_tensor(c, t[i].name);
        if (!src)
            return err_input(e, "checkpoint %" PRId64 " has no tensor '%s': it does not belong to this architecture",
                           c->id, t[i].name);
        if (src->ndim != t[i].ndim || memcmp(src->shape, t[i].shape, sizeof(int) * t[i].ndim))
            return err_input(e, "checkpoint %" PRId64 ": tensor '%s' has the wrong shape for this architecture",
                           c->id, t[i].name);
        memcpy(t[i].data, src->data, sizeof(float) * nt_numel(&t[i]));
    }
    return 0;
}

int run_model_open(store *st, int64_t run_id, int64_t ckpt_id, int threads, run_model *rm, err_t *e)
{
    memset(rm, 0, sizeof *rm);
    if (store_get_run(st, run_id, &rm->run, e))
        return -1;
    if (config_from_run(&rm->run, &rm->cfg, e))
        goto fail;
    if (threads > 0)
        rm->cfg.model.threads = threads;
    if (arch_parse(&rm->arch, rm->run.architecture, "architecture of the run", e))
        goto fail;
    if (store_get_checkpoint(st, run_id, ckpt_id, &rm->ckpt, e)) {
        if (store_fail_kind() == STORE_FAIL_NOTFOUND && ckpt_id == 0)
            err_input(e, "run %" PRId64 " (%s) has no checkpoint yet: train it first, or resume it with: train --store %s --resume %" PRId64,
                    run_id, rm->run.name, store_path(st), run_id);
        goto fail;
    }
    openblas_set_num_threads(1);   /* the model's workers split the batch (trainer.c) */
    if (drmm_create(&rm->m, &rm->arch, &rm->cfg.model, rm->cfg.seed, e) ||
        model_load_tensors(rm->m, &rm->ckpt, e))
        goto fail;
    return 0;
fail:
    run_model_close(rm);
    return -1;
}

void run_model_close(run_model *rm)
{
    drmm_free(rm->m);
    store_checkpoint_free(&rm->ckpt);
    arch_free(&rm->arch);
    store_run_free(&rm->run);
    memset(rm, 0, sizeof *rm);
}
