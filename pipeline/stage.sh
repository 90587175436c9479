#!/bin/sh
# The recipes of the pipeline's stages (pipeline/pipeline.mk), one function
# each.  Every stage writes its stamp file only when it succeeded, so make
# redoes a failed or interrupted stage; outputs that later stages depend on
# are rewritten only when their content changed (write_if_changed), so an
# unchanged result does not redo what follows.  Messages go to stderr
# prefixed with "pipeline:".
#
# Usage: stage.sh STAGE ARGS...   (see each function)
set -u

# On a terminal a live progress line may be showing: clear it first.
if [ -t 2 ]; then TTY=1; else TTY=; fi
say() {
    if [ -n "$TTY" ]; then printf '\r\033[K' >&2; fi
    echo "pipeline: $*" >&2
}

# plan WORK DATASET PROFILE TIME RUNFILE...: writes WORK/plan, one line per
# training to do: RUNFILE WEIGHT NAME (a RUNFILE missing or older than its
# configuration, WORK/dataset.info, WORK/model.arch or the train fingerprint:
# make's rule once ingest and fingerprints are done; WEIGHT: its epochs,
# times 3 for a DRMM, which takes about three times as long as the CNN), and
# WORK/plan.start (the time now); clears their progress files.  Says what
# will run and how long the profile takes.
stage_plan() {
    w=$1 dataset=$2 profile=$3 time=$4
    shift 4
    : > "$w/plan.tmp" || exit 1
    for out in "$@"; do
        cfg=${out%.run}.train.cfg
        if [ -e "$out" ] && ! [ "$cfg" -nt "$out" ] && ! [ "$w/dataset.info" -nt "$out" ] &&
           ! [ "$w/model.arch" -nt "$out" ] && ! [ "$w/prog/train.fp" -nt "$out" ]; then
            continue
        fi
        epochs=$(sed -n 's/.*--epochs \([0-9]*\).*/\1/p' "$cfg")
        name=$(sed -n 's/.*--name \([^ ]*\).*/\1/p' "$cfg")
        weight=$(( ${epochs:-1} * 3 ))
        grep -q -- '--supervised-only 1' "$cfg" && weight=${epochs:-1}
        rm -f "$out.progress"
        echo "$out $weight $name" >> "$w/plan.tmp"
    done
    mv "$w/plan.tmp" "$w/plan"
    date +%s > "$w/plan.start"
    n=$(wc -l < "$w/plan")
    if [ "$n" -gt 0 ]; then
        say "$dataset, profile $profile (pipeline/profiles/$profile.mk; as shipped: $time): $n of $# runs to train"
    fi
}

# eta PLAN: "trainings P% done, ETA T" over the runs of PLAN, from each run's
# progress file (train --progress-file) and the time since the plan started.
eta() {
    [ -f "$1" ] || return 0
    awk -v now="$(date +%s)" -v start="$(cat "$1.start" 2>/dev/null || date +%s)" '
        { f = 0; file = $1 ".progress"
          if ((getline l < file) > 0) { split(l, a, " "); if (a[2] > 0) f = a[1] / a[2] }
          close(file); tw += $2; dw += $2 * f }
        END {
          if (tw <= 0) exit
          printf "trainings %d%% done", 100 * dw / tw
          el = now - start
          if (dw <= 0 || el < 1) { printf ", ETA --\n"; exit }
          r = el * (tw - dw) / dw
          if (r < 90) printf ", ETA %d s\n", r
          else if (r < 5400) printf ", ETA %d min\n", r / 60 + 0.5
          else printf ", ETA %.1f h\n", r / 3600
        }' "$1"
}

# show_progress OUT TAG: the run's progress (OUT.progress): a line for each
# epoch finished since the last call (SEEN), and on a terminal a live line.
show_progress() {
    [ -f "$1.progress" ] || return 0
    { read -r _step _total _epoch _epochs done_epochs; read -r text; } < "$1.progress" || return 0
    text=$(printf '%s' "$text" | sed 's/  ETA [0-9]*s$//')
    if [ "${done_epochs:-0}" -gt "$SEEN" ]; then
        SEEN=$done_epochs
        say "$2: $text | $(eta "$PLAN")"
    elif [ -n "$TTY" ]; then
        printf '\r\033[K%s' "pipeline: $2: $text | $(eta "$PLAN")" | cut -c1-"${COLUMNS:-160}" | tr -d '\n' >&2
    fi
}

# write_if_changed FILE: stdin to FILE unless FILE already holds exactly it.
write_if_changed() {
    cat > "$1.tmp" || return 1
    if cmp -s "$1.tmp" "$1"; then rm -f "$1.tmp"; else mv "$1.tmp" "$1"; fi
}

