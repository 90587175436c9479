#!/bin/sh
# The layering is enforced by the include paths (Makefile, INC_*): a file of
# a layer compiles against its own headers and those of the layers below,
# and an include that goes the wrong way fails.  For each layer a probe file
# includes a header of a layer it may use (it must compile) and one of a
# layer above it (it must not), with the flags `make layer-inc` gives a file
# of that layer.
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0
check() {   # check CONDITION-STATUS MESSAGE
    if [ "$1" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL test_layers: $2"; fi
}
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
CC=${CC:-cc}

# probe LAYER_FILE HEADER: 0 when a file there including HEADER compiles
probe() {
    flags=$(MAKEFLAGS= make -s --no-print-directory layer-inc F="$1") || return 2
    printf '#include "%s"\nint probe_unused;\n' "$2" > "$T/probe.c"
    # shellcheck disable=SC2086
    $CC -std=c11 -D_GNU_SOURCE -fsyntax-only $flags "$T/probe.c" 2>/dev/null
}

# layer file, a header it may use, a header of a layer above it
while read -r file ok bad; do
    probe "$file" "$ok"
    check $? "$file may include $ok"
    probe "$file" "$bad"
    [ $? -ne 0 ]
    check $? "$file must not include $bad (a layer above it)"
done <<'EOT'
src/core/x.c      rng.h        drmm.h
src/engine/x.c    rng.h        store.h
src/engine/x.c    conv.h       trainer.h
src/io/x.c        error.h      drmm.h
src/store/x.c     dataset.h    drmm.h
src/store/x.c     store.h      trainer.h
src/run/x.c       drmm.h       grid_report.h
src/run/x.c       store.h      synth.h
analysis/x.c      store.h      trainer.h
analysis/x.c      pca.h        drmm.h
src/render/x.c    pngio.h      store.h
src/render/x.c    synth.h      decoding.h
EOT

# programs (and tests) see every layer
for h in drmm.h store.h trainer.h grid_report.h synth.h; do
    probe src/programs/x.c "$h"
    check $? "a program may include $h"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
