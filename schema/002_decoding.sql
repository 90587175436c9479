-- Migration 2: per-layer activations written by `decode` and the linear
-- decoding results written by `analysis` (DRMM-SPEC section 7, Figure 4).

-- One decoded layer of one checkpoint: written with all its activation rows
-- in one transaction, so a row here means the layer is complete.
--   layer      conv1..convN (the output of conv block N after BN and ReLU,
--              before pooling) or scores (the class scores, pre-softmax)
--   channels, height, width   the layer's shape (scores: classes x 1 x 1)
--   dims       values stored per sample: channels*height*width, or fewer when
--              projected
--   projection 'none', or 'srht:SEED' when the layer had more than the
--              --max-dims values decode allows: a subsampled randomized
--              Hadamard transform (random signs from SEED, zero padding to a
--              power of two P, normalised Walsh-Hadamard transform, dims
--              coordinates chosen with SEED, scaled by sqrt(P/dims)).  It
--              preserves inner products and distances up to ~1/sqrt(dims)
--              relative error, hence the Gram matrix and the PCA
--   encoding   'u8affine': each sample's values v are stored as bytes q with
--              v = lo + step*q (lo = the sample's minimum, step = range/255),
--              keeping the store small: e.g. 2000 samples of a layer of 8192
--              values take 16 MB
--   split, n_samples  the held-out images decoded (dataset split 1 = test)
--   bn         'running' or 'recalibrated' (BN statistics used)
CREATE TABLE decode_layers (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
    layer         TEXT NOT NULL,
    layer_index   INTEGER NOT NULL,      -- 0 = conv1, ..., nblocks = scores
    channels      INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    width         INTEGER NOT NULL,
    dims          INTEGER NOT NULL,
    projection    TEXT NOT NULL,
    encoding      TEXT NOT NULL DEFAULT 'u8affine' CHECK (encoding = 'u8affine'),
    split         INTEGER NOT NULL CHECK (split IN (0, 1)),
    n_samples     INTEGER NOT NULL,
    bn            TEXT NOT NULL,
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (run_id, checkpoint_id, layer)
);
CREATE INDEX decode_layers_checkpoint ON decode_layers(checkpoint_id);

-- One sample of a decoded layer: dims bytes, value = lo + step * byte.
CREATE TABLE activations (
    layer_id   INTEGER NOT NULL REFERENCES decode_layers(id) ON DELETE CASCADE,
    sample_idx INTEGER NOT NULL,             -- images.idx
    lo         REAL NOT NULL,
    step       REAL NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (layer_id, sample_idx)
);

-- One linear decoding result: a latent's bin predicted from the first
-- `components` principal components of a decoded layer, by multinomial
-- logistic regression; error and chance are fractions over held-out folds.
CREATE TABLE decoding_results (
    id         INTEGER PRIMARY KEY,
    layer_id   INTEGER NOT NULL REFERENCES decode_layers(id) ON DELETE CASCADE,
    latent     TEXT NOT NULL,
    circular   INTEGER NOT NULL,             -- 1: binned as an angle on the circle
    components INTEGER NOT NULL,
    bins       INTEGER NOT NULL,             -- requested
    bins_used  INTEGER NOT NULL,             -- non-empty
    folds      INTEGER NOT NULL,
    l2         REAL NOT NULL,
    samples    INTEGER NOT NULL,
    error      REAL NOT NULL,
    chance     REAL NOT NULL,                -- error of always predicting the training folds' majority bin
    explained  REAL,                         -- fraction of the layer's variance in the components (NULL if unknown)
    seconds    REAL,
    created    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (layer_id, latent, components, bins, folds)
);

-- Public view: one row per (run, checkpoint, layer, latent, settings).
CREATE VIEW decoding AS
SELECT r.id AS run_id, r.name AS run, d.name AS dataset,
       COALESCE(s.supervised_only, 0) AS supervised_only,
       l.checkpoint_id, l.layer, l.layer_index, x.latent, x.error, x.chance,
       x.components, x.samples, x.bins, x.bins_used, x.folds, x.circular, x.explained
FROM decoding_results x
JOIN decode_layers l ON l.id = x.layer_id
JOIN runs r ON r.id = l.run_id
JOIN datasets d ON d.id = r.dataset_id
LEFT JOIN run_settings s ON s.run_id = r.id;
