#!/bin/sh
# The pipeline on a Slurm cluster (make pipeline EXECUTOR=slurm; README.md,
# "Running on a cluster").  The grid, its configuration files and the list
# of the trainings to do (WORK/plan) come from pipeline/pipeline.mk as for
# a local run; this script only changes where the trainings run:
#
#   submit  (on the submitting host, after the ingest and the plan) writes
#           WORK/slurm/tasks (one training per line) and submits an sbatch
#           job array, one task per training, and a job that depends on it
#           (afterok) and finishes the pipeline;
#   task    (array task k) trains line k of the tasks into a store of its
#           own on the node's local disk, started from a copy of the data
#           store WORK/slurm/data.db, then publishes it as WORK/shards/SLOT.db
#           (stopped by a signal: WORK/shards/SLOT.partial.db, resumed by the
#           slot's next task);
#   finish  (the dependent job) merges the shards into STORE (bin/merge),
#           writes each slot's run file (WORK/SLOT.run: the run's id in
#           STORE), as a local training would have, and runs the rest of the
#           pipeline (evaluate, decode, analysis, report) with make.
#
# A training whose run file is up to date is not submitted again (the plan),
# and a shard already trained but not yet merged (an earlier finish job that
# did not run) is merged without training it again.  Messages go to stderr
# prefixed with "pipeline:".
#
# Usage: slurm.sh submit WORK BIN STORE NAME THREADS CPUS MEM TIME 'SBATCH FLAGS'
#        slurm.sh task WORK BIN THREADS
#        slurm.sh finish WORK BIN STORE JOBS THREADS
set -u

say() { echo "pipeline: $*" >&2; }

# up_to_date FILE SLOT_BASE WORK: FILE exists and is newer than what the
# slot's training depends on (as make sees a run file in pipeline.mk).
up_to_date() {
    [ -e "$1" ] && ! [ "$2.train.cfg" -nt "$1" ] && ! [ "$3/dataset.info" -nt "$1" ] &&
        ! [ "$3/model.arch" -nt "$1" ] && ! [ "$3/prog/train.fp" -nt "$1" ]
}

# data_store WORK BIN NAME: WORK/slurm/data.db holds the dataset alone, the
# same content as in STORE (checked against WORK/dataset.info); each task
# starts its store from a copy of it.
data_store() {
    w=$1 bin=$2 name=$3
    data=$w/slurm/data.db
    if [ -e "$data" ] && ! [ "$w/dataset.info" -nt "$data" ]; then
        return 0
    fi
    rm -f "$data" "$data-wal" "$data-shm"
    say "slurm: the data store $data"
    # shellcheck disable=SC2046
    if ! "$bin/ingest" --store "$data" --name "$name" $(cat "$w/ingest.cfg") > "$w/slurm/ingest.out"; then
        say "slurm: ingest into $data failed"
        return 1
    fi
    sha=$(sqlite3 -batch -noheader "$data" "SELECT sha256 FROM datasets WHERE name = '$name'")
    if [ "sha256=$sha" != "$(sed -n 1p "$w/dataset.info")" ]; then
        say "slurm: $data: dataset $name came out different from the one in the store ($sha; $(sed -n 1p "$w/dataset.info"))"
        rm -f "$data"
        return 1
    fi
    sqlite3 -batch "$data" 'PRAGMA journal_mode = DELETE' > /dev/null
}

