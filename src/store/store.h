/* The experiment store: one SQLite file holding datasets, runs, metrics,
 * checkpoints and evaluations (tables and views in schema/NNN_name.sql).
 *
 * Every connection uses WAL, a busy timeout (10 s by default) and foreign
 * keys.  Migrations are applied once, inside BEGIN IMMEDIATE, so several
 * processes may open a new store together.  Each write function runs in its
 * own short BEGIN IMMEDIATE transaction unless the caller already opened one
 * with store_begin; on failure nothing it did remains.
 *
 * Functions return 0, or -1 with a message in e naming the store file and
 * the fix.  store_fail_kind() then says what kind of failure it was, so a
 * program can choose its exit code (e->kind is ERR_INPUT for CONFLICT and
 * NOTFOUND, ERR_RUNTIME otherwise).  The store knows nothing of the engine:
 * it persists named tensors, rows and blobs.  A store handle belongs to one
 * thread at a time; processes share a store file safely.
 *
 * Metric names read by the views: lh, lrc, lkl, lnn, loss, train_error
 * (others such as images_per_s are stored the same way).  Config keys read by
 * the views: a_h, a_rc, a_kl, a_nn, supervised_only (0/1), kl_sign,
 * unsup_half. */
#ifndef DRMM_STORE_H
#define DRMM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "named_tensor.h"

struct err_t;
struct sqlite3;

typedef struct store store;

/* Kinds of failure (store_fail_kind, per thread, set by every failing call). */
enum {
    STORE_FAIL_NONE = 0,
    STORE_FAIL_RUNTIME,    /* out of memory, I/O, bad arguments */
    STORE_FAIL_STORE,      /* not a database, newer schema, locked, read-only, full, corrupt */
    STORE_FAIL_CONFLICT,   /* same dataset name with different content */
    STORE_FAIL_NOTFOUND,   /* unknown dataset, run or checkpoint */
    STORE_FAIL_BUSY        /* the run is being trained by another process (its lease is held) */
};
int store_fail_kind(void);

/* ---- connection ---- */

#define STORE_READONLY  1  /* flags for store_open: open read-only */
#define STORE_MUSTEXIST 2  /* refuse a missing file ("no such store", STORE_FAIL_STORE) instead of creating it */

/* Opens (creating if needed, unless STORE_READONLY or STORE_MUSTEXIST) and
 * migrates the store at path.  *out is owned by the caller: release with
 * store_close. */
int  store_open(const char *path, int flags, store **out, struct err_t *e);
void store_close(store *s);
/* The busy timeout in milliseconds (default 10000). */
int  store_set_busy_timeout(store *s, int ms, struct err_t *e);
/* Schema version of the open store, and the newest this program knows. */
int  store_schema_version(store *s);
int  store_known_schema_version(void);
const char *store_path(const store *s);
/* The raw connection, for read-only queries (analysis, tests); borrowed. */
struct sqlite3 *store_db(store *s);

/* Explicit transactions (BEGIN IMMEDIATE).  Write functions called inside
 * one join it instead of opening their own. */
int  store_begin(store *s, struct err_t *e);
int  store_commit(store *s, struct err_t *e);
void store_rollback(store *s);

/* ---- datasets ---- */

enum { STORE_PUT_INSERTED = 0, STORE_PUT_UNCHANGED = 1, STORE_PUT_REPLACED = 2 };

/* Stores d under name with its content hash (written to sha, may be NULL).
 * The same name with the same hash is a no-op (*outcome UNCHANGED); the same
 * name with a different hash fails (STORE_FAIL_CONFLICT) unless force, which
 * replaces the content in place (REPLACED).  outcome may be NULL. */
int store_put_dataset(store *s, const char *name, const dataset *d, int force,
                      int *outcome, char sha[65], struct err_t *e);
/* Loads dataset name into *out (caller frees with dataset_free).  The
 * content is checked against the SHA-256 recorded at ingest: a mismatch
 * fails (STORE_FAIL_STORE) with a message naming the dataset. */
int store_get_dataset(store *s, const char *name, dataset *out, struct err_t *e);
/* Id and content hash of dataset name (sha may be NULL). */
int store_find_dataset(store *s, const char *name, int64_t *id, char sha[65], struct err_t *e);

/* ---- runs ---- */

typedef struct store_kv {
    const char *key, *value;
} store_kv;

typedef struct store_run_info {
    const char *name;
    const char *dataset;          /* dataset name (must exist) */
    const char *architecture;     /* architecture file text */
    const store_kv *config;       /* the fully resolved configuration */
    int n_config;
    int n_labels;                 /* labelled samples (the run's N) */
    uint64_t label_seed;
    const int *label_ids;         /* n_label_ids sample indices (images.idx) */
    int n_label_ids;
    uint64_t seed;
    int threads;
    const char *openblas_core;    /* e.g. "Haswell"; NULL -> "unknown" */
    const char *host;             /* NULL -> gethostname() */
    /* Provenance (migration 8); each may be NULL (recorded as NULL). */
    int argc;                     /* the program's arguments, recorded as a JSON array */
    char *const *argv;
    const char *command;          /* the command that launched the program (make pipeline ...) */
    const char *openblas;         /* OpenBLAS's configuration and kernel */
    const char *libpng_version;
    const char *cpu_model;
    /* git commit, dirty flag, diff and version come from version.h, the
     * SQLite version from the library itself */
} store_run_info;

