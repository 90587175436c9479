#!/bin/sh
# Runs every test binary given as arguments, shows each one's name as it
# starts, its output and its time, and sums
# their "N passed, N failed" lines.  Last line: the totals.  Exit 1 on any
# failure, including a binary that crashed or printed no summary.
passed=0; failed=0; broken=""
# Each binary is named as it starts (some take a minute) and timed.
for t in "$@"; do
    name=$(basename "$t")
    echo "[$name] running"
    t0=$(date +%s)
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out" | sed "s/^/[$name] /"
    echo "[$name] $(( $(date +%s) - t0 )) s"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        broken="$broken $name(rc=$rc)"; failed=$((failed + 1)); continue
    fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then broken="$broken $name(rc=$rc)"; failed=$((failed + 1)); fi
done
[ -n "$broken" ] && echo "broken test binaries:$broken"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
