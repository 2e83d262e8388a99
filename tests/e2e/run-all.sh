#!/usr/bin/env bash
# Runs every end-to-end test; prints one summary line that CI reads.
cd "$(dirname "$0")/../.." || exit 1
export BUILD=${1:-build}
export SHARED=${SHARED:-$(cd .. && pwd)/shared}
pass=0 fail=0
for t in tests/e2e/test_*.sh; do
    echo "== $t"
    out=$(bash "$t" 2>&1)
    rc=$?
    echo "$out"
    p=$(echo "$out" | grep -c '^ok ')
    f=$(echo "$out" | grep -c '^FAIL')
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
    pass=$((pass + p)); fail=$((fail + f))
done
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
