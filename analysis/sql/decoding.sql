-- Nuisance decoding (the paper's Figure 4): per label count, model, layer
-- and latent, the linear decoding error (%) and its chance level, mean over
-- the finished runs (each run's latest decoded checkpoint).
-- Report: "Nuisance decoding (Figure 4)", the tables by layer; decoding.csv.
-- Parameters: :experiment, :dataset.

SELECT g.n_labels, g.model, x.layer, x.layer_index, x.latent,
       COUNT(*) AS n_runs, 100 * AVG(x.error) AS error_pct, 100 * AVG(x.chance) AS chance_pct,
       x.components, x.bins, x.folds, MIN(x.samples) AS samples
FROM decoding x
JOIN grid_runs g ON g.run_id = x.run_id
WHERE g.experiment = :experiment AND g.dataset = :dataset AND g.status = 'FINISHED' AND g.current_data = 1
  AND x.checkpoint_id = (SELECT MAX(y.checkpoint_id) FROM decoding y WHERE y.run_id = x.run_id)
GROUP BY g.n_labels, g.model, x.layer, x.latent, x.components, x.bins, x.folds
ORDER BY g.n_labels, MIN(g.model_order), x.layer_index, x.latent;
