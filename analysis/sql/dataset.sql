-- The dataset the grid trained on: name, source, SHA-256 of its content,
-- split sizes, image shape, classes and nuisance latents.
-- Report: the "Data" table; dataset.csv.
-- Parameters: :dataset.

SELECT name, source, sha256, n_train, n_test, shape, n_classes, n_latents, created
FROM datasets_summary
WHERE name = :dataset;
