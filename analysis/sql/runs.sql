-- Every run of the grid (the latest run of each name), with its test error,
-- LRC / mean(I^2) at the last epoch, wall time, speed and provenance (git
-- commit, data hash, threads, BLAS core, host).
-- Report: the "Runs" table and the summary's counts; runs.csv.
-- Parameters: :experiment, :dataset.

SELECT run_id, name, model, n_labels, seed, status, epochs,
       100 * test_error AS test_error_pct, test_images, lrc / x2 AS lrc_ratio,
       seconds, images_per_s, git_commit, git_dirty, program_version, dataset_sha256,
       current_data, threads, openblas_core, host, started, ended, error_message
FROM grid_runs
WHERE experiment = :experiment AND dataset = :dataset
ORDER BY n_labels, seed, model_order, run_id;
