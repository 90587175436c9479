#!/bin/sh
# make pipeline EXECUTOR=slurm through a real one-node Slurm: munged,
# slurmctld and slurmd (Debian's slurm-wlm and munge, installed here with
# apt-get when missing and we are root) started in a temporary directory with
# their own configuration, key, state, spool and ports.  A small smoke grid
# (2 models x 2 seeds) runs as a job array and a dependent merge-and-report
# job; one task is stopped with SIGTERM while it trains (as at its time
# limit), and the resubmission must resume that run only; the report's tables
# must then equal those of the same grid run with plain make pipeline (same
# seeds, one thread per training).  Then a run file is removed and the
# resubmission must train exactly that run, and one more resubmission none.  The daemons started here are stopped at the end,
# whatever happens.  Skipped, with the reason, when not root, under the
# sanitizers (make test runs it), or when Slurm cannot be installed or
# started.
set -u
BIN=${BIN:-bin}
passed=0 failed=0
check() {   # check CONDITION-STATUS MESSAGE
    if [ "$1" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL test_slurm: $2"; fi
}
skip() {
    echo "test_slurm: SKIPPED: $*"
    echo "0 passed, 0 failed"
    exit 0
}

[ -n "${DRMM_SANITIZED:-}" ] && skip "not under the sanitizers: it tests the pipeline's scripts, run by make test"
[ "$(id -u)" -eq 0 ] || skip "needs root to start munged, slurmctld and slurmd"
if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null ||
   ! command -v sbatch > /dev/null; then
    command -v apt-get > /dev/null || skip "Slurm is not installed and there is no apt-get to install it"
    echo "test_slurm: installing Debian's slurm-wlm and munge"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge; }
    } > /dev/null 2>&1 || skip "apt-get install slurm-wlm munge failed"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/drmm-slurm-XXXXXX") || exit 1
