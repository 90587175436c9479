#!/bin/sh
# Prints a bash completion for a program, generated from its --help: every
# long option it lists completes after "-", the value of an option shown
# with FILE, DIR or F completes as a path (the other values are left to the
# user), and a program whose --help has a "Commands:" list (bin/runs)
# completes its command words until one is given.
#
# Usage: completion.sh PROGRAM INSTALLED_NAME
set -eu
prog=$1 name=$2
help=$("$prog" --help) || { echo "completion.sh: $prog --help failed" >&2; exit 1; }
opts=$(printf '%s\n' "$help" | grep -o -e '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ' | sed 's/ $//')
paths=$(printf '%s\n' "$help" | grep -o -E -e '--[a-z][a-z0-9-]*(\[?=| )(FILE|DIR|F)\b' |
        sed -E 's/(\[?=| ).*//' | sort -u | tr '\n' '|' | sed 's/|$//')
# the command words: lines "  word ..." between "Commands:" and the first option line
cmds=$(printf '%s\n' "$help" | sed -n '/Commands:/,/^  --/p' | sed -n 's/^  \([a-z][a-z]*\)\( .*\)*$/\1/p' |
       tr '\n' ' ' | sed 's/ $//')
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
if [ -n "$cmds" ]; then
cat <<EOC
    local w seen=
    for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
        case \$w in $(printf '%s' "$cmds" | tr ' ' '|')) seen=1 ;; esac
    done
    if [[ -z \$seen && \$cur != -* ]]; then
        COMPREPLY=(\$(compgen -W "$cmds" -- "\$cur"))
        return
    fi
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
