-- The configuration keys whose value differs between the grid's runs (or
-- that not every run recorded): one row per run and key.
-- Report: "Runs", "Configuration", the table "Differing between runs"; config_by_run.csv.
-- Parameters: :experiment, :dataset.

SELECT run_id, model, n_labels, seed, key, value
FROM grid_config
WHERE experiment = :experiment AND dataset = :dataset
  AND key NOT IN (SELECT key FROM grid_config WHERE experiment = :experiment AND dataset = :dataset
                  GROUP BY key HAVING COUNT(DISTINCT value) = 1
                     AND COUNT(*) = (SELECT COUNT(*) FROM grid_runs
                                     WHERE experiment = :experiment AND dataset = :dataset))
ORDER BY n_labels, seed, model_order, run_id, key;
