/* The training loop of `train`: semi-supervised batches (batch/2 labelled,
 * cycled, plus batch/2 unlabelled from a shuffled pass over every training
 * image), or by the run's mode (train_config.h: labelled rows only, or
 * unlabelled rows only while pre-training), the class-balanced labelled
 * subset, per-epoch metrics and checkpoints in the store, interruption and
 * exact resume.
 *
 * An epoch is floor(n_train / (batch/2)) steps, for the DRMM and for the
 * supervised-only baseline alike (which sees only the batch/2 labelled rows
 * of each step), so both get the same number of updates.  A checkpoint is
 * written with the epoch's metrics in one transaction at the end of every
 * epoch, and at the step where a stop is requested; it holds the parameters,
 * BN statistics, optimiser state, data-order RNG, permutations, cursors and
 * the partial epoch's sums, so a resumed run continues to exactly the
 * numbers of an uninterrupted one (same thread count). */
#ifndef DRMM_TRAINER_H
#define DRMM_TRAINER_H

#include <signal.h>
#include <stdint.h>

#include "drmm.h"
#include "store.h"
#include "train_config.h"

struct err_t;

typedef struct train_progress {
    int epoch, epochs;             /* 1-based current epoch */
    long step, steps_per_epoch;    /* step within the epoch (1-based) */
    long global_step, total_steps;
    drmm_losses mean;              /* running means over the epoch so far */
    double train_error;            /* over the labelled rows so far this epoch */
    double images_per_s, eta_s, lr;
    int epoch_done;                /* 1 on the last call of an epoch */
} train_progress;

typedef void (*train_progress_fn)(const train_progress *p, void *arg);

typedef enum { TRAIN_FINISHED = 0, TRAIN_INTERRUPTED = 1 } train_status;

typedef struct train_outcome {
    int64_t run_id;
    train_status status;
    int epochs_done;
    long steps_done;
    drmm_losses last_epoch;        /* means over the last finished epoch */
    double last_train_error;
    double train_seconds;          /* time in training steps */
    double store_seconds;          /* time writing metrics and checkpoints */
    double images_per_s;
} train_outcome;

/* Data-parallel training over a group of processes (bin/train-mpi: the
 * ranks of MPI_COMM_WORLD): every member runs the same loop and assembles
 * the same global batch, then trains on its share (an even part of the
 * labelled rows and of the unlabelled rows, drmm_shard) with the sums of
 * the batch reductions taken over the group; so all hold the same model.
 * Member 0 alone writes the store (the run, metrics, checkpoints, status,
 * lease) and measures the held-out error; the others only read it (the
 * dataset, and on resume the run and its checkpoint). */
typedef struct train_group {
    int rank, size;
    void (*sum)(double *v, int count, void *ctx);   /* drmm_shard's sum over the group */
    void *ctx;
    const char *kind;              /* what the members are, for the run's note ("MPI ranks") */
} train_group;

typedef struct train_hooks {
    train_progress_fn progress;    /* may be NULL */
    void *arg;
    volatile sig_atomic_t *stop;   /* set asynchronously to request a stop; may be NULL */
    long stop_at_step;             /* stop (as if interrupted) once this many steps are done; 0: never */
    int argc;                      /* the program's arguments, recorded with a new run (argv may be NULL) */
    char *const *argv;
    const char *command;           /* the command that launched the program (make pipeline ...), or NULL */
    const train_group *group;      /* data-parallel over a group, or NULL: one process */
} train_hooks;

/* Creates run `run_name` on dataset `dataset` with the architecture text
 * (arch_name for messages) and trains it. */
int trainer_start(store *st, const char *dataset, const char *arch_text, const char *arch_name,
                  const char *run_name, const train_config *cfg, const train_hooks *hooks,
                  train_outcome *out, struct err_t *e);

/* Continues run_id from its latest checkpoint with its recorded configuration. */
int trainer_resume(store *st, int64_t run_id, const train_hooks *hooks, train_outcome *out,
                   struct err_t *e);

/* The class-balanced labelled subset: labels/classes images of each class,
 * chosen among the n training rows with a generator seeded by label_seed.
 * rows receives the chosen row numbers (sorted).  Errors say what to ask. */
int trainer_choose_labels(const int *labels, int n, int classes, int count, uint64_t label_seed,
                          int *rows, struct err_t *e);

#endif
