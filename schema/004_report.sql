-- Migration 4: views of an experiment grid, read by the report (bin/report)
-- and by users with sqlite3 (schema/README.md).
--
-- The pipeline (pipeline/pipeline.mk) names each run
-- EXPERIMENT/MODEL/nLABELS/sSEED, e.g. default/drmm+kl+nn/n1000/s1; a run's
-- experiment is the part of its name before the first '/'.  The grid holds
-- the latest run (highest id) of each (dataset, name): a run redone after a
-- change of configuration, data or program replaces the earlier one here,
-- while the earlier one stays in the store (runs_summary lists every run).
-- The model is read from the run's configuration, never from its name:
-- supervised_only -> CNN, else DRMM with +KL when a_kl != 0 and +NN when
-- a_nn != 0.  Test errors are fractions (0.25 = 25%).

CREATE INDEX runs_dataset_name ON runs(dataset_id, name, id);

-- One row per grid run: model, labels, seeds, status, test error, final
-- training losses (latest epoch means), provenance and runtime.
--   current_data  1 when the run saw the dataset's present content
--   x2            mean(I^2) of the images LRC was measured on in the last
--                 epoch: the LRC of an all-zero reconstruction (DRMM runs)
--   test_recon_error, test_x2  the same two on the test images (latest
--                 test evaluation; test_x2 is NULL for evaluations made
--                 before migration 3)
--   seconds       wall time from start to end (NULL while RUNNING)
CREATE VIEW grid_runs AS
SELECT r.id AS run_id, r.name,
       CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE '' END AS experiment,
       d.name AS dataset,
       CASE WHEN s.supervised_only != 0 THEN 'CNN'
            WHEN COALESCE(s.a_kl, 0) != 0 AND COALESCE(s.a_nn, 0) != 0 THEN 'DRMM +KL+NN'
            WHEN COALESCE(s.a_kl, 0) != 0 THEN 'DRMM +KL'
            WHEN COALESCE(s.a_nn, 0) != 0 THEN 'DRMM +NN'
            ELSE 'DRMM' END AS model,
       CASE WHEN s.supervised_only != 0 THEN 4
            WHEN COALESCE(s.a_kl, 0) != 0 AND COALESCE(s.a_nn, 0) != 0 THEN 3
            WHEN COALESCE(s.a_kl, 0) != 0 THEN 2
            WHEN COALESCE(s.a_nn, 0) != 0 THEN 1
            ELSE 0 END AS model_order,
       r.n_labels, r.seed, r.label_seed, s.a_h, s.a_rc, s.a_kl, s.a_nn, s.supervised_only,
       r.status, r.error AS error_message,
       CASE WHEN r.dataset_sha256 = d.sha256 THEN 1 ELSE 0 END AS current_data,
       (SELECT MAX(epoch) FROM metrics_latest m WHERE m.run_id = r.id) AS epochs,
       t.error AS test_error, t.n_images AS test_images, t.recon_error AS test_recon_error, t.x2 AS test_x2,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lh')           AS lh,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lrc')          AS lrc,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'x2')           AS x2,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'train_error')  AS train_error,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'images_per_s') AS images_per_s,
       r.dataset_sha256, r.git_commit, r.git_dirty, r.program_version, r.host, r.threads, r.openblas_core,
       r.started, r.ended,
       (julianday(r.ended) - julianday(r.started)) * 86400.0 AS seconds
FROM runs r
JOIN datasets d ON d.id = r.dataset_id
JOIN run_settings s ON s.run_id = r.id
LEFT JOIN latest_test_evaluation t ON t.run_id = r.id
WHERE r.id = (SELECT MAX(r2.id) FROM runs r2 WHERE r2.dataset_id = r.dataset_id AND r2.name = r.name);

-- Table 1 of the paper, long form: test error per experiment, labels and
-- model over the seeds (FINISHED runs on the present data with a test
-- evaluation); std_error is the sample standard deviation (NULL for one run).
CREATE VIEW grid_errors AS
WITH ok AS (SELECT * FROM grid_runs WHERE status = 'FINISHED' AND current_data = 1 AND test_error IS NOT NULL),
     m AS (SELECT experiment, dataset, n_labels, model, COUNT(*) AS n_runs, AVG(test_error) AS mean_error
           FROM ok GROUP BY experiment, dataset, n_labels, model)
SELECT m.experiment, m.dataset, m.n_labels, m.model, MIN(ok.model_order) AS model_order, m.n_runs,
       m.mean_error,
       CASE WHEN m.n_runs > 1
            THEN sqrt(SUM((ok.test_error - m.mean_error) * (ok.test_error - m.mean_error)) / (m.n_runs - 1)) END
           AS std_error,
       MIN(ok.test_error) AS min_error, MAX(ok.test_error) AS max_error,
       AVG(ok.test_images) AS test_images