PIDS=
cleanup() {
    if [ -n "${SLURM_CONF:-}" ]; then
        ids=$(squeue -h -o %i 2> /dev/null | paste -sd, -)
        [ -n "$ids" ] && scancel "$ids" 2> /dev/null
    fi
    for p in $PIDS; do kill "$p" 2> /dev/null; done
    for p in $PIDS; do
        i=0; while kill -0 "$p" 2> /dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2> /dev/null
    done
    [ -n "${KEEP_FIXTURES:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- munge and a one-node Slurm in $T ----
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/logs" && chmod 755 "$T/munge"
mungekey --create --keyfile="$T/munge/munge.key" > /dev/null 2>&1 ||
    dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2> /dev/null
chmod 600 "$T/munge/munge.key"
munged -F -f --key-file="$T/munge/munge.key" --socket="$T/munge/munge.sock" --pid-file="$T/munge/munged.pid" \
    --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" > "$T/logs/munged.out" 2>&1 &
PIDS="$!"
port=$((20000 + $$ % 20000))
mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
cat > "$T/slurm.conf" << EOF
ClusterName=drmmtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/logs/slurmctld.log
SlurmdLogFile=$T/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
sleep 1
slurmctld -D -i > "$T/logs/slurmctld.out" 2>&1 &
PIDS="$PIDS $!"
slurmd -D -N localhost > "$T/logs/slurmd.out" 2>&1 &
PIDS="$PIDS $!"
i=0
until [ "$(sinfo -h -o %T 2> /dev/null)" = idle ]; do
    i=$((i + 1))
    if [ $i -gt 60 ]; then
        tail -n 5 "$T"/logs/*
        skip "the Slurm daemons did not start (node state: $(sinfo -h -o %T 2>&1)); logs above"
    fi
    sleep 0.5
done
echo "test_slurm: one-node Slurm up (ports $port-$((port + 1)), $T)"

# ---- the grid ----
GRID="PROFILE=smoke MODELS=drmm+kl+nn\\ cnn SEEDS=1\\ 2 SYNTH_TEST=200 DECODE_SAMPLES=200 THREADS=1"
W=$T/slurm.pipeline/synthetic-smoke

# wait_jobs: until the queue is empty (at most 10 min)
wait_jobs() {
    i=0
    while [ -n "$(squeue -h -o %i 2> /dev/null)" ]; do
        i=$((i + 1))
        [ $i -gt 600 ] && { echo "test_slurm: jobs still queued after 10 min"; squeue; return 1; }
        sleep 1
    done
}

# submit [nowait]: make pipeline EXECUTOR=slurm, then wait (unless nowait);
# the last finish log
submit() {
    eval "make --no-print-directory pipeline EXECUTOR=slurm STORE=$T/slurm.db REPORT_DIR=$T/rep-slurm $GRID" \
        > "$T/submit.out" 2>&1
    rc=$?
    cat "$T/submit.out" | sed 's/^/  /'
    [ "${1:-}" = nowait ] && return $rc
    wait_jobs || return 1
    fin=$(ls -t "$W"/slurm/logs/finish-*.out 2> /dev/null | head -n 1)
    [ -n "$fin" ] && tail -n 3 "$fin" | sed 's/^/  /'
    return $rc
}

# interrupt K SLOT: SIGTERM to array task K (as at its time limit) while it trains SLOT
interrupt() {
    array=$(sed -n 's/.*job array \([0-9]*\):.*/\1/p' "$T/submit.out")
    p=$W/shards/$2.run.progress
    i=0
    until [ -f "$p" ] && awk 'NR == 1 { exit !($1 >= 1 && $1 < $2) }' "$p" 2> /dev/null; do
        i=$((i + 1))
        [ $i -gt 1200 ] && { echo "  task $1 did not start training"; return 1; }
        sleep 0.1
    done
    echo "  interrupting task ${array}_$1 at step $(cut -d' ' -f1 "$p" | head -n 1)"
    scancel --signal=TERM --full "${array}_$1"
}

# the report's tables without what names a place or a time (run ids, times,
# hosts), read as CSV by sqlite3
strip() {
    cols=$(sqlite3 :memory: -cmd ".import --csv '$1' t" "SELECT group_concat('\"' || name || '\"') FROM
        pragma_table_info('t') WHERE name NOT IN ('run_id', 'tree_id', 'checkpoint_id', 'seconds', 'images_per_s', 'host', 'started', 'ended',
        'created')")
    sqlite3 -csv :memory: -cmd ".import --csv '$1' t" "SELECT $cols FROM t"
}
same_tables() {   # same_tables WHAT
    bad=0
    for f in "$T"/rep-local/*.csv; do
        b=$(basename "$f")
        if ! [ -f "$T/rep-slurm/$b" ] || [ "$(strip "$f")" != "$(strip "$T/rep-slurm/$b")" ]; then
            echo "  $1: $b differs:"; diff "$f" "$T/rep-slurm/$b" | head -n 10 | sed 's/^/    /'; bad=1
        fi
    done
    check $bad "$1: the report's tables equal those of plain make pipeline"
}

# a task stopped by a signal keeps its checkpoint; the resubmission resumes it
submit nowait
check $? "make pipeline EXECUTOR=slurm submits"
[ "$(wc -l < "$W/slurm/tasks")" -eq 4 ]
check $? "one array task per training (4)"
interrupt 3 drmm+kl+nn_n100_s1
check $? "task 3 interrupted while training"
wait_jobs
check $? "the jobs end (the finishing job cancelled with the interrupted task)"
[ -f "$W/shards/drmm+kl+nn_n100_s1.partial.db" ] && [ ! -e "$W/drmm+kl+nn_n100_s1.run" ] &&
    [ "$(ls "$W"/shards/*.db | wc -l)" -eq 4 ]
check $? "the interrupted task kept its store to resume; the 3 others are published, nothing merged"
submit
check $? "the resubmission's jobs finish"
grep -q "job array .*: 1 training " "$T/submit.out" && grep -q "resuming run" "$W"/slurm/logs/train-*_1.out
check $? "the resubmission trains only the interrupted run, resuming it"
[ -f "$T/rep-slurm/report.md" ] && grep -q "4 runs copied" "$W/slurm/merge.out"
check $? "the finish job merged the 4 task stores and wrote the report"
[ "$(sqlite3 "$T/slurm.db" 'SELECT COUNT(*) FROM runs')" = 4 ] && [ -z "$(ls "$W/shards")" ]
check $? "the store holds the 4 runs (the resumed one once); the merged task stores are removed"

echo "test_slurm: the same grid with plain make pipeline"
eval "make --no-print-directory -j2 pipeline STORE=$T/local.db REPORT_DIR=$T/rep-local $GRID" > "$T/local.out" 2>&1
check $? "plain make pipeline of the grid"
[ "$(ls "$T"/rep-local/*.csv | wc -l)" -ge 8 ]
check $? "plain make pipeline wrote the report's tables"
same_tables "slurm"

# stage skipping: one run missing -> one task; nothing missing -> no array
rm -f "$W/cnn_n100_s2.run"
submit
check $? "resubmission after removing one run file"
grep -q "job array .*: 1 training " "$T/submit.out" && [ "$(wc -l < "$W/slurm/tasks")" -eq 1 ] &&
    [ "$(sed -n 1p "$W/slurm/tasks")" = "$W/cnn_n100_s2.run" ]
check $? "the resubmission trains only the missing run"
[ "$(sqlite3 "$T/slurm.db" 'SELECT COUNT(*) FROM runs')" = 5 ] && [ -s "$W/cnn_n100_s2.run" ]
check $? "the missing run was merged (5 runs in the store, the newest of each name in the grid)"
same_tables "after the resubmission"
submit
check $? "a resubmission with nothing to train"
! grep -q "job array" "$T/submit.out" && [ "$(sqlite3 "$T/slurm.db" 'SELECT COUNT(*) FROM runs')" = 5 ]
check $? "nothing missing: no training submitted, no run added"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
