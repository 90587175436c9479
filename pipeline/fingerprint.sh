#!/bin/sh
# Prints the fingerprint of a program for the pipeline's stamps: the SHA-256
# of its machine code and data, without the build provenance that changes
# with every commit: symbols, debug information and build id are stripped,
# and the embedded git commit (drmm_git_commit) and dirty flag
# (drmm_git_dirty) are zeroed.  So a rebuild of unchanged code at another
# commit keeps the fingerprint and a pipeline stage is not redone, while any
# change to what the program does changes it.
#
# Usage: fingerprint.sh PROGRAM
set -eu
bin=$1
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.s" "$tmp.h"' EXIT INT TERM
cp "$bin" "$tmp"

# The dirty flag: a 4-byte int; zero it at its file offset (from the symbol's
# address and its section's address and offset).
sym=$(nm -S "$bin" 2>/dev/null | awk '$4 == "drmm_git_dirty" { print $1, $2 }')
if [ -n "$sym" ]; then
    set -- $sym
    addr=$((0x$1)); size=$((0x$2))
    off=
    # "[Nr] Name Type Address Off Size ..." -> "Type Address Off Size"
    readelf -SW "$bin" | sed -n 's/^ *\[ *[0-9]*\] *//p' | awk '{ print $2, $3, $4, $5 }' > "$tmp.h"
    while read -r type va fo sz; do
        case $va$fo$sz in *[!0-9a-fA-F]*) continue ;; esac
        [ "$type" = NOBITS ] && continue
        if [ "$addr" -ge $((0x$va)) ] && [ "$addr" -lt $((0x$va + 0x$sz)) ]; then
            off=$((addr - 0x$va + 0x$fo))
            break
        fi
    done < "$tmp.h"
    if [ -n "$off" ]; then
        dd if=/dev/zero of="$tmp" bs=1 seek="$off" count="$size" conv=notrunc 2>/dev/null
    fi
fi

objcopy --strip-all --remove-section=.note.gnu.build-id "$tmp" "$tmp.s"
commit=$("$bin" --version 2>/dev/null | sed -n 's/.*git \([0-9a-f]\{40\}\).*/\1/p')
if [ -n "$commit" ]; then
    LC_ALL=C sed "s/$commit/0000000000000000000000000000000000000000/g" "$tmp.s"
else
    cat "$tmp.s"
fi | sha256sum | cut -d' ' -f1
