-- Migration 3: evaluations record mean(I^2) of the evaluated images, the
-- reconstruction error of rendering zero, so that a reconstruction error can
-- be judged on its own (recon_error / x2 well below 1 means I-hat renders
-- the images).  runs_summary gains test_x2.
ALTER TABLE evaluations ADD COLUMN x2 REAL;

DROP VIEW runs_summary;
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
       t.error AS test_error, t.recon_error AS test_recon_error, t.x2 AS test_x2,
       r.error AS error_message
FROM runs r
JOIN datasets d ON d.id = r.dataset_id
JOIN run_settings s ON s.run_id = r.id
LEFT JOIN latest_test_evaluation t ON t.run_id = r.id;
