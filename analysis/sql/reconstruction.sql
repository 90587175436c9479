-- The reconstruction check: per label count and DRMM model, the mean over
-- the seeds of the first and last epoch's LRC, mean(I^2) and their ratio on
-- the training images, the runs whose ratio is below :well_below, and the
-- same ratio on the test images.
-- Report: the "Reconstruction" table and the summary's verdict; reconstruction.csv.
-- Parameters: :experiment, :dataset, :well_below (bin/report --well-below, 0.5).

SELECT n_labels, model, COUNT(*) AS n_runs,
       AVG(first_lrc) AS first_lrc, AVG(lrc) AS lrc, AVG(x2) AS x2,
       AVG(lrc_ratio) AS lrc_ratio, MAX(lrc_ratio) AS max_lrc_ratio,
       SUM(lrc_ratio < :well_below) AS runs_well_below,
       AVG(test_recon_error) AS test_recon_error, AVG(test_x2) AS test_x2,
       AVG(test_recon_ratio) AS test_recon_ratio
FROM grid_reconstruction
WHERE experiment = :experiment AND dataset = :dataset
GROUP BY n_labels, model
ORDER BY n_labels, MIN(model_order);
