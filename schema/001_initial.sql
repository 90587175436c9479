-- Migration 1: the initial experiment store.  Applied once by store_open
-- inside BEGIN IMMEDIATE; PRAGMA user_version records it.  Times are ISO 8601
-- UTC text; blobs of numbers are little-endian (float32 or int32).

-- A dataset: its decoded content is hashed (dataset_sha256) so re-ingesting
-- the same content is a no-op.  Names are JSON arrays for humans; the
-- relational copies are dataset_classes and dataset_latents.
CREATE TABLE datasets (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    n_images     INTEGER NOT NULL,
    channels     INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    width        INTEGER NOT NULL,
    n_classes    INTEGER NOT NULL,
    class_names  TEXT NOT NULL,          -- JSON array of n_classes strings
    n_latents    INTEGER NOT NULL,
    latent_names TEXT NOT NULL,          -- JSON array of n_latents strings
    n_train      INTEGER NOT NULL,
    n_test       INTEGER NOT NULL,
    created      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE dataset_classes (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    label      INTEGER NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (dataset_id, label)
);

CREATE TABLE dataset_latents (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (dataset_id, idx)
);

-- One row per image: pixels are channels*height*width bytes (CHW); latents
-- are n_latents float32 little-endian, NULL when the dataset has none.
CREATE TABLE images (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    split      INTEGER NOT NULL CHECK (split IN (0, 1)),   -- 0 train, 1 test
    label      INTEGER NOT NULL,
    pixels     BLOB NOT NULL,
    latents    BLOB,
    PRIMARY KEY (dataset_id, idx)
);

-- A training run and everything needed to reproduce it.
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    dataset_id      INTEGER NOT NULL REFERENCES datasets(id),
    dataset_sha256  TEXT NOT NULL,      -- content the run saw
    architecture    TEXT NOT NULL,      -- the architecture file's text
    config_json     TEXT NOT NULL,      -- the resolved configuration, for humans
    n_labels        INTEGER NOT NULL,
    label_seed      INTEGER NOT NULL,
    seed            INTEGER NOT NULL,
    git_commit      TEXT NOT NULL,
    git_dirty       INTEGER NOT NULL,
    program_version TEXT NOT NULL,
    host            TEXT NOT NULL,
    threads         INTEGER NOT NULL,
    openblas_core   TEXT NOT NULL,
    started         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ended           TEXT,
    status          TEXT NOT NULL DEFAULT 'RUNNING'
                    CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'INTERRUPTED')),
    error           TEXT
);
CREATE INDEX runs_dataset ON runs(dataset_id);

-- The resolved configuration as key/value rows (the views pivot it).
CREATE TABLE run_config (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);

-- The labelled subset: sample indices (images.idx) chosen with label_seed.
CREATE TABLE run_labelled (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    sample_idx INTEGER NOT NULL,
    PRIMARY KEY (run_id, sample_idx)
);

