-- Migration 10: the E-DRMM (supplement, section F) of a trained run, written
-- by `edrmm`: a tree over the model's classes built by agglomerative
-- clustering of its rendered class templates, and the test accuracy of
-- coarse-to-fine inference along it against the model's flat inference.
--   linkage       'average' (Euclidean distance between templates)
--   rule          how a node chooses a child: 'mean-log-prob' (the child
--                 whose classes have the highest mean log probability: the
--                 ancestor template's score)
--   template_images  training images whose renderings make the templates
--   split, n_images  the images classified (split 1 = test)
--   flat_correct  images whose flat prediction (argmax) is their label
--   tree_correct  images whose coarse-to-fine prediction is their label
--   agree         images where the two predictions are the same class
--   bn            'running' or 'recalibrated' (BN statistics used)
CREATE TABLE edrmm_trees (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    checkpoint_id   INTEGER NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
    n_classes       INTEGER NOT NULL,
    linkage         TEXT NOT NULL,
    rule            TEXT NOT NULL,
    template_images INTEGER NOT NULL,
    channels        INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    width           INTEGER NOT NULL,
    split           INTEGER NOT NULL CHECK (split IN (0, 1)),
    n_images        INTEGER NOT NULL,
    flat_correct    INTEGER NOT NULL,
    tree_correct    INTEGER NOT NULL,
    agree           INTEGER NOT NULL,
    bn              TEXT NOT NULL,
    created         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX edrmm_trees_run ON edrmm_trees(run_id);

-- One node of a tree: nodes 0..n_classes-1 are the classes (leaves), the
-- others internal (the root has parent NULL).
--   height     the average distance between the two clusters it joined (0 at leaves)
--   n_leaves   classes under it
--   arrived    classified images whose true class is under the node and that reached it
--   routed_right  of those, the images it sent towards their true class (leaves: arrived)
--   template_count  (leaves) training images the class's template averages
--                   (0: none was assigned to it; rendered with every switch on)
--   template   the node's template, channels*height*width float32 LE (an
--              internal node's: the mean of its classes' templates)
CREATE TABLE edrmm_nodes (
    tree_id        INTEGER NOT NULL REFERENCES edrmm_trees(id) ON DELETE CASCADE,
    node           INTEGER NOT NULL,
    parent         INTEGER,
    height         REAL NOT NULL,
    n_leaves       INTEGER NOT NULL,
    arrived        INTEGER NOT NULL,
    routed_right   INTEGER NOT NULL,
    template_count INTEGER,
    template       BLOB NOT NULL,
    PRIMARY KEY (tree_id, node)
);
