-- Migration 11: fits of the shallow Rendering Mixture Model (bin/rmm,
-- src/engine/rmm.h): K templates over the P x P patches at stride S of the
-- first `images` training images of a dataset, trained by exact EM; the
-- mean log-likelihood per patch (nats) of every iteration, and the final
-- templates (K x channels*P*P float32, little-endian) and noise variance.
CREATE TABLE rmm_fits (
    id          INTEGER PRIMARY KEY,
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id),
    components  INTEGER NOT NULL CHECK (components > 0),
    patch       INTEGER NOT NULL CHECK (patch > 0),
    stride      INTEGER NOT NULL CHECK (stride > 0),
    images      INTEGER NOT NULL CHECK (images > 0),
    patches     INTEGER NOT NULL CHECK (patches > 0),
    iterations  INTEGER NOT NULL CHECK (iterations >= 0),
    seed        INTEGER NOT NULL,
    sigma2      REAL NOT NULL,
    templates   BLOB NOT NULL,
    git_commit  TEXT NOT NULL,
    created     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE rmm_loglik (
    fit_id     INTEGER NOT NULL REFERENCES rmm_fits(id) ON DELETE CASCADE,
    iteration  INTEGER NOT NULL CHECK (iteration >= 1),
    loglik     REAL NOT NULL,
    PRIMARY KEY (fit_id, iteration)
);
