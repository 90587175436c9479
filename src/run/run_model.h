/* A trained run read back from the store: its configuration, architecture
 * and a checkpoint loaded into a ready engine model.  Used by train
 * --resume, evaluate and decode. */
#ifndef DRMM_RUN_MODEL_H
#define DRMM_RUN_MODEL_H

#include <stdint.h>

#include "arch.h"
#include "drmm.h"
#include "store.h"
#include "train_config.h"

struct err_t;

typedef struct run_model {
    store_run run;
    train_config cfg;
    arch arch;
    drmm *m;
    store_checkpoint ckpt;
} run_model;

/* Rebuilds the configuration recorded with a run. */
int config_from_run(const store_run *r, train_config *cfg, struct err_t *e);

/* Copies every model tensor (parameters and BN statistics) from a
 * checkpoint, checking names and shapes. */
int model_load_tensors(drmm *m, const store_checkpoint *c, struct err_t *e);

/* Opens run_id with checkpoint ckpt_id (0: the latest).  threads > 0
 * overrides the recorded thread count.  Release with run_model_close. */
int  run_model_open(store *st, int64_t run_id, int64_t ckpt_id, int threads, run_model *rm,
                    struct err_t *e);
void run_model_close(run_model *rm);

#endif
