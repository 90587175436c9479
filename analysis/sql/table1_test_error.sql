-- The paper's Table 1: the test error (%) of each model by label count,
-- mean, sample standard deviation, lowest and highest over the seeds
-- (finished runs on the present data with a test evaluation).
-- Report: "Table 1: test error (%)"; table1_test_error.csv.
-- Parameters: :experiment, :dataset.

SELECT n_labels, model, n_runs,
       100 * mean_error AS error_pct, 100 * std_error AS std_pct,
       100 * min_error AS min_pct, 100 * max_error AS max_pct
FROM grid_errors
WHERE experiment = :experiment AND dataset = :dataset
ORDER BY model_order, n_labels;
