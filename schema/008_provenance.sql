-- Migration 8: what else a run was made with, and the user's tags and notes.
-- New runs fill the provenance columns when they are created; runs recorded
-- before this migration have them NULL.
--   argv            the training program's arguments, a JSON array of strings
--   command         the command that launched it: make pipeline's command line
--                   (the environment variable DRMM_PIPELINE_COMMAND), else NULL
--   git_diff        when the build's tree was dirty (git_dirty = 1): git diff HEAD
--                   of its tracked files, at most its first 65,536 bytes
--   git_diff_bytes  the whole diff's size (above 65,536: git_diff is cut)
--   git_diff_sha256 the whole diff's SHA-256
--   openblas        OpenBLAS's version and build configuration with the kernel in
--                   use (openblas_get_config(), openblas_get_corename())
--   sqlite_version, libpng_version  the libraries the program ran with
--   cpu_model       /proc/cpuinfo's "model name"
ALTER TABLE runs ADD COLUMN argv TEXT;
ALTER TABLE runs ADD COLUMN command TEXT;
ALTER TABLE runs ADD COLUMN git_diff TEXT;
ALTER TABLE runs ADD COLUMN git_diff_bytes INTEGER;
ALTER TABLE runs ADD COLUMN git_diff_sha256 TEXT;
ALTER TABLE runs ADD COLUMN openblas TEXT;
ALTER TABLE runs ADD COLUMN sqlite_version TEXT;
ALTER TABLE runs ADD COLUMN libpng_version TEXT;
ALTER TABLE runs ADD COLUMN cpu_model TEXT;

-- Tags (`runs tag RUN TAG`): short labels, one row per (run, tag).
CREATE TABLE run_tags (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (run_id, tag)
);
CREATE INDEX run_tags_tag ON run_tags(tag);

-- Free-form notes (`runs note RUN TEXT`), in the order they were written.
CREATE TABLE run_notes (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    note    TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX run_notes_run ON run_notes(run_id);

-- One row per run: everything it was made with, its tags (sorted, comma-
-- separated) and notes (oldest first, separated by " | ").
CREATE VIEW run_provenance AS
SELECT r.id AS run_id, r.name, r.program_version, r.git_commit, r.git_dirty, r.git_diff_bytes,
       r.git_diff_sha256, r.argv, r.command, r.host, r.cpu_model, r.threads, r.openblas_core, r.openblas,
       r.sqlite_version, r.libpng_version, r.dataset_sha256,
       (SELECT group_concat(tag, ',') FROM (SELECT tag FROM run_tags t WHERE t.run_id = r.id ORDER BY tag)) AS tags,
       (SELECT group_concat(note, ' | ') FROM (SELECT note FROM run_notes n WHERE n.run_id = r.id ORDER BY id))
           AS notes
FROM runs r;
