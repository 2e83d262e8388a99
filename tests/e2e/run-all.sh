#!/usr/bin/env bash
# Runs every end-to-end test; prints one summary line that CI reads.
#   run-all.sh [BUILD] [NAME]   NAME: one test (run-all.sh build bmp runs tests/e2e/test_bmp.sh)
# Tests run E2E_JOBS at a time (default 2): each lives in namespaces, ports and a directory of
# its own, and most of their time is spent waiting on collectors. Those that measure rates or
# start times (SERIAL) run alone after the others, as a neighbour's load would move them.
# Each test's output is printed whole when it ends, with its time.
cd "$(dirname "$0")/../.." || exit 1
export BUILD=${1:-build}
export SHARED=${SHARED:-$(cd .. && pwd)/shared}
only=${2:-}
JOBS=${E2E_JOBS:-2}
SERIAL=" behaviour flows shards live nfacctd nfcapd "
# the longest first, so that the pairs end together (the rest follow in name order)
LONG="anchor_tcp bmp mrt fanout bgp tcp examples clones anchor"
pass=0 fail=0
OUT=$(mktemp -d /tmp/telrep-e2e-run.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

name_of() { local n=${1##*/test_}; echo "${n%.sh}"; }
start() { # start NAME: the test in the background, its output to OUT/NAME, "status seconds" to OUT/NAME.rc
    (t0=$(date +%s); bash "tests/e2e/test_$1.sh" > "$OUT/$1" 2>&1; echo "$? $(( $(date +%s) - t0 ))" > "$OUT/$1.rc") &
    RUNNING[$!]=$1
}
report() { # report NAME: its output, its time, its counts added up
    local rc s p f
    read -r rc s < "$OUT/$1.rc"
    echo "== tests/e2e/test_$1.sh"
    cat "$OUT/$1"
    echo "== tests/e2e/test_$1.sh: $s s"
    p=$(grep -c '^ok ' "$OUT/$1")
    f=$(grep -c '^FAIL' "$OUT/$1")
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    pass=$((pass + p)); fail=$((fail + f))
}
wait_one() { # wait for any running test to end, and report it
    local pid
    wait -n -p pid "${!RUNNING[@]}"
    report "${RUNNING[$pid]}"
    unset "RUNNING[$pid]"
}

declare -A RUNNING=()
if [ -n "$only" ]; then
    [ -f "tests/e2e/test_$only.sh" ] || { echo "e2e: no tests/e2e/test_$only.sh"; exit 1; }
    start "$only"
    wait_one
else
    parallel=() serial=()
    for n in $LONG; do [ -f "tests/e2e/test_$n.sh" ] && parallel+=("$n"); done
    for t in tests/e2e/test_*.sh; do
        n=$(name_of "$t")
        case " $LONG " in *" $n "*) continue ;; esac
        case "$SERIAL" in *" $n "*) serial+=("$n") ;; *) parallel+=("$n") ;; esac
    done
    for n in "${parallel[@]}"; do
        [ "${#RUNNING[@]}" -ge "$JOBS" ] && wait_one
        start "$n"
    done
    while [ "${#RUNNING[@]}" -gt 0 ]; do wait_one; done
    for n in "${serial[@]}"; do
        start "$n"
        wait_one
    done
fi
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