/* Creates a run with status RUNNING; its id in *run_id. */
int store_create_run(store *s, const store_run_info *info, int64_t *run_id, struct err_t *e);
/* Adds tag to run_id (a no-op when it has it already).  A tag is 1 to 64
 * characters of letters, digits and . _ : + - (ERR_INPUT otherwise, before
 * the store is touched); an unknown run is a NOTFOUND failure. */
int store_tag_run(store *s, int64_t run_id, const char *tag, struct err_t *e);
/* Adds a free-form note (1 to 4096 bytes, not only blanks) to run_id. */
int store_note_run(store *s, int64_t run_id, const char *note, struct err_t *e);
/* status: "RUNNING", "FINISHED", "FAILED" or "INTERRUPTED"; error may be NULL.
 * Sets the end time for every status but RUNNING (cleared for RUNNING). */
int store_set_run_status(store *s, int64_t run_id, const char *status, const char *error,
                         struct err_t *e);

/* A run read back (for --resume and reports); all memory owned by the
 * struct: release with store_run_free. */
typedef struct store_run {
    int64_t id;
    char *name, *dataset, *architecture, *config_json, *status, *error;
    char *git_commit, *started, *ended;
    int n_config;
    char **keys, **values;
    int n_labels;
    uint64_t label_seed, seed;
    int n_label_ids;
    int *label_ids;               /* sorted ascending */
} store_run;
int  store_get_run(store *s, int64_t run_id, store_run *out, struct err_t *e);
void store_run_free(store_run *r);
/* Value of config key of a run, NULL if absent (owned by r). */
const char *store_run_config(const store_run *r, const char *key);

/* ---- metrics ---- */

typedef struct store_metric {
    int epoch;
    long step;
    const char *name;
    double value;
} store_metric;

/* Appends n metrics to the history and upserts the latest value of each
 * name (a later or equal step wins), in one transaction with reused
 * statements. */
int store_add_metrics(store *s, int64_t run_id, const store_metric *m, int n, struct err_t *e);

/* ---- checkpoints ---- */

typedef struct store_blob {
    char name[NT_NAME_MAX];
    void *data;                   /* borrowed when writing; owned by a store_checkpoint when read */
    size_t size;
} store_blob;

/* Stores tensors (float32, written little-endian) and blobs as a checkpoint
 * of the run at (epoch, step); its id in *ckpt_id (may be NULL). */
int store_put_checkpoint(store *s, int64_t run_id, int epoch, long step,
                         const named_tensor *t, int nt, const store_blob *b, int nb,
                         int64_t *ckpt_id, struct err_t *e);

typedef struct store_checkpoint {
    int64_t id, run_id;
    int epoch;
    long step;
    int n_tensors;
    named_tensor *tensors;        /* data owned by this struct (unlike elsewhere) */
    int n_blobs;
    store_blob *blobs;            /* data owned by this struct */
} store_checkpoint;

/* Loads checkpoint ckpt_id, or the latest (highest step, then id) of run_id
 * when ckpt_id == 0.  Release with store_checkpoint_free.  The content is
 * checked against the SHA-256 recorded when it was written (checkpoints from
 * before schema migration 5 have none): a mismatch fails (STORE_FAIL_STORE)
 * with a message naming the checkpoint and its run. */
int  store_get_checkpoint(store *s, int64_t run_id, int64_t ckpt_id, store_checkpoint *out,
                          struct err_t *e);
void store_checkpoint_free(store_checkpoint *c);
/* Deletes all but the `keep` (>= 1) latest checkpoints (by step, then id) of a
 * run, with their tensors and blobs; evaluations of a deleted checkpoint keep
 * their rows (checkpoint_id becomes NULL). */
int  store_prune_checkpoints(store *s, int64_t run_id, int keep, struct err_t *e);
/* Tensor or blob by name in a loaded checkpoint, or NULL. */
const named_tensor *store_checkpoint_tensor(const store_checkpoint *c, const char *name);
const store_blob *store_checkpoint_blob(const store_checkpoint *c, const char *name);

/* ---- leases: one process trains a run at a time ---- */

#define STORE_LEASE_TIMEOUT_S 600  /* a heartbeat older than this frees the lease */
#define STORE_LEASE_RENEW_S    30  /* how often store_lease_renew writes the heartbeat */

typedef struct store_lease {
    int64_t run_id;
    int held;                     /* 1 while this process holds it */
    int taken_over;               /* 1 if it was taken from a dead or silent holder */
    double renewed;               /* monotonic seconds of the last heartbeat */
} store_lease;

