/* Leases on runs: one process trains a run at a time (see store.h and
 * schema/005_integrity_lease.sql).  A lease is a row of run_leases naming the
 * holder's host and pid with a heartbeat; it is taken in one BEGIN IMMEDIATE
 * transaction, so two processes cannot both take it. */
#include "store_internal.h"

#include "clock.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static void this_host(char *buf, size_t n)
{
    if (gethostname(buf, n) != 0)
        snprintf(buf, n, "unknown");
    buf[n - 1] = '\0';
}

/* 1 if pid is certainly not a live process on this host. */
static int pid_gone(long pid)
{
    if (pid <= 0 || pid > INT32_MAX)
        return 1;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int store_lease_take(store *s, int64_t run_id, store_lease *l, err_t *e)
{
    sqlite3_stmt *st = NULL;
    char host[256];
    int ok = 0, rc;
    memset(l, 0, sizeof *l);
    this_host(host, sizeof host);
    if (store_wbegin(s, e) < 0)
        return -1;
    if (store_prepare(s, &st, "SELECT r.status, l.host, l.pid, l.heartbeat, "
                              "(julianday('now') - julianday(l.heartbeat)) * 86400 "
                              "FROM runs r LEFT JOIN run_leases l ON l.run_id = r.id WHERE r.id = ?", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, run_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        store_fail(STORE_FAIL_NOTFOUND, e, "%s: no run with id %" PRId64 "; list the runs with: sqlite3 %s "
                   "'SELECT run_id, name, status FROM runs_summary'", s->path, run_id, s->path);
        goto done;
    }
    if (rc != SQLITE_ROW) {
        store_fail_sql(s, rc, "reading the run's lease", e);
        goto done;
    }
    const char *status = (const char *)sqlite3_column_text(st, 0);
    if (status && strcmp(status, "FINISHED") == 0) {
        store_fail(STORE_FAIL_CONFLICT, e, "%s: run %" PRId64 " already finished: nothing to resume", s->path, run_id);
        goto done;
    }
    int taken_over = 0;
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        const char *h = (const char *)sqlite3_column_text(st, 1);
        long pid = (long)sqlite3_column_int64(st, 2);
        double age = sqlite3_column_double(st, 4);
        int same_host = h && strcmp(h, host) == 0;
        int gone = (same_host && pid_gone(pid)) || age > STORE_LEASE_TIMEOUT_S;
        if (!gone) {
            store_fail(STORE_FAIL_BUSY, e, "%s: run %" PRId64 " is being trained by process %ld on host %s "
                       "(heartbeat %.0f s ago); wait for it to finish or stop it (kill %ld on %s); its lease is "
                       "taken over once that process has exited, or %d s after its last heartbeat",
                       s->path, run_id, pid, h ? h : "?", age < 0 ? 0 : age, pid, h ? h : "?",
                       STORE_LEASE_TIMEOUT_S);
            goto done;
        }
        taken_over = 1;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prepare(s, &st, "INSERT OR REPLACE INTO run_leases (run_id, host, pid) VALUES (?, ?, ?)", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)getpid());
    if (store_step_done(s, st, "taking the run's lease", e) < 0)
        goto done;
    l->run_id = run_id;
    l->held = 1;
    l->taken_over = taken_over;
    l->renewed = clock_seconds();
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    if (!ok)
        l->held = 0;
    return ok ? 0 : -1;
}

/* Renews the heartbeat now; fails when the lease is no longer this process's. */
static int renew(store *s, store_lease *l, err_t *e)
{
    sqlite3_stmt *st = NULL;
    char host[256];
    int ok = 0;
    this_host(host, sizeof host);
    if (store_wbegin(s, e) < 0)
        return -1;
    if (store_prepare(s, &st, "UPDATE run_leases SET heartbeat = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                              "WHERE run_id = ? AND host = ? AND pid = ?", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, l->run_id);
    sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)getpid());
    if (store_step_done(s, st, "renewing the run's lease", e) < 0)
        goto done;
    if (sqlite3_changes(s->db) != 1) {
        l->held = 0;
        store_fail(STORE_FAIL_BUSY, e, "%s: run %" PRId64 " was taken over by another process (this one's heartbeat "
                   "was older than %d s); stopping without writing", s->path, l->run_id, STORE_LEASE_TIMEOUT_S);
        goto done;
    }
    l->renewed = clock_seconds();
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    return ok ? 0 : -1;
}

int store_lease_renew(store *s, store_lease *l, int force, err_t *e)
{
    if (!l->held)
        return 0;
    if (!force && clock_seconds() - l->renewed < STORE_LEASE_RENEW_S)
        return 0;
    return renew(s, l, e);
}

int store_lease_release(store *s, store_lease *l, err_t *e)
{
    sqlite3_stmt *st = NULL;
    char host[256];
    int ok = 0;
    if (!l->held)
        return 0;
    l->held = 0;
    int kind = store_fail_kind();   /* a cleanup call: keep the kind of the failure being reported */
    this_host(host, sizeof host);
    if (store_wbegin(s, e) < 0)
        return -1;
    if (store_prepare(s, &st, "DELETE FROM run_leases WHERE run_id = ? AND host = ? AND pid = ?", e) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, l->run_id);
    sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)getpid());
    if (store_step_done(s, st, "releasing the run's lease", e) < 0)
        goto done;
    ok = 1;
done:
    sqlite3_finalize(st);
    if (store_wend(s, ok, e) < 0)
        ok = 0;
    if (ok)
        store_set_fail_kind(kind);
    return ok ? 0 : -1;
}