FROM m JOIN ok ON ok.experiment = m.experiment AND ok.dataset = m.dataset AND ok.n_labels = m.n_labels
              AND ok.model = m.model
GROUP BY m.experiment, m.dataset, m.n_labels, m.model;

-- Table 2 of the paper: the reduction of the mean test error that each
-- penalty brings against the plain DRMM at the same labels (positive =
-- the penalty helps).
CREATE VIEW grid_penalty_effect AS
SELECT p.experiment, p.dataset, p.n_labels, p.model, p.model_order,
       b.mean_error AS drmm_error, b.n_runs AS drmm_runs, p.mean_error, p.n_runs,
       b.mean_error - p.mean_error AS reduction
FROM grid_errors p
JOIN grid_errors b ON b.experiment = p.experiment AND b.dataset = p.dataset AND b.n_labels = p.n_labels
                  AND b.model = 'DRMM'
WHERE p.model IN ('DRMM +NN', 'DRMM +KL', 'DRMM +KL+NN');

-- Table 5 of the paper: DRMM +KL+NN against the CNN at the same labels.
--   reduction      cnn_error - drmm_error (positive: the DRMM is better)
--   reduction_se   standard error of that difference: over the seeds when
--                  both have at least two runs (se_basis 'seeds'), else the
--                  binomial error of the two test errors on the test set
--                  (se_basis 'test set'; blind to the spread over seeds)
--   drmm_lower     1 when the DRMM's mean error is lower
--   drmm_clearly_lower  1 when reduction > 2 * reduction_se
CREATE VIEW grid_drmm_vs_cnn AS
WITH p AS (
    SELECT d.experiment, d.dataset, d.n_labels,
           c.mean_error AS cnn_error, c.std_error AS cnn_std, c.n_runs AS cnn_runs,
           d.mean_error AS drmm_error, d.std_error AS drmm_std, d.n_runs AS drmm_runs,
           c.mean_error - d.mean_error AS reduction,
           CASE WHEN c.n_runs > 1 AND d.n_runs > 1
                THEN sqrt(c.std_error * c.std_error / c.n_runs + d.std_error * d.std_error / d.n_runs)
                ELSE sqrt(c.mean_error * (1 - c.mean_error) / c.test_images
                          + d.mean_error * (1 - d.mean_error) / d.test_images) END AS reduction_se,
           CASE WHEN c.n_runs > 1 AND d.n_runs > 1 THEN 'seeds' ELSE 'test set' END AS se_basis
    FROM grid_errors d
    JOIN grid_errors c ON c.experiment = d.experiment AND c.dataset = d.dataset AND c.n_labels = d.n_labels
                      AND c.model = 'CNN'
    WHERE d.model = 'DRMM +KL+NN')
SELECT p.*,
       CASE WHEN drmm_error < cnn_error THEN 1 ELSE 0 END AS drmm_lower,
       CASE WHEN reduction > 2 * reduction_se THEN 1 ELSE 0 END AS drmm_clearly_lower
FROM p;

-- The reconstruction term at work: per DRMM grid run, the final epoch's
-- LRC against mean(I^2) (x2, the LRC of rendering nothing) on the training
-- images, and the same on the test images; a ratio well below 1 means the
-- top-down pass renders the images.  first_lrc is the first epoch's LRC.
CREATE VIEW grid_reconstruction AS
SELECT g.experiment, g.dataset, g.n_labels, g.seed, g.model, g.model_order, g.run_id,
       (SELECT m.value FROM metrics m WHERE m.run_id = g.run_id AND m.name = 'lrc' ORDER BY m.step LIMIT 1)
           AS first_lrc,
       g.lrc, g.x2, g.lrc / NULLIF(g.x2, 0) AS lrc_ratio,
       g.test_recon_error, g.test_x2, g.test_recon_error / NULLIF(g.test_x2, 0) AS test_recon_ratio
FROM grid_runs g
WHERE g.model != 'CNN' AND g.status = 'FINISHED' AND g.current_data = 1;

-- Training curves: the epoch means of each grid run (metric = lh, lrc, x2,
-- lkl, lnn, loss or train_error).
CREATE VIEW grid_curves AS
SELECT g.experiment, g.dataset, g.n_labels, g.seed, g.model, g.model_order, g.run_id, g.status,
       m.epoch, m.name AS metric, m.value
FROM grid_runs g
JOIN metrics m ON m.run_id = g.run_id
WHERE m.name IN ('lh', 'lrc', 'x2', 'lkl', 'lnn', 'loss', 'train_error') AND g.current_data = 1;

-- The resolved configuration of every grid run, one row per key.
CREATE VIEW grid_config AS
SELECT g.experiment, g.dataset, g.run_id, g.name, g.model, g.model_order, g.n_labels, g.seed, c.key, c.value
FROM grid_runs g
JOIN run_config c ON c.run_id = g.run_id;
