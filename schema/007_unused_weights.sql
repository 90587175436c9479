-- Migration 7: run_settings shows NULL for the loss weights a run does not
-- use.  A supervised_only run (the CNN baseline) trains on LH alone, so its
-- a_rc, a_kl, a_nn and a_rcl are NULL here (they stay in run_config, the
-- resolved configuration that resume reads), and `WHERE a_kl > 0` no longer
-- returns CNN runs.  Runs recorded before this migration keep their stored
-- text (e.g. 0.200000003); runs recorded since store the shortest decimal
-- that reads back to the same float (0.2).  Every view reading run_settings
-- (runs_summary, ablation, decoding, grid_runs) sees the new definition;
-- the view gains a_rcl.
DROP VIEW run_settings;
CREATE VIEW run_settings AS
SELECT run_id, a_h,
       CASE WHEN supervised_only != 0 THEN NULL ELSE a_rc END AS a_rc,
       CASE WHEN supervised_only != 0 THEN NULL ELSE a_kl END AS a_kl,
       CASE WHEN supervised_only != 0 THEN NULL ELSE a_nn END AS a_nn,
       supervised_only, kl_sign, unsup_half,
       CASE WHEN supervised_only != 0 THEN NULL ELSE a_rcl END AS a_rcl
FROM (SELECT r.id AS run_id,
             CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_h')   AS REAL) AS a_h,
             CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_rc')  AS REAL) AS a_rc,
             CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_kl')  AS REAL) AS a_kl,
             CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_nn')  AS REAL) AS a_nn,
             CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'a_rcl') AS REAL) AS a_rcl,
             COALESCE(CAST((SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'supervised_only')
                           AS INTEGER), 0) AS supervised_only,
             (SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'kl_sign')    AS kl_sign,
             (SELECT value FROM run_config c WHERE c.run_id = r.id AND c.key = 'unsup_half') AS unsup_half
      FROM runs r);
