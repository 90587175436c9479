-- The paper's Table 2: per label count and penalised DRMM, the plain DRMM's
-- mean test error minus the penalised model's, in percentage points
-- (positive: the penalty helps).
-- Report: "Table 2: error reduction by the penalties"; table2_penalty_reduction.csv.
-- Parameters: :experiment, :dataset.

SELECT n_labels, model, 100 * drmm_error AS drmm_error_pct, drmm_runs,
       100 * mean_error AS error_pct, n_runs, 100 * reduction AS reduction_pct
FROM grid_penalty_effect
WHERE experiment = :experiment AND dataset = :dataset
ORDER BY model_order, n_labels;
