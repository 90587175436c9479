-- The network architectures of the grid's runs (the arch file's text) and
-- how many runs used each.
-- Report: "Runs", "Architecture"; architecture.csv.
-- Parameters: :experiment, :dataset.

SELECT r.architecture, COUNT(*) AS n_runs
FROM runs r
JOIN grid_runs g ON g.run_id = r.id
WHERE g.experiment = :experiment AND g.dataset = :dataset
GROUP BY r.architecture;
