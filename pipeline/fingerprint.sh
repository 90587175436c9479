#!/bin/sh
# Prints the fingerprint of a program for the pipeline's stamps: the SHA-256
# of its machine code and data, without the build provenance that changes
# with every commit: symbols, debug information and build id are stripped,
# and the embedded git commit (drmm_git_commit), dirty flag (drmm_git_dirty)
# and diff of a dirty tree (drmm_git_diff, _bytes, _sha256: fixed-size, so
# a different diff moves nothing) are zeroed.  So a rebuild of unchanged code at another
# commit keeps the fingerprint and a pipeline stage is not redone, while any
# change to what the program does changes it.
#
# Usage: fingerprint.sh PROGRAM
set -eu
bin=$1
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.s" "$tmp.h"' EXIT INT TERM
cp "$bin" "$tmp"

# The dirty flag and the diff: zero each symbol's bytes at its file offset
# (from the symbol's address and its section's address and offset).
# "[Nr] Name Type Address Off Size ..." -> "Type Address Off Size"
readelf -SW "$bin" | sed -n 's/^ *\[ *[0-9]*\] *//p' | awk '{ print $2, $3, $4, $5 }' > "$tmp.h"
nm -S "$bin" 2>/dev/null | awk '$4 ~ /^drmm_git_(dirty|diff|diff_bytes|diff_sha256)$/ { print $1, $2 }' |
while read -r a s; do
    addr=$((0x$a)); size=$((0x$s))
    off=
    while read -r type va fo sz; do
        case $va$fo$sz in *[!0-9a-fA-F]*) continue ;; esac
        [ "$type" = NOBITS ] && continue
        if [ "$addr" -ge $((0x$va)) ] && [ "$addr" -lt $((0x$va + 0x$sz)) ]; then
            off=$((addr - 0x$va + 0x$fo))
            break
        fi
    done < "$tmp.h"
    if [ -n "$off" ]; then
        dd if=/dev/zero of="$tmp" bs="$size" count=1 seek="$off" oflag=seek_bytes conv=notrunc 2>/dev/null
    fi
done

objcopy --strip-all --remove-section=.note.gnu.build-id "$tmp" "$tmp.s"
commit=$("$bin" --version 2>/dev/null | sed -n 's/.*git \([0-9a-f]\{40\}\).*/\1/p')
if [ -n "$commit" ]; then
    LC_ALL=C sed "s/$commit/0000000000000000000000000000000000000000/g" "$tmp.s"
else
    cat "$tmp.s"
fi | sha256sum | cut -d' ' -f1