-- Metric history, and the latest value per (run, metric), kept apart so that
-- listings never scan the history.
CREATE TABLE metrics (
    id     INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch  INTEGER NOT NULL,
    step   INTEGER NOT NULL,
    name   TEXT NOT NULL,
    value  REAL,
    time   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX metrics_run_name_step ON metrics(run_id, name, step);

CREATE TABLE metrics_latest (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    epoch  INTEGER NOT NULL,
    step   INTEGER NOT NULL,
    value  REAL,
    time   TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
);

-- Checkpoints: named float32 tensors plus named blobs (RNG state, data
-- position, ...), enough for an exact resume.
CREATE TABLE checkpoints (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch   INTEGER NOT NULL,
    step    INTEGER NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX checkpoints_run ON checkpoints(run_id, step);

CREATE TABLE checkpoint_tensors (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    shape         TEXT NOT NULL,                 -- e.g. "32,1,5,5"
    dtype         TEXT NOT NULL DEFAULT 'f32' CHECK (dtype = 'f32'),
    data          BLOB NOT NULL,                 -- float32 little-endian
    PRIMARY KEY (checkpoint_id, name)
);

CREATE TABLE checkpoint_blobs (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (checkpoint_id, name)
);

-- Evaluations of a checkpoint on a split; per-class errors and the confusion
-- matrix (rows = true class, columns = predicted) are JSON arrays.
CREATE TABLE evaluations (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
    split         TEXT NOT NULL CHECK (split IN ('train', 'test')),
    n_images      INTEGER NOT NULL,
    error         REAL NOT NULL,
    recon_error   REAL,
    class_errors  TEXT NOT NULL,
    confusion     TEXT NOT NULL,
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX evaluations_run_split ON evaluations(run_id, split, id);
CREATE INDEX evaluations_checkpoint ON evaluations(checkpoint_id);

-- Per-sample predictions: probs is n_classes float32 little-endian.
CREATE TABLE predictions (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    sample_idx    INTEGER NOT NULL,
    label         INTEGER NOT NULL,
    predicted     INTEGER NOT NULL,
    probs         BLOB,
    PRIMARY KEY (evaluation_id, sample_idx)
);

-- ---- Views: the public interface (see README.md) ----

-- Loss weights and flags of each run, pivoted from run_config.
CREATE VIEW run_settings AS
SELECT r.id AS run_id,
       CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_h')  AS REAL) AS a_h,
       CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_rc') AS REAL) AS a_rc,
       CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_kl') AS REAL) AS a_kl,
       CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_nn') AS REAL) AS a_nn,
       COALESCE(CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'supervised_only') AS INTEGER), 0)
           AS supervised_only,
       (SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'kl_sign')    AS kl_sign,
       (SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'unsup_half') AS unsup_half
FROM runs r;

-- The latest evaluation of each run on the test split.
CREATE VIEW latest_test_evaluation AS
SELECT e.* FROM evaluations e
WHERE e.split = 'test'
  AND e.id = (SELECT MAX(e2.id) FROM evaluations e2 WHERE e2.run_id = e.run_id AND e2.split = 'test');

-- One row per run.  Final losses are the latest values of the metrics
-- lh, lrc, lkl, lnn, loss and train_error.
CREATE VIEW runs_summary AS
SELECT r.id AS run_id, r.name, d.name AS dataset, r.n_labels,
       s.a_h, s.a_rc, s.a_kl, s.a_nn, s.supervised_only, s.kl_sign, s.unsup_half,
       r.status, r.started, r.ended,
       (SELECT MAX(epoch) FROM metrics_latest m WHERE m.run_id = r.id) AS epochs,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lh')          AS lh,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lrc')         AS lrc,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lkl')         AS lkl,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lnn')         AS lnn,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'loss')        AS loss,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'train_error') AS train_error,
       t.error AS test_error, t.recon_error AS test_recon_error,
       r.error AS error_message
FROM runs r
JOIN datasets d ON d.id = r.dataset_id
JOIN run_settings s ON s.run_id = r.id
LEFT JOIN latest_test_evaluation t ON t.run_id = r.id;

-- Ablations: finished runs with a test evaluation, grouped by dataset,
-- labels and which terms are on; test error averaged over the runs (seeds).
CREATE VIEW ablation AS
SELECT d.name AS dataset, r.n_labels,
       CASE WHEN COALESCE(s.a_kl, 0) != 0 THEN 1 ELSE 0 END AS kl_on,
       CASE WHEN COALESCE(s.a_nn, 0) != 0 THEN 1 ELSE 0 END AS nn_on,
       s.supervised_only,
       COUNT(*) AS n_runs,
       AVG(t.error) AS test_error,
       MIN(t.error) AS test_error_min,
       MAX(t.error) AS test_error_max
FROM runs r
JOIN datasets d ON d.id = r.dataset_id
JOIN run_settings s ON s.run_id = r.id
JOIN latest_test_evaluation t ON t.run_id = r.id
WHERE r.status = 'FINISHED'
GROUP BY d.name, r.n_labels, kl_on, nn_on, s.supervised_only;

-- Datasets with their split sizes (no image data).
CREATE VIEW datasets_summary AS
SELECT id, name, source, sha256, n_images, n_train, n_test,
       channels || 'x' || height || 'x' || width AS shape, n_classes, n_latents, created
FROM datasets;
