-- Training curves: per label count, model, metric and epoch, the epoch
-- means of the finished runs averaged over the seeds, with the lowest and
-- highest seed (LH, LRC, mean(I^2), LKL, LNN, loss, training error and the
-- held-out error valid_error).
-- Report: the charts of "Training curves" (curves_METRIC_nLABELS.png); curves.csv.
-- Parameters: :experiment, :dataset.

SELECT g.n_labels, g.model, MIN(g.model_order) AS model_order, m.name AS metric, m.epoch,
       AVG(m.value) AS value, MIN(m.value) AS min_value, MAX(m.value) AS max_value,
       COUNT(*) AS n_runs
FROM grid_runs g
JOIN metrics m ON m.run_id = g.run_id
WHERE g.experiment = :experiment AND g.dataset = :dataset AND g.status = 'FINISHED' AND g.current_data = 1
  AND m.name IN ('lh', 'lrc', 'x2', 'lkl', 'lnn', 'loss', 'train_error', 'valid_error')
GROUP BY g.n_labels, g.model, m.name, m.epoch
ORDER BY g.n_labels, MIN(g.model_order), m.name, m.epoch;