# need_data DATASET DIR: the files the user must provide, with where to get them.
need_data() {
    case $1 in
    mnist)
        missing=
        for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
            [ -e "$2/$f" ] || [ -e "$2/$f.gz" ] || missing="$missing $f[.gz]"
        done
        [ -z "$missing" ] && return 0
        say "MNIST is missing from $2:$missing"
        say "download the four files (gzip is fine) into $2/, e.g. from"
        say "  https://ossci-datasets.s3.amazonaws.com/mnist/  (mirror of http://yann.lecun.com/exdb/mnist/):"
        say "  mkdir -p $2 && cd $2 && for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do"
        say "    wget https://ossci-datasets.s3.amazonaws.com/mnist/\$f.gz; done"
        say "or set MNIST_DIR=DIR to where they are"
        return 1 ;;
    cifar10)
        missing=
        for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin; do
            [ -e "$2/$f" ] || missing="$missing $f"
        done
        [ -z "$missing" ] && return 0
        say "CIFAR-10 (binary version) is missing from $2:$missing"
        say "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and unpack it there:"
        say "  mkdir -p $2 && wget -O- https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz | tar xz --strip-components=1 -C $2"
        say "or set CIFAR10_DIR=DIR to where data_batch_1.bin ... test_batch.bin are"
        return 1 ;;
    svhn)
        missing=
        for f in train_32x32.mat test_32x32.mat; do
            [ -e "$2/$f" ] || missing="$missing $f"
        done
        [ -z "$missing" ] && return 0
        say "SVHN (format 2, cropped digits) is missing from $2:$missing"
        say "download the two files there (182 MB and 64 MB):"
        say "  mkdir -p $2 && wget -P $2 http://ufldl.stanford.edu/housenumbers/train_32x32.mat http://ufldl.stanford.edu/housenumbers/test_32x32.mat"
        say "or set SVHN_DIR=DIR to where train_32x32.mat and test_32x32.mat are"
        return 1 ;;
    png:*)
        if [ ! -d "${1#png:}" ]; then say "DATASET=$1: no directory ${1#png:}"; return 1; fi
        if [ ! -f "$2" ]; then
            say "DATASET=$1: no CSV $2; give one with PNG_CSV=FILE (header file,label,split[,latent...];"
            say "split is train or test; bin/synth --png-dir writes such a directory with latents.csv)"
            return 1
        fi ;;
    esac
    return 0
}

