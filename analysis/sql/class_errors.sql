-- The test error (%) of each class per label count and model: the latest
-- test evaluation of each finished run, mean, lowest and highest over the
-- seeds, with the class's name.
-- Report: "Errors by class", the tables "test error by class"; class_errors.csv.
-- Parameters: :experiment, :dataset.

SELECT g.n_labels, g.model, MIN(g.model_order) AS model_order,
       CAST(j.key AS INTEGER) AS class, k.name AS class_name, COUNT(*) AS n_runs,
       100 * AVG(j.value) AS error_pct, 100 * MIN(j.value) AS min_pct, 100 * MAX(j.value) AS max_pct
FROM grid_runs g
JOIN latest_test_evaluation t ON t.run_id = g.run_id
JOIN json_each(t.class_errors) j
JOIN datasets d ON d.name = g.dataset
LEFT JOIN dataset_classes k ON k.dataset_id = d.id AND k.label = CAST(j.key AS INTEGER)
WHERE g.experiment = :experiment AND g.dataset = :dataset AND g.status = 'FINISHED' AND g.current_data = 1
GROUP BY g.n_labels, g.model, class
ORDER BY g.n_labels, MIN(g.model_order), class;
