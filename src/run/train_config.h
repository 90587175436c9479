/* The resolved configuration of a training run: every hyper-parameter, with
 * defaults, validation, a `key = value` config-file format and the
 * key/value list recorded with the run in the store.  Keys are the long
 * flags of `train` without the dashes and with '_' for '-'. */
#ifndef DRMM_TRAIN_CONFIG_H
#define DRMM_TRAIN_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "drmm.h"
#include "optim.h"

struct err_t;

/* The training modes of the supplement's Table 3 (key `mode`).  Every mode
 * takes floor(n_train / (batch/2)) steps per epoch. */
typedef enum {
    TRAIN_SEMISUP = 0,     /* batch/2 labelled + batch/2 unlabelled rows per step */
    TRAIN_SUPERVISED = 1,  /* batch/2 labelled rows per step, every loss term on them */
    TRAIN_PRETRAIN = 2     /* train_pretrain_steps() steps of batch/2 unlabelled rows (the
                              unsupervised terms alone), then supervised as TRAIN_SUPERVISED */
} train_mode;

typedef struct train_config {
    drmm_config model;        /* loss weights, KL sign, top-down variant, BN, threads */
    optim_config optim;       /* total_steps is derived from epochs and data size */
    int epochs;
    int batch;                /* images per step: batch/2 labelled + batch/2 unlabelled */
    int labels;               /* size of the class-balanced labelled subset (0: unsupervised) */
    uint64_t label_seed;      /* chooses the labelled subset */
    uint64_t seed;            /* initialisation and data order */
    int supervised_only;      /* the CNN baseline: LH on the labelled images only */
    int mode;                 /* train_mode: which images each epoch trains on */
    float pretrain_frac;      /* TRAIN_PRETRAIN: the share of the steps that pre-train */
    int init_from;            /* start from this finished run's last checkpoint (0: fresh) */
    int td_calibrate;         /* set the top-level amplitude from the first batch */
    float unsup_warmup;       /* epochs over which aRC, aKL, aNN, aRCL ramp up linearly from 0 */
    float unsup_warmup_frac;  /* the same as a fraction of the run's steps */
    int augment_shift;        /* random translation of training images by up to N pixels */
    int augment_flip;         /* random horizontal flips of training images */
    int valid;                /* the last N training images held out for validation */
    int train_limit;          /* use only the first N training images (0: all) */
    int log_every;            /* steps between step-level metrics (0: none) */
    int keep_checkpoints;     /* checkpoints kept per run (the latest ones) */
} train_config;

/* Defaults: see the table in train_config.c (and `train --help`). */
void train_config_default(train_config *c);
/* Sets one key from text, validating it; the message names key and value. */
int  train_config_set(train_config *c, const char *key, const char *value, struct err_t *e);
/* Reads `key = value` lines ('#' comments, blank lines); errors name file:line. */
int  train_config_load(train_config *c, const char *path, struct err_t *e);
/* Checks relations between keys (e.g. an even batch). */
int  train_config_check(const train_config *c, struct err_t *e);
/* Number of keys, and key i with its current value as text (buffer of len). */
int  train_config_count(void);
const char *train_config_key(int i);
const char *train_config_help(int i);
void train_config_value(const train_config *c, int i, char *buf, size_t len);
/* TRAIN_PRETRAIN: the first round(pretrain_frac * total_steps) steps of the
 * run, at least 1 and at most total_steps - 1, pre-train; 0 in the other
 * modes. */
long train_pretrain_steps(const train_config *c, long total_steps);
/* Is key one of ours? */
int  train_config_has(const char *key);

#endif
