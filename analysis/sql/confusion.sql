-- The confusion matrices per label count and model, summed over the seeds:
-- test images by true and predicted class (latest test evaluation of each
-- finished run).
-- Report: "Errors by class", the "Confusion matrix" tables; confusion.csv.
-- Parameters: :experiment, :dataset.

SELECT g.n_labels, g.model, MIN(g.model_order) AS model_order, COUNT(*) AS n_runs,
       CAST(r.key AS INTEGER) AS true_class, CAST(p.key AS INTEGER) AS predicted_class,
       SUM(p.value) AS images
FROM grid_runs g
JOIN latest_test_evaluation t ON t.run_id = g.run_id
JOIN json_each(t.confusion) r
JOIN json_each(r.value) p
WHERE g.experiment = :experiment AND g.dataset = :dataset AND g.status = 'FINISHED' AND g.current_data = 1
GROUP BY g.n_labels, g.model, true_class, predicted_class
ORDER BY g.n_labels, MIN(g.model_order), true_class, predicted_class;