/* Takes the lease of run_id for this process (host name and pid).  Fails
 * with STORE_FAIL_BUSY while another live process holds it; takes it over
 * when the holder is on this host and its pid is not alive, or its heartbeat
 * is older than STORE_LEASE_TIMEOUT_S.  Fails with STORE_FAIL_NOTFOUND for
 * an unknown run and STORE_FAIL_CONFLICT for a FINISHED one.  Joins an open
 * store_begin transaction. */
int store_lease_take(store *s, int64_t run_id, store_lease *l, struct err_t *e);
/* Writes the heartbeat when STORE_LEASE_RENEW_S have passed since the last
 * one (or always when force); cheap to call every step.  Fails with
 * STORE_FAIL_BUSY when another process has taken the lease over.  No-op
 * when the lease is not held. */
int store_lease_renew(store *s, store_lease *l, int force, struct err_t *e);
/* Deletes the lease row (if still this process's).  No-op when not held. */
int store_lease_release(store *s, store_lease *l, struct err_t *e);

/* ---- verification ---- */

/* One checked item: kind is "integrity", "foreign_keys", "dataset" or
 * "checkpoint"; ok 1 when sound, 0 when damaged, -1 when it cannot be
 * checked (a checkpoint written before checksums); msg says what. */
typedef void (*store_verify_fn)(const char *kind, const char *what, int ok, const char *msg, void *arg);

typedef struct store_verify_counts {
    int integrity_ok;             /* PRAGMA integrity_check said ok */
    int fk_violations;            /* rows of PRAGMA foreign_key_check */
    int datasets, bad_datasets;
    int checkpoints, bad_checkpoints, unchecked_checkpoints;
} store_verify_counts;

/* Checks the whole store: SQLite's integrity_check and foreign_key_check,
 * every dataset's content against its SHA-256 and every checkpoint's against
 * its SHA-256; reports each item through fn (may be NULL).  Returns 0 when
 * the checks ran (damage is in *out), -1 when they could not (message in e). */
int store_verify(store *s, store_verify_fn fn, void *arg, store_verify_counts *out, struct err_t *e);

/* ---- merging stores ---- */

typedef struct store_merge_counts {
    int datasets_copied, datasets_present;   /* present: the same content (SHA-256) was there */
    int runs_copied, runs_present;           /* present: the same UUID with the same content */
} store_merge_counts;

/* Called for every run of the shard: its id there, its UUID, its id in the
 * target and whether it was copied now (1) or already there (0). */
typedef void (*store_merge_fn)(const char *shard, int64_t shard_run, const char *uuid, int64_t target_run,
                               int copied, void *arg);

/* Copies the store shard into s: its datasets (a dataset whose content, by
 * SHA-256, is already in s is not copied again; its runs use the one in s)
 * and its runs with everything that hangs off them (configuration, labelled
 * subset, metrics, checkpoints, evaluations with predictions, decoded
 * layers with activations and decoding results), renumbering the integer
 * ids; run leases are left out.  A run whose UUID is already in s is not
 * copied when its content (all those rows but the integer ids) is the same,
 * so merging a shard twice adds nothing; other content under the same UUID
 * fails (STORE_FAIL_CONFLICT), as does a dataset name taken by other
 * content.  Both stores must have this program's schema version; a table
 * the merge does not know fails.  Adds to *n (zero it first).  One write
 * unit: joins an open store_begin transaction, else its own; on failure
 * nothing it did remains. */
int store_merge(store *s, store *shard, store_merge_fn fn, void *arg, store_merge_counts *n, struct err_t *e);

/* ---- evaluations ---- */

typedef struct store_evaluation {
    int64_t run_id;
    int64_t checkpoint_id;        /* 0 for none */
    int split;                    /* SPLIT_TRAIN or SPLIT_TEST */
    int n_images;
    double error;                 /* fraction misclassified */
    double recon_error;           /* NAN when not measured */
    double x2;                    /* mean(I^2) of the images: the recon_error of rendering zero (NAN: not measured) */
    int has_render;               /* 1: the three below were measured (else stored as NULL) */
    double recon_true;            /* recon_error rendering every image from its true class */
    double recon_wrong;           /* ... from a wrong class */
    double xvar;                  /* per-pixel variance of the images about their channel means */
    int n_classes;
    const double *class_errors;   /* n_classes */
    const long *confusion;        /* n_classes x n_classes, row = true class */
    int n_predictions;            /* 0 to store none */
    const int *sample_idx;        /* n_predictions (images.idx) */
    const int *labels;            /* n_predictions true labels */
    const int *predicted;         /* n_predictions */
    const float *probs;           /* n_predictions x n_classes, or NULL */
} store_evaluation;

int store_put_evaluation(store *s, const store_evaluation *ev, int64_t *eval_id, struct err_t *e);

#endif
