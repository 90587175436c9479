-- The Figure 4 verdict per label count, DRMM setting and latent: does the
-- CNN's decoding error rise with depth earlier than the DRMM's?  Per model,
-- the errors are the means over the finished runs (each run's latest
-- decoded checkpoint), as in decoding.sql.  The rule, with margin_pct = 5:
-- a model's error "rises" at the first layer (in layer order, the class
-- scores last) whose error exceeds its first layer's error by more than
-- margin_pct points (rise_layer NULL: it never does).  The latent is
-- decodable when both models' first-layer errors are below chance by more
-- than margin_pct points; the pattern shows (pattern = 1) when it is
-- decodable, the CNN's error rises and the DRMM's rises at a later layer
-- or never; pattern is NULL when the latent is not decodable (no verdict).
-- Report: "Nuisance decoding (Figure 4)", the verdict; figure4.csv.
-- Parameters: :experiment, :dataset.

WITH rule AS (SELECT 5.0 AS margin_pct),
layers AS (
    SELECT g.n_labels, g.model, MIN(g.model_order) AS model_order, x.layer, x.layer_index, x.latent,
           COUNT(*) AS n_runs, 100 * AVG(x.error) AS error_pct, 100 * AVG(x.chance) AS chance_pct
    FROM decoding x
    JOIN grid_runs g ON g.run_id = x.run_id
    WHERE g.experiment = :experiment AND g.dataset = :dataset AND g.status = 'FINISHED' AND g.current_data = 1
      AND x.checkpoint_id = (SELECT MAX(y.checkpoint_id) FROM decoding y WHERE y.run_id = x.run_id)
    GROUP BY g.n_labels, g.model, x.layer, x.latent),
curve AS (
    SELECT f.n_labels, f.model, f.model_order, f.latent, f.n_runs, f.layer AS first_layer,
           f.error_pct AS first_error_pct, f.chance_pct,
           (SELECT MIN(l.layer_index) FROM layers l, rule
            WHERE l.n_labels = f.n_labels AND l.model = f.model AND l.latent = f.latent
              AND l.error_pct > f.error_pct + rule.margin_pct) AS rise_index
    FROM layers f
    WHERE f.layer_index = (SELECT MIN(l.layer_index) FROM layers l
                           WHERE l.n_labels = f.n_labels AND l.model = f.model AND l.latent = f.latent)),
named AS (
    SELECT c.*, (SELECT l.layer FROM layers l WHERE l.n_labels = c.n_labels AND l.model = c.model
                 AND l.latent = c.latent AND l.layer_index = c.rise_index) AS rise_layer
    FROM curve c)
SELECT d.n_labels, d.latent, d.model AS drmm_model, rule.margin_pct,
       d.n_runs AS drmm_runs, c.n_runs AS cnn_runs, d.chance_pct,
       d.first_layer AS drmm_first_layer, d.first_error_pct AS drmm_first_error_pct, d.rise_layer AS drmm_rise_layer,
       c.first_layer AS cnn_first_layer, c.first_error_pct AS cnn_first_error_pct, c.rise_layer AS cnn_rise_layer,
       CASE WHEN d.first_error_pct < d.chance_pct - rule.margin_pct
             AND c.first_error_pct < c.chance_pct - rule.margin_pct THEN 1 ELSE 0 END AS decodable,
       CASE WHEN NOT (d.first_error_pct < d.chance_pct - rule.margin_pct
                      AND c.first_error_pct < c.chance_pct - rule.margin_pct) THEN NULL
            WHEN c.rise_index IS NOT NULL AND (d.rise_index IS NULL OR d.rise_index > c.rise_index) THEN 1
            ELSE 0 END AS pattern
FROM named d
JOIN named c ON c.n_labels = d.n_labels AND c.latent = d.latent AND c.model = 'CNN'
CROSS JOIN rule
WHERE d.model != 'CNN'
ORDER BY d.n_labels, d.model_order, d.latent;
