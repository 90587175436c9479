-- The E-DRMM of each grid run that has one (`edrmm`): its latest class tree
-- (average-linkage clustering of the rendered class templates) and the test
-- error of coarse-to-fine inference along it against the model's flat
-- inference on the same images, with how often the two choose the same class.
-- Report: "The E-DRMM", the table and one tree figure per row; edrmm.csv.
-- Parameters: :experiment, :dataset.

SELECT g.run_id, g.model, g.n_labels, g.seed, t.id AS tree_id, t.checkpoint_id, t.n_classes, t.linkage, t.rule,
       t.template_images, t.n_images, 100.0 * (t.n_images - t.flat_correct) / t.n_images AS flat_error_pct,
       100.0 * (t.n_images - t.tree_correct) / t.n_images AS tree_error_pct,
       100.0 * (t.flat_correct - t.tree_correct) / t.n_images AS tree_minus_flat_pct,
       100.0 * t.agree / t.n_images AS agree_pct, t.bn,
       (SELECT 100.0 * n.routed_right / n.arrived FROM edrmm_nodes n
        WHERE n.tree_id = t.id AND n.parent IS NULL AND n.arrived > 0) AS root_right_pct
FROM grid_runs g
JOIN edrmm_trees t ON t.id = (SELECT MAX(id) FROM edrmm_trees WHERE run_id = g.run_id)
WHERE g.experiment = :experiment AND g.dataset = :dataset AND t.n_images > 0
ORDER BY g.n_labels, g.model_order, g.seed;
