-- The paper's Table 5: DRMM +KL+NN against the CNN per label count, their
-- mean errors (%), the reduction (CNN - DRMM) with its standard error and
-- basis, and whether the DRMM is lower, clearly (by more than 2 SE).
-- Report: "Table 5" and the summary's verdict; table5_drmm_vs_cnn.csv.
-- Parameters: :experiment, :dataset.

SELECT n_labels,
       100 * cnn_error AS cnn_error_pct, 100 * cnn_std AS cnn_std_pct, cnn_runs,
       100 * drmm_error AS drmm_error_pct, 100 * drmm_std AS drmm_std_pct, drmm_runs,
       100 * reduction AS reduction_pct, 100 * reduction_se AS reduction_se_pct, se_basis,
       drmm_lower, drmm_clearly_lower
FROM grid_drmm_vs_cnn
WHERE experiment = :experiment AND dataset = :dataset
ORDER BY n_labels;
