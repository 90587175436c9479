-- The configuration keys every run of the grid recorded with one and the
-- same value, and that value.
-- Report: "Runs", "Configuration", the table "Common to all runs"; config_common.csv.
-- Parameters: :experiment, :dataset.

SELECT key, MIN(value) AS value
FROM grid_config
WHERE experiment = :experiment AND dataset = :dataset
GROUP BY key
HAVING COUNT(DISTINCT value) = 1
   AND COUNT(*) = (SELECT COUNT(*) FROM grid_runs WHERE experiment = :experiment AND dataset = :dataset)
ORDER BY key;