# ingest BIN STORE NAME WORK ARCH DATASET DATADIR: stores the dataset (ingest
# --force: the pipeline's configuration decides its content), then writes
# WORK/dataset.info (hash and shape) and WORK/model.arch (ARCH with its input
# line set to the dataset's shape), each only when changed.
stage_ingest() {
    bin=$1 store=$2 name=$3 w=$4 arch=$5 dataset=$6 datadir=$7
    need_data "$dataset" "$datadir" || exit 1
    say "ingest $name into $store"
    mkdir -p "$(dirname "$store")"
    # shellcheck disable=SC2046
    if ! "$bin/ingest" --store "$store" --name "$name" --force $(cat "$w/ingest.cfg") > "$w/ingest.out"; then
        say "ingest failed"
        exit 1
    fi
    info=$(sqlite3 -batch -noheader -separator ' ' -cmd '.timeout 10000' "$store" \
        "SELECT sha256, channels, height, width, n_classes, n_latents FROM datasets WHERE name = '$name'") || exit 1
    set -- $info
    if [ $# -ne 6 ]; then say "cannot read dataset $name back from $store"; exit 1; fi
    printf 'sha256=%s\nchannels=%s\nheight=%s\nwidth=%s\nclasses=%s\nlatents=%s\n' "$@" | write_if_changed "$w/dataset.info"
    # The architecture with its input set to the data; when that changes the
    # input, the layers' size comments (written for the old input) go.
    want="channels=$2 height=$3 width=$4"
    have=$(sed -n 's/^input[[:space:]]*//p' "$arch" | sed 's/[[:space:]]*#.*//; s/[[:space:]][[:space:]]*/ /g')
    if [ "$have" = "$want" ]; then
        cat "$arch"
    else
        echo "# $arch with the input set to the dataset by the pipeline (was: $have); sizes follow from it"
        sed -e '/^[^#]/s/[[:space:]]*#.*$//' -e "s/^input .*/input $want/" "$arch"
    fi | write_if_changed "$w/model.arch"
    touch "$w/ingest.stamp"
}

# train BIN STORE CFG ARCH THREADS OUT: trains the run configured in CFG (train
# flags); OUT gets the run id.  A run interrupted (SIGINT/SIGTERM) is resumed
# by the next call while CFG is unchanged.
stage_train() {
    bin=$1 store=$2 cfg=$3 arch=$4 threads=$5 out=$6
    name=$(sed -n 's/.*--name \([^ ]*\).*/\1/p' "$cfg")
    resume=
    if [ -f "$out.interrupted" ] && cmp -s "$cfg" "$out.interrupted.cfg"; then
        resume=$(cat "$out.interrupted")
    fi
    start=$(date +%s)
    # "run k of N": this run's line in the plan of make pipeline (stage_plan)
    PLAN=$(dirname "$out")/plan SEEN=0
    tag=$name
    k=$(awk -v r="$out" '$1 == r { print NR; exit }' "$PLAN" 2>/dev/null)
    [ -n "$k" ] && tag="run $k of $(wc -l < "$PLAN") $name"
    rm -f "$out.progress"
    # On Ctrl-C train writes a checkpoint and exits 130; this shell must live
    # on to record the run for resuming (the trap is not inherited by train).
    trap ':' INT TERM
    if [ -n "$resume" ]; then
        say "train $name: resuming run $resume"
        "$bin/train" --store "$store" --resume "$resume" --quiet --progress-file "$out.progress" \
            > "$out.stdout" 2> "$out.stderr" &
    else
        say "train $name ($threads threads)"
        # shellcheck disable=SC2046
        "$bin/train" --store "$store" --arch "$arch" --threads "$threads" --quiet --progress-file "$out.progress" \
            $(cat "$cfg") > "$out.stdout" 2> "$out.stderr" &
    fi
    pid=$!
    # the progress every second while it trains (a live line on a terminal,
    # a line per epoch), then its exit status (a wait cut short by a signal
    # is repeated)
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        show_progress "$out" "$tag"
    done
    while :; do
        wait "$pid"
        rc=$?
        kill -0 "$pid" 2>/dev/null || break
    done
    show_progress "$out" "$tag"
    [ "$rc" -eq 0 ] && [ -f "$out.progress" ] && sed -i '1s/^[0-9]* \([0-9]*\)/\1 \1/' "$out.progress"
    id=$(sed -n 's/^run_id=\([0-9]*\).*/\1/p' "$out.stdout" | tail -n 1)
    case $rc in
    0)
        say "train $name: run $id done in $(( $(date +%s) - start )) s: $(sed -n 's/^run_id=[0-9]* //p' "$out.stdout")"
        rm -f "$out.interrupted" "$out.interrupted.cfg"
        echo "$id" > "$out.tmp" && mv "$out.tmp" "$out" ;;
    130)
        if [ -n "$id" ]; then
            echo "$id" > "$out.interrupted"
            cp "$cfg" "$out.interrupted.cfg"
            say "train $name: run $id interrupted; the next make pipeline resumes it"
        fi
        exit 130 ;;
    *)
        cat "$out.stderr" >&2
        say "train $name failed (exit $rc)"
        exit "$rc" ;;
    esac
}

# evaluate BIN STORE RUNFILE THREADS OUT [GRID.png] [evaluate flags...]:
# evaluates the run on the test split; OUT gets evaluate's output line.
# GRID ('-' for none) asks evaluate for a reconstruction grid.
stage_evaluate() {
    bin=$1 store=$2 runfile=$3 threads=$4 out=$5 grid=$6
    shift 6
    id=$(cat "$runfile")
    set -- "$@"
    if [ "$grid" != - ]; then
        mkdir -p "$(dirname "$grid")"
        set -- "$@" --grid "$grid"
    fi
    if ! "$bin/evaluate" --store "$store" --run "$id" --threads "$threads" "$@" > "$out.tmp"; then
        rm -f "$out.tmp"
        say "evaluate run $id failed"
        exit 1
    fi
    say "evaluate run $id: $(cat "$out.tmp")"
    mv "$out.tmp" "$out"
}

# decode BIN STORE RUNFILE THREADS SAMPLES OUT: writes the run's layer
# activations on SAMPLES test images to the store.
stage_decode() {
    bin=$1 store=$2 runfile=$3 threads=$4 samples=$5 out=$6
    id=$(cat "$runfile")
    if ! "$bin/decode" --store "$store" --run "$id" --samples "$samples" --threads "$threads" > "$out.tmp"; then
        rm -f "$out.tmp"
        say "decode run $id failed"
        exit 1
    fi
    say "decode run $id: $(cat "$out.tmp")"
    mv "$out.tmp" "$out"
}

