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

say() { echo "pipeline: $*" >&2; }

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
    # On Ctrl-C train writes a checkpoint and exits 130; this shell must live
    # on to record the run for resuming (the trap is not inherited by train).
    trap ':' INT TERM
    if [ -n "$resume" ]; then
        say "train $name: resuming run $resume"
        "$bin/train" --store "$store" --resume "$resume" > "$out.stdout" 2> "$out.stderr"
    else
        say "train $name ($threads threads)"
        # shellcheck disable=SC2046
        "$bin/train" --store "$store" --arch "$arch" --threads "$threads" --quiet $(cat "$cfg") \
            > "$out.stdout" 2> "$out.stderr"
    fi
    rc=$?
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

# report BIN STORE NAME EXPERIMENT MD DECODING COMMAND NOTES [RUNFILE PNG]...:
# the report; each RUNFILE PNG pair is a reconstruction grid of that run.
stage_report() {
    bin=$1 store=$2 name=$3 experiment=$4 md=$5 decoding=$6 command=$7 notes=$8
    shift 8
    grids=
    while [ $# -ge 2 ]; do
        grids="$grids --grid $(cat "$1"):$2"
        shift 2
    done
    set --
    [ "$decoding" != - ] && set -- --decoding "$decoding"
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
ingest|train|evaluate|decode|analysis|report) "stage_$stage" "$@" ;;
*) say "stage.sh: unknown stage $stage"; exit 2 ;;
esac
