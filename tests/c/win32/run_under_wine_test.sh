#!/bin/sh
# SPDX-License-Identifier: BSL-1.0
# Checks run_under_wine.sh's verdicts with a stand-in for wine (no Wine needed): a clean pass, a
# crash at exit after every test passed (passed, and said so), a failed test, a crash during the
# tests (no report), and a report without the summary line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fake=$dir/fake_wine
# The stand-in writes the report GoogleTest would (unless FAKE_REPORT is "none"), prints FAKE_OUTPUT
# and exits with FAKE_STATUS.
cat >"$fake" <<'FAKE'
#!/bin/sh
report=$(printf '%s\n' "$2" | sed 's/^--gtest_output=xml:Z://')
if [ "$FAKE_REPORT" != none ]; then
  printf '<?xml version="1.0"?>\n<testsuites tests="%s" failures="%s" disabled="0" errors="0" time="0.1" name="AllTests">\n</testsuites>\n' \
    "$FAKE_TESTS" "$FAKE_FAILURES" >"$report"
fi
printf '%b' "$FAKE_OUTPUT"
exit "$FAKE_STATUS"
FAKE
chmod +x "$fake"
exe=$dir/case.exe
: >"$exe"
status=0

check() {  # name expected-exit expected-text: runs the runner with the FAKE_* settings exported
  out=$(WINE=$fake sh "$here/run_under_wine.sh" "$exe")
  got=$?
  if [ "$got" -ne "$2" ] || ! printf '%s\n' "$out" | grep -q "$3"; then
    echo "run_under_wine_test: $1: exit $got (expected $2), output:"
    printf '%s\n' "$out"
    status=1
  else
    echo "run_under_wine_test: $1: ok"
  fi
}

export FAKE_REPORT=yes FAKE_TESTS=3 FAKE_FAILURES=0 FAKE_STATUS=0
export FAKE_OUTPUT='[  PASSED  ] 3 tests.\n'
check "clean pass" 0 "passed (3 tests under Wine)"
FAKE_STATUS=5 check "crash at exit after all passed" 0 "WINE CRASHED AT EXIT (exit status 5) after all 3 tests"
FAKE_FAILURES=1 FAKE_STATUS=1 FAKE_OUTPUT='[  PASSED  ] 2 tests.\n[  FAILED  ] 1 test, listed below:\n' \
  check "a failed test" 1 "FAILED (exit status 1; 3 tests, 1 failures"
FAKE_REPORT=none FAKE_STATUS=5 FAKE_OUTPUT='[ RUN      ] a.b\n' check "crash during a test" 1 "no GoogleTest report"
FAKE_STATUS=5 FAKE_OUTPUT='' check "report without summary" 1 "FAILED (exit status 5"
FAKE_TESTS=0 FAKE_STATUS=5 FAKE_OUTPUT='[  PASSED  ] 0 tests.\n' check "no tests" 1 "FAILED"
exit $status