stage_submit() {
    w=$1 bin=$2 store=$3 name=$4 threads=$5 cpus=$6 mem=$7 time=$8 flags=$9
    s=$w/slurm
    mkdir -p "$s/logs" "$w/shards" || exit 1
    if ! command -v sbatch > /dev/null; then
        say "EXECUTOR=slurm: sbatch is not on the PATH; run make pipeline on a Slurm submit host, or without EXECUTOR"
        exit 1
    fi
    # an earlier submission still queued or running would train the same runs
    if [ -s "$s/jobs" ] && [ -n "$(squeue -h -o %i -j "$(paste -sd, "$s/jobs")" 2> /dev/null)" ]; then
        say "slurm: jobs $(paste -sd' ' "$s/jobs") of an earlier submission are still queued or running" \
            "(squeue -j $(paste -sd, "$s/jobs")); wait for them, or cancel them with scancel $(paste -sd' ' "$s/jobs")"
        exit 1
    fi
    : > "$s/tasks.tmp"
    : > "$s/merge.tmp"
    while read -r out _weight _name; do
        slot=$(basename "${out%.run}")
        if up_to_date "$w/shards/$slot.db" "${out%.run}" "$w"; then
            echo "$out" >> "$s/merge.tmp"          # trained by an earlier submission, not merged yet
        else
            rm -f "$w/shards/$slot.db"
            echo "$out" >> "$s/tasks.tmp"
            echo "$out" >> "$s/merge.tmp"
        fi
    done < "$w/plan"
    mv "$s/tasks.tmp" "$s/tasks" && mv "$s/merge.tmp" "$s/merge" || exit 1
    n=$(wc -l < "$s/tasks")
    here=$(pwd)
    # shellcheck disable=SC2086
    set -- --parsable --chdir="$here" --cpus-per-task="$cpus" --mem="$mem" --time="$time" $flags
    dep=
    : > "$s/jobs"
    if [ "$n" -gt 0 ]; then
        data_store "$w" "$bin" "$name" || exit 1
        if ! array=$(sbatch "$@" --job-name="drmm-train-$name" --array="1-$n" --output="$s/logs/train-%A_%a.out" \
                --wrap="sh pipeline/slurm.sh task '$w' '$bin' '$threads'"); then
            say "slurm: sbatch of the training array failed"
            exit 1
        fi
        array=${array%%;*}
        echo "$array" >> "$s/jobs"
        dep="--dependency=afterok:$array --kill-on-invalid-dep=yes"
        say "slurm: job array $array: $n training$( [ "$n" -gt 1 ] && echo s) (logs $s/logs/train-${array}_K.out)"
    fi
    jobs=$(( cpus / threads ))
    [ "$jobs" -ge 1 ] || jobs=1
    # shellcheck disable=SC2086
    if ! fin=$(sbatch "$@" $dep --job-name="drmm-finish-$name" --output="$s/logs/finish-%j.out" \
            --wrap="sh pipeline/slurm.sh finish '$w' '$bin' '$store' '$jobs' '$threads'"); then
        say "slurm: sbatch of the finishing job failed"
        [ -n "$dep" ] && scancel "$array"
        exit 1
    fi
    fin=${fin%%;*}
    echo "$fin" >> "$s/jobs"
    say "slurm: job $fin merges the shards into $store and finishes the pipeline$( [ -n "$dep" ] && echo " after job $array")" \
        "(log $s/logs/finish-$fin.out); follow with: squeue -j $(paste -sd, "$s/jobs")"
}

