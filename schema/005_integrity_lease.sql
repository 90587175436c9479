-- Migration 5: integrity of checkpoints and ownership of runs being trained.
--
-- checkpoints.sha256: SHA-256 of the checkpoint's content (every tensor's
-- name, shape and data, then every blob's name and data, in the order they
-- were written; src/store/store_checkpoint.c gives the byte layout), written
-- with the checkpoint and checked whenever it is read.  NULL for checkpoints
-- written before this migration (they are read unchecked).
--
-- run_leases: the process that trains a run (train, train --resume) owns it
-- through one row: host name, pid, when it took the lease and its latest
-- heartbeat (renewed every 30 s while training).  A second process is
-- refused while the lease is held; it takes the lease over when the holder is
-- provably gone: same host and the pid is not alive, or the heartbeat is older
-- than 600 s (the lease timeout).  The row is deleted when training ends.
--
-- runs_summary: a RUNNING run whose lease is missing or older than the
-- timeout shows status STALE (its process died without recording a status);
-- resume it with train --resume.  lease_host, lease_pid and heartbeat show
-- the holder.
ALTER TABLE checkpoints ADD COLUMN sha256 TEXT;

CREATE TABLE run_leases (
    run_id    INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    host      TEXT NOT NULL,
    pid       INTEGER NOT NULL,
    acquired  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    heartbeat TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

DROP VIEW runs_summary;
CREATE VIEW runs_summary AS
SELECT r.id AS run_id, r.name, d.name AS dataset, r.n_labels,
       s.a_h, s.a_rc, s.a_kl, s.a_nn, s.supervised_only, s.kl_sign, s.unsup_half,
       CASE WHEN r.status = 'RUNNING' AND
                 (l.run_id IS NULL OR (julianday('now') - julianday(l.heartbeat)) * 86400 > 600)
            THEN 'STALE' ELSE r.status END AS status,
       r.started, r.ended,
       (SELECT MAX(epoch) FROM metrics_latest m WHERE m.run_id = r.id) AS epochs,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lh')          AS lh,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lrc')         AS lrc,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lkl')         AS lkl,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'lnn')         AS lnn,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'loss')        AS loss,
       (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'train_error') AS train_error,
       t.error AS test_error, t.recon_error AS test_recon_error, t.x2 AS test_x2,
       r.error AS error_message,
       l.host AS lease_host, l.pid AS lease_pid, l.heartbeat AS heartbeat
FROM runs r
JOIN datasets d ON d.id = r.dataset_id
JOIN run_settings s ON s.run_id = r.id
LEFT JOIN latest_test_evaluation t ON t.run_id = r.id
LEFT JOIN run_leases l ON l.run_id = r.id;
