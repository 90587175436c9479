#!/bin/sh
# Prints a bash completion for a program, generated from its --help: every
# long option it lists completes after "-", and the value of an option
# shown with FILE, DIR or F completes as a path (the other values are left
# to the user).
#
# Usage: completion.sh PROGRAM INSTALLED_NAME
set -eu
prog=$1 name=$2
help=$("$prog" --help) || { echo "completion.sh: $prog --help failed" >&2; exit 1; }
opts=$(printf '%s\n' "$help" | grep -o -e '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ' | sed 's/ $//')
paths=$(printf '%s\n' "$help" | grep -o -E -e '--[a-z][a-z0-9-]*(\[?=| )(FILE|DIR|F)\b' |
        sed -E 's/(\[?=| ).*//' | sort -u | tr '\n' '|' | sed 's/|$//')
fn=_$(printf '%s' "$name" | tr -c 'a-zA-Z0-9\n' _)
cat <<EOC
# bash completion for $name, generated from its --help by scripts/completion.sh
$fn() {
    local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
EOC
if [ -n "$paths" ]; then
cat <<EOC
    case \$prev in
        $paths) COMPREPLY=(\$(compgen -f -- "\$cur")); return ;;
    esac
EOC
fi
cat <<EOC
    if [[ \$cur == -* ]]; then
        COMPREPLY=(\$(compgen -W "$opts" -- "\$cur"))
    else
        COMPREPLY=(\$(compgen -f -- "\$cur"))
    fi
}
complete -F $fn $name
EOC