# task WORK BIN THREADS: array task SLURM_ARRAY_TASK_ID.  The training's
# files (output, progress, the interrupted state of stage.sh's train) are
# WORK/shards/SLOT.run.*; the store is on the node's disk while written.  A
# task stopped by a signal (its time limit, scancel) keeps its checkpointed
# store as WORK/shards/SLOT.partial.db, and the next task of the slot
# resumes it (train --resume) while its configuration is unchanged.
stage_task() {
    w=$1 bin=$2 threads=$3
    k=${SLURM_ARRAY_TASK_ID:?task: not run as a Slurm array task}
    out=$(sed -n "${k}p" "$w/slurm/tasks")
    [ -n "$out" ] || { say "slurm task $k: no line $k in $w/slurm/tasks"; exit 1; }
    slot=$(basename "${out%.run}")
    cfg=${out%.run}.train.cfg
    sh_out=$w/shards/$slot.run
    # the store lives on the node's own disk while it is written: SQLite's
    # WAL needs shared memory on one host, which network file systems do not give
    local=$(mktemp -d "${SLURM_TMPDIR:-${TMPDIR:-/tmp}}/drmm-$slot-XXXXXX") || exit 1
    trap 'rm -rf "$local"' EXIT
    trap ':' INT TERM      # live on to keep what train checkpointed
    if [ -f "$sh_out.interrupted" ] && [ -f "$w/shards/$slot.partial.db" ] && cmp -s "$cfg" "$sh_out.interrupted.cfg"; then
        say "slurm task $k on $(hostname): $slot, resuming run $(cat "$sh_out.interrupted")"
        cp "$w/shards/$slot.partial.db" "$local/shard.db" || exit 1
    else
        rm -f "$sh_out.interrupted" "$sh_out.interrupted.cfg" "$w/shards/$slot.partial.db"
        say "slurm task $k on $(hostname): $slot"
        cp "$w/slurm/data.db" "$local/shard.db" || exit 1
    fi
    sh pipeline/stage.sh train "$bin" "$local/shard.db" "$cfg" "$w/model.arch" "$threads" "$sh_out"
    rc=$?
    # publish the store in one piece (VACUUM INTO writes a complete copy)
    case $rc in
    0) dest=$w/shards/$slot.db ;;
    130) dest=$w/shards/$slot.partial.db ;;
    *) exit "$rc" ;;
    esac
    rm -f "$dest.tmp"
    sqlite3 -batch "$local/shard.db" "VACUUM INTO '$dest.tmp'" && mv "$dest.tmp" "$dest" ||
        { say "slurm task $k: cannot write $dest"; exit 1; }
    if [ "$rc" -eq 130 ]; then
        say "slurm task $k: $slot interrupted; its store with the checkpoint is $dest: the next submission resumes it"
        exit 130
    fi
    rm -f "$w/shards/$slot.partial.db" "$sh_out"
    say "slurm task $k: $slot trained, store $dest"
}

# finish WORK BIN STORE JOBS THREADS: merge, run files, the rest of the pipeline.
stage_finish() {
    w=$1 bin=$2 store=$3 jobs=$4 threads=$5
    s=$w/slurm
    set --
    while read -r out; do
        slot=$(basename "${out%.run}")
        [ -e "$w/shards/$slot.db" ] || { say "slurm finish: the store of $slot ($w/shards/$slot.db) is missing"; exit 1; }
        set -- "$@" "$w/shards/$slot.db"
    done < "$s/merge"
    if [ $# -gt 0 ]; then
        if ! "$bin/merge" --store "$store" "$@" > "$s/merge.out"; then
            say "slurm finish: bin/merge failed; the shards stay in $w/shards"
            exit 1
        fi
        say "slurm finish: $(tail -n 1 "$s/merge.out")"
        # each shard's run: its id in STORE is the slot's run file
        while read -r out; do
            slot=$(basename "${out%.run}")
            id=$(awk -v f="$w/shards/$slot.db" '$1 == "run" && $2 == f { print $5 }' "$s/merge.out" | tail -n 1)
            [ -n "$id" ] || { say "slurm finish: no run of $slot in the merge"; exit 1; }
            echo "$id" > "$out.tmp" && mv "$out.tmp" "$out" || exit 1
        done < "$s/merge"
        while read -r out; do rm -f "$w/shards/$(basename "${out%.run}").db" "$w/shards/$(basename "$out")".*; done < "$s/merge"
    fi
    : > "$s/merge"
    eval "set -- $(cat "$s/make.args")"
    say "slurm finish: make pipeline-run $* on $(hostname)"
    make --no-print-directory -j"$jobs" PL_SUB=1 THREADS="$threads" "$@" pipeline-run
}

# the jobs inherit the submitting make's environment: not its make flags
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
stage=$1
shift
case $stage in
submit|task|finish) "stage_$stage" "$@" ;;
*) say "slurm.sh: unknown stage $stage"; exit 2 ;;
esac
