#!/usr/bin/env bash
# Runs every end-to-end test; prints one summary line that CI reads.
cd "$(dirname "$0")/../.." || exit 1
export BUILD=${1:-build}
export SHARED=${SHARED:-$(cd .. && pwd)/shared}
only=${2:-} # one test: run-all.sh build bmp runs tests/e2e/test_bmp.sh
pass=0 fail=0
tests=(tests/e2e/test_*.sh)
if [ -n "$only" ]; then
    [ -f "tests/e2e/test_$only.sh" ] || { echo "e2e: no tests/e2e/test_$only.sh"; exit 1; }
    tests=("tests/e2e/test_$only.sh")
fi
for t in "${tests[@]}"; do
    echo "== $t"
    t0=$(date +%s)
    out=$(bash "$t" 2>&1)
    rc=$?
    echo "$out"
    echo "== $t: $(( $(date +%s) - t0 )) s"
    p=$(echo "$out" | grep -c '^ok ')
    f=$(echo "$out" | grep -c '^FAIL')
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
    pass=$((pass + p)); fail=$((fail + f))
done
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
