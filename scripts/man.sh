#!/bin/sh
# Prints a man page (roff) for a program, generated from its --help and
# --version: NAME from the first line after the usage lines, SYNOPSIS the
# usage lines, DESCRIPTION the rest of --help as it is printed, VERSION,
# SEE ALSO the other programs.  The program's short name in the usage lines
# becomes the installed name.
#
# Usage: man.sh PROGRAM INSTALLED_NAME "OTHER PROGRAM NAMES"
set -eu
prog=$1 name=$2 others=$3
short=$(basename "$prog")
help=$("$prog" --help) || { echo "man.sh: $prog --help failed" >&2; exit 1; }
version=$("$prog" --version)
# roff: backslashes doubled, a leading . or ' made literal
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
upper=$(printf '%s' "$name" | tr a-z A-Z)
echo ".TH $upper 1 \"\" \"$(printf '%s' "$version" | sed 's/^[^ ]* (drmm) /drmm /; s/,.*//')\" \"DRMM tool\""
echo ".SH NAME"
# the description's first sentence (up to the first '.' or ':' that ends a word)
summary=$(printf '%s\n' "$help" | awk '/^Usage:/ || /^       / { next } /^$/ { if (s != "") exit; next }
    { s = s (s == "" ? "" : " ") $0 } END { print s }' | sed -E 's/[.:]( .*)?$//' | esc)
printf '%s \\- %s\n' "$name" "$summary"
echo ".SH SYNOPSIS"
echo ".nf"
printf '%s\n' "$help" | awk '/^Usage:/ { u = 1 } u && !/^Usage:/ && !/^       / { exit } u' |
    sed -e 's/^Usage: *//' -e 's/^ *//' -e "s/^$short\\b/$name/" | esc
echo ".fi"
echo ".SH DESCRIPTION"
echo ".nf"
printf '%s\n' "$help" | awk 'started { print; next } /^Usage:/ || /^       / { next } { started = 1; print }' | esc
echo ".fi"
echo ".SH VERSION"
printf '%s\n' "$version" | esc
echo ".SH SEE ALSO"
sep=
for o in $others; do
    [ "drmm-$o" = "$name" ] && continue
    printf '%s\\fBdrmm-%s\\fR(1)' "$sep" "$o"
    sep=', '
done
echo
echo "The README of the DRMM tool (share/doc/drmm/README.md)."