# analysis BIN STORE OUT MD LATENTS RUNFILE...: the linear decoding of the
# decoded runs, one line per model (--by model), report MD.
stage_analysis() {
    bin=$1 store=$2 out=$3 md=$4 latents=$5
    shift 5
    set -- $(for f in "$@"; do echo "--run $(cat "$f")"; done)
    [ "$latents" != - ] && set -- "$@" --latents "$latents"
    mkdir -p "$(dirname "$md")"
    if ! "$bin/analysis" --store "$store" --by model --out "$md" "$@" > "$out.tmp"; then
        rm -f "$out.tmp"
        say "analysis failed"
        exit 1
    fi
    say "analysis: $(tail -n 1 "$out.tmp")"
    mv "$out.tmp" "$out"
}

# generate BIN STORE RUNFILE THREADS DIR MODEL OUT [generate flags...]: the
# generative side of the run (samples, activity maximisation, units rendered
# to pixels) into DIR as MODEL's files; OUT gets generate's output.
stage_generate() {
    bin=$1 store=$2 runfile=$3 threads=$4 dir=$5 model=$6 out=$7
    shift 7
    id=$(cat "$runfile")
    case $model in
    drmm+kl+nn) label="DRMM +KL+NN" ;;
    cnn) label=CNN ;;
    *) label=$model ;;
    esac
    if ! "$bin/generate" --store "$store" --run "$id" --threads "$threads" --out-dir "$dir" --name "$model" \
            --label "$label" "$@" > "$out.tmp"; then
        rm -f "$out.tmp"
        say "generate run $id failed"
        exit 1
    fi
    say "generate run $id ($label): $(tail -n 1 "$out.tmp")"
    mv "$out.tmp" "$out"
}

# edrmm BIN STORE RUNFILE THREADS OUT [edrmm flags...]: the E-DRMM of the
# run (its class tree and the test error of coarse-to-fine inference, into
# the store for the report); OUT gets edrmm's output.
stage_edrmm() {
    bin=$1 store=$2 runfile=$3 threads=$4 out=$5
    shift 5
    id=$(cat "$runfile")
    if ! "$bin/edrmm" --store "$store" --run "$id" --threads "$threads" "$@" > "$out.tmp"; then
        rm -f "$out.tmp"
        say "edrmm run $id failed"
        exit 1
    fi
    say "edrmm run $id: $(tail -n 1 "$out.tmp")"
    mv "$out.tmp" "$out"
}

# rmm BIN STORE NAME DIR OUT [FLAGS...]: the shallow Rendering Mixture Model
# fitted to dataset NAME, its figures and fragment (rmm.md) into DIR.
stage_rmm() {
    bin=$1 store=$2 name=$3 dir=$4 out=$5
    shift 5
    if ! "$bin/rmm" --store "$store" --dataset "$name" --out-dir "$dir" "$@" > "$out.tmp"; then
        rm -f "$out.tmp"
        say "rmm failed"
        exit 1
    fi
    say "rmm: $(cat "$out.tmp")"
    mv "$out.tmp" "$out"
}

# report BIN STORE NAME EXPERIMENT MD DECODING COMMAND NOTES NO_VERDICT
# GENERATED RMM [RUNFILE PNG]...: the report; GENERATED the space-separated
# fragments of generate, RMM the fragment of rmm; each RUNFILE PNG pair is a
# reconstruction grid of that run.
stage_report() {
    bin=$1 store=$2 name=$3 experiment=$4 md=$5 decoding=$6 command=$7 notes=$8 no_verdict=$9
    generated=${10} rmm=${11}
    shift 11
    grids=
    while [ $# -ge 2 ]; do
        grids="$grids --grid $(cat "$1"):$2"
        shift 2
    done
    set --
    [ "$decoding" != - ] && set -- --decoding "$decoding"
    [ -n "$no_verdict" ] && set -- "$@" --no-verdict "$no_verdict"
    for g in $generated; do
        set -- "$@" --generated "$g"
    done
    set -- "$@" --rmm "$rmm"
    # shellcheck disable=SC2086
    if ! "$bin/report" --store "$store" --dataset "$name" --experiment "$experiment" --out "$md" \
            --command "$command" --notes "$notes" "$@" $grids > "$md.out"; then
        say "report failed"
        exit 1
    fi
    say "$(cat "$md.out")"
    rm -f "$md.out"
}

stage=$1
shift
case $stage in
plan|ingest|train|evaluate|decode|analysis|generate|edrmm|rmm|report) "stage_$stage" "$@" ;;
*) say "stage.sh: unknown stage $stage"; exit 2 ;;
esac
